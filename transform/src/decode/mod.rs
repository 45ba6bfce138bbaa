//! Bytes to normalized events: detect the format of one record, decode it with typed,
//! borrowed serde structs, and normalize it into [`Event`].
//!
//! Each format lives in its own file and exposes one function,
//! `decode(text) -> Result<Decoded, DecodeError>`. Decoders never build a JSON DOM:
//! they deserialize into borrowed structs and skip what no rule reads. Detection is a
//! cheap scan for keys only one format has; the chosen decoder then validates the shape
//! and reports a located error when it does not hold.

mod auditd;
mod aws_cloudtrail;
mod azure_activity;
mod borrowed;
mod command_line;
mod docker_api;
mod docker_authz;
mod docker_create_body;
mod docker_daemon;
mod docker_events;
mod docker_inspect;
mod envelope;
mod falco;
#[doc(hidden)]
pub mod fuzzing;
mod gcp_audit;
mod k8s_audit;
mod k8s_audit_aks;
mod k8s_event;
mod route53_resolver;
mod tetragon;
mod vpc_flow;
mod zeek;

use std::borrow::Cow;
use std::sync::LazyLock;

use memchr::memmem::Finder;

use crate::model::{Event, Source};

/// One normalized event decoded from a record, ready for enrichment and rules.
#[derive(Debug)]
pub struct Decoded<'a> {
    pub event: Event<'a>,
    /// Whether rules should see this event. Kubernetes sends one audit event per
    /// request stage; only the stage that completes the request is evaluated, so one
    /// request raises at most one alert per rule.
    pub evaluate: bool,
    /// The JSON text that raw-field rules read for this event, when it is not the whole
    /// record: one element of a CloudTrail `Records` array, the audit event inside an
    /// AKS wrapper's `properties.log` string.
    pub raw: Option<Cow<'a, str>>,
}

impl<'a> Decoded<'a> {
    pub fn evaluated(event: Event<'a>) -> Self {
        Decoded {
            event,
            evaluate: true,
            raw: None,
        }
    }

    /// An event that owns its strings, with the text rules read for it.
    pub(crate) fn into_owned(self) -> Decoded<'static> {
        Decoded {
            event: self.event.into_owned(),
            evaluate: self.evaluate,
            raw: self.raw.map(|r| Cow::Owned(r.into_owned())),
        }
    }
}

/// Everything one record (one line) decoded to.
///
/// Most records hold one event. A CloudTrail file holds many (`Records`), a CloudWatch
/// Logs subscription message one per log event, and a line of a multi-line format
/// (auditd) may hold none yet: its event is emitted by the line that completes it.
#[derive(Debug)]
pub struct DecodedRecord<'a> {
    pub source: Source,
    pub events: Vec<Decoded<'a>>,
}

impl<'a> DecodedRecord<'a> {
    fn one(decoded: Decoded<'a>) -> Self {
        DecodedRecord {
            source: decoded.event.source,
            events: vec![decoded],
        }
    }
}

/// What decoding a record may need to know beyond its own bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Context<'c> {
    /// The file (or stream) the record came from: formats with per-file state (a VPC
    /// flow log's header line) keep it per file.
    pub file: &'c str,
    /// The configured VPC flow log format (`${version} ${account-id} ...` or the field
    /// names alone), when the logs do not carry a header line.
    pub vpc_flow_format: Option<&'c str>,
}

/// State that decoding carries from one record to the next: the records of an auditd
/// event that are still arriving, the field layout each VPC flow log file declared, the
/// dockerd API call a `form data:` line belongs to.
#[derive(Default)]
pub struct StreamState {
    auditd: auditd::Assembler,
    vpc_flow: vpc_flow::Layouts,
    docker_daemon: docker_daemon::Calls,
}

impl StreamState {
    /// Emit what is still pending at the end of a stream (an auditd event whose last
    /// record never came), as events that own their strings.
    pub fn flush(&mut self) -> Vec<Decoded<'static>> {
        self.auditd.flush()
    }
}

/// Why a record could not be decoded. The stream always goes on.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeError {
    /// Not JSON, or JSON cut short; `column` is 1-based within the record.
    #[error("invalid JSON at column {column}: {message}")]
    Syntax { column: u32, message: String },
    /// Valid JSON (or text) whose shape does not fit the format it was detected as.
    #[error("not a valid {} record at column {column}: {message}", .format.as_str())]
    Shape {
        format: Source,
        column: u32,
        message: String,
    },
    #[error("no known source has this shape")]
    UnknownShape,
    #[error("invalid UTF-8 at column {column}")]
    Utf8 { column: u32 },
    #[error("record of {len} bytes is over the {limit}-byte limit")]
    TooLarge { len: usize, limit: usize },
    /// JSON nested deeper than the decoder follows (serde_json's limit of 128 levels
    /// on the parts of a record that are read).
    #[error("nesting deeper than {limit} levels at column {column}")]
    TooDeep { column: u32, limit: u32 },
}

/// serde_json's recursion limit, which bounds every nested read.
const MAX_DEPTH: u32 = 128;

impl DecodeError {
    /// A stable code for machines (`decode.syntax`).
    pub fn code(&self) -> &'static str {
        match self {
            DecodeError::Syntax { .. } => "decode.syntax",
            DecodeError::Shape { .. } => "decode.shape",
            DecodeError::UnknownShape => "decode.unknown",
            DecodeError::Utf8 { .. } => "decode.utf8",
            DecodeError::TooLarge { .. } => "decode.too-large",
            DecodeError::TooDeep { .. } => "decode.too-deep",
        }
    }

    /// 1-based column inside the record, 1 when the error is about the whole record.
    pub fn column(&self) -> u32 {
        match self {
            DecodeError::Syntax { column, .. }
            | DecodeError::Shape { column, .. }
            | DecodeError::TooDeep { column, .. }
            | DecodeError::Utf8 { column } => *column,
            DecodeError::UnknownShape | DecodeError::TooLarge { .. } => 1,
        }
    }

    /// A shape error for text formats and checks serde cannot express.
    pub(crate) fn shape(format: Source, column: usize, message: impl Into<String>) -> Self {
        DecodeError::Shape {
            format,
            column: u32::try_from(column).unwrap_or(u32::MAX).max(1),
            message: message.into(),
        }
    }

    /// Classify a serde_json error from decoding `source`: syntax errors and EOF mean the
    /// bytes are not JSON; data errors mean JSON of the wrong shape.
    pub(crate) fn from_json(format: Source, err: serde_json::Error) -> Self {
        let column = u32::try_from(err.column()).unwrap_or(u32::MAX).max(1);
        // serde_json appends " at line L column C"; the location is carried separately.
        let message = strip_location(&err.to_string());
        if message.starts_with("recursion limit exceeded") {
            DecodeError::TooDeep {
                column,
                limit: MAX_DEPTH,
            }
        } else if err.is_data() {
            DecodeError::Shape {
                format,
                column,
                message,
            }
        } else {
            DecodeError::Syntax { column, message }
        }
    }

    /// An error that says something about the bytes themselves (cut short, too deep),
    /// which every other format would report the same way.
    fn is_about_bytes(&self) -> bool {
        matches!(
            self,
            DecodeError::Syntax { .. } | DecodeError::TooDeep { .. }
        )
    }
}

fn strip_location(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message.to_string(),
    }
}

/// A key, matched with its closing quote and colon (`"auditID":`): inside a string
/// value those quotes would be escaped, so only keys match.
fn key(k: &'static str) -> Finder<'static> {
    Finder::new(k)
}

/// Keys that only one format has, searched with finders built once: detection runs on
/// every record, and in the component there is no SIMD to hide a rebuilt searcher.
struct Keys {
    audit_id: Finder<'static>,
    host_config: Finder<'static>,
    actor: Finder<'static>,
    action: Finder<'static>,
    status: Finder<'static>,
    legacy_id: Finder<'static>,
    from: Finder<'static>,
    request_method: Finder<'static>,
    proto_payload: Finder<'static>,
    involved_object: Finder<'static>,
    regarding: Finder<'static>,
    log_s: Finder<'static>,
    event_source: Finder<'static>,
    records: Finder<'static>,
    detail_type: Finder<'static>,
    operation_name: Finder<'static>,
    kube_audit: Finder<'static>,
    output_fields: Finder<'static>,
    process_exec: Finder<'static>,
    process_kprobe: Finder<'static>,
    process_exit: Finder<'static>,
    process_tracepoint: Finder<'static>,
    orig_h: Finder<'static>,
    qtype: Finder<'static>,
    query: Finder<'static>,
    query_name: Finder<'static>,
    zeek_dns_path: Finder<'static>,
    msg: Finder<'static>,
    level: Finder<'static>,
}

static KEYS: LazyLock<Keys> = LazyLock::new(|| Keys {
    audit_id: key("\"auditID\":"),
    host_config: key("\"HostConfig\":"),
    actor: key("\"Actor\":"),
    action: key("\"Action\":"),
    status: key("\"status\":"),
    legacy_id: key("\"id\":"),
    from: key("\"from\":"),
    request_method: key("\"RequestMethod\":"),
    proto_payload: key("\"protoPayload\":"),
    involved_object: key("\"involvedObject\":"),
    // events.k8s.io/v1 Events name their object `regarding`.
    regarding: key("\"regarding\":"),
    // AKS audit events exported from the Log Analytics `AzureDiagnostics` table.
    log_s: key("\"log_s\":"),
    event_source: key("\"eventSource\":"),
    records: key("\"Records\":"),
    detail_type: key("\"detail-type\":"),
    operation_name: key("\"operationName\":"),
    // A value, not a key: the AKS diagnostic category (`kube-audit`, `kube-audit-admin`).
    kube_audit: key("\"kube-audit"),
    output_fields: key("\"output_fields\":"),
    process_exec: key("\"process_exec\":"),
    process_kprobe: key("\"process_kprobe\":"),
    process_exit: key("\"process_exit\":"),
    process_tracepoint: key("\"process_tracepoint\":"),
    orig_h: key("\"id.orig_h\":"),
    qtype: key("\"qtype_name\":"),
    query: key("\"query\":"),
    query_name: key("\"query_name\":"),
    // A value, not a key: Zeek's log stream name, for a dns.log line without a query.
    zeek_dns_path: key("\"_path\":\"dns\""),
    msg: key("\"msg\":"),
    level: key("\"level\":"),
});

/// Guess the format of one JSON record from keys only that format has.
///
/// Keys can be chosen by whoever writes a record (Docker labels are keys of
/// `Attributes`), so detection is only a first guess: [`decode`] tries the other
/// formats when the guess does not decode.
pub fn detect(text: &str) -> Option<Source> {
    let bytes = text.as_bytes();
    let k = &*KEYS;
    let has = |f: &Finder<'_>| f.find(bytes).is_some();
    // The most common formats first, one key each where one suffices: a full scan of a
    // 2 KB audit record for a second key costs as much as decoding it.
    if has(&k.audit_id) {
        Some(Source::K8sAudit)
    } else if has(&k.host_config) {
        // Inspect output and an authz request body both hold `HostConfig`; only the
        // authz request says how it was asked for.
        if has(&k.request_method) {
            Some(Source::DockerAuthz)
        } else {
            Some(Source::DockerInspect)
        }
    } else if (has(&k.actor) && has(&k.action))
        || (has(&k.status) && has(&k.legacy_id) && has(&k.from))
    {
        Some(Source::DockerEvent)
    } else if has(&k.request_method) {
        Some(Source::DockerAuthz)
    } else if has(&k.proto_payload) {
        // The decoder tells GKE's Kubernetes API apart from other GCP services.
        Some(Source::GkeAudit)
    } else if has(&k.involved_object) || has(&k.regarding) {
        Some(Source::K8sEvent)
    } else if has(&k.event_source) || has(&k.records) || has(&k.detail_type) {
        Some(Source::CloudTrail)
    } else if has(&k.operation_name) || has(&k.log_s) {
        if has(&k.kube_audit) {
            Some(Source::AksAudit)
        } else {
            Some(Source::AzureActivity)
        }
    } else if has(&k.output_fields) {
        Some(Source::Falco)
    } else if has(&k.process_exec)
        || has(&k.process_kprobe)
        || has(&k.process_exit)
        || has(&k.process_tracepoint)
    {
        Some(Source::Tetragon)
    } else if has(&k.orig_h) {
        if has(&k.qtype) || has(&k.query) || has(&k.zeek_dns_path) {
            Some(Source::ZeekDns)
        } else {
            Some(Source::ZeekConn)
        }
    } else if has(&k.query_name) {
        Some(Source::Route53Resolver)
    } else if has(&k.msg) && has(&k.level) && docker_daemon::sniff_json(text) {
        Some(Source::DockerDaemon)
    } else {
        None
    }
}

/// Guess the format of one line that is not JSON.
pub fn detect_text(text: &str, state: &StreamState, ctx: &Context<'_>) -> Option<Source> {
    if auditd::sniff(text) {
        Some(Source::Auditd)
    } else if docker_daemon::sniff_text(text) {
        Some(Source::DockerDaemon)
    } else if state.vpc_flow.sniff(text, ctx) {
        Some(Source::VpcFlow)
    } else {
        None
    }
}

/// True for the formats that are text lines, not JSON.
fn is_text_format(source: Source) -> bool {
    matches!(
        source,
        Source::Auditd | Source::VpcFlow | Source::DockerDaemon
    )
}

/// Decode one record's text as `source`.
pub fn decode_as<'a>(
    source: Source,
    text: &'a str,
    state: &mut StreamState,
    ctx: &Context<'_>,
) -> Result<DecodedRecord<'a>, DecodeError> {
    let one = |r: Result<Decoded<'a>, DecodeError>| r.map(DecodedRecord::one);
    let many = |events: Result<Vec<Decoded<'a>>, DecodeError>| {
        events.map(|events| DecodedRecord { source, events })
    };
    match source {
        Source::DockerEvent => one(docker_events::decode(text)),
        Source::DockerInspect => one(docker_inspect::decode(text)),
        Source::DockerAuthz => one(docker_authz::decode(text)),
        Source::DockerDaemon => many(docker_daemon::decode(text, &mut state.docker_daemon, ctx)),
        Source::K8sAudit => one(k8s_audit::decode(text)),
        Source::AksAudit => many(k8s_audit_aks::decode(text)),
        Source::GkeAudit | Source::GcpAudit => one(gcp_audit::decode(text)),
        Source::K8sEvent => many(k8s_event::decode(text)),
        Source::CloudTrail => many(aws_cloudtrail::decode(text)),
        Source::AzureActivity => one(azure_activity::decode(text)),
        Source::Auditd => many(auditd::decode(text, &mut state.auditd, ctx)),
        Source::Falco => one(falco::decode(text)),
        Source::Tetragon => one(tetragon::decode(text)),
        Source::ZeekConn => one(zeek::decode_conn(text)),
        Source::ZeekDns => one(zeek::decode_dns(text)),
        Source::VpcFlow => many(vpc_flow::decode(text, &mut state.vpc_flow, ctx)),
        Source::Route53Resolver => one(route53_resolver::decode(text)),
    }
}

/// Detect and decode one record.
///
/// When the detected format does not decode, the other formats of the same kind (JSON
/// or text) are tried before the first error is reported, so a record cannot be hidden
/// from its own decoder by carrying another format's keys (a Docker label named
/// `auditID`, say). A JSON record no format claims may be a shipper's wrapper
/// (`{"log": "..."}`, a CloudWatch Logs subscription message): its inner text is
/// decoded instead.
pub fn decode<'a>(
    text: &'a str,
    state: &mut StreamState,
    ctx: &Context<'_>,
) -> Result<DecodedRecord<'a>, DecodeError> {
    let json = text.trim_start().starts_with(['{', '[']);
    if !json {
        return match detect_text(text, state, ctx) {
            Some(source) => decode_as(source, text, state, ctx),
            None => Err(not_json(text)),
        };
    }
    let Some(source) = detect(text) else {
        if let Some(record) = envelope::decode(text, state, ctx)? {
            return Ok(record);
        }
        return Err(match serde_json::from_str::<serde::de::IgnoredAny>(text) {
            Ok(_) => DecodeError::UnknownShape,
            Err(e) => DecodeError::from_json(Source::DockerEvent, e),
        });
    };
    match decode_as(source, text, state, ctx) {
        Ok(record) => Ok(record),
        Err(first) if first.is_about_bytes() => Err(first),
        Err(first) => Source::ALL
            .into_iter()
            .filter(|other| *other != source && !is_text_format(*other))
            .find_map(|other| decode_as(other, text, state, ctx).ok())
            .ok_or(first),
    }
}

/// Detect and decode a record that holds exactly one event, with fresh stream state:
/// for tests of one format's decoder through detection.
#[cfg(test)]
pub(crate) fn decode_one(text: &str) -> Result<Decoded<'_>, DecodeError> {
    let mut record = decode(text, &mut StreamState::default(), &Context::default())?;
    assert_eq!(record.events.len(), 1, "one event expected from {text}");
    Ok(record.events.remove(0))
}

/// The error for a line that is neither JSON nor a known text format: what a JSON
/// parser says about it, since JSON is what most sources send.
fn not_json(text: &str) -> DecodeError {
    match serde_json::from_str::<serde::de::IgnoredAny>(text) {
        Ok(_) => DecodeError::UnknownShape,
        Err(e) => DecodeError::from_json(Source::DockerEvent, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Action;

    #[test]
    fn detection_by_keys() {
        assert_eq!(
            detect(r#"{"auditID":"a","verb":"get","stage":"ResponseComplete"}"#),
            Some(Source::K8sAudit)
        );
        assert_eq!(
            detect(r#"{"Id":"x","HostConfig":{}}"#),
            Some(Source::DockerInspect)
        );
        assert_eq!(
            detect(r#"{"Type":"container","Action":"start","Actor":{"ID":"x"}}"#),
            Some(Source::DockerEvent)
        );
        assert_eq!(
            detect(r#"{"status":"start","id":"x","from":"nginx"}"#),
            Some(Source::DockerEvent)
        );
        assert_eq!(detect(r#"{"message":"auditID: 1"}"#), None);
    }

    #[test]
    fn labels_named_like_another_format_cannot_hide_a_record() {
        // A container labelled `auditID` and `verb`: detection guesses Kubernetes, the
        // audit decoder refuses it, and the Docker decoder still reads it.
        let event = r#"{"Type":"container","Action":"exec_create: sh","Actor":{"ID":"0123456789ab","Attributes":{"auditID":"x","verb":"y","image":"alpine","name":"evil"}},"scope":"local","time":1714557600}"#;
        assert_eq!(detect(event), Some(Source::K8sAudit));
        let decoded = decode_one(event).expect("decoded as a Docker event");
        assert_eq!(decoded.event.source, Source::DockerEvent);
        assert_eq!(decoded.event.action, Action::ContainerExec);
    }

    #[test]
    fn unknown_json_and_non_json_are_told_apart() {
        assert_eq!(
            decode_one(r#"{"kind": 0}"#).unwrap_err(),
            DecodeError::UnknownShape
        );
        assert!(matches!(
            decode_one(r#"{"kind": "#),
            Err(DecodeError::Syntax { .. })
        ));
    }
}
