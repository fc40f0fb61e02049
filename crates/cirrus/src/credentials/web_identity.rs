//! Web identity: a token file (EKS IRSA, GitHub OIDC...) exchanged for role credentials with
//! AssumeRoleWithWebIdentity. From `AWS_WEB_IDENTITY_TOKEN_FILE`, `AWS_ROLE_ARN` and
//! `AWS_ROLE_SESSION_NAME`, or from a profile's `web_identity_token_file` and `role_arn`.

use super::{BoxFuture, Credentials, CredentialsError, ProvideCredentials};
use crate::context::Context;
use crate::sts::StsClient;
use std::path::PathBuf;

/// The web identity provider. The token file is read on every fetch, since it is rotated.
#[derive(Clone, Debug)]
pub struct WebIdentityCredentials {
    ctx: Context,
    sts: StsClient,
    settings: Option<Settings>,
}

#[derive(Clone, Debug)]
struct Settings {
    token_file: PathBuf,
    role_arn: String,
    session_name: Option<String>,
}

impl WebIdentityCredentials {
    /// From the environment variables.
    pub fn from_env(ctx: &Context, sts: StsClient) -> Self {
        let env = ctx.env();
        let settings = match (env.get("AWS_WEB_IDENTITY_TOKEN_FILE"), env.get("AWS_ROLE_ARN")) {
            (Some(f), Some(role)) => {
                Some(Settings { token_file: f.into(), role_arn: role, session_name: env.get("AWS_ROLE_SESSION_NAME") })
            }
            _ => None,
        };
        WebIdentityCredentials { ctx: ctx.clone(), sts, settings }
    }

    /// From explicit settings (a profile's `web_identity_token_file`).
    pub fn new(ctx: &Context, sts: StsClient, token_file: &str, role_arn: &str, session_name: Option<&str>) -> Self {
        let settings = Settings {
            token_file: token_file.into(),
            role_arn: role_arn.to_owned(),
            session_name: session_name.map(str::to_owned),
        };
        WebIdentityCredentials { ctx: ctx.clone(), sts, settings: Some(settings) }
    }

    async fn fetch(&self) -> Result<Credentials, CredentialsError> {
        let Some(s) = &self.settings else {
            let env = self.ctx.env();
            return Err(CredentialsError::not_configured(match env.get("AWS_WEB_IDENTITY_TOKEN_FILE") {
                None => "AWS_WEB_IDENTITY_TOKEN_FILE not set",
                Some(_) => "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not",
            }));
        };
        let token = self.ctx.fs().read_to_string(&s.token_file).map_err(|e| {
            CredentialsError::invalid(format!("cannot read web identity token file {}", s.token_file.display()))
                .with_source(e)
        })?;
        let token = token.trim();
        if token.is_empty() {
            return Err(CredentialsError::invalid(format!(
                "web identity token file {} is empty",
                s.token_file.display()
            )));
        }
        let session = s.session_name.clone().unwrap_or_else(|| default_session_name(&self.ctx));
        let r = self
            .sts
            .assume_role_with_web_identity(&s.role_arn, &session, token, None)
            .await
            .map_err(CredentialsError::from)?;
        Ok(r.credentials)
    }
}

/// `cirrus-<unix millis>`, as the SDKs name sessions nobody named.
pub(crate) fn default_session_name(ctx: &Context) -> String {
    let ms = ctx.clock().now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_millis();
    format!("cirrus-{ms}")
}

impl ProvideCredentials for WebIdentityCredentials {
    fn provide_credentials(&self) -> BoxFuture<'_, Result<Credentials, CredentialsError>> {
        Box::pin(self.fetch())
    }
}
