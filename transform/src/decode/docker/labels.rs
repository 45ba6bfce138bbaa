//! The Kubernetes labels a Docker container of a pod carries.

use std::borrow::Cow;

use serde::Deserialize;

use crate::model::Workload;
use crate::normalize::borrowed::{Str, non_empty};

/// The labels the kubelet's Docker runtime (dockershim, cri-dockerd) puts on every
/// container of a pod. Read from an event's `Actor.Attributes`, a create body's
/// `Labels` and inspect output's `Config.Labels`.
#[derive(Default, Deserialize)]
pub(crate) struct KubernetesLabels<'a> {
    #[serde(rename = "io.kubernetes.pod.name", borrow)]
    pub(super) pod_name: Option<Str<'a>>,
    #[serde(rename = "io.kubernetes.pod.namespace", borrow)]
    pub(super) pod_namespace: Option<Str<'a>>,
    #[serde(rename = "io.kubernetes.pod.uid", borrow)]
    pub(super) pod_uid: Option<Str<'a>>,
    #[serde(rename = "io.kubernetes.container.name", borrow)]
    pub(super) container_name: Option<Str<'a>>,
}

impl<'a> KubernetesLabels<'a> {
    /// The pod the container belongs to, when the labels name one, and the container's
    /// name inside the pod (which is the name rules want, not `k8s_<name>_<pod>_...`).
    pub(crate) fn into_parts(self) -> (Option<Workload<'a>>, Option<Cow<'a, str>>) {
        let name = non_empty(self.pod_name);
        let namespace = non_empty(self.pod_namespace);
        let workload = (name.is_some() || namespace.is_some()).then(|| Workload {
            kind: Cow::Borrowed("Pod"),
            name,
            namespace,
            uid: non_empty(self.pod_uid),
            owner: None,
        });
        (workload, non_empty(self.container_name))
    }
}
