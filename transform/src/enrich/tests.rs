//! The container table's joins, bounds and snapshots, through `apply` as the detector
//! calls it.

use std::borrow::Cow;

use super::table::{ContainerTable, Limits};
use crate::model::{
    Action, Container, ContainerRole, Event, ImageRef, Principal, SecurityContext, Source, Workload,
};

fn table(max: usize) -> ContainerTable {
    ContainerTable::new(Limits {
        max_entries: max,
        ..Limits::default()
    })
}

fn inspect(id: &str) -> Event<'static> {
    let mut e = Event::new(Source::DockerInspect, Action::ContainerCreate, "inspect");
    e.containers.push(Container {
        id: Some(Cow::Owned(id.to_string())),
        name: Some("agent".into()),
        security: SecurityContext {
            privileged: Some(true),
            ..SecurityContext::default()
        },
        ..Container::default()
    });
    e
}

fn docker(action: Action, id: &str) -> Event<'static> {
    let mut e = Event::new(Source::DockerEvent, action, "x");
    e.containers.push(Container {
        id: Some(Cow::Owned(id.to_string())),
        ..Container::default()
    });
    e
}

#[test]
fn later_events_carry_the_inspected_attributes() {
    let mut t = table(10);
    let mut first = inspect("a");
    t.apply(&mut first, 0, true);
    assert_eq!(first.action, Action::ContainerCreate);
    let mut exec = docker(Action::ContainerExec, "a");
    t.apply(&mut exec, 1, true);
    assert_eq!(exec.containers[0].security.privileged, Some(true));
    assert_eq!(exec.containers[0].name.as_deref(), Some("agent"));
    let mut again = inspect("a");
    t.apply(&mut again, 2, true);
    assert_eq!(again.action, Action::ContainerInspect);
}

#[test]
fn create_events_are_not_joined_and_destroy_forgets() {
    let mut t = table(10);
    t.apply(&mut inspect("a"), 0, true);
    let mut create = docker(Action::ContainerCreate, "a");
    t.apply(&mut create, 1, true);
    assert_eq!(create.containers[0].security.privileged, None);
    t.apply(&mut docker(Action::ContainerDestroy, "a"), 2, true);
    assert_eq!(t.len(), 0);
}

#[test]
fn bounded_with_least_recently_used_eviction() {
    let mut t = table(3);
    for id in ["a", "b", "c"] {
        t.apply(&mut inspect(id), 0, true);
    }
    // Touch "a" so "b" is now the least recently used.
    t.apply(&mut docker(Action::ContainerStart, "a"), 1, true);
    t.apply(&mut inspect("d"), 2, true);
    assert_eq!(t.len(), 3);
    assert_eq!(t.evictions(), 1);
    let mut b = docker(Action::ContainerStart, "b");
    t.apply(&mut b, 3, true);
    assert_eq!(b.containers[0].security.privileged, None, "b was evicted");
    let mut a = docker(Action::ContainerStart, "a");
    t.apply(&mut a, 4, true);
    assert_eq!(a.containers[0].security.privileged, Some(true));
}

#[test]
fn entries_idle_past_the_ttl_are_dropped() {
    let mut t = ContainerTable::new(Limits {
        ttl_secs: 100,
        ..Limits::default()
    });
    t.apply(&mut inspect("a"), 0, true);
    t.apply(&mut inspect("b"), 50, true);
    t.apply(&mut inspect("c"), 140, true);
    assert_eq!(t.len(), 2, "a expired");
    assert_eq!(t.evictions(), 1);
}

#[test]
fn short_ids_resolve_to_the_full_container() {
    let full = "25923f70cb6243497e0cbe25137706b3fe5a5a9a3d145fca64ac7e568cebadc7";
    let mut t = table(10);
    t.apply(&mut inspect(full), 0, true);
    let mut falco = Event::new(Source::Falco, Action::ProcessStart, "execve");
    falco.containers.push(Container {
        id: Some(Cow::Borrowed(&full[..12])),
        ..Container::default()
    });
    let d = t.apply(&mut falco, 5, true);
    assert_eq!(falco.containers[0].security.privileged, Some(true));
    assert_eq!(
        falco.containers[0].id.as_deref(),
        Some(full),
        "the full id from here on"
    );
    assert_eq!(d.first_action, Some(true));
    assert_eq!(d.since_start_secs, Some(5));
    let d = t.apply(&mut falco, 6, true);
    assert_eq!(
        d.first_action,
        Some(false),
        "the second process is not the first"
    );
    let mut tetragon = docker(Action::ProcessStart, &format!("containerd://{full}"));
    tetragon.source = Source::Tetragon;
    t.apply(&mut tetragon, 7, true);
    assert_eq!(tetragon.containers[0].name.as_deref(), Some("agent"));
}

#[test]
fn a_start_says_how_long_the_container_was_stopped() {
    let mut t = table(10);
    t.apply(&mut inspect("a"), 0, true);
    t.apply(&mut docker(Action::ContainerStart, "a"), 10, true);
    t.apply(&mut docker(Action::ContainerDie, "a"), 100, true);
    let d = t.apply(
        &mut docker(Action::ContainerStart, "a"),
        100 + 40 * 86_400,
        true,
    );
    assert_eq!(d.stopped_for_secs, Some(40 * 86_400));
    let d = t.apply(
        &mut docker(Action::ContainerRestart, "a"),
        100 + 40 * 86_400 + 5,
        true,
    );
    assert_eq!(d.stopped_for_secs, None, "running, not stopped");
}

#[test]
fn a_late_stop_does_not_undo_a_later_start() {
    let mut t = table(10);
    t.apply(&mut docker(Action::ContainerStart, "a"), 1_000, true);
    // A `die` from 10 minutes earlier arrives late: beyond the 30 s lateness.
    t.apply(&mut docker(Action::ContainerDie, "a"), 400, true);
    let d = t.apply(&mut docker(Action::ContainerStart, "a"), 1_010, true);
    assert_eq!(d.stopped_for_secs, None);
}

fn pod_create() -> Event<'static> {
    let mut e = Event::new(Source::K8sAudit, Action::WorkloadCreate, "create");
    e.workload = Some(Workload {
        kind: "Pod".into(),
        name: Some("web-1".into()),
        namespace: Some("shop".into()),
        ..Workload::default()
    });
    e.principal = Some(Principal {
        name: "mallory".into(),
        ..Principal::default()
    });
    for (name, role, image) in [
        ("init-setup", ContainerRole::Init, "busybox:1.36"),
        ("web", ContainerRole::Main, "nginx:1.25"),
    ] {
        e.containers.push(Container {
            name: Some(name.into()),
            role,
            image: Some(ImageRef::lenient(Cow::Borrowed(image))),
            security: SecurityContext {
                privileged: Some(role == ContainerRole::Init),
                ..SecurityContext::default()
            },
            ..Container::default()
        });
    }
    e
}

fn exec(container: Option<&'static str>) -> Event<'static> {
    let mut e = Event::new(Source::K8sAudit, Action::ContainerExec, "get");
    e.workload = Some(Workload {
        kind: "Pod".into(),
        name: Some("web-1".into()),
        namespace: Some("shop".into()),
        ..Workload::default()
    });
    if let Some(name) = container {
        e.containers.push(Container {
            name: Some(name.into()),
            ..Container::default()
        });
    }
    e
}

#[test]
fn an_exec_into_an_init_container_is_told_apart_from_the_main_one() {
    let mut t = table(10);
    t.apply(&mut pod_create(), 0, true);
    let mut init = exec(Some("init-setup"));
    t.apply(&mut init, 5, true);
    assert_eq!(init.containers[0].role, ContainerRole::Init);
    assert_eq!(init.containers[0].security.privileged, Some(true));
    let mut main = exec(Some("web"));
    t.apply(&mut main, 6, true);
    assert_eq!(main.containers[0].role, ContainerRole::Main);
    let mut default = exec(None);
    t.apply(&mut default, 7, true);
    assert_eq!(default.containers[0].name.as_deref(), Some("web"));
    assert_eq!(default.containers[0].role, ContainerRole::Main);
}

#[test]
fn first_sightings_wait_for_the_learning_period() {
    let mut t = ContainerTable::new(Limits {
        learning_period_secs: 3_600,
        ..Limits::default()
    });
    let d = t.apply(&mut pod_create(), 0, true);
    assert_eq!(d.image_first_seen, Some(false), "learning");
    let mut later = pod_create();
    later.containers[1].image = Some(ImageRef::lenient(Cow::Borrowed("evil.example/miner:1")));
    let d = t.apply(&mut later, 7_200, true);
    assert_eq!(d.image_first_seen, Some(true));
    assert_eq!(d.registry_first_seen, Some(true));
    assert_eq!(
        d.principal_first_seen,
        Some(false),
        "mallory was seen while learning"
    );
    let d = t.apply(&mut later, 7_300, true);
    assert_eq!(d.image_first_seen, Some(false));
}

#[test]
fn snapshot_round_trip() {
    let mut t = table(10);
    t.apply(&mut inspect("a"), 0, true);
    let blob = serde_json::to_vec(&t.snapshot()).unwrap();
    let mut fresh = table(10);
    fresh.restore(serde_json::from_slice(&blob).unwrap());
    let mut exec = docker(Action::ContainerExec, "a");
    fresh.apply(&mut exec, 1, true);
    assert_eq!(exec.containers[0].security.privileged, Some(true));
}

/// Many lifecycles against small bounds: a hundred times more containers than the
/// table may hold pass through it, with a byte bound that binds before the entry
/// bound, and neither bound, the short-id index nor the interned values outgrow it.
#[test]
fn many_lifecycles_stay_within_the_bounds() {
    let lifecycles = 100_000u64;
    let limits = Limits {
        max_entries: 1_000,
        max_bytes: 256 << 10,
        ..Limits::default()
    };
    let mut t = ContainerTable::new(limits);
    let mut peak_entries = 0;
    let mut peak_bytes = 0;
    for n in 0..lifecycles {
        let id = format!("{n:064x}");
        let now = i64::try_from(n / 10).unwrap_or(0);
        let mut create = inspect(&id);
        create.containers[0].image = Some(ImageRef::lenient(Cow::Owned(format!(
            "registry.example.com/team-{}/app:{}",
            n % 97,
            n % 13
        ))));
        create.containers[0].security.cap_add = vec![Cow::Owned(format!("CAP_{}", n % 7))];
        t.apply(&mut create, now, true);
        t.apply(&mut docker(Action::ContainerStart, &id), now, true);
        if n % 3 == 0 {
            t.apply(&mut docker(Action::ContainerDie, &id), now, true);
        }
        peak_entries = peak_entries.max(t.len());
        peak_bytes = peak_bytes.max(t.bytes());
    }
    assert!(peak_entries <= limits.max_entries, "{peak_entries}");
    assert!(
        peak_entries < limits.max_entries,
        "the byte bound binds first: {peak_entries}"
    );
    assert!(peak_bytes <= limits.max_bytes + 4096, "{peak_bytes}");
    assert!(
        t.evictions() >= lifecycles - limits.max_entries as u64,
        "{}",
        t.evictions()
    );
    assert!(t.short_ids.len() <= t.len());
    assert_eq!(t.order.len(), t.len());
    assert!(t.images.len() <= t.len(), "{}", t.images.len());
    assert!(t.contexts.len() <= t.len(), "{}", t.contexts.len());
    assert!(t.seen.len() <= limits.max_entries);
    // The count is the sum of its parts: nothing is left behind by evictions.
    let entries: usize = t.entries.values().map(|e| e.bytes as usize).sum();
    assert_eq!(entries, t.entry_bytes);
}

#[test]
fn interned_values_are_shared_and_released_with_their_last_entry() {
    let mut t = table(10);
    let bytes = t.bytes();
    for id in ["a", "b", "c"] {
        t.apply(&mut inspect(id), 0, true);
    }
    assert_eq!(t.contexts.len(), 1, "three containers, one context");
    let one = t.bytes();
    t.apply(&mut inspect("d"), 0, true);
    let per_container = t.bytes() - one;
    assert!(per_container < 512, "{per_container}");
    for id in ["a", "b", "c", "d"] {
        t.apply(&mut docker(Action::ContainerDestroy, id), 1, true);
    }
    assert_eq!(t.len(), 0);
    assert_eq!(t.contexts.len(), 0);
    assert_eq!(t.bytes(), bytes, "all but first sightings returned");
}

#[test]
fn what_is_not_learned_is_looked_up_but_not_remembered() {
    let mut t = table(10);
    // A pod create that has not settled (or was denied): joined and judged, not kept.
    let d = t.apply(&mut pod_create(), 0, false);
    assert_eq!(d.image_first_seen, Some(true));
    assert_eq!(t.len(), 0);
    let d = t.apply(&mut pod_create(), 1, false);
    assert_eq!(d.image_first_seen, Some(true), "still never seen");
    // The create that settles it is learned.
    let d = t.apply(&mut pod_create(), 2, true);
    assert_eq!(d.image_first_seen, Some(true));
    assert_eq!(t.len(), 1);
    let d = t.apply(&mut pod_create(), 3, false);
    assert_eq!(d.image_first_seen, Some(false));
    // An unsettled destroy leaves the container where it was.
    t.apply(&mut inspect("a"), 4, true);
    t.apply(&mut docker(Action::ContainerDestroy, "a"), 5, false);
    assert_eq!(t.len(), 2);
}
