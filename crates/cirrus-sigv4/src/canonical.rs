//! The canonical request: path, query and header canonicalization.

use crate::encode::{decode_query_component, encode_into, encode_path_keep_escapes};
use crate::error::{ErrorKind, SigningError};
use crate::params::{
    check_expiry, SessionTokenMode, SignatureLocation, SigningOutput, SigningParams, SigningSettings, PRESIGN_PARAMS,
};
use crate::request::SignableRequest;
use crate::time::Civil;
use std::borrow::Cow;

pub(crate) const V4_ALGORITHM: &str = "AWS4-HMAC-SHA256";
#[cfg(feature = "sigv4a")]
pub(crate) const V4A_ALGORITHM: &str = "AWS4-ECDSA-P256-SHA256";

/// Headers no SDK signs: they are changed by proxies, clients and tracing after signing
/// (botocore's list, plus `authorization` and `proxy-connection`).
const UNSIGNED_HEADERS: [&str; 16] = [
    "authorization",
    "baggage",
    "traceparent",
    "tracestate",
    "user-agent",
    "x-amzn-trace-id",
    "expect",
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Whether a header is left out of every signature (case-insensitive).
pub fn is_unsigned_header(name: &str) -> bool {
    // Only names of a length some unsigned header has can match: most headers skip the compares.
    matches!(name.len(), 2 | 6 | 7 | 10 | 11 | 13 | 15 | 16 | 17 | 18 | 19)
        && UNSIGNED_HEADERS.iter().any(|h| h.len() == name.len() && h.eq_ignore_ascii_case(name))
}

/// SigV4, or SigV4a with its region set.
#[derive(Clone, Copy)]
pub(crate) struct Scheme<'a> {
    region_set: Option<&'a str>,
}

impl<'a> Scheme<'a> {
    pub(crate) const V4: Scheme<'static> = Scheme { region_set: None };

    #[cfg(feature = "sigv4a")]
    pub(crate) fn v4a(region_set: &'a str) -> Self {
        Scheme { region_set: Some(region_set) }
    }

    fn region_set(&self) -> Option<&'a str> {
        self.region_set
    }

    fn algorithm(&self) -> &'static str {
        match self.region_set {
            None => V4_ALGORITHM,
            #[cfg(feature = "sigv4a")]
            Some(_) => V4A_ALGORITHM,
            #[cfg(not(feature = "sigv4a"))]
            Some(_) => V4_ALGORITHM,
        }
    }
}

pub(crate) struct Canonical {
    pub(crate) request: String,
    /// In header mode `<algorithm> Credential=<key>/<scope>, SignedHeaders=<signed headers>`,
    /// which becomes the Authorization value; in query mode the signed headers alone.
    auth: String,
    headers: Vec<(&'static str, Cow<'static, str>)>,
    query: Vec<(&'static str, String)>,
    unsigned_token: Option<String>,
    presign: bool,
}

/// Where the signature goes, and what that decides.
#[derive(Clone, Copy)]
enum Mode {
    /// An `Authorization` header, with the time as `Date` (`use_date`) or `X-Amz-Date`, and an
    /// `X-Amz-Content-SHA256` header when `sha_header`.
    Headers { use_date: bool, sha_header: bool },
    /// A presigned URL valid for `expires` seconds: everything goes in the query.
    Query { expires: u64 },
}

impl Mode {
    fn of(settings: &SigningSettings) -> Result<Mode, SigningError> {
        Ok(match settings.location {
            SignatureLocation::Headers => {
                Mode::Headers { use_date: settings.use_date_header, sha_header: settings.content_sha256_header }
            }
            SignatureLocation::Query { expires_in } => Mode::Query { expires: check_expiry(expires_in)? },
        })
    }

    /// The headers the signer adds (none for a presigned URL).
    fn added_headers(
        self,
        req: &SignableRequest<'_>,
        time: (&Civil, &str),
        token: Option<&str>,
        payload_hash: &str,
        scheme: Scheme<'_>,
    ) -> Vec<(&'static str, Cow<'static, str>)> {
        let Mode::Headers { use_date, sha_header } = self else { return Vec::new() };
        let (civil, amz_date) = time;
        let mut out: Vec<(&'static str, Cow<'static, str>)> = Vec::with_capacity(5);
        if use_date {
            out.push(("Date", Cow::Owned(civil.http_date())));
        } else {
            out.push(("X-Amz-Date", Cow::Owned(amz_date.to_owned())));
        }
        if let Some(t) = token {
            out.push(("X-Amz-Security-Token", Cow::Owned(t.to_owned())));
        }
        if sha_header {
            let value = match req.payload.static_literal() {
                Some(literal) => Cow::Borrowed(literal),
                None => Cow::Owned(payload_hash.to_owned()),
            };
            out.push(("X-Amz-Content-SHA256", value));
        }
        if let Some(rs) = scheme.region_set() {
            out.push(("X-Amz-Region-Set", Cow::Owned(rs.to_owned())));
        }
        out
    }

    /// Whether a header of the request is one the signer replaces (quick on length first).
    fn replaces(self, name: &str, scheme: Scheme<'_>) -> bool {
        let (use_date, sha_header) = match self {
            Mode::Headers { use_date, sha_header } => (use_date, sha_header),
            Mode::Query { .. } => (false, false),
        };
        matches!(name.len(), 4 | 10 | 16 | 20)
            && (name.eq_ignore_ascii_case("x-amz-date")
                || name.eq_ignore_ascii_case("x-amz-security-token")
                || (use_date && name.eq_ignore_ascii_case("date"))
                || (sha_header && name.eq_ignore_ascii_case("x-amz-content-sha256"))
                || (scheme.region_set().is_some() && name.eq_ignore_ascii_case("x-amz-region-set")))
    }
}

/// Headers to sign, lowercase and sorted (a name may repeat), and whether every value is plain
/// (nothing to trim or collapse).
type HeaderList<'a> = (Vec<(Cow<'a, str>, &'a str)>, bool);

impl Canonical {
    /// The canonical request of `req`, and what signing it adds, step by step: the headers the
    /// signer adds, the sorted list of headers signed, the `Authorization` prefix (or the
    /// signed-header list), the presigning query, the canonical query, the canonical request.
    pub(crate) fn build(
        req: &SignableRequest<'_>,
        params: &SigningParams<'_>,
        civil: &Civil,
        amz_date: &str,
        scope: &str,
        scheme: Scheme<'_>,
    ) -> Result<Canonical, SigningError> {
        let settings = &params.settings;
        let mode = Mode::of(settings)?;
        let token = params.session_token.filter(|t| !t.is_empty());
        let sign_token = settings.session_token == SessionTokenMode::Include;
        let signed_token = token.filter(|_| sign_token);
        let payload_hash = req.payload.hash();
        let added = mode.added_headers(req, (civil, amz_date), signed_token, &payload_hash, scheme);
        let (headers, plain_values) = header_list(req, mode, scheme, &added)?;
        let algorithm = scheme.algorithm();
        let (auth, signed_start) = auth_prefix(mode, algorithm, params.access_key_id, scope, &headers);
        let signed = &auth[signed_start..];
        let query = match mode {
            Mode::Query { expires } => {
                let credential = (params.access_key_id, scope);
                presign_query(algorithm, credential, amz_date, expires, scheme, signed_token, signed)
            }
            Mode::Headers { .. } => Vec::new(),
        };
        let canon_query = canonical_query(req.query, mode, &query);
        let request = canonical_request(req, settings, &canon_query, &headers, plain_values, signed, &payload_hash);
        let unsigned_token = token.filter(|_| !sign_token).map(str::to_owned);
        let presign = matches!(mode, Mode::Query { .. });
        let headers = added;
        Ok(Canonical { request, auth, headers, query, unsigned_token, presign })
    }

    /// Turns the canonical request and the computed signature into the output to apply.
    pub(crate) fn finish(self, signature: String, string_to_sign: String) -> SigningOutput {
        let Canonical { request, mut auth, mut headers, mut query, unsigned_token, presign } = self;
        if presign {
            if let Some(t) = unsigned_token {
                let mut v = String::with_capacity(t.len() + 32);
                encode_into(&mut v, t.as_bytes(), false);
                query.push(("X-Amz-Security-Token", v));
            }
            query.push(("X-Amz-Signature", signature.clone()));
        } else {
            if let Some(t) = unsigned_token {
                headers.push(("X-Amz-Security-Token", Cow::Owned(t)));
            }
            auth.push_str(", Signature=");
            auth.push_str(&signature);
            headers.push(("Authorization", Cow::Owned(auth)));
        }
        SigningOutput { headers, query, signature, canonical_request: request, string_to_sign }
    }
}

/// The request's headers to sign, with the ones the signer adds, lowercase and sorted; `host`
/// from the authority when the request has none.
fn header_list<'a>(
    req: &'a SignableRequest<'_>,
    mode: Mode,
    scheme: Scheme<'_>,
    added: &'a [(&'static str, Cow<'static, str>)],
) -> Result<HeaderList<'a>, SigningError> {
    let mut headers: Vec<(Cow<'a, str>, &'a str)> = Vec::with_capacity(req.headers.len() + 4);
    let mut has_host = false;
    for &(name, value) in &req.headers {
        if is_unsigned_header(name) || mode.replaces(name, scheme) {
            continue;
        }
        let name = lowercase(name);
        has_host |= name == "host";
        headers.push((name, value));
    }
    let mut plain_values = req.plain_values;
    if !has_host {
        let a = req.authority.ok_or_else(|| SigningError::new(ErrorKind::MissingHost))?;
        plain_values &= crate::request::check_value(a) == Some(true);
        headers.push((Cow::Borrowed("host"), a));
    }
    for (name, value) in added {
        headers.push((Cow::Borrowed(lower_static(name)), value.as_ref()));
    }
    headers.sort_by(|a, b| a.0.cmp(&b.0));
    Ok((headers, plain_values))
}

/// In header mode `<algorithm> Credential=<key>/<scope>, SignedHeaders=<signed headers>`, in
/// query mode the signed headers alone; and where the signed headers start in it.
fn auth_prefix(
    mode: Mode,
    algorithm: &str,
    access_key_id: &str,
    scope: &str,
    headers: &[(Cow<'_, str>, &str)],
) -> (String, usize) {
    let mut auth =
        String::with_capacity(algorithm.len() + access_key_id.len() + scope.len() + headers.len() * 16 + 112);
    if let Mode::Headers { .. } = mode {
        auth.push_str(algorithm);
        auth.push_str(" Credential=");
        auth.push_str(access_key_id);
        auth.push('/');
        auth.push_str(scope);
        auth.push_str(", SignedHeaders=");
    }
    let start = auth.len();
    for (i, (name, _)) in headers.iter().enumerate() {
        if i > 0 && headers[i - 1].0 == *name {
            continue;
        }
        if i > 0 {
            auth.push(';');
        }
        auth.push_str(name);
    }
    (auth, start)
}

/// The presigning parameters, encoded, except the signature.
fn presign_query(
    algorithm: &str,
    (access_key_id, scope): (&str, &str),
    amz_date: &str,
    expires: u64,
    scheme: Scheme<'_>,
    token: Option<&str>,
    signed: &str,
) -> Vec<(&'static str, String)> {
    let encoded = |s: &str, extra: usize| {
        let mut v = String::with_capacity(s.len() + extra);
        encode_into(&mut v, s.as_bytes(), false);
        v
    };
    let mut credential = encoded(access_key_id, scope.len() + 8);
    credential.push_str("%2F");
    encode_into(&mut credential, scope.as_bytes(), false);
    let mut query = Vec::with_capacity(7);
    query.push(("X-Amz-Algorithm", algorithm.to_owned()));
    query.push(("X-Amz-Credential", credential));
    query.push(("X-Amz-Date", amz_date.to_owned()));
    query.push(("X-Amz-Expires", expires.to_string()));
    if let Some(rs) = scheme.region_set() {
        query.push(("X-Amz-Region-Set", encoded(rs, 0)));
    }
    if let Some(t) = token {
        query.push(("X-Amz-Security-Token", encoded(t, 32)));
    }
    query.push(("X-Amz-SignedHeaders", encoded(signed, 8)));
    query
}

/// The request's query parameters (each decoded and encoded again; in a presigned URL, without
/// presigning parameters of its own) with `added`, sorted and joined.
fn canonical_query(query: &str, mode: Mode, added: &[(&'static str, String)]) -> String {
    let mut out = String::new();
    if query.is_empty() && added.is_empty() {
        return out;
    }
    let presign = matches!(mode, Mode::Query { .. });
    let mut pairs: Vec<(Cow<'_, str>, Cow<'_, str>)> = Vec::with_capacity(added.len() + 4);
    let mut buf = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if presign && PRESIGN_PARAMS.iter().any(|p| p.eq_ignore_ascii_case(k)) {
            continue;
        }
        pairs.push((canonical_query_component(k, &mut buf), canonical_query_component(v, &mut buf)));
    }
    for (k, v) in added {
        pairs.push((Cow::Borrowed(k), Cow::Borrowed(v.as_str())));
    }
    pairs.sort_unstable();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// Method, path, query, headers (repeated names joined with `,`), signed headers, payload hash.
fn canonical_request(
    req: &SignableRequest<'_>,
    settings: &SigningSettings,
    query: &str,
    headers: &[(Cow<'_, str>, &str)],
    plain_values: bool,
    signed: &str,
    payload_hash: &str,
) -> String {
    let headers_len: usize = headers.iter().map(|(n, v)| n.len() + v.len() + 2).sum();
    let mut request =
        String::with_capacity(req.method.len() + req.path.len() * 3 + query.len() + headers_len + signed.len() + 80);
    request.push_str(req.method);
    request.push('\n');
    push_canonical_path(&mut request, req.path, settings.normalize_path, settings.double_encode_path);
    request.push('\n');
    request.push_str(query);
    request.push('\n');
    let mut prev: Option<&str> = None;
    for (name, value) in headers {
        if prev == Some(name.as_ref()) {
            request.pop(); // the '\n' of the previous value
            request.push(',');
        } else {
            request.push_str(name);
            request.push(':');
        }
        if plain_values {
            request.push_str(value);
        } else {
            push_trimmed(&mut request, value);
        }
        request.push('\n');
        prev = Some(name.as_ref());
    }
    request.push('\n');
    request.push_str(signed);
    request.push('\n');
    request.push_str(payload_hash);
    request
}

/// A query key or value decoded and encoded again; borrowed when that changes nothing (only
/// unreserved bytes).
fn canonical_query_component<'a>(s: &'a str, buf: &mut Vec<u8>) -> Cow<'a, str> {
    if s.bytes().all(crate::encode::is_unreserved) {
        return Cow::Borrowed(s);
    }
    decode_query_component(s.as_bytes(), buf);
    let mut out = String::with_capacity(s.len() + 8);
    encode_into(&mut out, buf, false);
    Cow::Owned(out)
}

/// The lowercase form of the header names the signer adds.
fn lower_static(name: &'static str) -> &'static str {
    match name {
        "Date" => "date",
        "X-Amz-Date" => "x-amz-date",
        "X-Amz-Security-Token" => "x-amz-security-token",
        "X-Amz-Content-SHA256" => "x-amz-content-sha256",
        "X-Amz-Region-Set" => "x-amz-region-set",
        _ => "x-unknown",
    }
}

fn lowercase(name: &str) -> Cow<'_, str> {
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(name.to_ascii_lowercase())
    } else {
        Cow::Borrowed(name)
    }
}

/// Trims the value and collapses each run of spaces and tabs into one space.
fn push_trimmed(out: &mut String, value: &str) {
    let bytes = value.as_bytes();
    let is_ws = |b: u8| b == b' ' || b == b'\t';
    let start = bytes.iter().position(|&b| !is_ws(b)).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|&b| !is_ws(b)).map_or(start, |i| i + 1);
    // Both ends are ASCII bytes, so these are char boundaries.
    let value = value.get(start..end).unwrap_or_default();
    // Fast path: no tab and no two spaces in a row, so nothing to collapse.
    let simple =
        !value.as_bytes().windows(2).any(|w| w[1] == b' ' && w[0] == b' ') && !value.as_bytes().contains(&b'\t');
    if simple {
        out.push_str(value);
        return;
    }
    let mut in_space = false;
    for c in value.chars() {
        if c == ' ' || c == '\t' {
            if !in_space {
                out.push(' ');
            }
            in_space = true;
        } else {
            out.push(c);
            in_space = false;
        }
    }
}

fn push_canonical_path(out: &mut String, path: &str, normalize: bool, double_encode: bool) {
    let path = if path.is_empty() { "/" } else { path };
    let path = if normalize { normalize_path(path) } else { Cow::Borrowed(path) };
    if double_encode {
        encode_into(out, path.as_bytes(), true);
    } else {
        encode_path_keep_escapes(out, &path);
    }
}

/// RFC 3986 dot-segment removal, with empty segments (repeated slashes) dropped too, as every
/// AWS SDK does for non-S3 services. A trailing slash is kept.
pub(crate) fn normalize_path(path: &str) -> Cow<'_, str> {
    if path.starts_with('/') && !path.contains("//") && !path.contains("/.") {
        return Cow::Borrowed(path);
    }
    let mut segments: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut out = String::with_capacity(path.len() + 1);
    out.push('/');
    out.push_str(&segments.join("/"));
    let trailing = path.ends_with('/') || path.ends_with("/.") || path.ends_with("/..") || path == "." || path == "..";
    if trailing && !segments.is_empty() {
        out.push('/');
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_paths() {
        for (i, o) in [
            ("/", "/"),
            ("/example/..", "/"),
            ("/example1/example2/../..", "/"),
            ("/./", "/"),
            ("/./example", "/example"),
            ("//", "/"),
            ("//example//", "/example/"),
            ("/a/b/../c/./d/", "/a/c/d/"),
            ("a/b", "/a/b"),
            ("/.well-known/x", "/.well-known/x"),
            ("/a/../../..", "/"),
        ] {
            assert_eq!(normalize_path(i), o, "{i}");
        }
    }

    #[test]
    fn trims_header_values() {
        let mut s = String::new();
        push_trimmed(&mut s, "  \"a   b \t c\"  ");
        assert_eq!(s, "\"a b c\"");
    }
}
