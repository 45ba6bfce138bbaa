//! Fuzz target: detector.rs: `Detector::process`, what the component's `process` export runs, over batches split at 0x1e.
#![no_main]

use crowsnest_transform::fuzzing;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    fuzzing::process(data);
});
