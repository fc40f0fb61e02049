//! A [raw request](crate::raw) signed and written back in the same format: what `cirrus sign`
//! does, for any program that holds requests as text (test vectors, captured traffic, a proxy).
//!
//! [`sign_raw`] decides what the request's own headers imply (the payload hash, `Date` or
//! `X-Amz-Date`) and signs; [`render`] writes the request back with the signature in place.
//!
//! ```
//! use cirrus_sigv4::raw::RawRequest;
//! use cirrus_sigv4::raw_sign::{line_ending, render, sign_raw};
//! use cirrus_sigv4::SigningParams;
//! use std::time::{Duration, UNIX_EPOCH};
//!
//! let input = b"GET / HTTP/1.1\r\nHost:example.amazonaws.com\r\n\r\n";
//! let raw = RawRequest::parse(input).expect("a raw request");
//! let time = UNIX_EPOCH + Duration::from_secs(1_440_938_160); // 2015-08-30T12:36:00Z
//! let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
//! let params = SigningParams::new("AKIDEXAMPLE", secret, "us-east-1", "service", time);
//! let out = sign_raw(&raw, &params, false)?;
//! let signed = String::from_utf8(render(&raw, &out, line_ending(input))).expect("text");
//! assert_eq!(
//!     signed,
//!     "GET / HTTP/1.1\r\nHost:example.amazonaws.com\r\nX-Amz-Date:20150830T123600Z\r\n\
//!      Authorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
//!      SignedHeaders=host;x-amz-date, \
//!      Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31\r\n\r\n"
//! );
//! # Ok::<(), cirrus_sigv4::SigningError>(())
//! ```

use crate::params::{SignatureLocation, SigningOutput, SigningParams, SigningSettings};
use crate::raw::RawRequest;
use crate::request::{Payload, SignableRequest};
use crate::{sign, SigningError};

/// Signs `raw` with `params`, as its headers ask:
///
/// - The payload hash is the request's `X-Amz-Content-SHA256` when it has one (used as given);
///   otherwise `UNSIGNED-PAYLOAD` when `unsigned_payload` is set or the request is a presigned
///   S3 URL (service `s3` and its variants, settings
///   [`presigned`](SigningSettings::presigned)); otherwise the SHA-256 of the body.
/// - When the request has a `Date` header and no `X-Amz-Date`, the signing time goes into
///   `Date` (an HTTP date) and no `X-Amz-Date` is added, as SigV4 allows.
/// - Header signing or a presigned URL, path rules and session token: as `params`' settings
///   say.
///
/// Fails, leaving nothing signed, on a method, target or header the signer refuses
/// ([`SigningError::is_invalid_request`], [`SigningError::is_invalid_header`]) or on a presign
/// expiry out of range ([`SigningError::is_invalid_params`]). See the [module](self) example.
pub fn sign_raw(
    raw: &RawRequest,
    params: &SigningParams<'_>,
    unsigned_payload: bool,
) -> Result<SigningOutput, SigningError> {
    let mut settings = params.settings;
    settings.use_date_header = raw.header("x-amz-date").is_none() && raw.header("date").is_some();
    let presigned = matches!(settings.location, SignatureLocation::Query { .. });
    let is_s3 = SigningSettings::for_service(params.service) == SigningSettings::s3();
    let payload = match (raw.header("x-amz-content-sha256"), unsigned_payload) {
        (Some(given), _) => Payload::Precomputed(given.trim()),
        (None, true) => Payload::Unsigned,
        (None, false) if presigned && is_s3 => Payload::Unsigned,
        (None, false) => Payload::Bytes(&raw.body),
    };
    let headers = raw.headers.iter().map(|(n, v)| (n.as_str(), v.as_str()));
    let request = SignableRequest::new(&raw.method, &raw.target, headers, payload)?;
    sign(&request, &params.settings(settings))
}

/// `"\r\n"` when the first line of `input` ends that way, `"\n"` otherwise: the line end to
/// [`render`] a request back in.
///
/// ```
/// use cirrus_sigv4::raw_sign::line_ending;
///
/// assert_eq!(line_ending(b"GET / HTTP/1.1\r\nHost:h\r\n"), "\r\n");
/// assert_eq!(line_ending(b"GET / HTTP/1.1\nHost:h\r\n"), "\n");
/// ```
pub fn line_ending(input: &[u8]) -> &'static str {
    match input.iter().position(|&b| b == b'\n') {
        Some(i) if i > 0 && input[i - 1] == b'\r' => "\r\n",
        _ => "\n",
    }
}

/// `raw` written back with `out` applied, lines ending in `eol`: the presigning parameters in
/// the target; the request's headers in their order, each one signing sets replaced in place
/// with the new value (an old `Authorization` or `X-Amz-Security-Token` dropped, and in a
/// presigned request an old `X-Amz-Date`); then the headers signing adds (`Authorization`
/// last); an empty line; the body, byte for byte. No header is ever doubled.
pub fn render(raw: &RawRequest, out: &SigningOutput, eol: &str) -> Vec<u8> {
    let presigned = out.query_params().next().is_some();
    let target = out.apply_to_uri(&raw.target);
    let mut text = format!("{} {} {}{eol}", raw.method, target, raw.version);
    let added: Vec<(&str, &str)> = out.headers().collect();
    let mut printed = vec![false; added.len()];
    let dropped = |name: &str| {
        name.eq_ignore_ascii_case("authorization")
            || name.eq_ignore_ascii_case("x-amz-security-token")
            || (presigned && name.eq_ignore_ascii_case("x-amz-date"))
    };
    for (name, value) in &raw.headers {
        if let Some(i) = added.iter().position(|(n, _)| n.eq_ignore_ascii_case(name)) {
            if !printed[i] && !added[i].0.eq_ignore_ascii_case("authorization") {
                text.push_str(&format!("{name}:{}{eol}", added[i].1));
                printed[i] = true;
            }
            continue;
        }
        if !dropped(name) {
            text.push_str(&format!("{name}:{value}{eol}"));
        }
    }
    for (i, (name, value)) in added.iter().enumerate() {
        if !printed[i] {
            text.push_str(&format!("{name}:{value}{eol}"));
        }
    }
    text.push_str(eol);
    let mut bytes = text.into_bytes();
    bytes.extend_from_slice(&raw.body);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    fn signed(input: &[u8], service: &str, presign: bool, unsigned: bool, token: Option<&str>) -> (String, String) {
        let raw = RawRequest::parse(input).expect("raw");
        let time = UNIX_EPOCH + Duration::from_secs(1_440_938_160);
        let mut settings = SigningSettings::for_service(service);
        if presign {
            settings = settings.presigned(Duration::from_secs(60));
        }
        let params = SigningParams::new("AKIDEXAMPLE", SECRET, "us-east-1", service, time)
            .session_token(token)
            .settings(settings);
        let out = sign_raw(&raw, &params, unsigned).expect("signed");
        let text = String::from_utf8(render(&raw, &out, line_ending(input))).expect("utf-8");
        (text, out.canonical_request().to_owned())
    }

    fn payload_hash(canonical: &str) -> &str {
        canonical.rsplit('\n').next().unwrap_or_default()
    }

    #[test]
    fn old_signing_headers_are_replaced_in_place_never_doubled() {
        let input = b"POST /p HTTP/1.1\nHost:h\nX-Amz-Date:19990101T000000Z\nAuthorization:old\n\
                      X-Amz-Security-Token:old\nX-A:1\n\nbody";
        let (text, _) = signed(input, "service", false, false, Some("tok"));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[1], "Host:h");
        assert_eq!(lines[2], "X-Amz-Date:20150830T123600Z", "{text}");
        assert_eq!(lines[3], "X-Amz-Security-Token:tok", "{text}");
        assert_eq!(lines[4], "X-A:1", "{text}");
        assert!(lines[5].starts_with("Authorization:AWS4-HMAC-SHA256 "), "{text}");
        assert_eq!(text.matches("Authorization:").count(), 1);
        assert!(text.ends_with("\n\nbody"), "{text}");
    }

    #[test]
    fn presigning_moves_everything_into_the_target() {
        let input = b"GET /k?a=1 HTTP/1.1\nHost:b.s3.amazonaws.com\nX-Amz-Date:19990101T000000Z\n\n";
        let (text, canonical) = signed(input, "s3", true, false, Some("tok"));
        let first = text.lines().next().unwrap_or_default();
        assert!(first.starts_with("GET /k?a=1&X-Amz-Algorithm=AWS4-HMAC-SHA256&"), "{first}");
        assert!(first.contains("&X-Amz-Security-Token=tok&") && first.ends_with(" HTTP/1.1"), "{first}");
        assert_eq!(text.lines().nth(1), Some("Host:b.s3.amazonaws.com"));
        assert!(!text.contains("\nX-Amz-Date:") && !text.contains("Authorization"), "{text}");
        // A presigned S3 URL does not sign its body.
        assert_eq!(payload_hash(&canonical), "UNSIGNED-PAYLOAD");
    }

    #[test]
    fn the_payload_hash_follows_the_request() {
        let given = "a".repeat(64);
        let with_hash = format!("PUT / HTTP/1.1\nHost:h\nX-Amz-Content-SHA256: {given} \n\nbody");
        assert_eq!(payload_hash(&signed(with_hash.as_bytes(), "s3", false, true, None).1), given);
        let plain = b"PUT / HTTP/1.1\nHost:h\n\nbody";
        assert_eq!(payload_hash(&signed(plain, "service", false, true, None).1), "UNSIGNED-PAYLOAD");
        let body_hash = crate::sha256_hex(b"body");
        assert_eq!(payload_hash(&signed(plain, "service", false, false, None).1), body_hash);
        // Presigned, but not S3: the body is signed.
        assert_eq!(payload_hash(&signed(plain, "execute-api", true, false, None).1), body_hash);
    }

    #[test]
    fn a_date_header_takes_the_time() {
        let input = b"GET / HTTP/1.1\r\nHost:h\r\nDate:Mon, 01 Jan 1999 00:00:00 GMT\r\n\r\n";
        let (text, _) = signed(input, "service", false, false, None);
        assert!(text.starts_with("GET / HTTP/1.1\r\nHost:h\r\nDate:Sun, 30 Aug 2015 12:36:00 GMT\r\n"), "{text}");
        assert!(!text.contains("X-Amz-Date"), "{text}");
        // With X-Amz-Date too, X-Amz-Date is the one signing sets.
        let both = b"GET / HTTP/1.1\nHost:h\nDate:x\nX-Amz-Date:y\n\n";
        let (text, _) = signed(both, "service", false, false, None);
        assert!(text.contains("\nDate:x\nX-Amz-Date:20150830T123600Z\n"), "{text}");
    }

    #[test]
    fn refusals_say_what_kind() {
        let raw = RawRequest::parse(b"GET / HTTP/1.1\nHost:h\n\n").expect("raw");
        let time = UNIX_EPOCH + Duration::from_secs(1_440_938_160);
        let too_long = SigningSettings::default().presigned(Duration::from_secs(700_000));
        let params = SigningParams::new("AK", "SK", "us-east-1", "service", time).settings(too_long);
        assert!(sign_raw(&raw, &params, false).is_err_and(|e| e.is_invalid_params()));
        let raw = RawRequest { target: "/a b\u{7f}".to_owned(), ..raw };
        let params = SigningParams::new("AK", "SK", "us-east-1", "service", time);
        assert!(sign_raw(&raw, &params, false).is_err_and(|e| e.is_invalid_request()));
    }
}
