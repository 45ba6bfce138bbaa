//! Fuzz target: mod.rs and envelope.rs: format detection, the fallback to the other decoders and shippers' wrappers.
#![no_main]

use crowsnest_transform::fuzzing::decode_lines;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    decode_lines(None, data, None);
});
