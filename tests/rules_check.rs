//! `crowsnest rules check DIR` and `--rules DIR`: a pack's problems are reported at
//! `DIR/file:line:column`, a good pack is accepted, and a bad one never runs.

mod common;

use common::{TempDir, arg, docker_events, run};

/// A rule that fires on every exec into a container.
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

fn good_pack() -> TempDir {
    let tmp = TempDir::new("pack-good");
    tmp.write("rules/exec.yml", EXEC_RULE);
    tmp
}

/// The exec rule with a YAML syntax error on line 8 (`a: b: c`).
fn bad_pack() -> TempDir {
    let tmp = TempDir::new("pack-bad");
    tmp.write("rules/ok.yml", EXEC_RULE);
    tmp.write(
        "rules/sub/broken.yml",
        EXEC_RULE.replace(
            "    action: container-exec",
            "    action: container-exec: oops",
        ),
    );
    tmp
}

#[test]
fn yaml_syntax_error_is_reported_at_its_line() {
    let pack = bad_pack();
    let dir = pack.path().join("rules");
    let run = run(&["rules", "check", arg(&dir)]);
    assert_eq!(run.code(), Some(1), "{run:?}");
    let output = format!("{}{}", run.stdout, run.stderr);
    let expected = format!("{}:8:", dir.join("sub").join("broken.yml").display());
    let line = output
        .lines()
        .find(|l| l.starts_with(&expected))
        .unwrap_or_else(|| panic!("no {expected} in\n{output}"));
    // `path:LINE:COL: error[code]: message`
    let column = line[expected.len()..].split(':').next().unwrap();
    assert!(column.parse::<u32>().is_ok_and(|c| c > 1), "{line}");
    assert!(line.contains("error["), "{line}");
    assert!(
        !output.contains("ok.yml:"),
        "the good file has no diagnostics:\n{output}"
    );
    assert!(!run.stdout.contains("ok:"));
}

#[test]
fn good_pack_is_accepted() {
    let pack = good_pack();
    let run = run(&["rules", "check", arg(pack.path())]);
    run.expect_code(0);
    assert!(
        run.stdout.contains("ok: 1 rules, 0 correlations"),
        "{}",
        run.stdout
    );
}

#[test]
fn missing_or_empty_pack_dir_is_a_fatal_error() {
    let tmp = TempDir::new("pack-empty");
    run(&["rules", "check", arg(&tmp.path().join("absent"))]).expect_code(2);
    tmp.write("README.md", "no rules here");
    let run = run(&["rules", "check", arg(tmp.path())]);
    run.expect_code(2);
    assert!(run.stderr.contains("no *.yml"), "{}", run.stderr);
}

#[test]
fn replay_with_a_bad_pack_prints_diagnostics_and_exits_2() {
    let pack = bad_pack();
    let tmp = TempDir::new("bad-pack-input");
    let input = tmp.write("events.ndjson", docker_events(2).join("\n"));
    let run = run(&[
        "replay",
        arg(&input),
        "--rules",
        arg(&pack.path().join("rules")),
        "--format",
        "jsonl",
    ]);
    run.expect_code(2);
    assert!(run.stdout.is_empty(), "nothing is replayed: {}", run.stdout);
    assert!(run.stderr.contains("broken.yml:8:"), "{}", run.stderr);
}

#[test]
fn replay_runs_the_given_pack_instead_of_the_built_in_one() {
    let pack = good_pack();
    let tmp = TempDir::new("good-pack-input");
    let input = tmp.write("events.ndjson", docker_events(3).join("\n"));
    for engine in [&[][..], &["--native"][..]] {
        let mut args = vec![
            "replay",
            arg(&input),
            "--rules",
            arg(pack.path()),
            "--format",
            "jsonl",
        ];
        args.extend_from_slice(engine);
        let run = run(&args);
        run.expect_code(0);
        let alerts = run.ndjson();
        // Three containers, one `exec_create` and one `exec_start` each: the test rule
        // is the only rule loaded, and only exec records can raise it.
        assert!(!alerts.is_empty(), "{engine:?}: {}", run.stderr);
        assert!(
            alerts
                .iter()
                .all(|a| a["rule_title"] == "Harness test exec rule"),
            "{engine:?}: {alerts:?}"
        );
        assert!(
            alerts.iter().all(|a| a["action"] == "container-exec"),
            "{engine:?}"
        );
    }
}

#[test]
fn strict_turns_warnings_into_errors() {
    let tmp = TempDir::new("pack-strict");
    // `filter_ci` is defined but the condition forgot it: a warning, an error under --strict.
    tmp.write(
        "rules/exec.yml",
        EXEC_RULE.replace(
            "  condition: selection",
            "  filter_ci:\n    principal.name: 'system:serviceaccount:ci:*'\n  condition: selection",
        ),
    );
    let relaxed = run(&["rules", "check", arg(tmp.path())]);
    relaxed.expect_code(0);
    assert!(
        relaxed.stderr.contains("warning[rule.selection-unused]"),
        "{}",
        relaxed.stderr
    );
    let strict = run(&["rules", "check", "--strict", arg(tmp.path())]);
    strict.expect_code(1);
    assert!(
        strict
            .stderr
            .contains("exec.yml:9:3: warning[rule.selection-unused]"),
        "{}",
        strict.stderr
    );
    assert!(
        strict.stderr.contains("errors under --strict"),
        "{}",
        strict.stderr
    );
}
