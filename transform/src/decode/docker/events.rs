//! Docker Engine events: one line of `docker events --format '{{json .}}'` or one
//! message of `GET /events`.
//!
//! Daemons since API 1.22 (Docker 1.10) write `Type`, `Action`, `Actor{ID, Attributes}`,
//! `scope`, `time` and `timeNano`. Below API 1.52 (Docker 29) they also repeat the
//! pre-1.10 fields `status` (= `Action`), `id` (= `Actor.ID`) and, on container events,
//! `from` (= the image); the oldest daemons write only those. Both shapes are accepted
//! and the current fields win.
//!
//! An event is thin on purpose: a `create` names the container and its image but carries
//! no privileged flag, mount, capability or command. Those come from `docker inspect`
//! (see `inspect.rs`) and are joined on the container id later, so nothing here
//! touches [`SecurityContext`](crate::model::SecurityContext): "not said" must stay
//! `None`, never read as "not privileged".
//!
//! `Attributes` mixes the container's labels with a few daemon-set keys (`name`,
//! `image`, `exitCode`, `execID`, `signal`). Labels are set by whoever starts the
//! container, so the Kubernetes labels read here give context (pod, namespace) and
//! never identity.

use std::borrow::Cow;

use serde::Deserialize;

use super::labels::KubernetesLabels;
use crate::decode::{DecodeError, Decoded, Decoder, Detect, Format, Keys};
use crate::model::ImageRef;
use crate::model::{Action, Container, Event, Process, Source};
use crate::normalize::borrowed::{Str, non_empty};
use crate::normalize::process;

pub(crate) const FORMAT: Format = Format {
    source: Source::DockerEvent,
    logsource: ("docker", "events"),
    about: "`docker events --format '{{json .}}'`, `GET /events`",
    detect: Detect {
        json: &[
            Keys::all(&["\"Actor\":", "\"Action\":"]),
            Keys::all(&["\"status\":", "\"id\":", "\"from\":"]),
        ],
        text: None,
    },
    raw_roots: &[
        "Type", "Action", "Actor", "status", "id", "from", "time", "timeNano", "scope",
    ],
    decode: Decoder::One(decode),
};

/// One event as the daemon writes it; unknown fields are skipped.
#[derive(Deserialize)]
struct RawDockerEvent<'a> {
    #[serde(rename = "Type", borrow)]
    kind: Option<Str<'a>>,
    #[serde(rename = "Action", borrow)]
    action: Option<Str<'a>>,
    #[serde(rename = "Actor", borrow)]
    actor: Option<RawActor<'a>>,
    /// Seconds since the epoch.
    time: Option<i64>,
    #[serde(rename = "timeNano")]
    time_nano: Option<i64>,
    /// Legacy `Action`.
    #[serde(borrow)]
    status: Option<Str<'a>>,
    /// Legacy `Actor.ID`.
    #[serde(borrow)]
    id: Option<Str<'a>>,
    /// Legacy image of a container event.
    #[serde(borrow)]
    from: Option<Str<'a>>,
}

#[derive(Deserialize)]
struct RawActor<'a> {
    #[serde(rename = "ID", borrow)]
    id: Option<Str<'a>>,
    #[serde(rename = "Attributes", borrow)]
    attributes: Option<RawAttributes<'a>>,
}

/// The attributes read from `Actor.Attributes`. All values are strings, `exitCode`
/// included.
#[derive(Default, Deserialize)]
struct RawAttributes<'a> {
    #[serde(borrow)]
    name: Option<Str<'a>>,
    #[serde(borrow)]
    image: Option<Str<'a>>,
    #[serde(rename = "exitCode", borrow)]
    exit_code: Option<Str<'a>>,
    #[serde(rename = "io.kubernetes.pod.name", borrow)]
    pod_name: Option<Str<'a>>,
    #[serde(rename = "io.kubernetes.pod.namespace", borrow)]
    pod_namespace: Option<Str<'a>>,
    #[serde(rename = "io.kubernetes.pod.uid", borrow)]
    pod_uid: Option<Str<'a>>,
    #[serde(rename = "io.kubernetes.container.name", borrow)]
    container_name: Option<Str<'a>>,
}

/// What the event is about. Only containers and images are normalized further.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Subject {
    Container,
    Image,
    Other,
}

impl Subject {
    /// From `Type`; when it is missing (a daemon older than 1.10), from the action: image
    /// events of that era have `status` and `id` (the reference) but no `Type`.
    fn of(kind: Option<&str>, action: &str) -> Subject {
        match kind {
            Some("container") => Subject::Container,
            Some("image") => Subject::Image,
            Some(_) => Subject::Other,
            None => match action {
                "pull" | "push" | "tag" | "untag" | "delete" | "import" | "load" | "save" => {
                    Subject::Image
                }
                _ => Subject::Container,
            },
        }
    }
}

pub(crate) fn decode(text: &str) -> Result<Decoded<'_>, DecodeError> {
    let raw: RawDockerEvent<'_> =
        serde_json::from_str(text).map_err(|e| DecodeError::from_json(Source::DockerEvent, e))?;

    let (actor_id, attributes) = match raw.actor {
        Some(actor) => (actor.id, actor.attributes.unwrap_or_default()),
        None => (None, RawAttributes::default()),
    };
    let full_action = raw
        .action
        .or(raw.status)
        .map(|s| s.0)
        .ok_or_else(|| DecodeError::Shape {
            format: Source::DockerEvent,
            column: 1,
            message: "missing field `Action` (or legacy `status`)".to_string(),
        })?;
    let (raw_action, suffix) = split_suffix(full_action);
    let subject = Subject::of(raw.kind.as_ref().map(|k| &*k.0), &raw_action);
    let action = match subject {
        Subject::Container => container_action(&raw_action),
        Subject::Image if raw_action == "pull" => Action::ImagePull,
        Subject::Image | Subject::Other => Action::Other,
    };

    let mut event = Event::new(Source::DockerEvent, action, raw_action);
    event.time_ns = raw
        .time_nano
        .or_else(|| raw.time.and_then(|s| s.checked_mul(1_000_000_000)));
    let id = non_empty(actor_id.or(raw.id));

    match subject {
        Subject::Container => {
            let (workload, k8s_container_name) = KubernetesLabels {
                pod_name: attributes.pod_name,
                pod_namespace: attributes.pod_namespace,
                pod_uid: attributes.pod_uid,
                container_name: attributes.container_name,
            }
            .into_parts();
            event.workload = workload;
            let image = non_empty(attributes.image).or_else(|| non_empty(raw.from));
            event.containers.push(Container {
                id,
                name: k8s_container_name.or_else(|| non_empty(attributes.name)),
                image: image.map(ImageRef::lenient),
                ..Container::default()
            });
            event.process = process(&event.raw_action, suffix, attributes.exit_code);
        }
        // An image event names the image by reference or by id: `pull` and `push` by the
        // reference (`alpine:latest`) in `Actor.ID`, `tag` and `untag` by id with the
        // reference in `Attributes.name`, `delete`, `import`, `load` and `save` by id
        // alone. The reference, when there is one, is kept as a container-less image so
        // rules on registries see it; an id is no reference and is left out.
        Subject::Image => {
            let reference = match &*event.raw_action {
                "pull" | "push" => id.or_else(|| non_empty(attributes.name)),
                _ => non_empty(attributes.name),
            }
            .filter(|r| !is_image_id(r));
            if let Some(reference) = reference {
                event.containers.push(Container {
                    image: Some(ImageRef::lenient(reference)),
                    ..Container::default()
                });
            }
        }
        Subject::Other => {}
    }
    Ok(Decoded::evaluated(event))
}

/// A local image id (`sha256:<64 hex>`, or the bare hex) rather than a reference.
fn is_image_id(s: &str) -> bool {
    let hex = s.strip_prefix("sha256:").unwrap_or(s);
    (s.starts_with("sha256:") || hex.len() == 64)
        && !hex.is_empty()
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Container actions. One exec is reported once, at `exec_create` (which carries the
/// command); `exec_start` and `exec_die` stay `Other`.
fn container_action(raw_action: &str) -> Action {
    match raw_action {
        "create" => Action::ContainerCreate,
        "start" => Action::ContainerStart,
        "restart" => Action::ContainerRestart,
        "stop" => Action::ContainerStop,
        "die" => Action::ContainerDie,
        "kill" => Action::ContainerKill,
        "destroy" => Action::ContainerDestroy,
        "exec_create" => Action::ContainerExec,
        "attach" => Action::ContainerAttach,
        _ => Action::Other,
    }
}

/// The process an event speaks of: the exec's command line (`exec_create: /bin/sh -c id`)
/// or the exit code of a `die` / `exec_die`.
fn process<'a>(
    raw_action: &str,
    suffix: Option<Cow<'a, str>>,
    exit_code: Option<Str<'a>>,
) -> Option<Process<'a>> {
    match raw_action {
        // Docker joins the exec's argv with single spaces, so quoting is already lost.
        "exec_create" | "exec_start" => process::from_line(suffix?),
        "die" | "exec_die" => {
            let exit_code = exit_code.and_then(|c| c.0.trim().parse::<i64>().ok())?;
            Some(Process {
                exit_code: Some(exit_code),
                ..Process::default()
            })
        }
        _ => None,
    }
}

/// Split `exec_create: /bin/sh -c id` at the first `": "` into the action and its suffix.
fn split_suffix(action: Cow<'_, str>) -> (Cow<'_, str>, Option<Cow<'_, str>>) {
    const SEP: &str = ": ";
    match action {
        Cow::Borrowed(s) => match s.split_once(SEP) {
            Some((a, rest)) => (Cow::Borrowed(a), Some(Cow::Borrowed(rest))),
            None => (Cow::Borrowed(s), None),
        },
        Cow::Owned(s) => match s.split_once(SEP) {
            Some((a, rest)) => (Cow::Owned(a.to_owned()), Some(Cow::Owned(rest.to_owned()))),
            None => (Cow::Owned(s), None),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SecurityContext;

    const ID: &str = "4f3c1a9e8b7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a3928170f6e5d4c";

    fn decode_ok(text: &str) -> Event<'_> {
        let decoded = decode(text).unwrap_or_else(|e| panic!("{e}: {text}"));
        assert!(decoded.evaluate);
        decoded.event
    }

    #[test]
    fn current_create_event() {
        let line = format!(
            r#"{{"status":"create","id":"{ID}","from":"nginx:1.25","Type":"container","Action":"create","Actor":{{"ID":"{ID}","Attributes":{{"image":"registry.example.com:5000/ops/node-agent:2.1","name":"node-agent","maintainer":"ops"}}}},"scope":"local","time":1715677923,"timeNano":1715677923412345678}}"#
        );
        let event = decode_ok(&line);
        assert_eq!(event.source, Source::DockerEvent);
        assert_eq!(event.action, Action::ContainerCreate);
        assert_eq!(event.raw_action, "create");
        assert_eq!(event.time_ns, Some(1_715_677_923_412_345_678));
        assert_eq!(event.containers.len(), 1);
        let c = &event.containers[0];
        assert_eq!(c.id.as_deref(), Some(ID));
        assert!(
            matches!(c.id, Some(Cow::Borrowed(_))),
            "id is borrowed from the record"
        );
        assert_eq!(c.name.as_deref(), Some("node-agent"));
        // Current `Attributes.image` wins over legacy `from`.
        assert_eq!(
            c.image.as_ref().map(|i| &*i.reference),
            Some("registry.example.com:5000/ops/node-agent:2.1")
        );
        // A create event says nothing about privileges: all unknown, none "false".
        assert_eq!(c.security, SecurityContext::default());
        assert_eq!(c.security.privileged, None);
        assert!(event.workload.is_none());
        assert!(event.process.is_none());
    }

    #[test]
    fn legacy_only_event() {
        let line =
            format!(r#"{{"status":"start","id":"{ID}","from":"nginx:1.25","time":1715677923}}"#);
        let event = decode_ok(&line);
        assert_eq!(event.action, Action::ContainerStart);
        assert_eq!(event.raw_action, "start");
        assert_eq!(event.time_ns, Some(1_715_677_923_000_000_000));
        let c = &event.containers[0];
        assert_eq!(c.id.as_deref(), Some(ID));
        assert_eq!(c.name, None);
        assert_eq!(c.image.as_ref().map(|i| &*i.reference), Some("nginx:1.25"));
    }

    #[test]
    fn exec_create_carries_the_command() {
        let line = format!(
            r#"{{"Type":"container","Action":"exec_create: /bin/sh -c id","Actor":{{"ID":"{ID}","Attributes":{{"execID":"9a1b","image":"nginx:1.25","name":"web"}}}},"scope":"local","time":1715677930,"timeNano":1715677930000000001}}"#
        );
        let event = decode_ok(&line);
        assert_eq!(event.action, Action::ContainerExec);
        assert_eq!(event.raw_action, "exec_create");
        let p = event.process.expect("exec process");
        assert_eq!(p.command_line.as_deref(), Some("/bin/sh -c id"));
        assert_eq!(p.executable.as_deref(), Some("/bin/sh"));
        assert_eq!(p.args, ["/bin/sh", "-c", "id"]);
        assert!(p.args.iter().all(|a| matches!(a, Cow::Borrowed(_))));
    }

    #[test]
    fn exec_start_and_die_are_other() {
        let start = format!(
            r#"{{"Type":"container","Action":"exec_start: /bin/sh -c id","Actor":{{"ID":"{ID}","Attributes":{{"execID":"9a1b"}}}},"time":1}}"#
        );
        let event = decode_ok(&start);
        assert_eq!(event.action, Action::Other);
        assert_eq!(event.raw_action, "exec_start");
        assert_eq!(
            event.process.and_then(|p| p.command_line).as_deref(),
            Some("/bin/sh -c id")
        );

        let die = format!(
            r#"{{"Type":"container","Action":"exec_die","Actor":{{"ID":"{ID}","Attributes":{{"execID":"9a1b","exitCode":"0"}}}},"time":1}}"#
        );
        let event = decode_ok(&die);
        assert_eq!(event.action, Action::Other);
        assert_eq!(event.process.and_then(|p| p.exit_code), Some(0));
    }

    #[test]
    fn escaped_command_line_is_owned_but_split() {
        let line = format!(
            r#"{{"Type":"container","Action":"exec_create: sh -c \"id\"","Actor":{{"ID":"{ID}"}},"time":1}}"#
        );
        let event = decode_ok(&line);
        assert_eq!(event.raw_action, "exec_create");
        let p = event.process.expect("exec process");
        assert_eq!(p.command_line.as_deref(), Some(r#"sh -c "id""#));
        assert_eq!(p.args, ["sh", "-c", "\"id\""]);
    }

    #[test]
    fn die_exit_code() {
        let line = format!(
            r#"{{"Type":"container","Action":"die","Actor":{{"ID":"{ID}","Attributes":{{"execDuration":"41","exitCode":"137","image":"nginx:1.25","name":"web"}}}},"scope":"local","time":1715677990,"timeNano":1715677990500000000}}"#
        );
        let event = decode_ok(&line);
        assert_eq!(event.action, Action::ContainerDie);
        assert_eq!(event.process.and_then(|p| p.exit_code), Some(137));
    }

    #[test]
    fn health_status_suffix_is_split_off() {
        let line = format!(
            r#"{{"Type":"container","Action":"health_status: unhealthy","Actor":{{"ID":"{ID}","Attributes":{{"name":"web"}}}},"time":1}}"#
        );
        let event = decode_ok(&line);
        assert_eq!(event.action, Action::Other);
        assert_eq!(event.raw_action, "health_status");
        assert!(event.process.is_none());
        assert_eq!(event.containers[0].name.as_deref(), Some("web"));
    }

    #[test]
    fn action_table() {
        for (raw, action) in [
            ("create", Action::ContainerCreate),
            ("start", Action::ContainerStart),
            ("restart", Action::ContainerRestart),
            ("stop", Action::ContainerStop),
            ("die", Action::ContainerDie),
            ("kill", Action::ContainerKill),
            ("destroy", Action::ContainerDestroy),
            ("exec_create", Action::ContainerExec),
            ("attach", Action::ContainerAttach),
            ("pause", Action::Other),
            ("oom", Action::Other),
        ] {
            let line = format!(
                r#"{{"Type":"container","Action":"{raw}","Actor":{{"ID":"{ID}"}},"time":1}}"#
            );
            assert_eq!(decode_ok(&line).action, action, "{raw}");
        }
    }

    #[test]
    fn kubernetes_labels_make_a_pod() {
        let line = format!(
            r#"{{"Type":"container","Action":"start","Actor":{{"ID":"{ID}","Attributes":{{"image":"nginx:1.25","name":"k8s_web_web-1_shop_1f2e_0","io.kubernetes.container.name":"web","io.kubernetes.pod.name":"web-1","io.kubernetes.pod.namespace":"shop","io.kubernetes.pod.uid":"1f2e"}}}},"time":1}}"#
        );
        let event = decode_ok(&line);
        let w = event.workload.expect("pod");
        assert_eq!(w.kind, "Pod");
        assert_eq!(w.name.as_deref(), Some("web-1"));
        assert_eq!(w.namespace.as_deref(), Some("shop"));
        assert_eq!(w.uid.as_deref(), Some("1f2e"));
        assert_eq!(event.containers[0].name.as_deref(), Some("web"));
    }

    #[test]
    fn image_pull() {
        let line = r#"{"status":"pull","id":"nginx:1.25","Type":"image","Action":"pull","Actor":{"ID":"nginx:1.25","Attributes":{"name":"nginx"}},"scope":"local","time":1715677900,"timeNano":1715677900000000000}"#;
        let event = decode_ok(line);
        assert_eq!(event.action, Action::ImagePull);
        assert_eq!(event.raw_action, "pull");
        assert_eq!(event.containers.len(), 1);
        assert_eq!(event.containers[0].id, None);
        assert_eq!(
            event.containers[0].image.as_ref().map(|i| &*i.reference),
            Some("nginx:1.25")
        );

        // Pre-1.10 image events have no `Type`.
        let legacy = r#"{"status":"pull","id":"nginx:1.25","time":1715677900}"#;
        assert_eq!(decode_ok(legacy).action, Action::ImagePull);

        let untag = r#"{"status":"untag","id":"sha256:0d6f","Type":"image","Action":"untag","Actor":{"ID":"sha256:0d6f","Attributes":{"name":"sha256:0d6f"}},"time":1}"#;
        let event = decode_ok(untag);
        assert_eq!((event.action, &*event.raw_action), (Action::Other, "untag"));
        assert!(event.containers.is_empty());
    }

    #[test]
    fn other_image_actions_keep_the_reference_they_name() {
        let image_id = "sha256:0d6f0c5e3a7b8c9d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d";
        let cases = [
            // `docker push`: the reference pushed is the actor.
            (
                r#"{"status":"push","id":"203.0.113.50:5000/loot/db:dump","Type":"image","Action":"push","Actor":{"ID":"203.0.113.50:5000/loot/db:dump","Attributes":{"name":"203.0.113.50:5000/loot/db"}},"scope":"local","time":1}"#
                    .to_string(),
                "push",
                Some("203.0.113.50:5000/loot/db:dump"),
            ),
            // `docker tag`: the actor is the image id, the new reference its name.
            (
                format!(
                    r#"{{"status":"tag","id":"{image_id}","Type":"image","Action":"tag","Actor":{{"ID":"{image_id}","Attributes":{{"name":"registry.example.com:5000/ops/node-agent:2.1","maintainer":"ops"}}}},"time":1}}"#
                ),
                "tag",
                Some("registry.example.com:5000/ops/node-agent:2.1"),
            ),
            (
                format!(
                    r#"{{"Type":"image","Action":"untag","Actor":{{"ID":"{image_id}","Attributes":{{"name":"nginx:1.25"}}}},"time":1}}"#
                ),
                "untag",
                Some("nginx:1.25"),
            ),
            (
                format!(
                    r#"{{"Type":"image","Action":"delete","Actor":{{"ID":"{image_id}","Attributes":{{"name":"{image_id}"}}}},"time":1}}"#
                ),
                "delete",
                None,
            ),
            (
                format!(
                    r#"{{"Type":"image","Action":"load","Actor":{{"ID":"{image_id}","Attributes":{{}}}},"time":1}}"#
                ),
                "load",
                None,
            ),
        ];
        for (line, raw_action, reference) in cases {
            let event = decode_ok(&line);
            assert_eq!(event.action, Action::Other, "{raw_action}");
            assert_eq!(event.raw_action, raw_action);
            let got = event
                .containers
                .first()
                .and_then(|c| c.image.as_ref())
                .map(|i| i.reference.to_string());
            assert_eq!(got.as_deref(), reference, "{raw_action}");
            assert!(event.containers.iter().all(|c| c.id.is_none()));
        }
        assert!(is_image_id(image_id));
        assert!(!is_image_id("nginx:1.25"));
        assert!(!is_image_id("sha256:"));
    }

    #[test]
    fn non_container_type_is_other() {
        let line = format!(
            r#"{{"Type":"network","Action":"connect","Actor":{{"ID":"0b2c","Attributes":{{"container":"{ID}","name":"bridge","type":"bridge"}}}},"scope":"local","time":1,"timeNano":1000000000}}"#
        );
        let event = decode_ok(&line);
        assert_eq!(event.action, Action::Other);
        assert_eq!(event.raw_action, "connect");
        assert!(event.containers.is_empty());
        assert!(event.workload.is_none());
    }

    #[test]
    fn truncated_json_is_a_syntax_error_with_a_column() {
        let line = format!(r#"{{"Type":"container","Action":"start","Actor":{{"ID":"{ID}""#);
        match decode(&line) {
            Err(DecodeError::Syntax { column, .. }) => assert!(column > 1, "{column}"),
            other => panic!("expected a syntax error, got {other:?}"),
        }
    }

    /// `samples/docker/events.ndjson`: every line is detected as a Docker event and
    /// decodes, and the risky container's lifecycle reads as written in the README.
    #[test]
    fn sample_stream() {
        let sample = include_str!("../../../../samples/docker/events.ndjson");
        let risky = "25923f70cb6243497e0cbe25137706b3fe5a5a9a3d145fca64ac7e568cebadc7";
        let mut risky_actions = Vec::new();
        for (n, line) in sample.lines().enumerate() {
            assert_eq!(
                crate::decode::detect(line),
                Some(Source::DockerEvent),
                "line {}",
                n + 1
            );
            let event = decode_ok(line);
            if event.containers.first().and_then(|c| c.id.as_deref()) == Some(risky) {
                let c = &event.containers[0];
                assert_eq!(c.name.as_deref(), Some("node-agent"));
                let image = c.image.as_ref().expect("image");
                assert_eq!(image.registry, "registry.example.com:5000");
                assert_eq!(image.tag.as_deref(), Some("2.1"));
                assert!(image.digest.is_some());
                assert!(
                    c.security.is_unknown(),
                    "events never say how a container was launched"
                );
                risky_actions.push((event.raw_action.into_owned(), event.process));
            }
        }
        let names: Vec<&str> = risky_actions.iter().map(|(a, _)| a.as_str()).collect();
        assert_eq!(
            names,
            [
                "create",
                "start",
                "exec_create",
                "exec_start",
                "exec_die",
                "die",
                "start",
                "kill",
                "die",
                "stop",
                "start",
                "restart"
            ]
        );
        let exec = risky_actions[2].1.as_ref().expect("exec process");
        assert_eq!(exec.args, ["/bin/sh", "-c", "id"]);
        assert_eq!(
            risky_actions[5].1.as_ref().and_then(|p| p.exit_code),
            Some(137)
        );
    }

    #[test]
    fn wrong_shape_is_a_shape_error() {
        match decode(r#"{"Type": 5, "Action": "start"}"#) {
            Err(DecodeError::Shape {
                format: Source::DockerEvent,
                column,
                ..
            }) => {
                assert_eq!(column, 10)
            }
            other => panic!("expected a shape error, got {other:?}"),
        }
        assert!(matches!(
            decode(r#"[1, 2]"#),
            Err(DecodeError::Shape { .. })
        ));
        assert!(matches!(
            decode(r#"{"Type":"container","Actor":{"ID":"x"}}"#),
            Err(DecodeError::Shape { column: 1, .. })
        ));
    }
}
