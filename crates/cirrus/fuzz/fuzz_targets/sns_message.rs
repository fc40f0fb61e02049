//! See `cirrus::fuzzing::sns_message` for what this target feeds and checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cirrus::fuzzing::sns_message(data));
