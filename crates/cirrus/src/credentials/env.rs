//! Credentials from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN` and
//! `AWS_CREDENTIAL_EXPIRATION`.

use super::{Credentials, CredentialsError};
use crate::env::Env;

/// The environment provider: the first link of the default chain.
pub struct EnvCredentials<'e> {
    env: &'e dyn Env,
}

impl<'e> EnvCredentials<'e> {
    /// Reads from `env` (use [`crate::env::ProcessEnv`] for the real one).
    pub fn new(env: &'e dyn Env) -> Self {
        EnvCredentials { env }
    }

    /// The credentials, `not configured` when `AWS_ACCESS_KEY_ID` is unset, an error when the
    /// key is set without its secret or the expiration is not RFC 3339.
    pub fn credentials(&self) -> Result<Credentials, CredentialsError> {
        let Some(access_key) = self.env.get("AWS_ACCESS_KEY_ID") else {
            return Err(CredentialsError::not_configured("AWS_ACCESS_KEY_ID not set"));
        };
        let Some(secret) = self.env.get("AWS_SECRET_ACCESS_KEY") else {
            return Err(CredentialsError::invalid("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"));
        };
        let expiry = match self.env.get("AWS_CREDENTIAL_EXPIRATION") {
            None => None,
            Some(s) => Some(cirrus_sigv4::parse_rfc3339(&s).ok_or_else(|| {
                CredentialsError::invalid(format!("AWS_CREDENTIAL_EXPIRATION is not an RFC 3339 UTC time: {s:?}"))
            })?),
        };
        Ok(Credentials::new(access_key, secret, self.env.get("AWS_SESSION_TOKEN"), expiry, "environment"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_all_four_variables() {
        let env = [
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_SESSION_TOKEN", "token"),
            ("AWS_CREDENTIAL_EXPIRATION", "2030-01-01T00:00:00Z"),
        ];
        let c = EnvCredentials::new(&env).credentials().unwrap();
        assert_eq!((c.access_key_id(), c.secret_access_key(), c.session_token()), ("AKID", "secret", Some("token")));
        assert_eq!(c.expiry(), cirrus_sigv4::parse_rfc3339("2030-01-01T00:00:00Z"));
        assert_eq!(c.provider(), "environment");
    }

    #[test]
    fn explains_what_is_missing() {
        let none: [(&str, &str); 0] = [];
        let e = EnvCredentials::new(&none).credentials().unwrap_err();
        assert!(e.is_not_configured());
        assert_eq!(e.to_string(), "AWS_ACCESS_KEY_ID not set");
        let e = EnvCredentials::new(&[("AWS_ACCESS_KEY_ID", "AKID")]).credentials().unwrap_err();
        assert!(!e.is_not_configured());
        assert!(e.to_string().contains("AWS_SECRET_ACCESS_KEY"));
        let bad = [("AWS_ACCESS_KEY_ID", "A"), ("AWS_SECRET_ACCESS_KEY", "s"), ("AWS_CREDENTIAL_EXPIRATION", "soon")];
        assert!(EnvCredentials::new(&bad).credentials().unwrap_err().to_string().contains("RFC 3339"));
    }
}
