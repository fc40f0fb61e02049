//! SigV4 request signing: the canonical request, the string to sign and the signature, as a
//! [`SigningOutput`] to apply.

use crate::canonical::{self, Canonical};
use crate::error::SigningError;
use crate::key::SigningKey;
use crate::params::{SigningOutput, SigningParams};
use crate::request::SignableRequest;
use crate::time::Civil;

/// Signs `request` with SigV4.
///
/// Nothing is modified: the caller applies the returned [`SigningOutput`] (or uses
/// [`crate::sign_http`]), so a failed signing leaves the request untouched. The signing key comes
/// from a process-wide cache, so the four-HMAC derivation runs once a day per scope.
pub fn sign(request: &SignableRequest<'_>, params: &SigningParams<'_>) -> Result<SigningOutput, SigningError> {
    let civil = Civil::from_system_time(params.time);
    let amz_buf = civil.amz_date_bytes();
    let amz_date = std::str::from_utf8(&amz_buf).unwrap_or_default();
    let date = &amz_date[..8];
    // The string to sign starts with the algorithm, the time and the scope; the scope is read
    // back from it, so it is built once.
    let mut string_to_sign = String::with_capacity(
        canonical::V4_ALGORITHM.len() + 16 + 8 + params.region.len() + params.service.len() + 16 + 3 + 64,
    );
    string_to_sign.push_str(canonical::V4_ALGORITHM);
    string_to_sign.push('\n');
    string_to_sign.push_str(amz_date);
    string_to_sign.push('\n');
    let scope_start = string_to_sign.len();
    string_to_sign.push_str(date);
    string_to_sign.push('/');
    string_to_sign.push_str(params.region);
    string_to_sign.push('/');
    string_to_sign.push_str(params.service);
    string_to_sign.push_str("/aws4_request");
    let scope_end = string_to_sign.len();
    let scheme = canonical::Scheme::V4;
    let canonical =
        Canonical::build(request, params, &civil, amz_date, &string_to_sign[scope_start..scope_end], scheme)?;
    string_to_sign.push('\n');
    crate::encode::hex32_into(&mut string_to_sign, &crate::hmac::sha256(canonical.request.as_bytes()));
    let key = SigningKey::cached(params.secret_access_key, date, params.region, params.service);
    let signature = key.sign(&string_to_sign);
    Ok(canonical.finish(signature, string_to_sign))
}
