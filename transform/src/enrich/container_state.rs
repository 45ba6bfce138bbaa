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
use crate::model::{
    Action, Container, ContainerRole, Derived, Event, SecurityContext, Source, Workload,
};

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
struct Stored {
    name: Option<Box<str>>,
    image: Option<Arc<ImageRef<'static>>>,
    security: Arc<SecurityContext<'static>>,
    role: ContainerRole,
}

impl Stored {
    fn to_container(&self) -> Container<'static> {
        Container {
            id: None,
            name: self.name.as_deref().map(|n| n.to_string().into()),
            image: self.image.as_deref().cloned(),
            role: self.role,
            security: (*self.security).clone(),
        }
    }

    fn name_is(&self, name: Option<&str>) -> bool {
        self.name.as_deref() == name
    }
}

/// An event time in seconds, or none; `i64::MIN` stands for none, so an entry keeps
/// three of them in 24 bytes.
#[derive(Debug, Clone, Copy)]
struct Secs(i64);

impl Secs {
    const NONE: Secs = Secs(i64::MIN);

    fn get(self) -> Option<i64> {
        (self.0 != i64::MIN).then_some(self.0)
    }

    fn of(t: Option<i64>) -> Secs {
        t.map_or(Secs::NONE, |t| Secs(t.max(i64::MIN + 1)))
    }
}

/// What the table holds about one key: a container (by id), or a group of containers
/// (a pod, an ECS task definition) by its name.
#[derive(Debug)]
struct Entry {
    containers: Box<[Stored]>,
    workload: Option<Box<Workload<'static>>>,
    created_by: Option<Arc<str>>,
    created_s: Secs,
    started_s: Secs,
    stopped_s: Secs,
    last_seen_s: i64,
    /// Recency stamp: the entry's key in `order`.
    touched: u64,
    /// Estimated heap bytes of the entry and its slots in the table's maps.
    bytes: u32,
    /// A process or connection has been seen from it.
    acted: bool,
}

impl Entry {
    fn new(now_s: i64) -> Self {
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
struct Released {
    containers: Box<[Stored]>,
    created_by: Option<Arc<str>>,
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
fn slot<T>() -> usize {
    (size_of::<T>() + 1) * 3 / 2
}

fn str_heap(s: &str) -> usize {
    chunk(s.len())
}

fn strings<'a>(v: impl IntoIterator<Item = &'a std::borrow::Cow<'a, str>>) -> usize {
    v.into_iter().map(|s| str_heap(s) + 24).sum()
}

/// A set of shared values, each dropped when the last entry holding it is.
struct Interner<T: ?Sized + Eq + Hash> {
    set: HashSet<Arc<T>>,
    bytes: usize,
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
    fn insert(&mut self, value: T, weigh: usize) -> Arc<T>
    where
        T: Sized,
    {
        let shared = Arc::new(value);
        self.bytes += weigh + slot::<Arc<T>>();
        self.set.insert(Arc::clone(&shared));
        shared
    }

    /// Drop `shared` from the set when the set and `shared` are its last holders.
    fn release(&mut self, shared: Arc<T>, weigh: impl FnOnce(&T) -> usize) {
        if Arc::strong_count(&shared) == 2 && self.set.remove(&*shared) {
            self.bytes = self.bytes.saturating_sub(weigh(&shared) + slot::<Arc<T>>());
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
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
    entries: HashMap<Arc<str>, Entry>,
    /// Keys by the stamp they were last touched at, least recent first.
    order: BTreeMap<u64, Arc<str>>,
    /// 12-character short ids (Falco, `docker ps`) to the full container's key.
    short_ids: HashMap<[u8; SHORT_ID], Arc<str>>,
    images: Interner<ImageRef<'static>>,
    contexts: Interner<SecurityContext<'static>>,
    principals: Interner<str>,
    /// Images, registries and principals seen, for first sightings (bounded with the table).
    seen: HashSet<Box<str>>,
    seen_bytes: usize,
    /// Scratch for first-sighting keys.
    scratch: String,
    first_event_s: Option<i64>,
    clock: u64,
    /// The entries' own bytes (see `weigh`).
    entry_bytes: usize,
    limits: Limits,
    evictions: u64,
}

const SHORT_ID: usize = 12;
const CONTAINER_PREFIX: &str = "c:";

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

fn pod_key(namespace: &str, name: &str) -> String {
    format!("pod:{namespace}/{name}")
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

    fn touch(&mut self, key: &str, now_s: i64) {
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

    fn remove(&mut self, key: &str) {
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

    fn release(&mut self, released: Released) {
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
    fn store(&mut self, c: &Container<'_>) -> Stored {
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

    fn principal(&mut self, name: &str) -> Arc<str> {
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

    fn upsert(&mut self, key: String, now_s: i64, update: impl FnOnce(&mut Entry) -> Released) {
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
    fn evict(&mut self, now_s: i64) {
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
    fn resolve(&self, id: &str) -> String {
        let id = id.rsplit_once("://").map_or(id, |(_, rest)| rest);
        if id.len() == SHORT_ID
            && let Ok(short) = <[u8; SHORT_ID]>::try_from(id.as_bytes())
            && let Some(full) = self.short_ids.get(&short)
        {
            return full.to_string();
        }
        container_key(id)
    }

    /// Whether a value is sighted for the first time (after the learning period);
    /// `learn` records the sighting, else it is only looked up.
    fn first_seen(&mut self, kind: &str, value: &str, now_s: i64, learn: bool) -> Option<bool> {
        let first = match self.first_event_s {
            Some(first) => first,
            None if learn => *self.first_event_s.insert(now_s),
            None => now_s,
        };
        self.scratch.clear();
        self.scratch.push_str(kind);
        self.scratch.push(':');
        self.scratch
            .extend(value.chars().map(|c| c.to_ascii_lowercase()));
        let new =
            self.seen.len() < self.limits.max_entries && !self.seen.contains(self.scratch.as_str());
        if new && learn {
            self.seen_bytes += slot::<Box<str>>() + str_heap(&self.scratch);
            self.seen.insert(Box::from(self.scratch.as_str()));
        }
        let learning = now_s < first.saturating_add(self.limits.learning_period_secs);
        Some(new && !learning)
    }

    /// Join `event` with the table and say what history knows about it; with `learn`,
    /// remember what it teaches. Only the record that settles a request that succeeded
    /// may teach: a stage written before the request was decided, or a request that was
    /// denied or failed, leaves the table and the sightings as they were.
    pub fn apply(&mut self, event: &mut Event<'_>, now_s: i64, learn: bool) -> Derived {
        let mut derived = Derived::default();
        let launch = matches!(
            event.action,
            Action::ContainerCreate | Action::ContainerRun | Action::WorkloadCreate
        );
        if launch && event.response_code.is_none_or(|c| c < 400) && event.error.is_none() {
            self.note_sightings(event, now_s, &mut derived, learn);
        }
        match event.source {
            Source::DockerInspect => self.docker_inspect(event, now_s, learn),
            Source::K8sAudit | Source::AksAudit | Source::GkeAudit => {
                self.kubernetes(event, now_s, learn);
            }
            Source::CloudTrail => self.ecs(event, now_s, learn),
            _ => {}
        }
        if event.source != Source::DockerInspect {
            self.by_container_id(event, now_s, &mut derived, learn);
        }
        derived
    }

    fn note_sightings(
        &mut self,
        event: &Event<'_>,
        now_s: i64,
        derived: &mut Derived,
        learn: bool,
    ) {
        for c in &event.containers {
            if let Some(image) = &c.image {
                let name = image.full_name();
                derived.image_first_seen = merge_any(
                    derived.image_first_seen,
                    self.first_seen("image", &name, now_s, learn),
                );
                derived.registry_first_seen = merge_any(
                    derived.registry_first_seen,
                    self.first_seen("registry", &image.registry, now_s, learn),
                );
            }
        }
        if let Some(p) = &event.principal
            && !p.name.is_empty()
        {
            derived.principal_first_seen = self.first_seen("principal", &p.name, now_s, learn);
        }
    }

    /// `docker inspect`: the first look at a container is its creation as far as rules
    /// are concerned; later looks become `container-inspect` so a re-inspected container
    /// does not alert twice.
    fn docker_inspect(&mut self, event: &mut Event<'_>, now_s: i64, learn: bool) {
        let Some(c) = event.containers.first() else {
            return;
        };
        let Some(id) = c.id.as_deref() else { return };
        let key = self.resolve(id);
        if self
            .entries
            .get(key.as_str())
            .is_some_and(|e| !e.containers.is_empty())
        {
            event.action = Action::ContainerInspect;
        }
        if !learn {
            return;
        }
        let stored = self.store(c);
        let workload = event.workload.clone().map(|w| Box::new(w.into_owned()));
        self.upsert(key, now_s, |e| {
            e.workload = workload;
            if e.created_s.get().is_none() {
                e.created_s = Secs(now_s);
            }
            Released {
                containers: std::mem::replace(&mut e.containers, Box::new([stored])),
                created_by: None,
            }
        });
    }

    /// Containers named by id: join stored attributes, keep the lifecycle.
    fn by_container_id(
        &mut self,
        event: &mut Event<'_>,
        now_s: i64,
        derived: &mut Derived,
        learn: bool,
    ) {
        let action = event.action;
        let creates = matches!(action, Action::ContainerCreate | Action::ContainerRun);
        for i in 0..event.containers.len() {
            let Some(id) = event.containers[i].id.as_deref() else {
                continue;
            };
            let key = self.resolve(id);
            // A short or prefixed id names the container by its full id from here on,
            // so every source's events about it carry the same one.
            if key.len() != id.len() + CONTAINER_PREFIX.len()
                && let Some(full) = key.strip_prefix(CONTAINER_PREFIX)
                && self.entries.contains_key(key.as_str())
            {
                event.containers[i].id = Some(std::borrow::Cow::Owned(full.to_string()));
            }
            if action == Action::ContainerDestroy {
                if learn {
                    self.remove(&key);
                }
                continue;
            }
            let known = self.entries.get(key.as_str());
            let history = known.map(|e| (e.acted, e.created_s, e.started_s, e.stopped_s));
            if let Some(entry) = known {
                // A create carries its own (possibly empty) attributes: never join onto
                // it, so a thin create event cannot be mistaken for a privileged one.
                if !creates && let Some(stored) = entry.containers.first() {
                    let c = &mut event.containers[i];
                    if c.security.is_unknown() {
                        c.security = (*stored.security).clone();
                    }
                    if c.image.is_none() {
                        c.image = stored.image.as_deref().cloned();
                    }
                    if c.name.is_none() {
                        c.name = stored.name.as_deref().map(|n| n.to_string().into());
                    }
                    if event.workload.is_none() {
                        event.workload = entry.workload.as_deref().cloned();
                    }
                }
                if derived.created_by.is_none() {
                    derived.created_by = entry.created_by.as_deref().map(str::to_string);
                }
            }
            let is_action = matches!(
                action,
                Action::ProcessStart
                    | Action::NetworkConnect
                    | Action::NetworkFlow
                    | Action::DnsQuery
            );
            if is_action {
                derived.first_action = Some(!history.is_some_and(|h| h.0));
                derived.since_start_secs = history
                    .and_then(|h| h.2.get().or(h.1.get()))
                    .map(|t| (now_s - t).max(0));
            }
            if matches!(
                action,
                Action::ContainerStart | Action::ContainerRestart | Action::ContainerRun
            ) && let Some(stopped) = history.and_then(|h| h.3.get())
            {
                derived.stopped_for_secs = Some((now_s - stopped).max(0));
            }
            let lateness = self.limits.lateness_secs;
            let principal = match &event.principal {
                Some(p) if learn && creates && !p.name.is_empty() => Some(self.principal(&p.name)),
                _ => None,
            };
            if !learn {
                continue;
            }
            let fresh =
                (history.is_none() && !creates && !event.containers[i].security.is_unknown())
                    .then(|| self.store(&event.containers[i]));
            self.upsert(key, now_s, |e| {
                let mut released = Released::default();
                if let Some(c) = fresh {
                    released.containers = std::mem::replace(&mut e.containers, Box::new([c]));
                }
                // An event older than the latest news (by more than the lateness) does
                // not move the lifecycle back.
                let current = |t: Secs| t.get().is_none_or(|t| now_s + lateness >= t);
                match action {
                    Action::ContainerCreate | Action::ContainerRun => {
                        if e.created_s.get().is_none() {
                            e.created_s = Secs(now_s);
                        }
                        if e.created_by.is_none() {
                            e.created_by = principal;
                        } else {
                            released.created_by = principal;
                        }
                        if action == Action::ContainerRun {
                            e.started_s = Secs(now_s);
                        }
                    }
                    Action::ContainerStart | Action::ContainerRestart if current(e.stopped_s) => {
                        e.started_s = Secs(now_s);
                        e.stopped_s = Secs::NONE;
                    }
                    Action::ContainerStop | Action::ContainerDie | Action::ContainerKill
                        if current(e.started_s) =>
                    {
                        e.stopped_s = Secs(now_s);
                    }
                    _ if is_action => e.acted = true,
                    _ => {}
                }
                released
            });
        }
    }

    /// Kubernetes: a pod's spec is kept by namespace/name, so an exec says which of its
    /// containers it entered (an init container, from audit events alone).
    fn kubernetes(&mut self, event: &mut Event<'_>, now_s: i64, learn: bool) {
        let Some(w) = &event.workload else { return };
        if !w.kind.eq_ignore_ascii_case("Pod") {
            return;
        }
        let (Some(ns), Some(name)) = (w.namespace.as_deref(), w.name.as_deref()) else {
            return;
        };
        let key = pod_key(ns, name);
        match event.action {
            Action::WorkloadCreate if learn && !event.containers.is_empty() => {
                let workload = Some(Box::new(w.clone().into_owned()));
                let containers: Box<[Stored]> =
                    event.containers.iter().map(|c| self.store(c)).collect();
                let by = event
                    .principal
                    .as_ref()
                    .map(|p| p.name.to_string())
                    .map(|n| self.principal(&n));
                self.upsert(key, now_s, |e| {
                    e.workload = workload;
                    e.created_s = Secs(now_s);
                    Released {
                        containers: std::mem::replace(&mut e.containers, containers),
                        created_by: std::mem::replace(&mut e.created_by, by),
                    }
                });
            }
            Action::WorkloadDelete if learn => self.remove(&key),
            Action::ContainerExec | Action::ContainerAttach => {
                let Some(entry) = self.entries.get(key.as_str()) else {
                    return;
                };
                let spec = &entry.containers;
                let target_name = event.containers.first().and_then(|c| c.name.as_deref());
                // kubectl's default target is the pod's first main container.
                let stored = match target_name {
                    Some(n) => spec.iter().find(|c| c.name_is(Some(n))),
                    None => spec.iter().find(|c| c.role == ContainerRole::Main),
                };
                if let Some(stored) = stored {
                    match event.containers.first_mut() {
                        Some(c) => {
                            c.role = stored.role;
                            if c.image.is_none() {
                                c.image = stored.image.as_deref().cloned();
                            }
                            if c.security.is_unknown() {
                                c.security = (*stored.security).clone();
                            }
                            if c.name.is_none() {
                                c.name = stored.name.as_deref().map(|n| n.to_string().into());
                            }
                        }
                        None => event.containers.push(stored.to_container()),
                    }
                }
                if learn {
                    self.touch(&key, now_s);
                }
            }
            _ => {}
        }
    }

    /// ECS: a task definition's containers by family, joined onto the tasks run from it.
    fn ecs(&mut self, event: &mut Event<'_>, now_s: i64, learn: bool) {
        let Some(w) = &event.workload else { return };
        let family = |name: &str| {
            let name = name.rsplit('/').next().unwrap_or(name);
            name.split(':').next().unwrap_or(name).to_string()
        };
        match (event.action, w.kind.as_ref()) {
            (Action::WorkloadCreate, "TaskDefinition") if learn => {
                let Some(name) = w.name.as_deref() else {
                    return;
                };
                let key = format!("taskdef:{}", family(name));
                let containers: Box<[Stored]> =
                    event.containers.iter().map(|c| self.store(c)).collect();
                self.upsert(key, now_s, |e| Released {
                    containers: std::mem::replace(&mut e.containers, containers),
                    created_by: None,
                });
            }
            (Action::ContainerStart, _) => {
                // The task's definition is its owner (`TaskDefinition/family:rev`); the uid
                // is the task's own ARN.
                let Some(def) = w.owner.as_deref().or(w.uid.as_deref()) else {
                    return;
                };
                let key = format!("taskdef:{}", family(def));
                let Some(entry) = self.entries.get(key.as_str()) else {
                    return;
                };
                let spec = &entry.containers;
                for c in &mut event.containers {
                    let Some(stored) = spec.iter().find(|s| s.name_is(c.name.as_deref())) else {
                        continue;
                    };
                    if c.image.is_none() {
                        c.image = stored.image.as_deref().cloned();
                    }
                    let command = c.security.command.take();
                    if c.security.is_unknown() {
                        c.security = (*stored.security).clone();
                        // The definition's entrypoint and command were judged when it
                        // was registered; at run time only an override is news.
                        c.security.entrypoint = None;
                    }
                    c.security.command = command;
                }
                if event.containers.is_empty() {
                    event.containers = spec.iter().map(Stored::to_container).collect();
                }
                if learn {
                    self.touch(&key, now_s);
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
    use crate::model::ImageRef;
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
}
