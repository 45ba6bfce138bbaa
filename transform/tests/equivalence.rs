//! The same action from different sources normalizes to the same shape.
//!
//! A privileged launch through `docker run --privileged` (auditd), a Docker authorization
//! plugin's create body, a Kubernetes pod create (raw, AKS-wrapped, GKE) and an ECS task
//! definition all set the same security-context fields; a start through Docker,
//! Kubernetes, ECS, Azure Container Instances and GKE is one `container-start` action.
//! Each check reads a shipped sample, so what is asserted is what a user replaying it sees.

use std::fs;
use std::path::Path;

use crowsnest_transform::Detector;
use crowsnest_transform::api::{BatchOrigin, Options};
use crowsnest_transform::framing;
use serde_json::Value;

/// Every normalized event of a sample file, in order, with the source that decoded it.
fn events(sample: &str) -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../samples")
        .join(sample);
    let bytes = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut records = Vec::new();
    let mut lines = Vec::new();
    for frame in framing::frames(&bytes) {
        let frame = frame.expect("the sample frames");
        lines.push(frame.line);
        records.push(frame.record.into_owned());
    }
    let mut d = Detector::new();
    d.set_options(Options {
        enrichment: true,
        ..Options::default()
    });
    let origin = BatchOrigin {
        file: sample.into(),
        first_line: 1,
        lines,
    };
    let result = d.process(&records.join(&b'\n'), &origin);
    assert!(
        result.diagnostics.is_empty(),
        "{sample}: {:?}",
        result.diagnostics
    );
    result
        .outcomes
        .iter()
        .filter_map(|o| o.enrichment.as_deref())
        .flat_map(|text| match serde_json::from_str(text).expect("JSON") {
            Value::Array(many) => many,
            one => vec![one],
        })
        .collect()
}

/// The security context of the first privileged container of a launch in `sample`.
fn privileged_launch(sample: &str, source: &str) -> Value {
    let launches = [
        "container-create",
        "container-run",
        "workload-create",
        "workload-update",
    ];
    events(sample)
        .into_iter()
        .filter(|e| e["source"] == source && launches.contains(&e["action"].as_str().unwrap_or("")))
        .find_map(|e| {
            e["containers"]
                .as_array()?
                .iter()
                .find(|c| c["security"]["privileged"] == Value::Bool(true))
                .map(|c| c["security"].clone())
        })
        .unwrap_or_else(|| panic!("{sample}: no privileged launch from {source}"))
}

#[test]
fn a_privileged_launch_sets_the_same_fields_from_every_source() {
    let cases = [
        ("auditd/docker-cli.log", "auditd"),
        ("docker-authz/risky.ndjson", "docker_authz"),
        ("docker/inspect.json", "docker_inspect"),
        ("k8s-audit/risky.ndjson", "k8s_audit"),
        ("aks-audit/kube-audit.ndjson", "aks_audit"),
        ("gke-audit/risky.ndjson", "gke_audit"),
        ("cloudtrail-ecs/risky-trail.json", "cloudtrail"),
    ];
    for (sample, source) in cases {
        let security = privileged_launch(sample, source);
        // One flag, one type, one place, whatever the source spelled.
        assert_eq!(security["privileged"], Value::Bool(true), "{sample}");
        for key in security.as_object().expect("an object").keys() {
            assert!(
                [
                    "privileged",
                    "host_pid",
                    "host_network",
                    "host_ipc",
                    "cap_add",
                    "security_opt",
                    "devices",
                    "host_mounts",
                    "user",
                    "restart_policy",
                    "entrypoint",
                    "command",
                ]
                .contains(&key.as_str()),
                "{sample}: unexpected security field {key}"
            );
        }
        if let Some(caps) = security["cap_add"].as_array() {
            for cap in caps {
                let cap = cap.as_str().expect("a string");
                assert!(
                    !cap.starts_with("CAP_") && cap == cap.to_ascii_uppercase(),
                    "{sample}: capability {cap} is not in the one spelling"
                );
            }
        }
    }
}

#[test]
fn the_docker_cli_the_api_and_ecs_agree_on_host_namespaces_mounts_and_caps() {
    // The three launch samples written to carry the same risky attributes.
    for (sample, source) in [
        ("auditd/docker-cli.log", "auditd"),
        ("docker-authz/risky.ndjson", "docker_authz"),
        ("cloudtrail-ecs/risky-trail.json", "cloudtrail"),
    ] {
        let s = privileged_launch(sample, source);
        assert_eq!(s["host_pid"], Value::Bool(true), "{sample}: {s}");
        let caps: Vec<&str> = s["cap_add"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        assert!(caps.contains(&"SYS_ADMIN"), "{sample}: {s}");
        let mounts: Vec<&str> = s["host_mounts"]
            .as_array()
            .map(|a| a.iter().filter_map(|m| m["host_path"].as_str()).collect())
            .unwrap_or_default();
        assert!(
            mounts
                .iter()
                .any(|m| *m == "/" || *m == "/var/run/docker.sock"),
            "{sample}: {s}"
        );
        assert!(s["entrypoint"].is_array(), "{sample}: {s}");
    }
}

#[test]
fn a_start_is_one_action_from_every_source() {
    let cases = [
        ("docker/lifecycle.ndjson", "docker_event"),
        ("k8s-events/kubelet.ndjson", "k8s_event"),
        ("k8s-events/gke-cloud-logging.ndjson", "k8s_event"),
        ("cloudtrail-ecs/risky-trail.json", "cloudtrail"),
        ("azure-aci/activity-log.ndjson", "azure_activity"),
        ("gcp-cloud-run/audit.ndjson", "gcp_audit"),
    ];
    for (sample, source) in cases {
        let starts: Vec<Value> = events(sample)
            .into_iter()
            .filter(|e| e["source"] == source && e["action"] == "container-start")
            .collect();
        assert!(
            !starts.is_empty(),
            "{sample}: no container-start from {source}"
        );
        for start in &starts {
            assert!(
                start["containers"].is_array() || start["workload"].is_object(),
                "{sample}: a start names what started: {start}"
            );
        }
    }
}
