//! Why one object of a transfer failed or was left out: what happened, to which object, of what
//! kind, with the cause kept (the AWS call's error or the file system's).

use super::Location;
use std::fmt;
use std::io;
use std::sync::Arc;

/// Why one object of a transfer failed or was left out, as [`Event::Failed`](super::Event::Failed)
/// and [`Event::Skipped`](super::Event::Skipped) carry it and
/// [`S3Client::download_file`](crate::s3::S3Client::download_file) returns it.
///
/// Display says what happened in the engine's words (`cannot read the file`); the cause, when
/// there is one, is the [`source`](std::error::Error::source): the AWS call's
/// [`crate::Error`] or the file system's [`io::Error`]. When the cause says it all (a GET that
/// got a 404), the error is the cause's own words. The questions ([`is_not_found`](Self::is_not_found),
/// [`is_access_denied`](Self::is_access_denied), [`is_throttled`](Self::is_throttled)...)
/// answer the same as [`crate::Error`]'s for an AWS call, and the same for a single call and
/// for an object inside a bulk run.
///
/// ```
/// use cirrus::s3::transfer::{Error, ErrorKind};
///
/// let gone = std::io::Error::from(std::io::ErrorKind::NotFound);
/// let e = Error::from(gone);
/// assert!(e.is_not_found() && e.kind() == ErrorKind::NotFound);
/// assert!(e.io_error().is_some() && e.call_error().is_none());
/// ```
///
/// Small (one pointer) and cheap to clone: the cause is shared.
#[derive(Clone, Debug)]
pub struct Error(Box<Inner>);

#[derive(Clone, Debug)]
struct Inner {
    kind: ErrorKind,
    /// What happened, in the engine's words; empty when the cause says it.
    message: String,
    /// The object or file it concerns, when known.
    location: Option<Location>,
    cause: Option<Cause>,
}

#[derive(Clone, Debug)]
enum Cause {
    Call(Arc<crate::Error>),
    Io(Arc<io::Error>),
    /// An earlier failure this one grew out of (a move whose copy worked and whose removal did
    /// not...).
    Inner(Arc<Error>),
}

/// What kind of failure it was: the questions a caller asks of a failed object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The object, file or bucket does not exist (HTTP 404, `NoSuchKey`, a file gone).
    NotFound,
    /// Refused by S3 (HTTP 403, `AccessDenied`) or by the file system (permissions).
    AccessDenied,
    /// S3 asked to slow down, and the retries ran out.
    Throttled,
    /// The bytes do not match the object's checksum or ETag, asked for again and still wrong.
    Corrupt,
    /// The object or file changed while it was being moved (`If-Match` failed, a file grew).
    Changed,
    /// The engine would not do it: the key would write outside the destination or through a
    /// symlink, lands on a FIFO or a directory, names a file another key names, or a delete is
    /// held back because part of the source could not be seen.
    Refused,
    /// Reading or writing a local file failed otherwise.
    Io,
    /// S3 answered with another error.
    Service,
    /// No answer: the connection failed, broke or timed out, and the retries ran out.
    Transport,
    /// The destination already has an object or file of this name, and the transfer was told
    /// never to replace one ([`TransferOptions::no_overwrite`](super::TransferOptions::no_overwrite)).
    AlreadyExists,
    /// The transfer is stopping (interrupted).
    Stopped,
    /// Anything else: an answer that could not be read, a task that died.
    Other,
}

impl ErrorKind {
    fn of_call(e: &crate::Error) -> ErrorKind {
        if e.is_not_found() {
            ErrorKind::NotFound
        } else if e.is_access_denied() || e.status() == Some(403) {
            ErrorKind::AccessDenied
        } else if e.is_throttling() {
            ErrorKind::Throttled
        } else if e.status() == Some(412) || e.code() == Some("PreconditionFailed") {
            ErrorKind::Changed
        } else if e.is_transport() {
            ErrorKind::Transport
        } else if e.status().is_some() {
            ErrorKind::Service
        } else {
            ErrorKind::Other
        }
    }

    fn of_io(e: &io::Error) -> ErrorKind {
        match e.kind() {
            io::ErrorKind::NotFound => ErrorKind::NotFound,
            io::ErrorKind::PermissionDenied => ErrorKind::AccessDenied,
            _ => ErrorKind::Io,
        }
    }
}

impl Error {
    /// An error of this kind, in these words, with no cause under it.
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error::of(kind, message.into(), None)
    }

    fn of(kind: ErrorKind, message: String, cause: Option<Cause>) -> Error {
        Error(Box::new(Inner { kind, message, location: None, cause }))
    }

    /// The engine would not do it (see [`ErrorKind::Refused`]).
    pub(crate) fn refused(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Refused, message)
    }

    /// An AWS call that failed, under these words (`""`: the call's error says it all).
    pub(crate) fn call(message: impl Into<String>, e: crate::Error) -> Error {
        Error::of(ErrorKind::of_call(&e), message.into(), Some(Cause::Call(e.into())))
    }

    /// A key that S3 refused inside an answer that succeeded (DeleteObjects): its code and
    /// message, asked the same questions as a call's error.
    pub(crate) fn refused_key(operation: &'static str, code: &str, message: &str) -> Error {
        let call = crate::Error::service("S3", operation, 200, code.to_owned(), message.to_owned(), None);
        Error::of(ErrorKind::of_call(&call), format!("{code}: {message}"), None)
    }

    /// A file system call that failed, under these words.
    pub(crate) fn io(message: impl Into<String>, e: io::Error) -> Error {
        Error::of(ErrorKind::of_io(&e), message.into(), Some(Cause::Io(e.into())))
    }

    /// This error as the cause of a new one, of the same kind, in these words.
    pub(crate) fn context(self, message: impl Into<String>) -> Error {
        let (kind, location) = (self.0.kind, self.0.location.clone());
        let mut e = Error::of(kind, message.into(), Some(Cause::Inner(Arc::new(self))));
        e.0.location = location;
        e
    }

    /// The same error, of another kind.
    pub(crate) fn with_kind(mut self, kind: ErrorKind) -> Error {
        self.0.kind = kind;
        self
    }

    /// The same error, about `location` (kept if it already names one).
    pub(crate) fn at(mut self, location: Location) -> Error {
        self.0.location.get_or_insert(location);
        self
    }

    /// A task of the engine that died (a panic is a defect, never the input's fault).
    pub(crate) fn task(e: tokio::task::JoinError) -> Error {
        Error::new(ErrorKind::Other, format!("internal error: {e}"))
    }

    /// `no_overwrite`: `dst` is there already, and is left alone.
    pub(crate) fn exists(dst: &Location) -> Error {
        Error::new(ErrorKind::AlreadyExists, format!("{dst} exists, not overwritten"))
    }

    /// `no_overwrite`: `e`, a write's failure, is S3 refusing to replace an object
    /// (`If-None-Match: *` answered 412 by PutObject, CopyObject or CompleteMultipartUpload).
    pub(crate) fn is_write_refused(e: &Error) -> bool {
        e.call_error().is_some_and(|c| {
            c.status() == Some(412) && matches!(c.operation(), "PutObject" | "CopyObject" | "CompleteMultipartUpload")
        })
    }

    /// The transfer is stopping: no more slots are handed out.
    pub(crate) fn stopped() -> Error {
        Error::new(ErrorKind::Stopped, "the transfer is stopping")
    }

    /// What kind of failure it was.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// The object or file it concerns, when the engine knows it.
    pub fn location(&self) -> Option<&Location> {
        self.0.location.as_ref()
    }

    /// The object, file or bucket does not exist.
    pub fn is_not_found(&self) -> bool {
        self.0.kind == ErrorKind::NotFound
    }

    /// S3 or the file system refused access.
    pub fn is_access_denied(&self) -> bool {
        self.0.kind == ErrorKind::AccessDenied
    }

    /// S3 asked to slow down, and the retries ran out.
    pub fn is_throttled(&self) -> bool {
        self.0.kind == ErrorKind::Throttled
    }

    /// The bytes did not match the object's checksum or ETag.
    pub fn is_corrupt(&self) -> bool {
        self.0.kind == ErrorKind::Corrupt
    }

    /// The destination was already there and was left alone (`no_overwrite`).
    pub fn is_already_exists(&self) -> bool {
        self.0.kind == ErrorKind::AlreadyExists
    }

    /// The engine would not do it, to keep the user's data safe.
    pub fn is_refused(&self) -> bool {
        self.0.kind == ErrorKind::Refused
    }

    /// The AWS call's error underneath, if an AWS call failed.
    pub fn call_error(&self) -> Option<&crate::Error> {
        match &self.0.cause {
            Some(Cause::Call(e)) => Some(e),
            Some(Cause::Inner(e)) => e.call_error(),
            _ => None,
        }
    }

    /// The file system's error underneath, if a file system call failed.
    pub fn io_error(&self) -> Option<&io::Error> {
        match &self.0.cause {
            Some(Cause::Io(e)) => Some(e),
            Some(Cause::Inner(e)) => e.io_error(),
            _ => None,
        }
    }

    /// The cause as a trait object.
    fn cause(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self.0.cause.as_ref()? {
            Cause::Call(e) => Some(&**e),
            Cause::Io(e) => Some(&**e),
            Cause::Inner(e) => Some(&**e),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.cause() {
            // The cause's own words: it stands in for this error, its source is ours.
            Some(cause) if self.0.message.is_empty() => fmt::Display::fmt(cause, f),
            _ => f.write_str(&self.0.message),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self.cause() {
            Some(cause) if self.0.message.is_empty() => cause.source(),
            cause => cause,
        }
    }
}

impl From<crate::Error> for Error {
    fn from(e: crate::Error) -> Self {
        Error::call("", e)
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::io("", e)
    }
}

/// A task's result, its failure as the engine's error.
pub(crate) fn joined<T>(r: Result<Result<T, Error>, tokio::task::JoinError>) -> Result<T, Error> {
    r.map_err(Error::task)?
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::report;

    #[test]
    fn a_call_error_keeps_its_words_and_its_questions() {
        let call = crate::Error::service("S3", "GetObject", 404, "NoSuchKey".into(), "gone".into(), None);
        let e = Error::from(call);
        assert!(e.is_not_found());
        assert_eq!(e.to_string(), "S3 GetObject: HTTP 404 NoSuchKey: gone (1 attempt)");
        assert_eq!(e.call_error().and_then(crate::Error::code), Some("NoSuchKey"));
        let moved = e.context("copied, but the source was not removed");
        assert!(moved.is_not_found());
        assert_eq!(
            report(&moved),
            "copied, but the source was not removed: S3 GetObject: HTTP 404 NoSuchKey: gone (1 attempt)"
        );
        let slow = crate::Error::service("S3", "PutObject", 503, "SlowDown".into(), String::new(), None);
        assert!(Error::call("", slow).is_throttled());
        let changed = crate::Error::service("S3", "GetObject", 412, "PreconditionFailed".into(), String::new(), None);
        assert_eq!(Error::from(changed).kind(), ErrorKind::Changed);
        let denied = crate::Error::service("S3", "GetObject", 403, String::new(), String::new(), None);
        assert!(Error::from(denied).is_access_denied());
    }

    #[test]
    fn an_io_error_is_the_source_under_the_engines_words() {
        let e = Error::io("cannot read it", io::Error::from(io::ErrorKind::PermissionDenied));
        assert!(e.is_access_denied() && e.io_error().is_some());
        assert_eq!(e.to_string(), "cannot read it");
        assert!(report(&e).starts_with("cannot read it: "));
        let e = Error::refused("the key has a \"..\" segment").at(Location::s3("b", "../x"));
        assert!(e.is_refused() && e.io_error().is_none());
        assert_eq!(e.location(), Some(&Location::s3("b", "../x")));
    }
}
