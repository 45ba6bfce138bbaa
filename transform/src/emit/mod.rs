//! Alerts and enrichment out: OCSF Detection Finding 2004 (default) or ECS, and the
//! normalized event as JSON.
//!
//! Alerts are rare next to records, so rendering builds `serde_json` values freely;
//! the per-record path never comes here unless enrichment was asked for.

mod attack;
mod ecs;
mod ocsf;

use serde_json::{Map, Value, json};

use crate::api::AlertFormat;
use crate::model::{Container, Event};
use crate::rules::RuleHit;
use crate::time::format_rfc3339;

/// Everything a rendered alert says.
pub(crate) struct AlertInput<'x, 'a> {
    pub hit: &'x RuleHit,
    pub event: &'x Event<'a>,
    /// Indices into `event.containers` the rule matched on.
    pub containers: &'x [usize],
    pub summary: &'x str,
    pub file: &'x str,
    pub line: u32,
}

impl AlertInput<'_, '_> {
    fn matched(&self) -> impl Iterator<Item = &Container<'_>> {
        self.containers
            .iter()
            .filter_map(|&i| self.event.containers.get(i))
    }

    /// A stable id: the same rule on the same record gives the same id, so a replayed
    /// or retried batch does not create new findings downstream.
    fn uid(&self) -> String {
        let mut h = Fnv::default();
        h.write(self.hit.rule_id.as_bytes());
        h.write(self.event.source.as_str().as_bytes());
        h.write(self.event.raw_action.as_bytes());
        if let Some(id) = &self.event.request_id {
            h.write(id.as_bytes());
        }
        h.write(&self.event.time_ns.unwrap_or(0).to_le_bytes());
        for c in self.matched() {
            for v in [&c.id, &c.name].into_iter().flatten() {
                h.write(v.as_bytes());
            }
        }
        format!("{:016x}", h.0)
    }
}

pub(crate) fn render(format: AlertFormat, alert: &AlertInput<'_, '_>) -> String {
    let value = match format {
        AlertFormat::Ocsf => ocsf::render(alert),
        AlertFormat::Ecs => ecs::render(alert),
    };
    value.to_string()
}

/// FNV-1a, 64-bit: tiny, deterministic on every target.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.0 ^= 0xff;
    }
}

fn opt<T: Into<Value>>(map: &mut Map<String, Value>, key: &str, value: Option<T>) {
    if let Some(v) = value {
        map.insert(key.to_string(), v.into());
    }
}

fn strs<'s>(items: impl IntoIterator<Item = &'s std::borrow::Cow<'s, str>>) -> Value {
    Value::Array(
        items
            .into_iter()
            .map(|s| Value::String(s.to_string()))
            .collect(),
    )
}

/// The normalized container as JSON (crowsnest's own field names).
pub(crate) fn container_value(c: &Container<'_>) -> Value {
    let mut m = Map::new();
    opt(&mut m, "id", c.id.as_deref());
    opt(&mut m, "name", c.name.as_deref());
    m.insert("role".into(), c.role.as_str().into());
    if let Some(i) = &c.image {
        let mut im = Map::new();
        im.insert("reference".into(), i.reference.as_ref().into());
        im.insert("registry".into(), i.registry.as_ref().into());
        im.insert("repository".into(), i.repository.as_ref().into());
        opt(&mut im, "tag", i.tag.as_deref());
        opt(&mut im, "digest", i.digest.as_deref());
        m.insert("image".into(), Value::Object(im));
    }
    let s = &c.security;
    let mut sm = Map::new();
    opt(&mut sm, "privileged", s.privileged);
    opt(&mut sm, "host_pid", s.host_pid);
    opt(&mut sm, "host_network", s.host_network);
    opt(&mut sm, "host_ipc", s.host_ipc);
    if !s.cap_add.is_empty() {
        sm.insert("cap_add".into(), strs(&s.cap_add));
    }
    if !s.security_opt.is_empty() {
        sm.insert("security_opt".into(), strs(&s.security_opt));
    }
    if !s.devices.is_empty() {
        sm.insert("devices".into(), strs(&s.devices));
    }
    if !s.host_mounts.is_empty() {
        let mounts = s
            .host_mounts
            .iter()
            .map(|hm| {
                let mut mm = Map::new();
                mm.insert("host_path".into(), hm.host_path.as_ref().into());
                opt(&mut mm, "container_path", hm.container_path.as_deref());
                mm.insert("read_only".into(), hm.read_only.into());
                Value::Object(mm)
            })
            .collect();
        sm.insert("host_mounts".into(), Value::Array(mounts));
    }
    opt(&mut sm, "user", s.user.as_deref());
    if let Some(r) = &s.restart_policy {
        let mut rm = Map::new();
        rm.insert("name".into(), r.name.as_ref().into());
        opt(&mut rm, "max_retries", r.max_retries);
        sm.insert("restart_policy".into(), Value::Object(rm));
    }
    if let Some(e) = &s.entrypoint {
        sm.insert("entrypoint".into(), strs(e));
    }
    if let Some(c) = &s.command {
        sm.insert("command".into(), strs(c));
    }
    if !sm.is_empty() {
        m.insert("security".into(), Value::Object(sm));
    }
    Value::Object(m)
}

/// The whole normalized event as JSON: the enrichment a pipeline receives.
pub(crate) fn event_value(e: &Event<'_>) -> Value {
    let mut m = Map::new();
    m.insert("source".into(), e.source.as_str().into());
    m.insert("action".into(), e.action.as_str().into());
    m.insert("raw_action".into(), e.raw_action.as_ref().into());
    opt(&mut m, "time", e.time_ns.map(format_rfc3339));
    opt(&mut m, "host", e.host.as_deref());
    opt(&mut m, "cluster", e.cluster.as_deref());
    opt(&mut m, "request_id", e.request_id.as_deref());
    opt(&mut m, "response_code", e.response_code);
    opt(&mut m, "error", e.error.as_deref());
    opt(&mut m, "reason", e.reason.as_deref());
    opt(&mut m, "count", e.count);
    opt(&mut m, "account", e.account.as_deref());
    opt(&mut m, "region", e.region.as_deref());
    if let Some(p) = &e.principal {
        let mut pm = Map::new();
        pm.insert("name".into(), p.name.as_ref().into());
        opt(&mut pm, "uid", p.uid.as_deref());
        if !p.groups.is_empty() {
            pm.insert("groups".into(), strs(&p.groups));
        }
        opt(&mut pm, "kind", p.kind.as_deref());
        opt(&mut pm, "source_ip", p.source_ip.as_deref());
        opt(&mut pm, "user_agent", p.user_agent.as_deref());
        m.insert("principal".into(), Value::Object(pm));
    }
    if let Some(w) = &e.workload {
        let mut wm = Map::new();
        wm.insert("kind".into(), w.kind.as_ref().into());
        opt(&mut wm, "name", w.name.as_deref());
        opt(&mut wm, "namespace", w.namespace.as_deref());
        opt(&mut wm, "uid", w.uid.as_deref());
        opt(&mut wm, "owner", w.owner.as_deref());
        m.insert("workload".into(), Value::Object(wm));
    }
    if !e.containers.is_empty() {
        m.insert(
            "containers".into(),
            Value::Array(e.containers.iter().map(container_value).collect()),
        );
    }
    if let Some(p) = &e.process {
        let mut pm = Map::new();
        opt(&mut pm, "pid", p.pid);
        opt(&mut pm, "name", p.name.as_deref());
        opt(&mut pm, "executable", p.executable.as_deref());
        if !p.args.is_empty() {
            pm.insert("args".into(), strs(&p.args));
        }
        opt(&mut pm, "command_line", p.command_line.as_deref());
        opt(&mut pm, "user", p.user.as_deref());
        opt(&mut pm, "login_user", p.login_user.as_deref());
        opt(&mut pm, "cwd", p.cwd.as_deref());
        opt(&mut pm, "exit_code", p.exit_code);
        if let Some(parent) = &p.parent {
            let mut pp = Map::new();
            opt(&mut pp, "pid", parent.pid);
            opt(&mut pp, "name", parent.name.as_deref());
            opt(&mut pp, "executable", parent.executable.as_deref());
            opt(&mut pp, "command_line", parent.command_line.as_deref());
            pm.insert("parent".into(), Value::Object(pp));
        }
        if !p.ancestors.is_empty() {
            pm.insert("ancestors".into(), strs(&p.ancestors));
        }
        m.insert("process".into(), Value::Object(pm));
    }
    if let Some(n) = &e.network {
        let mut nm = Map::new();
        opt(&mut nm, "src_ip", n.src_ip.as_deref());
        opt(&mut nm, "src_port", n.src_port);
        opt(&mut nm, "dst_ip", n.dst_ip.as_deref());
        opt(&mut nm, "dst_port", n.dst_port);
        opt(&mut nm, "protocol", n.protocol.as_deref());
        opt(&mut nm, "domain", n.domain.as_deref());
        opt(&mut nm, "bytes", n.bytes);
        opt(&mut nm, "packets", n.packets);
        opt(&mut nm, "disposition", n.disposition.as_deref());
        let mut dns = Map::new();
        opt(&mut dns, "query_type", n.dns_query_type.as_deref());
        opt(&mut dns, "rcode", n.dns_rcode.as_deref());
        if !n.dns_answers.is_empty() {
            dns.insert("answers".into(), strs(&n.dns_answers));
        }
        if !dns.is_empty() {
            nm.insert("dns".into(), Value::Object(dns));
        }
        m.insert("network".into(), Value::Object(nm));
    }
    Value::Object(m)
}

/// The enrichment record: the normalized event plus where it came from.
pub(crate) fn enrichment(e: &Event<'_>, file: &str, line: u32) -> String {
    let mut v = event_value(e);
    if let Value::Object(m) = &mut v {
        m.insert("origin".into(), json!({ "file": file, "line": line }));
    }
    v.to_string()
}
