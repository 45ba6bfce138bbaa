//! ECS joins: a task definition's containers by family, joined onto the tasks run
//! from it.

use super::table::{ContainerTable, Released, Stored};
use crate::model::{Action, Event};

impl ContainerTable {
    /// ECS: a task definition's containers by family, joined onto the tasks run from it.
    pub(super) fn ecs(&mut self, event: &mut Event<'_>, now_s: i64, learn: bool) {
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
}
