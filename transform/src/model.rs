//! The one normalized event model every decoder produces and every rule reads.
//!
//! Strings borrow from the record's bytes where the source allows it (`Cow`), so a
//! decoded-and-normalized record costs one pass over its bytes plus the few strings
//! that needed unescaping. Everything optional is `Option`: "the source did not say"
//! is kept apart from "the source said no", because a thin Docker `create` event that
//! carries no privileged flag must never read as "not privileged".

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::image_ref::ImageRef;

/// Which telemetry format a record was decoded from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Source {
    /// `docker events --format '{{json .}}'` / `GET /events`, current and legacy fields.
    DockerEvent,
    /// `docker inspect` / `GET /containers/{id}/json` output.
    DockerInspect,
    /// Kubernetes API server audit events, `audit.k8s.io/v1` and `v1beta1`.
    K8sAudit,
}

impl Source {
    pub const ALL: [Source; 3] = [Source::DockerEvent, Source::DockerInspect, Source::K8sAudit];

    /// The stable name rules and outputs use (`source: k8s_audit`).
    pub fn as_str(self) -> &'static str {
        match self {
            Source::DockerEvent => "docker_event",
            Source::DockerInspect => "docker_inspect",
            Source::K8sAudit => "k8s_audit",
        }
    }

    pub fn from_name(name: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// The Sigma `logsource` this source answers to (`product`, `service`).
    pub fn logsource(self) -> (&'static str, &'static str) {
        match self {
            Source::DockerEvent => ("docker", "events"),
            Source::DockerInspect => ("docker", "inspect"),
            Source::K8sAudit => ("kubernetes", "audit"),
        }
    }
}

/// What happened, in one vocabulary across sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    ContainerCreate,
    ContainerStart,
    ContainerRestart,
    ContainerStop,
    ContainerDie,
    ContainerKill,
    ContainerDestroy,
    ContainerExec,
    ContainerAttach,
    /// A later look at a container already known (a repeated `docker inspect`).
    ContainerInspect,
    ImagePull,
    WorkloadCreate,
    WorkloadUpdate,
    WorkloadPatch,
    WorkloadDelete,
    ResourceGet,
    ResourceList,
    ResourceWatch,
    Other,
}

impl Action {
    pub const ALL: [Action; 19] = [
        Action::ContainerCreate,
        Action::ContainerStart,
        Action::ContainerRestart,
        Action::ContainerStop,
        Action::ContainerDie,
        Action::ContainerKill,
        Action::ContainerDestroy,
        Action::ContainerExec,
        Action::ContainerAttach,
        Action::ContainerInspect,
        Action::ImagePull,
        Action::WorkloadCreate,
        Action::WorkloadUpdate,
        Action::WorkloadPatch,
        Action::WorkloadDelete,
        Action::ResourceGet,
        Action::ResourceList,
        Action::ResourceWatch,
        Action::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::ContainerCreate => "container-create",
            Action::ContainerStart => "container-start",
            Action::ContainerRestart => "container-restart",
            Action::ContainerStop => "container-stop",
            Action::ContainerDie => "container-die",
            Action::ContainerKill => "container-kill",
            Action::ContainerDestroy => "container-destroy",
            Action::ContainerExec => "container-exec",
            Action::ContainerAttach => "container-attach",
            Action::ContainerInspect => "container-inspect",
            Action::ImagePull => "image-pull",
            Action::WorkloadCreate => "workload-create",
            Action::WorkloadUpdate => "workload-update",
            Action::WorkloadPatch => "workload-patch",
            Action::WorkloadDelete => "workload-delete",
            Action::ResourceGet => "resource-get",
            Action::ResourceList => "resource-list",
            Action::ResourceWatch => "resource-watch",
            Action::Other => "other",
        }
    }

    pub fn from_name(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == name)
    }
}

/// Where in a pod a container sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContainerRole {
    #[default]
    Main,
    Init,
    Ephemeral,
}

impl ContainerRole {
    pub fn as_str(self) -> &'static str {
        match self {
            ContainerRole::Main => "main",
            ContainerRole::Init => "init",
            ContainerRole::Ephemeral => "ephemeral",
        }
    }
}

/// Who asked for it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Principal<'a> {
    pub name: Cow<'a, str>,
    pub uid: Option<Cow<'a, str>>,
    pub groups: Vec<Cow<'a, str>>,
    /// The last entry of the source's address list: the one the server saw.
    pub source_ip: Option<Cow<'a, str>>,
    /// Client-supplied and untrusted; kept for triage, never for identity.
    pub user_agent: Option<Cow<'a, str>>,
}

/// The Kubernetes object (or Compose service) the containers belong to.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Workload<'a> {
    /// `Pod`, `Deployment`, `DaemonSet`, `CronJob`, ... (the API resource kind).
    pub kind: Cow<'a, str>,
    pub name: Option<Cow<'a, str>>,
    pub namespace: Option<Cow<'a, str>>,
    pub uid: Option<Cow<'a, str>>,
}

/// A host path mounted into a container.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostMount<'a> {
    pub host_path: Cow<'a, str>,
    pub container_path: Option<Cow<'a, str>>,
    pub read_only: bool,
}

/// A restart policy that the runtime or orchestrator applies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestartPolicy<'a> {
    /// `no`, `always`, `unless-stopped`, `on-failure` (Docker); `Always`,
    /// `OnFailure`, `Never` (Kubernetes), as written by the source.
    pub name: Cow<'a, str>,
    /// `on-failure:N`; `None` or 0 means unlimited.
    pub max_retries: Option<u32>,
}

/// The launch attributes that make a container risky, one shape for every source.
///
/// Pod-level settings (host namespaces, pod `runAsUser`) are copied onto each
/// container so a rule reads one place whatever the source.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SecurityContext<'a> {
    pub privileged: Option<bool>,
    pub host_pid: Option<bool>,
    pub host_network: Option<bool>,
    pub host_ipc: Option<bool>,
    pub cap_add: Vec<Cow<'a, str>>,
    pub host_mounts: Vec<HostMount<'a>>,
    pub user: Option<Cow<'a, str>>,
    pub restart_policy: Option<RestartPolicy<'a>>,
    /// The entrypoint override (Docker `Entrypoint`, Kubernetes `command`).
    pub entrypoint: Option<Vec<Cow<'a, str>>>,
    /// The arguments (Docker `Cmd`, Kubernetes `args`).
    pub command: Option<Vec<Cow<'a, str>>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Container<'a> {
    pub id: Option<Cow<'a, str>>,
    pub name: Option<Cow<'a, str>>,
    pub image: Option<ImageRef<'a>>,
    pub role: ContainerRole,
    pub security: SecurityContext<'a>,
}

/// A process seen in or launched into a container (an exec's command).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Process<'a> {
    pub pid: Option<u32>,
    pub executable: Option<Cow<'a, str>>,
    pub args: Vec<Cow<'a, str>>,
    pub command_line: Option<Cow<'a, str>>,
    pub user: Option<Cow<'a, str>>,
    pub exit_code: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Network<'a> {
    pub src_ip: Option<Cow<'a, str>>,
    pub src_port: Option<u16>,
    pub dst_ip: Option<Cow<'a, str>>,
    pub dst_port: Option<u16>,
    pub protocol: Option<Cow<'a, str>>,
    pub domain: Option<Cow<'a, str>>,
}

/// One normalized record.
#[derive(Debug, Clone, PartialEq)]
pub struct Event<'a> {
    pub source: Source,
    pub action: Action,
    /// The action as the source spelled it (`exec_create`, `create`, `patch`).
    pub raw_action: Cow<'a, str>,
    /// Event time, nanoseconds since the Unix epoch.
    pub time_ns: Option<i64>,
    pub host: Option<Cow<'a, str>>,
    pub cluster: Option<Cow<'a, str>>,
    /// The source's own id for the request or event (Kubernetes `auditID`).
    pub request_id: Option<Cow<'a, str>>,
    /// The API outcome code when the source has one (HTTP status for audit events).
    pub response_code: Option<u16>,
    pub principal: Option<Principal<'a>>,
    pub workload: Option<Workload<'a>>,
    pub containers: Vec<Container<'a>>,
    pub process: Option<Process<'a>>,
    pub network: Option<Network<'a>>,
}

impl<'a> Event<'a> {
    pub fn new(source: Source, action: Action, raw_action: impl Into<Cow<'a, str>>) -> Self {
        Event {
            source,
            action,
            raw_action: raw_action.into(),
            time_ns: None,
            host: None,
            cluster: None,
            request_id: None,
            response_code: None,
            principal: None,
            workload: None,
            containers: Vec::new(),
            process: None,
            network: None,
        }
    }
}

/// Owned copies, for state that outlives the record it was read from.
impl Container<'_> {
    pub fn into_owned(self) -> Container<'static> {
        Container {
            id: self.id.map(own),
            name: self.name.map(own),
            image: self.image.map(ImageRef::into_owned),
            role: self.role,
            security: self.security.into_owned(),
        }
    }
}

impl SecurityContext<'_> {
    pub fn into_owned(self) -> SecurityContext<'static> {
        SecurityContext {
            privileged: self.privileged,
            host_pid: self.host_pid,
            host_network: self.host_network,
            host_ipc: self.host_ipc,
            cap_add: self.cap_add.into_iter().map(own).collect(),
            host_mounts: self
                .host_mounts
                .into_iter()
                .map(|m| HostMount {
                    host_path: own(m.host_path),
                    container_path: m.container_path.map(own),
                    read_only: m.read_only,
                })
                .collect(),
            user: self.user.map(own),
            restart_policy: self.restart_policy.map(|r| RestartPolicy {
                name: own(r.name),
                max_retries: r.max_retries,
            }),
            entrypoint: self.entrypoint.map(|v| v.into_iter().map(own).collect()),
            command: self.command.map(|v| v.into_iter().map(own).collect()),
        }
    }

    /// True when the source said nothing about how the container was launched.
    pub fn is_unknown(&self) -> bool {
        *self == SecurityContext::default()
    }
}

impl Workload<'_> {
    pub fn into_owned(self) -> Workload<'static> {
        Workload {
            kind: own(self.kind),
            name: self.name.map(own),
            namespace: self.namespace.map(own),
            uid: self.uid.map(own),
        }
    }
}

pub(crate) fn own(s: Cow<'_, str>) -> Cow<'static, str> {
    Cow::Owned(s.into_owned())
}
