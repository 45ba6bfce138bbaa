//! The container table's storage: entries by key, bounded, with interned shared parts and
//! snapshots. What each source's events read from it and teach it is in the sibling
//! modules (`docker`, `kubernetes`, `ecs`, `sightings`).
//!
//! It is bounded by entries and by bytes: past either bound the least recently touched
//! entry is evicted and counted, and entries not touched for the TTL (in event time) go
//! first, so a host that never sees `destroy` events cannot grow it without limit.
//!
//! Memory: a fleet runs few images and few distinct launch settings, so image references,
//! security contexts and principals are interned (one shared copy, dropped with the last
//! entry that holds it), an entry keeps only what joins and rules read, and the recency
//! order and short-id index point at the entry's key instead of copying it. The byte
//! count is an estimate of the real heap, allocator overhead included (see `weigh`), and
//! is what `Stats::state_bytes` reports.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::Hash;
use std::mem::size_of;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::model::ImageRef;
use crate::model::{Container, ContainerRole, SecurityContext, Workload};

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
            max_entries: 131_072,
            max_bytes: 64 << 20,
            ttl_secs: 7 * 86_400,
            learning_period_secs: 0,
            lateness_secs: 30,
        }
    }
}

/// One container's remembered launch attributes. The id is the entry's key (or absent,
/// for a pod's or task definition's containers); the shared parts are interned.
#[derive(Debug, Clone)]
pub(super) struct Stored {
    pub(super) name: Option<Box<str>>,
    pub(super) image: Option<Arc<ImageRef<'static>>>,
    pub(super) security: Arc<SecurityContext<'static>>,
    pub(super) role: ContainerRole,
}

impl Stored {
    pub(super) fn to_container(&self) -> Container<'static> {
        Container {
            id: None,
            name: self.name.as_deref().map(|n| n.to_string().into()),
            image: self.image.as_deref().cloned(),
            role: self.role,
            security: (*self.security).clone(),
        }
    }

    pub(super) fn name_is(&self, name: Option<&str>) -> bool {
        self.name.as_deref() == name
    }
}

/// An event time in seconds, or none; `i64::MIN` stands for none, so an entry keeps
/// three of them in 24 bytes.
#[derive(Debug, Clone, Copy)]
pub(super) struct Secs(pub(super) i64);

impl Secs {
    pub(super) const NONE: Secs = Secs(i64::MIN);

    pub(super) fn get(self) -> Option<i64> {
        (self.0 != i64::MIN).then_some(self.0)
    }

    pub(super) fn of(t: Option<i64>) -> Secs {
        t.map_or(Secs::NONE, |t| Secs(t.max(i64::MIN + 1)))
    }
}

/// What the table holds about one key: a container (by id), or a group of containers
/// (a pod, an ECS task definition) by its name.
#[derive(Debug)]
pub(super) struct Entry {
    pub(super) containers: Box<[Stored]>,
    pub(super) workload: Option<Box<Workload<'static>>>,
    pub(super) created_by: Option<Arc<str>>,
    pub(super) created_s: Secs,
    pub(super) started_s: Secs,
    pub(super) stopped_s: Secs,
    pub(super) last_seen_s: i64,
    /// Recency stamp: the entry's key in `order`.
    pub(super) touched: u64,
    /// Estimated heap bytes of the entry and its slots in the table's maps.
    pub(super) bytes: u32,
    /// A process or connection has been seen from it.
    pub(super) acted: bool,
}

impl Entry {
    pub(super) fn new(now_s: i64) -> Self {
        Entry {
            containers: Box::new([]),
            workload: None,
            created_by: None,
            created_s: Secs::NONE,
            started_s: Secs::NONE,
            stopped_s: Secs::NONE,
            last_seen_s: now_s,
            touched: 0,
            bytes: 0,
            acted: false,
        }
    }
}

/// Interned values an entry gave up (replaced or removed), to be released.
#[derive(Default)]
pub(super) struct Released {
    pub(super) containers: Box<[Stored]>,
    pub(super) created_by: Option<Arc<str>>,
}

/// An entry as snapshots hold it: the layout every snapshot so far was written in.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SavedEntry {
    containers: Vec<Container<'static>>,
    workload: Option<Workload<'static>>,
    created_by: Option<String>,
    created_s: Option<i64>,
    started_s: Option<i64>,
    stopped_s: Option<i64>,
    acted: bool,
    last_seen_s: i64,
    #[serde(default)]
    bytes: usize,
    #[serde(default)]
    touched: u64,
}

/// What survives a restart of the pipeline (see `Detector::snapshot`).
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct StateSnapshot {
    entries: Vec<(String, SavedEntry)>,
    evictions: u64,
    #[serde(default)]
    seen: Vec<String>,
    #[serde(default)]
    first_event_s: Option<i64>,
}

/// Heap bytes glibc's malloc takes for an allocation of `n` bytes: an 8-byte header,
/// 16-byte granules, 32 bytes at least (dlmalloc in the component is close to it).
fn chunk(n: usize) -> usize {
    if n == 0 {
        0
    } else {
        (n + 8).div_ceil(16).max(2) * 16
    }
}

/// Bytes a value of `T` takes as a slot of a `HashMap`/`HashSet`: the slot, its control
/// byte, at the table's average load (between 7/8 and 7/16 full).
pub(super) fn slot<T>() -> usize {
    (size_of::<T>() + 1) * 3 / 2
}

pub(super) fn str_heap(s: &str) -> usize {
    chunk(s.len())
}

fn strings<'a>(v: impl IntoIterator<Item = &'a std::borrow::Cow<'a, str>>) -> usize {
    v.into_iter().map(|s| str_heap(s) + 24).sum()
}

/// A set of shared values, each dropped when the last entry holding it is.
pub(super) struct Interner<T: ?Sized + Eq + Hash> {
    pub(super) set: HashSet<Arc<T>>,
    pub(super) bytes: usize,
}

impl<T: ?Sized + Eq + Hash> Default for Interner<T> {
    fn default() -> Self {
        Interner {
            set: HashSet::new(),
            bytes: 0,
        }
    }
}

impl<T: ?Sized + Eq + Hash> Interner<T> {
    pub(super) fn insert(&mut self, value: T, weigh: usize) -> Arc<T>
    where
        T: Sized,
    {
        let shared = Arc::new(value);
        self.bytes += weigh + slot::<Arc<T>>();
        self.set.insert(Arc::clone(&shared));
        shared
    }

    /// Drop `shared` from the set when the set and `shared` are its last holders.
    pub(super) fn release(&mut self, shared: Arc<T>, weigh: impl FnOnce(&T) -> usize) {
        if Arc::strong_count(&shared) == 2 && self.set.remove(&*shared) {
            self.bytes = self.bytes.saturating_sub(weigh(&shared) + slot::<Arc<T>>());
        }
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.set.len()
    }
}

fn weigh_image(i: &ImageRef<'_>) -> usize {
    chunk(16 + size_of::<ImageRef<'static>>())
        + str_heap(&i.reference)
        + str_heap(&i.registry)
        + str_heap(&i.repository)
        + i.tag.as_deref().map_or(0, str_heap)
        + i.digest.as_deref().map_or(0, str_heap)
}

fn weigh_security(s: &SecurityContext<'_>) -> usize {
    chunk(16 + size_of::<SecurityContext<'static>>())
        + strings(&s.cap_add)
        + strings(&s.security_opt)
        + strings(&s.devices)
        + s.host_mounts
            .iter()
            .map(|m| {
                size_of::<crate::model::HostMount<'static>>()
                    + str_heap(&m.host_path)
                    + m.container_path.as_deref().map_or(0, str_heap)
            })
            .sum::<usize>()
        + s.user.as_deref().map_or(0, str_heap)
        + s.restart_policy.as_ref().map_or(0, |r| str_heap(&r.name))
        + s.entrypoint.as_ref().map_or(0, strings)
        + s.command.as_ref().map_or(0, strings)
}

fn weigh_principal(p: &str) -> usize {
    chunk(16 + p.len())
}

fn weigh_workload(w: &Workload<'_>) -> usize {
    chunk(size_of::<Workload<'static>>())
        + str_heap(&w.kind)
        + [&w.name, &w.namespace, &w.uid, &w.owner]
            .into_iter()
            .flatten()
            .map(|s| str_heap(s))
            .sum::<usize>()
}

/// An entry's own heap (interned values are counted once, by their interner): its
/// slot in `entries`, its key, its place in `order` and the short-id index, its
/// containers' names and its workload.
fn weigh(key: &str, entry: &Entry) -> usize {
    let order = size_of::<(u64, Arc<str>)>() * 2;
    let short_id = if is_long_container_key(key) {
        slot::<([u8; SHORT_ID], Arc<str>)>()
    } else {
        0
    };
    slot::<(Arc<str>, Entry)>()
        + chunk(16 + key.len())
        + order
        + short_id
        + chunk(entry.containers.len() * size_of::<Stored>())
        + entry
            .containers
            .iter()
            .map(|c| c.name.as_deref().map_or(0, str_heap))
            .sum::<usize>()
        + entry.workload.as_deref().map_or(0, weigh_workload)
}

pub(crate) struct ContainerTable {
    pub(super) entries: HashMap<Arc<str>, Entry>,
    /// Keys by the stamp they were last touched at, least recent first.
    pub(super) order: BTreeMap<u64, Arc<str>>,
    /// 12-character short ids (Falco, `docker ps`) to the full container's key.
    pub(super) short_ids: HashMap<[u8; SHORT_ID], Arc<str>>,
    pub(super) images: Interner<ImageRef<'static>>,
    pub(super) contexts: Interner<SecurityContext<'static>>,
    pub(super) principals: Interner<str>,
    /// Images, registries and principals seen, for first sightings (bounded with the table).
    pub(super) seen: HashSet<Box<str>>,
    pub(super) seen_bytes: usize,
    /// Scratch for first-sighting keys.
    pub(super) scratch: String,
    pub(super) first_event_s: Option<i64>,
    pub(super) clock: u64,
    /// The entries' own bytes (see `weigh`).
    pub(super) entry_bytes: usize,
    pub(super) limits: Limits,
    pub(super) evictions: u64,
}

const SHORT_ID: usize = 12;
pub(super) const CONTAINER_PREFIX: &str = "c:";

fn container_key(id: &str) -> String {
    format!("{CONTAINER_PREFIX}{id}")
}

fn is_long_container_key(key: &str) -> bool {
    key.strip_prefix(CONTAINER_PREFIX)
        .is_some_and(|id| id.len() > SHORT_ID && id.is_char_boundary(SHORT_ID))
}

fn short_id(key: &str) -> Option<[u8; SHORT_ID]> {
    let id = key.strip_prefix(CONTAINER_PREFIX)?;
    if id.len() > SHORT_ID && id.is_char_boundary(SHORT_ID) {
        id.as_bytes()[..SHORT_ID].try_into().ok()
    } else {
        None
    }
}

pub(super) fn pod_key(namespace: &str, name: &str) -> String {
    format!("pod:{namespace}/{name}")
}

/// A workload that carries a pod template (`DaemonSet`, `ReplicaSet`, ...), by kind.
pub(super) fn template_key(namespace: &str, kind: &str, name: &str) -> String {
    format!("template:{namespace}/{}/{name}", kind.to_ascii_lowercase())
}

impl ContainerTable {
    pub fn new(limits: Limits) -> Self {
        ContainerTable {
            entries: HashMap::new(),
            order: BTreeMap::new(),
            short_ids: HashMap::new(),
            images: Interner::default(),
            contexts: Interner::default(),
            principals: Interner::default(),
            seen: HashSet::new(),
            seen_bytes: 0,
            scratch: String::new(),
            first_event_s: None,
            clock: 0,
            entry_bytes: 0,
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

    /// Estimated heap bytes of everything the table holds: entries, interned values and
    /// first sightings.
    pub fn bytes(&self) -> usize {
        self.entry_bytes
            + self.images.bytes
            + self.contexts.bytes
            + self.principals.bytes
            + self.seen_bytes
    }

    pub fn evictions(&self) -> u64 {
        self.evictions
    }

    pub(super) fn touch(&mut self, key: &str, now_s: i64) {
        self.clock += 1;
        let Some((k, _)) = self.entries.get_key_value(key) else {
            return;
        };
        let k = Arc::clone(k);
        if let Some(e) = self.entries.get_mut(key) {
            self.order.remove(&e.touched);
            e.touched = self.clock;
            e.last_seen_s = e.last_seen_s.max(now_s);
            self.order.insert(self.clock, k);
        }
    }

    pub(super) fn remove(&mut self, key: &str) {
        if let Some((key, e)) = self.entries.remove_entry(key) {
            self.entry_bytes = self.entry_bytes.saturating_sub(e.bytes as usize);
            self.order.remove(&e.touched);
            if let Some(short) = short_id(&key)
                && self.short_ids.get(&short).is_some_and(|k| *k == key)
            {
                self.short_ids.remove(&short);
            }
            self.release(Released {
                containers: e.containers,
                created_by: e.created_by,
            });
        }
    }

    pub(super) fn release(&mut self, released: Released) {
        for c in released.containers {
            if let Some(image) = c.image {
                self.images.release(image, weigh_image);
            }
            self.contexts.release(c.security, weigh_security);
        }
        if let Some(p) = released.created_by {
            self.principals.release(p, weigh_principal);
        }
    }

    /// The stored form of a container: shared parts interned.
    pub(super) fn store(&mut self, c: &Container<'_>) -> Stored {
        let image = c.image.as_ref().map(|i| {
            let owned = i.clone().into_owned();
            let weight = weigh_image(&owned);
            let found = self.images.set.get(&owned).cloned();
            found.unwrap_or_else(|| self.images.insert(owned, weight))
        });
        let security = {
            let owned = c.security.clone().into_owned();
            let weight = weigh_security(&owned);
            let found = self.contexts.set.get(&owned).cloned();
            found.unwrap_or_else(|| self.contexts.insert(owned, weight))
        };
        Stored {
            name: c.name.as_deref().map(Box::from),
            image,
            security,
            role: c.role,
        }
    }

    pub(super) fn principal(&mut self, name: &str) -> Arc<str> {
        match self.principals.set.get(name) {
            Some(shared) => Arc::clone(shared),
            None => {
                let shared: Arc<str> = Arc::from(name);
                self.principals.bytes += weigh_principal(name) + slot::<Arc<str>>();
                self.principals.set.insert(Arc::clone(&shared));
                shared
            }
        }
    }

    pub(super) fn upsert(
        &mut self,
        key: String,
        now_s: i64,
        update: impl FnOnce(&mut Entry) -> Released,
    ) {
        let existing = self
            .entries
            .get_key_value(key.as_str())
            .map(|(k, _)| Arc::clone(k));
        let (key, released) = match existing.and_then(|k| Some((self.entries.get_mut(&k)?, k))) {
            Some((entry, k)) => {
                let released = update(entry);
                let before = entry.bytes as usize;
                entry.bytes = u32::try_from(weigh(&k, entry)).unwrap_or(u32::MAX);
                self.entry_bytes = self.entry_bytes + entry.bytes as usize - before;
                (k, released)
            }
            None => {
                let k: Arc<str> = Arc::from(key);
                let mut entry = Entry::new(now_s);
                let released = update(&mut entry);
                entry.bytes = u32::try_from(weigh(&k, &entry)).unwrap_or(u32::MAX);
                self.entry_bytes += entry.bytes as usize;
                if let Some(short) = short_id(&k) {
                    self.short_ids.insert(short, Arc::clone(&k));
                }
                self.entries.insert(Arc::clone(&k), entry);
                (k, released)
            }
        };
        self.release(released);
        self.touch(&key, now_s);
        self.evict(now_s);
    }

    /// Drop expired entries at the front, then least recently used ones past the bounds.
    pub(super) fn evict(&mut self, now_s: i64) {
        let horizon = now_s.saturating_sub(self.limits.ttl_secs);
        while let Some((_, key)) = self.order.first_key_value() {
            let Some(entry) = self.entries.get(key) else {
                self.order.pop_first();
                continue;
            };
            let over = self.entries.len() > self.limits.max_entries
                || self.bytes() > self.limits.max_bytes;
            let expired = entry.last_seen_s < horizon;
            if !(over || expired) {
                break;
            }
            let key = Arc::clone(key);
            self.remove(&key);
            self.evictions += 1;
        }
    }

    /// The full key of a container id, resolving 12-character short ids.
    pub(super) fn resolve(&self, id: &str) -> String {
        let id = id.rsplit_once("://").map_or(id, |(_, rest)| rest);
        if id.len() == SHORT_ID
            && let Ok(short) = <[u8; SHORT_ID]>::try_from(id.as_bytes())
            && let Some(full) = self.short_ids.get(&short)
        {
            return full.to_string();
        }
        container_key(id)
    }

    pub fn snapshot(&self) -> StateSnapshot {
        let mut live: Vec<_> = self.entries.iter().collect();
        live.sort_by_key(|(_, e)| e.touched);
        StateSnapshot {
            entries: live
                .into_iter()
                .map(|(k, e)| {
                    let id = k.strip_prefix(CONTAINER_PREFIX);
                    let containers = e
                        .containers
                        .iter()
                        .map(|c| Container {
                            id: id.map(|id| id.to_string().into()),
                            ..c.to_container()
                        })
                        .collect();
                    let saved = SavedEntry {
                        containers,
                        workload: e.workload.as_deref().cloned(),
                        created_by: e.created_by.as_deref().map(str::to_string),
                        created_s: e.created_s.get(),
                        started_s: e.started_s.get(),
                        stopped_s: e.stopped_s.get(),
                        acted: e.acted,
                        last_seen_s: e.last_seen_s,
                        bytes: e.bytes as usize,
                        touched: e.touched,
                    };
                    (k.to_string(), saved)
                })
                .collect(),
            evictions: self.evictions,
            seen: self.seen.iter().map(|s| s.to_string()).collect(),
            first_event_s: self.first_event_s,
        }
    }

    pub fn restore(&mut self, snapshot: StateSnapshot) {
        *self = ContainerTable::new(self.limits);
        for (key, saved) in snapshot.entries {
            let now = saved.last_seen_s;
            let containers: Box<[Stored]> =
                saved.containers.iter().map(|c| self.store(c)).collect();
            let created_by = saved.created_by.as_deref().map(|p| self.principal(p));
            self.upsert(key, now, |e| {
                e.containers = containers;
                e.workload = saved.workload.map(Box::new);
                e.created_by = created_by;
                e.created_s = Secs::of(saved.created_s);
                e.started_s = Secs::of(saved.started_s);
                e.stopped_s = Secs::of(saved.stopped_s);
                e.acted = saved.acted;
                e.last_seen_s = saved.last_seen_s;
                Released::default()
            });
        }
        self.evictions += snapshot.evictions;
        for s in snapshot.seen {
            self.seen_bytes += slot::<Box<str>>() + str_heap(&s);
            self.seen.insert(s.into_boxed_str());
        }
        self.first_event_s = snapshot.first_event_s;
    }
}
