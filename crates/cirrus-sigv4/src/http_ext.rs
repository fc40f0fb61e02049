//! Signing `http::Request`s and `http::request::Parts` (feature `http`, on by default).

use crate::error::{ErrorKind, SigningError};
use crate::params::{Field, SigningOutput, SigningParams};
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
    let new_uri = if out.presign { Some(presigned_uri(out, uri)?) } else { None };
    // At most five headers: their values made (and checked) before anything is changed.
    let fields = || out.fields.iter(&out.values).filter(|_| !out.presign);
    let mut values: [Option<HeaderValue>; 5] = Default::default();
    for ((field, value), slot) in fields().zip(values.iter_mut()) {
        *slot = Some(header_value(field, value)?);
    }
    if let Some(new_uri) = new_uri {
        *uri = new_uri;
    }
    // Whatever signed this request before is gone: the new signature's headers replace it
    // (`insert` drops every value of the name), and an old token or date that this signature
    // does not cover is not sent.
    for (old, field) in [
        (X_AMZ_DATE, Field::AmzDate),
        (X_AMZ_SECURITY_TOKEN, Field::SecurityToken),
        (http::header::AUTHORIZATION, Field::Authorization),
    ] {
        if !fields().any(|(f, _)| f == field) {
            headers.remove(old);
        }
    }
    headers.reserve(fields().count());
    for ((field, _), value) in fields().zip(values) {
        if let Some(value) = value {
            headers.insert(header_name(field), value);
        }
    }
    Ok(())
}

/// The value of a header the signer adds; the session token and `Authorization` are marked
/// sensitive.
fn header_value(field: Field, value: &str) -> Result<HeaderValue, SigningError> {
    let literal = Payload::static_literals().iter().find(|l| **l == value).filter(|_| field == Field::ContentSha256);
    let mut v = match literal {
        // The payload literals need no copy.
        Some(literal) => HeaderValue::from_static(literal),
        None => HeaderValue::from_str(value)
            .map_err(|_| SigningError::new(ErrorKind::InvalidHeaderValue(field.name().to_owned())))?,
    };
    if matches!(field, Field::Authorization | Field::SecurityToken) {
        v.set_sensitive(true);
    }
    Ok(v)
}

fn header_name(field: Field) -> HeaderName {
    match field {
        Field::Authorization => http::header::AUTHORIZATION,
        Field::Date => http::header::DATE,
        Field::AmzDate => X_AMZ_DATE,
        Field::SecurityToken => X_AMZ_SECURITY_TOKEN,
        Field::ContentSha256 => HeaderName::from_static("x-amz-content-sha256"),
        Field::RegionSet => HeaderName::from_static("x-amz-region-set"),
        // Query parameters only: never a header.
        _ => HeaderName::from_static("x-amz-unknown"),
    }
}

/// `uri` with the presigning parameters of `out` in its query, written once and parsed once.
fn presigned_uri(out: &SigningOutput, uri: &Uri) -> Result<Uri, SigningError> {
    let query = uri.query().unwrap_or_default();
    let authority = uri.authority().map_or("", |a| a.as_str());
    let mut s = String::with_capacity(authority.len() + uri.path().len() + query.len() + out.values.len() + 160);
    // As `Uri`'s Display writes it.
    if let Some(scheme) = uri.scheme_str() {
        s.push_str(scheme);
        s.push_str("://");
    }
    s.push_str(authority);
    s.push_str(uri.path());
    out.push_query(&mut s, query);
    // The error names the URI as given: the new one carries the session token.
    Uri::try_from(s).map_err(|_| SigningError::new(ErrorKind::InvalidUri(uri.to_string())))
}
