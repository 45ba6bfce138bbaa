//! Falco JSON alerts (`json_output: true`).
//!
//! An alert is `{hostname, output, priority, rule, source, tags, time, output_fields}`.
//! `output_fields` holds the fields the rule's output names, so which keys are there
//! depends on the rule; values are strings, numbers, booleans or null, and Falco writes
//! `<NA>` for a field it could not resolve. Every value is read leniently through
//! [`Scalar`](crate::decode::scalar::Scalar).
//!
//! Syscall alerts: the action follows `evt.type` (`execve`/`execveat` a process start,
//! `connect` a network connect with the server side as destination, `container` a
//! container start), anything else is [`Action::Other`] named by `evt.type`. The rule
//! name is the event's `reason`. `container.id` is `host` for host processes and is then
//! no container. A process start whose command line is a container CLI (`docker run
//! ...`) is normalized as that operation by the container CLI parser (`normalize::cli`), like auditd's; the container
//! entry then describes the container asked for, not the one the CLI ran in.
//!
//! `container.mounts` (`source:dest:mode:rw:propagation`, comma or space separated)
//! gives host mounts, without the paths the runtime and kubelet mount into every
//! container (`/var/lib/docker/containers`, `/var/lib/kubelet/pods`, volumes).
//!
//! `k8s_audit` alerts carry `ka.*` fields: verb, resource, subresource, target, user,
//! the pod's images and privileged flags, `auditID`, response code. They normalize like
//! a Kubernetes audit event: create of a pod or workload is a workload create, exec and
//! attach are container exec and attach, list/watch/get are resource reads.

use std::borrow::Cow;

use serde::Deserialize;

use crate::decode::scalar::Scalar;
use crate::decode::{DecodeError, Decoded, Decoder, Detect, Format, Keys};
use crate::model::ImageRef;
use crate::model::{
    Action, Container, Event, HostMount, Network, ParentProcess, Principal, Process,
    SecurityContext, Source, Workload,
};
use crate::normalize::borrowed::{Str, non_empty};
use crate::normalize::cli;
use crate::normalize::kubernetes::{Target, action, typed_kind};
use crate::normalize::network::{domain_name, protocol};
use crate::normalize::text::split_spaces;
use crate::time::parse_rfc3339_ns;

pub(crate) const FORMAT: Format = Format {
    source: Source::Falco,
    logsource: ("falco", "alerts"),
    about: "Falco JSON alerts",
    detect: Detect {
        json: &[Keys::all(&["\"output_fields\":"])],
        text: None,
    },
    raw_roots: &[
        "hostname",
        "output",
        "priority",
        "rule",
        "source",
        "tags",
        "time",
        "output_fields",
    ],
    decode: Decoder::One(decode),
};

/// `uid` / `loginuid` when no one is logged in.
const UNSET_IDS: [&str; 2] = ["4294967295", "-1"];

/// Host paths every container gets from its runtime or the kubelet: not a user's mount.
const RUNTIME_PATHS: [&str; 6] = [
    "/var/lib/docker/containers/",
    "/var/lib/docker/volumes/",
    "/var/lib/kubelet/pods/",
    "/var/lib/containerd/",
    "/var/lib/containers/storage/",
    "/run/containerd/",
];

#[derive(Deserialize)]
struct RawAlert<'a> {
    #[serde(borrow)]
    hostname: Option<Str<'a>>,
    #[serde(borrow)]
    rule: Option<Str<'a>>,
    #[serde(borrow)]
    source: Option<Str<'a>>,
    #[serde(borrow)]
    time: Option<Str<'a>>,
    #[serde(borrow)]
    output_fields: Option<Fields<'a>>,
}

/// The `output_fields` keys read; every other key is skipped.
#[derive(Default, Deserialize)]
struct Fields<'a> {
    #[serde(rename = "evt.type", borrow, default)]
    evt_type: Option<Scalar<'a>>,
    #[serde(rename = "evt.time", borrow, default)]
    evt_time: Option<Scalar<'a>>,
    #[serde(rename = "container.id", borrow, default)]
    container_id: Option<Scalar<'a>>,
    #[serde(rename = "container.full_id", borrow, default)]
    container_full_id: Option<Scalar<'a>>,
    #[serde(rename = "container.name", borrow, default)]
    container_name: Option<Scalar<'a>>,
    #[serde(rename = "container.image", borrow, default)]
    container_image: Option<Scalar<'a>>,
    #[serde(rename = "container.image.repository", borrow, default)]
    image_repository: Option<Scalar<'a>>,
    #[serde(rename = "container.image.tag", borrow, default)]
    image_tag: Option<Scalar<'a>>,
    #[serde(rename = "container.image.digest", borrow, default)]
    image_digest: Option<Scalar<'a>>,
    #[serde(rename = "container.privileged", borrow, default)]
    privileged: Option<Scalar<'a>>,
    #[serde(rename = "container.mounts", borrow, default)]
    mounts: Option<Scalar<'a>>,
    #[serde(rename = "proc.pid", borrow, default)]
    pid: Option<Scalar<'a>>,
    #[serde(rename = "proc.name", borrow, default)]
    name: Option<Scalar<'a>>,
    #[serde(rename = "proc.exepath", borrow, default)]
    exepath: Option<Scalar<'a>>,
    #[serde(rename = "proc.exe", borrow, default)]
    exe: Option<Scalar<'a>>,
    #[serde(rename = "proc.cmdline", borrow, default)]
    cmdline: Option<Scalar<'a>>,
    #[serde(rename = "proc.cwd", borrow, default)]
    cwd: Option<Scalar<'a>>,
    #[serde(rename = "proc.ppid", borrow, default)]
    ppid: Option<Scalar<'a>>,
    #[serde(rename = "proc.pname", borrow, default)]
    pname: Option<Scalar<'a>>,
    #[serde(rename = "proc.pexepath", borrow, default)]
    pexepath: Option<Scalar<'a>>,
    #[serde(rename = "proc.pexe", borrow, default)]
    pexe: Option<Scalar<'a>>,
    #[serde(rename = "proc.pcmdline", borrow, default)]
    pcmdline: Option<Scalar<'a>>,
    #[serde(rename = "proc.aname[2]", borrow, default)]
    aname2: Option<Scalar<'a>>,
    #[serde(rename = "proc.aname[3]", borrow, default)]
    aname3: Option<Scalar<'a>>,
    #[serde(rename = "proc.aname[4]", borrow, default)]
    aname4: Option<Scalar<'a>>,
    #[serde(rename = "proc.aname[5]", borrow, default)]
    aname5: Option<Scalar<'a>>,
    #[serde(rename = "user.name", borrow, default)]
    user_name: Option<Scalar<'a>>,
    #[serde(rename = "user.uid", borrow, default)]
    user_uid: Option<Scalar<'a>>,
    #[serde(rename = "user.loginuid", borrow, default)]
    loginuid: Option<Scalar<'a>>,
    #[serde(rename = "user.loginname", borrow, default)]
    loginname: Option<Scalar<'a>>,
    #[serde(rename = "k8s.ns.name", borrow, default)]
    k8s_ns: Option<Scalar<'a>>,
    #[serde(rename = "k8s.pod.name", borrow, default)]
    k8s_pod: Option<Scalar<'a>>,
    #[serde(rename = "k8s.pod.uid", borrow, default)]
    k8s_pod_uid: Option<Scalar<'a>>,
    #[serde(rename = "fd.sip", borrow, default)]
    sip: Option<Scalar<'a>>,
    #[serde(rename = "fd.sport", borrow, default)]
    sport: Option<Scalar<'a>>,
    #[serde(rename = "fd.cip", borrow, default)]
    cip: Option<Scalar<'a>>,
    #[serde(rename = "fd.cport", borrow, default)]
    cport: Option<Scalar<'a>>,
    #[serde(rename = "fd.rip", borrow, default)]
    rip: Option<Scalar<'a>>,
    #[serde(rename = "fd.rport", borrow, default)]
    rport: Option<Scalar<'a>>,
    #[serde(rename = "fd.lip", borrow, default)]
    lip: Option<Scalar<'a>>,
    #[serde(rename = "fd.lport", borrow, default)]
    lport: Option<Scalar<'a>>,
    #[serde(rename = "fd.l4proto", borrow, default)]
    l4proto: Option<Scalar<'a>>,
    #[serde(rename = "fd.sip.name", borrow, default)]
    sip_name: Option<Scalar<'a>>,
    #[serde(rename = "ka.verb", borrow, default)]
    ka_verb: Option<Scalar<'a>>,
    #[serde(rename = "ka.target.resource", borrow, default)]
    ka_resource: Option<Scalar<'a>>,
    #[serde(rename = "ka.target.subresource", borrow, default)]
    ka_subresource: Option<Scalar<'a>>,
    #[serde(rename = "ka.target.name", borrow, default)]
    ka_name: Option<Scalar<'a>>,
    #[serde(rename = "ka.target.namespace", borrow, default)]
    ka_namespace: Option<Scalar<'a>>,
    #[serde(rename = "ka.user.name", borrow, default)]
    ka_user: Option<Scalar<'a>>,
    #[serde(rename = "ka.auditid", borrow, default)]
    ka_audit_id: Option<Scalar<'a>>,
    #[serde(rename = "ka.response.code", borrow, default)]
    ka_response_code: Option<Scalar<'a>>,
    #[serde(rename = "ka.useragent", borrow, default)]
    ka_user_agent: Option<Scalar<'a>>,
    #[serde(rename = "ka.req.pod.containers.image", borrow, default)]
    ka_images: Option<Scalar<'a>>,
    #[serde(rename = "ka.req.pod.containers.privileged", borrow, default)]
    ka_privileged: Option<Scalar<'a>>,
    #[serde(rename = "ka.req.pod.host_network", borrow, default)]
    ka_host_network: Option<Scalar<'a>>,
    #[serde(rename = "ka.req.pod.host_pid", borrow, default)]
    ka_host_pid: Option<Scalar<'a>>,
    #[serde(rename = "ka.req.pod.host_ipc", borrow, default)]
    ka_host_ipc: Option<Scalar<'a>>,
    #[serde(rename = "ka.req.pod.volumes.hostpath", borrow, default)]
    ka_host_paths: Option<Scalar<'a>>,
}

/// The text of an optional field.
fn text<'a>(field: &Option<Scalar<'a>>) -> Option<Cow<'a, str>> {
    field.as_ref().and_then(Scalar::text)
}

fn int(field: &Option<Scalar<'_>>) -> Option<i64> {
    field.as_ref().and_then(Scalar::int)
}

fn small<T: TryFrom<i64>>(field: &Option<Scalar<'_>>) -> Option<T> {
    int(field).and_then(|n| T::try_from(n).ok())
}

fn decode(text: &str) -> Result<Decoded<'_>, DecodeError> {
    let raw: RawAlert<'_> =
        serde_json::from_str(text).map_err(|e| DecodeError::from_json(Source::Falco, e))?;
    let fields = raw
        .output_fields
        .ok_or_else(|| DecodeError::shape(Source::Falco, 1, "missing field `output_fields`"))?;
    let source = non_empty(raw.source);
    let k8s = source.as_deref() == Some("k8s_audit") || fields.ka_verb.is_some();
    let mut event = if k8s {
        k8s_audit_alert(&fields)
    } else {
        syscall_alert(&fields, source)
    };
    event.host = non_empty(raw.hostname);
    event.reason = non_empty(raw.rule);
    event.time_ns = raw
        .time
        .as_ref()
        .and_then(|t| parse_rfc3339_ns(&t.0))
        .or_else(|| int(&fields.evt_time));
    Ok(Decoded::evaluated(event))
}

fn syscall_alert<'a>(f: &Fields<'a>, source: Option<Cow<'a, str>>) -> Event<'a> {
    let evt_type = text(&f.evt_type);
    let action = match evt_type.as_deref() {
        Some("execve" | "execveat") => Action::ProcessStart,
        Some("connect") => Action::NetworkConnect,
        Some("container") => Action::ContainerStart,
        _ => Action::Other,
    };
    let raw_action = evt_type.or(source).unwrap_or(Cow::Borrowed("alert"));
    let mut event = Event::new(Source::Falco, action, raw_action);

    let id = text(&f.container_full_id)
        .or_else(|| text(&f.container_id))
        .filter(|id| id != "host");
    if let Some(id) = id {
        event.containers.push(Container {
            id: Some(id),
            name: text(&f.container_name).filter(|n| n != "host"),
            image: image(f).map(ImageRef::lenient),
            security: SecurityContext {
                privileged: f.privileged.as_ref().and_then(Scalar::bool),
                host_mounts: text(&f.mounts).map(|m| mounts(&m)).unwrap_or_default(),
                ..SecurityContext::default()
            },
            ..Container::default()
        });
    }
    let pod = text(&f.k8s_pod);
    let namespace = text(&f.k8s_ns);
    if pod.is_some() || namespace.is_some() {
        event.workload = Some(Workload {
            kind: Cow::Borrowed("Pod"),
            name: pod,
            namespace,
            uid: text(&f.k8s_pod_uid),
            owner: None,
        });
    }

    let login_user = text(&f.loginname)
        .or_else(|| text(&f.loginuid).filter(|u| !UNSET_IDS.contains(&u.as_ref())));
    let user = text(&f.user_name).or_else(|| text(&f.user_uid));
    if let Some(name) = login_user
        .clone()
        .or_else(|| user.clone())
        .filter(|_| action != Action::ContainerStart)
    {
        event.principal = Some(Principal {
            name,
            uid: text(&f.loginuid)
                .filter(|u| !UNSET_IDS.contains(&u.as_ref()))
                .or_else(|| text(&f.user_uid)),
            kind: Some(Cow::Borrowed("unix")),
            ..Principal::default()
        });
    }
    let command_line = text(&f.cmdline);
    let args: Vec<Cow<'a, str>> = command_line
        .as_ref()
        // Falco joins the argv with spaces, so quoting is already lost.
        .map(|c| split_spaces(c))
        .unwrap_or_default();
    let parent = ParentProcess {
        pid: small(&f.ppid),
        name: text(&f.pname),
        executable: text(&f.pexepath).or_else(|| text(&f.pexe)),
        command_line: text(&f.pcmdline),
    };
    let process = Process {
        pid: small(&f.pid),
        name: text(&f.name),
        executable: text(&f.exepath).or_else(|| text(&f.exe)),
        args: args.clone(),
        command_line,
        user,
        login_user,
        cwd: text(&f.cwd),
        parent: (parent != ParentProcess::default()).then_some(parent),
        ancestors: [&f.aname2, &f.aname3, &f.aname4, &f.aname5]
            .into_iter()
            .map_while(text)
            .collect(),
        ..Process::default()
    };
    // A `container` event has no process of its own: Falco fills `proc.cmdline` with
    // `container:<id>` and the user fields with the runtime's.
    if process != Process::default() && action != Action::ContainerStart {
        event.process = Some(process);
    }
    event.network = network(f);
    if action == Action::ProcessStart {
        cli::apply(&mut event, &args);
    }
    event
}

/// The image reference: `container.image` when the rule names it, else repository,
/// tag and digest put together.
fn image<'a>(f: &Fields<'a>) -> Option<Cow<'a, str>> {
    if let Some(image) = text(&f.container_image) {
        return Some(image);
    }
    let repository = text(&f.image_repository)?;
    let tag = text(&f.image_tag);
    let digest = text(&f.image_digest);
    if tag.is_none() && digest.is_none() {
        return Some(repository);
    }
    let mut reference = repository.into_owned();
    if let Some(tag) = tag {
        reference.push(':');
        reference.push_str(&tag);
    }
    if let Some(digest) = digest {
        reference.push('@');
        reference.push_str(&digest);
    }
    Some(Cow::Owned(reference))
}

/// `source:dest:mode:rw:propagation` items, host paths only.
fn mounts<'a>(list: &str) -> Vec<HostMount<'a>> {
    list.split([',', ' '])
        .filter_map(|item| {
            let mut parts = item.split(':');
            let source = parts.next().filter(|s| s.starts_with('/'))?;
            if RUNTIME_PATHS.iter().any(|p| source.starts_with(p)) {
                return None;
            }
            let dest = parts.next().filter(|d| !d.is_empty());
            let _mode = parts.next();
            let read_only = parts.next() == Some("false");
            Some(HostMount {
                host_path: Cow::Owned(source.to_string()),
                container_path: dest.map(|d| Cow::Owned(d.to_string())),
                read_only,
            })
        })
        .collect()
}

/// The connection: the server side is the destination of an outbound connect.
fn network<'a>(f: &Fields<'a>) -> Option<Network<'a>> {
    let network = Network {
        dst_ip: text(&f.sip).or_else(|| text(&f.rip)),
        dst_port: small(&f.sport).or_else(|| small(&f.rport)),
        src_ip: text(&f.cip).or_else(|| text(&f.lip)),
        src_port: small(&f.cport).or_else(|| small(&f.lport)),
        protocol: text(&f.l4proto).map(protocol),
        domain: text(&f.sip_name).map(domain_name),
        ..Network::default()
    };
    (network != Network::default()).then_some(network)
}

fn k8s_audit_alert<'a>(f: &Fields<'a>) -> Event<'a> {
    let verb = text(&f.ka_verb);
    let resource = text(&f.ka_resource);
    let subresource = text(&f.ka_subresource);
    let target = Target::new(resource.as_deref(), None, subresource.as_deref());
    let action = action(verb.as_deref().unwrap_or_default(), &target, false);
    let mut event = Event::new(
        Source::Falco,
        action,
        verb.unwrap_or(Cow::Borrowed("k8s_audit")),
    );
    event.request_id = text(&f.ka_audit_id);
    event.response_code = small(&f.ka_response_code);
    if let Some(name) = text(&f.ka_user) {
        event.principal = Some(Principal {
            name,
            user_agent: text(&f.ka_user_agent),
            ..Principal::default()
        });
    }
    if let Some(resource) = &resource {
        event.workload = Some(Workload {
            kind: typed_kind(resource),
            name: text(&f.ka_name),
            namespace: text(&f.ka_namespace),
            ..Workload::default()
        });
    }
    let images = text(&f.ka_images).map(|l| list(&l)).unwrap_or_default();
    let privileged = text(&f.ka_privileged).map(|l| list(&l)).unwrap_or_default();
    let host_paths = text(&f.ka_host_paths).map(|l| list(&l)).unwrap_or_default();
    let flag = |field: &Option<Scalar<'_>>| field.as_ref().and_then(Scalar::bool);
    let pod_security = SecurityContext {
        host_network: flag(&f.ka_host_network),
        host_pid: flag(&f.ka_host_pid),
        host_ipc: flag(&f.ka_host_ipc),
        host_mounts: host_paths
            .into_iter()
            .map(|p| HostMount {
                host_path: Cow::Owned(p),
                container_path: None,
                read_only: false,
            })
            .collect(),
        ..SecurityContext::default()
    };
    for (i, image) in images.into_iter().enumerate() {
        let privileged = privileged.get(i).and_then(|p| match p.as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        });
        event.containers.push(Container {
            image: Some(ImageRef::lenient(Cow::Owned(image))),
            security: SecurityContext {
                privileged,
                ..pod_security.clone()
            },
            ..Container::default()
        });
    }
    if event.containers.is_empty() && !pod_security.is_unknown() {
        event.containers.push(Container {
            security: pod_security,
            ..Container::default()
        });
    }
    event
}

/// Falco prints a list field as `[a,b]` (or a single value without brackets).
fn list(value: &str) -> Vec<String> {
    let inner = value
        .strip_prefix('[')
        .and_then(|v| v.strip_suffix(']'))
        .unwrap_or(value);
    inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty() && *s != "<NA>")
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_ok(text: &str) -> Event<'_> {
        let decoded = decode(text).unwrap_or_else(|e| panic!("{e}: {text}"));
        assert_eq!(crate::decode::detect(text), Some(Source::Falco));
        decoded.event
    }

    const SHELL: &str = r#"{"hostname":"worker-2","output":"10:00:00.123456789: Notice A shell was spawned in a container with an attached terminal (user=root user_loginuid=-1 k8s.ns=shop k8s.pod=web-1 container=0123456789ab shell=bash parent=runc cmdline=bash -il terminal=34816 container_id=0123456789ab image=registry.example.com/shop/web)","priority":"Notice","rule":"Terminal shell in container","source":"syscall","tags":["container","maturity_stable","mitre_execution","shell","T1059"],"time":"2024-05-01T10:00:00.123456789Z","output_fields":{"container.id":"0123456789ab","container.image.repository":"registry.example.com/shop/web","container.image.tag":"1.4","container.name":"k8s_web_web-1_shop","evt.time":1714557600123456789,"evt.type":"execve","k8s.ns.name":"shop","k8s.pod.name":"web-1","proc.cmdline":"bash -il","proc.exepath":"/bin/bash","proc.name":"bash","proc.pid":4242,"proc.pname":"runc","proc.ppid":4200,"proc.tty":34816,"user.loginuid":-1,"user.name":"root","user.uid":0,"container.privileged":false}}"#;

    #[test]
    fn shell_in_a_container() {
        let event = decode_ok(SHELL);
        assert_eq!(event.source, Source::Falco);
        assert_eq!(event.action, Action::ProcessStart);
        assert_eq!(event.raw_action, "execve");
        assert_eq!(event.reason.as_deref(), Some("Terminal shell in container"));
        assert_eq!(event.host.as_deref(), Some("worker-2"));
        assert_eq!(event.time_ns, Some(1_714_557_600_123_456_789));
        let c = &event.containers[0];
        assert_eq!(c.id.as_deref(), Some("0123456789ab"));
        let image = c.image.as_ref().unwrap();
        assert_eq!(image.registry, "registry.example.com");
        assert_eq!(image.tag.as_deref(), Some("1.4"));
        assert_eq!(c.security.privileged, Some(false));
        let w = event.workload.as_ref().unwrap();
        assert_eq!(
            (w.name.as_deref(), w.namespace.as_deref()),
            (Some("web-1"), Some("shop"))
        );
        let p = event.process.as_ref().unwrap();
        assert_eq!(p.pid, Some(4242));
        assert_eq!(p.args, ["bash", "-il"]);
        assert_eq!(p.executable.as_deref(), Some("/bin/bash"));
        assert_eq!(p.user.as_deref(), Some("root"));
        assert_eq!(p.login_user, None, "loginuid -1 is unset");
        let parent = p.parent.as_ref().unwrap();
        assert_eq!(
            (parent.pid, parent.name.as_deref()),
            (Some(4200), Some("runc"))
        );
        assert_eq!(event.principal.as_ref().unwrap().name, "root");
    }

    #[test]
    fn connect_and_container_start() {
        let connect = r#"{"hostname":"worker-2","priority":"Notice","rule":"Outbound connection to C2","source":"syscall","time":"2024-05-01T10:01:00Z","output_fields":{"evt.type":"connect","fd.sip":"203.0.113.50","fd.sport":4444,"fd.cip":"10.0.1.7","fd.cport":"51234","fd.l4proto":"TCP","fd.sip.name":null,"container.id":"host","container.name":"host","proc.name":"curl"}}"#;
        let event = decode_ok(connect);
        assert_eq!(event.action, Action::NetworkConnect);
        assert!(event.containers.is_empty(), "`host` is no container");
        let n = event.network.as_ref().unwrap();
        assert_eq!(n.dst_ip.as_deref(), Some("203.0.113.50"));
        assert_eq!(n.dst_port, Some(4444));
        assert_eq!(n.src_port, Some(51234), "a number written as a string");
        assert_eq!(n.protocol.as_deref(), Some("tcp"));
        assert_eq!(n.domain, None);

        let start = r#"{"hostname":"worker-2","priority":"Notice","rule":"Launch Privileged Container","source":"syscall","time":"2024-05-01T10:02:00.5Z","output_fields":{"evt.type":"container","container.id":"fedcba987654","container.full_id":"fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210","container.name":"node-agent","container.image.repository":"docker.io/library/alpine","container.image.tag":"<NA>","container.image.digest":"sha256:0d6f0c5e3a7b8c9d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d","container.privileged":true,"container.mounts":"/var/run/docker.sock:/var/run/docker.sock::true:rprivate,/:/host::false:rprivate,/var/lib/docker/containers/fedcba/hosts:/etc/hosts::true:rprivate"}}"#;
        let event = decode_ok(start);
        assert_eq!(event.action, Action::ContainerStart);
        let c = &event.containers[0];
        assert_eq!(c.id.as_deref().map(str::len), Some(64));
        assert_eq!(c.security.privileged, Some(true));
        let image = c.image.as_ref().unwrap();
        assert_eq!(image.tag, None);
        assert!(image.digest.is_some());
        let mounts: Vec<_> = c
            .security
            .host_mounts
            .iter()
            .map(|m| (&*m.host_path, m.read_only))
            .collect();
        assert_eq!(mounts, [("/var/run/docker.sock", false), ("/", true)]);
        assert!(event.process.is_none() && event.principal.is_none());
    }

    #[test]
    fn k8s_audit_alert() {
        let line = r#"{"hostname":"falco-k8saudit","priority":"Warning","rule":"Create Privileged Pod","source":"k8s_audit","time":"2024-05-01T10:03:00.000000000Z","output_fields":{"ka.verb":"create","ka.target.resource":"pods","ka.target.name":"priv","ka.target.namespace":"default","ka.user.name":"alice@example.com","ka.auditid":"a7c1","ka.response.code":201,"ka.req.pod.containers.image":"[busybox,nginx:1.25]","ka.req.pod.containers.privileged":"[true,false]","ka.req.pod.host_network":"true","ka.req.pod.volumes.hostpath":"[/var/run/docker.sock]"}}"#;
        let event = decode_ok(line);
        assert_eq!(event.action, Action::WorkloadCreate);
        assert_eq!(event.raw_action, "create");
        assert_eq!(event.request_id.as_deref(), Some("a7c1"));
        assert_eq!(event.response_code, Some(201));
        assert_eq!(event.principal.as_ref().unwrap().name, "alice@example.com");
        let w = event.workload.as_ref().unwrap();
        assert_eq!((&*w.kind, w.name.as_deref()), ("Pod", Some("priv")));
        assert_eq!(event.containers.len(), 2);
        assert_eq!(event.containers[0].security.privileged, Some(true));
        assert_eq!(event.containers[1].security.privileged, Some(false));
        assert_eq!(event.containers[1].security.host_network, Some(true));
        assert_eq!(
            event.containers[0].security.host_mounts[0].host_path,
            "/var/run/docker.sock"
        );
        let exec = r#"{"rule":"Attach/Exec Pod","source":"k8s_audit","output_fields":{"ka.verb":"get","ka.target.resource":"pods","ka.target.subresource":"exec","ka.target.name":"web-1","ka.user.name":"bob"}}"#;
        assert_eq!(decode_ok(exec).action, Action::ContainerExec);
    }

    #[test]
    fn docker_cli_seen_by_falco() {
        let line = r#"{"rule":"Docker CLI","source":"syscall","time":"2024-05-01T10:04:00Z","output_fields":{"evt.type":"execve","proc.cmdline":"docker run --privileged --net=host alpine","proc.name":"docker","user.loginname":"alice","user.name":"root","container.id":"host"}}"#;
        let event = decode_ok(line);
        assert_eq!(event.action, Action::ContainerRun);
        assert_eq!(event.containers[0].security.privileged, Some(true));
        assert_eq!(event.containers[0].security.host_network, Some(true));
        assert_eq!(event.principal.as_ref().unwrap().name, "alice");
        assert_eq!(
            event.process.as_ref().unwrap().login_user.as_deref(),
            Some("alice")
        );
    }

    #[test]
    fn lenient_values_and_missing_fields() {
        let line = r#"{"rule":"x","output_fields":{"proc.pid":"12","user.uid":0,"evt.type":null,"proc.name":["odd"],"container.privileged":"<NA>","evt.time":1714557600000000000}}"#;
        let event = decode_ok(line);
        assert_eq!(event.action, Action::Other);
        assert_eq!(event.raw_action, "alert");
        assert_eq!(event.time_ns, Some(1_714_557_600_000_000_000));
        let p = event.process.as_ref().unwrap();
        assert_eq!(p.pid, Some(12));
        assert_eq!(p.name, None);
        assert_eq!(p.user.as_deref(), Some("0"));
        let empty = decode_ok(r#"{"output_fields":{}}"#);
        assert_eq!(empty.action, Action::Other);
        assert!(empty.process.is_none() && empty.network.is_none());
    }

    #[test]
    fn not_falco_is_an_error() {
        assert!(matches!(
            decode(r#"{"rule":"x"}"#),
            Err(DecodeError::Shape { column: 1, .. })
        ));
        assert!(matches!(
            decode(r#"{"rule":5,"output_fields":{}}"#),
            Err(DecodeError::Shape { column: 9, .. })
        ));
        assert!(matches!(
            decode(r#"{"output_fields":{"proc.pid":1"#),
            Err(DecodeError::Syntax { .. })
        ));
        assert!(decode(r#"{"Type":"container","Action":"start"}"#).is_err());
    }
}
