//! The default chain: environment, profile, web identity, container, IMDS, in the order the
//! official SDKs use. It stops at the first link that has credentials, so with
//! `AWS_ACCESS_KEY_ID` set no file is read and IMDS is never contacted.

use super::{
    BoxFuture, ContainerCredentials, Credentials, CredentialsError, EnvCredentials, ImdsCredentials,
    ProfileCredentials, ProvideCredentials, SharedCredentialsProvider, WebIdentityCredentials,
};
use crate::context::Context;
use crate::sts::StsClient;
use std::fmt;
use std::sync::Arc;

/// One link: a name (`"environment"`, `"profile"`...) and its provider.
#[derive(Clone, Debug)]
pub struct ChainLink {
    /// The name shown by [`DefaultChain::explain`].
    pub name: &'static str,
    /// The provider.
    pub provider: SharedCredentialsProvider,
}

/// What happened at one link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkOutcome {
    /// This link gave the credentials.
    Won,
    /// Not configured, and why (`AWS_ACCESS_KEY_ID not set`).
    Skipped(String),
    /// Configured but failed: the chain stopped here.
    Failed(String),
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
}

impl Explanation {
    /// The winning link's name.
    pub fn winner(&self) -> Option<&'static str> {
        self.links.iter().find(|(_, o)| *o == LinkOutcome::Won).map(|(n, _)| *n)
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, outcome) in &self.links {
            match outcome {
                LinkOutcome::Won => writeln!(f, "{name:<12} used")?,
                LinkOutcome::Skipped(why) => writeln!(f, "{name:<12} skipped: {why}")?,
                LinkOutcome::Failed(why) => writeln!(f, "{name:<12} failed: {why}")?,
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
        let link = |name, provider: SharedCredentialsProvider| ChainLink { name, provider };
        DefaultChain {
            links: vec![
                link("environment", Arc::new(EnvCredentials::new(ctx))),
                link("profile", Arc::new(ProfileCredentials::new(ctx, sts.clone()).profile(profile))),
                link("web_identity", Arc::new(WebIdentityCredentials::from_env(ctx, sts))),
                link("container", Arc::new(ContainerCredentials::new(ctx))),
                link("imds", Arc::new(ImdsCredentials::new(ctx))),
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
        let mut skipped = Vec::new();
        for l in &self.links {
            if result.is_some() {
                links.push((l.name, LinkOutcome::NotTried));
                continue;
            }
            match l.provider.provide_credentials().await {
                Ok(c) => {
                    tracing::debug!(source = l.name, access_key_id = c.access_key_id(), "credentials resolved");
                    links.push((l.name, LinkOutcome::Won));
                    result = Some(Ok(c));
                }
                Err(e) if e.is_not_configured() => {
                    tracing::debug!(source = l.name, reason = %e, "credentials source skipped");
                    let why = crate::transport::report(&e);
                    skipped.push(format!("{}: {why}", l.name));
                    links.push((l.name, LinkOutcome::Skipped(why)));
                }
                Err(e) => {
                    links.push((l.name, LinkOutcome::Failed(crate::transport::report(&e))));
                    result = Some(Err(e.context(l.name)));
                }
            }
        }
        let result = result.unwrap_or_else(|| {
            Err(CredentialsError::not_configured(format!("every source was skipped ({})", skipped.join("; "))))
        });
        Explanation { links, result }
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
