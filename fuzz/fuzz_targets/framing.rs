//! Fuzz target: framing.rs: record boundaries (NDJSON, JSON arrays, pretty-printed documents).
#![no_main]

use crowsnest_transform::fuzzing;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    fuzzing::framing(data);
});
