//! rsigma's view of a crowsnest [`Event`]: typed fields first, the raw record second.
//!
//! Rules address the normalized model by the names of the field registry
//! (`model::fields`, documented in `docs/fields.md`: `container.privileged`,
//! `principal.name`, `action`) and the derived fields of [`derived`](super::derived)
//! (`crowsnest.*`). Any other path is looked up in the record's original JSON
//! ([`raw_path`]), so rules written for a source's raw shape (`objectRef.resource`) run
//! unmodified.
//!
//! A pod carries several containers. By default a `container.*` field yields every
//! container's value and Sigma matches if any does; `focus` restricts the view to one
//! container, which is how an alert names the container that matched.

use std::borrow::Cow;
use std::slice;

use rsigma_eval::{Event as SigmaEvent, EventValue};
use serde_json::Value;

use super::derived::derived;
use super::raw_path;
use crate::model::fields::{self, MountPart, Read, Type, Value as FieldValue};
use crate::model::{Container, Derived, Event, json};
use crate::pack::policy::Policy;

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
    pub(super) fn per_container(
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

    /// The containers `container.*` fields read: all, or the focused one.
    pub(super) fn containers(&self) -> &'e [Container<'a>] {
        match self.focus {
            Some(i) => self.event.containers.get(i).map_or(&[], slice::from_ref),
            None => &self.event.containers,
        }
    }

    /// Every container's value of a `container.*` field: one value when one container
    /// has a scalar, an array otherwise (a list field's items, all containers together).
    fn container_field(
        &self,
        ty: Type,
        read: for<'c> fn(&'c Container<'_>) -> Option<FieldValue<'c>>,
    ) -> Option<EventValue<'e>> {
        let mut values = Vec::new();
        for c in self.containers() {
            if let Some(v) = read(c) {
                push_items(v, &mut values);
            }
        }
        match values.len() {
            0 => None,
            1 if !matches!(ty, Type::List | Type::BoolList) => values.pop(),
            _ => Some(EventValue::Array(values)),
        }
    }
}

/// A field's value as rsigma compares it: words joined with spaces, lists as arrays.
fn sigma(v: FieldValue<'_>) -> EventValue<'_> {
    match v {
        FieldValue::Str(s) => EventValue::Str(Cow::Borrowed(s)),
        FieldValue::Int(n) => EventValue::Int(n),
        FieldValue::Bool(b) => EventValue::Bool(b),
        FieldValue::Words(words) => EventValue::Str(Cow::Owned(words.join(" "))),
        list => {
            let mut items = Vec::new();
            push_items(list, &mut items);
            EventValue::Array(items)
        }
    }
}

/// Push a value, or a list's items, onto `out`; a mount's missing container path is
/// left out.
fn push_items<'e>(v: FieldValue<'e>, out: &mut Vec<EventValue<'e>>) {
    match v {
        FieldValue::List(items) => {
            out.extend(items.iter().map(|s| EventValue::Str(Cow::Borrowed(&**s))));
        }
        FieldValue::Mounts(mounts, MountPart::HostPath) => out.extend(
            mounts
                .iter()
                .map(|m| EventValue::Str(Cow::Borrowed(&*m.host_path))),
        ),
        FieldValue::Mounts(mounts, MountPart::ContainerPath) => out.extend(
            mounts
                .iter()
                .filter_map(|m| m.container_path.as_deref())
                .map(|p| EventValue::Str(Cow::Borrowed(p))),
        ),
        FieldValue::Mounts(mounts, MountPart::ReadOnly) => {
            out.extend(mounts.iter().map(|m| EventValue::Bool(m.read_only)));
        }
        scalar => out.push(sigma(scalar)),
    }
}

impl SigmaEvent for RuleEvent<'_, '_> {
    fn get_field(&self, path: &str) -> Option<EventValue<'_>> {
        if path.starts_with("crowsnest.") {
            return derived(path).and_then(|f| (f.answer)(self));
        }
        match fields::field(path) {
            Some(field) => match field.read {
                Read::Event(read) => read(self.event).map(sigma),
                Read::Container(read) => self.container_field(field.ty, read),
            },
            // A name the registry does not know is a raw path (`container.id` in a
            // Falco-shaped record, say); a known field that is absent stays absent.
            None => raw_path::lookup(self.raw, path),
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
        json::event_value(self.event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Action, HostMount, Source};

    fn view<'e>(
        event: &'e Event<'e>,
        policy: &'e Policy,
        derived: &'e Derived,
    ) -> RuleEvent<'e, 'e> {
        RuleEvent::new(event, "", policy, derived)
    }

    #[test]
    fn fields_read_as_rules_compare_them() {
        let mut e = Event::new(Source::DockerInspect, Action::ContainerCreate, "inspect");
        let mut a = Container::default();
        a.security.privileged = Some(true);
        a.security.cap_add = vec!["SYS_ADMIN".into()];
        a.security.entrypoint = Some(vec!["/bin/sh".into(), "-c".into()]);
        a.security.host_mounts = vec![
            HostMount {
                host_path: "/".into(),
                container_path: None,
                read_only: true,
            },
            HostMount {
                host_path: "/etc".into(),
                container_path: Some("/h".into()),
                read_only: false,
            },
        ];
        let b = Container::default();
        e.containers = vec![a, b];
        let policy = Policy::parse("").expect("an empty policy");
        let derived = Derived::default();
        let v = view(&e, &policy, &derived);
        let str = |s: &'static str| EventValue::Str(Cow::Borrowed(s));
        assert_eq!(
            v.get_field("container.privileged"),
            Some(EventValue::Bool(true))
        );
        assert_eq!(
            v.get_field("container.cap_add"),
            Some(EventValue::Array(vec![str("SYS_ADMIN")]))
        );
        assert_eq!(v.get_field("container.entrypoint"), Some(str("/bin/sh -c")));
        assert_eq!(
            v.get_field("container.host_mounts.container_path"),
            Some(EventValue::Array(vec![str("/h")]))
        );
        assert_eq!(
            v.get_field("container.host_mounts.read_only"),
            Some(EventValue::Array(vec![
                EventValue::Bool(true),
                EventValue::Bool(false)
            ]))
        );
        assert_eq!(
            v.get_field("container.role"),
            Some(EventValue::Array(vec![str("main"), str("main")]))
        );
        assert_eq!(v.get_field("container.user"), None, "known and absent");
        assert_eq!(v.get_field("action.raw"), Some(str("inspect")));
        assert_eq!(v.get_field("principal.groups"), None);
        assert!(v.get_field("crowsnest.cap.dangerous").is_some());
        assert_eq!(v.focused(1).get_field("container.privileged"), None);
    }
}
