//! The container table: what earlier records said about a container, joined onto later
//! records that say less.
//!
//! A Docker `start`, `exec_create` or `die` event names a container and little else; a
//! Kubernetes exec names a pod and a container name; an ECS `RunTask` names a task
//! definition. The launch attributes arrive elsewhere and once: in `docker inspect`
//! output, an authorization-plugin body or a command line (by container id), in the pod's
//! create (by namespace/name), in `RegisterTaskDefinition` (by family). The table keeps
//! them under those keys so every later event about the container carries them, and keeps
//! the container's history (who created it, when it started and stopped, whether it has
//! acted yet) for the `crowsnest.*` fields rules read.
//!
//! It is bounded by entries and by bytes: past either bound the least recently touched
//! entry is evicted and counted, and entries not touched for the TTL (in event time) go
//! first, so a host that never sees `destroy` events cannot grow it without limit.

use std::collections::{HashMap, HashSet, VecDeque};

use serde::{Deserialize, Serialize};

use crate::model::{Action, Container, ContainerRole, Event, Source, Workload};
use crate::rules::Derived;

/// Bounds of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    pub max_entries: usize,
    pub max_bytes: usize,
    /// Entries untouched this long (event time) are dropped first.
    pub ttl_secs: i64,
    /// First sightings are not reported during this long after the first event.
    pub learning_period_secs: i64,
    /// How far out of order an event may be and still count as the latest news.
    pub lateness_secs: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entries: 65_536,
            max_bytes: 64 << 20,
            ttl_secs: 7 * 86_400,
            learning_period_secs: 0,
            lateness_secs: 30,
        }
    }
}

/// What the table holds about one key: a container (by id), or a group of containers
/// (a pod, an ECS task definition) by its name.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    containers: Vec<Container<'static>>,
    workload: Option<Workload<'static>>,
    created_by: Option<String>,
    created_s: Option<i64>,
    started_s: Option<i64>,
    stopped_s: Option<i64>,
    /// A process or connection has been seen from it.
    acted: bool,
    last_seen_s: i64,
    /// Approximate heap bytes, for the byte bound.
    bytes: usize,
    /// Recency stamp; an id's stamp in `order` older than this one is stale.
    touched: u64,
}

/// What survives a restart of the pipeline (see `Detector::snapshot`).
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct StateSnapshot {
    entries: Vec<(String, Entry)>,
    evictions: u64,
    #[serde(default)]
    seen: Vec<String>,
    #[serde(default)]
    first_event_s: Option<i64>,
}

pub(crate) struct ContainerTable {
    entries: HashMap<String, Entry>,
    /// Keys in order of last touch, with the stamp they were touched at; keys whose
    /// stamp moved on are skipped when evicting (lazy deletion keeps touch O(1)).
    order: VecDeque<(String, u64)>,
    /// 12-character short ids (Falco, `docker ps`) to full container ids.
    short_ids: HashMap<String, String>,
    /// Images, registries and principals seen, for first sightings (bounded with the table).
    seen: HashSet<String>,
    first_event_s: Option<i64>,
    clock: u64,
    bytes: usize,
    limits: Limits,
    evictions: u64,
}

const SHORT_ID: usize = 12;

fn container_key(id: &str) -> String {
    format!("c:{id}")
}

fn pod_key(namespace: &str, name: &str) -> String {
    format!("pod:{namespace}/{name}")
}

fn weigh(containers: &[Container<'_>], workload: Option<&Workload<'_>>) -> usize {
    // Fixed overhead of the entry and its map slot, plus the strings it holds.
    let strings = |c: &Container<'_>| {
        let s = &c.security;
        c.id.as_ref().map_or(0, |v| v.len())
            + c.name.as_ref().map_or(0, |v| v.len())
            + c.image.as_ref().map_or(0, |i| {
                i.reference.len() + i.registry.len() + i.repository.len() + 96
            })
            + s.cap_add.iter().map(|v| v.len() + 24).sum::<usize>()
            + s.host_mounts
                .iter()
                .map(|m| m.host_path.len() + m.container_path.as_ref().map_or(0, |v| v.len()) + 56)
                .sum::<usize>()
            + s.entrypoint
                .iter()
                .flatten()
                .map(|v| v.len() + 24)
                .sum::<usize>()
            + s.command
                .iter()
                .flatten()
                .map(|v| v.len() + 24)
                .sum::<usize>()
            + 320
    };
    160 + containers.iter().map(strings).sum::<usize>()
        + workload.map_or(0, |w| {
            w.kind.len()
                + w.name.as_ref().map_or(0, |v| v.len())
                + w.namespace.as_ref().map_or(0, |v| v.len())
                + 96
        })
}

impl ContainerTable {
    pub fn new(limits: Limits) -> Self {
        ContainerTable {
            entries: HashMap::new(),
            order: VecDeque::new(),
            short_ids: HashMap::new(),
            seen: HashSet::new(),
            first_event_s: None,
            clock: 0,
            bytes: 0,
            limits: Limits {
                max_entries: limits.max_entries.max(1),
                ..limits
            },
            evictions: 0,
        }
    }

    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = Limits {
            max_entries: limits.max_entries.max(1),
            ..limits
        };
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn evictions(&self) -> u64 {
        self.evictions
    }

    fn touch(&mut self, key: &str, now_s: i64) {
        self.clock += 1;
        if let Some(e) = self.entries.get_mut(key) {
            e.touched = self.clock;
            e.last_seen_s = e.last_seen_s.max(now_s);
            self.order.push_back((key.to_string(), self.clock));
        }
        // Compact the order queue when stale stamps dominate it.
        if self.order.len() > self.entries.len() * 4 + 64 {
            let entries = &self.entries;
            self.order
                .retain(|(k, t)| entries.get(k).is_some_and(|e| e.touched == *t));
        }
    }

    fn remove(&mut self, key: &str) {
        if let Some(e) = self.entries.remove(key) {
            self.bytes = self.bytes.saturating_sub(e.bytes + key.len());
            if let Some(id) = key.strip_prefix("c:")
                && id.len() > SHORT_ID
            {
                self.short_ids.remove(&id[..SHORT_ID]);
            }
        }
    }

    fn upsert(&mut self, key: String, now_s: i64, update: impl FnOnce(&mut Entry)) {
        let entry = self.entries.entry(key.clone()).or_insert_with(|| Entry {
            containers: Vec::new(),
            workload: None,
            created_by: None,
            created_s: None,
            started_s: None,
            stopped_s: None,
            acted: false,
            last_seen_s: now_s,
            bytes: 0,
            touched: 0,
        });
        let before = entry.bytes;
        update(entry);
        entry.bytes = weigh(&entry.containers, entry.workload.as_ref())
            + entry.created_by.as_ref().map_or(0, String::len);
        self.bytes = self.bytes + entry.bytes + if before == 0 { key.len() } else { 0 } - before;
        if let Some(id) = key.strip_prefix("c:")
            && id.len() > SHORT_ID
            && id.is_char_boundary(SHORT_ID)
        {
            self.short_ids
                .insert(id[..SHORT_ID].to_string(), id.to_string());
        }
        self.touch(&key, now_s);
        self.evict(now_s);
    }

    /// Drop expired entries at the front, then least recently used ones past the bounds.
    fn evict(&mut self, now_s: i64) {
        let horizon = now_s.saturating_sub(self.limits.ttl_secs);
        while let Some((key, stamp)) = self.order.front().cloned() {
            let Some(entry) = self.entries.get(&key) else {
                self.order.pop_front();
                continue;
            };
            if entry.touched != stamp {
                self.order.pop_front();
                continue;
            }
            let over =
                self.entries.len() > self.limits.max_entries || self.bytes > self.limits.max_bytes;
            let expired = entry.last_seen_s < horizon;
            if !(over || expired) {
                break;
            }
            self.order.pop_front();
            self.remove(&key);
            self.evictions += 1;
        }
    }

    /// The full key of a container id, resolving 12-character short ids.
    fn resolve(&self, id: &str) -> String {
        let id = id.rsplit_once("://").map_or(id, |(_, rest)| rest);
        if id.len() == SHORT_ID
            && let Some(full) = self.short_ids.get(id)
        {
            return container_key(full);
        }
        container_key(id)
    }

    /// First sightings of values, after the learning period.
    fn first_seen(&mut self, kind: &str, value: &str, now_s: i64) -> Option<bool> {
        let first = *self.first_event_s.get_or_insert(now_s);
        let new = self.seen.len() < self.limits.max_entries
            && self
                .seen
                .insert(format!("{kind}:{}", value.to_ascii_lowercase()));
        let learning = now_s < first.saturating_add(self.limits.learning_period_secs);
        Some(new && !learning)
    }

    /// Join `event` with the table, remember what it teaches, and say what history knows
    /// about it.
    pub fn apply(&mut self, event: &mut Event<'_>, now_s: i64) -> Derived {
        let mut derived = Derived::default();
        let launch = matches!(
            event.action,
            Action::ContainerCreate | Action::ContainerRun | Action::WorkloadCreate
        );
        if launch && event.response_code.is_none_or(|c| c < 400) && event.error.is_none() {
            self.note_sightings(event, now_s, &mut derived);
        }
        match event.source {
            Source::DockerInspect => self.docker_inspect(event, now_s),
            Source::K8sAudit | Source::AksAudit | Source::GkeAudit => self.kubernetes(event, now_s),
            Source::CloudTrail => self.ecs(event, now_s),
            _ => {}
        }
        if event.source != Source::DockerInspect {
            self.by_container_id(event, now_s, &mut derived);
        }
        derived
    }

    fn note_sightings(&mut self, event: &Event<'_>, now_s: i64, derived: &mut Derived) {
        for c in &event.containers {
            if let Some(image) = &c.image {
                let name = image.full_name();
                derived.image_first_seen = merge_any(
                    derived.image_first_seen,
                    self.first_seen("image", &name, now_s),
                );
                derived.registry_first_seen = merge_any(
                    derived.registry_first_seen,
                    self.first_seen("registry", &image.registry, now_s),
                );
            }
        }
        if let Some(p) = &event.principal
            && !p.name.is_empty()
        {
            derived.principal_first_seen = self.first_seen("principal", &p.name, now_s);
        }
    }

    /// `docker inspect`: the first look at a container is its creation as far as rules
    /// are concerned; later looks become `container-inspect` so a re-inspected container
    /// does not alert twice.
    fn docker_inspect(&mut self, event: &mut Event<'_>, now_s: i64) {
        let Some(c) = event.containers.first() else {
            return;
        };
        let Some(id) = c.id.as_deref() else { return };
        let key = self.resolve(id);
        if self
            .entries
            .get(&key)
            .is_some_and(|e| !e.containers.is_empty())
        {
            event.action = Action::ContainerInspect;
        }
        let stored = c.clone().into_owned();
        let workload = event.workload.clone().map(Workload::into_owned);
        self.upsert(key, now_s, |e| {
            e.containers = vec![stored];
            e.workload = workload;
            e.created_s.get_or_insert(now_s);
        });
    }

    /// Containers named by id: join stored attributes, keep the lifecycle.
    fn by_container_id(&mut self, event: &mut Event<'_>, now_s: i64, derived: &mut Derived) {
        let principal = event
            .principal
            .as_ref()
            .map(|p| p.name.to_string())
            .filter(|n| !n.is_empty());
        let action = event.action;
        for i in 0..event.containers.len() {
            let Some(id) = event.containers[i].id.as_deref() else {
                continue;
            };
            let key = self.resolve(id);
            // A short or prefixed id names the container by its full id from here on,
            // so every source's events about it carry the same one.
            if key.len() != id.len() + 2
                && let Some(full) = key.strip_prefix("c:")
                && self.entries.contains_key(&key)
            {
                event.containers[i].id = Some(std::borrow::Cow::Owned(full.to_string()));
            }
            if action == Action::ContainerDestroy {
                self.remove(&key);
                continue;
            }
            let known = self.entries.get(&key).cloned();
            if let Some(entry) = &known {
                // A create carries its own (possibly empty) attributes: never join onto
                // it, so a thin create event cannot be mistaken for a privileged one.
                if !matches!(action, Action::ContainerCreate | Action::ContainerRun)
                    && let Some(stored) = entry.containers.first()
                {
                    let c = &mut event.containers[i];
                    if c.security.is_unknown() {
                        c.security = stored.security.clone();
                    }
                    if c.image.is_none() {
                        c.image = stored.image.clone();
                    }
                    if c.name.is_none() {
                        c.name = stored.name.clone();
                    }
                    if event.workload.is_none() {
                        event.workload = entry.workload.clone();
                    }
                }
                derived.created_by = derived.created_by.take().or(entry.created_by.clone());
            }
            let is_action = matches!(
                action,
                Action::ProcessStart
                    | Action::NetworkConnect
                    | Action::NetworkFlow
                    | Action::DnsQuery
            );
            if is_action {
                derived.first_action = Some(!known.as_ref().is_some_and(|e| e.acted));
                derived.since_start_secs = known
                    .as_ref()
                    .and_then(|e| e.started_s.or(e.created_s))
                    .map(|t| (now_s - t).max(0));
            }
            if matches!(
                action,
                Action::ContainerStart | Action::ContainerRestart | Action::ContainerRun
            ) && let Some(stopped) = known.as_ref().and_then(|e| e.stopped_s)
            {
                derived.stopped_for_secs = Some((now_s - stopped).max(0));
            }
            let lateness = self.limits.lateness_secs;
            let principal = principal.clone();
            let fresh = (known.is_none()
                && !matches!(action, Action::ContainerCreate | Action::ContainerRun))
            .then(|| event.containers[i].clone().into_owned());
            self.upsert(key, now_s, |e| {
                if let Some(c) = fresh
                    && !c.security.is_unknown()
                {
                    e.containers = vec![c];
                }
                // An event older than the latest news (by more than the lateness) does
                // not move the lifecycle back.
                let current = |t: Option<i64>| t.is_none_or(|t| now_s + lateness >= t);
                match action {
                    Action::ContainerCreate | Action::ContainerRun => {
                        e.created_s.get_or_insert(now_s);
                        if e.created_by.is_none() {
                            e.created_by = principal;
                        }
                        if action == Action::ContainerRun {
                            e.started_s = Some(now_s);
                        }
                    }
                    Action::ContainerStart | Action::ContainerRestart if current(e.stopped_s) => {
                        e.started_s = Some(now_s);
                        e.stopped_s = None;
                    }
                    Action::ContainerStop | Action::ContainerDie | Action::ContainerKill
                        if current(e.started_s) =>
                    {
                        e.stopped_s = Some(now_s);
                    }
                    _ if is_action => e.acted = true,
                    _ => {}
                }
            });
        }
    }

    /// Kubernetes: a pod's spec is kept by namespace/name, so an exec says which of its
    /// containers it entered (an init container, from audit events alone).
    fn kubernetes(&mut self, event: &mut Event<'_>, now_s: i64) {
        let Some(w) = &event.workload else { return };
        if !w.kind.eq_ignore_ascii_case("Pod") {
            return;
        }
        let (Some(ns), Some(name)) = (w.namespace.as_deref(), w.name.as_deref()) else {
            return;
        };
        let key = pod_key(ns, name);
        let ok = event.response_code.is_none_or(|c| c < 400);
        match event.action {
            Action::WorkloadCreate if ok && !event.containers.is_empty() => {
                let containers: Vec<_> = event
                    .containers
                    .iter()
                    .cloned()
                    .map(Container::into_owned)
                    .collect();
                let workload = Some(w.clone().into_owned());
                let by = event.principal.as_ref().map(|p| p.name.to_string());
                self.upsert(key, now_s, |e| {
                    e.containers = containers;
                    e.workload = workload;
                    e.created_by = by;
                    e.created_s = Some(now_s);
                });
            }
            Action::WorkloadDelete if ok => self.remove(&key),
            Action::ContainerExec | Action::ContainerAttach => {
                let Some(entry) = self.entries.get(&key) else {
                    return;
                };
                let spec = entry.containers.clone();
                let target_name = event.containers.first().and_then(|c| c.name.clone());
                // kubectl's default target is the pod's first main container.
                let stored = match &target_name {
                    Some(n) => spec.iter().find(|c| c.name.as_deref() == Some(n.as_ref())),
                    None => spec.iter().find(|c| c.role == ContainerRole::Main),
                };
                if let Some(stored) = stored {
                    match event.containers.first_mut() {
                        Some(c) => {
                            c.role = stored.role;
                            if c.image.is_none() {
                                c.image = stored.image.clone();
                            }
                            if c.security.is_unknown() {
                                c.security = stored.security.clone();
                            }
                            if c.name.is_none() {
                                c.name = stored.name.clone();
                            }
                        }
                        None => event.containers.push(stored.clone()),
                    }
                }
                self.touch(&key, now_s);
            }
            _ => {}
        }
    }

    /// ECS: a task definition's containers by family, joined onto the tasks run from it.
    fn ecs(&mut self, event: &mut Event<'_>, now_s: i64) {
        let Some(w) = &event.workload else { return };
        let family = |name: &str| {
            let name = name.rsplit('/').next().unwrap_or(name);
            name.split(':').next().unwrap_or(name).to_string()
        };
        match (event.action, w.kind.as_ref()) {
            (Action::WorkloadCreate, "TaskDefinition") if event.error.is_none() => {
                let Some(name) = w.name.as_deref() else {
                    return;
                };
                let key = format!("taskdef:{}", family(name));
                let containers: Vec<_> = event
                    .containers
                    .iter()
                    .cloned()
                    .map(Container::into_owned)
                    .collect();
                self.upsert(key, now_s, |e| e.containers = containers);
            }
            (Action::ContainerStart, _) => {
                // The task's definition is its owner (`TaskDefinition/family:rev`); the uid
                // is the task's own ARN.
                let Some(def) = w.owner.as_deref().or(w.uid.as_deref()) else {
                    return;
                };
                let key = format!("taskdef:{}", family(def));
                let Some(entry) = self.entries.get(&key) else {
                    return;
                };
                let spec = entry.containers.clone();
                for c in &mut event.containers {
                    let Some(stored) = spec.iter().find(|s| s.name == c.name) else {
                        continue;
                    };
                    if c.image.is_none() {
                        c.image = stored.image.clone();
                    }
                    let command = c.security.command.take();
                    if c.security.is_unknown() {
                        c.security = stored.security.clone();
                        // The definition's entrypoint and command were judged when it
                        // was registered; at run time only an override is news.
                        c.security.entrypoint = None;
                    }
                    c.security.command = command;
                }
                if event.containers.is_empty() {
                    event.containers = spec;
                }
                self.touch(&key, now_s);
            }
            _ => {}
        }
    }

    pub fn snapshot(&self) -> StateSnapshot {
        let mut live: Vec<_> = self.entries.iter().collect();
        live.sort_by_key(|(_, e)| e.touched);
        StateSnapshot {
            entries: live
                .into_iter()
                .map(|(k, e)| (k.clone(), e.clone()))
                .collect(),
            evictions: self.evictions,
            seen: self.seen.iter().cloned().collect(),
            first_event_s: self.first_event_s,
        }
    }

    pub fn restore(&mut self, snapshot: StateSnapshot) {
        *self = ContainerTable::new(self.limits);
        for (key, entry) in snapshot.entries {
            let now = entry.last_seen_s;
            self.upsert(key, now, |e| *e = entry);
        }
        self.evictions += snapshot.evictions;
        self.seen = snapshot.seen.into_iter().collect();
        self.first_event_s = snapshot.first_event_s;
    }
}

fn merge_any(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (None, x) | (x, None) => x,
        (Some(a), Some(b)) => Some(a || b),
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;
    use crate::image_ref::ImageRef;
    use crate::model::{Principal, SecurityContext};

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
        t.apply(&mut first, 0);
        assert_eq!(first.action, Action::ContainerCreate);
        let mut exec = docker(Action::ContainerExec, "a");
        t.apply(&mut exec, 1);
        assert_eq!(exec.containers[0].security.privileged, Some(true));
        assert_eq!(exec.containers[0].name.as_deref(), Some("agent"));
        let mut again = inspect("a");
        t.apply(&mut again, 2);
        assert_eq!(again.action, Action::ContainerInspect);
    }

    #[test]
    fn create_events_are_not_joined_and_destroy_forgets() {
        let mut t = table(10);
        t.apply(&mut inspect("a"), 0);
        let mut create = docker(Action::ContainerCreate, "a");
        t.apply(&mut create, 1);
        assert_eq!(create.containers[0].security.privileged, None);
        t.apply(&mut docker(Action::ContainerDestroy, "a"), 2);
        assert_eq!(t.len(), 0);
    }

    #[test]
    fn bounded_with_least_recently_used_eviction() {
        let mut t = table(3);
        for id in ["a", "b", "c"] {
            t.apply(&mut inspect(id), 0);
        }
        // Touch "a" so "b" is now the least recently used.
        t.apply(&mut docker(Action::ContainerStart, "a"), 1);
        t.apply(&mut inspect("d"), 2);
        assert_eq!(t.len(), 3);
        assert_eq!(t.evictions(), 1);
        let mut b = docker(Action::ContainerStart, "b");
        t.apply(&mut b, 3);
        assert_eq!(b.containers[0].security.privileged, None, "b was evicted");
        let mut a = docker(Action::ContainerStart, "a");
        t.apply(&mut a, 4);
        assert_eq!(a.containers[0].security.privileged, Some(true));
    }

    #[test]
    fn entries_idle_past_the_ttl_are_dropped() {
        let mut t = ContainerTable::new(Limits {
            ttl_secs: 100,
            ..Limits::default()
        });
        t.apply(&mut inspect("a"), 0);
        t.apply(&mut inspect("b"), 50);
        t.apply(&mut inspect("c"), 140);
        assert_eq!(t.len(), 2, "a expired");
        assert_eq!(t.evictions(), 1);
    }

    #[test]
    fn short_ids_resolve_to_the_full_container() {
        let full = "25923f70cb6243497e0cbe25137706b3fe5a5a9a3d145fca64ac7e568cebadc7";
        let mut t = table(10);
        t.apply(&mut inspect(full), 0);
        let mut falco = Event::new(Source::Falco, Action::ProcessStart, "execve");
        falco.containers.push(Container {
            id: Some(Cow::Borrowed(&full[..12])),
            ..Container::default()
        });
        let d = t.apply(&mut falco, 5);
        assert_eq!(falco.containers[0].security.privileged, Some(true));
        assert_eq!(
            falco.containers[0].id.as_deref(),
            Some(full),
            "the full id from here on"
        );
        assert_eq!(d.first_action, Some(true));
        assert_eq!(d.since_start_secs, Some(5));
        let d = t.apply(&mut falco, 6);
        assert_eq!(
            d.first_action,
            Some(false),
            "the second process is not the first"
        );
        let mut tetragon = docker(Action::ProcessStart, &format!("containerd://{full}"));
        tetragon.source = Source::Tetragon;
        t.apply(&mut tetragon, 7);
        assert_eq!(tetragon.containers[0].name.as_deref(), Some("agent"));
    }

    #[test]
    fn a_start_says_how_long_the_container_was_stopped() {
        let mut t = table(10);
        t.apply(&mut inspect("a"), 0);
        t.apply(&mut docker(Action::ContainerStart, "a"), 10);
        t.apply(&mut docker(Action::ContainerDie, "a"), 100);
        let d = t.apply(&mut docker(Action::ContainerStart, "a"), 100 + 40 * 86_400);
        assert_eq!(d.stopped_for_secs, Some(40 * 86_400));
        let d = t.apply(
            &mut docker(Action::ContainerRestart, "a"),
            100 + 40 * 86_400 + 5,
        );
        assert_eq!(d.stopped_for_secs, None, "running, not stopped");
    }

    #[test]
    fn a_late_stop_does_not_undo_a_later_start() {
        let mut t = table(10);
        t.apply(&mut docker(Action::ContainerStart, "a"), 1_000);
        // A `die` from 10 minutes earlier arrives late: beyond the 30 s lateness.
        t.apply(&mut docker(Action::ContainerDie, "a"), 400);
        let d = t.apply(&mut docker(Action::ContainerStart, "a"), 1_010);
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
        t.apply(&mut pod_create(), 0);
        let mut init = exec(Some("init-setup"));
        t.apply(&mut init, 5);
        assert_eq!(init.containers[0].role, ContainerRole::Init);
        assert_eq!(init.containers[0].security.privileged, Some(true));
        let mut main = exec(Some("web"));
        t.apply(&mut main, 6);
        assert_eq!(main.containers[0].role, ContainerRole::Main);
        let mut default = exec(None);
        t.apply(&mut default, 7);
        assert_eq!(default.containers[0].name.as_deref(), Some("web"));
        assert_eq!(default.containers[0].role, ContainerRole::Main);
    }

    #[test]
    fn first_sightings_wait_for_the_learning_period() {
        let mut t = ContainerTable::new(Limits {
            learning_period_secs: 3_600,
            ..Limits::default()
        });
        let d = t.apply(&mut pod_create(), 0);
        assert_eq!(d.image_first_seen, Some(false), "learning");
        let mut later = pod_create();
        later.containers[1].image = Some(ImageRef::lenient(Cow::Borrowed("evil.example/miner:1")));
        let d = t.apply(&mut later, 7_200);
        assert_eq!(d.image_first_seen, Some(true));
        assert_eq!(d.registry_first_seen, Some(true));
        assert_eq!(
            d.principal_first_seen,
            Some(false),
            "mallory was seen while learning"
        );
        let d = t.apply(&mut later, 7_300);
        assert_eq!(d.image_first_seen, Some(false));
    }

    #[test]
    fn snapshot_round_trip() {
        let mut t = table(10);
        t.apply(&mut inspect("a"), 0);
        let blob = serde_json::to_vec(&t.snapshot()).unwrap();
        let mut fresh = table(10);
        fresh.restore(serde_json::from_slice(&blob).unwrap());
        let mut exec = docker(Action::ContainerExec, "a");
        fresh.apply(&mut exec, 1);
        assert_eq!(exec.containers[0].security.privileged, Some(true));
    }

    #[test]
    fn a_million_lifecycles_stay_within_the_bounds() {
        let limits = Limits {
            max_entries: 10_000,
            max_bytes: 8 << 20,
            ..Limits::default()
        };
        let mut t = ContainerTable::new(limits);
        let mut peak_entries = 0;
        let mut peak_bytes = 0;
        for n in 0..1_000_000u64 {
            let id = format!("{n:064x}");
            let now = i64::try_from(n / 10).unwrap_or(0);
            let mut create = inspect(&id);
            create.containers[0].image = Some(ImageRef::lenient(Cow::Owned(format!(
                "registry.example.com/team-{}/app:{}",
                n % 97,
                n % 13
            ))));
            t.apply(&mut create, now);
            t.apply(&mut docker(Action::ContainerStart, &id), now);
            if n % 3 == 0 {
                t.apply(&mut docker(Action::ContainerDie, &id), now);
            }
            peak_entries = peak_entries.max(t.len());
            peak_bytes = peak_bytes.max(t.bytes());
        }
        assert!(peak_entries <= limits.max_entries, "{peak_entries}");
        assert!(peak_bytes <= limits.max_bytes + 4096, "{peak_bytes}");
        assert!(t.evictions() >= 990_000, "{}", t.evictions());
        assert!(t.short_ids.len() <= limits.max_entries);
    }
}
