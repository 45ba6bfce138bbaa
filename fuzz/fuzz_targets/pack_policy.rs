//! Fuzz target: pack/policy.rs and rules/compile.rs: the bytes as a rule pack's `policy.yml`.
#![no_main]

use crowsnest_transform::fuzzing;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = fuzzing::pack_policy(data);
});
