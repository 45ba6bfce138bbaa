//! The normalized event: who did what to which containers, with which process and
//! connection.
//!
//! Strings borrow from the record's bytes where the source allows it (`Cow`), so a
//! decoded-and-normalized record costs one pass over its bytes plus the few strings
//! that needed unescaping. Everything optional is `Option`: "the source did not say"
//! is kept apart from "the source said no", because a thin Docker `create` event that
//! carries no privileged flag must never read as "not privileged".

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::image_ref::ImageRef;
use super::names::{Action, ContainerRole, Source};

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

    /// Whether the request or operation this event reports succeeded, when the source
    /// says: `false` when it reported an error or a status of 400 or more, `true` when it
    /// reported a status below 400 and no error, `None` when it reports no outcome (a
    /// Docker event, a Kubernetes `RequestReceived` stage, a CloudTrail record without
    /// `errorCode` says nothing about a status).
    pub fn succeeded(&self) -> Option<bool> {
        match (self.response_code, &self.error) {
            (_, Some(_)) => Some(false),
            (Some(code), None) => Some(code < 400),
            (None, None) => None,
        }
    }

    /// Whether the request was refused for want of authentication or authorization
    /// (status 401 or 403, or an error that says so: `Forbidden`, `AccessDenied`,
    /// `UnauthorizedOperation`, `AuthorizationFailed`, `PERMISSION_DENIED`, an authorization
    /// plugin's denial, `EACCES`/`EPERM`), as opposed to failing otherwise. `None` when the
    /// source reports no outcome.
    pub fn denied(&self) -> Option<bool> {
        if self.succeeded()? {
            return Some(false);
        }
        let code = matches!(self.response_code, Some(401 | 403));
        Some(code || self.error.as_deref().is_some_and(says_denied))
    }
}

/// Whether an error's name or message says the request was refused to its principal.
fn says_denied(error: &str) -> bool {
    const WORDS: &[&str] = &[
        "denied",
        "forbidden",
        "unauthorized",
        "unauthenticated",
        "authorizationfailed",
        "eacces",
        "eperm",
    ];
    let error = error.to_ascii_lowercase();
    WORDS.iter().any(|w| error.contains(w))
}

impl SecurityContext<'_> {
    /// True when the source said nothing about how the container was launched.
    pub fn is_unknown(&self) -> bool {
        *self == SecurityContext::default()
    }
}
