//! Zeek `conn.log` and `dns.log` written as JSON (`LogAscii::use_json=T`), one object
//! per line.
//!
//! Zeek leaves unset fields out of a JSON line, so every field but the connection's
//! originator is optional (a connection that never completed has no byte counts, a DNS
//! query with no reply no `rcode_name`). `ts` is epoch seconds as a number by default
//! and an ISO 8601 string with `JSON::TS_ISO8601`; both are read, the number from its
//! digits so no precision is lost to a float. A cluster's logger adds `_node_name` (the
//! sensor that saw the traffic, read as the event's host) and `_path` (the log stream,
//! used to tell a `dns` record without a query from a connection).
//!
//! `conn_state` (`S0`, `SF`, `REJ`, ...) is kept as the event's reason. `service`,
//! `duration`, `history` and `local_orig` have no place in the model; raw-field rules
//! still read them.

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::decode::{DecodeError, Decoded, Decoder, Detect, Format, Keys};
use crate::model::{Action, Event, Network, Source};
use crate::normalize::borrowed::{Str, non_empty};
use crate::normalize::network::{domain_name, protocol};
use crate::time::parse_rfc3339_ns;

/// Zeek's key for the originator of a connection, which both logs have.
const ORIG_H: &str = "\"id.orig_h\":";

pub(crate) const CONN_FORMAT: Format = Format {
    source: Source::ZeekConn,
    logsource: ("zeek", "conn"),
    about: "Zeek `conn.log` as JSON",
    detect: Detect {
        json: &[Keys::all(&[ORIG_H])],
        text: None,
    },
    raw_roots: ROOTS,
    decode: Decoder::One(decode_conn),
};

pub(crate) const DNS_FORMAT: Format = Format {
    source: Source::ZeekDns,
    logsource: ("zeek", "dns"),
    about: "Zeek `dns.log` as JSON",
    detect: Detect {
        // `"_path":"dns"` is a value: Zeek's log stream name, for a line without a query.
        json: &[
            Keys::all(&[ORIG_H, "\"qtype_name\":"]),
            Keys::all(&[ORIG_H, "\"query\":"]),
            Keys::all(&[ORIG_H, "\"_path\":\"dns\""]),
        ],
        text: None,
    },
    raw_roots: ROOTS,
    decode: Decoder::One(decode_dns),
};

/// Top-level keys of `conn.log` and `dns.log` lines.
const ROOTS: &[&str] = &[
    "ts",
    "uid",
    "id",
    "id.orig_h",
    "id.orig_p",
    "id.resp_h",
    "id.resp_p",
    "proto",
    "service",
    "duration",
    "orig_bytes",
    "resp_bytes",
    "conn_state",
    "local_orig",
    "local_resp",
    "history",
    "orig_pkts",
    "resp_pkts",
    "query",
    "qclass_name",
    "qtype",
    "qtype_name",
    "rcode",
    "rcode_name",
    "answers",
    "TTLs",
    "rejected",
    "trans_id",
    "rtt",
    "_path",
    "_node_name",
];

/// The fields `conn.log` and `dns.log` share.
#[derive(Deserialize)]
struct RawConn<'a> {
    #[serde(borrow)]
    ts: Option<&'a RawValue>,
    #[serde(borrow)]
    uid: Option<Str<'a>>,
    #[serde(rename = "id.orig_h", borrow)]
    orig_h: Str<'a>,
    #[serde(rename = "id.orig_p")]
    orig_p: Option<u16>,
    #[serde(rename = "id.resp_h", borrow)]
    resp_h: Option<Str<'a>>,
    #[serde(rename = "id.resp_p")]
    resp_p: Option<u16>,
    #[serde(borrow)]
    proto: Option<Str<'a>>,
    orig_bytes: Option<u64>,
    resp_bytes: Option<u64>,
    orig_pkts: Option<u64>,
    resp_pkts: Option<u64>,
    #[serde(borrow)]
    conn_state: Option<Str<'a>>,
    #[serde(rename = "_node_name", borrow)]
    node_name: Option<Str<'a>>,
    #[serde(rename = "_path", borrow)]
    path: Option<Str<'a>>,
}

#[derive(Deserialize)]
struct RawDns<'a> {
    #[serde(borrow)]
    ts: Option<&'a RawValue>,
    #[serde(borrow)]
    uid: Option<Str<'a>>,
    #[serde(rename = "id.orig_h", borrow)]
    orig_h: Str<'a>,
    #[serde(rename = "id.orig_p")]
    orig_p: Option<u16>,
    #[serde(rename = "id.resp_h", borrow)]
    resp_h: Option<Str<'a>>,
    #[serde(rename = "id.resp_p")]
    resp_p: Option<u16>,
    #[serde(borrow)]
    proto: Option<Str<'a>>,
    #[serde(borrow)]
    query: Option<Str<'a>>,
    #[serde(borrow)]
    qtype_name: Option<Str<'a>>,
    #[serde(borrow)]
    rcode_name: Option<Str<'a>>,
    #[serde(borrow)]
    answers: Option<Vec<Str<'a>>>,
    #[serde(rename = "_node_name", borrow)]
    node_name: Option<Str<'a>>,
    #[serde(rename = "_path", borrow)]
    path: Option<Str<'a>>,
}

fn decode_conn(text: &str) -> Result<Decoded<'_>, DecodeError> {
    let raw: RawConn<'_> =
        serde_json::from_str(text).map_err(|e| DecodeError::from_json(Source::ZeekConn, e))?;
    check_path(Source::ZeekConn, raw.path.as_ref(), "conn")?;

    let mut event = Event::new(Source::ZeekConn, Action::NetworkFlow, "conn");
    event.time_ns = raw.ts.and_then(timestamp_ns);
    event.request_id = non_empty(raw.uid);
    event.host = non_empty(raw.node_name);
    event.reason = non_empty(raw.conn_state);
    event.network = Some(Network {
        src_ip: Some(raw.orig_h.0),
        src_port: raw.orig_p,
        dst_ip: non_empty(raw.resp_h),
        dst_port: raw.resp_p,
        protocol: non_empty(raw.proto).map(protocol),
        bytes: sum(raw.orig_bytes, raw.resp_bytes),
        packets: sum(raw.orig_pkts, raw.resp_pkts),
        ..Network::default()
    });
    Ok(Decoded::evaluated(event))
}

fn decode_dns(text: &str) -> Result<Decoded<'_>, DecodeError> {
    let raw: RawDns<'_> =
        serde_json::from_str(text).map_err(|e| DecodeError::from_json(Source::ZeekDns, e))?;
    check_path(Source::ZeekDns, raw.path.as_ref(), "dns")?;

    let mut event = Event::new(Source::ZeekDns, Action::DnsQuery, "dns");
    event.time_ns = raw.ts.and_then(timestamp_ns);
    event.request_id = non_empty(raw.uid);
    event.host = non_empty(raw.node_name);
    event.network = Some(Network {
        src_ip: Some(raw.orig_h.0),
        src_port: raw.orig_p,
        dst_ip: non_empty(raw.resp_h),
        dst_port: raw.resp_p,
        protocol: non_empty(raw.proto).map(protocol),
        domain: non_empty(raw.query).map(domain_name),
        dns_query_type: non_empty(raw.qtype_name),
        dns_rcode: non_empty(raw.rcode_name),
        dns_answers: raw
            .answers
            .into_iter()
            .flatten()
            .map(|a| a.0)
            .filter(|a| !a.is_empty())
            .collect(),
        ..Network::default()
    });
    Ok(Decoded::evaluated(event))
}

/// A record from another of Zeek's logs is not this one, whatever keys it shares.
fn check_path(source: Source, path: Option<&Str<'_>>, expected: &str) -> Result<(), DecodeError> {
    match path {
        Some(p) if p.0 != expected => Err(DecodeError::shape(
            source,
            1,
            format!("`_path` is {:?}, not {expected:?}", p.0),
        )),
        _ => Ok(()),
    }
}

fn sum(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(0).saturating_add(b.unwrap_or(0))),
    }
}

/// `ts` as epoch seconds (`1715679062.123456`) or an ISO 8601 string.
fn timestamp_ns(raw: &RawValue) -> Option<i64> {
    let text = raw.get();
    match text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        Some(iso) => parse_rfc3339_ns(iso),
        None => epoch_seconds_ns(text),
    }
}

/// Decimal epoch seconds to nanoseconds, from the digits (digits past the ninth decimal
/// are dropped).
fn epoch_seconds_ns(text: &str) -> Option<i64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let seconds: i64 = whole.parse().ok()?;
    let mut nanos: i64 = 0;
    let mut scale = 100_000_000;
    for b in fraction.bytes().take(9) {
        nanos += i64::from(b - b'0') * scale;
        scale /= 10;
    }
    seconds.checked_mul(1_000_000_000)?.checked_add(nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONN: &str = r#"{"ts":1715679065.482113,"uid":"CHhAvVGS1DHFjwGM9","id.orig_h":"10.42.0.17","id.orig_p":49812,"id.resp_h":"203.0.113.50","id.resp_p":4444,"proto":"tcp","duration":312.004512,"orig_bytes":48213,"resp_bytes":1822004,"conn_state":"SF","local_orig":true,"local_resp":false,"missed_bytes":0,"history":"ShADadFf","orig_pkts":402,"orig_ip_bytes":64301,"resp_pkts":1311,"resp_ip_bytes":1874448,"_node_name":"zeek-worker-1","_path":"conn"}"#;
    const DNS: &str = r#"{"ts":"2024-05-14T09:31:02.113842Z","uid":"C9ZLbr3ZcmUDxW1Ho9","id.orig_h":"10.42.0.17","id.orig_p":41873,"id.resp_h":"10.42.0.10","id.resp_p":53,"proto":"udp","trans_id":51234,"rtt":0.002113,"query":"Evil-Registry.example","qclass":1,"qclass_name":"C_INTERNET","qtype":1,"qtype_name":"A","rcode":0,"rcode_name":"NOERROR","AA":false,"TC":false,"RD":true,"RA":true,"Z":0,"answers":["203.0.113.50"],"TTLs":[60.0],"rejected":false}"#;

    #[test]
    fn a_connection() {
        assert_eq!(crate::decode::detect(CONN), Some(Source::ZeekConn));
        let decoded = crate::decode::decode_one(CONN).unwrap();
        assert!(decoded.evaluate);
        let event = decoded.event;
        assert_eq!(event.source, Source::ZeekConn);
        assert_eq!(event.action, Action::NetworkFlow);
        assert_eq!(event.time_ns, Some(1_715_679_065_482_113_000));
        assert_eq!(event.request_id.as_deref(), Some("CHhAvVGS1DHFjwGM9"));
        assert_eq!(event.host.as_deref(), Some("zeek-worker-1"));
        assert_eq!(event.reason.as_deref(), Some("SF"));
        let n = event.network.unwrap();
        assert_eq!(n.src_ip.as_deref(), Some("10.42.0.17"));
        assert_eq!(n.src_port, Some(49812));
        assert_eq!(n.dst_ip.as_deref(), Some("203.0.113.50"));
        assert_eq!(n.dst_port, Some(4444));
        assert_eq!(n.protocol.as_deref(), Some("tcp"));
        assert_eq!(n.bytes, Some(48213 + 1822004));
        assert_eq!(n.packets, Some(402 + 1311));
    }

    #[test]
    fn a_query() {
        assert_eq!(crate::decode::detect(DNS), Some(Source::ZeekDns));
        let event = crate::decode::decode_one(DNS).unwrap().event;
        assert_eq!(event.source, Source::ZeekDns);
        assert_eq!(event.action, Action::DnsQuery);
        assert_eq!(event.time_ns, Some(1_715_679_062_113_842_000));
        let n = event.network.unwrap();
        assert_eq!(n.domain.as_deref(), Some("evil-registry.example"));
        assert_eq!(n.dns_query_type.as_deref(), Some("A"));
        assert_eq!(n.dns_rcode.as_deref(), Some("NOERROR"));
        assert_eq!(n.dns_answers, ["203.0.113.50"]);
        assert_eq!(n.dst_port, Some(53));
    }

    #[test]
    fn an_attempt_without_counts() {
        let text = r#"{"ts":1715679065,"uid":"Cx","id.orig_h":"10.42.0.17","id.orig_p":40000,"id.resp_h":"198.51.100.7","id.resp_p":22,"proto":"tcp","conn_state":"S0","missed_bytes":0,"history":"S"}"#;
        let event = decode_conn(text).unwrap().event;
        assert_eq!(event.time_ns, Some(1_715_679_065_000_000_000));
        let n = event.network.unwrap();
        assert_eq!((n.bytes, n.packets), (None, None));
        assert_eq!(event.host, None);
    }

    #[test]
    fn a_dns_record_without_a_query_is_told_apart_by_its_path() {
        let text = r#"{"ts":1715679065.1,"uid":"Cy","id.orig_h":"10.42.0.17","id.orig_p":5353,"id.resp_h":"224.0.0.251","id.resp_p":5353,"proto":"udp","trans_id":0,"rcode":0,"rcode_name":"NOERROR","_path":"dns"}"#;
        assert_eq!(crate::decode::detect(text), Some(Source::ZeekDns));
        assert!(decode_conn(text).is_err());
        let event = crate::decode::decode_one(text).unwrap().event;
        assert_eq!(event.source, Source::ZeekDns);
        assert_eq!(event.network.unwrap().domain, None);
    }

    #[test]
    fn timestamps() {
        let ts = |t: &str| timestamp_ns(&serde_json::from_str::<Box<RawValue>>(t).unwrap());
        assert_eq!(ts("1.5"), Some(1_500_000_000));
        assert_eq!(ts("1715679065.1234567891"), Some(1_715_679_065_123_456_789));
        assert_eq!(
            ts(r#""2024-05-14T09:31:02Z""#),
            Some(1_715_679_062_000_000_000)
        );
        assert_eq!(ts("-1.0"), None);
        assert_eq!(ts("1e9"), None);
        assert_eq!(ts(r#""yesterday""#), None);
        assert_eq!(ts("null"), None);
    }

    #[test]
    fn wrong_shapes_are_errors() {
        for text in [
            r#"{"ts":1.0,"id.resp_h":"10.0.0.1"}"#,
            r#"{"ts":1.0,"id.orig_h":"10.0.0.1","id.orig_p":"http"}"#,
            r#"{"ts":1.0,"id.orig_h":"10.0.0.1","id.orig_p":70000}"#,
            r#"{"ts":1.0,"id.orig_h":"10.0.0.1","orig_bytes":-5}"#,
        ] {
            assert!(
                matches!(
                    decode_conn(text),
                    Err(DecodeError::Shape {
                        format: Source::ZeekConn,
                        ..
                    })
                ),
                "{text}"
            );
        }
        assert!(matches!(
            decode_dns(r#"{"id.orig_h":"10.0.0.1","answers":"203.0.113.50"}"#),
            Err(DecodeError::Shape {
                format: Source::ZeekDns,
                ..
            })
        ));
    }
}
