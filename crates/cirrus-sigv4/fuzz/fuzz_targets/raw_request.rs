//! The raw request parser of `cirrus sign`, and the signer behind it: see `../check.rs`.
#![no_main]

include!("../check.rs");

libfuzzer_sys::fuzz_target!(|data: &[u8]| raw_request(data));
