//! One Kubernetes request through every shape it is delivered in, one normalized event.
//!
//! The samples carry the same privileged pod create (`ops/debug-agent`, privileged,
//! host PID) as an audit log line, inside the webhook's `EventList`, trimmed by a shipper
//! (no `auditID`, `stage` or `requestURI`, the code quoted), in a CloudWatch Logs export
//! to S3, as an AKS record split from an Event Hubs batch, as a GKE `LogEntry` in
//! `gcloud logging read` output and inside a Pub/Sub push message. Each must give the
//! same action, workload and containers (the raw action is each source's own spelling), and raise the same alerts; only where it came
//! from (source, cluster, account, request id, principal's spelling) may differ.

use std::fs;
use std::path::Path;

use crowsnest_transform::Detector;
use crowsnest_transform::api::{BatchOrigin, Options};
use crowsnest_transform::framing;
use serde_json::{Value, json};

/// The pod create's normalized event and the titles of the alerts its record raised.
fn pod_create(sample: &str) -> (Value, Vec<String>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples");
    let bytes = fs::read(root.join(sample)).unwrap_or_else(|e| panic!("{sample}: {e}"));
    let mut detector = Detector::new();
    detector.set_options(Options {
        enrichment: true,
        ..Options::default()
    });
    for batch in framing::batches(&bytes, framing::BATCH_RECORDS, framing::MAX_BATCH_BYTES, 0) {
        let batch = batch.unwrap_or_else(|e| panic!("{sample}: {e:?}"));
        let result = detector.process(&batch.records.join(&b'\n'), &batch.origin(sample));
        assert!(
            result.diagnostics.is_empty(),
            "{sample}: {:?}",
            result.diagnostics
        );
        for (index, outcome) in result.outcomes.iter().enumerate() {
            let Some(text) = outcome.enrichment.as_deref() else {
                continue;
            };
            let events = match serde_json::from_str(text).expect("JSON") {
                Value::Array(many) => many,
                one => vec![one],
            };
            if let Some(event) = events
                .into_iter()
                .find(|e| e["workload.name"] == "debug-agent" && e["action"] == "workload-create")
            {
                let mut titles: Vec<String> = result
                    .alerts
                    .iter()
                    .filter(|a| a.record_index as usize == index)
                    .map(|a| a.rule_title.clone())
                    .collect();
                titles.sort();
                return (event, titles);
            }
        }
    }
    panic!("{sample}: no pod create of ops/debug-agent");
}

/// What every shape must agree on.
fn the_request(event: &Value) -> Value {
    json!({
        "action": event["action"],
        "workload.kind": event["workload.kind"],
        "workload.name": event["workload.name"],
        "workload.namespace": event["workload.namespace"],
        "container": event["container"],
    })
}

#[test]
fn one_pod_create_normalizes_alike_in_every_shape() {
    let shapes = [
        ("audit log line", "k8s-audit/webhook-eventlist.ndjson"),
        ("trimmed by a shipper", "k8s-audit/trimmed.ndjson"),
        (
            "EKS, CloudWatch Logs export to S3",
            "eks-audit/s3-export.log",
        ),
        (
            "AKS, split from an Event Hubs batch",
            "aks-audit/event-hubs-split.ndjson",
        ),
        ("GKE, gcloud logging read", "gke-audit/gcloud-read.json"),
        ("GKE, Pub/Sub push", "gke-audit/pubsub-push.ndjson"),
    ];
    let (first, first_alerts) = pod_create(shapes[0].1);
    let expected = the_request(&first);
    assert_eq!(first["container"][0]["privileged"], true);
    assert_eq!(first["container"][0]["host_pid"], true);
    assert!(
        first_alerts
            .iter()
            .any(|t| t == "Privileged container launched"),
        "{first_alerts:?}"
    );
    for (shape, sample) in &shapes[1..] {
        let (event, alerts) = pod_create(sample);
        assert_eq!(the_request(&event), expected, "{shape} ({sample})");
        assert_eq!(alerts, first_alerts, "{shape} ({sample})");
    }
}

#[test]
fn a_trimmed_record_keeps_what_is_missing_missing() {
    let (event, _) = pod_create("k8s-audit/trimmed.ndjson");
    assert!(event.get("request.id").is_none(), "{event}");
    assert_eq!(event["response.code"], 201);
    // A minimal GKE entry: the request without its body, containers unknown.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples");
    let bytes = fs::read(root.join("gke-audit/minimal.ndjson")).unwrap();
    let mut detector = Detector::new();
    detector.set_options(Options {
        enrichment: true,
        ..Options::default()
    });
    let origin = BatchOrigin {
        file: "gke-audit/minimal.ndjson".into(),
        first_line: 1,
        lines: Vec::new(),
    };
    let result = detector.process(&bytes, &origin);
    assert!(result.diagnostics.is_empty(), "{:?}", result.diagnostics);
    let event: Value =
        serde_json::from_str(result.outcomes[0].enrichment.as_deref().unwrap()).unwrap();
    assert_eq!(event["source"], "gke_audit");
    assert_eq!(event["action"], "workload-create");
    assert_eq!(event["workload.name"], "debug-agent");
    assert!(event.get("container").is_none(), "{event}");
    assert!(
        result
            .alerts
            .iter()
            .all(|a| a.rule_title != "Privileged container launched"),
        "no body, no privileged claim"
    );
}
