//! The error of every function that reads a value from text or bytes: an XML body, a JSON
//! document, a header value, an email address, a PEM certificate.

use std::fmt;

/// A value that could not be read: what was being read, why, and the underlying error when
/// there is one (a JSON syntax error, say) as [`source`](std::error::Error::source).
#[derive(Debug)]
pub struct ParseError {
    what: &'static str,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl ParseError {
    /// `what` (`"XML"`, `"an SNS message"`...) could not be read, because of `message`.
    pub(crate) fn new(what: &'static str, message: impl Into<String>) -> Self {
        ParseError { what, message: message.into(), source: None }
    }

    /// The same, keeping the underlying error.
    pub(crate) fn with_source(
        what: &'static str,
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        ParseError { what, message: message.into(), source: Some(Box::new(source)) }
    }

    /// What was being read.
    pub fn what(&self) -> &'static str {
        self.what
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot read {}: {}", self.what, self.message)
    }
}

impl std::error::Error for ParseError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// For messages built from it (an [`Error`](super::Error) of a response that could not be read
/// carries text): the error and its cause on one line.
impl From<ParseError> for String {
    fn from(e: ParseError) -> String {
        super::Chain(&e).to_string()
    }
}
