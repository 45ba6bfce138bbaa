//! Kubernetes API server audit events: one `audit.k8s.io/v1` (or old `v1beta1`) `Event`
//! per record, as the log backend writes them and webhook backends forward them.
//!
//! The API server writes one event per request *stage*, all with the same `auditID`, so
//! one `kubectl exec` is two or three records. [`Decoded::evaluate`] marks the one record
//! per request that rules should see (see [`evaluate`] for which one).
//!
//! What a rule needs about a pod (privileged, host namespaces, hostPath mounts, added
//! capabilities, user, commands) is in the request or response *body*: `requestObject`
//! at `Request` level and up, `responseObject` at `RequestResponse`. Those bodies are
//! kept as raw JSON during the first pass and decoded into typed structs only for the
//! resources that carry a pod spec (pods and the workloads that template one), so a
//! ConfigMap, a custom resource or a JSON-patch array never meets the pod-spec types.
//! At `Metadata` level there is no body and `containers` stays empty: "not logged", not
//! "not privileged".
//!
//! Exec and attach carry no body: the command and the target container are query
//! parameters of `requestURI` (`.../exec?command=sh&command=-c&container=app`).
//!
//! Not read because the model has no place for them yet: `level`, `impersonatedUser`,
//! `user.extra` (the EKS IAM identity), `annotations` (the authorization decision, Pod
//! Security labels) and `objectRef.apiVersion`. serde skips them without allocating.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde_json::value::RawValue;

use self::time::parse_rfc3339_ns;
use super::docker_events::{Str, non_empty};
use super::{DecodeError, Decoded};
use crate::image_ref::ImageRef;
use crate::model::{
    Action, Container, ContainerRole, Event, HostMount, Principal, Process, RestartPolicy,
    SecurityContext, Source, Workload,
};

// `decode/time.rs` is not declared in `decode/mod.rs` yet (`docker_inspect.rs` includes
// it the same way). Once `mod time;` is there, drop these two lines and import
// `super::time::parse_rfc3339_ns` instead.
#[path = "time.rs"]
mod time;

/// One audit event as the API server writes it; unknown fields are skipped.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawK8sAudit<'a> {
    /// `Event`; checked when present, because a bare `EventList` or `Policy` shares keys.
    kind: Option<EventKind>,
    /// The same for every stage of one request.
    #[serde(rename = "auditID", borrow)]
    audit_id: Str<'a>,
    #[serde(borrow)]
    stage: Option<Str<'a>>,
    #[serde(rename = "requestURI", borrow)]
    request_uri: Option<Str<'a>>,
    #[serde(borrow)]
    verb: Str<'a>,
    #[serde(borrow)]
    user: Option<RawUser<'a>>,
    /// Only the last entry is kept: the earlier ones come from `X-Forwarded-For` and
    /// `X-Real-Ip`, which the client controls; the last is the connection's peer.
    #[serde(rename = "sourceIPs", default, borrow, deserialize_with = "last_of")]
    source_ip: Option<Str<'a>>,
    /// Client-supplied.
    #[serde(borrow)]
    user_agent: Option<Str<'a>>,
    #[serde(borrow)]
    object_ref: Option<RawObjectRef<'a>>,
    response_status: Option<RawStatus>,
    /// For `patch` this is the patch document (strategic merge, JSON merge, JSON patch
    /// or apply), not the object.
    #[serde(borrow)]
    request_object: Option<&'a RawValue>,
    #[serde(borrow)]
    response_object: Option<&'a RawValue>,
    #[serde(borrow)]
    request_received_timestamp: Option<Str<'a>>,
    #[serde(borrow)]
    stage_timestamp: Option<Str<'a>>,
    /// `v1beta1` only.
    #[serde(borrow)]
    timestamp: Option<Str<'a>>,
}

#[derive(Deserialize)]
struct RawUser<'a> {
    #[serde(borrow)]
    username: Option<Str<'a>>,
    #[serde(borrow)]
    uid: Option<Str<'a>>,
    #[serde(borrow)]
    groups: Option<Vec<Str<'a>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawObjectRef<'a> {
    #[serde(borrow)]
    resource: Option<Str<'a>>,
    #[serde(borrow)]
    namespace: Option<Str<'a>>,
    #[serde(borrow)]
    name: Option<Str<'a>>,
    #[serde(borrow)]
    uid: Option<Str<'a>>,
    /// Absent or `""` for the core group.
    #[serde(borrow)]
    api_group: Option<Str<'a>>,
    #[serde(borrow)]
    subresource: Option<Str<'a>>,
}

#[derive(Deserialize)]
struct RawStatus {
    code: Option<i64>,
}

/// A request or response body, when only its identity is wanted.
#[derive(Deserialize)]
struct RawObjectHead<'a> {
    #[serde(borrow)]
    kind: Option<Str<'a>>,
    #[serde(borrow)]
    metadata: Option<RawObjectMeta<'a>>,
}

/// A request or response body of a resource that carries a pod spec.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPodObject<'a> {
    #[serde(borrow)]
    kind: Option<Str<'a>>,
    #[serde(borrow)]
    metadata: Option<RawObjectMeta<'a>>,
    /// The pod spec itself (Pod), or the workload spec that templates one.
    #[serde(borrow)]
    spec: Option<RawPodSpec<'a>>,
    /// The `EphemeralContainers` body of the `ephemeralcontainers` subresource in
    /// Kubernetes 1.16-1.22 lists them at the top; since 1.23 the body is a Pod.
    #[serde(borrow)]
    ephemeral_containers: Option<Vec<RawContainer<'a>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawObjectMeta<'a> {
    #[serde(borrow)]
    name: Option<Str<'a>>,
    #[serde(borrow)]
    generate_name: Option<Str<'a>>,
    #[serde(borrow)]
    namespace: Option<Str<'a>>,
    #[serde(borrow)]
    uid: Option<Str<'a>>,
}

/// A `PodSpec`, and the two workload fields that lead to one: one struct serves every
/// level because the field names of `DeploymentSpec`, `JobSpec` and `CronJobSpec` do not
/// collide with those of `PodSpec`.
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPodSpec<'a> {
    #[serde(borrow)]
    containers: Option<Vec<RawContainer<'a>>>,
    #[serde(borrow)]
    init_containers: Option<Vec<RawContainer<'a>>>,
    #[serde(borrow)]
    ephemeral_containers: Option<Vec<RawContainer<'a>>>,
    #[serde(rename = "hostPID")]
    host_pid: Option<bool>,
    host_network: Option<bool>,
    #[serde(rename = "hostIPC")]
    host_ipc: Option<bool>,
    #[serde(borrow)]
    volumes: Option<Vec<RawVolume<'a>>>,
    security_context: Option<RawPodSecurityContext>,
    #[serde(borrow)]
    restart_policy: Option<Str<'a>>,
    /// Deployment, DaemonSet, StatefulSet, ReplicaSet, ReplicationController, Job.
    #[serde(borrow)]
    template: Option<RawTemplate<'a>>,
    /// CronJob: a Job template, whose spec holds the pod template.
    #[serde(borrow)]
    job_template: Option<RawTemplate<'a>>,
}

#[derive(Deserialize)]
struct RawTemplate<'a> {
    #[serde(borrow)]
    spec: Option<Box<RawPodSpec<'a>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPodSecurityContext {
    run_as_user: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawVolume<'a> {
    #[serde(borrow)]
    name: Option<Str<'a>>,
    #[serde(borrow)]
    host_path: Option<RawHostPath<'a>>,
}

#[derive(Deserialize)]
struct RawHostPath<'a> {
    #[serde(borrow)]
    path: Option<Str<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawContainer<'a> {
    #[serde(borrow)]
    name: Option<Str<'a>>,
    #[serde(borrow)]
    image: Option<Str<'a>>,
    /// The entrypoint override.
    #[serde(borrow)]
    command: Option<Vec<Str<'a>>>,
    #[serde(borrow)]
    args: Option<Vec<Str<'a>>>,
    #[serde(borrow)]
    volume_mounts: Option<Vec<RawVolumeMount<'a>>>,
    #[serde(borrow)]
    security_context: Option<RawContainerSecurityContext<'a>>,
    /// Only on init containers: `Always` makes one a native sidecar.
    #[serde(borrow)]
    restart_policy: Option<Str<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawVolumeMount<'a> {
    #[serde(borrow)]
    name: Option<Str<'a>>,
    #[serde(borrow)]
    mount_path: Option<Str<'a>>,
    read_only: Option<bool>,
    #[serde(borrow)]
    sub_path: Option<Str<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawContainerSecurityContext<'a> {
    privileged: Option<bool>,
    run_as_user: Option<i64>,
    #[serde(borrow)]
    capabilities: Option<RawCapabilities<'a>>,
}

#[derive(Deserialize)]
struct RawCapabilities<'a> {
    #[serde(borrow)]
    add: Option<Vec<Str<'a>>>,
}

/// The top-level `kind`: only `"Event"` is accepted. Checked inside serde so that the
/// error carries the column.
struct EventKind;

impl<'de> Deserialize<'de> for EventKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EventKindVisitor;

        impl Visitor<'_> for EventKindVisitor {
            type Value = EventKind;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("kind \"Event\"")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<EventKind, E> {
                if v == "Event" {
                    Ok(EventKind)
                } else {
                    Err(E::invalid_value(de::Unexpected::Str(v), &self))
                }
            }
        }

        deserializer.deserialize_str(EventKindVisitor)
    }
}

/// The last string of an array, without collecting the array.
fn last_of<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Str<'de>>, D::Error> {
    struct LastVisitor;

    impl<'de> Visitor<'de> for LastVisitor {
        type Value = Option<Str<'de>>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an array of strings")
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut last = None;
            while let Some(item) = seq.next_element::<Str<'de>>()? {
                last = Some(item);
            }
            Ok(last)
        }
    }

    deserializer.deserialize_any(LastVisitor)
}

/// Where an object of a known resource keeps its pod spec.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum PodSpecAt {
    /// Pod: `spec`.
    Spec,
    /// `spec.template.spec`.
    Template,
    /// CronJob: `spec.jobTemplate.spec.template.spec`.
    JobTemplate,
}

/// A built-in resource: its kind, and where its objects keep a pod spec if they do.
struct KnownResource {
    resource: &'static str,
    /// API groups it is served from; `""` is the core group.
    groups: &'static [&'static str],
    kind: &'static str,
    pod_spec: Option<PodSpecAt>,
}

const CORE: &[&str] = &[""];
/// `extensions` served Deployments, DaemonSets and ReplicaSets until Kubernetes 1.16.
const APPS: &[&str] = &["apps", "extensions"];
const BATCH: &[&str] = &["batch"];
const RBAC: &[&str] = &["rbac.authorization.k8s.io"];

const fn known(
    resource: &'static str,
    groups: &'static [&'static str],
    kind: &'static str,
    pod_spec: Option<PodSpecAt>,
) -> KnownResource {
    KnownResource { resource, groups, kind, pod_spec }
}

/// Resources whose kind is named even when the event has no body (Metadata level,
/// delete, exec), so one resource always gives one `Workload::kind`.
const KNOWN_RESOURCES: &[KnownResource] = &[
    known("pods", CORE, "Pod", Some(PodSpecAt::Spec)),
    known("deployments", APPS, "Deployment", Some(PodSpecAt::Template)),
    known("daemonsets", APPS, "DaemonSet", Some(PodSpecAt::Template)),
    known("statefulsets", APPS, "StatefulSet", Some(PodSpecAt::Template)),
    known("replicasets", APPS, "ReplicaSet", Some(PodSpecAt::Template)),
    known("replicationcontrollers", CORE, "ReplicationController", Some(PodSpecAt::Template)),
    known("jobs", BATCH, "Job", Some(PodSpecAt::Template)),
    known("cronjobs", BATCH, "CronJob", Some(PodSpecAt::JobTemplate)),
    known("configmaps", CORE, "ConfigMap", None),
    known("secrets", CORE, "Secret", None),
    known("services", CORE, "Service", None),
    known("serviceaccounts", CORE, "ServiceAccount", None),
    known("namespaces", CORE, "Namespace", None),
    known("nodes", CORE, "Node", None),
    known("persistentvolumes", CORE, "PersistentVolume", None),
    known("persistentvolumeclaims", CORE, "PersistentVolumeClaim", None),
    known("roles", RBAC, "Role", None),
    known("rolebindings", RBAC, "RoleBinding", None),
    known("clusterroles", RBAC, "ClusterRole", None),
    known("clusterrolebindings", RBAC, "ClusterRoleBinding", None),
];

impl KnownResource {
    /// The entry for `resource` in `group`. An absent `apiGroup` is accepted for any
    /// group (hand-written and re-exported events drop it); a present one must match, so
    /// `pods.metrics.k8s.io` or a custom `deployments` resource is not read as a workload.
    fn find(resource: &str, group: Option<&str>) -> Option<&'static KnownResource> {
        KNOWN_RESOURCES
            .iter()
            .find(|k| k.resource == resource && group.is_none_or(|g| k.groups.contains(&g)))
    }
}

/// What the request was about, taken from `objectRef` before any body is read.
struct Target<'r> {
    resource: Option<&'r str>,
    subresource: Option<&'r str>,
    known: Option<&'static KnownResource>,
}

impl Target<'_> {
    fn has_pod_spec(&self) -> bool {
        self.known.is_some_and(|k| k.pod_spec.is_some())
    }

    /// Whether a body of this kind is the target object itself (rather than a `Status`,
    /// `DeleteOptions`, a list, or the body of a subresource such as `Scale`).
    fn is_target_kind(&self, kind: Option<&str>) -> bool {
        match (self.known, kind) {
            // Patch documents and hand-written bodies carry no kind.
            (_, None) => true,
            (Some(known), Some(kind)) => {
                kind == known.kind
                    || (kind == "EphemeralContainers" && self.subresource == Some(EPHEMERAL))
            }
            (None, Some(kind)) => {
                self.subresource.is_none()
                    && !matches!(kind, "Status" | "DeleteOptions")
                    && !kind.ends_with("List")
            }
        }
    }
}

const EXEC: &str = "exec";
const ATTACH: &str = "attach";
const EPHEMERAL: &str = "ephemeralcontainers";

pub(crate) fn decode(text: &str) -> Result<Decoded<'_>, DecodeError> {
    let raw: RawK8sAudit<'_> =
        serde_json::from_str(text).map_err(|e| DecodeError::from_json(Source::K8sAudit, e))?;

    let target = Target {
        resource: raw.object_ref.as_ref().and_then(|r| r.resource.as_ref()).map(|s| &*s.0),
        subresource: raw.object_ref.as_ref().and_then(|r| r.subresource.as_ref()).map(|s| &*s.0),
        known: raw.object_ref.as_ref().and_then(|r| {
            let group = r.api_group.as_ref().map(|g| &*g.0);
            KnownResource::find(&r.resource.as_ref()?.0, group)
        }),
    };
    let verb = raw.verb.0;
    let watch_query = raw.request_uri.as_ref().is_some_and(|u| watch_requested(&u.0));
    let action = action(&verb, &target, watch_query);
    let evaluate = evaluate(raw.stage.as_ref().map(|s| &*s.0), &target, action);

    // Bodies: containers for the resources that hold a pod spec, identity for the rest.
    let bodies = Bodies { response: raw.response_object, request: raw.request_object };
    let is_patch = verb == "patch";
    let mut object_kind = None;
    let mut meta = None;
    let mut containers = Vec::new();
    let mut process = None;
    match target.subresource {
        Some(EXEC | ATTACH) => {
            if let Some(uri) = &raw.request_uri {
                let query = ExecQuery::of(&uri.0);
                process = query.process();
                containers.extend(query.container.map(|name| Container {
                    name: Some(name),
                    ..Container::default()
                }));
            }
        }
        None | Some(EPHEMERAL) if target.has_pod_spec() => {
            if let Some(found) = pod_object(text, bodies, &target, is_patch)? {
                object_kind = found.kind;
                meta = found.metadata;
                containers = found.containers;
            }
        }
        _ => {}
    }
    if meta.is_none() {
        if let Some(head) = object_head(bodies, &target, is_patch) {
            object_kind = object_kind.or(head.kind);
            meta = head.metadata;
        }
    }

    let mut event = Event::new(Source::K8sAudit, action, verb);
    event.time_ns = [&raw.stage_timestamp, &raw.request_received_timestamp, &raw.timestamp]
        .into_iter()
        .flatten()
        .find_map(|t| parse_rfc3339_ns(&t.0));
    event.request_id = Some(raw.audit_id.0);
    event.response_code = raw
        .response_status
        .and_then(|s| s.code)
        .and_then(|c| u16::try_from(c).ok());
    event.principal = principal(raw.user, raw.source_ip, raw.user_agent);
    let known = target.known;
    event.workload = raw.object_ref.and_then(|r| {
        let resource = r.resource?.0;
        let meta = meta.unwrap_or(RawObjectMeta {
            name: None,
            generate_name: None,
            namespace: None,
            uid: None,
        });
        let kind = match (known, object_kind) {
            (Some(known), _) => Cow::Borrowed(known.kind),
            (None, Some(kind)) => kind.0,
            (None, None) => resource,
        };
        Some(Workload {
            kind,
            name: non_empty(r.name.or(meta.name).or(meta.generate_name)),
            namespace: non_empty(r.namespace.or(meta.namespace)),
            uid: non_empty(r.uid.or(meta.uid)),
        })
    });
    event.containers = containers;
    event.process = process;
    Ok(Decoded { event, evaluate })
}

/// The normalized action. `get` and `create` on `exec`/`attach` are both the exec:
/// kubectl before 1.30 connects with a POST (`create`), 1.30 and later with a WebSocket
/// GET (`get`).
fn action(verb: &str, target: &Target<'_>, watch_query: bool) -> Action {
    match (target.subresource, verb) {
        (Some(EXEC), _) => return Action::ContainerExec,
        (Some(ATTACH), _) => return Action::ContainerAttach,
        (Some(EPHEMERAL), "update") => return Action::WorkloadUpdate,
        (Some(EPHEMERAL), "patch") => return Action::WorkloadPatch,
        _ => {}
    }
    match verb {
        "get" => return Action::ResourceGet,
        // The API server itself reads `list` with `?watch=true` (not `false`/`0`) as a watch.
        "list" if watch_query => return Action::ResourceWatch,
        "list" => return Action::ResourceList,
        "watch" => return Action::ResourceWatch,
        _ => {}
    }
    // Writes to other subresources (`status`, `scale`, `binding`, `eviction`) do not
    // change what the workload runs.
    if target.subresource.is_some() || !target.has_pod_spec() {
        return Action::Other;
    }
    match verb {
        "create" => Action::WorkloadCreate,
        "update" => Action::WorkloadUpdate,
        "patch" => Action::WorkloadPatch,
        "delete" | "deletecollection" => Action::WorkloadDelete,
        _ => Action::Other,
    }
}

/// Whether rules should see this stage of the request: exactly one stage per request.
///
/// - `RequestReceived` never: it is written before authorization and always followed by
///   the stage that completes the request.
/// - Ordinary requests: `ResponseComplete`, or `Panic`, which replaces it when the
///   handler panics.
/// - Long-running requests (`exec`, `attach`, `portforward`, and watches): the API
///   server writes `ResponseStarted` when the response headers go out (code 101 for an
///   upgraded exec, or the error code), and `ResponseComplete` only when the session
///   ends, possibly hours later. `ResponseStarted` is the one evaluated, so an exec
///   alerts when it starts; its `ResponseComplete` is not, so it does not alert twice.
///   An audit policy that omits `ResponseStarted` (`omitStages`) therefore hides these
///   requests from rules.
/// - No `stage` (some exporters drop it) or one this code does not know: evaluated, as
///   there is no way to tell the stages of such a request apart; a duplicate alert is
///   better than none.
fn evaluate(stage: Option<&str>, target: &Target<'_>, action: Action) -> bool {
    // `ResourceWatch` covers the `watch` verb and `list?watch=true`.
    let long_running = matches!(target.subresource, Some(EXEC | ATTACH | "portforward"))
        || action == Action::ResourceWatch;
    match stage {
        Some("RequestReceived") => false,
        Some("ResponseStarted") => long_running,
        Some("ResponseComplete" | "Panic") => !long_running,
        Some(_) | None => true,
    }
}

fn principal<'a>(
    user: Option<RawUser<'a>>,
    source_ip: Option<Str<'a>>,
    user_agent: Option<Str<'a>>,
) -> Option<Principal<'a>> {
    let source_ip = non_empty(source_ip);
    let user_agent = non_empty(user_agent);
    if user.is_none() && source_ip.is_none() && user_agent.is_none() {
        return None;
    }
    let (name, uid, groups) = match user {
        Some(u) => (
            u.username.map(|s| s.0).unwrap_or_default(),
            non_empty(u.uid),
            u.groups.map(strings).unwrap_or_default(),
        ),
        None => (Cow::Borrowed(""), None, Vec::new()),
    };
    Some(Principal { name, uid, groups, source_ip, user_agent })
}

/// `responseObject` and `requestObject`, still raw.
#[derive(Clone, Copy)]
struct Bodies<'a> {
    response: Option<&'a RawValue>,
    request: Option<&'a RawValue>,
}

/// A body that holds the target's pod spec, with what was read from it.
struct PodObject<'a> {
    kind: Option<Str<'a>>,
    metadata: Option<RawObjectMeta<'a>>,
    containers: Vec<Container<'a>>,
}

/// The containers of the target, from `responseObject` when it holds the pod spec (the
/// API server has applied defaults and generated the name by then), else from
/// `requestObject`.
///
/// A body of the resource that does not decode as one is a `Shape` error located in the
/// record, except for a patch document: patches come in four formats and a JSON patch
/// (an array) or a merge patch that does not fit is simply skipped. A merge patch that
/// does fit is read like an object: the containers it names carry the fields it sets,
/// and what it does not set stays `None`.
fn pod_object<'a>(
    text: &'a str,
    bodies: Bodies<'a>,
    target: &Target<'_>,
    is_patch: bool,
) -> Result<Option<PodObject<'a>>, DecodeError> {
    let Some(at) = target.known.and_then(|k| k.pod_spec) else {
        return Ok(None);
    };
    let bodies = [
        (bodies.response, "responseObject", false),
        (bodies.request, "requestObject", is_patch),
    ];
    for (body, field, patch_document) in bodies {
        let Some(body) = body.filter(|b| b.get().starts_with('{')) else {
            continue;
        };
        let object: RawPodObject<'a> = match serde_json::from_str(body.get()) {
            Ok(object) => object,
            Err(_) if patch_document => continue,
            Err(e) => return Err(nested_error(text, body, field, e)),
        };
        if !target.is_target_kind(object.kind.as_ref().map(|k| &*k.0)) {
            continue;
        }
        // The old `EphemeralContainers` body says nothing about the pod itself.
        let (spec, full_object) = if object.kind.as_ref().is_some_and(|k| k.0 == "EphemeralContainers") {
            let spec = RawPodSpec {
                ephemeral_containers: object.ephemeral_containers,
                ..RawPodSpec::default()
            };
            (Some(spec), false)
        } else {
            (object.spec.and_then(|s| s.pod_spec_at(at)), !patch_document)
        };
        let Some(spec) = spec else {
            continue;
        };
        let containers = pod_containers(spec, full_object, target.subresource == Some(EPHEMERAL));
        return Ok(Some(PodObject { kind: object.kind, metadata: object.metadata, containers }));
    }
    Ok(None)
}

/// Kind and metadata of the first body that is the target object itself.
fn object_head<'a>(
    bodies: Bodies<'a>,
    target: &Target<'_>,
    is_patch: bool,
) -> Option<RawObjectHead<'a>> {
    [(bodies.response, false), (bodies.request, is_patch)]
        .into_iter()
        // A patch document's metadata is the change, not the object.
        .filter(|(_, patch_document)| !patch_document)
        .filter_map(|(body, _)| body.filter(|b| b.get().starts_with('{')))
        .filter_map(|body| serde_json::from_str::<RawObjectHead<'a>>(body.get()).ok())
        .find(|head| target.is_target_kind(head.kind.as_ref().map(|k| &*k.0)))
}

/// A decode error inside a body, located in the whole record.
fn nested_error(text: &str, body: &RawValue, field: &str, err: serde_json::Error) -> DecodeError {
    let inner = body.get();
    // The body is a slice of `text` (serde_json borrows raw values from the input).
    let start = (inner.as_ptr() as usize)
        .checked_sub(text.as_ptr() as usize)
        .filter(|&s| s <= text.len())
        .unwrap_or(0);
    // serde_json counts lines from 1 and columns from 1, in bytes.
    let line_start = match err.line() {
        0 | 1 => 0,
        n => inner.match_indices('\n').nth(n - 2).map_or(0, |(i, _)| i + 1),
    };
    let offset = (start + line_start + err.column().saturating_sub(1)).min(text.len());
    let line_begin = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let column = u32::try_from(offset - line_begin + 1).unwrap_or(u32::MAX);
    let mut error = DecodeError::from_json(Source::K8sAudit, err);
    if let DecodeError::Shape { column: at, message, .. } | DecodeError::Syntax { column: at, message } =
        &mut error
    {
        *at = column;
        message.insert_str(0, &format!("{field}: "));
    }
    error
}

impl<'a> RawPodSpec<'a> {
    fn pod_spec_at(self, at: PodSpecAt) -> Option<RawPodSpec<'a>> {
        match at {
            PodSpecAt::Spec => Some(self),
            PodSpecAt::Template => self.template?.spec.map(|s| *s),
            PodSpecAt::JobTemplate => (*self.job_template?.spec?).pod_spec_at(PodSpecAt::Template),
        }
    }
}

/// A hostPath volume of the pod, and whether any container mounts it.
struct HostVolume<'a> {
    name: Cow<'a, str>,
    path: Cow<'a, str>,
    mounted: bool,
}

/// Every container of a pod spec with the pod-level settings copied onto it.
///
/// `full_object` says the spec is a whole object rather than a patch. `hostPID`,
/// `hostNetwork` and `hostIPC` are plain `bool`s with `omitempty` in the Kubernetes API,
/// so the API server never writes `false`: in a whole object their absence *is* false.
/// In a patch, absence means "not changed" and stays `None`.
///
/// `only_ephemeral` keeps just the ephemeral containers (the `ephemeralcontainers`
/// subresource can change nothing else), while the others still count as mounting
/// their volumes.
fn pod_containers<'a>(
    spec: RawPodSpec<'a>,
    full_object: bool,
    only_ephemeral: bool,
) -> Vec<Container<'a>> {
    let unset = full_object.then_some(false);
    let pod = SecurityContext {
        host_pid: spec.host_pid.or(unset),
        host_network: spec.host_network.or(unset),
        host_ipc: spec.host_ipc.or(unset),
        restart_policy: spec.restart_policy.map(|s| restart_policy(s.0)),
        ..SecurityContext::default()
    };
    let pod_user = spec.security_context.and_then(|s| s.run_as_user);
    let mut host_volumes: Vec<HostVolume<'a>> = spec
        .volumes
        .unwrap_or_default()
        .into_iter()
        .filter_map(|v| {
            Some(HostVolume {
                name: v.name?.0,
                path: v.host_path?.path?.0,
                mounted: false,
            })
        })
        .collect();

    let lists = [
        (spec.containers, ContainerRole::Main),
        (spec.init_containers, ContainerRole::Init),
        (spec.ephemeral_containers, ContainerRole::Ephemeral),
    ];
    let mut out = Vec::new();
    for (list, role) in lists {
        let keep = !only_ephemeral || role == ContainerRole::Ephemeral;
        for raw in list.into_iter().flatten() {
            let container = container(raw, role, &pod, pod_user, &mut host_volumes);
            if keep {
                out.push(container);
            }
        }
    }

    // A hostPath volume no container mounts is still on the node with the pod.
    for volume in host_volumes.iter().filter(|v| !v.mounted) {
        for c in &mut out {
            c.security.host_mounts.push(HostMount {
                host_path: volume.path.clone(),
                container_path: None,
                read_only: false,
            });
        }
    }
    out
}

fn container<'a>(
    raw: RawContainer<'a>,
    role: ContainerRole,
    pod: &SecurityContext<'a>,
    pod_user: Option<i64>,
    host_volumes: &mut [HostVolume<'a>],
) -> Container<'a> {
    let (privileged, user, cap_add) = match raw.security_context {
        Some(s) => (
            s.privileged,
            s.run_as_user,
            s.capabilities.and_then(|c| c.add).map(strings).unwrap_or_default(),
        ),
        None => (None, None, Vec::new()),
    };
    let mut host_mounts = Vec::new();
    for mount in raw.volume_mounts.into_iter().flatten() {
        let Some(volume) = mount
            .name
            .as_ref()
            .and_then(|n| host_volumes.iter_mut().find(|v| v.name == n.0))
        else {
            continue;
        };
        volume.mounted = true;
        let host_path = match mount.sub_path.map(|s| s.0).filter(|s| !s.is_empty()) {
            Some(sub) => Cow::Owned(format!("{}/{sub}", volume.path.trim_end_matches('/'))),
            None => volume.path.clone(),
        };
        host_mounts.push(HostMount {
            host_path,
            container_path: mount.mount_path.map(|s| s.0),
            read_only: mount.read_only.unwrap_or(false),
        });
    }
    let restart_policy = match role {
        ContainerRole::Main => pod.restart_policy.clone(),
        ContainerRole::Init => raw.restart_policy.map(|s| restart_policy(s.0)),
        ContainerRole::Ephemeral => None,
    };
    Container {
        id: None,
        name: raw.name.map(|s| s.0),
        image: non_empty(raw.image).map(ImageRef::lenient),
        role,
        security: SecurityContext {
            privileged,
            host_pid: pod.host_pid,
            host_network: pod.host_network,
            host_ipc: pod.host_ipc,
            cap_add,
            host_mounts,
            user: user.or(pod_user).map(|u| Cow::Owned(u.to_string())),
            restart_policy,
            entrypoint: raw.command.map(strings),
            command: raw.args.map(strings),
        },
    }
}

fn restart_policy(name: Cow<'_, str>) -> RestartPolicy<'_> {
    RestartPolicy { name, max_retries: None }
}

fn strings(list: Vec<Str<'_>>) -> Vec<Cow<'_, str>> {
    list.into_iter().map(|s| s.0).collect()
}

/// The exec/attach parameters of a `requestURI` query.
struct ExecQuery<'a> {
    /// Every `command=`, in order: the argv of the process to start.
    command: Vec<Cow<'a, str>>,
    /// The first `container=`; kubectl repeats it.
    container: Option<Cow<'a, str>>,
}

impl<'a> ExecQuery<'a> {
    /// Borrows from the URI when it came unescaped from the record.
    fn of(uri: &Cow<'a, str>) -> ExecQuery<'a> {
        match uri {
            Cow::Borrowed(uri) => ExecQuery::parse(uri),
            Cow::Owned(uri) => {
                let query = ExecQuery::parse(uri);
                ExecQuery {
                    command: query.command.into_iter().map(|c| Cow::Owned(c.into_owned())).collect(),
                    container: query.container.map(|c| Cow::Owned(c.into_owned())),
                }
            }
        }
    }

    fn parse(uri: &'a str) -> ExecQuery<'a> {
        let mut query = ExecQuery { command: Vec::new(), container: None };
        for (key, value) in query_pairs(uri) {
            match key {
                "command" => query.command.push(percent_decode(value)),
                "container" if query.container.is_none() => {
                    query.container = Some(percent_decode(value)).filter(|c| !c.is_empty());
                }
                _ => {}
            }
        }
        query
    }

    fn process(&self) -> Option<Process<'a>> {
        let executable = self.command.first()?.clone();
        let command_line = match self.command.as_slice() {
            [one] => one.clone(),
            args => Cow::Owned(args.join(" ")),
        };
        Some(Process {
            executable: Some(executable),
            args: self.command.clone(),
            command_line: Some(command_line),
            ..Process::default()
        })
    }
}

/// `key=value` pairs of the query part of a request URI, values still encoded.
fn query_pairs(uri: &str) -> impl Iterator<Item = (&str, &str)> {
    let query = uri.split_once('?').map_or("", |(_, q)| q);
    let query = query.split_once('#').map_or(query, |(q, _)| q);
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
}

/// Whether the query asks for a watch the way the API server reads it: a `watch`
/// parameter whose first value is not `false` or `0`.
fn watch_requested(uri: &str) -> bool {
    query_pairs(uri)
        .find(|(key, _)| *key == "watch")
        .is_some_and(|(_, value)| !value.eq_ignore_ascii_case("false") && value != "0")
}

/// `application/x-www-form-urlencoded` decoding: `+` is a space, `%XX` a byte. A `%`
/// not followed by two hex digits is kept as written; bytes that do not form UTF-8 are
/// replaced.
fn percent_decode(value: &str) -> Cow<'_, str> {
    if !value.contains(['%', '+']) {
        return Cow::Borrowed(value);
    }
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match (bytes.get(i + 1).and_then(hex), bytes.get(i + 2).and_then(hex)) {
                (Some(hi), Some(lo)) => {
                    out.push((hi << 4) | lo);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    match String::from_utf8(out) {
        Ok(s) => Cow::Owned(s),
        Err(e) => Cow::Owned(String::from_utf8_lossy(e.as_bytes()).into_owned()),
    }
}

fn hex(b: &u8) -> Option<u8> {
    char::from(*b).to_digit(16).and_then(|d| u8::try_from(d).ok())
}
