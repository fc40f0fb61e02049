//! Logs a user in to a Cognito user pool (SRP: the password never leaves the program) and
//! turns the login into temporary AWS credentials through an identity pool, then uses them:
//! STS `GetCallerIdentity` says who the credentials belong to. Prints what a user wants to
//! know (who signed in, the identity, the access key id, when things expire), never a token,
//! a secret key or a session token.
//!
//! The login comes from the `COGNITO_*` variables, as for the default credential chain:
//! `COGNITO_USER_POOL_ID`, `COGNITO_APP_ID` (and `COGNITO_APP_SECRET` for an app client with a
//! secret), `COGNITO_USERNAME`, `COGNITO_PASSWORD`, `COGNITO_IDENTITY_POOL_ID` (without it, the
//! login gives tokens and no AWS credentials), optionally `COGNITO_AUTH_TYPE=user_password`.
//! The region and endpoint come from `AWS_REGION` and `AWS_ENDPOINT_URL` (or
//! `AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER`, `AWS_ENDPOINT_URL_COGNITO_IDENTITY`,
//! `AWS_ENDPOINT_URL_STS`). Exits 1 when the login or a call fails, or when Cognito asks for
//! a challenge (a new password, an MFA code) that a program without a user cannot answer.
//!
//! ```sh
//! COGNITO_USER_POOL_ID=eu-west-1_AbCdEf123 COGNITO_APP_ID=4example COGNITO_USERNAME=ana \
//! COGNITO_PASSWORD=... COGNITO_IDENTITY_POOL_ID=eu-west-1:1111-2222 AWS_REGION=eu-west-1 \
//!   cargo run -p cirrus --features cognito --example cognito_login
//! ```

use cirrus::cognito::{AuthResult, CognitoCredentials};
use cirrus::credentials::CredentialsCache;
use cirrus::loader::CredentialsChoice;
use cirrus::Config;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::SystemTime;

type BoxError = Box<dyn std::error::Error>;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cognito_login: {}", cirrus::transport::report(&*e));
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), BoxError> {
    let config = Config::from_env()?;
    // Nothing given here: every setting comes from the COGNITO_* variables. A missing one is
    // an error that names itself and where it was looked for.
    let cognito = CognitoCredentials::builder(&config).build()?;

    // 1. The user pool login.
    let tokens = match cognito.authenticate().await? {
        AuthResult::Tokens(tokens) => tokens,
        AuthResult::Challenge(challenge) => {
            return Err(format!(
                "Cognito asks for {} before it signs {} in: answer it with UserPoolClient::respond",
                challenge.name(),
                challenge.username
            )
            .into())
        }
    };
    let user = tokens.username().unwrap_or_else(|| "(no cognito:username claim)".to_owned());
    println!("signed in to the user pool as {user}");
    println!(
        "  id and access tokens for {}{}; kept in memory and refreshed ahead of expiry, not shown",
        until(tokens.expires_at),
        if tokens.refresh_token.is_some() { ", and a refresh token" } else { "" }
    );

    if !cognito.has_identity_pool() {
        println!("no COGNITO_IDENTITY_POOL_ID: tokens only, no AWS credentials");
        return Ok(());
    }

    // 2. The identity pool: the user's identity, and AWS credentials for its role. The cache
    // hands the same credentials to every client until shortly before they expire.
    let provider = Arc::new(CredentialsCache::new(cognito.clone()));
    let credentials = provider.credentials().await?;
    let identity = cognito.identity_id().await.unwrap_or_default();
    println!("identity {identity}");
    println!(
        "  AWS credentials: access key id {}, temporary (with a session token){}",
        credentials.access_key_id(),
        credentials.expiry().map(|t| format!(", for {}", until(t))).unwrap_or_default()
    );

    // 3. The credentials at work, in any client made from this config.
    let aws = Config::loader().credentials(CredentialsChoice::Provider(provider)).load()?;
    let me = aws.sts().get_caller_identity().await?;
    println!("STS GetCallerIdentity: account {}, {}", me.account, me.arn);
    Ok(())
}

/// `59 min`, or `expired` for a time in the past.
fn until(t: SystemTime) -> String {
    match t.duration_since(SystemTime::now()) {
        Ok(d) => format!("{} min", d.as_secs().div_ceil(60)),
        Err(_) => "expired".to_owned(),
    }
}
