//! The Kubernetes API's vocabulary, for every source that speaks of a Kubernetes request:
//! audit events (raw, EKS, AKS), GKE's Cloud Audit Logs, Falco's `k8s_audit` alerts and
//! `kubectl` command lines.
//!
//! A request names a resource (`pods`, `deployments.apps`) and a verb; the model speaks
//! of kinds (`Pod`, `Deployment`) and actions (`workload-create`, `container-exec`). One
//! table of kinds and one mapping from verb to action serve every source, so a pod create
//! is the same `workload-create` of a `Pod` whoever reported it.

use std::borrow::Cow;

use crate::model::Action;

/// The `exec` subresource of a pod.
pub(crate) const EXEC: &str = "exec";
/// The `attach` subresource of a pod.
pub(crate) const ATTACH: &str = "attach";
/// The `ephemeralcontainers` subresource of a pod (`kubectl debug`).
pub(crate) const EPHEMERAL: &str = "ephemeralcontainers";

const CORE: &[&str] = &[""];
/// `extensions` served Deployments, DaemonSets and ReplicaSets until Kubernetes 1.16.
const APPS: &[&str] = &["apps", "extensions"];
const BATCH: &[&str] = &["batch"];
const RBAC: &[&str] = &["rbac.authorization.k8s.io"];
const AUTHORIZATION: &[&str] = &["authorization.k8s.io"];

/// A built-in resource: its name in the API, the API groups that serve it (`""` is the
/// core group), the other names `kubectl` accepts for it (singular, short names) and
/// the kind of its objects.
struct Resource {
    plural: &'static str,
    groups: &'static [&'static str],
    aliases: &'static [&'static str],
    kind: &'static str,
}

const fn resource(
    plural: &'static str,
    groups: &'static [&'static str],
    aliases: &'static [&'static str],
    kind: &'static str,
) -> Resource {
    Resource {
        plural,
        groups,
        aliases,
        kind,
    }
}

/// The built-in resources crowsnest names. The kind is named from here even when a
/// request has no body (Metadata level, delete, exec), so one resource always gives one
/// `workload.kind`.
const RESOURCES: &[Resource] = &[
    resource("pods", CORE, &["po", "pod"], "Pod"),
    resource("deployments", APPS, &["deploy", "deployment"], "Deployment"),
    resource("daemonsets", APPS, &["ds", "daemonset"], "DaemonSet"),
    resource("statefulsets", APPS, &["sts", "statefulset"], "StatefulSet"),
    resource("replicasets", APPS, &["rs", "replicaset"], "ReplicaSet"),
    resource(
        "replicationcontrollers",
        CORE,
        &["rc", "replicationcontroller"],
        "ReplicationController",
    ),
    resource("jobs", BATCH, &["job"], "Job"),
    resource("cronjobs", BATCH, &["cj", "cronjob"], "CronJob"),
    resource("configmaps", CORE, &["cm", "configmap"], "ConfigMap"),
    resource("secrets", CORE, &["secret"], "Secret"),
    resource("services", CORE, &["svc", "service"], "Service"),
    resource(
        "serviceaccounts",
        CORE,
        &["sa", "serviceaccount"],
        "ServiceAccount",
    ),
    resource("namespaces", CORE, &["ns", "namespace"], "Namespace"),
    resource("nodes", CORE, &["no", "node"], "Node"),
    resource(
        "persistentvolumes",
        CORE,
        &["pv", "persistentvolume"],
        "PersistentVolume",
    ),
    resource(
        "persistentvolumeclaims",
        CORE,
        &["pvc", "persistentvolumeclaim"],
        "PersistentVolumeClaim",
    ),
    resource("roles", RBAC, &["role"], "Role"),
    resource("rolebindings", RBAC, &["rolebinding"], "RoleBinding"),
    resource("clusterroles", RBAC, &["clusterrole"], "ClusterRole"),
    resource(
        "clusterrolebindings",
        RBAC,
        &["clusterrolebinding"],
        "ClusterRoleBinding",
    ),
    resource(
        "selfsubjectrulesreviews",
        AUTHORIZATION,
        &[],
        "SelfSubjectRulesReview",
    ),
    resource(
        "selfsubjectaccessreviews",
        AUTHORIZATION,
        &[],
        "SelfSubjectAccessReview",
    ),
];

/// The kind of a built-in `resource` in `group`, as a request names it. An absent
/// `apiGroup` is accepted for any group (hand-written and re-exported events drop it); a
/// present one must match, so `pods.metrics.k8s.io` or a custom `deployments` resource
/// is not read as a workload.
pub(crate) fn known_kind(resource: &str, group: Option<&str>) -> Option<&'static str> {
    RESOURCES
        .iter()
        .find(|r| r.plural == resource && group.is_none_or(|g| r.groups.contains(&g)))
        .map(|r| r.kind)
}

/// The kind of a resource as a person types it to `kubectl` (`po`, `pod`, `pods`,
/// `deployments.apps`), so a rule reads the same kind as for an audit event; an unknown
/// resource is kept as written, without its API group suffix.
pub(crate) fn typed_kind(typed: &str) -> Cow<'static, str> {
    let name = typed.split('.').next().unwrap_or_default();
    let lower = name.to_ascii_lowercase();
    RESOURCES
        .iter()
        .find(|r| r.plural == lower || r.aliases.contains(&lower.as_str()))
        .map_or_else(|| Cow::Owned(name.to_string()), |r| Cow::Borrowed(r.kind))
}

/// Where objects of a kind keep their pod spec.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum PodSpecAt {
    /// Pod: `spec`.
    Spec,
    /// Workloads: `spec.template.spec`.
    Template,
    /// CronJob: `spec.jobTemplate.spec.template.spec`.
    JobTemplate,
}

/// Where objects of a built-in `kind` keep a pod spec: pods and the workloads that
/// template one.
pub(crate) fn pod_spec_at(kind: &str) -> Option<PodSpecAt> {
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

/// What a request was about, as far as its resource and subresource say.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target<'r> {
    pub(crate) subresource: Option<&'r str>,
    /// The kind of a built-in resource.
    pub(crate) known: Option<&'static str>,
}

impl<'r> Target<'r> {
    pub(crate) fn new(
        resource: Option<&str>,
        group: Option<&str>,
        subresource: Option<&'r str>,
    ) -> Self {
        Target {
            subresource,
            known: resource.and_then(|r| known_kind(r, group)),
        }
    }

    pub(crate) fn has_pod_spec(&self) -> bool {
        self.known.and_then(pod_spec_at).is_some()
    }

    /// Whether a body of this kind is the target object itself (rather than a `Status`,
    /// `DeleteOptions`, a list, or the body of a subresource such as `Scale`).
    pub(crate) fn is_target_kind(&self, kind: Option<&str>) -> bool {
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

/// The action of a request. `get` and `create` on `exec`/`attach` are both the exec:
/// kubectl before 1.30 connects with a POST (`create`), 1.30 and later with a WebSocket
/// GET (`get`). `watch_query` says the request URI asked for a watch (`?watch=true`).
///
/// Creating a `SelfSubjectRulesReview` or `SelfSubjectAccessReview` (`kubectl auth
/// can-i --list`, `kubectl auth can-i create pods`) asks the API server what the caller
/// may do: discovery by another route, so it is a `ResourceList` of the review kind.
pub(crate) fn action(verb: &str, target: &Target<'_>, watch_query: bool) -> Action {
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

/// The kind of a Kubernetes user name: `serviceaccount` (`system:serviceaccount:ns:name`),
/// `node` (`system:node:<node>`, a kubelet) or `user` (people, and the control plane's
/// own `system:*` users); `None` when there is no name.
pub(crate) fn principal_kind(name: &str) -> Option<&'static str> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_api_name_and_by_typed_name() {
        assert_eq!(known_kind("pods", Some("")), Some("Pod"));
        assert_eq!(
            known_kind("deployments", Some("extensions")),
            Some("Deployment")
        );
        assert_eq!(known_kind("deployments", Some("example.com")), None);
        assert_eq!(known_kind("pods", None), Some("Pod"));
        assert_eq!(known_kind("po", None), None, "short names are kubectl's");
        assert_eq!(typed_kind("po"), "Pod");
        assert_eq!(typed_kind("Pods"), "Pod");
        assert_eq!(typed_kind("deployments.apps"), "Deployment");
        assert_eq!(typed_kind("rc"), "ReplicationController");
        assert_eq!(typed_kind("widgets.example.com"), "widgets");
    }

    #[test]
    fn actions() {
        let pods = Target::new(Some("pods"), None, None);
        let exec = Target::new(Some("pods"), None, Some(EXEC));
        let cm = Target::new(Some("configmaps"), None, None);
        assert_eq!(action("create", &pods, false), Action::WorkloadCreate);
        assert_eq!(
            action("deletecollection", &pods, false),
            Action::WorkloadDelete
        );
        assert_eq!(action("get", &exec, false), Action::ContainerExec);
        assert_eq!(action("list", &pods, true), Action::ResourceWatch);
        assert_eq!(action("create", &cm, false), Action::Other);
        assert_eq!(action("", &pods, false), Action::Other);
    }

    #[test]
    fn principal_kinds() {
        assert_eq!(
            principal_kind("system:serviceaccount:ns:sa"),
            Some("serviceaccount")
        );
        assert_eq!(principal_kind("system:node:n1"), Some("node"));
        assert_eq!(principal_kind("alice"), Some("user"));
        assert_eq!(principal_kind(""), None);
    }
}
