//! Fuzz target: docker_api.rs: Docker Engine API routes and query parameters.
#![no_main]

use crowsnest_transform::fuzzing;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    fuzzing::docker_api(data);
});
