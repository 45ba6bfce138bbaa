//! `kubectl` and `oc` command lines: `run`, `create deployment|job|cronjob`, `exec`,
//! `attach`, `debug`, `get`, `describe`; `apply` and every other verb are
//! [`Action::Other`] named by `raw_action`.

use std::borrow::Cow;

use super::flags::{FlagSpec, Scanned, scan};
use super::{Exec, Invocation, endpoint};
use crate::model::ImageRef;
use crate::model::{Action, Container, ContainerRole, HostMount, SecurityContext, Workload};
use crate::normalize::kubernetes::typed_kind;
use crate::normalize::security::restart_policy;
use crate::normalize::text::sub;

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

pub(super) fn parse<'a>(args: &[Cow<'a, str>]) -> Option<Invocation<'a>> {
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
                        typed_kind(kind),
                        Some(sub(resource, kind.len() + 1, resource.len())),
                    ),
                    None => (
                        typed_kind(resource.split(',').next().unwrap_or_default()),
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
            restart_policy: flags
                .value(&["restart"])
                .and_then(|name| restart_policy(name, None)),
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
        Some((kind, _)) => (typed_kind(kind), sub(target, kind.len() + 1, target.len())),
        None => (Cow::Borrowed("Pod"), target.clone()),
    };
    Workload {
        kind,
        name: Some(name),
        namespace,
        ..Workload::default()
    }
}
