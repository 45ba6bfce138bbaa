//! Alerts and enrichment out: OCSF Detection Finding 2004 (default) or ECS, and the
//! normalized event as JSON.
//!
//! Alerts are rare next to records, so rendering builds `serde_json` values freely;
//! the per-record path never comes here unless enrichment was asked for.

pub mod attack;
mod ecs;
mod ocsf;

use std::borrow::Cow;

use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use crate::api::AlertFormat;
use crate::model::{Container, Event, HostMount, SecurityContext};
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

/// The normalized container as JSON (crowsnest's own field names).
pub(crate) fn container_value(c: &Container<'_>) -> Value {
    serde_json::to_value(ContainerView::of(c)).expect("a container serializes")
}

/// The whole normalized event as JSON: the enrichment a pipeline receives.
pub(crate) fn event_value(e: &Event<'_>) -> Value {
    serde_json::to_value(EventView::of(e, None)).expect("an event serializes")
}

/// The enrichment record: the normalized event plus where it came from.
///
/// Written straight to text: the views below declare their members in the order a
/// `serde_json::Map` (a `BTreeMap`) keeps them, so the text is exactly what rendering
/// [`event_value`] with an `origin` member would give, without building the map.
pub(crate) fn enrichment(e: &Event<'_>, file: &str, line: u32) -> String {
    serde_json::to_string(&EventView::of(e, Some(Origin { file, line })))
        .expect("an event serializes")
}

// The views: borrowed, serializable shapes of the model, members in sorted key order
// (byte order, as `serde_json::Map` sorts them), absent members skipped.

type Str<'x> = Option<&'x str>;

fn no_items<T>(items: &&[T]) -> bool {
    items.is_empty()
}

fn no_mounts(mounts: &Mounts<'_>) -> bool {
    mounts.0.is_empty()
}

#[derive(Serialize)]
struct Origin<'x> {
    file: &'x str,
    line: u32,
}

#[derive(Serialize)]
struct ContainerView<'x> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Str<'x>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<ImageView<'x>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Str<'x>,
    role: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    security: Option<SecurityView<'x>>,
}

impl<'x> ContainerView<'x> {
    fn of(c: &'x Container<'_>) -> Self {
        ContainerView {
            id: c.id.as_deref(),
            image: c.image.as_ref().map(|i| ImageView {
                digest: i.digest.as_deref(),
                reference: &i.reference,
                registry: &i.registry,
                repository: &i.repository,
                tag: i.tag.as_deref(),
            }),
            name: c.name.as_deref(),
            role: c.role.as_str(),
            security: SecurityView::of(&c.security),
        }
    }
}

#[derive(Serialize)]
struct ImageView<'x> {
    #[serde(skip_serializing_if = "Option::is_none")]
    digest: Str<'x>,
    reference: &'x str,
    registry: &'x str,
    repository: &'x str,
    #[serde(skip_serializing_if = "Option::is_none")]
    tag: Str<'x>,
}

#[derive(Serialize)]
struct SecurityView<'x> {
    #[serde(skip_serializing_if = "no_items")]
    cap_add: &'x [Cow<'x, str>],
    #[serde(skip_serializing_if = "Option::is_none")]
    command: Option<&'x [Cow<'x, str>]>,
    #[serde(skip_serializing_if = "no_items")]
    devices: &'x [Cow<'x, str>],
    #[serde(skip_serializing_if = "Option::is_none")]
    entrypoint: Option<&'x [Cow<'x, str>]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    host_ipc: Option<bool>,
    #[serde(skip_serializing_if = "no_mounts")]
    host_mounts: Mounts<'x>,
    #[serde(skip_serializing_if = "Option::is_none")]
    host_network: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    host_pid: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    privileged: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    restart_policy: Option<RestartView<'x>>,
    #[serde(skip_serializing_if = "no_items")]
    security_opt: &'x [Cow<'x, str>],
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Str<'x>,
}

impl<'x> SecurityView<'x> {
    /// `None` when the container says nothing about its launch.
    fn of(s: &'x SecurityContext<'x>) -> Option<Self> {
        let view = SecurityView {
            cap_add: &s.cap_add,
            command: s.command.as_deref(),
            devices: &s.devices,
            entrypoint: s.entrypoint.as_deref(),
            host_ipc: s.host_ipc,
            host_mounts: Mounts(&s.host_mounts),
            host_network: s.host_network,
            host_pid: s.host_pid,
            privileged: s.privileged,
            restart_policy: s.restart_policy.as_ref().map(|r| RestartView {
                max_retries: r.max_retries,
                name: &r.name,
            }),
            security_opt: &s.security_opt,
            user: s.user.as_deref(),
        };
        let empty = view.cap_add.is_empty()
            && view.command.is_none()
            && view.devices.is_empty()
            && view.entrypoint.is_none()
            && view.host_ipc.is_none()
            && view.host_mounts.0.is_empty()
            && view.host_network.is_none()
            && view.host_pid.is_none()
            && view.privileged.is_none()
            && view.restart_policy.is_none()
            && view.security_opt.is_empty()
            && view.user.is_none();
        (!empty).then_some(view)
    }
}

/// Host mounts, each as crowsnest's own JSON (not the snapshot's shape).
struct Mounts<'x>(&'x [HostMount<'x>]);

impl Serialize for Mounts<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|m| MountView {
            container_path: m.container_path.as_deref(),
            host_path: &m.host_path,
            read_only: m.read_only,
        }))
    }
}

#[derive(Serialize)]
struct MountView<'x> {
    #[serde(skip_serializing_if = "Option::is_none")]
    container_path: Str<'x>,
    host_path: &'x str,
    read_only: bool,
}

#[derive(Serialize)]
struct RestartView<'x> {
    #[serde(skip_serializing_if = "Option::is_none")]
    max_retries: Option<u32>,
    name: &'x str,
}

#[derive(Serialize)]
struct EventView<'x> {
    #[serde(skip_serializing_if = "Option::is_none")]
    account: Str<'x>,
    action: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster: Str<'x>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    containers: Vec<ContainerView<'x>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    count: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Str<'x>,
    #[serde(skip_serializing_if = "Option::is_none")]
    host: Str<'x>,
    #[serde(skip_serializing_if = "Option::is_none")]
    network: Option<NetworkView<'x>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    origin: Option<Origin<'x>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    principal: Option<PrincipalView<'x>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    process: Option<ProcessView<'x>>,
    raw_action: &'x str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Str<'x>,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Str<'x>,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Str<'x>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_code: Option<u16>,
    source: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    workload: Option<WorkloadView<'x>>,
}

impl<'x> EventView<'x> {
    fn of(e: &'x Event<'_>, origin: Option<Origin<'x>>) -> Self {
        EventView {
            account: e.account.as_deref(),
            action: e.action.as_str(),
            cluster: e.cluster.as_deref(),
            containers: e.containers.iter().map(ContainerView::of).collect(),
            count: e.count,
            error: e.error.as_deref(),
            host: e.host.as_deref(),
            network: e.network.as_ref().map(|n| NetworkView {
                bytes: n.bytes,
                disposition: n.disposition.as_deref(),
                dns: {
                    let dns = DnsView {
                        answers: &n.dns_answers,
                        query_type: n.dns_query_type.as_deref(),
                        rcode: n.dns_rcode.as_deref(),
                    };
                    let empty =
                        dns.answers.is_empty() && dns.query_type.is_none() && dns.rcode.is_none();
                    (!empty).then_some(dns)
                },
                domain: n.domain.as_deref(),
                dst_ip: n.dst_ip.as_deref(),
                dst_port: n.dst_port,
                packets: n.packets,
                protocol: n.protocol.as_deref(),
                src_ip: n.src_ip.as_deref(),
                src_port: n.src_port,
            }),
            origin,
            principal: e.principal.as_ref().map(|p| PrincipalView {
                groups: &p.groups,
                kind: p.kind.as_deref(),
                name: &p.name,
                source_ip: p.source_ip.as_deref(),
                uid: p.uid.as_deref(),
                user_agent: p.user_agent.as_deref(),
            }),
            process: e.process.as_ref().map(|p| ProcessView {
                ancestors: &p.ancestors,
                args: &p.args,
                command_line: p.command_line.as_deref(),
                cwd: p.cwd.as_deref(),
                executable: p.executable.as_deref(),
                exit_code: p.exit_code,
                login_user: p.login_user.as_deref(),
                name: p.name.as_deref(),
                parent: p.parent.as_ref().map(|pp| ParentView {
                    command_line: pp.command_line.as_deref(),
                    executable: pp.executable.as_deref(),
                    name: pp.name.as_deref(),
                    pid: pp.pid,
                }),
                pid: p.pid,
                user: p.user.as_deref(),
            }),
            raw_action: &e.raw_action,
            reason: e.reason.as_deref(),
            region: e.region.as_deref(),
            request_id: e.request_id.as_deref(),
            response_code: e.response_code,
            source: e.source.as_str(),
            time: e.time_ns.map(format_rfc3339),
            workload: e.workload.as_ref().map(|w| WorkloadView {
                kind: &w.kind,
                name: w.name.as_deref(),
                namespace: w.namespace.as_deref(),
                owner: w.owner.as_deref(),
                uid: w.uid.as_deref(),
            }),
        }
    }
}

#[derive(Serialize)]
struct PrincipalView<'x> {
    #[serde(skip_serializing_if = "no_items")]
    groups: &'x [Cow<'x, str>],
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Str<'x>,
    name: &'x str,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_ip: Str<'x>,
    #[serde(skip_serializing_if = "Option::is_none")]
    uid: Str<'x>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_agent: Str<'x>,
}

#[derive(Serialize)]
struct WorkloadView<'x> {
    kind: &'x str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Str<'x>,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Str<'x>,
    #[serde(skip_serializing_if = "Option::is_none")]
    owner: Str<'x>,
    #[serde(skip_serializing_if = "Option::is_none")]
    uid: Str<'x>,
}

#[derive(Serialize)]
struct ProcessView<'x> {
    #[serde(skip_serializing_if = "no_items")]
    ancestors: &'x [Cow<'x, str>],
    #[serde(skip_serializing_if = "no_items")]
    args: &'x [Cow<'x, str>],
    #[serde(skip_serializing_if = "Option::is_none")]
    command_line: Str<'x>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cwd: Str<'x>,
    #[serde(skip_serializing_if = "Option::is_none")]
    executable: Str<'x>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exit_code: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    login_user: Str<'x>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Str<'x>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent: Option<ParentView<'x>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Str<'x>,
}

#[derive(Serialize)]
struct ParentView<'x> {
    #[serde(skip_serializing_if = "Option::is_none")]
    command_line: Str<'x>,
    #[serde(skip_serializing_if = "Option::is_none")]
    executable: Str<'x>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Str<'x>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pid: Option<u32>,
}

#[derive(Serialize)]
struct NetworkView<'x> {
    #[serde(skip_serializing_if = "Option::is_none")]
    bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    disposition: Str<'x>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dns: Option<DnsView<'x>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    domain: Str<'x>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dst_ip: Str<'x>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dst_port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    packets: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    protocol: Str<'x>,
    #[serde(skip_serializing_if = "Option::is_none")]
    src_ip: Str<'x>,
    #[serde(skip_serializing_if = "Option::is_none")]
    src_port: Option<u16>,
}

#[derive(Serialize)]
struct DnsView<'x> {
    #[serde(skip_serializing_if = "no_items")]
    answers: &'x [Cow<'x, str>],
    #[serde(skip_serializing_if = "Option::is_none")]
    query_type: Str<'x>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rcode: Str<'x>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ImageRef;
    use crate::model::{
        Action, ContainerRole, Network, ParentProcess, Principal, Process, RestartPolicy, Source,
        Workload,
    };

    fn cows(items: &[&'static str]) -> Vec<Cow<'static, str>> {
        items.iter().map(|s| Cow::Borrowed(*s)).collect()
    }

    /// An event with every member set, text that needs escaping included.
    fn full_event() -> Event<'static> {
        let mut e = Event::new(Source::DockerEvent, Action::ContainerRun, "run \"x\"");
        e.time_ns = Some(1_715_677_901_123_456_789);
        e.host = Some("h\u{e9}\n".into());
        e.cluster = Some("c".into());
        e.request_id = Some("r".into());
        e.response_code = Some(201);
        e.error = Some("e".into());
        e.reason = Some("why".into());
        e.count = Some(3);
        e.account = Some("a".into());
        e.region = Some("eu".into());
        e.principal = Some(Principal {
            name: "alice".into(),
            uid: Some("u1".into()),
            groups: cows(&["g1", "g2"]),
            kind: Some("user".into()),
            source_ip: Some("10.0.0.1".into()),
            user_agent: Some("curl".into()),
        });
        e.workload = Some(Workload {
            kind: "Pod".into(),
            name: Some("p".into()),
            namespace: Some("ns".into()),
            uid: Some("w1".into()),
            owner: Some("ReplicaSet/r".into()),
        });
        let mut c = Container {
            id: Some("abc".into()),
            name: Some("web".into()),
            image: Some(ImageRef {
                reference: "nginx:1".into(),
                registry: "docker.io".into(),
                repository: "library/nginx".into(),
                tag: Some("1".into()),
                digest: Some("sha256:00".into()),
            }),
            role: ContainerRole::Init,
            security: SecurityContext::default(),
        };
        let bare = c.clone();
        let s = &mut c.security;
        s.privileged = Some(true);
        s.host_pid = Some(false);
        s.host_network = Some(true);
        s.host_ipc = Some(true);
        s.cap_add = cows(&["SYS_ADMIN"]);
        s.security_opt = cows(&["seccomp=unconfined"]);
        s.devices = cows(&["/dev/kmsg"]);
        s.host_mounts = vec![
            HostMount {
                host_path: "/".into(),
                container_path: Some("/host".into()),
                read_only: false,
            },
            HostMount {
                host_path: "/var/run/docker.sock".into(),
                container_path: None,
                read_only: true,
            },
        ];
        s.user = Some("0".into());
        s.restart_policy = Some(RestartPolicy {
            name: "on-failure".into(),
            max_retries: Some(5),
        });
        s.entrypoint = Some(Vec::new());
        s.command = Some(cows(&["sh", "-c", "id"]));
        e.containers = vec![c, bare];
        e.process = Some(Process {
            pid: Some(7),
            name: Some("sh".into()),
            executable: Some("/bin/sh".into()),
            args: cows(&["-c", "id"]),
            command_line: Some("sh -c id".into()),
            user: Some("root".into()),
            login_user: Some("bob".into()),
            cwd: Some("/".into()),
            exit_code: Some(-1),
            parent: Some(ParentProcess {
                pid: Some(1),
                name: Some("init".into()),
                executable: Some("/sbin/init".into()),
                command_line: Some("init".into()),
            }),
            ancestors: cows(&["/usr/bin/containerd"]),
        });
        e.network = Some(Network {
            src_ip: Some("10.0.0.2".into()),
            src_port: Some(40000),
            dst_ip: Some("1.1.1.1".into()),
            dst_port: Some(53),
            protocol: Some("udp".into()),
            domain: Some("example.com".into()),
            bytes: Some(u64::MAX),
            packets: Some(2),
            disposition: Some("accept".into()),
            dns_query_type: Some("A".into()),
            dns_rcode: Some("NOERROR".into()),
            dns_answers: cows(&["93.184.216.34"]),
        });
        e
    }

    /// The text a `serde_json::Map` of the same members renders: members sorted.
    fn via_map(e: &Event<'_>, file: &str, line: u32) -> String {
        let mut v = event_value(e);
        v.as_object_mut().expect("an event is an object").insert(
            "origin".into(),
            serde_json::json!({ "file": file, "line": line }),
        );
        v.to_string()
    }

    #[test]
    fn enrichment_text_is_the_sorted_map_text() {
        let full = full_event();
        let text = enrichment(&full, "in\"put", 9);
        assert_eq!(text, via_map(&full, "in\"put", 9));
        assert!(
            text.contains(r#""dns":{"answers":["93.184.216.34"]"#),
            "{text}"
        );
        assert!(text.contains(r#""entrypoint":[]"#), "{text}");

        let bare = Event::new(Source::K8sAudit, Action::Other, "get");
        let text = enrichment(&bare, "f", 1);
        assert_eq!(text, via_map(&bare, "f", 1));
        assert_eq!(
            text,
            r#"{"action":"other","origin":{"file":"f","line":1},"raw_action":"get","source":"k8s_audit"}"#
        );
    }

    #[test]
    fn a_container_with_no_launch_attributes_has_no_security_member() {
        let full = full_event();
        let bare = container_value(&full.containers[1]);
        assert!(bare.get("security").is_none(), "{bare}");
        let value = container_value(&full.containers[0]);
        let mounts = &value["security"]["host_mounts"];
        assert_eq!(mounts[0]["container_path"], "/host");
        assert!(mounts[1].get("container_path").is_none(), "{mounts}");
        assert_eq!(mounts[1]["read_only"], true);
    }
}
