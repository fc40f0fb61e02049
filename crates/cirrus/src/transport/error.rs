//! The one error type of every AWS call.

use super::CallError;
use crate::identity::CredentialsError;
use std::fmt;

/// What went wrong with an AWS call. Display names the service, operation, HTTP status, AWS
/// error code, message, request id and the number of attempts, e.g.
/// `STS GetCallerIdentity: HTTP 403 InvalidClientTokenId: The security token included in the
/// request is invalid (request id 0d3c..., 1 attempt)`.
#[derive(Debug)]
pub struct Error {
    service: &'static str,
    operation: &'static str,
    attempts: u32,
    kind: Kind,
}

/// What the service said (boxed: it keeps `Error` small).
#[derive(Debug)]
struct Answer {
    status: u16,
    code: String,
    message: String,
    request_id: Option<String>,
    region: Option<String>,
}

#[derive(Debug)]
enum Kind {
    /// The service answered with an error.
    Service(Box<Answer>),
    /// No credentials to sign with.
    Credentials(CredentialsError),
    /// The request never got an answer: connect failure, reset, timeout.
    Transport(CallError),
    /// The answer could not be understood.
    Response(String),
    /// The caller's input cannot make a request.
    Input(String),
}

impl Error {
    pub(crate) fn service(
        service: &'static str,
        operation: &'static str,
        status: u16,
        code: String,
        message: String,
        request_id: Option<String>,
    ) -> Self {
        Error {
            service,
            operation,
            attempts: 1,
            kind: Kind::Service(Box::new(Answer { status, code, message, request_id, region: None })),
        }
    }

    pub(crate) fn credentials(service: &'static str, operation: &'static str, e: CredentialsError) -> Self {
        Error { service, operation, attempts: 0, kind: Kind::Credentials(e) }
    }

    pub(crate) fn transport(service: &'static str, operation: &'static str, e: CallError) -> Self {
        Error { service, operation, attempts: 1, kind: Kind::Transport(e) }
    }

    /// A response that could not be understood.
    pub(crate) fn response(service: &'static str, operation: &'static str, message: impl Into<String>) -> Self {
        Error { service, operation, attempts: 1, kind: Kind::Response(message.into()) }
    }

    /// Input that cannot make a request.
    pub(crate) fn input(service: &'static str, operation: &'static str, message: impl Into<String>) -> Self {
        Error { service, operation, attempts: 0, kind: Kind::Input(message.into()) }
    }

    /// The region the service named in its answer (S3's `x-amz-bucket-region`, `<Region>`).
    pub(crate) fn with_region(mut self, hint: Option<String>) -> Self {
        if let Kind::Service(a) = &mut self.kind {
            a.region = hint;
        }
        self
    }

    /// The bucket's region when S3 named it in an error (a request signed for the wrong
    /// region: `PermanentRedirect`, `AuthorizationHeaderMalformed`...).
    pub fn bucket_region(&self) -> Option<&str> {
        match &self.kind {
            Kind::Service(a) => a.region.as_deref(),
            _ => None,
        }
    }

    pub(crate) fn with_attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts;
        self
    }

    /// The service (`"STS"`, `"S3"`...).
    pub fn service_name(&self) -> &'static str {
        self.service
    }

    /// The operation (`"GetCallerIdentity"`...).
    pub fn operation(&self) -> &'static str {
        self.operation
    }

    /// How many times the request was sent.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The HTTP status, when the service answered.
    pub fn status(&self) -> Option<u16> {
        match &self.kind {
            Kind::Service(a) => Some(a.status),
            _ => None,
        }
    }

    /// The AWS error code (`"AccessDenied"`...), when the service answered with one.
    pub fn code(&self) -> Option<&str> {
        match &self.kind {
            Kind::Service(a) if !a.code.is_empty() => Some(&a.code),
            _ => None,
        }
    }

    /// The service's message.
    pub fn message(&self) -> Option<&str> {
        match &self.kind {
            Kind::Service(a) if !a.message.is_empty() => Some(&a.message),
            _ => None,
        }
    }

    /// The request id the service gave, for AWS support.
    pub fn request_id(&self) -> Option<&str> {
        match &self.kind {
            Kind::Service(a) => a.request_id.as_deref(),
            _ => None,
        }
    }

    /// The credentials error, when there were no credentials to sign with.
    pub fn credentials_error(&self) -> Option<&CredentialsError> {
        match &self.kind {
            Kind::Credentials(e) => Some(e),
            _ => None,
        }
    }

    fn code_in(&self, codes: &[&str]) -> bool {
        self.code().is_some_and(|c| codes.contains(&c))
    }

    /// The session token has expired (`ExpiredToken`, `ExpiredTokenException`, `RequestExpired`...).
    pub fn is_expired_token(&self) -> bool {
        self.code_in(&["ExpiredToken", "ExpiredTokenException", "TokenRefreshRequired"])
    }

    /// The access key is not known (`InvalidClientTokenId`, `InvalidAccessKeyId`...).
    pub fn is_invalid_client_token_id(&self) -> bool {
        self.code_in(&["InvalidClientTokenId", "InvalidAccessKeyId", "UnrecognizedClientException"])
    }

    /// The caller may not do this (`AccessDenied`, HTTP 403 without a more precise code...).
    pub fn is_access_denied(&self) -> bool {
        self.code_in(&["AccessDenied", "AccessDeniedException", "Forbidden"])
    }

    /// The service asked us to slow down.
    pub fn is_throttling(&self) -> bool {
        self.code().is_some_and(super::retry::is_throttling_code) || self.status() == Some(429)
    }

    /// The thing asked for does not exist (HTTP 404, `NoSuchKey`, `NotFound`...).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
            || self
                .code()
                .is_some_and(|c| c.starts_with("NoSuch") || c.ends_with("NotFound") || c.ends_with("NotFoundException"))
    }

    /// The call timed out.
    pub fn is_timeout(&self) -> bool {
        matches!(&self.kind, Kind::Transport(e) if e.is_timeout())
    }

    /// The request could not be sent or had no answer (connect, reset, timeout).
    pub fn is_transport(&self) -> bool {
        matches!(self.kind, Kind::Transport(_))
    }

    /// The caller's input was rejected before anything was sent.
    pub fn is_input(&self) -> bool {
        matches!(self.kind, Kind::Input(_))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: ", self.service, self.operation)?;
        match &self.kind {
            Kind::Service(a) => {
                let Answer { status, code, message, request_id, .. } = &**a;
                write!(f, "HTTP {status}")?;
                if !code.is_empty() {
                    write!(f, " {code}")?;
                }
                if !message.is_empty() {
                    write!(f, ": {message}")?;
                }
                f.write_str(" (")?;
                if let Some(id) = request_id {
                    write!(f, "request id {id}, ")?;
                }
            }
            // The reason is the source, printed by whoever prints the chain.
            Kind::Credentials(_) => return f.write_str("no credentials"),
            Kind::Transport(_) => f.write_str("no answer (")?,
            Kind::Response(m) => write!(f, "unreadable response: {m} (")?,
            Kind::Input(m) => return f.write_str(m),
        }
        let n = self.attempts;
        write!(f, "{n} attempt{})", if n == 1 { "" } else { "s" })
    }
}

/// An error and every cause under it on one line (`a: b: c`): what to show a person, since
/// each error's Display names only its own layer and leaves the cause to `source()`.
///
/// ```
/// let io = std::io::Error::other("disk unplugged");
/// assert_eq!(cirrus::transport::report(&io), "disk unplugged");
/// ```
pub fn report(error: &(dyn std::error::Error + 'static)) -> String {
    Chain(error).to_string()
}

/// An error and every cause under it, displayed on one line (`a: b: c`) as it is written out,
/// without a string in between: what a `Display` impl or a log line that shows an error whole
/// uses, where [`report`] is for a program that prints it.
///
/// ```
/// use cirrus::transport::Chain;
///
/// let io = std::io::Error::other("disk unplugged");
/// assert_eq!(format!("cannot write: {}", Chain(&io)), "cannot write: disk unplugged");
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Chain<'a>(pub &'a (dyn std::error::Error + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.0, f)?;
        let mut cause = self.0.source();
        while let Some(c) = cause {
            write!(f, ": {c}")?;
            cause = c.source();
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            Kind::Credentials(e) => Some(e),
            Kind::Transport(e) => Some(e),
            _ => None,
        }
    }
}

/// The failure of a call to AWS (STS, Cognito) made to get credentials, kept as the cause:
/// passing failures (network, throttling, 5xx) may be retried, the rest are refusals.
impl From<Error> for CredentialsError {
    fn from(e: Error) -> Self {
        let passing = e.is_transport() || e.is_throttling() || e.status().is_some_and(|s| s >= 500);
        let error = if passing {
            CredentialsError::unavailable("the call for credentials failed")
        } else {
            CredentialsError::rejected("the call for credentials was refused")
        };
        error.with_source(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn display_names_everything() {
        let e = Error::service(
            "STS",
            "GetCallerIdentity",
            403,
            "InvalidClientTokenId".into(),
            "bad token".into(),
            Some("r-1".into()),
        )
        .with_attempts(1);
        assert_eq!(
            e.to_string(),
            "STS GetCallerIdentity: HTTP 403 InvalidClientTokenId: bad token (request id r-1, 1 attempt)"
        );
        assert!(e.is_invalid_client_token_id() && !e.is_throttling());
        let e = Error::service("S3", "PutObject", 503, "SlowDown".into(), "".into(), None).with_attempts(3);
        assert_eq!(e.to_string(), "S3 PutObject: HTTP 503 SlowDown (3 attempts)");
        assert!(e.is_throttling());
        let e = Error::service("S3", "GetObject", 404, "NoSuchKey".into(), "gone".into(), None);
        assert!(e.is_not_found());
        let e = Error::transport("STS", "AssumeRole", CallError::operation_timed_out(Duration::from_secs(2)))
            .with_attempts(3);
        assert_eq!(e.to_string(), "STS AssumeRole: no answer (3 attempts)");
        assert!(e.is_timeout() && e.is_transport());
        assert_eq!(report(&e), "STS AssumeRole: no answer (3 attempts): timed out after 2s (the operation timeout)");
    }

    #[test]
    fn the_cause_is_the_source_never_also_the_display() {
        let why = CredentialsError::not_configured("AWS_ACCESS_KEY_ID not set");
        let e = Error::credentials("S3", "ListObjectsV2", why);
        assert_eq!(e.to_string(), "S3 ListObjectsV2: no credentials");
        let source = std::error::Error::source(&e).map(|s| s.to_string());
        assert_eq!(source.as_deref(), Some("AWS_ACCESS_KEY_ID not set"));
        assert_eq!(report(&e), "S3 ListObjectsV2: no credentials: AWS_ACCESS_KEY_ID not set");
    }
}

#[cfg(test)]
mod credentials_tests {
    use super::*;

    #[test]
    fn a_failed_call_for_credentials_is_the_cause() {
        let refused = Error::service("STS", "AssumeRole", 403, "AccessDenied".into(), "no".into(), None);
        let c = CredentialsError::from(refused).context("role r");
        assert!(!c.is_retryable() && !c.is_not_configured());
        assert_eq!(
            report(&c),
            "role r: the call for credentials was refused: STS AssumeRole: HTTP 403 AccessDenied: no (1 attempt)"
        );
        let busy = Error::service("STS", "AssumeRole", 503, "".into(), "".into(), None);
        assert!(CredentialsError::from(busy).is_retryable());
    }
}
