//! Cognito: log in to a user pool (SRP or password) and turn the tokens into AWS credentials
//! through an identity pool.
//!
//! - [`srp`]: SRP-6a exactly as Cognito does it, with no I/O.
//! - [`UserPoolClient`]: `USER_SRP_AUTH`, `USER_PASSWORD_AUTH`, `REFRESH_TOKEN_AUTH`,
//!   `SECRET_HASH`, client metadata, and typed challenges ([`AuthResult::Challenge`]).
//! - [`IdentityPoolClient`]: GetId, GetCredentialsForIdentity, GetOpenIdToken.
//! - [`CognitoCredentials`]: all of it as a credential provider, from arguments, a profile of
//!   a Cognito credentials file (the path given to
//!   [`CognitoBuilder::credentials_file`] first, then `COGNITO_CREDENTIALS_FILE`, then
//!   `~/.aws/cognito_credentials`), a settings value or the `COGNITO_*` variables; it
//!   refreshes with the refresh token, keeps tokens readable, and can cache them on disk
//!   ([`TokenCache`]).
//!
//! The token cache is off by default (`cache = true`, `COGNITO_CACHE=true` or
//! [`CognitoBuilder::cache`] turn it on): the tokens are secrets (the refresh token alone
//! gets new credentials for as long as the app client lets it live, 30 days by default), so
//! writing them to disk is a choice the user makes, not one cirrus makes for them. Without it,
//! each process logs in once and refreshes in memory.

mod identity_pool;
mod provider;
mod settings;
pub mod srp;
mod token_cache;
pub(crate) mod user_pool;

pub use identity_pool::{IdentityPoolClient, Logins, ID as IDENTITY_POOL_ID, SPEC as IDENTITY_POOL_SPEC};
pub use provider::{CognitoBuilder, CognitoCredentials, LoginStats, TokenFetcher};
use settings::Source;
pub use settings::{AuthType, CognitoSettings, IdentityFlow};
pub use token_cache::TokenCache;
pub use user_pool::{
    login_provider, AuthResult, Challenge, ChallengeAnswer, ChallengeKind, Tokens, UserPoolClient, ID as USER_POOL_ID,
    SPEC as USER_POOL_SPEC,
};

use crate::transport::protocol::json_request;
use crate::transport::{Error, ParseError, ServiceConfig};
use serde_json::Value;

/// Client metadata: key-value pairs passed to the pool's Lambda triggers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientMetadata(Vec<(String, String)>);

impl ClientMetadata {
    /// Metadata from pairs.
    pub fn new(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        ClientMetadata(pairs.into_iter().collect())
    }

    /// Parses a JSON object of strings (`COGNITO_METADATA`, the profile's `metadata`).
    pub fn from_json(text: &str) -> Result<Self, ParseError> {
        const WHAT: &str = "client metadata";
        let v: Value = serde_json::from_str(text).map_err(|e| ParseError::with_source(WHAT, "not JSON", e))?;
        let obj = v.as_object().ok_or_else(|| ParseError::new(WHAT, "not a JSON object"))?;
        obj.iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                other => Err(ParseError::new(WHAT, format!("the value of {k:?} is {other}, not a string"))),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(ClientMetadata)
    }

    /// No pairs.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The pairs.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    fn to_json(&self) -> Value {
        Value::Object(self.0.iter().map(|(k, v)| (k.clone(), Value::from(v.as_str()))).collect())
    }
}

/// One awsJson 1.1 call, the answer parsed.
async fn json_call(svc: &ServiceConfig, target: &str, op: &'static str, body: &Value) -> Result<Value, Error> {
    let req = json_request(svc.endpoint(), "1.1", target, op, body);
    let resp = svc.send(op, req).await?;
    serde_json::from_slice(&resp.body)
        .map_err(|e| Error::response(svc.name(), op, format!("the answer is not JSON: {e}")))
}
