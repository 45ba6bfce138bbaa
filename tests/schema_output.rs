//! Every finding `crowsnest replay` writes for `samples/` and for each scenario under
//! `samples/scenarios/` (replayed alone, as `expected.txt` counts its alerts), in OCSF and
//! in ECS, validated against the official schemas (`tests/schema/`): OCSF at the version
//! each document claims in `metadata.version`, ECS at the vendored version.
//!
//! On failure the message groups the errors by class (the problem and its place, array
//! indices folded), most frequent first, then shows the first examples of each with the
//! `file:line` of the input record that raised the finding.
//!
//! `CROWSNEST_OCSF_SCHEMA=<version>` checks the OCSF documents against another vendored
//! version instead of the claimed one (to see what a move to it would take).

mod common;
mod schema;

use std::fs;
use std::path::{Path, PathBuf};

use common::{arg, run, samples};
use schema::{Issue, Tally, ecs, ocsf};
use serde_json::Value;

/// What crowsnest's ECS documents promise beyond ECS's own required fields: the
/// categorization Elastic Security buckets alerts by, and the alert's risk score.
const ECS_REQUIRED: &[&str] = &[
    "event.kind",
    "event.category",
    "event.type",
    "event.risk_score",
];

/// crowsnest's own ECS namespace.
const ECS_CUSTOM: &[&str] = &["crowsnest"];

/// Each scenario directory (one holding `expected.txt`) under `samples/scenarios/`.
fn scenarios() -> Vec<PathBuf> {
    let mut dirs = vec![samples().join("scenarios")];
    let mut out = Vec::new();
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.file_name().is_some_and(|n| n == "expected.txt") {
                out.push(dir.clone());
            }
        }
    }
    out.sort();
    out
}

/// The documents of one replay in `format`.
fn replay(format: &str, input: &Path) -> Vec<Value> {
    let run = run(&["replay", "--format", format, arg(input)]);
    run.expect_code(0);
    run.ndjson()
}

/// `file:line` of the record a document came from, as crowsnest records it.
fn origin(doc: &Value, input: &Path, index: usize) -> String {
    let origin = doc
        .pointer("/unmapped/crowsnest/origin")
        .or_else(|| doc.pointer("/crowsnest/origin"));
    match origin.and_then(|o| Some((o.get("file")?.as_str()?, o.get("line")?.as_u64()?))) {
        Some((file, line)) => format!("{file}:{line}"),
        None => format!("{} document {}", input.display(), index + 1),
    }
}

/// Validate every document of `samples/` and of each scenario in `format`: the number of
/// errors, and the report (the samples, then the scenarios).
fn validate_all(format: &str, check: impl Fn(&Value) -> Vec<Issue>) -> (usize, String) {
    let mut samples_tally = Tally::default();
    let docs = replay(format, &samples());
    for (i, doc) in docs.iter().enumerate() {
        samples_tally.add(&origin(doc, &samples(), i), &check(doc));
    }
    assert!(
        samples_tally.documents > 0,
        "the samples raise findings; none were written"
    );
    let mut scenarios_tally = Tally::default();
    let scenarios = scenarios();
    for dir in &scenarios {
        for (i, doc) in replay(format, dir).iter().enumerate() {
            scenarios_tally.add(&origin(doc, dir, i), &check(doc));
        }
    }
    let report = format!(
        "{}\n{}",
        samples_tally.report(&format!("{format}, crowsnest replay samples/")),
        scenarios_tally.report(&format!(
            "{format}, the {} scenarios of samples/scenarios/, each replayed alone",
            scenarios.len()
        ))
    );
    (samples_tally.errors() + scenarios_tally.errors(), report)
}

#[test]
fn every_finding_of_every_sample_and_scenario_is_valid_ocsf() {
    let pinned = std::env::var("CROWSNEST_OCSF_SCHEMA").ok();
    let (errors, report) = validate_all("ocsf", |doc| match &pinned {
        Some(version) => ocsf::schema(version)
            .unwrap_or_else(|| {
                panic!(
                    "no vendored OCSF {version}: {:?}",
                    ocsf::vendored_versions()
                )
            })
            .validate(doc),
        None => ocsf::validate(doc),
    });
    assert!(errors == 0, "{errors} errors\n{report}");
    println!("{report}");
}

#[test]
fn every_finding_of_every_sample_and_scenario_is_conformant_ecs() {
    let options = ecs::Options {
        custom: ECS_CUSTOM,
        required: ECS_REQUIRED,
    };
    let (errors, report) = validate_all("ecs", |doc| ecs::validate(doc, &options));
    assert!(errors == 0, "{errors} errors\n{report}");
    println!("{report}");
}
