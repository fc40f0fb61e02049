//! The canonical request: path, query and header canonicalization.

use crate::encode::{decode_query_component, encode_into, encode_path_keep_escapes};
use crate::error::{ErrorKind, SigningError};
use crate::params::{check_expiry, SessionTokenMode, SignatureLocation, SigningOutput, SigningParams, PRESIGN_PARAMS};
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

impl Canonical {
    pub(crate) fn build(
        req: &SignableRequest<'_>,
        params: &SigningParams<'_>,
        civil: &Civil,
        amz_date: &str,
        scope: &str,
        scheme: Scheme<'_>,
    ) -> Result<Canonical, SigningError> {
        let settings = &params.settings;
        let presign_expiry = match settings.location {
            SignatureLocation::Headers => None,
            SignatureLocation::Query { expires_in } => Some(check_expiry(expires_in)?),
        };
        let presign = presign_expiry.is_some();
        let token = params.session_token.filter(|t| !t.is_empty());
        let sign_token = settings.session_token == SessionTokenMode::Include;
        let use_date = settings.use_date_header && !presign;
        let sha_header = settings.content_sha256_header && !presign;
        let payload_hash = req.payload.hash();

        // Headers we add, and the ones of the request they replace.
        let mut out_headers: Vec<(&'static str, Cow<'static, str>)> = Vec::with_capacity(5);
        if !presign {
            if use_date {
                out_headers.push(("Date", Cow::Owned(civil.http_date())));
            } else {
                out_headers.push(("X-Amz-Date", Cow::Owned(amz_date.to_owned())));
            }
            if let (Some(t), true) = (token, sign_token) {
                out_headers.push(("X-Amz-Security-Token", Cow::Owned(t.to_owned())));
            }
            if sha_header {
                let value = match req.payload.static_literal() {
                    Some(literal) => Cow::Borrowed(literal),
                    None => Cow::Owned(payload_hash.clone().into_owned()),
                };
                out_headers.push(("X-Amz-Content-SHA256", value));
            }
            if let Some(rs) = scheme.region_set() {
                out_headers.push(("X-Amz-Region-Set", Cow::Owned(rs.to_owned())));
            }
        }

        let replaced_slow = |name: &str| {
            name.eq_ignore_ascii_case("x-amz-date")
                || name.eq_ignore_ascii_case("x-amz-security-token")
                || (use_date && name.eq_ignore_ascii_case("date"))
                || (sha_header && name.eq_ignore_ascii_case("x-amz-content-sha256"))
                || (scheme.region_set().is_some() && name.eq_ignore_ascii_case("x-amz-region-set"))
        };
        let replaced = |name: &str| matches!(name.len(), 4 | 10 | 16 | 20) && replaced_slow(name);

        let mut headers: Vec<(Cow<'_, str>, &str)> = Vec::with_capacity(req.headers.len() + 4);
        let mut has_host = false;
        for &(name, value) in &req.headers {
            if is_unsigned_header(name) || replaced(name) {
                continue;
            }
            let name = lowercase(name);
            has_host |= name == "host";
            headers.push((name, value));
        }
        let mut plain_values = req.plain_values;
        if !has_host {
            match req.authority {
                Some(a) => {
                    plain_values &= crate::request::check_value(a) == Some(true);
                    headers.push((Cow::Borrowed("host"), a))
                }
                None => return Err(SigningError::new(ErrorKind::MissingHost)),
            }
        }
        for (name, value) in &out_headers {
            headers.push((Cow::Borrowed(lower_static(name)), value.as_ref()));
        }
        headers.sort_by(|a, b| a.0.cmp(&b.0));

        let algorithm = match scheme.region_set() {
            None => V4_ALGORITHM,
            #[cfg(feature = "sigv4a")]
            Some(_) => V4A_ALGORITHM,
            #[cfg(not(feature = "sigv4a"))]
            Some(_) => V4_ALGORITHM,
        };
        let mut signed_headers = String::with_capacity(
            algorithm.len() + params.access_key_id.len() + scope.len() + headers.len() * 16 + 112,
        );
        if !presign {
            signed_headers.push_str(algorithm);
            signed_headers.push_str(" Credential=");
            signed_headers.push_str(params.access_key_id);
            signed_headers.push('/');
            signed_headers.push_str(scope);
            signed_headers.push_str(", SignedHeaders=");
        }
        let signed_start = signed_headers.len();
        for (i, (name, _)) in headers.iter().enumerate() {
            if i > 0 && headers[i - 1].0 == *name {
                continue;
            }
            if i > 0 {
                signed_headers.push(';');
            }
            signed_headers.push_str(name);
        }
        let signed = &signed_headers[signed_start..];

        // Query: the request's own parameters, plus the presigning ones.
        let mut out_query: Vec<(&'static str, String)> = Vec::new();
        if let Some(expires) = presign_expiry {
            let mut credential = String::with_capacity(params.access_key_id.len() + scope.len() + 8);
            encode_into(&mut credential, params.access_key_id.as_bytes(), false);
            credential.push_str("%2F");
            encode_into(&mut credential, scope.as_bytes(), false);
            let mut signed_param = String::with_capacity(signed.len() + 8);
            encode_into(&mut signed_param, signed.as_bytes(), false);
            out_query.push(("X-Amz-Algorithm", algorithm.to_owned()));
            out_query.push(("X-Amz-Credential", credential));
            out_query.push(("X-Amz-Date", amz_date.to_owned()));
            out_query.push(("X-Amz-Expires", expires.to_string()));
            if let Some(rs) = scheme.region_set() {
                let mut v = String::new();
                encode_into(&mut v, rs.as_bytes(), false);
                out_query.push(("X-Amz-Region-Set", v));
            }
            if let (Some(t), true) = (token, sign_token) {
                let mut v = String::with_capacity(t.len() + 32);
                encode_into(&mut v, t.as_bytes(), false);
                out_query.push(("X-Amz-Security-Token", v));
            }
            out_query.push(("X-Amz-SignedHeaders", signed_param));
        }
        let mut canon_query = String::new();
        if !req.query.is_empty() || !out_query.is_empty() {
            let mut pairs: Vec<(Cow<'_, str>, Cow<'_, str>)> = Vec::with_capacity(out_query.len() + 4);
            let mut buf = Vec::new();
            for pair in req.query.split('&').filter(|p| !p.is_empty()) {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                if presign && PRESIGN_PARAMS.iter().any(|p| p.eq_ignore_ascii_case(k)) {
                    continue;
                }
                pairs.push((canonical_query_component(k, &mut buf), canonical_query_component(v, &mut buf)));
            }
            for (k, v) in &out_query {
                pairs.push((Cow::Borrowed(k), Cow::Borrowed(v.as_str())));
            }
            pairs.sort_unstable();
            for (i, (k, v)) in pairs.iter().enumerate() {
                if i > 0 {
                    canon_query.push('&');
                }
                canon_query.push_str(k);
                canon_query.push('=');
                canon_query.push_str(v);
            }
        }

        let headers_len: usize = headers.iter().map(|(n, v)| n.len() + v.len() + 2).sum();
        let mut request = String::with_capacity(
            req.method.len() + req.path.len() * 3 + canon_query.len() + headers_len + signed.len() + 80,
        );
        request.push_str(req.method);
        request.push('\n');
        push_canonical_path(&mut request, req.path, settings.normalize_path, settings.double_encode_path);
        request.push('\n');
        request.push_str(&canon_query);
        request.push('\n');
        let mut prev: Option<&str> = None;
        for (name, value) in &headers {
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
        request.push_str(&payload_hash);

        let unsigned_token = match (token, sign_token) {
            (Some(t), false) => Some(t.to_owned()),
            _ => None,
        };
        Ok(Canonical { request, auth: signed_headers, headers: out_headers, query: out_query, unsigned_token, presign })
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
