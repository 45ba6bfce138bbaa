//! Faults seen from the pipeline: `crowsnest filter` writes one line per record, so
//! every record's fate can be counted from its output line. Each test checks
//! records in = records out (a `crowsnest.source`) + records reported (a `sandbox.*` or
//! `decode.*` diagnostic and no source), that the summary says the same, and that the
//! records that did not fault raise the alerts a clean run raises.
//!
//! Faults: a trap in the middle of a batch, a rule update while records flow, a rule
//! pack that passes every load-time check but costs more than the deadline on one
//! record, a record too big for the memory cap, and a correlation grouped by a unique
//! field (state bounded, evictions reported) through the component.

mod common;

use std::time::{Duration, Instant};

use common::{
    Balance, Run, TempDir, arg, crowsnest, docker_events, fault_component, run_command,
    with_label_value,
};
use serde_json::Value;

/// What the filter's output says about each record, and the alert lines.
#[derive(Debug, Default)]
struct Account {
    records_out: u64,
    records_reported: u64,
    /// Code of the fault or decode diagnostic of each reported record, with its line.
    reported: Vec<(u64, String)>,
    /// (line, rule id) of every alert: in its record's `crowsnest.alerts`, or on a
    /// line of its own when no record holds it.
    alerts: Vec<(u64, String)>,
}

/// Count `stdout` of `crowsnest filter --format jsonl` (each alert in its record),
/// whose input had `records_in` records and no blank lines.
fn account(run: &Run, records_in: usize) -> Account {
    let mut account = Account::default();
    let mut record_line = 0u64;
    for line in run.stdout.lines() {
        let value: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("output line is not JSON ({e}): {line:.200}"));
        let Some(member) = value.get("crowsnest") else {
            account.alerts.push((
                value["line"].as_u64().expect("an alert line has a line"),
                value["rule_id"].as_str().unwrap().to_string(),
            ));
            continue;
        };
        record_line += 1;
        for alert in member["alerts"].as_array().into_iter().flatten() {
            let rule = alert["finding_info"]["analytic"]["uid"].as_str().unwrap();
            account.alerts.push((record_line, rule.to_string()));
        }
        if member.get("source").is_some() {
            account.records_out += 1;
            continue;
        }
        let codes: Vec<&str> = member["diagnostics"]
            .as_array()
            .map(|d| d.iter().filter_map(|d| d["code"].as_str()).collect())
            .unwrap_or_default();
        let code = codes
            .iter()
            .find(|c| c.starts_with("sandbox.") || c.starts_with("decode."))
            .unwrap_or_else(|| panic!("line {record_line}: no source and no fault: {line:.300}"));
        account.records_reported += 1;
        account.reported.push((record_line, code.to_string()));
    }
    assert_eq!(
        record_line, records_in as u64,
        "one output record line per input record"
    );
    assert_eq!(
        account.records_out + account.records_reported,
        records_in as u64,
        "in = out + reported, counted from the output"
    );
    assert_eq!(
        run.balance(),
        Balance {
            records_in: records_in as u64,
            out: account.records_out,
            reported: account.records_reported,
        },
        "the summary agrees with the output"
    );
    account.alerts.sort();
    account
}

/// `crowsnest <global...> filter --format jsonl` over `lines`.
fn filter(global: &[&str], lines: &[String]) -> Run {
    let mut cmd = crowsnest();
    cmd.args(global).args(["filter", "--format", "jsonl"]);
    let input = lines.join("\n") + "\n";
    run_command(cmd, Some(input.as_bytes()), common::RUN_TIMEOUT)
}

/// The alerts of `account` not raised on one of `lines`.
fn alerts_except(account: &Account, lines: &[u64]) -> Vec<(u64, String)> {
    account
        .alerts
        .iter()
        .filter(|(line, _)| !lines.contains(line))
        .cloned()
        .collect()
}

#[test]
fn a_trap_mid_batch_is_accounted_for() {
    let mut lines = docker_events(8);
    let clean = filter(&[], &lines);
    clean.expect_code(0);
    let clean = account(&clean, lines.len());
    assert_eq!(clean.records_reported, 0);
    assert!(!clean.alerts.is_empty(), "the comparison means something");

    let poison = [13u64, 27];
    for &line in &poison {
        let i = line as usize - 1;
        lines[i] = with_label_value(&lines[i], "crowsnest-fault:trap");
    }
    let component = fault_component().to_str().unwrap();
    for batch in ["256", "10"] {
        let run = filter(&["--component", component, "--batch", batch], &lines);
        run.expect_code(0);
        let faulty = account(&run, lines.len());
        assert_eq!(
            faulty.reported,
            poison
                .iter()
                .map(|&l| (l, "sandbox.trap".to_string()))
                .collect::<Vec<_>>(),
            "--batch {batch}"
        );
        assert_eq!(
            faulty.alerts,
            alerts_except(&clean, &poison),
            "--batch {batch}"
        );
    }
}

#[test]
fn a_rule_update_under_load_is_accounted_for() {
    // Records stream in while the pack directory is rewritten between runs of the
    // watcher; each record is answered by one pack or the other, none is lost.
    let dir = TempDir::new("faults-reload");
    let pack = dir.path().join("pack");
    let rule = |id: &str| {
        format!(
            "title: Start {id}\nid: {id}\nlogsource:\n  category: container\n\
             detection:\n  start:\n    action: container-start\n  condition: start\nlevel: low\n"
        )
    };
    const A: &str = "0ad0a0a0-0000-4000-8000-00000000000a";
    const B: &str = "0ad0a0a0-0000-4000-8000-00000000000b";
    dir.write("pack/start.yml", rule(A));
    let lines = docker_events(400);
    let mut cmd = crowsnest();
    cmd.args([
        "--rules",
        arg(&pack),
        "filter",
        "--watch",
        "--format",
        "jsonl",
    ])
    .args(["--batch", "16", "--flush-ms", "1"]);
    let input = lines.join("\n") + "\n";
    let writer = {
        let dir = dir.path().to_path_buf();
        let rule_b = rule(B);
        let rule_a = rule(A);
        std::thread::spawn(move || {
            for i in 0..20 {
                std::thread::sleep(Duration::from_millis(25));
                let text = if i % 2 == 0 { &rule_b } else { &rule_a };
                std::fs::write(dir.join("pack/start.yml"), text).unwrap();
            }
        })
    };
    let run = run_command(cmd, Some(input.as_bytes()), common::RUN_TIMEOUT);
    writer.join().unwrap();
    run.expect_code(0);
    let account = account(&run, lines.len());
    assert_eq!(account.records_reported, 0, "{}", run.stderr);
    // Every start alerts exactly once, under whichever pack was running.
    let starts: Vec<u64> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.contains(r#""Action":"start""#))
        .map(|(i, _)| i as u64 + 1)
        .collect();
    let alerted: Vec<u64> = account.alerts.iter().map(|(line, _)| *line).collect();
    assert_eq!(alerted, starts);
    assert!(
        account.alerts.iter().all(|(_, id)| id == A || id == B),
        "{:?}",
        account.alerts
    );
}

/// 40 rules, each 64 `contains|all` values (the most a rule may list under `|all`):
/// legal, and cheap on ordinary records, but 2,560 separate scans of a field on every
/// event, which on a command line of a few hundred kilobytes takes seconds.
fn pathological_pack(dir: &TempDir) -> std::path::PathBuf {
    for r in 0..40 {
        let mut text = format!(
            "title: Many parts {r}\nid: 9a9a9a9a-0000-4000-8000-{r:012}\nlogsource:\n  category: container\n\
             detection:\n  sel:\n    process.command_line|contains|all:\n"
        );
        for v in 0..64 {
            text.push_str(&format!("      - '{}b{r}x{v}'\n", "a".repeat(v % 40 + 1)));
        }
        text.push_str("  condition: sel\nlevel: low\n");
        dir.write(&format!("pack/many_{r}.yml"), text);
    }
    dir.write(
        "pack/start.yml",
        "title: Container started\nid: 0ad0a0a0-0000-4000-8000-0000000000ff\nlogsource:\n  category: container\n\
         detection:\n  start:\n    action: container-start\n  condition: start\nlevel: low\n",
    );
    dir.path().join("pack")
}

/// A `docker exec` whose command line is `len` bytes of `a`, then every value of the
/// pathological pack, so each `|all` search runs to the end of the field.
fn slow_exec(line_like: &str, len: usize) -> String {
    let mut cmd = String::from("/bin/sh -c ");
    cmd.push_str(&"a".repeat(len));
    for r in 0..40 {
        for v in 0..64 {
            cmd.push_str(&format!(" {}b{r}x{v}", "a".repeat(v % 40 + 1)));
        }
    }
    line_like.replace("/bin/sh -c id", &cmd)
}

#[test]
fn a_pathological_rule_times_out_on_its_record_and_the_rest_is_processed() {
    let dir = TempDir::new("faults-slow-rule");
    let pack = pathological_pack(&dir);
    let check = {
        let mut cmd = crowsnest();
        cmd.args(["rules", "check", arg(&pack)]);
        run_command(cmd, None, common::RUN_TIMEOUT)
    };
    check.expect_code(0);

    let mut lines = docker_events(8);
    // Lines 3 and 28 are exec_create records (`/bin/sh -c id`).
    let slow = [3u64, 28];
    for &line in &slow {
        let i = line as usize - 1;
        assert!(lines[i].contains("exec_create"), "{}", lines[i]);
        lines[i] = slow_exec(&lines[i], 200_000);
        assert!(lines[i].len() < 1 << 20, "under --max-record-bytes");
    }
    // The clean run: the same stream with the slow records left out.
    let clean_lines: Vec<String> = lines
        .iter()
        .enumerate()
        .filter(|(i, _)| !slow.contains(&(*i as u64 + 1)))
        .map(|(_, l)| l.clone())
        .collect();
    let clean_run = filter(&["--rules", arg(&pack)], &clean_lines);
    clean_run.expect_code(0);
    let clean = account(&clean_run, clean_lines.len());
    // Lines shift by the records left out; put them back where they were.
    let renumber = |line: u64| -> u64 {
        let mut original = line;
        for &s in &slow {
            if original >= s {
                original += 1;
            }
        }
        original
    };
    let expected: Vec<(u64, String)> = clean
        .alerts
        .iter()
        .map(|(line, id)| (renumber(*line), id.clone()))
        .collect();
    assert!(!expected.is_empty());

    let started = Instant::now();
    let run = filter(&["--rules", arg(&pack), "--deadline-ms", "300"], &lines);
    let elapsed = started.elapsed();
    run.expect_code(0);
    let faulty = account(&run, lines.len());
    println!(
        "pathological pack: {} records, {} timed out, in {elapsed:?}",
        lines.len(),
        faulty.records_reported
    );
    assert_eq!(
        faulty.reported,
        slow.iter()
            .map(|&l| (l, "sandbox.timeout".to_string()))
            .collect::<Vec<_>>(),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("<stdin>:3:1: error[sandbox.timeout]"),
        "located: {}",
        run.stderr
    );
    let mut got = faulty.alerts.clone();
    got.sort();
    assert_eq!(got, expected);
    // Each slow record costs at most two deadlines (in its batch, then alone) plus an
    // instance; far from the seconds it would take to finish.
    assert!(elapsed < Duration::from_secs(60), "{elapsed:?}");
}

#[test]
fn a_record_over_the_memory_cap_is_accounted_for() {
    let mut lines = docker_events(4);
    let clean = account(&filter(&[], &lines), lines.len());
    // A 12 MB record cannot even be copied into an instance capped at 8 MiB.
    let huge = 5u64;
    lines[huge as usize - 1] = with_label_value(&lines[huge as usize - 1], &"x".repeat(12 << 20));
    let run = filter(&["--memory-limit", "8"], &lines);
    run.expect_code(0);
    let faulty = account(&run, lines.len());
    assert_eq!(faulty.reported, [(huge, "sandbox.memory".to_string())]);
    assert_eq!(faulty.alerts, alerts_except(&clean, &[huge]));
}

#[test]
fn a_correlation_grouped_by_a_unique_field_is_bounded_in_the_component() {
    let dir = TempDir::new("faults-unique-group");
    dir.write(
        "pack/starts.yml",
        "title: Container started\nid: 4c0ffee0-0000-4000-8000-000000000001\nlogsource:\n  category: container\n\
         detection:\n  start:\n    action: container-start\n  condition: start\nlevel: low\n---\n\
         title: Same container started three times within an hour\nid: 4c0ffee0-0000-4000-8000-000000000002\n\
         correlation:\n  type: event_count\n  rules:\n    - 4c0ffee0-0000-4000-8000-000000000001\n\
         \x20 group-by:\n    - container.id\n  timespan: 1h\n  condition:\n    gte: 3\nlevel: medium\n",
    );
    dir.write(
        "pack/policy.yml",
        "thresholds:\n  correlation_max_groups: 5000\n",
    );
    const DISTINCT: usize = 30_000;
    let lines: Vec<String> = (0..DISTINCT)
        .map(|n| {
            let t = 1_715_000_000 + n as u64 / 10;
            format!(
                r#"{{"status":"start","id":"{n:064x}","from":"nginx:1.25","Type":"container","Action":"start","Actor":{{"ID":"{n:064x}","Attributes":{{"image":"nginx:1.25","name":"c{n}"}}}},"scope":"local","time":{t},"timeNano":{t}000000000}}"#
            )
        })
        .collect();
    let started = Instant::now();
    let mut cmd = crowsnest();
    cmd.args(["--rules", arg(&dir.path().join("pack")), "replay", "-"])
        .args(["--format", "jsonl", "--memory-limit", "64"]);
    let input = lines.join("\n") + "\n";
    let run = run_command(cmd, Some(input.as_bytes()), common::RUN_TIMEOUT);
    let elapsed = started.elapsed();
    run.expect_code(0);
    println!(
        "{DISTINCT} unique group-by values through the component in {elapsed:?} (the first run of a test binary includes compiling the component)"
    );
    assert_eq!(
        run.balance(),
        Balance {
            records_in: DISTINCT as u64,
            out: DISTINCT as u64,
            reported: 0
        }
    );
    assert!(
        run.stdout.trim().is_empty(),
        "no alerts: {:.300}",
        run.stdout
    );
    let warnings: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("warning[correlation.state-bound]"))
        .collect();
    assert_eq!(warnings.len(), 1, "reported once:\n{}", run.stderr);
    assert!(
        warnings[0].trim_start().starts_with("<stdin>:5001:1: "),
        "{}",
        warnings[0]
    );
    let correlations = run
        .stderr
        .lines()
        .find(|l| l.starts_with("correlations: "))
        .unwrap_or_else(|| panic!("the summary counts correlation windows:\n{}", run.stderr));
    println!("{correlations}");
    let numbers: Vec<u64> = correlations
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    let (open, evicted) = (numbers[0], numbers[1]);
    assert!(open <= 5000, "{correlations}");
    assert_eq!(open + evicted, DISTINCT as u64, "{correlations}");
}

#[test]
fn consecutive_replays_with_a_state_file_correlate_across_them() {
    // The risky-launch correlation (AN0693): the launch in one replay, the shell in the
    // next; with --state the second replay completes it, once; without, it cannot.
    const RISKY_LAUNCH: &str = "b5f8e2c4-7a3d-4c19-9d6e-2f1a8c5b3e70";
    let scenario =
        common::samples().join("scenarios/an0693-risky-launch/attack-k8s-privileged-pod-shell");
    let dir = TempDir::new("faults-replay-state");
    let state = dir.path().join("replay.state");
    let replay = |inputs: &[&str], state: Option<&std::path::Path>| {
        let mut cmd = crowsnest();
        cmd.args(["replay", "--format", "jsonl", "--quiet"]);
        if let Some(state) = state {
            cmd.arg("--state").arg(state);
        }
        cmd.args(inputs.iter().map(|f| scenario.join(f)));
        let run = run_command(cmd, None, common::RUN_TIMEOUT);
        run.expect_code(0);
        run.ndjson()
            .iter()
            .filter(|a| a["rule_id"] == RISKY_LAUNCH)
            .count()
    };
    let launch = ["1-k8s-audit.ndjson", "2-k8s-events.ndjson"];
    assert_eq!(replay(&launch, Some(&state)), 0);
    assert!(state.exists(), "the state is written at the end");
    assert_eq!(replay(&["3-falco.ndjson"], Some(&state)), 1);
    assert_eq!(replay(&["3-falco.ndjson"], None), 0);
}
