//! One event through every delivery shape of its source normalizes identically.
//!
//! Each source's samples carry the same events in the shapes their producers and
//! transports write: a CloudTrail event as a line, inside a trail file's `Records` (on one
//! line or one record per line), as an EventBridge `detail`, as `aws cloudtrail
//! lookup-events`' `CloudTrailEvent` text and inside CloudWatch Logs subscription messages
//! concatenated by Firehose. Every record is framed as `crowsnest replay` frames it and
//! decoded by a fresh engine (so no state from other records joins in); events with the
//! same request id must come out identical, and each id must be seen in the shapes listed.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use crowsnest_transform::Detector;
use crowsnest_transform::api::{BatchOrigin, Options};
use crowsnest_transform::framing;
use serde_json::Value;

/// The normalized events of every record of `path`, each decoded on its own.
fn events(path: &Path) -> Vec<Value> {
    let bytes = fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    for frame in framing::frames(&bytes) {
        let frame = frame.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut detector = Detector::new();
        detector.set_options(Options {
            enrichment: true,
            ..Options::default()
        });
        let origin = BatchOrigin {
            file: path.display().to_string(),
            first_line: frame.line,
            lines: vec![frame.line],
        };
        let result = detector.process(&frame.record, &origin);
        assert!(
            result.diagnostics.is_empty(),
            "{}:{}: {:?}",
            path.display(),
            frame.line,
            result.diagnostics
        );
        for outcome in result.outcomes {
            let enrichment = outcome
                .enrichment
                .expect("every record decodes to an event");
            match serde_json::from_str(&enrichment).expect("enrichment is JSON") {
                Value::Array(many) => out.extend(many),
                one => out.push(one),
            }
        }
    }
    out
}

/// Checks `folder`'s shapes: `expect` lists, per request id, the files it must be in.
fn same_everywhere(folder: &str, files: &[&str], expect: &[(&str, &[&str])]) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../samples")
        .join(folder);
    // request id -> (file, event) for every sighting.
    let mut seen: BTreeMap<String, Vec<(&str, Value)>> = BTreeMap::new();
    for file in files {
        for mut event in events(&root.join(file)) {
            // Where the record sat differs by shape by design; what it says must not.
            let origin = event.as_object_mut().and_then(|o| o.remove("origin"));
            assert!(
                origin.is_some(),
                "{folder}/{file}: an event without its origin"
            );
            let id = event["request.id"]
                .as_str()
                .unwrap_or_else(|| panic!("{folder}/{file}: an event without request.id"))
                .to_string();
            seen.entry(id).or_default().push((file, event));
        }
    }
    for (id, shapes) in expect {
        let sightings = seen
            .get(*id)
            .unwrap_or_else(|| panic!("{folder}: {id} not decoded from any file"));
        let mut found: Vec<&str> = sightings.iter().map(|(f, _)| *f).collect();
        found.sort_unstable();
        let mut want = shapes.to_vec();
        want.sort_unstable();
        assert_eq!(found, want, "{folder}: the files {id} is decoded from");
        let (first_file, first) = &sightings[0];
        for (file, event) in &sightings[1..] {
            assert_eq!(
                event, first,
                "{folder}: {id} normalizes differently in {file} and {first_file}"
            );
        }
    }
}

#[test]
fn cloudtrail_events_normalize_alike_in_every_delivery_shape() {
    same_everywhere(
        "cloudtrail-ecs",
        &[
            "events.ndjson",
            "eventbridge.ndjson",
            "trail-records-per-line.json",
            "lookup-events.json",
            "cloudwatch-firehose.json",
        ],
        &[
            (
                "11a2b3c4-d5e6-4f70-8192-a3b4c5d6e7f8", // RegisterTaskDefinition
                &[
                    "events.ndjson",
                    "trail-records-per-line.json",
                    "lookup-events.json",
                    "cloudwatch-firehose.json",
                ],
            ),
            (
                "22b3c4d5-e6f7-4081-9203-b4c5d6e7f809", // CreateService
                &[
                    "events.ndjson",
                    "trail-records-per-line.json",
                    "lookup-events.json",
                    "cloudwatch-firehose.json",
                ],
            ),
            (
                "55e6f708-192a-43b4-8536-e7f8091a2b3c", // DescribeClusters, denied
                &["events.ndjson", "lookup-events.json"],
            ),
            (
                "33c4d5e6-f708-4192-a314-c5d6e7f8091a", // UpdateService
                &["events.ndjson", "cloudwatch-firehose.json"],
            ),
            (
                "66f70819-2a3b-44c5-9647-f8091a2b3c4d", // RunTask
                &[
                    "eventbridge.ndjson",
                    "trail-records-per-line.json",
                    "lookup-events.json",
                ],
            ),
        ],
    );
}
