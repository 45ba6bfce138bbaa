//! Enrichment: what one record cannot say about itself, filled in from what earlier
//! records said about the same container (the container table).
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
//! The table's storage and bounds are [`table`]; what each source's events read from it
//! and teach it is one module per join ([`docker`], [`kubernetes`], [`ecs`]) and the first
//! sightings of images, registries and principals are [`sightings`].

mod docker;
mod ecs;
mod kubernetes;
mod sightings;
mod table;
#[cfg(test)]
mod tests;

pub(crate) use table::{ContainerTable, Limits, StateSnapshot};

use crate::model::{Action, Derived, Event, Source};

impl ContainerTable {
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
                self.kubernetes(event, now_s, learn, &mut derived);
            }
            Source::CloudTrail => self.ecs(event, now_s, learn),
            _ => {}
        }
        if event.source != Source::DockerInspect {
            self.by_container_id(event, now_s, &mut derived, learn);
        }
        derived
    }
}
