//! Sigma correlation rules on normalized fields, and their open windows across
//! `snapshot()` / `restore()`.
//!
//! # Window semantics, as these tests measure them
//!
//! crowsnest evaluates correlations through rsigma with its default configuration
//! (no suppression, windows kept after firing). What a rule writer can rely on:
//!
//! - **Time is event time in whole seconds.** A record's time is floored to the second
//!   before it enters a window: records 60.999 s apart can share a 60 s window, records
//!   61.0 s apart cannot ([`time_is_floored_to_the_second`]).
//! - **Windows slide.** Each arriving record drops the entries older than its own time
//!   minus `timespan`, then the condition is checked on what is left. There are no fixed
//!   buckets: three records at 40, 80 and 90 s fire a 3-in-60 s rule even though 0-60
//!   and 60-120 each hold fewer ([`windows_slide`]).
//! - **Both ends are inclusive.** An entry exactly `timespan` seconds older than the
//!   newest record still counts: 0, 30 and 60 s fire a 3-in-60 s rule; 0, 30 and 61 s do
//!   not ([`window_ends_are_inclusive`]).
//! - **Equal timestamps count.** Records in the same second are all counted, and for
//!   `temporal_ordered` "in order" means not later: a create and an exec in the same
//!   second are in order ([`equal_timestamps`]). An exec followed by a create is not
//!   ([`temporal_ordered_needs_the_order`]).
//! - **Every record that satisfies the condition fires again.** A second exec inside
//!   the window of the same create raises a second alert; there is no suppression
//!   ([`every_satisfying_record_fires`]).
//! - **Group keys are exact strings.** `group-by` values are compared as written, case
//!   included (`mallory` and `Mallory` are two groups); records without the field (or
//!   with several values, a pod's `container.id`) share one group of their own
//!   ([`group_keys_are_exact_strings`], [`records_without_the_group_field_share_a_group`]).
//!   `value_count` counts distinct values the same way.
//! - **Late records are not rejected.** A record older than the window's newest entry
//!   is added with its own time, and only entries older than *its* time minus
//!   `timespan` are dropped, so it can complete a count with entries more than
//!   `timespan` after it ([`late_records_join_the_window`]).
//! - **Open windows survive a snapshot.** Restoring a snapshot into a new engine with
//!   the same pack continues every window; the correlation fires exactly as in one
//!   uninterrupted run ([`temporal_ordered_window_survives_snapshot_and_restore`]).

use crowsnest_transform::Detector;
use crowsnest_transform::api::{Alert, BatchOrigin, PackFile};

/// A realistic `docker events` time (2024-05-14T09:11:40Z) so offsets read as seconds.
const T0: i64 = 1_715_677_900;

const C1: &str = "25923f70cb6243497e0cbe25137706b3fe5a5a9a3d145fca64ac7e568cebadc7";
const C2: &str = "8c1d5b2a77e04f3c9a6b0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a";
const IMAGE: &str = "docker.io/library/alpine:3.19";

/// A Docker engine event on container `id` at `T0 + offset_ns` nanoseconds.
fn docker(action: &str, id: &str, offset_ns: i64) -> String {
    let ns = T0 * 1_000_000_000 + offset_ns;
    let exec = if action.starts_with("exec_") {
        r#""execID":"3844a75657fa0f33c31f53ffe503a11f7854af01c48bd471d9455dc99b3a35ff","#
    } else {
        ""
    };
    format!(
        r#"{{"status":"{action}","id":"{id}","from":"{IMAGE}","Type":"container","Action":"{action}","Actor":{{"ID":"{id}","Attributes":{{{exec}"image":"{IMAGE}","name":"web-{short}"}}}},"scope":"local","time":{secs},"timeNano":{ns}}}"#,
        short = &id[..4],
        secs = ns.div_euclid(1_000_000_000),
    )
}

fn create(id: &str, secs: i64) -> String {
    docker("create", id, secs * 1_000_000_000)
}

fn start(id: &str, secs: i64) -> String {
    docker("start", id, secs * 1_000_000_000)
}

fn exec(id: &str, secs: i64) -> String {
    docker("exec_create: /bin/sh -c id", id, secs * 1_000_000_000)
}

/// A Kubernetes audit event: `user` lists `resource` (a core v1 resource) at `T0 + secs`.
fn list(user: &str, resource: &str, secs: i64) -> String {
    let time = crowsnest_transform::time::format_rfc3339((T0 + secs) * 1_000_000_000);
    format!(
        r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a-{user}-{resource}-{secs}","stage":"ResponseComplete","requestURI":"/api/v1/{resource}","verb":"list","user":{{"username":"{user}","groups":["system:authenticated"]}},"sourceIPs":["203.0.113.77"],"userAgent":"kubectl/v1.30.2 (linux/amd64) kubernetes/3968350","objectRef":{{"resource":"{resource}","apiVersion":"v1"}},"responseStatus":{{"metadata":{{}},"code":200}},"requestReceivedTimestamp":"{time}","stageTimestamp":"{time}"}}"#
    )
}

const CREATE_RULE: &str = "\
title: Container created
id: 0a5e1c7d-3b2f-4e6a-9c8d-1f2e3d4c5b6a
name: container_created
logsource:
  category: container
detection:
  create:
    action: container-create
  condition: create
level: informational
";

const EXEC_RULE: &str = "\
title: Command executed in a container
id: 7d3c2b1a-9e8f-4a6b-8c5d-2e1f0a9b8c7d
name: container_exec
logsource:
  category: container
detection:
  exec:
    action: container-exec
  condition: exec
level: low
";

const LIST_RULE: &str = "\
title: Resources listed
id: 4b6c8d0e-2f1a-4c3b-9d5e-6f7a8b9c0d1e
name: resource_listed
logsource:
  category: container
detection:
  list:
    action: resource-list
  condition: list
level: informational
";

const EXEC_SOON_AFTER_CREATE: &str = "6e0f4d2c-8a7b-4c1d-9e3f-5a4b3c2d1e0f";
const CREATE_THEN_EXEC: &str = "\
title: Command executed in a container within two minutes of its creation
id: 6e0f4d2c-8a7b-4c1d-9e3f-5a4b3c2d1e0f
correlation:
  type: temporal_ordered
  rules:
    - container_created
    - container_exec
  group-by:
    - container.id
  timespan: 120s
level: high
";

const EXEC_BURST: &str = "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f";
const THREE_EXECS: &str = "\
title: Three commands executed in one container within a minute
id: 1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f
correlation:
  type: event_count
  rules:
    - container_exec
  group-by:
    - container.id
  timespan: 60s
  condition:
    gte: 3
level: medium
";

const DISCOVERY: &str = "9f8e7d6c-5b4a-4938-8271-6a5b4c3d2e1f";
const MANY_KINDS: &str = "\
title: One principal listed five kinds of resources within a minute
id: 9f8e7d6c-5b4a-4938-8271-6a5b4c3d2e1f
correlation:
  type: value_count
  rules:
    - resource_listed
  group-by:
    - principal.name
  timespan: 60s
  condition:
    field: workload.kind
    gte: 5
level: medium
";

fn pack(docs: &[&str]) -> Vec<PackFile> {
    vec![PackFile {
        path: "correlations.yml".into(),
        text: docs.join("---\n"),
    }]
}

fn detector(docs: &[&str]) -> Detector {
    let mut d = Detector::new();
    let info = d.configure(&pack(docs)).expect("the pack compiles");
    assert!(info.correlations >= 1, "{info:?}");
    d
}

fn run(d: &mut Detector, lines: &[String]) -> Vec<Alert> {
    let origin = BatchOrigin {
        file: "events.ndjson".into(),
        first_line: 1,
        lines: Vec::new(),
    };
    let result = d.process(lines.join("\n").as_bytes(), &origin);
    assert!(result.diagnostics.is_empty(), "{:?}", result.diagnostics);
    result.alerts
}

/// The alerts of rule `id`, as (record index in the batch, containers).
fn fired<'a>(alerts: &'a [Alert], id: &str) -> Vec<(u32, &'a [String])> {
    alerts
        .iter()
        .filter(|a| a.rule_id == id)
        .map(|a| (a.record_index, a.containers.as_slice()))
        .collect()
}

fn count(alerts: &[Alert], id: &str) -> usize {
    alerts.iter().filter(|a| a.rule_id == id).count()
}

fn ordered_pack() -> Detector {
    detector(&[CREATE_RULE, EXEC_RULE, CREATE_THEN_EXEC])
}

/// The story the snapshot test cuts in two: web-2592 is created and, a minute later,
/// someone execs into it; web-8c1d is created too, but its exec comes eight minutes
/// later, outside the window.
fn story() -> (Vec<String>, Vec<String>) {
    let before = vec![create(C1, 0), start(C1, 1), create(C2, 2), start(C2, 3)];
    let after = vec![exec(C1, 60), exec(C2, 500)];
    (before, after)
}

#[test]
fn temporal_ordered_window_survives_snapshot_and_restore() {
    let (before, after) = story();

    // Reference: one engine sees everything.
    let mut whole = ordered_pack();
    assert_eq!(count(&run(&mut whole, &before), EXEC_SOON_AFTER_CREATE), 0);
    let reference = run(&mut whole, &after);
    assert_eq!(
        fired(&reference, EXEC_SOON_AFTER_CREATE),
        [(0, &["web-2592".to_string()][..])]
    );

    // Stop in the middle of web-2592's window, restore into a new engine, go on.
    let mut first = ordered_pack();
    assert_eq!(count(&run(&mut first, &before), EXEC_SOON_AFTER_CREATE), 0);
    let blob = first.snapshot();
    drop(first);
    let mut second = ordered_pack();
    second
        .restore(&blob)
        .expect("the snapshot fits the same pack");
    let alerts = run(&mut second, &after);
    assert_eq!(
        fired(&alerts, EXEC_SOON_AFTER_CREATE),
        fired(&reference, EXEC_SOON_AFTER_CREATE)
    );
    assert_eq!(count(&alerts, EXEC_SOON_AFTER_CREATE), 1);
    assert_eq!(
        alerts
            .iter()
            .find(|a| a.rule_id == EXEC_SOON_AFTER_CREATE)
            .map(|a| a.level.as_str()),
        Some("high")
    );
}

#[test]
fn without_the_snapshot_the_window_is_lost() {
    let (before, after) = story();
    let mut first = ordered_pack();
    run(&mut first, &before);
    // A new engine with the same pack but no restore has never seen the creates.
    let mut fresh = ordered_pack();
    let alerts = run(&mut fresh, &after);
    assert_eq!(count(&alerts, EXEC_SOON_AFTER_CREATE), 0, "{alerts:#?}");
    // The execs themselves still match their detection rule.
    assert_eq!(count(&alerts, "7d3c2b1a-9e8f-4a6b-8c5d-2e1f0a9b8c7d"), 2);
}

#[test]
fn temporal_ordered_needs_the_order() {
    let mut d = ordered_pack();
    let alerts = run(&mut d, &[exec(C1, 0), create(C1, 10)]);
    assert_eq!(count(&alerts, EXEC_SOON_AFTER_CREATE), 0, "{alerts:#?}");
    // Nor does an exec more than 120 s after the create count.
    let mut d = ordered_pack();
    let alerts = run(&mut d, &[create(C1, 0), exec(C1, 121)]);
    assert_eq!(count(&alerts, EXEC_SOON_AFTER_CREATE), 0, "{alerts:#?}");
    let mut d = ordered_pack();
    let alerts = run(&mut d, &[create(C1, 0), exec(C1, 120)]);
    assert_eq!(count(&alerts, EXEC_SOON_AFTER_CREATE), 1, "{alerts:#?}");
}

#[test]
fn every_satisfying_record_fires() {
    let mut d = ordered_pack();
    let alerts = run(
        &mut d,
        &[create(C1, 0), exec(C1, 30), exec(C1, 40), exec(C1, 200)],
    );
    let records: Vec<u32> = fired(&alerts, EXEC_SOON_AFTER_CREATE)
        .iter()
        .map(|(i, _)| *i)
        .collect();
    assert_eq!(records, [1, 2]);
}

#[test]
fn equal_timestamps() {
    let mut d = ordered_pack();
    let alerts = run(&mut d, &[create(C1, 5), exec(C1, 5)]);
    assert_eq!(count(&alerts, EXEC_SOON_AFTER_CREATE), 1, "{alerts:#?}");

    let mut d = detector(&[EXEC_RULE, THREE_EXECS]);
    let alerts = run(&mut d, &[exec(C1, 7), exec(C1, 7), exec(C1, 7)]);
    assert_eq!(fired(&alerts, EXEC_BURST).len(), 1, "{alerts:#?}");
}

#[test]
fn windows_slide() {
    let mut d = detector(&[EXEC_RULE, THREE_EXECS]);
    let alerts = run(
        &mut d,
        &[exec(C1, 0), exec(C1, 40), exec(C1, 80), exec(C1, 90)],
    );
    // At 80 s the entry at 0 s has left (0 < 80 - 60); at 90 s the window
    // [30, 90] holds 40, 80 and 90.
    let records: Vec<u32> = fired(&alerts, EXEC_BURST).iter().map(|(i, _)| *i).collect();
    assert_eq!(records, [3]);
}

#[test]
fn window_ends_are_inclusive() {
    let mut d = detector(&[EXEC_RULE, THREE_EXECS]);
    let alerts = run(&mut d, &[exec(C1, 0), exec(C1, 30), exec(C1, 60)]);
    assert_eq!(fired(&alerts, EXEC_BURST).len(), 1, "{alerts:#?}");

    let mut d = detector(&[EXEC_RULE, THREE_EXECS]);
    let alerts = run(&mut d, &[exec(C1, 0), exec(C1, 30), exec(C1, 61)]);
    assert_eq!(fired(&alerts, EXEC_BURST).len(), 0, "{alerts:#?}");
}

#[test]
fn time_is_floored_to_the_second() {
    let burst = |first_ns: i64, last_ns: i64| {
        let mut d = detector(&[EXEC_RULE, THREE_EXECS]);
        let lines = [
            docker("exec_create: id", C1, first_ns),
            docker("exec_create: id", C1, 30_000_000_000),
            docker("exec_create: id", C1, last_ns),
        ];
        fired(&run(&mut d, &lines), EXEC_BURST).len()
    };
    // 0.0 s and 60.999 s: seconds 0 and 60, inside.
    assert_eq!(burst(0, 60_999_000_000), 1);
    // 0.999 s and 61.0 s are 60.001 s apart, but seconds 0 and 61: outside.
    assert_eq!(burst(999_000_000, 61_000_000_000), 0);
}

#[test]
fn value_count_counts_distinct_kinds_per_principal() {
    let mut d = detector(&[LIST_RULE, MANY_KINDS]);
    let lines = [
        list("mallory", "pods", 0),
        list("mallory", "pods", 5),
        list("mallory", "secrets", 10),
        list("mallory", "configmaps", 20),
        list("alice", "nodes", 25),
        list("mallory", "services", 30),
        list("mallory", "secrets", 35),
        list("mallory", "serviceaccounts", 40),
        list("mallory", "nodes", 45),
    ];
    let alerts = run(&mut d, &lines);
    let hits: Vec<&Alert> = alerts.iter().filter(|a| a.rule_id == DISCOVERY).collect();
    // The fifth distinct kind (ServiceAccount) completes it; the sixth (Node) fires again.
    let records: Vec<u32> = hits.iter().map(|a| a.record_index).collect();
    assert_eq!(records, [7, 8]);
    assert_eq!(hits[0].principal.as_deref(), Some("mallory"));
    assert_eq!(hits[0].level, "medium");

    // The same kinds spread over more than a minute do not.
    let mut d = detector(&[LIST_RULE, MANY_KINDS]);
    let slow: Vec<String> = ["pods", "secrets", "configmaps", "services", "nodes"]
        .iter()
        .enumerate()
        .map(|(i, r)| list("mallory", r, i as i64 * 20))
        .collect();
    assert_eq!(count(&run(&mut d, &slow), DISCOVERY), 0);
}

#[test]
fn group_keys_are_exact_strings() {
    let mut d = detector(&[LIST_RULE, MANY_KINDS]);
    let lines = [
        list("mallory", "pods", 0),
        list("mallory", "secrets", 1),
        list("Mallory", "configmaps", 2),
        list("mallory", "services", 3),
        list("mallory", "nodes", 4),
    ];
    assert_eq!(count(&run(&mut d, &lines), DISCOVERY), 0);
}

#[test]
fn records_without_the_group_field_share_a_group() {
    // A docker `create` event has a container id; a `docker exec` seen through an
    // Actor without `ID` would not. Here two containers' execs are grouped by a field
    // Docker events never carry, so all of them land in one group.
    let by_namespace = THREE_EXECS.replace("container.id", "workload.namespace");
    let mut d = detector(&[EXEC_RULE, &by_namespace]);
    let alerts = run(&mut d, &[exec(C1, 0), exec(C2, 1), exec(C1, 2)]);
    assert_eq!(fired(&alerts, EXEC_BURST).len(), 1, "{alerts:#?}");
}

#[test]
fn late_records_join_the_window() {
    let mut d = detector(&[EXEC_RULE, THREE_EXECS]);
    // Two execs at 100 s, then one that happened at 30 s arrives late: 70 s before the
    // others, yet it completes the count.
    let alerts = run(&mut d, &[exec(C1, 100), exec(C1, 100), exec(C1, 30)]);
    let records: Vec<u32> = fired(&alerts, EXEC_BURST).iter().map(|(i, _)| *i).collect();
    assert_eq!(records, [2]);
}
