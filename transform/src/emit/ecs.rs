//! An Elastic Common Schema 9.4.0 projection of an alert (valid on 8.x too: it uses none
//! of the 9.x additions; `tests/schema/README.md` says why).
//!
//! `event.category` and `event.type` bucket the event the alert is about (an API call, a
//! process start, a connection, a container's lifecycle on a host); `threat.*` holds
//! ATT&CK flat, as ECS wants it; `orchestrator.*` is set only for a real orchestrator
//! (Kubernetes, Amazon ECS); what ECS has no field for goes under `crowsnest`.

use serde_json::{Map, Value, json};

use super::{
    AlertInput, Outcome, Provider, attack, attack_pairs, cloud_provider, cloud_service, ip,
    is_api_call, opt, orchestrator, outcome, severity,
};
use crate::model::json::container_value;
use crate::model::{Action, Event};
use crate::time::format_rfc3339;

const ECS_VERSION: &str = "9.4.0";

/// `event.category` and `event.type` of the event an alert is about.
fn categorize(e: &Event<'_>) -> (&'static str, Vec<&'static str>) {
    use Action::*;
    let api = is_api_call(e.source, &e.raw_action, e.request_id.is_some());
    match e.action {
        NetworkConnect => ("network", vec!["connection", "start"]),
        NetworkFlow => {
            let mut types = vec!["connection"];
            match e.network.as_ref().and_then(|n| n.disposition.as_deref()) {
                Some("accept") => types.push("allowed"),
                Some("reject") => types.push("denied"),
                _ => {}
            }
            ("network", types)
        }
        DnsQuery => ("network", vec!["protocol"]),
        _ if api => {
            let t = match e.action {
                ContainerCreate | ContainerRun | WorkloadCreate | ImagePull => "creation",
                ContainerStart | ContainerRestart => "start",
                ContainerStop | ContainerDie | ContainerKill => "end",
                ContainerDestroy | WorkloadDelete => "deletion",
                WorkloadUpdate | WorkloadPatch => "change",
                ContainerExec | ContainerAttach | ResourceGet | ResourceList | ResourceWatch
                | ContainerInspect => "access",
                _ => "info",
            };
            let mut types = vec![t];
            if matches!(e.response_code, Some(401 | 403)) {
                types.push("denied");
            }
            ("api", types)
        }
        // A process a sensor saw start (an execve, a `docker run` command line).
        _ if e.process.as_ref().is_some_and(|p| p.pid.is_some()) => ("process", vec!["start"]),
        ProcessStart => ("process", vec!["start"]),
        // A container's lifecycle as its host's runtime or the orchestrator reports it.
        ContainerStart | ContainerRun | ContainerRestart => ("host", vec!["start"]),
        ContainerStop | ContainerDie | ContainerKill | ContainerDestroy => ("host", vec!["end"]),
        ContainerExec | ContainerAttach => ("host", vec!["access"]),
        _ => ("host", vec!["info"]),
    }
}

/// `threat.*`: ATT&CK's tactics and techniques as flat arrays, from the same pairs as
/// the OCSF `attacks`.
fn threat(a: &AlertInput<'_, '_>) -> Option<Value> {
    let pairs = attack_pairs(a.hit);
    if pairs.is_empty() {
        return None;
    }
    let mut tactics = attack::TacticSet::default();
    let mut techniques: Vec<(&str, Option<attack::Technique>)> = Vec::new();
    let mut subs: Vec<(&str, Option<attack::Technique>)> = Vec::new();
    for pair in &pairs {
        if let Some(t) = &pair.tactic {
            tactics.insert(t);
        }
        if let Some(t) = pair.technique()
            && !techniques.iter().any(|(id, _)| *id == t.0)
        {
            techniques.push(t);
        }
        if let Some(t) = pair.sub_technique()
            && !subs.iter().any(|(id, _)| *id == t.0)
        {
            subs.push(t);
        }
    }
    let fields = |list: &[(&str, Option<attack::Technique>)]| {
        let ids: Vec<&str> = list.iter().map(|(id, _)| *id).collect();
        let known: Vec<attack::Technique> = list.iter().filter_map(|(_, t)| *t).collect();
        let mut m = Map::new();
        m.insert("id".into(), json!(ids));
        // Name and reference only when ATT&CK knows every id, so the arrays line up.
        if known.len() == ids.len() {
            m.insert(
                "name".into(),
                known.iter().map(|t| t.name).collect::<Vec<_>>().into(),
            );
            m.insert(
                "reference".into(),
                known.iter().map(|t| t.url()).collect::<Vec<_>>().into(),
            );
        }
        m
    };
    let mut threat = Map::new();
    threat.insert("framework".into(), "MITRE ATT&CK".into());
    if !tactics.is_empty() {
        let list: Vec<attack::Tactic> = tactics.iter().collect();
        threat.insert(
            "tactic".into(),
            json!({
                "id": list.iter().map(|t| t.id).collect::<Vec<_>>(),
                "name": list.iter().map(|t| t.name).collect::<Vec<_>>(),
                "reference": list.iter().map(|t| t.url()).collect::<Vec<_>>(),
            }),
        );
    }
    if !techniques.is_empty() {
        let mut t = fields(&techniques);
        if !subs.is_empty() {
            t.insert("subtechnique".into(), Value::Object(fields(&subs)));
        }
        threat.insert("technique".into(), Value::Object(t));
    }
    Some(Value::Object(threat))
}

/// `related.*`: every address, user, host and image digest the alert names.
fn related(a: &AlertInput<'_, '_>) -> Option<Value> {
    let e = a.event;
    let mut ips: Vec<&str> = Vec::new();
    let mut users: Vec<&str> = Vec::new();
    let mut hosts: Vec<&str> = Vec::new();
    let mut hashes: Vec<&str> = Vec::new();
    fn add<'v>(list: &mut Vec<&'v str>, v: Option<&'v str>) {
        if let Some(v) = v.filter(|v| !v.is_empty())
            && !list.contains(&v)
        {
            list.push(v);
        }
    }
    if let Some(p) = &e.principal {
        add(&mut users, Some(p.name.as_ref()));
        add(&mut ips, p.source_ip.as_deref().and_then(ip));
    }
    if let Some(p) = &e.process {
        add(&mut users, p.user.as_deref());
        add(&mut users, p.login_user.as_deref());
    }
    if let Some(n) = &e.network {
        add(&mut ips, n.src_ip.as_deref().and_then(ip));
        add(&mut ips, n.dst_ip.as_deref().and_then(ip));
        add(&mut hosts, n.domain.as_deref());
    }
    add(&mut hosts, e.host.as_deref());
    for c in a.matched() {
        add(
            &mut hashes,
            c.image.as_ref().and_then(|i| i.digest.as_deref()),
        );
    }
    let mut m = Map::new();
    for (key, list) in [
        ("ip", ips),
        ("user", users),
        ("hosts", hosts),
        ("hash", hashes),
    ] {
        if !list.is_empty() {
            m.insert(key.into(), list.into());
        }
    }
    (!m.is_empty()).then_some(Value::Object(m))
}

fn cloud(e: &Event<'_>) -> Option<Value> {
    let provider = cloud_provider(e)?;
    let mut m = Map::new();
    m.insert("provider".into(), provider.ecs_name().into());
    opt(&mut m, "region", e.region.as_deref());
    if let Some(account) = e.account.as_deref() {
        // A GCP project is ECS's `cloud.project`; an AWS account or an Azure
        // subscription is `cloud.account`.
        let key = if provider == Provider::Gcp {
            "project"
        } else {
            "account"
        };
        m.insert(key.into(), json!({ "id": account }));
    }
    opt(
        &mut m,
        "service",
        cloud_service(e).map(|s| json!({ "name": s })),
    );
    Some(Value::Object(m))
}

pub(super) fn render(a: &AlertInput<'_, '_>) -> Value {
    let e = a.event;
    let severity = severity(&a.hit.level);
    let (category, types) = categorize(e);
    let mut out = Map::new();
    opt(&mut out, "@timestamp", e.time_ns.map(format_rfc3339));
    out.insert("message".into(), a.summary.into());
    out.insert("ecs".into(), json!({ "version": ECS_VERSION }));
    let mut event = Map::new();
    event.insert("kind".into(), "alert".into());
    event.insert("category".into(), json!([category]));
    event.insert("type".into(), json!(types));
    event.insert("module".into(), "crowsnest".into());
    event.insert("dataset".into(), "crowsnest.alert".into());
    event.insert("action".into(), e.action.as_str().into());
    event.insert("severity".into(), severity.id.into());
    event.insert("risk_score".into(), severity.risk_score.into());
    event.insert("id".into(), a.uid().into());
    if let Some(o) = outcome(e) {
        let text = match o {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Unknown => "unknown",
        };
        event.insert("outcome".into(), text.into());
    }
    out.insert("event".into(), Value::Object(event));
    let mut rule = Map::new();
    rule.insert("id".into(), a.hit.rule_id.clone().into());
    rule.insert("name".into(), a.hit.title.clone().into());
    rule.insert("ruleset".into(), "crowsnest".into());
    rule.insert("version".into(), a.pack.into());
    opt(&mut rule, "description", a.hit.description.clone());
    out.insert("rule".into(), Value::Object(rule));
    opt(&mut out, "threat", threat(a));

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
        if !cm.is_empty() {
            out.insert("container".into(), Value::Object(cm));
        }
    }
    let mut workload_elsewhere = None;
    match orchestrator(e) {
        Some(o) => {
            let mut om = Map::new();
            om.insert("type".into(), o.ecs_type().into());
            if let Some(w) = &e.workload {
                opt(&mut om, "namespace", w.namespace.as_deref());
                let mut rm = Map::new();
                rm.insert("type".into(), w.kind.to_ascii_lowercase().into());
                opt(&mut rm, "name", w.name.as_deref());
                opt(&mut rm, "id", w.uid.as_deref());
                if let Some((kind, _)) = w.owner.as_deref().and_then(|o| o.split_once('/')) {
                    rm.insert(
                        "parent".into(),
                        json!({ "type": kind.to_ascii_lowercase() }),
                    );
                }
                om.insert("resource".into(), Value::Object(rm));
            }
            opt(
                &mut om,
                "cluster",
                e.cluster.as_deref().map(|c| json!({ "name": c })),
            );
            out.insert("orchestrator".into(), Value::Object(om));
        }
        // A Container Instances group or a Cloud Run service: no orchestrator ECS can
        // name, so the workload stays crowsnest's.
        None => workload_elsewhere = e.workload.as_ref(),
    }
    opt(&mut out, "cloud", cloud(e));
    if let Some(p) = &e.principal {
        let mut um = Map::new();
        if !p.name.is_empty() {
            um.insert("name".into(), p.name.as_ref().into());
        }
        opt(&mut um, "id", p.uid.as_deref());
        if !um.is_empty() {
            out.insert("user".into(), Value::Object(um));
        }
        opt(
            &mut out,
            "user_agent",
            p.user_agent.as_deref().map(|ua| json!({ "original": ua })),
        );
    }
    let net = e.network.as_ref();
    let mut source = Map::new();
    match net {
        Some(n) if n.src_ip.is_some() => {
            opt(&mut source, "ip", n.src_ip.as_deref().and_then(ip));
            opt(&mut source, "port", n.src_port);
        }
        _ => opt(
            &mut source,
            "ip",
            e.principal
                .as_ref()
                .and_then(|p| p.source_ip.as_deref())
                .and_then(ip),
        ),
    }
    if !source.is_empty() {
        out.insert("source".into(), Value::Object(source));
    }
    if let Some(n) = net {
        let mut dest = Map::new();
        opt(&mut dest, "ip", n.dst_ip.as_deref().and_then(ip));
        opt(&mut dest, "port", n.dst_port);
        opt(&mut dest, "domain", n.domain.as_deref());
        if !dest.is_empty() {
            out.insert("destination".into(), Value::Object(dest));
        }
        opt(
            &mut out,
            "network",
            n.protocol.as_deref().map(|p| json!({ "transport": p })),
        );
    }
    if let Some(p) = &e.process {
        let mut pm = Map::new();
        opt(&mut pm, "command_line", p.command_line.as_deref());
        opt(&mut pm, "executable", p.executable.as_deref());
        opt(&mut pm, "name", p.name.as_deref());
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
        opt(
            &mut pm,
            "user",
            p.user.as_deref().map(|u| json!({ "name": u })),
        );
        if !pm.is_empty() {
            out.insert("process".into(), Value::Object(pm));
        }
    }
    opt(
        &mut out,
        "host",
        e.host.as_deref().map(|h| json!({ "name": h })),
    );
    opt(&mut out, "related", related(a));
    let mut crowsnest = Map::new();
    crowsnest.insert("source".into(), e.source.as_str().into());
    crowsnest.insert("analytic".into(), json!(a.hit.analytic));
    crowsnest.insert(
        "container".into(),
        a.matched().map(container_value).collect::<Vec<_>>().into(),
    );
    if let Some(w) = workload_elsewhere {
        let mut wm = Map::new();
        wm.insert("kind".into(), w.kind.as_ref().into());
        opt(&mut wm, "name", w.name.as_deref());
        opt(&mut wm, "uid", w.uid.as_deref());
        crowsnest.insert("workload".into(), Value::Object(wm));
    }
    crowsnest.insert("origin".into(), json!({ "file": a.file, "line": a.line }));
    out.insert("crowsnest".into(), Value::Object(crowsnest));
    Value::Object(out)
}
