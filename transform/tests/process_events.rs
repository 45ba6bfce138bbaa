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
    let mut raised: Vec<(u32, &str, Vec<&str>)> = r
        .alerts
        .iter()
        .map(|a| {
            let containers = a.containers.iter().map(String::as_str).collect();
            (a.record_index, a.rule_title.as_str(), containers)
        })
        .collect();
    raised.sort_unstable();
    // ci-bot is approved in `shop`, not in `ci`: every launch is by an unapproved principal.
    // The privileged `build` container runs docker:dind, off the allow-list, as root (no
    // user named) for a principal that is not an admin. Both images are new the first time.
    let unapproved = "Container started by a principal not approved for its namespace or cluster";
    assert_eq!(
        raised,
        vec![
            (0, unapproved, vec!["sidecar", "build"]),
            (0, "Privileged container launched", vec!["build"]),
            (
                0,
                "Risky container launched through an API by an unvetted principal or image",
                vec!["build"]
            ),
            (
                0,
                "Root container with privilege, host namespaces or a sensitive mount",
                vec!["build"]
            ),
            (
                0,
                "Unapproved image seen for the first time",
                vec!["sidecar", "build"]
            ),
            (1, unapproved, vec!["sidecar", "build"]),
            (2, unapproved, vec!["sidecar", "build"]),
        ],
        "{:?}",
        r.alerts
    );
    let a = r
        .alerts
        .iter()
        .find(|a| a.rule_title == "Privileged container launched")
        .unwrap();
    assert_eq!(a.record_index, 0);
    assert_eq!(a.containers, vec!["build".to_string()]);
    assert_eq!(a.principal.as_deref(), Some("ci-bot"));
    assert_eq!(a.namespace.as_deref(), Some("ci"));
    assert_eq!(a.image.as_deref(), Some("docker:dind"));
    let stats = d.stats();
    assert_eq!((stats.records, stats.decoded, stats.alerts), (3, 3, 7));
}
