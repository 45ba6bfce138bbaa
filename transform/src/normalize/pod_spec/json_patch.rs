//! JSON patches (RFC 6902) read for the pod spec they write.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::{RawCapabilities, RawContainer, RawContainerSecurityContext, RawPodSpec, RawVolume};
use crate::normalize::borrowed::Str;
use crate::normalize::kubernetes::PodSpecAt;

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
pub(crate) fn spec<'a>(body: &'a RawValue, at: PodSpecAt) -> Option<RawPodSpec<'a>> {
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
