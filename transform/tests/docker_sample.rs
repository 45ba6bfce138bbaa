//! The Docker sample: a thin event stream joined with `docker inspect` output.

use std::path::PathBuf;

use crowsnest_transform::Detector;
use crowsnest_transform::api::{Alert, BatchOrigin};

const AGENT_ID: &str = "25923f70cb6243497e0cbe25137706b3fe5a5a9a3d145fca64ac7e568cebadc7";
const DIGEST: &str = "sha256:499addb4620a02ceac5b95e11511ef48a5257ebccfc3c4be8b7931c3fa21e1f1";

fn replay(file: &str) -> Vec<Alert> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../samples/docker")
        .join(file);
    let bytes = std::fs::read(path).unwrap();
    let mut d = Detector::new();
    let r = d.process(
        &bytes,
        &BatchOrigin {
            file: file.into(),
            first_line: 1,
            lines: Vec::new(),
        },
    );
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
    r.alerts
}

/// The first matched container of an alert, as `unmapped.crowsnest` carries it.
fn container_of(alert: &Alert) -> serde_json::Value {
    let doc: serde_json::Value = serde_json::from_str(&alert.document).unwrap();
    doc["unmapped"]["crowsnest"]["container"][0].clone()
}

#[test]
fn lifecycle_raises_launch_alerts_once_and_the_exec() {
    let alerts = replay("lifecycle.ndjson");
    let mut titles: Vec<&str> = alerts.iter().map(|a| a.rule_title.as_str()).collect();
    titles.sort_unstable();
    // node-agent is privileged, shares the host PID namespace, mounts the Docker socket and
    // /etc, names no user (root) and restarts always. Being privileged, its restart policy
    // is the AN1578 persistence rule's, not the plain restart rule's. Its image comes from
    // the approved registry.example.com, so it is not an unapproved new image.
    assert_eq!(
        titles,
        vec![
            "Command executed in a running container",
            "Container set to come back by itself, from an unvetted image or with privilege",
            "Container shares the host PID namespace",
            "Privileged container launched",
            "Root container with privilege, host namespaces or a sensitive mount",
            "Sensitive host path mounted into a container",
        ]
    );
    for a in &alerts {
        assert_eq!(
            a.containers,
            vec!["node-agent".to_string()],
            "{}",
            a.rule_title
        );
        let container = container_of(a);
        assert_eq!(
            container["image.registry"], "registry.example.com:5000",
            "{}",
            a.rule_title
        );
        assert_eq!(container["image.repository"], "ops/node-agent");
        assert_eq!(container["image.tag"], "2.1");
        assert_eq!(container["image.digest"], DIGEST);
    }
    let exec = alerts
        .iter()
        .find(|a| a.rule_title.starts_with("Command executed"))
        .unwrap();
    let doc: serde_json::Value = serde_json::from_str(&exec.document).unwrap();
    // An exec request's command has no pid yet, so OCSF's `process` cannot hold it.
    assert_eq!(
        doc["evidences"][0]["data"]["process.command_line"],
        "/bin/sh -c id"
    );
    assert_eq!(doc["evidences"][0]["container"]["uid"], AGENT_ID);
    // The exec event itself carries no launch attributes; the container table supplied them.
    assert_eq!(
        doc["unmapped"]["crowsnest"]["container"][0]["privileged"],
        true
    );
    let restart = alerts
        .iter()
        .find(|a| a.rule_title.starts_with("Container set to come back"))
        .unwrap();
    assert_eq!(restart.analytic.as_deref(), Some("AN1578"));
    assert_eq!(restart.level, "high");
    assert_eq!(restart.techniques, vec!["T1543.005".to_string()]);
    let root = alerts
        .iter()
        .find(|a| a.rule_title.starts_with("Root container"))
        .unwrap();
    assert_eq!(root.analytic.as_deref(), Some("AN0693"));
    assert_eq!(root.techniques, vec!["T1611".to_string()]);
}

#[test]
fn the_benign_container_raises_nothing() {
    let alerts = replay("lifecycle.ndjson");
    assert!(
        alerts
            .iter()
            .all(|a| a.containers != vec!["web".to_string()])
    );
}

#[test]
fn state_survives_a_snapshot_into_a_new_engine() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../samples/docker/lifecycle.ndjson");
    let text = std::fs::read_to_string(path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    // Stop after the inspect output (line 3), before the exec (line 11).
    let (head, tail) = lines.split_at(3);
    let origin = |first_line| BatchOrigin {
        file: "lifecycle.ndjson".into(),
        first_line,
        lines: Vec::new(),
    };
    let mut first = Detector::new();
    first.process(head.join("\n").as_bytes(), &origin(1));
    let blob = first.snapshot();

    let mut second = Detector::new();
    assert!(
        second.restore(b"{\"version\": 99}").is_err(),
        "a foreign blob is refused"
    );
    second.restore(&blob).unwrap();
    assert_eq!(second.stats().containers_tracked, 1);
    let r = second.process(tail.join("\n").as_bytes(), &origin(4));
    let exec = r
        .alerts
        .iter()
        .find(|a| a.rule_title.starts_with("Command executed"))
        .unwrap();
    let doc: serde_json::Value = serde_json::from_str(&exec.document).unwrap();
    assert_eq!(
        doc["unmapped"]["crowsnest"]["container"][0]["privileged"],
        true
    );
    assert_eq!(doc["unmapped"]["crowsnest"]["origin"]["line"], 11);
}
