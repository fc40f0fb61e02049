//! The request as the signer sees it: borrowed method, URI, headers and payload.

use crate::error::{ErrorKind, SigningError};

/// What the payload hash in the canonical request is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Payload<'a> {
    /// The whole body: its SHA-256 is computed while signing.
    Bytes(&'a [u8]),
    /// A hash (or literal) the caller already has, used exactly as given.
    Precomputed(&'a str),
    /// `UNSIGNED-PAYLOAD`: the body is not covered by the signature (S3 and presigned URLs).
    Unsigned,
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`: aws-chunked, each chunk signed (see [`crate::chunked`]).
    StreamingSigned,
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`: signed chunks and a signed trailer.
    StreamingSignedTrailer,
    /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER`: unsigned chunks with a checksum trailer.
    StreamingUnsignedTrailer,
    /// `STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD` (SigV4a chunked).
    StreamingEcdsa,
    /// `STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER` (SigV4a chunked with trailer).
    StreamingEcdsaTrailer,
}

impl<'a> Payload<'a> {
    /// The literal for the non-hash modes, `None` for [`Payload::Bytes`].
    pub fn literal(&self) -> Option<&str> {
        match self {
            Payload::Precomputed(s) => Some(s),
            other => other.static_literal(),
        }
    }

    /// Every fixed payload hash literal.
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    pub(crate) fn static_literals() -> &'static [&'static str] {
        &[
            "UNSIGNED-PAYLOAD",
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
            "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
            "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD",
            "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER",
        ]
    }

    /// The payload hash literal when it is a fixed string.
    pub(crate) fn static_literal(&self) -> Option<&'static str> {
        match self {
            Payload::Bytes(_) | Payload::Precomputed(_) => None,
            Payload::Unsigned => Some("UNSIGNED-PAYLOAD"),
            Payload::StreamingSigned => Some("STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
            Payload::StreamingSignedTrailer => Some("STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"),
            Payload::StreamingUnsignedTrailer => Some("STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
            Payload::StreamingEcdsa => Some("STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD"),
            Payload::StreamingEcdsaTrailer => Some("STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER"),
        }
    }

    pub(crate) fn hash(&self) -> std::borrow::Cow<'a, str> {
        use std::borrow::Cow;
        match *self {
            Payload::Bytes(b) => Cow::Owned(crate::encode::hex(&crate::hmac::sha256(b))),
            Payload::Precomputed(s) => Cow::Borrowed(s),
            other => Cow::Borrowed(other.static_literal().unwrap_or_default()),
        }
    }
}

/// A request to sign, borrowed from whatever HTTP type the caller uses.
///
/// Input contract:
/// - `uri` is the request target as it goes on the wire: `/path?query`, or an absolute
///   `https://host/path?query`. The path must already be percent-encoded the way it will be sent
///   (a raw space or non-ASCII byte is encoded for the signature, but the caller must send it
///   encoded too). The fragment, if any, is ignored.
/// - `headers` are `(name, value)` pairs in order; names in any case. Repeated names are joined
///   with `,` in the order given. A value must not hold CR, LF or NUL.
/// - A `Host` header is used when present, otherwise the URI's authority.
#[derive(Clone)]
pub struct SignableRequest<'a> {
    pub(crate) method: &'a str,
    pub(crate) path: &'a str,
    pub(crate) query: &'a str,
    pub(crate) authority: Option<&'a str>,
    pub(crate) headers: Vec<(&'a str, &'a str)>,
    pub(crate) payload: Payload<'a>,
    /// No value has spaces or tabs to trim or collapse: values go into the canonical request as
    /// they are.
    pub(crate) plain_values: bool,
}

impl<'a> SignableRequest<'a> {
    /// Borrows the parts of a request. Fails on a malformed method, URI or header.
    pub fn new<I>(method: &'a str, uri: &'a str, headers: I, payload: Payload<'a>) -> Result<Self, SigningError>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        if method.is_empty() || !method.bytes().all(is_tchar) {
            return Err(SigningError::new(ErrorKind::InvalidMethod(method.to_owned())));
        }
        let (authority, path, query) = split_uri(uri)?;
        let headers: Vec<(&str, &str)> = headers.into_iter().collect();
        let mut plain_values = true;
        for (name, value) in &headers {
            if name.is_empty() || !name.bytes().all(is_tchar) {
                return Err(SigningError::new(ErrorKind::InvalidHeaderName((*name).to_owned())));
            }
            match check_value(value) {
                Some(plain) => plain_values &= plain,
                None => return Err(SigningError::new(ErrorKind::InvalidHeaderValue((*name).to_owned()))),
            }
        }
        Ok(SignableRequest { method, path, query, authority, headers, payload, plain_values })
    }

    /// Parts already split and checked by the `http` crate (names are tokens, values UTF-8).
    #[cfg(feature = "http")]
    pub(crate) fn from_checked_parts(
        method: &'a str,
        authority: Option<&'a str>,
        path: &'a str,
        query: &'a str,
        headers: Vec<(&'a str, &'a str)>,
        payload: Payload<'a>,
    ) -> Result<Self, SigningError> {
        let mut plain_values = true;
        for (name, value) in &headers {
            match check_value(value) {
                Some(plain) => plain_values &= plain,
                None => return Err(SigningError::new(ErrorKind::InvalidHeaderValue((*name).to_owned()))),
            }
        }
        Ok(SignableRequest { method, path, query, authority, headers, payload, plain_values })
    }

    /// The payload mode this request will be signed with.
    pub fn payload(&self) -> Payload<'a> {
        self.payload
    }
}

/// Debug shows header names only (values may hold an old `Authorization` or token) and the
/// payload mode, not the body.
impl std::fmt::Debug for SignableRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| *n).collect();
        let payload = match self.payload {
            Payload::Bytes(b) => format!("Bytes({} bytes)", b.len()),
            other => format!("{:?}", other.literal().unwrap_or_default()),
        };
        f.debug_struct("SignableRequest")
            .field("method", &self.method)
            .field("authority", &self.authority)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("header_names", &names)
            .field("payload", &payload)
            .finish()
    }
}

/// `None` if the value holds CR, LF or NUL (which cannot be signed); otherwise whether it is
/// plain: no leading or trailing space or tab, no tab, no two spaces in a row.
pub(crate) fn check_value(value: &str) -> Option<bool> {
    let bytes = value.as_bytes();
    // The common case, in one branch-free pass: no byte at or below space, so nothing to refuse
    // or trim.
    if bytes.iter().fold(true, |visible, &b| visible & (b > b' ')) {
        return Some(true);
    }
    let mut plain = !matches!(bytes.first(), Some(b' ' | b'\t')) && !matches!(bytes.last(), Some(b' ' | b'\t'));
    let mut prev_space = false;
    for &b in bytes {
        // One compare for the common case: a visible character.
        if b > b' ' {
            prev_space = false;
            continue;
        }
        match b {
            b'\r' | b'\n' | 0 => return None,
            b' ' => {
                plain &= !prev_space;
                prev_space = true;
            }
            _ => {
                plain &= b != b'\t';
                prev_space = false;
            }
        }
    }
    Some(plain)
}

/// RFC 7230 token characters (header names and methods).
pub(crate) fn is_tchar(b: u8) -> bool {
    TCHAR[b as usize]
}

static TCHAR: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~'
            );
        i += 1;
    }
    t
};

/// Splits a request target into (authority, path, query).
fn split_uri(uri: &str) -> Result<(Option<&str>, &str, &str), SigningError> {
    let bad = || SigningError::new(ErrorKind::InvalidUri(uri.to_owned()));
    // One pass: the end (at a fragment), the first '?', and no control bytes.
    let bytes = uri.as_bytes();
    let mut end = bytes.len();
    let mut question = None;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'#' => {
                end = i;
                break;
            }
            b'?' if question.is_none() => question = Some(i),
            b if b.is_ascii_control() => return Err(bad()),
            _ => {}
        }
    }
    let uri = &uri[..end];
    let (authority, rest, question) = if bytes.first() == Some(&b'/') {
        (None, uri, question)
    } else {
        match uri.find("://") {
            Some(i) if i > 0 && uri[..i].bytes().all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b)) => {
                let after = &uri[i + 3..];
                let auth_end = after.find(['/', '?']).unwrap_or(after.len());
                let authority = &after[..auth_end];
                if authority.is_empty() {
                    return Err(bad());
                }
                // Drop any user info: it is never part of Host.
                let authority = authority.rsplit('@').next().unwrap_or(authority);
                let rest = &after[auth_end..];
                (Some(authority), rest, rest.find('?'))
            }
            _ => (None, uri, question),
        }
    };
    let (path, query) = match question {
        Some(q) => (&rest[..q], &rest[q + 1..]),
        None => (rest, ""),
    };
    Ok((authority, path, query))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_targets() {
        assert_eq!(split_uri("/a?b=c").unwrap(), (None, "/a", "b=c"));
        assert_eq!(split_uri("https://h.example:8443/a/b?x#frag").unwrap(), (Some("h.example:8443"), "/a/b", "x"));
        assert_eq!(split_uri("http://u:p@h?x=1").unwrap(), (Some("h"), "", "x=1"));
        assert!(split_uri("https:///x").is_err());
        assert!(split_uri("/a\nb").is_err());
    }

    #[test]
    fn rejects_bad_headers_and_methods() {
        let e = SignableRequest::new("GET", "/", [("Bad Name", "v")], Payload::Unsigned).unwrap_err();
        assert!(e.is_invalid_header());
        let e = SignableRequest::new("GET", "/", [("X", "a\r\nInjected: 1")], Payload::Unsigned).unwrap_err();
        assert!(e.is_invalid_header());
        assert!(SignableRequest::new("G ET", "/", [], Payload::Unsigned).unwrap_err().is_invalid_request());
    }
}
