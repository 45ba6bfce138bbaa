//! Fuzz target: docker_create_body.rs: container create and exec request bodies.
#![no_main]

use crowsnest_transform::fuzzing;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    fuzzing::docker_create_body(data);
});
