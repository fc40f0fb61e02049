// The check behind the `raw_request` fuzz target, shared with the test that replays its
// corpus (`tests/fuzz_replay.rs`): the raw request parser of `cirrus sign`, and the signer
// behind it, on arbitrary bytes. They may reject the input, but never panic or hang.

/// Parses `data` as a raw request and signs it three ways (headers, S3, presigned).
pub fn raw_request(data: &[u8]) {
    use cirrus_sigv4::raw::RawRequest;
    use cirrus_sigv4::{sign, Payload, SignableRequest, SigningParams, SigningSettings};
    use std::time::{Duration, UNIX_EPOCH};

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
}
