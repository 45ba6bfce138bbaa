//! Findings written into the record itself: the record's own JSON text with a
//! `"crowsnest":{...}` member appended before its closing brace.
//!
//! Pipelines that replace a record with whatever the filter returns (Fluent Bit's
//! `filter_wasm`, `crowsnest filter` behind Fluentd, Vector or Logstash, a Redpanda
//! transform) get the record back byte for byte, plus one member. Appending to the text
//! instead of parsing the record into a DOM and serializing it again keeps every field,
//! key order and number exactly as the source wrote them, and costs a copy instead of a
//! parse: under Fluent Bit's WAMR interpreter a DOM round trip costs more than ten
//! times what the copy does (`../shared/reference/hosts.md`).
//!
//! # The `crowsnest` member
//!
//! ```json
//! {"...the record's own members...": "...",
//!  "crowsnest": {
//!    "source": "docker_event",
//!    "event": {"action": "container-exec", "...": "the normalized event", "origin": {}},
//!    "alert_level": "high",
//!    "alerts": [ {"class_uid": 2004, "...": "one rendered alert per finding"} ],
//!    "diagnostics": [ {"severity": "error", "code": "decode.shape", "message": "...",
//!                      "file": "...", "line": 1, "column": 9} ]
//!  }}
//! ```
//!
//! - `source`: the source the engine recognized the record as.
//! - `event`: the normalized event the engine made of the record (`docs/fields.md`),
//!   with its `origin`; `events` (an array) instead when one record holds several events,
//!   and neither when the record only began an event that later records complete.
//! - `alert_level` and `alerts`: only when the record completed at least one finding.
//!   `alert_level` is the highest level among them (`informational`, `low`, `medium`,
//!   `high`, `critical`), a plain string for routers that match on one field (Fluent
//!   Bit's `rewrite_tag`); each element of `alerts` is the alert document in the
//!   configured format (OCSF Detection Finding by default).
//! - `diagnostics`: only when something about the record (or a rule pack the host
//!   tried to load) went wrong; a record the engine could not decode carries only this
//!   member.
//!
//! A record the engine does not recognize at all (`decode.unknown`: an application's
//! own log line, say) comes back unchanged: a log shipper sees mostly such records, and
//! tagging each one would only add bytes. A record that is not a JSON object but has
//! findings (an auditd text line, malformed JSON) cannot take a member, so it comes back
//! as `{"message":"<the record>","crowsnest":{...}}`. See [`Verdict`].

use std::io::Write as _;

use crate::api::{Alert, Diagnostic, RecordOutcome};

/// The member name every route writes.
pub const MEMBER: &str = "crowsnest";

/// Diagnostic code the engine gives a record of no known source.
const UNKNOWN: &str = "decode.unknown";

/// Diagnostic code the engine gives a record that is not JSON and no text format claims.
const SYNTAX: &str = "decode.syntax";

/// What the engine found in one record.
#[derive(Debug, Clone, Copy)]
pub struct Findings<'a> {
    /// The record's outcome; its `enrichment`, when present, is a JSON object or array.
    pub outcome: &'a RecordOutcome,
    /// The alerts this record completed, in order; their rendered documents go out.
    pub alerts: &'a [&'a Alert],
    /// Diagnostics about this record, and any the host adds (a rejected rule pack).
    pub diagnostics: &'a [&'a Diagnostic],
}

impl Findings<'_> {
    /// Whether `record` goes out as it came: the engine did not recognize it and there
    /// is nothing else to say. Unrecognized are JSON of no known shape and plain text
    /// no text format claims (the engine calls that a JSON syntax error, but a line that
    /// does not even start like JSON was never meant to be JSON); malformed JSON is not.
    pub fn nothing_to_add(&self, record: &str) -> bool {
        let looks_like_json = record.trim_start().starts_with(['{', '[']);
        self.outcome.source.is_none()
            && self.alerts.is_empty()
            && self
                .diagnostics
                .iter()
                .all(|d| d.code == UNKNOWN || (d.code == SYNTAX && !looks_like_json))
    }
}

/// What [`enrich`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The record with the `crowsnest` member.
    Enriched,
    /// The record unchanged: the engine did not recognize it and had nothing to add
    /// (see [`Findings::nothing_to_add`]).
    Unrecognized,
    /// The record is not a JSON object (a text format such as auditd, or malformed
    /// JSON), so it went out as a string: `{"message":"<the record>","crowsnest":{...}}`,
    /// the shipper-wrapper shape the engine itself reads.
    Wrapped,
}

/// Write `record` with the `crowsnest` member for `findings` to `out`.
///
/// A record the engine decoded and that is delimited by braces is a JSON object (text
/// formats never start with one); any other record is checked with a full parse before
/// anything is appended to it, so a malformed record never comes out more malformed:
/// it goes out wrapped instead. Whatever the verdict, exactly one record is written,
/// without a line break.
pub fn enrich(record: &str, findings: &Findings<'_>, out: &mut Vec<u8>) -> Verdict {
    if findings.nothing_to_add(record) {
        out.extend_from_slice(record.as_bytes());
        return Verdict::Unrecognized;
    }
    let vouched = findings.outcome.source.is_some() || is_json_object(record);
    match OpenObject::of(record).filter(|_| vouched) {
        Some(open) => {
            open.write_head(MEMBER, out);
            write_findings(findings, out);
            open.write_tail(out);
            Verdict::Enriched
        }
        None => {
            out.extend_from_slice(b"{\"message\":");
            serde_json::to_writer(&mut *out, record.trim_end_matches(['\n', '\r']))
                .expect("a string serializes to memory");
            out.extend_from_slice(b",\"");
            out.extend_from_slice(MEMBER.as_bytes());
            out.extend_from_slice(b"\":");
            write_findings(findings, out);
            out.push(b'}');
            Verdict::Wrapped
        }
    }
}

/// Whether `text` is exactly one JSON object (whitespace around it allowed). A full
/// parse that keeps nothing: for records the engine could not vouch for.
pub fn is_json_object(text: &str) -> bool {
    text.trim_start().starts_with('{')
        && serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok()
}

/// The value of the `crowsnest` member; see the module docs.
fn write_findings(findings: &Findings<'_>, out: &mut Vec<u8>) {
    let mut members = Members::open(out);
    if let Some(source) = findings.outcome.source {
        members.key(b"source");
        members.out.push(b'"');
        members.out.extend_from_slice(source.as_str().as_bytes());
        members.out.push(b'"');
    }
    if let Some(enrichment) = &findings.outcome.enrichment {
        // One event is an object; a record holding several gives an array of them.
        let trimmed = enrichment.trim();
        if trimmed.starts_with('{') {
            members.key(b"event");
        } else {
            members.key(b"events");
        }
        members.out.extend_from_slice(trimmed.as_bytes());
    }
    if let Some(level) = findings
        .alerts
        .iter()
        .map(|a| a.level.as_str())
        .max_by_key(|l| rank(l))
    {
        members.key(b"alert_level");
        serde_json::to_writer(&mut *members.out, level).expect("a string serializes to memory");
        members.key(b"alerts");
        members.out.push(b'[');
        for (i, alert) in findings.alerts.iter().enumerate() {
            if i > 0 {
                members.out.push(b',');
            }
            // The engine renders compact JSON; a line break would split an NDJSON line.
            if alert.document.contains(['\n', '\r']) {
                members
                    .out
                    .extend_from_slice(alert.document.replace(['\n', '\r'], " ").as_bytes());
            } else {
                members.out.extend_from_slice(alert.document.as_bytes());
            }
        }
        members.out.push(b']');
    }
    let diagnostics: Vec<&Diagnostic> = findings
        .diagnostics
        .iter()
        .copied()
        .filter(|d| d.code != UNKNOWN)
        .collect();
    if !diagnostics.is_empty() {
        members.key(b"diagnostics");
        serde_json::to_writer(&mut *members.out, &diagnostics)
            .expect("diagnostics serialize to memory");
    }
    members.out.push(b'}');
}

/// Sigma levels, lowest first; a level no rule should have sorts lowest.
fn rank(level: &str) -> u8 {
    match level {
        "informational" => 1,
        "low" => 2,
        "medium" => 3,
        "high" => 4,
        "critical" => 5,
        _ => 0,
    }
}

/// Writes an object's members with the separators between them.
struct Members<'o> {
    out: &'o mut Vec<u8>,
    first: bool,
}

impl<'o> Members<'o> {
    fn open(out: &'o mut Vec<u8>) -> Self {
        out.push(b'{');
        Members { out, first: true }
    }

    /// A separator if needed, then `"key":` (`key` needs no escaping).
    fn key(&mut self, key: &[u8]) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        self.out.push(b'"');
        self.out.extend_from_slice(key);
        self.out.extend_from_slice(b"\":");
    }
}

/// A JSON object's text split before its closing brace.
struct OpenObject<'a> {
    /// Everything up to the last member (or the opening brace), trailing space trimmed.
    body: &'a str,
    /// Whatever followed the closing brace (trailing whitespace), kept as it was.
    after: &'a str,
    has_members: bool,
}

impl<'a> OpenObject<'a> {
    fn of(text: &'a str) -> Option<Self> {
        let trimmed = text.trim_end();
        let after = &text[trimmed.len()..];
        let inner = trimmed.strip_suffix('}')?;
        if !text.trim_start().starts_with('{') {
            return None;
        }
        let body = inner.trim_end();
        Some(OpenObject {
            body,
            after,
            has_members: !body.ends_with('{'),
        })
    }

    /// The body, a separator when needed, and `"key":`.
    fn write_head(&self, key: &str, out: &mut Vec<u8>) {
        out.extend_from_slice(self.body.as_bytes());
        if self.has_members {
            out.push(b',');
        }
        serde_json::to_writer(&mut *out, key).expect("a string serializes to memory");
        out.push(b':');
    }

    fn write_tail(&self, out: &mut Vec<u8>) {
        out.push(b'}');
        // Trailing whitespace other than line breaks stays; callers frame records.
        let _ = out.write_all(self.after.trim_end_matches(['\n', '\r']).as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Severity;
    use crate::model::{Action, Source};

    fn outcome(enrichment: Option<&str>) -> RecordOutcome {
        RecordOutcome {
            source: enrichment.map(|_| Source::DockerEvent),
            enrichment: enrichment.map(str::to_string),
        }
    }

    fn alert(level: &str, document: &str) -> Alert {
        Alert {
            record_index: 0,
            rule_id: "r".into(),
            rule_title: "t".into(),
            level: level.into(),
            analytic: None,
            techniques: Vec::new(),
            time_ns: None,
            source: Source::DockerEvent,
            action: Action::ContainerCreate,
            principal: None,
            namespace: None,
            containers: Vec::new(),
            image: None,
            summary: String::new(),
            document: document.into(),
        }
    }

    fn diagnostic(code: &str) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            code: code.into(),
            message: "bad".into(),
            file: "f".into(),
            line: 3,
            column: 9,
        }
    }

    /// `object` with `"key": value` appended; `false` when it is not brace-delimited.
    fn append_member(object: &str, key: &str, value: &str, out: &mut Vec<u8>) -> bool {
        let Some(open) = OpenObject::of(object) else {
            return false;
        };
        open.write_head(key, out);
        out.extend_from_slice(value.as_bytes());
        open.write_tail(out);
        true
    }

    fn run(record: &str, findings: Findings<'_>) -> (String, Verdict) {
        let mut out = Vec::new();
        let verdict = enrich(record, &findings, &mut out);
        (String::from_utf8(out).unwrap(), verdict)
    }

    #[test]
    fn appends_after_the_last_member_keeping_the_text() {
        let mut out = Vec::new();
        assert!(append_member(
            r#"{"b": 1.50, "a":"x"}"#,
            "k",
            "[1]",
            &mut out
        ));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"b": 1.50, "a":"x","k":[1]}"#
        );
    }

    #[test]
    fn empty_objects_and_whitespace() {
        for (input, want) in [
            ("{}", r#"{"k":true}"#),
            ("  { \n }  ", r#"  {"k":true}  "#),
            ("{\"a\":1}\r\n", r#"{"a":1,"k":true}"#),
            ("{\"a\":{}}", r#"{"a":{},"k":true}"#),
        ] {
            let mut out = Vec::new();
            assert!(append_member(input, "k", "true", &mut out), "{input:?}");
            assert_eq!(String::from_utf8(out).unwrap(), want, "{input:?}");
        }
    }

    #[test]
    fn non_objects_are_refused() {
        for input in ["[1]", "\"{}\"", "{", "}", "", "not json", "{\"a\":1} x"] {
            let mut out = Vec::new();
            assert!(!append_member(input, "k", "1", &mut out), "{input:?}");
            assert!(out.is_empty());
        }
    }

    #[test]
    fn enrichment_alerts_and_diagnostics_in_one_member() {
        let outcome = outcome(Some(r#"{"action":"container-create"}"#));
        let d = diagnostic("pack.rule");
        let (medium, high) = (
            alert("medium", r#"{"class_uid":2004}"#),
            alert("high", "{\"class_uid\":2004,\n\"n\":2}"),
        );
        let (text, verdict) = run(
            r#"{"id":"c1"}"#,
            Findings {
                outcome: &outcome,
                alerts: &[&medium, &high],
                diagnostics: &[&d],
            },
        );
        assert_eq!(verdict, Verdict::Enriched);
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["id"], "c1");
        let member = &value["crowsnest"];
        assert_eq!(member["source"], "docker_event");
        assert_eq!(member["event"]["action"], "container-create");
        assert_eq!(member["alerts"].as_array().unwrap().len(), 2);
        assert_eq!(member["alerts"][1]["n"], 2);
        assert_eq!(member["alert_level"], "high");
        assert!(!text.contains('\n'), "one line: {text}");
        assert_eq!(member["diagnostics"][0]["code"], "pack.rule");
        assert_eq!(member["diagnostics"][0]["line"], 3);
    }

    #[test]
    fn a_record_without_findings_carries_only_the_enrichment() {
        let outcome = outcome(Some(r#"{"action":"workload-create"}"#));
        let (text, _) = run(
            r#"{"kind":"Event"}"#,
            Findings {
                outcome: &outcome,
                alerts: &[],
                diagnostics: &[],
            },
        );
        assert_eq!(
            text,
            r#"{"kind":"Event","crowsnest":{"source":"docker_event","event":{"action":"workload-create"}}}"#
        );
    }

    #[test]
    fn several_events_and_none() {
        let several = outcome(Some(r#"[{"a":1},{"a":2}]"#));
        let (text, _) = run(
            "{}",
            Findings {
                outcome: &several,
                alerts: &[],
                diagnostics: &[],
            },
        );
        assert_eq!(
            text,
            r#"{"crowsnest":{"source":"docker_event","events":[{"a":1},{"a":2}]}}"#
        );
        // A record that only began an event: recognized, nothing normalized yet.
        let pending = RecordOutcome {
            source: Some(Source::DockerEvent),
            enrichment: None,
        };
        let (text, verdict) = run(
            "{}",
            Findings {
                outcome: &pending,
                alerts: &[],
                diagnostics: &[],
            },
        );
        assert_eq!(verdict, Verdict::Enriched);
        assert_eq!(text, r#"{"crowsnest":{"source":"docker_event"}}"#);
    }

    #[test]
    fn unrecognized_records_pass_through_unchanged() {
        let outcome = outcome(None);
        let d = diagnostic(UNKNOWN);
        let record = r#"{"level":"info","msg":"listening"}"#;
        let (text, verdict) = run(
            record,
            Findings {
                outcome: &outcome,
                alerts: &[],
                diagnostics: &[&d],
            },
        );
        assert_eq!((text.as_str(), verdict), (record, Verdict::Unrecognized));
        // Plain text no format claims is unrecognized too; malformed JSON is not.
        let syntax = diagnostic(SYNTAX);
        let findings = Findings {
            outcome: &outcome,
            alerts: &[],
            diagnostics: &[&syntax],
        };
        assert_eq!(run("GET /healthz 200", findings).1, Verdict::Unrecognized);
        assert_eq!(run("{\"a\":", findings).1, Verdict::Wrapped);
    }

    #[test]
    fn undecodable_records_carry_only_diagnostics() {
        let outcome = outcome(None);
        let d = diagnostic("decode.shape");
        let (text, verdict) = run(
            r#"{"auditID":5}"#,
            Findings {
                outcome: &outcome,
                alerts: &[],
                diagnostics: &[&d],
            },
        );
        assert_eq!(verdict, Verdict::Enriched);
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["crowsnest"]["diagnostics"][0]["code"], "decode.shape");
        assert_eq!(value["crowsnest"].as_object().unwrap().len(), 1);
    }

    #[test]
    fn findings_on_text_that_is_no_object_wrap_it() {
        let undecoded = outcome(None);
        let d = diagnostic("decode.syntax");
        for record in ["{\"a\":", "{\"a\": }", "[{}]"] {
            let (text, verdict) = run(
                record,
                Findings {
                    outcome: &undecoded,
                    alerts: &[],
                    diagnostics: &[&d],
                },
            );
            assert_eq!(verdict, Verdict::Wrapped, "{record}");
            let value: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(value["message"], record);
            assert_eq!(
                value["crowsnest"]["diagnostics"][0]["code"],
                "decode.syntax"
            );
        }
        // A text format the engine decoded (an auditd line) carries its event wrapped.
        let decoded = outcome(Some(r#"{"action":"process-exec"}"#));
        let (text, verdict) = run(
            "type=EXECVE msg=audit(1.0:2): argc=1",
            Findings {
                outcome: &decoded,
                alerts: &[],
                diagnostics: &[],
            },
        );
        assert_eq!(verdict, Verdict::Wrapped);
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["message"], "type=EXECVE msg=audit(1.0:2): argc=1");
        assert_eq!(value["crowsnest"]["event"]["action"], "process-exec");
    }
}
