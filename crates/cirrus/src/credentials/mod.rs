//! AWS credentials and where they come from.
//!
//! Every source is a [`ProvideCredentials`]; the default chain tries them in the order the
//! official SDKs use and can [explain](DefaultChain::explain) its choice; [`CredentialsCache`]
//! wraps any provider with refresh ahead of expiry and one fetch at a time.

mod assume_role;
mod cache;
mod chain;
pub(crate) mod cli_cache;
pub(crate) mod container;
mod env;
mod imds;
pub(crate) mod process;
pub mod profile;
mod sso;
mod static_provider;
mod web_identity;

pub use assume_role::AssumeRoleProvider;
pub use chain::{ChainLink, DefaultChain, Explanation, LinkOutcome};
pub use cli_cache::remove_sso_role_credentials;
pub use container::ContainerCredentials;
pub use imds::ImdsCredentials;
pub use process::ProcessCredentials;
#[cfg(feature = "cognito")]
pub(crate) use web_identity::default_session_name;
pub use web_identity::WebIdentityCredentials;

pub use cache::{CacheSettings, CacheStats, CredentialsCache};
pub use env::EnvCredentials;
pub use profile::{ProfileChain, ProfileCredentials};
pub use sso::{SsoCredentials, SsoSettings};
pub use static_provider::StaticCredentials;

pub use crate::identity::{BoxFuture, Credentials, CredentialsError, ProvideCredentials, SharedCredentialsProvider};
