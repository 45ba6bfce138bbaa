//! `crowsnest rules doc`: `docs/analytics.md` is what the command prints for the built-in
//! pack and `samples/scenarios/`, so the document cannot drift from the rules and the
//! scenarios. `CROWSNEST_BLESS=1` rewrites it; read the diff before committing it.

mod common;

use common::{RUN_TIMEOUT, TempDir, arg, crowsnest, run, run_command, workspace};

#[test]
fn docs_analytics_md_is_what_rules_doc_prints() {
    let mut cmd = crowsnest();
    cmd.current_dir(workspace())
        .args(["rules", "doc", "--scenarios", "samples/scenarios"]);
    let run = run_command(cmd, None, RUN_TIMEOUT);
    run.expect_code(0);
    let path = workspace().join("docs/analytics.md");
    if std::env::var_os("CROWSNEST_BLESS").is_some() {
        std::fs::write(&path, &run.stdout).expect("write docs/analytics.md");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != run.stdout {
        let line = committed
            .lines()
            .zip(run.stdout.lines())
            .position(|(a, b)| a != b)
            .map_or_else(
                || committed.lines().count().min(run.stdout.lines().count()) + 1,
                |i| i + 1,
            );
        panic!(
            "docs/analytics.md is stale from line {line}: regenerate it with \
             `crowsnest rules doc --scenarios samples/scenarios > docs/analytics.md` \
             (or CROWSNEST_BLESS=1 cargo test -p crowsnest --test rules_doc)"
        );
    }
}

#[test]
fn a_pack_directory_is_documented_by_its_analytics() {
    let tmp = TempDir::new("doc-pack");
    tmp.write(
        "pack/launch.yml",
        "title: Privileged container from an unapproved registry\n\
         id: 0b1d6c8e-4f2a-4e3b-9a57-1c2d3e4f5a6b\n\
         analytic: AN0693\n\
         tags:\n  - attack.execution\n  - attack.t1610\n\
         logsource:\n  product: docker\n\
         detection:\n  launch:\n    action: container-create\n    container.privileged: true\n\
         \x20 approved:\n    crowsnest.image.approved: true\n\
         \x20 condition: launch and not approved\n\
         falsepositives:\n  - Node agents.\n\
         level: high\n\
         # high: privileged and unvetted.\n",
    );
    let dir = tmp.path().join("pack");
    let run = run(&["rules", "doc", arg(&dir)]);
    run.expect_code(0);
    let md = &run.stdout;
    assert!(md.contains("## AN0693"), "{md}");
    assert!(
        md.contains("[T1610](https://attack.mitre.org/techniques/T1610/)"),
        "{md}"
    );
    assert!(
        md.contains("`docker_authz`, `docker_daemon`, `docker_event`, `docker_inspect`"),
        "{md}"
    );
    assert!(
        md.contains("| high | high: privileged and unvetted. |"),
        "{md}"
    );
    assert!(md.contains("  - Node agents."), "{md}");
    assert!(
        md.contains("not `approved`: `crowsnest.image.approved`: `true`"),
        "{md}"
    );
}
