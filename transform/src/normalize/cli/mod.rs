//! Container command lines (`docker run ...`, `kubectl exec ...`) parsed into the
//! normalized container fields.
//!
//! The argv is split into flags and arguments by one scanner ([`flags`]); the Docker-family
//! CLIs ([`docker`]) and kubectl ([`kubectl`]) each read their subcommands from it. The
//! launch attributes they find are spelled by [`super::security`], like every other
//! source's.
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

mod docker;
mod flags;
mod kubectl;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::net::IpAddr;

use super::network::domain_name;
use super::process;
use super::text::{basename, offset_of, sub};
use crate::model::{Action, Container, Event, Network, ParentProcess, Process, Workload};

/// How many wrappers (`sudo env docker ...`) are looked through.
const MAX_WRAPPERS: usize = 4;

/// What a container command line asks for.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Invocation<'a> {
    pub(crate) action: Action,
    /// The tool and its subcommand as typed: `docker run`, `docker container run`,
    /// `kubectl exec`.
    pub(crate) raw_action: String,
    pub(crate) containers: Vec<Container<'a>>,
    pub(crate) workload: Option<Workload<'a>>,
    /// The command an exec runs in the container.
    pub(crate) exec: Option<Exec<'a>>,
    /// The daemon or API server named on the command line.
    pub(crate) endpoint: Option<Network<'a>>,
}

/// A command run inside a container.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Exec<'a> {
    pub(crate) args: Vec<Cow<'a, str>>,
    pub(crate) user: Option<Cow<'a, str>>,
}

impl<'a> Invocation<'a> {
    pub(super) fn new(action: Action, raw_action: String) -> Self {
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
pub(crate) fn apply<'a>(event: &mut Event<'a>, args: &[Cow<'a, str>]) -> bool {
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
        event.process = process::from_argv(exec.args).map(|command| Process {
            user: exec.user,
            login_user: cli.login_user,
            parent: Some(ParentProcess {
                pid: cli.pid,
                name: cli.name,
                executable: cli.executable,
                command_line: cli.command_line,
            }),
            ancestors,
            ..command
        });
    }
    true
}

/// Parse an argv as a container CLI invocation; `None` when it is not one.
pub(crate) fn parse<'a>(args: &[Cow<'a, str>]) -> Option<Invocation<'a>> {
    let args = unwrap(args)?;
    let (tool, rest) = args.split_first()?;
    let name = basename(tool);
    match name {
        "docker" | "podman" | "nerdctl" => docker::parse(name, rest),
        "kubectl" | "oc" | "microk8s.kubectl" => kubectl::parse(rest),
        "k3s" | "microk8s" | "minikube" => match rest.split_first() {
            Some((sub, rest)) if sub == "kubectl" => kubectl::parse(
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

/// `tcp://10.0.0.5:2375`, `ssh://ops@build-1`, `https://k8s.example.com:6443`: the
/// host and port a CLI talks to. Unix sockets and named pipes are local.
pub(super) fn endpoint<'a>(value: &Cow<'a, str>) -> Option<Network<'a>> {
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
        network.domain = Some(domain_name(host_cow));
    }
    Some(network)
}
