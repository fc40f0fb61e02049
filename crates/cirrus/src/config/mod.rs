//! Configuration: region, endpoints, credentials and the HTTP client, resolved the way the AWS
//! SDKs and CLI do, and the shared config files.

pub mod endpoint;
pub mod profile;

use crate::context::Context;
use crate::credentials::{CredentialsCache, DefaultChain, SharedCredentialsProvider};
use crate::env::Env;
use crate::service::ServiceSpec;
use crate::sts::StsClient;
use crate::transport::{HttpClient, ServiceConfig, TransportSettings};
pub use endpoint::ServiceId;
pub use profile::{Profile, ProfileFileError, ProfileSet};
use std::fmt;
use std::sync::Arc;

/// The region from `AWS_REGION`, then `AWS_DEFAULT_REGION`. No network probe.
pub fn region_from_env(env: &dyn Env) -> Option<String> {
    env.get("AWS_REGION").or_else(|| env.get("AWS_DEFAULT_REGION"))
}

/// The profile in use: the one asked for, then `AWS_PROFILE`, then `default`.
pub fn profile_name(explicit: Option<&str>, env: &dyn Env) -> String {
    explicit.map(str::to_owned).or_else(|| env.get("AWS_PROFILE")).unwrap_or_else(|| "default".to_owned())
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

/// Builds a [`Config`].
///
/// ```
/// use cirrus::config::CredentialsChoice;
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
    profile: Option<String>,
    endpoint_url: Option<String>,
    credentials: CredentialsChoice,
    transport: Option<TransportSettings>,
}

/// Region, credentials, endpoints and the HTTP client: what every service client is made from.
///
/// ```no_run
/// use cirrus::Config;
///
/// // Region, profile, credentials and endpoints, found as the AWS CLI finds them.
/// let config = Config::from_env()?;
/// println!("region {:?} (from {})", config.region(), config.region_source());
///
/// // Or with some of them set in code.
/// let config = Config::loader()
///     .region(Some("eu-west-1"))
///     .profile(Some("dev"))
///     .endpoint_url(Some("http://localhost:9000"))
///     .load()?;
/// # let _ = config;
/// # Ok::<(), cirrus::config::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct Config {
    ctx: Context,
    region: Option<String>,
    region_source: &'static str,
    profile: Option<String>,
    endpoint_url: Option<String>,
    credentials: Option<SharedCredentialsProvider>,
    chain: Option<DefaultChain>,
    http: HttpClient,
}

/// A region goes into host names (`sts.<region>.amazonaws.com`): it must be one DNS label of
/// letters, digits and hyphens, or a crafted value could send signed requests to another host.
fn check_region(region: &str, source: &str) -> Result<(), ConfigError> {
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
fn check_endpoint(url: &str, source: &str) -> Result<(), ConfigError> {
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
    } else {
        None
    };
    match problem {
        Some(p) => Err(ConfigError::new(format!("{source} {shown:?} {p}"))),
        None => Ok(()),
    }
}

/// Why a configuration cannot be built: no region, a shared config file that cannot be read
/// (the file and line are in [`source`](std::error::Error::source)), or a value that is not
/// valid. Nothing was sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    kind: ConfigErrorKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum ConfigErrorKind {
    NoRegion,
    ProfileFile(ProfileFileError),
    Invalid(String),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ConfigErrorKind::NoRegion => {
                f.write_str("no region: pass --region, set AWS_REGION, or set region in the profile")
            }
            ConfigErrorKind::ProfileFile(_) => f.write_str("cannot read the shared config files"),
            ConfigErrorKind::Invalid(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ConfigErrorKind::ProfileFile(e) => Some(e),
            _ => None,
        }
    }
}

impl ConfigError {
    /// A value that is not valid, named in `message`.
    pub(crate) fn new(message: impl Into<String>) -> Self {
        ConfigError { kind: ConfigErrorKind::Invalid(message.into()) }
    }

    pub(crate) fn no_region() -> Self {
        ConfigError { kind: ConfigErrorKind::NoRegion }
    }

    pub(crate) fn profile_file(e: ProfileFileError) -> Self {
        ConfigError { kind: ConfigErrorKind::ProfileFile(e) }
    }

    /// No region is configured (explicit, `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile).
    pub fn is_no_region(&self) -> bool {
        self.kind == ConfigErrorKind::NoRegion
    }

    /// A shared config or credentials file could not be read or parsed.
    pub fn is_profile_file(&self) -> bool {
        matches!(self.kind, ConfigErrorKind::ProfileFile(_))
    }

    /// A setting has a value that is not valid.
    pub fn is_invalid(&self) -> bool {
        matches!(self.kind, ConfigErrorKind::Invalid(_))
    }
}

impl ConfigLoader {
    /// A loader over `ctx`.
    pub fn new(ctx: Context) -> Self {
        ConfigLoader {
            ctx,
            region: None,
            profile: None,
            endpoint_url: None,
            credentials: CredentialsChoice::Default,
            transport: None,
        }
    }

    /// Uses this region, whatever the environment says.
    pub fn region(mut self, region: Option<&str>) -> Self {
        self.region = region.map(str::to_owned);
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
    /// `region`; never IMDS) and sets up credentials. Reads the config files only when the
    /// region is not in the environment; contacts nothing.
    pub fn load(self) -> Result<Config, ConfigError> {
        let ctx = self.context();
        let region = self.configured_region(&ctx)?;
        self.build(ctx, region)
    }

    /// Like [`load`](Self::load), and when nothing configures a region, asks the EC2 instance
    /// metadata service for the instance's (the official SDKs' last region source). Off EC2 this
    /// costs up to the IMDS timeout (1 s) unless `AWS_EC2_METADATA_DISABLED=true`, which is why
    /// [`load`](Self::load) never does it. An IMDS failure leaves the region unset.
    pub async fn load_with_imds_region(self) -> Result<Config, ConfigError> {
        let ctx = self.context();
        let mut region = self.configured_region(&ctx)?;
        if region.0.is_none() {
            match crate::credentials::ImdsCredentials::new(&ctx).region().await {
                Ok(r) => region = (Some(r), "imds"),
                Err(e) => tracing::debug!(error = %e, "no region from IMDS"),
            }
        }
        self.build(ctx, region)
    }

    fn context(&self) -> Context {
        match &self.transport {
            Some(t) => self.ctx.clone().with_http(HttpClient::new(t.clone())),
            None => self.ctx.clone(),
        }
    }

    fn configured_region(&self, ctx: &Context) -> Result<(Option<String>, &'static str), ConfigError> {
        // Checked here, before anything is sent: load and load_with_imds_region both pass.
        if let Some(url) = &self.endpoint_url {
            check_endpoint(url, "the explicit endpoint URL")?;
        }
        if let Some(url) = ctx.env().get("AWS_ENDPOINT_URL").filter(|u| !u.is_empty()) {
            check_endpoint(&url, "AWS_ENDPOINT_URL")?;
        }
        let (region, source) = self.region_and_source(ctx)?;
        if let Some(r) = &region {
            check_region(r, source)?;
        }
        Ok((region, source))
    }

    fn region_and_source(&self, ctx: &Context) -> Result<(Option<String>, &'static str), ConfigError> {
        Ok(match (&self.region, region_from_env(ctx.env())) {
            (Some(r), _) => (Some(r.clone()), "explicit"),
            (None, Some(r)) => {
                (Some(r), if ctx.env().get("AWS_REGION").is_some() { "AWS_REGION" } else { "AWS_DEFAULT_REGION" })
            }
            (None, None) => {
                let set = ctx.profiles().map_err(ConfigError::profile_file)?;
                let name = profile_name(self.profile.as_deref(), ctx.env());
                match set.get(&name).and_then(|p| p.get("region")) {
                    Some(r) => (Some(r.to_owned()), "profile"),
                    None => (None, "none"),
                }
            }
        })
    }

    fn build(
        self,
        ctx: Context,
        (region, region_source): (Option<String>, &'static str),
    ) -> Result<Config, ConfigError> {
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
                let chain = DefaultChain::new(&config.ctx, sts, config.profile.as_deref());
                // A Cognito login goes first when the COGNITO_* variables ask for one.
                #[cfg(feature = "cognito")]
                let chain = {
                    let cognito = crate::cognito::CognitoCredentials::from_env(&config);
                    let mut links =
                        vec![crate::credentials::ChainLink { name: "cognito", provider: Arc::new(cognito) }];
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

    /// The context.
    pub fn context(&self) -> &Context {
        &self.ctx
    }

    /// The region, if one is configured.
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    /// Where the region came from (`"explicit"`, `"AWS_REGION"`, `"AWS_DEFAULT_REGION"`,
    /// `"profile"`, `"imds"`, `"none"`).
    pub fn region_source(&self) -> &'static str {
        self.region_source
    }

    /// The region, or an error that says how to set one.
    pub fn require_region(&self) -> Result<&str, ConfigError> {
        self.region().ok_or_else(ConfigError::no_region)
    }

    /// The profile in use (the one asked for, `AWS_PROFILE`, then `default`) as the shared
    /// config and credentials files hold it; `None` when they do not name it.
    pub fn profile(&self) -> Result<Option<Profile>, ConfigError> {
        let set = self.ctx.profiles().map_err(ConfigError::profile_file)?;
        let name = profile_name(self.profile.as_deref(), self.ctx.env());
        Ok(set.get(&name).cloned())
    }

    /// The credentials provider (cached); `None` when requests go unsigned.
    pub fn credentials(&self) -> Option<&SharedCredentialsProvider> {
        self.credentials.as_ref()
    }

    /// The default chain, when it is in use (for [`DefaultChain::explain`]).
    pub fn chain(&self) -> Option<&DefaultChain> {
        self.chain.as_ref()
    }

    /// The HTTP client.
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// The endpoint of `service` and where it came from.
    pub fn endpoint(&self, service: ServiceId, region: &str) -> (String, &'static str) {
        let explicit = self.endpoint_url.as_deref();
        let needs_profile = explicit.is_none()
            && self.ctx.env().get(&format!("AWS_ENDPOINT_URL_{}", service.env_suffix)).is_none()
            && self.ctx.env().get("AWS_ENDPOINT_URL").is_none();
        let set = if needs_profile { self.ctx.profiles().ok() } else { None };
        let name = profile_name(self.profile.as_deref(), self.ctx.env());
        let profile = set.as_ref().and_then(|s| s.get(&name));
        endpoint::resolve(service, region, explicit, self.ctx.env(), profile)
    }

    /// A service configuration for a client of `spec`: the configured region, the endpoint,
    /// these credentials, the shared HTTP client and the clock. An error when no region is set.
    pub fn service(
        &self,
        spec: ServiceSpec,
        credentials: Option<SharedCredentialsProvider>,
    ) -> Result<ServiceConfig, ConfigError> {
        let region = self.require_region()?.to_owned();
        Ok(self.service_in(spec, &region, credentials))
    }

    /// Like [`service`](Self::service), in this region whatever the configured one is (for
    /// services whose resources name their region, like Cognito pools).
    pub fn service_in(
        &self,
        spec: ServiceSpec,
        region: &str,
        credentials: Option<SharedCredentialsProvider>,
    ) -> ServiceConfig {
        let (endpoint, _) = self.endpoint(spec.id, region);
        ServiceConfig::builder(spec, region, endpoint)
            .credentials(credentials)
            .http(self.http.clone())
            .clock(self.ctx.clock().clone())
            .build()
    }

    fn sts_with(&self, credentials: Option<SharedCredentialsProvider>) -> StsClient {
        // Credential providers need STS even when no region is set: use us-east-1 then, as the SDKs do.
        let region = self.region.clone().unwrap_or_else(|| "us-east-1".to_owned());
        let this = self.clone();
        StsClient::lazy(move || this.service_in(crate::sts::SPEC, &region, credentials.clone()))
    }

    /// An STS client signing with this configuration's credentials.
    pub fn sts(&self) -> StsClient {
        self.sts_with(self.credentials.clone())
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("region", &self.region)
            .field("profile", &self.profile)
            .field("endpoint_url", &self.endpoint_url)
            .field("anonymous", &self.credentials.is_none())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_region_wins_over_default_region() {
        assert_eq!(
            region_from_env(&[("AWS_REGION", "eu-west-1"), ("AWS_DEFAULT_REGION", "us-east-2")]),
            Some("eu-west-1".into())
        );
        assert_eq!(
            region_from_env(&[("AWS_REGION", ""), ("AWS_DEFAULT_REGION", "us-east-2")]),
            Some("us-east-2".into())
        );
        assert_eq!(region_from_env(&[("HOME", "/root")]), None);
    }

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
        assert!(ConfigError::new("bad").is_invalid());
    }

    #[test]
    fn an_endpoint_is_a_base_url() {
        let load = |url: &str| {
            let ctx = Context::new(Arc::new([("HOME", "/nonexistent")]), Arc::new(crate::fs::MemFs::default()));
            ConfigLoader::new(ctx).region(Some("us-east-1")).endpoint_url(Some(url)).load().map(drop)
        };
        assert!(load("http://127.0.0.1:9000").is_ok() && load("https://minio.example/base").is_ok());
        for (bad, why) in [
            ("https://user:secret@s3.example", "user info"),
            ("https://s3.example/?x=1", "query"),
            ("https://s3.example#f", "fragment"),
            ("ftp://s3.example", "http"),
            ("s3.example", "http"),
        ] {
            let e = load(bad).unwrap_err().to_string();
            assert!(e.contains(why) && !e.contains("secret"), "{bad}: {e}");
        }
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
