//! Kubernetes API server audit events: one `audit.k8s.io/v1` (or old `v1beta1`) `Event`
//! per record, as the log backend writes them, or an `EventList` of them, as the webhook
//! backend posts them (what a shipper's HTTP input receives): each item is an event of
//! its own, read as if it were a record.
//!
//! Events arrive trimmed: an audit policy at `Metadata` level drops the bodies, and
//! shippers or policies drop `auditID`, `stage` or `requestURI`. Whatever is there is
//! read and whatever is missing stays missing; only `verb` is required, since an event
//! without it says nothing this decoder can name. Detection claims a record by any of
//! the keys an event keeps when trimmed (`auditID`; `verb` with `objectRef`,
//! `requestURI`, `sourceIPs` or a timestamp; the API group `audit.k8s.io`), and a record
//! claimed but not an event (a `Policy`, an event without `verb`) is reported, never
//! passed over in silence.
//!
//! The API server writes one event per request *stage*, all with the same `auditID`, so
//! one `kubectl exec` is two or three records. [`Decoded::evaluate`] marks the one record
//! per request that rules should see (see [`evaluate`] for which one).
//!
//! What a rule needs about a pod is in the request or response *body*: `requestObject`
//! at `Request` level and up, `responseObject` at `RequestResponse`, read as
//! [`objects`](super::objects) describes (patch documents included) and spelled by the
//! pod-spec reader every Kubernetes source shares (`normalize::pod_spec`). Exec and
//! attach carry no body: the command and the target container are query parameters of
//! `requestURI` ([`exec_uri`](super::exec_uri)).
//!
//! Who asked: `principal.kind` is `serviceaccount` for `system:serviceaccount:*`, `node`
//! for `system:node:*` and `user` for everyone else. On EKS, `user.extra.arn` holds the
//! IAM identity the request was signed with; it is kept as `principal.uid` in place of
//! the authenticator's `aws-iam-authenticator:<account>:<principal id>`, which names the
//! same principal less usefully (the ARN names the role and the session).
//!
//! Not read because the model has no place for them yet: `level`, `impersonatedUser`,
//! the rest of `user.extra` (`canonicalArn`, `sessionName`, `accessKeyId`),
//! `annotations` (the authorization decision, Pod Security labels) and
//! `objectRef.apiVersion`. serde skips them without allocating. The structs the record
//! is read into are [`wire`]; this module turns them into the event.

#[cfg(test)]
mod tests;
mod wire;

use std::borrow::Cow;

use super::exec_uri::{ExecQuery, watch_requested};
use super::objects::{Bodies, TargetObject, target_object};
use crate::decode::{DecodeError, Decoded, Decoder, Detect, Format, Keys, column_of};
use crate::model::{Action, Event, Principal, Source};
use crate::normalize::borrowed::{Str, non_empty, strings};
use crate::normalize::kubernetes::{ATTACH, EXEC, Target, action, principal_kind};
use crate::time::parse_rfc3339_ns;
use wire::{EventKind, RawK8sAudit, RawUser};

pub(crate) const FORMAT: Format = Format {
    source: Source::K8sAudit,
    logsource: ("kubernetes", "audit"),
    about: "Kubernetes audit events (log file, webhook EventList), raw or from EKS",
    detect: Detect {
        // The API group is matched with both quotes, so that an event escaped inside
        // another record's string (a CloudWatch Logs message) does not match.
        json: &[
            Keys::all(&["\"auditID\":"]),
            Keys::all(&["\"verb\":", "\"objectRef\":"]),
            Keys::all(&["\"verb\":", "\"requestURI\":"]),
            Keys::all(&["\"verb\":", "\"sourceIPs\":"]),
            Keys::all(&["\"verb\":", "\"stageTimestamp\":"]),
            Keys::all(&["\"verb\":", "\"requestReceivedTimestamp\":"]),
            Keys::all(&["\"audit.k8s.io/v1\""]),
            Keys::all(&["\"audit.k8s.io/v1beta1\""]),
        ],
        text: None,
    },
    raw_roots: EVENT_ROOTS,
    decode: Decoder::Many(decode_record),
};

/// Top-level keys of an audit `Event`, wherever it was delivered.
pub(crate) const EVENT_ROOTS: &[&str] = &[
    "kind",
    "apiVersion",
    "level",
    "auditID",
    "stage",
    "requestURI",
    "verb",
    "user",
    "impersonatedUser",
    "sourceIPs",
    "userAgent",
    "objectRef",
    "responseStatus",
    "requestObject",
    "responseObject",
    "requestReceivedTimestamp",
    "stageTimestamp",
    "annotations",
    "timestamp",
    "metadata",
];

/// One record: an event, or each event of an `EventList`, with the item's text as what
/// raw-field rules read. One item that is not an event fails the record, located at the
/// item, as one bad element of a CloudTrail file does.
fn decode_record(text: &str) -> Result<Vec<Decoded<'_>>, DecodeError> {
    let raw: RawK8sAudit<'_> =
        serde_json::from_str(text).map_err(|e| DecodeError::from_json(Source::K8sAudit, e))?;
    if raw.kind != Some(EventKind::List) {
        return Ok(vec![event(text, text, raw)?]);
    }
    let items = raw.items.unwrap_or_default();
    items
        .into_iter()
        .map(|item| {
            let raw: RawK8sAudit<'_> = serde_json::from_str(item.get())
                .map_err(|e| DecodeError::nested(text, item, "items", Source::K8sAudit, e))?;
            if raw.kind == Some(EventKind::List) {
                return Err(DecodeError::shape(
                    Source::K8sAudit,
                    column_of(text, item.get()),
                    "items: an EventList inside an EventList",
                ));
            }
            let mut decoded = event(text, item.get(), raw)?;
            decoded.raw = Some(Cow::Borrowed(item.get()));
            Ok(decoded)
        })
        .collect()
}

/// One audit event (an `EventList` is refused: the wrappers that carry an event carry one).
pub(crate) fn decode(text: &str) -> Result<Decoded<'_>, DecodeError> {
    let raw: RawK8sAudit<'_> =
        serde_json::from_str(text).map_err(|e| DecodeError::from_json(Source::K8sAudit, e))?;
    if raw.kind == Some(EventKind::List) {
        return Err(DecodeError::shape(
            Source::K8sAudit,
            1,
            "kind \"EventList\": one Event expected here",
        ));
    }
    event(text, text, raw)
}

/// The event `raw`, read from `own` (the record, or an item of it) inside `text` (the
/// record, in which errors are located).
fn event<'a>(text: &'a str, own: &str, raw: RawK8sAudit<'a>) -> Result<Decoded<'a>, DecodeError> {
    let Some(verb) = raw.verb else {
        // At the event's closing brace, where serde reports a missing field.
        return Err(DecodeError::shape(
            Source::K8sAudit,
            column_of(text, own) + own.trim_end().len().saturating_sub(1),
            "missing field `verb`",
        ));
    };

    let target = match &raw.object_ref {
        Some(r) => Target::new(
            r.resource.as_ref().map(|s| &*s.0),
            r.api_group.as_ref().map(|g| &*g.0),
            r.subresource.as_ref().map(|s| &*s.0),
        ),
        None => Target::new(None, None, None),
    };
    let verb = verb.0;
    let watch_query = raw
        .request_uri
        .as_ref()
        .is_some_and(|u| watch_requested(&u.0));
    let action = action(&verb, &target, watch_query);
    let (evaluate, evaluate_once) = evaluate(raw.stage.as_ref().map(|s| &*s.0), &target, action);

    // Bodies: containers for the resources that hold a pod spec, identity for the rest.
    let bodies = Bodies {
        response: raw.response_object,
        request: raw.request_object,
        response_field: "responseObject",
        request_field: "requestObject",
        source: Source::K8sAudit,
    };
    let mut process = None;
    let mut object = TargetObject::default();
    match target.subresource {
        Some(EXEC | ATTACH) => {
            if let Some(uri) = &raw.request_uri {
                let (container, started) = ExecQuery::of(&uri.0).into_parts();
                object.containers.extend(container);
                process = started;
            }
        }
        _ => object = target_object(text, bodies, &target, &verb)?,
    }

    let mut event = Event::new(Source::K8sAudit, action, verb);
    event.time_ns = [
        &raw.stage_timestamp,
        &raw.request_received_timestamp,
        &raw.timestamp,
    ]
    .into_iter()
    .flatten()
    .find_map(|t| parse_rfc3339_ns(&t.0));
    event.request_id = non_empty(raw.audit_id);
    if let Some(status) = raw.response_status {
        let code = status.code.and_then(|c| c.int());
        event.response_code = code.and_then(|c| u16::try_from(c).ok());
        // A failed request: the status reason, else the code.
        if let Some(code) = code.filter(|&c| c >= 400) {
            event.error = non_empty(status.reason).or(Some(Cow::Owned(code.to_string())));
        }
    }
    event.principal = principal(raw.user, raw.source_ip, raw.user_agent);
    let known = target.known;
    let containers = std::mem::take(&mut object.containers);
    event.workload = raw.object_ref.and_then(|r| {
        let resource = r.resource?.0;
        Some(object.workload(
            known,
            resource,
            non_empty(r.name),
            non_empty(r.namespace),
            non_empty(r.uid),
        ))
    });
    event.containers = containers;
    event.process = process;
    Ok(Decoded {
        event,
        evaluate,
        settles: evaluate,
        evaluate_once,
        raw: None,
    })
}

/// Whether rules should see this stage of the request, and whether only if no other
/// stage of the same request was seen first: exactly one stage per request, whatever
/// stages the audit policy writes.
///
/// - `RequestReceived` never: it is written before authorization and always followed by
///   the stage that completes the request.
/// - Ordinary requests: `ResponseComplete`, or `Panic`, which replaces it when the
///   handler panics.
/// - Long-running requests (`exec`, `attach`, `portforward`, and watches): the API
///   server writes `ResponseStarted` when the response headers go out (code 101 for an
///   upgraded exec) and `ResponseComplete` when the session ends, possibly hours later.
///   A request refused before its handler ran (a forbidden exec) gets no
///   `ResponseStarted`, and an audit policy may omit that stage (`omitStages`). So both
///   stages are candidates and the engine evaluates whichever of them comes first for
///   the `auditID` (`evaluate_once`): an allowed exec alerts when it starts, once; a
///   forbidden one, or one whose `ResponseStarted` the policy omitted, at
///   `ResponseComplete`.
/// - No `stage` (some exporters drop it) or one this code does not know: evaluated, as
///   there is no way to tell the stages of such a request apart; a duplicate alert is
///   better than none.
fn evaluate(stage: Option<&str>, target: &Target<'_>, action: Action) -> (bool, bool) {
    // `ResourceWatch` covers the `watch` verb and `list?watch=true`.
    let long_running = matches!(target.subresource, Some(EXEC | ATTACH | "portforward"))
        || action == Action::ResourceWatch;
    match stage {
        Some("RequestReceived") => (false, false),
        Some("ResponseStarted" | "ResponseComplete" | "Panic") if long_running => (true, true),
        Some("ResponseStarted") => (false, false),
        Some("ResponseComplete" | "Panic") => (true, false),
        Some(_) | None => (true, false),
    }
}

fn principal<'a>(
    user: Option<RawUser<'a>>,
    source_ip: Option<Str<'a>>,
    user_agent: Option<Str<'a>>,
) -> Option<Principal<'a>> {
    let source_ip = non_empty(source_ip);
    let user_agent = non_empty(user_agent);
    if user.is_none() && source_ip.is_none() && user_agent.is_none() {
        return None;
    }
    let (name, uid, groups) = match user {
        Some(u) => (
            u.username.map(|s| s.0).unwrap_or_default(),
            // EKS: the IAM ARN names the principal better than the authenticator's uid.
            non_empty(u.extra.and_then(|e| e.arn)).or(non_empty(u.uid)),
            u.groups.map(strings).unwrap_or_default(),
        ),
        None => (Cow::Borrowed(""), None, Vec::new()),
    };
    Some(Principal {
        kind: principal_kind(&name).map(Cow::Borrowed),
        name,
        uid,
        groups,
        source_ip,
        user_agent,
    })
}
