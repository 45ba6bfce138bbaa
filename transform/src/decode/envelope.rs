//! Records inside a shipper's wrapper.
//!
//! Log shippers and stores wrap the line they carried: Fluent Bit's `tail` and Docker's
//! `json-file` driver put it under `log`, Vector, Fluentd, Logstash and CloudWatch
//! exports under `message`, `journalctl -o json` under `MESSAGE`, `aws cloudtrail
//! lookup-events` each event under `CloudTrailEvent` (its other members are a summary of
//! the same event); a CloudWatch Logs
//! subscription delivers a batch of log events, each line under `logEvents[].message`
//! (EKS audit logs, VPC flow logs and Route 53 query logs all arrive that way). When no
//! format claims a JSON record, the line inside is decoded instead. Wrappers are
//! unwrapped once: a wrapper inside a wrapper is not a shape any shipper writes.
//!
//! The inner line is an escaped JSON string, so its events own their strings and keep
//! the unescaped line as the text raw-field rules read.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::{Context, DecodeError, DecodedRecord, StreamState, detect};
use crate::normalize::borrowed::Str;

#[derive(Deserialize)]
struct Wrapper<'a> {
    #[serde(borrow)]
    log: Option<&'a RawValue>,
    #[serde(borrow)]
    message: Option<&'a RawValue>,
    #[serde(rename = "MESSAGE", borrow)]
    journal_message: Option<&'a RawValue>,
    #[serde(rename = "CloudTrailEvent", borrow)]
    cloudtrail_event: Option<&'a RawValue>,
    #[serde(rename = "messageType", borrow)]
    message_type: Option<Str<'a>>,
    #[serde(rename = "logEvents", borrow)]
    log_events: Option<Vec<LogEvent<'a>>>,
}

/// One event of a CloudWatch Logs subscription message.
#[derive(Deserialize)]
struct LogEvent<'a> {
    #[serde(borrow)]
    message: Str<'a>,
}

/// The records inside `text` when it is a wrapper, `None` when it is not one.
pub(super) fn decode(
    text: &str,
    state: &mut StreamState,
    ctx: &Context<'_>,
) -> Result<Option<DecodedRecord<'static>>, DecodeError> {
    let Ok(wrapper) = serde_json::from_str::<Wrapper<'_>>(text) else {
        return Ok(None);
    };
    if let Some(events) = wrapper.log_events {
        // CloudWatch Logs: `DATA_MESSAGE` carries log events; `CONTROL_MESSAGE` is the
        // service checking the destination and carries none worth decoding.
        if wrapper.message_type.is_some_and(|t| t.0 != "DATA_MESSAGE") {
            return Ok(None);
        }
        return decode_lines(events.iter().map(|e| e.message.0.as_ref()), state, ctx);
    }
    let line = [
        wrapper.log,
        wrapper.message,
        wrapper.journal_message,
        wrapper.cloudtrail_event,
    ]
    .into_iter()
    .flatten()
    .find_map(|raw| serde_json::from_str::<Str<'_>>(raw.get()).ok());
    match line {
        Some(line) => decode_lines(std::iter::once(line.0.as_ref()), state, ctx),
        None => Ok(None),
    }
}

/// Decode each inner line; the record holds every event they gave. A record whose
/// lines all fail reports the first line's error; one good line is enough to keep it.
fn decode_lines<'l>(
    lines: impl Iterator<Item = &'l str>,
    state: &mut StreamState,
    ctx: &Context<'_>,
) -> Result<Option<DecodedRecord<'static>>, DecodeError> {
    let mut source = None;
    let mut events = Vec::new();
    let mut first_error = None;
    for line in lines {
        let line = line.trim_end_matches(['\n', '\r']);
        match decode_inner(line, state, ctx) {
            Ok(record) => {
                source.get_or_insert(record.source);
                events.extend(record.events.into_iter().map(|mut d| {
                    if d.raw.is_none() && line.trim_start().starts_with('{') {
                        d.raw = Some(Cow::Borrowed(line));
                    }
                    d.into_owned()
                }));
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    match (source, first_error) {
        (Some(source), _) => Ok(Some(DecodedRecord { source, events })),
        // A wrapper around lines no format claims is as unknown as any other record.
        (None, Some(DecodeError::UnknownShape)) | (None, None) => Ok(None),
        (None, Some(e)) => Err(e),
    }
}

/// One inner line, by the same detection as a top-level record but with no further
/// unwrapping.
fn decode_inner<'a>(
    line: &'a str,
    state: &mut StreamState,
    ctx: &Context<'_>,
) -> Result<DecodedRecord<'a>, DecodeError> {
    let json = line.trim_start().starts_with(['{', '[']);
    let format = if json {
        detect::json_format(line)
    } else {
        detect::text_format(line, state, ctx)
    };
    match format {
        Some(format) => format.decode(line, state, ctx),
        None => Err(DecodeError::UnknownShape),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Context, StreamState, decode as decode_record};
    use crate::model::{Action, Source};

    #[test]
    fn a_docker_event_inside_a_fluent_bit_log_field() {
        let line = r#"{"log":"{\"Type\":\"container\",\"Action\":\"start\",\"Actor\":{\"ID\":\"0123456789ab\",\"Attributes\":{\"image\":\"alpine\",\"name\":\"x\"}},\"time\":1714557600}\n","stream":"stdout","time":"2024-05-01T10:00:00Z"}"#;
        let record = decode_record(line, &mut StreamState::default(), &Context::default())
            .expect("the inner event decodes");
        assert_eq!(record.source, Source::DockerEvent);
        assert_eq!(record.events.len(), 1);
        assert_eq!(record.events[0].event.action, Action::ContainerStart);
        let raw = record.events[0]
            .raw
            .as_deref()
            .expect("the inner line is kept");
        assert!(raw.starts_with(r#"{"Type":"container""#), "{raw}");
    }

    #[test]
    fn a_cloudwatch_subscription_message_gives_one_event_per_log_event() {
        let audit = r#"{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Metadata\",\"auditID\":\"A\",\"stage\":\"ResponseComplete\",\"requestURI\":\"/api/v1/pods\",\"verb\":\"list\",\"user\":{\"username\":\"bob\"},\"objectRef\":{\"resource\":\"pods\",\"apiVersion\":\"v1\"},\"responseStatus\":{\"code\":200},\"stageTimestamp\":\"2024-05-01T10:00:00.000000Z\"}"#;
        let message = format!(
            r#"{{"messageType":"DATA_MESSAGE","owner":"111122223333","logGroup":"/aws/eks/prod/cluster","logStream":"kube-apiserver-audit-1","subscriptionFilters":["all"],"logEvents":[{{"id":"1","timestamp":1714557600000,"message":"{audit}"}},{{"id":"2","timestamp":1714557600000,"message":"{}"}}]}}"#,
            audit.replace("\\\"A\\\"", "\\\"B\\\"")
        );
        let record = decode_record(&message, &mut StreamState::default(), &Context::default())
            .expect("both log events decode");
        assert_eq!(record.source, Source::K8sAudit);
        let ids: Vec<_> = record
            .events
            .iter()
            .map(|d| {
                d.event
                    .request_id
                    .as_deref()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect();
        assert_eq!(ids, ["A", "B"]);
        assert!(
            record
                .events
                .iter()
                .all(|d| d.event.action == Action::ResourceList)
        );
    }

    #[test]
    fn a_wrapper_around_nothing_known_is_still_unknown() {
        let err = decode_record(
            r#"{"log":"GET /healthz 200","stream":"stdout"}"#,
            &mut StreamState::default(),
            &Context::default(),
        )
        .unwrap_err();
        assert_eq!(err.code(), "decode.unknown");
    }
}
