//! OCSF Detection Finding (class_uid 2004), schema 1.3.
//!
//! OCSF's `container` object has no privileged flag, capabilities or mounts, so the
//! launch attributes that made a container risky ride in `unmapped.crowsnest`.

use serde_json::{Map, Value, json};

use super::{AlertInput, attack, opt};
use crate::model::json::container_value;
use crate::time::format_rfc3339;

const OCSF_VERSION: &str = "1.3.0";

fn severity(level: &str) -> (u8, &'static str) {
    match level {
        "informational" => (1, "Informational"),
        "low" => (2, "Low"),
        "medium" => (3, "Medium"),
        "high" => (4, "High"),
        "critical" => (5, "Critical"),
        _ => (0, "Unknown"),
    }
}

fn attacks(a: &AlertInput<'_, '_>) -> Value {
    // One entry per technique, paired with the rule's first tactic that ATT&CK knows.
    let tactic = a.hit.tactics.iter().find_map(|t| attack::tactic(t));
    let entries = a
        .hit
        .techniques
        .iter()
        .map(|id| {
            let mut entry = Map::new();
            let (parent, sub) = match id.split_once('.') {
                Some((p, _)) => (p.to_string(), Some(id.as_str())),
                None => (id.clone(), None),
            };
            let mut technique = Map::new();
            technique.insert("uid".into(), parent.clone().into());
            opt(&mut technique, "name", attack::technique_name(&parent));
            entry.insert("technique".into(), Value::Object(technique));
            if let Some(sub) = sub {
                let mut st = Map::new();
                st.insert("uid".into(), sub.into());
                opt(&mut st, "name", attack::technique_name(sub));
                entry.insert("sub_technique".into(), Value::Object(st));
            }
            if let Some((uid, name)) = tactic {
                entry.insert("tactic".into(), json!({ "uid": uid, "name": name }));
            }
            entry.insert("version".into(), "17".into());
            Value::Object(entry)
        })
        .collect();
    Value::Array(entries)
}

fn ocsf_container(c: &crate::model::Container<'_>) -> Value {
    let mut m = Map::new();
    opt(&mut m, "uid", c.id.as_deref());
    opt(&mut m, "name", c.name.as_deref());
    if let Some(i) = &c.image {
        let mut im = Map::new();
        im.insert(
            "name".into(),
            format!("{}/{}", i.registry, i.repository).into(),
        );
        opt(&mut im, "tag", i.tag.as_deref());
        opt(&mut im, "uid", i.digest.as_deref());
        m.insert("image".into(), Value::Object(im));
    }
    Value::Object(m)
}

pub(super) fn render(a: &AlertInput<'_, '_>) -> Value {
    let e = a.event;
    let (severity_id, severity_name) = severity(&a.hit.level);
    let time_ms = e.time_ns.map(|ns| ns.div_euclid(1_000_000));

    let mut evidence = Map::new();
    if let Some(p) = &e.principal {
        let mut user = Map::new();
        user.insert("name".into(), p.name.as_ref().into());
        opt(&mut user, "uid", p.uid.as_deref());
        if !p.groups.is_empty() {
            let groups = p
                .groups
                .iter()
                .map(|g| json!({ "name": g.as_ref() }))
                .collect();
            user.insert("groups".into(), Value::Array(groups));
        }
        evidence.insert("actor".into(), json!({ "user": user }));
        if let Some(ip) = &p.source_ip {
            evidence.insert("src_endpoint".into(), json!({ "ip": ip.as_ref() }));
        }
    }
    let mut api = Map::new();
    api.insert("operation".into(), e.raw_action.as_ref().into());
    if let Some(id) = &e.request_id {
        api.insert("request".into(), json!({ "uid": id.as_ref() }));
    }
    if let Some(code) = e.response_code {
        api.insert("response".into(), json!({ "code": code }));
    }
    evidence.insert("api".into(), Value::Object(api));
    if let Some(c) = a.matched().next() {
        evidence.insert("container".into(), ocsf_container(c));
    }
    if let Some(p) = &e.process {
        let mut pm = Map::new();
        opt(&mut pm, "cmd_line", p.command_line.as_deref());
        opt(&mut pm, "pid", p.pid);
        if let Some(exe) = &p.executable {
            pm.insert(
                "file".into(),
                json!({ "path": exe.as_ref(), "name": exe.rsplit('/').next().unwrap_or(exe) }),
            );
        }
        evidence.insert("process".into(), Value::Object(pm));
    }

    let mut resources = Vec::new();
    if let Some(w) = &e.workload {
        let mut r = Map::new();
        r.insert("type".into(), w.kind.as_ref().into());
        opt(&mut r, "name", w.name.as_deref());
        opt(&mut r, "namespace", w.namespace.as_deref());
        opt(&mut r, "uid", w.uid.as_deref());
        resources.push(Value::Object(r));
    }
    for c in a.matched() {
        let mut r = Map::new();
        r.insert("type".into(), "Container".into());
        opt(&mut r, "name", c.name.as_deref());
        opt(&mut r, "uid", c.id.as_deref());
        opt(
            &mut r,
            "namespace",
            e.workload.as_ref().and_then(|w| w.namespace.as_deref()),
        );
        resources.push(Value::Object(r));
    }

    let mut finding = Map::new();
    finding.insert("uid".into(), a.uid().into());
    finding.insert("title".into(), a.hit.title.clone().into());
    opt(&mut finding, "desc", a.hit.description.clone());
    finding.insert(
        "analytic".into(),
        json!({ "uid": a.hit.rule_id, "name": a.hit.title, "type_id": 1, "type": "Rule" }),
    );
    if let Some(an) = &a.hit.analytic {
        finding.insert(
            "related_analytics".into(),
            json!([{ "uid": an, "name": format!("MITRE ATT&CK analytic {an}"), "type_id": 1, "type": "Rule" }]),
        );
    }
    if !a.hit.techniques.is_empty() {
        finding.insert("attacks".into(), attacks(a));
    }
    let chain_start_ms = a
        .hit
        .chain
        .first()
        .and_then(|step| step.get("time")?.as_str())
        .and_then(crate::time::parse_rfc3339_ns)
        .map(|ns| ns.div_euclid(1_000_000));
    opt(&mut finding, "first_seen_time", chain_start_ms.or(time_ms));
    opt(&mut finding, "last_seen_time", time_ms);

    let mut out = Map::new();
    out.insert("activity_id".into(), 1.into());
    out.insert("activity_name".into(), "Create".into());
    out.insert("category_uid".into(), 2.into());
    out.insert("category_name".into(), "Findings".into());
    out.insert("class_uid".into(), 2004.into());
    out.insert("class_name".into(), "Detection Finding".into());
    out.insert("type_uid".into(), 200_401.into());
    out.insert("type_name".into(), "Detection Finding: Create".into());
    out.insert("severity_id".into(), severity_id.into());
    out.insert("severity".into(), severity_name.into());
    out.insert("status_id".into(), 1.into());
    out.insert("status".into(), "New".into());
    out.insert("time".into(), time_ms.unwrap_or(0).into());
    opt(&mut out, "time_dt", e.time_ns.map(format_rfc3339));
    out.insert("message".into(), a.summary.into());
    out.insert(
        "metadata".into(),
        json!({
            "version": OCSF_VERSION,
            "product": {
                "name": "crowsnest",
                "vendor_name": "crowsnest",
                "version": env!("CARGO_PKG_VERSION"),
            },
            "log_name": e.source.as_str(),
        }),
    );
    out.insert("finding_info".into(), Value::Object(finding));
    if a.hit.chain.is_empty() {
        out.insert("evidences".into(), json!([evidence]));
    } else {
        // A correlation: one evidence per step, in order, each with the step's event.
        let steps: Vec<Value> = a
            .hit
            .chain
            .iter()
            .map(|step| {
                let mut ev = Map::new();
                if let Some(op) = step.get("action.raw") {
                    ev.insert("api".into(), json!({ "operation": op }));
                }
                if let Some(t) = step.get("time") {
                    ev.insert("time_dt".into(), t.clone());
                }
                ev.insert("data".into(), step.clone());
                Value::Object(ev)
            })
            .collect();
        out.insert("evidences".into(), Value::Array(steps));
    }
    if !resources.is_empty() {
        out.insert("resources".into(), Value::Array(resources));
    }
    out.insert(
        "unmapped".into(),
        json!({ "crowsnest": {
            "source": e.source.as_str(),
            "action": e.action.as_str(),
            "analytic": a.hit.analytic,
            "container": a.matched().map(container_value).collect::<Vec<_>>(),
            "origin": { "file": a.file, "line": a.line },
        }}),
    );
    Value::Object(out)
}
