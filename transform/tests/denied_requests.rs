//! The engine's state learns only from requests that succeeded.
//!
//! The Kubernetes API server writes one audit event per stage of a request: a pod create
//! is a `RequestReceived` record (written before authorization, with no outcome) and a
//! `ResponseComplete` record with the status. A create that is then denied never ran: it
//! must not enter the container table, nor mark its image, registry and principal as
//! seen, so the first create that does run is still their first sighting.

use crowsnest_transform::api::{Alert, BatchOrigin, PackFile};
use crowsnest_transform::{Detector, default_pack};
use serde_json::json;

/// A rule that fires on the first sighting of an image in a pod create.
const FIRST_SIGHTING: &str = "title: Image seen for the first time
id: 3c9e1f40-2b7a-4d55-9e0c-6a1d2f3b4c5d
status: test
logsource:
  category: container
detection:
  selection:
    action: workload-create
    crowsnest.image.first_seen: true
  condition: selection
level: low
";

fn detector() -> Detector {
    let mut files = default_pack();
    files.push(PackFile {
        path: "rules/first_sighting.yml".into(),
        text: FIRST_SIGHTING.into(),
    });
    let mut d = Detector::new();
    d.configure(&files).expect("the pack compiles");
    d
}

/// The two stages of one pod create, the second with `code`.
fn pod_create(audit_id: &str, code: u16) -> String {
    let pod = json!({
        "kind": "Pod", "apiVersion": "v1",
        "metadata": {"name": "miner", "namespace": "shop"},
        "spec": {"containers": [{"name": "miner", "image": "203.0.113.50:5000/tools/miner:1",
                                 "securityContext": {"privileged": true}}]}
    });
    let stage = |stage: &str, status: Option<serde_json::Value>| {
        let mut event = json!({
            "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Request",
            "auditID": audit_id, "stage": stage, "requestURI": "/api/v1/namespaces/shop/pods",
            "verb": "create", "user": {"username": "mallory"}, "sourceIPs": ["203.0.113.77"],
            "objectRef": {"resource": "pods", "namespace": "shop", "name": "miner", "apiVersion": "v1"},
            "requestObject": pod,
            "requestReceivedTimestamp": "2024-05-14T09:45:10.000000Z",
            "stageTimestamp": "2024-05-14T09:45:10.100000Z"
        });
        if let Some(status) = status {
            event["responseStatus"] = status;
        }
        event.to_string()
    };
    let outcome = if code >= 400 {
        json!({"metadata": {}, "status": "Failure", "reason": "Forbidden", "code": code})
    } else {
        json!({"metadata": {}, "code": code})
    };
    format!(
        "{}\n{}\n",
        stage("RequestReceived", None),
        stage("ResponseComplete", Some(outcome))
    )
}

fn first_sightings(alerts: &[Alert]) -> usize {
    alerts
        .iter()
        .filter(|a| a.rule_title == "Image seen for the first time")
        .count()
}

#[test]
fn a_denied_create_leaves_the_table_and_the_sightings_untouched() {
    let mut d = detector();
    let origin = BatchOrigin {
        file: "audit.log".into(),
        first_line: 1,
        lines: Vec::new(),
    };

    let denied = d.process(pod_create("a-denied", 403).as_bytes(), &origin);
    assert!(denied.diagnostics.is_empty(), "{:?}", denied.diagnostics);
    assert_eq!(
        first_sightings(&denied.alerts),
        0,
        "a denied create is no sighting"
    );
    assert_eq!(
        d.stats().containers_tracked,
        0,
        "a denied pod is not in the container table"
    );

    let created = d.process(pod_create("b-created", 201).as_bytes(), &origin);
    assert_eq!(
        first_sightings(&created.alerts),
        1,
        "the first create that ran is the image's first sighting: {:?}",
        created.alerts
    );
    assert_eq!(
        d.stats().containers_tracked,
        1,
        "the created pod is tracked"
    );

    let again = d.process(pod_create("c-again", 201).as_bytes(), &origin);
    assert_eq!(
        first_sightings(&again.alerts),
        0,
        "seen once it ran: {:?}",
        again.alerts
    );
}

/// The built-in pack alone.
fn built_in() -> Detector {
    let mut d = Detector::new();
    d.configure(&default_pack())
        .expect("the built-in pack compiles");
    d
}

fn titles(alerts: &[Alert]) -> Vec<(&str, &str)> {
    alerts
        .iter()
        .map(|a| (a.rule_title.as_str(), a.level.as_str()))
        .collect()
}

fn origin() -> BatchOrigin {
    BatchOrigin {
        file: "audit.log".into(),
        first_line: 1,
        lines: Vec::new(),
    }
}

#[test]
fn a_denied_privileged_create_is_an_attempt_and_claims_no_launch() {
    let mut d = built_in();
    let result = d.process(pod_create("a-denied", 403).as_bytes(), &origin());
    assert_eq!(
        titles(&result.alerts),
        [("Denied attempt to launch a privileged container", "medium")],
        "a denied create raises the attempt alone: {:?}",
        result.alerts
    );
    assert_eq!(
        result.alerts[0].image.as_deref(),
        Some("203.0.113.50:5000/tools/miner:1")
    );
    assert_eq!(d.stats().containers_tracked, 0, "nothing was launched");

    // The same create, allowed: the launch, at its own severity.
    let result = d.process(pod_create("b-created", 201).as_bytes(), &origin());
    let titles = titles(&result.alerts);
    assert!(
        titles.contains(&("Privileged container launched", "high")),
        "{titles:?}"
    );
    assert!(
        !titles.iter().any(|(t, _)| t.starts_with("Denied attempt")),
        "{titles:?}"
    );
}

/// One `kubectl exec` into `namespace`, as the audit stages `stages` (in that order),
/// each with `code` where the stage carries a status.
fn exec(audit_id: &str, namespace: &str, code: u16, stages: &[&str]) -> String {
    let uri = format!(
        "/api/v1/namespaces/{namespace}/pods/web-0/exec?command=sh&container=web&stdin=true&tty=true"
    );
    let mut lines = String::new();
    for stage in stages {
        let mut event = json!({
            "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata",
            "auditID": audit_id, "stage": stage, "requestURI": uri, "verb": "create",
            "user": {"username": "mallory"}, "sourceIPs": ["203.0.113.77"],
            "objectRef": {"resource": "pods", "namespace": namespace, "name": "web-0",
                          "apiVersion": "v1", "subresource": "exec"},
            "requestReceivedTimestamp": "2024-05-14T09:45:10.000000Z",
            "stageTimestamp": match *stage {
                "RequestReceived" => "2024-05-14T09:45:10.000000Z",
                "ResponseStarted" => "2024-05-14T09:45:10.020000Z",
                _ => "2024-05-14T09:52:41.000000Z",
            }
        });
        if *stage != "RequestReceived" {
            event["responseStatus"] = if code >= 400 {
                json!({"metadata": {}, "status": "Failure", "reason": "Forbidden", "code": code})
            } else {
                json!({"metadata": {}, "code": code})
            };
        }
        lines.push_str(&event.to_string());
        lines.push('\n');
    }
    lines
}

const EXEC_RAN: (&str, &str) = ("Command executed in a running container", "medium");

#[test]
fn an_exec_is_evaluated_once_whatever_stages_reach_the_log() {
    let cases: &[(&str, &[&str])] = &[
        (
            "every stage",
            &["RequestReceived", "ResponseStarted", "ResponseComplete"],
        ),
        (
            "ResponseStarted omitted by the policy",
            &["RequestReceived", "ResponseComplete"],
        ),
        ("ResponseComplete alone", &["ResponseComplete"]),
        (
            "newest first",
            &["ResponseComplete", "ResponseStarted", "RequestReceived"],
        ),
    ];
    for (name, stages) in cases {
        let mut d = built_in();
        let result = d.process(exec("e-1", "shop", 101, stages).as_bytes(), &origin());
        assert_eq!(titles(&result.alerts), [EXEC_RAN], "{name}");
    }
    // Two execs: each once, in one stream.
    let mut d = built_in();
    let both = exec("e-1", "shop", 101, &["ResponseStarted", "ResponseComplete"])
        + &exec("e-2", "shop", 101, &["ResponseComplete"]);
    let result = d.process(both.as_bytes(), &origin());
    assert_eq!(titles(&result.alerts), [EXEC_RAN, EXEC_RAN]);
}

#[test]
fn a_forbidden_exec_is_an_attempt_only_in_a_sensitive_namespace() {
    let mut d = built_in();
    let stages = ["RequestReceived", "ResponseComplete"];
    let result = d.process(exec("f-1", "payments", 403, &stages).as_bytes(), &origin());
    assert_eq!(
        titles(&result.alerts),
        [(
            "Denied exec into a container in a sensitive namespace",
            "low"
        )],
        "{:?}",
        result.alerts
    );
    assert_eq!(result.alerts[0].namespace.as_deref(), Some("payments"));
    assert_eq!(result.alerts[0].principal.as_deref(), Some("mallory"));

    let result = d.process(exec("f-2", "shop", 403, &stages).as_bytes(), &origin());
    assert!(result.alerts.is_empty(), "{:?}", result.alerts);
}
