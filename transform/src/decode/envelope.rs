//! Records inside a shipper's wrapper.
//!
//! Log shippers and stores wrap the line they carried: Fluent Bit's `tail` and Docker's
//! `json-file` driver put it under `log`, Vector, Fluentd, Logstash and CloudWatch
//! exports under `message`, `journalctl -o json` under `MESSAGE`, `aws cloudtrail
//! lookup-events` each event under `CloudTrailEvent` (its other members are a summary of
//! the same event); a CloudWatch Logs
//! subscription delivers a batch of log events, each line under `logEvents[].message`
//! (EKS audit logs, VPC flow logs and Route 53 query logs all arrive that way); a
//! Pub/Sub push subscription posts `{"message":{"data":"<base64>",...},"subscription":
//! ...}` and `gcloud pubsub subscriptions pull --format=json` prints the same `message`,
//! the record base64-encoded in `data` (a Cloud Logging sink's `LogEntry`,
//! <https://cloud.google.com/pubsub/docs/push#receive_push>). When no format claims a
//! JSON record, the line inside is decoded instead. Wrappers are unwrapped once: a
//! wrapper inside a wrapper is not a shape any shipper writes.
//!
//! The inner line is an escaped JSON string, so its events own their strings and keep
//! the unescaped line as the text raw-field rules read.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::{Context, DecodeError, DecodedRecord, StreamState, base64, detect};
use crate::normalize::borrowed::Str;
use crate::time::parse_rfc3339_ns;

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

/// A Pub/Sub message: the record, base64-encoded.
#[derive(Deserialize)]
struct PubSubMessage<'a> {
    #[serde(borrow)]
    data: Str<'a>,
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
    if let Some(data) = wrapper
        .message
        .and_then(|raw| serde_json::from_str::<PubSubMessage<'_>>(raw.get()).ok())
    {
        // Not base64 (or not text once decoded): not a Pub/Sub message after all.
        return match base64::decode(data.data.0.trim()) {
            Some(line) => decode_lines(std::iter::once(line.as_str()), state, ctx),
            None => Ok(None),
        };
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

/// The record after a timestamp, when `text` is a line of a CloudWatch Logs export to
/// S3 (`2024-05-01T10:00:00.000Z {"kind":"Event",...}`: each log event's timestamp, a
/// space, its message; <https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/S3Export.html>);
/// `None` when it is not one. The JSON after the timestamp is read in place.
pub(super) fn decode_timestamped<'a>(
    text: &'a str,
    state: &mut StreamState,
    ctx: &Context<'_>,
) -> Option<Result<DecodedRecord<'a>, DecodeError>> {
    let (stamp, rest) = text.split_once(' ')?;
    if !rest.starts_with('{') || parse_rfc3339_ns(stamp).is_none() {
        return None;
    }
    let offset = stamp.len() + 1;
    Some(match decode_inner(rest, state, ctx) {
        Ok(mut record) => {
            for d in &mut record.events {
                d.raw.get_or_insert(Cow::Borrowed(rest));
            }
            Ok(record)
        }
        // Located in the whole line.
        Err(DecodeError::Shape {
            format,
            column,
            message,
        }) => Err(DecodeError::Shape {
            format,
            column: column.saturating_add(offset as u32),
            message,
        }),
        Err(DecodeError::Syntax { column, message }) => Err(DecodeError::Syntax {
            column: column.saturating_add(offset as u32),
            message,
        }),
        Err(e) => Err(e),
    })
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
        // A shipper tailing a CloudWatch Logs export to S3 carries its lines, timestamp
        // and all, under `log` or `message`.
        let decoded = match decode_inner(line, state, ctx) {
            Err(DecodeError::UnknownShape) if !line.trim_start().starts_with('{') => {
                decode_timestamped(line, state, ctx).unwrap_or(Err(DecodeError::UnknownShape))
            }
            decoded => decoded,
        };
        match decoded {
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

#[cfg(test)]
mod shapes {
    use super::super::{Context, StreamState, base64, decode as decode_record};
    use crate::model::{Action, Source};

    const AUDIT: &str = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"A","stage":"ResponseComplete","verb":"get","objectRef":{"resource":"secrets","namespace":"prod","name":"db"},"responseStatus":{"code":200}}"#;

    #[test]
    fn a_pub_sub_push_message_carries_the_record_in_base64() {
        let entry = r#"{"protoPayload":{"@type":"type.googleapis.com/google.cloud.audit.AuditLog","serviceName":"k8s.io","methodName":"io.k8s.core.v1.secrets.get","resourceName":"core/v1/namespaces/prod/secrets/db","authenticationInfo":{"principalEmail":"alice@example.com"}},"resource":{"type":"k8s_cluster","labels":{"cluster_name":"gke-prod"}},"insertId":"i-1","timestamp":"2024-05-14T09:12:03Z"}"#;
        let push = format!(
            r#"{{"message":{{"attributes":{{"logging.googleapis.com/timestamp":"2024-05-14T09:12:03Z"}},"data":"{}","messageId":"1","publishTime":"2024-05-14T09:12:04Z"}},"subscription":"projects/p/subscriptions/gke-audit"}}"#,
            base64::encode(entry)
        );
        let record = decode_record(&push, &mut StreamState::default(), &Context::default())
            .expect("the entry inside decodes");
        assert_eq!(record.source, Source::GkeAudit);
        assert_eq!(record.events[0].event.action, Action::ResourceGet);
        assert_eq!(record.events[0].event.cluster.as_deref(), Some("gke-prod"));
        assert_eq!(record.events[0].raw.as_deref(), Some(entry));

        // Data that is not base64 is no Pub/Sub message: unknown, as before.
        let err = decode_record(
            r#"{"message":{"data":"not base64!"},"subscription":"s"}"#,
            &mut StreamState::default(),
            &Context::default(),
        )
        .unwrap_err();
        assert_eq!(err.code(), "decode.unknown");
    }

    #[test]
    fn a_cloudwatch_export_line_is_a_timestamp_and_the_message() {
        let line = format!("2024-05-14T09:12:03.000Z {AUDIT}");
        let record = decode_record(&line, &mut StreamState::default(), &Context::default())
            .expect("the message decodes");
        assert_eq!(record.source, Source::K8sAudit);
        assert_eq!(record.events[0].event.request_id.as_deref(), Some("A"));
        assert_eq!(record.events[0].raw.as_deref(), Some(AUDIT));

        // An error in the message is located in the line.
        let line = r#"2024-05-14T09:12:03.000Z {"kind":"Event","auditID":"a","verb":7}"#;
        let err =
            decode_record(line, &mut StreamState::default(), &Context::default()).unwrap_err();
        assert_eq!(err.code(), "decode.shape");
        assert_eq!(&line[..err.column() as usize], &line[..line.len() - 1]);
        // Text that only starts with a timestamp is still not JSON.
        let err = decode_record(
            "2024-05-14T09:12:03.000Z GET /healthz",
            &mut StreamState::default(),
            &Context::default(),
        )
        .unwrap_err();
        assert_ne!(err.code(), "decode.shape");
    }

    #[test]
    fn a_cloudwatch_export_line_under_a_shippers_log_key_is_read() {
        let line = format!("2024-05-14T09:12:03.000Z {AUDIT}");
        let wrapped = serde_json::json!({ "log": line, "stream": "stdout" }).to_string();
        let record = decode_record(&wrapped, &mut StreamState::default(), &Context::default())
            .expect("the exported line inside `log` decodes");
        assert_eq!(record.source, Source::K8sAudit);
        assert_eq!(record.events[0].event.request_id.as_deref(), Some("A"));
        assert_eq!(record.events[0].raw.as_deref(), Some(AUDIT));
    }
}
