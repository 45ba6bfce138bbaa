//! Why a record could not be decoded, and where in it.
//!
//! Every error carries a 1-based column inside the record, so a diagnostic points at the
//! byte that broke the format; an error inside a nested JSON document (a request body, a
//! log line inside a wrapper) is located in the record it came from ([`DecodeError::nested`]).

use serde_json::value::RawValue;

use crate::model::Source;
use crate::normalize::text::offset_of;

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
        let message = json_message(&err);
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

    /// An error from decoding `part`, a JSON document inside the record `text` (a
    /// request body, a wrapped log line), located in the record: its column is counted
    /// in `text`, and its message names the `field` the part was read from.
    pub(crate) fn nested(
        text: &str,
        part: &RawValue,
        field: &str,
        format: Source,
        err: serde_json::Error,
    ) -> Self {
        let inner = part.get();
        // serde_json counts lines from 1 and columns from 1, in bytes.
        let line_start = match err.line() {
            0 | 1 => 0,
            n => inner
                .match_indices('\n')
                .nth(n - 2)
                .map_or(0, |(i, _)| i + 1),
        };
        let offset =
            (offset_of(text, inner) + line_start + err.column().saturating_sub(1)).min(text.len());
        let line_begin = text
            .get(..offset)
            .and_then(|t| t.rfind('\n'))
            .map_or(0, |i| i + 1);
        let column = u32::try_from(offset - line_begin + 1).unwrap_or(u32::MAX);
        let mut error = DecodeError::from_json(format, err);
        if let DecodeError::Shape {
            column: at,
            message,
            ..
        }
        | DecodeError::Syntax {
            column: at,
            message,
        } = &mut error
        {
            *at = column;
            message.insert_str(0, &format!("{field}: "));
        }
        error
    }

    /// An error that says something about the bytes themselves (cut short, too deep),
    /// which every other format would report the same way.
    pub(super) fn is_about_bytes(&self) -> bool {
        matches!(
            self,
            DecodeError::Syntax { .. } | DecodeError::TooDeep { .. }
        )
    }
}

/// What a serde_json error says, without the ` at line L column C` it appends: the
/// location is carried separately, counted in the whole record.
pub(crate) fn json_message(err: &serde_json::Error) -> String {
    let message = err.to_string();
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message,
    }
}

/// The 1-based column at which `part`, a slice of `text` (serde_json borrows raw values
/// from its input), begins; 1 when it is not a slice of it.
pub(crate) fn column_of(text: &str, part: &str) -> usize {
    offset_of(text, part) + 1
}
