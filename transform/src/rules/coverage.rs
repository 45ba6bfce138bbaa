//! Which fields some source can provide, so a rule that reads a field no source has is
//! reported when the pack loads instead of silently never matching.
//!
//! A field is provided when it is a normalized field (`docs/fields.md`), a derived
//! `crowsnest.*` field, or a path whose first segment is a top-level key of the raw
//! records of a source the rule's `logsource` lets it see (each format declares its raw
//! roots in the format registry, `decode::FORMATS`). Text formats (auditd, VPC flow logs)
//! have no raw JSON: only normalized fields reach them.

use rsigma_parser::LogSource;

use super::derived::derived;
use crate::decode::{FORMATS, format};
use crate::model::Source;
use crate::model::fields::field as normalized;

/// The sources a rule with this logsource is evaluated on.
pub(crate) fn sources_for(logsource: &LogSource) -> Vec<Source> {
    let eq = |want: &Option<String>, have: &str| {
        want.as_deref().is_none_or(|w| w.eq_ignore_ascii_case(have))
    };
    FORMATS
        .iter()
        .filter(|f| {
            let (product, service) = f.logsource;
            eq(&logsource.product, product) && eq(&logsource.service, service)
        })
        .map(|f| f.source)
        .collect()
}

/// Whether any of `sources` can provide `field`.
pub(crate) fn provided(field: &str, sources: &[Source]) -> bool {
    if normalized(field).is_some() || derived(field).is_some() {
        return true;
    }
    if field.starts_with("crowsnest.") {
        return false;
    }
    // A known normalized prefix with an unknown tail (`container.bogus`) is not raw:
    // normalized names shadow raw paths only where the list says so.
    let root = field.split('.').next().unwrap_or(field);
    sources.iter().any(|s| {
        format(*s)
            .raw_roots
            .iter()
            .any(|r| *r == root || *r == field)
    })
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
        let mut k8s = sources_for(&ls(Some("kubernetes"), Some("audit")));
        k8s.sort();
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
