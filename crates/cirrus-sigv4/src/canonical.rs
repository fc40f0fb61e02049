//! The canonical request: path, query and header canonicalization.

use crate::encode::{decode_query_component, encode_into, encode_path_keep_escapes};
use crate::error::{ErrorKind, SigningError};
use crate::params::{
    check_expiry, Field, Fields, SessionTokenMode, SignatureLocation, SigningOutput, SigningParams, SigningSettings,
    PRESIGN_PARAMS,
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

/// The canonical request and the string to sign of a request, with the values signing adds,
/// in two buffers (the fewest allocations): [`Canonical::finish`] adds the signature.
pub(crate) struct Canonical {
    /// The canonical request, then the string to sign.
    text: String,
    canonical_end: usize,
    /// The values of the headers (or query parameters) to add, as `fields` spans.
    values: String,
    fields: Fields,
    presign: bool,
    /// Where the `Authorization` value starts in `values` (header mode).
    auth_start: usize,
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

/// The headers the signer adds and signs (at most four), on the stack.
#[derive(Default)]
struct Added<'v> {
    items: [(Field, &'v str); 4],
    len: usize,
}

impl<'v> Added<'v> {
    fn push(&mut self, name: Field, value: &'v str) {
        if let Some(slot) = self.items.get_mut(self.len) {
            *slot = (name, value);
            self.len += 1;
        }
    }

    fn as_slice(&self) -> &[(Field, &'v str)] {
        &self.items[..self.len]
    }
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

    /// The headers the signer adds (none for a presigned URL): the time (`http_date` or
    /// `amz_date`), the token, the payload hash, the region set.
    fn added_headers<'v>(
        self,
        (http_date, amz_date): (&'v str, &'v str),
        token: Option<&'v str>,
        payload_hash: &'v str,
        scheme: Scheme<'v>,
    ) -> Added<'v> {
        let mut out = Added::default();
        let Mode::Headers { use_date, sha_header } = self else { return out };
        if use_date {
            out.push(Field::Date, http_date);
        } else {
            out.push(Field::AmzDate, amz_date);
        }
        if let Some(t) = token {
            out.push(Field::SecurityToken, t);
        }
        if sha_header {
            out.push(Field::ContentSha256, payload_hash);
        }
        if let Some(rs) = scheme.region_set() {
            out.push(Field::RegionSet, rs);
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

/// The credential scope's parts: `date/region/service/aws4_request` (SigV4a: no region).
struct Scope<'a> {
    date: &'a str,
    region: &'a str,
    service: &'a str,
    scheme: Scheme<'a>,
}

impl Scope<'_> {
    /// Appends the scope, percent-encoded when `encode` (for `X-Amz-Credential`).
    fn push(&self, out: &mut String, encode: bool) {
        let slash = if encode { "%2F" } else { "/" };
        let part = |out: &mut String, s: &str| {
            if encode {
                encode_into(out, s.as_bytes(), false);
            } else {
                out.push_str(s);
            }
        };
        out.push_str(self.date);
        out.push_str(slash);
        if self.scheme.region_set().is_none() {
            part(out, self.region);
            out.push_str(slash);
        }
        part(out, self.service);
        out.push_str(slash);
        out.push_str("aws4_request");
    }
}

impl Canonical {
    /// The canonical request of `req` and its string to sign, and what signing it adds, step
    /// by step: the headers the signer adds, the sorted list of headers signed, the values to
    /// add (headers, or the presigning query), the canonical request, the string to sign.
    pub(crate) fn build(
        req: &SignableRequest<'_>,
        params: &SigningParams<'_>,
        civil: &Civil,
        amz_date: &str,
        scheme: Scheme<'_>,
    ) -> Result<Canonical, SigningError> {
        let settings = &params.settings;
        let mode = Mode::of(settings)?;
        let token = params.session_token.filter(|t| !t.is_empty());
        let sign_token = settings.session_token == SessionTokenMode::Include;
        let signed_token = token.filter(|_| sign_token);
        let payload_hash = req.payload.hash();
        let http_date = match mode {
            Mode::Headers { use_date: true, .. } => civil.http_date(),
            _ => String::new(),
        };
        let added = mode.added_headers((&http_date, amz_date), signed_token, &payload_hash, scheme);
        let (headers, plain_values) = header_list(req, mode, scheme, added.as_slice())?;
        let scope = Scope {
            date: amz_date.get(..8).unwrap_or_default(),
            region: params.region,
            service: params.service,
            scheme,
        };
        let mut out = Canonical::with_capacity(req, params, &headers, mode);
        let unsigned_token = token.filter(|_| !sign_token);
        let names = match mode {
            Mode::Headers { .. } => {
                for &(field, value) in added.as_slice() {
                    out.push_value(field, |v| v.push_str(value));
                }
                if let Some(t) = unsigned_token {
                    out.push_value(Field::SecurityToken, |v| v.push_str(t));
                }
                Some(out.auth_prefix(params.access_key_id, &scope, &headers))
            }
            Mode::Query { expires } => {
                out.presign_params(params.access_key_id, &scope, (amz_date, expires), signed_token, &headers);
                None
            }
        };
        out.canonical_request(req, (mode, settings), (&headers, plain_values), names, &payload_hash);
        out.string_to_sign(scheme.algorithm(), amz_date, &scope);
        if let (Some(t), true) = (unsigned_token, out.presign) {
            // After the canonical query: outside the signature.
            out.push_value(Field::SecurityToken, |v| encode_into(v, t.as_bytes(), false));
        }
        Ok(out)
    }

    /// Writes `<algorithm> Credential=<key>/<scope>, SignedHeaders=<signed headers>`, the
    /// `Authorization` value but its signature, and returns the span of the signed headers.
    fn auth_prefix(
        &mut self,
        access_key_id: &str,
        scope: &Scope<'_>,
        headers: &[(Cow<'_, str>, &str)],
    ) -> (usize, usize) {
        let v = &mut self.values;
        self.auth_start = v.len();
        v.push_str(scope.scheme.algorithm());
        v.push_str(" Credential=");
        v.push_str(access_key_id);
        v.push('/');
        scope.push(v, false);
        v.push_str(", SignedHeaders=");
        let start = v.len();
        push_signed_names(v, headers, false);
        (start, v.len())
    }

    /// Empty buffers, each large enough for everything this request will put in it.
    fn with_capacity(
        req: &SignableRequest<'_>,
        params: &SigningParams<'_>,
        headers: &[(Cow<'_, str>, &str)],
        mode: Mode,
    ) -> Canonical {
        let headers_len: usize = headers.iter().map(|(n, v)| n.len() * 2 + v.len() + 2).sum();
        let token_len = params.session_token.map_or(0, str::len);
        let scope_len = params.region.len() + params.service.len() + 24;
        let presign = matches!(mode, Mode::Query { .. });
        let presign_len =
            if presign { params.access_key_id.len() + scope_len * 2 + headers_len + token_len * 3 + 256 } else { 0 };
        let text_len =
            req.method.len() + req.path.len() * 2 + req.query.len() + headers_len + presign_len + scope_len + 200;
        let values_len = 200 + params.access_key_id.len() + scope_len + token_len * 3 + headers_len + presign_len;
        Canonical {
            text: String::with_capacity(text_len),
            canonical_end: 0,
            values: String::with_capacity(values_len),
            fields: Fields::default(),
            presign,
            auth_start: 0,
        }
    }

    /// Appends a value (written by `write`) to `values`, named `name`.
    fn push_value(&mut self, name: Field, write: impl FnOnce(&mut String)) {
        let start = self.values.len();
        write(&mut self.values);
        self.fields.push(name, (start, self.values.len()));
    }

    /// The presigning parameters, encoded, except the signature.
    fn presign_params(
        &mut self,
        access_key_id: &str,
        scope: &Scope<'_>,
        (amz_date, expires): (&str, u64),
        token: Option<&str>,
        headers: &[(Cow<'_, str>, &str)],
    ) {
        self.push_value(Field::Algorithm, |v| v.push_str(scope.scheme.algorithm()));
        self.push_value(Field::Credential, |v| {
            encode_into(v, access_key_id.as_bytes(), false);
            v.push_str("%2F");
            scope.push(v, true);
        });
        self.push_value(Field::AmzDate, |v| v.push_str(amz_date));
        self.push_value(Field::Expires, |v| push_u64(v, expires));
        if let Some(rs) = scope.scheme.region_set() {
            self.push_value(Field::RegionSet, |v| encode_into(v, rs.as_bytes(), false));
        }
        if let Some(t) = token {
            self.push_value(Field::SecurityToken, |v| encode_into(v, t.as_bytes(), false));
        }
        self.push_value(Field::SignedHeaders, |v| push_signed_names(v, headers, true));
    }

    /// Method, path, query, headers (repeated names joined with `,`), signed headers, payload
    /// hash.
    fn canonical_request(
        &mut self,
        req: &SignableRequest<'_>,
        (mode, settings): (Mode, &SigningSettings),
        (headers, plain_values): (&[(Cow<'_, str>, &str)], bool),
        names: Option<(usize, usize)>,
        payload_hash: &str,
    ) {
        let out = &mut self.text;
        out.push_str(req.method);
        out.push('\n');
        push_canonical_path(out, req.path, settings.normalize_path, settings.double_encode_path);
        out.push('\n');
        // The presigning parameters written so far (all but the signature) are in the query.
        let added = self.fields.iter(&self.values).filter(|_| matches!(mode, Mode::Query { .. }));
        push_canonical_query(out, req.query, mode, added);
        out.push('\n');
        let mut prev: Option<&str> = None;
        for (name, value) in headers {
            if prev == Some(name.as_ref()) {
                out.pop(); // the '\n' of the previous value
                out.push(',');
            } else {
                out.push_str(name);
                out.push(':');
            }
            if plain_values {
                out.push_str(value);
            } else {
                push_trimmed(out, value);
            }
            out.push('\n');
            prev = Some(name.as_ref());
        }
        out.push('\n');
        // The names already written for `Authorization`, or (presigning) written here.
        match names.and_then(|(start, end)| self.values.get(start..end)) {
            Some(names) => out.push_str(names),
            None => push_signed_names(out, headers, false),
        }
        out.push('\n');
        out.push_str(payload_hash);
        self.canonical_end = out.len();
    }

    /// Appends the string to sign: algorithm, time, scope, and the hash of the canonical
    /// request.
    fn string_to_sign(&mut self, algorithm: &str, amz_date: &str, scope: &Scope<'_>) {
        let hash = crate::hmac::sha256(self.text.as_bytes());
        let out = &mut self.text;
        out.push_str(algorithm);
        out.push('\n');
        out.push_str(amz_date);
        out.push('\n');
        scope.push(out, false);
        out.push('\n');
        crate::encode::hex32_into(out, &hash);
    }

    /// The string to sign, for the signer.
    pub(crate) fn sts(&self) -> &str {
        self.text.get(self.canonical_end..).unwrap_or_default()
    }

    /// Adds the signature (written by `write`) and gives the output to apply.
    pub(crate) fn finish(mut self, write: impl FnOnce(&mut String)) -> SigningOutput {
        if !self.presign {
            self.values.push_str(", Signature=");
        }
        let start = self.values.len();
        write(&mut self.values);
        let end = self.values.len();
        if self.presign {
            self.fields.push(Field::Signature, (start, end));
        } else {
            self.fields.push(Field::Authorization, (self.auth_start, end));
        }
        let Canonical { text, canonical_end, values, fields, presign, .. } = self;
        SigningOutput { text, canonical_end, values, fields, presign, signature: (start, end) }
    }
}

/// The request's headers to sign, with the ones the signer adds, lowercase and sorted; `host`
/// from the authority when the request has none.
fn header_list<'a>(
    req: &'a SignableRequest<'_>,
    mode: Mode,
    scheme: Scheme<'_>,
    added: &[(Field, &'a str)],
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
    for &(name, value) in added {
        headers.push((Cow::Borrowed(lower_field(name)), value));
    }
    headers.sort_by(|a, b| a.0.cmp(&b.0));
    Ok((headers, plain_values))
}

/// The signed header names joined by `;` (each name once), percent-encoded when `encode` (for
/// `X-Amz-SignedHeaders`).
fn push_signed_names(out: &mut String, headers: &[(Cow<'_, str>, &str)], encode: bool) {
    for (i, (name, _)) in headers.iter().enumerate() {
        if i > 0 && headers[i - 1].0 == *name {
            continue;
        }
        if i > 0 {
            out.push_str(if encode { "%3B" } else { ";" });
        }
        if encode {
            encode_into(out, name.as_bytes(), false);
        } else {
            out.push_str(name);
        }
    }
}

/// Decimal digits of `n`.
fn push_u64(out: &mut String, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &b in &buf[i..] {
        out.push(b as char);
    }
}

/// The request's query parameters (each decoded and encoded again; in a presigned URL, without
/// presigning parameters of its own) with `added`, sorted and joined.
fn push_canonical_query<'v>(out: &mut String, query: &str, mode: Mode, added: impl Iterator<Item = (Field, &'v str)>) {
    let presign = matches!(mode, Mode::Query { .. });
    if query.is_empty() && !presign {
        return;
    }
    let mut pairs: Vec<(Cow<'_, str>, Cow<'_, str>)> = Vec::with_capacity(12);
    let mut buf = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if presign && PRESIGN_PARAMS.iter().any(|p| p.eq_ignore_ascii_case(k)) {
            continue;
        }
        pairs.push((canonical_query_component(k, &mut buf), canonical_query_component(v, &mut buf)));
    }
    for (k, v) in added {
        pairs.push((Cow::Borrowed(k.name()), Cow::Borrowed(v)));
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
fn lower_field(field: Field) -> &'static str {
    match field {
        Field::Date => "date",
        Field::AmzDate => "x-amz-date",
        Field::SecurityToken => "x-amz-security-token",
        Field::ContentSha256 => "x-amz-content-sha256",
        Field::RegionSet => "x-amz-region-set",
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
