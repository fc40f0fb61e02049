//! IAM Identity Center (SSO) credentials, as the AWS CLI gets them: the access token from the
//! AWS CLI's token cache (refreshed through SSO OIDC within 15 minutes of its expiry, for
//! `sso-session` profiles), then the role credentials from the SSO portal, themselves cached in
//! `~/.aws/cli/cache` under the AWS CLI's key until 15 minutes before they expire.

use super::{cli_cache, BoxFuture, Credentials, CredentialsError, ProvideCredentials};
use crate::context::Context;
use crate::sso::{Grant, OidcClient, PortalClient, Registration, SsoToken, TokenCache, OIDC_SPEC, PORTAL_SPEC};
use serde_json::{json, Value};
use std::time::{Duration, SystemTime};
use zeroize::Zeroizing;

/// How close to expiry a token is refreshed and cached role credentials are replaced (the AWS
/// CLI's 15 minutes).
const WINDOW: Duration = cli_cache::WINDOW;

/// An SSO profile's settings: from an `[sso-session]` section (`session` set) or, for a legacy
/// profile, from the profile itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SsoSettings {
    /// The profile naming the role.
    pub profile: String,
    /// The `sso-session` name; `None` for a legacy profile (`sso_start_url` in the profile).
    pub session: Option<String>,
    /// `sso_start_url`.
    pub start_url: String,
    /// `sso_region`.
    pub region: String,
    /// `sso_account_id`.
    pub account_id: String,
    /// `sso_role_name`.
    pub role_name: String,
}

impl SsoSettings {
    /// The token cache's key: the session name, or the start URL of a legacy profile.
    pub fn cache_key(&self) -> &str {
        self.session.as_deref().unwrap_or(&self.start_url)
    }

    /// The command that logs in again.
    pub fn login_hint(&self) -> String {
        format!("cirrus sso login --profile {}", self.profile)
    }
}

/// Role credentials for an SSO profile.
#[derive(Clone, Debug)]
pub struct SsoCredentials {
    ctx: Context,
    settings: SsoSettings,
}

impl SsoCredentials {
    /// Credentials for `settings`, reading the caches under the home of `ctx`.
    pub fn new(ctx: &Context, settings: SsoSettings) -> Self {
        SsoCredentials { ctx: ctx.clone(), settings }
    }

    fn token_cache(&self) -> TokenCache {
        TokenCache::default_location(self.ctx.env())
    }

    /// The access token of the login: cached, refreshed when it is within 15 minutes of its
    /// expiry (sso-session profiles; a legacy profile's token cannot be refreshed).
    pub async fn access_token(&self) -> Result<Zeroizing<String>, CredentialsError> {
        let s = &self.settings;
        let cache = self.token_cache();
        let Some(token) = cache.load(s.cache_key()) else {
            return Err(CredentialsError::invalid(format!(
                "profile `{}`: no IAM Identity Center login for {} in {}: run `{}`",
                s.profile,
                s.session.as_deref().map_or_else(|| s.start_url.clone(), |n| format!("sso-session `{n}`")),
                cache.dir().display(),
                s.login_hint()
            )));
        };
        let now = self.ctx.clock().now();
        let left = token.expires_at.duration_since(now).unwrap_or_default();
        if s.session.is_some() && left < WINDOW && token.can_refresh(now) {
            match self.refresh(&token).await {
                Ok(fresh) => {
                    if let Err(e) = cache.store(s.cache_key(), &fresh) {
                        tracing::warn!(error = %e, "could not write the refreshed SSO token to the cache");
                    }
                    return Ok(fresh.access_token);
                }
                Err(e) => tracing::debug!(error = %crate::transport::Chain(&e), "SSO token refresh failed"),
            }
        }
        if token.expires_at <= now {
            return Err(CredentialsError::invalid(format!(
                "profile `{}`: the IAM Identity Center login expired at {}: run `{}`",
                s.profile,
                crate::sso::format_time(token.expires_at),
                s.login_hint()
            )));
        }
        Ok(token.access_token)
    }

    async fn refresh(&self, token: &SsoToken) -> Result<SsoToken, crate::transport::Error> {
        let s = &self.settings;
        let oidc = OidcClient::new(crate::sso::service(&self.ctx, OIDC_SPEC, &s.region, &s.profile));
        let registration = Registration {
            client_id: token.client_id.clone().unwrap_or_default(),
            client_secret: token.client_secret.clone().unwrap_or_default(),
            expires_at: token.registration_expires_at.unwrap_or(SystemTime::UNIX_EPOCH),
        };
        let refresh = token.refresh_token.as_deref().map(String::as_str).unwrap_or_default();
        let grant = oidc.create_token(&registration, Grant::RefreshToken(refresh)).await?;
        tracing::info!(session = ?s.session, "SSO token refreshed");
        Ok(SsoToken {
            start_url: s.start_url.clone(),
            region: s.region.clone(),
            access_token: grant.access_token,
            expires_at: self.ctx.clock().now() + grant.expires_in,
            refresh_token: grant.refresh_token.or_else(|| token.refresh_token.clone()),
            ..token.clone()
        })
    }

    /// The AWS CLI's cache key for these role credentials: the SHA-1 of the sorted, compact JSON
    /// of account, role and session (or start URL).
    fn role_cache_key(&self) -> String {
        let s = &self.settings;
        let mut args = serde_json::Map::new();
        args.insert("accountId".into(), json!(s.account_id));
        args.insert("roleName".into(), json!(s.role_name));
        match &s.session {
            Some(n) => args.insert("sessionName".into(), json!(n)),
            None => args.insert("startUrl".into(), json!(s.start_url)),
        };
        crate::sso::sha1_hex(&cli_cache::python_json(&Value::Object(args), true))
    }

    async fn fetch(&self) -> Result<Credentials, CredentialsError> {
        let s = &self.settings;
        let key = self.role_cache_key();
        if let Some(c) = cli_cache::load(self.ctx.env(), &key, self.ctx.clock().now(), "sso") {
            tracing::debug!(profile = s.profile, "SSO role credentials from the AWS CLI's cache");
            return Ok(c);
        }
        let token = self.access_token().await?;
        let portal = PortalClient::new(crate::sso::service(&self.ctx, PORTAL_SPEC, &s.region, &s.profile));
        let creds = portal.get_role_credentials(&token, &s.account_id, &s.role_name).await.map_err(|e| {
            if e.status() == Some(401) || e.code() == Some("UnauthorizedException") {
                CredentialsError::invalid(format!(
                    "profile `{}`: IAM Identity Center refused the login token: run `{}`",
                    s.profile,
                    s.login_hint()
                ))
                .with_source(e)
            } else {
                CredentialsError::from(e)
            }
        })?;
        cli_cache::store(self.ctx.env(), &key, &creds, Some(&s.account_id), json!({ "ProviderType": "sso" }));
        Ok(creds)
    }
}

impl ProvideCredentials for SsoCredentials {
    fn provide_credentials(&self) -> BoxFuture<'_, Result<Credentials, CredentialsError>> {
        Box::pin(self.fetch())
    }
}
