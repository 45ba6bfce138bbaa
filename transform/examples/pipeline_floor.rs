//! How the full pipeline compares with the cheapest possible pass over the same bytes.
//!
//! Kubernetes audit records (Falco's real events under `../shared/data/falco-k8s-audit`,
//! and `samples/k8s-audit`) are replicated to about 20,000 lines, then timed four ways in
//! this process, natively:
//!
//! - floor: `serde_json::from_slice::<IgnoredAny>` per line (tokenize, build nothing);
//! - decode: detection and the typed decode into the event model;
//! - pipeline, no-match pack: `Detector::process` with one rule that never matches;
//! - pipeline, default pack.
//!
//! Each figure is the best of several rounds (the machine is shared and noisy); the
//! ratios are what to read. Run with
//! `cargo run --release -p crowsnest-transform --example pipeline_floor [records] [rounds]`;
//! `CROWSNEST_ONLY=floor|decode|no-match|default` runs one of them (for a profiler).

use std::path::{Path, PathBuf};
use std::time::Instant;

use crowsnest_transform::Detector;
use crowsnest_transform::api::{BatchOrigin, PackFile};
use crowsnest_transform::decode::{self, Context, StreamState};

const NO_MATCH: &str = "title: Never matches
id: 00000000-0000-4000-8000-000000000001
status: test
level: low
logsource:
  product: kubernetes
  service: audit
detection:
  sel:
    action.raw: never-an-action
  condition: sel
";

fn records(root: &Path) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for dir in [
        root.join("../shared/data/falco-k8s-audit"),
        root.join("samples/k8s-audit"),
    ] {
        let Ok(read) = std::fs::read_dir(&dir) else {
            eprintln!("skipped: {} is not present", dir.display());
            continue;
        };
        let mut files: Vec<PathBuf> = read.flatten().map(|e| e.path()).collect();
        files.sort();
        for f in files {
            let ext = f.extension().and_then(|e| e.to_str()).unwrap_or("");
            if !matches!(ext, "json" | "ndjson" | "jsonl") {
                continue;
            }
            let text = std::fs::read(&f).unwrap_or_default();
            // One event per file (pretty-printed) or one per line.
            if ext == "json" {
                if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&text)
                    && v.get("auditID").is_some()
                {
                    out.push(serde_json::to_vec(&v).unwrap());
                }
            } else {
                for line in text.split(|b| *b == b'\n') {
                    if line.windows(9).any(|w| w == b"\"auditID\"") {
                        out.push(line.to_vec());
                    }
                }
            }
        }
    }
    out
}

fn best<F: FnMut() -> usize>(name: &str, rounds: usize, mut f: F) -> (f64, usize) {
    if std::env::var("CROWSNEST_ONLY").is_ok_and(|only| only != name) {
        return (f64::NAN, 0);
    }
    let mut best = f64::MAX;
    let mut result = 0;
    for _ in 0..rounds {
        let t = Instant::now();
        result = f();
        best = best.min(t.elapsed().as_secs_f64());
    }
    (best, result)
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let want = args.first().copied().unwrap_or(20_000);
    let rounds = args.get(1).copied().unwrap_or(5);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let distinct = records(&root);
    if distinct.is_empty() {
        eprintln!("skipped: no Kubernetes audit records found");
        return;
    }
    let lines: Vec<&[u8]> = distinct
        .iter()
        .cycle()
        .take(want)
        .map(Vec::as_slice)
        .collect();
    let bytes: usize = lines.iter().map(|l| l.len()).sum();
    let mut batch = Vec::with_capacity(bytes + lines.len());
    for l in &lines {
        batch.extend_from_slice(l);
        batch.push(b'\n');
    }
    println!(
        "{} records ({} distinct), {:.1} MB, {:.0} bytes per record",
        lines.len(),
        distinct.len(),
        bytes as f64 / 1e6,
        bytes as f64 / lines.len() as f64
    );

    let (floor, _) = best("floor", rounds, || {
        lines
            .iter()
            .filter(|l| serde_json::from_slice::<serde::de::IgnoredAny>(l).is_ok())
            .count()
    });
    let (decode, decoded) = best("decode", rounds, || {
        let mut state = StreamState::default();
        let ctx = Context::default();
        lines
            .iter()
            .filter_map(|l| std::str::from_utf8(l).ok())
            .filter(|t| decode::decode(t, &mut state, &ctx).is_ok())
            .count()
    });
    let origin = BatchOrigin {
        file: "k8s-audit".into(),
        first_line: 1,
        lines: Vec::new(),
    };
    let run = |d: &mut Detector| {
        let r = d.process(&batch, &origin);
        r.alerts.len()
    };
    let (no_match, none) = best("no-match", rounds, || {
        let mut d = Detector::new();
        d.configure(&[PackFile {
            path: "rules/never.yml".into(),
            text: NO_MATCH.into(),
        }])
        .expect("the no-match pack compiles");
        run(&mut d)
    });
    let (default, alerts) = best("default", rounds, || run(&mut Detector::new()));
    let n = lines.len() as f64;
    let row = |name: &str, secs: f64| {
        println!(
            "{name:<26} {:>8.3} s {:>8.2} µs/record {:>6.2}× floor",
            secs,
            secs * 1e6 / n,
            secs / floor
        );
    };
    row("floor (IgnoredAny)", floor);
    row(&format!("decode ({decoded} ok)"), decode);
    row(&format!("pipeline, no-match ({none})"), no_match);
    row(&format!("pipeline, default ({alerts})"), default);
}
