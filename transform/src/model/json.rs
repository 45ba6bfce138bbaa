//! The normalized event as JSON, keyed by the names rules use: the enrichment record a
//! pipeline receives, the evidence of a correlation's steps and the containers an alert
//! carries in `unmapped.crowsnest` are all written here.
//!
//! # Format
//!
//! One JSON object per event. Every field of the registry (`model::fields`) that has a
//! value is a member named as rules name it (`"action.raw"`, `"principal.name"`,
//! `"network.dns.rcode"`); `container` is an array with one object per container whose
//! members are the `container.*` fields without the prefix (`"privileged"`,
//! `"image.registry"`, `"host_mounts.read_only"`). Beside the fields: `time`, the event
//! time in RFC 3339, and `origin`, `{"file", "line"}` of the record. Members are in byte
//! order of their names; an empty list is left out, like an absent value.
//!
//! ```json
//! {"action":"container-create","action.raw":"POST /containers/create",
//!  "container":[{"cap_add":["SYS_ADMIN"],"image":"alpine:3.19","image.registry":"docker.io",
//!                "image.repository":"library/alpine","image.tag":"3.19","name":"agent",
//!                "privileged":true,"role":"main"}],
//!  "origin":{"file":"authz.log","line":4},"principal.name":"ci-runner-7",
//!  "source":"docker_authz","time":"2024-05-14T10:02:19.407Z"}
//! ```
//!
//! Written straight to text from the event through the registry's readers: no JSON
//! document is built.

use std::io::Write as _;
use std::sync::LazyLock;

use serde_json::Value as Json;

use super::event::{Container, Event};
use super::fields::{FIELDS, Field, MountPart, Read, Value};
use crate::time::format_rfc3339;

/// A top-level member of the record, in name order.
enum Member {
    Field(&'static Field),
    Container,
    Origin,
    Time,
}

/// Top-level members and container members, each sorted by name.
struct Layout {
    top: Vec<(&'static str, Member)>,
    container: Vec<&'static Field>,
}

static LAYOUT: LazyLock<Layout> = LazyLock::new(|| {
    let mut top: Vec<(&'static str, Member)> = vec![
        ("container", Member::Container),
        ("origin", Member::Origin),
        ("time", Member::Time),
    ];
    let mut container = Vec::new();
    for field in FIELDS {
        match field.read {
            Read::Event(_) => top.push((field.name, Member::Field(field))),
            Read::Container(_) => container.push(field),
        }
    }
    top.sort_by_key(|(name, _)| *name);
    container.sort_by_key(|f| f.container_key());
    Layout { top, container }
});

/// The enrichment record of `event`, with where it came from when that is known.
pub(crate) fn event_text(event: &Event<'_>, origin: Option<(&str, u32)>) -> String {
    let mut out: Vec<u8> = Vec::with_capacity(512);
    let mut first = true;
    out.push(b'{');
    for (name, member) in &LAYOUT.top {
        let at = out.len();
        if !first {
            out.push(b',');
        }
        key(&mut out, name);
        let written = match member {
            Member::Field(field) => match field.read {
                Read::Event(read) => read(event).is_some_and(|v| value(&mut out, v)),
                Read::Container(_) => false,
            },
            Member::Container => {
                if event.containers.is_empty() {
                    false
                } else {
                    out.push(b'[');
                    for (i, c) in event.containers.iter().enumerate() {
                        if i > 0 {
                            out.push(b',');
                        }
                        container(&mut out, c);
                    }
                    out.push(b']');
                    true
                }
            }
            Member::Origin => match origin {
                Some((file, line)) => {
                    out.extend_from_slice(b"{\"file\":");
                    string(&mut out, file);
                    let _ = write!(out, ",\"line\":{line}}}");
                    true
                }
                None => false,
            },
            Member::Time => match event.time_ns {
                Some(t) => {
                    string(&mut out, &format_rfc3339(t));
                    true
                }
                None => false,
            },
        };
        if written {
            first = false;
        } else {
            out.truncate(at);
        }
    }
    out.push(b'}');
    String::from_utf8(out).expect("JSON written from strings is UTF-8")
}

/// The normalized event as a JSON value (a correlation step's evidence).
pub(crate) fn event_value(event: &Event<'_>) -> Json {
    serde_json::from_str(&event_text(event, None)).expect("the enrichment is JSON")
}

/// One container as a JSON value (an alert's `unmapped.crowsnest.container`).
pub(crate) fn container_value(c: &Container<'_>) -> Json {
    let mut out = Vec::new();
    container(&mut out, c);
    serde_json::from_slice(&out).expect("the enrichment is JSON")
}

fn container(out: &mut Vec<u8>, c: &Container<'_>) {
    out.push(b'{');
    let mut first = true;
    for field in &LAYOUT.container {
        let Read::Container(read) = field.read else {
            continue;
        };
        let at = out.len();
        if !first {
            out.push(b',');
        }
        key(out, field.container_key());
        if read(c).is_some_and(|v| value(out, v)) {
            first = false;
        } else {
            out.truncate(at);
        }
    }
    out.push(b'}');
}

fn key(out: &mut Vec<u8>, name: &str) {
    string(out, name);
    out.push(b':');
}

fn string(out: &mut Vec<u8>, s: &str) {
    // Writing a `&str` into a `Vec` cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// Write `v`; false (and nothing worth keeping) when it is an empty list.
fn value(out: &mut Vec<u8>, v: Value<'_>) -> bool {
    match v {
        Value::Str(s) => string(out, s),
        Value::Int(n) => {
            let _ = write!(out, "{n}");
        }
        Value::Bool(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
        Value::List(items) => {
            if items.is_empty() {
                return false;
            }
            strings(out, items.iter().map(|s| Some(&**s)));
        }
        Value::Words(words) => strings(out, words.iter().map(|s| Some(&**s))),
        Value::Mounts(mounts, part) => {
            if mounts.is_empty() {
                return false;
            }
            match part {
                MountPart::HostPath => strings(out, mounts.iter().map(|m| Some(&*m.host_path))),
                MountPart::ContainerPath => {
                    if mounts.iter().all(|m| m.container_path.is_none()) {
                        return false;
                    }
                    strings(out, mounts.iter().map(|m| m.container_path.as_deref()));
                }
                MountPart::ReadOnly => {
                    out.push(b'[');
                    for (i, m) in mounts.iter().enumerate() {
                        if i > 0 {
                            out.push(b',');
                        }
                        out.extend_from_slice(if m.read_only { b"true" } else { b"false" });
                    }
                    out.push(b']');
                }
            }
        }
    }
    true
}

/// A JSON array of strings, `null` for a missing one.
fn strings<'s>(out: &mut Vec<u8>, items: impl Iterator<Item = Option<&'s str>>) {
    out.push(b'[');
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        match item {
            Some(s) => string(out, s),
            None => out.extend_from_slice(b"null"),
        }
    }
    out.push(b']');
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;
    use crate::model::{
        Action, ContainerRole, HostMount, ImageRef, Network, ParentProcess, Principal, Process,
        RestartPolicy, SecurityContext, Source, Workload,
    };

    fn cows(items: &[&'static str]) -> Vec<Cow<'static, str>> {
        items.iter().map(|s| Cow::Borrowed(*s)).collect()
    }

    /// An event with every member set, text that needs escaping included.
    fn full_event() -> Event<'static> {
        let mut e = Event::new(Source::DockerEvent, Action::ContainerRun, "run \"x\"");
        e.time_ns = Some(1_715_677_901_123_456_789);
        e.host = Some("h\u{e9}\n".into());
        e.cluster = Some("c".into());
        e.request_id = Some("r".into());
        e.response_code = Some(201);
        e.error = Some("e".into());
        e.reason = Some("why".into());
        e.count = Some(3);
        e.account = Some("a".into());
        e.region = Some("eu".into());
        e.principal = Some(Principal {
            name: "alice".into(),
            uid: Some("u1".into()),
            groups: cows(&["g1", "g2"]),
            kind: Some("user".into()),
            source_ip: Some("10.0.0.1".into()),
            user_agent: Some("curl".into()),
        });
        e.workload = Some(Workload {
            kind: "Pod".into(),
            name: Some("p".into()),
            namespace: Some("ns".into()),
            uid: Some("w1".into()),
            owner: Some("ReplicaSet/r".into()),
        });
        let mut c = Container {
            id: Some("abc".into()),
            name: Some("web".into()),
            image: Some(ImageRef {
                reference: "nginx:1".into(),
                registry: "docker.io".into(),
                repository: "library/nginx".into(),
                tag: Some("1".into()),
                digest: Some("sha256:00".into()),
            }),
            role: ContainerRole::Init,
            security: SecurityContext::default(),
        };
        let bare = c.clone();
        let s = &mut c.security;
        s.privileged = Some(true);
        s.host_pid = Some(false);
        s.host_network = Some(true);
        s.host_ipc = Some(true);
        s.cap_add = cows(&["SYS_ADMIN"]);
        s.security_opt = cows(&["seccomp=unconfined"]);
        s.devices = cows(&["/dev/kmsg"]);
        s.host_mounts = vec![
            HostMount {
                host_path: "/".into(),
                container_path: Some("/host".into()),
                read_only: false,
            },
            HostMount {
                host_path: "/var/run/docker.sock".into(),
                container_path: None,
                read_only: true,
            },
        ];
        s.user = Some("0".into());
        s.restart_policy = Some(RestartPolicy {
            name: "on-failure".into(),
            max_retries: Some(5),
        });
        s.entrypoint = Some(Vec::new());
        s.command = Some(cows(&["sh", "-c", "id"]));
        e.containers = vec![c, bare];
        e.process = Some(Process {
            pid: Some(7),
            name: Some("sh".into()),
            executable: Some("/bin/sh".into()),
            args: cows(&["-c", "id"]),
            command_line: Some("sh -c id".into()),
            user: Some("root".into()),
            login_user: Some("bob".into()),
            cwd: Some("/".into()),
            exit_code: Some(-1),
            parent: Some(ParentProcess {
                pid: Some(1),
                name: Some("init".into()),
                executable: Some("/sbin/init".into()),
                command_line: Some("init".into()),
            }),
            ancestors: cows(&["/usr/bin/containerd"]),
        });
        e.network = Some(Network {
            src_ip: Some("10.0.0.2".into()),
            src_port: Some(40000),
            dst_ip: Some("1.1.1.1".into()),
            dst_port: Some(53),
            protocol: Some("udp".into()),
            domain: Some("example.com".into()),
            bytes: Some(u64::MAX),
            packets: Some(2),
            disposition: Some("accept".into()),
            dns_query_type: Some("A".into()),
            dns_rcode: Some("NOERROR".into()),
            dns_answers: cows(&["93.184.216.34"]),
        });
        e
    }

    #[test]
    fn members_are_the_rule_names_in_byte_order() {
        let full = full_event();
        let text = event_text(&full, Some(("in\"put", 9)));
        let value: Json = serde_json::from_str(&text).expect("JSON");
        let object = value.as_object().expect("an object");
        let keys: Vec<&String> = object.keys().collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(
            keys, sorted,
            "serde_json's map sorts; the text must already be"
        );
        // Written in order: the text is the map's own rendering, byte for byte.
        assert_eq!(text, value.to_string());
        assert_eq!(value["action.raw"], "run \"x\"");
        assert_eq!(value["host"], "h\u{e9}\n");
        assert_eq!(value["request.id"], "r");
        assert_eq!(value["response.code"], 201);
        assert_eq!(value["principal.groups"], serde_json::json!(["g1", "g2"]));
        assert_eq!(value["process.parent.pid"], 1);
        assert_eq!(value["network.bytes"], i64::MAX);
        assert_eq!(
            value["network.dns.answers"],
            serde_json::json!(["93.184.216.34"])
        );
        assert_eq!(
            value["origin"],
            serde_json::json!({"file": "in\"put", "line": 9})
        );
        assert_eq!(value["time"], "2024-05-14T09:11:41.123456789Z");
        let c = &value["container"][0];
        assert_eq!(c["privileged"], true);
        assert_eq!(c["image.registry"], "docker.io");
        assert_eq!(
            c["entrypoint"],
            serde_json::json!([]),
            "an empty override is said"
        );
        assert_eq!(
            c["host_mounts"],
            serde_json::json!(["/", "/var/run/docker.sock"])
        );
        assert_eq!(
            c["host_mounts.container_path"],
            serde_json::json!(["/host", null]),
            "paths line up with their mounts"
        );
        assert_eq!(c["host_mounts.read_only"], serde_json::json!([false, true]));
        assert_eq!(c["restart_policy"], "on-failure");
        assert_eq!(c["restart_policy.max_retries"], 5);
    }

    #[test]
    fn absent_values_and_empty_lists_are_left_out() {
        let bare = Event::new(Source::K8sAudit, Action::Other, "get");
        assert_eq!(
            event_text(&bare, Some(("f", 1))),
            r#"{"action":"other","action.raw":"get","origin":{"file":"f","line":1},"source":"k8s_audit"}"#
        );
        let full = full_event();
        let bare = container_value(&full.containers[1]);
        assert!(bare.get("privileged").is_none(), "{bare}");
        assert!(bare.get("cap_add").is_none(), "{bare}");
        assert!(bare.get("host_mounts").is_none(), "{bare}");
        assert_eq!(bare["role"], "init");
    }
}
