//! Sans-IO AWS Signature Version 4 signing.
//!
//! `cirrus-sigv4` signs requests for any AWS service and any HTTP client: header signing
//! (`Authorization`), presigned URLs, S3 POST policies ([`post_policy`]), aws-chunked streaming
//! ([`chunked`]), raw HTTP requests as text ([`raw`], [`raw_sign`]) and, with the `sigv4a`
//! feature, SigV4a. It does no I/O, reads no clock and starts no runtime: the caller passes the
//! time and applies the result.
//!
//! ```
//! use cirrus_sigv4::{sign, Payload, SignableRequest, SigningParams};
//! use std::time::{Duration, UNIX_EPOCH};
//!
//! let time = UNIX_EPOCH + Duration::from_secs(1_440_938_160); // 2015-08-30T12:36:00Z
//! let request = SignableRequest::new(
//!     "GET",
//!     "/",
//!     [("Host", "example.amazonaws.com")],
//!     Payload::Bytes(b""),
//! )?;
//! let params = SigningParams::new(
//!     "AKIDEXAMPLE",
//!     "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
//!     "us-east-1",
//!     "service",
//!     time,
//! );
//! let out = sign(&request, &params)?;
//! assert_eq!(out.signature(), "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
//! for (name, value) in out.headers() {
//!     // set `name: value` on your request, replacing any header of that name
//!     # let _ = (name, value);
//! }
//! # Ok::<(), cirrus_sigv4::SigningError>(())
//! ```
//!
//! A failed signing returns [`SigningError`] and leaves the caller's request untouched: nothing
//! is applied until signing has succeeded.
//!
//! Signing keys are derived once per (secret, date, region, service) and cached process-wide
//! ([`SigningKey::cached`]), so a signature costs one SHA-256 of the canonical request and one
//! HMAC.

#![warn(missing_docs, unreachable_pub, missing_debug_implementations)]
#![forbid(unsafe_code)]

mod canonical;
pub mod chunked;
mod encode;
mod error;
mod hmac;
#[cfg(feature = "http")]
mod http_ext;
mod key;
mod params;
pub mod post_policy;
pub mod raw;
pub mod raw_sign;
mod request;
mod sign;
#[cfg(feature = "sigv4a")]
pub mod sigv4a;
mod time;

pub use canonical::is_unsigned_header;
pub use encode::{base64, hex, uri_encode_into};
pub use error::SigningError;
#[cfg(feature = "http")]
pub use http_ext::{apply_to_parts, sign_http, sign_request};
pub use key::SigningKey;
pub use params::{
    SessionTokenMode, SignatureLocation, SigningOutput, SigningParams, SigningSettings, MAX_PRESIGN_EXPIRY,
};
pub use request::{Payload, SignableRequest};
pub use sign::sign;
pub use time::{parse_amz_date, parse_rfc3339};

/// Lowercase hex SHA-256 of `data`: the payload hash for a body in memory.
///
/// ```
/// let empty = cirrus_sigv4::sha256_hex(b"");
/// assert_eq!(empty, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
/// ```
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&hmac::sha256(data))
}

/// Formats a time as `YYYYMMDDTHHMMSSZ` (the `X-Amz-Date` format).
///
/// ```
/// use cirrus_sigv4::{format_amz_date, parse_amz_date};
/// use std::time::{Duration, UNIX_EPOCH};
///
/// let time = UNIX_EPOCH + Duration::from_secs(1_440_938_160);
/// assert_eq!(format_amz_date(time), "20150830T123600Z");
/// assert_eq!(parse_amz_date("20150830T123600Z"), Some(time));
/// ```
pub fn format_amz_date(time: std::time::SystemTime) -> String {
    time::Civil::from_system_time(time).amz_date()
}

/// Formats a time as RFC 3339 UTC with whole seconds (`2015-08-30T12:36:00Z`), the form AWS
/// uses for credential expirations.
pub fn format_rfc3339(time: std::time::SystemTime) -> String {
    time::Civil::from_system_time(time).rfc3339_seconds()
}

/// Formats a time as an RFC 7231 HTTP date (`Sun, 30 Aug 2015 12:36:00 GMT`).
pub fn format_http_date(time: std::time::SystemTime) -> String {
    time::Civil::from_system_time(time).http_date()
}
