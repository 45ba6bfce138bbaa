//! OCSF Detection Finding (class_uid 2004), schema 1.3.0.
//!
//! 1.3.0 is the newest version AWS Security Lake documents for custom sources (the newest
//! OCSF release is 1.8.0; `tests/schema/README.md` has the sources). Each document
//! declares the profiles whose attributes it uses in `metadata.profiles`: `datetime` for
//! `time_dt`, `host` for the top-level `actor` and `device`, `cloud` for `cloud`.
//!
//! OCSF's `container` object has no privileged flag, capabilities or mounts, so the
//! launch attributes that made a container risky ride in `unmapped.crowsnest`.

use serde_json::{Map, Value, json};

use super::{
    AlertInput, Provider, attack_pairs, cloud_provider, confidence, ip, is_api_call, is_hostname,
    opt, orchestrator, severity,
};
use crate::model::json::container_value;
use crate::model::{Action, Container, Event, Process, Source};
use crate::time::format_rfc3339;

const OCSF_VERSION: &str = "1.3.0";

/// `finding_info.attacks`: one entry per technique and tactic pair.
fn attacks(a: &AlertInput<'_, '_>) -> Vec<Value> {
    attack_pairs(a.hit)
        .iter()
        .map(|pair| {
            let mut entry = Map::new();
            if let Some((id, known)) = pair.technique() {
                let mut t = Map::new();
                t.insert("uid".into(), id.into());
                if let Some(known) = known {
                    t.insert("name".into(), known.name.into());
                    t.insert("src_url".into(), known.url().into());
                }
                entry.insert("technique".into(), Value::Object(t));
            }
            if let Some((id, known)) = pair.sub_technique() {
                let mut st = Map::new();
                st.insert("uid".into(), id.into());
                if let Some(known) = known {
                    st.insert("name".into(), known.name.into());
                    st.insert("src_url".into(), known.url().into());
                }
                entry.insert("sub_technique".into(), Value::Object(st));
            }
            if let Some(tactic) = &pair.tactic {
                entry.insert(
                    "tactic".into(),
                    json!({ "uid": tactic.id, "name": tactic.name, "src_url": tactic.url() }),
                );
            }
            entry.insert("version".into(), super::attack::version().into());
            Value::Object(entry)
        })
        .collect()
}

/// OCSF `image`: its `uid` is required, so it is the digest when the source gave one,
/// else the canonical reference (`registry/repository:tag`), the most precise name known.
fn image(i: &crate::model::ImageRef<'_>) -> Value {
    let mut im = Map::new();
    im.insert(
        "name".into(),
        format!("{}/{}", i.registry, i.repository).into(),
    );
    opt(&mut im, "tag", i.tag.as_deref());
    let uid = match &i.digest {
        Some(d) => d.to_string(),
        None => i.full_name(),
    };
    im.insert("uid".into(), uid.into());
    Value::Object(im)
}

/// OCSF `container`, which needs a `uid` or a `name`.
fn container(c: &Container<'_>, orchestrator: Option<&str>) -> Option<Value> {
    if c.id.is_none() && c.name.is_none() {
        return None;
    }
    let mut m = Map::new();
    opt(&mut m, "uid", c.id.as_deref());
    opt(&mut m, "name", c.name.as_deref());
    if let Some(i) = &c.image {
        m.insert("image".into(), image(i));
    }
    opt(&mut m, "orchestrator", orchestrator);
    Some(Value::Object(m))
}

/// An executable as OCSF's `file`: a regular file with its name and path.
fn executable(path: &str) -> Value {
    json!({
        "name": path.rsplit('/').next().unwrap_or(path),
        "path": path,
        "type_id": 1,
        "type": "Regular File",
    })
}

/// OCSF `process`, which needs a `pid` (or a `uid` crowsnest never has); a process
/// without one (the command of a Kubernetes exec request) goes in the evidence's `data`.
fn process(p: &Process<'_>) -> Option<Value> {
    let pid = p.pid?;
    let mut pm = Map::new();
    pm.insert("pid".into(), pid.into());
    opt(&mut pm, "name", p.name.as_deref());
    opt(&mut pm, "cmd_line", p.command_line.as_deref());
    if let Some(exe) = &p.executable {
        pm.insert("file".into(), executable(exe));
    }
    opt(
        &mut pm,
        "user",
        p.user.as_deref().map(|u| json!({ "name": u })),
    );
    if let Some(parent) = &p.parent
        && let Some(ppid) = parent.pid
    {
        let mut pp = Map::new();
        pp.insert("pid".into(), ppid.into());
        opt(&mut pp, "name", parent.name.as_deref());
        opt(&mut pp, "cmd_line", parent.command_line.as_deref());
        if let Some(exe) = &parent.executable {
            pp.insert("file".into(), executable(exe));
        }
        pm.insert("parent_process".into(), Value::Object(pp));
    }
    if !p.ancestors.is_empty() {
        pm.insert(
            "lineage".into(),
            p.ancestors
                .iter()
                .map(|s| Value::from(s.as_ref()))
                .collect(),
        );
    }
    Some(Value::Object(pm))
}

/// The API call: operation, request id, answer.
fn api(e: &Event<'_>) -> Value {
    let mut api = Map::new();
    api.insert("operation".into(), e.raw_action.as_ref().into());
    if let Some(id) = &e.request_id {
        api.insert("request".into(), json!({ "uid": id.as_ref() }));
    }
    let mut response = Map::new();
    opt(&mut response, "code", e.response_code);
    opt(&mut response, "error", e.error.as_deref());
    if !response.is_empty() {
        api.insert("response".into(), Value::Object(response));
    }
    Value::Object(api)
}

fn endpoint(ip_text: Option<&str>, port: Option<u16>, domain: Option<&str>) -> Option<Value> {
    let mut m = Map::new();
    opt(&mut m, "ip", ip_text.and_then(ip));
    if m.is_empty() && domain.is_none() {
        return None;
    }
    opt(&mut m, "port", port);
    opt(&mut m, "domain", domain);
    Some(Value::Object(m))
}

/// The one evidence of a single-event finding.
fn evidence(a: &AlertInput<'_, '_>, orchestrator: Option<&str>) -> Value {
    let e = a.event;
    let mut ev = Map::new();
    if let Some(actor) = actor(e) {
        ev.insert("actor".into(), actor);
    }
    if is_api_call(e.source, &e.raw_action, e.request_id.is_some()) {
        ev.insert("api".into(), api(e));
    }
    let net = e.network.as_ref();
    let src = match net {
        Some(n) if n.src_ip.is_some() => endpoint(n.src_ip.as_deref(), n.src_port, None),
        _ => e
            .principal
            .as_ref()
            .and_then(|p| endpoint(p.source_ip.as_deref(), None, None)),
    };
    opt(&mut ev, "src_endpoint", src);
    if let Some(n) = net {
        opt(
            &mut ev,
            "dst_endpoint",
            endpoint(n.dst_ip.as_deref(), n.dst_port, n.domain.as_deref()),
        );
        if n.protocol.is_some() || n.dst_ip.is_some() {
            let mut ci = Map::new();
            opt(&mut ci, "protocol_name", n.protocol.as_deref());
            // A connect() is outbound; a flow record does not say which side began it.
            let (id, name) = match e.action {
                Action::NetworkConnect => (2, "Outbound"),
                _ => (0, "Unknown"),
            };
            ci.insert("direction_id".into(), id.into());
            ci.insert("direction".into(), name.into());
            ev.insert("connection_info".into(), Value::Object(ci));
        }
        if let Some(domain) = n.domain.as_deref().filter(|d| is_hostname(d))
            && e.action == Action::DnsQuery
        {
            let mut q = Map::new();
            q.insert("hostname".into(), domain.into());
            opt(&mut q, "type", n.dns_query_type.as_deref());
            ev.insert("query".into(), Value::Object(q));
        }
    }
    if let Some(c) = a.matched().next().and_then(|c| container(c, orchestrator)) {
        ev.insert("container".into(), c);
    }
    // What the event was, in the rules' field names, with a process OCSF cannot hold.
    let mut data = Map::new();
    data.insert("source".into(), e.source.as_str().into());
    data.insert("action".into(), e.action.as_str().into());
    data.insert("action.raw".into(), e.raw_action.as_ref().into());
    if let Some(p) = &e.process {
        match process(p) {
            Some(pm) => {
                ev.insert("process".into(), pm);
            }
            None => {
                opt(&mut data, "process.command_line", p.command_line.as_deref());
                opt(&mut data, "process.executable", p.executable.as_deref());
            }
        }
    }
    ev.insert("data".into(), Value::Object(data));
    Value::Object(ev)
}

/// Who did it: the principal, and the client it says it used.
fn actor(e: &Event<'_>) -> Option<Value> {
    let p = e.principal.as_ref()?;
    let mut actor = Map::new();
    if !p.name.is_empty() || p.uid.is_some() {
        let mut user = Map::new();
        if !p.name.is_empty() {
            user.insert("name".into(), p.name.as_ref().into());
        }
        opt(&mut user, "uid", p.uid.as_deref());
        opt(&mut user, "type", p.kind.as_deref());
        if !p.groups.is_empty() {
            let groups = p
                .groups
                .iter()
                .map(|g| json!({ "name": g.as_ref() }))
                .collect();
            user.insert("groups".into(), Value::Array(groups));
        }
        actor.insert("user".into(), Value::Object(user));
    }
    // The user agent names the client application; it is client-supplied.
    opt(&mut actor, "app_name", p.user_agent.as_deref());
    (!actor.is_empty()).then_some(Value::Object(actor))
}

fn cloud(e: &Event<'_>) -> Option<Value> {
    let provider = cloud_provider(e)?;
    let mut m = Map::new();
    m.insert("provider".into(), provider.name().into());
    opt(&mut m, "region", e.region.as_deref());
    if let Some(account) = e.account.as_deref() {
        match provider {
            Provider::Aws => {
                m.insert(
                    "account".into(),
                    json!({ "uid": account, "type_id": 10, "type": "AWS Account" }),
                );
            }
            Provider::Azure => {
                m.insert(
                    "account".into(),
                    json!({ "uid": account, "type_id": 99, "type": "Azure Subscription" }),
                );
            }
            Provider::Gcp => {
                m.insert("project_uid".into(), account.into());
            }
        }
    }
    Some(Value::Object(m))
}

fn device(e: &Event<'_>) -> Option<Value> {
    let host = e.host.as_deref()?;
    let mut m = Map::new();
    m.insert("name".into(), host.into());
    if is_hostname(host) {
        m.insert("hostname".into(), host.into());
    }
    // VPC flow and Route 53 Resolver logs can name an EC2 instance (`i-0abc...`); other
    // sources name a node without saying what it runs on.
    let ec2 =
        matches!(e.source, Source::VpcFlow | Source::Route53Resolver) && host.starts_with("i-");
    let (type_id, type_name) = if ec2 {
        m.insert("instance_uid".into(), host.into());
        (6, "Virtual")
    } else {
        (0, "Unknown")
    };
    m.insert("type_id".into(), type_id.into());
    m.insert("type".into(), type_name.into());
    Some(Value::Object(m))
}

/// The workload, the containers (or, for one known only by its image, the image) and
/// the cluster.
fn resources(a: &AlertInput<'_, '_>) -> Vec<Value> {
    let e = a.event;
    let namespace = e.workload.as_ref().and_then(|w| w.namespace.as_deref());
    let mut out = Vec::new();
    if let Some(w) = &e.workload {
        let mut r = Map::new();
        let mut data = Map::new();
        r.insert("type".into(), w.kind.as_ref().into());
        opt(&mut r, "name", w.name.as_deref());
        opt(&mut r, "uid", w.uid.as_deref());
        if w.name.is_none() && w.uid.is_none() {
            // A request about a kind of object (a list, a watch): the namespace is what
            // it names.
            if let Some(ns) = namespace {
                r.insert("type".into(), "Namespace".into());
                r.insert("name".into(), ns.into());
                data.insert("kind".into(), w.kind.as_ref().into());
            }
        } else {
            opt(&mut r, "namespace", namespace);
        }
        // The controller that owns it, `ReplicaSet/web-5d9c`.
        opt(&mut data, "owner", w.owner.as_deref());
        if !data.is_empty() {
            r.insert("data".into(), Value::Object(data));
        }
        if r.contains_key("name") || r.contains_key("uid") {
            out.push(Value::Object(r));
        }
    }
    for c in a.matched() {
        let mut r = Map::new();
        if c.id.is_some() || c.name.is_some() {
            r.insert("type".into(), "Container".into());
            opt(&mut r, "name", c.name.as_deref());
            opt(&mut r, "uid", c.id.as_deref());
            opt(&mut r, "namespace", namespace);
        } else if let Some(i) = &c.image {
            r.insert("type".into(), "Container Image".into());
            r.insert("name".into(), i.full_name().into());
        } else {
            continue;
        }
        out.push(Value::Object(r));
    }
    if let Some(cluster) = &e.cluster {
        let kind = match orchestrator(e) {
            Some(o) => format!("{} Cluster", o.name()),
            None => "Cluster".to_string(),
        };
        out.push(json!({ "type": kind, "name": cluster.as_ref() }));
    }
    out
}

/// The pivots: addresses, users, the client, the host, containers and images.
fn observables(out: &Map<String, Value>) -> Vec<Value> {
    let mut list = Vec::new();
    let mut add = |name: &str, type_id: u8, type_name: &str, value: Option<&Value>| {
        if let Some(Value::String(v)) = value {
            list.push(json!({ "name": name, "type_id": type_id, "type": type_name, "value": v }));
        }
    };
    let at = |path: &str| out_pointer(out, path);
    add("actor.user.name", 4, "User Name", at("/actor/user/name"));
    add(
        "actor.app_name",
        16,
        "HTTP User-Agent",
        at("/actor/app_name"),
    );
    add("device.hostname", 1, "Hostname", at("/device/hostname"));
    for (i, _) in out
        .get("evidences")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let ev = format!("/evidences/{i}");
        add(
            "evidences[].src_endpoint.ip",
            2,
            "IP Address",
            at(&format!("{ev}/src_endpoint/ip")),
        );
        add(
            "evidences[].dst_endpoint.ip",
            2,
            "IP Address",
            at(&format!("{ev}/dst_endpoint/ip")),
        );
        add(
            "evidences[].container.image.name",
            99,
            "Container Image",
            at(&format!("{ev}/container/image/name")),
        );
    }
    for r in out
        .get("resources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        match r.get("type").and_then(Value::as_str) {
            Some("Container") => match r.get("uid") {
                Some(uid) => add("resources[].uid", 27, "Container", Some(uid)),
                None => add("resources[].name", 27, "Container", r.get("name")),
            },
            Some("Container Image") => {
                add("resources[].name", 99, "Container Image", r.get("name"));
            }
            _ => {}
        }
    }
    list
}

fn out_pointer<'v>(out: &'v Map<String, Value>, path: &str) -> Option<&'v Value> {
    let (first, rest) = path.trim_start_matches('/').split_once('/')?;
    out.get(first)?.pointer(&format!("/{rest}"))
}

/// One evidence per step of a correlation, in order, each with the step's event.
fn chain_evidences(chain: &[Value]) -> Vec<Value> {
    chain
        .iter()
        .map(|step| {
            let mut ev = Map::new();
            let source = step
                .get("source")
                .and_then(Value::as_str)
                .and_then(Source::from_name);
            if let (Some(source), Some(op)) =
                (source, step.get("action.raw").and_then(Value::as_str))
                && is_api_call(source, op, step.get("request.id").is_some())
            {
                let mut api = Map::new();
                api.insert("operation".into(), op.into());
                if let Some(id) = step.get("request.id") {
                    api.insert("request".into(), json!({ "uid": id }));
                }
                ev.insert("api".into(), Value::Object(api));
            }
            ev.insert("data".into(), step.clone());
            Value::Object(ev)
        })
        .collect()
}

pub(super) fn render(a: &AlertInput<'_, '_>) -> Value {
    let e = a.event;
    let severity = severity(&a.hit.level);
    let time_ms = e.time_ns.map(|ns| ns.div_euclid(1_000_000));
    let orchestrator_name = orchestrator(e).map(|o| o.name());

    let mut finding = Map::new();
    finding.insert("uid".into(), a.uid().into());
    finding.insert("title".into(), a.hit.title.clone().into());
    opt(&mut finding, "desc", a.hit.description.clone());
    finding.insert(
        "analytic".into(),
        json!({ "uid": a.hit.rule_id, "name": a.hit.title, "type_id": 1, "type": "Rule", "version": a.pack }),
    );
    if let Some(an) = &a.hit.analytic {
        finding.insert(
            "related_analytics".into(),
            json!([{ "uid": an, "name": format!("MITRE ATT&CK analytic {an}"), "type_id": 1, "type": "Rule" }]),
        );
    }
    let attacks = attacks(a);
    if !attacks.is_empty() {
        finding.insert("attacks".into(), Value::Array(attacks));
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
    if !is_api_call(e.source, &e.raw_action, e.request_id.is_some())
        && let Some(id) = &e.request_id
    {
        // The source's own id for the event (an auditd serial, a Zeek uid).
        finding.insert("related_events".into(), json!([{ "uid": id.as_ref() }]));
    }

    let mut out = Map::new();
    let mut profiles = Vec::new();
    out.insert("activity_id".into(), 1.into());
    out.insert("activity_name".into(), "Create".into());
    out.insert("category_uid".into(), 2.into());
    out.insert("category_name".into(), "Findings".into());
    out.insert("class_uid".into(), 2004.into());
    out.insert("class_name".into(), "Detection Finding".into());
    out.insert("type_uid".into(), 200_401.into());
    out.insert("type_name".into(), "Detection Finding: Create".into());
    out.insert("severity_id".into(), severity.id.into());
    out.insert("severity".into(), severity.name.into());
    let (confidence_id, confidence_name) = confidence(e);
    out.insert("confidence_id".into(), confidence_id.into());
    out.insert("confidence".into(), confidence_name.into());
    out.insert("status_id".into(), 1.into());
    out.insert("status".into(), "New".into());
    out.insert("time".into(), time_ms.unwrap_or(0).into());
    if let Some(ns) = e.time_ns {
        out.insert("time_dt".into(), format_rfc3339(ns).into());
        profiles.push("datetime");
    }
    out.insert("message".into(), a.summary.into());
    out.insert("finding_info".into(), Value::Object(finding));
    if let Some(actor) = actor(e) {
        out.insert("actor".into(), actor);
    }
    if let Some(device) = device(e) {
        out.insert("device".into(), device);
    }
    if out.contains_key("actor") || out.contains_key("device") {
        profiles.push("host");
    }
    if let Some(cloud) = cloud(e) {
        out.insert("cloud".into(), cloud);
        profiles.push("cloud");
    }
    let evidences = if a.hit.chain.is_empty() {
        vec![evidence(a, orchestrator_name)]
    } else {
        chain_evidences(&a.hit.chain)
    };
    out.insert("evidences".into(), Value::Array(evidences));
    let resources = resources(a);
    if !resources.is_empty() {
        out.insert("resources".into(), Value::Array(resources));
    }
    let observables = observables(&out);
    if !observables.is_empty() {
        out.insert("observables".into(), Value::Array(observables));
    }
    out.insert(
        "metadata".into(),
        json!({
            "version": OCSF_VERSION,
            "profiles": profiles,
            "product": {
                "name": "crowsnest",
                "vendor_name": "crowsnest",
                "version": env!("CARGO_PKG_VERSION"),
            },
            "log_name": e.source.as_str(),
        }),
    );
    out.insert(
        "unmapped".into(),
        json!({ "crowsnest": {
            "source": e.source.as_str(),
            "action": e.action.as_str(),
            "analytic": a.hit.analytic,
            "container": a.matched().map(container_value).collect::<Vec<_>>(),
            "origin": { "file": a.file, "line": a.line },
            "pack": a.pack,
        }}),
    );
    Value::Object(out)
}
