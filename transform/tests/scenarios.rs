//! Attack scenarios and benign look-alikes raise exactly the alerts their `expected.txt`
//! lists: those alerts, no others.
//!
//! A scenario is a directory under `samples/scenarios/<analytic>/`; its input files are
//! replayed in name order through one fresh engine with the built-in pack (a multi-source
//! timeline is several files, named in time order). `expected.txt` holds one line per
//! alert, `<file>:<line> <rule id>  # <rule title>`, sorted; blank lines and text after
//! `#` are ignored, and an empty file means "no alert".
//!
//! `CROWSNEST_BLESS=1 cargo test -p crowsnest-transform --test scenarios` writes them;
//! read every line before committing it.

use std::fs;
use std::path::{Path, PathBuf};

use crowsnest_transform::Detector;
use crowsnest_transform::api::BatchOrigin;
use crowsnest_transform::framing;

fn scenarios_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples/scenarios")
}

/// Scenario directories: those holding an `expected.txt` or input files.
fn scenario_dirs(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    if entries.iter().any(|p| is_input(p)) || dir.join("expected.txt").exists() {
        out.push(dir.to_path_buf());
    }
    for p in entries {
        if p.is_dir() {
            scenario_dirs(&p, out);
        }
    }
}

fn is_input(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    path.is_file()
        && [".ndjson", ".jsonl", ".json", ".log"]
            .iter()
            .any(|ext| name.ends_with(ext))
}

/// The alerts of one scenario, as `expected.txt` lines.
fn run(dir: &Path) -> (Vec<String>, Vec<String>) {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .expect("scenario directory")
        .flatten()
        .map(|e| e.path())
        .filter(|p| is_input(p))
        .collect();
    files.sort();
    let mut detector = Detector::new();
    let mut alerts = Vec::new();
    let mut problems = Vec::new();
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let bytes = fs::read(&path).expect("input file");
        // In `crowsnest replay`'s batches.
        let mut batches =
            framing::batches(&bytes, framing::BATCH_RECORDS, framing::MAX_BATCH_BYTES, 0);
        for batch in batches.by_ref() {
            let batch = match batch {
                Ok(batch) => batch,
                Err(e) => {
                    problems.push(e.diagnostic(&name, 0).to_string());
                    continue;
                }
            };
            let origin = batch.origin(&name);
            let result = detector.process(&batch.records.join(&b'\n'), &origin);
            problems.extend(result.diagnostics.iter().map(ToString::to_string));
            for a in &result.alerts {
                let line = origin.line_of(a.record_index as usize);
                alerts.push(format!("{name}:{line} {}  # {}", a.rule_id, a.rule_title));
            }
        }
        let last_line = batches.last_line();
        let end = detector.finish(&BatchOrigin {
            file: name.clone(),
            first_line: last_line,
            lines: Vec::new(),
        });
        for a in &end.alerts {
            alerts.push(format!(
                "{name}:{last_line} {}  # {}",
                a.rule_id, a.rule_title
            ));
        }
    }
    alerts.sort();
    (alerts, problems)
}

/// The comparable part of an expected line: `file:line rule-id`.
fn key(line: &str) -> Option<String> {
    let line = line.split('#').next()?.trim();
    (!line.is_empty()).then(|| line.split_whitespace().collect::<Vec<_>>().join(" "))
}

#[test]
fn every_scenario_raises_exactly_its_expected_alerts() {
    let root = scenarios_root();
    let mut dirs = Vec::new();
    scenario_dirs(&root, &mut dirs);
    if dirs.is_empty() {
        println!("no scenarios under {}", root.display());
        return;
    }
    let bless = std::env::var_os("CROWSNEST_BLESS").is_some();
    let mut failures = Vec::new();
    for dir in dirs {
        let rel = dir
            .strip_prefix(&root)
            .unwrap_or(&dir)
            .display()
            .to_string();
        let (alerts, problems) = run(&dir);
        for p in problems {
            failures.push(format!("{rel}: {p}"));
        }
        let expected_path = dir.join("expected.txt");
        if bless {
            let mut text = alerts.join("\n");
            if !text.is_empty() {
                text.push('\n');
            }
            fs::write(&expected_path, text).expect("write expected.txt");
            continue;
        }
        let Ok(expected) = fs::read_to_string(&expected_path) else {
            failures.push(format!(
                "{rel}: no expected.txt (bless with CROWSNEST_BLESS=1)"
            ));
            continue;
        };
        let mut want: Vec<String> = expected.lines().filter_map(key).collect();
        let mut got: Vec<String> = alerts.iter().filter_map(|l| key(l)).collect();
        want.sort();
        got.sort();
        if want != got {
            let missing: Vec<_> = want.iter().filter(|w| !got.contains(w)).collect();
            let extra: Vec<_> = alerts
                .iter()
                .filter(|a| key(a).is_some_and(|k| !want.contains(&k)))
                .collect();
            failures.push(format!(
                "{rel}: alerts differ\n  missing: {missing:?}\n  unexpected: {extra:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
