//! Fuzz target: route53_resolver.rs: Route 53 Resolver query logs.
#![no_main]

use crowsnest_transform::fuzzing::decode_lines;
use crowsnest_transform::model::Source;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    decode_lines(Some(Source::Route53Resolver), data, None);
});
