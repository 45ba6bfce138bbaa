//! Fuzz target: command_line.rs: container CLI invocations in a process's argv.
#![no_main]

use crowsnest_transform::fuzzing;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    fuzzing::command_line(data);
});
