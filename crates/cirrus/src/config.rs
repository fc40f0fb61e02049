//! Configuration: what every service client is made from (region, endpoints, credentials, the
//! HTTP client) and why it could not be had. [`crate::loader`] builds a [`Config`] the way the
//! AWS SDKs and CLI do; the shared config files are read by [`crate::profile`].

use crate::context::Context;
use crate::credentials::DefaultChain;
use crate::env::Env;
use crate::identity::SharedCredentialsProvider;
use crate::profile::{profile_name, Profile, ProfileFileError};
use crate::service::{endpoint, ServiceId, ServiceSpec};
use crate::sts::StsClient;
use crate::transport::{HttpClient, ServiceConfig};
use crate::Origin;
use std::fmt;
use std::sync::Arc;

/// The region from `AWS_REGION`, then `AWS_DEFAULT_REGION`. No network probe.
pub fn region_from_env(env: &dyn Env) -> Option<String> {
    env.get("AWS_REGION").or_else(|| env.get("AWS_DEFAULT_REGION"))
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
    pub(crate) ctx: Context,
    pub(crate) region: Option<String>,
    pub(crate) region_source: Origin,
    pub(crate) profile: Option<String>,
    pub(crate) endpoint_url: Option<String>,
    pub(crate) credentials: Option<SharedCredentialsProvider>,
    pub(crate) chain: Option<DefaultChain>,
    pub(crate) http: HttpClient,
}

/// Why a configuration cannot be built: no region, a shared config file that cannot be read
/// (the file and line are in [`source`](std::error::Error::source)), a named profile that does
/// not exist, or a value that is not valid (its cause, such as the I/O error of a CA bundle,
/// in `source`). Nothing was sent.
#[derive(Clone, Debug)]
pub struct ConfigError {
    kind: ConfigErrorKind,
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum ConfigErrorKind {
    NoRegion,
    ProfileFile,
    ProfileNotFound(String),
    Invalid(String),
}

/// Kind, message and the cause's text.
impl PartialEq for ConfigError {
    fn eq(&self, other: &Self) -> bool {
        let cause = |e: &Self| e.source.as_ref().map(|s| s.to_string());
        self.kind == other.kind && cause(self) == cause(other)
    }
}

impl Eq for ConfigError {}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ConfigErrorKind::NoRegion => {
                f.write_str("no region: pass --region, set AWS_REGION, or set region in the profile")
            }
            ConfigErrorKind::ProfileFile => f.write_str("cannot read the shared config files"),
            ConfigErrorKind::ProfileNotFound(m) | ConfigErrorKind::Invalid(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|s| s as &(dyn std::error::Error + 'static))
    }
}

impl ConfigError {
    /// A value that is not valid, named in `message`.
    pub(crate) fn new(message: impl Into<String>) -> Self {
        ConfigError { kind: ConfigErrorKind::Invalid(message.into()), source: None }
    }

    /// A value that is not valid, named in `message`, because of `cause`.
    pub(crate) fn because(message: impl Into<String>, cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        ConfigError { kind: ConfigErrorKind::Invalid(message.into()), source: Some(Arc::new(cause)) }
    }

    pub(crate) fn no_region() -> Self {
        ConfigError { kind: ConfigErrorKind::NoRegion, source: None }
    }

    pub(crate) fn profile_file(e: ProfileFileError) -> Self {
        ConfigError { kind: ConfigErrorKind::ProfileFile, source: Some(Arc::new(e)) }
    }

    pub(crate) fn profile_not_found(message: impl Into<String>) -> Self {
        ConfigError { kind: ConfigErrorKind::ProfileNotFound(message.into()), source: None }
    }

    /// No region is configured (explicit, `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile).
    pub fn is_no_region(&self) -> bool {
        self.kind == ConfigErrorKind::NoRegion
    }

    /// A shared config or credentials file could not be read or parsed.
    pub fn is_profile_file(&self) -> bool {
        self.kind == ConfigErrorKind::ProfileFile
    }

    /// The profile named explicitly (`--profile`, [`ConfigLoader::profile`]) is in neither
    /// shared file.
    ///
    /// [`ConfigLoader::profile`]: crate::loader::ConfigLoader::profile
    pub fn is_profile_not_found(&self) -> bool {
        matches!(self.kind, ConfigErrorKind::ProfileNotFound(_))
    }

    /// A setting has a value that is not valid.
    pub fn is_invalid(&self) -> bool {
        matches!(self.kind, ConfigErrorKind::Invalid(_))
    }
}

impl Config {
    /// The context.
    pub fn context(&self) -> &Context {
        &self.ctx
    }

    /// The region, if one is configured.
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    /// Where the region came from: [`Origin::Explicit`], `AWS_REGION` or `AWS_DEFAULT_REGION`
    /// ([`Origin::Env`]), the profile's `region`, [`Origin::Imds`], or [`Origin::Unset`].
    pub fn region_source(&self) -> &Origin {
        &self.region_source
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
    pub fn endpoint(&self, service: ServiceId, region: &str) -> (String, Origin) {
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

    pub(crate) fn sts_with(&self, credentials: Option<SharedCredentialsProvider>) -> StsClient {
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
    fn config_error_kinds() {
        assert!(ConfigError::new("bad").is_invalid() && !ConfigError::new("bad").is_no_region());
        assert!(ConfigError::no_region().is_no_region());
    }
}
