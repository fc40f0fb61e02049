//! See `cirrus::fuzzing::s3_url` for what this target feeds and checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cirrus::fuzzing::s3_url(data));
