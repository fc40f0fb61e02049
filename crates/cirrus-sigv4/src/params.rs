//! What signing takes and gives: the settings, the parameters (who, for what, when), and the
//! output to apply to a request. Below both the canonical request and the signer, so neither
//! imports the other's types back.

use crate::error::{ErrorKind, SigningError};
use std::fmt;
use std::time::{Duration, SystemTime};

/// The longest a presigned URL may live: 7 days.
pub const MAX_PRESIGN_EXPIRY: Duration = Duration::from_secs(604_800);

/// Where the signature goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureLocation {
    /// An `Authorization` header, plus `X-Amz-Date` and friends.
    Headers,
    /// Query parameters (`X-Amz-Algorithm` ... `X-Amz-Signature`): a presigned URL valid for
    /// `expires_in` (1 second to 7 days).
    Query {
        /// How long the URL is valid from the signing time.
        expires_in: Duration,
    },
}

/// What to do with a session token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SessionTokenMode {
    /// Sign it (`X-Amz-Security-Token` is part of the canonical request). What AWS expects.
    #[default]
    Include,
    /// Add it after signing, outside the signature (the suite's `omit_session_token`, needed by
    /// a few services such as IoT presigned WebSocket URLs).
    Exclude,
}

/// How the signer treats a request. `Default` gives the rules of every service but S3;
/// [`SigningSettings::s3`] gives S3's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SigningSettings {
    /// Header signing or a presigned URL.
    pub location: SignatureLocation,
    /// Remove `.`/`..` segments and repeated slashes from the path before signing (not S3).
    pub normalize_path: bool,
    /// Percent-encode the (already encoded) path once more (every service but S3).
    pub double_encode_path: bool,
    /// Add (and sign) `X-Amz-Content-SHA256` with the payload hash in header mode (S3).
    pub content_sha256_header: bool,
    /// Put the signing time in the `Date` header (HTTP date) instead of adding `X-Amz-Date`.
    pub use_date_header: bool,
    /// Sign the session token, or add it unsigned.
    pub session_token: SessionTokenMode,
}

impl Default for SigningSettings {
    fn default() -> Self {
        SigningSettings {
            location: SignatureLocation::Headers,
            normalize_path: true,
            double_encode_path: true,
            content_sha256_header: false,
            use_date_header: false,
            session_token: SessionTokenMode::Include,
        }
    }
}

impl SigningSettings {
    /// S3's rules: the path is neither normalized nor encoded a second time, and
    /// `X-Amz-Content-SHA256` is sent and signed.
    pub fn s3() -> Self {
        SigningSettings {
            normalize_path: false,
            double_encode_path: false,
            content_sha256_header: true,
            ..Self::default()
        }
    }

    /// The rules for `service`: [`SigningSettings::s3`] for `s3` (and S3 Express / Outposts
    /// `s3express`, `s3-outposts`), the default for everything else.
    pub fn for_service(service: &str) -> Self {
        if matches!(service, "s3" | "s3express" | "s3-outposts" | "s3-object-lambda") {
            Self::s3()
        } else {
            Self::default()
        }
    }

    /// The same settings, signing into query parameters valid for `expires_in`: a presigned
    /// URL.
    ///
    /// ```
    /// use cirrus_sigv4::{sign, Payload, SignableRequest, SigningParams, SigningSettings};
    /// use std::time::{Duration, UNIX_EPOCH};
    ///
    /// let time = UNIX_EPOCH + Duration::from_secs(1_369_353_600); // 2013-05-24T00:00:00Z
    /// let url = "https://examplebucket.s3.amazonaws.com/test.txt";
    /// let request = SignableRequest::new("GET", url, [], Payload::Unsigned)?;
    /// let settings = SigningSettings::s3().presigned(Duration::from_secs(86_400));
    /// let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    /// let params = SigningParams::new("AKIAIOSFODNN7EXAMPLE", secret, "us-east-1", "s3", time)
    ///     .settings(settings);
    /// let out = sign(&request, &params)?;
    /// let presigned = out.apply_to_uri(url);
    /// assert!(presigned.contains("X-Amz-Expires=86400"));
    /// let signature = out.signature();
    /// assert_eq!(signature, "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
    /// # Ok::<(), cirrus_sigv4::SigningError>(())
    /// ```
    #[must_use]
    pub fn presigned(mut self, expires_in: Duration) -> Self {
        self.location = SignatureLocation::Query { expires_in };
        self
    }
}

/// Who signs, for what, and when. Borrowed: nothing is copied until signing.
///
/// Debug redacts the secret and the session token.
///
/// ```
/// use cirrus_sigv4::SigningParams;
/// use std::time::SystemTime;
///
/// let (secret, token) = ("wJalrEXAMPLEKEY", "FwoGZXIvYXdzEXAMPLE");
/// let now = SystemTime::now();
/// let params = SigningParams::new("ASIAEXAMPLE", secret, "eu-west-1", "execute-api", now)
///     .session_token(Some(token));
/// let debug = format!("{params:?}");
/// assert!(debug.contains("ASIAEXAMPLE"));
/// assert!(!debug.contains(secret) && !debug.contains(token));
/// ```
#[derive(Clone, Copy)]
pub struct SigningParams<'a> {
    pub(crate) access_key_id: &'a str,
    pub(crate) secret_access_key: &'a str,
    pub(crate) session_token: Option<&'a str>,
    pub(crate) region: &'a str,
    pub(crate) service: &'a str,
    pub(crate) time: SystemTime,
    pub(crate) settings: SigningSettings,
}

impl<'a> SigningParams<'a> {
    /// Parameters with [`SigningSettings::for_service`] and no session token.
    pub fn new(
        access_key_id: &'a str,
        secret_access_key: &'a str,
        region: &'a str,
        service: &'a str,
        time: SystemTime,
    ) -> Self {
        SigningParams {
            access_key_id,
            secret_access_key,
            session_token: None,
            region,
            service,
            time,
            settings: SigningSettings::for_service(service),
        }
    }

    /// Adds a session token (from temporary credentials).
    #[must_use]
    pub fn session_token(mut self, token: Option<&'a str>) -> Self {
        self.session_token = token;
        self
    }

    /// Replaces the settings.
    #[must_use]
    pub fn settings(mut self, settings: SigningSettings) -> Self {
        self.settings = settings;
        self
    }

    /// The settings in use.
    pub fn signing_settings(&self) -> &SigningSettings {
        &self.settings
    }
}

impl fmt::Debug for SigningParams<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningParams")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"** redacted **")
            .field("session_token", &self.session_token.map(|_| "** redacted **"))
            .field("region", &self.region)
            .field("service", &self.service)
            .field("time", &self.time)
            .field("settings", &self.settings)
            .finish()
    }
}

/// The result of signing: what to add to the request, and the intermediate strings for debugging
/// a `SignatureDoesNotMatch`.
#[derive(Clone)]
pub struct SigningOutput {
    /// The canonical request, then the string to sign.
    pub(crate) text: String,
    pub(crate) canonical_end: usize,
    /// The values of `fields`, the signature among them.
    pub(crate) values: String,
    /// Headers to set, or (`presign`) query parameters to append.
    pub(crate) fields: Fields,
    pub(crate) presign: bool,
    pub(crate) signature: (usize, usize),
}

/// A header or query parameter signing adds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Field {
    #[default]
    Date,
    AmzDate,
    SecurityToken,
    ContentSha256,
    RegionSet,
    Authorization,
    Algorithm,
    Credential,
    Expires,
    SignedHeaders,
    Signature,
}

impl Field {
    /// The name as AWS writes it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Field::Date => "Date",
            Field::AmzDate => "X-Amz-Date",
            Field::SecurityToken => "X-Amz-Security-Token",
            Field::ContentSha256 => "X-Amz-Content-SHA256",
            Field::RegionSet => "X-Amz-Region-Set",
            Field::Authorization => "Authorization",
            Field::Algorithm => "X-Amz-Algorithm",
            Field::Credential => "X-Amz-Credential",
            Field::Expires => "X-Amz-Expires",
            Field::SignedHeaders => "X-Amz-SignedHeaders",
            Field::Signature => "X-Amz-Signature",
        }
    }
}

/// Up to eight fields, each value a span of a buffer kept beside them: the most a signature
/// adds (five headers, or eight query parameters), with no allocation of its own.
#[derive(Clone, Copy, Default)]
pub(crate) struct Fields {
    items: [(Field, u32, u32); 8],
    len: u8,
}

impl Fields {
    pub(crate) fn push(&mut self, field: Field, (start, end): (usize, usize)) {
        debug_assert!(usize::from(self.len) < self.items.len(), "more fields than a signature adds");
        // A span past u32 (never: the values are a few hundred bytes) would read as empty.
        let span = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        if let Some(slot) = self.items.get_mut(usize::from(self.len)) {
            *slot = (field, span(start), span(end));
            self.len += 1;
        }
    }

    /// The fields, their values read from `values`.
    pub(crate) fn iter<'s>(&'s self, values: &'s str) -> impl Iterator<Item = (Field, &'s str)> + 's {
        let items = self.items.get(..usize::from(self.len)).unwrap_or_default();
        items
            .iter()
            .map(move |&(field, start, end)| (field, values.get(start as usize..end as usize).unwrap_or_default()))
    }
}

impl fmt::Debug for SigningOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<_> = self.headers().map(|(n, v)| (n, redact(n, v))).collect();
        let query: Vec<_> = self.query_params().map(|(n, v)| (n, redact(n, v))).collect();
        f.debug_struct("SigningOutput")
            .field("headers", &headers)
            .field("query", &query)
            .field("signature", &self.signature())
            .finish_non_exhaustive()
    }
}

fn redact<'v>(name: &str, value: &'v str) -> &'v str {
    if name.eq_ignore_ascii_case("x-amz-security-token") {
        "** redacted **"
    } else {
        value
    }
}

/// Names of the query parameters a presigned URL carries; any already in the URI are replaced.
pub(crate) const PRESIGN_PARAMS: [&str; 8] = [
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Security-Token",
    "X-Amz-Signature",
    "X-Amz-Region-Set",
];

impl SigningOutput {
    /// Headers to set on the request, each replacing any header of the same name (case-insensitive).
    pub fn headers(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.fields.iter(&self.values).filter(|_| !self.presign).map(|(f, v)| (f.name(), v))
    }

    /// Query parameters to append, values already percent-encoded, `X-Amz-Signature` last. Any
    /// parameter of the same name already in the URI must be removed first; see
    /// [`SigningOutput::apply_to_uri`].
    pub fn query_params(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.fields.iter(&self.values).filter(|_| self.presign).map(|(f, v)| (f.name(), v))
    }

    /// The signature (lowercase hex; DER hex for SigV4a).
    pub fn signature(&self) -> &str {
        self.values.get(self.signature.0..self.signature.1).unwrap_or_default()
    }

    /// The canonical request that was hashed.
    pub fn canonical_request(&self) -> &str {
        self.text.get(..self.canonical_end).unwrap_or_default()
    }

    /// The string to sign.
    pub fn string_to_sign(&self) -> &str {
        self.text.get(self.canonical_end..).unwrap_or_default()
    }

    /// The canonical request with `session_token` (as a header value, or percent-encoded as a
    /// query value in a presigned request) replaced by `** redacted **`: what may go in a log.
    ///
    /// ```
    /// use cirrus_sigv4::{sign, Payload, SignableRequest, SigningParams, SigningSettings};
    /// use std::time::{Duration, SystemTime};
    ///
    /// let token = "FwoG/ZXIv+EXAMPLE==";
    /// let request = SignableRequest::new("GET", "https://h/", [], Payload::Unsigned)?;
    /// let presign = SigningSettings::default().presigned(Duration::from_secs(60));
    /// let params = SigningParams::new("AK", "SK", "us-east-1", "execute-api", SystemTime::now())
    ///     .session_token(Some(token))
    ///     .settings(presign);
    /// let out = sign(&request, &params)?;
    /// assert!(out.canonical_request().contains("FwoG%2FZXIv%2BEXAMPLE%3D%3D"));
    /// let logged = out.redacted_canonical_request(Some(token));
    /// assert!(logged.contains("X-Amz-Security-Token=** redacted **") && !logged.contains("FwoG"));
    /// # Ok::<(), cirrus_sigv4::SigningError>(())
    /// ```
    pub fn redacted_canonical_request(&self, session_token: Option<&str>) -> String {
        const REDACTED: &str = "** redacted **";
        let mut canonical = self.canonical_request().to_owned();
        if let Some(token) = session_token.filter(|t| !t.is_empty()) {
            canonical = canonical.replace(token, REDACTED);
            let mut encoded = String::with_capacity(token.len() * 3);
            crate::encode::encode_into(&mut encoded, token.as_bytes(), false);
            canonical = canonical.replace(&encoded, REDACTED);
        }
        canonical
    }

    /// `uri` with the presigning parameters applied: existing `X-Amz-*` signing parameters
    /// removed, the new ones appended in order. Returns `uri` unchanged for header signing.
    pub fn apply_to_uri(&self, uri: &str) -> String {
        if !self.presign {
            return uri.to_owned();
        }
        let (base, fragment) = match uri.find('#') {
            Some(i) => (&uri[..i], &uri[i..]),
            None => (uri, ""),
        };
        let (path, query) = match base.find('?') {
            Some(i) => (&base[..i], &base[i + 1..]),
            None => (base, ""),
        };
        let mut out = String::with_capacity(uri.len() + self.values.len() + 160);
        out.push_str(path);
        self.push_query(&mut out, query);
        out.push_str(fragment);
        out
    }

    /// Appends `?` and `query` without its presigning parameters, then the new ones.
    pub(crate) fn push_query(&self, out: &mut String, query: &str) {
        let mut sep = '?';
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let name = pair.split('=').next().unwrap_or_default();
            if PRESIGN_PARAMS.iter().any(|p| p.eq_ignore_ascii_case(name)) {
                continue;
            }
            out.push(sep);
            out.push_str(pair);
            sep = '&';
        }
        for (name, value) in self.query_params() {
            out.push(sep);
            out.push_str(name);
            out.push('=');
            out.push_str(value);
            sep = '&';
        }
    }
}

/// Checks a presign expiry: 1 second to 7 days.
pub(crate) fn check_expiry(expires_in: Duration) -> Result<u64, SigningError> {
    let secs = expires_in.as_secs();
    if secs == 0 || expires_in > MAX_PRESIGN_EXPIRY {
        return Err(SigningError::new(ErrorKind::InvalidExpires(secs)));
    }
    Ok(secs)
}
