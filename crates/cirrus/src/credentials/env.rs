//! Credentials from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN` and
//! `AWS_CREDENTIAL_EXPIRATION`.

use super::{BoxFuture, Credentials, CredentialsError, ProvideCredentials};
use crate::context::Context;
use crate::env::Env;

/// The environment provider: the first link of the default chain.
#[derive(Clone, Debug)]
pub struct EnvCredentials {
    ctx: Context,
}

impl EnvCredentials {
    /// Reads the variables through `ctx`.
    pub fn new(ctx: &Context) -> Self {
        EnvCredentials { ctx: ctx.clone() }
    }

    /// The credentials, `not configured` when `AWS_ACCESS_KEY_ID` is unset, an error when the
    /// key is set without its secret or the expiration is not RFC 3339.
    pub fn credentials(&self) -> Result<Credentials, CredentialsError> {
        from_env(self.ctx.env(), "environment")
    }
}

/// Reads the four variables; `provider` names the result.
pub(crate) fn from_env(env: &dyn Env, provider: &'static str) -> Result<Credentials, CredentialsError> {
    let Some(access_key) = env.get("AWS_ACCESS_KEY_ID") else {
        return Err(CredentialsError::not_configured("AWS_ACCESS_KEY_ID not set"));
    };
    let Some(secret) = env.get("AWS_SECRET_ACCESS_KEY") else {
        return Err(CredentialsError::invalid("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"));
    };
    let expiry = match env.get("AWS_CREDENTIAL_EXPIRATION") {
        None => None,
        Some(s) => Some(cirrus_sigv4::parse_rfc3339(&s).ok_or_else(|| {
            CredentialsError::invalid(format!("AWS_CREDENTIAL_EXPIRATION is not an RFC 3339 UTC time: {s:?}"))
        })?),
    };
    Ok(Credentials::new(access_key, secret, env.get("AWS_SESSION_TOKEN"), expiry, provider))
}

impl ProvideCredentials for EnvCredentials {
    fn provide_credentials(&self) -> BoxFuture<'_, Result<Credentials, CredentialsError>> {
        let r = self.credentials();
        Box::pin(async move { r })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn provider<const N: usize>(vars: [(&'static str, &'static str); N]) -> EnvCredentials {
        EnvCredentials::new(&Context::new(Arc::new(vars), Arc::new(crate::fs::MemFs::default())))
    }

    #[test]
    fn reads_all_four_variables() {
        let c = provider([
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_SESSION_TOKEN", "token"),
            ("AWS_CREDENTIAL_EXPIRATION", "2030-01-01T00:00:00Z"),
        ])
        .credentials()
        .unwrap();
        assert_eq!((c.access_key_id(), c.secret_access_key(), c.session_token()), ("AKID", "secret", Some("token")));
        assert_eq!(c.expiry(), cirrus_sigv4::parse_rfc3339("2030-01-01T00:00:00Z"));
        assert_eq!(c.provider(), "environment");
    }

    #[test]
    fn explains_what_is_missing() {
        let e = provider([]).credentials().unwrap_err();
        assert!(e.is_not_configured());
        assert_eq!(e.to_string(), "AWS_ACCESS_KEY_ID not set");
        let e = provider([("AWS_ACCESS_KEY_ID", "AKID")]).credentials().unwrap_err();
        assert!(!e.is_not_configured());
        assert!(e.to_string().contains("AWS_SECRET_ACCESS_KEY"));
        let bad = [("AWS_ACCESS_KEY_ID", "A"), ("AWS_SECRET_ACCESS_KEY", "s"), ("AWS_CREDENTIAL_EXPIRATION", "soon")];
        assert!(provider(bad).credentials().unwrap_err().to_string().contains("RFC 3339"));
    }
}
