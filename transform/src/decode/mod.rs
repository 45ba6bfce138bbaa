//! Bytes to normalized events: detect the format of one record, decode it with typed,
//! borrowed serde structs, and normalize it into [`Event`].
//!
//! # The format registry
//!
//! Each format lives in its own file, grouped by family (`docker/`, `kubernetes/`,
//! `cloud/`, `host/`, `network/`), and declares what it is in one [`Format`] value: its
//! [`Source`], the Sigma `logsource` it answers to, how it is recognized (the keys only it
//! has, or a sniff of a text line), the top-level keys of its raw records (what raw-path
//! rules may read) and its decode function. [`FORMATS`] lists them; detection, forced
//! decoding, the fallback when a guess is wrong, rule routing and the pack's field checks
//! all iterate that list, so adding a format is its file, its line in [`FORMATS`], its
//! [`Source`] variant and its samples.
//!
//! Decoders never build a JSON DOM: they deserialize into borrowed structs and skip what
//! no rule reads. Detection is a cheap scan for keys only one format has ([`detect`]);
//! the chosen decoder then validates the shape and reports a located error when it does
//! not hold. What several formats say alike is spelled by `crate::normalize`.

mod base64;
pub(crate) mod cloud;
mod detect;
pub(crate) mod docker;
mod envelope;
mod error;
pub(crate) mod host;
pub(crate) mod kubernetes;
pub(crate) mod network;
mod scalar;
mod uri;

use std::borrow::Cow;

pub use detect::{detect, detect_text};
pub use error::DecodeError;
pub(crate) use error::{column_of, json_message};

use crate::model::{Event, Source};

/// Every format, in detection order: when a record has the keys of two formats, the
/// earlier one is tried first (and the other still gets its turn if it does not decode).
pub(crate) const FORMATS: &[&Format] = &[
    // Before the raw audit event: its `properties.log` may hold one as an object.
    &kubernetes::aks::FORMAT,
    &kubernetes::audit::FORMAT,
    &docker::inspect::FORMAT,
    &docker::events::FORMAT,
    &docker::authz::FORMAT,
    &cloud::gcp_audit::GKE_FORMAT,
    &kubernetes::events::FORMAT,
    &cloud::cloudtrail::FORMAT,
    &cloud::azure_activity::FORMAT,
    &host::falco::FORMAT,
    &host::tetragon::FORMAT,
    &network::zeek::DNS_FORMAT,
    &network::zeek::CONN_FORMAT,
    &network::route53_resolver::FORMAT,
    &host::auditd::FORMAT,
    &docker::daemon::FORMAT,
    &network::vpc_flow::FORMAT,
    &cloud::gcp_audit::GCP_FORMAT,
];

/// What a format is: declared once, in the format's own file.
pub(crate) struct Format {
    pub(crate) source: Source,
    /// The Sigma `logsource` (`product`, `service`) its records answer to, as SigmaHQ
    /// names them. The three Kubernetes audit shapes answer to the same one, so a rule
    /// written for `kubernetes`/`audit` runs on EKS, AKS and GKE alike.
    pub(crate) logsource: (&'static str, &'static str),
    /// What the records are, in a few words (`docs/fields.md` lists it).
    pub(crate) about: &'static str,
    pub(crate) detect: Detect,
    /// Top-level keys of its raw JSON records, as the format documents them: a rule path
    /// that starts with one of them reads the record itself. Empty for text formats,
    /// whose rules read only normalized fields.
    pub(crate) raw_roots: &'static [&'static str],
    pub(crate) decode: Decoder,
}

/// How a format is recognized.
pub(crate) struct Detect {
    /// A JSON record is this format when it has every key of one of these sets (and
    /// none of that set's `without`, and passes its `check`). Empty when no JSON record
    /// is recognized as it by keys.
    pub(crate) json: &'static [Keys],
    /// A line that is not JSON is this format when this says so.
    pub(crate) text: Option<Sniff>,
}

/// A check of a text line, with what the stream and the file have shown so far.
pub(crate) type Sniff = fn(&str, &StreamState, &Context<'_>) -> bool;

/// A set of keys that together identify a format. A key is written with its quotes and
/// colon (`"auditID":`), so that only keys match: inside a string value the quotes would
/// be escaped. A few sets match a value instead, written likewise with its quotes.
pub(crate) struct Keys {
    pub(crate) all: &'static [&'static str],
    pub(crate) without: &'static [&'static str],
    pub(crate) check: Option<fn(&str) -> bool>,
}

impl Keys {
    /// A record with every one of `all`.
    pub(crate) const fn all(all: &'static [&'static str]) -> Keys {
        Keys {
            all,
            without: &[],
            check: None,
        }
    }
}

/// A format's decode function, by what it needs and gives.
#[derive(Clone, Copy)]
pub(crate) enum Decoder {
    /// One event per record.
    One(for<'a> fn(&'a str) -> Result<Decoded<'a>, DecodeError>),
    /// Any number of events per record (a CloudTrail file, an Event Hubs batch).
    Many(for<'a> fn(&'a str) -> Result<Vec<Decoded<'a>>, DecodeError>),
    /// Events that depend on earlier records of the stream (auditd's multi-record events,
    /// a VPC flow log's header line, the dockerd call a `form data:` line belongs to).
    Stream(
        for<'a> fn(
            &'a str,
            &mut StreamState,
            &Context<'_>,
        ) -> Result<Vec<Decoded<'a>>, DecodeError>,
    ),
}

impl Format {
    /// Whether a JSON record this format did not claim may still be this format: the
    /// fallback after a wrong guess tries JSON formats only.
    fn reads_json_only(&self) -> bool {
        self.detect.text.is_none()
    }

    fn decode<'a>(
        &self,
        text: &'a str,
        state: &mut StreamState,
        ctx: &Context<'_>,
    ) -> Result<DecodedRecord<'a>, DecodeError> {
        let events = match self.decode {
            Decoder::One(decode) => {
                let decoded = decode(text)?;
                return Ok(DecodedRecord {
                    source: decoded.event.source,
                    events: vec![decoded],
                });
            }
            Decoder::Many(decode) => decode(text)?,
            Decoder::Stream(decode) => decode(text, state, ctx)?,
        };
        Ok(DecodedRecord {
            source: self.source,
            events,
        })
    }
}

impl Source {
    /// The Sigma `logsource` (`product`, `service`) this source answers to, from its
    /// format's declaration.
    pub fn logsource(self) -> (&'static str, &'static str) {
        format(self).logsource
    }

    /// What this source's records are, in a few words (`docker inspect`, `GET
    /// /containers/{id}/json`).
    pub fn about(self) -> &'static str {
        format(self).about
    }
}

/// The format that decodes `source`'s records.
pub(crate) fn format(source: Source) -> &'static Format {
    FORMATS
        .iter()
        .copied()
        .find(|f| f.source == source)
        .expect("every source has a format in the registry")
}

/// One normalized event decoded from a record, ready for enrichment and rules.
#[derive(Debug)]
pub struct Decoded<'a> {
    pub event: Event<'a>,
    /// Whether this event completes its request, and so is the one rules see. Kubernetes
    /// sends one audit event per request stage; only the stage that completes the request
    /// is evaluated, so one request raises at most one alert per rule.
    pub evaluate: bool,
    /// Whether this record carries its request's outcome, so that what it says may be
    /// learned: enter the container table and count as a sighting, when the outcome is a
    /// success. A Kubernetes audit stage written before the request was decided
    /// (`RequestReceived`) or an Azure operation's `Started` record does not; the stage
    /// or record that settles the request does. A source that reports only what
    /// happened settles with every record.
    pub settles: bool,
    /// Whether this event is one of the records of a request of which rules must see
    /// only the first that arrives, by source and `request_id`: a long-running Kubernetes
    /// request (an exec) reaches the log at `ResponseStarted`, at `ResponseComplete`, or
    /// both, depending on the audit policy and on whether it was allowed. The engine
    /// remembers such requests (bounded) and evaluates each once.
    pub evaluate_once: bool,
    /// The JSON text that raw-field rules read for this event, when it is not the whole
    /// record: one element of a CloudTrail `Records` array, the audit event inside an
    /// AKS wrapper's `properties.log` string.
    pub raw: Option<Cow<'a, str>>,
}

impl<'a> Decoded<'a> {
    pub fn evaluated(event: Event<'a>) -> Self {
        Decoded {
            event,
            evaluate: true,
            settles: true,
            evaluate_once: false,
            raw: None,
        }
    }

    /// An event that owns its strings, with the text rules read for it.
    pub(crate) fn into_owned(self) -> Decoded<'static> {
        Decoded {
            event: self.event.into_owned(),
            evaluate: self.evaluate,
            settles: self.settles,
            evaluate_once: self.evaluate_once,
            raw: self.raw.map(|r| Cow::Owned(r.into_owned())),
        }
    }
}

/// Everything one record (one line) decoded to.
///
/// Most records hold one event. A CloudTrail file holds many (`Records`), a CloudWatch
/// Logs subscription message one per log event, and a line of a multi-line format
/// (auditd) may hold none yet: its event is emitted by the line that completes it.
#[derive(Debug)]
pub struct DecodedRecord<'a> {
    pub source: Source,
    pub events: Vec<Decoded<'a>>,
}

/// What decoding a record may need to know beyond its own bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Context<'c> {
    /// The file (or stream) the record came from: formats with per-file state (a VPC
    /// flow log's header line) keep it per file.
    pub file: &'c str,
    /// The configured VPC flow log format (`${version} ${account-id} ...` or the field
    /// names alone), when the logs do not carry a header line.
    pub vpc_flow_format: Option<&'c str>,
}

/// State that decoding carries from one record to the next: the records of an auditd
/// event that are still arriving, the field layout each VPC flow log file declared, the
/// dockerd API call a `form data:` line belongs to. Each stream format keeps its own.
#[derive(Default)]
pub struct StreamState {
    pub(crate) auditd: host::auditd::Assembler,
    pub(crate) vpc_flow: network::vpc_flow::Layouts,
    pub(crate) docker_daemon: docker::daemon::Calls,
}

impl StreamState {
    /// Emit what is still pending at the end of a stream (an auditd event whose last
    /// record never came), as events that own their strings.
    pub fn flush(&mut self) -> Vec<Decoded<'static>> {
        self.auditd.flush()
    }
}

/// Decode one record's text as `source`.
pub fn decode_as<'a>(
    source: Source,
    text: &'a str,
    state: &mut StreamState,
    ctx: &Context<'_>,
) -> Result<DecodedRecord<'a>, DecodeError> {
    format(source).decode(text, state, ctx)
}

/// Detect and decode one record.
///
/// When the detected format does not decode, the other JSON formats are tried before the
/// first error is reported, so a record cannot be hidden from its own decoder by carrying
/// another format's keys (a Docker label named `auditID`, say). A JSON record no format
/// claims may be a shipper's wrapper (`{"log": "..."}`, a CloudWatch Logs subscription
/// message): its inner text is decoded instead.
pub fn decode<'a>(
    text: &'a str,
    state: &mut StreamState,
    ctx: &Context<'_>,
) -> Result<DecodedRecord<'a>, DecodeError> {
    let json = text.trim_start().starts_with(['{', '[']);
    if !json {
        return match detect::text_format(text, state, ctx) {
            Some(format) => format.decode(text, state, ctx),
            None => envelope::decode_timestamped(text, state, ctx)
                .unwrap_or_else(|| Err(not_json(text))),
        };
    }
    let Some(format) = detect::json_format(text) else {
        if let Some(record) = envelope::decode(text, state, ctx)? {
            return Ok(record);
        }
        return Err(not_json(text));
    };
    match format.decode(text, state, ctx) {
        Ok(record) => Ok(record),
        Err(first) if first.is_about_bytes() => Err(first),
        Err(first) => FORMATS
            .iter()
            .filter(|other| other.source != format.source && other.reads_json_only())
            .find_map(|other| other.decode(text, state, ctx).ok())
            .ok_or(first),
    }
}

/// Detect and decode a record that holds exactly one event, with fresh stream state:
/// for tests of one format's decoder through detection.
#[cfg(test)]
pub(crate) fn decode_one(text: &str) -> Result<Decoded<'_>, DecodeError> {
    let mut record = decode(text, &mut StreamState::default(), &Context::default())?;
    assert_eq!(record.events.len(), 1, "one event expected from {text}");
    Ok(record.events.remove(0))
}

/// The error for a record no format claims: unknown when it is JSON, what a JSON parser
/// says about it otherwise, since JSON is what most sources send.
fn not_json(text: &str) -> DecodeError {
    match serde_json::from_str::<serde::de::IgnoredAny>(text) {
        Ok(_) => DecodeError::UnknownShape,
        Err(e) => DecodeError::from_json(Source::DockerEvent, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Action;

    #[test]
    fn every_source_has_one_format() {
        for source in Source::ALL {
            let n = FORMATS.iter().filter(|f| f.source == source).count();
            assert_eq!(n, 1, "{source:?} has {n} formats");
        }
        assert_eq!(FORMATS.len(), Source::ALL.len());
    }

    #[test]
    fn labels_named_like_another_format_cannot_hide_a_record() {
        // A container labelled `auditID` and `verb`: detection guesses Kubernetes, the
        // audit decoder refuses it, and the Docker decoder still reads it.
        let event = r#"{"Type":"container","Action":"exec_create: sh","Actor":{"ID":"0123456789ab","Attributes":{"auditID":"x","verb":"y","image":"alpine","name":"evil"}},"scope":"local","time":1714557600}"#;
        assert_eq!(detect(event), Some(Source::K8sAudit));
        let decoded = decode_one(event).expect("decoded as a Docker event");
        assert_eq!(decoded.event.source, Source::DockerEvent);
        assert_eq!(decoded.event.action, Action::ContainerExec);
    }

    #[test]
    fn unknown_json_and_non_json_are_told_apart() {
        assert_eq!(
            decode_one(r#"{"kind": 0}"#).unwrap_err(),
            DecodeError::UnknownShape
        );
        assert!(matches!(
            decode_one(r#"{"kind": "#),
            Err(DecodeError::Syntax { .. })
        ));
    }
}
