//! SigV4 signing keys: `HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`,
//! derived once per (secret, date, region, service) and kept in a small process-wide cache.

use crate::hmac::{hmac, HmacKey};
use std::sync::{Arc, Mutex};

/// A derived SigV4 signing key, ready to sign strings for one scope.
///
/// Debug never prints the key.
///
/// ```
/// use cirrus_sigv4::SigningKey;
///
/// let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
/// let key = SigningKey::cached(secret, "20150830", "us-east-1", "iam");
/// let string_to_sign = "AWS4-HMAC-SHA256\n20150830T123600Z\n\
///     20150830/us-east-1/iam/aws4_request\n\
///     f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59";
/// let signature = key.sign(string_to_sign);
/// assert_eq!(signature, "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
/// assert_eq!(format!("{key:?}"), "SigningKey(** redacted **)");
/// ```
#[derive(Clone)]
pub struct SigningKey {
    key: HmacKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(** redacted **)")
    }
}

impl SigningKey {
    /// Runs the four-HMAC derivation for `date` (`YYYYMMDD`), `region` and `service`.
    /// Prefer [`SigningKey::cached`], which does this once a day per scope.
    pub fn derive(secret_access_key: &str, date: &str, region: &str, service: &str) -> SigningKey {
        let mut k = Vec::with_capacity(4 + secret_access_key.len());
        k.extend_from_slice(b"AWS4");
        k.extend_from_slice(secret_access_key.as_bytes());
        let k_date = hmac(&k, date.as_bytes());
        k.fill(0);
        let k_region = hmac(&k_date, region.as_bytes());
        let k_service = hmac(&k_region, service.as_bytes());
        let k_signing = hmac(&k_service, b"aws4_request");
        SigningKey { key: HmacKey::new(&k_signing) }
    }

    /// The key for this scope from the process-wide cache, derived on a miss. The cache holds the
    /// 16 most recently used scopes.
    pub fn cached(secret_access_key: &str, date: &str, region: &str, service: &str) -> SigningKey {
        let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(pos) = cache.iter().position(|e| {
            e.date == date && e.region == region && e.service == service && *e.secret == *secret_access_key
        }) {
            let hit = cache[pos].key.clone();
            if pos != 0 {
                let e = cache.remove(pos);
                cache.insert(0, e);
            }
            return hit;
        }
        drop(cache);
        let key = SigningKey::derive(secret_access_key, date, region, service);
        let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= CACHE_SIZE {
            cache.pop();
        }
        cache.insert(
            0,
            Entry {
                secret: Arc::from(secret_access_key),
                date: date.to_owned(),
                region: region.to_owned(),
                service: service.to_owned(),
                key: key.clone(),
            },
        );
        key
    }

    /// HMAC-SHA256 of the concatenated `parts` under this key.
    pub fn sign_bytes(&self, parts: &[&[u8]]) -> [u8; 32] {
        self.key.mac(parts)
    }

    /// Lowercase hex HMAC-SHA256 of `string_to_sign`: the SigV4 signature.
    pub fn sign(&self, string_to_sign: &str) -> String {
        let mut out = String::with_capacity(64);
        crate::encode::hex32_into(&mut out, &self.key.mac(&[string_to_sign.as_bytes()]));
        out
    }
}

const CACHE_SIZE: usize = 16;

struct Entry {
    secret: Arc<str>,
    date: String,
    region: String,
    service: String,
    key: SigningKey,
}

static CACHE: Mutex<Vec<Entry>> = Mutex::new(Vec::new());

#[cfg(test)]
mod tests {
    use super::*;

    // The derivation example from the AWS SigV4 documentation.
    #[test]
    fn derives_the_documented_key() {
        let k = SigningKey::derive("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam");
        // Signing the empty string under the documented key
        // f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d.
        let expected = crate::hmac::hmac(
            &[
                0xf4, 0x78, 0x0e, 0x2d, 0x9f, 0x65, 0xfa, 0x89, 0x5f, 0x9c, 0x67, 0xb3, 0x2c, 0xe1, 0xba, 0xf0, 0xb0,
                0xd8, 0xa4, 0x35, 0x05, 0xa0, 0x00, 0xa1, 0xa9, 0xe0, 0x90, 0xd4, 0x14, 0xdb, 0x40, 0x4d,
            ],
            b"",
        );
        assert_eq!(k.sign_bytes(&[b""]), expected);
    }

    #[test]
    fn cache_returns_the_same_key_and_separates_scopes() {
        let a = SigningKey::cached("secret-a", "20200101", "eu-west-1", "s3");
        let b = SigningKey::cached("secret-a", "20200101", "eu-west-1", "s3");
        let c = SigningKey::cached("secret-b", "20200101", "eu-west-1", "s3");
        let d = SigningKey::cached("secret-a", "20200102", "eu-west-1", "s3");
        assert_eq!(a.sign("x"), b.sign("x"));
        assert_ne!(a.sign("x"), c.sign("x"));
        assert_ne!(a.sign("x"), d.sign("x"));
        assert_eq!(a.sign("x"), SigningKey::derive("secret-a", "20200101", "eu-west-1", "s3").sign("x"));
        assert_eq!(format!("{a:?}"), "SigningKey(** redacted **)");
    }
}
