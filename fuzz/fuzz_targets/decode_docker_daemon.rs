//! Fuzz target: docker_daemon.rs: dockerd's debug log, a `form data:` line joined to its call.
#![no_main]

use crowsnest_transform::fuzzing::decode_lines;
use crowsnest_transform::model::Source;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    decode_lines(Some(Source::DockerDaemon), data, None);
});
