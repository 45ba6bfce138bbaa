//! Azure Activity Log records about Container Instances (ACI).
//!
//! Two shapes carry the same event:
//!
//! - the **diagnostic-settings export** (Event Hub, storage account): `time`,
//!   `resourceId`, `operationName` (a string), `category`, `resultType` (`Start`,
//!   `Accept`, `Success`, `Failure`), `resultSignature`, `callerIpAddress`,
//!   `correlationId`, `identity{claims, authorization}`, `level`, `properties{statusCode,
//!   entity, message, requestbody?}`;
//! - the **REST API / `az monitor activity-log list`** shape: `eventTimestamp`,
//!   `operationName{value, localizedValue}`, `status{value}` (`Started`, `Accepted`,
//!   `Succeeded`, `Failed`), `subStatus{value}`, `caller`, `claims`, `authorization`,
//!   `httpRequest{clientIpAddress}`, `subscriptionId`, `resourceGroupName`,
//!   `properties{statusCode, requestbody?, responseBody?}`.
//!
//! Both are read by one struct; the localizable strings accept either a plain string or
//! the `{value, localizedValue}` object.
//!
//! Azure Resource Manager logs each write, delete or action at least twice, `Started`
//! (or `Accepted`) and then `Succeeded` or `Failed`, all with the same `correlationId`.
//! Only the final record is evaluated, so one operation raises an alert once.
//!
//! The operation says what happened: `containerGroups/write` creates a group (or updates
//! it, when the status code is `OK` rather than `Created`), `/start/action`,
//! `/restart/action`, `/stop/action` and `/delete` act on the whole group,
//! `containers/exec/action` and `containers/attach/action` on one container (named in
//! the resource id). The container specification is only there when the record carries
//! the request body (`properties.requestbody`, a string holding the group's JSON); then
//! each container's image, `command` (which replaces the image's entrypoint, as a
//! Kubernetes `command` does), `securityContext` and the group's `restartPolicy` are read
//! from it. Without it the containers are unknown, not unprivileged.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};

use crate::decode::{DecodeError, Decoded, Decoder, Detect, Format, Keys};
use crate::model::ImageRef;
use crate::model::{
    Action, Container, ContainerRole, Event, Principal, Process, SecurityContext, Source, Workload,
};
use crate::normalize::borrowed::{Str, non_empty};
use crate::normalize::process;
use crate::normalize::security::{capabilities, restart_policy};
use crate::time::parse_rfc3339_ns;

pub(crate) const FORMAT: Format = Format {
    source: Source::AzureActivity,
    logsource: ("azure", "activitylogs"),
    about: "Azure Activity Log (Container Instances)",
    detect: Detect {
        json: &[
            Keys::all(&["\"operationName\":"]),
            Keys::all(&["\"log_s\":"]),
        ],
        text: None,
    },
    raw_roots: &[
        "time",
        "resourceId",
        "operationName",
        "category",
        "resultType",
        "resultSignature",
        "callerIpAddress",
        "correlationId",
        "identity",
        "level",
        "properties",
        "durationMs",
        "caller",
        "eventTimestamp",
        "status",
        "subStatus",
        "claims",
        "authorization",
        "subscriptionId",
        "resourceGroupName",
        "resourceProviderName",
        "eventDataId",
        "submissionTimestamp",
        "tenantId",
    ],
    decode: Decoder::One(decode),
};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawActivity<'a> {
    /// Diagnostic export.
    #[serde(borrow)]
    time: Option<Str<'a>>,
    /// REST.
    #[serde(borrow)]
    event_timestamp: Option<Str<'a>>,
    #[serde(borrow)]
    resource_id: Option<Str<'a>>,
    #[serde(borrow)]
    operation_name: Localizable<'a>,
    /// Diagnostic export: `Start`, `Accept`, `Success`, `Failure`.
    #[serde(borrow)]
    result_type: Option<Str<'a>>,
    /// Diagnostic export: `Started.`, `Succeeded.Created`, `Failed.Conflict`.
    #[serde(borrow)]
    result_signature: Option<Str<'a>>,
    /// REST: `Started`, `Accepted`, `Succeeded`, `Failed`.
    #[serde(borrow)]
    status: Option<Localizable<'a>>,
    /// REST: `Created`, `OK`, `Conflict`, ...
    #[serde(borrow)]
    sub_status: Option<Localizable<'a>>,
    #[serde(borrow)]
    caller_ip_address: Option<Str<'a>>,
    #[serde(borrow)]
    http_request: Option<RawHttpRequest<'a>>,
    #[serde(borrow)]
    correlation_id: Option<Str<'a>>,
    /// Diagnostic export: `identity.claims`.
    #[serde(borrow)]
    identity: Option<RawIdentity<'a>>,
    /// REST.
    #[serde(borrow)]
    claims: Option<RawClaims<'a>>,
    /// REST: the UPN, or the service principal's object id.
    #[serde(borrow)]
    caller: Option<Str<'a>>,
    #[serde(borrow)]
    subscription_id: Option<Str<'a>>,
    #[serde(borrow)]
    resource_group_name: Option<Str<'a>>,
    #[serde(borrow)]
    properties: Option<RawProperties<'a>>,
    /// `Administrative`, `Policy`, ...; read to refuse the AKS audit categories, whose
    /// records are resource logs with an `operationName` too.
    #[serde(borrow)]
    category: Option<Localizable<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawHttpRequest<'a> {
    #[serde(borrow)]
    client_ip_address: Option<Str<'a>>,
}

#[derive(Deserialize)]
struct RawIdentity<'a> {
    #[serde(borrow)]
    claims: Option<RawClaims<'a>>,
}

#[derive(Deserialize)]
struct RawClaims<'a> {
    #[serde(
        rename = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn",
        borrow
    )]
    upn_uri: Option<Str<'a>>,
    #[serde(borrow)]
    upn: Option<Str<'a>>,
    #[serde(borrow)]
    name: Option<Str<'a>>,
    #[serde(
        rename = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
        borrow
    )]
    name_uri: Option<Str<'a>>,
    /// The application a service principal signed in as.
    #[serde(borrow)]
    appid: Option<Str<'a>>,
    #[serde(
        rename = "http://schemas.microsoft.com/identity/claims/objectidentifier",
        borrow
    )]
    oid_uri: Option<Str<'a>>,
    #[serde(borrow)]
    oid: Option<Str<'a>>,
    #[serde(borrow)]
    ipaddr: Option<Str<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawProperties<'a> {
    #[serde(borrow)]
    status_code: Option<Str<'a>>,
    /// The request body as a JSON string, when the provider logs it.
    #[serde(alias = "requestBody", borrow)]
    requestbody: Option<Str<'a>>,
    #[serde(alias = "responsebody", borrow)]
    response_body: Option<Str<'a>>,
}

/// A container group as `PUT .../containerGroups/{name}` sends it.
#[derive(Deserialize)]
struct RawGroupBody<'b> {
    #[serde(borrow)]
    location: Option<Str<'b>>,
    #[serde(borrow)]
    properties: Option<RawGroupProperties<'b>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawGroupProperties<'b> {
    #[serde(borrow)]
    containers: Option<Vec<RawAciContainer<'b>>>,
    #[serde(borrow)]
    init_containers: Option<Vec<RawAciContainer<'b>>>,
    /// `Always`, `OnFailure`, `Never`.
    #[serde(borrow)]
    restart_policy: Option<Str<'b>>,
}

#[derive(Deserialize)]
struct RawAciContainer<'b> {
    #[serde(borrow)]
    name: Option<Str<'b>>,
    #[serde(borrow)]
    properties: Option<RawAciContainerProperties<'b>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawAciContainerProperties<'b> {
    #[serde(borrow)]
    image: Option<Str<'b>>,
    #[serde(borrow)]
    command: Option<Vec<Str<'b>>>,
    #[serde(borrow)]
    security_context: Option<RawAciSecurityContext<'b>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawAciSecurityContext<'b> {
    privileged: Option<bool>,
    run_as_user: Option<i64>,
    #[serde(borrow)]
    capabilities: Option<RawAciCapabilities<'b>>,
}

#[derive(Deserialize)]
struct RawAciCapabilities<'b> {
    #[serde(borrow)]
    add: Option<Vec<Str<'b>>>,
}

/// The body of `containers/exec/action`.
#[derive(Deserialize)]
struct RawExecBody<'b> {
    #[serde(borrow)]
    command: Option<Str<'b>>,
}

/// Azure's localizable string: `"x"` in the diagnostic export, `{"value": "x",
/// "localizedValue": "..."}` in the REST shape.
struct Localizable<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Localizable<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct LocalizableVisitor;

        impl<'de> Visitor<'de> for LocalizableVisitor {
            type Value = Localizable<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an object with a string `value`")
            }

            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(Localizable(Cow::Borrowed(s)))
            }

            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Ok(Localizable(Cow::Owned(s.to_owned())))
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut value = None;
                while let Some(key) = map.next_key::<Str<'de>>()? {
                    if key.0 == "value" {
                        value = Some(map.next_value::<Str<'de>>()?.0);
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                value
                    .map(Localizable)
                    .ok_or_else(|| de::Error::missing_field("value"))
            }
        }

        deserializer.deserialize_any(LocalizableVisitor)
    }
}

/// The provider whose operations are read.
const PROVIDER: &str = "microsoft.containerinstance/";

/// What an ACI operation does (the operation name after the provider, lower case).
fn classify(operation: &str) -> Option<Action> {
    let rest = strip_prefix_ignore_case(operation, PROVIDER)?;
    let lower = rest.to_ascii_lowercase();
    Some(match lower.as_str() {
        "containergroups/write" => Action::WorkloadCreate,
        "containergroups/delete" => Action::WorkloadDelete,
        "containergroups/start/action" => Action::ContainerStart,
        "containergroups/stop/action" => Action::ContainerStop,
        "containergroups/restart/action" => Action::ContainerRestart,
        "containergroups/containers/exec/action" => Action::ContainerExec,
        "containergroups/containers/attach/action" => Action::ContainerAttach,
        _ => Action::Other,
    })
}

fn strip_prefix_ignore_case<'s>(s: &'s str, prefix: &str) -> Option<&'s str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| s.get(prefix.len()..))
        .flatten()
}

fn decode(text: &str) -> Result<Decoded<'_>, DecodeError> {
    let raw: RawActivity<'_> =
        serde_json::from_str(text).map_err(|e| DecodeError::from_json(Source::AzureActivity, e))?;

    if let Some(category) = raw
        .category
        .as_ref()
        .filter(|c| c.0.starts_with("kube-audit"))
    {
        return Err(DecodeError::shape(
            Source::AzureActivity,
            1,
            format!(
                "category {:?} is an AKS audit resource log, not the Activity Log",
                category.0
            ),
        ));
    }
    let operation = raw.operation_name.0;
    let aci = classify(&operation);
    let mut action = aci.unwrap_or(Action::Other);

    // `Start`/`Started`, `Accept`/`Accepted` come first; the final record is
    // `Success`/`Succeeded` or `Failure`/`Failed`.
    let status = non_empty(raw.result_type).or_else(|| raw.status.map(|s| s.0));
    let failed = status
        .as_deref()
        .is_some_and(|s| matches!(s, "Failure" | "Failed"));
    let evaluate = !status
        .as_deref()
        .is_some_and(|s| matches!(s, "Start" | "Started" | "Accept" | "Accepted"));

    let (status_code, requestbody, response_body) = match raw.properties {
        Some(p) => (
            non_empty(p.status_code),
            non_empty(p.requestbody),
            non_empty(p.response_body),
        ),
        None => (None, None, None),
    };
    let code = status_code
        .or_else(|| raw.sub_status.map(|s| s.0).filter(|s| !s.is_empty()))
        .or_else(|| {
            non_empty(raw.result_signature)
                .and_then(|sig| sig.split_once('.').map(|(_, c)| c.to_owned()))
                .filter(|c| !c.is_empty())
                .map(Cow::Owned)
        });
    if action == Action::WorkloadCreate && code.as_deref() == Some("OK") {
        action = Action::WorkloadUpdate;
    }

    let mut event = Event::new(Source::AzureActivity, action, operation);
    event.time_ns = raw
        .time
        .or(raw.event_timestamp)
        .and_then(|t| parse_rfc3339_ns(&t.0));
    event.request_id = non_empty(raw.correlation_id);
    event.response_code = code.as_deref().and_then(http_status);
    if failed {
        event.error = code.clone().or(status);
    }

    let resource = non_empty(raw.resource_id);
    let parts = resource
        .as_deref()
        .map(ResourceParts::of)
        .unwrap_or_default();
    event.account = resource
        .as_ref()
        .and_then(|r| slice(r, parts.subscription.clone()))
        .or_else(|| non_empty(raw.subscription_id));
    let claims = raw.identity.and_then(|i| i.claims).or(raw.claims);
    let http_ip = raw
        .http_request
        .and_then(|h| non_empty(h.client_ip_address));
    event.principal = principal(
        claims,
        non_empty(raw.caller),
        non_empty(raw.caller_ip_address).or(http_ip),
    );

    if aci.is_some() {
        let group = resource
            .as_ref()
            .and_then(|r| slice(r, parts.group.clone()));
        let resource_group = resource
            .as_ref()
            .and_then(|r| slice(r, parts.resource_group.clone()))
            .or_else(|| non_empty(raw.resource_group_name));
        if group.is_some() {
            event.workload = Some(Workload {
                kind: Cow::Borrowed("ContainerGroup"),
                name: group,
                namespace: resource_group,
                uid: None,
                owner: None,
            });
        }
        let container = resource
            .as_ref()
            .and_then(|r| slice(r, parts.container.clone()));
        match event.action {
            Action::WorkloadCreate | Action::WorkloadUpdate => {
                // The request body says what was asked for; a response body (REST
                // shape) what was made.
                let body = requestbody.or(response_body);
                if let Some(group) = body.as_deref().and_then(read_group) {
                    event.region = group.region;
                    event.containers = group.containers;
                }
            }
            Action::ContainerExec | Action::ContainerAttach => {
                event.process = requestbody.as_deref().and_then(read_exec);
                event.containers.push(Container {
                    name: container,
                    ..Container::default()
                });
            }
            _ => {}
        }
    }
    Ok(Decoded {
        event,
        evaluate,
        settles: evaluate,
        evaluate_once: false,
        raw: None,
    })
}

fn principal<'a>(
    claims: Option<RawClaims<'a>>,
    caller: Option<Cow<'a, str>>,
    source_ip: Option<Cow<'a, str>>,
) -> Option<Principal<'a>> {
    let (upn, appid, display, uid, claimed_ip) = match claims {
        Some(c) => (
            non_empty(c.upn_uri).or_else(|| non_empty(c.upn)),
            non_empty(c.appid),
            non_empty(c.name).or_else(|| non_empty(c.name_uri)),
            non_empty(c.oid_uri).or_else(|| non_empty(c.oid)),
            non_empty(c.ipaddr),
        ),
        None => (None, None, None, None, None),
    };
    let (name, kind) = match (upn, appid) {
        (Some(upn), _) => (Some(upn), Some("User")),
        (None, Some(appid)) => (Some(appid), Some("ServicePrincipal")),
        (None, None) => (caller.or(display), None),
    };
    let source_ip = source_ip.or(claimed_ip);
    if name.is_none() && source_ip.is_none() {
        return None;
    }
    Some(Principal {
        name: name.unwrap_or_default(),
        uid,
        groups: Vec::new(),
        kind: kind.map(Cow::Borrowed),
        source_ip,
        user_agent: None,
    })
}

/// What a container group's JSON says, owned (the JSON was unescaped from a string).
struct Group {
    region: Option<Cow<'static, str>>,
    containers: Vec<Container<'static>>,
}

/// The containers of a group body; `None` when it is not one (logged bodies can be cut
/// short), which leaves the containers unknown.
fn read_group(body: &str) -> Option<Group> {
    let raw: RawGroupBody<'_> = serde_json::from_str(body).ok()?;
    let region = non_empty(raw.location).map(|l| Cow::Owned(l.into_owned()));
    let properties = raw.properties?;
    let restart = non_empty(properties.restart_policy);
    let containers = [
        (ContainerRole::Init, properties.init_containers),
        (ContainerRole::Main, properties.containers),
    ]
    .into_iter()
    .flat_map(|(role, list)| list.into_iter().flatten().map(move |c| (role, c)))
    .map(|(role, c)| aci_container(role, c, restart.clone()).into_owned())
    .collect();
    Some(Group { region, containers })
}

fn aci_container<'b>(
    role: ContainerRole,
    raw: RawAciContainer<'b>,
    restart: Option<Cow<'b, str>>,
) -> Container<'b> {
    let mut security = SecurityContext {
        restart_policy: restart.and_then(|name| restart_policy(name, None)),
        ..SecurityContext::default()
    };
    let mut image = None;
    if let Some(p) = raw.properties {
        image = non_empty(p.image).map(ImageRef::lenient);
        security.entrypoint = p
            .command
            .map(|c| c.into_iter().map(|s| s.0).collect::<Vec<_>>());
        if let Some(sc) = p.security_context {
            security.privileged = sc.privileged;
            security.user = sc.run_as_user.map(|u| Cow::Owned(u.to_string()));
            security.cap_add = capabilities(
                sc.capabilities
                    .and_then(|c| c.add)
                    .into_iter()
                    .flatten()
                    .map(|c| c.0),
            );
        }
    }
    Container {
        id: None,
        name: non_empty(raw.name),
        image,
        role,
        security,
    }
}

/// The command an exec body runs.
fn read_exec(body: &str) -> Option<Process<'static>> {
    let raw: RawExecBody<'_> = serde_json::from_str(body).ok()?;
    let command = non_empty(raw.command)?.into_owned();
    process::from_line(Cow::Owned(command))
}

/// Where the parts of an ARM resource id are, by byte range:
/// `/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.ContainerInstance/
/// containerGroups/{group}[/containers/{container}]`. Segment names are matched without
/// regard to case (exports differ in it).
#[derive(Default)]
struct ResourceParts {
    subscription: Option<Range<usize>>,
    resource_group: Option<Range<usize>>,
    group: Option<Range<usize>>,
    container: Option<Range<usize>>,
}

impl ResourceParts {
    fn of(id: &str) -> ResourceParts {
        let mut parts = ResourceParts::default();
        let mut segments = Vec::new();
        let mut start = 0;
        for (i, b) in id.bytes().enumerate() {
            if b == b'/' {
                segments.push(start..i);
                start = i + 1;
            }
        }
        segments.push(start..id.len());
        for pair in segments.windows(2) {
            let [key, value] = pair else { continue };
            let Some(key_text) = id.get(key.clone()) else {
                continue;
            };
            if value.is_empty() {
                continue;
            }
            let slot = if key_text.eq_ignore_ascii_case("subscriptions") {
                &mut parts.subscription
            } else if key_text.eq_ignore_ascii_case("resourceGroups") {
                &mut parts.resource_group
            } else if key_text.eq_ignore_ascii_case("containerGroups") {
                &mut parts.group
            } else if key_text.eq_ignore_ascii_case("containers") {
                &mut parts.container
            } else {
                continue;
            };
            slot.get_or_insert(value.clone());
        }
        parts
    }
}

fn slice<'a>(s: &Cow<'a, str>, range: Option<Range<usize>>) -> Option<Cow<'a, str>> {
    let range = range?;
    match s {
        Cow::Borrowed(b) => b.get(range).map(Cow::Borrowed),
        Cow::Owned(o) => o.get(range).map(|p| Cow::Owned(p.to_owned())),
    }
}

/// The HTTP status an ARM status code names (`Created`), or a numeric one.
fn http_status(code: &str) -> Option<u16> {
    Some(match code {
        "OK" => 200,
        "Created" => 201,
        "Accepted" => 202,
        "NoContent" => 204,
        "BadRequest" => 400,
        "Unauthorized" => 401,
        "Forbidden" => 403,
        "NotFound" => 404,
        "Conflict" => 409,
        "PreconditionFailed" => 412,
        "TooManyRequests" => 429,
        "InternalServerError" => 500,
        "ServiceUnavailable" => 503,
        other => return other.parse().ok(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GROUP_ID: &str = "/subscriptions/0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d/resourceGroups/rg-batch/providers/Microsoft.ContainerInstance/containerGroups/miner-01";

    fn diag(operation: &str, result: &str, status: &str, properties_extra: &str) -> String {
        format!(
            r#"{{"time":"2024-05-14T09:40:12.3456789Z","resourceId":"{GROUP_ID}","operationName":"{operation}","category":"Administrative","resultType":"{result}","resultSignature":"{result}.{status}","durationMs":"812","callerIpAddress":"198.51.100.77","correlationId":"5d1c7b2a-0e3f-4a9b-8c6d-2f1e0a9b8c7d","identity":{{"authorization":{{"scope":"{GROUP_ID}","action":"{operation}","evidence":{{"role":"Contributor"}}}},"claims":{{"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn":"mallory@contoso.example","name":"Mallory","http://schemas.microsoft.com/identity/claims/objectidentifier":"7e6d5c4b-3a29-4180-9f7e-6d5c4b3a2918","ipaddr":"198.51.100.77"}}}},"level":"Information","location":"global","properties":{{"statusCode":"{status}","serviceRequestId":null,"entity":"{GROUP_ID}","message":"{operation}","hierarchy":"tenant/sub"{properties_extra}}}}}"#
        )
    }

    #[test]
    fn a_start_is_evaluated_once() {
        let op = "Microsoft.ContainerInstance/containerGroups/start/action";
        let started = diag(op, "Start", "", "");
        let d = decode(&started).unwrap();
        assert!(!d.evaluate);
        assert_eq!(d.event.action, Action::ContainerStart);
        let done = diag(op, "Success", "NoContent", "");
        assert_eq!(crate::decode::detect(&done), Some(Source::AzureActivity));
        let d = crate::decode::decode_one(&done).unwrap();
        assert!(d.evaluate);
        let e = d.event;
        assert_eq!(e.source, Source::AzureActivity);
        assert_eq!(e.action, Action::ContainerStart);
        assert_eq!(e.raw_action, op);
        assert_eq!(e.time_ns, Some(1_715_679_612_345_678_900));
        assert_eq!(e.response_code, Some(204));
        assert_eq!(e.error, None);
        assert_eq!(
            e.account.as_deref(),
            Some("0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d")
        );
        assert_eq!(
            e.request_id.as_deref(),
            Some("5d1c7b2a-0e3f-4a9b-8c6d-2f1e0a9b8c7d")
        );
        let w = e.workload.unwrap();
        assert_eq!(
            (&*w.kind, w.name.as_deref(), w.namespace.as_deref()),
            ("ContainerGroup", Some("miner-01"), Some("rg-batch"))
        );
        let p = e.principal.unwrap();
        assert_eq!(p.name, "mallory@contoso.example");
        assert_eq!(p.kind.as_deref(), Some("User"));
        assert_eq!(
            p.uid.as_deref(),
            Some("7e6d5c4b-3a29-4180-9f7e-6d5c4b3a2918")
        );
        assert_eq!(p.source_ip.as_deref(), Some("198.51.100.77"));
    }

    #[test]
    fn a_write_with_its_request_body() {
        let body = r#"{\"location\":\"eastus\",\"properties\":{\"osType\":\"Linux\",\"restartPolicy\":\"Always\",\"containers\":[{\"name\":\"miner\",\"properties\":{\"image\":\"docker.io/xmrig/xmrig:6.21.0\",\"command\":[\"/bin/sh\",\"-c\",\"xmrig -o pool.example:3333\"],\"resources\":{\"requests\":{\"cpu\":4,\"memoryInGB\":8}},\"securityContext\":{\"privileged\":true,\"capabilities\":{\"add\":[\"CAP_SYS_ADMIN\"]}}}}],\"initContainers\":[{\"name\":\"fetch\",\"properties\":{\"image\":\"busybox:1.36\"}}]}}"#;
        let text = diag(
            "Microsoft.ContainerInstance/containerGroups/write",
            "Success",
            "Created",
            &format!(r#","requestbody":"{body}""#),
        );
        let e = decode(&text).unwrap().event;
        assert_eq!(e.action, Action::WorkloadCreate);
        assert_eq!(e.response_code, Some(201));
        assert_eq!(e.region.as_deref(), Some("eastus"));
        assert_eq!(e.containers.len(), 2);
        let init = &e.containers[0];
        assert_eq!(
            (init.name.as_deref(), init.role),
            (Some("fetch"), ContainerRole::Init)
        );
        let miner = &e.containers[1];
        assert_eq!(miner.name.as_deref(), Some("miner"));
        assert_eq!(miner.image.as_ref().unwrap().repository, "xmrig/xmrig");
        let s = &miner.security;
        assert_eq!(s.privileged, Some(true));
        assert_eq!(s.cap_add, ["SYS_ADMIN"]);
        assert_eq!(s.restart_policy.as_ref().map(|r| &*r.name), Some("Always"));
        assert_eq!(s.entrypoint.as_ref().map(Vec::len), Some(3));
        assert_eq!(s.command, None);

        // The same write answered `OK` is an update; a cut-short body leaves the
        // containers unknown.
        let text = diag(
            "Microsoft.ContainerInstance/containerGroups/write",
            "Success",
            "OK",
            r#","requestbody":"{\"location\":\"eas""#,
        );
        let e = decode(&text).unwrap().event;
        assert_eq!(e.action, Action::WorkloadUpdate);
        assert!(e.containers.is_empty());
    }

    #[test]
    fn the_rest_shape() {
        let text = r#"{"authorization":{"action":"Microsoft.ContainerInstance/containerGroups/containers/exec/action","scope":"/subscriptions/0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d/resourceGroups/RG-BATCH/providers/Microsoft.ContainerInstance/containerGroups/miner-01/containers/miner"},"caller":"3f2e1d0c-9b8a-4765-8432-1f0e9d8c7b6a","channels":"Operation","claims":{"appid":"c0ffee00-1234-4abc-9def-0123456789ab","http://schemas.microsoft.com/identity/claims/objectidentifier":"3f2e1d0c-9b8a-4765-8432-1f0e9d8c7b6a"},"correlationId":"9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d","eventDataId":"11111111-2222-4333-8444-555555555555","eventName":{"value":"EndRequest","localizedValue":"End request"},"category":{"value":"Administrative","localizedValue":"Administrative"},"eventTimestamp":"2024-05-14T09:45:01.1234567Z","httpRequest":{"clientRequestId":"abc","clientIpAddress":"203.0.113.200","method":"POST"},"id":"/subscriptions/.../events/1","level":"Informational","operationName":{"value":"Microsoft.ContainerInstance/containerGroups/containers/exec/action","localizedValue":"Execute command"},"properties":{"statusCode":"OK","requestbody":"{\"command\":\"/bin/bash -i\",\"terminalSize\":{\"rows\":40,\"cols\":120}}"},"resourceGroupName":"RG-BATCH","resourceId":"/subscriptions/0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d/resourceGroups/RG-BATCH/providers/Microsoft.ContainerInstance/containerGroups/miner-01/containers/miner","status":{"value":"Succeeded","localizedValue":"Succeeded"},"subStatus":{"value":"OK","localizedValue":"OK (HTTP Status Code: 200)"},"submissionTimestamp":"2024-05-14T09:46:30Z","subscriptionId":"0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d","tenantId":"aaaabbbb-0000-4ccc-8ddd-eeeeffff0000"}"#;
        let d = crate::decode::decode_one(text).unwrap();
        assert!(d.evaluate);
        let e = d.event;
        assert_eq!(e.action, Action::ContainerExec);
        assert_eq!(e.response_code, Some(200));
        assert_eq!(e.containers[0].name.as_deref(), Some("miner"));
        let p = e.process.unwrap();
        assert_eq!(p.command_line.as_deref(), Some("/bin/bash -i"));
        assert_eq!(p.executable.as_deref(), Some("/bin/bash"));
        let who = e.principal.unwrap();
        assert_eq!(who.name, "c0ffee00-1234-4abc-9def-0123456789ab");
        assert_eq!(who.kind.as_deref(), Some("ServicePrincipal"));
        assert_eq!(who.source_ip.as_deref(), Some("203.0.113.200"));
        assert_eq!(e.workload.unwrap().namespace.as_deref(), Some("RG-BATCH"));
    }

    #[test]
    fn failures_and_other_operations() {
        let text = diag(
            "Microsoft.ContainerInstance/containerGroups/delete",
            "Failure",
            "Conflict",
            "",
        );
        let d = decode(&text).unwrap();
        assert!(d.evaluate);
        assert_eq!(d.event.action, Action::WorkloadDelete);
        assert_eq!(d.event.error.as_deref(), Some("Conflict"));
        assert_eq!(d.event.response_code, Some(409));

        let text = diag(
            "MICROSOFT.CONTAINERINSTANCE/CONTAINERGROUPS/RESTART/ACTION",
            "Success",
            "NoContent",
            "",
        );
        assert_eq!(
            decode(&text).unwrap().event.action,
            Action::ContainerRestart
        );

        let text = diag(
            "Microsoft.Storage/storageAccounts/write",
            "Success",
            "OK",
            "",
        );
        let e = decode(&text).unwrap().event;
        assert_eq!(e.action, Action::Other);
        assert!(e.workload.is_none());
        assert_eq!(
            e.account.as_deref(),
            Some("0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d")
        );
    }

    #[test]
    fn resource_ids() {
        let id = "/SUBSCRIPTIONS/S1/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.CONTAINERINSTANCE/CONTAINERGROUPS/CG/containers/";
        let p = ResourceParts::of(id);
        let get = |r: Option<Range<usize>>| r.map(|r| &id[r]);
        assert_eq!(get(p.subscription), Some("S1"));
        assert_eq!(get(p.resource_group), Some("RG"));
        assert_eq!(get(p.group), Some("CG"));
        assert_eq!(get(p.container), None);
        let p = ResourceParts::of("");
        assert!(p.subscription.is_none());
    }

    #[test]
    fn wrong_shapes_are_errors() {
        for text in [
            r#"{"time":"2024-05-14T09:40:12Z","resourceId":"/x"}"#,
            r#"{"operationName":5}"#,
            r#"{"operationName":{"localizedValue":"Create"}}"#,
            r#"{"operationName":"x","properties":{"statusCode":{}}}"#,
        ] {
            assert!(
                matches!(
                    decode(text),
                    Err(DecodeError::Shape {
                        format: Source::AzureActivity,
                        ..
                    })
                ),
                "{text}"
            );
        }
    }
}
