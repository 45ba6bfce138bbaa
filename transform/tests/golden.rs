//! Golden normalized output: every sample under `samples/` decodes to exactly the
//! events in `tests/golden/<same path>.golden.ndjson`.
//!
//! Each golden line is one record of the sample: its line, the source that decoded it and
//! the normalized events (the enrichment a pipeline receives). A record that holds no
//! complete event yet (an auditd line awaiting the rest of its event) has none; events a
//! file leaves pending at its end are listed under `"end"`.
//!
//! `CROWSNEST_BLESS=1 cargo test -p crowsnest-transform --test golden` rewrites the golden
//! files from the current decoders; read every changed line before committing it.

use std::fs;
use std::path::{Path, PathBuf};

use crowsnest_transform::Detector;
use crowsnest_transform::api::{BatchOrigin, Options, RecordOutcome};
use crowsnest_transform::framing;
use serde_json::{Value, json};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the crate sits in the workspace")
        .to_path_buf()
}

/// The files `crowsnest replay samples/` reads, in name order.
fn sample_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            sample_files(&path, out);
        } else if is_input(&path) {
            out.push(path);
        }
    }
}

fn is_input(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    [".ndjson", ".jsonl", ".json", ".log"]
        .iter()
        .any(|ext| name.ends_with(ext))
}

/// The normalized output of one sample file, one JSON line per record.
fn normalize(relative: &str, bytes: &[u8]) -> (String, Vec<String>) {
    let mut detector = Detector::new();
    detector.set_options(Options {
        enrichment: true,
        ..Options::default()
    });
    let mut problems = Vec::new();
    let mut out = String::new();
    // In `crowsnest replay`'s batches.
    let mut batches = framing::batches(bytes, framing::BATCH_RECORDS, framing::MAX_BATCH_BYTES, 0);
    for batch in batches.by_ref() {
        let batch = match batch {
            Ok(batch) => batch,
            Err(e) => {
                problems.push(e.diagnostic(relative, 0).to_string());
                continue;
            }
        };
        let result = detector.process(&batch.records.join(&b'\n'), &batch.origin(relative));
        problems.extend(result.diagnostics.iter().map(ToString::to_string));
        assert_eq!(
            result.outcomes.len(),
            batch.records.len(),
            "{relative}: one outcome per record"
        );
        write_outcomes(&mut out, &result.outcomes, &batch.lines);
    }
    let end_origin = BatchOrigin {
        file: relative.to_string(),
        first_line: batches.last_line(),
        lines: Vec::new(),
    };
    let end = detector.finish(&end_origin);
    if !end.outcomes.is_empty() || !end.alerts.is_empty() {
        out.push_str(&json!({ "end": end.alerts.len() }).to_string());
        out.push('\n');
    }
    (out, problems)
}

/// One golden line per record: its line, its source and its normalized events.
fn write_outcomes(out: &mut String, outcomes: &[RecordOutcome], lines: &[u32]) {
    for (outcome, line) in outcomes.iter().zip(lines) {
        let events = match outcome.enrichment.as_deref() {
            None => Value::Array(Vec::new()),
            Some(text) => match serde_json::from_str(text).expect("enrichment is JSON") {
                Value::Array(many) => Value::Array(many.into_iter().map(strip_origin).collect()),
                one => Value::Array(vec![strip_origin(one)]),
            },
        };
        let source = outcome.source.map(|s| s.as_str());
        out.push_str(&json!({ "line": line, "source": source, "events": events }).to_string());
        out.push('\n');
    }
}

/// The origin is the golden file's own path and line: said once per line already.
fn strip_origin(mut v: Value) -> Value {
    if let Value::Object(m) = &mut v {
        m.remove("origin");
    }
    v
}

#[test]
fn every_sample_decodes_to_its_golden_output() {
    let root = repo();
    let mut files = Vec::new();
    sample_files(&root.join("samples"), &mut files);
    assert!(!files.is_empty(), "samples/ holds sample files");
    let bless = std::env::var_os("CROWSNEST_BLESS").is_some();
    let mut failures = Vec::new();
    for path in files {
        let relative = path
            .strip_prefix(&root)
            .expect("under the repo")
            .to_string_lossy()
            .replace('\\', "/");
        let bytes = fs::read(&path).unwrap_or_else(|e| panic!("{relative}: {e}"));
        let (actual, problems) = normalize(&relative, &bytes);
        failures.extend(problems);
        let golden = root.join("tests/golden").join(format!(
            "{}.golden.ndjson",
            relative.trim_start_matches("samples/")
        ));
        if bless {
            fs::create_dir_all(golden.parent().expect("has a parent")).expect("mkdir");
            fs::write(&golden, &actual).expect("write golden file");
            continue;
        }
        match fs::read_to_string(&golden) {
            Ok(expected) if expected == actual => {}
            Ok(expected) => {
                let diff = expected
                    .lines()
                    .zip(actual.lines())
                    .find(|(e, a)| e != a)
                    .map(|(e, a)| format!("\n  expected: {e}\n  actual:   {a}"))
                    .unwrap_or_else(|| {
                        format!(
                            "\n  {} golden lines, {} now",
                            expected.lines().count(),
                            actual.lines().count()
                        )
                    });
                failures.push(format!("{relative}: differs from its golden file{diff}"));
            }
            Err(_) => failures.push(format!(
                "{relative}: no golden file at {} (bless with CROWSNEST_BLESS=1)",
                golden.display()
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} problem(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}
