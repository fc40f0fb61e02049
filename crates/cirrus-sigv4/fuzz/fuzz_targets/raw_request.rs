//! The raw request parser of `cirrus sign`, and the signer behind it, on arbitrary bytes:
//! they may reject the input, but never panic or hang.
#![no_main]

use cirrus_sigv4::raw::RawRequest;
use cirrus_sigv4::{sign, Payload, SignableRequest, SigningParams, SigningSettings};
use libfuzzer_sys::fuzz_target;
use std::time::{Duration, UNIX_EPOCH};

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = RawRequest::parse(data) else { return };
    let headers = raw.headers.iter().map(|(n, v)| (n.as_str(), v.as_str()));
    let Ok(req) = SignableRequest::new(&raw.method, &raw.target, headers, Payload::Bytes(&raw.body)) else { return };
    let time = UNIX_EPOCH + Duration::from_secs(1_440_938_160);
    for settings in [SigningSettings::default(), SigningSettings::s3(), SigningSettings::s3().presigned(Duration::from_secs(60))] {
        let params = SigningParams::new("AKIDEXAMPLE", "secret", "us-east-1", "service", time)
            .session_token(Some("token"))
            .settings(settings);
        if let Ok(out) = sign(&req, &params) {
            let _ = out.apply_to_uri(&raw.target);
        }
    }
});
