//! The derived fields (`crowsnest.*`): answered per event from the pack's policy and the
//! engine's state, read by rules like any other field. Each is declared once here, with
//! its name, type, meaning and how it is answered; rule lookup, the pack's field checks
//! and `docs/fields.md` read this table.
//!
//! Absent means "cannot be judged" (a thin Docker event that says nothing about mounts
//! has no `crowsnest.mount.sensitive`), never "no". Per-container fields hold one value
//! per container, matched like `container.*`.

use std::borrow::Cow;
use std::sync::LazyLock;

use rsigma_eval::EventValue;

use super::event::RuleEvent;
use crate::model::fields::Type;
use crate::model::{Container, Event, ImageRef, SecurityContext};

/// How a derived field is answered for one event.
pub(crate) type Answer = for<'v, 'e, 'a> fn(&'v RuleEvent<'e, 'a>) -> Option<EventValue<'e>>;

/// One derived field.
pub(crate) struct DerivedField {
    /// The full name, `crowsnest.` included.
    pub(crate) name: &'static str,
    pub(crate) ty: Type,
    /// One value per container, matched like `container.*`.
    pub(crate) per_container: bool,
    /// What it means, for the reference (Markdown).
    pub(crate) doc: &'static str,
    pub(crate) answer: Answer,
}

const fn field(
    name: &'static str,
    ty: Type,
    per_container: bool,
    doc: &'static str,
    answer: Answer,
) -> DerivedField {
    DerivedField {
        name,
        ty,
        per_container,
        doc,
        answer,
    }
}

/// Looks a derived field up by its full name.
pub(crate) fn derived(name: &str) -> Option<&'static DerivedField> {
    static BY_NAME: LazyLock<Vec<&'static DerivedField>> = LazyLock::new(|| {
        let mut sorted: Vec<&'static DerivedField> = DERIVED.iter().collect();
        sorted.sort_by_key(|f| f.name);
        sorted
    });
    BY_NAME
        .binary_search_by(|f| f.name.cmp(name))
        .ok()
        .map(|i| BY_NAME[i])
}

fn bool(v: bool) -> Option<EventValue<'static>> {
    Some(EventValue::Bool(v))
}

fn is_latest(i: &ImageRef<'_>) -> bool {
    i.digest.is_none()
        && i.tag
            .as_deref()
            .is_none_or(|t| t.eq_ignore_ascii_case("latest"))
}

fn namespace<'e>(e: &'e Event<'_>) -> Option<&'e str> {
    e.workload.as_ref()?.namespace.as_deref()
}

/// Whether a container's launch attributes are risky by themselves; `None` when the
/// source said nothing about them.
fn risky(v: &RuleEvent<'_, '_>, c: &Container<'_>) -> Option<bool> {
    let s: &SecurityContext<'_> = &c.security;
    let p = v.policy;
    (!s.is_unknown()).then(|| {
        s.privileged == Some(true)
            || s.host_pid == Some(true)
            || s.host_network == Some(true)
            || s.host_mounts
                .iter()
                .any(|m| p.mount_sensitive(&m.host_path))
            || s.cap_add.iter().any(|cap| p.cap_dangerous(cap))
    })
}

/// Risky attributes, and someone or something unvetted behind them: an image off the
/// allow-list or unpinned `latest`, or a principal who is not an admin or a controller.
fn launch_risky<'e>(v: &RuleEvent<'e, '_>) -> Option<EventValue<'e>> {
    let p = v.policy;
    let containers = v.containers();
    if !containers.iter().any(|c| risky(v, c) == Some(true)) {
        return (!containers.is_empty()).then_some(EventValue::Bool(false));
    }
    let image_unvetted = containers.iter().any(|c| {
        c.image
            .as_ref()
            .is_some_and(|i| !p.image_approved(i) || is_latest(i))
    });
    let principal_unvetted = v
        .event
        .principal
        .as_ref()
        .is_some_and(|pr| !p.is_admin(pr) && !p.is_system_controller(pr));
    bool(image_unvetted || principal_unvetted)
}

/// What a container belongs to, one key across sources, for correlations to group by:
/// its pod (namespace/name), else its container id, else its ECS task or group.
fn subject(e: &Event<'_>) -> Option<String> {
    if let Some(w) = &e.workload
        && w.kind.eq_ignore_ascii_case("Pod")
        && let (Some(ns), Some(name)) = (&w.namespace, &w.name)
    {
        return Some(format!("pod:{ns}/{name}"));
    }
    if let Some(id) = e.containers.iter().find_map(|c| c.id.as_deref()) {
        let id = id.rsplit_once("://").map_or(id, |(_, rest)| rest);
        return Some(format!("container:{id}"));
    }
    e.workload.as_ref().and_then(|w| {
        Some(format!(
            "{}:{}",
            w.kind.to_ascii_lowercase(),
            w.uid.as_deref().or(w.name.as_deref())?
        ))
    })
}

const FIRST_SEEN: &str = "first sighting after the learning period";
const NAMESPACE: &str = "the workload's namespace is a system or a sensitive one";

/// Every derived field, in the order the reference lists them.
pub(crate) static DERIVED: &[DerivedField] = &[
    field(
        "crowsnest.image.approved",
        Type::Bool,
        true,
        "the image's registry is approved, or the image matches an approved image glob or digest",
        |v| v.per_container(|c| c.image.as_ref().map(|i| v.policy.image_approved(i))),
    ),
    field(
        "crowsnest.image.latest",
        Type::Bool,
        true,
        "tagged `latest`, or neither tagged nor pinned by digest",
        |v| v.per_container(|c| c.image.as_ref().map(is_latest)),
    ),
    field(
        "crowsnest.image.unpinned",
        Type::Bool,
        true,
        "not pinned by digest",
        |v| v.per_container(|c| c.image.as_ref().map(|i| i.digest.is_none())),
    ),
    field(
        "crowsnest.registry.approved",
        Type::Bool,
        true,
        "the registry is in `registries.approved`",
        |v| v.per_container(|c| c.image.as_ref().map(|i| v.policy.registry_approved(i))),
    ),
    field(
        "crowsnest.principal.admin",
        Type::Bool,
        false,
        "the principal or one of its groups is an admin",
        |v| bool(v.policy.is_admin(v.event.principal.as_ref()?)),
    ),
    field(
        "crowsnest.principal.system_controller",
        Type::Bool,
        false,
        "the principal is a controller or system component",
        |v| bool(v.policy.is_system_controller(v.event.principal.as_ref()?)),
    ),
    field(
        "crowsnest.principal.approved",
        Type::Bool,
        false,
        "approved to start containers in the workload's namespace (or the cluster); admins and controllers always are",
        |v| {
            let e = v.event;
            let scope = namespace(e).or(e.cluster.as_deref())?;
            bool(
                v.policy
                    .principal_approved_for(scope, e.principal.as_ref()?),
            )
        },
    ),
    field(
        "crowsnest.namespace.system",
        Type::Bool,
        false,
        NAMESPACE,
        |v| bool(v.policy.namespace_system(namespace(v.event)?)),
    ),
    field(
        "crowsnest.namespace.sensitive",
        Type::Bool,
        false,
        NAMESPACE,
        |v| bool(v.policy.namespace_sensitive(namespace(v.event)?)),
    ),
    field(
        "crowsnest.mount.sensitive",
        Type::Bool,
        true,
        "a host mount is, contains or lies inside a sensitive host path (`/var` covers `/var/run/docker.sock`)",
        |v| {
            v.per_container(|c| {
                let mounts = &c.security.host_mounts;
                (!c.security.is_unknown()).then(|| {
                    mounts
                        .iter()
                        .any(|m| v.policy.mount_sensitive(&m.host_path))
                })
            })
        },
    ),
    field(
        "crowsnest.cap.dangerous",
        Type::Bool,
        true,
        "an added capability is a dangerous one (or `ALL`)",
        |v| {
            v.per_container(|c| {
                (!c.security.is_unknown()).then(|| {
                    c.security
                        .cap_add
                        .iter()
                        .any(|cap| v.policy.cap_dangerous(cap))
                })
            })
        },
    ),
    field(
        "crowsnest.container.root",
        Type::Bool,
        true,
        "runs as user 0 or `root`, or names no user (the image default, usually root)",
        |v| {
            v.per_container(|c| {
                (!c.security.is_unknown()).then(|| {
                    c.security.user.as_deref().is_none_or(|u| {
                        let user = u.split(':').next().unwrap_or(u);
                        user == "0" || user.eq_ignore_ascii_case("root")
                    })
                })
            })
        },
    ),
    field(
        "crowsnest.entrypoint.persistence",
        Type::Bool,
        true,
        "the entrypoint or command holds a persistence pattern from the policy",
        |v| {
            v.per_container(|c| {
                let s = &c.security;
                let words: Vec<&str> = s
                    .entrypoint
                    .iter()
                    .chain(s.command.iter())
                    .flatten()
                    .map(|w| w.as_ref())
                    .collect();
                (!words.is_empty()).then(|| v.policy.persistence_in(&words.join(" ")).is_some())
            })
        },
    ),
    field(
        "crowsnest.host.ci",
        Type::Bool,
        false,
        "the host is a CI runner or developer machine",
        |v| bool(v.policy.host_is_ci(v.event.host.as_deref()?)),
    ),
    field(
        "crowsnest.host.registry_expected",
        Type::Bool,
        true,
        "the image's registry is expected on CI hosts",
        |v| {
            v.per_container(|c| {
                c.image
                    .as_ref()
                    .map(|i| v.policy.registry_expected_on_ci(i))
            })
        },
    ),
    field(
        "crowsnest.host.entrypoint_expected",
        Type::Bool,
        true,
        "the entrypoint override is expected on CI hosts",
        |v| {
            v.per_container(|c| {
                c.security
                    .entrypoint
                    .as_ref()
                    .map(|ep| v.policy.entrypoint_expected_on_ci(&ep.join(" ")))
            })
        },
    ),
    field(
        "crowsnest.egress.allowed",
        Type::Bool,
        false,
        "the destination address is in an allowed CIDR or its name under an allowed domain",
        |v| {
            let n = v.event.network.as_ref()?;
            if n.dst_ip.is_none() && n.domain.is_none() {
                return None;
            }
            bool(
                v.policy
                    .egress_allowed(n.dst_ip.as_deref(), n.domain.as_deref()),
            )
        },
    ),
    field(
        "crowsnest.time.in_window",
        Type::Bool,
        false,
        "the event time falls inside a deployment window (always true when the policy has none)",
        |v| bool(v.policy.inside_window(v.event.time_ns?)),
    ),
    field(
        "crowsnest.container.stopped_for",
        Type::Int,
        false,
        "on a start: seconds the container had been stopped",
        |v| v.derived.stopped_for_secs.map(EventValue::Int),
    ),
    field(
        "crowsnest.container.since_start",
        Type::Int,
        false,
        "on a process or network event: seconds since its container started",
        |v| v.derived.since_start_secs.map(EventValue::Int),
    ),
    field(
        "crowsnest.container.first_action",
        Type::Bool,
        false,
        "the first process or connection seen from its container",
        |v| v.derived.first_action.map(EventValue::Bool),
    ),
    field(
        "crowsnest.container.created_by",
        Type::String,
        false,
        "the principal that created the container",
        |v| {
            v.derived
                .created_by
                .as_deref()
                .map(|p| EventValue::Str(Cow::Borrowed(p)))
        },
    ),
    field(
        "crowsnest.image.first_seen",
        Type::Bool,
        false,
        FIRST_SEEN,
        |v| v.derived.image_first_seen.map(EventValue::Bool),
    ),
    field(
        "crowsnest.registry.first_seen",
        Type::Bool,
        false,
        FIRST_SEEN,
        |v| v.derived.registry_first_seen.map(EventValue::Bool),
    ),
    field(
        "crowsnest.principal.first_seen",
        Type::Bool,
        false,
        FIRST_SEEN,
        |v| v.derived.principal_first_seen.map(EventValue::Bool),
    ),
    field(
        "crowsnest.launch.risky",
        Type::Bool,
        false,
        "a container has risky attributes (privileged, host PID or network, a sensitive mount, a dangerous capability) and the image is unapproved or unpinned `latest`, or the principal is neither an admin nor a controller",
        launch_risky,
    ),
    field(
        "crowsnest.container.reactivated",
        Type::Bool,
        false,
        "on a start: the container had been stopped at least the policy's `thresholds.stopped_for`",
        |v| bool(v.derived.stopped_for_secs? >= v.policy.thresholds.stopped_for_secs),
    ),
    field(
        "crowsnest.subject",
        Type::String,
        false,
        "what the container belongs to, one key across sources: `pod:<namespace>/<name>`, else `container:<id>`, else `<kind>:<uid or name>`; correlations group by it",
        |v| subject(v.event).map(|s| EventValue::Str(Cow::Owned(s))),
    ),
];
