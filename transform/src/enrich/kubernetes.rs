//! Kubernetes joins: a pod's containers by namespace/name, joined onto execs and
//! attaches into the pod; who wrote the workload templates pods are made from.

use super::table::{ContainerTable, Released, Secs, Stored, pod_key, template_key};
use crate::model::{Action, ContainerRole, Derived, Event};

/// Owner references followed at most from a pod to the template at the top
/// (Pod -> ReplicaSet -> Deployment is two).
const MAX_OWNER_HOPS: usize = 4;

impl ContainerTable {
    /// Kubernetes: a pod's spec is kept by namespace/name, so an exec says which of its
    /// containers it entered (an init container, from audit events alone) and who created
    /// the pod. A workload template's last writer is kept by namespace/kind/name, so a
    /// pod its controller creates says who wrote the template (`Derived::template_by`).
    pub(super) fn kubernetes(
        &mut self,
        event: &mut Event<'_>,
        now_s: i64,
        learn: bool,
        derived: &mut Derived,
    ) {
        let Some(w) = &event.workload else { return };
        let Some(ns) = w.namespace.as_deref() else {
            return;
        };
        if let Some(owner) = w.owner.as_deref() {
            derived.template_by = self.template_writer(ns, owner);
        }
        if !w.kind.eq_ignore_ascii_case("Pod") {
            self.learn_template(event, now_s, learn);
            return;
        }
        let Some(name) = w.name.as_deref() else {
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
                if derived.created_by.is_none() {
                    derived.created_by = entry.created_by.as_deref().map(str::to_string);
                }
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

    /// A workload with a pod template (a DaemonSet, a Deployment, a ReplicaSet its
    /// Deployment made): remember who last wrote it, and what owns it.
    fn learn_template(&mut self, event: &Event<'_>, now_s: i64, learn: bool) {
        let writes = matches!(
            event.action,
            Action::WorkloadCreate | Action::WorkloadUpdate | Action::WorkloadPatch
        );
        let Some(w) = &event.workload else { return };
        let (Some(ns), Some(name)) = (w.namespace.as_deref(), w.name.as_deref()) else {
            return;
        };
        let key = template_key(ns, &w.kind, name);
        match event.action {
            _ if learn && writes && !event.containers.is_empty() => {
                let Some(by) = event.principal.as_ref().map(|p| p.name.to_string()) else {
                    return;
                };
                let by = Some(self.principal(&by));
                let workload = Some(Box::new(w.clone().into_owned()));
                self.upsert(key, now_s, |e| {
                    // A patch names no owner; keep the one the create said.
                    if e.workload.is_none() || workload.as_ref().is_some_and(|w| w.owner.is_some())
                    {
                        e.workload = workload;
                    }
                    e.created_s = Secs(now_s);
                    Released {
                        containers: Box::new([]),
                        created_by: std::mem::replace(&mut e.created_by, by),
                    }
                });
            }
            Action::WorkloadDelete if learn => self.remove(&key),
            _ => {}
        }
    }

    /// Who wrote the template at the top of the owner chain starting at `owner`
    /// (`Kind/name`), as far as the table saw it.
    fn template_writer(&self, ns: &str, owner: &str) -> Option<String> {
        let mut found = None;
        let mut next = owner.to_string();
        for _ in 0..MAX_OWNER_HOPS {
            let Some((kind, name)) = next.split_once('/') else {
                break;
            };
            let Some(entry) = self.entries.get(template_key(ns, kind, name).as_str()) else {
                break;
            };
            found = entry.created_by.as_deref().map(str::to_string).or(found);
            match entry.workload.as_ref().and_then(|w| w.owner.as_deref()) {
                Some(up) => next = up.to_string(),
                None => break,
            }
        }
        found
    }
}
