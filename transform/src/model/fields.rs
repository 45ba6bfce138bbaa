//! The field registry: every normalized field, once, with its name, its type, what it
//! means and how to read it from an [`Event`].
//!
//! The name is the one a Sigma rule uses (`container.privileged`, `action.raw`), and the
//! same name keys the field everywhere else: the enrichment a pipeline receives, the
//! alerts' `unmapped.crowsnest`, `docs/fields.md` (generated from this table). Rule
//! lookup, the enrichment writer and the field reference all iterate [`FIELDS`], so a
//! field added here (with its model field) is readable, written and documented.
//!
//! A pod carries several containers: `container.*` fields are read per container
//! ([`Read::Container`]); a rule sees every container's value, the enrichment one object
//! per container.

use std::borrow::Cow;
use std::sync::LazyLock;

use super::event::{Container, Event, HostMount};

/// What a field holds for one event (or one container of it). Borrowed from the event.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'e> {
    Str(&'e str),
    Int(i64),
    Bool(bool),
    /// A list of strings (capabilities, groups, arguments).
    List(&'e [Cow<'e, str>]),
    /// The words of a command (an entrypoint, a container's arguments): a list in the
    /// enrichment, one string joined with spaces for rules.
    Words(&'e [Cow<'e, str>]),
    /// One part of every host mount of a container, in mount order.
    Mounts(&'e [HostMount<'e>], MountPart),
}

/// Which part of a host mount a [`Value::Mounts`] field reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MountPart {
    HostPath,
    /// `null` in the enrichment where a mount has none, so the lists line up.
    ContainerPath,
    ReadOnly,
}

/// A field's type, as the reference documents it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    String,
    Int,
    Bool,
    /// A list of strings.
    List,
    /// A list of words that rules read joined with spaces.
    Words,
    /// A list of booleans.
    BoolList,
}

impl Type {
    /// The type as `docs/fields.md` names it.
    pub fn name(self) -> &'static str {
        match self {
            Type::String => "string",
            Type::Int => "int",
            Type::Bool => "bool",
            Type::List => "list",
            Type::Words => "words",
            Type::BoolList => "list of bool",
        }
    }
}

/// How a field is read.
#[derive(Clone, Copy)]
pub enum Read {
    /// From the event.
    Event(for<'e> fn(&'e Event<'_>) -> Option<Value<'e>>),
    /// From each container of the event; the name starts with `container.`.
    Container(for<'e> fn(&'e Container<'_>) -> Option<Value<'e>>),
}

/// One normalized field.
pub struct Field {
    /// The name rules and outputs use.
    pub name: &'static str,
    pub ty: Type,
    /// What it means, for the reference (Markdown).
    pub doc: &'static str,
    pub read: Read,
}

impl Field {
    /// The name inside a container's object (`privileged` for `container.privileged`).
    pub fn container_key(&self) -> &'static str {
        self.name.strip_prefix("container.").unwrap_or(self.name)
    }
}

/// Looks a field up by name.
pub fn field(name: &str) -> Option<&'static Field> {
    static BY_NAME: LazyLock<Vec<&'static Field>> = LazyLock::new(|| {
        let mut sorted: Vec<&'static Field> = FIELDS.iter().collect();
        sorted.sort_by_key(|f| f.name);
        sorted
    });
    BY_NAME
        .binary_search_by(|f| f.name.cmp(name))
        .ok()
        .map(|i| BY_NAME[i])
}

const fn event(
    name: &'static str,
    ty: Type,
    doc: &'static str,
    read: for<'e> fn(&'e Event<'_>) -> Option<Value<'e>>,
) -> Field {
    Field {
        name,
        ty,
        doc,
        read: Read::Event(read),
    }
}

const fn container(
    name: &'static str,
    ty: Type,
    doc: &'static str,
    read: for<'e> fn(&'e Container<'_>) -> Option<Value<'e>>,
) -> Field {
    Field {
        name,
        ty,
        doc,
        read: Read::Container(read),
    }
}

fn str<'e>(s: &'e Option<Cow<'_, str>>) -> Option<Value<'e>> {
    s.as_deref().map(Value::Str)
}

fn int(n: Option<impl Into<i64>>) -> Option<Value<'static>> {
    n.map(|n| Value::Int(n.into()))
}

fn big(n: Option<u64>) -> Option<Value<'static>> {
    n.map(|n| Value::Int(i64::try_from(n).unwrap_or(i64::MAX)))
}

const ACTIONS: &str = "`container-create`, `container-run`, `container-start`, `container-restart`, `container-stop`, `container-die`, `container-kill`, `container-destroy`, `container-exec`, `container-attach`, `container-inspect`, `container-backoff`, `image-pull`, `workload-create`, `workload-update`, `workload-patch`, `workload-delete`, `resource-get`, `resource-list`, `resource-watch`, `process-start`, `network-connect`, `network-flow`, `dns-query`, `other`";

/// Every normalized field, in the order the reference lists them.
pub static FIELDS: &[Field] = &[
    event(
        "source",
        Type::String,
        "the format the record was decoded from (see below)",
        |e| Some(Value::Str(e.source.as_str())),
    ),
    event("action", Type::String, ACTIONS, |e| {
        Some(Value::Str(e.action.as_str()))
    }),
    event(
        "action.raw",
        Type::String,
        "the action as the source spelled it (`exec_create`, `patch`, `RunTask`)",
        |e| Some(Value::Str(&e.raw_action)),
    ),
    event(
        "host",
        Type::String,
        "where it happened, when the source says",
        |e| str(&e.host),
    ),
    event(
        "cluster",
        Type::String,
        "where it happened, when the source says",
        |e| str(&e.cluster),
    ),
    event(
        "account",
        Type::String,
        "the cloud account, subscription or project, and the region or location",
        |e| str(&e.account),
    ),
    event(
        "region",
        Type::String,
        "the cloud account, subscription or project, and the region or location",
        |e| str(&e.region),
    ),
    event(
        "request.id",
        Type::String,
        "the source's request or event id (Kubernetes `auditID`, CloudTrail `eventID`)",
        |e| str(&e.request_id),
    ),
    event("response.code", Type::Int, "the API's status code", |e| {
        int(e.response_code)
    }),
    event(
        "request.succeeded",
        Type::Bool,
        "whether the request succeeded, when the source reports an outcome: `false` for an error or a status of 400 or more (denied included); absent when the source does not say (a Docker event, a Kubernetes `RequestReceived` stage). Rules that claim something happened exclude `request.succeeded: false`",
        |e| e.succeeded().map(Value::Bool),
    ),
    event(
        "request.denied",
        Type::Bool,
        "the request was refused to its principal: status 401 or 403, or an error that says so (`Forbidden`, `AccessDenied`, `UnauthorizedOperation`, `AuthorizationFailed`, `PERMISSION_DENIED`, an authorization plugin's denial); `false` when it succeeded or failed otherwise; absent when the source does not say",
        |e| e.denied().map(Value::Bool),
    ),
    event(
        "error",
        Type::String,
        "the error the source reported (CloudTrail `errorCode`, a failed Azure `resultType`)",
        |e| str(&e.error),
    ),
    event(
        "reason",
        Type::String,
        "the source's reason or rule name (Kubernetes Event `reason` such as `BackOff`, a Falco rule)",
        |e| str(&e.reason),
    ),
    event(
        "count",
        Type::Int,
        "how many times the source saw it (Kubernetes Event `count`)",
        |e| int(e.count),
    ),
    event("principal.name", Type::String, "who asked", |e| {
        e.principal.as_ref().map(|p| Value::Str(&p.name))
    }),
    event("principal.uid", Type::String, "who asked", |e| {
        str(&e.principal.as_ref()?.uid)
    }),
    event(
        "principal.groups",
        Type::List,
        "the principal's groups",
        |e| e.principal.as_ref().map(|p| Value::List(&p.groups)),
    ),
    event(
        "principal.kind",
        Type::String,
        "the identity's type as the source names it (`IAMUser`, `AssumedRole`, `serviceaccount`)",
        |e| str(&e.principal.as_ref()?.kind),
    ),
    event(
        "principal.source_ip",
        Type::String,
        "the address the API server saw (the last of `sourceIPs`)",
        |e| str(&e.principal.as_ref()?.source_ip),
    ),
    event(
        "principal.user_agent",
        Type::String,
        "client-supplied; for triage, never identity",
        |e| str(&e.principal.as_ref()?.user_agent),
    ),
    event("workload.kind", Type::String, WORKLOAD, |e| {
        e.workload.as_ref().map(|w| Value::Str(&w.kind))
    }),
    event("workload.name", Type::String, WORKLOAD, |e| {
        str(&e.workload.as_ref()?.name)
    }),
    event("workload.namespace", Type::String, WORKLOAD, |e| {
        str(&e.workload.as_ref()?.namespace)
    }),
    event("workload.uid", Type::String, WORKLOAD, |e| {
        str(&e.workload.as_ref()?.uid)
    }),
    event(
        "workload.owner",
        Type::String,
        "the controller that owns it, `Kind/name`",
        |e| str(&e.workload.as_ref()?.owner),
    ),
    container(
        "container.id",
        Type::String,
        "the runtime's container id, full or the 12-character short form",
        |c| str(&c.id),
    ),
    container(
        "container.name",
        Type::String,
        "the container's name (in a pod, its name in the pod spec)",
        |c| str(&c.name),
    ),
    container(
        "container.role",
        Type::String,
        "`main`, `init`, `ephemeral`",
        |c| Some(Value::Str(c.role.as_str())),
    ),
    container(
        "container.image",
        Type::String,
        "the image reference as written",
        |c| c.image.as_ref().map(|i| Value::Str(&i.reference)),
    ),
    container(
        "container.image.registry",
        Type::String,
        "registry host and port; `docker.io` when none is written",
        |c| c.image.as_ref().map(|i| Value::Str(&i.registry)),
    ),
    container(
        "container.image.repository",
        Type::String,
        "path in the registry; `library/nginx` for `nginx`",
        |c| c.image.as_ref().map(|i| Value::Str(&i.repository)),
    ),
    container("container.image.tag", Type::String, UNTAGGED, |c| {
        str(&c.image.as_ref()?.tag)
    }),
    container("container.image.digest", Type::String, UNTAGGED, |c| {
        str(&c.image.as_ref()?.digest)
    }),
    container("container.privileged", Type::Bool, UNSAID, |c| {
        c.security.privileged.map(Value::Bool)
    }),
    container("container.host_pid", Type::Bool, UNSAID, |c| {
        c.security.host_pid.map(Value::Bool)
    }),
    container("container.host_network", Type::Bool, UNSAID, |c| {
        c.security.host_network.map(Value::Bool)
    }),
    container("container.host_ipc", Type::Bool, UNSAID, |c| {
        c.security.host_ipc.map(Value::Bool)
    }),
    container(
        "container.cap_add",
        Type::List,
        "added Linux capabilities, upper case without `CAP_` (`SYS_ADMIN`)",
        |c| Some(Value::List(&c.security.cap_add)),
    ),
    container(
        "container.security_opt",
        Type::List,
        "security options as Docker documents them: `apparmor=unconfined`, `seccomp=unconfined`, `no-new-privileges`",
        |c| Some(Value::List(&c.security.security_opt)),
    ),
    container(
        "container.devices",
        Type::List,
        "host devices passed in",
        |c| Some(Value::List(&c.security.devices)),
    ),
    container(
        "container.host_mounts",
        Type::List,
        "host paths mounted into the container",
        |c| Some(Value::Mounts(&c.security.host_mounts, MountPart::HostPath)),
    ),
    container(
        "container.host_mounts.container_path",
        Type::List,
        "where they are mounted (in the enrichment, `null` where a source does not say)",
        |c| {
            Some(Value::Mounts(
                &c.security.host_mounts,
                MountPart::ContainerPath,
            ))
        },
    ),
    container(
        "container.host_mounts.read_only",
        Type::BoolList,
        "whether each is mounted read-only",
        |c| Some(Value::Mounts(&c.security.host_mounts, MountPart::ReadOnly)),
    ),
    container(
        "container.user",
        Type::String,
        "the user the container runs as (`0`, `root`, `1000:1000`)",
        |c| str(&c.security.user),
    ),
    container(
        "container.restart_policy",
        Type::String,
        "`always`, `unless-stopped`, `on-failure` (Docker); `Always`, `OnFailure`, `Never` (Kubernetes); absent for Docker's `no`",
        |c| {
            c.security
                .restart_policy
                .as_ref()
                .map(|r| Value::Str(&r.name))
        },
    ),
    container(
        "container.restart_policy.max_retries",
        Type::Int,
        "`on-failure:N`; 0 means unlimited",
        |c| {
            let r = c.security.restart_policy.as_ref()?;
            Some(Value::Int(i64::from(r.max_retries.unwrap_or(0))))
        },
    ),
    container(
        "container.entrypoint",
        Type::Words,
        "the entrypoint override",
        |c| c.security.entrypoint.as_deref().map(Value::Words),
    ),
    container(
        "container.command",
        Type::Words,
        "the arguments (Docker `Cmd`, Kubernetes `args`)",
        |c| c.security.command.as_deref().map(Value::Words),
    ),
    event("process.name", Type::String, PROCESS, |e| {
        str(&e.process.as_ref()?.name)
    }),
    event("process.executable", Type::String, PROCESS, |e| {
        str(&e.process.as_ref()?.executable)
    }),
    event("process.user", Type::String, PROCESS, |e| {
        str(&e.process.as_ref()?.user)
    }),
    event("process.args", Type::List, "the argv", |e| {
        e.process.as_ref().map(|p| Value::List(&p.args))
    }),
    event(
        "process.command_line",
        Type::String,
        "the argv as one line a shell would read back",
        |e| str(&e.process.as_ref()?.command_line),
    ),
    event(
        "process.login_user",
        Type::String,
        "the login user behind `sudo` (auditd `auid`)",
        |e| str(&e.process.as_ref()?.login_user),
    ),
    event("process.cwd", Type::String, "its working directory", |e| {
        str(&e.process.as_ref()?.cwd)
    }),
    event("process.pid", Type::Int, "the process id", |e| {
        int(e.process.as_ref()?.pid)
    }),
    event(
        "process.exit_code",
        Type::Int,
        "how it ended, when the source says",
        |e| int(e.process.as_ref()?.exit_code),
    ),
    event(
        "process.parent.pid",
        Type::Int,
        "the parent's process id",
        |e| int(e.process.as_ref()?.parent.as_ref()?.pid),
    ),
    event(
        "process.parent.name",
        Type::String,
        "the parent process",
        |e| str(&e.process.as_ref()?.parent.as_ref()?.name),
    ),
    event(
        "process.parent.executable",
        Type::String,
        "the parent process",
        |e| str(&e.process.as_ref()?.parent.as_ref()?.executable),
    ),
    event(
        "process.parent.command_line",
        Type::String,
        "the parent process",
        |e| str(&e.process.as_ref()?.parent.as_ref()?.command_line),
    ),
    event(
        "process.ancestors",
        Type::List,
        "executables above the parent, nearest first",
        |e| e.process.as_ref().map(|p| Value::List(&p.ancestors)),
    ),
    event(
        "network.src_ip",
        Type::String,
        "where the connection came from",
        |e| str(&e.network.as_ref()?.src_ip),
    ),
    event(
        "network.src_port",
        Type::Int,
        "where the connection came from",
        |e| int(e.network.as_ref()?.src_port),
    ),
    event(
        "network.dst_ip",
        Type::String,
        "where it went: the server side of a connection",
        |e| str(&e.network.as_ref()?.dst_ip),
    ),
    event(
        "network.dst_port",
        Type::Int,
        "where it went: the server side of a connection",
        |e| int(e.network.as_ref()?.dst_port),
    ),
    event(
        "network.protocol",
        Type::String,
        "`tcp`, `udp`, `icmp`",
        |e| str(&e.network.as_ref()?.protocol),
    ),
    event(
        "network.domain",
        Type::String,
        "the name asked for or connected to, lower case",
        |e| str(&e.network.as_ref()?.domain),
    ),
    event(
        "network.bytes",
        Type::Int,
        "both directions, when the source counts them",
        |e| big(e.network.as_ref()?.bytes),
    ),
    event(
        "network.packets",
        Type::Int,
        "both directions, when the source counts them",
        |e| big(e.network.as_ref()?.packets),
    ),
    event(
        "network.disposition",
        Type::String,
        "`accept`, `reject` (VPC flow `action`)",
        |e| str(&e.network.as_ref()?.disposition),
    ),
    event(
        "network.dns.query_type",
        Type::String,
        "`A`, `AAAA`, ...",
        |e| str(&e.network.as_ref()?.dns_query_type),
    ),
    event(
        "network.dns.rcode",
        Type::String,
        "`NOERROR`, `NXDOMAIN`, ...",
        |e| str(&e.network.as_ref()?.dns_rcode),
    ),
    event(
        "network.dns.answers",
        Type::List,
        "the addresses and names a DNS answer held",
        |e| e.network.as_ref().map(|n| Value::List(&n.dns_answers)),
    ),
];

const WORKLOAD: &str = "the object the containers belong to (`Pod`, `Deployment`, `CronJob`, `TaskDefinition`, `ContainerGroup`, ...)";
const UNTAGGED: &str = "absent when not written (an untagged image has no tag, not `latest`)";
const UNSAID: &str = "absent when the source does not say (a Docker `create` event)";
const PROCESS: &str = "the process seen, or the command of an exec";
