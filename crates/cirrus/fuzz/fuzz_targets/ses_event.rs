//! See `cirrus::fuzzing::ses_event` for what this target feeds and checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cirrus::fuzzing::ses_event(data));
