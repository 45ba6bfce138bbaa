//! An Elastic Common Schema projection of an alert (ECS 8.11+ container fields).

use serde_json::{Map, Value, json};

use super::{AlertInput, attack, opt};
use crate::model::json::container_value;
use crate::time::format_rfc3339;

fn risk_score(level: &str) -> u8 {
    match level {
        "informational" => 1,
        "low" => 21,
        "medium" => 47,
        "high" => 73,
        "critical" => 99,
        _ => 47,
    }
}

pub(super) fn render(a: &AlertInput<'_, '_>) -> Value {
    let e = a.event;
    let mut out = Map::new();
    opt(&mut out, "@timestamp", e.time_ns.map(format_rfc3339));
    out.insert("message".into(), a.summary.into());
    out.insert(
        "event".into(),
        json!({
            "kind": "alert",
            "module": "crowsnest",
            "dataset": "crowsnest.alert",
            "action": e.action.as_str(),
            "severity": risk_score(&a.hit.level),
            "id": a.uid(),
        }),
    );
    let mut rule = Map::new();
    rule.insert("id".into(), a.hit.rule_id.clone().into());
    rule.insert("name".into(), a.hit.title.clone().into());
    rule.insert("ruleset".into(), "crowsnest".into());
    opt(&mut rule, "description", a.hit.description.clone());
    out.insert("rule".into(), Value::Object(rule));

    if !a.hit.techniques.is_empty() {
        let techniques: Vec<Value> = a
            .hit
            .techniques
            .iter()
            .map(|id| {
                let parent = id.split('.').next().unwrap_or(id);
                let mut t = Map::new();
                t.insert("id".into(), parent.into());
                opt(&mut t, "name", attack::technique_name(parent));
                if id.contains('.') {
                    let mut st = Map::new();
                    st.insert("id".into(), id.clone().into());
                    opt(&mut st, "name", attack::technique_name(id));
                    t.insert("subtechnique".into(), json!([st]));
                }
                Value::Object(t)
            })
            .collect();
        let tactics: Vec<Value> = a
            .hit
            .tactics
            .iter()
            .filter_map(|t| attack::tactic(t))
            .map(|(id, name)| json!({ "id": id, "name": name }))
            .collect();
        let mut threat = Map::new();
        threat.insert("framework".into(), "MITRE ATT&CK".into());
        threat.insert("technique".into(), Value::Array(techniques));
        if !tactics.is_empty() {
            threat.insert("tactic".into(), Value::Array(tactics));
        }
        out.insert("threat".into(), Value::Object(threat));
    }

    if let Some(c) = a.matched().next() {
        let mut cm = Map::new();
        opt(&mut cm, "id", c.id.as_deref());
        opt(&mut cm, "name", c.name.as_deref());
        if let Some(i) = &c.image {
            let mut im = Map::new();
            im.insert(
                "name".into(),
                format!("{}/{}", i.registry, i.repository).into(),
            );
            if let Some(tag) = &i.tag {
                im.insert("tag".into(), json!([tag.as_ref()]));
            }
            if let Some(d) = &i.digest {
                im.insert("hash".into(), json!({ "all": [d.as_ref()] }));
            }
            cm.insert("image".into(), Value::Object(im));
        }
        if let Some(p) = c.security.privileged {
            cm.insert("security_context".into(), json!({ "privileged": p }));
        }
        out.insert("container".into(), Value::Object(cm));
    }
    if let Some(w) = &e.workload {
        let mut om = Map::new();
        om.insert("type".into(), "kubernetes".into());
        opt(&mut om, "namespace", w.namespace.as_deref());
        let mut rm = Map::new();
        rm.insert("type".into(), w.kind.to_ascii_lowercase().into());
        opt(&mut rm, "name", w.name.as_deref());
        om.insert("resource".into(), Value::Object(rm));
        opt(
            &mut om,
            "cluster",
            e.cluster.as_deref().map(|c| json!({ "name": c })),
        );
        out.insert("orchestrator".into(), Value::Object(om));
    }
    if let Some(p) = &e.principal {
        let mut um = Map::new();
        um.insert("name".into(), p.name.as_ref().into());
        opt(&mut um, "id", p.uid.as_deref());
        out.insert("user".into(), Value::Object(um));
        opt(
            &mut out,
            "source",
            p.source_ip.as_deref().map(|ip| json!({ "ip": ip })),
        );
        opt(
            &mut out,
            "user_agent",
            p.user_agent.as_deref().map(|ua| json!({ "original": ua })),
        );
    }
    if let Some(p) = &e.process {
        let mut pm = Map::new();
        opt(&mut pm, "command_line", p.command_line.as_deref());
        opt(&mut pm, "executable", p.executable.as_deref());
        if !p.args.is_empty() {
            pm.insert(
                "args".into(),
                p.args
                    .iter()
                    .map(|s| Value::String(s.to_string()))
                    .collect(),
            );
        }
        opt(&mut pm, "pid", p.pid);
        out.insert("process".into(), Value::Object(pm));
    }
    opt(
        &mut out,
        "host",
        e.host.as_deref().map(|h| json!({ "name": h })),
    );
    out.insert(
        "crowsnest".into(),
        json!({
            "source": e.source.as_str(),
            "analytic": a.hit.analytic,
            "container": a.matched().map(container_value).collect::<Vec<_>>(),
            "origin": { "file": a.file, "line": a.line },
        }),
    );
    Value::Object(out)
}
