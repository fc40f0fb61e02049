//! Server-side encryption: the kind S3 applies with its own keys ([`ServerSideEncryption`]),
//! and SSE-C, objects encrypted with a key the caller keeps. Every request that writes or reads
//! an SSE-C object carries the key (base64), its algorithm (`AES256`) and the key's MD5; a copy
//! carries the source's key under `x-amz-copy-source-...` names. The key never appears in
//! Debug output or errors.

use crate::transport::{ParseError, Request};
use std::fmt;
use std::sync::Arc;
use zeroize::Zeroizing;

/// How S3 encrypts an object it stores with keys it holds: `x-amz-server-side-encryption`.
/// Parsed from and displayed as S3's names (`AES256`, `aws:kms`, `aws:kms:dsse`).
///
/// ```
/// use cirrus::s3::ServerSideEncryption;
///
/// let sse: ServerSideEncryption = "aws:kms".parse()?;
/// assert_eq!(sse, ServerSideEncryption::AwsKms);
/// assert!(sse.is_kms());
/// assert_eq!(ServerSideEncryption::Aes256.to_string(), "AES256");
/// assert!("rot13".parse::<ServerSideEncryption>().is_err());
/// # Ok::<(), cirrus::transport::ParseError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ServerSideEncryption {
    /// `AES256`: SSE-S3, keys S3 manages.
    Aes256,
    /// `aws:kms`: SSE-KMS, a KMS key (the account's default `aws/s3` key unless one is named).
    AwsKms,
    /// `aws:kms:dsse`: DSSE-KMS, two layers of encryption with a KMS key.
    AwsKmsDsse,
}

impl ServerSideEncryption {
    /// Every kind, in the order S3's documentation lists them.
    pub const ALL: [ServerSideEncryption; 3] = [Self::Aes256, Self::AwsKms, Self::AwsKmsDsse];

    /// The header value: `AES256`, `aws:kms` or `aws:kms:dsse`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Aes256 => "AES256",
            Self::AwsKms => "aws:kms",
            Self::AwsKmsDsse => "aws:kms:dsse",
        }
    }

    /// Whether a KMS key encrypts the object (`aws:kms`, `aws:kms:dsse`): its ETag is then no
    /// MD5 of the content, and a KMS key id may go with it.
    pub fn is_kms(self) -> bool {
        matches!(self, Self::AwsKms | Self::AwsKmsDsse)
    }
}

impl fmt::Display for ServerSideEncryption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ServerSideEncryption {
    type Err = ParseError;

    /// `AES256`, `aws:kms` or `aws:kms:dsse`, exactly as S3 writes them.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| {
            let why = format!("expected AES256, aws:kms or aws:kms:dsse, not {s:?}");
            ParseError::new("the server-side encryption", why)
        })
    }
}

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

#[cfg(test)]
mod tests {
    use super::ServerSideEncryption;

    #[test]
    fn kinds_round_trip_by_s3_names_only() {
        for kind in ServerSideEncryption::ALL {
            assert_eq!(kind.to_string().parse::<ServerSideEncryption>().ok(), Some(kind));
        }
        assert!(!ServerSideEncryption::Aes256.is_kms());
        assert!(ServerSideEncryption::AwsKmsDsse.is_kms());
        for bad in ["aes256", "AWS:KMS", "", "aws:kms:", "SSE-C"] {
            let e = bad.parse::<ServerSideEncryption>().expect_err(bad);
            assert!(e.to_string().contains("AES256, aws:kms or aws:kms:dsse"), "{e}");
        }
    }
}
