//! Sigma evaluation through rsigma over the typed event.
//!
//! Rules are routed by `logsource`: each source answers to a product and service
//! (`kubernetes`/`audit`, `docker`/`events`), and rsigma skips rules whose logsource
//! conflicts. crowsnest's own rules read normalized fields and say only
//! `category: container`, so they run on every source.

mod compile;
pub(crate) mod coverage;
mod derived;
mod event;
pub mod explain;
mod lint;
mod raw_path;
mod reference;

use std::collections::HashMap;
use std::sync::Arc;

use rsigma_eval::{CorrelationEngine, CorrelationSnapshot, EvaluationResult, evaluate_rule};
use rsigma_parser::LogSource;

pub use compile::check_pack;
pub(crate) use compile::compile;
pub(crate) use event::RuleEvent;
pub use reference::field_reference;

use crate::decode::FORMATS;
use crate::model::{RuleHit, Source};
use crate::pack::policy::Policy;

/// A compiled pack, ready to evaluate.
pub(crate) struct RuleSet {
    engine: CorrelationEngine,
    /// Rule id (or title when a rule has no id) to its index in the engine's rules.
    by_key: HashMap<String, usize>,
    logsources: HashMap<Source, LogSource>,
    /// Shared so an event's view can hold it while the engine evaluates mutably.
    policy: Arc<Policy>,
    /// The pack's content hash (`pack::content_hash`), which every finding carries.
    pack_hash: String,
}

fn rule_key(id: Option<&str>, title: &str) -> String {
    id.unwrap_or(title).to_string()
}

impl RuleSet {
    pub fn new(engine: CorrelationEngine, policy: Policy, pack_hash: String) -> Self {
        let by_key = engine
            .engine()
            .rules()
            .iter()
            .enumerate()
            .map(|(i, r)| (rule_key(r.id.as_deref(), &r.title), i))
            .collect();
        let logsources = FORMATS
            .iter()
            .map(|f| {
                let (product, service) = f.logsource;
                let ls = LogSource {
                    product: Some(product.to_string()),
                    service: Some(service.to_string()),
                    ..LogSource::default()
                };
                (f.source, ls)
            })
            .collect();
        RuleSet {
            engine,
            by_key,
            logsources,
            policy: Arc::new(policy),
            pack_hash,
        }
    }

    /// The content hash of the pack these rules were compiled from.
    pub fn pack_hash(&self) -> &str {
        &self.pack_hash
    }

    /// The pack's policy, which derived fields and exceptions consult.
    pub fn policy(&self) -> Arc<Policy> {
        Arc::clone(&self.policy)
    }

    /// The compiled detection rules, in pack order.
    #[cfg(test)]
    pub fn engine_rules(&self) -> &[rsigma_eval::CompiledRule] {
        self.engine.engine().rules()
    }

    /// The compiled pack, for `explain`.
    pub(crate) fn engine(&self) -> &CorrelationEngine {
        &self.engine
    }

    /// Detection and correlation results for one event at `time_secs` (event time).
    pub fn evaluate(&mut self, event: &RuleEvent<'_, '_>, time_secs: i64) -> Vec<EvaluationResult> {
        let logsource = &self.logsources[&event.event.source];
        let detections = self.engine.engine().evaluate_pruned(event, logsource);
        if self.engine.correlation_rule_count() == 0 {
            return detections;
        }
        self.engine
            .process_with_detections(event, detections, time_secs)
    }

    /// Close correlation windows that ended before `time_secs`.
    pub fn advance(&mut self, time_secs: i64) {
        self.engine.evict_expired(time_secs);
    }

    pub fn hit(&self, result: &EvaluationResult) -> RuleHit {
        let h = &result.header;
        let mut techniques = Vec::new();
        let mut tactics = Vec::new();
        for tag in &h.tags {
            let Some(attack) = tag.strip_prefix("attack.") else {
                continue;
            };
            if let Some(num) = attack
                .strip_prefix('t')
                .or_else(|| attack.strip_prefix('T'))
                && num.starts_with(|c: char| c.is_ascii_digit())
            {
                techniques.push(format!("T{}", num.to_ascii_uppercase()));
            } else if !attack.starts_with('g') && !attack.starts_with('s') {
                tactics.push(attack.to_string());
            }
        }
        let analytic = h
            .custom_attributes
            .get("analytic")
            .and_then(|v| v.as_str())
            .map(str::to_string);
        let key = rule_key(h.rule_id.as_deref(), &h.rule_title);
        let rule_index = if result.is_detection() {
            self.by_key.get(&key).copied()
        } else {
            None
        };
        let description =
            rule_index.and_then(|i| self.engine.engine().rules()[i].description.clone());
        RuleHit {
            rule_id: key,
            title: h.rule_title.clone(),
            level: h.level.map_or_else(
                || "medium".to_string(),
                |l| format!("{l:?}").to_ascii_lowercase(),
            ),
            analytic,
            techniques,
            tactics,
            description,
            chain: result
                .as_correlation()
                .and_then(|c| c.events.clone())
                .unwrap_or_default(),
            rule_index,
        }
    }

    /// Which of the event's containers the rule matches on its own. Empty when the
    /// rule matched on pod-level facts alone (then every container is implicated).
    pub fn matching_containers(&self, hit: &RuleHit, event: &RuleEvent<'_, '_>) -> Vec<usize> {
        let Some(index) = hit.rule_index else {
            return Vec::new();
        };
        let n = event.event.containers.len();
        if n <= 1 {
            return (0..n).collect();
        }
        let rule = &self.engine.engine().rules()[index];
        (0..n)
            .filter(|&i| evaluate_rule(rule, &event.focused(i)).is_some())
            .collect()
    }

    pub fn export_state(&self) -> CorrelationSnapshot {
        self.engine.export_state()
    }

    pub fn import_state(&mut self, snapshot: CorrelationSnapshot) -> bool {
        self.engine.import_state(snapshot)
    }
}
