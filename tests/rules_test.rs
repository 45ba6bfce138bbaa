//! `crowsnest rules test` and `crowsnest rules explain`: the shipped pack's tests pass,
//! a failing expectation is reported at its line with exit status 1, and explain says
//! which selection decided each record.

mod common;

use common::{TempDir, arg, run, samples, workspace};

const EXEC_ID: &str = "5f1c8a9e-2b7d-4c3e-9a61-0d2f4b8e7c11";
const EXEC_RULE: &str = "\
title: Harness test exec rule
id: 5f1c8a9e-2b7d-4c3e-9a61-0d2f4b8e7c11
status: test
logsource:
  category: container
detection:
  selection:
    action: container-exec
  condition: selection
level: low
";

/// `docker exec` into the node-agent container, as `docker events` prints it.
const EXEC_EVENT: &str = r#"{"status":"exec_create: /bin/sh -c id","id":"25923f70cb6243497e0cbe25137706b3fe5a5a9a3d145fca64ac7e568cebadc7","from":"registry.example.com:5000/ops/node-agent:2.1","Type":"container","Action":"exec_create: /bin/sh -c id","Actor":{"ID":"25923f70cb6243497e0cbe25137706b3fe5a5a9a3d145fca64ac7e568cebadc7","Attributes":{"execID":"3844a75657fa0f33c31f53ffe503a11f7854af01c48bd471d9455dc99b3a35ff","image":"registry.example.com:5000/ops/node-agent:2.1","name":"node-agent"}},"scope":"local","time":1715678861,"timeNano":1715678861300512986}"#;

/// A pack with the exec rule and `tests/exec.yml` holding `tests`.
fn pack(tests: &str) -> TempDir {
    let tmp = TempDir::new("rules-test");
    tmp.write("pack/rules/exec.yml", EXEC_RULE);
    tmp.write("pack/tests/exec.yml", tests);
    tmp
}

/// The 1-based number of the first line of `text` containing `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no {needle:?} in\n{text}"))
        + 1
}

#[test]
fn the_shipped_pack_passes_its_tests() {
    let pack = workspace().join("transform").join("rules");
    let run = run(&["rules", "test", arg(&pack)]);
    run.expect_code(0);
    assert!(!run.stdout.contains("FAIL"), "{}", run.stdout);
    // Every rule file of the pack has tests, positive and negative.
    for rule in [
        "exec",
        "host_namespaces",
        "privileged",
        "restart_policy",
        "sensitive_mount",
    ] {
        let file = format!("tests/{rule}.yml:");
        assert!(
            run.stdout.lines().filter(|l| l.contains(&file)).count() >= 3,
            "too few tests in {file}\n{}",
            run.stdout
        );
    }
    let summary = run.stdout.lines().last().unwrap_or_default();
    assert!(summary.ends_with("passed, 0 failed"), "{summary}");
}

#[test]
fn a_failing_expectation_is_reported_at_its_line_with_exit_status_1() {
    let tests = format!(
        "tests:\n\
         \x20 - name: one exec raises one alert\n\
         \x20   input: |\n\
         \x20     {EXEC_EVENT}\n\
         \x20   expect:\n\
         \x20     - rule: {EXEC_ID}\n\
         \x20       fields:\n\
         \x20         containers: [node-agent]\n\
         \x20 - name: one exec raises two alerts\n\
         \x20   input: |\n\
         \x20     {EXEC_EVENT}\n\
         \x20   expect:\n\
         \x20     - rule: {EXEC_ID}\n\
         \x20       count: 2\n"
    );
    let tmp = pack(&tests);
    let dir = tmp.path().join("pack");
    let file = dir.join("tests").join("exec.yml").display().to_string();
    for native in [false, true] {
        let mut args = vec!["rules", "test", arg(&dir)];
        if native {
            args.push("--native");
        }
        let run = run(&args);
        run.expect_code(1);
        let out = &run.stdout;
        let pass = format!("pass  {file}:2 ");
        assert!(out.contains(&pass), "no {pass:?} in\n{out}");
        let fail = format!("FAIL  {file}:9 ");
        assert!(out.contains(&fail), "no {fail:?} in\n{out}");
        let reason = format!(
            "{file}:{}: expected 2 alert(s) of rule {EXEC_ID}, got 1",
            line_of(&tests, "count: 2") - 1
        );
        assert!(out.contains(&reason), "no {reason:?} in\n{out}");
        assert!(out.ends_with("2 tests: 1 passed, 1 failed\n"), "{out}");
    }
}

#[test]
fn an_alert_nobody_expected_fails_the_test() {
    let tests = format!(
        "tests:\n  - name: nothing should fire\n    input: |\n      {EXEC_EVENT}\n    expect: []\n"
    );
    let tmp = pack(&tests);
    let dir = tmp.path().join("pack");
    let run = run(&["rules", "test", "--native", arg(&dir)]);
    run.expect_code(1);
    let file = dir.join("tests").join("exec.yml").display().to_string();
    // Located at the `expect:` line, naming the input line that raised it.
    let reason = format!(
        "{file}:5: unexpected alert {EXEC_ID} (Harness test exec rule) from {file}:4: exec `/bin/sh -c id` into node-agent"
    );
    assert!(
        run.stdout.contains(&reason),
        "no {reason:?} in\n{}",
        run.stdout
    );
}

#[test]
fn a_wrong_field_is_reported_at_the_field() {
    let tests = format!(
        "tests:\n\
         \x20 - name: exec by someone\n\
         \x20   input: |\n\
         \x20     {EXEC_EVENT}\n\
         \x20   expect:\n\
         \x20     - rule: {EXEC_ID}\n\
         \x20       fields:\n\
         \x20         level: low\n\
         \x20         finding_info.analytic.uid: {EXEC_ID}\n\
         \x20         containers: [web]\n"
    );
    let tmp = pack(&tests);
    let dir = tmp.path().join("pack");
    let run = run(&["rules", "test", "--native", arg(&dir)]);
    run.expect_code(1);
    let file = dir.join("tests").join("exec.yml").display().to_string();
    let reason = format!(
        "{file}:10: the alert from {file}:4 does not match: containers: expected [\"web\"], got [\"node-agent\"]"
    );
    assert!(
        run.stdout.contains(&reason),
        "no {reason:?} in\n{}",
        run.stdout
    );
}

#[test]
fn a_test_file_that_is_not_yaml_is_located() {
    let tmp = pack("tests:\n  - name: broken\n    expect: [\n");
    let dir = tmp.path().join("pack");
    let run = run(&["rules", "test", "--native", arg(&dir)]);
    run.expect_code(1);
    let file = dir.join("tests").join("exec.yml").display().to_string();
    assert!(run.stdout.contains(&format!("{file}:4:")), "{}", run.stdout);
}

#[test]
fn a_pack_without_tests_fails() {
    let tmp = TempDir::new("rules-test-none");
    tmp.write("pack/exec.yml", EXEC_RULE);
    let run = run(&["rules", "test", "--native", arg(&tmp.path().join("pack"))]);
    run.expect_code(1);
    assert!(run.stderr.contains("has no tests"), "{}", run.stderr);
}

#[test]
fn explain_shows_the_selection_that_decided_each_record() {
    let risky = samples().join("k8s-audit").join("risky.ndjson");
    let run = run(&[
        "rules",
        "explain",
        "82c9a43a-11c4-49bb-9066-db66975c2886",
        arg(&risky),
    ]);
    run.expect_code(0);
    let out = &run.stdout;
    let file = risky.display().to_string();
    assert!(
        out.contains("rule 82c9a43a-11c4-49bb-9066-db66975c2886: Privileged container launched"),
        "{out}"
    );
    assert!(
        out.contains(&format!("{file}:1  k8s_audit workload-create  -> MATCH")),
        "{out}"
    );
    assert!(out.contains("=> alert: workload-create Pod default/priv-debug"));
    // Line 2 is launched but not privileged: the `privileged` selection read nothing.
    let second = &out[out
        .find(&format!("{file}:2 "))
        .unwrap_or_else(|| panic!("no line 2 in\n{out}"))..];
    assert!(second.contains("-> no match"), "{second}");
    assert!(
        second.contains("container.privileged is true; absent: field absent"),
        "{second}"
    );
    // The exec record fails on its action.
    assert!(
        out.contains(r#"action is one of container-create, workload-create, workload-update; read "container-exec": value mismatch"#),
        "{out}"
    );
}

#[test]
fn explain_lists_what_a_correlation_references() {
    let tmp = TempDir::new("rules-explain");
    tmp.write(
        "pack/rules.yml",
        format!(
            "{}name: exec_seen\n---\ntitle: Exec burst\nid: burst-1\ncorrelation:\n  type: event_count\n  rules: [exec_seen]\n  group-by: [container.id]\n  timespan: 60s\n  condition:\n    gte: 3\n",
            EXEC_RULE
        ),
    );
    let events = tmp.write("events.ndjson", format!("{EXEC_EVENT}\n"));
    let run = run(&[
        "--rules",
        arg(&tmp.path().join("pack")),
        "rules",
        "explain",
        "burst-1",
        arg(&events),
    ]);
    run.expect_code(0);
    let out = &run.stdout;
    assert!(out.contains("correlation burst-1: Exec burst"), "{out}");
    assert!(
        out.contains(&format!(
            "exec_seen -> detection rule {EXEC_ID}: Harness test exec rule"
        )),
        "{out}"
    );
    assert!(
        out.contains(
            "group: container.id=25923f70cb6243497e0cbe25137706b3fe5a5a9a3d145fca64ac7e568cebadc7"
        ),
        "{out}"
    );
}

#[test]
fn explain_of_an_unknown_rule_is_an_error() {
    let risky = samples().join("k8s-audit").join("risky.ndjson");
    let run = run(&["rules", "explain", "no-such-rule", arg(&risky)]);
    run.expect_code(2);
    assert!(run.stderr.contains("no-such-rule"), "{}", run.stderr);
}
