//! What a credential is, and the seam every source of credentials implements: the value types
//! that signing and transport need, below them all (as `aws-credential-types` sits below
//! everything in smithy-rs). A leaf: it imports nothing of the crate. The sources themselves,
//! the cache and the default chain are in [`crate::credentials`], which re-exports these.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::SystemTime;
use zeroize::Zeroizing;

/// A boxed future that can move between threads.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A source of credentials.
///
/// Implementations fetch on every call; wrap one in a [`CredentialsCache`](crate::credentials::CredentialsCache) to reuse what it
/// returns until shortly before expiry.
pub trait ProvideCredentials: Send + Sync + fmt::Debug {
    /// Fetches credentials.
    fn provide_credentials(&self) -> BoxFuture<'_, Result<Credentials, CredentialsError>>;

    /// Tells the provider that a service rejected credentials with this access key id as expired
    /// or invalid (`ExpiredToken`...). Caches use it to refresh early; others ignore it.
    fn invalidate(&self, access_key_id: &str) {
        let _ = access_key_id;
    }
}

/// A provider shared between clients.
pub type SharedCredentialsProvider = Arc<dyn ProvideCredentials>;

impl<P: ProvideCredentials + ?Sized> ProvideCredentials for Arc<P> {
    fn provide_credentials(&self) -> BoxFuture<'_, Result<Credentials, CredentialsError>> {
        (**self).provide_credentials()
    }

    fn invalidate(&self, access_key_id: &str) {
        (**self).invalidate(access_key_id)
    }
}

/// An access key, its secret, an optional session token and expiry, and the name of the
/// provider that produced them. Debug and Display never print the secret or the token; their
/// memory is zeroed when the last clone is dropped. Cloning is cheap (a reference count).
///
/// ```
/// use cirrus::Credentials;
///
/// let token = Some("FwoGEXAMPLE".to_owned());
/// let credentials = Credentials::new("ASIAEXAMPLE", "wJalrEXAMPLEKEY", token, None, "static");
/// let shown = format!("{credentials:?} {credentials}");
/// assert!(shown.contains("ASIAEXAMPLE"));
/// assert!(!shown.contains("wJalrEXAMPLEKEY") && !shown.contains("FwoGEXAMPLE"));
/// assert_eq!(credentials.to_string(), "ASIAEXAMPLE (from static, with session token)");
/// ```
#[derive(Clone)]
pub struct Credentials(Arc<Inner>);

struct Inner {
    access_key_id: String,
    secret_access_key: Zeroizing<String>,
    session_token: Option<Zeroizing<String>>,
    expiry: Option<SystemTime>,
    provider: &'static str,
}

impl Credentials {
    /// Credentials from their parts. `provider` names the source (`"static"`, `"environment"`...).
    pub fn new(
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
        session_token: Option<String>,
        expiry: Option<SystemTime>,
        provider: &'static str,
    ) -> Self {
        Credentials(Arc::new(Inner {
            access_key_id: access_key_id.into(),
            secret_access_key: Zeroizing::new(secret_access_key.into()),
            session_token: session_token.filter(|t| !t.is_empty()).map(Zeroizing::new),
            expiry,
            provider,
        }))
    }

    /// The access key id (not a secret).
    pub fn access_key_id(&self) -> &str {
        &self.0.access_key_id
    }

    /// The secret access key.
    pub fn secret_access_key(&self) -> &str {
        &self.0.secret_access_key
    }

    /// The session token of temporary credentials.
    pub fn session_token(&self) -> Option<&str> {
        self.0.session_token.as_ref().map(|t| t.as_str())
    }

    /// When the credentials stop working, if they do.
    pub fn expiry(&self) -> Option<SystemTime> {
        self.0.expiry
    }

    /// The provider that produced them.
    pub fn provider(&self) -> &'static str {
        self.0.provider
    }

    /// The same keys with another expiry.
    #[must_use]
    pub fn with_expiry(&self, expiry: Option<SystemTime>) -> Self {
        self.rebuild(expiry, self.0.provider)
    }

    /// The same keys under another provider name.
    #[must_use]
    pub fn with_provider(&self, provider: &'static str) -> Self {
        self.rebuild(self.0.expiry, provider)
    }

    fn rebuild(&self, expiry: Option<SystemTime>, provider: &'static str) -> Self {
        Credentials(Arc::new(Inner {
            access_key_id: self.0.access_key_id.clone(),
            secret_access_key: self.0.secret_access_key.clone(),
            session_token: self.0.session_token.clone(),
            expiry,
            provider,
        }))
    }

    /// True when the credentials have an expiry at or before `now`.
    pub fn is_expired_at(&self, now: SystemTime) -> bool {
        self.0.expiry.is_some_and(|e| e <= now)
    }
}

impl PartialEq for Credentials {
    fn eq(&self, other: &Self) -> bool {
        self.access_key_id() == other.access_key_id()
            && self.secret_access_key() == other.secret_access_key()
            && self.session_token() == other.session_token()
            && self.expiry() == other.expiry()
            && self.provider() == other.provider()
    }
}

impl Eq for Credentials {}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.0.access_key_id)
            .field("secret_access_key", &"** redacted **")
            .field("session_token", &self.0.session_token.as_ref().map(|_| "** redacted **"))
            .field("expiry", &self.0.expiry)
            .field("provider", &self.0.provider)
            .finish()
    }
}

impl fmt::Display for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (from {}", self.0.access_key_id, self.0.provider)?;
        if self.0.session_token.is_some() {
            f.write_str(", with session token")?;
        }
        f.write_str(")")
    }
}

/// Why no credentials could be had from a provider. Display says what failed; the cause, when
/// there is one (the failed call to STS, an I/O error), is the [`source`](std::error::Error::source).
#[derive(Clone, Debug)]
pub struct CredentialsError {
    kind: ErrorKind,
    message: String,
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

/// Kind, message and the cause's text: two errors with equal causes are equal.
impl PartialEq for CredentialsError {
    fn eq(&self, other: &Self) -> bool {
        let cause = |e: &Self| e.source.as_ref().map(|s| s.to_string());
        self.kind == other.kind && self.message == other.message && cause(self) == cause(other)
    }
}

impl Eq for CredentialsError {}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ErrorKind {
    /// The provider is not configured (it has nothing to offer): the chain moves on.
    NotConfigured,
    /// The provider is configured but broken: the chain stops with this error.
    Invalid,
    /// The source answered no (bad token, access denied): retrying will not help soon.
    Rejected,
    /// The source could not be reached or failed for a passing reason: a retry may succeed.
    Unavailable,
}

impl CredentialsError {
    /// The source is not set up; a chain moves on to its next link.
    pub fn not_configured(why: impl Into<String>) -> Self {
        CredentialsError { kind: ErrorKind::NotConfigured, message: why.into(), source: None }
    }

    /// The source is set up wrongly.
    pub fn invalid(why: impl Into<String>) -> Self {
        CredentialsError { kind: ErrorKind::Invalid, message: why.into(), source: None }
    }

    /// The source refused (e.g. AccessDenied from STS).
    pub fn rejected(why: impl Into<String>) -> Self {
        CredentialsError { kind: ErrorKind::Rejected, message: why.into(), source: None }
    }

    /// The source failed for a passing reason (network, timeout, 5xx, throttling).
    pub fn unavailable(why: impl Into<String>) -> Self {
        CredentialsError { kind: ErrorKind::Unavailable, message: why.into(), source: None }
    }

    /// The source is simply not set up (e.g. `AWS_ACCESS_KEY_ID not set`).
    pub fn is_not_configured(&self) -> bool {
        self.kind == ErrorKind::NotConfigured
    }

    /// A later attempt may succeed: the cache keeps serving what it has and backs off.
    pub fn is_retryable(&self) -> bool {
        self.kind == ErrorKind::Unavailable
    }

    /// The same error with `cause` as its [`source`](std::error::Error::source).
    #[must_use]
    pub fn with_source(mut self, cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(cause));
        self
    }

    /// The same error with `context` put in front of its message.
    #[must_use]
    pub fn context(mut self, context: impl fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }
}

impl fmt::Display for CredentialsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CredentialsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|s| s as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_redact_secrets() {
        let c = Credentials::new("AKID", "SECRETVALUE", Some("TOKENVALUE".into()), None, "static");
        for s in [format!("{c:?}"), format!("{c}"), format!("{c:#?}")] {
            assert!(!s.contains("SECRETVALUE") && !s.contains("TOKENVALUE"), "{s}");
            assert!(s.contains("AKID"));
        }
    }

    #[test]
    fn rebuilt_credentials_keep_their_keys() {
        let c = Credentials::new("AKID", "S", Some("T".into()), None, "static");
        let at = SystemTime::UNIX_EPOCH;
        let d = c.with_expiry(Some(at)).with_provider("other");
        assert_eq!((d.access_key_id(), d.secret_access_key(), d.session_token()), ("AKID", "S", Some("T")));
        assert_eq!((d.expiry(), d.provider()), (Some(at), "other"));
        assert!(d.is_expired_at(at) && !c.is_expired_at(at));
    }
}
