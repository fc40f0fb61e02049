//! AWS credentials and where they come from.

mod env;
mod process;
pub mod profile;
mod static_provider;

pub use env::EnvCredentials;
pub use profile::{ProfileChain, ProfileCredentials};
pub use static_provider::StaticCredentials;

use std::fmt;
use std::time::SystemTime;

/// An access key, its secret, an optional session token and expiry, and the name of the
/// provider that produced them. Debug and Display never print the secret or the token.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    access_key_id: String,
    secret_access_key: String,
    session_token: Option<String>,
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
        Credentials {
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
            session_token: session_token.filter(|t| !t.is_empty()),
            expiry,
            provider,
        }
    }

    /// The access key id (not a secret).
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// The secret access key.
    pub fn secret_access_key(&self) -> &str {
        &self.secret_access_key
    }

    /// The session token of temporary credentials.
    pub fn session_token(&self) -> Option<&str> {
        self.session_token.as_deref()
    }

    /// When the credentials stop working, if they do.
    pub fn expiry(&self) -> Option<SystemTime> {
        self.expiry
    }

    /// The provider that produced them.
    pub fn provider(&self) -> &'static str {
        self.provider
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"** redacted **")
            .field("session_token", &self.session_token.as_ref().map(|_| "** redacted **"))
            .field("expiry", &self.expiry)
            .field("provider", &self.provider)
            .finish()
    }
}

impl fmt::Display for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (from {}", self.access_key_id, self.provider)?;
        if self.session_token.is_some() {
            f.write_str(", with session token")?;
        }
        f.write_str(")")
    }
}

/// Why no credentials could be had from a provider.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CredentialsError {
    kind: ErrorKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum ErrorKind {
    /// The provider is not configured (it has nothing to offer): the chain moves on.
    NotConfigured(String),
    /// The provider is configured but broken: the chain stops with this error.
    Invalid(String),
}

impl CredentialsError {
    pub(crate) fn not_configured(why: impl Into<String>) -> Self {
        CredentialsError { kind: ErrorKind::NotConfigured(why.into()) }
    }

    pub(crate) fn invalid(why: impl Into<String>) -> Self {
        CredentialsError { kind: ErrorKind::Invalid(why.into()) }
    }

    /// The source is simply not set up (e.g. `AWS_ACCESS_KEY_ID not set`).
    pub fn is_not_configured(&self) -> bool {
        matches!(self.kind, ErrorKind::NotConfigured(_))
    }
}

impl fmt::Display for CredentialsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrorKind::NotConfigured(w) | ErrorKind::Invalid(w) => f.write_str(w),
        }
    }
}

impl std::error::Error for CredentialsError {}

/// The first links of the default chain: `explicit` credentials when given, then the
/// environment. Later links (profile files, web identity, container, IMDS) come next.
pub fn resolve(
    explicit: Option<&StaticCredentials>,
    env: &dyn crate::env::Env,
) -> Result<Credentials, CredentialsError> {
    if let Some(s) = explicit {
        return Ok(s.credentials());
    }
    EnvCredentials::new(env).credentials()
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
    fn explicit_credentials_win_over_env() {
        let env = [("AWS_ACCESS_KEY_ID", "ENVKEY"), ("AWS_SECRET_ACCESS_KEY", "envsecret")];
        let s = StaticCredentials::new("STATIC", "s", None);
        assert_eq!(resolve(Some(&s), &env).unwrap().access_key_id(), "STATIC");
        assert_eq!(resolve(None, &env).unwrap().access_key_id(), "ENVKEY");
        let none: [(&str, &str); 0] = [];
        assert!(resolve(None, &none).unwrap_err().is_not_configured());
    }
}
