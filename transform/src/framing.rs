//! Record boundaries: where one record of a file ends and the next begins.
//!
//! Framing is kept apart from decoding (vector's `framing/` vs `format/`): this module
//! only finds records and their 1-based line numbers, it never looks inside one. Two
//! shapes are recognised from the first non-whitespace byte of the whole input:
//!
//! - **JSON array** (`[`): the output of `docker inspect` or `kubectl get -o json`-style
//!   dumps, usually pretty-printed over many lines. Each element becomes one record.
//!   Several top-level arrays in a row (`docker inspect a >> f; docker inspect b >> f`)
//!   are read one after the other. Elements are split with borrowed
//!   [`RawValue`]s, so nothing inside them is parsed here, and each element is made
//!   single-line by turning its `\n` and `\r` bytes into spaces: a raw line break cannot
//!   occur inside a JSON string, so that only changes insignificant whitespace, and the
//!   element can then travel in an NDJSON batch. Its line number is the line its first
//!   byte is on.
//! - **Pretty-printed JSON objects** (`{` alone on the first line): a CloudTrail file
//!   or `kubectl get events -o json` written with indentation. Each top-level object
//!   becomes one record, made single-line the same way. NDJSON never starts with a
//!   lone `{` line, so this cannot take a log whose first record is merely cut short.
//! - **NDJSON** (anything else): one record per non-blank line, with a trailing `\r`
//!   removed. Records borrow from the input.
//!
//! A UTF-8 byte-order mark at the start of the input is skipped in both shapes.
//!
//! A malformed array cannot be split reliably past the first error, so framing stops
//! there with one [`FrameError`] carrying the error's line and column; the elements
//! read before it are still yielded. A malformed NDJSON line is not a framing problem:
//! it is a record like any other and the decoder reports it.
//!
//! [`batches`] groups the frames of one input into the batches the engine is called
//! with, so every caller batches alike and words a framing error alike
//! ([`FrameError::diagnostic`]).

use std::borrow::Cow;
use std::fmt;

use serde_json::value::RawValue;

use crate::api::{BatchOrigin, Diagnostic, Severity};

/// One record and where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame<'a> {
    /// 1-based line of the record's first byte in the input.
    pub line: u32,
    /// The record's bytes, always without line breaks.
    pub record: Cow<'a, [u8]>,
}

/// The input could not be split into records past this point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameError {
    /// 1-based.
    pub line: u32,
    /// 1-based.
    pub column: u32,
    pub message: String,
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid JSON at line {} column {}: {}",
            self.line, self.column, self.message
        )
    }
}

impl std::error::Error for FrameError {}

impl FrameError {
    /// A stable code for machines, in the family of the decoder's codes.
    pub fn code(&self) -> &'static str {
        "framing.syntax"
    }

    /// The error as a located diagnostic of `file`, whose line 1 is line
    /// `line_offset + 1`: the one wording of a framing error.
    pub fn diagnostic(&self, file: &str, line_offset: u32) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            code: self.code().to_string(),
            message: format!(
                "invalid JSON, the rest of the input is skipped: {}",
                self.message
            ),
            file: file.to_string(),
            line: line_offset.saturating_add(self.line),
            column: self.column,
        }
    }
}

/// The shape of a whole input, judged from its first non-whitespace byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    JsonArray,
    /// One or more pretty-printed top-level objects.
    JsonDocuments,
    Ndjson,
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The shape of `input`; an empty input is NDJSON (with no records).
pub fn shape(input: &[u8]) -> Shape {
    let body = input.strip_prefix(BOM).unwrap_or(input);
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'[') => Shape::JsonArray,
        Some(b'{') => {
            let first_line = body
                .split(|b| *b == b'\n')
                .find(|l| !l.iter().all(u8::is_ascii_whitespace))
                .unwrap_or_default();
            if first_line.trim_ascii() == b"{" {
                Shape::JsonDocuments
            } else {
                Shape::Ndjson
            }
        }
        _ => Shape::Ndjson,
    }
}

/// Split a whole input into records, in order.
pub fn frames(input: &[u8]) -> Frames<'_> {
    match shape(input) {
        Shape::Ndjson => Frames(Inner::Lines(Lines::new(input))),
        Shape::JsonArray => Frames(Inner::Array(split_arrays(input).into_iter())),
        Shape::JsonDocuments => Frames(Inner::Array(split_documents(input).into_iter())),
    }
}

/// The records of one input; see [`frames`].
#[derive(Debug)]
pub struct Frames<'a>(Inner<'a>);

#[derive(Debug)]
enum Inner<'a> {
    Lines(Lines<'a>),
    Array(std::vec::IntoIter<Result<Frame<'a>, FrameError>>),
}

impl<'a> Iterator for Frames<'a> {
    type Item = Result<Frame<'a>, FrameError>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.0 {
            Inner::Lines(lines) => lines.next().map(Ok),
            Inner::Array(items) => items.next(),
        }
    }
}

/// Records per batch when the caller has no other figure (`--batch`'s default).
pub const BATCH_RECORDS: usize = 256;

/// A batch is closed once its records reach this many bytes, whatever its record
/// count, so a batch of large records stays well inside the component's memory cap.
pub const MAX_BATCH_BYTES: usize = 4 << 20;

/// Records of one input on their way to the engine, with the line each starts on.
#[derive(Debug, Default)]
pub struct Batch<'a> {
    pub records: Vec<Cow<'a, [u8]>>,
    /// Line of each record in the input (with the offset [`batches`] was given).
    pub lines: Vec<u32>,
    /// Bytes of the records, a line break counted after each.
    pub bytes: usize,
}

impl<'a> Batch<'a> {
    /// The records as the engine's interface takes them.
    pub fn refs(&self) -> Vec<&[u8]> {
        self.records.iter().map(AsRef::as_ref).collect()
    }

    /// Where the batch comes from, for the engine's diagnostics and alerts.
    pub fn origin(&self, file: &str) -> BatchOrigin {
        BatchOrigin {
            file: file.to_string(),
            first_line: self.lines.first().copied().unwrap_or(1),
            lines: self.lines.clone(),
        }
    }

    fn push(&mut self, frame: Frame<'a>, line: u32) {
        self.bytes += frame.record.len() + 1;
        self.lines.push(line);
        self.records.push(frame.record);
    }
}

/// The frames of `input` in batches of at most `max_records` records, closed early
/// once they reach `max_bytes`. Line numbers are shifted by `line_offset` (the input
/// is a block starting at line `line_offset + 1` of a bigger file).
///
/// A framing error is yielded where it occurs, before the batch of the records read
/// before it (framing stops there, so that batch is the last).
pub fn batches(
    input: &[u8],
    max_records: usize,
    max_bytes: usize,
    line_offset: u32,
) -> Batches<'_> {
    Batches {
        frames: frames(input),
        max_records: max_records.max(1),
        max_bytes,
        line_offset,
        pending: Batch::default(),
        last_line: line_offset.saturating_add(1),
        records: 0,
        done: false,
    }
}

/// See [`batches`].
#[derive(Debug)]
pub struct Batches<'a> {
    frames: Frames<'a>,
    max_records: usize,
    max_bytes: usize,
    line_offset: u32,
    pending: Batch<'a>,
    last_line: u32,
    records: u64,
    done: bool,
}

impl Batches<'_> {
    /// The line of the last record framed so far (`line_offset + 1` before any): where
    /// what the engine still holds at the end of the input is placed.
    pub fn last_line(&self) -> u32 {
        self.last_line
    }

    /// Records framed so far, a framing error counted as one.
    pub fn records(&self) -> u64 {
        self.records
    }
}

impl<'a> Iterator for Batches<'a> {
    type Item = Result<Batch<'a>, FrameError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        for frame in self.frames.by_ref() {
            self.records += 1;
            match frame {
                Ok(frame) => {
                    let line = self.line_offset.saturating_add(frame.line);
                    self.last_line = line;
                    self.pending.push(frame, line);
                    if self.pending.records.len() >= self.max_records
                        || self.pending.bytes >= self.max_bytes
                    {
                        return Some(Ok(std::mem::take(&mut self.pending)));
                    }
                }
                Err(err) => return Some(Err(err)),
            }
        }
        self.done = true;
        (!self.pending.records.is_empty()).then(|| Ok(std::mem::take(&mut self.pending)))
    }
}

/// NDJSON: non-blank lines, borrowed.
#[derive(Debug)]
struct Lines<'a> {
    rest: &'a [u8],
    /// Line number of the first byte of `rest`.
    line: u32,
}

impl<'a> Lines<'a> {
    fn new(input: &'a [u8]) -> Self {
        Lines {
            rest: input.strip_prefix(BOM).unwrap_or(input),
            line: 1,
        }
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = Frame<'a>;

    fn next(&mut self) -> Option<Frame<'a>> {
        while !self.rest.is_empty() {
            let (line, rest) = match memchr::memchr(b'\n', self.rest) {
                Some(end) => (&self.rest[..end], &self.rest[end + 1..]),
                None => (self.rest, &[][..]),
            };
            let number = self.line;
            self.rest = rest;
            self.line = self.line.saturating_add(1);
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if !line.iter().all(u8::is_ascii_whitespace) {
                return Some(Frame {
                    line: number,
                    record: Cow::Borrowed(line),
                });
            }
        }
        None
    }
}

/// Split one or more top-level JSON arrays into their elements. Stops at the first
/// error, after the elements of the arrays that were complete.
fn split_arrays(input: &[u8]) -> Vec<Result<Frame<'_>, FrameError>> {
    let mut out = Vec::new();
    let mut lines = LineCounter::new(input);
    // serde_json rejects a byte-order mark: parse after it and shift offsets back.
    let (body, base) = match input.strip_prefix(BOM) {
        Some(body) => (body, BOM.len()),
        None => (input, 0),
    };
    let stream = serde_json::Deserializer::from_slice(body).into_iter::<Vec<&RawValue>>();
    for array in stream {
        match array {
            Ok(elements) => {
                for element in elements {
                    let raw = element.get().as_bytes();
                    let offset = base + (raw.as_ptr() as usize - body.as_ptr() as usize);
                    out.push(Ok(Frame {
                        line: lines.line_at(offset),
                        record: single_line(raw),
                    }));
                }
            }
            Err(err) => {
                let line = u32::try_from(err.line()).unwrap_or(u32::MAX).max(1);
                let column = u32::try_from(err.column()).unwrap_or(u32::MAX).max(1);
                out.push(Err(FrameError {
                    line,
                    column,
                    message: strip_location(&err.to_string()),
                }));
                break;
            }
        }
    }
    out
}

/// Split concatenated top-level JSON values (pretty-printed objects) into one record
/// each. Stops at the first error, after the values that were complete.
fn split_documents(input: &[u8]) -> Vec<Result<Frame<'_>, FrameError>> {
    let mut out = Vec::new();
    let mut lines = LineCounter::new(input);
    let (body, base) = match input.strip_prefix(BOM) {
        Some(body) => (body, BOM.len()),
        None => (input, 0),
    };
    let stream = serde_json::Deserializer::from_slice(body).into_iter::<&RawValue>();
    for value in stream {
        match value {
            Ok(value) => {
                let raw = value.get().as_bytes();
                let offset = base + (raw.as_ptr() as usize - body.as_ptr() as usize);
                out.push(Ok(Frame {
                    line: lines.line_at(offset),
                    record: single_line(raw),
                }));
            }
            Err(err) => {
                out.push(Err(FrameError {
                    line: u32::try_from(err.line()).unwrap_or(u32::MAX).max(1),
                    column: u32::try_from(err.column()).unwrap_or(u32::MAX).max(1),
                    message: strip_location(&err.to_string()),
                }));
                break;
            }
        }
    }
    out
}

/// Line numbers for increasing byte offsets, counted once over the input.
struct LineCounter<'a> {
    input: &'a [u8],
    offset: usize,
    line: u32,
}

impl<'a> LineCounter<'a> {
    fn new(input: &'a [u8]) -> Self {
        LineCounter {
            input,
            offset: 0,
            line: 1,
        }
    }

    /// The 1-based line of byte `offset`; offsets must not decrease between calls.
    fn line_at(&mut self, offset: usize) -> u32 {
        let offset = offset.min(self.input.len());
        if offset > self.offset {
            let newlines = memchr::memchr_iter(b'\n', &self.input[self.offset..offset]).count();
            self.line = self
                .line
                .saturating_add(u32::try_from(newlines).unwrap_or(u32::MAX));
            self.offset = offset;
        }
        self.line
    }
}

/// The element with its line breaks turned into spaces; borrowed when it had none.
fn single_line(raw: &[u8]) -> Cow<'_, [u8]> {
    if memchr::memchr2(b'\n', b'\r', raw).is_none() {
        return Cow::Borrowed(raw);
    }
    Cow::Owned(
        raw.iter()
            .map(|&b| if b == b'\n' || b == b'\r' { b' ' } else { b })
            .collect(),
    )
}

/// serde_json appends " at line L column C"; the position is carried separately.
fn strip_location(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(input: &str) -> Vec<Result<(u32, String), FrameError>> {
        frames(input.as_bytes())
            .map(|f| f.map(|f| (f.line, String::from_utf8(f.record.into_owned()).unwrap())))
            .collect()
    }

    fn ok(line: u32, text: &str) -> Result<(u32, String), FrameError> {
        Ok((line, text.to_string()))
    }

    #[test]
    fn ndjson_lines_keep_exact_numbers_and_skip_blanks() {
        let input = "{\"a\":1}\n\n  \n{\"b\":2}\r\n{\"c\":3}";
        assert_eq!(
            collect(input),
            vec![ok(1, "{\"a\":1}"), ok(4, "{\"b\":2}"), ok(5, "{\"c\":3}")]
        );
    }

    #[test]
    fn pretty_printed_objects_are_one_record_each() {
        let input = "{\n  \"Records\": [\n    {\"eventName\": \"RunTask\"}\n  ]\n}\n{\n  \"kind\": \"EventList\"\n}\n";
        assert_eq!(shape(input.as_bytes()), Shape::JsonDocuments);
        assert_eq!(
            collect(input),
            vec![
                ok(
                    1,
                    "{   \"Records\": [     {\"eventName\": \"RunTask\"}   ] }"
                ),
                ok(6, "{   \"kind\": \"EventList\" }"),
            ]
        );
    }

    #[test]
    fn an_ndjson_log_whose_first_record_is_cut_short_stays_ndjson() {
        let input = "{\"kind\": \n{\"a\":1}\n";
        assert_eq!(shape(input.as_bytes()), Shape::Ndjson);
        assert_eq!(
            collect(input),
            vec![ok(1, "{\"kind\": "), ok(2, "{\"a\":1}")]
        );
    }

    #[test]
    fn ndjson_records_borrow() {
        let input = b"{\"a\":1}\n{\"b\":2}\n";
        assert!(frames(input).all(|f| matches!(f.unwrap().record, Cow::Borrowed(_))));
    }

    #[test]
    fn empty_and_blank_inputs_have_no_records() {
        assert!(collect("").is_empty());
        assert!(collect("\n \r\n\t\n").is_empty());
    }

    #[test]
    fn malformed_ndjson_line_is_still_a_record() {
        assert_eq!(
            collect("{\"a\":\nnot json\n"),
            vec![ok(1, "{\"a\":"), ok(2, "not json")]
        );
    }

    #[test]
    fn bom_is_skipped() {
        assert_eq!(
            collect("\u{feff}{\"a\":1}\n{\"b\":2}"),
            vec![ok(1, "{\"a\":1}"), ok(2, "{\"b\":2}")]
        );
        assert_eq!(
            collect("\u{feff}[{\"a\":1},\n{\"b\":2}]"),
            vec![ok(1, "{\"a\":1}"), ok(2, "{\"b\":2}")]
        );
    }

    #[test]
    fn pretty_array_elements_become_single_lines_with_their_start_line() {
        let input = "[\n  {\n    \"Id\": \"abc\",\n    \"Name\": \"/web\"\n  },\r\n  {\n    \"Id\": \"def\"\n  }\n]\n";
        let got = collect(input);
        assert_eq!(
            got,
            vec![
                ok(2, "{     \"Id\": \"abc\",     \"Name\": \"/web\"   }"),
                ok(6, "{     \"Id\": \"def\"   }"),
            ]
        );
        for (_, text) in got.into_iter().map(Result::unwrap) {
            let value: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert!(value.is_object());
        }
    }

    #[test]
    fn array_detected_after_leading_whitespace() {
        assert_eq!(shape(b"  \n [1]"), Shape::JsonArray);
        assert_eq!(shape(b"{\"a\":[1]}"), Shape::Ndjson);
        assert_eq!(
            collect("\n\n  [{\"a\":1}, {\"b\":2}]"),
            vec![ok(3, "{\"a\":1}"), ok(3, "{\"b\":2}")]
        );
    }

    #[test]
    fn escaped_newlines_inside_strings_are_untouched() {
        let input = "[{\"msg\":\"a\\nb\"},\n{\"x\":1}]";
        assert_eq!(
            collect(input),
            vec![ok(1, "{\"msg\":\"a\\nb\"}"), ok(2, "{\"x\":1}")]
        );
    }

    #[test]
    fn single_line_elements_borrow() {
        let input = b"[\n{\"a\":1},\n{\"b\":2}\n]";
        assert!(frames(input).all(|f| matches!(f.unwrap().record, Cow::Borrowed(_))));
    }

    #[test]
    fn empty_array_has_no_records() {
        assert!(collect("[]").is_empty());
        assert!(collect(" [ \n ] \n").is_empty());
    }

    #[test]
    fn consecutive_arrays_are_read_in_order() {
        let input = "[{\"a\":1}]\n[\n {\"b\":2},\n {\"c\":3}\n]\n";
        assert_eq!(
            collect(input),
            vec![ok(1, "{\"a\":1}"), ok(3, "{\"b\":2}"), ok(4, "{\"c\":3}")]
        );
    }

    #[test]
    fn malformed_array_yields_one_located_error_after_good_arrays() {
        let input = "[{\"a\":1}]\n[\n  {\"b\":2},\n  {\"c\": }\n]\n";
        let got = collect(input);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0], ok(1, "{\"a\":1}"));
        let err = got[1].clone().unwrap_err();
        assert_eq!((err.line, err.column), (4, 9));
        assert!(!err.message.contains(" at line "), "{}", err.message);
        assert_eq!(
            err.to_string(),
            format!("invalid JSON at line 4 column 9: {}", err.message)
        );
    }

    #[test]
    fn truncated_array_is_an_error() {
        let got = collect("[\n{\"a\":1},\n{\"b\":2}");
        assert_eq!(got.len(), 1);
        let err = got[0].clone().unwrap_err();
        assert_eq!(err.line, 3);
        assert_eq!(err.code(), "framing.syntax");
    }

    #[test]
    fn trailing_garbage_after_array_is_an_error() {
        let got = collect("[{\"a\":1}]\nxyz\n");
        assert_eq!(got[0], ok(1, "{\"a\":1}"));
        assert_eq!(got[1].clone().unwrap_err().line, 2);
    }

    /// Each batch as (lines, records), an error as its diagnostic's text.
    fn batched(input: &str, records: usize, bytes: usize, offset: u32) -> Vec<String> {
        batches(input.as_bytes(), records, bytes, offset)
            .map(|b| match b {
                Ok(b) => format!(
                    "{:?} {}",
                    b.lines,
                    String::from_utf8(b.records.join(&b' ')).unwrap()
                ),
                Err(e) => e.diagnostic("f.json", offset).to_string(),
            })
            .collect()
    }

    #[test]
    fn batches_close_at_their_record_count_or_byte_size() {
        let input = "{\"a\":1}\n{\"b\":2}\n\n{\"c\":3}\n";
        assert_eq!(
            batched(input, 2, usize::MAX, 0),
            ["[1, 2] {\"a\":1} {\"b\":2}", "[4] {\"c\":3}"]
        );
        // Each record is 8 bytes with its line break: the second one reaches 16.
        assert_eq!(
            batched(input, 100, 16, 10),
            ["[11, 12] {\"a\":1} {\"b\":2}", "[14] {\"c\":3}"]
        );
        assert!(batched("\n \n", 2, 16, 0).is_empty());
    }

    #[test]
    fn a_framing_error_comes_before_the_records_read_before_it() {
        let input = "[{\"a\":1},\n {\"b\":2}]\n[{\"c\" 3}]";
        assert_eq!(
            batched(input, 256, usize::MAX, 4),
            [
                "f.json:7:7: error[framing.syntax]: invalid JSON, the rest of the input is \
                 skipped: expected `:`",
                "[5, 6] {\"a\":1} {\"b\":2}"
            ]
        );
        let mut all = batches(input.as_bytes(), 256, usize::MAX, 4);
        all.by_ref().for_each(drop);
        assert_eq!((all.records(), all.last_line()), (3, 6));
    }
}
