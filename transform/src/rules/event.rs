//! rsigma's view of a crowsnest [`Event`]: typed fields first, the raw record second.
//!
//! Rules address the normalized model with the names documented in
//! `docs/fields.md` (`container.privileged`, `principal.name`, `action`). Any other
//! path is looked up in the record's original JSON ([`raw_path`]), so rules written
//! for a source's raw shape (`objectRef.resource`) run unmodified.
//!
//! A pod carries several containers. By default a `container.*` field yields every
//! container's value and Sigma matches if any does; `focus` restricts the view to one
//! container, which is how an alert names the container that matched.

use std::borrow::Cow;
use std::slice;

use rsigma_eval::{Event as SigmaEvent, EventValue};
use serde_json::Value;

use super::raw_path;
use crate::emit;
use crate::model::{Container, Event};
use crate::policy::Policy;

/// What the engine's state knows about an event beyond the event itself; the
/// `crowsnest.*` fields that need history. `None` means "not known", never "no".
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Derived {
    /// On a start: how long the container had been stopped, in seconds.
    pub stopped_for_secs: Option<i64>,
    /// On a process or network event: seconds since its container started or was created.
    pub since_start_secs: Option<i64>,
    /// Whether this is the first process or connection seen from its container.
    pub first_action: Option<bool>,
    /// Who created the container, from state.
    pub created_by: Option<String>,
    /// First sighting of the image, its registry, the principal (after the learning period).
    pub image_first_seen: Option<bool>,
    pub registry_first_seen: Option<bool>,
    pub principal_first_seen: Option<bool>,
}

/// Derived fields a rule can read, answered from the policy and the engine's state.
pub(crate) const DERIVED_FIELDS: &[&str] = &[
    "crowsnest.image.approved",
    "crowsnest.image.latest",
    "crowsnest.image.unpinned",
    "crowsnest.registry.approved",
    "crowsnest.principal.admin",
    "crowsnest.principal.system_controller",
    "crowsnest.principal.approved",
    "crowsnest.namespace.system",
    "crowsnest.namespace.sensitive",
    "crowsnest.mount.sensitive",
    "crowsnest.cap.dangerous",
    "crowsnest.container.root",
    "crowsnest.entrypoint.persistence",
    "crowsnest.host.ci",
    "crowsnest.host.registry_expected",
    "crowsnest.host.entrypoint_expected",
    "crowsnest.egress.allowed",
    "crowsnest.time.in_window",
    "crowsnest.container.stopped_for",
    "crowsnest.container.since_start",
    "crowsnest.container.first_action",
    "crowsnest.container.created_by",
    "crowsnest.image.first_seen",
    "crowsnest.registry.first_seen",
    "crowsnest.principal.first_seen",
    "crowsnest.launch.risky",
    "crowsnest.container.reactivated",
    "crowsnest.subject",
];

/// Every normalized field name a rule can use, for load-time checks and docs.
pub(crate) const FIELDS: &[&str] = &[
    "source",
    "action",
    "action.raw",
    "host",
    "cluster",
    "request.id",
    "response.code",
    "error",
    "reason",
    "count",
    "account",
    "region",
    "principal.name",
    "principal.uid",
    "principal.groups",
    "principal.kind",
    "principal.source_ip",
    "principal.user_agent",
    "workload.kind",
    "workload.name",
    "workload.namespace",
    "workload.uid",
    "workload.owner",
    "container.id",
    "container.name",
    "container.role",
    "container.image",
    "container.image.registry",
    "container.image.repository",
    "container.image.tag",
    "container.image.digest",
    "container.privileged",
    "container.host_pid",
    "container.host_network",
    "container.host_ipc",
    "container.cap_add",
    "container.security_opt",
    "container.devices",
    "container.host_mounts",
    "container.host_mounts.container_path",
    "container.user",
    "container.restart_policy",
    "container.restart_policy.max_retries",
    "container.entrypoint",
    "container.command",
    "process.pid",
    "process.name",
    "process.executable",
    "process.args",
    "process.command_line",
    "process.user",
    "process.login_user",
    "process.cwd",
    "process.exit_code",
    "process.parent.pid",
    "process.parent.name",
    "process.parent.executable",
    "process.parent.command_line",
    "process.ancestors",
    "network.src_ip",
    "network.src_port",
    "network.dst_ip",
    "network.dst_port",
    "network.protocol",
    "network.domain",
    "network.bytes",
    "network.packets",
    "network.disposition",
    "network.dns.query_type",
    "network.dns.rcode",
    "network.dns.answers",
];

pub(crate) struct RuleEvent<'e, 'a> {
    pub event: &'e Event<'a>,
    /// The record's original text; empty for events that arrived already normalized.
    pub raw: &'e str,
    /// Restrict `container.*` fields to one container.
    pub focus: Option<usize>,
    pub policy: &'e Policy,
    pub derived: &'e Derived,
}

impl<'e, 'a> RuleEvent<'e, 'a> {
    pub fn new(
        event: &'e Event<'a>,
        raw: &'e str,
        policy: &'e Policy,
        derived: &'e Derived,
    ) -> Self {
        RuleEvent {
            event,
            raw,
            focus: None,
            policy,
            derived,
        }
    }

    pub fn focused(&self, index: usize) -> Self {
        RuleEvent {
            focus: Some(index),
            ..*self
        }
    }

    /// A per-container judgement: a bool per container (any-match, like `container.*`),
    /// absent when no container could be judged.
    fn per_container(
        &self,
        judge: impl Fn(&Container<'_>) -> Option<bool>,
    ) -> Option<EventValue<'e>> {
        let mut values: Vec<EventValue<'e>> = self
            .containers()
            .iter()
            .filter_map(&judge)
            .map(EventValue::Bool)
            .collect();
        match values.len() {
            0 => None,
            1 => values.pop(),
            _ => Some(EventValue::Array(values)),
        }
    }

    fn derived_field(&self, field: &str) -> Option<EventValue<'e>> {
        let e = self.event;
        let p = self.policy;
        let d = self.derived;
        let b = |v: bool| Some(EventValue::Bool(v));
        let int = |v: Option<i64>| v.map(EventValue::Int);
        let namespace = e.workload.as_ref().and_then(|w| w.namespace.as_deref());
        match field {
            "image.approved" => {
                self.per_container(|c| c.image.as_ref().map(|i| p.image_approved(i)))
            }
            "image.latest" => self.per_container(|c| {
                c.image.as_ref().map(|i| {
                    i.digest.is_none()
                        && i.tag
                            .as_deref()
                            .is_none_or(|t| t.eq_ignore_ascii_case("latest"))
                })
            }),
            "image.unpinned" => {
                self.per_container(|c| c.image.as_ref().map(|i| i.digest.is_none()))
            }
            "registry.approved" => {
                self.per_container(|c| c.image.as_ref().map(|i| p.registry_approved(i)))
            }
            "principal.admin" => e.principal.as_ref().and_then(|pr| b(p.is_admin(pr))),
            "principal.system_controller" => e
                .principal
                .as_ref()
                .and_then(|pr| b(p.is_system_controller(pr))),
            "principal.approved" => {
                let scope = namespace.or(e.cluster.as_deref())?;
                e.principal
                    .as_ref()
                    .and_then(|pr| b(p.principal_approved_for(scope, pr)))
            }
            "namespace.system" => namespace.and_then(|ns| b(p.namespace_system(ns))),
            "namespace.sensitive" => namespace.and_then(|ns| b(p.namespace_sensitive(ns))),
            "mount.sensitive" => self.per_container(|c| {
                let mounts = &c.security.host_mounts;
                (!c.security.is_unknown())
                    .then(|| mounts.iter().any(|m| p.mount_sensitive(&m.host_path)))
            }),
            "cap.dangerous" => self.per_container(|c| {
                (!c.security.is_unknown())
                    .then(|| c.security.cap_add.iter().any(|cap| p.cap_dangerous(cap)))
            }),
            "container.root" => self.per_container(|c| {
                (!c.security.is_unknown()).then(|| {
                    c.security.user.as_deref().is_none_or(|u| {
                        let user = u.split(':').next().unwrap_or(u);
                        user == "0" || user.eq_ignore_ascii_case("root")
                    })
                })
            }),
            "entrypoint.persistence" => self.per_container(|c| {
                let s = &c.security;
                let words: Vec<&str> = s
                    .entrypoint
                    .iter()
                    .chain(s.command.iter())
                    .flatten()
                    .map(|w| w.as_ref())
                    .collect();
                (!words.is_empty()).then(|| p.persistence_in(&words.join(" ")).is_some())
            }),
            "host.ci" => e.host.as_deref().and_then(|h| b(p.host_is_ci(h))),
            "host.registry_expected" => {
                self.per_container(|c| c.image.as_ref().map(|i| p.registry_expected_on_ci(i)))
            }
            "host.entrypoint_expected" => self.per_container(|c| {
                c.security
                    .entrypoint
                    .as_ref()
                    .map(|ep| p.entrypoint_expected_on_ci(&ep.join(" ")))
            }),
            "egress.allowed" => {
                let n = e.network.as_ref()?;
                if n.dst_ip.is_none() && n.domain.is_none() {
                    return None;
                }
                b(p.egress_allowed(n.dst_ip.as_deref(), n.domain.as_deref()))
            }
            "time.in_window" => e.time_ns.and_then(|t| b(p.inside_window(t))),
            "launch.risky" => {
                let risky = self.per_container(|c| {
                    let s = &c.security;
                    (!s.is_unknown()).then(|| {
                        s.privileged == Some(true)
                            || s.host_pid == Some(true)
                            || s.host_network == Some(true)
                            || s.host_mounts
                                .iter()
                                .any(|m| p.mount_sensitive(&m.host_path))
                            || s.cap_add.iter().any(|cap| p.cap_dangerous(cap))
                    })
                });
                let risky = matches!(&risky, Some(EventValue::Bool(true)))
                    || matches!(&risky, Some(EventValue::Array(v)) if v.iter().any(|x| matches!(x, EventValue::Bool(true))));
                if !risky {
                    return (!self.containers().is_empty()).then_some(EventValue::Bool(false));
                }
                // Risky attributes, and someone or something unvetted behind them: an
                // image off the allow-list or unpinned `latest`, or a principal who is
                // not an admin or a controller.
                let image_unvetted = self.containers().iter().any(|c| {
                    c.image.as_ref().is_some_and(|i| {
                        !p.image_approved(i)
                            || (i.digest.is_none()
                                && i.tag
                                    .as_deref()
                                    .is_none_or(|t| t.eq_ignore_ascii_case("latest")))
                    })
                });
                let principal_unvetted = e
                    .principal
                    .as_ref()
                    .is_some_and(|pr| !p.is_admin(pr) && !p.is_system_controller(pr));
                b(image_unvetted || principal_unvetted)
            }
            "container.reactivated" => d
                .stopped_for_secs
                .map(|s| EventValue::Bool(s >= p.thresholds.stopped_for_secs)),
            "subject" => subject(e).map(|s| EventValue::Str(Cow::Owned(s))),
            "container.stopped_for" => int(d.stopped_for_secs),
            "container.since_start" => int(d.since_start_secs),
            "container.first_action" => d.first_action.map(EventValue::Bool),
            "container.created_by" => d
                .created_by
                .as_deref()
                .map(|v| EventValue::Str(Cow::Borrowed(v))),
            "image.first_seen" => d.image_first_seen.map(EventValue::Bool),
            "registry.first_seen" => d.registry_first_seen.map(EventValue::Bool),
            "principal.first_seen" => d.principal_first_seen.map(EventValue::Bool),
            _ => None,
        }
    }

    fn containers(&self) -> &'e [Container<'a>] {
        match self.focus {
            Some(i) => self.event.containers.get(i).map_or(&[], slice::from_ref),
            None => &self.event.containers,
        }
    }

    fn container_field(&self, field: &str) -> Option<EventValue<'e>> {
        let mut values = Vec::new();
        for c in self.containers() {
            push_container_field(c, field, &mut values);
        }
        match values.len() {
            0 => None,
            1 if !is_list_field(field) => values.pop(),
            _ => Some(EventValue::Array(values)),
        }
    }
}

fn is_list_field(field: &str) -> bool {
    matches!(
        field,
        "cap_add" | "security_opt" | "devices" | "host_mounts" | "host_mounts.container_path"
    )
}

fn s(v: &str) -> EventValue<'_> {
    EventValue::Str(Cow::Borrowed(v))
}

fn opt_s<'e>(v: &'e Option<Cow<'_, str>>) -> Option<EventValue<'e>> {
    v.as_deref().map(s)
}

fn joined<'e>(v: &'e Option<Vec<Cow<'_, str>>>) -> Option<EventValue<'e>> {
    v.as_ref()
        .map(|parts| EventValue::Str(Cow::Owned(parts.join(" "))))
}

fn push_container_field<'e>(c: &'e Container<'_>, field: &str, out: &mut Vec<EventValue<'e>>) {
    let sec = &c.security;
    let value = match field {
        "id" => opt_s(&c.id),
        "name" => opt_s(&c.name),
        "role" => Some(EventValue::Str(Cow::Borrowed(c.role.as_str()))),
        "image" => c.image.as_ref().map(|i| s(&i.reference)),
        "image.registry" => c.image.as_ref().map(|i| s(&i.registry)),
        "image.repository" => c.image.as_ref().map(|i| s(&i.repository)),
        "image.tag" => c.image.as_ref().and_then(|i| opt_s(&i.tag)),
        "image.digest" => c.image.as_ref().and_then(|i| opt_s(&i.digest)),
        "privileged" => sec.privileged.map(EventValue::Bool),
        "host_pid" => sec.host_pid.map(EventValue::Bool),
        "host_network" => sec.host_network.map(EventValue::Bool),
        "host_ipc" => sec.host_ipc.map(EventValue::Bool),
        "user" => opt_s(&sec.user),
        "restart_policy" => sec.restart_policy.as_ref().map(|r| s(&r.name)),
        "restart_policy.max_retries" => sec
            .restart_policy
            .as_ref()
            .map(|r| EventValue::Int(i64::from(r.max_retries.unwrap_or(0)))),
        "entrypoint" => joined(&sec.entrypoint),
        "command" => joined(&sec.command),
        "cap_add" => {
            out.extend(sec.cap_add.iter().map(|v| s(v)));
            None
        }
        "security_opt" => {
            out.extend(sec.security_opt.iter().map(|v| s(v)));
            None
        }
        "devices" => {
            out.extend(sec.devices.iter().map(|v| s(v)));
            None
        }
        "host_mounts" => {
            out.extend(sec.host_mounts.iter().map(|m| s(&m.host_path)));
            None
        }
        "host_mounts.container_path" => {
            out.extend(
                sec.host_mounts
                    .iter()
                    .filter_map(|m| opt_s(&m.container_path)),
            );
            None
        }
        _ => None,
    };
    out.extend(value);
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

impl SigmaEvent for RuleEvent<'_, '_> {
    fn get_field(&self, path: &str) -> Option<EventValue<'_>> {
        let e = self.event;
        if let Some(field) = path.strip_prefix("crowsnest.") {
            return self.derived_field(field);
        }
        if let Some(field) = path.strip_prefix("container.") {
            if let Some(v) = self.container_field(field) {
                return Some(v);
            }
            // A known container field that is absent stays absent; anything else
            // may be a raw path (`container.id` in a Falco-shaped record, say).
            if FIELDS.contains(&path) {
                return None;
            }
            return raw_path::lookup(self.raw, path);
        }
        match path {
            "source" => Some(EventValue::Str(Cow::Borrowed(e.source.as_str()))),
            "action" => Some(EventValue::Str(Cow::Borrowed(e.action.as_str()))),
            "action.raw" => Some(s(&e.raw_action)),
            "host" => opt_s(&e.host),
            "cluster" => opt_s(&e.cluster),
            "request.id" => opt_s(&e.request_id),
            "response.code" => e.response_code.map(|c| EventValue::Int(i64::from(c))),
            "error" => opt_s(&e.error),
            "reason" => opt_s(&e.reason),
            "count" => e.count.map(|c| EventValue::Int(i64::from(c))),
            "account" => opt_s(&e.account),
            "region" => opt_s(&e.region),
            "principal.kind" => e.principal.as_ref().and_then(|p| opt_s(&p.kind)),
            "workload.owner" => e.workload.as_ref().and_then(|w| opt_s(&w.owner)),
            "principal.name" => e.principal.as_ref().map(|p| s(&p.name)),
            "principal.uid" => e.principal.as_ref().and_then(|p| opt_s(&p.uid)),
            "principal.groups" => e
                .principal
                .as_ref()
                .map(|p| EventValue::Array(p.groups.iter().map(|v| s(v)).collect())),
            "principal.source_ip" => e.principal.as_ref().and_then(|p| opt_s(&p.source_ip)),
            "principal.user_agent" => e.principal.as_ref().and_then(|p| opt_s(&p.user_agent)),
            "workload.kind" => e.workload.as_ref().map(|w| s(&w.kind)),
            "workload.name" => e.workload.as_ref().and_then(|w| opt_s(&w.name)),
            "workload.namespace" => e.workload.as_ref().and_then(|w| opt_s(&w.namespace)),
            "workload.uid" => e.workload.as_ref().and_then(|w| opt_s(&w.uid)),
            "process.pid" => e
                .process
                .as_ref()
                .and_then(|p| p.pid.map(|v| EventValue::Int(i64::from(v)))),
            "process.executable" => e.process.as_ref().and_then(|p| opt_s(&p.executable)),
            "process.name" => e.process.as_ref().and_then(|p| opt_s(&p.name)),
            "process.login_user" => e.process.as_ref().and_then(|p| opt_s(&p.login_user)),
            "process.cwd" => e.process.as_ref().and_then(|p| opt_s(&p.cwd)),
            "process.parent.pid" => e.process.as_ref().and_then(|p| {
                p.parent
                    .as_ref()?
                    .pid
                    .map(|v| EventValue::Int(i64::from(v)))
            }),
            "process.parent.name" => e
                .process
                .as_ref()
                .and_then(|p| opt_s(&p.parent.as_ref()?.name)),
            "process.parent.executable" => e
                .process
                .as_ref()
                .and_then(|p| opt_s(&p.parent.as_ref()?.executable)),
            "process.parent.command_line" => e
                .process
                .as_ref()
                .and_then(|p| opt_s(&p.parent.as_ref()?.command_line)),
            "process.ancestors" => e
                .process
                .as_ref()
                .map(|p| EventValue::Array(p.ancestors.iter().map(|v| s(v)).collect())),
            "process.args" => e
                .process
                .as_ref()
                .map(|p| EventValue::Array(p.args.iter().map(|v| s(v)).collect())),
            "process.command_line" => e.process.as_ref().and_then(|p| opt_s(&p.command_line)),
            "process.user" => e.process.as_ref().and_then(|p| opt_s(&p.user)),
            "process.exit_code" => e
                .process
                .as_ref()
                .and_then(|p| p.exit_code.map(EventValue::Int)),
            "network.src_ip" => e.network.as_ref().and_then(|n| opt_s(&n.src_ip)),
            "network.src_port" => e
                .network
                .as_ref()
                .and_then(|n| n.src_port.map(|v| EventValue::Int(i64::from(v)))),
            "network.dst_ip" => e.network.as_ref().and_then(|n| opt_s(&n.dst_ip)),
            "network.dst_port" => e
                .network
                .as_ref()
                .and_then(|n| n.dst_port.map(|v| EventValue::Int(i64::from(v)))),
            "network.protocol" => e.network.as_ref().and_then(|n| opt_s(&n.protocol)),
            "network.domain" => e.network.as_ref().and_then(|n| opt_s(&n.domain)),
            "network.bytes" => e.network.as_ref().and_then(|n| {
                n.bytes
                    .map(|v| EventValue::Int(v.try_into().unwrap_or(i64::MAX)))
            }),
            "network.packets" => e.network.as_ref().and_then(|n| {
                n.packets
                    .map(|v| EventValue::Int(v.try_into().unwrap_or(i64::MAX)))
            }),
            "network.disposition" => e.network.as_ref().and_then(|n| opt_s(&n.disposition)),
            "network.dns.query_type" => e.network.as_ref().and_then(|n| opt_s(&n.dns_query_type)),
            "network.dns.rcode" => e.network.as_ref().and_then(|n| opt_s(&n.dns_rcode)),
            "network.dns.answers" => e
                .network
                .as_ref()
                .map(|n| EventValue::Array(n.dns_answers.iter().map(|v| s(v)).collect())),
            _ => raw_path::lookup(self.raw, path),
        }
    }

    fn any_string_value(&self, pred: &dyn Fn(&str) -> bool) -> bool {
        if !self.raw.is_empty() {
            return pred(self.raw);
        }
        let mut hit = false;
        self.visit_string_values(&mut |v| hit = hit || pred(v));
        hit
    }

    fn all_string_values(&self) -> Vec<Cow<'_, str>> {
        let mut out = Vec::new();
        self.visit_string_values(&mut |v| out.push(Cow::Owned(v.to_owned())));
        out
    }

    /// Keyword search reads the raw record when there is one (a keyword rule is a
    /// full-text search over the log line), and the normalized strings otherwise.
    fn visit_string_values(&self, visit: &mut dyn FnMut(&str)) {
        if !self.raw.is_empty() {
            visit(self.raw);
            return;
        }
        let e = self.event;
        visit(e.source.as_str());
        visit(e.action.as_str());
        visit(&e.raw_action);
        for v in [&e.host, &e.cluster, &e.request_id].into_iter().flatten() {
            visit(v);
        }
        if let Some(p) = &e.principal {
            visit(&p.name);
            p.groups.iter().for_each(|g| visit(g));
        }
        if let Some(w) = &e.workload {
            for v in [&w.name, &w.namespace].into_iter().flatten() {
                visit(v);
            }
        }
        for c in self.containers() {
            for v in [&c.id, &c.name].into_iter().flatten() {
                visit(v);
            }
            if let Some(i) = &c.image {
                visit(&i.reference);
            }
        }
        if let Some(p) = &e.process {
            p.args.iter().for_each(|a| visit(a));
            if let Some(parent) = &p.parent {
                for v in [&parent.executable, &parent.command_line]
                    .into_iter()
                    .flatten()
                {
                    visit(v);
                }
            }
        }
        if let Some(n) = &e.network {
            for v in [&n.dst_ip, &n.domain].into_iter().flatten() {
                visit(v);
            }
        }
    }

    fn to_json(&self) -> Value {
        emit::event_value(self.event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The field reference cannot drift from what rules can actually read.
    #[test]
    fn every_field_is_documented() {
        let doc = include_str!("../../../docs/fields.md");
        for field in FIELDS {
            assert!(
                doc.contains(&format!("`{field}`")),
                "docs/fields.md does not list `{field}`"
            );
        }
        for field in DERIVED_FIELDS {
            assert!(
                doc.contains(&format!("`{field}`")),
                "docs/fields.md does not list `{field}`"
            );
        }
    }
}
