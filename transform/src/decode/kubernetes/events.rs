//! Kubernetes `Event` objects: what the kubelet and the controllers report about the
//! objects they manage (`Pulling`, `Pulled`, `Created`, `Started`, `Killing`, `BackOff`).
//!
//! Three shapes of the same object are read:
//!
//! - `core/v1` `Event`, as `kubectl get events -o json` lists it (`items[]` of an
//!   `EventList`, one record with many events) and event exporters forward it:
//!   `involvedObject`, `reason`, `message`, `source{component, host}`, `count`,
//!   `firstTimestamp`, `lastTimestamp`, `eventTime`, `reportingComponent`,
//!   `reportingInstance`, `type`;
//! - `events.k8s.io/v1` `Event`: `regarding`, `note`, `reportingController`,
//!   `deprecatedSource`, `deprecatedCount`, `series{count, lastObservedTime}`;
//! - GKE's Cloud Logging export of events (`logName: projects/<p>/logs/events`): the
//!   object under `jsonPayload`, the cluster in `resource.labels{project_id, location,
//!   cluster_name}`. A `Started` there is how a container start on GKE is seen.
//!
//! The container an event is about is named by `involvedObject.fieldPath`
//! (`spec.containers{web}`, `spec.initContainers{init}`), which also gives its role; the
//! image of a pull is in the message (`Pulling image "nginx:1.25"`). A `Pulled` whose
//! message says the image was `already present on machine` pulled nothing and is
//! `Other`; every other `Pulled` and `Pulling` is an `ImagePull`.

use std::borrow::Cow;

use serde::Deserialize;

use crate::decode::{DecodeError, Decoded, Decoder, Detect, Format, Keys};
use crate::model::ImageRef;
use crate::model::{Action, Container, ContainerRole, Event, Source, Workload};
use crate::normalize::borrowed::{Str, non_empty};
use crate::time::parse_rfc3339_ns;

pub(crate) const FORMAT: Format = Format {
    source: Source::K8sEvent,
    logsource: ("kubernetes", "events"),
    about: "Kubernetes `Event` objects",
    detect: Detect {
        // events.k8s.io/v1 Events name their object `regarding`.
        json: &[
            Keys::all(&["\"involvedObject\":"]),
            Keys::all(&["\"regarding\":"]),
        ],
        text: None,
    },
    raw_roots: &[
        "kind",
        "apiVersion",
        "metadata",
        "involvedObject",
        "reason",
        "message",
        "source",
        "firstTimestamp",
        "lastTimestamp",
        "count",
        "type",
        "eventTime",
        "reportingComponent",
        "reportingInstance",
        "regarding",
        "note",
        "series",
        "action",
        "related",
        "deprecatedCount",
        "jsonPayload",
        "resource",
    ],
    decode: Decoder::Many(decode),
};

/// One record: an Event, an `EventList`, or a Cloud Logging entry holding an Event.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEvent<'a> {
    #[serde(borrow)]
    kind: Option<Str<'a>>,
    #[serde(borrow)]
    metadata: Option<RawMeta<'a>>,
    #[serde(borrow)]
    involved_object: Option<RawObjectReference<'a>>,
    /// `events.k8s.io/v1`.
    #[serde(borrow)]
    regarding: Option<RawObjectReference<'a>>,
    #[serde(borrow)]
    reason: Option<Str<'a>>,
    #[serde(borrow)]
    message: Option<Str<'a>>,
    /// `events.k8s.io/v1`: the message.
    #[serde(borrow)]
    note: Option<Str<'a>>,
    #[serde(borrow)]
    source: Option<RawEventSource<'a>>,
    #[serde(borrow)]
    deprecated_source: Option<RawEventSource<'a>>,
    #[serde(borrow)]
    reporting_component: Option<Str<'a>>,
    #[serde(borrow)]
    reporting_controller: Option<Str<'a>>,
    #[serde(borrow)]
    reporting_instance: Option<Str<'a>>,
    #[serde(borrow)]
    first_timestamp: Option<Str<'a>>,
    #[serde(borrow)]
    last_timestamp: Option<Str<'a>>,
    #[serde(borrow)]
    deprecated_first_timestamp: Option<Str<'a>>,
    #[serde(borrow)]
    deprecated_last_timestamp: Option<Str<'a>>,
    #[serde(borrow)]
    event_time: Option<Str<'a>>,
    count: Option<i64>,
    deprecated_count: Option<i64>,
    #[serde(borrow)]
    series: Option<RawSeries<'a>>,
    /// `EventList`.
    #[serde(borrow)]
    items: Option<Vec<RawEvent<'a>>>,
    /// Cloud Logging: the Event itself.
    #[serde(borrow)]
    json_payload: Option<Box<RawEvent<'a>>>,
    /// Cloud Logging: the monitored resource (`k8s_pod`, `k8s_node`, `k8s_cluster`).
    #[serde(borrow)]
    resource: Option<RawMonitoredResource<'a>>,
    /// Cloud Logging: when the entry was written.
    #[serde(borrow)]
    timestamp: Option<Str<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMeta<'a> {
    #[serde(borrow)]
    uid: Option<Str<'a>>,
    #[serde(borrow)]
    creation_timestamp: Option<Str<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawObjectReference<'a> {
    #[serde(borrow)]
    kind: Option<Str<'a>>,
    #[serde(borrow)]
    namespace: Option<Str<'a>>,
    #[serde(borrow)]
    name: Option<Str<'a>>,
    #[serde(borrow)]
    uid: Option<Str<'a>>,
    /// `spec.containers{web}`: the container within the pod.
    #[serde(borrow)]
    field_path: Option<Str<'a>>,
}

#[derive(Deserialize)]
struct RawEventSource<'a> {
    #[serde(borrow)]
    component: Option<Str<'a>>,
    #[serde(borrow)]
    host: Option<Str<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSeries<'a> {
    count: Option<i64>,
    #[serde(borrow)]
    last_observed_time: Option<Str<'a>>,
}

#[derive(Deserialize)]
struct RawMonitoredResource<'a> {
    #[serde(borrow)]
    labels: Option<RawResourceLabels<'a>>,
}

#[derive(Deserialize)]
struct RawResourceLabels<'a> {
    #[serde(borrow)]
    project_id: Option<Str<'a>>,
    #[serde(borrow)]
    location: Option<Str<'a>>,
    #[serde(borrow)]
    cluster_name: Option<Str<'a>>,
}

/// Where the events of a record came from: a GKE cluster, for the Cloud Logging export.
#[derive(Default, Clone)]
struct Origin<'a> {
    cluster: Option<Cow<'a, str>>,
    account: Option<Cow<'a, str>>,
    region: Option<Cow<'a, str>>,
    time: Option<i64>,
}

fn decode(text: &str) -> Result<Vec<Decoded<'_>>, DecodeError> {
    let raw: RawEvent<'_> =
        serde_json::from_str(text).map_err(|e| DecodeError::from_json(Source::K8sEvent, e))?;
    if let Some(payload) = raw.json_payload {
        let labels = raw.resource.and_then(|r| r.labels);
        let origin = match labels {
            Some(l) => Origin {
                cluster: non_empty(l.cluster_name),
                account: non_empty(l.project_id),
                region: non_empty(l.location),
                time: None,
            },
            None => Origin::default(),
        };
        let origin = Origin {
            time: raw.timestamp.and_then(|t| parse_rfc3339_ns(&t.0)),
            ..origin
        };
        return Ok(vec![event(*payload, &origin)?]);
    }
    match raw.kind.as_ref().map(|k| &*k.0) {
        Some("EventList") => raw
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|item| event(item, &Origin::default()))
            .collect(),
        _ => Ok(vec![event(raw, &Origin::default())?]),
    }
}

fn event<'a>(raw: RawEvent<'a>, origin: &Origin<'a>) -> Result<Decoded<'a>, DecodeError> {
    if let Some(kind) = raw.kind.as_ref().filter(|k| k.0 != "Event") {
        return Err(DecodeError::shape(
            Source::K8sEvent,
            1,
            format!("kind {:?} is not Event", kind.0),
        ));
    }
    let Some(object) = raw.involved_object.or(raw.regarding) else {
        return Err(DecodeError::shape(
            Source::K8sEvent,
            1,
            "missing field `involvedObject` (or `regarding`)",
        ));
    };
    let reason = non_empty(raw.reason);
    let message = non_empty(raw.message.or(raw.note));
    let action = action(reason.as_deref(), message.as_deref());

    let mut event = Event::new(
        Source::K8sEvent,
        action,
        reason.clone().unwrap_or(Cow::Borrowed("")),
    );
    let meta_time = raw
        .metadata
        .as_ref()
        .and_then(|m| m.creation_timestamp.as_ref());
    event.time_ns = [
        raw.last_timestamp.as_ref(),
        raw.series
            .as_ref()
            .and_then(|s| s.last_observed_time.as_ref()),
        raw.event_time.as_ref(),
        raw.deprecated_last_timestamp.as_ref(),
        raw.first_timestamp.as_ref(),
        raw.deprecated_first_timestamp.as_ref(),
        meta_time,
    ]
    .into_iter()
    .flatten()
    .find_map(|t| parse_rfc3339_ns(&t.0))
    .or(origin.time);
    event.count = raw
        .count
        .or(raw.series.as_ref().and_then(|s| s.count))
        .or(raw.deprecated_count)
        .and_then(|c| u32::try_from(c).ok());
    event.request_id = raw.metadata.and_then(|m| non_empty(m.uid));
    let component = raw
        .source
        .as_ref()
        .and_then(|s| s.component.as_ref())
        .or(raw.reporting_component.as_ref())
        .or(raw.reporting_controller.as_ref())
        .map(|c| &*c.0);
    let kubelet_instance = match component {
        Some("kubelet") => raw.reporting_instance,
        _ => None,
    };
    event.host = raw
        .source
        .and_then(|s| non_empty(s.host))
        .or(raw.deprecated_source.and_then(|s| non_empty(s.host)))
        .or(non_empty(kubelet_instance));
    event.cluster = origin.cluster.clone();
    event.account = origin.account.clone();
    event.region = origin.region.clone();
    if reason.as_deref().is_some_and(|r| r.starts_with("Failed")) {
        event.error = message.clone();
    }

    let container = container(
        object.field_path.as_ref().map(|f| &f.0),
        reason.as_deref(),
        message.as_ref(),
    );
    event.containers.extend(container);
    event.workload = non_empty(object.kind).map(|kind| Workload {
        kind,
        name: non_empty(object.name),
        namespace: non_empty(object.namespace),
        uid: non_empty(object.uid),
        owner: None,
    });
    event.reason = reason;
    Ok(Decoded::evaluated(event))
}

/// The normalized action of a kubelet reason.
fn action(reason: Option<&str>, message: Option<&str>) -> Action {
    match reason.unwrap_or("") {
        "Pulled" if message.is_some_and(|m| m.contains("already present on machine")) => {
            Action::Other
        }
        "Pulling" | "Pulled" => Action::ImagePull,
        "Created" => Action::ContainerCreate,
        "Started" => Action::ContainerStart,
        "Killing" => Action::ContainerKill,
        "BackOff" => Action::ContainerBackoff,
        _ => Action::Other,
    }
}

/// The container the event is about: named and placed by `fieldPath`, else named by
/// the message of a container reason (`Started container web`, `Created container: web`,
/// `Back-off restarting failed container web in pod ...`); with the image a pull names.
fn container<'a>(
    field_path: Option<&Cow<'a, str>>,
    reason: Option<&str>,
    message: Option<&Cow<'a, str>>,
) -> Option<Container<'a>> {
    let (name, role) = match field_path.and_then(|f| field_path_container(f)) {
        Some((name, role)) => (Some(name), role),
        None => (
            message.and_then(|m| message_container(m, reason?)),
            ContainerRole::Main,
        ),
    };
    let image = message
        .and_then(image_in_message)
        .filter(|i| !i.is_empty())
        .map(ImageRef::lenient);
    if name.is_none() && image.is_none() {
        return None;
    }
    Some(Container {
        name,
        image,
        role,
        ..Container::default()
    })
}

/// `spec.containers{web}` → (`web`, main); `spec.initContainers{init}` → (`init`, init).
fn field_path_container<'a>(field_path: &Cow<'a, str>) -> Option<(Cow<'a, str>, ContainerRole)> {
    let open = field_path.find('{')?;
    let close = field_path.rfind('}')?;
    let role = match field_path.get(..open)? {
        "spec.containers" => ContainerRole::Main,
        "spec.initContainers" => ContainerRole::Init,
        "spec.ephemeralContainers" => ContainerRole::Ephemeral,
        _ => return None,
    };
    let name = slice(field_path, open + 1, close)?;
    (!name.is_empty()).then_some((name, role))
}

/// The container a kubelet message names after `container` (`container web`,
/// `container: web`), for the reasons whose message does.
fn message_container<'a>(message: &Cow<'a, str>, reason: &str) -> Option<Cow<'a, str>> {
    if !matches!(reason, "Created" | "Started" | "Killing" | "BackOff") {
        return None;
    }
    let start = ["container: ", "container "]
        .into_iter()
        .find_map(|word| Some(message.find(word)? + word.len()))?;
    let end = message
        .get(start..)?
        .find(char::is_whitespace)
        .map_or(message.len(), |n| start + n);
    slice(message, start, end).filter(|n| !n.is_empty())
}

/// The quoted image of `Pulling image "nginx:1.25"`, `Successfully pulled image "x"`,
/// `Container image "x" already present`, `Back-off pulling image "x"`.
fn image_in_message<'a>(message: &Cow<'a, str>) -> Option<Cow<'a, str>> {
    let start = message.find("image \"")? + "image \"".len();
    let end = start + message.get(start..)?.find('"')?;
    slice(message, start, end)
}

/// `s[start..end]`, borrowed when `s` is.
fn slice<'a>(s: &Cow<'a, str>, start: usize, end: usize) -> Option<Cow<'a, str>> {
    match s {
        Cow::Borrowed(b) => b.get(start..end).map(Cow::Borrowed),
        Cow::Owned(o) => o.get(start..end).map(|p| Cow::Owned(p.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Event<'_> {
        let mut events = decode(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(events.len(), 1);
        events.remove(0).event
    }

    const STARTED: &str = r#"{"kind":"Event","apiVersion":"v1","metadata":{"name":"web-1.17c3a1b2c3d4e5f6","namespace":"prod","uid":"0b5a1c2d-1111-4222-8333-944455566677","resourceVersion":"100","creationTimestamp":"2024-05-14T09:12:05Z"},"involvedObject":{"kind":"Pod","namespace":"prod","name":"web-1","uid":"5b0e8f0c-6a1d-4a53-9a7e-0f4f3c1d2b9e","apiVersion":"v1","resourceVersion":"918273","fieldPath":"spec.containers{web}"},"reason":"Started","message":"Started container web","source":{"component":"kubelet","host":"node-1"},"firstTimestamp":"2024-05-14T09:12:05Z","lastTimestamp":"2024-05-14T09:12:06Z","count":1,"type":"Normal","eventTime":null,"reportingComponent":"kubelet","reportingInstance":"node-1"}"#;

    #[test]
    fn a_container_start() {
        let event = one(STARTED);
        assert_eq!(event.action, Action::ContainerStart);
        assert_eq!(event.raw_action, "Started");
        assert_eq!(event.reason.as_deref(), Some("Started"));
        assert_eq!(event.count, Some(1));
        assert_eq!(event.host.as_deref(), Some("node-1"));
        assert_eq!(event.time_ns, Some(1_715_677_926_000_000_000));
        let workload = event.workload.as_ref().unwrap();
        assert_eq!(workload.kind, "Pod");
        assert_eq!(workload.name.as_deref(), Some("web-1"));
        assert_eq!(workload.namespace.as_deref(), Some("prod"));
        assert_eq!(event.containers.len(), 1);
        assert_eq!(event.containers[0].name.as_deref(), Some("web"));
        assert_eq!(event.containers[0].role, ContainerRole::Main);
        assert!(event.containers[0].security.is_unknown());
        // Borrowed from the record: nothing in it needed unescaping.
        assert!(matches!(event.containers[0].name, Some(Cow::Borrowed(_))));
    }

    fn kubelet(reason: &str, field_path: &str, message: &str) -> String {
        format!(
            r#"{{"kind":"Event","apiVersion":"v1","metadata":{{"name":"e","namespace":"prod"}},"involvedObject":{{"kind":"Pod","namespace":"prod","name":"web-1","fieldPath":"{field_path}"}},"reason":"{reason}","message":{},"source":{{"component":"kubelet","host":"node-1"}},"count":7,"type":"Warning"}}"#,
            serde_json::to_string(message).unwrap()
        )
    }

    #[test]
    fn kubelet_reasons() {
        let text = kubelet(
            "Pulling",
            "spec.initContainers{init-setup}",
            r#"Pulling image "203.0.113.50:5000/tools/setup:1.0""#,
        );
        let event = one(&text);
        assert_eq!(event.action, Action::ImagePull);
        let c = &event.containers[0];
        assert_eq!(c.name.as_deref(), Some("init-setup"));
        assert_eq!(c.role, ContainerRole::Init);
        assert_eq!(c.image.as_ref().unwrap().registry, "203.0.113.50:5000");

        let text = kubelet(
            "Pulled",
            "spec.containers{web}",
            r#"Successfully pulled image "nginx:1.25" in 2.03s (2.03s including waiting). Image size: 70000000 bytes."#,
        );
        let event = one(&text);
        assert_eq!(event.action, Action::ImagePull);
        assert_eq!(
            event.containers[0].image.as_ref().unwrap().tag.as_deref(),
            Some("1.25")
        );

        let text = kubelet(
            "Pulled",
            "spec.containers{web}",
            r#"Container image "nginx:1.25" already present on machine"#,
        );
        assert_eq!(one(&text).action, Action::Other);

        let text = kubelet("Created", "spec.containers{web}", "Created container: web");
        assert_eq!(one(&text).action, Action::ContainerCreate);
        let text = kubelet("Killing", "spec.containers{web}", "Stopping container web");
        assert_eq!(one(&text).action, Action::ContainerKill);

        let text = kubelet(
            "BackOff",
            "spec.containers{web}",
            "Back-off restarting failed container web in pod web-1_prod(5b0e8f0c)",
        );
        let event = one(&text);
        assert_eq!(event.action, Action::ContainerBackoff);
        assert_eq!(event.count, Some(7));
        assert_eq!(event.reason.as_deref(), Some("BackOff"));

        let text = kubelet(
            "Failed",
            "spec.containers{web}",
            r#"Failed to pull image "nginx:nope": not found"#,
        );
        let event = one(&text);
        assert_eq!(event.action, Action::Other);
        assert!(
            event
                .error
                .as_deref()
                .unwrap()
                .starts_with("Failed to pull")
        );
    }

    #[test]
    fn the_container_from_the_message_when_there_is_no_field_path() {
        let text = r#"{"involvedObject":{"kind":"Pod","name":"p"},"reason":"Started","message":"Started container: app"}"#;
        let event = one(text);
        assert_eq!(event.containers[0].name.as_deref(), Some("app"));
        assert_eq!(event.time_ns, None);
        assert_eq!(event.count, None);
        // A node event names no container.
        let text = r#"{"involvedObject":{"kind":"Node","name":"node-1"},"reason":"NodeReady","message":"Node node-1 status is now: NodeReady"}"#;
        let event = one(text);
        assert!(event.containers.is_empty());
        assert_eq!(event.workload.unwrap().kind, "Node");
    }

    #[test]
    fn events_k8s_io_v1() {
        let text = r#"{"kind":"Event","apiVersion":"events.k8s.io/v1","metadata":{"name":"e","namespace":"prod","uid":"u1"},"eventTime":"2024-05-14T09:12:05.123456Z","series":{"count":4,"lastObservedTime":"2024-05-14T09:20:00.000000Z"},"reportingController":"kubelet","reportingInstance":"node-2","action":"Pulling","reason":"BackOff","regarding":{"kind":"Pod","namespace":"prod","name":"web-1","fieldPath":"spec.containers{web}"},"note":"Back-off pulling image \"nginx:nope\"","type":"Warning","deprecatedCount":9}"#;
        let event = one(text);
        assert_eq!(event.action, Action::ContainerBackoff);
        assert_eq!(event.count, Some(4));
        assert_eq!(event.host.as_deref(), Some("node-2"));
        assert_eq!(event.time_ns, Some(1_715_678_400_000_000_000));
        assert_eq!(event.request_id.as_deref(), Some("u1"));
        assert_eq!(
            event.containers[0].image.as_ref().unwrap().tag.as_deref(),
            Some("nope")
        );
    }

    #[test]
    fn gke_cloud_logging_export() {
        let text = format!(
            r#"{{"insertId":"abc","jsonPayload":{STARTED},"logName":"projects/acme-prod/logs/events","receiveTimestamp":"2024-05-14T09:12:07.1Z","resource":{{"type":"k8s_pod","labels":{{"cluster_name":"gke-prod","location":"europe-west1","namespace_name":"prod","pod_name":"web-1","project_id":"acme-prod"}}}},"severity":"INFO","timestamp":"2024-05-14T09:12:06Z"}}"#
        );
        let decoded = crate::decode::decode_one(&text).unwrap();
        let event = decoded.event;
        assert_eq!(event.source, Source::K8sEvent);
        assert_eq!(event.action, Action::ContainerStart);
        assert_eq!(event.cluster.as_deref(), Some("gke-prod"));
        assert_eq!(event.account.as_deref(), Some("acme-prod"));
        assert_eq!(event.region.as_deref(), Some("europe-west1"));
        assert_eq!(event.containers[0].name.as_deref(), Some("web"));
    }

    #[test]
    fn an_event_list_is_one_record_of_many_events() {
        let text = format!(
            r#"{{"apiVersion":"v1","kind":"EventList","items":[{STARTED},{}],"metadata":{{"resourceVersion":""}}}}"#,
            kubelet("Killing", "spec.containers{web}", "Stopping container web")
        );
        let events = decode(&text).unwrap();
        let actions: Vec<_> = events.iter().map(|d| d.event.action).collect();
        assert_eq!(actions, [Action::ContainerStart, Action::ContainerKill]);
        let empty = decode(r#"{"kind":"EventList","items":[]}"#).unwrap();
        assert!(empty.is_empty());
    }

    #[test]
    fn not_an_event() {
        assert!(matches!(
            decode(r#"{"kind":"Pod","involvedObject":{}}"#),
            Err(DecodeError::Shape { message, .. }) if message.contains("Pod")
        ));
        assert!(matches!(
            decode(r#"{"reason":"Started"}"#),
            Err(DecodeError::Shape { message, .. }) if message.contains("involvedObject")
        ));
        assert!(matches!(
            decode(r#"{"involvedObject":{"kind":7}}"#),
            Err(DecodeError::Shape { column, .. }) if column > 1
        ));
        assert!(matches!(
            decode(r#"{"involvedObject":"#),
            Err(DecodeError::Syntax { .. })
        ));
        // An audit event is not an Event object.
        assert!(
            decode(r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a","verb":"get"}"#)
                .is_err()
        );
        // Odd field paths and messages never panic.
        for path in ["spec.containers{", "}{", "spec.containers{}", "{x}", ""] {
            let text = kubelet("Started", path, "container ");
            let _ = decode(&text).unwrap();
        }
        let text = kubelet("Pulling", "", "image \"");
        assert!(one(&text).containers.is_empty());
    }
}
