//! IAM Identity Center (SSO): the two small services behind `aws sso login`, and the token
//! cache the AWS CLI keeps.
//!
//! - [`OidcClient`] (SSO OIDC, `oidc.<region>.amazonaws.com`): register a client, start a
//!   device authorization, and create tokens (device code, authorization code with PKCE,
//!   refresh token).
//! - [`PortalClient`] (the SSO portal, `portal.sso.<region>.amazonaws.com`): the accounts and
//!   roles an access token may reach, and their role credentials.
//! - [`TokenCache`]: `~/.aws/sso/cache/<sha1>.json` exactly as the AWS CLI reads and writes it,
//!   so a login by either tool serves both.
//!
//! Both services are called unsigned (the access token is the credential);
//! `AWS_ENDPOINT_URL_SSO_OIDC` and `AWS_ENDPOINT_URL_SSO` point them elsewhere.

mod cache;
mod login;

pub(crate) use cache::{format_time, parse_time, sha1_hex};
pub use cache::{SsoToken, TokenCache};
pub use login::{device_login, pkce_challenge, pkce_login, LoginError, LoginTarget};

use crate::context::Context;
use crate::service::{Protocol, ServiceId, ServiceSpec};
use crate::transport::{Error, Request, ServiceConfig};
use http::Method;
use serde_json::{json, Value};
use std::fmt;
use std::time::{Duration, SystemTime};
use zeroize::Zeroizing;

/// SSO OIDC.
pub const OIDC_SPEC: ServiceSpec = ServiceSpec {
    name: "SSO OIDC",
    signing_name: "sso-oauth",
    protocol: Protocol::RestJson,
    id: ServiceId { host_prefix: "oidc", env_suffix: "SSO_OIDC" },
};

/// The SSO portal.
pub const PORTAL_SPEC: ServiceSpec = ServiceSpec {
    name: "SSO",
    signing_name: "awsssoportal",
    protocol: Protocol::RestJson,
    id: ServiceId { host_prefix: "portal.sso", env_suffix: "SSO" },
};

/// A client configuration for `spec` (OIDC or the portal) in the Identity Center `region`: the
/// HTTP client and clock of `ctx`, unsigned, the endpoint from `AWS_ENDPOINT_URL_SSO_OIDC` /
/// `AWS_ENDPOINT_URL_SSO`, `AWS_ENDPOINT_URL`, the profile's `endpoint_url`, else AWS's. Not
/// `--endpoint-url`, which is for the command's own service.
pub fn service(ctx: &Context, spec: ServiceSpec, region: &str, profile: &str) -> ServiceConfig {
    let profiles = ctx.profiles().ok();
    let p = profiles.as_ref().and_then(|s| s.get(profile));
    let (url, _) = crate::service::endpoint::resolve(spec.id, region, None, ctx.env(), p);
    ServiceConfig::builder(spec, region, url).http(ctx.http().clone()).clock(ctx.clock().clone()).build()
}

/// The scope of a token that may ask for role credentials.
pub const DEFAULT_SCOPE: &str = "sso:account:access";

/// A registered OIDC client: what `RegisterClient` returns, kept in the token cache.
#[derive(Clone)]
pub struct Registration {
    /// The client id.
    pub client_id: String,
    /// The client secret.
    pub client_secret: Zeroizing<String>,
    /// When the registration ends.
    pub expires_at: SystemTime,
}

impl fmt::Debug for Registration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registration")
            .field("client_id", &self.client_id)
            .field("client_secret", &"** redacted **")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// A device authorization in progress: the code to show and where to enter it.
#[derive(Clone)]
pub struct DeviceAuthorization {
    /// The code the server polls on (a secret).
    pub device_code: Zeroizing<String>,
    /// The code the person types.
    pub user_code: String,
    /// Where to type it.
    pub verification_uri: String,
    /// The same with the code filled in, when the server gives one.
    pub verification_uri_complete: Option<String>,
    /// How long the codes last.
    pub expires_in: Duration,
    /// How often to poll (5 s unless the server says).
    pub interval: Duration,
}

impl fmt::Debug for DeviceAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceAuthorization")
            .field("user_code", &self.user_code)
            .field("verification_uri", &self.verification_uri)
            .finish_non_exhaustive()
    }
}

/// A token grant: how to ask `CreateToken` for an access token.
#[derive(Debug)]
#[non_exhaustive]
pub enum Grant<'a> {
    /// The device code of a [`DeviceAuthorization`].
    DeviceCode(&'a str),
    /// An authorization code from the redirect, with the PKCE verifier and the redirect URI.
    AuthorizationCode {
        /// The code.
        code: &'a str,
        /// The PKCE code verifier.
        verifier: &'a str,
        /// The redirect URI the code was sent to.
        redirect_uri: &'a str,
    },
    /// A refresh token.
    RefreshToken(&'a str),
}

/// What `CreateToken` returns.
#[derive(Clone)]
pub struct TokenGrant {
    /// The access token.
    pub access_token: Zeroizing<String>,
    /// Its lifetime.
    pub expires_in: Duration,
    /// A refresh token, when the grant gives one.
    pub refresh_token: Option<Zeroizing<String>>,
}

impl fmt::Debug for TokenGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenGrant").field("expires_in", &self.expires_in).finish_non_exhaustive()
    }
}

/// The SSO OIDC service.
#[derive(Clone, Debug)]
pub struct OidcClient {
    svc: ServiceConfig,
}

fn field<'a>(v: &'a Value, name: &str) -> Result<&'a str, String> {
    v.get(name).and_then(Value::as_str).ok_or_else(|| format!("no {name} in the answer"))
}

/// The longest lifetime taken from a server (ten years): a hostile or broken answer cannot
/// overflow a time, or make a poll wait for ever.
const MAX_SECONDS: u64 = 10 * 365 * 86_400;

/// The last second of year 9999, as seconds since 1970: the latest time taken from a server.
const MAX_EPOCH_SECONDS: u64 = 253_402_300_799;

fn seconds(v: &Value, name: &str) -> Option<Duration> {
    v.get(name).and_then(Value::as_u64).map(|s| Duration::from_secs(s.min(MAX_SECONDS)))
}

/// A time given as seconds (or milliseconds, `ms`) since 1970, no later than year 9999.
fn epoch(value: u64, ms: bool) -> SystemTime {
    let secs = if ms { value / 1000 } else { value };
    SystemTime::UNIX_EPOCH + Duration::from_secs(secs.min(MAX_EPOCH_SECONDS))
}

async fn post_json(svc: &ServiceConfig, op: &'static str, path: &str, body: &Value) -> Result<Value, Error> {
    let req = Request::new(Method::POST, format!("{}{path}", svc.endpoint()), body.to_string())
        .header("content-type", "application/json");
    let resp = svc.send(op, req).await?;
    json_answer(&resp.body).map_err(|e| Error::response(svc.name(), op, e))
}

fn json_answer(body: &[u8]) -> Result<Value, String> {
    serde_json::from_slice(body).map_err(|e| format!("the answer is not JSON: {e}"))
}

/// The answer of `RegisterClient`.
pub(crate) fn registration_from(v: &Value) -> Result<Registration, String> {
    let expires = v.get("clientSecretExpiresAt").and_then(Value::as_u64).unwrap_or_default();
    Ok(Registration {
        client_id: field(v, "clientId")?.to_owned(),
        client_secret: Zeroizing::new(field(v, "clientSecret")?.to_owned()),
        expires_at: epoch(expires, false),
    })
}

/// The answer of `StartDeviceAuthorization`.
pub(crate) fn device_authorization_from(v: &Value) -> Result<DeviceAuthorization, String> {
    Ok(DeviceAuthorization {
        device_code: Zeroizing::new(field(v, "deviceCode")?.to_owned()),
        user_code: field(v, "userCode")?.to_owned(),
        verification_uri: field(v, "verificationUri")?.to_owned(),
        verification_uri_complete: v.get("verificationUriComplete").and_then(Value::as_str).map(str::to_owned),
        expires_in: seconds(v, "expiresIn").unwrap_or(Duration::from_secs(600)),
        // Polled at least every minute, whatever the server asks.
        interval: seconds(v, "interval")
            .filter(|d| !d.is_zero())
            .unwrap_or(Duration::from_secs(5))
            .min(Duration::from_secs(60)),
    })
}

/// The answer of `CreateToken`.
pub(crate) fn token_grant_from(v: &Value) -> Result<TokenGrant, String> {
    Ok(TokenGrant {
        access_token: Zeroizing::new(field(v, "accessToken")?.to_owned()),
        expires_in: seconds(v, "expiresIn").unwrap_or(Duration::from_secs(3600)),
        refresh_token: v.get("refreshToken").and_then(Value::as_str).map(|t| Zeroizing::new(t.to_owned())),
    })
}

/// The answer of `GetRoleCredentials`.
pub(crate) fn role_credentials_from(body: &[u8]) -> Result<crate::identity::Credentials, String> {
    let v = json_answer(body)?;
    let c = v.get("roleCredentials").ok_or("no roleCredentials")?;
    let expiry = c.get("expiration").and_then(Value::as_u64).map(|ms| epoch(ms, true));
    Ok(crate::identity::Credentials::new(
        field(c, "accessKeyId")?,
        field(c, "secretAccessKey")?,
        c.get("sessionToken").and_then(Value::as_str).map(str::to_owned),
        expiry,
        "sso",
    ))
}

impl OidcClient {
    /// A client over this service configuration (unsigned: give it no credentials).
    pub fn new(svc: ServiceConfig) -> Self {
        OidcClient { svc }
    }

    /// `RegisterClient`: a public client for the device grant, or, with `redirect_uri` and
    /// `issuer_url` (the start URL), for the authorization-code grant with PKCE.
    pub async fn register_client(
        &self,
        client_name: &str,
        scopes: &[String],
        pkce: Option<(&str, &str)>,
    ) -> Result<Registration, Error> {
        const OP: &str = "RegisterClient";
        let mut body = json!({ "clientName": client_name, "clientType": "public", "scopes": scopes });
        if let Some((redirect_uri, issuer_url)) = pkce {
            body["grantTypes"] = json!(["authorization_code", "refresh_token"]);
            body["redirectUris"] = json!([redirect_uri]);
            body["issuerUrl"] = json!(issuer_url);
        }
        let v = post_json(&self.svc, OP, "/client/register", &body).await?;
        registration_from(&v).map_err(|e| Error::response(self.svc.name(), OP, e))
    }

    /// `StartDeviceAuthorization` for `start_url`.
    pub async fn start_device_authorization(
        &self,
        registration: &Registration,
        start_url: &str,
    ) -> Result<DeviceAuthorization, Error> {
        const OP: &str = "StartDeviceAuthorization";
        let body = json!({
            "clientId": registration.client_id,
            "clientSecret": registration.client_secret.as_str(),
            "startUrl": start_url,
        });
        let v = post_json(&self.svc, OP, "/device_authorization", &body).await?;
        device_authorization_from(&v).map_err(|e| Error::response(self.svc.name(), OP, e))
    }

    /// `CreateToken`. While a device authorization waits for the person, this fails with
    /// `AuthorizationPendingException` (or `SlowDownException`): see
    /// [`Error::code`](crate::transport::Error::code).
    pub async fn create_token(&self, registration: &Registration, grant: Grant<'_>) -> Result<TokenGrant, Error> {
        const OP: &str = "CreateToken";
        let mut body = json!({
            "clientId": registration.client_id,
            "clientSecret": registration.client_secret.as_str(),
        });
        match grant {
            Grant::DeviceCode(code) => {
                body["grantType"] = json!("urn:ietf:params:oauth:grant-type:device_code");
                body["deviceCode"] = json!(code);
            }
            Grant::AuthorizationCode { code, verifier, redirect_uri } => {
                body["grantType"] = json!("authorization_code");
                body["code"] = json!(code);
                body["codeVerifier"] = json!(verifier);
                body["redirectUri"] = json!(redirect_uri);
            }
            Grant::RefreshToken(token) => {
                body["grantType"] = json!("refresh_token");
                body["refreshToken"] = json!(token);
            }
        }
        let v = post_json(&self.svc, OP, "/token", &body).await?;
        token_grant_from(&v).map_err(|e| Error::response(self.svc.name(), OP, e))
    }

    /// The authorization endpoint a browser is sent to for the authorization-code grant.
    pub fn authorize_url(&self) -> String {
        format!("{}/authorize", self.svc.endpoint())
    }
}

/// The SSO portal.
#[derive(Clone, Debug)]
pub struct PortalClient {
    svc: ServiceConfig,
}

impl PortalClient {
    /// A client over this service configuration (unsigned: give it no credentials).
    pub fn new(svc: ServiceConfig) -> Self {
        PortalClient { svc }
    }

    /// `GetRoleCredentials`: the credentials of `role_name` in `account_id` for this access token.
    pub async fn get_role_credentials(
        &self,
        access_token: &str,
        account_id: &str,
        role_name: &str,
    ) -> Result<crate::identity::Credentials, Error> {
        const OP: &str = "GetRoleCredentials";
        let mut query = String::from("/federation/credentials?account_id=");
        cirrus_sigv4::uri_encode_into(&mut query, account_id, false);
        query.push_str("&role_name=");
        cirrus_sigv4::uri_encode_into(&mut query, role_name, false);
        let req = Request::new(Method::GET, format!("{}{query}", self.svc.endpoint()), "")
            .try_header(http::HeaderName::from_static("x-amz-sso_bearer_token"), access_token)
            .map_err(|e| Error::input(self.svc.name(), OP, crate::transport::Chain(&e).to_string()))?;
        let resp = self.svc.send(OP, req).await?;
        role_credentials_from(&resp.body).map_err(|e| Error::response(self.svc.name(), OP, e))
    }

    /// `ListAccounts`: the accounts this access token may reach, every page.
    pub async fn list_accounts(&self, access_token: &str) -> Result<Vec<Account>, Error> {
        let pages = self.pages("ListAccounts", "/assignment/accounts", access_token, "accountList").await?;
        pages
            .iter()
            .map(|a| {
                Ok(Account {
                    account_id: field(a, "accountId")?.to_owned(),
                    account_name: a.get("accountName").and_then(Value::as_str).map(str::to_owned),
                    email_address: a.get("emailAddress").and_then(Value::as_str).map(str::to_owned),
                })
            })
            .collect::<Result<_, String>>()
            .map_err(|e| Error::response(self.svc.name(), "ListAccounts", e))
    }

    /// `ListAccountRoles`: the names of the roles this access token may take in `account_id`,
    /// every page.
    pub async fn list_account_roles(&self, access_token: &str, account_id: &str) -> Result<Vec<String>, Error> {
        let mut path = String::from("/assignment/roles?account_id=");
        cirrus_sigv4::uri_encode_into(&mut path, account_id, false);
        let pages = self.pages("ListAccountRoles", &path, access_token, "roleList").await?;
        pages
            .iter()
            .map(|r| field(r, "roleName").map(str::to_owned))
            .collect::<Result<_, String>>()
            .map_err(|e| Error::response(self.svc.name(), "ListAccountRoles", e))
    }

    /// Every item of the list `key` of a paged portal call (`nextToken`), at most
    /// [`MAX_PAGES`] pages: a server that repeats a token cannot keep the caller for ever.
    async fn pages(&self, op: &'static str, path: &str, access_token: &str, key: &str) -> Result<Vec<Value>, Error> {
        let mut items = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut url = format!("{}{path}", self.svc.endpoint());
            url.push(if path.contains('?') { '&' } else { '?' });
            url.push_str("max_result=100");
            if let Some(t) = &token {
                url.push_str("&next_token=");
                cirrus_sigv4::uri_encode_into(&mut url, t, false);
            }
            let req = Request::new(Method::GET, url, "")
                .try_header(http::HeaderName::from_static("x-amz-sso_bearer_token"), access_token)
                .map_err(|e| Error::input(self.svc.name(), op, crate::transport::Chain(&e).to_string()))?;
            let resp = self.svc.send(op, req).await?;
            let mut v = json_answer(&resp.body).map_err(|e| Error::response(self.svc.name(), op, e))?;
            match v.get_mut(key).map(Value::take) {
                Some(Value::Array(page)) => items.extend(page),
                Some(Value::Null) | None => {}
                Some(_) => return Err(Error::response(self.svc.name(), op, format!("{key} is not a list"))),
            }
            let next = v.get("nextToken").and_then(Value::as_str).filter(|t| !t.is_empty());
            match next {
                Some(t) if token.as_deref() != Some(t) => token = Some(t.to_owned()),
                _ => return Ok(items),
            }
        }
        Err(Error::response(self.svc.name(), op, format!("more than {MAX_PAGES} pages")))
    }
}

/// The most pages a portal listing reads.
const MAX_PAGES: usize = 1000;

/// An account of `ListAccounts`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Account {
    /// The 12-digit account id.
    pub account_id: String,
    /// Its name, as the portal shows it.
    pub account_name: Option<String>,
    /// The account's root email address.
    pub email_address: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_from_a_server_are_bounded() {
        let v = json!({"expiresIn": u64::MAX, "short": 30});
        assert_eq!(seconds(&v, "expiresIn"), Some(Duration::from_secs(MAX_SECONDS)));
        assert_eq!(seconds(&v, "short"), Some(Duration::from_secs(30)));
        // Neither overflows SystemTime (which would panic).
        let far = epoch(u64::MAX, false);
        assert!(far > SystemTime::now() && epoch(u64::MAX, true) == far);
        assert_eq!(epoch(1_000, true), SystemTime::UNIX_EPOCH + Duration::from_secs(1));
        let _ = SystemTime::now() + seconds(&v, "expiresIn").unwrap_or_default();
    }
}
