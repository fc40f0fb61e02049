//! Loads a [`Config`] the way the AWS SDKs and CLI do: the region (explicit, `AWS_REGION`,
//! `AWS_DEFAULT_REGION`, the profile, optionally IMDS), the endpoints, and the default
//! credentials chain wired from every provider (a Cognito login first when the `COGNITO_*`
//! variables ask for one). The top of the layers: it stands on configuration, the providers
//! and the services, and nothing below imports it.

use crate::config::{region_from_env, Config, ConfigError};
use crate::context::Context;
use crate::credentials::{CredentialsCache, DefaultChain};
use crate::identity::{BoxFuture, Credentials, CredentialsError, ProvideCredentials, SharedCredentialsProvider};
use crate::profile::{expand_home, profile_name};
use crate::transport::{HttpClient, ProxySettings, RetryConfig, RetryMode, TlsRoots, TransportSettings};
use crate::Origin;
use std::path::PathBuf;
use std::sync::Arc;

/// A chain link left out by a precedence rule: never configured, and says which rule.
#[derive(Debug)]
struct Unused(String);

impl ProvideCredentials for Unused {
    fn provide_credentials(&self) -> BoxFuture<'_, Result<Credentials, CredentialsError>> {
        Box::pin(async move { Err(CredentialsError::not_configured(self.0.clone())) })
    }
}

/// How requests are signed.
#[derive(Clone)]
pub enum CredentialsChoice {
    /// The default chain, cached.
    Default,
    /// Unsigned requests (public buckets), like botocore's `UNSIGNED` and `--no-sign-request`.
    Anonymous,
    /// This provider (cached by the caller if it should be).
    Provider(SharedCredentialsProvider),
}

impl std::fmt::Debug for CredentialsChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CredentialsChoice::Default => f.write_str("Default"),
            CredentialsChoice::Anonymous => f.write_str("Anonymous"),
            CredentialsChoice::Provider(p) => f.debug_tuple("Provider").field(p).finish(),
        }
    }
}

/// Builds a [`Config`].
///
/// ```
/// use cirrus::loader::CredentialsChoice;
/// use cirrus::Config;
///
/// // A public bucket on a local MinIO: unsigned requests, no config file read.
/// let config = Config::loader()
///     .region(Some("us-east-1"))
///     .endpoint_url(Some("http://localhost:9000"))
///     .credentials(CredentialsChoice::Anonymous)
///     .load()?;
/// assert_eq!(config.region(), Some("us-east-1"));
/// assert!(config.credentials().is_none());
/// # Ok::<(), cirrus::config::ConfigError>(())
/// ```
#[must_use]
pub struct ConfigLoader {
    ctx: Context,
    region: Option<String>,
    /// The command-line flag `region` came from.
    region_flag: Option<&'static str>,
    profile: Option<String>,
    endpoint_url: Option<String>,
    credentials: CredentialsChoice,
    transport: Option<TransportSettings>,
}

impl std::fmt::Debug for ConfigLoader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigLoader")
            .field("region", &self.region)
            .field("profile", &self.profile)
            .field("endpoint_url", &self.endpoint_url)
            .field("credentials", &self.credentials)
            .finish_non_exhaustive()
    }
}

/// A region goes into host names (`sts.<region>.amazonaws.com`): it must be one DNS label of
/// letters, digits and hyphens, or a crafted value could send signed requests to another host.
pub(crate) fn check_region(region: &str, source: &str) -> Result<(), ConfigError> {
    let label = (1..=63).contains(&region.len())
        && region.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !region.starts_with('-')
        && !region.ends_with('-');
    if label {
        Ok(())
    } else {
        Err(ConfigError::new(format!(
            "region {region:?} (from {source}) is not a region name: letters, digits and hyphens, like eu-west-1"
        )))
    }
}

/// An endpoint is a base URL: `http(s)://host[:port][/path]`. User info would be sent in the
/// `Host` header and printed in errors; a query or fragment has no place in a base URL.
pub(crate) fn check_endpoint(url: &str, source: &str) -> Result<(), ConfigError> {
    let shown = crate::transport::redact_url(url);
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(ConfigError::new(format!("{source} {shown:?} is not an http:// or https:// URL")));
    };
    let authority = rest.split('/').next().unwrap_or("");
    let problem = if !matches!(scheme, "http" | "https") {
        Some("is not an http:// or https:// URL")
    } else if authority.contains('@') {
        Some("holds user info (user:password@): cirrus signs with AWS credentials and would send it in Host")
    } else if url.contains(['?', '#']) {
        Some("holds a query or a fragment, which a base URL cannot")
    } else if authority.is_empty() {
        Some("names no host")
    } else if !crate::transport::valid_url(url) {
        Some("is not a valid URL (a port is at most 65535; an IPv6 address goes in brackets)")
    } else {
        None
    };
    match problem {
        Some(p) => Err(ConfigError::new(format!("{source} {shown:?} {p}"))),
        None => Ok(()),
    }
}

impl ConfigLoader {
    /// A loader over `ctx`.
    pub fn new(ctx: Context) -> Self {
        ConfigLoader {
            ctx,
            region: None,
            region_flag: None,
            profile: None,
            endpoint_url: None,
            credentials: CredentialsChoice::Default,
            transport: None,
        }
    }

    /// Uses this region, whatever the environment says.
    pub fn region(mut self, region: Option<&str>) -> Self {
        self.region = region.map(str::to_owned);
        self.region_flag = None;
        self
    }

    /// Uses this region, given on the command line by `flag` (`--region`): as
    /// [`region`](Self::region), and errors and `Config::region_source` name the flag.
    pub fn region_from_flag(mut self, region: Option<&str>, flag: &'static str) -> Self {
        self.region = region.map(str::to_owned);
        self.region_flag = Some(flag);
        self
    }

    /// Uses this profile instead of `AWS_PROFILE`.
    pub fn profile(mut self, profile: Option<&str>) -> Self {
        self.profile = profile.map(str::to_owned);
        self
    }

    /// Sends every service's requests to this URL (`--endpoint-url`).
    pub fn endpoint_url(mut self, url: Option<&str>) -> Self {
        self.endpoint_url = url.map(str::to_owned);
        self
    }

    /// How to sign.
    pub fn credentials(mut self, choice: CredentialsChoice) -> Self {
        self.credentials = choice;
        self
    }

    /// HTTP settings (timeouts, retries).
    pub fn transport(mut self, settings: TransportSettings) -> Self {
        self.transport = Some(settings);
        self
    }

    /// Resolves the region (explicit, `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's
    /// `region`; never IMDS), the HTTP settings (proxies from `HTTPS_PROXY`, `HTTP_PROXY` and
    /// `NO_PROXY`; trusted roots from `AWS_CA_BUNDLE` or the profile's `ca_bundle`) and sets
    /// up credentials. Reads the config files only when something asks for them (no region in
    /// the environment, an explicit profile, a CA bundle to look up); contacts nothing.
    ///
    /// A profile named explicitly ([`profile`](Self::profile), `--profile`) must exist, and
    /// takes the place of environment credentials, as in the AWS CLI; `AWS_PROFILE` leaves them
    /// first.
    pub fn load(self) -> Result<Config, ConfigError> {
        let ctx = self.context()?;
        let region = self.configured_region(&ctx)?;
        self.build(ctx, region)
    }

    /// Like [`load`](Self::load), and when nothing configures a region, asks the EC2 instance
    /// metadata service for the instance's (the official SDKs' last region source). Off EC2 this
    /// costs up to the IMDS timeout (1 s) unless `AWS_EC2_METADATA_DISABLED=true`, which is why
    /// [`load`](Self::load) never does it. An IMDS failure leaves the region unset.
    pub async fn load_with_imds_region(self) -> Result<Config, ConfigError> {
        let ctx = self.context()?;
        let mut region = self.configured_region(&ctx)?;
        if region.0.is_none() {
            match crate::credentials::ImdsCredentials::new(&ctx).region().await {
                Ok(r) => region = (Some(r), Origin::Imds),
                Err(e) => tracing::debug!(error = %e, "no region from IMDS"),
            }
        }
        self.build(ctx, region)
    }

    /// The context with the HTTP client these settings, the environment and the profile ask
    /// for; a context that already has its client keeps it unless settings are given.
    fn context(&self) -> Result<Context, ConfigError> {
        if let Some(name) = &self.profile {
            self.check_profile_exists(name, "was asked for")?;
        } else if let Some(name) = self.ctx.env().get("AWS_PROFILE").filter(|n| !n.is_empty() && n != "default") {
            // As in the AWS CLI: a profile named in the environment that no file has is an
            // error of its own, not one more source without credentials.
            self.check_profile_exists(&name, "is named by AWS_PROFILE")?;
        }
        if self.transport.is_none() && self.ctx.has_http() {
            return Ok(self.ctx.clone());
        }
        let mut settings = self.transport.clone().unwrap_or_default();
        let env = self.ctx.env();
        if settings.proxy.is_none() {
            settings.proxy = ProxySettings::from_env(env)
                .map_err(|e| ConfigError::because("the proxy settings are not valid", e))?;
        }
        if !settings.retry.is_explicit() {
            settings.retry = self.retry_settings(settings.retry)?;
        }
        if matches!(settings.tls_roots, TlsRoots::BuiltIn) {
            if let Some((path, source)) = self.ca_bundle()? {
                let shown = path.display();
                let text = self.ctx.fs().read_to_string(&path).map_err(|e| {
                    ConfigError::because(format!("the CA bundle {shown} (from {source}) cannot be read"), e)
                })?;
                settings.tls_roots = TlsRoots::from_pem(text.as_bytes()).map_err(|e| {
                    ConfigError::because(format!("the CA bundle {shown} (from {source}) is not a PEM bundle"), e)
                })?;
            }
        }
        Ok(self.ctx.clone().with_http(HttpClient::new(settings)))
    }

    /// A setting from the environment variable `var`, else the profile's `key`, with where it
    /// came from.
    fn setting(&self, var: &'static str, key: &'static str) -> Result<Option<(String, Origin)>, ConfigError> {
        let env = self.ctx.env();
        if let Some(v) = env.get(var) {
            return Ok(Some((v, Origin::Env(var.into()))));
        }
        let set = self.ctx.profiles().map_err(ConfigError::profile_file)?;
        let name = profile_name(self.profile.as_deref(), env);
        Ok(set.get(&name).and_then(|p| p.get(key)).map(|v| (v.to_owned(), Origin::Profile(key))))
    }

    /// `AWS_RETRY_MODE` / `retry_mode` and `AWS_MAX_ATTEMPTS` / `max_attempts`, the environment
    /// first, as botocore reads them.
    fn retry_settings(&self, mut retry: RetryConfig) -> Result<RetryConfig, ConfigError> {
        if let Some((v, source)) = self.setting("AWS_RETRY_MODE", "retry_mode")? {
            let mode = RetryMode::parse(&v).ok_or_else(|| {
                ConfigError::new(format!("retry mode {v:?} (from {source}) is not standard, adaptive or legacy"))
            })?;
            retry = RetryConfig::for_mode(mode);
        }
        if let Some((v, source)) = self.setting("AWS_MAX_ATTEMPTS", "max_attempts")? {
            retry.max_attempts = v.trim().parse::<u32>().ok().filter(|n| (1..=100).contains(n)).ok_or_else(|| {
                ConfigError::new(format!("max attempts {v:?} (from {source}) is not a whole number from 1 to 100"))
            })?;
        }
        Ok(retry.resolved())
    }

    /// `AWS_CA_BUNDLE`, then the profile's `ca_bundle`, as botocore reads them.
    fn ca_bundle(&self) -> Result<Option<(PathBuf, Origin)>, ConfigError> {
        let env = self.ctx.env();
        if let Some(path) = env.get("AWS_CA_BUNDLE") {
            return Ok(Some((expand_home(env, &path), Origin::Env("AWS_CA_BUNDLE".into()))));
        }
        let set = self.ctx.profiles().map_err(ConfigError::profile_file)?;
        let name = profile_name(self.profile.as_deref(), env);
        Ok(set.get(&name).and_then(|p| p.get("ca_bundle")).map(|p| (expand_home(env, p), Origin::Profile("ca_bundle"))))
    }

    fn check_profile_exists(&self, name: &str, asked: &str) -> Result<(), ConfigError> {
        let set = self.ctx.profiles().map_err(ConfigError::profile_file)?;
        if set.get(name).is_some() {
            return Ok(());
        }
        let files = set.sources();
        Err(ConfigError::profile_not_found(format!(
            "the profile `{name}` {asked}, but neither {} nor {} has it",
            files.config_file.display(),
            files.credentials_file.display()
        )))
    }

    fn configured_region(&self, ctx: &Context) -> Result<(Option<String>, Origin), ConfigError> {
        // Checked here, before anything is sent: load and load_with_imds_region both pass.
        if let Some(url) = &self.endpoint_url {
            check_endpoint(url, "the explicit endpoint URL")?;
        }
        if let Some(url) = ctx.env().get("AWS_ENDPOINT_URL").filter(|u| !u.is_empty()) {
            check_endpoint(&url, "AWS_ENDPOINT_URL")?;
        }
        let (region, source) = self.region_and_source(ctx)?;
        if let Some(r) = &region {
            // Named as the user wrote it: `--region`, `AWS_REGION`, `profile dev`.
            let from = match &source {
                Origin::Profile(_) => {
                    let name = profile_name(self.profile.as_deref(), ctx.env());
                    let file = ctx.profiles().ok().map(|s| s.sources().config_file.display().to_string());
                    format!("profile {name}{}", file.map_or(String::new(), |f| format!(", {f}")))
                }
                other => other.to_string(),
            };
            check_region(r, &from)?;
        }
        Ok((region, source))
    }

    fn region_and_source(&self, ctx: &Context) -> Result<(Option<String>, Origin), ConfigError> {
        Ok(match (&self.region, region_from_env(ctx.env())) {
            (Some(r), _) => (Some(r.clone()), self.region_flag.map_or(Origin::Explicit, Origin::Flag)),
            (None, Some(r)) => {
                let var = if ctx.env().get("AWS_REGION").is_some() { "AWS_REGION" } else { "AWS_DEFAULT_REGION" };
                (Some(r), Origin::Env(var.into()))
            }
            (None, None) => {
                let set = ctx.profiles().map_err(ConfigError::profile_file)?;
                let name = profile_name(self.profile.as_deref(), ctx.env());
                match set.get(&name).and_then(|p| p.get("region")) {
                    Some(r) => (Some(r.to_owned()), Origin::Profile("region")),
                    None => (None, Origin::Unset),
                }
            }
        })
    }

    fn build(self, ctx: Context, (region, region_source): (Option<String>, Origin)) -> Result<Config, ConfigError> {
        let http = ctx.http().clone();
        let mut config = Config {
            ctx,
            region,
            region_source,
            profile: self.profile,
            endpoint_url: self.endpoint_url,
            credentials: None,
            chain: None,
            http,
        };
        match self.credentials {
            CredentialsChoice::Anonymous => {}
            CredentialsChoice::Provider(p) => config.credentials = Some(p),
            CredentialsChoice::Default => {
                let sts = config.sts_with(None);
                let mut chain = DefaultChain::new(&config.ctx, sts, config.profile.as_deref());
                if let Some(name) = &config.profile {
                    // As the AWS CLI: a profile named explicitly beats environment credentials.
                    chain = chain.replace(
                        "environment",
                        Arc::new(Unused(format!(
                            "the profile `{name}` was named explicitly, which takes the place of environment credentials (as in the AWS CLI)"
                        ))),
                    );
                }
                // A Cognito login goes first when the COGNITO_* variables ask for one.
                #[cfg(feature = "cognito")]
                let chain = {
                    let cognito = crate::cognito::CognitoCredentials::from_env(&config);
                    let mut links = vec![crate::credentials::ChainLink::new(
                        "cognito",
                        Origin::Env("COGNITO_USER_POOL_ID".into()),
                        Arc::new(cognito),
                    )];
                    links.extend(chain.links().iter().cloned());
                    DefaultChain::from_links(links)
                };
                config.credentials = Some(Arc::new(CredentialsCache::with_settings(
                    Arc::new(chain.clone()),
                    Default::default(),
                    config.ctx.clock().clone(),
                )));
                config.chain = Some(chain);
            }
        }
        Ok(config)
    }
}

impl Config {
    /// A loader over the real process environment.
    pub fn loader() -> ConfigLoader {
        ConfigLoader::new(Context::from_process())
    }

    /// The configuration the environment describes, as the AWS CLI would see it.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::loader().load()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn errors_have_kinds_and_keep_their_cause() {
        let fs = crate::fs::MemFs::new([("/cfg", "[default]\nnot ini at all\n")]);
        let ctx =
            Context::new(Arc::new([("AWS_CONFIG_FILE", "/cfg"), ("AWS_SHARED_CREDENTIALS_FILE", "/no")]), Arc::new(fs));
        let e = ConfigLoader::new(ctx).load().map(drop).unwrap_err();
        assert!(e.is_profile_file() && !e.is_no_region() && !e.is_invalid());
        assert_eq!(e.to_string(), "cannot read the shared config files");
        let cause = std::error::Error::source(&e).map(|c| c.to_string()).unwrap_or_default();
        assert!(cause.starts_with("/cfg:2: "), "{cause}");

        let ctx = Context::new(Arc::new([("HOME", "/nonexistent")]), Arc::new(crate::fs::MemFs::default()));
        let config = ConfigLoader::new(ctx).credentials(CredentialsChoice::Anonymous).load().unwrap();
        let e = config.require_region().unwrap_err();
        assert!(e.is_no_region() && std::error::Error::source(&e).is_none());
    }

    #[test]
    fn an_endpoint_is_a_base_url() {
        let load = |url: &str| {
            let ctx = Context::new(Arc::new([("HOME", "/nonexistent")]), Arc::new(crate::fs::MemFs::default()));
            ConfigLoader::new(ctx).region(Some("us-east-1")).endpoint_url(Some(url)).load().map(drop)
        };
        assert!(load("http://127.0.0.1:9000").is_ok() && load("https://minio.example/base").is_ok());
        assert!(load("http://[::1]:9000").is_ok() && load("http://[::1]/").is_ok());
        for (bad, why) in [
            ("https://user:secret@s3.example", "user info"),
            ("https://s3.example/?x=1", "query"),
            ("https://s3.example#f", "fragment"),
            ("ftp://s3.example", "http"),
            ("s3.example", "http"),
            ("http://127.0.0.1:99999", "not a valid URL"),
            ("http://[::1", "not a valid URL"),
            ("http://[::1]:70000", "not a valid URL"),
        ] {
            let e = load(bad).unwrap_err().to_string();
            assert!(e.contains(why) && !e.contains("secret"), "{bad}: {e}");
        }
    }

    #[test]
    fn retries_from_the_environment_then_the_profile() {
        let load = |vars: &'static [(&'static str, &'static str)], cfg: &'static str| {
            let fs = crate::fs::MemFs::new([("/cfg", cfg)]);
            let mut all = vec![("AWS_CONFIG_FILE", "/cfg"), ("AWS_SHARED_CREDENTIALS_FILE", "/no")];
            all.extend_from_slice(vars);
            let env: std::collections::HashMap<String, String> =
                all.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
            let ctx = Context::new(Arc::new(env), Arc::new(fs));
            ConfigLoader::new(ctx).region(Some("us-east-1")).credentials(CredentialsChoice::Anonymous).load()
        };
        let retry = |c: Config| c.http().settings().retry.clone();
        let r = retry(load(&[], "").unwrap());
        assert_eq!((r.mode, r.max_attempts), (RetryMode::Standard, 3));
        let r = retry(load(&[], "[default]\nretry_mode = legacy\n").unwrap());
        assert_eq!((r.mode, r.max_attempts), (RetryMode::Legacy, 5));
        let r = retry(
            load(&[("AWS_RETRY_MODE", "Adaptive")], "[default]\nretry_mode = legacy\nmax_attempts = 7\n").unwrap(),
        );
        assert_eq!((r.mode, r.max_attempts), (RetryMode::Adaptive, 7));
        let r = retry(load(&[("AWS_MAX_ATTEMPTS", "1")], "[default]\nmax_attempts = 7\n").unwrap());
        assert_eq!(r.max_attempts, 1);
        let e = load(&[("AWS_RETRY_MODE", "fast")], "").unwrap_err();
        assert!(e.is_invalid() && e.to_string().contains("\"fast\" (from AWS_RETRY_MODE)"), "{e}");
        let e = load(&[], "[default]\nmax_attempts = 0\n").unwrap_err();
        assert!(e.to_string().contains("(from the profile's max_attempts)"), "{e}");
        // Settings chosen in code stand.
        let fs = crate::fs::MemFs::new([("/cfg", "[default]\nmax_attempts = 9\n")]);
        let env = [("AWS_CONFIG_FILE", "/cfg"), ("AWS_MAX_ATTEMPTS", "8")];
        let ctx = Context::new(Arc::new(env), Arc::new(fs));
        let settings = TransportSettings::default().with_retry(RetryConfig::default().with_max_attempts(2));
        let c = ConfigLoader::new(ctx).region(Some("us-east-1")).transport(settings).load().unwrap();
        assert_eq!(c.http().settings().retry.max_attempts, 2);
    }

    /// The AWS CLI's precedence: an explicit profile takes the environment link's place and must
    /// exist; AWS_PROFILE leaves environment credentials first.
    #[test]
    fn an_explicit_profile_beats_environment_credentials() {
        let fs = || {
            crate::fs::MemFs::new([("/cfg", "[profile dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = s\n")])
        };
        let vars = |extra: &'static [(&'static str, &'static str)]| {
            let mut all = vec![
                ("AWS_CONFIG_FILE", "/cfg"),
                ("AWS_SHARED_CREDENTIALS_FILE", "/no"),
                ("AWS_ACCESS_KEY_ID", "AKIDENV"),
                ("AWS_SECRET_ACCESS_KEY", "e"),
                ("AWS_EC2_METADATA_DISABLED", "true"),
            ];
            all.extend_from_slice(extra);
            let env: std::collections::HashMap<String, String> =
                all.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
            Context::new(Arc::new(env), Arc::new(fs()))
        };
        let winner = |config: Config| {
            let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
            rt.block_on(config.chain().unwrap().explain())
        };
        let explicit =
            winner(ConfigLoader::new(vars(&[])).region(Some("us-east-1")).profile(Some("dev")).load().unwrap());
        assert_eq!(explicit.winner(), Some("profile"), "{explicit}");
        assert!(explicit.to_string().contains("the profile `dev` was named explicitly"), "{explicit}");
        let from_env =
            winner(ConfigLoader::new(vars(&[("AWS_PROFILE", "dev")])).region(Some("us-east-1")).load().unwrap());
        assert_eq!(from_env.winner(), Some("environment"), "{from_env}");
        let e = ConfigLoader::new(vars(&[])).region(Some("us-east-1")).profile(Some("prod")).load().unwrap_err();
        assert!(e.is_profile_not_found() && e.to_string().contains("`prod`"), "{e}");
    }

    #[test]
    fn a_region_is_one_host_label() {
        let load = |r: &str| {
            let ctx = Context::new(Arc::new([("HOME", "/nonexistent")]), Arc::new(crate::fs::MemFs::default()));
            ConfigLoader::new(ctx).region(Some(r)).credentials(CredentialsChoice::Anonymous).load().map(drop)
        };
        assert!(load("eu-west-1").is_ok() && load("us-gov-west-1").is_ok());
        for bad in ["", "x@evil.example:443/", "eu-west-1.evil.example", "-eu", "eu west", "é"] {
            let e = load(bad).unwrap_err();
            assert!(e.is_invalid() && e.to_string().contains("(from explicit)"), "{bad:?}: {e}");
        }
    }
}
