// The check behind the `raw_request` fuzz target, shared with the test that replays its
// corpus (`tests/fuzz_replay.rs`): the raw request parser of `cirrus sign`, and the signer
// behind it, on arbitrary bytes. They may reject the input, but never panic or hang.

/// Parses `data` as a raw request, signs it three ways (headers, S3, presigned) and writes it
/// back signed, as `cirrus sign` does.
pub fn raw_request(data: &[u8]) {
    use cirrus_sigv4::raw::RawRequest;
    use cirrus_sigv4::raw_sign::{line_ending, render, sign_raw};
    use cirrus_sigv4::{SigningParams, SigningSettings};
    use std::time::{Duration, UNIX_EPOCH};

    let Ok(raw) = RawRequest::parse(data) else { return };
    let time = UNIX_EPOCH + Duration::from_secs(1_440_938_160);
    for settings in [SigningSettings::default(), SigningSettings::s3(), SigningSettings::s3().presigned(Duration::from_secs(60))] {
        let params = SigningParams::new("AKIDEXAMPLE", "secret", "us-east-1", "service", time)
            .session_token(Some("token"))
            .settings(settings);
        if let Ok(out) = sign_raw(&raw, &params, false) {
            let _ = render(&raw, &out, line_ending(data));
        }
    }
}
