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

/// Guess the format of one record from keys only that format has.
///
/// A key is only matched with its closing quote and colon (`"auditID":`), which cannot
/// occur inside a JSON string value, so label values cannot steer detection.
pub fn detect(text: &str) -> Option<Source> {
    let has = |key: &str| memchr::memmem::find(text.as_bytes(), key.as_bytes()).is_some();
    if has("\"auditID\":") && (has("\"stage\":") || has("\"verb\":")) {
        Some(Source::K8sAudit)
    } else if has("\"HostConfig\":") && has("\"Id\":") {
        Some(Source::DockerInspect)
    } else if (has("\"Actor\":") && has("\"Action\":"))
        || (has("\"status\":") && has("\"id\":") && has("\"from\":"))
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

/// Detect and decode one record.
pub fn decode(text: &str) -> Result<Decoded<'_>, DecodeError> {
    match detect(text) {
        Some(source) => decode_as(source, text),
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
