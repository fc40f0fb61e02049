//! [`CognitoCredentials`]: a user pool login turned into AWS credentials through an identity
//! pool, as one provider of the chain.
//!
//! Tokens are kept and refreshed with the refresh token when they are within 5 minutes of
//! expiry; the password is used again only when there is no refresh token or Cognito refuses
//! it. One login or refresh runs at a time: concurrent callers wait for it and share its tokens.
//! AWS credentials are fetched on every call; wrap the provider in a
//! [`CredentialsCache`](crate::credentials::CredentialsCache) (the default chain does) to reuse
//! them until shortly before expiry.

use super::identity_pool::{IdentityPoolClient, Logins};
use super::settings::{credentials_file, Layers, ENV_VARS};
use super::user_pool::{login_provider, AuthResult, Tokens, UserPoolClient};
use super::{AuthType, ClientMetadata, CognitoSettings, IdentityFlow, Source, TokenCache};
use crate::clock::SharedClock;
use crate::config::{Config, ConfigError};
use crate::context::Context;
use crate::credentials::{BoxFuture, Credentials, CredentialsError, ProvideCredentials};
use crate::sts::StsClient;
use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use zeroize::Zeroizing;

/// Tokens closer than this to expiry are refreshed.
const REFRESH_AHEAD: Duration = Duration::from_secs(300);

/// The Cognito provider. Cloning shares the tokens and the identity.
///
/// ```no_run
/// # async fn example() -> Result<(), Box<dyn std::error::Error>> {
/// use cirrus::cognito::CognitoCredentials;
/// use cirrus::loader::CredentialsChoice;
/// use cirrus::credentials::CredentialsCache;
/// use cirrus::s3::S3Client;
/// use cirrus::Config;
/// use std::sync::Arc;
///
/// let cognito = CognitoCredentials::builder(&Config::from_env()?)
///     .username("alice")
///     .password("correct horse battery staple")
///     .user_pool_id("eu-west-1_AbCdEf123")
///     .app_id("1example23456789abcdefghij")
///     .identity_pool_id("eu-west-1:11111111-2222-3333-4444-555555555555")
///     .build()?;
/// let provider = Arc::new(CredentialsCache::new(cognito));
/// let config = Config::loader().credentials(CredentialsChoice::Provider(provider)).load()?;
/// let buckets = S3Client::new(&config)?.list_buckets().await?;
/// # let _ = buckets;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct CognitoCredentials {
    inner: Arc<Inner>,
}

struct Inner {
    setup: Result<Setup, CredentialsError>,
    state: tokio::sync::Mutex<State>,
    ctx: Context,
    clock: SharedClock,
    ctx_label: String,
    logins: AtomicU64,
    refreshes: AtomicU64,
}

struct Setup {
    login: Option<Login>,
    identity: Option<IdentityPoolClient>,
    role_arn: Option<String>,
    flow: IdentityFlow,
    sts: StsClient,
    cache: Option<TokenCache>,
}

struct Login {
    client: UserPoolClient,
    username: String,
    password: Zeroizing<String>,
    auth_type: AuthType,
    metadata: ClientMetadata,
}

#[derive(Default)]
struct State {
    tokens: Option<Tokens>,
    identity_id: Option<String>,
    cache_read: bool,
}

/// How often the provider went to the user pool.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoginStats {
    /// Logins with the password (SRP or plain).
    pub logins: u64,
    /// Refreshes with the refresh token.
    pub refreshes: u64,
}

impl fmt::Debug for CognitoCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CognitoCredentials").field("source", &self.inner.ctx_label).finish_non_exhaustive()
    }
}

/// Builds a [`CognitoCredentials`] from explicit arguments over a profile or settings value
/// over the environment.
#[must_use]
pub struct CognitoBuilder {
    config: Config,
    explicit: CognitoSettings,
    profile: Option<String>,
    credentials_file: Option<PathBuf>,
    settings: Option<CognitoSettings>,
}

impl std::fmt::Debug for CognitoBuilder {
    /// The settings as their own Debug shows them (never a password or an app secret).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CognitoBuilder")
            .field("explicit", &self.explicit)
            .field("profile", &self.profile)
            .field("credentials_file", &self.credentials_file)
            .finish_non_exhaustive()
    }
}

macro_rules! setter {
    ($(#[$doc:meta] $name:ident: $ty:ty => $conv:expr;)*) => {$(
        #[$doc]
        pub fn $name(mut self, value: $ty) -> Self {
            self.explicit.$name = Some(($conv)(value));
            self
        }
    )*};
}

impl CognitoBuilder {
    setter! {
        /// The user name.
        username: &str => str::to_owned;
        /// The password.
        password: &str => |p: &str| Zeroizing::new(p.to_owned());
        /// The user pool id.
        user_pool_id: &str => str::to_owned;
        /// The app client id.
        app_id: &str => str::to_owned;
        /// The app client secret.
        app_secret: &str => |p: &str| Zeroizing::new(p.to_owned());
        /// The identity pool id.
        identity_pool_id: &str => str::to_owned;
        /// The role (see [`CognitoSettings::role_arn`]).
        role_arn: &str => str::to_owned;
        /// The identity flow.
        identity_flow: IdentityFlow => |f| f;
        /// SRP or password.
        auth_type: AuthType => |a| a;
        /// Client metadata.
        metadata: ClientMetadata => |m| m;
        /// Keep tokens in the on-disk cache.
        cache: bool => |b| b;
        /// The on-disk cache's directory (needs [`cache`](Self::cache)).
        cache_dir: impl Into<PathBuf> => Into::into;
    }

    /// Reads this profile of `COGNITO_CREDENTIALS_FILE` / `~/.aws/cognito_credentials`.
    pub fn profile(mut self, name: &str) -> Self {
        self.profile = Some(name.to_owned());
        self
    }

    /// Reads the profile (`default` unless [`profile`](Self::profile) names another) of this
    /// Cognito credentials file, which comes first: before `COGNITO_CREDENTIALS_FILE` and
    /// `~/.aws/cognito_credentials` (cognito-assume-role's explicit path). `~/` is the home.
    pub fn credentials_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.credentials_file = Some(path.into());
        self
    }

    /// Takes settings from the program's configuration (instead of a profile).
    pub fn settings(mut self, settings: CognitoSettings) -> Self {
        self.settings = Some(settings);
        self
    }

    /// Checks the settings: a missing field names itself and where it was looked for.
    pub fn build(self) -> Result<CognitoCredentials, ConfigError> {
        let source = match (self.profile, self.credentials_file, self.settings) {
            (None, None, Some(s)) => Some(Source::Config(s)),
            (p, _, Some(_)) => {
                let what = if p.is_some() { "a profile" } else { "a credentials file" };
                return Err(ConfigError::new(format!(
                    "Cognito: {what} and a settings value were both given; pass one or the other"
                )));
            }
            (p, Some(file), None) => Some(Source::ProfileAt(p.unwrap_or_else(|| "default".to_owned()), file)),
            (Some(p), None, None) => Some(Source::Profile(p)),
            (None, None, None) => None,
        };
        let label = match &source {
            Some(Source::Profile(p) | Source::ProfileAt(p, _)) => format!("profile {p:?}"),
            Some(Source::Config(_)) => "settings".to_owned(),
            None => "arguments".to_owned(),
        };
        let layers = Layers::resolve(self.config.context(), &self.explicit, source.as_ref())?;
        let setup = setup(&self.config, &layers)?;
        Ok(CognitoCredentials::from_setup(&self.config, Ok(setup), label))
    }
}

fn setup(config: &Config, layers: &Layers) -> Result<Setup, ConfigError> {
    let s = &layers.merged;
    let wants_login = s.username.is_some() || s.user_pool_id.is_some() || s.app_id.is_some() || s.password.is_some();
    let login = if wants_login {
        let need = |v: &Option<String>, field: &str, var: &str| {
            v.clone().ok_or_else(|| ConfigError::new(layers.missing(field, var)))
        };
        let user_pool_id = need(&s.user_pool_id, "user_pool_id", "COGNITO_USER_POOL_ID")?;
        let app_id = need(&s.app_id, "app_id", "COGNITO_APP_ID")?;
        let username = need(&s.username, "username", "COGNITO_USERNAME")?;
        let password =
            s.password.clone().ok_or_else(|| ConfigError::new(layers.missing("password", "COGNITO_PASSWORD")))?;
        let client = UserPoolClient::new(config, &user_pool_id, &app_id)
            .map_err(|e| ConfigError::because("Cognito user_pool_id", e))?
            .with_client_secret(s.app_secret.as_deref().map(|s| s.as_str()));
        Some(Login {
            client,
            username,
            password,
            auth_type: s.auth_type.unwrap_or_default(),
            metadata: s.metadata.clone().unwrap_or_default(),
        })
    } else {
        None
    };
    let identity = match &s.identity_pool_id {
        Some(id) => {
            Some(IdentityPoolClient::new(config, id).map_err(|e| ConfigError::because("Cognito identity_pool_id", e))?)
        }
        None => None,
    };
    if login.is_none() && identity.is_none() {
        return Err(ConfigError::new(
            layers.missing("user_pool_id or identity_pool_id", "COGNITO_USER_POOL_ID / COGNITO_IDENTITY_POOL_ID"),
        ));
    }
    let flow =
        s.identity_flow.unwrap_or(if s.role_arn.is_some() { IdentityFlow::Basic } else { IdentityFlow::Enhanced });
    if flow == IdentityFlow::Basic && s.role_arn.is_none() {
        return Err(ConfigError::new(layers.missing("role_arn (the basic flow assumes it)", "AWS_ROLE_ARN")));
    }
    let env = config.context().env();
    let cache = match (s.cache, &s.cache_dir) {
        (Some(true), dir) => {
            let dir = match dir {
                Some(d) => crate::profile::expand_home(env, &d.to_string_lossy()),
                None => crate::profile::default_path(env, "cognito").join("cache"),
            };
            Some(TokenCache::new(dir))
        }
        (Some(false), _) => None,
        (None, Some(dir)) => {
            return Err(ConfigError::new(format!(
                "Cognito cache_dir is set ({}) but the cache is not enabled: set cache = true (COGNITO_CACHE=true) or drop cache_dir",
                dir.display()
            )))
        }
        _ => None,
    };
    let sts = match &s.region {
        Some(region) => StsClient::new(config.service_in(crate::sts::SPEC, region, None)),
        None => config.sts().with_credentials(None),
    };
    Ok(Setup { login, identity, role_arn: s.role_arn.clone(), flow, sts, cache })
}

impl CognitoCredentials {
    /// A builder over `config` (its endpoint, HTTP client, clock and environment).
    pub fn builder(config: &Config) -> CognitoBuilder {
        CognitoBuilder {
            config: config.clone(),
            explicit: CognitoSettings::default(),
            profile: None,
            credentials_file: None,
            settings: None,
        }
    }

    /// The chain's provider: from the `COGNITO_*` variables only. Not configured (the chain moves
    /// on) when none of `COGNITO_USERNAME`, `COGNITO_PASSWORD`, `COGNITO_USER_POOL_ID`,
    /// `COGNITO_IDENTITY_POOL_ID`, `COGNITO_APP_ID` is set; a broken setting is an error.
    pub fn from_env(config: &Config) -> Self {
        let env = config.context().env();
        let setup = if ENV_VARS.iter().all(|v| env.get(v).is_none()) {
            Err(CredentialsError::not_configured("COGNITO_USER_POOL_ID and COGNITO_IDENTITY_POOL_ID not set"))
        } else if env.get("COGNITO_IDENTITY_POOL_ID").is_none() {
            // A user pool login alone gives tokens, not AWS credentials: leave them to the rest.
            Err(CredentialsError::not_configured(
                "COGNITO_IDENTITY_POOL_ID not set (a user pool login alone gives no AWS credentials)",
            ))
        } else {
            Layers::resolve(config.context(), &CognitoSettings::default(), None)
                .and_then(|layers| setup(config, &layers))
                .map_err(|e| CredentialsError::invalid("the COGNITO_* settings are not valid").with_source(e))
        };
        CognitoCredentials::from_setup(config, setup, "environment".to_owned())
    }

    fn from_setup(config: &Config, setup: Result<Setup, CredentialsError>, label: String) -> Self {
        CognitoCredentials {
            inner: Arc::new(Inner {
                setup,
                state: tokio::sync::Mutex::new(State::default()),
                ctx: config.context().clone(),
                clock: config.context().clock().clone(),
                ctx_label: label,
                logins: AtomicU64::new(0),
                refreshes: AtomicU64::new(0),
            }),
        }
    }

    /// Where the Cognito credentials file is for `config` (`COGNITO_CREDENTIALS_FILE` or
    /// `~/.aws/cognito_credentials`).
    pub fn credentials_file(config: &Config) -> PathBuf {
        credentials_file(config.context())
    }

    fn setup(&self) -> Result<&Setup, CredentialsError> {
        self.inner.setup.as_ref().map_err(Clone::clone)
    }

    /// True when a user pool login is configured (false for a guest of an identity pool).
    pub fn has_login(&self) -> bool {
        self.setup().is_ok_and(|s| s.login.is_some())
    }

    /// True when an identity pool is configured (so there are AWS credentials to get).
    pub fn has_identity_pool(&self) -> bool {
        self.setup().is_ok_and(|s| s.identity.is_some())
    }

    /// How many password logins and refreshes were made.
    pub fn stats(&self) -> LoginStats {
        LoginStats {
            logins: self.inner.logins.load(Ordering::Relaxed),
            refreshes: self.inner.refreshes.load(Ordering::Relaxed),
        }
    }

    /// The identity id, once credentials were fetched.
    pub async fn identity_id(&self) -> Option<String> {
        self.inner.state.lock().await.identity_id.clone()
    }

    /// Fresh tokens (from memory, the token cache, a refresh or a login), or the challenge the
    /// login stopped at.
    pub async fn authenticate(&self) -> Result<AuthResult, CredentialsError> {
        let setup = self.setup()?;
        let Some(login) = &setup.login else {
            return Err(CredentialsError::invalid(
                "no user pool login is configured (user_pool_id, app_id, username, password)",
            ));
        };
        let key = (login.client.user_pool_id(), login.client.client_id(), login.username.as_str());
        let mut st = self.inner.state.lock().await;
        if !st.cache_read {
            st.cache_read = true;
            if let Some(cache) = &setup.cache {
                st.tokens = cache.load(key.0, key.1, key.2);
            }
        }
        let now = self.inner.clock.now();
        if let Some(t) = &st.tokens {
            if t.expires_at > now + REFRESH_AHEAD {
                return Ok(AuthResult::Tokens(t.clone()));
            }
        }
        if let Some(refresh) = st.tokens.as_ref().and_then(|t| t.refresh_token.clone()) {
            // The secret hash of a refresh is over Cognito's own user name (not an alias).
            let hash_user = st.tokens.as_ref().and_then(Tokens::username).unwrap_or_else(|| login.username.clone());
            match login.client.refresh(&refresh, &hash_user, &login.metadata).await {
                Ok(t) => {
                    self.inner.refreshes.fetch_add(1, Ordering::Relaxed);
                    self.keep(&mut st, t.clone());
                    return Ok(AuthResult::Tokens(t));
                }
                Err(e) if e.code() == Some("NotAuthorizedException") => {
                    tracing::debug!(error = %e, "refresh token refused; logging in again");
                    st.tokens = None;
                    if let Some(cache) = &setup.cache {
                        cache.remove(key.0, key.1, key.2);
                    }
                }
                Err(e) => return Err(CredentialsError::from(e)),
            }
        }
        let result = match login.auth_type {
            AuthType::UserSrp => login.client.login_srp(&login.username, &login.password, &login.metadata).await,
            AuthType::UserPassword => {
                login.client.login_password(&login.username, &login.password, &login.metadata).await
            }
        }
        .map_err(CredentialsError::from)?;
        self.inner.logins.fetch_add(1, Ordering::Relaxed);
        if let AuthResult::Tokens(t) = &result {
            self.keep(&mut st, t.clone());
        }
        Ok(result)
    }

    fn keep(&self, st: &mut State, tokens: Tokens) {
        let setup = self.setup().ok();
        if let (Some(cache), Some(login)) = (setup.and_then(|s| s.cache.as_ref()), setup.and_then(|s| s.login.as_ref()))
        {
            let (pool, app) = (login.client.user_pool_id(), login.client.client_id());
            if let Err(e) = cache.store(pool, app, &login.username, &tokens) {
                tracing::warn!(dir = %cache.dir().display(), error = %e, "cannot write the Cognito token cache");
            }
        }
        st.tokens = Some(tokens);
    }

    /// Fresh tokens; a challenge is an error that names it (use
    /// [`authenticate`](Self::authenticate) to answer it).
    pub async fn tokens(&self) -> Result<Tokens, CredentialsError> {
        match self.authenticate().await? {
            AuthResult::Tokens(t) => Ok(t),
            AuthResult::Challenge(c) => Err(CredentialsError::rejected(format!(
                "the Cognito login stopped at the {} challenge, which needs the user's answer",
                c.name()
            ))),
        }
    }

    /// A task that keeps the tokens fresh (refreshing 5 minutes before expiry) until the
    /// returned handle is dropped or stopped. Needs a Tokio runtime.
    pub fn spawn_token_fetcher(&self) -> TokenFetcher {
        self.spawn_token_fetcher_checking_every(Duration::from_secs(60))
    }

    /// Like [`spawn_token_fetcher`](Self::spawn_token_fetcher), looking at the clock at least
    /// every `check` (so a suspended machine or a clock that jumps is noticed).
    pub fn spawn_token_fetcher_checking_every(&self, check: Duration) -> TokenFetcher {
        let this = self.clone();
        let handle = tokio::spawn(async move {
            loop {
                let wait = match this.tokens().await {
                    Ok(t) => {
                        let due = t.expires_at.checked_sub(REFRESH_AHEAD).unwrap_or(t.expires_at);
                        due.duration_since(this.inner.clock.now()).unwrap_or_default() + Duration::from_secs(1)
                    }
                    Err(e) if e.is_retryable() => {
                        tracing::warn!(error = %e, "Cognito token refresh failed; trying again in 30 s");
                        Duration::from_secs(30)
                    }
                    Err(e) => {
                        // A refused password or a challenge: trying again would only repeat it
                        // (and could lock the account or send SMS codes).
                        tracing::warn!(error = %e, "Cognito token refresh refused; the token fetcher stops");
                        return;
                    }
                };
                tokio::time::sleep(wait.min(check)).await;
            }
        });
        TokenFetcher { provider: self.clone(), handle }
    }

    async fn fetch(&self) -> Result<Credentials, CredentialsError> {
        let setup = self.setup()?;
        let Some(identity) = &setup.identity else {
            return Err(CredentialsError::invalid(
                "Cognito identity_pool_id is not set: it turns the user pool login into AWS credentials",
            ));
        };
        let mut logins = Logins::new();
        if let Some(login) = &setup.login {
            let tokens = self.tokens().await?;
            let provider =
                login_provider(login.client.user_pool_id()).map_err(|e| CredentialsError::invalid(e.to_string()))?;
            logins = logins.with(provider, &tokens.id_token);
        }
        let known = self.inner.state.lock().await.identity_id.clone();
        let identity_id = match known {
            Some(id) => id,
            None => {
                let id = identity.get_id(&logins).await.map_err(CredentialsError::from)?;
                self.inner.state.lock().await.identity_id = Some(id.clone());
                id
            }
        };
        match setup.flow {
            IdentityFlow::Enhanced => identity
                .get_credentials(&identity_id, &logins, setup.role_arn.as_deref())
                .await
                .map_err(CredentialsError::from),
            IdentityFlow::Basic => {
                let role = setup.role_arn.as_deref().unwrap_or_default();
                let token = identity.get_open_id_token(&identity_id, &logins).await.map_err(CredentialsError::from)?;
                let session = crate::credentials::default_session_name(&self.inner.ctx);
                let assumed = setup
                    .sts
                    .assume_role_with_web_identity(role, &session, &token, None)
                    .await
                    .map_err(CredentialsError::from)?;
                Ok(assumed.credentials.with_provider("cognito"))
            }
        }
    }
}

impl ProvideCredentials for CognitoCredentials {
    fn provide_credentials(&self) -> BoxFuture<'_, Result<Credentials, CredentialsError>> {
        Box::pin(self.fetch())
    }
}

/// Keeps a provider's tokens fresh in the background; stops when dropped.
#[derive(Debug)]
pub struct TokenFetcher {
    provider: CognitoCredentials,
    handle: tokio::task::JoinHandle<()>,
}

impl TokenFetcher {
    /// The current tokens (fresh, since the task refreshes them ahead of expiry).
    pub async fn tokens(&self) -> Result<Tokens, CredentialsError> {
        self.provider.tokens().await
    }

    /// Stops the task.
    pub fn stop(self) {}

    /// True while the task runs.
    pub fn is_running(&self) -> bool {
        !self.handle.is_finished()
    }
}

impl Drop for TokenFetcher {
    fn drop(&mut self) {
        self.handle.abort();
    }
}
