//! Fuzz target: gcp_audit.rs: Cloud Audit Logs (GKE, Cloud Run).
#![no_main]

use crowsnest_transform::fuzzing::decode_lines;
use crowsnest_transform::model::Source;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    decode_lines(Some(Source::GkeAudit), data, None);
});
