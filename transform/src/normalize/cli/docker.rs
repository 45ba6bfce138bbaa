//! `docker`, `podman` and `nerdctl` command lines: `run` and `create` with their security
//! flags, the image and the command; `pull`; `exec`; `start`; `ps`, `images`, `inspect`.
//! Global flags (`-H tcp://host:2375`) may come before the subcommand, and the
//! `container` / `image` management commands before the verb.

use std::borrow::Cow;

use super::flags::{booleans, scan};
use super::{Exec, Invocation, endpoint};
use crate::model::ImageRef;
use crate::model::{Action, Container, HostMount, SecurityContext};
use crate::normalize::security::{bind, capability, restart_flag, security_opt};
use crate::normalize::text::{offset_of, sub};

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

pub(super) fn parse<'a>(tool: &str, args: &[Cow<'a, str>]) -> Option<Invocation<'a>> {
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
        restart_policy: flags.value(&["restart"]).and_then(|r| restart_flag(&r)),
        entrypoint: flags
            .value(&["entrypoint"])
            .map(|e| if e.is_empty() { Vec::new() } else { vec![e] }),
        command: (!flags.rest.is_empty()).then(|| flags.rest.clone()),
        ..SecurityContext::default()
    };
    // podman and nerdctl take a comma-separated list.
    for caps in flags.values(&["cap-add"]) {
        for one in caps.split(',') {
            let at = offset_of(caps, one);
            security
                .cap_add
                .extend(capability(sub(caps, at, at + one.len())));
        }
    }
    for opt in flags.values(&["security-opt"]) {
        security.security_opt.extend(security_opt(opt.clone()));
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
        if let Some(mount) = bind(volume) {
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
