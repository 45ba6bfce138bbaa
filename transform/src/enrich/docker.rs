//! Joins by container id: `docker inspect` output keeps a container's launch attributes,
//! and every event that names the container by id (Docker events, the authorization
//! plugin, dockerd's log, Falco, auditd, Tetragon) gets them and its lifecycle.

use super::table::{CONTAINER_PREFIX, ContainerTable, Released, Secs};
use crate::model::{Action, Derived, Event};

impl ContainerTable {
    /// `docker inspect`: the first look at a container is its creation as far as rules
    /// are concerned; later looks become `container-inspect` so a re-inspected container
    /// does not alert twice.
    pub(super) fn docker_inspect(&mut self, event: &mut Event<'_>, now_s: i64, learn: bool) {
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
    pub(super) fn by_container_id(
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
}
