//! EC2 instance metadata (IMDSv2): a session token from `PUT /latest/api/token`, then the role
//! name and its credentials under `/latest/meta-data/iam/security-credentials/`.
//!
//! `AWS_EC2_METADATA_DISABLED=true` turns it off; `AWS_EC2_METADATA_SERVICE_ENDPOINT` (or the
//! profile's `ec2_metadata_service_endpoint`) moves it. Every request has a 1 s timeout, so a
//! machine that is not on EC2 learns it in about a second. A token the service calls stale (401)
//! is replaced once. When IMDS hands out credentials that have already expired (it does during
//! outages), the last good ones keep being served, as the SDKs do.

use super::{BoxFuture, Credentials, CredentialsError, ProvideCredentials};
use crate::context::Context;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

const DEFAULT_ENDPOINT: &str = "http://169.254.169.254";
const TOKEN_TTL_SECS: u64 = 21_600;
const TIMEOUT: Duration = Duration::from_secs(1);
const CREDS_PATH: &str = "/latest/meta-data/iam/security-credentials/";

/// The IMDSv2 provider.
#[derive(Debug)]
pub struct ImdsCredentials {
    ctx: Context,
    endpoint: Option<String>,
    token: Mutex<Option<(String, SystemTime)>>,
    last_good: Mutex<Option<Credentials>>,
    timeout: Duration,
}

impl ImdsCredentials {
    /// Reads its settings through `ctx`.
    pub fn new(ctx: &Context) -> Self {
        ImdsCredentials {
            ctx: ctx.clone(),
            endpoint: None,
            token: Mutex::new(None),
            last_good: Mutex::new(None),
            timeout: TIMEOUT,
        }
    }

    /// Uses this endpoint instead of the environment's or the default.
    #[must_use]
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = Some(url.into());
        self
    }

    /// Uses this per-request timeout instead of 1 s.
    #[must_use]
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = t;
        self
    }

    fn base(&self) -> Result<String, CredentialsError> {
        let env = self.ctx.env();
        if env.get("AWS_EC2_METADATA_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
            return Err(CredentialsError::not_configured("AWS_EC2_METADATA_DISABLED is true"));
        }
        let url = self
            .endpoint
            .clone()
            .or_else(|| env.get("AWS_EC2_METADATA_SERVICE_ENDPOINT"))
            .unwrap_or_else(|| DEFAULT_ENDPOINT.to_owned());
        if !crate::transport::valid_url(&url) {
            return Err(CredentialsError::invalid(format!("the IMDS endpoint {url:?} is not a URL")));
        }
        Ok(url.trim_end_matches('/').to_owned())
    }

    async fn session_token(&self, base: &str, renew: bool) -> Result<String, CredentialsError> {
        let now = self.ctx.clock().now();
        if !renew {
            if let Some((t, until)) = &*lock(&self.token) {
                if now < *until {
                    return Ok(t.clone());
                }
            }
        }
        let req = http::Request::put(format!("{base}/latest/api/token"))
            .header("x-aws-ec2-metadata-token-ttl-seconds", TOKEN_TTL_SECS.to_string())
            .body(bytes::Bytes::new())
            .map_err(|e| CredentialsError::invalid(format!("IMDS endpoint {base:?} is not a valid URL: {e}")))?;
        let resp = self.ctx.http().call_direct(req, Some(self.timeout)).await.map_err(|e| {
            // Nothing answers: not on EC2 (or IMDS is off). The chain moves on.
            CredentialsError::not_configured(format!("no instance metadata service at {base}")).with_source(e)
        })?;
        let status = resp.status().as_u16();
        if status == 403 {
            return Err(CredentialsError::not_configured(format!("instance metadata at {base} is disabled (403)")));
        }
        if status != 200 {
            return Err(CredentialsError::unavailable(format!("IMDS token request to {base} answered {status}")));
        }
        let ttl = resp
            .headers()
            .get("x-aws-ec2-metadata-token-ttl-seconds")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            // IMDS tokens live six hours at most; a larger answer must not overflow the clock.
            .map(|ttl| ttl.min(21_600))
            .unwrap_or(TOKEN_TTL_SECS);
        let token = String::from_utf8(resp.into_body().to_vec())
            .map_err(|_| CredentialsError::unavailable("the IMDS token is not UTF-8"))?;
        // Renew a little before the service would call it stale.
        let until = now + Duration::from_secs(ttl.saturating_sub(60).max(1));
        *lock(&self.token) = Some((token.clone(), until));
        Ok(token)
    }

    /// A GET with the session token, renewing the token once if the service says it is stale.
    async fn get(&self, base: &str, path: &str) -> Result<String, CredentialsError> {
        let mut renew = false;
        loop {
            let token = self.session_token(base, renew).await?;
            let req = http::Request::get(format!("{base}{path}"))
                .header("x-aws-ec2-metadata-token", token)
                .body(bytes::Bytes::new())
                .map_err(|e| CredentialsError::invalid(format!("IMDS URL {base}{path}: {e}")))?;
            let resp = self
                .ctx
                .http()
                .call_direct(req, Some(self.timeout))
                .await
                .map_err(|e| CredentialsError::unavailable(format!("IMDS {path} did not answer")).with_source(e))?;
            let status = resp.status().as_u16();
            if status == 401 && !renew {
                renew = true;
                continue;
            }
            let body = String::from_utf8_lossy(resp.body()).into_owned();
            return match status {
                200 => Ok(body),
                404 => Err(CredentialsError::not_configured(format!(
                    "the instance at {base} has no IAM role (404 on {path})"
                ))),
                s if s >= 500 => Err(CredentialsError::unavailable(format!("IMDS {path} answered {s}"))),
                s => Err(CredentialsError::rejected(format!("IMDS {path} answered {s}"))),
            };
        }
    }

    /// The instance's region (`/latest/meta-data/placement/region`), with the same token flow,
    /// timeouts and off switch as the credentials.
    pub async fn region(&self) -> Result<String, CredentialsError> {
        let base = self.base()?;
        let body = self.get(&base, "/latest/meta-data/placement/region").await?;
        let region = body.trim();
        let valid = !region.is_empty()
            && region.len() <= 64
            && region.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !valid {
            let shown: String = region.chars().take(64).collect();
            return Err(CredentialsError::invalid(format!("IMDS at {base} returned {shown:?}, which is not a region")));
        }
        Ok(region.to_owned())
    }

    async fn fetch(&self) -> Result<Credentials, CredentialsError> {
        let base = self.base()?;
        let roles = self.get(&base, CREDS_PATH).await?;
        let role = roles
            .lines()
            .next()
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .ok_or_else(|| CredentialsError::not_configured(format!("the instance at {base} has no IAM role")))?;
        // The name goes into the next path: only what IAM allows in a role name, so an answer
        // cannot point the request elsewhere (`../../user-data`, `?x`).
        let iam_name = role.len() <= 128
            && role.bytes().all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
            && !role.starts_with('.');
        if !iam_name {
            return Err(CredentialsError::invalid(format!(
                "the instance at {base} names its role {role:?}, which is not an IAM role name"
            )));
        }
        let doc = self.get(&base, &format!("{CREDS_PATH}{role}")).await?;
        let creds = super::container::parse_json_credentials(doc.as_bytes(), "imds")
            .map_err(|e| CredentialsError::invalid(format!("IMDS credentials for role {role}: {e}")))?;
        let now = self.ctx.clock().now();
        if creds.is_expired_at(now) {
            // Static stability: keep going with what worked, for a few minutes at a time.
            let extended = now + Duration::from_secs(300 + fastrand::u64(0..300));
            let last = lock(&self.last_good).clone();
            tracing::warn!("IMDS returned expired credentials; serving the last good ones for a few more minutes");
            return Ok(last.unwrap_or(creds).with_expiry(Some(extended)));
        }
        *lock(&self.last_good) = Some(creds.clone());
        Ok(creds)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl ProvideCredentials for ImdsCredentials {
    fn provide_credentials(&self) -> BoxFuture<'_, Result<Credentials, CredentialsError>> {
        Box::pin(self.fetch())
    }
}
