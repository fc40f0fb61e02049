//! The identity pool side: GetId, GetCredentialsForIdentity (the enhanced flow) and
//! GetOpenIdToken (the basic flow, followed by STS AssumeRoleWithWebIdentity). Unsigned calls.
//!
//! API reference: <https://docs.aws.amazon.com/cognitoidentity/latest/APIReference/Welcome.html>

use super::json_call;
use crate::config::{Config, ConfigError};
use crate::credentials::Credentials;
use crate::service::{Protocol, ServiceId, ServiceSpec};
use crate::transport::{Error, ServiceConfig};
use serde_json::{json, Map, Value};
use std::time::{Duration, UNIX_EPOCH};
use zeroize::Zeroizing;

const NAME: &str = SPEC.name;
const TARGET: &str = "AWSCognitoIdentityService";
/// How the identity pool endpoint is found: `cognito-identity.<region>.amazonaws.com`,
/// `AWS_ENDPOINT_URL_COGNITO_IDENTITY`.
pub const ID: ServiceId = SPEC.id;
/// Cognito identity pools: names, signing name, protocol, endpoint names.
pub const SPEC: ServiceSpec = ServiceSpec {
    name: "Cognito Identity",
    signing_name: "cognito-identity",
    protocol: Protocol::Json,
    id: ServiceId { host_prefix: "cognito-identity", env_suffix: "COGNITO_IDENTITY" },
};

/// The region an identity pool id names (`us-east-1:1a2b...` is in `us-east-1`).
pub(crate) fn pool_region(identity_pool_id: &str) -> Result<&str, ConfigError> {
    match identity_pool_id.split_once(':') {
        Some((region, id)) if !region.is_empty() && !id.is_empty() => Ok(region),
        _ => Err(ConfigError::new(format!(
            "identity pool id {identity_pool_id:?} is not <region>:<id> (like us-east-1:1a2b3c4d-...)"
        ))),
    }
}

/// Logins: provider name (`cognito-idp.<region>.amazonaws.com/<user pool id>`) to id token.
/// Empty for an unauthenticated (guest) identity. Debug shows the provider names only.
#[derive(Clone, Default)]
pub struct Logins(Vec<(String, Zeroizing<String>)>);

impl Logins {
    /// No logins: a guest identity.
    pub fn new() -> Self {
        Logins::default()
    }

    /// These logins plus `provider` with `token`.
    #[must_use]
    pub fn with(mut self, provider: impl Into<String>, token: &str) -> Self {
        self.0.push((provider.into(), Zeroizing::new(token.to_owned())));
        self
    }

    /// True for a guest identity.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Logins {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.0.iter().map(|(k, _)| (k, "** redacted **"))).finish()
    }
}

/// An identity pool.
#[derive(Clone, Debug)]
pub struct IdentityPoolClient {
    svc: ServiceConfig,
    identity_pool_id: String,
}

impl IdentityPoolClient {
    /// A client for `identity_pool_id`, in its region, on `config`'s endpoint. Calls are unsigned.
    pub fn new(config: &Config, identity_pool_id: &str) -> Result<Self, ConfigError> {
        let region = pool_region(identity_pool_id)?;
        let svc = config.service_in(SPEC, region, None);
        Ok(IdentityPoolClient { svc, identity_pool_id: identity_pool_id.to_owned() })
    }

    /// The identity pool id.
    pub fn identity_pool_id(&self) -> &str {
        &self.identity_pool_id
    }

    /// [GetId](https://docs.aws.amazon.com/cognitoidentity/latest/APIReference/API_GetId.html):
    /// the identity of these logins (a guest identity when there are none).
    pub async fn get_id(&self, logins: &Logins) -> Result<String, Error> {
        let mut body = json!({"IdentityPoolId": self.identity_pool_id});
        if !logins.is_empty() {
            body["Logins"] = logins_json(logins);
        }
        let r = json_call(&self.svc, TARGET, "GetId", &body).await?;
        string(&r, "IdentityId").ok_or_else(|| Error::response(NAME, "GetId", "the answer has no IdentityId"))
    }

    /// [GetCredentialsForIdentity](https://docs.aws.amazon.com/cognitoidentity/latest/APIReference/API_GetCredentialsForIdentity.html)
    /// (the enhanced flow), for the pool's role or `custom_role_arn`.
    pub async fn get_credentials(
        &self,
        identity_id: &str,
        logins: &Logins,
        custom_role_arn: Option<&str>,
    ) -> Result<Credentials, Error> {
        let op = "GetCredentialsForIdentity";
        let mut body = json!({"IdentityId": identity_id});
        if !logins.is_empty() {
            body["Logins"] = logins_json(logins);
        }
        if let Some(arn) = custom_role_arn {
            body["CustomRoleArn"] = arn.into();
        }
        let r = json_call(&self.svc, TARGET, op, &body).await?;
        let c = &r["Credentials"];
        let missing = |k: &str| Error::response(NAME, op, format!("the answer has no Credentials.{k}"));
        let key = string(c, "AccessKeyId").ok_or_else(|| missing("AccessKeyId"))?;
        let secret = string(c, "SecretKey").ok_or_else(|| missing("SecretKey"))?;
        let expiry = match &c["Expiration"] {
            // A hostile or broken number (negative, huge, not finite) is no expiry, never a panic.
            Value::Number(n) => {
                n.as_f64().and_then(|s| Duration::try_from_secs_f64(s).ok()).and_then(|d| UNIX_EPOCH.checked_add(d))
            }
            Value::String(s) => cirrus_sigv4::parse_rfc3339(s),
            _ => None,
        };
        Ok(Credentials::new(key, secret, string(c, "SessionToken"), expiry, "cognito"))
    }

    /// [GetOpenIdToken](https://docs.aws.amazon.com/cognitoidentity/latest/APIReference/API_GetOpenIdToken.html)
    /// (the basic flow): an OpenID token for the identity, to pass to AssumeRoleWithWebIdentity.
    pub async fn get_open_id_token(&self, identity_id: &str, logins: &Logins) -> Result<Zeroizing<String>, Error> {
        let mut body = json!({"IdentityId": identity_id});
        if !logins.is_empty() {
            body["Logins"] = logins_json(logins);
        }
        let r = json_call(&self.svc, TARGET, "GetOpenIdToken", &body).await?;
        string(&r, "Token")
            .map(Zeroizing::new)
            .ok_or_else(|| Error::response(NAME, "GetOpenIdToken", "the answer has no Token"))
    }
}

fn logins_json(logins: &Logins) -> Value {
    Value::Object(logins.0.iter().map(|(k, v)| (k.clone(), Value::from(v.as_str()))).collect::<Map<_, _>>())
}

fn string(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}
