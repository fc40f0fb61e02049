//! The default chain: environment, profile, web identity, container, IMDS, in the order the
//! official SDKs use. It stops at the first link that has credentials, so with
//! `AWS_ACCESS_KEY_ID` set no file is read and IMDS is never contacted.

use super::{
    BoxFuture, ContainerCredentials, Credentials, CredentialsError, EnvCredentials, ImdsCredentials,
    ProfileCredentials, ProvideCredentials, SharedCredentialsProvider, WebIdentityCredentials,
};
use crate::context::Context;
use crate::sts::StsClient;
use crate::transport::Chain;
use crate::Origin;
use std::fmt;
use std::sync::Arc;

/// One link: a name (`"environment"`, `"profile"`...), where its credentials come from, and
/// its provider.
#[derive(Clone, Debug)]
pub struct ChainLink {
    /// The name shown by [`DefaultChain::explain`].
    pub name: &'static str,
    /// Where the credentials come from when this link gives them (`AWS_ACCESS_KEY_ID`, the
    /// profile, the instance metadata service...).
    pub origin: Origin,
    /// The provider.
    pub provider: SharedCredentialsProvider,
}

impl ChainLink {
    /// A link named `name`, its credentials from `origin`.
    pub fn new(name: &'static str, origin: Origin, provider: SharedCredentialsProvider) -> Self {
        ChainLink { name, origin, provider }
    }
}

/// What happened at one link.
#[derive(Clone, Debug)]
pub enum LinkOutcome {
    /// This link gave the credentials.
    Won,
    /// Not configured, and why (`AWS_ACCESS_KEY_ID not set`): an error that
    /// [`is_not_configured`](CredentialsError::is_not_configured).
    Skipped(CredentialsError),
    /// Configured but failed: the chain stopped here.
    Failed(CredentialsError),
    /// Not consulted: an earlier link decided.
    NotTried,
}

/// Which link won and why each other one did not.
#[derive(Clone, Debug)]
pub struct Explanation {
    /// Every link with its outcome, in chain order.
    pub links: Vec<(&'static str, LinkOutcome)>,
    /// The result.
    pub result: Result<Credentials, CredentialsError>,
    /// Where the winning link's credentials came from.
    origin: Option<Origin>,
}

impl Explanation {
    /// The winning link's name.
    pub fn winner(&self) -> Option<&'static str> {
        self.links.iter().find(|(_, o)| matches!(o, LinkOutcome::Won)).map(|(n, _)| *n)
    }

    /// Where the credentials came from (`AWS_ACCESS_KEY_ID`, the profile's credentials, the
    /// instance metadata service...), when a link gave them.
    pub fn origin(&self) -> Option<&Origin> {
        self.origin.as_ref()
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, outcome) in &self.links {
            match outcome {
                LinkOutcome::Won => writeln!(f, "{name:<12} used")?,
                LinkOutcome::Skipped(why) => writeln!(f, "{name:<12} skipped: {}", Chain(why))?,
                LinkOutcome::Failed(why) => writeln!(f, "{name:<12} failed: {}", Chain(why))?,
                LinkOutcome::NotTried => writeln!(f, "{name:<12} not tried: an earlier source decided")?,
            }
        }
        Ok(())
    }
}

/// The default credentials chain.
#[derive(Clone)]
pub struct DefaultChain {
    links: Vec<ChainLink>,
}

impl DefaultChain {
    /// The standard links over `ctx`; roles and web identity go through `sts`. `profile`
    /// overrides `AWS_PROFILE`.
    pub fn new(ctx: &Context, sts: StsClient, profile: Option<&str>) -> Self {
        let env = |var: &'static str| Origin::Env(var.into());
        let container = match ctx.env().get("AWS_CONTAINER_CREDENTIALS_FULL_URI") {
            Some(_) => "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            None => "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        };
        let profiled = ProfileCredentials::new(ctx, sts.clone()).profile(profile);
        DefaultChain {
            links: vec![
                ChainLink::new("environment", env("AWS_ACCESS_KEY_ID"), Arc::new(EnvCredentials::new(ctx))),
                ChainLink::new("profile", Origin::Profile("credentials"), Arc::new(profiled)),
                ChainLink::new(
                    "web_identity",
                    env("AWS_WEB_IDENTITY_TOKEN_FILE"),
                    Arc::new(WebIdentityCredentials::from_env(ctx, sts)),
                ),
                ChainLink::new("container", env(container), Arc::new(ContainerCredentials::new(ctx))),
                ChainLink::new("imds", Origin::Imds, Arc::new(ImdsCredentials::new(ctx))),
            ],
        }
    }

    /// A chain of these links.
    pub fn from_links(links: Vec<ChainLink>) -> Self {
        DefaultChain { links }
    }

    /// The chain with the link named `name` (if there is one) served by `provider` instead.
    #[must_use]
    pub fn replace(mut self, name: &str, provider: SharedCredentialsProvider) -> Self {
        for l in self.links.iter_mut().filter(|l| l.name == name) {
            l.provider = provider.clone();
        }
        self
    }

    /// The chain without the link named `name`.
    #[must_use]
    pub fn without(mut self, name: &str) -> Self {
        self.links.retain(|l| l.name != name);
        self
    }

    /// The links, in order.
    pub fn links(&self) -> &[ChainLink] {
        &self.links
    }

    /// Resolves and says what each link did.
    ///
    /// ```no_run
    /// # async fn example() -> Result<(), Box<dyn std::error::Error>> {
    /// use cirrus::Config;
    ///
    /// let config = Config::from_env()?;
    /// if let Some(chain) = config.chain() {
    ///     let explanation = chain.explain().await;
    ///     print!("{explanation}"); // each source: used, skipped and why, failed...
    ///     let credentials = explanation.result?;
    ///     println!("{credentials}");
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn explain(&self) -> Explanation {
        let mut links = Vec::with_capacity(self.links.len());
        let mut result = None;
        let mut origin = None;
        let mut skipped: Vec<&str> = Vec::new();
        for l in &self.links {
            if result.is_some() {
                links.push((l.name, LinkOutcome::NotTried));
                continue;
            }
            match l.provider.provide_credentials().await {
                Ok(c) => {
                    tracing::debug!(source = l.name, access_key_id = c.access_key_id(), "credentials resolved");
                    links.push((l.name, LinkOutcome::Won));
                    origin = Some(l.origin.clone());
                    result = Some(Ok(c));
                }
                Err(e) if e.is_not_configured() => {
                    tracing::debug!(source = l.name, reason = %Chain(&e), "credentials source skipped");
                    skipped.push(l.name);
                    links.push((l.name, LinkOutcome::Skipped(e)));
                }
                Err(e) => {
                    links.push((l.name, LinkOutcome::Failed(e.clone())));
                    result = Some(Err(e.context(l.name)));
                }
            }
        }
        let result = result.unwrap_or_else(|| {
            // Why each source had none is in the explanation (and the debug log), not here.
            Err(CredentialsError::not_configured(format!("no source has any ({})", skipped.join(", "))))
        });
        Explanation { links, result, origin }
    }
}

impl fmt::Debug for DefaultChain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.links.iter().map(|l| l.name)).finish()
    }
}

impl ProvideCredentials for DefaultChain {
    fn provide_credentials(&self) -> BoxFuture<'_, Result<Credentials, CredentialsError>> {
        Box::pin(async move { self.explain().await.result })
    }

    fn invalidate(&self, access_key_id: &str) {
        for l in &self.links {
            l.provider.invalidate(access_key_id);
        }
    }
}
