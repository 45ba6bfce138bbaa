//! Kubernetes pod specs read into containers: the one reading every source that carries
//! a pod spec shares (audit events from any cluster, GKE's Cloud Audit Logs, Cloud Run's
//! Knative-shaped templates).
//!
//! What a rule needs about a pod (privileged, host namespaces, hostPath mounts, added
//! capabilities, user, commands) is spread over the pod spec and its containers; it is
//! read here into one [`Container`] per container, with the pod-level settings copied onto
//! each, so a rule reads one place whatever the source. The spec is reached through a
//! whole object (`spec`, a workload's `spec.template.spec`, a CronJob's
//! `spec.jobTemplate.spec.template.spec`, see [`PodSpecAt`]), a merge patch read the same
//! way, or a JSON patch ([`json_patch`]).

mod json_patch;

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

pub(crate) use json_patch::spec as json_patch_spec;

use super::borrowed::{Str, non_empty, strings};
use super::kubernetes::PodSpecAt;
use super::security::{capabilities, restart_policy};
use crate::model::ImageRef;
use crate::model::{Container, ContainerRole, HostMount, SecurityContext};

/// A `PodSpec`, and the two workload fields that lead to one: one struct serves every
/// level because the field names of `DeploymentSpec`, `JobSpec` and `CronJobSpec` do not
/// collide with those of `PodSpec`.
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RawPodSpec<'a> {
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
pub(crate) struct RawContainer<'a> {
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

impl<'a> RawPodSpec<'a> {
    /// The pod spec inside an object's `spec`, for an object that keeps it `at`.
    pub(crate) fn at(self, at: PodSpecAt) -> Option<RawPodSpec<'a>> {
        match at {
            PodSpecAt::Spec => Some(self),
            PodSpecAt::Template => self.template?.spec.map(|s| *s),
            PodSpecAt::JobTemplate => (*self.job_template?.spec?).at(PodSpecAt::Template),
        }
    }

    /// A spec that says only which ephemeral containers there are (the
    /// `EphemeralContainers` body of Kubernetes 1.16 to 1.22).
    pub(crate) fn ephemeral(list: Option<Vec<RawContainer<'a>>>) -> RawPodSpec<'a> {
        RawPodSpec {
            ephemeral_containers: list,
            ..RawPodSpec::default()
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
pub(crate) fn containers<'a>(
    spec: RawPodSpec<'a>,
    full_object: bool,
    only_ephemeral: bool,
) -> Vec<Container<'a>> {
    let unset = full_object.then_some(false);
    let pod = SecurityContext {
        host_pid: spec.host_pid.or(unset),
        host_network: spec.host_network.or(unset),
        host_ipc: spec.host_ipc.or(unset),
        restart_policy: spec.restart_policy.and_then(|s| restart_policy(s.0, None)),
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
                .map(|add| capabilities(add.into_iter().map(|c| c.0)))
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
        ContainerRole::Init => raw.restart_policy.and_then(|s| restart_policy(s.0, None)),
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

/// The containers of a JSON list of Kubernetes-style containers (`name`, `image`,
/// `command`, `args`, `securityContext`, ...) that sits outside a pod spec, such as a
/// Cloud Run revision template's: nothing is said about the pod around them.
pub(crate) fn container_list<'a>(
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
    Ok(containers(spec, false, false))
}
