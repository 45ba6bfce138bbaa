//! Fuzz target: pack/ and rules/compile.rs: the bytes as a rule pack's Sigma rule file.
#![no_main]

use crowsnest_transform::fuzzing;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = fuzzing::pack_rule(data);
});
