//! The user pool side: InitiateAuth and RespondToAuthChallenge for `USER_SRP_AUTH`,
//! `USER_PASSWORD_AUTH` and `REFRESH_TOKEN_AUTH`. These calls are unsigned (they are how a user
//! without AWS credentials gets some).
//!
//! API reference: <https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_InitiateAuth.html>

use super::srp::{self, PasswordVerifier, SrpClient};
use super::{json_call, ClientMetadata};
use crate::config::{Config, ConfigError};
use crate::service::{Protocol, ServiceId, ServiceSpec};
use crate::transport::{Error, ServiceConfig};
use serde_json::{json, Map, Value};
use std::fmt;
use std::time::{Duration, SystemTime};
use zeroize::Zeroizing;

pub(super) const NAME: &str = SPEC.name;
const TARGET: &str = "AWSCognitoIdentityProviderService";
/// How the user pool endpoint is found: `cognito-idp.<region>.amazonaws.com`,
/// `AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER`.
pub const ID: ServiceId = SPEC.id;
/// Cognito user pools: names, signing name, protocol, endpoint names.
pub const SPEC: ServiceSpec = ServiceSpec {
    name: "Cognito Identity Provider",
    signing_name: "cognito-idp",
    protocol: Protocol::Json,
    id: ServiceId { host_prefix: "cognito-idp", env_suffix: "COGNITO_IDENTITY_PROVIDER" },
};

/// The region a user pool id names (`us-east-1_AbC123` is in `us-east-1`).
pub(crate) fn pool_region(user_pool_id: &str) -> Result<&str, ConfigError> {
    srp::pool_name(user_pool_id).map_err(|e| ConfigError::new(e.to_string()))?;
    Ok(user_pool_id.split_once('_').map(|(r, _)| r).unwrap_or_default())
}

/// The `Logins` key of a user pool in an identity pool: `cognito-idp.<region>.amazonaws.com/<id>`.
pub fn login_provider(user_pool_id: &str) -> Result<String, ConfigError> {
    let region = pool_region(user_pool_id)?;
    Ok(format!("cognito-idp.{region}.{}/{user_pool_id}", crate::service::endpoint::dns_suffix(region)))
}

/// The tokens of a signed-in user. Debug shows only their expiry.
#[derive(Clone)]
pub struct Tokens {
    /// The id token (a JWT with the user's claims; API Gateway and AppSync authorizers take it).
    pub id_token: Zeroizing<String>,
    /// The access token (for the user pool's own user APIs and resource servers).
    pub access_token: Zeroizing<String>,
    /// The refresh token, when the answer carried one (a refresh does not return a new one).
    pub refresh_token: Option<Zeroizing<String>>,
    /// When the id and access tokens expire.
    pub expires_at: SystemTime,
}

impl Tokens {
    /// Cognito's user name for the user (`cognito:username` in the id token): the name a
    /// client secret's hash is over, even when the user signed in with an alias. Read without
    /// checking the token's signature (it came from Cognito over TLS).
    pub fn username(&self) -> Option<String> {
        use base64ct::Encoding;
        let payload = self.id_token.split('.').nth(1)?;
        let bytes = Zeroizing::new(base64ct::Base64UrlUnpadded::decode_vec(payload.trim_end_matches('=')).ok()?);
        let claims: Value = serde_json::from_slice(&bytes).ok()?;
        claims.get("cognito:username")?.as_str().map(str::to_owned)
    }
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokens")
            .field("id_token", &"** redacted **")
            .field("access_token", &"** redacted **")
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "** redacted **"))
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// What a challenge asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChallengeKind {
    /// The user must choose a new password (an administrator created them with a temporary one).
    NewPasswordRequired {
        /// Attributes the pool requires that the user has not set.
        required_attributes: Vec<String>,
    },
    /// A code from the user's authenticator app.
    SoftwareTokenMfa,
    /// A code sent by SMS.
    SmsMfa {
        /// Where the code went (masked phone number), when Cognito says.
        destination: Option<String>,
    },
    /// The user must set up MFA first.
    MfaSetup,
    /// The user must pick an MFA type.
    SelectMfaType,
    /// Another challenge, by name.
    Other(String),
}

/// A challenge the caller must answer (with [`UserPoolClient::respond`]).
#[derive(Clone)]
pub struct Challenge {
    /// What is asked.
    pub kind: ChallengeKind,
    /// The user name Cognito uses for the user (send it back in the answer).
    pub username: String,
    /// All challenge parameters as Cognito sent them.
    pub parameters: Map<String, Value>,
    session: Zeroizing<String>,
}

impl fmt::Debug for Challenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Challenge")
            .field("kind", &self.kind)
            .field("username", &self.username)
            .field("session", &"** redacted **")
            .finish_non_exhaustive()
    }
}

impl Challenge {
    /// The challenge name as Cognito spells it (`NEW_PASSWORD_REQUIRED`...).
    pub fn name(&self) -> &str {
        match &self.kind {
            ChallengeKind::NewPasswordRequired { .. } => "NEW_PASSWORD_REQUIRED",
            ChallengeKind::SoftwareTokenMfa => "SOFTWARE_TOKEN_MFA",
            ChallengeKind::SmsMfa { .. } => "SMS_MFA",
            ChallengeKind::MfaSetup => "MFA_SETUP",
            ChallengeKind::SelectMfaType => "SELECT_MFA_TYPE",
            ChallengeKind::Other(name) => name,
        }
    }
}

/// An answer to a [`Challenge`].
#[derive(Clone)]
#[non_exhaustive]
pub enum ChallengeAnswer {
    /// For `NEW_PASSWORD_REQUIRED`: the new password and the required attributes (`name`,
    /// `value`; without the `userAttributes.` prefix).
    NewPassword {
        /// The new password.
        password: Zeroizing<String>,
        /// Attribute values.
        attributes: Vec<(String, String)>,
    },
    /// For `SOFTWARE_TOKEN_MFA` or `SMS_MFA`: the code.
    MfaCode(String),
}

impl fmt::Debug for ChallengeAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChallengeAnswer::NewPassword { attributes, .. } => {
                f.debug_struct("NewPassword").field("attributes", attributes).finish_non_exhaustive()
            }
            ChallengeAnswer::MfaCode(_) => f.write_str("MfaCode(** redacted **)"),
        }
    }
}

/// How a login ended: tokens, or a challenge only the user can answer.
#[derive(Clone, Debug)]
pub enum AuthResult {
    /// Signed in.
    Tokens(Tokens),
    /// Cognito asks for more.
    Challenge(Challenge),
}

impl AuthResult {
    /// The tokens, or an error naming the challenge that was not answered.
    pub fn into_tokens(self) -> Result<Tokens, Error> {
        match self {
            AuthResult::Tokens(t) => Ok(t),
            AuthResult::Challenge(c) => Err(Error::response(
                NAME,
                "InitiateAuth",
                format!("the login needs an answer to the {} challenge", c.name()),
            )),
        }
    }
}

/// A user pool app client.
#[derive(Clone)]
pub struct UserPoolClient {
    svc: ServiceConfig,
    user_pool_id: String,
    client_id: String,
    client_secret: Option<Zeroizing<String>>,
}

impl fmt::Debug for UserPoolClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserPoolClient")
            .field("user_pool_id", &self.user_pool_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "** redacted **"))
            .field("endpoint", &self.svc.endpoint())
            .finish()
    }
}

impl UserPoolClient {
    /// A client for app client `client_id` of `user_pool_id`, in the pool's region, on
    /// `config`'s endpoint and HTTP client. Its calls are unsigned.
    pub fn new(config: &Config, user_pool_id: &str, client_id: &str) -> Result<Self, ConfigError> {
        let region = pool_region(user_pool_id)?;
        if client_id.is_empty() {
            return Err(ConfigError::new("the app client id is empty"));
        }
        let svc = config.service_in(SPEC, region, None);
        Ok(UserPoolClient {
            svc,
            user_pool_id: user_pool_id.to_owned(),
            client_id: client_id.to_owned(),
            client_secret: None,
        })
    }

    /// For app clients with a secret: every call carries `SECRET_HASH`.
    #[must_use]
    pub fn with_client_secret(mut self, secret: Option<&str>) -> Self {
        self.client_secret = secret.filter(|s| !s.is_empty()).map(|s| Zeroizing::new(s.to_owned()));
        self
    }

    /// The user pool id.
    pub fn user_pool_id(&self) -> &str {
        &self.user_pool_id
    }

    /// The app client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The service configuration in use.
    pub fn service_config(&self) -> &ServiceConfig {
        &self.svc
    }

    fn secret_hash(&self, username: &str) -> Option<String> {
        self.client_secret.as_ref().map(|s| srp::secret_hash(s, username, &self.client_id))
    }

    /// `USER_SRP_AUTH`: the password never leaves the process.
    pub async fn login_srp(
        &self,
        username: &str,
        password: &str,
        metadata: &ClientMetadata,
    ) -> Result<AuthResult, Error> {
        let op = "InitiateAuth";
        let srp = SrpClient::new(&self.user_pool_id).map_err(|e| Error::input(NAME, op, e.to_string()))?;
        let mut params = Map::new();
        params.insert("USERNAME".into(), username.into());
        params.insert("SRP_A".into(), srp.srp_a().into());
        if let Some(h) = self.secret_hash(username) {
            params.insert("SECRET_HASH".into(), h.into());
        }
        let answer = self.initiate("USER_SRP_AUTH", params, metadata).await?;
        if answer.get("ChallengeName").and_then(Value::as_str) != Some("PASSWORD_VERIFIER") {
            return self.result(op, answer, username);
        }
        let p = |k: &str| {
            answer["ChallengeParameters"][k]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| Error::response(NAME, op, format!("the PASSWORD_VERIFIER challenge has no {k}")))
        };
        let challenge = PasswordVerifier {
            user_id: p("USER_ID_FOR_SRP")?,
            salt: p("SALT")?,
            srp_b: p("SRP_B")?,
            secret_block: p("SECRET_BLOCK")?,
        };
        let internal = p("USERNAME").unwrap_or_else(|_| username.to_owned());
        let now = self.svc.clock().now();
        let claim = srp
            .claim(&challenge, password, now)
            .map_err(|e| Error::response(NAME, op, format!("cannot answer the PASSWORD_VERIFIER challenge: {e}")))?;
        let mut responses = Map::new();
        responses.insert("USERNAME".into(), internal.clone().into());
        responses.insert("PASSWORD_CLAIM_SECRET_BLOCK".into(), challenge.secret_block.into());
        responses.insert("PASSWORD_CLAIM_SIGNATURE".into(), claim.signature.into());
        responses.insert("TIMESTAMP".into(), claim.timestamp.into());
        if let Some(h) = self.secret_hash(&internal) {
            responses.insert("SECRET_HASH".into(), h.into());
        }
        let session = answer.get("Session").and_then(Value::as_str);
        self.respond_raw("PASSWORD_VERIFIER", session, responses, metadata, &internal).await
    }

    /// `USER_PASSWORD_AUTH`: the password goes to Cognito over TLS (the app client must allow it).
    pub async fn login_password(
        &self,
        username: &str,
        password: &str,
        metadata: &ClientMetadata,
    ) -> Result<AuthResult, Error> {
        let mut params = Map::new();
        params.insert("USERNAME".into(), username.into());
        params.insert("PASSWORD".into(), password.into());
        if let Some(h) = self.secret_hash(username) {
            params.insert("SECRET_HASH".into(), h.into());
        }
        let answer = self.initiate("USER_PASSWORD_AUTH", params, metadata).await?;
        self.result("InitiateAuth", answer, username)
    }

    /// `REFRESH_TOKEN_AUTH`: new id and access tokens. `username` is needed only for app
    /// clients with a secret (the hash is over it); the answer keeps `refresh_token`.
    pub async fn refresh(
        &self,
        refresh_token: &str,
        username: &str,
        metadata: &ClientMetadata,
    ) -> Result<Tokens, Error> {
        let mut params = Map::new();
        params.insert("REFRESH_TOKEN".into(), refresh_token.into());
        if let Some(h) = self.secret_hash(username) {
            params.insert("SECRET_HASH".into(), h.into());
        }
        let answer = self.initiate("REFRESH_TOKEN_AUTH", params, metadata).await?;
        let mut tokens = self.result("InitiateAuth", answer, username)?.into_tokens()?;
        if tokens.refresh_token.is_none() {
            tokens.refresh_token = Some(Zeroizing::new(refresh_token.to_owned()));
        }
        Ok(tokens)
    }

    /// Answers a challenge; the result may be another challenge (MFA after a new password).
    pub async fn respond(
        &self,
        challenge: &Challenge,
        answer: ChallengeAnswer,
        metadata: &ClientMetadata,
    ) -> Result<AuthResult, Error> {
        let mut responses = Map::new();
        responses.insert("USERNAME".into(), challenge.username.clone().into());
        match answer {
            ChallengeAnswer::NewPassword { password, attributes } => {
                responses.insert("NEW_PASSWORD".into(), password.as_str().into());
                for (k, v) in attributes {
                    responses.insert(format!("userAttributes.{k}"), v.into());
                }
            }
            ChallengeAnswer::MfaCode(code) => {
                // SMS_MFA_CODE, SOFTWARE_TOKEN_MFA_CODE, EMAIL_OTP_CODE...
                responses.insert(format!("{}_CODE", challenge.name()), code.into());
            }
        }
        if let Some(h) = self.secret_hash(&challenge.username) {
            responses.insert("SECRET_HASH".into(), h.into());
        }
        self.respond_raw(challenge.name(), Some(&challenge.session), responses, metadata, &challenge.username).await
    }

    async fn initiate(
        &self,
        flow: &str,
        params: Map<String, Value>,
        metadata: &ClientMetadata,
    ) -> Result<Value, Error> {
        let mut body = json!({"AuthFlow": flow, "ClientId": self.client_id, "AuthParameters": params});
        if !metadata.is_empty() {
            body["ClientMetadata"] = metadata.to_json();
        }
        json_call(&self.svc, TARGET, "InitiateAuth", &body).await
    }

    async fn respond_raw(
        &self,
        name: &str,
        session: Option<&str>,
        responses: Map<String, Value>,
        metadata: &ClientMetadata,
        username: &str,
    ) -> Result<AuthResult, Error> {
        let mut body = json!({"ChallengeName": name, "ClientId": self.client_id, "ChallengeResponses": responses});
        if let Some(s) = session {
            body["Session"] = s.into();
        }
        if !metadata.is_empty() {
            body["ClientMetadata"] = metadata.to_json();
        }
        let answer = json_call(&self.svc, TARGET, "RespondToAuthChallenge", &body).await?;
        self.result("RespondToAuthChallenge", answer, username)
    }

    fn result(&self, op: &'static str, answer: Value, username: &str) -> Result<AuthResult, Error> {
        let mut r = parse_result(op, answer, self.svc.clock().now())?;
        // A challenge that names no user is answered for the one who logged in.
        if let AuthResult::Challenge(c) = &mut r {
            if c.username.is_empty() {
                username.clone_into(&mut c.username);
            }
        }
        Ok(r)
    }
}

/// An InitiateAuth or RespondToAuthChallenge answer: tokens, or a typed challenge.
pub(crate) fn parse_result(op: &'static str, answer: Value, now: SystemTime) -> Result<AuthResult, Error> {
    if let Some(r) = answer.get("AuthenticationResult").filter(|r| r.is_object()) {
        let s = |k: &str| r.get(k).and_then(Value::as_str).map(|v| Zeroizing::new(v.to_owned()));
        let missing = |k: &str| Error::response(NAME, op, format!("the answer has no {k}"));
        // At most a day: Cognito's tokens live 5 minutes to 1 day, and a huge value must not
        // overflow the clock.
        let expires_in = r.get("ExpiresIn").and_then(Value::as_u64).unwrap_or(3600).min(86_400);
        return Ok(AuthResult::Tokens(Tokens {
            id_token: s("IdToken").ok_or_else(|| missing("IdToken"))?,
            access_token: s("AccessToken").ok_or_else(|| missing("AccessToken"))?,
            refresh_token: s("RefreshToken"),
            expires_at: now + Duration::from_secs(expires_in),
        }));
    }
    let Some(name) = answer.get("ChallengeName").and_then(Value::as_str) else {
        return Err(Error::response(NAME, op, "the answer has neither tokens nor a challenge"));
    };
    let parameters = answer.get("ChallengeParameters").and_then(Value::as_object).cloned().unwrap_or_default();
    let p = |k: &str| parameters.get(k).and_then(Value::as_str).map(str::to_owned);
    let kind = match name {
        "NEW_PASSWORD_REQUIRED" => ChallengeKind::NewPasswordRequired {
            required_attributes: p("requiredAttributes")
                .and_then(|s| serde_json::from_str::<Vec<String>>(&s).ok())
                .unwrap_or_default()
                .into_iter()
                .map(|a| a.trim_start_matches("userAttributes.").to_owned())
                .collect(),
        },
        "SOFTWARE_TOKEN_MFA" => ChallengeKind::SoftwareTokenMfa,
        "SMS_MFA" => ChallengeKind::SmsMfa { destination: p("CODE_DELIVERY_DESTINATION") },
        "MFA_SETUP" => ChallengeKind::MfaSetup,
        "SELECT_MFA_TYPE" => ChallengeKind::SelectMfaType,
        other => ChallengeKind::Other(other.to_owned()),
    };
    Ok(AuthResult::Challenge(Challenge {
        kind,
        username: p("USERNAME").or_else(|| p("USER_ID_FOR_SRP")).unwrap_or_default(),
        session: Zeroizing::new(answer.get("Session").and_then(Value::as_str).unwrap_or_default().to_owned()),
        parameters,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn challenge(answer: Value) -> Challenge {
        match parse_result("InitiateAuth", answer, UNIX_EPOCH) {
            Ok(AuthResult::Challenge(c)) => c,
            other => panic!("not a challenge: {other:?}"),
        }
    }

    #[test]
    fn challenges_are_typed() {
        let c = challenge(json!({"ChallengeName": "SMS_MFA", "Session": "s3cr3t",
            "ChallengeParameters": {"CODE_DELIVERY_DESTINATION": "+*******1234", "USERNAME": "u-1"}}));
        assert_eq!(c.kind, ChallengeKind::SmsMfa { destination: Some("+*******1234".into()) });
        assert_eq!((c.name(), c.username.as_str()), ("SMS_MFA", "u-1"));
        assert!(!format!("{c:?}").contains("s3cr3t"));
        let c = challenge(json!({"ChallengeName": "SOFTWARE_TOKEN_MFA", "ChallengeParameters": {"USERNAME": "u"}}));
        assert_eq!(c.kind, ChallengeKind::SoftwareTokenMfa);
        let c = challenge(json!({"ChallengeName": "NEW_PASSWORD_REQUIRED", "ChallengeParameters":
            {"USERNAME": "u", "requiredAttributes": "[\"userAttributes.email\", \"userAttributes.name\"]"}}));
        assert_eq!(
            c.kind,
            ChallengeKind::NewPasswordRequired { required_attributes: vec!["email".into(), "name".into()] }
        );
        let c = challenge(json!({"ChallengeName": "CUSTOM_CHALLENGE"}));
        assert_eq!(c.kind, ChallengeKind::Other("CUSTOM_CHALLENGE".into()));
        assert_eq!(c.name(), "CUSTOM_CHALLENGE");
    }

    #[test]
    fn tokens_and_malformed_answers() {
        let r = parse_result(
            "InitiateAuth",
            json!({"AuthenticationResult":
            {"IdToken": "i", "AccessToken": "a", "RefreshToken": "r", "ExpiresIn": 60}}),
            UNIX_EPOCH,
        )
        .unwrap();
        let AuthResult::Tokens(t) = r else { panic!("no tokens") };
        assert_eq!((t.id_token.as_str(), t.access_token.as_str()), ("i", "a"));
        assert_eq!(t.expires_at, UNIX_EPOCH + Duration::from_secs(60));
        let d = format!("{t:?}");
        assert!(!d.contains("\"i\"") && d.contains("redacted"), "{d}");
        let huge = json!({"AuthenticationResult": {"IdToken": "i", "AccessToken": "a", "ExpiresIn": u64::MAX}});
        let Ok(AuthResult::Tokens(t)) = parse_result("InitiateAuth", huge, UNIX_EPOCH) else { panic!("no tokens") };
        assert_eq!(t.expires_at, UNIX_EPOCH + Duration::from_secs(86_400));
        let e = parse_result("InitiateAuth", json!({"AuthenticationResult": {"AccessToken": "a"}}), UNIX_EPOCH);
        assert!(e.unwrap_err().to_string().contains("no IdToken"));
        let e = parse_result("InitiateAuth", json!({}), UNIX_EPOCH);
        assert!(e.unwrap_err().to_string().contains("neither tokens nor a challenge"));
    }

    #[test]
    fn username_comes_from_the_id_token() {
        use base64ct::Encoding;
        let claims = base64ct::Base64UrlUnpadded::encode_string(br#"{"cognito:username":"7d8c-uuid","email":"a@b.c"}"#);
        let t = |id: &str| Tokens {
            id_token: Zeroizing::new(id.to_owned()),
            access_token: Zeroizing::new("a".into()),
            refresh_token: None,
            expires_at: UNIX_EPOCH,
        };
        assert_eq!(t(&format!("e30.{claims}.sig")).username().as_deref(), Some("7d8c-uuid"));
        for bad in ["", "nodots", "e30.!!!.sig", "e30.e30.sig"] {
            assert_eq!(t(bad).username(), None, "{bad}");
        }
    }

    #[test]
    fn login_provider_names_region_and_pool() {
        assert_eq!(login_provider("eu-west-1_Ab1").unwrap(), "cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Ab1");
        assert_eq!(login_provider("cn-north-1_X").unwrap(), "cognito-idp.cn-north-1.amazonaws.com.cn/cn-north-1_X");
        assert!(login_provider("nope").is_err());
    }
}
