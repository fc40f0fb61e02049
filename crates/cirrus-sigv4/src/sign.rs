//! SigV4 request signing: the canonical request, the string to sign and the signature, as a
//! [`SigningOutput`] to apply.

use crate::canonical::{Canonical, Scheme};
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
    let canonical = Canonical::build(request, params, &civil, amz_date, Scheme::V4)?;
    let key = SigningKey::cached(params.secret_access_key, &amz_date[..8], params.region, params.service);
    let mac = key.sign_bytes(&[canonical.sts().as_bytes()]);
    Ok(canonical.finish(|out| crate::encode::hex32_into(out, &mac)))
}
