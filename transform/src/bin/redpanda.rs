//! crowsnest as a Redpanda Data Transform: a WASI preview 1 command module that the
//! broker runs next to each partition leader of the input topic (`docs/redpanda.md`).
//!
//! ```sh
//! cargo build -p crowsnest-transform --release --features redpanda \
//!     --target wasm32-wasip1 --bin crowsnest-redpanda
//! rpk transform deploy --file target/wasm32-wasip1/release/crowsnest-redpanda.wasm \
//!     --name crowsnest --input-topic container-logs \
//!     --output-topic container-logs-enriched --output-topic security-alerts
//! ```
//!
//! Each input record goes to the first output topic with the same key and headers and
//! its value enriched in place (`crowsnest_transform::inline`: a `crowsnest` member
//! with the normalized event, the alerts it completed and any diagnostics; values of
//! no known source unchanged). Each alert also goes, as its rendered OCSF document, to
//! the second output topic, keyed like the record that raised it and with a
//! `crowsnest-rule-id` header; `--var CROWSNEST_ALERTS_TOPIC=<topic>` picks another of
//! the transform's output topics. With a single output topic alerts ride only inside
//! the records. Records without a value (tombstones) pass through.
//!
//! One Kafka record is one log record: line breaks in a value are JSON whitespace and
//! are read as spaces. The rule pack is the one built into the module.

use std::cell::RefCell;

use crowsnest_transform::Detector;
use crowsnest_transform::api::{Alert, BatchOrigin, Diagnostic, Options};
use crowsnest_transform::inline::{self, Findings};
use redpanda_transform_sdk::{
    BorrowedHeader, BorrowedRecord, RecordWriter, WriteError, WriteEvent, WriteOptions,
    on_record_written,
};

/// The environment variable (`rpk transform deploy --var`) naming the alerts topic.
const ALERTS_TOPIC_VAR: &str = "CROWSNEST_ALERTS_TOPIC";

/// The broker names the transform's output topics in `REDPANDA_OUTPUT_TOPIC_0..7`;
/// alerts go to the second unless told otherwise.
const SECOND_OUTPUT_TOPIC_VAR: &str = "REDPANDA_OUTPUT_TOPIC_1";

/// Origin of every record in alerts and diagnostics: the broker does not tell a
/// transform its topic or offsets, so a record is numbered from the transform's start.
const ORIGIN: &str = "redpanda";

thread_local! {
    static TRANSFORM: RefCell<Transform> = RefCell::new(Transform::new());
}

fn main() {
    // Build the engine and compile the pack before the first record, so the broker's
    // per-record time limit measures records only.
    TRANSFORM.with(|transform| drop(transform.borrow()));
    on_record_written(|event, writer| {
        TRANSFORM.with(|transform| transform.borrow_mut().record(&event, writer))
    });
}

struct Transform {
    detector: Detector,
    alerts_topic: Option<String>,
    /// Records seen, the `line` of their origin.
    records: u32,
    /// The enriched value, reused across records.
    out: Vec<u8>,
}

impl Transform {
    fn new() -> Transform {
        let mut detector = Detector::new();
        detector.set_options(Options {
            enrichment: true,
            ..Options::default()
        });
        let alerts_topic = [ALERTS_TOPIC_VAR, SECOND_OUTPUT_TOPIC_VAR]
            .into_iter()
            .find_map(|var| std::env::var(var).ok().filter(|t| !t.is_empty()));
        match &alerts_topic {
            Some(topic) => eprintln!("crowsnest: alerts go to {topic}"),
            None => eprintln!(
                "crowsnest: one output topic only; alerts are written inside the enriched records"
            ),
        }
        Transform {
            detector,
            alerts_topic,
            records: 0,
            out: Vec::new(),
        }
    }

    fn record(
        &mut self,
        event: &WriteEvent<'_>,
        writer: &mut RecordWriter<'_>,
    ) -> Result<(), WriteError> {
        let record = &event.record;
        let Some(value) = record.value() else {
            return writer.write(record);
        };
        self.records = self.records.wrapping_add(1);
        let lossy = String::from_utf8_lossy(value);
        let text = one_line(&lossy);
        let origin = BatchOrigin {
            file: ORIGIN.to_string(),
            first_line: self.records,
            lines: Vec::new(),
        };
        let result = self.detector.process(text.as_bytes(), &origin);
        self.out.clear();
        match result.outcomes.first() {
            Some(outcome) => {
                let alerts: Vec<&Alert> = result.alerts.iter().collect();
                let diagnostics: Vec<&Diagnostic> = result.diagnostics.iter().collect();
                let findings = Findings {
                    outcome,
                    alerts: &alerts,
                    diagnostics: &diagnostics,
                };
                inline::enrich(&text, &findings, &mut self.out);
            }
            // A blank value: nothing to decode.
            None => self.out.extend_from_slice(value),
        }
        writer.write(BorrowedRecord::new_with_headers(
            record.key(),
            Some(&self.out),
            record.headers().to_vec(),
        ))?;
        if let Some(topic) = &self.alerts_topic {
            for alert in &result.alerts {
                let headers = vec![BorrowedHeader::new(
                    b"crowsnest-rule-id",
                    Some(alert.rule_id.as_bytes()),
                )];
                writer.write_with_options(
                    BorrowedRecord::new_with_headers(
                        record.key(),
                        Some(alert.document.as_bytes()),
                        headers,
                    ),
                    WriteOptions::to_topic(topic),
                )?;
            }
        }
        Ok(())
    }
}

/// The value on one line: the engine reads one record per line.
fn one_line(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains(['\n', '\r']) {
        std::borrow::Cow::Owned(text.replace(['\n', '\r'], " "))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}
