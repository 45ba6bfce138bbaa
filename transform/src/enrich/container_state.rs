//! The container table: launch attributes remembered by container id.
//!
//! A Docker `start`, `exec_create` or `die` event names a container and little else;
//! the privileged flag, mounts, image and restart policy arrive once, in `docker inspect`
//! output (or, later, an authorization-plugin body or a command line). The table keeps
//! those attributes so every later event about the container carries them.
//!
//! It is bounded: past `max_entries` the least recently touched container is evicted and
//! counted, so a host that never sees `destroy` events cannot grow it without limit.

use std::collections::{HashMap, VecDeque};

use serde::{Deserialize, Serialize};

use crate::model::{Action, Container, Event, Source, Workload};

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    container: Container<'static>,
    workload: Option<Workload<'static>>,
    /// Recency stamp; an id's stamp in `order` older than this one is stale.
    touched: u64,
}

/// What survives a restart of the pipeline (see `Detector::snapshot`).
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct StateSnapshot {
    entries: Vec<(String, Container<'static>, Option<Workload<'static>>)>,
    evictions: u64,
}

pub(crate) struct ContainerTable {
    entries: HashMap<String, Entry>,
    /// Ids in order of last touch, with the stamp they were touched at; entries whose
    /// stamp moved on are skipped when evicting (lazy deletion keeps touch O(1)).
    order: VecDeque<(String, u64)>,
    clock: u64,
    max_entries: usize,
    evictions: u64,
}

impl ContainerTable {
    pub fn new(max_entries: usize) -> Self {
        ContainerTable {
            entries: HashMap::new(),
            order: VecDeque::new(),
            clock: 0,
            max_entries: max_entries.max(1),
            evictions: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn evictions(&self) -> u64 {
        self.evictions
    }

    fn touch(&mut self, id: &str) {
        self.clock += 1;
        if let Some(e) = self.entries.get_mut(id) {
            e.touched = self.clock;
            self.order.push_back((id.to_string(), self.clock));
        }
        // Compact the order queue when stale stamps dominate it.
        if self.order.len() > self.entries.len() * 4 + 64 {
            let entries = &self.entries;
            self.order
                .retain(|(id, t)| entries.get(id).is_some_and(|e| e.touched == *t));
        }
    }

    fn insert(
        &mut self,
        id: String,
        container: Container<'static>,
        workload: Option<Workload<'static>>,
    ) {
        self.entries.insert(
            id.clone(),
            Entry {
                container,
                workload,
                touched: 0,
            },
        );
        self.touch(&id);
        while self.entries.len() > self.max_entries {
            let Some((old, stamp)) = self.order.pop_front() else {
                break;
            };
            if self.entries.get(&old).is_some_and(|e| e.touched == stamp) {
                self.entries.remove(&old);
                self.evictions += 1;
            }
        }
    }

    /// Join `event` with the table, and remember what it teaches.
    ///
    /// - `docker inspect` output stores the container; the first look at a container is
    ///   its creation as far as rules are concerned, later looks become
    ///   `container-inspect` so a re-inspected container does not alert twice.
    /// - Docker events other than `create` get the stored attributes of their container
    ///   when they carry none of their own.
    /// - `destroy` forgets the container.
    pub fn apply(&mut self, event: &mut Event<'_>) {
        match event.source {
            Source::DockerInspect => {
                let Some(c) = event.containers.first() else {
                    return;
                };
                let Some(id) = c.id.as_deref() else { return };
                if self.entries.contains_key(id) {
                    event.action = Action::ContainerInspect;
                }
                let (id, stored) = (id.to_string(), c.clone().into_owned());
                let workload = event.workload.clone().map(Workload::into_owned);
                self.insert(id, stored, workload);
            }
            Source::DockerEvent => {
                if event.action == Action::ContainerDestroy {
                    for c in &event.containers {
                        if let Some(id) = c.id.as_deref() {
                            self.entries.remove(id);
                        }
                    }
                    return;
                }
                if event.action == Action::ContainerCreate {
                    return;
                }
                let mut joined = false;
                for c in &mut event.containers {
                    let Some(id) = c.id.as_deref() else { continue };
                    let Some(entry) = self.entries.get(id) else {
                        continue;
                    };
                    let stored = &entry.container;
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
                    joined = true;
                }
                if joined {
                    let ids: Vec<String> = event
                        .containers
                        .iter()
                        .filter_map(|c| c.id.as_deref().map(str::to_string))
                        .collect();
                    for id in ids {
                        self.touch(&id);
                    }
                }
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
                .map(|(id, e)| (id.clone(), e.container.clone(), e.workload.clone()))
                .collect(),
            evictions: self.evictions,
        }
    }

    pub fn restore(&mut self, snapshot: StateSnapshot) {
        let max = self.max_entries;
        *self = ContainerTable::new(max);
        for (id, container, workload) in snapshot.entries {
            self.insert(id, container, workload);
        }
        self.evictions += snapshot.evictions;
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;
    use crate::model::SecurityContext;

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
        let mut t = ContainerTable::new(10);
        let mut first = inspect("a");
        t.apply(&mut first);
        assert_eq!(first.action, Action::ContainerCreate);
        let mut exec = docker(Action::ContainerExec, "a");
        t.apply(&mut exec);
        assert_eq!(exec.containers[0].security.privileged, Some(true));
        assert_eq!(exec.containers[0].name.as_deref(), Some("agent"));
        let mut again = inspect("a");
        t.apply(&mut again);
        assert_eq!(again.action, Action::ContainerInspect);
    }

    #[test]
    fn create_events_are_not_joined_and_destroy_forgets() {
        let mut t = ContainerTable::new(10);
        t.apply(&mut inspect("a"));
        let mut create = docker(Action::ContainerCreate, "a");
        t.apply(&mut create);
        assert_eq!(create.containers[0].security.privileged, None);
        t.apply(&mut docker(Action::ContainerDestroy, "a"));
        assert_eq!(t.len(), 0);
    }

    #[test]
    fn bounded_with_least_recently_used_eviction() {
        let mut t = ContainerTable::new(3);
        for id in ["a", "b", "c"] {
            t.apply(&mut inspect(id));
        }
        // Touch "a" so "b" is now the least recently used.
        t.apply(&mut docker(Action::ContainerStart, "a"));
        t.apply(&mut inspect("d"));
        assert_eq!(t.len(), 3);
        assert_eq!(t.evictions(), 1);
        let mut b = docker(Action::ContainerStart, "b");
        t.apply(&mut b);
        assert_eq!(b.containers[0].security.privileged, None, "b was evicted");
        let mut a = docker(Action::ContainerStart, "a");
        t.apply(&mut a);
        assert_eq!(a.containers[0].security.privileged, Some(true));
    }

    #[test]
    fn snapshot_round_trip() {
        let mut t = ContainerTable::new(10);
        t.apply(&mut inspect("a"));
        let blob = serde_json::to_vec(&t.snapshot()).unwrap();
        let mut fresh = ContainerTable::new(10);
        fresh.restore(serde_json::from_slice(&blob).unwrap());
        let mut exec = docker(Action::ContainerExec, "a");
        fresh.apply(&mut exec);
        assert_eq!(exec.containers[0].security.privileged, Some(true));
    }
}
