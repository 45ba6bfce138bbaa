//! Container command lines (`docker run ...`, `kubectl exec ...`) parsed into the
//! normalized container fields.
//!
//! Host telemetry (auditd, Falco, Tetragon) sees the CLI's argv, not the API request it
//! turns into. Parsing that argv gives the same fields the Docker and Kubernetes
//! decoders fill from the request: `docker run --privileged -v /:/host IMAGE` sets
//! `privileged`, `host_mounts` and the image exactly as `docker inspect` of the
//! resulting container would, so one rule covers both views.
//!
//! What is read:
//!
//! - `docker`, `podman`, `nerdctl` (also behind `sudo`, `doas` and `env`, by absolute
//!   path, with global flags such as `-H tcp://host:2375` before the subcommand, and
//!   through the `container` / `image` management commands): `run` and `create` with
//!   their security flags, the image and the command; `pull`; `exec`; `start`; `ps`,
//!   `images`, `inspect`. Every other subcommand is [`Action::Other`] named by
//!   `raw_action`.
//! - `kubectl` and `oc` (also `k3s kubectl`, `microk8s kubectl`): `run`, `create
//!   deployment|job|cronjob`, `exec`, `attach`, `debug`, `get`, `describe`; `apply` and
//!   every other verb are [`Action::Other`].
//!
//! Flags are told apart from the image by tables. The Docker-family CLIs are strict
//! (`pflag` with interspersed arguments off): every flag takes a value except the
//! booleans listed here, and the first argument that is not a flag is the image. kubectl
//! intersperses flags and arguments, so there the table lists the flags that take a
//! value and every other flag is a boolean.
//!
//! Choices where the CLI and the model differ:
//!
//! - An exec (`docker exec`, `kubectl exec`, `kubectl debug` with a command) is described
//!   by the command run in the container: `process` is that command (its `user` the
//!   `-u` flag) and `process.parent` is the CLI process, whose own parent moves to
//!   `process.ancestors`. The human behind it stays in `principal` and
//!   `process.login_user`.
//! - `docker exec --privileged` sets `privileged` on the exec's container entry: the
//!   exec'd process has every capability, which is what a privileged-container rule is
//!   about.
//! - `kubectl debug POD` is a [`Action::ContainerExec`] into an ephemeral container
//!   (`role: ephemeral`, its image from `--image`); `kubectl debug node/NAME` is a
//!   [`Action::WorkloadCreate`] of a pod with the host's PID, network and IPC namespaces
//!   and `/` mounted at `/host`, which is what kubectl creates.
//! - `--userns=host`, `--uts=host` and `--cgroupns=host` have no field of their own and
//!   are kept in `security_opt` as `userns=host`, ... .
//! - The daemon or API server named on the command line (`-H`, `--host`, `--url`,
//!   `--address`, `kubectl --server`) is the event's `network` destination.

use std::borrow::Cow;
use std::net::IpAddr;

use crate::image_ref::ImageRef;
use crate::model::{
    Action, Container, ContainerRole, Event, HostMount, Network, ParentProcess, Process,
    RestartPolicy, SecurityContext, Workload,
};

/// How many wrappers (`sudo env docker ...`) are looked through.
const MAX_WRAPPERS: usize = 4;

/// What a container command line asks for.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Invocation<'a> {
    pub(super) action: Action,
    /// The tool and its subcommand as typed: `docker run`, `docker container run`,
    /// `kubectl exec`.
    pub(super) raw_action: String,
    pub(super) containers: Vec<Container<'a>>,
    pub(super) workload: Option<Workload<'a>>,
    /// The command an exec runs in the container.
    pub(super) exec: Option<Exec<'a>>,
    /// The daemon or API server named on the command line.
    pub(super) endpoint: Option<Network<'a>>,
}

/// A command run inside a container.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Exec<'a> {
    pub(super) args: Vec<Cow<'a, str>>,
    pub(super) user: Option<Cow<'a, str>>,
}

impl<'a> Invocation<'a> {
    fn new(action: Action, raw_action: String) -> Self {
        Invocation {
            action,
            raw_action,
            containers: Vec::new(),
            workload: None,
            exec: None,
            endpoint: None,
        }
    }
}

/// Normalize `event` (a process start whose argv is `args`) as the container operation
/// the argv asks for, when it is one. Returns whether it was.
pub(super) fn apply<'a>(event: &mut Event<'a>, args: &[Cow<'a, str>]) -> bool {
    let Some(invocation) = parse(args) else {
        return false;
    };
    event.action = invocation.action;
    event.raw_action = Cow::Owned(invocation.raw_action);
    event.containers = invocation.containers;
    if invocation.workload.is_some() {
        event.workload = invocation.workload;
    }
    if event.network.is_none() {
        event.network = invocation.endpoint;
    }
    if let Some(exec) = invocation.exec.filter(|e| !e.args.is_empty()) {
        let cli = event.process.take().unwrap_or_default();
        let mut ancestors = Vec::new();
        if let Some(parent) = &cli.parent
            && let Some(name) = parent.executable.clone().or_else(|| parent.name.clone())
        {
            ancestors.push(name);
        }
        ancestors.extend(cli.ancestors);
        event.process = Some(Process {
            name: exec.args.first().map(|a| basename_cow(a)),
            executable: exec.args.first().cloned(),
            command_line: Some(Cow::Owned(join(&exec.args))),
            args: exec.args,
            user: exec.user,
            login_user: cli.login_user,
            parent: Some(ParentProcess {
                pid: cli.pid,
                name: cli.name,
                executable: cli.executable,
                command_line: cli.command_line,
            }),
            ancestors,
            ..Process::default()
        });
    }
    true
}

/// Parse an argv as a container CLI invocation; `None` when it is not one.
pub(super) fn parse<'a>(args: &[Cow<'a, str>]) -> Option<Invocation<'a>> {
    let args = unwrap(args)?;
    let (tool, rest) = args.split_first()?;
    let name = basename(tool);
    match name {
        "docker" | "podman" | "nerdctl" => docker(name, rest),
        "kubectl" | "oc" | "microk8s.kubectl" => kubectl(rest),
        "k3s" | "microk8s" | "minikube" => match rest.split_first() {
            Some((sub, rest)) if sub == "kubectl" => kubectl(
                rest.strip_prefix(&[Cow::Borrowed("--")][..])
                    .unwrap_or(rest),
            ),
            _ => None,
        },
        _ => None,
    }
}

/// Look through `sudo`, `doas` and `env` to the command they run.
fn unwrap<'b, 'a>(mut args: &'b [Cow<'a, str>]) -> Option<&'b [Cow<'a, str>]> {
    for _ in 0..MAX_WRAPPERS {
        let first = args.first()?;
        match basename(first) {
            "sudo" => args = after_options(args, SUDO_VALUE_FLAGS),
            "doas" => args = after_options(args, DOAS_VALUE_FLAGS),
            "env" => {
                let rest = after_options(args, ENV_VALUE_FLAGS);
                let skip = rest.iter().take_while(|a| a.contains('=')).count();
                args = rest.get(skip..)?;
            }
            _ => return Some(args),
        }
    }
    Some(args)
}

const SUDO_VALUE_FLAGS: &[&str] = &[
    "u",
    "user",
    "g",
    "group",
    "C",
    "close-from",
    "D",
    "chdir",
    "p",
    "prompt",
    "r",
    "role",
    "t",
    "type",
    "T",
    "command-timeout",
    "U",
    "other-user",
    "R",
    "chroot",
    "host",
];
const DOAS_VALUE_FLAGS: &[&str] = &["u", "C"];
const ENV_VALUE_FLAGS: &[&str] = &["u", "unset", "C", "chdir", "S", "split-string"];

/// The wrapper's arguments after its own options (the wrapper itself skipped).
fn after_options<'b, 'a>(args: &'b [Cow<'a, str>], value_flags: &[&str]) -> &'b [Cow<'a, str>] {
    let mut i = 1;
    while let Some(arg) = args.get(i) {
        if arg == "--" {
            i += 1;
            break;
        }
        let Some(flag) = arg.strip_prefix('-').filter(|f| !f.is_empty()) else {
            break;
        };
        i += 1;
        let takes_value = match flag.strip_prefix('-') {
            Some(long) => !long.contains('=') && value_flags.contains(&long),
            // A cluster (`-Eu`) takes a value when its last letter does and nothing follows.
            None => flag
                .char_indices()
                .last()
                .is_some_and(|(at, _)| flag.get(at..).is_some_and(|l| value_flags.contains(&l))),
        };
        if takes_value {
            i += 1;
        }
    }
    args.get(i..).unwrap_or_default()
}

// ---- flag scanning ----

/// Which flags take a value.
struct FlagSpec {
    /// Flag names without dashes.
    names: &'static [&'static str],
    /// True: `names` are the booleans and every other flag takes a value (Docker). False:
    /// `names` take values and every other flag is a boolean (kubectl).
    names_are_booleans: bool,
    /// Flags and arguments mix (kubectl); else the first argument ends the flags.
    interspersed: bool,
}

impl FlagSpec {
    fn takes_value(&self, name: &str) -> bool {
        self.names.contains(&name) != self.names_are_booleans
    }
}

/// An argv split into flags and arguments.
#[derive(Default)]
struct Scanned<'b, 'a> {
    /// `(name, value)`; the name without dashes, the value when the flag took one.
    flags: Vec<(&'b str, Option<Cow<'a, str>>)>,
    /// Arguments that are not flags, up to the first one when not interspersed.
    positional: Vec<Cow<'a, str>>,
    /// Not interspersed: what follows the first argument, verbatim. Interspersed: what
    /// follows `--`.
    rest: Vec<Cow<'a, str>>,
    /// Whether a `--` was seen.
    dash: bool,
}

impl<'a> Scanned<'_, 'a> {
    fn has(&self, names: &[&str]) -> bool {
        self.flags.iter().any(|(n, _)| names.contains(n))
    }

    /// The last value given to any of `names` (`--flag=value` or `--flag value`).
    fn value(&self, names: &[&str]) -> Option<Cow<'a, str>> {
        self.flags
            .iter()
            .rev()
            .find(|(n, _)| names.contains(n))
            .and_then(|(_, v)| v.clone())
    }

    fn values<'s>(&'s self, names: &'s [&str]) -> impl Iterator<Item = &'s Cow<'a, str>> + 's {
        self.flags
            .iter()
            .filter(move |(n, _)| names.contains(n))
            .filter_map(|(_, v)| v.as_ref())
    }

    /// A boolean flag: `Some(true)` when given bare or `=true`, `Some(false)` for
    /// `=false`, `None` when absent.
    fn bool(&self, names: &[&str]) -> Option<bool> {
        let (_, value) = self.flags.iter().rev().find(|(n, _)| names.contains(n))?;
        Some(match value.as_deref() {
            None => true,
            Some(v) => !matches!(v, "false" | "0" | "False" | "FALSE"),
        })
    }
}

fn scan<'b, 'a>(args: &'b [Cow<'a, str>], spec: &FlagSpec) -> Scanned<'b, 'a> {
    let mut out = Scanned::default();
    let mut i = 0;
    while let Some(arg) = args.get(i) {
        i += 1;
        if arg == "--" {
            out.dash = true;
            let remaining = args.get(i..).unwrap_or_default();
            if spec.interspersed {
                out.rest.extend(remaining.iter().cloned());
            } else if let Some((first, rest)) = remaining.split_first() {
                out.positional.push(first.clone());
                out.rest.extend(rest.iter().cloned());
            }
            break;
        }
        let text: &'b str = arg;
        if let Some(long) = text.strip_prefix("--") {
            match long.split_once('=') {
                Some((name, _)) => {
                    let value = sub(arg, text.len() - long.len() + name.len() + 1, text.len());
                    out.flags.push((name, Some(value)));
                }
                None => {
                    let value = if spec.takes_value(long) {
                        let v = args.get(i).cloned();
                        i += 1;
                        v
                    } else {
                        None
                    };
                    out.flags.push((long, value));
                }
            }
        } else if let Some(cluster) = text.strip_prefix('-').filter(|c| !c.is_empty()) {
            for (at, c) in cluster.char_indices() {
                let end = at + c.len_utf8();
                let Some(name) = cluster.get(at..end) else {
                    break;
                };
                if spec.takes_value(name) {
                    let tail = cluster.get(end..).unwrap_or_default();
                    let value = if tail.is_empty() {
                        let v = args.get(i).cloned();
                        i += 1;
                        v
                    } else {
                        let skip = usize::from(tail.starts_with('='));
                        Some(sub(arg, 1 + end + skip, text.len()))
                    };
                    out.flags.push((name, value));
                    break;
                }
                out.flags.push((name, None));
            }
        } else {
            out.positional.push(arg.clone());
            if !spec.interspersed {
                out.rest
                    .extend(args.get(i..).unwrap_or_default().iter().cloned());
                break;
            }
        }
    }
    out
}

// ---- docker, podman, nerdctl ----

/// Global flags that take no value, for the three CLIs together; the others take one.
const GLOBAL_BOOLEANS: &[&str] = &[
    "D",
    "debug",
    "debug-full",
    "tls",
    "tlsverify",
    "v",
    "version",
    "h",
    "help",
    "remote",
    "r",
    "syslog",
    "noout",
    "insecure-registry",
    "experimental",
    "transient-store",
];

/// `docker run` / `create` flags that take no value (`docker run --help`, with podman's
/// and nerdctl's extras); every other flag takes one.
const RUN_BOOLEANS: &[&str] = &[
    "d",
    "detach",
    "i",
    "interactive",
    "t",
    "tty",
    "P",
    "publish-all",
    "q",
    "quiet",
    "help",
    "init",
    "no-healthcheck",
    "oom-kill-disable",
    "privileged",
    "read-only",
    "rm",
    "sig-proxy",
    "disable-content-trust",
    "use-api-socket",
    "replace",
    "rmi",
    "read-only-tmpfs",
    "no-hosts",
    "no-hostname",
    "env-host",
    "http-proxy",
    "tls-verify",
    "passwd",
    "unsetenv-all",
    "insecure-registry",
];

const EXEC_BOOLEANS: &[&str] = &[
    "d",
    "detach",
    "i",
    "interactive",
    "t",
    "tty",
    "privileged",
    "help",
    "l",
    "latest",
];

const PULL_BOOLEANS: &[&str] = &[
    "a",
    "all-tags",
    "q",
    "quiet",
    "disable-content-trust",
    "help",
    "tls-verify",
    "insecure-registry",
];

const START_BOOLEANS: &[&str] = &["a", "attach", "i", "interactive", "help", "l", "latest"];

fn booleans(names: &'static [&'static str]) -> FlagSpec {
    FlagSpec {
        names,
        names_are_booleans: true,
        interspersed: false,
    }
}

fn docker<'a>(tool: &str, args: &[Cow<'a, str>]) -> Option<Invocation<'a>> {
    let global = scan(args, &booleans(GLOBAL_BOOLEANS));
    let endpoint = global
        .value(&["H", "host", "url", "address", "a"])
        .and_then(|h| endpoint(&h));
    let first = global.positional.first()?;
    let mut words = vec![first.clone()];
    let mut rest = global.rest.as_slice();
    // `docker container run`, `docker image pull`: the verb is the next word.
    let verb: &str = match &**first {
        "container" | "image" => {
            let (second, tail) = rest.split_first()?;
            words.push(second.clone());
            rest = tail;
            match (&**first, &**second) {
                ("container", "ls" | "list" | "ps") => "ps",
                ("image", "ls" | "list") => "images",
                (_, verb) => verb,
            }
        }
        verb => verb,
    };
    let mut raw_action = String::from(tool);
    for w in &words {
        raw_action.push(' ');
        raw_action.push_str(w);
    }
    let mut invocation = match verb {
        "run" | "create" => {
            let action = if verb == "run" {
                Action::ContainerRun
            } else {
                Action::ContainerCreate
            };
            let mut invocation = Invocation::new(action, raw_action);
            invocation.containers.push(run_container(rest));
            invocation
        }
        "pull" => {
            let flags = scan(rest, &booleans(PULL_BOOLEANS));
            let mut invocation = Invocation::new(Action::ImagePull, raw_action);
            if let Some(image) = flags.positional.into_iter().next() {
                invocation.containers.push(Container {
                    image: Some(ImageRef::lenient(image)),
                    ..Container::default()
                });
            }
            invocation
        }
        "exec" => {
            let flags = scan(rest, &booleans(EXEC_BOOLEANS));
            let mut invocation = Invocation::new(Action::ContainerExec, raw_action);
            let privileged = flags.bool(&["privileged"]).filter(|p| *p);
            if let Some(name) = flags.positional.first() {
                invocation.containers.push(Container {
                    name: Some(name.clone()),
                    security: SecurityContext {
                        privileged,
                        ..SecurityContext::default()
                    },
                    ..Container::default()
                });
            }
            invocation.exec = Some(Exec {
                user: flags.value(&["u", "user"]),
                args: flags.rest,
            });
            invocation
        }
        "start" => {
            let flags = scan(rest, &booleans(START_BOOLEANS));
            let mut invocation = Invocation::new(Action::ContainerStart, raw_action);
            let names = flags.positional.into_iter().chain(flags.rest);
            for name in names.filter(|n| !n.starts_with('-')) {
                invocation.containers.push(Container {
                    name: Some(name),
                    ..Container::default()
                });
            }
            invocation
        }
        "ps" | "images" | "inspect" => Invocation::new(Action::ResourceList, raw_action),
        _ => Invocation::new(Action::Other, raw_action),
    };
    invocation.endpoint = endpoint;
    Some(invocation)
}

/// The container `docker run` / `create` asks for: flags, then the image, then the
/// command.
fn run_container<'a>(args: &[Cow<'a, str>]) -> Container<'a> {
    let flags = scan(args, &booleans(RUN_BOOLEANS));
    let mut security = SecurityContext {
        privileged: flags.bool(&["privileged"]),
        host_pid: flags.value(&["pid"]).map(|v| v == "host"),
        host_network: flags.value(&["net", "network"]).map(|v| v == "host"),
        host_ipc: flags.value(&["ipc"]).map(|v| v == "host"),
        user: flags.value(&["u", "user"]),
        restart_policy: flags.value(&["restart"]).and_then(|r| restart_policy(&r)),
        entrypoint: flags
            .value(&["entrypoint"])
            .map(|e| if e.is_empty() { Vec::new() } else { vec![e] }),
        command: (!flags.rest.is_empty()).then(|| flags.rest.clone()),
        ..SecurityContext::default()
    };
    for cap in flags.values(&["cap-add"]) {
        for one in cap.split(',').filter(|c| !c.is_empty()) {
            security.cap_add.push(Cow::Owned(capability(one)));
        }
    }
    for opt in flags.values(&["security-opt"]) {
        security.security_opt.push(security_opt(opt));
    }
    for (flag, word) in [
        ("userns", "userns"),
        ("uts", "uts"),
        ("cgroupns", "cgroupns"),
    ] {
        if flags.value(&[flag]).is_some_and(|v| v == "host") {
            security
                .security_opt
                .push(Cow::Owned(format!("{word}=host")));
        }
    }
    for device in flags.values(&["device"]) {
        let host = device.split(':').next().unwrap_or_default();
        if !host.is_empty() {
            security.devices.push(sub(device, 0, host.len()));
        }
    }
    for volume in flags.values(&["v", "volume"]) {
        if let Some(mount) = volume_mount(volume) {
            security.host_mounts.push(mount);
        }
    }
    for spec in flags.values(&["mount"]) {
        if let Some(mount) = mount_flag(spec) {
            security.host_mounts.push(mount);
        }
    }
    Container {
        name: flags.value(&["name"]),
        image: flags.positional.into_iter().next().map(ImageRef::lenient),
        security,
        ..Container::default()
    }
}

/// `always`, `unless-stopped`, `on-failure[:N]`; `no` is no policy.
fn restart_policy<'a>(value: &Cow<'a, str>) -> Option<RestartPolicy<'a>> {
    let (name, retries) = match value.split_once(':') {
        Some((name, n)) => (name, n.trim().parse::<u32>().ok().filter(|n| *n > 0)),
        None => (&**value, None),
    };
    if name.is_empty() || name == "no" {
        return None;
    }
    Some(RestartPolicy {
        name: sub(value, 0, name.len()),
        max_retries: retries,
    })
}

/// A capability as Docker and Kubernetes write it: upper case, no `CAP_` prefix.
fn capability(cap: &str) -> String {
    let upper = cap.trim().to_ascii_uppercase();
    match upper.strip_prefix("CAP_") {
        Some(rest) => rest.to_string(),
        None => upper,
    }
}

/// A security option in Docker's current spelling: the legacy `label:disable` and
/// `apparmor:unconfined` become `label=disable`, `apparmor=unconfined`;
/// `no-new-privileges:true` and `=true` become `no-new-privileges`.
fn security_opt<'a>(opt: &Cow<'a, str>) -> Cow<'a, str> {
    if let Some(value) = opt
        .strip_prefix("no-new-privileges")
        .and_then(|v| v.strip_prefix([':', '=']))
    {
        return if value == "true" {
            Cow::Borrowed("no-new-privileges")
        } else {
            opt.clone()
        };
    }
    for key in [
        "label",
        "apparmor",
        "seccomp",
        "systempaths",
        "mask",
        "unmask",
    ] {
        if let Some(value) = opt.strip_prefix(key).and_then(|v| v.strip_prefix(':')) {
            return Cow::Owned(format!("{key}={value}"));
        }
    }
    opt.clone()
}

/// `-v SRC:DST[:OPTS]` when SRC is a host path (`/`, `.` or `~`); a bare name is a
/// named volume and a lone path an anonymous one.
fn volume_mount<'a>(value: &Cow<'a, str>) -> Option<HostMount<'a>> {
    let mut parts = value.splitn(3, ':');
    let src = parts.next().filter(|s| s.starts_with(['/', '.', '~']))?;
    let dst = parts.next().filter(|d| !d.is_empty())?;
    let read_only = parts
        .next()
        .is_some_and(|opts| opts.split(',').any(|o| o == "ro" || o == "readonly"));
    let dst_at = src.len() + 1;
    Some(HostMount {
        host_path: sub(value, 0, src.len()),
        container_path: Some(sub(value, dst_at, dst_at + dst.len())),
        read_only,
    })
}

/// `--mount type=bind,source=SRC,target=DST[,readonly]` (`src`, `dst`, `destination`
/// and `ro` too). Other types are not host paths.
fn mount_flag<'a>(value: &Cow<'a, str>) -> Option<HostMount<'a>> {
    let mut bind = false;
    let mut source = None;
    let mut target = None;
    let mut read_only = false;
    let mut at = 0;
    for field in value.split(',') {
        let start = at;
        at += field.len() + 1;
        let (key, val) = field.split_once('=').unwrap_or((field, ""));
        let val_at = start + key.len() + 1;
        match key.trim() {
            "type" => bind = val == "bind",
            "source" | "src" => source = Some(sub(value, val_at, val_at + val.len())),
            "target" | "destination" | "dst" => {
                target = Some(sub(value, val_at, val_at + val.len()));
            }
            "readonly" | "ro" => {
                read_only = val.is_empty() || matches!(val, "true" | "1");
            }
            _ => {}
        }
    }
    if !bind {
        return None;
    }
    Some(HostMount {
        host_path: source.filter(|s| !s.is_empty())?,
        container_path: target.filter(|t| !t.is_empty()),
        read_only,
    })
}

/// `tcp://10.0.0.5:2375`, `ssh://ops@build-1`, `https://k8s.example.com:6443`: the
/// host and port a CLI talks to. Unix sockets and named pipes are local.
fn endpoint<'a>(value: &Cow<'a, str>) -> Option<Network<'a>> {
    let (scheme, rest) = match value.split_once("://") {
        Some((scheme, rest)) => (scheme, rest),
        None => ("tcp", &**value),
    };
    if matches!(scheme, "unix" | "npipe" | "fd") {
        return None;
    }
    let rest = rest.split('/').next().unwrap_or_default();
    let host_port = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    let (host, port) = if let Some(v6) = host_port.strip_prefix('[') {
        let (host, after) = v6.split_once(']')?;
        (host, after.strip_prefix(':'))
    } else {
        match host_port.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => (h, Some(p)),
            _ => (host_port, None),
        }
    };
    if host.is_empty() {
        return None;
    }
    let offset = offset_of(value, host);
    let host_cow = sub(value, offset, offset + host.len());
    let mut network = Network {
        dst_port: port.and_then(|p| p.parse().ok()),
        protocol: Some(Cow::Borrowed("tcp")),
        ..Network::default()
    };
    if host.parse::<IpAddr>().is_ok() {
        network.dst_ip = Some(host_cow);
    } else {
        network.domain = Some(Cow::Owned(host.to_ascii_lowercase()));
    }
    Some(network)
}

// ---- kubectl ----

/// kubectl flags that take a value (global and per verb); every other flag is a
/// boolean. Flags with an optional value (`--dry-run`, `--validate`) only take one
/// after `=` and are booleans here.
const KUBECTL_VALUES: &[&str] = &[
    "n",
    "namespace",
    "c",
    "container",
    "f",
    "filename",
    "o",
    "output",
    "l",
    "selector",
    "L",
    "label-columns",
    "context",
    "kubeconfig",
    "s",
    "server",
    "token",
    "as",
    "as-group",
    "as-uid",
    "cluster",
    "user",
    "username",
    "password",
    "image",
    "env",
    "port",
    "labels",
    "overrides",
    "restart",
    "pod-running-timeout",
    "request-timeout",
    "field-selector",
    "sort-by",
    "template",
    "cache-dir",
    "certificate-authority",
    "client-certificate",
    "client-key",
    "tls-server-name",
    "v",
    "vmodule",
    "log-file",
    "log-dir",
    "target",
    "profile",
    "image-pull-policy",
    "copy-to",
    "set-image",
    "custom",
    "annotations",
    "grace-period",
    "timeout",
    "chunk-size",
    "field-manager",
    "k",
    "kustomize",
    "subresource",
    "hostport",
    "serviceaccount",
    "schedule",
    "replicas",
    "from",
    "from-literal",
    "from-file",
    "from-env-file",
    "type",
    "since",
    "since-time",
    "tail",
    "max-log-requests",
    "address",
    "raw",
    "limits",
    "requests",
    "cascade",
];

fn kubectl<'a>(args: &[Cow<'a, str>]) -> Option<Invocation<'a>> {
    let flags = scan(
        args,
        &FlagSpec {
            names: KUBECTL_VALUES,
            names_are_booleans: false,
            interspersed: true,
        },
    );
    let verb = flags.positional.first()?;
    let namespace = flags.value(&["n", "namespace"]);
    let raw_action = format!("kubectl {verb}");
    let mut invocation = match &**verb {
        "run" => kubectl_run(&flags, namespace, raw_action),
        "create" => kubectl_create(&flags, namespace, raw_action),
        "exec" | "attach" => {
            let action = if verb == "exec" {
                Action::ContainerExec
            } else {
                Action::ContainerAttach
            };
            let mut invocation = Invocation::new(action, raw_action);
            invocation.workload = flags
                .positional
                .get(1)
                .map(|target| target_workload(target, namespace));
            if let Some(name) = flags.value(&["c", "container"]) {
                invocation.containers.push(Container {
                    name: Some(name),
                    ..Container::default()
                });
            }
            if action == Action::ContainerExec {
                // Before `--` was required, the command followed the pod.
                let args = if flags.dash {
                    flags.rest.clone()
                } else {
                    flags.positional.get(2..).unwrap_or_default().to_vec()
                };
                invocation.exec = Some(Exec { args, user: None });
            }
            invocation
        }
        "debug" => kubectl_debug(&flags, namespace, raw_action),
        "get" | "describe" => {
            let watch = verb == "get" && flags.has(&["w", "watch", "watch-only"]);
            let all_namespaces = flags.bool(&["A", "all-namespaces"]) == Some(true);
            let (kind, name) = match flags.positional.get(1) {
                Some(resource) => match resource.split_once('/') {
                    Some((kind, _)) => (
                        resource_kind(kind),
                        Some(sub(resource, kind.len() + 1, resource.len())),
                    ),
                    None => (
                        resource_kind(resource.split(',').next().unwrap_or_default()),
                        flags.positional.get(2).cloned(),
                    ),
                },
                None => (Cow::Borrowed(""), None),
            };
            let action = if watch {
                Action::ResourceWatch
            } else if name.is_some() {
                Action::ResourceGet
            } else {
                Action::ResourceList
            };
            let mut invocation = Invocation::new(action, raw_action);
            invocation.workload = Some(Workload {
                kind,
                name,
                namespace: if all_namespaces { None } else { namespace },
                ..Workload::default()
            });
            invocation
        }
        _ => Invocation::new(Action::Other, raw_action),
    };
    invocation.endpoint = flags.value(&["s", "server"]).and_then(|s| endpoint(&s));
    Some(invocation)
}

/// `kubectl run NAME --image=IMAGE [--privileged] [--command] -- ARGS`: a pod. With
/// `--command` the words after `--` replace the entrypoint, else they are its arguments.
fn kubectl_run<'a>(
    flags: &Scanned<'_, 'a>,
    namespace: Option<Cow<'a, str>>,
    raw_action: String,
) -> Invocation<'a> {
    let name = flags.positional.get(1).cloned();
    let rest = (!flags.rest.is_empty()).then(|| flags.rest.clone());
    let command_flag = flags.bool(&["command"]) == Some(true);
    let mut invocation = Invocation::new(Action::WorkloadCreate, raw_action);
    invocation.workload = Some(Workload {
        kind: Cow::Borrowed("Pod"),
        name: name.clone(),
        namespace,
        ..Workload::default()
    });
    invocation.containers.push(Container {
        name,
        image: flags.value(&["image"]).map(ImageRef::lenient),
        security: SecurityContext {
            privileged: flags.bool(&["privileged"]),
            restart_policy: flags.value(&["restart"]).map(|name| RestartPolicy {
                name,
                max_retries: None,
            }),
            entrypoint: if command_flag { rest.clone() } else { None },
            command: if command_flag { None } else { rest },
            ..SecurityContext::default()
        },
        ..Container::default()
    });
    invocation
}

/// `kubectl create deployment|job|cronjob NAME --image=IMAGE [-- COMMAND]`: a workload
/// whose command replaces the entrypoint. `create -f` and other kinds are `Other`.
fn kubectl_create<'a>(
    flags: &Scanned<'_, 'a>,
    namespace: Option<Cow<'a, str>>,
    raw_action: String,
) -> Invocation<'a> {
    let kind = match flags.positional.get(1).map(|k| &**k) {
        Some("deployment" | "deploy") => "Deployment",
        Some("job") => "Job",
        Some("cronjob" | "cj") => "CronJob",
        _ => return Invocation::new(Action::Other, raw_action),
    };
    let name = flags.positional.get(2).cloned();
    let mut invocation = Invocation::new(Action::WorkloadCreate, raw_action);
    invocation.workload = Some(Workload {
        kind: Cow::Borrowed(kind),
        name: name.clone(),
        namespace,
        ..Workload::default()
    });
    let entrypoint = (!flags.rest.is_empty()).then(|| flags.rest.clone());
    let images: Vec<Cow<'a, str>> = flags.values(&["image"]).cloned().collect();
    if images.is_empty() {
        invocation.containers.push(Container {
            name,
            security: SecurityContext {
                entrypoint: entrypoint.clone(),
                ..SecurityContext::default()
            },
            ..Container::default()
        });
    }
    for image in images {
        invocation.containers.push(Container {
            image: Some(ImageRef::lenient(image)),
            security: SecurityContext {
                entrypoint: entrypoint.clone(),
                ..SecurityContext::default()
            },
            ..Container::default()
        });
    }
    invocation
}

/// `kubectl debug POD --image=IMAGE [-c NAME] [--profile=P] [-- COMMAND]`: an exec into
/// a new ephemeral container. `kubectl debug node/NAME`: a pod on the node with its
/// PID, network and IPC namespaces and `/` at `/host`.
fn kubectl_debug<'a>(
    flags: &Scanned<'_, 'a>,
    namespace: Option<Cow<'a, str>>,
    raw_action: String,
) -> Invocation<'a> {
    let target = flags.positional.get(1);
    let profile = flags.value(&["profile"]);
    let mut security = SecurityContext::default();
    match profile.as_deref() {
        Some("sysadmin") => security.privileged = Some(true),
        Some("netadmin") => {
            security.cap_add = vec![Cow::Borrowed("NET_ADMIN"), Cow::Borrowed("NET_RAW")];
        }
        _ => {}
    }
    let node = target.and_then(|t| {
        t.strip_prefix("node/")
            .or_else(|| t.strip_prefix("nodes/"))
            .map(|n| sub(t, t.len() - n.len(), t.len()))
    });
    let command = (!flags.rest.is_empty()).then(|| flags.rest.clone());
    let image = flags.value(&["image"]).map(ImageRef::lenient);
    let name = flags.value(&["c", "container"]);
    if let Some(node) = node {
        security.host_pid = Some(true);
        security.host_network = Some(true);
        security.host_ipc = Some(true);
        security.host_mounts.push(HostMount {
            host_path: Cow::Borrowed("/"),
            container_path: Some(Cow::Borrowed("/host")),
            read_only: false,
        });
        security.command = command;
        let mut invocation = Invocation::new(Action::WorkloadCreate, raw_action);
        invocation.workload = Some(Workload {
            kind: Cow::Borrowed("Pod"),
            namespace,
            owner: Some(Cow::Owned(format!("Node/{node}"))),
            ..Workload::default()
        });
        invocation.containers.push(Container {
            name,
            image,
            security,
            ..Container::default()
        });
        return invocation;
    }
    if let Some(copy) = flags.value(&["copy-to"]) {
        security.command = command;
        let mut invocation = Invocation::new(Action::WorkloadCreate, raw_action);
        invocation.workload = Some(Workload {
            kind: Cow::Borrowed("Pod"),
            name: Some(copy),
            namespace,
            ..Workload::default()
        });
        invocation.containers.push(Container {
            name,
            image,
            security,
            ..Container::default()
        });
        return invocation;
    }
    let mut invocation = Invocation::new(Action::ContainerExec, raw_action);
    invocation.workload = target.map(|t| target_workload(t, namespace));
    invocation.containers.push(Container {
        name,
        image,
        role: ContainerRole::Ephemeral,
        security,
        ..Container::default()
    });
    invocation.exec = command.map(|args| Exec { args, user: None });
    invocation
}

/// `web-1`, `pod/web-1`, `deploy/web`: the object an exec or debug names.
fn target_workload<'a>(target: &Cow<'a, str>, namespace: Option<Cow<'a, str>>) -> Workload<'a> {
    let (kind, name) = match target.split_once('/') {
        Some((kind, _)) => (
            resource_kind(kind),
            sub(target, kind.len() + 1, target.len()),
        ),
        None => (Cow::Borrowed("Pod"), target.clone()),
    };
    Workload {
        kind,
        name: Some(name),
        namespace,
        ..Workload::default()
    }
}

/// A kubectl resource name or short name as the API kind (`po` and `pods` are `Pod`), so
/// a rule reads the same kind as for an audit event; unknown resources are kept as
/// written, without an API group suffix.
pub(super) fn resource_kind(resource: &str) -> Cow<'static, str> {
    let resource = resource.split('.').next().unwrap_or_default();
    let kind = match resource.to_ascii_lowercase().as_str() {
        "po" | "pod" | "pods" => "Pod",
        "secret" | "secrets" => "Secret",
        "deploy" | "deployment" | "deployments" => "Deployment",
        "ds" | "daemonset" | "daemonsets" => "DaemonSet",
        "sts" | "statefulset" | "statefulsets" => "StatefulSet",
        "rs" | "replicaset" | "replicasets" => "ReplicaSet",
        "job" | "jobs" => "Job",
        "cj" | "cronjob" | "cronjobs" => "CronJob",
        "no" | "node" | "nodes" => "Node",
        "ns" | "namespace" | "namespaces" => "Namespace",
        "svc" | "service" | "services" => "Service",
        "sa" | "serviceaccount" | "serviceaccounts" => "ServiceAccount",
        "cm" | "configmap" | "configmaps" => "ConfigMap",
        "role" | "roles" => "Role",
        "rolebinding" | "rolebindings" => "RoleBinding",
        "clusterrole" | "clusterroles" => "ClusterRole",
        "clusterrolebinding" | "clusterrolebindings" => "ClusterRoleBinding",
        "pv" | "persistentvolume" | "persistentvolumes" => "PersistentVolume",
        "pvc" | "persistentvolumeclaim" | "persistentvolumeclaims" => "PersistentVolumeClaim",
        _ => return Cow::Owned(resource.to_string()),
    };
    Cow::Borrowed(kind)
}

// ---- strings ----

/// The last path component: `/usr/bin/docker` is `docker`.
pub(super) fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

pub(super) fn basename_cow<'a>(path: &Cow<'a, str>) -> Cow<'a, str> {
    let name = basename(path);
    sub(path, path.len() - name.len(), path.len())
}

/// Bytes `start..end` of `whole`, borrowed when `whole` is; empty when out of range.
fn sub<'a>(whole: &Cow<'a, str>, start: usize, end: usize) -> Cow<'a, str> {
    match whole {
        Cow::Borrowed(s) => Cow::Borrowed(s.get(start..end).unwrap_or_default()),
        Cow::Owned(s) => Cow::Owned(s.get(start..end).unwrap_or_default().to_owned()),
    }
}

/// Where `part`, a slice of `whole`, starts in it.
fn offset_of(whole: &str, part: &str) -> usize {
    (part.as_ptr() as usize)
        .checked_sub(whole.as_ptr() as usize)
        .filter(|at| at + part.len() <= whole.len())
        .unwrap_or(0)
}

/// An argv as one line a shell would read back: words with spaces, quotes or other
/// special characters are single-quoted.
pub(super) fn join<S: AsRef<str>>(args: &[S]) -> String {
    let mut line = String::new();
    for (i, arg) in args.iter().enumerate() {
        if i > 0 {
            line.push(' ');
        }
        let arg = arg.as_ref();
        let plain = !arg.is_empty()
            && arg.bytes().all(|b| {
                b.is_ascii_alphanumeric()
                    || matches!(
                        b,
                        b'_' | b'@' | b'%' | b'+' | b'=' | b':' | b',' | b'.' | b'/' | b'-'
                    )
            });
        if plain {
            line.push_str(arg);
        } else {
            line.push('\'');
            line.push_str(&arg.replace('\'', r"'\''"));
            line.push('\'');
        }
    }
    line
}

/// Split a command line into words: whitespace separates, double and single quotes
/// group, a backslash escapes the next character outside single quotes. Words without
/// quotes or escapes are borrowed.
pub(super) fn split_words<'a>(line: &Cow<'a, str>) -> Vec<Cow<'a, str>> {
    let mut words = Vec::new();
    let text: &str = line;
    let mut chars = text.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut owned: Option<String> = None;
        let mut end = start;
        let mut quote: Option<char> = None;
        while let Some(&(at, c)) = chars.peek() {
            match (quote, c) {
                (None, c) if c.is_whitespace() => break,
                (None, '"' | '\'') => {
                    owned.get_or_insert_with(|| text.get(start..at).unwrap_or_default().into());
                    quote = Some(c);
                }
                (Some(q), c) if c == q => quote = None,
                (q, '\\') if q != Some('\'') => {
                    let buf =
                        owned.get_or_insert_with(|| text.get(start..at).unwrap_or_default().into());
                    chars.next();
                    if let Some(&(_, escaped)) = chars.peek() {
                        buf.push(escaped);
                    }
                }
                (_, c) => {
                    if let Some(buf) = owned.as_mut() {
                        buf.push(c);
                    }
                }
            }
            if chars.next().is_some() {
                end = at + c.len_utf8();
            }
        }
        words.push(match owned {
            Some(buf) => Cow::Owned(buf),
            None => sub(line, start, end),
        });
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(line: &str) -> Vec<Cow<'_, str>> {
        line.split_whitespace().map(Cow::Borrowed).collect()
    }

    fn parse_line(line: &str) -> Invocation<'_> {
        parse(&argv(line)).unwrap_or_else(|| panic!("not a container command: {line}"))
    }

    fn only(invocation: &Invocation<'_>) -> Container<'static> {
        assert_eq!(invocation.containers.len(), 1, "{invocation:?}");
        invocation.containers[0].clone().into_owned()
    }

    #[test]
    fn the_risky_docker_run() {
        let line = "docker run --privileged --pid=host -v /:/host --cap-add SYS_ADMIN \
                    --security-opt apparmor=unconfined --restart always --entrypoint /bin/sh \
                    registry.example.com:5000/x:1 -c id";
        let inv = parse_line(line);
        assert_eq!(inv.action, Action::ContainerRun);
        assert_eq!(inv.raw_action, "docker run");
        let c = only(&inv);
        let image = c.image.as_ref().unwrap();
        assert_eq!(image.registry, "registry.example.com:5000");
        assert_eq!(image.repository, "x");
        assert_eq!(image.tag.as_deref(), Some("1"));
        let s = &c.security;
        assert_eq!(s.privileged, Some(true));
        assert_eq!(s.host_pid, Some(true));
        assert_eq!(s.host_network, None, "not said");
        assert_eq!(s.host_ipc, None);
        assert_eq!(s.cap_add, ["SYS_ADMIN"]);
        assert_eq!(s.security_opt, ["apparmor=unconfined"]);
        assert_eq!(
            s.host_mounts,
            [HostMount {
                host_path: "/".into(),
                container_path: Some("/host".into()),
                read_only: false
            }]
        );
        assert_eq!(s.restart_policy.as_ref().unwrap().name, "always");
        assert_eq!(s.entrypoint.as_deref(), Some(&["/bin/sh".into()][..]));
        assert_eq!(s.command.as_deref(), Some(&["-c".into(), "id".into()][..]));
    }

    #[test]
    fn equals_and_space_forms_are_the_same() {
        let a = only(&parse_line(
            "docker run --network=host --ipc=host --user=0 --name=x --restart=on-failure:3 alpine",
        ));
        let b = only(&parse_line(
            "docker run --network host --ipc host --user 0 --name x --restart on-failure:3 alpine",
        ));
        assert_eq!(a, b);
        assert_eq!(a.security.host_network, Some(true));
        assert_eq!(a.security.host_ipc, Some(true));
        assert_eq!(a.security.user.as_deref(), Some("0"));
        assert_eq!(a.name.as_deref(), Some("x"));
        let policy = a.security.restart_policy.unwrap();
        assert_eq!((&*policy.name, policy.max_retries), ("on-failure", Some(3)));
        let net = only(&parse_line("docker run --net=bridge alpine"));
        assert_eq!(net.security.host_network, Some(false));
    }

    #[test]
    fn value_flags_do_not_become_the_image() {
        let c = only(&parse_line(
            "docker run -d -it --rm -e FOO=bar -p 8080:80 -w /srv --label a=b --log-opt max-size=1m \
             --memory 512m --gpus all --ulimit nofile=1024 --add-host h:1.2.3.4 nginx:1.25 nginx -g daemon",
        ));
        assert_eq!(c.image.as_ref().unwrap().reference, "nginx:1.25");
        assert_eq!(
            c.security.command.unwrap(),
            ["nginx", "-g", "daemon"].map(Cow::Borrowed)
        );
        // An unknown flag takes a value, as every non-boolean `docker run` flag does.
        let c = only(&parse_line("docker run --some-new-flag value alpine"));
        assert_eq!(c.image.as_ref().unwrap().reference, "alpine");
    }

    #[test]
    fn combined_short_flags() {
        let c = only(&parse_line(
            "docker run -itd -v/etc:/host/etc:ro -uroot alpine sh",
        ));
        assert_eq!(c.image.as_ref().unwrap().reference, "alpine");
        assert_eq!(c.security.user.as_deref(), Some("root"));
        assert_eq!(c.security.host_mounts[0].host_path, "/etc");
        assert!(c.security.host_mounts[0].read_only);
        // The command's own flags belong to the command.
        let c = only(&parse_line("docker run alpine ls -la --privileged"));
        assert_eq!(c.security.privileged, None);
        assert_eq!(c.security.command.unwrap().len(), 3);
    }

    #[test]
    fn volumes_and_mounts() {
        let c = only(&parse_line(
            "podman run -v data:/data -v /anon -v ./src:/src:z -v ~/.ssh:/root/.ssh:ro,Z \
             --mount type=bind,src=/var/run/docker.sock,dst=/var/run/docker.sock \
             --mount type=volume,source=cache,target=/cache \
             --mount type=bind,source=/etc,target=/host/etc,readonly alpine",
        ));
        let mounts: Vec<(&str, Option<&str>, bool)> = c
            .security
            .host_mounts
            .iter()
            .map(|m| (&*m.host_path, m.container_path.as_deref(), m.read_only))
            .collect();
        assert_eq!(
            mounts,
            [
                ("./src", Some("/src"), false),
                ("~/.ssh", Some("/root/.ssh"), true),
                ("/var/run/docker.sock", Some("/var/run/docker.sock"), false),
                ("/etc", Some("/host/etc"), true),
            ]
        );
    }

    #[test]
    fn capabilities_security_options_devices() {
        let c = only(&parse_line(
            "docker run --cap-add=cap_sys_ptrace --cap-add NET_ADMIN,ALL --security-opt label:disable \
             --security-opt seccomp=unconfined --security-opt no-new-privileges:true \
             --userns=host --device /dev/sda:/dev/xvda:rwm --device=/dev/kmsg alpine",
        ));
        let s = c.security;
        assert_eq!(s.cap_add, ["SYS_PTRACE", "NET_ADMIN", "ALL"]);
        assert_eq!(
            s.security_opt,
            [
                "label=disable",
                "seccomp=unconfined",
                "no-new-privileges",
                "userns=host"
            ]
        );
        assert_eq!(s.devices, ["/dev/sda", "/dev/kmsg"]);
    }

    #[test]
    fn wrappers_paths_globals_and_management_commands() {
        let inv = parse_line(
            "sudo -u root -E /usr/local/bin/docker -H tcp://10.0.0.5:2375 --tls container run --privileged alpine",
        );
        assert_eq!(inv.action, Action::ContainerRun);
        assert_eq!(inv.raw_action, "docker container run");
        assert_eq!(only(&inv).security.privileged, Some(true));
        let net = inv.endpoint.unwrap();
        assert_eq!(net.dst_ip.as_deref(), Some("10.0.0.5"));
        assert_eq!(net.dst_port, Some(2375));

        let inv = parse_line(
            "env DOCKER_BUILDKIT=1 nerdctl --namespace k8s.io create --net=host busybox",
        );
        assert_eq!(inv.action, Action::ContainerCreate);
        assert_eq!(only(&inv).security.host_network, Some(true));

        let inv = parse_line("docker --host=ssh://ops@Build-1.example.com ps -a");
        assert_eq!(inv.action, Action::ResourceList);
        assert_eq!(
            inv.endpoint.unwrap().domain.as_deref(),
            Some("build-1.example.com")
        );
        assert_eq!(
            parse_line("docker -H unix:///run/docker.sock ps").endpoint,
            None
        );
        assert_eq!(
            parse_line("docker container ls").action,
            Action::ResourceList
        );
        assert_eq!(parse_line("docker image ls").raw_action, "docker image ls");
        assert_eq!(parse_line("podman images").action, Action::ResourceList);
        assert_eq!(parse_line("docker version").action, Action::Other);
        assert!(parse(&argv("docker")).is_none());
        assert!(parse(&argv("sudo ls /root")).is_none());
        assert!(parse(&argv("dockerd --debug")).is_none());
        assert!(parse(&[]).is_none());
    }

    #[test]
    fn pull_start_exec() {
        let inv =
            parse_line("docker pull --platform linux/amd64 203.0.113.9:5000/tools/miner:latest");
        assert_eq!(inv.action, Action::ImagePull);
        let image = only(&inv).image.unwrap();
        assert_eq!(image.registry, "203.0.113.9:5000");

        let inv = parse_line("docker start -a web db");
        assert_eq!(inv.action, Action::ContainerStart);
        let names: Vec<_> = inv.containers.iter().map(|c| c.name.as_deref()).collect();
        assert_eq!(names, [Some("web"), Some("db")]);

        let inv = parse_line("docker exec -it -u 0 --privileged web sh -c id");
        assert_eq!(inv.action, Action::ContainerExec);
        let c = only(&inv);
        assert_eq!(c.name.as_deref(), Some("web"));
        assert_eq!(c.security.privileged, Some(true));
        let exec = inv.exec.unwrap();
        assert_eq!(exec.args, ["sh", "-c", "id"].map(Cow::Borrowed));
        assert_eq!(exec.user.as_deref(), Some("0"));
    }

    #[test]
    fn kubectl_exec_and_attach() {
        let inv = parse_line("kubectl exec -it web-1 -c init-setup -n shop -- sh -c id");
        assert_eq!(inv.action, Action::ContainerExec);
        let w = inv.workload.as_ref().unwrap();
        assert_eq!(
            (&*w.kind, w.name.as_deref(), w.namespace.as_deref()),
            ("Pod", Some("web-1"), Some("shop"))
        );
        assert_eq!(only(&inv).name.as_deref(), Some("init-setup"));
        assert_eq!(
            inv.exec.unwrap().args,
            ["sh", "-c", "id"].map(Cow::Borrowed)
        );

        // Flags after `--` are the command's; the legacy form without `--`.
        let inv = parse_line("kubectl --namespace=shop exec deploy/web -- ls -la");
        assert_eq!(inv.workload.as_ref().unwrap().kind, "Deployment");
        assert_eq!(inv.exec.unwrap().args, ["ls", "-la"].map(Cow::Borrowed));
        let inv = parse_line("kubectl exec web-1 ls");
        assert_eq!(inv.exec.unwrap().args, ["ls"].map(Cow::Borrowed));
        assert!(inv.containers.is_empty());

        let inv = parse_line("kubectl attach web-1 -c app -i");
        assert_eq!(inv.action, Action::ContainerAttach);
        assert!(inv.exec.is_none());
    }

    #[test]
    fn kubectl_get_list_watch() {
        let inv = parse_line("kubectl get secrets -A");
        assert_eq!(inv.action, Action::ResourceList);
        let w = inv.workload.unwrap();
        assert_eq!((&*w.kind, w.namespace.as_deref()), ("Secret", None));

        let inv = parse_line("kubectl -n kube-system get po");
        let w = inv.workload.unwrap();
        assert_eq!(
            (&*w.kind, w.namespace.as_deref()),
            ("Pod", Some("kube-system"))
        );

        let inv = parse_line("kubectl get secret/db-creds -o yaml");
        assert_eq!(inv.action, Action::ResourceGet);
        assert_eq!(inv.workload.unwrap().name.as_deref(), Some("db-creds"));
        let inv = parse_line("kubectl get deployments.apps web");
        assert_eq!(inv.action, Action::ResourceGet);
        assert_eq!(inv.workload.unwrap().kind, "Deployment");
        assert_eq!(
            parse_line("kubectl get pods --watch").action,
            Action::ResourceWatch
        );
        let inv = parse_line("kubectl get nodes,pods");
        assert_eq!(inv.workload.unwrap().kind, "Node");
        let inv = parse_line("kubectl get widgets.example.com");
        assert_eq!(inv.workload.unwrap().kind, "widgets");
    }

    #[test]
    fn kubectl_run_create_apply() {
        let inv = parse_line(
            "kubectl run pwn --image=alpine --privileged --restart=Never -n default --command -- sleep infinity",
        );
        assert_eq!(inv.action, Action::WorkloadCreate);
        let w = inv.workload.as_ref().unwrap();
        assert_eq!((&*w.kind, w.name.as_deref()), ("Pod", Some("pwn")));
        let c = only(&inv);
        assert_eq!(c.security.privileged, Some(true));
        assert_eq!(c.security.restart_policy.unwrap().name, "Never");
        assert_eq!(
            c.security.entrypoint.unwrap(),
            ["sleep", "infinity"].map(Cow::Borrowed)
        );
        assert_eq!(c.security.command, None);

        let c = only(&parse_line("kubectl run web --image nginx -- --port 80"));
        assert_eq!(c.security.privileged, None);
        assert_eq!(
            c.security.command.unwrap(),
            ["--port", "80"].map(Cow::Borrowed)
        );

        let inv = parse_line("kubectl create cronjob miner --image=x/y --schedule=*/5 -- /bin/run");
        assert_eq!(inv.action, Action::WorkloadCreate);
        assert_eq!(inv.workload.as_ref().unwrap().kind, "CronJob");
        assert_eq!(
            only(&inv).security.entrypoint.unwrap(),
            ["/bin/run"].map(Cow::Borrowed)
        );
        assert_eq!(
            parse_line("kubectl create -f pod.yaml").action,
            Action::Other
        );
        assert_eq!(
            parse_line("kubectl apply -f pod.yaml").action,
            Action::Other
        );
        assert_eq!(
            parse_line("kubectl apply -f pod.yaml").raw_action,
            "kubectl apply"
        );
    }

    #[test]
    fn kubectl_debug() {
        let inv = parse_line("kubectl debug -it web-1 --image=busybox --target=app -c dbg -- sh");
        assert_eq!(inv.action, Action::ContainerExec);
        let c = only(&inv);
        assert_eq!(c.role, ContainerRole::Ephemeral);
        assert_eq!(c.name.as_deref(), Some("dbg"));
        assert_eq!(c.image.unwrap().reference, "busybox");
        assert_eq!(inv.exec.unwrap().args, ["sh"].map(Cow::Borrowed));

        let inv = parse_line("kubectl debug node/worker-1 -it --image=ubuntu --profile=sysadmin");
        assert_eq!(inv.action, Action::WorkloadCreate);
        let c = only(&inv);
        assert_eq!(c.security.privileged, Some(true));
        assert_eq!(c.security.host_pid, Some(true));
        assert_eq!(c.security.host_mounts[0].host_path, "/");
        assert_eq!(
            inv.workload.unwrap().owner.as_deref(),
            Some("Node/worker-1")
        );
        let inv = parse_line("microk8s kubectl get pods");
        assert_eq!(inv.action, Action::ResourceList);
        let inv = parse_line("kubectl --server https://10.0.0.1:6443 get pods");
        assert_eq!(inv.endpoint.unwrap().dst_port, Some(6443));
    }

    #[test]
    fn exec_moves_the_cli_to_the_parent() {
        let mut event = Event::new(crate::model::Source::Auditd, Action::ProcessStart, "execve");
        event.process = Some(Process {
            pid: Some(4321),
            name: Some("kubectl".into()),
            executable: Some("/usr/local/bin/kubectl".into()),
            command_line: Some("kubectl exec web-1 -- id".into()),
            user: Some("alice".into()),
            login_user: Some("alice".into()),
            parent: Some(ParentProcess {
                pid: Some(1200),
                executable: Some("/usr/bin/bash".into()),
                ..ParentProcess::default()
            }),
            ..Process::default()
        });
        let args = argv("kubectl exec web-1 -- id");
        assert!(apply(&mut event, &args));
        assert_eq!(event.action, Action::ContainerExec);
        let p = event.process.unwrap();
        assert_eq!(p.executable.as_deref(), Some("id"));
        assert_eq!(p.command_line.as_deref(), Some("id"));
        assert_eq!(p.user, None);
        assert_eq!(p.login_user.as_deref(), Some("alice"));
        let parent = p.parent.unwrap();
        assert_eq!(parent.pid, Some(4321));
        assert_eq!(parent.executable.as_deref(), Some("/usr/local/bin/kubectl"));
        assert_eq!(p.ancestors, ["/usr/bin/bash"]);

        let mut event = Event::new(crate::model::Source::Auditd, Action::ProcessStart, "execve");
        assert!(!apply(&mut event, &argv("ls -la")));
        assert_eq!(event.action, Action::ProcessStart);
    }

    #[test]
    fn join_and_split_round_trip() {
        let args = ["sh", "-c", "echo 'hi' && id", "", "a\"b"];
        let line = join(&args);
        assert_eq!(line, r#"sh -c 'echo '\''hi'\'' && id' '' 'a"b'"#);
        let words = split_words(&Cow::Borrowed("docker  run \"a b\" c\\ d 'e \"f' g"));
        assert_eq!(words, ["docker", "run", "a b", "c d", "e \"f", "g"]);
        assert!(matches!(words[0], Cow::Borrowed(_)));
        assert!(split_words(&Cow::Borrowed("   ")).is_empty());
        assert_eq!(split_words(&Cow::Borrowed("trailing\\")), ["trailing"]);
    }

    #[test]
    fn odd_input_never_panics() {
        for line in [
            "docker run",
            "docker run -",
            "docker run --",
            "docker run -v",
            "docker run --mount",
            "docker run -- alpine",
            "docker container",
            "kubectl",
            "kubectl exec",
            "kubectl get",
            "kubectl debug",
            "sudo",
            "sudo -u",
            "env A=1",
            "docker -H",
            "docker run -é alpine",
            "docker run -v :: --mount ,,= --restart : --device : alpine",
            "docker -H tcp://[::1 ps",
            "docker -H tcp://:2375 ps",
        ] {
            let _ = parse(&argv(line));
        }
    }
}
