//! `crowsnest replay` as a user runs it: on `samples/`, from stdin, from `.gz`, in each
//! output format, and with broken input. Assertions are about what the user sees
//! (alerts, exit status, the summary's balance), not about any one rule.

mod common;

use std::fs;
use std::io::Write;
use std::path::Path;

use common::{TempDir, arg, docker_events, run, run_with_stdin, samples};
use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::Value;

/// Records a replay of `samples/` must account for: the frames of every input it reads
/// (array and batch elements, pretty-printed objects, lines; framing has its own tests).
fn expected_sample_records() -> u64 {
    common::replay_inputs(&samples())
        .iter()
        .map(|input| input.records.len() as u64)
        .sum()
}

fn alert_keys(alerts: &[Value]) -> Vec<(String, u64, String)> {
    alerts
        .iter()
        .map(|a| {
            (
                a["file"].as_str().unwrap().to_string(),
                a["line"].as_u64().unwrap(),
                a["rule_id"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// (line, rule id), ignoring which file name the input had.
fn line_keys(alerts: &[Value]) -> Vec<(u64, String)> {
    alert_keys(alerts)
        .into_iter()
        .map(|(_, line, id)| (line, id))
        .collect()
}

#[test]
fn replay_samples_prints_a_table_of_alerts_and_a_balanced_summary() {
    let run = run(&["replay", arg(&samples()), "--format", "table"]);
    run.expect_code(0);
    let header = run.stdout.lines().next().unwrap();
    for column in ["TIME", "LEVEL", "RULE", "PRINCIPAL", "IMAGE", "SUMMARY"] {
        assert!(header.contains(column), "header {header:?} lacks {column}");
    }
    let summary_at = run
        .stdout
        .find("\ninputs:\n")
        .expect("summary after the table");
    let rows = run.stdout[..summary_at].lines().count() - 1;
    assert!(rows > 0, "the samples raise alerts:\n{}", run.stdout);
    assert!(
        run.stdout.contains(&format!("alerts: {rows}\n")),
        "{}",
        run.stdout
    );

    let balance = run.balance();
    assert_eq!(balance.records_in, expected_sample_records());
    assert_eq!(balance.records_in, balance.out + balance.reported);
    assert!(run.stdout.contains("sources:\n"));
    assert!(
        run.stdout.contains("events.ndjson"),
        "per-file counts list each input"
    );
}

#[test]
fn ocsf_output_is_one_detection_finding_per_line() {
    let run = run(&["replay", arg(&samples()), "--format", "ocsf"]);
    run.expect_code(0);
    let findings = run.ndjson();
    assert!(!findings.is_empty());
    for finding in &findings {
        assert_eq!(finding["class_uid"], 2004, "{finding}");
    }
    // The summary goes to stderr so stdout stays pure NDJSON.
    assert!(
        run.stderr
            .contains(&format!("alerts: {}\n", findings.len())),
        "{}",
        run.stderr
    );
    assert_eq!(run.balance().records_in, expected_sample_records());
}

#[test]
fn piped_stdout_defaults_to_ocsf() {
    let run = run(&["replay", arg(&samples())]);
    run.expect_code(0);
    let findings = run.ndjson();
    assert!(!findings.is_empty());
    assert!(findings.iter().all(|f| f["class_uid"] == 2004));
}

#[test]
fn quiet_prints_alerts_only() {
    let run = run(&["replay", arg(&samples()), "--format", "ocsf", "--quiet"]);
    run.expect_code(0);
    assert!(!run.ndjson().is_empty());
    assert_eq!(run.stderr, "");
}

#[test]
fn jsonl_alerts_point_at_the_record_that_raised_them() {
    let run = run(&["replay", arg(&samples()), "--format", "jsonl"]);
    run.expect_code(0);
    let alerts = run.ndjson();
    assert!(!alerts.is_empty());
    for alert in &alerts {
        for key in [
            "rule_id",
            "rule_title",
            "level",
            "source",
            "action",
            "summary",
            "document",
        ] {
            assert!(alert.get(key).is_some(), "alert lacks {key}: {alert}");
        }
        let file = alert["file"].as_str().unwrap();
        let line = alert["line"].as_u64().unwrap() as usize;
        let text = fs::read_to_string(file).unwrap();
        let record = text
            .lines()
            .nth(line - 1)
            .unwrap_or_else(|| panic!("{file} has no line {line}"));
        assert!(!record.trim().is_empty(), "{file}:{line} is blank");
    }
}

#[test]
fn dash_reads_standard_input() {
    let file = samples().join("docker/events.ndjson");
    let direct = run(&["replay", arg(&file), "--format", "jsonl"]);
    direct.expect_code(0);
    let piped = run_with_stdin(
        &["replay", "-", "--format", "jsonl"],
        &fs::read(&file).unwrap(),
    );
    piped.expect_code(0);
    let alerts = piped.ndjson();
    assert!(!alerts.is_empty());
    assert!(alerts.iter().all(|a| a["file"] == "<stdin>"));
    assert_eq!(line_keys(&alerts), line_keys(&direct.ndjson()));
    assert_eq!(piped.balance(), direct.balance());
}

#[test]
fn gzip_files_are_decompressed() {
    let file = samples().join("docker/events.ndjson");
    let tmp = TempDir::new("gz");
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(&fs::read(&file).unwrap()).unwrap();
    let gz_path = tmp.write("logs/events.ndjson.gz", gz.finish().unwrap());

    let direct = run(&["replay", arg(&file), "--format", "jsonl"]);
    // Through directory expansion, which must pick up `*.ndjson.gz`.
    let from_gz = run(&["replay", arg(tmp.path()), "--format", "jsonl"]);
    from_gz.expect_code(0);
    let alerts = from_gz.ndjson();
    assert!(!alerts.is_empty());
    assert!(
        alerts
            .iter()
            .all(|a| Path::new(a["file"].as_str().unwrap()) == gz_path)
    );
    assert_eq!(line_keys(&alerts), line_keys(&direct.ndjson()));
    assert_eq!(from_gz.balance(), direct.balance());
}

#[test]
fn bad_records_are_reported_with_their_position_and_the_rest_processed() {
    let good = docker_events(2);
    let mut lines: Vec<String> = good.clone();
    lines.insert(2, r#"{"status":"start","id": oops}"#.to_string());
    lines.insert(5, String::new());
    lines.insert(6, "   ".to_string());
    let tmp = TempDir::new("bad-records");
    let path = tmp.write("mixed.ndjson", lines.join("\n") + "\n");

    let run = run(&["replay", arg(&path), "--format", "jsonl"]);
    run.expect_code(0);
    let balance = run.balance();
    assert_eq!(
        balance.records_in,
        good.len() as u64 + 1,
        "blank lines are not records"
    );
    assert_eq!(balance.reported, 1);
    assert_eq!(balance.out, good.len() as u64);
    // The broken record is line 3 of the file.
    let located = format!("{}:3:", path.display());
    assert!(
        run.stderr.contains(&located),
        "expected {located} in\n{}",
        run.stderr
    );
    assert!(run.stderr.contains("error[decode."), "{}", run.stderr);
}

#[test]
fn pretty_printed_arrays_are_framed_and_a_broken_one_is_located() {
    let events = docker_events(1);
    let tmp = TempDir::new("arrays");
    let pretty = format!("[\n  {},\n\n  {}\n]\n", events[0], events[1]);
    let good = tmp.write("a/pretty.json", pretty);
    let broken = tmp.write(
        "b/broken.json",
        format!("[\n  {},\n  {{\"Id\": }}\n]\n", events[2]),
    );

    let run = run(&["replay", arg(&good), arg(&broken), "--format", "jsonl"]);
    run.expect_code(0);
    let balance = run.balance();
    // The broken array is one reported record: nothing in it can be trusted.
    let expected = common::Balance {
        records_in: 3,
        out: 2,
        reported: 1,
    };
    assert_eq!(balance, expected);
    let located = format!("{}:3:", broken.display());
    assert!(
        run.stderr.contains(&located),
        "expected {located} in\n{}",
        run.stderr
    );
    assert!(run.stderr.contains("framing.syntax"), "{}", run.stderr);
}

#[test]
fn batch_size_does_not_change_the_result() {
    let one = run(&[
        "replay",
        arg(&samples()),
        "--format",
        "jsonl",
        "--batch",
        "1",
    ]);
    let many = run(&[
        "replay",
        arg(&samples()),
        "--format",
        "jsonl",
        "--batch",
        "1000",
    ]);
    one.expect_code(0);
    many.expect_code(0);
    assert_eq!(alert_keys(&one.ndjson()), alert_keys(&many.ndjson()));
    assert_eq!(one.balance(), many.balance());
}

#[test]
fn native_engine_gives_the_same_alerts_as_the_component() {
    let component = run(&["replay", arg(&samples()), "--format", "jsonl"]);
    let native = run(&["replay", arg(&samples()), "--format", "jsonl", "--native"]);
    component.expect_code(0);
    native.expect_code(0);
    assert_eq!(component.ndjson(), native.ndjson());
    assert_eq!(component.balance(), native.balance());
}

#[test]
fn missing_input_is_an_error_but_the_others_still_run() {
    let tmp = TempDir::new("missing");
    let present = tmp.write("present.ndjson", docker_events(1).join("\n"));
    let missing = tmp.path().join("absent.ndjson");
    let run = run(&["replay", arg(&missing), arg(&present), "--format", "jsonl"]);
    run.expect_code(2);
    assert!(run.stderr.contains("absent.ndjson"), "{}", run.stderr);
    assert_eq!(run.balance().records_in, 5);
}

#[test]
fn unreadable_component_is_fatal() {
    let tmp = TempDir::new("bad-component");
    let not_wasm = tmp.write("not.wasm", "this is not wasm");
    let run = run(&["--component", arg(&not_wasm), "replay", arg(&samples())]);
    run.expect_code(2);
    assert!(run.stderr.starts_with("crowsnest: "), "{}", run.stderr);
    assert!(run.stdout.is_empty());

    let run = common::run(&[
        "replay",
        arg(&samples()),
        "--component",
        arg(&tmp.path().join("nope.wasm")),
    ]);
    run.expect_code(2);
    assert!(run.stderr.contains("nope.wasm"), "{}", run.stderr);
}

#[test]
fn bad_flags_exit_2() {
    run(&["replay", "-", "--source", "syslog"]).expect_code(2);
    run(&["replay"]).expect_code(2);
    run(&["--batch", "0", "replay", "-"]).expect_code(2);
}

#[test]
fn forced_source_applies_to_every_record() {
    // Kubernetes audit records forced through the Docker event decoder: whatever
    // decodes, decodes as a Docker event; nothing is detected as Kubernetes audit.
    let dir = samples().join("k8s-audit");
    let run = run(&[
        "replay",
        arg(&dir),
        "--format",
        "jsonl",
        "--source",
        "docker_event",
    ]);
    run.expect_code(0);
    let balance = run.balance();
    assert_eq!(balance.records_in, balance.out + balance.reported);
    assert!(!run.stderr.contains("k8s_audit "), "{}", run.stderr);
    let normal = common::run(&["replay", arg(&dir), "--format", "jsonl"]);
    assert!(normal.stderr.contains("k8s_audit "), "{}", normal.stderr);
}
