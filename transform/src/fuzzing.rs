//! Entry points for the fuzz targets (`fuzz/`) and their regression tests
//! (`transform/tests/fuzz_regressions.rs`). Not part of the engine's API.
//!
//! Each function takes arbitrary bytes, drives one layer of the engine the way a host
//! does (a decoder with its stream state, framing, the pack loader, [`Detector::process`])
//! and checks the promises a caller relies on: bad input comes back as a located error,
//! every record gets exactly one outcome, what the engine renders is JSON. A broken
//! promise panics, which is what a fuzzer reports; the return value says what the input
//! came to, for tests to assert on.

use std::borrow::Cow;

use serde::de::IgnoredAny;

use crate::Detector;
use crate::api::{
    AlertFormat, BatchOrigin, BatchResult, Diagnostic, Options, PackFile, PackInfo, Severity,
};
use crate::decode::docker::api::ApiCall;
use crate::decode::docker::create_body::{CreateBody, ExecBody};
use crate::decode::{self, Context, DecodeError, Decoded, StreamState};
use crate::emit;
use crate::framing::{self, FrameError};
use crate::model::{Action, Event, Source};
use crate::normalize::cli;
use crate::normalize::text::split_shell;

/// The file name the entry points give their input, as a host gives a file's.
pub const FILE: &str = "fuzz-input";

/// What one record (a non-blank line) of an input came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// Decoded, as `source`, to this many events (none for an auditd line whose event is
    /// still incomplete).
    Decoded { source: Source, events: usize },
    /// Reported; the stream went on.
    Failed(DecodeError),
}

/// Decode every non-blank line of `input` in order, carrying stream state from line to
/// line as the engine does, then flush what is still pending. `source` forces a decoder
/// (`decode_as`, what `force_source` does); `None` detects each record's format, trying
/// the other decoders and shippers' wrappers (`decode`). `vpc_flow_format` is the
/// configured VPC flow log format.
///
/// The returned records are one per non-blank line; the events flushed at the end are
/// counted in the second value.
pub fn decode_lines(
    source: Option<Source>,
    input: &[u8],
    vpc_flow_format: Option<&str>,
) -> (Vec<Record>, usize) {
    let mut state = StreamState::default();
    let ctx = Context {
        file: FILE,
        vpc_flow_format,
    };
    let mut records = Vec::new();
    for (index, line) in input.split(|b| *b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let line_no = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let text = match std::str::from_utf8(line) {
            Ok(text) => text.strip_suffix('\r').unwrap_or(text),
            Err(e) => {
                let column = u32::try_from(e.valid_up_to() + 1).unwrap_or(u32::MAX);
                records.push(Record::Failed(DecodeError::Utf8 { column }));
                continue;
            }
        };
        let result = match source {
            Some(source) => decode::decode_as(source, text, &mut state, &ctx),
            None => decode::decode(text, &mut state, &ctx),
        };
        records.push(match result {
            Ok(record) => {
                for decoded in &record.events {
                    check_event(decoded, line_no);
                }
                Record::Decoded {
                    source: record.source,
                    events: record.events.len(),
                }
            }
            Err(err) => {
                check_error(&err);
                Record::Failed(err)
            }
        });
    }
    let flushed = state.flush();
    for decoded in &flushed {
        check_event(decoded, 1);
    }
    (records, flushed.len())
}

/// VPC flow logs twice: `input` as records in the default format (or behind their own
/// header line), then its first line as the configured format and the rest as records.
pub fn vpc_flow(input: &[u8]) -> Vec<Record> {
    let (mut records, _) = decode_lines(Some(Source::VpcFlow), input, None);
    if let Some(at) = input.iter().position(|b| *b == b'\n')
        && let Ok(format) = std::str::from_utf8(&input[..at])
    {
        records.extend(decode_lines(Some(Source::VpcFlow), &input[at + 1..], Some(format)).0);
    }
    records
}

/// Zeek lines as `conn.log` and as `dns.log`.
pub fn zeek(input: &[u8]) -> Vec<Record> {
    let (mut records, _) = decode_lines(Some(Source::ZeekConn), input, None);
    records.extend(decode_lines(Some(Source::ZeekDns), input, None).0);
    records
}

/// An event is what the engine will render: its enrichment document must be JSON.
fn check_event(decoded: &Decoded<'_>, line: u32) {
    let doc = emit::enrichment(&decoded.event, FILE, line);
    assert_json(&doc, "enrichment");
}

/// A decode error is located inside the record (or at its end).
fn check_error(err: &DecodeError) {
    let column = err.column();
    assert!(column >= 1, "{err:?}: columns are 1-based");
    assert!(
        !err.to_string().is_empty(),
        "{err:?}: an error says what is wrong"
    );
    assert!(!err.code().is_empty());
}

fn assert_json(text: &str, what: &str) {
    if let Err(e) = serde_json::from_str::<IgnoredAny>(text) {
        panic!("{what} is not JSON ({e}): {text}");
    }
}

/// Normalize a command line as a process start, the way auditd, Falco and Tetragon
/// records are: split into words (and, separately, at NUL bytes as an `EXECVE` argv), and
/// read as a container CLI invocation. Returns the actions it was read as.
pub fn command_line(input: &[u8]) -> Vec<Action> {
    let text = String::from_utf8_lossy(input);
    let line: Cow<'_, str> = Cow::Borrowed(&text);
    let words = split_shell(&line);
    let argv: Vec<Cow<'_, str>> = text.split('\0').map(Cow::Borrowed).collect();
    let mut actions = Vec::new();
    for args in [&words, &argv] {
        let mut event = Event::new(Source::Auditd, Action::ProcessStart, "execve");
        if cli::apply(&mut event, args) {
            assert_json(&emit::enrichment(&event, FILE, 1), "enrichment");
            actions.push(event.action);
        }
    }
    actions
}

/// Read a Docker Engine API request: the first line is the method, the rest the URI.
/// Returns the route it was read as.
pub fn docker_api(input: &[u8]) -> String {
    let text = String::from_utf8_lossy(input);
    let (method, uri) = text.split_once('\n').unwrap_or(("POST", &text));
    let call = ApiCall::parse(method, uri);
    let _ = call.endpoint.action();
    let _ = call.endpoint.needs_body();
    for key in ["name", "fromImage", "tag", "all", "force"] {
        let _ = call.param(key);
    }
    let _ = call.container();
    let _ = call.pulled_image();
    call.route
}

/// Read a container create body and an exec body, as the authorization plugin and
/// dockerd's debug log carry them. Returns which of the two the bytes were.
pub fn docker_create_body(input: &[u8]) -> (bool, bool) {
    let Ok(text) = std::str::from_utf8(input) else {
        return (false, false);
    };
    let create = serde_json::from_str::<CreateBody<'_>>(text).map(|body| {
        let (workload, container) = body.into_container(Some(Cow::Borrowed("fuzz")));
        let mut event = Event::new(Source::DockerAuthz, Action::ContainerCreate, "create");
        event.workload = workload;
        event.containers.push(container);
        assert_json(&emit::enrichment(&event, FILE, 1), "enrichment");
    });
    let exec = serde_json::from_str::<ExecBody<'_>>(text).map(|body| {
        let mut event = Event::new(Source::DockerAuthz, Action::ContainerExec, "exec");
        event.process = Some(body.into_process());
        assert_json(&emit::enrichment(&event, FILE, 1), "enrichment");
    });
    (create.is_ok(), exec.is_ok())
}

/// Split a whole input into records as `crowsnest replay` and `filter` do. Returns how
/// many records it held and the error framing stopped at, if any.
pub fn framing(input: &[u8]) -> (usize, Option<FrameError>) {
    let lines = input.iter().filter(|b| **b == b'\n').count() + 1;
    let mut records = 0;
    let mut last_line = 0;
    for frame in framing::frames(input) {
        match frame {
            Ok(frame) => {
                assert!(
                    !frame.record.contains(&b'\n'),
                    "a frame is one line: {:?}",
                    String::from_utf8_lossy(&frame.record)
                );
                assert!(frame.line >= 1 && frame.line as usize <= lines);
                assert!(frame.line >= last_line, "frames come in input order");
                last_line = frame.line;
                records += 1;
            }
            Err(err) => {
                assert!(err.line >= 1 && err.line as usize <= lines, "{err:?}");
                assert!(err.column >= 1, "{err:?}");
                return (records, Some(err));
            }
        }
    }
    (records, None)
}

/// A rule that reads the policy's lists, so a fuzzed policy's values reach the pipeline.
const POLICY_PROBE_RULE: &str = "title: Policy probe
id: 5d3c1f0e-7a43-4a8e-9b1c-2f6d8e0a9b11
status: test
logsource:
  product: docker
  service: events
detection:
  selection:
    image.registry: '%approved_registries%'
  condition: selection
level: low
";

/// Load `input` as the pack's one Sigma rule file, with the built-in policy.
pub fn pack_rule(input: &[u8]) -> Result<PackInfo, Vec<Diagnostic>> {
    let files = vec![PackFile {
        path: "rules/fuzz.yml".into(),
        text: String::from_utf8_lossy(input).into_owned(),
    }];
    check_pack_result(&files)
}

/// Load `input` as the pack's `policy.yml`, beside one rule that reads its lists.
pub fn pack_policy(input: &[u8]) -> Result<PackInfo, Vec<Diagnostic>> {
    let files = vec![
        PackFile {
            path: "policy.yml".into(),
            text: String::from_utf8_lossy(input).into_owned(),
        },
        PackFile {
            path: "rules/probe.yml".into(),
            text: POLICY_PROBE_RULE.into(),
        },
    ];
    check_pack_result(&files)
}

/// Compile a pack; a refusal names a file of the pack and a place in it.
fn check_pack_result(files: &[PackFile]) -> Result<PackInfo, Vec<Diagnostic>> {
    let result = crate::check_pack(files);
    let diagnostics = match &result {
        Ok(info) => &info.warnings,
        Err(errors) => {
            assert!(!errors.is_empty(), "a refused pack says why");
            errors
        }
    };
    for d in diagnostics {
        assert!(
            files.iter().any(|f| f.path == d.file),
            "diagnostic names a file of the pack: {d}"
        );
        assert!(d.line >= 1 && d.column >= 1, "diagnostic is located: {d}");
        assert!(!d.code.is_empty() && !d.message.is_empty(), "{d}");
    }
    result
}

/// The byte that separates the batches of one `process` input.
pub const BATCH_SEPARATOR: u8 = 0x1e;

/// Drive a detector with the built-in pack as a host does: `input` split at
/// [`BATCH_SEPARATOR`] into batches given to [`Detector::process`] one after the other
/// (state carries across them), the state snapshotted and restored between batches,
/// then `finish`. Options: enrichment on, a record limit of 2 KiB, ECS alerts for inputs
/// of odd length and OCSF for the rest.
pub fn process(input: &[u8]) -> Vec<BatchResult> {
    let mut detector = Detector::new();
    detector.set_options(Options {
        alert_format: if input.len() % 2 == 1 {
            AlertFormat::Ecs
        } else {
            AlertFormat::Ocsf
        },
        enrichment: true,
        max_record_bytes: 2048,
        ..Options::default()
    });
    let mut results = Vec::new();
    let mut first_line = 1u32;
    let mut records = 0u64;
    for batch in input.split(|b| *b == BATCH_SEPARATOR) {
        let origin = BatchOrigin {
            file: FILE.into(),
            first_line,
            lines: Vec::new(),
        };
        let result = detector.process(batch, &origin);
        let body = batch.strip_suffix(b"\n").unwrap_or(batch);
        let physical = if body.is_empty() {
            0
        } else {
            body.split(|b| *b == b'\n').count()
        };
        let expected = if body.is_empty() {
            0
        } else {
            body.split(|b| *b == b'\n')
                .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
                .count()
        };
        check_batch(&result, &origin, expected, physical);
        records += expected as u64;
        first_line = first_line.saturating_add(u32::try_from(physical).unwrap_or(u32::MAX));
        let snapshot = detector.snapshot();
        if let Err(e) = detector.restore(&snapshot) {
            panic!("the engine refuses its own snapshot: {e}");
        }
        results.push(result);
    }
    let origin = BatchOrigin {
        file: FILE.into(),
        first_line,
        lines: Vec::new(),
    };
    let last = detector.finish(&origin);
    assert!(last.outcomes.is_empty() && last.diagnostics.is_empty());
    for alert in &last.alerts {
        assert_eq!(alert.record_index, u32::MAX);
        assert_json(&alert.document, "alert");
    }
    results.push(last);
    assert_eq!(detector.stats().records, records, "every record is counted");
    results
}

/// One batch's promises: one outcome per record; a record without a source has exactly
/// one located error; alerts point at a record of the batch and are JSON.
fn check_batch(result: &BatchResult, origin: &BatchOrigin, records: usize, physical: usize) {
    assert_eq!(result.outcomes.len(), records, "one outcome per record");
    let failed = result
        .outcomes
        .iter()
        .filter(|o| o.source.is_none())
        .count();
    let errors = result
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    assert_eq!(
        failed, errors,
        "every failed record has one error, nothing else"
    );
    let last_line = origin
        .first_line
        .saturating_add(u32::try_from(physical).unwrap_or(u32::MAX));
    for d in &result.diagnostics {
        assert_eq!(d.file, origin.file);
        assert!(
            d.line >= origin.first_line && d.line < last_line.max(origin.first_line + 1),
            "diagnostic on a line of the batch: {d}"
        );
        assert!(d.column >= 1, "{d}");
    }
    for outcome in &result.outcomes {
        if let Some(doc) = &outcome.enrichment {
            assert_json(doc, "enrichment");
        }
    }
    for alert in &result.alerts {
        assert!((alert.record_index as usize) < records, "{alert:?}");
        assert_json(&alert.document, "alert");
    }
}
