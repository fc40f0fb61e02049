//! STS: who am I, and temporary credentials (AssumeRole, AssumeRoleWithWebIdentity,
//! GetSessionToken), on the regional endpoint.
//!
//! API reference: <https://docs.aws.amazon.com/STS/latest/APIReference/welcome.html>

use crate::identity::Credentials;
use crate::service::{Protocol, ServiceId, ServiceSpec};
use crate::transport::protocol::{query_body, query_result};
use crate::transport::xml::Element;
use crate::transport::{Error, Request, ServiceConfig};
use http::Method;
use std::fmt;
use std::sync::{Arc, OnceLock};

const VERSION: &str = "2011-06-15";

/// The STS client.
#[derive(Clone)]
pub struct StsClient {
    svc: Arc<OnceLock<ServiceConfig>>,
    make: Arc<dyn Fn() -> ServiceConfig + Send + Sync>,
}

impl fmt::Debug for StsClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StsClient").field("svc", &self.svc.get()).finish_non_exhaustive()
    }
}

/// The answer of GetCallerIdentity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallerIdentity {
    /// The account id.
    pub account: String,
    /// The ARN of the caller.
    pub arn: String,
    /// The unique id of the caller.
    pub user_id: String,
}

/// AssumeRole's input. <https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html>
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct AssumeRoleRequest {
    /// The role.
    pub role_arn: String,
    /// The session name (2-64 characters of `[\w+=,.@-]`).
    pub session_name: String,
    /// The external id the role's trust policy asks for.
    pub external_id: Option<String>,
    /// Lifetime in seconds (900 up to the role's maximum; 3600 when unset).
    pub duration_seconds: Option<u32>,
    /// An inline session policy.
    pub policy: Option<String>,
    /// The MFA device serial number and its current code.
    pub mfa: Option<(String, String)>,
}

impl AssumeRoleRequest {
    /// A request for `role_arn` under `session_name`.
    pub fn new(role_arn: impl Into<String>, session_name: impl Into<String>) -> Self {
        AssumeRoleRequest { role_arn: role_arn.into(), session_name: session_name.into(), ..Default::default() }
    }
}

/// Credentials from STS and who they belong to.
#[derive(Clone)]
pub struct AssumedRole {
    /// The credentials.
    pub credentials: Credentials,
    /// The assumed role's ARN (`arn:aws:sts::123:assumed-role/name/session`).
    pub arn: Option<String>,
    /// The role's unique id and the session name (`AROA...:session`).
    pub assumed_role_id: Option<String>,
}

impl fmt::Debug for AssumedRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AssumedRole")
            .field("credentials", &self.credentials)
            .field("arn", &self.arn)
            .field("assumed_role_id", &self.assumed_role_id)
            .finish()
    }
}

impl StsClient {
    /// A client over this service configuration (`Config::sts` makes one from a configuration).
    pub fn new(svc: ServiceConfig) -> Self {
        let fallback = svc.clone();
        StsClient { svc: Arc::new(OnceLock::from(svc)), make: Arc::new(move || fallback.clone()) }
    }

    /// A client whose configuration is worked out on first use (so a credential chain that
    /// never needs STS never reads the files that name its endpoint).
    pub(crate) fn lazy(make: impl Fn() -> ServiceConfig + Send + Sync + 'static) -> Self {
        StsClient { svc: Arc::new(OnceLock::new()), make: Arc::new(make) }
    }

    fn svc(&self) -> &ServiceConfig {
        self.svc.get_or_init(|| (self.make)())
    }

    /// The same client signing with other credentials (`None`: unsigned).
    #[must_use]
    pub fn with_credentials(&self, credentials: Option<crate::identity::SharedCredentialsProvider>) -> Self {
        StsClient::new(self.svc().clone().with_credentials(credentials))
    }

    /// The service configuration in use.
    pub fn service_config(&self) -> &ServiceConfig {
        self.svc()
    }

    async fn call(&self, svc: &ServiceConfig, action: &'static str, params: &[(&str, &str)]) -> Result<Element, Error> {
        let body = query_body(action, VERSION, params.iter().copied());
        let req = Request::new(Method::POST, format!("{}/", svc.endpoint()), body)
            .header("content-type", "application/x-www-form-urlencoded; charset=utf-8");
        let resp = svc.send(action, req).await?;
        query_result(action, &resp.body).map_err(|e| Error::response(svc.name(), action, e))
    }

    /// [GetCallerIdentity](https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html).
    ///
    /// ```no_run
    /// # async fn example() -> Result<(), Box<dyn std::error::Error>> {
    /// let config = cirrus::Config::from_env()?;
    /// let me = config.sts().get_caller_identity().await?;
    /// println!("account {} as {}", me.account, me.arn);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn get_caller_identity(&self) -> Result<CallerIdentity, Error> {
        let r = self.call(self.svc(), "GetCallerIdentity", &[]).await?;
        let field = |n: &str| r.text_of(n).unwrap_or_default().to_owned();
        Ok(CallerIdentity { account: field("Account"), arn: field("Arn"), user_id: field("UserId") })
    }

    /// [AssumeRole](https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html).
    ///
    /// ```no_run
    /// # async fn example() -> Result<(), Box<dyn std::error::Error>> {
    /// use cirrus::sts::AssumeRoleRequest;
    /// use cirrus::Config;
    ///
    /// let role_arn = "arn:aws:iam::123456789012:role/deploy";
    /// let mut request = AssumeRoleRequest::new(role_arn, "ci-run-42");
    /// request.duration_seconds = Some(900);
    /// let role = Config::from_env()?.sts().assume_role(&request).await?;
    /// println!("{} until {:?}", role.credentials, role.credentials.expiry());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn assume_role(&self, req: &AssumeRoleRequest) -> Result<AssumedRole, Error> {
        let duration = req.duration_seconds.map(|d| d.to_string());
        let mut params = vec![("RoleArn", req.role_arn.as_str()), ("RoleSessionName", req.session_name.as_str())];
        if let Some(x) = &req.external_id {
            params.push(("ExternalId", x));
        }
        if let Some(d) = &duration {
            params.push(("DurationSeconds", d));
        }
        if let Some(p) = &req.policy {
            params.push(("Policy", p));
        }
        if let Some((serial, code)) = &req.mfa {
            params.push(("SerialNumber", serial));
            params.push(("TokenCode", code));
        }
        let r = self.call(self.svc(), "AssumeRole", &params).await?;
        self.assumed(&r, "AssumeRole", "AssumedRoleUser", "assume_role")
    }

    /// [AssumeRoleWithWebIdentity](https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html):
    /// sent unsigned, the token being the proof.
    pub async fn assume_role_with_web_identity(
        &self,
        role_arn: &str,
        session_name: &str,
        token: &str,
        duration_seconds: Option<u32>,
    ) -> Result<AssumedRole, Error> {
        let anonymous = self.svc().clone().with_credentials(None);
        let duration = duration_seconds.map(|d| d.to_string());
        let mut params = vec![("RoleArn", role_arn), ("RoleSessionName", session_name), ("WebIdentityToken", token)];
        if let Some(d) = &duration {
            params.push(("DurationSeconds", d));
        }
        let r = self.call(&anonymous, "AssumeRoleWithWebIdentity", &params).await?;
        self.assumed(&r, "AssumeRoleWithWebIdentity", "AssumedRoleUser", "web_identity")
    }

    /// [GetSessionToken](https://docs.aws.amazon.com/STS/latest/APIReference/API_GetSessionToken.html).
    pub async fn get_session_token(
        &self,
        duration_seconds: Option<u32>,
        mfa: Option<(&str, &str)>,
    ) -> Result<Credentials, Error> {
        let duration = duration_seconds.map(|d| d.to_string());
        let mut params = Vec::new();
        if let Some(d) = &duration {
            params.push(("DurationSeconds", d.as_str()));
        }
        if let Some((serial, code)) = mfa {
            params.push(("SerialNumber", serial));
            params.push(("TokenCode", code));
        }
        let r = self.call(self.svc(), "GetSessionToken", &params).await?;
        Ok(self.assumed(&r, "GetSessionToken", "-", "session_token")?.credentials)
    }

    fn assumed(
        &self,
        r: &Element,
        action: &'static str,
        user: &str,
        provider: &'static str,
    ) -> Result<AssumedRole, Error> {
        let c = r
            .child("Credentials")
            .ok_or_else(|| Error::response(self.svc().name(), action, "no <Credentials> in the answer"))?;
        let field = |n: &str| {
            c.text_of(n)
                .filter(|s| !s.is_empty())
                .ok_or_else(|| Error::response(self.svc().name(), action, format!("no <{n}> in <Credentials>")))
        };
        let expiry = field("Expiration")?;
        let expiry = cirrus_sigv4::parse_rfc3339(expiry).ok_or_else(|| {
            Error::response(self.svc().name(), action, format!("Expiration {expiry:?} is not an RFC 3339 time"))
        })?;
        let credentials = Credentials::new(
            field("AccessKeyId")?,
            field("SecretAccessKey")?,
            Some(field("SessionToken")?.to_owned()),
            Some(expiry),
            provider,
        );
        let arn = r.path(&[user, "Arn"]).map(|e| e.text.clone());
        let assumed_role_id = r.path(&[user, "AssumedRoleId"]).map(|e| e.text.clone());
        Ok(AssumedRole { credentials, arn, assumed_role_id })
    }
}

/// STS: names, signing name, protocol, endpoint names.
pub const SPEC: ServiceSpec = ServiceSpec {
    name: "STS",
    signing_name: "sts",
    protocol: Protocol::Query,
    id: ServiceId { host_prefix: "sts", env_suffix: "STS" },
};
