//! Field-by-field conversions between the `bindgen!` types of `wit/crowsnest.wit` and
//! the engine's native mirror types (`crowsnest_transform::api`, `model`).
//!
//! The WIT types are the boundary, not the model: everything past `component.rs` speaks
//! `api` types, so the replay code is the same for the component and the native engine.
//! Matches are exhaustive on purpose: a new WIT enum case fails the build here.

use crowsnest_transform::api;
use crowsnest_transform::model::{Action, Source};

use crate::component::wit;

pub(crate) fn source_to_wit(source: Source) -> wit::Source {
    match source {
        Source::DockerEvent => wit::Source::DockerEvent,
        Source::DockerInspect => wit::Source::DockerInspect,
        Source::DockerAuthz => wit::Source::DockerAuthz,
        Source::DockerDaemon => wit::Source::DockerDaemon,
        Source::K8sAudit => wit::Source::K8sAudit,
        Source::AksAudit => wit::Source::AksAudit,
        Source::GkeAudit => wit::Source::GkeAudit,
        Source::K8sEvent => wit::Source::K8sEvent,
        Source::CloudTrail => wit::Source::Cloudtrail,
        Source::AzureActivity => wit::Source::AzureActivity,
        Source::GcpAudit => wit::Source::GcpAudit,
        Source::Auditd => wit::Source::Auditd,
        Source::Falco => wit::Source::Falco,
        Source::Tetragon => wit::Source::Tetragon,
        Source::ZeekConn => wit::Source::ZeekConn,
        Source::ZeekDns => wit::Source::ZeekDns,
        Source::VpcFlow => wit::Source::VpcFlow,
        Source::Route53Resolver => wit::Source::Route53Resolver,
    }
}

pub(crate) fn source_from_wit(source: wit::Source) -> Source {
    match source {
        wit::Source::DockerEvent => Source::DockerEvent,
        wit::Source::DockerInspect => Source::DockerInspect,
        wit::Source::DockerAuthz => Source::DockerAuthz,
        wit::Source::DockerDaemon => Source::DockerDaemon,
        wit::Source::K8sAudit => Source::K8sAudit,
        wit::Source::AksAudit => Source::AksAudit,
        wit::Source::GkeAudit => Source::GkeAudit,
        wit::Source::K8sEvent => Source::K8sEvent,
        wit::Source::Cloudtrail => Source::CloudTrail,
        wit::Source::AzureActivity => Source::AzureActivity,
        wit::Source::GcpAudit => Source::GcpAudit,
        wit::Source::Auditd => Source::Auditd,
        wit::Source::Falco => Source::Falco,
        wit::Source::Tetragon => Source::Tetragon,
        wit::Source::ZeekConn => Source::ZeekConn,
        wit::Source::ZeekDns => Source::ZeekDns,
        wit::Source::VpcFlow => Source::VpcFlow,
        wit::Source::Route53Resolver => Source::Route53Resolver,
    }
}

pub(crate) fn action_from_wit(action: wit::Action) -> Action {
    match action {
        wit::Action::ContainerCreate => Action::ContainerCreate,
        wit::Action::ContainerRun => Action::ContainerRun,
        wit::Action::ContainerStart => Action::ContainerStart,
        wit::Action::ContainerRestart => Action::ContainerRestart,
        wit::Action::ContainerStop => Action::ContainerStop,
        wit::Action::ContainerDie => Action::ContainerDie,
        wit::Action::ContainerKill => Action::ContainerKill,
        wit::Action::ContainerDestroy => Action::ContainerDestroy,
        wit::Action::ContainerExec => Action::ContainerExec,
        wit::Action::ContainerAttach => Action::ContainerAttach,
        wit::Action::ContainerInspect => Action::ContainerInspect,
        wit::Action::ContainerBackoff => Action::ContainerBackoff,
        wit::Action::ImagePull => Action::ImagePull,
        wit::Action::WorkloadCreate => Action::WorkloadCreate,
        wit::Action::WorkloadUpdate => Action::WorkloadUpdate,
        wit::Action::WorkloadPatch => Action::WorkloadPatch,
        wit::Action::WorkloadDelete => Action::WorkloadDelete,
        wit::Action::ResourceGet => Action::ResourceGet,
        wit::Action::ResourceList => Action::ResourceList,
        wit::Action::ResourceWatch => Action::ResourceWatch,
        wit::Action::ProcessStart => Action::ProcessStart,
        wit::Action::NetworkConnect => Action::NetworkConnect,
        wit::Action::NetworkFlow => Action::NetworkFlow,
        wit::Action::DnsQuery => Action::DnsQuery,
        wit::Action::Other => Action::Other,
    }
}

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
        alert_format: match options.alert_format {
            api::AlertFormat::Ocsf => wit::AlertFormat::Ocsf,
            api::AlertFormat::Ecs => wit::AlertFormat::Ecs,
        },
        enrichment: options.enrichment,
        max_record_bytes: options.max_record_bytes,
        force_source: options.force_source.map(source_to_wit),
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
        severity: match d.severity {
            wit::Severity::Error => api::Severity::Error,
            wit::Severity::Warning => api::Severity::Warning,
            wit::Severity::Info => api::Severity::Info,
        },
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
                source: o.source.map(source_from_wit),
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
        source: source_from_wit(a.source),
        action: action_from_wit(a.action),
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
        per_source: s
            .per_source
            .into_iter()
            .map(|(src, n)| (source_from_wit(src), n))
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

    #[test]
    fn sources_round_trip() {
        for source in Source::ALL {
            assert_eq!(source_from_wit(source_to_wit(source)), source);
        }
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
