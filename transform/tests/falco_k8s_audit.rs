//! The default pack over Falco's real Kubernetes audit events (`../shared/data`), natively.
//! The same expectations run through the component and the CLI in the top-level tests.

use std::path::PathBuf;

use crowsnest_transform::Detector;
use crowsnest_transform::api::{Alert, BatchOrigin, BatchResult};

fn falco_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/falco-k8s-audit");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipped: ../shared/data/falco-k8s-audit is not present");
        None
    }
}

fn replay(dir: &std::path::Path, name: &str) -> BatchResult {
    let bytes = std::fs::read(dir.join(name)).unwrap();
    let mut d = Detector::new();
    let origin = BatchOrigin {
        file: name.to_string(),
        first_line: 1,
        lines: Vec::new(),
    };
    d.process(&bytes, &origin)
}

fn titles(alerts: &[Alert]) -> Vec<&str> {
    alerts.iter().map(|a| a.rule_title.as_str()).collect()
}

#[test]
fn privileged_pods_name_the_privileged_container() {
    let Some(dir) = falco_dir() else { return };
    for (file, container) in [
        ("create_nginx_pod_privileged.json", "nginx"),
        ("create_nginx_pod_privileged_2nd_container.json", "mysql"),
        (
            "create_nginx_pod_no_secctx_1st_container_privileged_2nd_container.json",
            "mysql",
        ),
    ] {
        let r = replay(&dir, file);
        let privileged: Vec<&Alert> = r
            .alerts
            .iter()
            .filter(|a| a.rule_title == "Privileged container launched")
            .collect();
        assert_eq!(privileged.len(), 1, "{file}: {:?}", titles(&r.alerts));
        assert_eq!(
            privileged[0].containers,
            vec![container.to_string()],
            "{file}"
        );
        assert!(privileged[0].techniques.contains(&"T1611".to_string()));
        assert_eq!(privileged[0].analytic.as_deref(), Some("AN0693"));
        let doc: serde_json::Value = serde_json::from_str(&privileged[0].document).unwrap();
        assert_eq!(doc["class_uid"], 2004);
        assert_eq!(
            doc["unmapped"]["crowsnest"]["container"][0]["name"],
            container
        );
    }
}

#[test]
fn sensitive_mounts_of_etc() {
    let Some(dir) = falco_dir() else { return };
    for file in [
        "create_nginx_pod_sensitive_mount.json",
        "create_nginx_pod_sensitive_mount_2nd_container.json",
    ] {
        let r = replay(&dir, file);
        assert!(
            r.alerts
                .iter()
                .any(|a| a.rule_title == "Sensitive host path mounted into a container"),
            "{file}: {:?}",
            titles(&r.alerts)
        );
    }
    let r = replay(&dir, "create_nginx_pod_unsensitive_mount.json");
    assert!(
        titles(&r.alerts).iter().all(|t| !t.contains("Sensitive")),
        "{:?}",
        titles(&r.alerts)
    );
}

#[test]
fn host_network_and_its_absence() {
    let Some(dir) = falco_dir() else { return };
    let r = replay(&dir, "create_nginx_pod_hostnetwork.json");
    assert_eq!(
        titles(&r.alerts),
        vec!["Container shares the host network namespace"]
    );
    let r = replay(&dir, "create_nginx_pod_nohostnetwork.json");
    assert!(r.alerts.is_empty(), "{:?}", titles(&r.alerts));
    let r = replay(&dir, "create_nginx_pod_unprivileged.json");
    assert!(r.alerts.is_empty(), "{:?}", titles(&r.alerts));
}

#[test]
fn exec_carries_command_and_target_container() {
    let Some(dir) = falco_dir() else { return };
    let r = replay(&dir, "exec_pod.json");
    assert_eq!(
        titles(&r.alerts),
        vec!["Command executed in a running container"]
    );
    let a = &r.alerts[0];
    assert_eq!(a.containers, vec!["nginx1".to_string()]);
    assert_eq!(a.principal.as_deref(), Some("minikube-user"));
    assert!(a.summary.contains("`bash`"), "{}", a.summary);
    let doc: serde_json::Value = serde_json::from_str(&a.document).unwrap();
    assert_eq!(doc["evidences"][0]["data"]["process.command_line"], "bash");
}

#[test]
fn malformed_event_is_a_located_diagnostic() {
    let Some(dir) = falco_dir() else { return };
    let r = replay(&dir, "fal_01_003.json");
    assert!(r.alerts.is_empty());
    assert_eq!(r.diagnostics.len(), 1);
    let d = &r.diagnostics[0];
    assert_eq!((d.file.as_str(), d.line), ("fal_01_003.json", 1));
    assert!(d.column >= 1);
    assert_eq!(r.outcomes.len(), 1);
    assert_eq!(r.outcomes[0].source, None);
}

#[test]
fn every_file_decodes_except_the_malformed_one() {
    let Some(dir) = falco_dir() else { return };
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    assert_eq!(names.len(), 47);
    for name in names {
        let r = replay(&dir, &name);
        if name == "fal_01_003.json" {
            continue;
        }
        assert!(r.diagnostics.is_empty(), "{name}: {:?}", r.diagnostics);
    }
}
