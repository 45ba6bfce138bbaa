//! Fuzz target: zeek.rs: Zeek conn.log and dns.log lines.
#![no_main]

use crowsnest_transform::fuzzing;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    fuzzing::zeek(data);
});
