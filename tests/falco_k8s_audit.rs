//! Falco's real Kubernetes audit events through the component, as a user runs them:
//! `crowsnest replay ../shared/data/falco-k8s-audit/<file> --format jsonl`.

mod common;

use std::path::PathBuf;

use serde_json::Value;

fn falco() -> Option<PathBuf> {
    let dir = common::workspace().join("../shared/data/falco-k8s-audit");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipped: ../shared/data/falco-k8s-audit is not present");
        None
    }
}

/// The crowsnest alert records (`--format jsonl`) raised by one file.
fn alerts(dir: &std::path::Path, file: &str) -> (Vec<Value>, common::Run) {
    let path = dir.join(file);
    let run = common::run(&["replay", "--format", "jsonl", path.to_str().unwrap()]);
    run.expect_code(0);
    (run.ndjson(), run)
}

fn titled<'a>(alerts: &'a [Value], title: &str) -> Vec<&'a Value> {
    alerts.iter().filter(|a| a["rule_title"] == title).collect()
}

#[test]
fn privileged_pods_name_the_privileged_container() {
    let Some(dir) = falco() else { return };
    for (file, container) in [
        ("create_nginx_pod_privileged.json", "nginx"),
        ("create_nginx_pod_privileged_2nd_container.json", "mysql"),
        (
            "create_nginx_pod_no_secctx_1st_container_privileged_2nd_container.json",
            "mysql",
        ),
    ] {
        let (all, _) = alerts(&dir, file);
        let privileged = titled(&all, "Privileged container launched");
        assert_eq!(privileged.len(), 1, "{file}: {all:?}");
        assert_eq!(
            privileged[0]["containers"],
            serde_json::json!([container]),
            "{file}"
        );
        assert_eq!(privileged[0]["namespace"], "default");
    }
}

#[test]
fn both_etc_host_paths_are_sensitive_mounts() {
    let Some(dir) = falco() else { return };
    for file in [
        "create_nginx_pod_sensitive_mount.json",
        "create_nginx_pod_sensitive_mount_2nd_container.json",
    ] {
        let (all, _) = alerts(&dir, file);
        let mounts = titled(&all, "Sensitive host path mounted into a container");
        assert_eq!(mounts.len(), 1, "{file}: {all:?}");
        let doc = &mounts[0]["document"];
        let paths = doc["unmapped"]["crowsnest"]["container"][0]["host_mounts"].to_string();
        assert!(paths.contains("\"/etc\""), "{file}: {paths}");
    }
}

#[test]
fn host_network_pod_alerts_and_its_twin_does_not() {
    let Some(dir) = falco() else { return };
    let (all, _) = alerts(&dir, "create_nginx_pod_hostnetwork.json");
    assert_eq!(
        titled(&all, "Container shares the host network namespace").len(),
        1,
        "{all:?}"
    );
    for quiet in [
        "create_nginx_pod_nohostnetwork.json",
        "create_nginx_pod_unprivileged.json",
    ] {
        let (all, run) = alerts(&dir, quiet);
        assert!(all.is_empty(), "{quiet}: {all:?}");
        assert_eq!(run.balance().reported, 0);
    }
}

#[test]
fn exec_alert_has_the_command_and_the_target_container() {
    let Some(dir) = falco() else { return };
    let (all, _) = alerts(&dir, "exec_pod.json");
    let exec = titled(&all, "Command executed in a running container");
    assert_eq!(exec.len(), 1, "{all:?}");
    assert_eq!(exec[0]["containers"], serde_json::json!(["nginx1"]));
    assert_eq!(exec[0]["principal"], "minikube-user");
    let doc = &exec[0]["document"];
    assert_eq!(doc["evidences"][0]["data"]["process.command_line"], "bash");
    assert_eq!(doc["evidences"][0]["container"]["name"], "nginx1");
}

#[test]
fn malformed_event_gets_a_located_diagnostic_and_no_crash() {
    let Some(dir) = falco() else { return };
    let (all, run) = alerts(&dir, "fal_01_003.json");
    assert!(all.is_empty());
    let balance = run.balance();
    assert_eq!(
        (balance.records_in, balance.out, balance.reported),
        (1, 0, 1)
    );
    assert!(
        run.stderr.contains("fal_01_003.json:1:"),
        "no file:line diagnostic in\n{}",
        run.stderr
    );
}

#[test]
fn the_whole_folder_balances() {
    let Some(dir) = falco() else { return };
    let run = common::run(&["replay", "--format", "jsonl", dir.to_str().unwrap()]);
    run.expect_code(0);
    let b = run.balance();
    assert_eq!(b.records_in, b.out + b.reported);
    assert_eq!(
        b.reported, 1,
        "only fal_01_003.json is malformed\n{}",
        run.stderr
    );
}
