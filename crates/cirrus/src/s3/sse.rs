//! SSE-C: objects encrypted with a key the caller keeps. Every request that writes or reads
//! such an object carries the key (base64), its algorithm (`AES256`) and the key's MD5; a copy
//! carries the source's key under `x-amz-copy-source-...` names. The key never appears in
//! Debug output or errors.

use crate::transport::{ParseError, Request};
use std::fmt;
use std::sync::Arc;
use zeroize::Zeroizing;

/// A customer-provided AES-256 key (32 bytes).
///
/// ```
/// use cirrus::s3::SseCustomerKey;
///
/// let key = SseCustomerKey::new(b"0123456789abcdef0123456789abcdef")?;
/// assert!(!format!("{key:?}").contains("0123"));
/// assert!(SseCustomerKey::new(b"too short").is_err());
/// # Ok::<(), cirrus::transport::ParseError>(())
/// ```
#[derive(Clone)]
pub struct SseCustomerKey(Arc<Inner>);

struct Inner {
    key_b64: Zeroizing<String>,
    md5_b64: String,
}

impl SseCustomerKey {
    /// The key's 32 bytes.
    pub fn new(key: &[u8]) -> Result<Self, ParseError> {
        if key.len() != 32 {
            return Err(ParseError::new("an SSE-C key", format!("it is {} bytes; AES-256 takes 32", key.len())));
        }
        use md5::Digest;
        let md5 = md5::Md5::digest(key);
        Ok(SseCustomerKey(Arc::new(Inner {
            key_b64: Zeroizing::new(cirrus_sigv4::base64(key)),
            md5_b64: cirrus_sigv4::base64(md5.as_slice()),
        })))
    }

    /// The key's MD5, base64: what S3 keeps to recognise it (not a secret).
    pub fn md5(&self) -> &str {
        &self.0.md5_b64
    }

    /// `req` with the three headers, for the object itself or (`copy_source`) a copy's source.
    pub(crate) fn apply(&self, req: Request, copy_source: bool) -> Request {
        let (alg, key, md5) = if copy_source {
            (
                "x-amz-copy-source-server-side-encryption-customer-algorithm",
                "x-amz-copy-source-server-side-encryption-customer-key",
                "x-amz-copy-source-server-side-encryption-customer-key-md5",
            )
        } else {
            (
                "x-amz-server-side-encryption-customer-algorithm",
                "x-amz-server-side-encryption-customer-key",
                "x-amz-server-side-encryption-customer-key-md5",
            )
        };
        req.header(alg, "AES256").header(key, &self.0.key_b64).header(md5, &self.0.md5_b64)
    }
}

impl fmt::Debug for SseCustomerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SseCustomerKey").field("md5", &self.0.md5_b64).field("key", &"** redacted **").finish()
    }
}
