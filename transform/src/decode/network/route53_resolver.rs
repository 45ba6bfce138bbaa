//! Amazon Route 53 Resolver query logs: one JSON object per DNS query that the VPC's
//! resolver answered, as delivered to CloudWatch Logs, S3 or Firehose.
//!
//! A record says who asked (`srcaddr`, `srcport`, `srcids.instance` or the inbound
//! `srcids.resolver_endpoint`), what (`query_name`, `query_type`, `query_class`) and what
//! came back (`rcode`, `answers[]{Rdata, Type, Class}`). Every value is a string, the
//! port included. The record carries no container: tying the query to a task or pod
//! takes an address join with another source, so the event is left container-less.
//!
//! Names are normalized the way rules compare them: lower case, without the trailing dot
//! of a fully qualified name (`Evil-Registry.example.` → `evil-registry.example`).
//! Resolver DNS Firewall fields (`firewall_rule_action`, ...) are not read: the model has
//! no place for them, and raw-field rules still see them.

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::decode::{DecodeError, Decoded, Decoder, Detect, Format, Keys};
use crate::model::{Action, Event, Network, Source};
use crate::normalize::borrowed::{Str, non_empty};
use crate::normalize::network::{domain_name, protocol};
use crate::time::parse_rfc3339_ns;

pub(crate) const FORMAT: Format = Format {
    source: Source::Route53Resolver,
    logsource: ("aws", "route53"),
    about: "Route 53 Resolver query logs",
    detect: Detect {
        json: &[Keys::all(&["\"query_name\":"])],
        text: None,
    },
    raw_roots: &[
        "version",
        "account_id",
        "region",
        "vpc_id",
        "query_timestamp",
        "query_name",
        "query_type",
        "query_class",
        "rcode",
        "answers",
        "srcaddr",
        "srcport",
        "transport",
        "srcids",
        "firewall_rule_action",
        "firewall_rule_group_id",
        "firewall_domain_list_id",
    ],
    decode: Decoder::One(decode),
};

#[derive(Deserialize)]
struct RawQuery<'a> {
    #[serde(borrow)]
    account_id: Option<Str<'a>>,
    #[serde(borrow)]
    region: Option<Str<'a>>,
    #[serde(borrow)]
    query_timestamp: Option<Str<'a>>,
    #[serde(borrow)]
    query_name: Str<'a>,
    #[serde(borrow)]
    query_type: Option<Str<'a>>,
    #[serde(borrow)]
    rcode: Option<Str<'a>>,
    #[serde(borrow)]
    answers: Option<Vec<RawAnswer<'a>>>,
    #[serde(borrow)]
    srcaddr: Option<Str<'a>>,
    /// A decimal string (a number is accepted too).
    #[serde(borrow)]
    srcport: Option<&'a RawValue>,
    /// `UDP` or `TCP`.
    #[serde(borrow)]
    transport: Option<Str<'a>>,
    #[serde(borrow)]
    srcids: Option<RawSourceIds<'a>>,
}

#[derive(Deserialize)]
struct RawAnswer<'a> {
    #[serde(rename = "Rdata", borrow)]
    rdata: Option<Str<'a>>,
}

#[derive(Deserialize)]
struct RawSourceIds<'a> {
    /// The EC2 instance the query came from.
    #[serde(borrow)]
    instance: Option<Str<'a>>,
    /// The inbound endpoint, for queries forwarded from outside the VPC.
    #[serde(borrow)]
    resolver_endpoint: Option<Str<'a>>,
}

fn decode(text: &str) -> Result<Decoded<'_>, DecodeError> {
    let raw: RawQuery<'_> = serde_json::from_str(text)
        .map_err(|e| DecodeError::from_json(Source::Route53Resolver, e))?;

    let mut event = Event::new(Source::Route53Resolver, Action::DnsQuery, "query");
    event.time_ns = raw
        .query_timestamp
        .as_ref()
        .and_then(|t| parse_rfc3339_ns(&t.0));
    event.account = non_empty(raw.account_id);
    event.region = non_empty(raw.region);
    event.host = raw
        .srcids
        .and_then(|ids| non_empty(ids.instance).or_else(|| non_empty(ids.resolver_endpoint)));
    event.network = Some(Network {
        src_ip: non_empty(raw.srcaddr),
        src_port: raw.srcport.and_then(port),
        protocol: non_empty(raw.transport).map(protocol),
        domain: Some(domain_name(raw.query_name.0)),
        dns_query_type: non_empty(raw.query_type),
        dns_rcode: non_empty(raw.rcode),
        dns_answers: raw
            .answers
            .into_iter()
            .flatten()
            .filter_map(|a| non_empty(a.rdata))
            .collect(),
        ..Network::default()
    });
    Ok(Decoded::evaluated(event))
}

/// A port written as a number or a decimal string; `None` for `"-"` and other text.
pub(super) fn port(raw: &RawValue) -> Option<u16> {
    let text = raw.get();
    text.strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text)
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;

    const QUERY: &str = r#"{"version":"1.100000","account_id":"111122223333","region":"us-east-1","vpc_id":"vpc-0a1b2c3d4e5f60718","query_timestamp":"2024-05-14T09:31:02Z","query_name":"Evil-Registry.example.","query_type":"A","query_class":"IN","rcode":"NOERROR","answers":[{"Rdata":"203.0.113.50","Type":"A","Class":"IN"}],"srcaddr":"10.42.0.17","srcport":"41873","transport":"UDP","srcids":{"instance":"i-0f1e2d3c4b5a69788"}}"#;

    #[test]
    fn a_query_with_an_answer() {
        let decoded = decode(QUERY).unwrap();
        assert!(decoded.evaluate);
        let event = decoded.event;
        assert_eq!(event.action, Action::DnsQuery);
        assert_eq!(event.time_ns, Some(1_715_679_062_000_000_000));
        assert_eq!(event.account.as_deref(), Some("111122223333"));
        assert_eq!(event.region.as_deref(), Some("us-east-1"));
        assert_eq!(event.host.as_deref(), Some("i-0f1e2d3c4b5a69788"));
        let n = event.network.unwrap();
        assert_eq!(n.domain.as_deref(), Some("evil-registry.example"));
        assert_eq!(n.src_ip.as_deref(), Some("10.42.0.17"));
        assert_eq!(n.src_port, Some(41873));
        assert_eq!(n.protocol.as_deref(), Some("udp"));
        assert_eq!(n.dns_query_type.as_deref(), Some("A"));
        assert_eq!(n.dns_rcode.as_deref(), Some("NOERROR"));
        assert_eq!(n.dns_answers, ["203.0.113.50"]);
    }

    #[test]
    fn detected_by_its_key() {
        assert_eq!(crate::decode::detect(QUERY), Some(Source::Route53Resolver));
        let decoded = crate::decode::decode_one(QUERY).unwrap();
        assert_eq!(decoded.event.source, Source::Route53Resolver);
    }

    #[test]
    fn nxdomain_without_answers_or_ids() {
        let text = r#"{"query_timestamp":"2024-05-14T09:31:02Z","query_name":"nothing.example.","query_type":"AAAA","rcode":"NXDOMAIN","answers":[],"srcaddr":"10.42.0.17","srcport":"-"}"#;
        let event = decode(text).unwrap().event;
        let n = event.network.unwrap();
        assert_eq!(n.dns_rcode.as_deref(), Some("NXDOMAIN"));
        assert!(n.dns_answers.is_empty());
        assert_eq!(n.src_port, None);
        assert_eq!(event.host, None);
        assert!(matches!(n.domain, Some(Cow::Borrowed("nothing.example"))));
    }

    #[test]
    fn escaped_names_are_unescaped_and_lowered() {
        let text = r#"{"query_name":"WWW\u002eExample.COM.","rcode":"NOERROR"}"#;
        let n = decode(text).unwrap().event.network.unwrap();
        assert_eq!(n.domain.as_deref(), Some("www.example.com"));
        let text = r#"{"query_name":"a.example","srcport":41873}"#;
        let n = decode(text).unwrap().event.network.unwrap();
        assert_eq!(n.src_port, Some(41873));
    }

    #[test]
    fn wrong_shapes_are_errors() {
        for text in [
            r#"{"query_timestamp":"2024-05-14T09:31:02Z"}"#,
            r#"{"query_name":5}"#,
            r#"{"query_name":"a.example","answers":{"Rdata":"x"}}"#,
            r#"{"query_name":"a.example","answers":[{"Rdata":5}]}"#,
        ] {
            assert!(
                matches!(
                    decode(text),
                    Err(DecodeError::Shape {
                        format: Source::Route53Resolver,
                        ..
                    })
                ),
                "{text}"
            );
        }
    }
}
