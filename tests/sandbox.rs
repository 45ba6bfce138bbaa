//! The sandbox rules (architecture.md): a record that traps the component or runs past
//! the deadline is isolated, reported at its file:line, and every other record is
//! processed as in a normal run. Uses the component built with `fault-injection`.

mod common;

use std::path::{Path, PathBuf};

use common::{
    Balance, Run, TempDir, arg, crowsnest, docker_events, fault_component, run, run_command,
    with_label_value,
};
use serde_json::Value;

/// 40 Docker events; the record on `poison_lines` (1-based) carries `marker` as a label
/// value, so the fault-injection component faults on exactly those records.
fn input_with_poison(tmp: &TempDir, marker: &str, poison_lines: &[usize]) -> PathBuf {
    let mut lines = docker_events(8);
    assert_eq!(lines.len(), 40);
    for &line in poison_lines {
        lines[line - 1] = with_label_value(&lines[line - 1], marker);
    }
    tmp.write("events.ndjson", lines.join("\n") + "\n")
}

fn replay(component: Option<&Path>, input: &Path, extra: &[&str]) -> Run {
    let mut cmd = crowsnest();
    if let Some(component) = component {
        cmd.arg("--component").arg(component);
    }
    cmd.args(["replay", "--format", "jsonl"])
        .arg(input)
        .args(extra);
    run_command(cmd, None, common::RUN_TIMEOUT)
}

/// Alerts of `run`, minus those raised by a record on one of `lines`, without the
/// batch-relative `record_index` (batches differ between runs; `line` says where).
fn alerts_except(run: &Run, lines: &[usize]) -> Vec<Value> {
    run.ndjson()
        .into_iter()
        .filter(|a| !lines.contains(&(a["line"].as_u64().unwrap() as usize)))
        .map(|mut a| {
            a.as_object_mut().unwrap().remove("record_index");
            a
        })
        .collect()
}

/// The accounting every fault test makes: the input had `records_in` records, the
/// summary's balance says in = out + reported, and each reported record has its own
/// located `sandbox.*` or `decode.*` diagnostic among the summary's (all listed: these
/// runs have fewer than its cap). Returns the balance.
fn assert_accounted(run: &Run, file: &Path, records_in: u64) -> Balance {
    let balance = run.balance();
    assert_eq!(balance.records_in, records_in, "{}", run.stderr);
    assert_eq!(
        balance.records_in,
        balance.out + balance.reported,
        "in = out + reported: {}",
        run.stderr
    );
    let prefix = format!("{}:", file.display());
    let fault_lines = run
        .stderr
        .lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with(&prefix))
        .filter(|l| l.contains("error[sandbox.") || l.contains("error[decode."))
        .count() as u64;
    assert_eq!(
        fault_lines, balance.reported,
        "one located diagnostic per reported record:\n{}",
        run.stderr
    );
    balance
}

/// The summary's diagnostic line for `file:line`.
fn diagnostic_at<'a>(run: &'a Run, file: &Path, line: usize) -> &'a str {
    let prefix = format!("{}:{line}:1: ", file.display());
    run.stderr
        .lines()
        .map(str::trim_start)
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no diagnostic at {prefix} in\n{}", run.stderr))
}

#[test]
fn trapping_record_is_reported_and_the_rest_processed() {
    let tmp = TempDir::new("trap");
    let poison = 18;
    let input = input_with_poison(&tmp, "crowsnest-fault:trap", &[poison]);
    let normal = replay(None, &input, &[]);
    normal.expect_code(0);
    assert_accounted(&normal, &input, 40);
    assert_eq!(
        normal.balance(),
        Balance {
            records_in: 40,
            out: 40,
            reported: 0
        }
    );
    assert!(
        !normal.ndjson().is_empty(),
        "the input raises alerts, so the comparison means something"
    );

    // One batch (the trap is inside it) and small batches (the trap is in a later one,
    // so the replacement instance must get the earlier batches' state back).
    for batch in ["256", "7", "1"] {
        let faulty = replay(Some(fault_component()), &input, &["--batch", batch]);
        faulty.expect_code(0);
        assert_accounted(&faulty, &input, 40);
        assert_eq!(
            faulty.balance(),
            Balance {
                records_in: 40,
                out: 39,
                reported: 1
            },
            "--batch {batch}"
        );
        let diagnostic = diagnostic_at(&faulty, &input, poison);
        assert!(diagnostic.contains("error[sandbox.trap]"), "{diagnostic}");
        assert!(
            diagnostic.contains("panicked at"),
            "the guest's panic message is kept: {diagnostic}"
        );
        assert!(
            faulty.stderr.contains("sandbox: "),
            "the summary counts replaced instances"
        );
        assert_eq!(
            alerts_except(&faulty, &[]),
            alerts_except(&normal, &[poison]),
            "--batch {batch}"
        );
    }
}

#[test]
fn several_poison_records_are_each_isolated() {
    let tmp = TempDir::new("traps");
    let poison = [1, 17, 33, 40];
    let input = input_with_poison(&tmp, "crowsnest-fault:trap", &poison);
    let normal = replay(None, &input, &[]);
    let faulty = replay(Some(fault_component()), &input, &["--batch", "16"]);
    faulty.expect_code(0);
    assert_accounted(&faulty, &input, 40);
    assert_eq!(
        faulty.balance(),
        Balance {
            records_in: 40,
            out: 36,
            reported: 4
        }
    );
    for line in poison {
        assert!(diagnostic_at(&faulty, &input, line).contains("error[sandbox.trap]"));
    }
    assert_eq!(alerts_except(&faulty, &[]), alerts_except(&normal, &poison));
}

#[test]
fn endless_record_times_out_and_the_rest_is_processed() {
    let tmp = TempDir::new("loop");
    let poison = 23;
    let input = input_with_poison(&tmp, "crowsnest-fault:loop", &[poison]);
    let normal = replay(None, &input, &[]);
    // The test fails after RUN_TIMEOUT rather than hanging if the deadline never fires.
    let faulty = replay(Some(fault_component()), &input, &["--deadline-ms", "200"]);
    faulty.expect_code(0);
    assert_accounted(&faulty, &input, 40);
    assert_eq!(
        faulty.balance(),
        Balance {
            records_in: 40,
            out: 39,
            reported: 1
        }
    );
    let diagnostic = diagnostic_at(&faulty, &input, poison);
    assert!(
        diagnostic.contains("error[sandbox.timeout]"),
        "{diagnostic}"
    );
    assert!(diagnostic.contains("200 ms"), "{diagnostic}");
    assert_eq!(
        alerts_except(&faulty, &[]),
        alerts_except(&normal, &[poison])
    );
}

#[test]
fn fault_injection_component_is_harmless_on_clean_input() {
    let tmp = TempDir::new("clean");
    let input = input_with_poison(&tmp, "", &[]);
    let normal = replay(None, &input, &[]);
    let faulty = replay(Some(fault_component()), &input, &[]);
    faulty.expect_code(0);
    assert_accounted(&faulty, &input, 40);
    assert_eq!(faulty.balance(), normal.balance());
    assert_eq!(faulty.ndjson(), normal.ndjson());
    assert!(
        !faulty.stderr.contains("sandbox: "),
        "no instance was replaced"
    );
}

#[test]
fn memory_cap_too_small_to_instantiate_is_fatal() {
    let tmp = TempDir::new("tiny-memory");
    let input = tmp.write("events.ndjson", docker_events(1).join("\n"));
    let run = run(&["--memory-limit", "1", "replay", arg(&input)]);
    run.expect_code(2);
    assert!(run.stderr.starts_with("crowsnest: "), "{}", run.stderr);
    assert!(run.stdout.is_empty());
}

#[test]
fn record_too_big_for_the_memory_cap_is_reported_as_sandbox_memory() {
    // A 12 MB record cannot even be copied into an instance capped at 8 MiB, whatever
    // the engine does with it; the rest of the input is unaffected.
    let tmp = TempDir::new("memory");
    let mut lines = docker_events(2);
    let blob = "x".repeat(12 << 20);
    lines.insert(3, with_label_value(&lines[3], &blob));
    let input = tmp.write("events.ndjson", lines.join("\n") + "\n");
    let run = run(&[
        "--memory-limit",
        "8",
        "replay",
        arg(&input),
        "--format",
        "jsonl",
    ]);
    run.expect_code(0);
    assert_accounted(&run, &input, 11);
    assert_eq!(
        run.balance(),
        Balance {
            records_in: 11,
            out: 10,
            reported: 1
        }
    );
    let diagnostic = diagnostic_at(&run, &input, 4);
    assert!(diagnostic.contains("error[sandbox.memory]"), "{diagnostic}");
    assert!(diagnostic.contains("8 MiB"), "{diagnostic}");

    // The other records raise what they raise without the huge one (whose line the
    // clean input does not have: later lines move up by one).
    let clean_input = tmp.write("clean.ndjson", docker_events(2).join("\n") + "\n");
    let clean = replay(None, &clean_input, &[]);
    clean.expect_code(0);
    let moved: Vec<(u64, String)> = run
        .ndjson()
        .iter()
        .map(|a| {
            let line = a["line"].as_u64().unwrap();
            let line = if line > 4 { line - 1 } else { line };
            (line, a["rule_id"].as_str().unwrap().to_string())
        })
        .collect();
    let expected: Vec<(u64, String)> = clean
        .ndjson()
        .iter()
        .map(|a| {
            (
                a["line"].as_u64().unwrap(),
                a["rule_id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(moved, expected);
}
