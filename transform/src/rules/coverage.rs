//! Which fields some source can provide, so a rule that reads a field no source has is
//! reported when the pack loads instead of silently never matching.
//!
//! A field is provided when it is a normalized field (`docs/fields.md`), a derived
//! `crowsnest.*` field, or a path whose first segment is a top-level key of the raw
//! records of a source the rule's `logsource` lets it see. Text formats (auditd, VPC
//! flow logs) have no raw JSON: only normalized fields reach them.

use rsigma_parser::LogSource;

use super::event::{DERIVED_FIELDS, FIELDS};
use crate::model::Source;

/// Top-level keys of each source's raw JSON records, as the formats document them.
fn raw_roots(source: Source) -> &'static [&'static str] {
    match source {
        Source::DockerEvent => &[
            "Type", "Action", "Actor", "status", "id", "from", "time", "timeNano", "scope",
        ],
        Source::DockerInspect => &[
            "Id",
            "Created",
            "Path",
            "Args",
            "State",
            "Image",
            "Name",
            "RestartCount",
            "HostConfig",
            "Mounts",
            "Config",
            "NetworkSettings",
            "Platform",
            "Driver",
            "AppArmorProfile",
            "ExecIDs",
        ],
        Source::DockerAuthz => &[
            "User",
            "UserAuthNMethod",
            "RequestMethod",
            "RequestUri",
            "RequestBody",
            "RequestHeaders",
            "RequestPeerCertificates",
            "ResponseStatusCode",
            "ResponseBody",
            "ResponseHeaders",
        ],
        Source::DockerDaemon => &["level", "msg", "time"],
        Source::K8sAudit | Source::AksAudit => &[
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
        ],
        Source::GkeAudit | Source::GcpAudit => &[
            "protoPayload",
            "resource",
            "timestamp",
            "receiveTimestamp",
            "severity",
            "logName",
            "insertId",
            "operation",
            "labels",
        ],
        Source::K8sEvent => &[
            "kind",
            "apiVersion",
            "metadata",
            "involvedObject",
            "reason",
            "message",
            "source",
            "firstTimestamp",
            "lastTimestamp",
            "count",
            "type",
            "eventTime",
            "reportingComponent",
            "reportingInstance",
            "regarding",
            "note",
            "series",
            "action",
            "related",
            "deprecatedCount",
            "jsonPayload",
            "resource",
        ],
        Source::CloudTrail => &[
            "eventVersion",
            "userIdentity",
            "eventTime",
            "eventSource",
            "eventName",
            "awsRegion",
            "sourceIPAddress",
            "userAgent",
            "requestParameters",
            "responseElements",
            "errorCode",
            "errorMessage",
            "requestID",
            "eventID",
            "readOnly",
            "eventType",
            "managementEvent",
            "recipientAccountId",
            "eventCategory",
            "tlsDetails",
            "additionalEventData",
            "resources",
        ],
        Source::AzureActivity => &[
            "time",
            "resourceId",
            "operationName",
            "category",
            "resultType",
            "resultSignature",
            "callerIpAddress",
            "correlationId",
            "identity",
            "level",
            "properties",
            "durationMs",
            "caller",
            "eventTimestamp",
            "status",
            "subStatus",
            "claims",
            "authorization",
            "subscriptionId",
            "resourceGroupName",
            "resourceProviderName",
            "eventDataId",
            "submissionTimestamp",
            "tenantId",
        ],
        Source::Falco => &[
            "hostname",
            "output",
            "priority",
            "rule",
            "source",
            "tags",
            "time",
            "output_fields",
        ],
        Source::Tetragon => &[
            "process_exec",
            "process_exit",
            "process_kprobe",
            "process_tracepoint",
            "node_name",
            "time",
            "cluster_name",
        ],
        Source::ZeekConn | Source::ZeekDns => &[
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
        ],
        Source::Route53Resolver => &[
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
        Source::Auditd | Source::VpcFlow => &[],
    }
}

/// The sources a rule with this logsource is evaluated on.
pub(crate) fn sources_for(logsource: &LogSource) -> Vec<Source> {
    let eq = |want: &Option<String>, have: &str| {
        want.as_deref().is_none_or(|w| w.eq_ignore_ascii_case(have))
    };
    Source::ALL
        .into_iter()
        .filter(|s| {
            let (product, service) = s.logsource();
            eq(&logsource.product, product) && eq(&logsource.service, service)
        })
        .collect()
}

/// Whether any of `sources` can provide `field`.
pub(crate) fn provided(field: &str, sources: &[Source]) -> bool {
    if FIELDS.contains(&field) || DERIVED_FIELDS.contains(&field) {
        return true;
    }
    if field.starts_with("crowsnest.") {
        return false;
    }
    // A known normalized prefix with an unknown tail (`container.bogus`) is not raw:
    // normalized names shadow raw paths only where the list says so.
    let root = field.split('.').next().unwrap_or(field);
    sources
        .iter()
        .any(|s| raw_roots(*s).iter().any(|r| *r == root || *r == field))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ls(product: Option<&str>, service: Option<&str>) -> LogSource {
        LogSource {
            product: product.map(str::to_string),
            service: service.map(str::to_string),
            ..LogSource::default()
        }
    }

    #[test]
    fn normalized_derived_and_raw_fields() {
        let k8s = sources_for(&ls(Some("kubernetes"), Some("audit")));
        assert_eq!(k8s, [Source::K8sAudit, Source::AksAudit, Source::GkeAudit]);
        assert!(provided("container.privileged", &k8s));
        assert!(provided("crowsnest.mount.sensitive", &k8s));
        assert!(provided("objectRef.resource", &k8s));
        assert!(!provided("apiGroup", &k8s), "SigmaHQ's bare apiGroup");
        assert!(!provided("hostPath", &k8s));
        assert!(!provided("crowsnest.bogus", &k8s));
        let docker = sources_for(&ls(Some("docker"), None));
        assert!(provided("HostConfig.Privileged", &docker));
        assert!(!provided("objectRef.resource", &docker));
        let any = sources_for(&ls(None, None));
        assert_eq!(any.len(), Source::ALL.len());
    }
}
