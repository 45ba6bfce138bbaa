//! Kubernetes joins: a pod's containers by namespace/name, joined onto execs and
//! attaches into the pod.

use super::table::{ContainerTable, Released, Secs, Stored, pod_key};
use crate::model::{Action, ContainerRole, Event};

impl ContainerTable {
    /// Kubernetes: a pod's spec is kept by namespace/name, so an exec says which of its
    /// containers it entered (an init container, from audit events alone).
    pub(super) fn kubernetes(&mut self, event: &mut Event<'_>, now_s: i64, learn: bool) {
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
}
