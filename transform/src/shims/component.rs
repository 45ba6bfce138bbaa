//! The wasm32-wasip2 component: the WIT world `transform` exported over [`Detector`].
//!
//! This file only converts between the generated WIT types and `crate::api` /
//! `crate::model`; every decision is made by the engine. One engine lives per instance
//! (a component instance is single-threaded), created with the built-in pack on first use.

use std::borrow::Cow;
use std::cell::RefCell;

use crate::api;
use crate::model;
use crate::{Detector, default_pack};

wit_bindgen::generate!({
    world: "transform",
    path: "../wit",
});

use crowsnest::detect::types as wit;
use exports::crowsnest::detect::detector::Guest;

// `From` both ways for every enum of the contract, from the one table in `model`.
crate::named_enum_table!(wit_conversions(wit));

thread_local! {
    static DETECTOR: RefCell<Option<Detector>> = const { RefCell::new(None) };
}

fn with_detector<T>(f: impl FnOnce(&mut Detector) -> T) -> T {
    DETECTOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        f(slot.get_or_insert_with(Detector::new))
    })
}

struct Component;

impl Guest for Component {
    fn configure(pack: wit::RulePack) -> Result<wit::PackInfo, Vec<wit::Diagnostic>> {
        let files: Vec<api::PackFile> = if pack.files.is_empty() {
            default_pack()
        } else {
            pack.files
                .into_iter()
                .map(|f| api::PackFile {
                    path: f.path,
                    text: f.text,
                })
                .collect()
        };
        with_detector(|d| d.configure(&files))
            .map(pack_info)
            .map_err(|errs| errs.into_iter().map(diagnostic).collect())
    }

    fn set_options(opts: wit::Options) {
        let options = api::Options {
            alert_format: opts.alert_format.into(),
            enrichment: opts.enrichment,
            max_record_bytes: opts.max_record_bytes,
            force_source: opts.force_source.map(Into::into),
            vpc_flow_format: opts.vpc_flow_format,
        };
        with_detector(|d| d.set_options(options));
    }

    fn process(batch: Vec<u8>, origin: wit::BatchOrigin) -> wit::BatchResult {
        let origin = batch_origin(origin);
        batch_result(with_detector(|d| d.process(&batch, &origin)))
    }

    fn process_events(events: Vec<wit::Event>, origin: wit::BatchOrigin) -> wit::BatchResult {
        let origin = batch_origin(origin);
        let events = events.into_iter().map(event_from).collect();
        batch_result(with_detector(|d| d.process_events(events, &origin)))
    }

    fn advance(now_ns: i64) -> wit::BatchResult {
        batch_result(with_detector(|d| d.advance(now_ns)))
    }

    fn finish(origin: wit::BatchOrigin) -> wit::BatchResult {
        let origin = batch_origin(origin);
        batch_result(with_detector(|d| d.finish(&origin)))
    }

    fn snapshot() -> Vec<u8> {
        with_detector(|d| d.snapshot())
    }

    fn restore(blob: Vec<u8>) -> Result<(), String> {
        with_detector(|d| d.restore(&blob))
    }

    fn stats() -> wit::EngineStats {
        let s = with_detector(|d| d.stats());
        wit::EngineStats {
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
}

export!(Component);

fn batch_origin(o: wit::BatchOrigin) -> api::BatchOrigin {
    api::BatchOrigin {
        file: o.file,
        first_line: o.first_line,
        lines: o.lines,
    }
}

fn diagnostic(d: api::Diagnostic) -> wit::Diagnostic {
    wit::Diagnostic {
        severity: d.severity.into(),
        code: d.code,
        message: d.message,
        file: d.file,
        line: d.line,
        column: d.column,
    }
}

fn pack_info(p: api::PackInfo) -> wit::PackInfo {
    wit::PackInfo {
        rules: p.rules,
        correlations: p.correlations,
        warnings: p.warnings.into_iter().map(diagnostic).collect(),
    }
}

fn batch_result(r: api::BatchResult) -> wit::BatchResult {
    wit::BatchResult {
        outcomes: r
            .outcomes
            .into_iter()
            .map(|o| wit::RecordOutcome {
                source: o.source.map(Into::into),
                enrichment: o.enrichment,
            })
            .collect(),
        alerts: r
            .alerts
            .into_iter()
            .map(|a| wit::Alert {
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
            })
            .collect(),
        diagnostics: r.diagnostics.into_iter().map(diagnostic).collect(),
    }
}

fn owned(s: String) -> Cow<'static, str> {
    Cow::Owned(s)
}

fn event_from(e: wit::Event) -> model::Event<'static> {
    let mut out = model::Event::new(e.source.into(), e.action.into(), e.raw_action);
    out.time_ns = e.time_ns;
    out.host = e.host.map(owned);
    out.cluster = e.cluster.map(owned);
    out.request_id = e.request_id.map(owned);
    out.response_code = e.response_code;
    out.error = e.error.map(owned);
    out.reason = e.reason.map(owned);
    out.count = e.count;
    out.account = e.account.map(owned);
    out.region = e.region.map(owned);
    out.principal = e.principal.map(|p| model::Principal {
        name: owned(p.name),
        uid: p.uid.map(owned),
        groups: p.groups.into_iter().map(owned).collect(),
        kind: p.kind.map(owned),
        source_ip: p.source_ip.map(owned),
        user_agent: p.user_agent.map(owned),
    });
    out.workload = e.workload.map(|w| model::Workload {
        kind: owned(w.kind),
        name: w.name.map(owned),
        namespace: w.namespace.map(owned),
        uid: w.uid.map(owned),
        owner: w.owner.map(owned),
    });
    out.containers = e.containers.into_iter().map(container_from).collect();
    out.process = e.process.map(|p| model::Process {
        pid: p.pid,
        name: p.name.map(owned),
        executable: p.executable.map(owned),
        args: p.args.into_iter().map(owned).collect(),
        command_line: p.command_line.map(owned),
        user: p.user.map(owned),
        login_user: p.login_user.map(owned),
        cwd: p.cwd.map(owned),
        exit_code: p.exit_code,
        parent: p.parent.map(|pp| model::ParentProcess {
            pid: pp.pid,
            name: pp.name.map(owned),
            executable: pp.executable.map(owned),
            command_line: pp.command_line.map(owned),
        }),
        ancestors: p.ancestors.into_iter().map(owned).collect(),
    });
    out.network = e.network.map(|n| model::Network {
        src_ip: n.src_ip.map(owned),
        src_port: n.src_port,
        dst_ip: n.dst_ip.map(owned),
        dst_port: n.dst_port,
        protocol: n.protocol.map(owned),
        domain: n.domain.map(owned),
        bytes: n.bytes,
        packets: n.packets,
        disposition: n.disposition.map(owned),
        dns_query_type: n.dns_query_type.map(owned),
        dns_rcode: n.dns_rcode.map(owned),
        dns_answers: n.dns_answers.into_iter().map(owned).collect(),
    });
    out
}

fn container_from(c: wit::Container) -> model::Container<'static> {
    let s = c.security;
    model::Container {
        id: c.id.map(owned),
        name: c.name.map(owned),
        image: c.image.map(|i| model::ImageRef {
            reference: owned(i.reference),
            registry: owned(i.registry),
            repository: owned(i.repository),
            tag: i.tag.map(owned),
            digest: i.digest.map(owned),
        }),
        role: c.role.into(),
        security: model::SecurityContext {
            privileged: s.privileged,
            host_pid: s.host_pid,
            host_network: s.host_network,
            host_ipc: s.host_ipc,
            cap_add: s.cap_add.into_iter().map(owned).collect(),
            security_opt: s.security_opt.into_iter().map(owned).collect(),
            devices: s.devices.into_iter().map(owned).collect(),
            host_mounts: s
                .host_mounts
                .into_iter()
                .map(|m| model::HostMount {
                    host_path: owned(m.host_path),
                    container_path: m.container_path.map(owned),
                    read_only: m.read_only,
                })
                .collect(),
            user: s.user.map(owned),
            restart_policy: s.restart_policy.map(|r| model::RestartPolicy {
                name: owned(r.name),
                max_retries: r.max_retries,
            }),
            entrypoint: s.entrypoint.map(|v| v.into_iter().map(owned).collect()),
            command: s.command.map(|v| v.into_iter().map(owned).collect()),
        },
    }
}
