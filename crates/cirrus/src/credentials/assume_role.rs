//! STS AssumeRole with credentials from any other provider, e.g. a profile's `role_arn` over
//! its `source_profile`. Wrap it in a [`super::CredentialsCache`] to refresh it.

use super::{BoxFuture, Credentials, CredentialsError, ProvideCredentials, SharedCredentialsProvider};
use crate::sts::{AssumeRoleRequest, StsClient};
use std::fmt;

/// AssumeRole as a provider.
#[derive(Clone)]
pub struct AssumeRoleProvider {
    sts: StsClient,
    source: SharedCredentialsProvider,
    request: AssumeRoleRequest,
}

impl AssumeRoleProvider {
    /// Assumes `request.role_arn` with the credentials of `source`, through `sts` (whose own
    /// credentials are replaced by `source`).
    pub fn new(sts: StsClient, source: SharedCredentialsProvider, request: AssumeRoleRequest) -> Self {
        AssumeRoleProvider { sts: sts.with_credentials(Some(source.clone())), source, request }
    }

    async fn fetch(&self) -> Result<Credentials, CredentialsError> {
        let r = self.sts.assume_role(&self.request).await.map_err(|e| {
            if let Some(c) = e.credentials_error() {
                return c.clone().context(format!("source credentials for {}", self.request.role_arn));
            }
            CredentialsError::from(e)
        })?;
        Ok(r.credentials)
    }
}

impl fmt::Debug for AssumeRoleProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AssumeRoleProvider")
            .field("role_arn", &self.request.role_arn)
            .field("source", &self.source)
            .finish()
    }
}

impl ProvideCredentials for AssumeRoleProvider {
    fn provide_credentials(&self) -> BoxFuture<'_, Result<Credentials, CredentialsError>> {
        Box::pin(self.fetch())
    }
}
