//! Fuzz target: falco.rs: Falco JSON alerts.
#![no_main]

use crowsnest_transform::fuzzing::decode_lines;
use crowsnest_transform::model::Source;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    decode_lines(Some(Source::Falco), data, None);
});
