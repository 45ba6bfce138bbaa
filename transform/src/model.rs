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
    /// A Docker authorization plugin's request (`AuthZReq`: user, method, URI, base64 body).
    DockerAuthz,
    /// dockerd's own log: `Calling POST /containers/create` and `form data: {...}` lines.
    DockerDaemon,
    /// Kubernetes API server audit events, `audit.k8s.io/v1` and `v1beta1`, raw or as
    /// EKS writes them to CloudWatch Logs.
    K8sAudit,
    /// Kubernetes audit events in the AKS diagnostic-settings wrapper (`properties.log`).
    AksAudit,
    /// Kubernetes audit events as GKE writes them: Cloud Audit Logs, `serviceName: k8s.io`.
    GkeAudit,
    /// Kubernetes `Event` objects (`Pulling`, `Started`, `BackOff`, ...).
    K8sEvent,
    /// AWS CloudTrail records (ECS API calls), in `{"Records": [...]}` files or
    /// EventBridge-wrapped.
    CloudTrail,
    /// Azure Activity Log records (Container Instances).
    AzureActivity,
    /// GCP Cloud Audit Logs other than GKE's Kubernetes API (Cloud Run, GKE clusters).
    GcpAudit,
    /// Linux audit records (`type=EXECVE msg=audit(...)`), grouped by event serial.
    Auditd,
    /// Falco JSON alerts (syscall and k8s_audit sources).
    Falco,
    /// Cilium Tetragon JSON events (`process_exec`, `process_kprobe`, ...).
    Tetragon,
    /// Zeek `conn.log` as JSON.
    ZeekConn,
    /// Zeek `dns.log` as JSON.
    ZeekDns,
    /// AWS VPC Flow Logs, default v2 or a configured custom format.
    VpcFlow,
    /// Amazon Route 53 Resolver query logs.
    Route53Resolver,
}

impl Source {
    pub const ALL: [Source; 18] = [
        Source::DockerEvent,
        Source::DockerInspect,
        Source::DockerAuthz,
        Source::DockerDaemon,
        Source::K8sAudit,
        Source::AksAudit,
        Source::GkeAudit,
        Source::K8sEvent,
        Source::CloudTrail,
        Source::AzureActivity,
        Source::GcpAudit,
        Source::Auditd,
        Source::Falco,
        Source::Tetragon,
        Source::ZeekConn,
        Source::ZeekDns,
        Source::VpcFlow,
        Source::Route53Resolver,
    ];

    /// The stable name rules and outputs use (`source: k8s_audit`).
    pub fn as_str(self) -> &'static str {
        match self {
            Source::DockerEvent => "docker_event",
            Source::DockerInspect => "docker_inspect",
            Source::DockerAuthz => "docker_authz",
            Source::DockerDaemon => "docker_daemon",
            Source::K8sAudit => "k8s_audit",
            Source::AksAudit => "aks_audit",
            Source::GkeAudit => "gke_audit",
            Source::K8sEvent => "k8s_event",
            Source::CloudTrail => "cloudtrail",
            Source::AzureActivity => "azure_activity",
            Source::GcpAudit => "gcp_audit",
            Source::Auditd => "auditd",
            Source::Falco => "falco",
            Source::Tetragon => "tetragon",
            Source::ZeekConn => "zeek_conn",
            Source::ZeekDns => "zeek_dns",
            Source::VpcFlow => "vpc_flow",
            Source::Route53Resolver => "route53_resolver",
        }
    }

    pub fn from_name(name: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// The Sigma `logsource` this source answers to (`product`, `service`), as SigmaHQ
    /// names them. The three Kubernetes audit shapes answer to the same one, so a rule
    /// written for `kubernetes`/`audit` runs on EKS, AKS and GKE alike.
    pub fn logsource(self) -> (&'static str, &'static str) {
        match self {
            Source::DockerEvent => ("docker", "events"),
            Source::DockerInspect => ("docker", "inspect"),
            Source::DockerAuthz => ("docker", "authz"),
            Source::DockerDaemon => ("docker", "daemon"),
            Source::K8sAudit | Source::AksAudit | Source::GkeAudit => ("kubernetes", "audit"),
            Source::K8sEvent => ("kubernetes", "events"),
            Source::CloudTrail => ("aws", "cloudtrail"),
            Source::AzureActivity => ("azure", "activitylogs"),
            Source::GcpAudit => ("gcp", "gcp.audit"),
            Source::Auditd => ("linux", "auditd"),
            Source::Falco => ("falco", "alerts"),
            Source::Tetragon => ("cilium", "tetragon"),
            Source::ZeekConn => ("zeek", "conn"),
            Source::ZeekDns => ("zeek", "dns"),
            Source::VpcFlow => ("aws", "vpcflowlogs"),
            Source::Route53Resolver => ("aws", "route53"),
        }
    }
}

/// What happened, in one vocabulary across sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    ContainerCreate,
    /// Created and started by one command (`docker run`, `podman run`).
    ContainerRun,
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
    /// The orchestrator holding back a crashing container (Kubernetes `BackOff`).
    ContainerBackoff,
    ImagePull,
    WorkloadCreate,
    WorkloadUpdate,
    WorkloadPatch,
    WorkloadDelete,
    ResourceGet,
    ResourceList,
    ResourceWatch,
    /// A process started, in a container or on a host (execve).
    ProcessStart,
    /// An outbound connection attempt seen at the socket (connect).
    NetworkConnect,
    /// A connection summarized by a flow log or sensor (Zeek conn, VPC flow).
    NetworkFlow,
    DnsQuery,
    Other,
}

impl Action {
    pub const ALL: [Action; 25] = [
        Action::ContainerCreate,
        Action::ContainerRun,
        Action::ContainerStart,
        Action::ContainerRestart,
        Action::ContainerStop,
        Action::ContainerDie,
        Action::ContainerKill,
        Action::ContainerDestroy,
        Action::ContainerExec,
        Action::ContainerAttach,
        Action::ContainerInspect,
        Action::ContainerBackoff,
        Action::ImagePull,
        Action::WorkloadCreate,
        Action::WorkloadUpdate,
        Action::WorkloadPatch,
        Action::WorkloadDelete,
        Action::ResourceGet,
        Action::ResourceList,
        Action::ResourceWatch,
        Action::ProcessStart,
        Action::NetworkConnect,
        Action::NetworkFlow,
        Action::DnsQuery,
        Action::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::ContainerCreate => "container-create",
            Action::ContainerRun => "container-run",
            Action::ContainerStart => "container-start",
            Action::ContainerRestart => "container-restart",
            Action::ContainerStop => "container-stop",
            Action::ContainerDie => "container-die",
            Action::ContainerKill => "container-kill",
            Action::ContainerDestroy => "container-destroy",
            Action::ContainerExec => "container-exec",
            Action::ContainerAttach => "container-attach",
            Action::ContainerInspect => "container-inspect",
            Action::ContainerBackoff => "container-backoff",
            Action::ImagePull => "image-pull",
            Action::WorkloadCreate => "workload-create",
            Action::WorkloadUpdate => "workload-update",
            Action::WorkloadPatch => "workload-patch",
            Action::WorkloadDelete => "workload-delete",
            Action::ResourceGet => "resource-get",
            Action::ResourceList => "resource-list",
            Action::ResourceWatch => "resource-watch",
            Action::ProcessStart => "process-start",
            Action::NetworkConnect => "network-connect",
            Action::NetworkFlow => "network-flow",
            Action::DnsQuery => "dns-query",
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
    /// The identity's type as the source names it (`IAMUser`, `AssumedRole`, `AWSService`,
    /// `ServicePrincipal`, `serviceaccount`), when it says.
    pub kind: Option<Cow<'a, str>>,
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
    /// The controller that owns it, `Kind/name` (`ReplicaSet/web-5d9c`, `CronJob/backup`):
    /// the human is on the owner's create or patch.
    pub owner: Option<Cow<'a, str>>,
}

/// A host path mounted into a container.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HostMount<'a> {
    pub host_path: Cow<'a, str>,
    pub container_path: Option<Cow<'a, str>>,
    pub read_only: bool,
}

/// A restart policy that the runtime or orchestrator applies.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SecurityContext<'a> {
    pub privileged: Option<bool>,
    pub host_pid: Option<bool>,
    pub host_network: Option<bool>,
    pub host_ipc: Option<bool>,
    pub cap_add: Vec<Cow<'a, str>>,
    /// Security options as Docker spells them (`apparmor=unconfined`, `seccomp=unconfined`,
    /// `no-new-privileges`); Kubernetes profiles map to the same words.
    pub security_opt: Vec<Cow<'a, str>>,
    /// Host devices passed in (`/dev/sda`, `/dev/kmsg`).
    pub devices: Vec<Cow<'a, str>>,
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

/// A process seen in or launched into a container (an exec's command), or on a host
/// (the `docker run` command line itself).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Process<'a> {
    pub pid: Option<u32>,
    /// The short name the kernel keeps (`comm`).
    pub name: Option<Cow<'a, str>>,
    pub executable: Option<Cow<'a, str>>,
    pub args: Vec<Cow<'a, str>>,
    pub command_line: Option<Cow<'a, str>>,
    /// The effective user, as a name when the source resolved it, else the number.
    pub user: Option<Cow<'a, str>>,
    /// The login user behind `sudo` and `su` (auditd `auid`, Falco `user.loginname`).
    pub login_user: Option<Cow<'a, str>>,
    pub cwd: Option<Cow<'a, str>>,
    pub exit_code: Option<i64>,
    pub parent: Option<ParentProcess<'a>>,
    /// Executables (or names) above the parent, nearest first, as far as the source or
    /// the engine's process table knows them.
    pub ancestors: Vec<Cow<'a, str>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParentProcess<'a> {
    pub pid: Option<u32>,
    pub name: Option<Cow<'a, str>>,
    pub executable: Option<Cow<'a, str>>,
    pub command_line: Option<Cow<'a, str>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Network<'a> {
    pub src_ip: Option<Cow<'a, str>>,
    pub src_port: Option<u16>,
    pub dst_ip: Option<Cow<'a, str>>,
    pub dst_port: Option<u16>,
    /// `tcp`, `udp`, `icmp`, lower case.
    pub protocol: Option<Cow<'a, str>>,
    /// The name asked for (DNS) or connected to (TLS SNI, HTTP host), lower case.
    pub domain: Option<Cow<'a, str>>,
    /// Bytes in both directions, when the source counts them.
    pub bytes: Option<u64>,
    pub packets: Option<u64>,
    /// What a filter did with it: `accept`, `reject`, lower case (VPC flow `action`).
    pub disposition: Option<Cow<'a, str>>,
    /// `A`, `AAAA`, `TXT`, ... for DNS queries.
    pub dns_query_type: Option<Cow<'a, str>>,
    /// `NOERROR`, `NXDOMAIN`, ... for DNS answers.
    pub dns_rcode: Option<Cow<'a, str>>,
    pub dns_answers: Vec<Cow<'a, str>>,
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
    /// The error the source reported (CloudTrail `errorCode`, a failed Azure
    /// `resultType`); `None` when it succeeded or the source does not say.
    pub error: Option<Cow<'a, str>>,
    /// Why the source says it happened: a Kubernetes Event `reason` (`BackOff`), a Falco
    /// rule name, a Docker health status.
    pub reason: Option<Cow<'a, str>>,
    /// How many times the source saw it (Kubernetes Event `count`).
    pub count: Option<u32>,
    /// The cloud account, subscription or project.
    pub account: Option<Cow<'a, str>>,
    /// The cloud region or location.
    pub region: Option<Cow<'a, str>>,
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
            error: None,
            reason: None,
            count: None,
            account: None,
            region: None,
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
            security_opt: self.security_opt.into_iter().map(own).collect(),
            devices: self.devices.into_iter().map(own).collect(),
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
            owner: self.owner.map(own),
        }
    }
}

impl Principal<'_> {
    pub fn into_owned(self) -> Principal<'static> {
        Principal {
            name: own(self.name),
            uid: self.uid.map(own),
            groups: self.groups.into_iter().map(own).collect(),
            kind: self.kind.map(own),
            source_ip: self.source_ip.map(own),
            user_agent: self.user_agent.map(own),
        }
    }
}

impl Process<'_> {
    pub fn into_owned(self) -> Process<'static> {
        Process {
            pid: self.pid,
            name: self.name.map(own),
            executable: self.executable.map(own),
            args: self.args.into_iter().map(own).collect(),
            command_line: self.command_line.map(own),
            user: self.user.map(own),
            login_user: self.login_user.map(own),
            cwd: self.cwd.map(own),
            exit_code: self.exit_code,
            parent: self.parent.map(|p| ParentProcess {
                pid: p.pid,
                name: p.name.map(own),
                executable: p.executable.map(own),
                command_line: p.command_line.map(own),
            }),
            ancestors: self.ancestors.into_iter().map(own).collect(),
        }
    }
}

impl Network<'_> {
    pub fn into_owned(self) -> Network<'static> {
        Network {
            src_ip: self.src_ip.map(own),
            src_port: self.src_port,
            dst_ip: self.dst_ip.map(own),
            dst_port: self.dst_port,
            protocol: self.protocol.map(own),
            domain: self.domain.map(own),
            bytes: self.bytes,
            packets: self.packets,
            disposition: self.disposition.map(own),
            dns_query_type: self.dns_query_type.map(own),
            dns_rcode: self.dns_rcode.map(own),
            dns_answers: self.dns_answers.into_iter().map(own).collect(),
        }
    }
}

impl Event<'_> {
    /// An event that owns all its strings: for records decoded from text the engine
    /// unescaped itself (a wrapper's embedded JSON string), and for state.
    pub fn into_owned(self) -> Event<'static> {
        Event {
            source: self.source,
            action: self.action,
            raw_action: own(self.raw_action),
            time_ns: self.time_ns,
            host: self.host.map(own),
            cluster: self.cluster.map(own),
            request_id: self.request_id.map(own),
            response_code: self.response_code,
            error: self.error.map(own),
            reason: self.reason.map(own),
            count: self.count,
            account: self.account.map(own),
            region: self.region.map(own),
            principal: self.principal.map(Principal::into_owned),
            workload: self.workload.map(Workload::into_owned),
            containers: self
                .containers
                .into_iter()
                .map(Container::into_owned)
                .collect(),
            process: self.process.map(Process::into_owned),
            network: self.network.map(Network::into_owned),
        }
    }
}

pub(crate) fn own(s: Cow<'_, str>) -> Cow<'static, str> {
    Cow::Owned(s.into_owned())
}
