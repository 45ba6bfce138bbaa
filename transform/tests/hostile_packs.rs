//! Hostile rule packs: each is bounded and reported, never a hang or an unbounded
//! allocation. A regex over the size limit and a value list over the item limit are
//! rejected at load time with a located `rule.too-costly` error; a correlation grouped by
//! a field that is new on every event keeps at most the policy's number of windows,
//! counts what it evicts and says so once; thousands of rules load in bounded time.

use std::time::{Duration, Instant};

use crowsnest_transform::Detector;
use crowsnest_transform::api::{BatchOrigin, Diagnostic, PackFile, Severity};

fn file(path: &str, text: impl Into<String>) -> PackFile {
    PackFile {
        path: path.into(),
        text: text.into(),
    }
}

/// Configure a fresh engine with `files`; the diagnostics of a rejected pack.
fn rejected(files: &[PackFile]) -> Vec<Diagnostic> {
    Detector::new()
        .configure(files)
        .expect_err("the pack must be rejected")
}

/// A rule reading `field` with `modifier` over `values`, as a one-document file.
fn rule_with_values(field_and_modifier: &str, values: &[String]) -> String {
    let mut text = String::from(
        "title: Hostile\nid: 7e1d2c3b-0000-4000-8000-00000000f001\nlogsource:\n  category: container\ndetection:\n  sel:\n",
    );
    text.push_str(&format!("    {field_and_modifier}:\n"));
    for value in values {
        text.push_str(&format!("      - '{value}'\n"));
    }
    text.push_str("  condition: sel\nlevel: low\n");
    text
}

#[test]
fn a_regex_over_the_size_limit_is_rejected_at_its_field() {
    let pattern = format!("^(?:{})$", "ab".repeat(2100));
    let text = rule_with_values("process.command_line|re", &[pattern]);
    let errs = rejected(&[file("hostile/regex.yml", text)]);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    let e = &errs[0];
    assert_eq!(e.code, "rule.too-costly", "{e}");
    assert_eq!(e.severity, Severity::Error);
    assert_eq!(
        (e.file.as_str(), e.line, e.column),
        ("hostile/regex.yml", 7, 5),
        "{e}"
    );
    assert!(e.message.contains("limit 4096"), "{e}");
}

#[test]
fn a_value_list_over_the_item_limit_is_rejected_at_its_field() {
    let values: Vec<String> = (0..10_001).map(|i| format!("tool-{i}")).collect();
    let text = rule_with_values("process.command_line|contains", &values);
    let started = Instant::now();
    let errs = rejected(&[file("hostile/list.yml", text)]);
    println!("10,001-value list rejected in {:?}", started.elapsed());
    assert_eq!(errs.len(), 1, "{errs:#?}");
    let e = &errs[0];
    assert_eq!(e.code, "rule.too-costly", "{e}");
    assert_eq!((e.line, e.column), (7, 5), "{e}");
    assert!(e.message.contains("10001 values"), "{e}");
    assert!(e.message.contains("policy.yml"), "{e}");
}

#[test]
fn a_value_list_at_the_item_limit_is_accepted() {
    let values: Vec<String> = (0..10_000).map(|i| format!("tool-{i}")).collect();
    let text = rule_with_values("process.command_line|contains", &values);
    let info = Detector::new()
        .configure(&[file("big/list.yml", text)])
        .expect("10,000 values is within the limit");
    assert_eq!(info.rules, 1);
}

#[test]
fn too_many_values_under_all_are_rejected_at_their_field() {
    let values: Vec<String> = (0..65).map(|i| format!("part-{i}")).collect();
    let text = rule_with_values("process.command_line|contains|all", &values);
    let errs = rejected(&[file("hostile/all.yml", text)]);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    let e = &errs[0];
    assert_eq!(e.code, "rule.too-costly", "{e}");
    assert_eq!((e.line, e.column), (7, 5), "{e}");
    assert!(e.message.contains("65 values under |all (limit 64)"), "{e}");
    // At the limit it loads.
    let text = rule_with_values("process.command_line|contains|all", &values[..64]);
    Detector::new()
        .configure(&[file("ok/all.yml", text)])
        .expect("64 values under |all is within the limit");
}

/// `n` distinct detection rules, one file.
fn many_rules(n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "title: Generated rule {i}\nid: 5a5a5a5a-0000-4000-8000-{i:012}\nlogsource:\n  category: container\n\
                 detection:\n  sel:\n    process.command_line|contains: 'generated-tool-{i} '\n  condition: sel\nlevel: low\n"
            )
        })
        .collect::<Vec<_>>()
        .join("---\n")
}

#[test]
fn five_thousand_rules_load_in_bounded_time_and_run() {
    let text = many_rules(5_000);
    let started = Instant::now();
    let mut detector = Detector::new();
    let info = detector
        .configure(&[file("generated.yml", text)])
        .expect("5,000 small rules are a legal pack");
    let loaded = started.elapsed();
    assert_eq!(info.rules, 5_000);
    println!("5,000 generated rules compiled in {loaded:?}");
    // Generous for an unoptimized build on a loaded machine; the point is that it ends.
    assert!(loaded < Duration::from_secs(60), "{loaded:?}");

    let exec = |i: usize, command: &str| {
        format!(
            r#"{{"status":"exec_create: {command}","id":"{id:064x}","from":"nginx:1.25","Type":"container","Action":"exec_create: {command}","Actor":{{"ID":"{id:064x}","Attributes":{{"execID":"{id:064x}","image":"nginx:1.25","name":"web"}}}},"scope":"local","time":{t},"timeNano":{t}000000000}}"#,
            id = i + 1,
            t = 1_715_677_900 + i
        )
    };
    let batch = [exec(1, "generated-tool-4321 --now"), exec(2, "ls")].join("\n");
    let started = Instant::now();
    let result = detector.process(batch.as_bytes(), &origin("execs.ndjson"));
    println!("2 records against 5,000 rules in {:?}", started.elapsed());
    let ids: Vec<&str> = result.alerts.iter().map(|a| a.rule_id.as_str()).collect();
    assert_eq!(ids, ["5a5a5a5a-0000-4000-8000-000000004321"]);
}

fn origin(file: &str) -> BatchOrigin {
    BatchOrigin {
        file: file.into(),
        first_line: 1,
        lines: Vec::new(),
    }
}

/// A detection rule on every container start, and a correlation over it grouped by the
/// container id, which a stream of fresh containers makes unique per event.
const UNIQUE_GROUP_PACK: &str = "\
title: Container started
id: 4c0ffee0-0000-4000-8000-000000000001
logsource:
  category: container
detection:
  start:
    action: container-start
  condition: start
level: low
---
title: Same container started three times within an hour
id: 4c0ffee0-0000-4000-8000-000000000002
correlation:
  type: event_count
  rules:
    - 4c0ffee0-0000-4000-8000-000000000001
  group-by:
    - container.id
  timespan: 1h
  condition:
    gte: 3
level: medium
";

/// `docker events` start of container `n` (unique id) at second `t`.
fn docker_start(n: usize, t: u64) -> String {
    format!(
        r#"{{"status":"start","id":"{n:064x}","from":"nginx:1.25","Type":"container","Action":"start","Actor":{{"ID":"{n:064x}","Attributes":{{"image":"nginx:1.25","name":"c{n}"}}}},"scope":"local","time":{t},"timeNano":{t}000000000}}"#
    )
}

#[test]
fn a_correlation_grouped_by_a_unique_field_stays_bounded_and_reports_evictions() {
    const MAX_GROUPS: usize = 20_000;
    const DISTINCT: usize = 200_000;
    let policy = format!("thresholds:\n  correlation_max_groups: {MAX_GROUPS}\n");
    let mut detector = Detector::new();
    detector
        .configure(&[
            file("unique/starts.yml", UNIQUE_GROUP_PACK),
            file("policy.yml", policy),
        ])
        .expect("the pack is legal");

    let started = Instant::now();
    let mut warnings = Vec::new();
    let mut peak_groups = 0;
    let mut peak_state_bytes = 0;
    let mut records = 0u64;
    let mut outcomes = 0u64;
    for chunk in 0..DISTINCT / 1_000 {
        let lines: Vec<String> = (0..1_000)
            .map(|i| {
                let n = chunk * 1_000 + i;
                // Ten new containers a second: every window is still open at the end.
                docker_start(n, 1_715_000_000 + (n / 10) as u64)
            })
            .collect();
        records += lines.len() as u64;
        let origin = BatchOrigin {
            file: "starts.ndjson".into(),
            first_line: (chunk * 1_000 + 1) as u32,
            lines: Vec::new(),
        };
        let result = detector.process(lines.join("\n").as_bytes(), &origin);
        outcomes += result
            .outcomes
            .iter()
            .filter(|o| o.source.is_some())
            .count() as u64;
        assert_eq!(result.alerts.len(), 0, "each container starts once");
        warnings.extend(result.diagnostics);
        let stats = detector.stats();
        peak_groups = peak_groups.max(stats.correlation_groups);
        peak_state_bytes = peak_state_bytes.max(stats.state_bytes);
    }
    let elapsed = started.elapsed();
    let stats = detector.stats();
    println!(
        "{DISTINCT} distinct group-by values in {elapsed:?}: peak {peak_groups} correlation \
         windows (bound {MAX_GROUPS}), {} evicted; container table peak {peak_state_bytes} \
         bytes, {} containers evicted",
        stats.correlation_evictions, stats.state_evictions
    );
    assert_eq!(records, DISTINCT as u64);
    assert_eq!(
        outcomes, records,
        "every record decoded: in = out + 0 reported"
    );
    assert!(peak_groups <= MAX_GROUPS as u64, "{peak_groups}");
    assert!(
        stats.correlation_evictions >= (DISTINCT - MAX_GROUPS) as u64,
        "every window past the bound was evicted and counted: {}",
        stats.correlation_evictions
    );
    assert_eq!(
        stats.correlation_groups + stats.correlation_evictions,
        DISTINCT as u64,
        "nothing expired by time here, so windows held + evicted = windows opened"
    );
    // The container table has its own bound (64 MiB, 131,072 containers).
    assert!(peak_state_bytes <= 64 << 20, "{peak_state_bytes}");
    assert!(stats.state_evictions > 0);

    // Reported once, located at the record that first hit the bound.
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    let w = &warnings[0];
    assert_eq!(w.code, "correlation.state-bound");
    assert_eq!(w.severity, Severity::Warning);
    assert_eq!(w.file, "starts.ndjson");
    assert_eq!(w.line, MAX_GROUPS as u32 + 1, "{w}");
    assert!(w.message.contains("20000"), "{w}");
    assert!(elapsed < Duration::from_secs(120), "{elapsed:?}");
}

#[test]
fn the_bound_keeps_recent_windows_working() {
    // After the bound evicted the stalest windows, a container seen recently still
    // completes its correlation.
    let policy = "thresholds:\n  correlation_max_groups: 100\n";
    let mut detector = Detector::new();
    detector
        .configure(&[
            file("unique/starts.yml", UNIQUE_GROUP_PACK),
            file("policy.yml", policy),
        ])
        .unwrap();
    let mut lines: Vec<String> = (0..1_000)
        .map(|n| docker_start(n, 1_715_000_000 + n as u64))
        .collect();
    lines.extend((0..2).map(|k| docker_start(999, 1_715_001_000 + k)));
    let result = detector.process(lines.join("\n").as_bytes(), &origin("s.ndjson"));
    let ids: Vec<&str> = result.alerts.iter().map(|a| a.rule_id.as_str()).collect();
    assert_eq!(ids, ["4c0ffee0-0000-4000-8000-000000000002"]);
    assert!(detector.stats().correlation_groups <= 100);
}

#[test]
fn a_zero_bound_is_a_located_policy_error() {
    let errs = rejected(&[
        file("unique/starts.yml", UNIQUE_GROUP_PACK),
        file(
            "policy.yml",
            "thresholds:\n  lateness: 30s\n  correlation_max_groups: 0\n",
        ),
    ]);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert_eq!(errs[0].file, "policy.yml");
    assert_eq!(errs[0].line, 3, "{}", errs[0]);
    assert!(errs[0].message.contains("at least 1"), "{}", errs[0]);
}
