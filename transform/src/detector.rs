//! The engine as one value: a rule pack, options, state and counters, driven batch by
//! batch. The component export and every host call exactly these methods.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::api::{
    Alert, BatchOrigin, BatchResult, Diagnostic, Options, PackFile, PackInfo, RecordOutcome,
    Severity, Stats,
};
use crate::decode::{self, Context, DecodeError, Decoded, DecodedRecord, StreamState};
use crate::emit::{self, AlertInput};
use crate::enrich::{ContainerTable, Limits, StateSnapshot};
use crate::model::{Action, Derived, Event, Source};
use crate::pack;
use crate::pack::infrastructure::History;
use crate::pack::policy::{Exception, Policy, glob};
use crate::rules::explain::{ExplainError, Explanation, Tracer};
use crate::rules::{self, RuleEvent, RuleSet};

/// Containers remembered at most, and their bytes (see `enrich/table.rs`).
const MAX_CONTAINERS: usize = 131_072;
const MAX_STATE_BYTES: usize = 64 << 20;
/// Idle containers are forgotten after a week of event time (plus the stopped-for threshold).
const STATE_TTL_SECS: i64 = 7 * 86_400;

/// The state table's bounds, with the policy's learning period and lateness.
fn state_limits(rules: &RuleSet) -> Limits {
    let t = rules.policy().thresholds;
    Limits {
        max_entries: MAX_CONTAINERS,
        max_bytes: MAX_STATE_BYTES,
        learning_period_secs: t.learning_period_secs,
        lateness_secs: t.lateness_secs,
        // A stopped container must outlive the reactivation threshold, or it could never
        // be reported as reactivated.
        ttl_secs: STATE_TTL_SECS.max(t.stopped_for_secs.saturating_add(STATE_TTL_SECS)),
    }
}

pub struct Detector {
    rules: RuleSet,
    info: PackInfo,
    options: Options,
    containers: ContainerTable,
    /// What decoding carries from one record to the next (auditd events in progress,
    /// VPC flow log layouts).
    streams: StreamState,
    /// Event-time watermark: the latest event time seen, used for records without one.
    watermark_ns: i64,
    stats: Counters,
    /// `explain`: sees every event about to be evaluated.
    tracer: Option<Tracer>,
    /// Whether the correlation state bound was reported since the pack was installed.
    correlation_bound_reported: bool,
    /// Requests of which one record was evaluated and another may follow.
    requests: Requests,
}

/// Requests whose records are candidates for evaluation until one of them is evaluated
/// (`Decoded::evaluate_once`): which were evaluated already, bounded. A request leaves when
/// its second record arrives; one whose second record never comes (a forbidden exec, a
/// policy that omits a stage) leaves when `MAX_REQUESTS` newer ones push it out, and its
/// late second record, if any, is then evaluated again: a duplicate, never a miss. The
/// first eviction is reported.
#[derive(Default)]
struct Requests {
    open: std::collections::HashSet<(Source, Box<str>)>,
    /// Arrival order, for eviction; may hold keys that already left `open`.
    order: std::collections::VecDeque<(Source, Box<str>)>,
    evictions: u64,
    eviction_reported: bool,
}

/// Requests remembered at most (a Kubernetes `auditID` is 36 bytes).
const MAX_REQUESTS: usize = 65_536;

impl Requests {
    /// Whether this record of request `id` is the first to be seen; the second one closes it.
    fn first(&mut self, source: Source, id: &str) -> bool {
        let key = (source, Box::<str>::from(id));
        if self.open.remove(&key) {
            return false;
        }
        if self.open.len() >= MAX_REQUESTS {
            while let Some(old) = self.order.pop_front() {
                if self.open.remove(&old) {
                    self.evictions += 1;
                    break;
                }
            }
        }
        if self.order.len() >= 2 * MAX_REQUESTS {
            let open = &self.open;
            self.order.retain(|k| open.contains(k));
        }
        self.open.insert(key.clone());
        self.order.push_back(key);
        true
    }
}

#[derive(Default)]
struct Counters {
    records: u64,
    decoded: u64,
    diagnostics: u64,
    alerts: u64,
    /// Alerts a policy exception or an infrastructure entry dropped.
    suppressed: u64,
    /// Alerts each infrastructure entry quieted, by entry name.
    quieted: std::collections::BTreeMap<String, u64>,
    /// Correlation windows dropped because the state reached its bound.
    correlation_evictions: u64,
    per_source: [u64; Source::ALL.len()],
}

/// A record's place: its ordinal among the batch's records and its source line.
#[derive(Clone, Copy)]
struct Position {
    index: usize,
    line: u32,
}

/// The snapshot blob: versioned JSON, so a newer engine can refuse an older layout clearly.
#[derive(Serialize, Deserialize)]
struct Snapshot {
    version: u32,
    watermark_ns: i64,
    containers: StateSnapshot,
    correlations: rsigma_eval::CorrelationSnapshot,
}

const SNAPSHOT_VERSION: u32 = 1;

impl Default for Detector {
    fn default() -> Self {
        Self::new()
    }
}

impl Detector {
    /// An engine running the default pack built into it.
    pub fn new() -> Self {
        let (rules, info) = rules::compile(&pack::default_pack())
            .unwrap_or_else(|errs| panic!("the built-in rule pack must compile: {errs:?}"));
        let limits = state_limits(&rules);
        Detector {
            rules,
            info,
            options: Options::default(),
            containers: ContainerTable::new(limits),
            streams: StreamState::default(),
            watermark_ns: 0,
            stats: Counters::default(),
            tracer: None,
            correlation_bound_reported: false,
            requests: Requests::default(),
        }
    }

    /// Replace the running pack with `files`, all or nothing.
    pub fn configure(&mut self, files: &[PackFile]) -> Result<PackInfo, Vec<Diagnostic>> {
        let (rules, info) = rules::compile(files)?;
        self.containers.set_limits(state_limits(&rules));
        self.rules = rules;
        self.info = info.clone();
        self.correlation_bound_reported = false;
        Ok(info)
    }

    pub(crate) fn rule_set(&self) -> &RuleSet {
        &self.rules
    }

    /// Install (or remove) the tracer `explain` reads; returns the previous one.
    pub(crate) fn set_tracer(&mut self, tracer: Option<Tracer>) -> Option<Tracer> {
        std::mem::replace(&mut self.tracer, tracer)
    }

    pub fn pack_info(&self) -> &PackInfo {
        &self.info
    }

    pub fn set_options(&mut self, options: Options) {
        self.options = options;
    }

    /// Decode, enrich and evaluate a batch of NDJSON records (one per line).
    pub fn process(&mut self, batch: &[u8], origin: &BatchOrigin) -> BatchResult {
        let mut out = BatchResult::default();
        let body = batch.strip_suffix(b"\n").unwrap_or(batch);
        if body.is_empty() {
            return out;
        }
        // Blank lines are not records: they get no outcome, but line numbers still
        // count them.
        let lines = body.split(|b| *b == b'\n').enumerate();
        for (physical, record) in lines.filter(|(_, r)| !r.iter().all(u8::is_ascii_whitespace)) {
            let at = Position {
                index: out.outcomes.len(),
                line: origin.line_of(physical),
            };
            self.process_record(at, record, origin, &mut out);
        }
        out
    }

    /// Evaluate events a host normalized already.
    pub fn process_events(&mut self, events: Vec<Event<'_>>, origin: &BatchOrigin) -> BatchResult {
        let mut out = BatchResult::default();
        for (index, event) in events.into_iter().enumerate() {
            self.stats.records += 1;
            let at = Position {
                index,
                line: origin.line_of(index),
            };
            self.stats.decoded += 1;
            self.stats.per_source[event.source as usize] += 1;
            let enrichment = self.accept(at, Decoded::evaluated(event), "", origin, &mut out);
            out.outcomes.push(RecordOutcome {
                source: Some(enrichment.0),
                enrichment: enrichment.1,
            });
        }
        out
    }

    /// Move event time forward on an idle stream, closing windows that ended.
    pub fn advance(&mut self, now_ns: i64) -> BatchResult {
        self.watermark_ns = self.watermark_ns.max(now_ns);
        self.rules.advance(now_ns.div_euclid(1_000_000_000));
        BatchResult::default()
    }

    /// End of stream: evaluate what decoding still holds (an auditd event whose closing
    /// record never came). Its alerts carry the record index `u32::MAX`: the line that
    /// began the event has been answered already.
    pub fn finish(&mut self, origin: &BatchOrigin) -> BatchResult {
        let mut out = BatchResult::default();
        let at = Position {
            index: u32::MAX as usize,
            line: origin.first_line,
        };
        for decoded in self.streams.flush() {
            let raw = decoded.raw.clone();
            self.accept(at, decoded, raw.as_deref().unwrap_or(""), origin, &mut out);
        }
        out
    }

    pub fn snapshot(&self) -> Vec<u8> {
        let snap = Snapshot {
            version: SNAPSHOT_VERSION,
            watermark_ns: self.watermark_ns,
            containers: self.containers.snapshot(),
            correlations: self.rules.export_state(),
        };
        serde_json::to_vec(&snap).expect("snapshot types serialize")
    }

    pub fn restore(&mut self, blob: &[u8]) -> Result<(), String> {
        let snap: Snapshot =
            serde_json::from_slice(blob).map_err(|e| format!("unreadable snapshot: {e}"))?;
        if snap.version != SNAPSHOT_VERSION {
            return Err(format!(
                "snapshot version {} is not supported (expected {SNAPSHOT_VERSION})",
                snap.version
            ));
        }
        if !self.rules.import_state(snap.correlations) {
            return Err("snapshot correlation state does not fit the running pack".into());
        }
        self.containers.restore(snap.containers);
        self.watermark_ns = snap.watermark_ns;
        Ok(())
    }

    pub fn stats(&self) -> Stats {
        Stats {
            records: self.stats.records,
            decoded: self.stats.decoded,
            diagnostics: self.stats.diagnostics,
            alerts: self.stats.alerts,
            alerts_suppressed: self.stats.suppressed,
            alerts_quieted: self
                .stats
                .quieted
                .iter()
                .map(|(name, n)| (name.clone(), *n))
                .collect(),
            per_source: Source::ALL.into_iter().zip(self.stats.per_source).collect(),
            containers_tracked: self.containers.len() as u64,
            state_evictions: self.containers.evictions(),
            state_bytes: self.containers.bytes() as u64,
            correlation_groups: self.rules.engine().state_count() as u64,
            correlation_evictions: self.stats.correlation_evictions,
        }
    }

    fn process_record(
        &mut self,
        at: Position,
        record: &[u8],
        origin: &BatchOrigin,
        out: &mut BatchResult,
    ) {
        self.stats.records += 1;
        #[cfg(feature = "fault-injection")]
        fault_injection(record);
        let limit = self.options.max_record_bytes as usize;
        let decoded: Result<(), DecodeError> = if record.len() > limit {
            Err(DecodeError::TooLarge {
                len: record.len(),
                limit,
            })
        } else {
            match std::str::from_utf8(record) {
                Err(e) => Err(DecodeError::Utf8 {
                    column: u32::try_from(e.valid_up_to() + 1).unwrap_or(u32::MAX),
                }),
                Ok(text) => {
                    let text = text.strip_suffix('\r').unwrap_or(text);
                    let ctx = Context {
                        file: &origin.file,
                        vpc_flow_format: self.options.vpc_flow_format.as_deref(),
                    };
                    let result = match self.options.force_source {
                        Some(source) => decode::decode_as(source, text, &mut self.streams, &ctx),
                        None => decode::decode(text, &mut self.streams, &ctx),
                    };
                    match result {
                        Ok(record) => return self.accept_record(at, record, text, origin, out),
                        Err(e) => Err(e),
                    }
                }
            }
        };
        if let Err(err) = decoded {
            self.stats.diagnostics += 1;
            out.outcomes.push(RecordOutcome::default());
            out.diagnostics.push(Diagnostic {
                severity: Severity::Error,
                code: err.code().to_string(),
                message: err.to_string(),
                file: origin.file.clone(),
                line: at.line,
                column: err.column(),
            });
        }
    }

    /// One record's events, in order; one outcome for the record.
    fn accept_record(
        &mut self,
        at: Position,
        record: DecodedRecord<'_>,
        text: &str,
        origin: &BatchOrigin,
        out: &mut BatchResult,
    ) {
        self.stats.decoded += 1;
        self.stats.per_source[record.source as usize] += 1;
        let mut enrichments = Vec::new();
        for decoded in record.events {
            let raw = decoded.raw.clone();
            let (_, enrichment) =
                self.accept(at, decoded, raw.as_deref().unwrap_or(text), origin, out);
            enrichments.extend(enrichment);
        }
        let enrichment = match enrichments.len() {
            0 => None,
            1 => enrichments.pop(),
            _ => Some(format!("[{}]", enrichments.join(","))),
        };
        out.outcomes.push(RecordOutcome {
            source: Some(record.source),
            enrichment,
        });
    }

    /// Enrich and evaluate one event; its enrichment JSON when asked for.
    fn accept(
        &mut self,
        at: Position,
        decoded: Decoded<'_>,
        raw: &str,
        origin: &BatchOrigin,
        out: &mut BatchResult,
    ) -> (Source, Option<String>) {
        let Decoded {
            mut event,
            mut evaluate,
            mut settles,
            evaluate_once,
            ..
        } = decoded;
        // One record per request: a later record of a request already evaluated is
        // neither evaluated nor learned from again.
        if evaluate_once && let Some(id) = event.request_id.as_deref() {
            let evictions = self.requests.evictions;
            if !self.requests.first(event.source, id) {
                evaluate = false;
                settles = false;
            }
            if self.requests.evictions > evictions && !self.requests.eviction_reported {
                self.requests.eviction_reported = true;
                self.stats.diagnostics += 1;
                out.diagnostics.push(Diagnostic {
                    severity: Severity::Warning,
                    code: "requests.bound".into(),
                    message: format!(
                        "{MAX_REQUESTS} long-running requests (execs, attaches, watches) are \
                         waiting for their second audit stage: the oldest was forgotten, and \
                         its second stage, if it comes, will be evaluated again"
                    ),
                    file: origin.file.clone(),
                    line: at.line,
                    column: 1,
                });
            }
        }
        match event.time_ns {
            Some(t) => self.watermark_ns = self.watermark_ns.max(t),
            None => event.time_ns = (self.watermark_ns > 0).then_some(self.watermark_ns),
        }
        let now_s = event
            .time_ns
            .unwrap_or(self.watermark_ns)
            .div_euclid(1_000_000_000);
        // State learns only from the record that settles a request, and only when the
        // request succeeded: a pod create's `RequestReceived` stage has no outcome yet, and
        // a create the API server then denies never ran.
        let learn = settles && succeeded(&event);
        let derived = self.containers.apply(&mut event, now_s, learn);
        let line = at.line;
        if evaluate {
            self.evaluate(at, &event, &derived, raw, &origin.file, out);
        }
        let enrichment = self
            .options
            .enrichment
            .then(|| emit::enrichment(&event, &origin.file, line));
        (event.source, enrichment)
    }

    fn evaluate(
        &mut self,
        at: Position,
        event: &Event<'_>,
        derived: &Derived,
        raw: &str,
        file: &str,
        out: &mut BatchResult,
    ) {
        let Position { index, line } = at;
        let policy = self.rules.policy();
        let view = RuleEvent::new(event, raw, &policy, derived);
        if let Some(tracer) = &mut self.tracer {
            tracer.observe(&self.rules, &view, index, line);
        }
        let time_secs = event
            .time_ns
            .unwrap_or(self.watermark_ns)
            .div_euclid(1_000_000_000);
        self.bound_correlations(time_secs, line, file, out);
        let results = self.rules.evaluate(&view, time_secs);
        // Expected behaviour of catalogued infrastructure: quiet, but counted.
        let history = History {
            pod_created_by: derived.created_by.as_deref(),
            template_by: derived.template_by.as_deref(),
        };
        let quieting = (!results.is_empty())
            .then(|| policy.infrastructure().quieting(event, history))
            .flatten();
        for result in &results {
            let hit = self.rules.hit(result);
            if excepted(&policy, &hit.rule_id, &view).is_some() {
                self.stats.suppressed += 1;
                continue;
            }
            if let Some(entry) = quieting {
                self.stats.suppressed += 1;
                *self.stats.quieted.entry(entry.name.clone()).or_default() += 1;
                continue;
            }
            let mut matched = self.rules.matching_containers(&hit, &view);
            if matched.is_empty() {
                matched = (0..event.containers.len()).collect();
            }
            let summary = summary(event, &matched);
            let input = AlertInput {
                hit: &hit,
                event,
                containers: &matched,
                summary: &summary,
                file,
                line,
                pack: self.rules.pack_hash(),
            };
            let document = emit::render(self.options.alert_format, &input);
            let first = matched.first().and_then(|&i| event.containers.get(i));
            out.alerts.push(Alert {
                record_index: u32::try_from(index).unwrap_or(u32::MAX),
                rule_id: hit.rule_id.clone(),
                rule_title: hit.title.clone(),
                level: hit.level.clone(),
                analytic: hit.analytic.clone(),
                techniques: hit.techniques.clone(),
                time_ns: event.time_ns,
                source: event.source,
                action: event.action,
                // A correlation's principal and image are its first step's (the launch),
                // when the last step (a process, a connection) does not say.
                principal: event
                    .principal
                    .as_ref()
                    .map(|p| p.name.to_string())
                    .or_else(|| chain_str(&hit.chain, "principal.name")),
                namespace: event
                    .workload
                    .as_ref()
                    .and_then(|w| w.namespace.as_deref().map(str::to_string)),
                containers: matched
                    .iter()
                    .filter_map(|&i| event.containers.get(i))
                    .map(|c| container_label(c).into_owned())
                    .collect(),
                image: first
                    .and_then(|c| c.image.as_ref())
                    .map(|i| i.reference.to_string())
                    .or_else(|| chain_image(&hit.chain)),
                summary,
                document,
            });
            self.stats.alerts += 1;
        }
    }
}

impl Detector {
    /// Count the correlation windows evicted because the state reached its bound, and
    /// report the first time it happens. rsigma evicts inside `process_with_detections`
    /// when the state holds `max_state_entries` windows or more: the expired ones, then,
    /// if still at the bound, the stalest down to 90 % of it. Running that eviction here
    /// first (the same call at the same event time, so rsigma's own finds nothing left
    /// to do) shows how many windows went. When the hard cap applied, what went is
    /// counted, the expired windows swept with it included.
    fn bound_correlations(&mut self, time_secs: i64, line: u32, file: &str, out: &mut BatchResult) {
        let max = self.rules.policy().thresholds.correlation_max_groups;
        let before = self.rules.engine().state_count();
        if before < max {
            return;
        }
        self.rules.advance(time_secs.clamp(0, i64::MAX / 2));
        let after = self.rules.engine().state_count();
        if after != max * 9 / 10 {
            // Expiry alone made room.
            return;
        }
        let evicted = before - after;
        self.stats.correlation_evictions += evicted as u64;
        if self.correlation_bound_reported {
            return;
        }
        self.correlation_bound_reported = true;
        self.stats.diagnostics += 1;
        out.diagnostics.push(Diagnostic {
            severity: Severity::Warning,
            code: "correlation.state-bound".into(),
            message: format!(
                "correlation state reached its bound of {max} open windows \
                 (policy thresholds.correlation_max_groups): the {evicted} stalest were evicted, \
                 and a correlation step they held can no longer complete; later evictions are \
                 counted in the stats (correlation-evictions), not reported again. A correlation \
                 grouped by a field that is new on every event (a request id, a uid) does this"
            ),
            file: file.to_string(),
            line,
            column: 1,
        });
    }
}

/// Run `batch` through a fresh engine with `pack` (the built-in pack when `None`) and
/// `options`, and explain `rule` (an id, or a title) on every event it evaluates
/// (`rules::explain` says how).
pub fn explain(
    pack: Option<&[PackFile]>,
    options: Options,
    rule: &str,
    batch: &[u8],
    origin: &BatchOrigin,
) -> Result<Explanation, ExplainError> {
    let mut detector = Detector::new();
    let files = match pack {
        Some(files) => {
            detector.configure(files).map_err(ExplainError::Pack)?;
            files.to_vec()
        }
        None => pack::default_pack(),
    };
    detector.set_options(options);
    let (tracer, described) = Tracer::new(detector.rule_set(), rule, &files)?;
    detector.set_tracer(Some(tracer));
    let mut result = detector.process(batch, origin);
    let end = detector.finish(origin);
    result.alerts.extend(end.alerts);
    result.diagnostics.extend(end.diagnostics);
    let events = detector
        .set_tracer(None)
        .map(Tracer::into_events)
        .unwrap_or_default();
    Ok(Explanation {
        rule: described,
        events,
        result,
    })
}

/// Whether the request an event reports succeeded, as far as its source says.
fn succeeded(event: &Event<'_>) -> bool {
    event.succeeded() != Some(false)
}

/// The string field `name` of the first chain step that has one.
fn chain_str(chain: &[serde_json::Value], name: &str) -> Option<String> {
    chain
        .iter()
        .find_map(|step| step.get(name)?.as_str().map(str::to_string))
}

/// The image of the first container in the chain that names one.
fn chain_image(chain: &[serde_json::Value]) -> Option<String> {
    chain.iter().find_map(|step| {
        step.get("container")?
            .as_array()?
            .iter()
            .find_map(|c| c.get("image")?.as_str())
            .map(str::to_string)
    })
}

/// The policy exception that covers this alert, if any: every field it lists matches
/// (globs; any element of a list field).
fn excepted<'p>(
    policy: &'p Policy,
    rule_id: &str,
    view: &RuleEvent<'_, '_>,
) -> Option<&'p Exception> {
    use rsigma_eval::Event as _;
    policy.exceptions().iter().find(|ex| {
        ex.rule == rule_id
            && ex.when.iter().all(|(field, pattern)| {
                view.get_field(field)
                    .is_some_and(|v| value_matches(&v, pattern))
            })
    })
}

fn value_matches(value: &rsigma_eval::EventValue<'_>, pattern: &str) -> bool {
    use rsigma_eval::EventValue as V;
    match value {
        V::Str(s) => glob(pattern, s),
        V::Int(i) => glob(pattern, &i.to_string()),
        V::Float(f) => glob(pattern, &f.to_string()),
        V::Bool(b) => glob(pattern, if *b { "true" } else { "false" }),
        V::Array(items) => items.iter().any(|v| value_matches(v, pattern)),
        _ => false,
    }
}

fn container_label<'c>(c: &'c crate::model::Container<'_>) -> Cow<'c, str> {
    match (&c.name, &c.id) {
        (Some(name), _) => Cow::Borrowed(name.as_ref()),
        (None, Some(id)) => Cow::Borrowed(&id[..id.len().min(12)]),
        (None, None) => Cow::Borrowed("?"),
    }
}

/// One line a person can read: what happened, to what, by whom.
fn summary(e: &Event<'_>, matched: &[usize]) -> String {
    let target = match &e.workload {
        Some(w) => {
            let name = w.name.as_deref().unwrap_or("?");
            match &w.namespace {
                Some(ns) => format!("{} {ns}/{name}", w.kind),
                None => format!("{} {name}", w.kind),
            }
        }
        None => String::new(),
    };
    let containers: Vec<String> = matched
        .iter()
        .filter_map(|&i| e.containers.get(i))
        .map(|c| match &c.image {
            Some(img) => format!("{} ({})", container_label(c), img.reference),
            None => container_label(c).into_owned(),
        })
        .collect();
    let containers = containers.join(", ");
    let by = e
        .principal
        .as_ref()
        .map(|p| format!(" by {}", p.name))
        .unwrap_or_default();
    let mut text = match e.action {
        Action::ContainerExec | Action::ContainerAttach => {
            let verb = if e.action == Action::ContainerExec {
                "exec"
            } else {
                "attach"
            };
            let cmd = e
                .process
                .as_ref()
                .and_then(|p| p.command_line.as_deref())
                .map(|c| format!(" `{c}`"))
                .unwrap_or_default();
            let into = match (target.is_empty(), containers.is_empty()) {
                (false, false) => format!(" into {containers} of {target}"),
                (false, true) => format!(" into {target}"),
                (true, false) => format!(" into {containers}"),
                (true, true) => String::new(),
            };
            format!("{verb}{cmd}{into}")
        }
        _ => {
            let what = match (target.is_empty(), containers.is_empty()) {
                (false, false) => format!("{target}: {containers}"),
                (false, true) => target,
                (true, false) => containers,
                (true, true) => String::new(),
            };
            format!("{} {what}", e.action.as_str())
        }
    };
    text.push_str(&by);
    text.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_first_once_and_leaves_with_its_second_record() {
        let mut r = Requests::default();
        assert!(r.first(Source::K8sAudit, "a"));
        assert!(r.first(Source::AksAudit, "a"), "ids are per source");
        assert!(!r.first(Source::K8sAudit, "a"));
        assert!(r.open.len() == 1 && r.evictions == 0);
    }

    #[test]
    fn the_oldest_open_request_is_evicted_and_counted() {
        let mut r = Requests::default();
        for i in 0..=MAX_REQUESTS {
            assert!(r.first(Source::K8sAudit, &i.to_string()));
        }
        assert_eq!(r.evictions, 1);
        assert_eq!(r.open.len(), MAX_REQUESTS);
        // The evicted request's second record is taken for a first: evaluated again.
        assert!(r.first(Source::K8sAudit, "0"));
        assert!(!r.first(Source::K8sAudit, "1000"));
    }
}

/// Test builds only: a record can ask the engine to trap or hang, so hosts can prove
/// they isolate both.
#[cfg(feature = "fault-injection")]
fn fault_injection(record: &[u8]) {
    let has = |needle: &[u8]| memchr::memmem::find(record, needle).is_some();
    if has(b"crowsnest-fault:trap") {
        panic!("fault injection: trap requested by record");
    }
    if has(b"crowsnest-fault:loop") {
        let mut n: u64 = 0;
        loop {
            n = std::hint::black_box(n.wrapping_add(1));
        }
    }
}
