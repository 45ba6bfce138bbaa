//! Why a rule matched, or did not, on each event of a batch.
//!
//! A debugging aid for people writing rules. The batch runs through a fresh engine
//! exactly as `process` would run it (decoding, container state, policy), and every
//! event that reaches evaluation is also handed to rsigma's explainer
//! ([`rsigma_eval::explain_rule`]), which walks the rule's condition without
//! short-circuiting and records, for every selection and field, the value the event
//! gave and whether it matched. Its verdict is the production verdict by construction;
//! on top of it this module adds the one thing rsigma's explainer does not check, the
//! rule's `logsource` against the event's source.
//!
//! A correlation rule has no condition over one event: for it, each event is explained
//! against every detection rule the correlation references, with the values of the
//! correlation's `group-by` fields, and the alerts the batch raised say when the
//! correlation itself fired.

use std::collections::HashMap;

use rsigma_eval::{CompiledRule, Event as _, EventValue};
use rsigma_parser::{LogSource, parse_sigma_yaml};
use serde::Serialize;

pub use rsigma_eval::{
    ArrayMemberTrace, ConditionTrace, DetectionTrace, ItemTrace, MatchReason, MatcherKind,
    RuleExplanation, SelectionBranch,
};

use super::{RuleEvent, RuleSet};
use crate::api::{BatchResult, Diagnostic, PackFile};
use crate::model::Source;
use crate::pack::is_rule_file;

/// What `crate::explain` found: the rule, each evaluated event, and what the batch did.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    pub rule: ExplainedRule,
    /// One per event that reached evaluation, in order.
    pub events: Vec<EventExplanation>,
    /// The batch's outcomes, alerts and diagnostics, as `process` returned them (plus
    /// what the end of the stream released).
    #[serde(skip)]
    pub result: BatchResult,
}

/// The rule being explained.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ExplainedRule {
    Detection {
        id: String,
        title: String,
        /// The rule's conditions as written (usually one).
        conditions: Vec<String>,
        /// The rule's `logsource`, `key: value` pairs.
        logsource: Vec<(String, String)>,
    },
    Correlation {
        id: String,
        title: String,
        /// `temporal_ordered`, `event_count`, ...
        correlation_type: String,
        group_by: Vec<String>,
        timespan_secs: u64,
        /// The threshold, `>= 5` (empty for temporal types).
        threshold: String,
        rules: Vec<ReferencedRule>,
    },
}

/// A rule a correlation names in `rules:`.
#[derive(Debug, Clone, Serialize)]
pub struct ReferencedRule {
    /// As written in the correlation (an id or a name).
    pub reference: String,
    /// The detection rule it resolves to (id, or title for a rule without one); none
    /// when it names another correlation or nothing in the pack.
    pub rule_id: Option<String>,
    pub title: Option<String>,
}

/// One event, and the verdict of each rule explained on it.
#[derive(Debug, Clone, Serialize)]
pub struct EventExplanation {
    /// The record's index in the batch (`u32::MAX` for an event the end of the stream
    /// released).
    pub record_index: u32,
    pub line: u32,
    pub source: String,
    pub action: String,
    /// The explained rule, or each detection rule of the explained correlation.
    pub rules: Vec<RuleVerdict>,
    /// For a correlation: each `group-by` field and the value this event gives it
    /// (`None` when absent or multi-valued; such events share one group).
    pub group: Vec<(String, Option<String>)>,
}

/// One detection rule on one event.
#[derive(Debug, Clone, Serialize)]
pub struct RuleVerdict {
    pub rule_id: String,
    pub title: String,
    /// False when the rule's `logsource` names another product or service than the
    /// event's source: the engine does not evaluate it on this event at all.
    pub logsource_applies: bool,
    /// The engine's verdict: the logsource applies and the condition holds.
    pub matched: bool,
    pub trace: RuleExplanation,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExplainError {
    #[error("the rule pack does not compile ({} error(s))", .0.len())]
    Pack(Vec<Diagnostic>),
    #[error("the rule pack has no rule or correlation with id or title `{0}`")]
    UnknownRule(String),
}

/// Sigma rule `name`s to rule keys: correlations usually reference rules by name, which
/// the compiled engine does not keep.
fn names(files: &[PackFile]) -> HashMap<String, String> {
    let mut names = HashMap::new();
    for file in files.iter().filter(|f| is_rule_file(&f.path)) {
        let Ok(collection) = parse_sigma_yaml(&file.text) else {
            continue;
        };
        for rule in collection.rules {
            if let Some(name) = rule.name {
                names.insert(name, rule.id.unwrap_or(rule.title));
            }
        }
    }
    names
}

/// Which compiled rules an event is explained against.
pub(crate) struct Target {
    /// Indices of detection rules in the engine.
    rules: Vec<usize>,
    /// The correlation, when the rule asked for is one.
    correlation: Option<rsigma_eval::CorrelationInfo>,
    /// For a correlation, its references and what each resolved to.
    references: Vec<(String, Option<usize>)>,
}

fn key(rule: &CompiledRule) -> &str {
    rule.id.as_deref().unwrap_or(&rule.title)
}

impl Target {
    fn resolve(
        rules: &RuleSet,
        wanted: &str,
        names: &HashMap<String, String>,
    ) -> Result<Target, ExplainError> {
        let compiled = rules.engine().engine().rules();
        let find = |r: &str| {
            let r = names.get(r).map_or(r, String::as_str);
            compiled
                .iter()
                .position(|c| c.id.as_deref() == Some(r))
                .or_else(|| compiled.iter().position(|c| c.title == r))
        };
        if let Some(index) = find(wanted) {
            return Ok(Target {
                rules: vec![index],
                correlation: None,
                references: Vec::new(),
            });
        }
        let info = rules
            .engine()
            .introspect()
            .correlations
            .into_iter()
            .find(|c| {
                c.id.as_deref() == Some(wanted)
                    || c.name.as_deref() == Some(wanted)
                    || c.title == wanted
            })
            .ok_or_else(|| ExplainError::UnknownRule(wanted.to_string()))?;
        let references: Vec<(String, Option<usize>)> = info
            .rule_refs
            .iter()
            .map(|r| (r.clone(), find(r)))
            .collect();
        Ok(Target {
            rules: references.iter().filter_map(|(_, i)| *i).collect(),
            correlation: Some(info),
            references,
        })
    }

    fn describe(&self, rules: &RuleSet) -> ExplainedRule {
        let compiled = rules.engine().engine().rules();
        match &self.correlation {
            None => {
                let rule = &compiled[self.rules[0]];
                let ls = &rule.logsource;
                let logsource = [
                    ("category", &ls.category),
                    ("product", &ls.product),
                    ("service", &ls.service),
                ]
                .into_iter()
                .filter_map(|(k, v)| v.as_ref().map(|v| (k.to_string(), v.clone())))
                .collect();
                ExplainedRule::Detection {
                    id: key(rule).to_string(),
                    title: rule.title.clone(),
                    conditions: rule.conditions.iter().map(ToString::to_string).collect(),
                    logsource,
                }
            }
            Some(info) => ExplainedRule::Correlation {
                id: info.id.clone().unwrap_or_else(|| info.title.clone()),
                title: info.title.clone(),
                correlation_type: serde_json::to_value(info.correlation_type)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_else(|| format!("{:?}", info.correlation_type)),
                group_by: info.group_by.clone(),
                timespan_secs: info.timespan_secs,
                threshold: info.threshold.clone(),
                rules: self
                    .references
                    .iter()
                    .map(|(reference, index)| ReferencedRule {
                        reference: reference.clone(),
                        rule_id: index.map(|i| key(&compiled[i]).to_string()),
                        title: index.map(|i| compiled[i].title.clone()),
                    })
                    .collect(),
            },
        }
    }
}

/// Collects explanations while the detector evaluates; see `crate::explain`.
pub(crate) struct Tracer {
    target: Target,
    events: Vec<EventExplanation>,
}

impl Tracer {
    /// A tracer for `rule` (an id, a title, or a Sigma `name` in `files`) in `rules`,
    /// and the rule as it is described.
    pub(crate) fn new(
        rules: &RuleSet,
        rule: &str,
        files: &[PackFile],
    ) -> Result<(Tracer, ExplainedRule), ExplainError> {
        let target = Target::resolve(rules, rule, &names(files))?;
        let described = target.describe(rules);
        let tracer = Tracer {
            target,
            events: Vec::new(),
        };
        Ok((tracer, described))
    }

    /// What the tracer collected: one explanation per evaluated event, in order.
    pub(crate) fn into_events(self) -> Vec<EventExplanation> {
        self.events
    }

    /// Explain the target on one event about to be evaluated.
    pub(crate) fn observe(
        &mut self,
        rules: &RuleSet,
        event: &RuleEvent<'_, '_>,
        index: usize,
        line: u32,
    ) {
        let compiled = rules.engine().engine().rules();
        let source = event.event.source;
        let verdicts = self
            .target
            .rules
            .iter()
            .map(|&i| {
                let rule = &compiled[i];
                let trace = rsigma_eval::explain_rule(rule, event);
                let logsource_applies = logsource_applies(&rule.logsource, source);
                RuleVerdict {
                    rule_id: key(rule).to_string(),
                    title: rule.title.clone(),
                    logsource_applies,
                    matched: logsource_applies && trace.matched,
                    trace,
                }
            })
            .collect();
        let group = self
            .target
            .correlation
            .iter()
            .flat_map(|c| &c.group_by)
            .map(|field| (field.clone(), event.get_field(field).and_then(group_value)))
            .collect();
        self.events.push(EventExplanation {
            record_index: u32::try_from(index).unwrap_or(u32::MAX),
            line,
            source: source.as_str().to_string(),
            action: event.event.action.as_str().to_string(),
            rules: verdicts,
            group,
        });
    }
}

/// A group-by value as the correlation engine keys it: scalars only.
fn group_value(value: EventValue<'_>) -> Option<String> {
    match value {
        EventValue::Str(s) => Some(s.to_string()),
        EventValue::Int(n) => Some(n.to_string()),
        EventValue::Float(f) => Some(f.to_string()),
        EventValue::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The engine's routing: a rule is skipped when its `product` or `service` names
/// another than the source's (a dimension the rule leaves out matches anything).
fn logsource_applies(rule: &LogSource, source: Source) -> bool {
    let (product, service) = source.logsource();
    let agrees = |rule: &Option<String>, event: &str| {
        rule.as_deref()
            .is_none_or(|r| r.eq_ignore_ascii_case(event))
    };
    agrees(&rule.product, product) && agrees(&rule.service, service)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{BatchOrigin, Options};
    use crate::explain;

    const PRIVILEGED: &str = "82c9a43a-11c4-49bb-9066-db66975c2886";

    fn origin() -> BatchOrigin {
        BatchOrigin {
            file: "events.ndjson".into(),
            first_line: 1,
            lines: Vec::new(),
        }
    }

    fn pod(privileged: bool) -> String {
        format!(
            r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"RequestResponse","auditID":"a1","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/pods","verb":"create","user":{{"username":"alice"}},"objectRef":{{"resource":"pods","namespace":"default","name":"p","apiVersion":"v1"}},"responseStatus":{{"code":201}},"requestObject":{{"kind":"Pod","apiVersion":"v1","metadata":{{"name":"p","namespace":"default"}},"spec":{{"containers":[{{"name":"c","image":"alpine:3.19","securityContext":{{"privileged":{privileged}}}}}]}}}},"requestReceivedTimestamp":"2024-05-14T09:12:03.000000Z","stageTimestamp":"2024-05-14T09:12:03.100000Z"}}"#
        )
    }

    #[test]
    fn explains_each_selection_with_the_values_it_read() {
        let batch = format!("{}\n{}\n", pod(true), pod(false));
        let e = explain(
            None,
            Options::default(),
            PRIVILEGED,
            batch.as_bytes(),
            &origin(),
        )
        .expect("the built-in pack has the rule");
        assert!(
            matches!(&e.rule, ExplainedRule::Detection { conditions, .. }
            if conditions.len() == 1)
        );
        assert_eq!(e.events.len(), 2);
        let (yes, no) = (&e.events[0].rules[0], &e.events[1].rules[0]);
        assert!(yes.matched && yes.logsource_applies);
        assert!(!no.matched);
        assert_eq!(e.events[1].line, 2);
        assert_eq!(e.events[0].action, "workload-create");
        // The `privileged` selection read `container.privileged` and saw `false`.
        let json = serde_json::to_string(&no.trace).unwrap();
        assert!(json.contains(r#""field":"container.privileged""#), "{json}");
        assert!(json.contains(r#""actual":false"#), "{json}");
        // The verdicts agree with the alerts the batch raised.
        let alerted: Vec<u32> = e
            .result
            .alerts
            .iter()
            .filter(|a| a.rule_id == PRIVILEGED)
            .map(|a| a.record_index)
            .collect();
        assert_eq!(alerted, [0]);
    }

    #[test]
    fn correlations_list_the_rules_they_reference() {
        let pack = [PackFile {
            path: "c.yml".into(),
            text: "title: Listed\nname: listed\nlogsource:\n  category: container\ndetection:\n  sel:\n    action: resource-list\n  condition: sel\n---\ntitle: Many lists\nid: corr-1\ncorrelation:\n  type: event_count\n  rules: [listed]\n  group-by: [principal.name]\n  timespan: 60s\n  condition:\n    gte: 5\n".into(),
        }];
        let e = explain(
            Some(&pack),
            Options::default(),
            "corr-1",
            pod(true).as_bytes(),
            &origin(),
        )
        .unwrap();
        let ExplainedRule::Correlation {
            rules, group_by, ..
        } = &e.rule
        else {
            panic!("{:?}", e.rule)
        };
        assert_eq!(rules[0].reference, "listed");
        assert_eq!(rules[0].title.as_deref(), Some("Listed"));
        assert_eq!(group_by, &["principal.name"]);
        assert_eq!(
            e.events[0].group,
            [("principal.name".to_string(), Some("alice".to_string()))]
        );
        assert!(!e.events[0].rules[0].matched);
    }

    #[test]
    fn an_unknown_rule_is_an_error() {
        let err = explain(None, Options::default(), "nope", b"", &origin()).unwrap_err();
        assert_eq!(err, ExplainError::UnknownRule("nope".into()));
    }

    #[test]
    fn logsource_routing() {
        let k8s = LogSource {
            product: Some("kubernetes".into()),
            ..LogSource::default()
        };
        assert!(logsource_applies(&k8s, Source::K8sAudit));
        assert!(!logsource_applies(&k8s, Source::DockerEvent));
        assert!(logsource_applies(
            &LogSource::default(),
            Source::DockerEvent
        ));
    }
}
