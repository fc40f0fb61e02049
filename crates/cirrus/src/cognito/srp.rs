//! SRP-6a as Cognito user pools speak it (`USER_SRP_AUTH` and the `PASSWORD_VERIFIER`
//! challenge), with no I/O: the caller passes the challenge and the time.
//!
//! The details that differ from textbook SRP, all as in AWS's own JavaScript helper:
//! - the 3072-bit group of RFC 5054 with g = 2, and k = H(N | g);
//! - numbers are hashed in their shortest big-endian form with a leading zero byte when the
//!   top bit is set (a salt is hashed as the server wrote it, only evened out);
//! - x = H(salt | H(pool name | user id | ":" | password)), where the pool name is the user pool
//!   id after its `_` and the user id is the challenge's `USER_ID_FOR_SRP`;
//! - the key is the first 16 bytes of HKDF-SHA256(ikm = S, salt = u, info = "Caldera Derived
//!   Key");
//! - the claim is HMAC-SHA256(key, pool name | user id | secret block | timestamp), with a
//!   timestamp like `Sat Jan 1 00:00:00 UTC 2022` (the day is not padded).
//!
//! Big-number arithmetic is constant time (crypto-bigint, already in the tree for SigV4a).

use base64ct::Encoding;
use crypto_bigint::modular::{FixedMontyForm, FixedMontyParams};
use crypto_bigint::{NonZero, Odd, U256, U3072, U4096, U512};
use ring::{digest, hmac};
use std::fmt;
use std::time::SystemTime;
use zeroize::Zeroizing;

/// The RFC 5054 3072-bit group modulus.
const N_ODD: Odd<U3072> = Odd::<U3072>::from_be_hex(concat!(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD",
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F",
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B",
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510",
    "15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7",
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C",
    "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF",
));

const N: U3072 = *N_ODD.as_ref();
const N_NONZERO: NonZero<U3072> = NonZero::<U3072>::new_unwrap(N);

/// Bytes of a 3072-bit number.
const LEN: usize = 384;

/// Why an SRP step failed: a malformed challenge or pool id, or a value SRP must refuse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SrpError {
    what: &'static str,
    message: String,
    refused: bool,
}

impl SrpError {
    /// What was wrong: `SRP_B`, `SALT`, `SECRET_BLOCK` (the challenge's parameters), `the user
    /// pool id`, `a` (a secret given to [`SrpClient::with_secret`]) or `the random number
    /// generator`.
    pub fn what(&self) -> &'static str {
        self.what
    }

    /// Well formed, but a value SRP must refuse (`SRP_B` zero modulo N, a zero `u`): a server
    /// that is broken or hostile, never the user's input.
    pub fn is_refused_challenge(&self) -> bool {
        self.refused
    }
}

impl fmt::Display for SrpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SrpError {}

/// `what` is malformed, as `message` says.
fn err(what: &'static str, message: impl Into<String>) -> SrpError {
    SrpError { what, message: message.into(), refused: false }
}

/// `what` is a value SRP must refuse.
fn refuse(what: &'static str, message: &str) -> SrpError {
    SrpError { refused: true, ..err(what, message) }
}

/// The `PASSWORD_VERIFIER` challenge's parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasswordVerifier {
    /// `USER_ID_FOR_SRP`: the id the verifier was made with (the user name, or the `sub` when
    /// the user signed in with an alias).
    pub user_id: String,
    /// `SALT`, hex.
    pub salt: String,
    /// `SRP_B`, hex.
    pub srp_b: String,
    /// `SECRET_BLOCK`, base64 (passed back as is).
    pub secret_block: String,
}

/// The answer to a `PASSWORD_VERIFIER` challenge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasswordClaim {
    /// `PASSWORD_CLAIM_SIGNATURE`, base64.
    pub signature: String,
    /// `TIMESTAMP`, as signed.
    pub timestamp: String,
}

/// The values derived on the way to the key, as lowercase hex, for checking against other
/// implementations. They are secret: do not log them.
#[doc(hidden)]
pub struct Derivation {
    pub k: String,
    pub u: String,
    pub x: String,
    pub s: String,
    pub key: [u8; 16],
}

impl std::fmt::Debug for Derivation {
    /// Every value is secret: none is shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Derivation { .. }")
    }
}

/// One SRP login: the ephemeral secret `a` and the public `A = g^a mod N`. Debug never shows `a`.
pub struct SrpClient {
    pool_name: String,
    a: Zeroizing<Vec<u8>>,
    big_a: U3072,
}

impl fmt::Debug for SrpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SrpClient").field("pool_name", &self.pool_name).field("a", &"** redacted **").finish()
    }
}

/// The pool name: what follows the `_` of a user pool id (`us-east-1_AbC123` gives `AbC123`).
pub fn pool_name(user_pool_id: &str) -> Result<&str, SrpError> {
    match user_pool_id.split_once('_') {
        Some((region, name)) if !region.is_empty() && !name.is_empty() && !name.contains('_') => Ok(name),
        _ => Err(err(
            "the user pool id",
            format!("user pool id {user_pool_id:?} is not <region>_<name> (like us-east-1_AbC123)"),
        )),
    }
}

impl SrpClient {
    /// A login to `user_pool_id` with a fresh random 1024-bit `a`.
    pub fn new(user_pool_id: &str) -> Result<Self, SrpError> {
        let mut a = Zeroizing::new(vec![0u8; 128]);
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut a)
            .map_err(|_| err("the random number generator", "the system random number generator failed"))?;
        Self::with_secret(user_pool_id, &a)
    }

    /// A login with this `a` (big-endian, at most 384 bytes). Only for checking against known
    /// values: a fixed `a` makes every login look alike.
    pub fn with_secret(user_pool_id: &str, a: &[u8]) -> Result<Self, SrpError> {
        let pool_name = pool_name(user_pool_id)?.to_owned();
        let a_num = to_u3072(a).ok_or_else(|| err("a", "a is longer than 384 bytes"))?;
        let a_num = a_num.rem_vartime(&N_NONZERO);
        if a_num.is_zero().to_bool() {
            return Err(err("a", "a must not be zero"));
        }
        let big_a = FixedMontyForm::new(&U3072::from_u8(2), &params()).pow(&a_num).retrieve();
        Ok(SrpClient { pool_name, a: Zeroizing::new(be_bytes(&a_num).to_vec()), big_a })
    }

    /// `SRP_A`: A as lowercase hex without leading zeros.
    pub fn srp_a(&self) -> String {
        hex_trimmed(&be_bytes(&self.big_a))
    }

    /// Answers the challenge for `password` at `now`.
    pub fn claim(
        &self,
        challenge: &PasswordVerifier,
        password: &str,
        now: SystemTime,
    ) -> Result<PasswordClaim, SrpError> {
        let key = self.key(&challenge.user_id, password, &challenge.salt, &challenge.srp_b)?.0;
        // Decoded as pycognito (Python's base64) does: characters outside the alphabet are
        // skipped (moto's blocks carry dashes).
        let block: String = challenge
            .secret_block
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='))
            .collect();
        let secret_block =
            base64ct::Base64::decode_vec(&block).map_err(|_| err("SECRET_BLOCK", "SECRET_BLOCK is not base64"))?;
        let timestamp = timestamp(now);
        let key = hmac::Key::new(hmac::HMAC_SHA256, &key[..]);
        let mut ctx = hmac::Context::with_key(&key);
        ctx.update(self.pool_name.as_bytes());
        ctx.update(challenge.user_id.as_bytes());
        ctx.update(&secret_block);
        ctx.update(timestamp.as_bytes());
        let signature = crate::sigv4::base64(ctx.sign().as_ref());
        Ok(PasswordClaim { signature, timestamp })
    }

    /// The values on the way to the password key: k, u, x, S and the key.
    #[doc(hidden)]
    pub fn derive(&self, user_id: &str, password: &str, salt: &str, srp_b: &str) -> Result<Derivation, SrpError> {
        let (key, k, u, x, s) = self.key(user_id, password, salt, srp_b)?;
        Ok(Derivation {
            k: hex_trimmed(&k.to_be_bytes()),
            u: hex_trimmed(&u),
            x: hex_trimmed(&x.to_be_bytes()),
            s: hex_trimmed(&be_bytes(&s)),
            key: *key,
        })
    }

    /// The password key, with k, u, x and S.
    #[allow(clippy::type_complexity)]
    fn key(
        &self,
        user_id: &str,
        password: &str,
        salt: &str,
        srp_b: &str,
    ) -> Result<(Zeroizing<[u8; 16]>, U256, [u8; 32], Zeroizing<U256>, Zeroizing<U3072>), SrpError> {
        let b = parse_hex(srp_b).ok_or_else(|| err("SRP_B", "SRP_B is not hex"))?;
        let b = to_u3072(&b).ok_or_else(|| err("SRP_B", "SRP_B is longer than 3072 bits"))?;
        let p = params();
        let b = FixedMontyForm::new(&b.rem_vartime(&N_NONZERO), &p);
        if b.retrieve().is_zero().to_bool() {
            return Err(refuse("SRP_B", "SRP_B is zero modulo N: refusing the challenge"));
        }
        let salt = pad_hex_str(salt).ok_or_else(|| err("SALT", "SALT is not hex"))?;

        let k = U256::from_be_slice(&sha256(&[&pad(&be_bytes(&N)), &[2]]));
        let u_bytes = sha256(&[&pad(&be_bytes(&self.big_a)), &pad(&be_bytes(&b.retrieve()))]);
        let u = U256::from_be_slice(&u_bytes);
        if u.is_zero().to_bool() {
            return Err(refuse("SRP_B", "u is zero: refusing the challenge"));
        }
        let identity = sha256(&[self.pool_name.as_bytes(), user_id.as_bytes(), b":", password.as_bytes()]);
        let x = Zeroizing::new(U256::from_be_slice(&sha256(&[&salt, &identity])));

        // S = (B - k * g^x) ^ (a + u * x) mod N
        let g = FixedMontyForm::new(&U3072::from_u8(2), &p);
        let k_mont = FixedMontyForm::new(&k.resize(), &p);
        let base = b.sub(&k_mont.mul(&g.pow(&*x)));
        let a = to_u3072(&self.a).unwrap_or_default();
        let ux: U512 = u.concatenating_mul(&*x);
        let exponent = Zeroizing::new(a.resize::<{ U4096::LIMBS }>().wrapping_add(&ux.resize()));
        let s = Zeroizing::new(base.pow(&*exponent).retrieve());

        let s_bytes = Zeroizing::new(pad(&be_bytes(&s)));
        let prk = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &pad(&u_bytes)), &s_bytes);
        let okm = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, prk.as_ref()), b"Caldera Derived Key\x01");
        let mut key = Zeroizing::new([0u8; 16]);
        key.copy_from_slice(&okm.as_ref()[..16]);
        Ok((key, k, u_bytes, x, s))
    }
}

/// `SECRET_HASH` for an app client with a secret: base64(HMAC-SHA256(client secret, user name |
/// client id)).
pub fn secret_hash(client_secret: &str, username: &str, client_id: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, client_secret.as_bytes());
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(username.as_bytes());
    ctx.update(client_id.as_bytes());
    crate::sigv4::base64(ctx.sign().as_ref())
}

/// The claim's timestamp: `Sat Jan 1 00:00:00 UTC 2022` (day of month not padded).
pub fn timestamp(now: SystemTime) -> String {
    // "Sat, 01 Jan 2022 00:00:00 GMT"
    let http = crate::sigv4::format_http_date(now);
    let (weekday, rest) = http.split_once(", ").unwrap_or(("", &http));
    let mut parts = rest.split(' ');
    let day = parts.next().unwrap_or("");
    let month = parts.next().unwrap_or("");
    let year = parts.next().unwrap_or("");
    let time = parts.next().unwrap_or("");
    format!("{weekday} {month} {} {time} UTC {year}", day.trim_start_matches('0'))
}

fn params() -> FixedMontyParams<{ U3072::LIMBS }> {
    FixedMontyParams::new_vartime(N_ODD)
}

fn to_u3072(bytes: &[u8]) -> Option<U3072> {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    let bytes = &bytes[start..];
    if bytes.len() > LEN {
        return None;
    }
    let mut buf = Zeroizing::new([0u8; LEN]);
    buf[LEN - bytes.len()..].copy_from_slice(bytes);
    Some(U3072::from_be_slice(&buf[..]))
}

fn be_bytes(n: &U3072) -> [u8; LEN] {
    let mut out = [0u8; LEN];
    out.copy_from_slice(n.to_be_bytes().as_ref());
    out
}

/// The shortest big-endian form, with a zero byte in front when the top bit is set.
fn pad(bytes: &[u8]) -> Vec<u8> {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len().saturating_sub(1));
    let bytes = &bytes[start..];
    let mut out = Vec::with_capacity(bytes.len() + 1);
    if bytes.first().is_some_and(|b| b & 0x80 != 0) {
        out.push(0);
    }
    out.extend_from_slice(bytes);
    out
}

/// A hex string padded as Cognito pads a string: a `0` in front of an odd length, `00` in front
/// of a leading digit 8-f; leading zeros are kept.
fn pad_hex_str(s: &str) -> Option<Vec<u8>> {
    let mut bytes = parse_hex(s)?;
    if s.len() % 2 == 0 && bytes.first().is_some_and(|b| b & 0x80 != 0) {
        bytes.insert(0, 0);
    }
    Some(bytes)
}

/// Hex (either case, odd length allowed) to bytes.
fn parse_hex(s: &str) -> Option<Vec<u8>> {
    if s.is_empty() || s.len() > 2 * LEN + 2 {
        return None;
    }
    let digits: Vec<u8> = s.chars().map(|c| c.to_digit(16).map(|d| d as u8)).collect::<Option<_>>()?;
    let mut out = Vec::with_capacity(digits.len() / 2 + 1);
    let (head, tail) = digits.split_at(digits.len() % 2);
    if let Some(&d) = head.first() {
        out.push(d);
    }
    out.extend(tail.chunks(2).map(|p| p[0] << 4 | p[1]));
    Some(out)
}

fn hex_trimmed(bytes: &[u8]) -> String {
    let hex = crate::sigv4::hex(bytes);
    let trimmed = hex.trim_start_matches('0');
    if trimmed.is_empty() {
        "0".to_owned()
    } else {
        trimmed.to_owned()
    }
}

fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut ctx = digest::Context::new(&digest::SHA256);
    for p in parts {
        ctx.update(p);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    const POOL: &str = "us-east-1_AbCdEf123";
    // Case "plain" of tests/data/srp/cases.json. B was made by the server side of SRP-6a
    // (B = k*g^x + g^b with b = fedcba0987654321), and S below equals the server's
    // (A * v^u)^b mod N: the values agree with the protocol, not only with one implementation.
    const B: &str = "ee8b0b1773b551029a8761497adf1c91c372ebac8b730c056cebefed6861e1bb4c4e3ce59dbd948f11995ee57e1e7ccffa95751f503918a43405c7aa8dd0b7c78ce13c9dac9fe1153f6b0ddc6a25130678c5fcccf4c0de1a43e06f131bb2d31ce5a1870ba2367d7b99bb0b72f32442d76a85bd947087b24b75b24db799dca238f73c74cf61aca517ad20f5e1ef5a9e826777a2552330a9b683dc2f1d0cd0a2dee7510f24c166041feb1bda70219c05476a1fec2350a054de9460474cda79e2912fec68550abd9c2b11f3e112349ff2f8a173bd3fbfc9725544d7581deed5f01d1cbdec41e105b198ca69f8c93601f1b7ca8b023200b88c0a88489d736eaaa30ae364b6299fb944ea54dfc983b824d980a861a3bf3e83118c2e6ca91f31dc717336b3dcde2903f5c3d984cd36dae8eec46296e29e83c00c09bca035fd303df249af8d118093a73993d83911e93541f3ffc7c912852b956dde72636ec30becabd148cae1071806d54f87da69d3a613ce86113a8d7a7c09fd95359ff9fedb8da6d6";

    const A: &str = concat!(
        "adb1387b0c2dae5615150e8fe837d9831f34f3e92eac3fae45a492bac91c0893202f4a68ceaa24c868aff98d98283905",
        "a77a47ded8dddc6309f456e332ffb0d97e0fe97b976f75b857257c0caeda8997c46c81110240d0817aa825fc11af8bd1",
        "00bc1c97fe5fe39a355f58e2f68be06d44903fa12fdc869289e08412cd77194de1fa2a98f0ca0ce5e1f1a52b6be24a24",
        "f4767aaa4ca64f94bd4ff8a7811b1ac930b55f169d0c08ca1c1ef07a329666c3896a808a52142f2225fae7d0abe01470",
        "632cb024e820981f8886d1331566fa84da104226096d182b945a8c5f736c03baf00ad66f6073804281a9bc44eece8dec",
        "975df047a572d7b063f358aa667fac9124ca208c342e3d08cf28d434cd905694472ce7a40e712c8437fab88e150023c7",
        "03112e3b13aac50c879aa6515f26202e248eba4e4d209d75711d2c76b13d73fc89e6e9c0fe3505fe06054f018d4d43de",
        "4f115392e2b54afb6c984bbb5c5d15665d3259e1b9d0f82f9b4611e71ccce896fac3d041602a5cfe8833a288e9c12322",
    );
    const S: &str = concat!(
        "fd6721deecd4da62e82ee9d5e0ebd945f27882de4219a518dc3538c8fb87fb6801a414ee4d7dd163ea698abf19d40d45",
        "63ce472dcf8981fc80dd427d1db817866958ef6e9032cd199620975207010128e88661ba762f72a8ef3055abfc68ce9c",
        "7a750387eb19134370b027c9de931b4513ef8ac63664c231ab120e8ad2766c6b549d80ea4438a18ce4493472dd881d8a",
        "d6ddff4afd6c635a51bc6f723ed9cd08461970af3a735e2897f0b09d35222643139b0a4028d38fc88520cee05d560fc4",
        "1a42ce0c1bc668ddd594d3fd7246ab38e507a5712da7971caa18d7e9a75b7e2fa6a51a617e87f324691408537c944725",
        "50e6ab7b6fad70bf0478cc543b21660d883ed0d80f08eb67dcfa860c7bc1825141f7df6c11be9689009007867ad16ca9",
        "b414f2ba9b6b0e1d8af13100527158b43b622c6009997e4bb98bff51a537331bbdfb586a542ca2b48c28667fa45bffb2",
        "d2318ba84d462d213f2f2cdf5675b050e4480147c8fcf9533f48da7804dde820b010f28fbc3b11b18cc5a8261743ce17",
    );

    fn client() -> SrpClient {
        SrpClient::with_secret(POOL, &[0x12, 0x34, 0x56, 0x78, 0x90, 0xab, 0xcd, 0xef]).unwrap()
    }

    fn challenge(srp_b: &str) -> PasswordVerifier {
        PasswordVerifier {
            user_id: "alice".into(),
            salt: "0a1b2c3d".into(),
            srp_b: srp_b.into(),
            secret_block: "c2VjcmV0IGJsb2Nr".into(),
        }
    }

    #[test]
    fn known_values() {
        let c = client();
        assert_eq!(c.srp_a(), A);
        let d = c.derive("alice", "Pa$$w0rd!", "0a1b2c3d", B).unwrap();
        assert_eq!(d.k, "538282c4354742d7cbbde2359fcf67f9f5b3a6b08791e5011b43b8a5b66d9ee6");
        assert_eq!(d.u, "1d377e655026bf8e0559d95e8981d2f8616b2add88c893e07e3cfbc20e70b898");
        assert_eq!(d.x, "7a7ba523950f46f2f3e7915f1260fc8ac3b2501782d404317defea57b01efdfa");
        assert_eq!(d.s, S);
        assert_eq!(hex(&d.key), "bbf7a3290ab64dafad565a803dc816cf");
        let claim = c.claim(&challenge(B), "Pa$$w0rd!", UNIX_EPOCH + Duration::from_secs(1_640_995_200)).unwrap();
        assert_eq!(claim.timestamp, "Sat Jan 1 00:00:00 UTC 2022");
        assert_eq!(claim.signature, "dTzrLdSI3lsARrxj4zMlDJW3ewW2SWT3F1igbaBDGq8=");
    }

    #[test]
    fn another_password_gives_another_signature() {
        let at = UNIX_EPOCH + Duration::from_secs(1_640_995_200);
        let claim = client().claim(&challenge(B), "Pa$$w0rd?", at).unwrap();
        assert_ne!(claim.signature, "dTzrLdSI3lsARrxj4zMlDJW3ewW2SWT3F1igbaBDGq8=");
    }

    #[test]
    fn timestamps_do_not_pad_the_day() {
        let at = |s| timestamp(UNIX_EPOCH + Duration::from_secs(s));
        assert_eq!(at(1_640_995_200), "Sat Jan 1 00:00:00 UTC 2022");
        assert_eq!(at(1_795_352_709), "Sun Nov 22 13:05:09 UTC 2026");
        assert_eq!(at(1_709_251_199), "Thu Feb 29 23:59:59 UTC 2024");
        assert_eq!(at(0), "Thu Jan 1 00:00:00 UTC 1970");
    }

    #[test]
    fn secret_hash_is_hmac_of_user_and_client() {
        // python: base64(hmac.new(b"client-secret-1", b"alice" + b"4abc123client", sha256))
        assert_eq!(
            secret_hash("client-secret-1", "alice", "4abc123client"),
            "zPlRSYAJs+NrZBXP5YghwQODmCT1+v4vRxJXgDs7vgg="
        );
    }

    #[test]
    fn pool_names() {
        assert_eq!(pool_name("us-east-1_AbC123").unwrap(), "AbC123");
        for bad in ["", "us-east-1", "_AbC", "us-east-1_", "a_b_c"] {
            let e = pool_name(bad).unwrap_err();
            assert!(e.to_string().contains("is not <region>_<name>"), "{bad}: {e}");
        }
        assert!(SrpClient::new("nounderscore").is_err());
    }

    #[test]
    fn refuses_b_that_is_zero_mod_n_and_bad_hex() {
        let c = client();
        let n_hex = hex_trimmed(&be_bytes(&N));
        for b in ["0", "000", n_hex.as_str()] {
            let e = c.derive("alice", "pw", "0a", b).err().unwrap();
            assert!(e.to_string().contains("SRP_B is zero modulo N"), "{b}: {e}");
            assert!(e.is_refused_challenge() && e.what() == "SRP_B", "{e:?}");
        }
        let e = c.derive("alice", "pw", "0a", "xyz").err().unwrap();
        assert!(e.to_string().contains("SRP_B is not hex") && !e.is_refused_challenge(), "{e:?}");
        assert_eq!(c.derive("alice", "pw", "", B).err().unwrap().what(), "SALT");
        assert!(c.derive("alice", "pw", "", B).err().unwrap().to_string().contains("SALT is not hex"));
        assert!(c.derive("alice", "pw", "0g", B).err().unwrap().to_string().contains("SALT is not hex"));
        let long = "1".repeat(2000);
        assert!(c.derive("alice", "pw", "0a", &long).is_err());
        let bad_block = PasswordVerifier { secret_block: "not base64!".into(), ..challenge(B) };
        assert!(c.claim(&bad_block, "pw", UNIX_EPOCH).err().unwrap().to_string().contains("SECRET_BLOCK"));
        assert!(SrpClient::with_secret(POOL, &[0; 8]).is_err());
        assert!(SrpClient::with_secret(POOL, &[1; 385]).is_err());
    }

    #[test]
    fn random_a_differs_and_debug_hides_it() {
        let (a, b) = (SrpClient::new(POOL).unwrap(), SrpClient::new(POOL).unwrap());
        assert_ne!(a.srp_a(), b.srp_a());
        assert!(format!("{a:?}").contains("redacted"));
    }

    #[test]
    fn padding_follows_cognito() {
        assert_eq!(pad(&[0, 0, 0x7f]), vec![0x7f]);
        assert_eq!(pad(&[0, 0x80, 1]), vec![0, 0x80, 1]);
        assert_eq!(pad(&[0, 0]), vec![0]);
        assert_eq!(pad_hex_str("abc").unwrap(), vec![0x0a, 0xbc]);
        assert_eq!(pad_hex_str("8f").unwrap(), vec![0, 0x8f]);
        assert_eq!(pad_hex_str("0000ff").unwrap(), vec![0, 0, 0xff]);
        assert_eq!(pad_hex_str("F").unwrap(), vec![0x0f]);
    }

    fn hex(b: &[u8]) -> String {
        crate::sigv4::hex(b)
    }
}
