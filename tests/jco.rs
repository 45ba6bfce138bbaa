//! A second, independent component host: the component `crowsnest` embeds, transpiled
//! to JavaScript with jco and run under Node with the preview2 WASI shims, must raise
//! the same alerts on every sample as under wasmtime (`crowsnest replay`), down to the
//! rendered documents.
//!
//! The test installs `tests/jco/node_modules` with `npm ci` (from the committed
//! `package-lock.json`) when it is missing. Without `node` and `npm` on the `PATH` it
//! says that it skipped and passes.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{arg, replay_inputs, run, run_command, samples, workspace};
use serde_json::{Value, json};

/// The component the harness embeds (`host-harness/build.rs`).
const COMPONENT: &str = env!("CROWSNEST_COMPONENT_WASM");

fn available(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success())
}

/// (file, line, rule id, rendered document) of each alert, sorted.
fn alerts(values: &[Value]) -> Vec<(String, u64, String, String)> {
    let mut keys: Vec<_> = values
        .iter()
        .map(|a| {
            (
                a["file"].as_str().unwrap().to_string(),
                a["line"].as_u64().unwrap(),
                a["rule_id"].as_str().unwrap().to_string(),
                // The harness writes the document as an object; the Node host as
                // the component returned it, its text.
                match &a["document"] {
                    Value::String(text) => text.clone(),
                    document => document.to_string(),
                },
            )
        })
        .collect();
    keys.sort();
    keys
}

#[test]
fn node_raises_the_alerts_wasmtime_raises() {
    if !available("node") || !available("npm") {
        println!("skipped: node and npm are needed to run the component under jco");
        return;
    }
    let project = workspace().join("tests/jco");
    if !project.join("node_modules").exists() {
        let mut npm = Command::new("npm");
        npm.current_dir(&project)
            .args(["ci", "--no-audit", "--no-fund"]);
        let install = run_command(npm, None, Duration::from_secs(600));
        assert!(
            install.status.success(),
            "npm ci in {} failed:\n{}",
            project.display(),
            install.stderr
        );
    }

    // The records both hosts see: every sample, framed as replay frames it.
    let inputs: Vec<Value> = replay_inputs(&samples())
        .into_iter()
        .map(|input| {
            let (lines, records): (Vec<u32>, Vec<String>) = input
                .records
                .into_iter()
                .map(|(line, bytes)| (line, String::from_utf8(bytes).expect("samples are UTF-8")))
                .unzip();
            json!({ "file": input.file, "lines": lines, "records": records })
        })
        .collect();
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR")).join("jco");
    std::fs::create_dir_all(&scratch).unwrap();
    let records = scratch.join("records.json");
    std::fs::write(&records, serde_json::to_vec(&inputs).unwrap()).unwrap();

    let mut node = Command::new("node");
    node.arg(project.join("replay.mjs"))
        .arg(COMPONENT)
        .arg(scratch.join("out"))
        .arg(&records);
    let under_node = run_command(node, None, Duration::from_secs(300));
    assert!(
        under_node.status.success(),
        "the component failed under Node:\n{}",
        under_node.stderr
    );
    eprint!("{}", under_node.stderr);

    let under_wasmtime = run(&[
        "replay",
        "--format",
        "jsonl",
        "--batch",
        "256",
        "--quiet",
        arg(&samples()),
    ]);
    under_wasmtime.expect_code(0);
    let expected = alerts(&under_wasmtime.ndjson());
    assert!(!expected.is_empty(), "the samples raise alerts");
    assert_eq!(
        alerts(&under_node.ndjson()),
        expected,
        "alerts under jco/Node (left) and wasmtime (right)"
    );
}
