//! Rules written against the raw Kubernetes audit shape run unmodified: fields that are
//! not part of the normalized model are read from the original record.

use std::path::PathBuf;

use crowsnest_transform::Detector;
use crowsnest_transform::api::{BatchOrigin, PackFile, Severity};

const EXEC_EVENT: &str = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Request","auditID":"7f0b8b4e-2d7a-4d8e-9a55-0d5a3c1f9e10","stage":"ResponseStarted","requestURI":"/api/v1/namespaces/prod/pods/web-1/exec?command=sh&container=app","verb":"create","user":{"username":"dev@example.com","groups":["system:authenticated"]},"sourceIPs":["203.0.113.9"],"objectRef":{"resource":"pods","namespace":"prod","name":"web-1","apiVersion":"v1","subresource":"exec"},"responseStatus":{"metadata":{},"code":101},"requestReceivedTimestamp":"2026-05-01T10:00:00.000000Z","stageTimestamp":"2026-05-01T10:00:00.050000Z"}"#;

fn origin() -> BatchOrigin {
    BatchOrigin {
        file: "inline".into(),
        first_line: 1,
        lines: Vec::new(),
    }
}

#[test]
fn a_raw_field_rule_matches_through_the_fallback() {
    let rule = "title: Raw exec\nid: raw-exec\nlogsource:\n  product: kubernetes\n  service: audit\ndetection:\n  sel:\n    verb: create\n    objectRef.subresource: exec\n    responseStatus.code: 101\n  condition: sel\nlevel: low\n";
    let mut d = Detector::new();
    d.configure(&[PackFile {
        path: "raw.yml".into(),
        text: rule.into(),
    }])
    .unwrap();
    let r = d.process(EXEC_EVENT.as_bytes(), &origin());
    assert_eq!(r.alerts.len(), 1, "{:?}", r.diagnostics);
    assert_eq!(r.alerts[0].rule_id, "raw-exec");
}

#[test]
fn a_kubernetes_rule_does_not_run_on_docker_records() {
    let rule = "title: Any audit\nid: any-audit\nlogsource:\n  product: kubernetes\n  service: audit\ndetection:\n  sel:\n    action|exists: true\n  condition: sel\nlevel: low\n";
    let mut d = Detector::new();
    d.configure(&[PackFile {
        path: "k.yml".into(),
        text: rule.into(),
    }])
    .unwrap();
    let docker = r#"{"Type":"container","Action":"start","Actor":{"ID":"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef","Attributes":{"image":"nginx","name":"web"}},"scope":"local","time":1714557600,"timeNano":1714557600000000000}"#;
    let r = d.process(docker.as_bytes(), &origin());
    assert!(r.alerts.is_empty());
    let r = d.process(EXEC_EVENT.as_bytes(), &origin());
    assert_eq!(r.alerts.len(), 1);
}

/// The SigmaHQ Kubernetes audit rules as they are on disk (`../shared/data/`, next to the
/// repository), or `None` when that folder is absent. Each file is passed as read.
fn sigmahq_pack() -> Option<Vec<PackFile>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/sigmahq-kubernetes-audit");
    if !dir.is_dir() {
        eprintln!("skipped: ../shared/data/sigmahq-kubernetes-audit is not present");
        return None;
    }
    let mut files: Vec<PackFile> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let p = e.ok()?.path();
            (p.extension()? == "yml").then(|| PackFile {
                path: p.file_name().unwrap().to_string_lossy().into_owned(),
                text: std::fs::read_to_string(&p).unwrap(),
            })
        })
        .collect();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Some(files)
}

#[test]
fn sigmahq_kubernetes_pack_loads_and_detects_exec() {
    let Some(files) = sigmahq_pack() else {
        return;
    };
    assert_eq!(files.len(), 16);
    let mut d = Detector::new();
    let info = d
        .configure(&files)
        .expect("the SigmaHQ rules load unmodified");
    assert_eq!(info.rules, 16);
    let r = d.process(EXEC_EVENT.as_bytes(), &origin());
    let titles: Vec<&str> = r.alerts.iter().map(|a| a.rule_title.as_str()).collect();
    assert!(
        titles.contains(&"Potential Remote Command Execution In Pod Container"),
        "{titles:?}"
    );
    let exec = r
        .alerts
        .iter()
        .find(|a| a.rule_title == "Potential Remote Command Execution In Pod Container")
        .unwrap();
    assert!(
        exec.techniques.contains(&"T1609".to_string()),
        "{:?}",
        exec.techniques
    );
}

/// The load report names, at the file and line of the selection, every field no source
/// the rule routes to provides: such a selection can never match, and the report says so
/// instead of the rule failing silently. The rules still load, unmodified.
#[test]
fn sigmahq_load_report_names_the_fields_no_source_provides() {
    let Some(files) = sigmahq_pack() else {
        return;
    };
    let info = crowsnest_transform::check_pack(&files).expect("the SigmaHQ rules load unmodified");
    assert_eq!((info.rules, info.correlations), (16, 0));
    // `attack.stealth` is no tactic of the built-in ATT&CK table: a warning, not a refusal.
    let (tags, fields): (Vec<_>, Vec<_>) = info
        .warnings
        .iter()
        .partition(|w| w.code == "rule.attack-tag");
    assert!(
        !tags.is_empty() && tags.iter().all(|w| w.message.contains("`attack.stealth`")),
        "{tags:#?}"
    );
    let mut reported: Vec<(String, u32, String)> = Vec::new();
    for w in fields {
        assert_eq!(w.code, "rule.field-unprovided", "{w}");
        assert_eq!(w.severity, Severity::Warning, "{w}");
        let field = w
            .message
            .split('`')
            .nth(1)
            .unwrap_or_else(|| panic!("no field named in {w}"))
            .to_string();
        assert!(
            w.message.contains("k8s_audit, aks_audit, gke_audit"),
            "the sources the rule sees: {w}"
        );
        // The line is the selection's, in the file as published.
        let text = &files
            .iter()
            .find(|f| f.path == w.file)
            .expect("a pack file")
            .text;
        let line = text.lines().nth(w.line as usize - 1).unwrap_or("");
        assert!(
            line.trim_start().starts_with(&format!("{field}:")),
            "{w}: line {} is {line:?}",
            w.line
        );
        reported.push((w.file.clone(), w.line, field));
    }
    reported.sort();
    let expected = [
        ("kubernetes_audit_hostpath_mount.yml", 24, "hostPath"),
        (
            "kubernetes_audit_privileged_pod_creation.yml",
            26,
            "capabilities",
        ),
        (
            "kubernetes_audit_rbac_permisions_listing.yml",
            24,
            "apiGroup",
        ),
        ("kubernetes_audit_sidecar_injection.yml", 24, "apiGroup"),
    ]
    .map(|(f, l, n)| (f.to_string(), l, n.to_string()));
    assert_eq!(reported, expected, "{:#?}", info.warnings);
}
