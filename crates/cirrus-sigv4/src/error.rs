//! The one error type of this crate.

use std::fmt;

/// Why a request could not be signed. The request is left untouched when this is returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningError {
    kind: ErrorKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ErrorKind {
    MissingHost,
    InvalidUri(String),
    InvalidMethod(String),
    InvalidHeaderName(String),
    InvalidHeaderValue(String),
    InvalidExpires(u64),
    PolicyInvalid(String),
}

impl SigningError {
    pub(crate) fn new(kind: ErrorKind) -> Self {
        SigningError { kind }
    }

    /// The request has no `Host` header and its URI has no authority to take it from.
    pub fn is_missing_host(&self) -> bool {
        matches!(self.kind, ErrorKind::MissingHost)
    }

    /// A header name or value cannot be signed (not a token, or holds CR, LF or NUL).
    pub fn is_invalid_header(&self) -> bool {
        matches!(self.kind, ErrorKind::InvalidHeaderName(_) | ErrorKind::InvalidHeaderValue(_))
    }

    /// The URI or method is malformed.
    pub fn is_invalid_request(&self) -> bool {
        matches!(self.kind, ErrorKind::InvalidUri(_) | ErrorKind::InvalidMethod(_))
    }

    /// A presign expiry outside 1 second ..= 7 days, or other out-of-range parameter.
    pub fn is_invalid_params(&self) -> bool {
        matches!(self.kind, ErrorKind::InvalidExpires(_) | ErrorKind::PolicyInvalid(_))
    }
}

impl fmt::Display for SigningError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrorKind::MissingHost => f.write_str("request has no Host header and no host in its URI"),
            ErrorKind::InvalidUri(u) => write!(f, "invalid request URI {u:?}"),
            ErrorKind::InvalidMethod(m) => write!(f, "invalid HTTP method {m:?}"),
            ErrorKind::InvalidHeaderName(n) => write!(f, "invalid header name {n:?}"),
            ErrorKind::InvalidHeaderValue(n) => {
                write!(f, "header {n:?} has a value that cannot be signed (CR, LF or NUL)")
            }
            ErrorKind::InvalidExpires(s) => {
                write!(f, "presigned URL expiry of {s} s is out of range (1 s to 604800 s, 7 days)")
            }
            ErrorKind::PolicyInvalid(what) => write!(f, "invalid POST policy: {what}"),
        }
    }
}

impl std::error::Error for SigningError {}
