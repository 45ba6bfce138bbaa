//! Bytes to normalized events: detect the format of one record, decode it with typed,
//! borrowed serde structs, and normalize it into [`Event`].
//!
//! Each format lives in its own file and exposes one function,
//! `decode(text) -> Result<Decoded, DecodeError>`. Decoders never build a JSON DOM:
//! they deserialize into borrowed structs and skip what no rule reads. Detection is a
//! cheap scan for keys only one format has; the chosen decoder then validates the shape
//! and reports a located error when it does not hold.

mod borrowed;
mod docker_events;
mod docker_inspect;
mod k8s_audit;

use std::sync::LazyLock;

use memchr::memmem::Finder;

use crate::model::{Event, Source};

/// A decoded record, ready for enrichment and rules.
#[derive(Debug)]
pub struct Decoded<'a> {
    pub event: Event<'a>,
    /// Whether rules should see this record. Kubernetes sends one audit event per
    /// request stage; only the stage that completes the request is evaluated, so one
    /// request raises at most one alert per rule.
    pub evaluate: bool,
}

impl<'a> Decoded<'a> {
    pub fn evaluated(event: Event<'a>) -> Self {
        Decoded {
            event,
            evaluate: true,
        }
    }
}

/// Why a record could not be decoded. The stream always goes on.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeError {
    /// Not JSON, or JSON cut short; `column` is 1-based within the record.
    #[error("invalid JSON at column {column}: {message}")]
    Syntax { column: u32, message: String },
    /// Valid JSON whose shape does not fit the format it was detected as.
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
}

impl DecodeError {
    /// A stable code for machines (`decode.syntax`).
    pub fn code(&self) -> &'static str {
        match self {
            DecodeError::Syntax { .. } => "decode.syntax",
            DecodeError::Shape { .. } => "decode.shape",
            DecodeError::UnknownShape => "decode.unknown",
            DecodeError::Utf8 { .. } => "decode.utf8",
            DecodeError::TooLarge { .. } => "decode.too-large",
        }
    }

    /// 1-based column inside the record, 1 when the error is about the whole record.
    pub fn column(&self) -> u32 {
        match self {
            DecodeError::Syntax { column, .. }
            | DecodeError::Shape { column, .. }
            | DecodeError::Utf8 { column } => *column,
            DecodeError::UnknownShape | DecodeError::TooLarge { .. } => 1,
        }
    }

    /// Classify a serde_json error from decoding `source`: syntax errors and EOF mean the
    /// bytes are not JSON; data errors mean JSON of the wrong shape.
    pub(crate) fn from_json(format: Source, err: serde_json::Error) -> Self {
        let column = u32::try_from(err.column()).unwrap_or(u32::MAX).max(1);
        // serde_json appends " at line L column C"; the location is carried separately.
        let message = strip_location(&err.to_string());
        if err.is_data() {
            DecodeError::Shape {
                format,
                column,
                message,
            }
        } else {
            DecodeError::Syntax { column, message }
        }
    }
}

fn strip_location(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message.to_string(),
    }
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
}

static KEYS: LazyLock<Keys> = LazyLock::new(|| Keys {
    audit_id: Finder::new("\"auditID\":"),
    host_config: Finder::new("\"HostConfig\":"),
    actor: Finder::new("\"Actor\":"),
    action: Finder::new("\"Action\":"),
    status: Finder::new("\"status\":"),
    legacy_id: Finder::new("\"id\":"),
    from: Finder::new("\"from\":"),
});

/// Guess the format of one record from keys only that format has.
///
/// A key is matched with its closing quote and colon (`"auditID":`); inside a string
/// value those quotes would be escaped, so only keys match. Keys can still be chosen by
/// whoever writes a record (Docker labels are keys of `Attributes`), so detection is only
/// a first guess: [`decode`] tries the other formats when the guess does not decode.
pub fn detect(text: &str) -> Option<Source> {
    let bytes = text.as_bytes();
    let keys = &*KEYS;
    let has = |f: &Finder<'_>| f.find(bytes).is_some();
    // One key per format where one suffices, checked in an order that stops early: a
    // full scan of a 2 KB audit record for a second key costs as much as decoding it.
    if has(&keys.audit_id) {
        Some(Source::K8sAudit)
    } else if has(&keys.host_config) {
        Some(Source::DockerInspect)
    } else if (has(&keys.actor) && has(&keys.action))
        || (has(&keys.status) && has(&keys.legacy_id) && has(&keys.from))
    {
        Some(Source::DockerEvent)
    } else {
        None
    }
}

/// Decode one record's text as `source`.
pub fn decode_as(source: Source, text: &str) -> Result<Decoded<'_>, DecodeError> {
    match source {
        Source::DockerEvent => docker_events::decode(text),
        Source::DockerInspect => docker_inspect::decode(text),
        Source::K8sAudit => k8s_audit::decode(text),
    }
}

/// Detect and decode one record. When the detected format does not decode, the other
/// formats are tried before the first error is reported, so a record cannot be hidden
/// from its own decoder by carrying another format's keys (a Docker label named
/// `auditID`, say).
pub fn decode(text: &str) -> Result<Decoded<'_>, DecodeError> {
    match detect(text) {
        Some(source) => decode_as(source, text).or_else(|first| {
            Source::ALL
                .into_iter()
                .filter(|other| *other != source)
                .find_map(|other| decode_as(other, text).ok())
                .ok_or(first)
        }),
        None => {
            // Say "not JSON" rather than "unknown shape" when the bytes do not parse.
            match serde_json::from_str::<serde::de::IgnoredAny>(text) {
                Ok(_) => Err(DecodeError::UnknownShape),
                Err(e) => Err(DecodeError::Syntax {
                    column: u32::try_from(e.column()).unwrap_or(u32::MAX).max(1),
                    message: strip_location(&e.to_string()),
                }),
            }
        }
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
        let decoded = decode(event).expect("decoded as a Docker event");
        assert_eq!(decoded.event.source, Source::DockerEvent);
        assert_eq!(decoded.event.action, Action::ContainerExec);
    }

    #[test]
    fn unknown_json_and_non_json_are_told_apart() {
        assert_eq!(
            decode(r#"{"kind": 0}"#).unwrap_err(),
            DecodeError::UnknownShape
        );
        assert!(matches!(
            decode(r#"{"kind": "#),
            Err(DecodeError::Syntax { .. })
        ));
    }
}
