//! Fuzz target: vpc_flow.rs: VPC flow logs, with the input's first line also tried as the configured format.
#![no_main]

use crowsnest_transform::fuzzing;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    fuzzing::vpc_flow(data);
});
