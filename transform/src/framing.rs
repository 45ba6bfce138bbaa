//! Record boundaries: where one record of a file ends and the next begins.
//!
//! Framing is kept apart from decoding (vector's `framing/` vs `format/`): this module
//! finds records and their 1-based line numbers and looks inside a record only to find
//! the elements of a batch. Framing follows the JSON, not the lines, record by record,
//! so one input may mix shapes:
//!
//! - **NDJSON and text lines**: a line that does not start with `{` or `[`, or that is
//!   one whole JSON object, is one record (a trailing `\r` removed). Records borrow
//!   from the input. A line is taken as a whole object from its first and last bytes
//!   (`{` ... `}`) without being parsed: the decoder parses it, once.
//! - **JSON values over several lines** (`{` or `[` that do not close on their line):
//!   pretty-printed objects (`kubectl get -o json`, `aws ... --output json`), each one
//!   record, made single-line by turning its `\n` and `\r` bytes into spaces (a raw line
//!   break cannot occur inside a JSON string, so that only changes insignificant
//!   whitespace, and the record can then travel in an NDJSON batch).
//! - **Concatenated values** (`{...}{...}`, `}` and the next `{` on one line): one
//!   record each, each on the line its first byte is on.
//! - **Top-level arrays** (`[`, on one line or many: `docker inspect`, `az monitor
//!   activity-log list`, `gcloud ... --format json`): each element is one record.
//!   Several arrays in a row (`docker inspect a >> f; docker inspect b >> f`) are read
//!   one after the other.
//! - **Batch wrappers**: an object with a member [`BATCH_KEYS`] whose value is an array
//!   (`{"Records":[...]}` of a CloudTrail log file, `{"records":[...]}` of an Azure
//!   Event Hub or Storage batch, `{"items":[...]}` of a Kubernetes list or an audit
//!   webhook `EventList`, `{"Events":[...]}` of `aws cloudtrail lookup-events`): each
//!   element is one record with the line its first byte is on, whether the elements
//!   sit on one line or many. The wrapper's other members are not records and are
//!   dropped. On one line, a wrapper is recognised when that member comes first
//!   (`{"Records":[`), as these producers write it; anywhere when it spans lines.
//!
//! Elements are found with borrowed [`RawValue`]s: nothing inside them is parsed here,
//! and frames are produced lazily, one element at a time, so a huge wrapper costs the
//! input and one slice per element, never a copy of the whole.
//!
//! A UTF-8 byte-order mark at the start of the input is skipped.
//!
//! A value that does not parse is handled by how it began. When its first line opens a
//! document (it ends with `{` or `[`: `{`, `[`, `{"Records": [`), the document cannot be
//! split reliably past the error, so framing stops there with one [`FrameError`]
//! carrying the error's line and column; the elements read before it are still
//! yielded. Otherwise the first line is taken as one record (an NDJSON line cut short,
//! a text line that starts with `[`) and framing goes on with the next line: a
//! malformed record is not a framing problem, the decoder reports it.
//!
//! [`batches`] groups the frames of one input into the batches the engine is called
//! with, so every caller batches alike and words a framing error alike
//! ([`FrameError::diagnostic`]).

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
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

/// Members of an object whose array value is a batch of records: the elements are
/// framed as records of their own (see the module's documentation).
pub const BATCH_KEYS: &[&str] = &["Records", "records", "items", "Events"];

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Split a whole input into records, in order.
pub fn frames(input: &[u8]) -> Frames<'_> {
    let body = input.strip_prefix(BOM).unwrap_or(input);
    Frames {
        body,
        pos: 0,
        lines: LineCounter::new(body),
        elements: Vec::new().into_iter(),
        stopped: None,
        done: false,
    }
}

/// The records of one input; see [`frames`].
#[derive(Debug)]
pub struct Frames<'a> {
    body: &'a [u8],
    /// Where the next record is looked for.
    pos: usize,
    lines: LineCounter<'a>,
    /// The elements of the array or batch being read, not yet yielded.
    elements: std::vec::IntoIter<&'a RawValue>,
    /// The error framing stopped at, yielded after those elements.
    stopped: Option<FrameError>,
    done: bool,
}

impl<'a> Iterator for Frames<'a> {
    type Item = Result<Frame<'a>, FrameError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(element) = self.elements.next() {
                return Some(Ok(self.frame(element.get().as_bytes())));
            }
            if self.done {
                return self.stopped.take().map(Err);
            }
            let from = self.pos;
            let Some(skip) = self.body[from..]
                .iter()
                .position(|b| !b.is_ascii_whitespace())
            else {
                self.done = true;
                return None;
            };
            let start = from + skip;
            let line_end =
                memchr::memchr(b'\n', &self.body[start..]).map_or(self.body.len(), |n| start + n);
            let line = self.body[start..line_end].trim_ascii_end();
            if !matches!(line[0], b'{' | b'[') || is_whole_object(line) {
                // The record is the whole line, as it was written, from its line's start
                // (or the end of the value before it on the same line).
                let begin =
                    memchr::memrchr(b'\n', &self.body[from..start]).map_or(from, |n| from + n + 1);
                return Some(Ok(self.line_record(begin, line_end)));
            }
            match parse_value(&self.body[start..]) {
                Ok((value, len)) => {
                    let end = start + len;
                    if let Some(junk) = self.junk_after(end) {
                        match (
                            self.unparsed(start, line_end, line, Location::Trailing(junk)),
                            value,
                        ) {
                            // A document's elements were whole: records, then the error.
                            (Err(err), Value::Elements(elements)) => {
                                self.elements = elements.into_iter();
                                self.stopped = Some(err);
                                continue;
                            }
                            (result, _) => return Some(result),
                        }
                    }
                    self.pos = end;
                    match value {
                        Value::Elements(elements) => self.elements = elements.into_iter(),
                        Value::Object => {
                            let body = self.body;
                            return Some(Ok(self.frame(&body[start..end])));
                        }
                    }
                }
                Err(err) => {
                    return Some(self.unparsed(start, line_end, line, Location::Parsed(err)));
                }
            }
        }
    }
}

/// Where a value that began at some offset stopped parsing.
enum Location {
    /// serde_json's error, located relative to the value's start.
    Parsed(serde_json::Error),
    /// Bytes that are not a value's end follow it on its last line.
    Trailing(usize),
}

impl<'a> Frames<'a> {
    /// One value or element, made single-line, on the line its first byte is on.
    fn frame(&mut self, raw: &'a [u8]) -> Frame<'a> {
        let offset = raw.as_ptr() as usize - self.body.as_ptr() as usize;
        Frame {
            line: self.lines.line_at(offset),
            record: single_line(raw),
        }
    }

    /// The bytes `begin..line_end` as one record (a trailing `\r` removed), framing
    /// going on after the line.
    fn line_record(&mut self, begin: usize, line_end: usize) -> Frame<'a> {
        let body = self.body;
        let text = &body[begin..line_end];
        self.pos = (line_end + 1).min(body.len());
        Frame {
            line: self.lines.line_at(begin),
            record: Cow::Borrowed(text.strip_suffix(b"\r").unwrap_or(text)),
        }
    }

    /// The offset of what follows a value ending at `end` on its last line when that is
    /// neither whitespace nor the start of another value.
    fn junk_after(&self, end: usize) -> Option<usize> {
        let rest = &self.body[end..];
        let next = rest
            .iter()
            .position(|b| !matches!(b, b' ' | b'\t' | b'\r'))?;
        (!matches!(rest[next], b'\n' | b'{' | b'[')).then_some(end + next)
    }

    /// A value starting at `start`, whose first line is `line`, did not parse. A
    /// document stops framing with a located error; any other value's first line is one
    /// record.
    fn unparsed(
        &mut self,
        start: usize,
        line_end: usize,
        line: &[u8],
        at: Location,
    ) -> Result<Frame<'a>, FrameError> {
        if matches!(line.last(), Some(b'{' | b'[')) {
            self.done = true;
            return Err(self.error(start, at));
        }
        let begin = memchr::memrchr(b'\n', &self.body[..start]).map_or(0, |n| n + 1);
        Ok(self.line_record(begin.max(self.pos), line_end))
    }

    fn error(&mut self, start: usize, at: Location) -> FrameError {
        let line_start =
            |offset: usize| memchr::memrchr(b'\n', &self.body[..offset]).map_or(0, |n| n + 1);
        match at {
            Location::Parsed(err) => {
                let first = self.lines.line_at(start);
                let line = u32::try_from(err.line()).unwrap_or(u32::MAX).max(1);
                let mut column = u32::try_from(err.column()).unwrap_or(u32::MAX).max(1);
                if line == 1 {
                    let shift = u32::try_from(start - line_start(start)).unwrap_or(u32::MAX);
                    column = column.saturating_add(shift);
                }
                FrameError {
                    line: first.saturating_add(line - 1),
                    column,
                    message: strip_location(&err.to_string()),
                }
            }
            Location::Trailing(offset) => FrameError {
                // Elements before `offset` may still be framed: the counter stays.
                line: self.lines.peek(offset),
                column: u32::try_from(offset - line_start(offset) + 1).unwrap_or(u32::MAX),
                message: "trailing characters".to_string(),
            },
        }
    }
}

/// A line that is one whole object, known without parsing it: `{` ... `}`, not a batch
/// wrapper and not two objects in a row.
fn is_whole_object(line: &[u8]) -> bool {
    line.first() == Some(&b'{')
        && line.last() == Some(&b'}')
        && !opens_batch(line)
        && memchr::memmem::find(line, b"}{").is_none()
}

/// `{"Records": [`, a batch key first, as a CloudTrail log file or an Event Hub batch
/// begins.
fn opens_batch(line: &[u8]) -> bool {
    let Some(rest) = line.strip_prefix(b"{") else {
        return false;
    };
    let rest = rest.trim_ascii_start();
    BATCH_KEYS.iter().any(|key| {
        rest.strip_prefix(b"\"")
            .and_then(|r| r.strip_prefix(key.as_bytes()))
            .and_then(|r| r.strip_prefix(b"\""))
            .map(|r| r.trim_ascii_start())
            .and_then(|r| r.strip_prefix(b":"))
            .is_some_and(|r| r.trim_ascii_start().starts_with(b"["))
    })
}

/// A top-level value as framing sees it.
enum Value<'a> {
    /// An array's elements, or the elements of a batch wrapper.
    Elements(Vec<&'a RawValue>),
    /// Any other object: one record.
    Object,
}

/// The value at the start of `text` and its length in bytes.
fn parse_value(text: &[u8]) -> Result<(Value<'_>, usize), serde_json::Error> {
    let mut stream = serde_json::Deserializer::from_slice(text).into_iter::<Value<'_>>();
    match stream.next() {
        Some(Ok(value)) => Ok((value, stream.byte_offset())),
        Some(Err(err)) => Err(err),
        None => Err(de::Error::custom("expected a JSON value")),
    }
}

impl<'de> Deserialize<'de> for Value<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TopVisitor)
    }
}

struct TopVisitor;

impl<'de> Visitor<'de> for TopVisitor {
    type Value = Value<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object or array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        Elements
            .visit_seq(seq)
            .map(|e| Value::Elements(e.unwrap_or_default()))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut batch = None;
        while let Some(BatchKey(is_batch)) = map.next_key()? {
            if is_batch && batch.is_none() {
                batch = map.next_value_seed(Elements)?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(batch.map_or(Value::Object, Value::Elements))
    }
}

/// Whether a member's name is one of [`BATCH_KEYS`], read without allocating.
struct BatchKey(bool);

impl<'de> Deserialize<'de> for BatchKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = BatchKey;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_str<E: de::Error>(self, key: &str) -> Result<BatchKey, E> {
                Ok(BatchKey(BATCH_KEYS.contains(&key)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// A batch member's value: its elements when it is an array, `None` (the value skipped)
/// when it is anything else.
struct Elements;

impl<'de> de::DeserializeSeed<'de> for Elements {
    type Value = Option<Vec<&'de RawValue>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Elements {
    type Value = Option<Vec<&'de RawValue>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut elements = Vec::new();
        while let Some(element) = seq.next_element::<&'de RawValue>()? {
            elements.push(element);
        }
        Ok(Some(elements))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
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

/// Line numbers for increasing byte offsets, counted once over the input.
#[derive(Debug)]
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

    /// The line of byte `offset` (not before the last one asked of
    /// [`line_at`](Self::line_at)), leaving the count where it was.
    fn peek(&self, offset: usize) -> u32 {
        let offset = offset.min(self.input.len()).max(self.offset);
        let newlines = memchr::memchr_iter(b'\n', &self.input[self.offset..offset]).count();
        self.line
            .saturating_add(u32::try_from(newlines).unwrap_or(u32::MAX))
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
        let input = "{\n  \"kind\": \"Pod\",\n  \"spec\": {}\n}\n{\n  \"kind\": \"EventList\"\n}\n";
        assert_eq!(
            collect(input),
            vec![
                ok(1, "{   \"kind\": \"Pod\",   \"spec\": {} }"),
                ok(5, "{   \"kind\": \"EventList\" }"),
            ]
        );
    }

    #[test]
    fn an_ndjson_log_whose_first_record_is_cut_short_stays_ndjson() {
        let input = "{\"kind\": \n{\"a\":1}\n{\"b\":2}\n";
        assert_eq!(
            collect(input),
            vec![ok(1, "{\"kind\": "), ok(2, "{\"a\":1}"), ok(3, "{\"b\":2}")]
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
        assert_eq!(collect("{\"a\":[1]}"), vec![ok(1, "{\"a\":[1]}")]);
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
    fn a_text_line_after_an_array_is_a_record() {
        assert_eq!(
            collect("[{\"a\":1}]\nxyz\n"),
            vec![ok(1, "{\"a\":1}"), ok(2, "xyz")]
        );
    }

    #[test]
    fn trailing_garbage_after_a_document_is_an_error() {
        let got = collect("[\n{\"a\":1}\n] xyz\n{\"b\":2}\n");
        assert_eq!(got[0], ok(2, "{\"a\":1}"));
        let err = got[1].clone().unwrap_err();
        assert_eq!((err.line, err.column), (3, 3));
        assert_eq!(err.message, "trailing characters");
        assert_eq!(got.len(), 2);
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
        let input = "[{\"a\":1},\n {\"b\":2}]\n[\n{\"c\" 3}]";
        assert_eq!(
            batched(input, 256, usize::MAX, 4),
            [
                "f.json:8:6: error[framing.syntax]: invalid JSON, the rest of the input is \
                 skipped: expected `:`",
                "[5, 6] {\"a\":1} {\"b\":2}"
            ]
        );
        let mut all = batches(input.as_bytes(), 256, usize::MAX, 4);
        all.by_ref().for_each(drop);
        assert_eq!((all.records(), all.last_line()), (3, 6));
    }

    #[test]
    fn a_cloudtrail_file_with_records_on_their_own_lines() {
        let input =
            "{\"Records\":[\n{\"eventName\":\"RunTask\"},\n{\"eventName\":\n  \"ListTasks\"}\n]}\n";
        assert_eq!(
            collect(input),
            vec![
                ok(2, "{\"eventName\":\"RunTask\"}"),
                ok(3, "{\"eventName\":   \"ListTasks\"}"),
            ]
        );
    }

    #[test]
    fn batch_wrappers_yield_their_elements_on_one_line_or_many() {
        // Each wrapper as its producer writes it; other members are dropped.
        let one_line = "{\"records\": [{\"a\":1}, {\"b\":2}]}\n{\"Records\":[]}\n";
        assert_eq!(
            collect(one_line),
            vec![ok(1, "{\"a\":1}"), ok(1, "{\"b\":2}")]
        );
        let lookup = "{\n    \"Events\": [\n        {\n            \"EventId\": \"e1\"\n        },\n        {\"EventId\": \"e2\"}\n    ],\n    \"NextToken\": \"t\"\n}\n";
        assert_eq!(
            collect(lookup),
            vec![
                ok(3, "{             \"EventId\": \"e1\"         }"),
                ok(6, "{\"EventId\": \"e2\"}"),
            ]
        );
        let list = "{\n \"apiVersion\": \"audit.k8s.io/v1\",\n \"kind\": \"EventList\",\n \"items\": [\n  {\"auditID\": \"x\"}\n ]\n}";
        assert_eq!(collect(list), vec![ok(5, "{\"auditID\": \"x\"}")]);
        // A batch key that is not first on a one-line record leaves it whole, for the
        // decoder; an object member of that name is no batch.
        for whole in [
            "{\"kind\":\"EventList\",\"items\":[{\"a\":1}]}",
            "{\"Records\":{\"a\":1}}",
        ] {
            assert_eq!(collect(whole), vec![ok(1, whole)]);
        }
        assert_eq!(
            collect("{\n\"records\": {\"a\": [1]}\n}"),
            vec![ok(1, "{ \"records\": {\"a\": [1]} }")]
        );
    }

    #[test]
    fn concatenated_values_are_one_record_each() {
        let input = "{\"a\":1}{\"b\":2}\n{\n \"c\":3\n}{\"d\":4} [{\"e\":5}]\n";
        assert_eq!(
            collect(input),
            vec![
                ok(1, "{\"a\":1}"),
                ok(1, "{\"b\":2}"),
                ok(2, "{  \"c\":3 }"),
                ok(4, "{\"d\":4}"),
                ok(4, "{\"e\":5}"),
            ]
        );
    }

    #[test]
    fn text_lines_keep_their_text_whatever_they_start_with() {
        let input = "  indented line\n[info] starting [1]\n[1] x\n{not json\ntime=\"t\" msg=x\n";
        assert_eq!(
            collect(input),
            vec![
                ok(1, "  indented line"),
                ok(2, "[info] starting [1]"),
                ok(3, "[1] x"),
                ok(4, "{not json"),
                ok(5, "time=\"t\" msg=x"),
            ]
        );
    }

    #[test]
    fn shapes_mix_in_one_input() {
        let input = "{\"a\":1}\n[\n {\"b\":2}\n]\n{\n \"c\": 3\n}\n{\"d\":4}\n";
        assert_eq!(
            collect(input),
            vec![
                ok(1, "{\"a\":1}"),
                ok(3, "{\"b\":2}"),
                ok(5, "{  \"c\": 3 }"),
                ok(8, "{\"d\":4}"),
            ]
        );
    }

    #[test]
    fn a_huge_batch_is_framed_element_by_element_without_copies() {
        let mut input = String::from("{\"Records\":[\n");
        for i in 0..10_000 {
            input.push_str(&format!("{{\"eventID\":\"{i}\"}},\n"));
        }
        input.push_str("{\"eventID\":\"last\"}\n]}\n");
        let mut count = 0;
        for (i, frame) in frames(input.as_bytes()).enumerate() {
            let frame = frame.unwrap();
            assert_eq!(frame.line as usize, i + 2);
            assert!(matches!(frame.record, Cow::Borrowed(_)));
            count += 1;
        }
        assert_eq!(count, 10_001);
    }
}
