//! Hosts that normalized already hand typed events to `process_events`; the rules see
//! the same fields as for a decoded record.

use std::borrow::Cow;

use crowsnest_transform::Detector;
use crowsnest_transform::api::BatchOrigin;
use crowsnest_transform::image_ref::ImageRef;
use crowsnest_transform::model::{
    Action, Container, Event, Principal, SecurityContext, Source, Workload,
};

fn pod(privileged: Option<bool>) -> Event<'static> {
    let mut e = Event::new(Source::K8sAudit, Action::WorkloadCreate, "create");
    e.time_ns = Some(1_714_557_600_000_000_000);
    e.principal = Some(Principal {
        name: "ci-bot".into(),
        ..Principal::default()
    });
    e.workload = Some(Workload {
        kind: "Pod".into(),
        name: Some("builder".into()),
        namespace: Some("ci".into()),
        uid: None,
        owner: None,
    });
    e.containers.push(Container {
        name: Some("sidecar".into()),
        image: Some(ImageRef::lenient(Cow::Borrowed("envoyproxy/envoy:v1.30"))),
        ..Container::default()
    });
    e.containers.push(Container {
        name: Some("build".into()),
        image: Some(ImageRef::lenient(Cow::Borrowed("docker:dind"))),
        security: SecurityContext {
            privileged,
            ..SecurityContext::default()
        },
        ..Container::default()
    });
    e
}

#[test]
fn typed_events_raise_the_same_alerts() {
    let mut d = Detector::new();
    let origin = BatchOrigin {
        file: "host".into(),
        first_line: 1,
        lines: Vec::new(),
    };
    let r = d.process_events(vec![pod(Some(true)), pod(Some(false)), pod(None)], &origin);
    assert_eq!(r.outcomes.len(), 3);
    assert!(r.diagnostics.is_empty());
    assert_eq!(r.alerts.len(), 1, "{:?}", r.alerts);
    let a = &r.alerts[0];
    assert_eq!(a.rule_title, "Privileged container launched");
    assert_eq!(a.record_index, 0);
    assert_eq!(a.containers, vec!["build".to_string()]);
    assert_eq!(a.principal.as_deref(), Some("ci-bot"));
    assert_eq!(a.namespace.as_deref(), Some("ci"));
    assert_eq!(a.image.as_deref(), Some("docker:dind"));
    let stats = d.stats();
    assert_eq!((stats.records, stats.decoded, stats.alerts), (3, 3, 1));
}
