//! The infrastructure catalogue (`infrastructure:` in `policy.yml`): well-known
//! components that do on purpose what the rules look for (the CNI runs privileged on the
//! host network, a CSI node plugin mounts the kubelet's directory, a CI runner execs into
//! its job pods), each described tightly enough that only that component, deployed the
//! way it is deployed, is quieted.
//!
//! An entry quiets an alert only when everything about the event fits it together:
//!
//! - a launch (a pod, or the workload whose template makes pods): its namespace is one of
//!   the entry's; every container's image is one of the entry's `registry/repository`
//!   names; no container has more privilege, host namespaces, host paths or capabilities
//!   than the entry allows; and its creator is the controller that owns it (the
//!   DaemonSet controller for a pod owned by `DaemonSet/calico-node`), or, for the
//!   workload itself, an approved deploy principal (Helm, Argo CD, Flux). When the engine
//!   saw who wrote the owning template, a pod is judged by that writer: a DaemonSet a
//!   person applied by hand does not make its pods infrastructure.
//! - an exec or attach: into a pod in the entry's namespaces, by one of the entry's exec
//!   principals, into a pod that same principal created (from state: a runner execs into
//!   its own job pods, not into anyone's).
//! - a read (get, list, watch): by one of the entry's readers, the component's own service
//!   accounts (an agent's informers, a GitOps controller comparing what it manages).
//!
//! A pack's `policy.yml` layers its `infrastructure:` over the built-in catalogue: its
//! entries add to it or replace the built-in entry of the same name, `disable` drops
//! built-in entries by name, and `builtin: false` starts from an empty catalogue.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::policy::{glob, normalize_path, path_within, strip_cap};
use crate::model::{Action, Container, Event};

/// `infrastructure:` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct CatalogueFile {
    /// Whether the built-in catalogue is the starting point (a pack's policy only).
    builtin: bool,
    /// Built-in entries dropped by name.
    disable: Vec<String>,
    /// Owner kind -> the principals that create what it owns (`DaemonSet` -> the
    /// DaemonSet controller's service account).
    controllers: BTreeMap<String, Vec<String>>,
    /// Principals that apply workload templates: Helm, Argo CD, Flux, a cloud's add-on
    /// manager.
    deploy_principals: Vec<String>,
    entries: Vec<Entry>,
}

impl Default for CatalogueFile {
    fn default() -> Self {
        CatalogueFile {
            builtin: true,
            disable: Vec::new(),
            controllers: BTreeMap::new(),
            deploy_principals: Vec::new(),
            entries: Vec::new(),
        }
    }
}

/// One component, as its public manifest deploys it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Entry {
    /// The entry's name, which the summary counts quieted alerts under and a pack
    /// overrides or disables it by.
    pub name: String,
    /// Why it needs what it is allowed: for the people who read the policy.
    #[allow(dead_code)]
    pub why: String,
    /// The public manifest or chart the entry was read from.
    #[allow(dead_code)]
    pub source: String,
    #[serde(default)]
    pub namespaces: Vec<String>,
    /// `registry/repository`, without tag or digest (`quay.io/cilium/cilium`). Globs are
    /// allowed but an exact name is the point: `docker.io/calico/node` is not
    /// `docker.io.evil.example/calico/node` nor `docker.io/calico-node`.
    #[serde(default)]
    pub images: Vec<String>,
    /// Owners of its pods and the workloads that are its templates, `Kind/name` globs
    /// (`DaemonSet/calico-node`, `ReplicaSet/coredns-*`, `Deployment/coredns`).
    #[serde(default)]
    pub owners: Vec<String>,
    #[serde(default)]
    pub allows: Allows,
    #[serde(default)]
    pub execs: Option<Execs>,
    #[serde(default)]
    pub reads: Option<Reads>,
}

/// What the component's containers may have.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct Allows {
    pub privileged: bool,
    pub host_network: bool,
    pub host_pid: bool,
    pub host_ipc: bool,
    /// Host paths it may mount: each mount must be one of these or below one.
    pub host_paths: Vec<String>,
    /// Capabilities it may add (`NET_ADMIN`; `CAP_` optional).
    pub capabilities: Vec<String>,
}

/// Who may exec into (or attach to) the component's pods.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Execs {
    /// Principals (globs); each may exec only into pods it created itself.
    pub by: Vec<String>,
}

/// Who reads (gets, lists, watches) what the component manages or watches: its own
/// service accounts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Reads {
    /// Principals (globs).
    pub by: Vec<String>,
}

/// The catalogue, merged and checked.
#[derive(Debug, Clone, Default)]
pub(crate) struct Catalogue {
    controllers: BTreeMap<String, Vec<String>>,
    deploy_principals: Vec<String>,
    entries: Vec<Entry>,
}

/// What state knows about the event's pod, for the judgement.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct History<'h> {
    /// Who created the pod an exec enters.
    pub pod_created_by: Option<&'h str>,
    /// Who last wrote the template the launched workload was made from (the top of its
    /// owner chain the engine saw).
    pub template_by: Option<&'h str>,
}

impl CatalogueFile {
    pub(crate) fn check(&self, errors: &mut Vec<String>) {
        for (i, e) in self.entries.iter().enumerate() {
            if e.name.trim().is_empty() {
                errors.push(format!("infrastructure entry {} has no name", i + 1));
            }
            if self.entries[..i].iter().any(|o| o.name == e.name) {
                errors.push(format!(
                    "infrastructure entry `{}` is listed twice; a name is an entry",
                    e.name
                ));
            }
            if e.namespaces.is_empty() {
                errors.push(format!(
                    "infrastructure entry `{}` names no namespace: an entry quiets only where \
                     the component runs",
                    e.name
                ));
            }
            if e.execs.is_none()
                && e.reads.is_none()
                && (e.images.is_empty() || e.owners.is_empty())
            {
                errors.push(format!(
                    "infrastructure entry `{}` needs `images` and `owners`, `execs` or `reads`",
                    e.name
                ));
            }
            for image in &e.images {
                if !image.contains('/')
                    || image.contains('@')
                    || image
                        .rsplit('/')
                        .next()
                        .is_some_and(|last| last.contains(':'))
                {
                    errors.push(format!(
                        "infrastructure entry `{}`: image `{image}` must be `registry/repository` \
                         without tag or digest",
                        e.name
                    ));
                }
            }
            for owner in &e.owners {
                if !owner.contains('/') {
                    errors.push(format!(
                        "infrastructure entry `{}`: owner `{owner}` must be `Kind/name`",
                        e.name
                    ));
                }
            }
        }
    }

    /// The catalogue this file makes on top of `builtin` (none for the built-in policy).
    pub(crate) fn merge(self, builtin: Option<&CatalogueFile>) -> Catalogue {
        let mut entries: Vec<Entry> = match builtin {
            Some(b) if self.builtin => b
                .entries
                .iter()
                .filter(|e| !self.disable.iter().any(|d| d == &e.name))
                .cloned()
                .collect(),
            _ => Vec::new(),
        };
        for entry in self.entries {
            match entries.iter_mut().find(|e| e.name == entry.name) {
                Some(slot) => *slot = entry,
                None => entries.push(entry),
            }
        }
        let inherit = builtin.filter(|_| self.builtin);
        let mut controllers = inherit.map(|b| b.controllers.clone()).unwrap_or_default();
        controllers.extend(self.controllers);
        let mut deploy_principals = inherit
            .map(|b| b.deploy_principals.clone())
            .unwrap_or_default();
        for p in self.deploy_principals {
            if !deploy_principals.contains(&p) {
                deploy_principals.push(p);
            }
        }
        Catalogue {
            controllers,
            deploy_principals,
            entries,
        }
    }
}

impl Catalogue {
    pub(crate) fn deploy_principal(&self, name: &str) -> bool {
        any_glob(&self.deploy_principals, name)
    }

    /// The entry that describes this event entirely, if any.
    pub(crate) fn quieting(&self, event: &Event<'_>, history: History<'_>) -> Option<&Entry> {
        let principal = event.principal.as_ref()?.name.as_ref();
        if matches!(
            event.action,
            Action::ResourceGet | Action::ResourceList | Action::ResourceWatch
        ) {
            return self
                .entries
                .iter()
                .find(|e| e.reads.as_ref().is_some_and(|r| any_glob(&r.by, principal)));
        }
        let workload = event.workload.as_ref()?;
        let namespace = workload.namespace.as_deref()?;
        match event.action {
            Action::ContainerExec | Action::ContainerAttach => {
                let creator = history.pod_created_by?;
                self.entries.iter().find(|e| {
                    e.execs.as_ref().is_some_and(|x| {
                        any_glob(&e.namespaces, namespace)
                            && any_glob(&x.by, principal)
                            && creator == principal
                    })
                })
            }
            Action::WorkloadCreate | Action::WorkloadUpdate | Action::WorkloadPatch => {
                if event.containers.is_empty() {
                    return None;
                }
                let made_by_controller = workload.owner.as_deref().and_then(|owner| {
                    let (kind, _) = owner.split_once('/')?;
                    let controllers = self
                        .controllers
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(kind))?
                        .1;
                    any_glob(controllers, principal).then_some(owner)
                });
                // A workload created by its owner's controller is judged by whoever wrote
                // the template at the top of the chain, when that was seen.
                let (owner, template_ok) = match made_by_controller {
                    Some(owner) => {
                        let ok = history.template_by.is_none_or(|t| {
                            self.deploy_principal(t)
                                || self.controllers.values().any(|c| any_glob(c, t))
                        });
                        (owner.to_string(), ok)
                    }
                    // A template (a DaemonSet, a Deployment) applied by a deploy principal.
                    None if workload.owner.is_none()
                        && !workload.kind.eq_ignore_ascii_case("Pod")
                        && self.deploy_principal(principal) =>
                    {
                        let name = workload.name.as_deref()?;
                        (format!("{}/{name}", workload.kind), true)
                    }
                    None => return None,
                };
                if !template_ok {
                    return None;
                }
                self.entries.iter().find(|e| {
                    any_glob(&e.namespaces, namespace)
                        && any_glob(&e.owners, &owner)
                        && event.containers.iter().all(|c| e.fits(c))
                })
            }
            _ => None,
        }
    }
}

impl Entry {
    /// Whether a container is this component's image with no more than it may have.
    fn fits(&self, c: &Container<'_>) -> bool {
        let Some(image) = &c.image else { return false };
        let name = format!("{}/{}", image.registry, image.repository);
        let s = &c.security;
        let a = &self.allows;
        any_glob(&self.images, &name)
            && (a.privileged || s.privileged != Some(true))
            && (a.host_network || s.host_network != Some(true))
            && (a.host_pid || s.host_pid != Some(true))
            && (a.host_ipc || s.host_ipc != Some(true))
            && s.devices.is_empty()
            && s.security_opt.is_empty()
            && s.cap_add.iter().all(|cap| {
                a.capabilities
                    .iter()
                    .any(|allowed| strip_cap(allowed).eq_ignore_ascii_case(strip_cap(cap)))
            })
            && s.host_mounts.iter().all(|m| {
                let path = normalize_path(&m.host_path);
                a.host_paths
                    .iter()
                    .any(|allowed| path_within(&path, &normalize_path(allowed)))
            })
    }
}

fn any_glob(patterns: &[String], value: &str) -> bool {
    patterns.iter().any(|p| glob(p, value))
}
