//! Credentials given in code.

use super::{BoxFuture, Credentials, CredentialsError, ProvideCredentials};

/// Fixed credentials, e.g. from a CLI flag or a secret store.
///
/// ```
/// use cirrus::loader::CredentialsChoice;
/// use cirrus::credentials::StaticCredentials;
/// use cirrus::Config;
/// use std::sync::Arc;
///
/// let keys = StaticCredentials::new("AKIDEXAMPLE", "wJalrEXAMPLEKEY", None);
/// assert_eq!(keys.credentials().provider(), "static");
/// let config = Config::loader()
///     .region(Some("eu-west-1"))
///     .credentials(CredentialsChoice::Provider(Arc::new(keys)))
///     .load()?;
/// assert!(config.chain().is_none()); // the default chain is not consulted
/// # Ok::<(), cirrus::config::ConfigError>(())
/// ```
#[derive(Clone, Debug)]
pub struct StaticCredentials {
    credentials: Credentials,
}

impl StaticCredentials {
    /// Wraps an access key, secret and optional session token.
    pub fn new(
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
        session_token: Option<String>,
    ) -> Self {
        StaticCredentials {
            credentials: Credentials::new(access_key_id, secret_access_key, session_token, None, "static"),
        }
    }

    /// Wraps credentials that already exist.
    pub fn from_credentials(credentials: Credentials) -> Self {
        StaticCredentials { credentials }
    }

    /// The credentials.
    pub fn credentials(&self) -> Credentials {
        self.credentials.clone()
    }
}

impl ProvideCredentials for StaticCredentials {
    fn provide_credentials(&self) -> BoxFuture<'_, Result<Credentials, CredentialsError>> {
        let c = self.credentials.clone();
        Box::pin(async move { Ok(c) })
    }
}
