//! Signing `http::Request`s and `http::request::Parts` (feature `http`, on by default).

use crate::error::{ErrorKind, SigningError};
use crate::params::{SigningOutput, SigningParams};
use crate::request::{Payload, SignableRequest};
use crate::sign::sign;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::{Method, Uri};

/// Signs request parts and, only if signing succeeds, applies the result to them: headers are
/// set (replacing any of the same name; the session token and `Authorization` are marked
/// sensitive), or the presigning parameters are added to the URI.
///
/// A header value that is not UTF-8 cannot be signed and gives an error; the parts are then
/// unchanged.
///
/// A streamed S3 upload, its body left out of the signature:
///
/// ```
/// use cirrus_sigv4::{sign_http, Payload, SigningParams};
/// use std::time::SystemTime;
///
/// let url = "https://my-bucket.s3.eu-west-1.amazonaws.com/big.bin";
/// let (mut parts, body) = http::Request::put(url).body(())?.into_parts();
/// let params = SigningParams::new("AKIDEXAMPLE", "secret", "eu-west-1", "s3", SystemTime::now());
/// sign_http(&mut parts, Payload::Unsigned, &params)?;
/// assert_eq!(parts.headers["x-amz-content-sha256"], "UNSIGNED-PAYLOAD");
/// let request = http::Request::from_parts(parts, body);
/// # let _ = request;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn sign_http(
    parts: &mut http::request::Parts,
    payload: Payload<'_>,
    params: &SigningParams<'_>,
) -> Result<SigningOutput, SigningError> {
    sign_and_apply(&parts.method, &mut parts.uri, &mut parts.headers, payload, params)
}

/// Signs a whole `http::Request` whose body is in memory, hashing the body. Use
/// [`sign_http`] with another [`Payload`] for streaming or unsigned bodies.
///
/// ```
/// use cirrus_sigv4::{sign_request, SigningParams};
/// use std::time::SystemTime;
///
/// let mut request = http::Request::post("https://sqs.us-east-1.amazonaws.com/")
///     .header("Content-Type", "application/x-www-form-urlencoded")
///     .body(b"Action=ListQueues&Version=2012-11-05".to_vec())?;
/// let now = SystemTime::now();
/// let params = SigningParams::new("AKIDEXAMPLE", "secret", "us-east-1", "sqs", now);
/// sign_request(&mut request, &params)?;
/// assert!(request.headers()["authorization"].to_str()?.starts_with("AWS4-HMAC-SHA256 "));
/// assert!(request.headers().contains_key("x-amz-date"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn sign_request<B: AsRef<[u8]>>(
    request: &mut http::Request<B>,
    params: &SigningParams<'_>,
) -> Result<SigningOutput, SigningError> {
    // Move the URI and headers out so the body can be read while they are updated; they go
    // back whatever the outcome.
    let method = request.method().clone();
    let mut uri = std::mem::take(request.uri_mut());
    let mut headers = std::mem::take(request.headers_mut());
    let result = sign_and_apply(&method, &mut uri, &mut headers, Payload::Bytes(request.body().as_ref()), params);
    *request.uri_mut() = uri;
    *request.headers_mut() = headers;
    result
}

fn sign_and_apply(
    method: &Method,
    uri: &mut Uri,
    headers: &mut HeaderMap,
    payload: Payload<'_>,
    params: &SigningParams<'_>,
) -> Result<SigningOutput, SigningError> {
    let out = {
        let mut pairs = Vec::with_capacity(headers.len());
        for (name, value) in headers.iter() {
            let value = value
                .to_str()
                .map_err(|_| SigningError::new(ErrorKind::InvalidHeaderValue(name.as_str().to_owned())))?;
            pairs.push((name.as_str(), value));
        }
        let path = uri.path();
        let query = uri.query().unwrap_or_default();
        let authority = uri.authority().map(|a| a.as_str());
        let authority = authority.map(|a| a.rsplit('@').next().unwrap_or(a));
        let req = SignableRequest::from_checked_parts(method.as_str(), authority, path, query, pairs, payload)?;
        sign(&req, params)?
    };
    apply(&out, uri, headers)?;
    Ok(out)
}

/// Applies a [`SigningOutput`] to request parts. It fails (leaving the parts unchanged) only if
/// an output value is not a valid header value or URI, which a successful signing of these same
/// parts never produces.
pub fn apply_to_parts(out: &SigningOutput, parts: &mut http::request::Parts) -> Result<(), SigningError> {
    apply(out, &mut parts.uri, &mut parts.headers)
}

const X_AMZ_DATE: HeaderName = HeaderName::from_static("x-amz-date");
const X_AMZ_SECURITY_TOKEN: HeaderName = HeaderName::from_static("x-amz-security-token");

fn apply(out: &SigningOutput, uri: &mut Uri, headers: &mut HeaderMap) -> Result<(), SigningError> {
    let mut new_uri = None;
    if out.query_params().next().is_some() {
        let original = uri.to_string();
        let s = out.apply_to_uri(&original);
        // The error names the URI as given: the new one carries the session token.
        new_uri = Some(s.parse::<Uri>().map_err(|_| SigningError::new(ErrorKind::InvalidUri(original)))?);
    }
    let mut new_headers = Vec::with_capacity(out.headers.len());
    for (name, value) in out.headers() {
        let mut v = HeaderValue::from_str(value)
            .map_err(|_| SigningError::new(ErrorKind::InvalidHeaderValue(name.to_owned())))?;
        if name == "Authorization" || name == "X-Amz-Security-Token" {
            v.set_sensitive(true);
        }
        let n = match name {
            "Authorization" => http::header::AUTHORIZATION,
            "Date" => http::header::DATE,
            "X-Amz-Date" => X_AMZ_DATE,
            "X-Amz-Security-Token" => X_AMZ_SECURITY_TOKEN,
            "X-Amz-Content-SHA256" => HeaderName::from_static("x-amz-content-sha256"),
            "X-Amz-Region-Set" => HeaderName::from_static("x-amz-region-set"),
            other => HeaderName::from_bytes(other.as_bytes())
                .map_err(|_| SigningError::new(ErrorKind::InvalidHeaderName(other.to_owned())))?,
        };
        new_headers.push((n, v));
    }
    if let Some(new_uri) = new_uri {
        *uri = new_uri;
    }
    // Whatever signed this request before is gone: the new signature's headers replace it, and
    // an old token or date that this signature does not cover is not sent.
    headers.remove(X_AMZ_DATE);
    headers.remove(X_AMZ_SECURITY_TOKEN);
    headers.remove(http::header::AUTHORIZATION);
    headers.reserve(new_headers.len());
    for (n, v) in new_headers {
        headers.insert(n, v);
    }
    Ok(())
}
