//! Kubernetes audit events as AKS delivers them: a diagnostic-settings record of category
//! `kube-audit` or `kube-audit-admin` whose `properties.log` is the API server's audit
//! `Event`, as a JSON *string*.
//!
//! ```text
//! {"category":"kube-audit","operationName":"Microsoft.ContainerService/managedClusters/diagnosticLogs/Read",
//!  "properties":{"log":"{\"kind\":\"Event\",...}","pod":"kube-apiserver-...","stream":"stdout"},
//!  "resourceId":"/SUBSCRIPTIONS/<sub>/RESOURCEGROUPS/<rg>/PROVIDERS/MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/<name>",
//!  "time":"..."}
//! ```
//!
//! Event Hubs deliver such records batched under `records`; consumers that split the
//! batch (Logstash's and Fluent Bit's Event Hubs inputs, Azure Functions) pass them on
//! one at a time, and a storage account writes them one per line (`PT1H.json`). Some
//! shippers parse `properties.log` on the way, so it is read as a JSON string or as the
//! event object itself. The Log Analytics `AzureDiagnostics` table, exported, carries
//! the same event in `log_s` with `Category` and `ResourceId`: that shape is read too.
//! (<https://learn.microsoft.com/azure/aks/monitor-aks-reference#resource-logs>,
//! <https://learn.microsoft.com/azure/azure-monitor/essentials/resource-logs-schema>)
//!
//! The record is recognized by its `category` alone, so that a record without
//! `operationName` is still claimed and a claimed record is never read as an Azure
//! Activity Log record; it comes before the raw audit event in detection order, since
//! its `properties.log` may hold one as an object.
//!
//! The inner event is decoded by the audit decoder, so it is the same event as from a
//! self-managed cluster, with `source: aks_audit`, the cluster name and subscription
//! taken from `resourceId`, and the inner event's text as what raw-field rules read
//! (`objectRef.resource` works as on a raw audit log). Text unescaped from a JSON
//! string makes the event own its strings; an object is read in place.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::audit::{self, EVENT_ROOTS};
use crate::decode::{DecodeError, Decoded, Decoder, Detect, Format, Keys, column_of};
use crate::model::Source;
use crate::normalize::borrowed::Str;
use crate::time::parse_rfc3339_ns;

pub(crate) const FORMAT: Format = Format {
    source: Source::AksAudit,
    logsource: ("kubernetes", "audit"),
    about: "Kubernetes audit events in the AKS diagnostic wrapper",
    detect: Detect {
        // `"kube-audit` is a value, not a key: the diagnostic category (`kube-audit`,
        // `kube-audit-admin`); `Category` is the Log Analytics `AzureDiagnostics` export.
        json: &[
            Keys::all(&["\"category\":", "\"kube-audit"]),
            Keys::all(&["\"Category\":", "\"kube-audit"]),
        ],
        text: None,
    },
    // Raw-field rules read the audit event inside the wrapper.
    raw_roots: EVENT_ROOTS,
    decode: Decoder::Many(decode),
};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawAksRecord<'a> {
    #[serde(alias = "Category", borrow)]
    category: Option<Str<'a>>,
    #[serde(borrow)]
    properties: Option<RawProperties<'a>>,
    /// `AzureDiagnostics`: the audit event, as a string.
    #[serde(rename = "log_s", borrow)]
    log_s: Option<&'a RawValue>,
    #[serde(alias = "ResourceId", borrow)]
    resource_id: Option<Str<'a>>,
    #[serde(alias = "TimeGenerated", borrow)]
    time: Option<Str<'a>>,
    /// An Event Hubs message: a batch of records.
    #[serde(borrow)]
    records: Option<Vec<RawAksRecord<'a>>>,
}

#[derive(Deserialize)]
struct RawProperties<'a> {
    #[serde(borrow)]
    log: Option<&'a RawValue>,
}

fn decode(text: &str) -> Result<Vec<Decoded<'_>>, DecodeError> {
    let raw: RawAksRecord<'_> =
        serde_json::from_str(text).map_err(|e| DecodeError::from_json(Source::AksAudit, e))?;
    match raw.records {
        Some(records) => records.into_iter().map(|r| record(text, r)).collect(),
        None => Ok(vec![record(text, raw)?]),
    }
}

/// One diagnostic record: its inner audit event, normalized.
fn record<'a>(text: &'a str, raw: RawAksRecord<'a>) -> Result<Decoded<'a>, DecodeError> {
    let category = raw.category.as_ref().map(|c| &*c.0);
    if !matches!(category, Some("kube-audit" | "kube-audit-admin")) {
        return Err(DecodeError::shape(
            Source::AksAudit,
            1,
            format!(
                "category {:?} is not kube-audit or kube-audit-admin",
                category.unwrap_or("")
            ),
        ));
    }
    let Some(log) = raw.properties.and_then(|p| p.log).or(raw.log_s) else {
        return Err(DecodeError::shape(
            Source::AksAudit,
            1,
            "missing field `properties.log`",
        ));
    };
    let column = column_of(text, log.get());
    let mut decoded = if log.get().starts_with('{') {
        // The event itself, parsed by the shipper: read in place, errors located in
        // the record.
        let mut decoded = audit::decode(log.get()).map_err(|e| {
            DecodeError::shape(
                Source::AksAudit,
                column + e.column() as usize - 1,
                format!("properties.log: {e}"),
            )
        })?;
        decoded.raw = Some(Cow::Borrowed(log.get()));
        decoded
    } else {
        let inner: Str<'_> = serde_json::from_str(log.get()).map_err(|_| {
            DecodeError::shape(
                Source::AksAudit,
                column,
                "properties.log: expected the audit event, as a string or an object",
            )
        })?;
        let inner = inner.0;
        let decoded = audit::decode(&inner).map_err(|e| {
            DecodeError::shape(
                Source::AksAudit,
                column,
                format!("properties.log, column {} of the event: {e}", e.column()),
            )
        })?;
        let mut decoded = decoded.into_owned();
        decoded.raw = Some(Cow::Owned(inner.into_owned()));
        decoded
    };
    let event = &mut decoded.event;
    event.source = Source::AksAudit;
    if event.time_ns.is_none() {
        event.time_ns = raw.time.and_then(|t| parse_rfc3339_ns(&t.0));
    }
    if let Some(id) = raw.resource_id {
        let id = ResourceId::parse(&id.0);
        event.account = id.subscription.map(|s| Cow::Owned(s.to_owned()));
        event.cluster = id.cluster.map(|c| Cow::Owned(c.to_owned()));
    }
    Ok(decoded)
}

/// The parts of an Azure resource id that name the cluster. Azure writes the segment
/// names in any case (`/SUBSCRIPTIONS/.../MANAGEDCLUSTERS/...` in diagnostic logs).
struct ResourceId<'a> {
    subscription: Option<&'a str>,
    cluster: Option<&'a str>,
}

impl<'a> ResourceId<'a> {
    fn parse(id: &'a str) -> ResourceId<'a> {
        let mut parsed = ResourceId {
            subscription: None,
            cluster: None,
        };
        let mut segments = id.split('/').filter(|s| !s.is_empty());
        while let Some(segment) = segments.next() {
            if segment.eq_ignore_ascii_case("subscriptions") {
                parsed.subscription = segments.next();
            } else if segment.eq_ignore_ascii_case("managedClusters") {
                parsed.cluster = segments.next();
            }
        }
        parsed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Action, ContainerRole};

    const RESOURCE: &str = "/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/RG-PROD/PROVIDERS/MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/AKS-PROD";

    fn wrap(category: &str, event: &str) -> String {
        let log = serde_json::to_string(event).unwrap();
        format!(
            r#"{{"category":"{category}","operationName":"Microsoft.ContainerService/managedClusters/diagnosticLogs/Read","properties":{{"log":{log},"pod":"kube-apiserver-7d9f8c6b5-abcde","stream":"stdout"}},"resourceId":"{RESOURCE}","time":"2024-05-14T09:12:03.5310000Z"}}"#
        )
    }

    const PRIVILEGED_POD: &str = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Request","auditID":"aks-1","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/pods","verb":"create","user":{"username":"alice@contoso.com","groups":["system:authenticated"]},"sourceIPs":["203.0.113.7"],"objectRef":{"resource":"pods","namespace":"default","name":"p","apiVersion":"v1"},"responseStatus":{"code":201},"requestObject":{"kind":"Pod","apiVersion":"v1","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"alpine:3.19","securityContext":{"privileged":true}}]}},"stageTimestamp":"2024-05-14T09:12:03.531904Z"}"#;

    #[test]
    fn a_privileged_pod_inside_the_wrapper() {
        let text = wrap("kube-audit-admin", PRIVILEGED_POD);
        let decoded = decode(&text).unwrap();
        assert_eq!(decoded.len(), 1);
        let d = &decoded[0];
        assert!(d.evaluate);
        assert_eq!(d.event.source, Source::AksAudit);
        assert_eq!(d.event.action, Action::WorkloadCreate);
        assert_eq!(d.event.cluster.as_deref(), Some("AKS-PROD"));
        assert_eq!(
            d.event.account.as_deref(),
            Some("00000000-0000-0000-0000-000000000000")
        );
        assert_eq!(d.event.containers[0].security.privileged, Some(true));
        assert_eq!(d.event.containers[0].role, ContainerRole::Main);
        assert_eq!(
            d.event.principal.as_ref().unwrap().kind.as_deref(),
            Some("user")
        );
        assert_eq!(d.raw.as_deref(), Some(PRIVILEGED_POD));
        assert_eq!(d.event.time_ns, Some(1_715_677_923_531_904_000));
    }

    #[test]
    fn through_detection_and_event_hubs_batches() {
        let one = wrap("kube-audit", PRIVILEGED_POD);
        let record = crate::decode::decode_one(&one).unwrap();
        assert_eq!(record.event.source, Source::AksAudit);

        let batch = format!(r#"{{"records":[{one},{one}]}}"#);
        let decoded = decode(&batch).unwrap();
        assert_eq!(decoded.len(), 2);
    }

    #[test]
    fn azure_diagnostics_table_export() {
        let log = serde_json::to_string(PRIVILEGED_POD).unwrap();
        let text = format!(
            r#"{{"TenantId":"t","TimeGenerated":"2024-05-14T09:12:04Z","Category":"kube-audit","log_s":{log},"pod_s":"kube-apiserver-1","ResourceId":"{RESOURCE}","Type":"AzureDiagnostics"}}"#
        );
        let decoded = decode(&text).unwrap();
        assert_eq!(decoded[0].event.cluster.as_deref(), Some("AKS-PROD"));
        assert_eq!(decoded[0].event.action, Action::WorkloadCreate);
    }

    #[test]
    fn errors_are_located() {
        // Another category.
        let text = wrap("kube-apiserver", PRIVILEGED_POD);
        assert!(matches!(
            decode(&text),
            Err(DecodeError::Shape { message, .. }) if message.contains("kube-apiserver")
        ));
        // The log is not an audit event: the error points at `properties.log`.
        let text = wrap("kube-audit", r#"{"kind":"Event","auditID":"a"}"#);
        match decode(&text) {
            Err(DecodeError::Shape {
                column, message, ..
            }) => {
                assert_eq!(
                    &text[column as usize - 1..column as usize + 7],
                    r#""{\"kind"#
                );
                assert!(message.contains("verb"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        // The log is an object that is not an event: located inside it.
        let text = r#"{"category":"kube-audit","properties":{"log":{"auditID":"a"}}}"#;
        match decode(text) {
            Err(DecodeError::Shape {
                column, message, ..
            }) => {
                assert_eq!(column as usize, text.find("}}}").unwrap() + 1);
                assert!(message.contains("verb"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        // The log is neither a string nor an object.
        let text = r#"{"category":"kube-audit","properties":{"log":7}}"#;
        assert!(matches!(decode(text), Err(DecodeError::Shape { .. })));
        // No log at all, and wrong types.
        assert!(decode(r#"{"category":"kube-audit","properties":{}}"#).is_err());
        assert!(decode(r#"{"category":7}"#).is_err());
        assert!(matches!(
            decode(r#"{"category":"kube-audit","#),
            Err(DecodeError::Syntax { .. })
        ));
    }

    #[test]
    fn resource_ids_in_any_case() {
        let id = ResourceId::parse(
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c",
        );
        assert_eq!((id.subscription, id.cluster), (Some("s"), Some("c")));
        let id = ResourceId::parse("");
        assert_eq!((id.subscription, id.cluster), (None, None));
    }
}
