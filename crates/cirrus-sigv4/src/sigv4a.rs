//! SigV4a: ECDSA P-256 signatures valid in a set of regions (feature `sigv4a`).
//!
//! The key pair is derived from the access key and secret (NIST SP 800-108 counter-mode KDF with
//! HMAC-SHA256); the signature is a DER-encoded ECDSA signature over SHA-256 of the string to
//! sign. The canonical request is built exactly as for SigV4, with `X-Amz-Region-Set` added.

use crate::canonical::{Canonical, Scheme, V4A_ALGORITHM};
use crate::error::SigningError;
use crate::hmac::hmac;
use crate::params::{SigningOutput, SigningParams};
use crate::request::SignableRequest;
use crate::time::Civil;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{DerSignature, SigningKey as EcKey, VerifyingKey};
use std::fmt;
use std::sync::Mutex;

/// n - 2 for the P-256 group order n, big-endian.
const N_MINUS_2: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xbc, 0xe6, 0xfa,
    0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x4f,
];

/// A SigV4a private key derived from a credential pair. Debug never prints it.
#[derive(Clone)]
pub struct SigV4aKey {
    key: EcKey,
}

impl fmt::Debug for SigV4aKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigV4aKey(** redacted **)")
    }
}

impl SigV4aKey {
    /// Derives the key pair for `access_key_id` and `secret_access_key`.
    pub fn derive(access_key_id: &str, secret_access_key: &str) -> SigV4aKey {
        let mut input_key = Vec::with_capacity(5 + secret_access_key.len());
        input_key.extend_from_slice(b"AWS4A");
        input_key.extend_from_slice(secret_access_key.as_bytes());
        let mut counter: u8 = 1;
        loop {
            let mut data = Vec::with_capacity(4 + V4A_ALGORITHM.len() + 2 + access_key_id.len() + 4);
            data.extend_from_slice(&1u32.to_be_bytes());
            data.extend_from_slice(V4A_ALGORITHM.as_bytes());
            data.push(0);
            data.extend_from_slice(access_key_id.as_bytes());
            data.push(counter);
            data.extend_from_slice(&256u32.to_be_bytes());
            let mut k0 = hmac(&input_key, &data);
            // k0 <= n - 2 holds with overwhelming probability; otherwise try the next counter.
            if k0 <= N_MINUS_2 {
                // d = k0 + 1 (no overflow: k0 <= n - 2).
                for b in k0.iter_mut().rev() {
                    let (v, carry) = b.overflowing_add(1);
                    *b = v;
                    if !carry {
                        break;
                    }
                }
                if let Ok(key) = EcKey::from_slice(&k0) {
                    input_key.fill(0);
                    k0.fill(0);
                    return SigV4aKey { key };
                }
            }
            counter = counter.wrapping_add(1);
        }
    }

    /// The key for this credential pair from a small process-wide cache.
    pub fn cached(access_key_id: &str, secret_access_key: &str) -> SigV4aKey {
        static CACHE: Mutex<Vec<(String, String, SigV4aKey)>> = Mutex::new(Vec::new());
        let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, _, k)) = cache.iter().find(|(a, s, _)| a == access_key_id && s == secret_access_key) {
            return k.clone();
        }
        let key = SigV4aKey::derive(access_key_id, secret_access_key);
        if cache.len() >= 8 {
            cache.remove(0);
        }
        cache.push((access_key_id.to_owned(), secret_access_key.to_owned(), key.clone()));
        key
    }

    /// The public key, uncompressed SEC1 (`04 || X || Y`).
    pub fn public_key_sec1(&self) -> Vec<u8> {
        VerifyingKey::from(&self.key).to_sec1_point(false).as_bytes().to_vec()
    }

    /// Signs `string_to_sign`: lowercase hex of the DER ECDSA signature over its SHA-256.
    pub fn sign(&self, string_to_sign: &str) -> String {
        let sig: DerSignature = self.key.sign(string_to_sign.as_bytes());
        crate::encode::hex(sig.as_bytes())
    }
}

/// Verifies a hex DER `signature` over `string_to_sign` with an uncompressed or compressed SEC1
/// public key. For servers and tests; false on any malformed input.
pub fn verify(public_key_sec1: &[u8], string_to_sign: &str, signature_hex: &str) -> bool {
    use p256::ecdsa::signature::Verifier;
    let Ok(key) = VerifyingKey::from_sec1_bytes(public_key_sec1) else { return false };
    let Some(der) = unhex(signature_hex) else { return false };
    let Ok(sig) = p256::ecdsa::Signature::from_der(&der) else { return false };
    key.verify(string_to_sign.as_bytes(), &sig).is_ok()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    if b.len() % 2 != 0 {
        return None;
    }
    b.chunks(2).map(|p| Some(crate::encode::hex_val(p[0])? << 4 | crate::encode::hex_val(p[1])?)).collect()
}

/// Signs `request` with SigV4a for `region_set` (e.g. `us-east-1,us-west-2` or `*`); the
/// region in `params` is not used. Like [`crate::sign`], nothing is applied on failure.
pub fn sign(
    request: &SignableRequest<'_>,
    params: &SigningParams<'_>,
    region_set: &str,
) -> Result<SigningOutput, SigningError> {
    let civil = Civil::from_system_time(params.time);
    let amz_date = civil.amz_date();
    let canonical = Canonical::build(request, params, &civil, &amz_date, Scheme::v4a(region_set))?;
    let signature = SigV4aKey::cached(params.access_key_id, params.secret_access_key).sign(canonical.sts());
    Ok(canonical.finish(|out| out.push_str(&signature)))
}
