//! Field-by-field conversions between the `bindgen!` types of `wit/crowsnest.wit` and
//! the engine's native mirror types (`crowsnest_transform::api`, `model`).
//!
//! The WIT types are the boundary, not the model: everything past `component.rs` speaks
//! `api` types, so the replay code is the same for the component and the native engine.
//! The enums convert through `From` impls generated from the engine's one table of enum
//! variants (`crowsnest_transform::named_enum_table!`): a variant the WIT file lacks, or
//! names otherwise, fails the build here.

use crowsnest_transform::api;

use crate::engine::bindings::wit;

crowsnest_transform::named_enum_table!(wit_conversions(wit));

pub(crate) fn rule_pack_to_wit(files: &[api::PackFile]) -> wit::RulePack {
    wit::RulePack {
        files: files
            .iter()
            .map(|f| wit::PackFile {
                path: f.path.clone(),
                text: f.text.clone(),
            })
            .collect(),
    }
}

pub(crate) fn options_to_wit(options: &api::Options) -> wit::Options {
    wit::Options {
        alert_format: options.alert_format.into(),
        enrichment: options.enrichment,
        max_record_bytes: options.max_record_bytes,
        force_source: options.force_source.map(Into::into),
        vpc_flow_format: options.vpc_flow_format.clone(),
    }
}

pub(crate) fn origin_to_wit(origin: &api::BatchOrigin) -> wit::BatchOrigin {
    wit::BatchOrigin {
        file: origin.file.clone(),
        first_line: origin.first_line,
        lines: origin.lines.clone(),
    }
}

pub(crate) fn diagnostic_from_wit(d: wit::Diagnostic) -> api::Diagnostic {
    api::Diagnostic {
        severity: d.severity.into(),
        code: d.code,
        message: d.message,
        file: d.file,
        line: d.line,
        column: d.column,
    }
}

pub(crate) fn pack_info_from_wit(info: wit::PackInfo) -> api::PackInfo {
    api::PackInfo {
        rules: info.rules,
        correlations: info.correlations,
        warnings: info.warnings.into_iter().map(diagnostic_from_wit).collect(),
    }
}

pub(crate) fn batch_result_from_wit(result: wit::BatchResult) -> api::BatchResult {
    api::BatchResult {
        outcomes: result
            .outcomes
            .into_iter()
            .map(|o| api::RecordOutcome {
                source: o.source.map(Into::into),
                enrichment: o.enrichment,
            })
            .collect(),
        alerts: result.alerts.into_iter().map(alert_from_wit).collect(),
        diagnostics: result
            .diagnostics
            .into_iter()
            .map(diagnostic_from_wit)
            .collect(),
    }
}

fn alert_from_wit(a: wit::Alert) -> api::Alert {
    api::Alert {
        record_index: a.record_index,
        rule_id: a.rule_id,
        rule_title: a.rule_title,
        level: a.level,
        analytic: a.analytic,
        techniques: a.techniques,
        time_ns: a.time_ns,
        source: a.source.into(),
        action: a.action.into(),
        principal: a.principal,
        namespace: a.namespace,
        containers: a.containers,
        image: a.image,
        summary: a.summary,
        document: a.document,
    }
}

pub(crate) fn stats_from_wit(s: wit::EngineStats) -> api::Stats {
    api::Stats {
        records: s.records,
        decoded: s.decoded,
        diagnostics: s.diagnostics,
        alerts: s.alerts,
        alerts_suppressed: s.alerts_suppressed,
        alerts_quieted: s.alerts_quieted,
        per_source: s
            .per_source
            .into_iter()
            .map(|(src, n)| (src.into(), n))
            .collect(),
        containers_tracked: s.containers_tracked,
        state_evictions: s.state_evictions,
        state_bytes: s.state_bytes,
        correlation_groups: s.correlation_groups,
        correlation_evictions: s.correlation_evictions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crowsnest_transform::model::{Action, ContainerRole, Source};

    #[test]
    fn enums_round_trip() {
        for source in Source::ALL {
            assert_eq!(Source::from(wit::Source::from(source)), source);
        }
        for action in Action::ALL {
            assert_eq!(Action::from(wit::Action::from(action)), action);
        }
        for role in ContainerRole::ALL {
            assert_eq!(ContainerRole::from(wit::ContainerRole::from(role)), role);
        }
        assert!(matches!(
            wit::Source::from(Source::CloudTrail),
            wit::Source::Cloudtrail
        ));
    }

    #[test]
    fn options_keep_every_field() {
        let options = api::Options {
            alert_format: api::AlertFormat::Ecs,
            enrichment: true,
            max_record_bytes: 77,
            force_source: Some(Source::K8sAudit),
            vpc_flow_format: Some("${version} ${srcaddr}".into()),
        };
        let wit = options_to_wit(&options);
        assert!(matches!(wit.alert_format, wit::AlertFormat::Ecs));
        assert!(wit.enrichment);
        assert_eq!(wit.max_record_bytes, 77);
        assert!(matches!(wit.force_source, Some(wit::Source::K8sAudit)));
        assert_eq!(
            wit.vpc_flow_format.as_deref(),
            Some("${version} ${srcaddr}")
        );
    }
}
