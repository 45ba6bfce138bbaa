//! The OCSF and ECS validators of `tests/schema/` on hand-written documents: a minimal
//! valid Detection Finding (and ECS alert) passes, and each kind of mistake the OCSF
//! server's validator (or ECS) names is caught at its place.

mod schema;

use schema::{Issue, Severity, ecs, ocsf};
use serde_json::{Value, json};

/// The smallest Detection Finding OCSF 1.3.0 accepts: every required attribute, nothing
/// that needs a profile.
fn finding() -> Value {
    json!({
        "activity_id": 1,
        "activity_name": "Create",
        "category_uid": 2,
        "category_name": "Findings",
        "class_uid": 2004,
        "class_name": "Detection Finding",
        "type_uid": 200401,
        "type_name": "Detection Finding: Create",
        "severity_id": 4,
        "severity": "High",
        "status_id": 1,
        "status": "New",
        "time": 1715690417239_i64,
        "message": "privileged container miner started by alice",
        "metadata": {
            "version": "1.3.0",
            "product": {"name": "crowsnest", "vendor_name": "crowsnest", "version": "0.1.0"}
        },
        "finding_info": {
            "uid": "fce363fdd3a3943a",
            "title": "Privileged container launched",
            "analytic": {"uid": "82c9a43a", "name": "Privileged container launched", "type_id": 1, "type": "Rule"}
        },
        "evidences": [{
            "process": {"pid": 4242, "cmd_line": "sh -c id"},
            "container": {"uid": "3f2a9c", "name": "miner", "image": {"uid": "sha256:9b1e", "name": "docker.io/xmrig/xmrig"}}
        }],
        "unmapped": {"crowsnest": {"origin": {"file": "samples/k8s-audit/risky.ndjson", "line": 3}}}
    })
}

fn check(doc: &Value) -> Vec<Issue> {
    ocsf::validate(doc)
}

fn errors(doc: &Value) -> Vec<Issue> {
    only_errors(check(doc))
}

fn only_errors(issues: Vec<Issue>) -> Vec<Issue> {
    issues.into_iter().filter(Issue::is_error).collect()
}

/// The one issue of `kind` at `path`, or a panic listing what was found instead.
fn found(issues: &[Issue], kind: &str, path: &str) -> Issue {
    let matching: Vec<&Issue> = issues
        .iter()
        .filter(|i| i.kind == kind && i.path == path)
        .collect();
    assert_eq!(
        matching.len(),
        1,
        "expected one {kind} at {path}, got:\n{}",
        list(issues)
    );
    matching[0].clone()
}

fn list(issues: &[Issue]) -> String {
    issues
        .iter()
        .map(|i| format!("  {i}\n"))
        .collect::<String>()
}

fn set(doc: &mut Value, path: &str, value: Value) {
    let (parent, key) = path.rsplit_once('/').expect("a pointer");
    let parent = doc.pointer_mut(parent).expect("parent exists");
    match parent {
        Value::Object(map) => {
            map.insert(key.to_string(), value);
        }
        Value::Array(list) => list[key.parse::<usize>().expect("index")] = value,
        _ => panic!("{path}: parent is a scalar"),
    }
}

fn remove(doc: &mut Value, path: &str) {
    let (parent, key) = path.rsplit_once('/').expect("a pointer");
    doc.pointer_mut(parent)
        .and_then(Value::as_object_mut)
        .expect("parent object")
        .remove(key);
}

/// `doc` with the value at `path` set.
fn edited(mut doc: Value, path: &str, value: Value) -> Value {
    set(&mut doc, path, value);
    doc
}

fn with(path: &str, value: Value) -> Value {
    edited(finding(), path, value)
}

// ---- OCSF -----------------------------------------------------------------------------

#[test]
fn a_minimal_detection_finding_is_valid_in_1_3_0_and_1_8_0() {
    let doc = finding();
    assert_eq!(errors(&doc), vec![], "{}", list(&check(&doc)));
    let doc = with("/metadata/version", json!("1.8.0"));
    assert_eq!(errors(&doc), vec![], "{}", list(&check(&doc)));
    // Recommended attributes left out are warnings, never errors.
    let issue = found(
        &check(&finding()),
        "attribute_recommended_missing",
        "/observables",
    );
    assert_eq!(issue.severity, Severity::Warning);
}

#[test]
fn required_attributes_missing_or_null_are_errors_where_they_belong() {
    let mut doc = finding();
    remove(&mut doc, "/time");
    remove(&mut doc, "/finding_info/uid");
    set(&mut doc, "/metadata/product/vendor_name", Value::Null);
    let issues = errors(&doc);
    found(&issues, "attribute_required_missing", "/time");
    found(&issues, "attribute_required_missing", "/finding_info/uid");
    let issue = found(
        &issues,
        "attribute_required_missing",
        "/metadata/product/vendor_name",
    );
    assert!(issue.schema.contains("object Product (product)"), "{issue}");
    assert_eq!(issues.len(), 3, "{}", list(&issues));

    // The image of a container requires its uid (the digest).
    let doc = with(
        "/evidences/0/container/image",
        json!({"name": "nginx", "tag": "1.27"}),
    );
    found(
        &errors(&doc),
        "attribute_required_missing",
        "/evidences/0/container/image/uid",
    );
}

#[test]
fn attributes_the_schema_does_not_define_are_unknown_except_in_unmapped() {
    let doc = with("/severity_name", json!("High"));
    found(&errors(&doc), "attribute_unknown", "/severity_name");

    // Evidences have no time, so no time_dt either, with or without the datetime profile.
    let mut doc = with("/evidences/0/time_dt", json!("2024-05-14T12:40:17Z"));
    found(&errors(&doc), "attribute_unknown", "/evidences/0/time_dt");
    set(&mut doc, "/metadata/profiles", json!(["datetime"]));
    found(&errors(&doc), "attribute_unknown", "/evidences/0/time_dt");

    let doc = with("/unmapped/anything", json!({"goes": [1, "here"]}));
    assert_eq!(errors(&doc), vec![]);
}

#[test]
fn profile_attributes_need_their_profile_in_metadata_profiles() {
    let doc = with("/time_dt", json!("2024-05-14T12:40:17.239Z"));
    let issue = found(&errors(&doc), "profile_not_declared", "/time_dt");
    assert!(issue.message.contains("datetime"), "{issue}");

    let mut doc = doc;
    set(&mut doc, "/metadata/profiles", json!(["datetime"]));
    assert_eq!(errors(&doc), vec![], "{}", list(&check(&doc)));

    // `api` and `actor` at the top of a Detection Finding come with cloud and host.
    let mut doc = with("/api", json!({"operation": "create"}));
    set(&mut doc, "/actor", json!({"user": {"name": "alice"}}));
    let issues = errors(&doc);
    found(&issues, "profile_not_declared", "/api");
    found(&issues, "profile_not_declared", "/actor");

    // Declaring `cloud` makes `cloud` itself required.
    set(&mut doc, "/metadata/profiles", json!(["cloud", "host"]));
    let issues = errors(&doc);
    found(&issues, "attribute_required_missing", "/cloud");
    assert_eq!(issues.len(), 1, "{}", list(&issues));
}

#[test]
fn profiles_the_schema_does_not_define_are_errors() {
    let doc = with("/metadata/profiles", json!(["datetime", "kubernetes"]));
    let issue = found(&errors(&doc), "profile_unknown", "/metadata/profiles/1");
    assert!(issue.schema.contains("container"), "{issue}");
}

#[test]
fn values_of_the_wrong_json_type_are_errors() {
    let cases = [
        (
            "/time",
            json!("2024-05-14T12:40:17Z"),
            "timestamp_t (long_t)",
        ),
        ("/severity_id", json!("4"), "integer_t"),
        ("/evidences/0/process/pid", json!(42.5), "integer_t"),
        ("/message", json!(["a", "b"]), "string_t"),
        (
            "/finding_info",
            json!("fce363fdd3a3943a"),
            "Finding Information object",
        ),
        (
            "/evidences",
            json!({"process": {"pid": 1}}),
            "array of evidences objects",
        ),
        ("/evidences/0/process", json!("sh"), "Process object"),
    ];
    for (path, value, expected) in cases {
        let doc = with(path, value);
        let issue = found(&errors(&doc), "attribute_wrong_type", path);
        assert!(issue.schema.contains(expected), "{path}: {issue}");
    }
    // float_t takes a JSON number with a fraction, as the server's is_float does.
    let doc = with(
        "/evidences/0/src_endpoint",
        json!({"ip": "10.0.0.1", "location": {"city": "Oslo", "lat": 59}}),
    );
    found(
        &errors(&doc),
        "attribute_wrong_type",
        "/evidences/0/src_endpoint/location/lat",
    );
    let doc = with(
        "/evidences/0/src_endpoint",
        json!({"ip": "10.0.0.1", "location": {"city": "Oslo", "lat": 59.91}}),
    );
    assert_eq!(errors(&doc), vec![]);
}

#[test]
fn formats_ranges_and_lengths_of_dictionary_types_are_checked() {
    let mut base = finding();
    set(&mut base, "/metadata/profiles", json!(["datetime"]));
    let bad = [
        (
            "/time_dt",
            json!("2024-05-14 12:40:17"),
            "attribute_value_regex_not_matched",
            "datetime_t",
        ),
        (
            "/evidences/0/src_endpoint",
            json!({"ip": "not-an-ip"}),
            "attribute_value_regex_not_matched",
            "ip_t",
        ),
        (
            "/evidences/0/src_endpoint",
            json!({"ip": "10.0.0.1", "port": 70000}),
            "attribute_value_exceeds_range",
            "port_t",
        ),
        (
            "/evidences/0/src_endpoint",
            json!({"ip": "10.0.0.1", "port": -1}),
            "attribute_value_exceeds_range",
            "port_t",
        ),
        (
            "/evidences/0/container/pod_uuid",
            json!("pod-dbg-7q2kx"),
            "attribute_value_regex_not_matched",
            "uuid_t",
        ),
    ];
    for (path, value, kind, type_name) in bad {
        let mut doc = base.clone();
        set(&mut doc, path, value);
        let issues = errors(&doc);
        let issue = issues
            .iter()
            .find(|i| i.kind == kind)
            .unwrap_or_else(|| panic!("{path}: no {kind} in\n{}", list(&issues)));
        assert!(issue.schema.contains(type_name), "{issue}");
    }
    let good = [
        ("/time_dt", json!("2024-05-14T12:40:17.239987Z")),
        ("/time_dt", json!("2024-05-14T14:40:17+02:00")),
        (
            "/evidences/0/src_endpoint",
            json!({"ip": "2001:db8::1", "port": 443}),
        ),
        (
            "/evidences/0/src_endpoint",
            json!({"ip": "203.0.113.50", "port": 0}),
        ),
        (
            "/evidences/0/container/pod_uuid",
            json!("5f0c6f3e-2b7d-4c1a-9e8f-0a1b2c3d4e5f"),
        ),
    ];
    for (path, value) in good {
        let mut doc = base.clone();
        set(&mut doc, path, value);
        assert_eq!(errors(&doc), vec![], "{path}");
    }
    // file_hash_t is at most 64 characters in 1.3.0.
    let doc = with(
        "/evidences/0/file",
        json!({"name": "x", "type_id": 1, "hashes": [{"algorithm_id": 3, "value": "a".repeat(65)}]}),
    );
    found(
        &errors(&doc),
        "attribute_value_exceeds_max_len",
        "/evidences/0/file/hashes/0/value",
    );
}

#[test]
fn enum_values_must_be_defined_and_siblings_should_carry_their_caption() {
    let doc = with("/severity_id", json!(7));
    let issue = found(
        &errors(&doc),
        "attribute_enum_value_unknown",
        "/severity_id",
    );
    assert!(issue.schema.contains("4 High"), "{issue}");

    let doc = with("/severity", json!("Low"));
    let issue = found(
        &check(&doc),
        "attribute_enum_sibling_incorrect",
        "/severity",
    );
    assert_eq!(issue.severity, Severity::Warning);
    assert!(issue.schema.contains("\"High\""), "{issue}");

    // 99 (Other) carries the source's own label, so its caption there is suspicious.
    let mut doc = with("/severity_id", json!(99));
    set(&mut doc, "/severity", json!("Other"));
    found(
        &check(&doc),
        "attribute_enum_sibling_suspicious_other",
        "/severity",
    );
    set(&mut doc, "/severity", json!("P1"));
    assert_eq!(
        check(&doc).iter().filter(|i| i.path == "/severity").count(),
        0
    );

    // Enum arrays: every element, and the sibling array element by element.
    let doc = with(
        "/evidences/0/url",
        json!({"url_string": "http://x.example", "category_ids": [17, 1000], "categories": ["Hacking"]}),
    );
    let issues = errors(&doc);
    found(
        &issues,
        "attribute_enum_array_value_unknown",
        "/evidences/0/url/category_ids/1",
    );
    let doc = with(
        "/evidences/0/url",
        json!({"url_string": "http://x.example", "category_ids": [17, 18], "categories": ["Phishing"]}),
    );
    let issues = errors(&doc);
    found(
        &issues,
        "attribute_enum_array_sibling_incorrect",
        "/evidences/0/url/categories/0",
    );
    found(
        &issues,
        "attribute_enum_array_sibling_missing",
        "/evidences/0/url/categories/1",
    );
}

#[test]
fn class_category_and_type_uids_must_agree() {
    let doc = with("/type_uid", json!(200402));
    let issue = found(&errors(&doc), "type_uid_incorrect", "/type_uid");
    assert!(issue.schema.contains("= 200401"), "{issue}");

    let doc = with("/category_uid", json!(3));
    found(
        &errors(&doc),
        "attribute_enum_value_unknown",
        "/category_uid",
    );

    let doc = with("/class_uid", json!(2001));
    let issues = errors(&doc);
    found(&issues, "class_uid_unknown", "/class_uid");
    assert_eq!(
        issues.len(),
        1,
        "nothing else is checkable:\n{}",
        list(&issues)
    );

    let doc = with("/class_uid", json!("2004"));
    found(&errors(&doc), "attribute_wrong_type", "/class_uid");

    let mut doc = finding();
    remove(&mut doc, "/class_uid");
    found(&errors(&doc), "attribute_required_missing", "/class_uid");
}

#[test]
fn object_constraints_are_checked() {
    // Process: at least one of pid, uid.
    let doc = with("/evidences/0/process", json!({"cmd_line": "sh"}));
    let issue = found(&errors(&doc), "constraint_failed", "/evidences/0/process");
    assert!(issue.schema.contains("pid, uid"), "{issue}");
    // Container: at least one of uid, name.
    let doc = with(
        "/evidences/0/container",
        json!({"image": {"uid": "sha256:9b1e"}}),
    );
    found(&errors(&doc), "constraint_failed", "/evidences/0/container");
    // An evidence needs at least one artifact, and a container alone is not one in 1.3.0.
    let doc = with("/evidences/0", json!({"container": {"name": "miner"}}));
    found(&errors(&doc), "constraint_failed", "/evidences/0");

    // just_one: a 1.8.0 vulnerability names one of advisory, cve, cwe.
    let mut doc = with("/metadata/version", json!("1.8.0"));
    set(
        &mut doc,
        "/vulnerabilities",
        json!([{"title": "runc escape", "cve": {"uid": "CVE-2024-21626"}, "cwe": {"uid": "CWE-403"}}]),
    );
    let issue = found(&errors(&doc), "constraint_failed", "/vulnerabilities/0");
    assert!(issue.message.starts_with("2 of"), "{issue}");
    set(
        &mut doc,
        "/vulnerabilities/0",
        json!({"title": "runc escape", "cve": {"uid": "CVE-2024-21626"}}),
    );
    assert_eq!(errors(&doc), vec![], "{}", list(&check(&doc)));
}

#[test]
fn deprecated_attributes_are_warnings() {
    let doc = with(
        "/finding_info/attacks",
        json!([{"technique": {"uid": "T1611", "name": "Escape to Host"}, "tactics": [{"uid": "TA0004", "name": "Privilege Escalation"}]}]),
    );
    let issues = check(&doc);
    let issue = found(
        &issues,
        "attribute_deprecated",
        "/finding_info/attacks/0/tactics",
    );
    assert_eq!(issue.severity, Severity::Warning);
    assert!(issue.schema.contains("1.1.0"), "{issue}");
    assert_eq!(errors(&doc), vec![]);
}

#[test]
fn the_claimed_version_selects_the_schema() {
    let doc = with("/metadata/version", json!("1.2.0"));
    let issue = found(&check(&doc), "version_not_vendored", "/metadata/version");
    assert!(issue.schema.contains("1.3.0, 1.8.0"), "{issue}");

    // Against one schema, as the OCSF server does with its own.
    let schema = ocsf::schema("1.3.0").expect("vendored");
    let earlier = schema.validate(&with("/metadata/version", json!("1.2.0")));
    assert_eq!(
        found(&earlier, "version_earlier", "/metadata/version").severity,
        Severity::Warning
    );
    let later = schema.validate(&with("/metadata/version", json!("1.4.0")));
    found(&later, "version_incompatible_later", "/metadata/version");
    let pre = schema.validate(&with("/metadata/version", json!("1.0.0-rc.2")));
    found(&pre, "version_incompatible_prerelease", "/metadata/version");
}

#[test]
fn observables_name_attribute_paths_of_the_class() {
    let doc = with(
        "/observables",
        json!([
            {"name": "evidences[].container.uid", "type_id": 27, "value": "3f2a9c"},
            {"name": "evidences.process.pid", "type_id": 15, "value": "4242"},
            {"name": "container.uid", "type_id": 27, "value": "3f2a9c"},
            {"name": "message[].x", "type_id": 99, "value": "x"},
            {"name": "evidences[].src_endpoint.ip", "type_id": 2000, "value": "10.0.0.1"}
        ]),
    );
    let issues = errors(&doc);
    found(
        &issues,
        "observable_name_invalid_reference",
        "/observables/2/name",
    );
    found(
        &issues,
        "observable_name_invalid_reference",
        "/observables/3/name",
    );
    found(
        &issues,
        "attribute_enum_value_unknown",
        "/observables/4/type_id",
    );
    assert_eq!(issues.len(), 3, "{}", list(&issues));
}

#[test]
fn issue_classes_fold_array_indices() {
    let doc = with("/evidences/0/container/image", json!({"name": "nginx"}));
    let issue = found(
        &errors(&doc),
        "attribute_required_missing",
        "/evidences/0/container/image/uid",
    );
    assert_eq!(
        issue.class(),
        "attribute_required_missing /evidences/*/container/image/uid"
    );
}

// ---- ECS ------------------------------------------------------------------------------

const CUSTOM: &[&str] = &["crowsnest"];

fn options() -> ecs::Options<'static> {
    ecs::Options {
        custom: CUSTOM,
        required: &["event.kind", "event.category", "event.type"],
    }
}

fn alert() -> Value {
    json!({
        "@timestamp": "2024-05-14T12:40:17.239Z",
        "ecs": {"version": ecs::VERSION},
        "message": "privileged container miner started by alice",
        "event": {
            "kind": "alert",
            "category": ["process"],
            "type": ["start"],
            "severity": 3,
            "risk_score": 73.0,
            "id": "fce363fdd3a3943a"
        },
        "rule": {"id": "82c9a43a", "name": "Privileged container launched"},
        "threat": {
            "framework": "MITRE ATT&CK",
            "technique": {"id": ["T1610", "T1611"], "name": ["Deploy Container", "Escape to Host"]},
            "tactic": {"id": ["TA0002", "TA0004"], "name": ["Execution", "Privilege Escalation"]}
        },
        "container": {"id": "3f2a9c", "image": {"name": "xmrig/xmrig", "tag": ["6.21.0"]}, "security_context": {"privileged": true}},
        "orchestrator": {"type": "kubernetes", "namespace": "default", "resource": {"type": "pod", "name": "miner"}},
        "source": {"ip": "203.0.113.201"},
        "related": {"ip": ["203.0.113.201"], "user": ["alice"]},
        "crowsnest": {"origin": {"file": "samples/k8s-audit/risky.ndjson", "line": 3}, "anything": [{"goes": 1}]}
    })
}

fn ecs_check(doc: &Value) -> Vec<Issue> {
    ecs::validate(doc, &options())
}

fn ecs_errors(doc: &Value) -> Vec<Issue> {
    only_errors(ecs_check(doc))
}

fn alert_with(path: &str, value: Value) -> Value {
    edited(alert(), path, value)
}

#[test]
fn a_conformant_ecs_alert_is_valid() {
    let doc = alert();
    assert_eq!(ecs_check(&doc), vec![], "{}", list(&ecs_check(&doc)));
    // Dotted keys are the same fields as nested ones.
    let doc = json!({"@timestamp": 1715690417239_i64, "ecs.version": ecs::VERSION, "event.kind": "alert",
        "event.category": ["intrusion_detection"], "event.type": ["denied"]});
    assert_eq!(ecs_check(&doc), vec![], "{}", list(&ecs_check(&doc)));
}

#[test]
fn ecs_required_fields_and_the_callers_are_checked() {
    let mut doc = alert();
    remove(&mut doc, "/ecs");
    remove(&mut doc, "/@timestamp");
    remove(&mut doc, "/event/category");
    let issues = ecs_errors(&doc);
    let issue = found(&issues, "field_required_missing", "/ecs/version");
    assert!(issue.schema.contains("ECS 9.4.0 requires"), "{issue}");
    found(&issues, "field_required_missing", "/@timestamp");
    let issue = found(&issues, "field_required_missing", "/event/category");
    assert!(
        issue.schema.contains("required of these documents"),
        "{issue}"
    );

    let doc = alert_with("/ecs/version", json!("8.11.0"));
    found(&ecs_errors(&doc), "ecs_version_mismatch", "/ecs/version");
}

#[test]
fn fields_outside_ecs_and_the_custom_namespaces_are_unknown() {
    let doc = alert_with("/event/priority", json!("high"));
    found(&ecs_errors(&doc), "field_unknown", "/event/priority");
    let doc = alert_with("/detector", json!({"name": "crowsnest"}));
    found(&ecs_errors(&doc), "field_unknown", "/detector");
    // The custom namespaces are a parameter.
    let strict = ecs::Options {
        custom: &[],
        required: &[],
    };
    let issues = ecs::validate(&alert(), &strict);
    found(&issues, "field_unknown", "/crowsnest");
    let colliding = ecs::Options {
        custom: &["event"],
        required: &[],
    };
    found(
        &ecs::validate(&alert(), &colliding),
        "custom_namespace_collides",
        "",
    );
}

#[test]
fn ecs_values_have_their_fields_types() {
    let cases = [
        ("/event/severity", json!("high"), "long"),
        ("/event/severity", json!(73.5), "long"),
        ("/event/risk_score", json!("73"), "float"),
        ("/source/ip", json!("203.0.113.999"), "ip"),
        ("/@timestamp", json!("14/05/2024 12:40"), "date"),
        (
            "/container/security_context/privileged",
            json!("true"),
            "boolean",
        ),
        ("/rule/id", json!(42), "keyword"),
    ];
    for (path, value, t) in cases {
        let doc = alert_with(path, value);
        let issue = found(&ecs_errors(&doc), "field_wrong_type", path);
        assert!(issue.schema.contains(t), "{path}: {issue}");
    }
    // A float field takes an integer; a long field does not take a float.
    let doc = alert_with("/event/risk_score", json!(73));
    assert_eq!(ecs_errors(&doc), vec![]);
}

#[test]
fn allowed_values_and_the_category_type_pairing_hold() {
    let doc = alert_with("/event/kind", json!("finding"));
    let issue = found(&ecs_errors(&doc), "value_not_allowed", "/event/kind");
    assert!(issue.schema.contains("alert"), "{issue}");
    let doc = alert_with("/event/category", json!(["containers"]));
    found(&ecs_errors(&doc), "value_not_allowed", "/event/category/0");
    // process expects access, change, end, info, start: not denied.
    let doc = alert_with("/event/type", json!(["start", "denied"]));
    let issue = found(
        &ecs_errors(&doc),
        "event_type_not_expected",
        "/event/type/1",
    );
    assert!(
        issue
            .schema
            .contains("process: access, change, end, info, start"),
        "{issue}"
    );
    // With intrusion_detection beside process, denied fits.
    let mut doc = doc;
    set(
        &mut doc,
        "/event/category",
        json!(["process", "intrusion_detection"]),
    );
    assert_eq!(ecs_errors(&doc), vec![], "{}", list(&ecs_check(&doc)));
}

#[test]
fn field_sets_are_objects_of_flat_arrays_not_arrays_of_objects() {
    let doc = alert_with(
        "/threat/technique",
        json!([{"id": "T1610", "name": "Deploy Container"}, {"id": "T1611", "name": "Escape to Host"}]),
    );
    let issue = found(&ecs_errors(&doc), "array_of_objects", "/threat/technique");
    assert!(issue.schema.contains("threat.technique.id[]"), "{issue}");
    let doc = alert_with("/threat", json!("T1611"));
    found(&ecs_errors(&doc), "field_set_not_object", "/threat");
    // A nested field holds an array of objects.
    let doc = alert_with(
        "/threat/enrichments",
        json!([{"matched": {"field": "source.ip", "atomic": "203.0.113.201"}}]),
    );
    assert_eq!(ecs_errors(&doc), vec![], "{}", list(&ecs_check(&doc)));
}

#[test]
fn array_fields_are_arrays_and_the_others_are_not() {
    let doc = alert_with("/event/kind", json!(["alert"]));
    found(&ecs_errors(&doc), "array_not_expected", "/event/kind");
    let doc = alert_with("/event/category", json!("process"));
    let issue = found(&ecs_check(&doc), "array_expected", "/event/category");
    assert_eq!(issue.severity, Severity::Warning);
    assert_eq!(ecs_errors(&doc), vec![]);
}
