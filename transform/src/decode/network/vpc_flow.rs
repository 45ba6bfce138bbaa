//! AWS VPC Flow Logs: one flow per line, space-separated positional fields.
//!
//! A line carries no field names, so its layout must be known:
//!
//! - the **default format** is the fourteen version 2 fields, `version account-id
//!   interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action
//!   log-status`;
//! - a **custom format** names fields of versions 2 to 8 in any order. Delivered to S3 as
//!   text, each file starts with a header line of the field names; that line sets the
//!   layout of the rest of its file (kept per file in [`Layouts`], for a bounded number of
//!   files) and decodes to an `Other` event that rules do not see. Without a header (in
//!   CloudWatch Logs), the layout is the configured format string
//!   ([`Context::vpc_flow_format`], `${version} ${account-id} ...` as the flow log was
//!   created with, or the bare names).
//!
//! `-` means the field does not apply or could not be computed. `NODATA` and `SKIPDATA`
//! records have no addresses: they decode to `Other` events that rules do not see.
//!
//! Detection is strict, since any text line reaches it: the token count must match the
//! layout, and numbers, addresses, `action` and `log-status` must each look like one.
//!
//! Mapped: addresses (the packet's own `pkt-srcaddr`/`pkt-dstaddr` when present, they
//! differ from `srcaddr`/`dstaddr` behind a NAT gateway), ports, the protocol number as a
//! name, packets, bytes, `start` as the event time, `action` as the disposition,
//! `account-id`, `region`, `instance-id` (or the ECS container instance) as the host, and
//! the ECS fields: `ecs-cluster-name` as the cluster, the task (`ecs-task-id`,
//! `ecs-task-arn`) as a `Task` workload owned by `Service/<ecs-service-name>`, and the
//! two container ids as containers. `flow-direction`, `traffic-path`, `tcp-flags`, the
//! AWS service names and the VPC, subnet and interface ids have no place in the model.

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};

use crate::decode::{Context, DecodeError, Decoded, Decoder, Detect, Format, column_of};
use crate::model::{Action, Container, Event, Network, Source, Workload};

pub(crate) const FORMAT: Format = Format {
    source: Source::VpcFlow,
    logsource: ("aws", "vpcflowlogs"),
    about: "AWS VPC Flow Logs",
    detect: Detect {
        json: &[],
        text: Some(|text, state, ctx| state.vpc_flow.sniff(text, ctx)),
    },
    raw_roots: &[],
    decode: Decoder::Stream(|text, state, ctx| decode(text, &mut state.vpc_flow, ctx)),
};

/// How many files' header layouts are remembered; the oldest is forgotten first.
const MAX_FILES: usize = 1024;

/// The fields a flow log record can hold (VPC Flow Logs versions 2 to 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Version,
    AccountId,
    InterfaceId,
    SrcAddr,
    DstAddr,
    SrcPort,
    DstPort,
    Protocol,
    Packets,
    Bytes,
    Start,
    End,
    Action,
    LogStatus,
    VpcId,
    SubnetId,
    InstanceId,
    TcpFlags,
    Type,
    PktSrcAddr,
    PktDstAddr,
    Region,
    AzId,
    SublocationType,
    SublocationId,
    PktSrcAwsService,
    PktDstAwsService,
    FlowDirection,
    TrafficPath,
    EcsClusterArn,
    EcsClusterName,
    EcsContainerInstanceArn,
    EcsContainerInstanceId,
    EcsContainerId,
    EcsSecondContainerId,
    EcsServiceName,
    EcsTaskDefinitionArn,
    EcsTaskArn,
    EcsTaskId,
    RejectReason,
    /// A name this decoder does not know, in a configured format.
    Unknown,
}

/// What a field's value must look like.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Number,
    Address,
    /// Digits or `unknown` (interfaces that AWS services create).
    Account,
    /// `ACCEPT` or `REJECT`.
    Verdict,
    /// `OK`, `NODATA` or `SKIPDATA`.
    Status,
    /// Any token: ids, names, ARNs.
    Word,
}

const FIELDS: &[(&str, Field, Kind)] = &[
    ("version", Field::Version, Kind::Number),
    ("account-id", Field::AccountId, Kind::Account),
    ("interface-id", Field::InterfaceId, Kind::Word),
    ("srcaddr", Field::SrcAddr, Kind::Address),
    ("dstaddr", Field::DstAddr, Kind::Address),
    ("srcport", Field::SrcPort, Kind::Number),
    ("dstport", Field::DstPort, Kind::Number),
    ("protocol", Field::Protocol, Kind::Number),
    ("packets", Field::Packets, Kind::Number),
    ("bytes", Field::Bytes, Kind::Number),
    ("start", Field::Start, Kind::Number),
    ("end", Field::End, Kind::Number),
    ("action", Field::Action, Kind::Verdict),
    ("log-status", Field::LogStatus, Kind::Status),
    ("vpc-id", Field::VpcId, Kind::Word),
    ("subnet-id", Field::SubnetId, Kind::Word),
    ("instance-id", Field::InstanceId, Kind::Word),
    ("tcp-flags", Field::TcpFlags, Kind::Number),
    ("type", Field::Type, Kind::Word),
    ("pkt-srcaddr", Field::PktSrcAddr, Kind::Address),
    ("pkt-dstaddr", Field::PktDstAddr, Kind::Address),
    ("region", Field::Region, Kind::Word),
    ("az-id", Field::AzId, Kind::Word),
    ("sublocation-type", Field::SublocationType, Kind::Word),
    ("sublocation-id", Field::SublocationId, Kind::Word),
    ("pkt-src-aws-service", Field::PktSrcAwsService, Kind::Word),
    ("pkt-dst-aws-service", Field::PktDstAwsService, Kind::Word),
    ("flow-direction", Field::FlowDirection, Kind::Word),
    ("traffic-path", Field::TrafficPath, Kind::Number),
    ("ecs-cluster-arn", Field::EcsClusterArn, Kind::Word),
    ("ecs-cluster-name", Field::EcsClusterName, Kind::Word),
    (
        "ecs-container-instance-arn",
        Field::EcsContainerInstanceArn,
        Kind::Word,
    ),
    (
        "ecs-container-instance-id",
        Field::EcsContainerInstanceId,
        Kind::Word,
    ),
    ("ecs-container-id", Field::EcsContainerId, Kind::Word),
    (
        "ecs-second-container-id",
        Field::EcsSecondContainerId,
        Kind::Word,
    ),
    ("ecs-service-name", Field::EcsServiceName, Kind::Word),
    (
        "ecs-task-definition-arn",
        Field::EcsTaskDefinitionArn,
        Kind::Word,
    ),
    ("ecs-task-arn", Field::EcsTaskArn, Kind::Word),
    ("ecs-task-id", Field::EcsTaskId, Kind::Word),
    ("reject-reason", Field::RejectReason, Kind::Word),
];

/// The default format: the version 2 fields in order.
const DEFAULT_LAYOUT: &[Field] = &[
    Field::Version,
    Field::AccountId,
    Field::InterfaceId,
    Field::SrcAddr,
    Field::DstAddr,
    Field::SrcPort,
    Field::DstPort,
    Field::Protocol,
    Field::Packets,
    Field::Bytes,
    Field::Start,
    Field::End,
    Field::Action,
    Field::LogStatus,
];

/// A field by its name, `${name}` or `name`; Athena and Parquet spell the hyphens as
/// underscores, which is accepted too.
fn field_named(token: &str) -> Option<Field> {
    let name = token
        .strip_prefix("${")
        .and_then(|t| t.strip_suffix('}'))
        .unwrap_or(token);
    FIELDS
        .iter()
        .find(|(known, _, _)| {
            known.len() == name.len()
                && known
                    .bytes()
                    .zip(name.bytes())
                    .all(|(k, n)| k == n || (k == b'-' && n == b'_'))
        })
        .map(|&(_, field, _)| field)
}

fn kind_of(field: Field) -> Kind {
    FIELDS
        .iter()
        .find(|(_, f, _)| *f == field)
        .map_or(Kind::Word, |&(_, _, kind)| kind)
}

/// A configured format string as a layout; unknown names take any value.
fn parse_format(format: &str) -> Vec<Field> {
    format
        .split_ascii_whitespace()
        .map(|t| field_named(t).unwrap_or(Field::Unknown))
        .collect()
}

/// Whether a line is a header: three or more tokens, every one a field name.
fn header_layout(text: &str) -> Option<Vec<Field>> {
    let layout: Option<Vec<Field>> = text.split_ascii_whitespace().map(field_named).collect();
    layout.filter(|l| l.len() >= 3)
}

/// The field layout of each file that declared one in a header line, and the configured
/// format.
#[derive(Default)]
pub(crate) struct Layouts {
    files: HashMap<String, Vec<Field>>,
    order: VecDeque<String>,
    /// The last configured format string seen, parsed.
    configured: Option<(String, Vec<Field>)>,
}

impl Layouts {
    fn sniff(&self, text: &str, ctx: &Context<'_>) -> bool {
        if header_layout(text).is_some() {
            return true;
        }
        match self.cached_layout(ctx) {
            Some(layout) => check(text, layout).is_ok(),
            None => match ctx.vpc_flow_format {
                Some(format) => check(text, &parse_format(format)).is_ok(),
                None => check(text, DEFAULT_LAYOUT).is_ok(),
            },
        }
    }

    /// The layout of the file, or the configured one when it is already parsed.
    fn cached_layout(&self, ctx: &Context<'_>) -> Option<&[Field]> {
        if let Some(layout) = self.files.get(ctx.file) {
            return Some(layout);
        }
        match (&self.configured, ctx.vpc_flow_format) {
            (Some((format, layout)), Some(wanted)) if format == wanted => Some(layout),
            _ => None,
        }
    }

    fn layout(&mut self, ctx: &Context<'_>) -> &[Field] {
        if self.files.contains_key(ctx.file) {
            return self
                .files
                .get(ctx.file)
                .map_or(DEFAULT_LAYOUT, Vec::as_slice);
        }
        let Some(format) = ctx.vpc_flow_format else {
            return DEFAULT_LAYOUT;
        };
        if self.configured.as_ref().is_none_or(|(f, _)| f != format) {
            self.configured = Some((format.to_string(), parse_format(format)));
        }
        self.configured
            .as_ref()
            .map_or(DEFAULT_LAYOUT, |(_, layout)| layout.as_slice())
    }

    fn remember(&mut self, file: &str, layout: Vec<Field>) {
        if self.files.insert(file.to_string(), layout).is_none() {
            self.order.push_back(file.to_string());
            while self.order.len() > MAX_FILES {
                if let Some(oldest) = self.order.pop_front() {
                    self.files.remove(&oldest);
                }
            }
        }
    }
}

/// The tokens of `text` when each fits its field of `layout`; else the first misfit.
fn check<'t>(text: &'t str, layout: &[Field]) -> Result<Vec<&'t str>, DecodeError> {
    let tokens: Vec<&str> = text.split_ascii_whitespace().collect();
    if tokens.len() != layout.len() {
        let column = tokens
            .get(layout.len())
            .map_or(text.len() + 1, |t| column_of(text, t));
        return Err(DecodeError::shape(
            Source::VpcFlow,
            column,
            format!(
                "{} fields where the layout has {}",
                tokens.len(),
                layout.len()
            ),
        ));
    }
    for (token, field) in tokens.iter().zip(layout) {
        let kind = kind_of(*field);
        if !fits(token, kind) {
            let name = FIELDS
                .iter()
                .find(|(_, f, _)| f == field)
                .map_or("field", |(n, _, _)| n);
            return Err(DecodeError::shape(
                Source::VpcFlow,
                column_of(text, token),
                format!("{token:?} is not a valid {name}"),
            ));
        }
    }
    Ok(tokens)
}

fn fits(token: &str, kind: Kind) -> bool {
    if token == "-" {
        return true;
    }
    match kind {
        Kind::Number => token.bytes().all(|b| b.is_ascii_digit()),
        Kind::Address => token
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || b == b'.' || b == b':'),
        Kind::Account => token == "unknown" || token.bytes().all(|b| b.is_ascii_digit()),
        Kind::Verdict => matches!(token, "ACCEPT" | "REJECT"),
        Kind::Status => matches!(token, "OK" | "NODATA" | "SKIPDATA"),
        Kind::Word => token.bytes().all(|b| b.is_ascii_graphic()),
    }
}

fn decode<'a>(
    text: &'a str,
    state: &mut Layouts,
    ctx: &Context<'_>,
) -> Result<Vec<Decoded<'a>>, DecodeError> {
    if let Some(layout) = header_layout(text) {
        state.remember(ctx.file, layout);
        let event = Event::new(Source::VpcFlow, Action::Other, "header");
        return Ok(vec![Decoded {
            event,
            evaluate: false,
            settles: false,
            evaluate_once: false,
            raw: None,
        }]);
    }
    let layout = state.layout(ctx);
    let tokens = check(text, layout)?;
    Ok(vec![record(layout, &tokens)])
}

/// The values of one checked record, by field.
#[derive(Default)]
struct Values<'a> {
    account: Option<&'a str>,
    src: Option<&'a str>,
    dst: Option<&'a str>,
    pkt_src: Option<&'a str>,
    pkt_dst: Option<&'a str>,
    src_port: Option<&'a str>,
    dst_port: Option<&'a str>,
    protocol: Option<&'a str>,
    packets: Option<&'a str>,
    bytes: Option<&'a str>,
    start: Option<&'a str>,
    action: Option<&'a str>,
    status: Option<&'a str>,
    instance: Option<&'a str>,
    container_instance: Option<&'a str>,
    region: Option<&'a str>,
    cluster_name: Option<&'a str>,
    cluster_arn: Option<&'a str>,
    container_id: Option<&'a str>,
    second_container_id: Option<&'a str>,
    service: Option<&'a str>,
    task_arn: Option<&'a str>,
    task_id: Option<&'a str>,
    reject_reason: Option<&'a str>,
}

fn record<'a>(layout: &[Field], tokens: &[&'a str]) -> Decoded<'a> {
    let mut v = Values::default();
    for (field, &token) in layout.iter().zip(tokens) {
        if token == "-" {
            continue;
        }
        let slot = match field {
            Field::AccountId => &mut v.account,
            Field::SrcAddr => &mut v.src,
            Field::DstAddr => &mut v.dst,
            Field::PktSrcAddr => &mut v.pkt_src,
            Field::PktDstAddr => &mut v.pkt_dst,
            Field::SrcPort => &mut v.src_port,
            Field::DstPort => &mut v.dst_port,
            Field::Protocol => &mut v.protocol,
            Field::Packets => &mut v.packets,
            Field::Bytes => &mut v.bytes,
            Field::Start => &mut v.start,
            Field::Action => &mut v.action,
            Field::LogStatus => &mut v.status,
            Field::InstanceId => &mut v.instance,
            Field::EcsContainerInstanceId => &mut v.container_instance,
            Field::Region => &mut v.region,
            Field::EcsClusterName => &mut v.cluster_name,
            Field::EcsClusterArn => &mut v.cluster_arn,
            Field::EcsContainerId => &mut v.container_id,
            Field::EcsSecondContainerId => &mut v.second_container_id,
            Field::EcsServiceName => &mut v.service,
            Field::EcsTaskArn => &mut v.task_arn,
            Field::EcsTaskId => &mut v.task_id,
            Field::RejectReason => &mut v.reject_reason,
            _ => continue,
        };
        *slot = Some(token);
    }

    let no_data = matches!(v.status, Some("NODATA" | "SKIPDATA"));
    let src = v.pkt_src.or(v.src);
    let dst = v.pkt_dst.or(v.dst);
    let flow = !no_data && (src.is_some() || dst.is_some());
    let (action, raw_action) = if flow {
        (Action::NetworkFlow, v.action.unwrap_or("flow"))
    } else {
        (Action::Other, v.status.unwrap_or("flow"))
    };

    let mut event = Event::new(Source::VpcFlow, action, raw_action);
    event.time_ns = v
        .start
        .and_then(|s| s.parse::<i64>().ok())
        .and_then(|s| s.checked_mul(1_000_000_000));
    event.account = v.account.filter(|a| *a != "unknown").map(Cow::Borrowed);
    event.region = v.region.map(Cow::Borrowed);
    event.host = v.instance.or(v.container_instance).map(Cow::Borrowed);
    event.reason = v.reject_reason.map(Cow::Borrowed);
    event.cluster = v
        .cluster_name
        .or_else(|| v.cluster_arn.map(|arn| after_last(arn, '/')))
        .map(Cow::Borrowed);
    let task_name = v
        .task_id
        .or_else(|| v.task_arn.map(|arn| after_last(arn, '/')));
    if task_name.is_some() || v.task_arn.is_some() {
        event.workload = Some(Workload {
            kind: Cow::Borrowed("Task"),
            name: task_name.map(Cow::Borrowed),
            namespace: None,
            uid: v.task_arn.map(Cow::Borrowed),
            owner: v.service.map(|s| Cow::Owned(format!("Service/{s}"))),
        });
    }
    for id in [v.container_id, v.second_container_id]
        .into_iter()
        .flatten()
    {
        event.containers.push(Container {
            id: Some(Cow::Borrowed(id)),
            ..Container::default()
        });
    }
    if flow {
        event.network = Some(Network {
            src_ip: src.map(Cow::Borrowed),
            src_port: v.src_port.and_then(|p| p.parse().ok()),
            dst_ip: dst.map(Cow::Borrowed),
            dst_port: v.dst_port.and_then(|p| p.parse().ok()),
            protocol: v.protocol.map(protocol_name),
            bytes: v.bytes.and_then(|b| b.parse().ok()),
            packets: v.packets.and_then(|p| p.parse().ok()),
            disposition: v.action.and_then(|a| match a {
                "ACCEPT" => Some(Cow::Borrowed("accept")),
                "REJECT" => Some(Cow::Borrowed("reject")),
                _ => None,
            }),
            ..Network::default()
        });
    }
    Decoded {
        event,
        evaluate: flow,
        settles: flow,
        evaluate_once: false,
        raw: None,
    }
}

/// The IANA protocol number as the name rules use; other numbers as written.
fn protocol_name(number: &str) -> Cow<'_, str> {
    Cow::Borrowed(match number {
        "6" => "tcp",
        "17" => "udp",
        "1" => "icmp",
        "58" => "ipv6-icmp",
        other => other,
    })
}

fn after_last(s: &str, sep: char) -> &str {
    s.rsplit(sep).next().unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{StreamState, decode as decode_record, detect_text};

    const HEADER: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status flow-direction ecs-cluster-name ecs-service-name ecs-task-id ecs-task-arn ecs-container-id";
    const EGRESS: &str = "7 111122223333 eni-0c1d2e3f4a5b6c7d8 10.42.0.17 203.0.113.50 49812 4444 6 1713 1870217 1715679060 1715679120 ACCEPT OK egress prod-ecs payments 9f2b7c41d0e84a5fa61b0c3d2e1f4a5b arn:aws:ecs:us-east-1:111122223333:task/prod-ecs/9f2b7c41d0e84a5fa61b0c3d2e1f4a5b 9f2b7c41d0e84a5fa61b0c3d2e1f4a5b-1527584347";

    fn ctx(file: &str) -> Context<'_> {
        Context {
            file,
            vpc_flow_format: None,
        }
    }

    #[test]
    fn default_format() {
        let line = "2 111122223333 eni-0a1b2c3d4e5f60718 10.42.0.23 10.42.1.8 51544 443 6 12 4380 1715679000 1715679060 ACCEPT OK";
        let state = StreamState::default();
        assert_eq!(
            detect_text(line, &state, &ctx("a.log")),
            Some(Source::VpcFlow)
        );
        let mut layouts = Layouts::default();
        let d = decode(line, &mut layouts, &ctx("a.log")).unwrap().remove(0);
        assert!(d.evaluate);
        let e = d.event;
        assert_eq!(e.action, Action::NetworkFlow);
        assert_eq!(e.raw_action, "ACCEPT");
        assert_eq!(e.time_ns, Some(1_715_679_000_000_000_000));
        assert_eq!(e.account.as_deref(), Some("111122223333"));
        let n = e.network.unwrap();
        assert_eq!(n.src_ip.as_deref(), Some("10.42.0.23"));
        assert_eq!(n.dst_ip.as_deref(), Some("10.42.1.8"));
        assert_eq!((n.src_port, n.dst_port), (Some(51544), Some(443)));
        assert_eq!(n.protocol.as_deref(), Some("tcp"));
        assert_eq!((n.packets, n.bytes), (Some(12), Some(4380)));
        assert_eq!(n.disposition.as_deref(), Some("accept"));
        assert!(e.containers.is_empty() && e.workload.is_none());
    }

    #[test]
    fn nodata_is_not_evaluated() {
        let line =
            "2 111122223333 eni-0a1b2c3d4e5f60718 - - - - - - - 1715679000 1715679060 - NODATA";
        let d = decode(line, &mut Layouts::default(), &ctx("a.log"))
            .unwrap()
            .remove(0);
        assert!(!d.evaluate);
        assert_eq!(d.event.action, Action::Other);
        assert_eq!(d.event.raw_action, "NODATA");
        assert!(d.event.network.is_none());
    }

    #[test]
    fn a_header_sets_the_layout_of_its_file_only() {
        let mut state = StreamState::default();
        let first = decode_record(HEADER, &mut state, &ctx("s3/a.log")).unwrap();
        assert_eq!(first.source, Source::VpcFlow);
        assert!(!first.events[0].evaluate);
        assert_eq!(first.events[0].event.action, Action::Other);

        let record = decode_record(EGRESS, &mut state, &ctx("s3/a.log")).unwrap();
        let e = &record.events[0].event;
        assert_eq!(e.action, Action::NetworkFlow);
        assert_eq!(e.cluster.as_deref(), Some("prod-ecs"));
        let w = e.workload.as_ref().unwrap();
        assert_eq!(w.kind, "Task");
        assert_eq!(w.name.as_deref(), Some("9f2b7c41d0e84a5fa61b0c3d2e1f4a5b"));
        assert_eq!(w.owner.as_deref(), Some("Service/payments"));
        assert!(
            w.uid
                .as_deref()
                .is_some_and(|u| u.starts_with("arn:aws:ecs:"))
        );
        assert_eq!(
            e.containers[0].id.as_deref(),
            Some("9f2b7c41d0e84a5fa61b0c3d2e1f4a5b-1527584347")
        );
        let n = e.network.as_ref().unwrap();
        assert_eq!(n.dst_ip.as_deref(), Some("203.0.113.50"));
        assert_eq!(n.dst_port, Some(4444));

        // Another file without a header is read with the default layout.
        assert!(decode_record(EGRESS, &mut state, &ctx("s3/b.log")).is_err());
    }

    #[test]
    fn a_configured_format_without_header() {
        let format = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${flow-direction} ${ecs-cluster-name} ${ecs-service-name} ${ecs-task-id} ${ecs-task-arn} ${ecs-container-id}";
        let ctx = Context {
            file: "cw",
            vpc_flow_format: Some(format),
        };
        let state = StreamState::default();
        assert_eq!(detect_text(EGRESS, &state, &ctx), Some(Source::VpcFlow));
        let mut layouts = Layouts::default();
        let e = decode(EGRESS, &mut layouts, &ctx).unwrap().remove(0).event;
        assert_eq!(e.cluster.as_deref(), Some("prod-ecs"));
        // Bare names work the same.
        let bare = format.replace("${", "").replace('}', "");
        let ctx = Context {
            file: "cw",
            vpc_flow_format: Some(&bare),
        };
        let e = decode(EGRESS, &mut layouts, &ctx).unwrap().remove(0).event;
        assert_eq!(e.cluster.as_deref(), Some("prod-ecs"));
    }

    #[test]
    fn packet_addresses_win_and_protocols_are_named() {
        let header = "srcaddr dstaddr pkt-srcaddr pkt-dstaddr protocol action";
        let mut layouts = Layouts::default();
        decode(header, &mut layouts, &ctx("f")).unwrap();
        let e = decode(
            "10.0.1.5 203.0.113.9 10.42.0.17 203.0.113.9 17 REJECT",
            &mut layouts,
            &ctx("f"),
        )
        .unwrap()
        .remove(0)
        .event;
        let n = e.network.unwrap();
        assert_eq!(n.src_ip.as_deref(), Some("10.42.0.17"));
        assert_eq!(n.protocol.as_deref(), Some("udp"));
        assert_eq!(n.disposition.as_deref(), Some("reject"));
        assert_eq!(protocol_name("47"), "47");
    }

    #[test]
    fn text_that_is_not_a_flow_is_not_claimed() {
        let state = StreamState::default();
        for line in [
            "GET /healthz HTTP/1.1 200",
            "2 111122223333 eni-0a1b2c3d4e5f60718 10.42.0.23 10.42.1.8 51544 443 6 12 4380 1715679000 1715679060 ACCEPT",
            "2 111122223333 eni-0a 10.42.0.23 host.example 51544 443 6 12 4380 1715679000 1715679060 ACCEPT OK",
            "2 111122223333 eni-0a 10.42.0.23 10.42.1.8 51544 443 6 12 4380 1715679000 1715679060 ALLOW OK",
            "the quick brown fox jumps over the lazy dog and then some more words here",
            "",
        ] {
            assert!(!state.vpc_flow.sniff(line, &ctx("x")), "{line}");
        }
        let err = decode(
            "2 111122223333 eni-0a 10.42.0.23 10.42.1.8 http 443 6 12 4380 1715679000 1715679060 ACCEPT OK",
            &mut Layouts::default(),
            &ctx("x"),
        )
        .unwrap_err();
        assert_eq!(err.column(), 44);
    }

    #[test]
    fn remembered_files_are_bounded() {
        let mut layouts = Layouts::default();
        for n in 0..MAX_FILES + 10 {
            layouts.remember(&format!("f{n}"), vec![Field::SrcAddr]);
        }
        assert_eq!(layouts.files.len(), MAX_FILES);
        assert!(!layouts.files.contains_key("f0"));
    }
}
