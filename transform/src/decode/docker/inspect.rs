//! `docker inspect` output: one element of the array the CLI prints, which is the body
//! of `GET /containers/{id}/json`.
//!
//! This is where a Docker container's launch attributes are seen: the privileged flag,
//! host namespaces, bind mounts, added capabilities, restart policy, user, entrypoint and
//! command. Docker events carry none of them, so a collector inspects each container when
//! it sees the `create` event and the engine joins later events to what this decoder
//! produced. The record normalizes to [`Action::ContainerCreate`] with `raw_action`
//! `inspect`; it is timed at the container's `Created`, not at the moment of the look.
//! `HostConfig` is read by the same code as the body of `POST /containers/create`
//! (`create_body.rs`), so inspect output and a create request normalize alike.
//!
//! What inspect cannot say: whether `Entrypoint` and `Cmd` were overridden or came from
//! the image (Docker merges the two into `Config`), and the `docker run` flags that
//! produced a setting. `CapDrop` and `UsernsMode` are not read: the model has no place
//! for them.

use std::borrow::Cow;

use serde::Deserialize;

use super::create_body::{HostConfig, StrList, is_bind};
use super::labels::KubernetesLabels;
use crate::decode::{DecodeError, Decoded, Decoder, Detect, Format, Keys};
use crate::model::ImageRef;
use crate::model::{Action, Container, Event, HostMount, SecurityContext, Source};
use crate::normalize::borrowed::{Str, non_empty};
use crate::normalize::security::push_mount;
use crate::time::parse_rfc3339_ns;

pub(crate) const FORMAT: Format = Format {
    source: Source::DockerInspect,
    logsource: ("docker", "inspect"),
    about: "`docker inspect`, `GET /containers/{id}/json`",
    detect: Detect {
        // An authorization plugin's create request holds `HostConfig` too; only it says
        // how it was asked for.
        json: &[Keys {
            all: &["\"HostConfig\":"],
            without: &["\"RequestMethod\":"],
            check: None,
        }],
        text: None,
    },
    raw_roots: &[
        "Id",
        "Created",
        "Path",
        "Args",
        "State",
        "Image",
        "Name",
        "RestartCount",
        "HostConfig",
        "Mounts",
        "Config",
        "NetworkSettings",
        "Platform",
        "Driver",
        "AppArmorProfile",
        "ExecIDs",
    ],
    decode: Decoder::One(decode),
};

#[derive(Deserialize)]
struct RawInspect<'a> {
    #[serde(rename = "Id", borrow)]
    id: Option<Str<'a>>,
    /// `/name`, with the leading slash of Docker's legacy link tree.
    #[serde(rename = "Name", borrow)]
    name: Option<Str<'a>>,
    /// RFC 3339 with nanoseconds.
    #[serde(rename = "Created", borrow)]
    created: Option<Str<'a>>,
    #[serde(rename = "Config", borrow)]
    config: Option<RawConfig<'a>>,
    #[serde(rename = "HostConfig", borrow)]
    host_config: Option<HostConfig<'a>>,
    #[serde(rename = "Mounts", borrow)]
    mounts: Option<Vec<RawMountPoint<'a>>>,
}

#[derive(Deserialize)]
struct RawConfig<'a> {
    /// The image as the user named it (`nginx:1.25`); the top-level `Image` is the
    /// sha256 image id and says nothing about the registry.
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
}

/// An entry of the top-level `Mounts`: every mount the container has, whatever flag
/// made it.
#[derive(Deserialize)]
struct RawMountPoint<'a> {
    #[serde(rename = "Type", borrow)]
    kind: Option<Str<'a>>,
    #[serde(rename = "Source", borrow)]
    source: Option<Str<'a>>,
    #[serde(rename = "Destination", borrow)]
    destination: Option<Str<'a>>,
    #[serde(rename = "RW")]
    rw: Option<bool>,
}

pub(crate) fn decode(text: &str) -> Result<Decoded<'_>, DecodeError> {
    let raw: RawInspect<'_> =
        serde_json::from_str(text).map_err(|e| DecodeError::from_json(Source::DockerInspect, e))?;
    // Every field is optional, for collectors that trim the record; an object with none of
    // these is not inspect output (it is another format's record that did not decode, and
    // must keep that format's error rather than become an empty container).
    if raw.id.is_none() && raw.config.is_none() && raw.host_config.is_none() {
        return Err(DecodeError::shape(
            Source::DockerInspect,
            1,
            "none of `Id`, `Config`, `HostConfig`",
        ));
    }

    let mut event = Event::new(Source::DockerInspect, Action::ContainerCreate, "inspect");
    event.time_ns = raw.created.as_ref().and_then(|c| parse_rfc3339_ns(&c.0));

    let (image, entrypoint, command, user, labels) = match raw.config {
        Some(c) => (
            non_empty(c.image),
            c.entrypoint.map(|l| l.0),
            c.cmd.map(|l| l.0),
            non_empty(c.user),
            c.labels.unwrap_or_default(),
        ),
        None => (None, None, None, None, KubernetesLabels::default()),
    };
    let (workload, k8s_container_name) = labels.into_parts();
    event.workload = workload;

    let mut security = SecurityContext {
        user,
        entrypoint,
        command,
        ..SecurityContext::default()
    };
    // Top-level `Mounts` first: it is what the daemon made of the request, with the
    // effective read/write flag. `HostConfig.Mounts` and `Binds` (the request) only add
    // what is missing there, for collectors that trim the record.
    for m in raw.mounts.into_iter().flatten() {
        if is_bind(&m.kind)
            && let Some(host_path) = non_empty(m.source)
        {
            let mount = HostMount {
                host_path,
                container_path: non_empty(m.destination),
                read_only: m.rw.is_some_and(|rw| !rw),
            };
            push_mount(&mut security.host_mounts, mount);
        }
    }
    if let Some(hc) = raw.host_config {
        hc.apply(&mut security);
    }

    let name = raw.name.map(|n| strip_slash(n.0)).filter(|n| !n.is_empty());
    event.containers.push(Container {
        id: non_empty(raw.id),
        name: k8s_container_name.or(name),
        image: image.map(ImageRef::lenient),
        security,
        ..Container::default()
    });
    Ok(Decoded::evaluated(event))
}

fn strip_slash(name: Cow<'_, str>) -> Cow<'_, str> {
    match name {
        Cow::Borrowed(s) => Cow::Borrowed(s.strip_prefix('/').unwrap_or(s)),
        Cow::Owned(s) => match s.strip_prefix('/') {
            Some(rest) => Cow::Owned(rest.to_owned()),
            None => Cow::Owned(s),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RestartPolicy;

    const RISKY: &str = r#"{
        "Id": "4f3c1a9e8b7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a3928170f6e5d4c",
        "Created": "2024-05-14T09:12:03.412345678Z",
        "Path": "/bin/sh",
        "Args": ["-c", "exec /usr/local/bin/node-agent"],
        "State": {"Status": "running", "Running": true, "Pid": 4242, "ExitCode": 0,
                  "StartedAt": "2024-05-14T09:12:04.001Z", "FinishedAt": "0001-01-01T00:00:00Z"},
        "Image": "sha256:0d6f0c5e3a7b8c9d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d",
        "Name": "/node-agent",
        "RestartCount": 0,
        "HostConfig": {
            "Binds": ["/var/run/docker.sock:/var/run/docker.sock", "/etc:/host/etc:ro", "agent-data:/data", "/opt/agent:/opt/agent:ro,rslave"],
            "NetworkMode": "bridge",
            "RestartPolicy": {"Name": "always", "MaximumRetryCount": 0},
            "CapAdd": ["SYS_ADMIN"],
            "CapDrop": null,
            "IpcMode": "private",
            "PidMode": "host",
            "Privileged": true,
            "SecurityOpt": ["label=disable"],
            "UsernsMode": "",
            "Mounts": [{"Type": "bind", "Source": "/run/containerd", "Target": "/run/containerd", "ReadOnly": true}]
        },
        "Mounts": [
            {"Type": "bind", "Source": "/var/run/docker.sock", "Destination": "/var/run/docker.sock", "Mode": "", "RW": true, "Propagation": "rprivate"},
            {"Type": "bind", "Source": "/etc", "Destination": "/host/etc", "Mode": "ro", "RW": false, "Propagation": "rprivate"},
            {"Type": "volume", "Name": "agent-data", "Source": "/var/lib/docker/volumes/agent-data/_data", "Destination": "/data", "Driver": "local", "Mode": "z", "RW": true, "Propagation": ""}
        ],
        "Config": {
            "Hostname": "4f3c1a9e8b7d",
            "User": "0:0",
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            "Cmd": ["-c", "exec /usr/local/bin/node-agent"],
            "Image": "registry.example.com:5000/ops/node-agent:2.1@sha256:8b1a9953c4611296a827abf8c47804d7e6c49c6b8a3f4e2d1c0b9a8f7e6d5c4b",
            "Entrypoint": ["/bin/sh"],
            "Labels": {"maintainer": "ops@example.com"}
        }
    }"#;

    fn container<'a>(event: &'a Event<'a>) -> &'a Container<'a> {
        assert_eq!(event.containers.len(), 1);
        &event.containers[0]
    }

    #[test]
    fn risky_container() {
        let decoded = decode(RISKY).unwrap();
        assert!(decoded.evaluate);
        let event = decoded.event;
        assert_eq!(event.source, Source::DockerInspect);
        assert_eq!(event.action, Action::ContainerCreate);
        assert_eq!(event.raw_action, "inspect");
        assert_eq!(event.time_ns, Some(1_715_677_923_412_345_678));
        assert!(event.workload.is_none());

        let c = container(&event);
        assert_eq!(
            c.id.as_deref(),
            Some("4f3c1a9e8b7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a3928170f6e5d4c")
        );
        assert_eq!(c.name.as_deref(), Some("node-agent"));
        assert!(matches!(c.name, Some(Cow::Borrowed(_))));
        let image = c.image.as_ref().unwrap();
        assert_eq!(image.registry, "registry.example.com:5000");
        assert_eq!(image.repository, "ops/node-agent");
        assert_eq!(image.tag.as_deref(), Some("2.1"));
        assert!(
            image
                .digest
                .as_deref()
                .is_some_and(|d| d.starts_with("sha256:8b1a"))
        );

        let s = &c.security;
        assert_eq!(s.privileged, Some(true));
        assert_eq!(s.host_pid, Some(true));
        assert_eq!(s.host_ipc, Some(false));
        assert_eq!(s.host_network, Some(false));
        assert_eq!(s.cap_add, ["SYS_ADMIN"]);
        assert_eq!(s.security_opt, ["label=disable"]);
        assert!(s.devices.is_empty());
        assert_eq!(s.user.as_deref(), Some("0:0"));
        assert_eq!(
            s.restart_policy,
            Some(RestartPolicy {
                name: "always".into(),
                max_retries: None
            })
        );
        assert_eq!(s.entrypoint.as_deref(), Some(&["/bin/sh".into()][..]));
        assert_eq!(
            s.command.as_deref(),
            Some(&["-c".into(), "exec /usr/local/bin/node-agent".into()][..])
        );
        let mounts: Vec<(&str, Option<&str>, bool)> = s
            .host_mounts
            .iter()
            .map(|m| (&*m.host_path, m.container_path.as_deref(), m.read_only))
            .collect();
        assert_eq!(
            mounts,
            [
                ("/var/run/docker.sock", Some("/var/run/docker.sock"), false),
                ("/etc", Some("/host/etc"), true),
                ("/run/containerd", Some("/run/containerd"), true),
                ("/opt/agent", Some("/opt/agent"), true),
            ],
            "Mounts, then HostConfig.Mounts, then Binds, without duplicates or volumes"
        );
    }

    #[test]
    fn benign_container_says_no() {
        let text = r#"{"Id":"a1","Name":"/web","Created":"2024-05-14T09:20:00Z",
            "Config":{"Image":"nginx:1.25","User":"","Entrypoint":["/docker-entrypoint.sh"],"Cmd":["nginx","-g","daemon off;"],"Labels":{}},
            "HostConfig":{"Privileged":false,"PidMode":"","IpcMode":"private","NetworkMode":"bridge","Binds":null,"CapAdd":null,
                          "RestartPolicy":{"Name":"no","MaximumRetryCount":0}},
            "Mounts":[]}"#;
        let event = decode(text).unwrap().event;
        let s = &container(&event).security;
        assert_eq!(s.privileged, Some(false));
        assert_eq!(s.host_pid, Some(false));
        assert!(s.cap_add.is_empty() && s.host_mounts.is_empty());
        assert_eq!(s.user, None);
        assert_eq!(s.restart_policy, None);
        assert_eq!(
            container(&event).image.as_ref().unwrap().repository,
            "library/nginx"
        );
    }

    #[test]
    fn restart_policy_retries() {
        let text = r#"{"Id":"a1","HostConfig":{"RestartPolicy":{"Name":"on-failure","MaximumRetryCount":5}}}"#;
        let event = decode(text).unwrap().event;
        assert_eq!(
            container(&event).security.restart_policy,
            Some(RestartPolicy {
                name: "on-failure".into(),
                max_retries: Some(5)
            })
        );
        let text =
            r#"{"Id":"a1","HostConfig":{"RestartPolicy":{"Name":"","MaximumRetryCount":0}}}"#;
        assert_eq!(
            container(&decode(text).unwrap().event)
                .security
                .restart_policy,
            None
        );
    }

    #[test]
    fn entrypoint_string_array_or_null() {
        let cases: [(&str, Option<Vec<&str>>); 5] = [
            (r#""/bin/sh -c""#, Some(vec!["/bin/sh -c"])),
            (r#"["/bin/sh", "-c"]"#, Some(vec!["/bin/sh", "-c"])),
            (r#"[]"#, Some(vec![])),
            ("null", None),
            (r#""\/bin\/bash""#, Some(vec!["/bin/bash"])),
        ];
        for (json, expected) in cases {
            let text = format!(
                r#"{{"Id":"a1","Config":{{"Entrypoint":{json},"Cmd":{json}}},"HostConfig":{{}}}}"#
            );
            let event = decode(&text).unwrap().event;
            let s = &container(&event).security;
            let got = s
                .entrypoint
                .as_ref()
                .map(|v| v.iter().map(|a| &**a).collect::<Vec<_>>());
            assert_eq!(got, expected, "{json}");
            assert_eq!(s.entrypoint, s.command, "{json}");
        }
        let event = decode(r#"{"Id":"a1","Config":{},"HostConfig":{}}"#)
            .unwrap()
            .event;
        assert_eq!(container(&event).security.entrypoint, None);
        assert_eq!(container(&event).security.command, None);
    }

    #[test]
    fn missing_host_config_leaves_everything_unknown() {
        let event = decode(r#"{"Id":"a1","Name":"/x","HostConfig":null}"#)
            .unwrap()
            .event;
        assert!(container(&event).security.is_unknown());
    }

    #[test]
    fn kubernetes_labels() {
        let text = r#"{"Id":"a1","Name":"/k8s_app_web-1_shop_1f2e_0","HostConfig":{},
            "Config":{"Image":"nginx:1.25","Labels":{"io.kubernetes.container.name":"app","io.kubernetes.pod.name":"web-1","io.kubernetes.pod.namespace":"shop"}}}"#;
        let event = decode(text).unwrap().event;
        let w = event.workload.as_ref().unwrap();
        assert_eq!(
            (w.kind.as_ref(), w.name.as_deref(), w.namespace.as_deref()),
            ("Pod", Some("web-1"), Some("shop"))
        );
        assert_eq!(container(&event).name.as_deref(), Some("app"));
    }

    /// `samples/docker/inspect.json` is the CLI's array; each element decodes on its own,
    /// as the harness feeds it.
    #[test]
    fn sample_inspect_array() {
        let sample = include_str!("../../../../samples/docker/inspect.json");
        let elements: Vec<&serde_json::value::RawValue> = serde_json::from_str(sample).unwrap();
        assert_eq!(elements.len(), 2);
        let events: Vec<Event<'_>> = elements
            .iter()
            .map(|e| {
                assert_eq!(crate::decode::detect(e.get()), Some(Source::DockerInspect));
                decode(e.get()).unwrap().event
            })
            .collect();

        let risky = container(&events[0]);
        assert_eq!(risky.name.as_deref(), Some("node-agent"));
        let s = &risky.security;
        assert_eq!(
            (s.privileged, s.host_pid, s.host_network),
            (Some(true), Some(true), Some(false))
        );
        assert_eq!(s.cap_add, ["SYS_ADMIN"]);
        assert_eq!(s.restart_policy.as_ref().map(|r| &*r.name), Some("always"));
        assert_eq!(s.entrypoint.as_deref(), Some(&["/bin/sh".into()][..]));
        let mounts: Vec<(&str, bool)> = s
            .host_mounts
            .iter()
            .map(|m| (&*m.host_path, m.read_only))
            .collect();
        assert_eq!(mounts, [("/var/run/docker.sock", false), ("/etc", true)]);

        let benign = container(&events[1]);
        assert_eq!(benign.name.as_deref(), Some("web"));
        let s = &benign.security;
        assert_eq!(
            (s.privileged, s.host_pid, s.host_network),
            (Some(false), Some(false), Some(false))
        );
        assert!(s.cap_add.is_empty() && s.host_mounts.is_empty());
        assert_eq!(s.restart_policy, None);
        assert_eq!(
            benign.image.as_ref().map(|i| &*i.repository),
            Some("library/nginx")
        );
    }

    /// `samples/docker/lifecycle.ndjson` mixes event and inspect lines; each is detected
    /// as what it is, and the inspect lines are the created-state look at each container.
    #[test]
    fn sample_lifecycle_stream() {
        let sample = include_str!("../../../../samples/docker/lifecycle.ndjson");
        let mut sources = Vec::new();
        for (n, line) in sample.lines().enumerate() {
            let decoded =
                crate::decode::decode_one(line).unwrap_or_else(|e| panic!("line {}: {e}", n + 1));
            sources.push(decoded.event.source);
            if decoded.event.source == Source::DockerInspect {
                assert!(decoded.event.time_ns.is_some(), "line {}", n + 1);
            }
        }
        let inspect_lines: Vec<usize> = sources
            .iter()
            .enumerate()
            .filter(|(_, s)| **s == Source::DockerInspect)
            .map(|(i, _)| i + 1)
            .collect();
        assert_eq!(
            inspect_lines,
            [3, 8],
            "each inspect right after its create event"
        );
    }

    #[test]
    fn truncated_json_is_a_syntax_error_with_a_column() {
        let text = &RISKY[..200];
        match decode(text) {
            Err(DecodeError::Syntax { column, .. }) => assert!(column > 1, "{column}"),
            other => panic!("expected a syntax error, got {other:?}"),
        }
    }

    #[test]
    fn wrong_shape_is_a_shape_error() {
        for text in [
            r#"{"Id":"a1","HostConfig":{"Privileged":"yes"}}"#,
            r#"{"Id":"a1","Config":{"Entrypoint":5}}"#,
            r#"{"Id":"a1","HostConfig":{"CapAdd":[1]}}"#,
            r#"["not", "an", "object"]"#,
        ] {
            assert!(
                matches!(
                    decode(text),
                    Err(DecodeError::Shape {
                        format: Source::DockerInspect,
                        ..
                    })
                ),
                "{text}"
            );
        }
    }
}
