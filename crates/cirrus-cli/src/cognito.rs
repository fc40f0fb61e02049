//! `cirrus cognito login`: log in to a user pool (SRP or password) and print the identity pool's
//! AWS credentials; tokens are redacted unless `--show-tokens`.

use crate::credentials::{render, shell_quote, to_json, Format};
use crate::{Failure, GlobalArgs};
use anyhow::anyhow;
use cirrus::cognito::{AuthResult, AuthType, CognitoCredentials, Tokens};
use cirrus::credentials::ProvideCredentials;
use clap::ValueEnum;
use std::io::Read;

#[derive(clap::Subcommand, Debug)]
#[command(defer = true)]
pub(crate) enum CognitoCommand {
    /// Log in and print AWS credentials (settings: flags, then --cognito-profile, then COGNITO_*).
    #[command(
        after_help = "Examples:\n  cirrus cognito login --user-pool-id eu-west-1_AbC123 --app-id 1example23456789 --identity-pool-id eu-west-1:0000-1111 --username ana --password-stdin < pw.txt\n  cirrus cognito login --cognito-profile app --format env"
    )]
    Login(LoginArgs),
}

#[derive(clap::Args, Debug)]
pub(crate) struct LoginArgs {
    /// SRP (the password never leaves this machine) or password (USER_PASSWORD_AUTH).
    #[arg(long, value_enum)]
    auth_type: Option<AuthTypeArg>,
    /// A profile of the Cognito credentials file (--cognito-credentials-file, else
    /// COGNITO_CREDENTIALS_FILE, else ~/.aws/cognito_credentials).
    #[arg(long, value_name = "NAME")]
    cognito_profile: Option<String>,
    /// The Cognito credentials file to read --cognito-profile (default `default`) from, before
    /// COGNITO_CREDENTIALS_FILE and ~/.aws/cognito_credentials.
    #[arg(long, value_name = "PATH")]
    cognito_credentials_file: Option<std::path::PathBuf>,
    /// Print the id, access and refresh tokens (redacted otherwise).
    #[arg(long)]
    show_tokens: bool,
    /// How to print: `json` (credentials, tokens, identity id), `env` (export lines), or
    /// `process` (credential_process JSON, credentials only).
    #[arg(long, value_enum, default_value_t = Format::Json)]
    format: Format,
    /// The user name (default: the profile's username, then COGNITO_USERNAME).
    #[arg(long)]
    username: Option<String>,
    /// Read the password from standard input (default: the profile's password, then
    /// COGNITO_PASSWORD). There is no password flag: command lines are visible to other users.
    #[arg(long)]
    password_stdin: bool,
    /// The user pool id (default: the profile's user_pool_id, then COGNITO_USER_POOL_ID).
    #[arg(long)]
    user_pool_id: Option<String>,
    /// The app client id (default: the profile's app_id, then COGNITO_APP_ID).
    #[arg(long)]
    app_id: Option<String>,
    /// The identity pool id (default: the profile's identity_pool_id, then
    /// COGNITO_IDENTITY_POOL_ID). Without one, only tokens are printed.
    #[arg(long)]
    identity_pool_id: Option<String>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum AuthTypeArg {
    /// USER_SRP_AUTH.
    Srp,
    /// USER_PASSWORD_AUTH.
    Password,
}

pub(crate) async fn run(global: &GlobalArgs, cmd: CognitoCommand) -> Result<(), Failure> {
    match cmd {
        CognitoCommand::Login(args) => login(global, args).await,
    }
}

async fn login(global: &GlobalArgs, args: LoginArgs) -> Result<(), Failure> {
    if args.show_tokens && args.format == Format::Process {
        return Err(Failure::input(anyhow!(
            "--show-tokens: the process format holds credentials only; use json or env"
        )));
    }
    // The Cognito calls are unsigned: no credential chain is set up.
    let config = cirrus::Config::loader()
        .region(global.region.as_deref())
        .endpoint_url(global.endpoint_url.as_deref())
        .credentials(cirrus::loader::CredentialsChoice::Anonymous)
        .load()
        .map_err(|e| Failure::input(anyhow::Error::new(e)))?;
    let provider = provider(&config, &args)?;
    if args.format != Format::Json && !provider.has_identity_pool() {
        return Err(Failure::input(anyhow!(
            "no identity pool is configured (--identity-pool-id, identity_pool_id, COGNITO_IDENTITY_POOL_ID), so there are no AWS credentials to print in {} format; use --format json for the tokens",
            if args.format == Format::Env { "env" } else { "process" }
        )));
    }
    let tokens = if provider.has_login() { Some(sign_in(&provider).await?) } else { None };
    let creds = if provider.has_identity_pool() {
        Some(
            provider
                .provide_credentials()
                .await
                .map_err(|e| anyhow::Error::new(e).context("no AWS credentials from the identity pool"))?,
        )
    } else {
        None
    };
    match args.format {
        Format::Json => print_json(&provider, creds.as_ref(), tokens.as_ref(), args.show_tokens).await,
        format => {
            let Some(c) = &creds else { return Err(anyhow!("no AWS credentials").into()) };
            out!("{}", render(c, format))?;
            match &tokens {
                Some(t) if format == Format::Env => print_env_tokens(t, args.show_tokens),
                _ => Ok(()),
            }
        }
    }
}

/// The provider the flags, the Cognito profile and `COGNITO_*` describe.
fn provider(config: &cirrus::Config, args: &LoginArgs) -> Result<CognitoCredentials, Failure> {
    let mut b = CognitoCredentials::builder(config);
    if let Some(p) = &args.cognito_profile {
        b = b.profile(p);
    }
    if let Some(f) = &args.cognito_credentials_file {
        b = b.credentials_file(f);
    }
    if let Some(t) = args.auth_type {
        b = b.auth_type(if t == AuthTypeArg::Srp { AuthType::UserSrp } else { AuthType::UserPassword });
    }
    if let Some(v) = &args.username {
        b = b.username(v);
    }
    if let Some(v) = &args.user_pool_id {
        b = b.user_pool_id(v);
    }
    if let Some(v) = &args.app_id {
        b = b.app_id(v);
    }
    if let Some(v) = &args.identity_pool_id {
        b = b.identity_pool_id(v);
    }
    if args.password_stdin {
        b = b.password(read_password()?.as_str());
    }
    b.build().map_err(|e| Failure::input(anyhow::Error::new(e)))
}

/// `--password-stdin`: one line of standard input, its line end removed, zeroed when dropped.
fn read_password() -> Result<zeroize::Zeroizing<String>, Failure> {
    // Cognito passwords are at most 256 characters: read no more than a few times that.
    const MAX: u64 = 4096;
    let mut bytes = zeroize::Zeroizing::new(Vec::new());
    std::io::stdin()
        .take(MAX + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Failure::input(anyhow!("--password-stdin: cannot read standard input: {e}")))?;
    if bytes.len() as u64 > MAX {
        return Err(Failure::input(anyhow!(
            "--password-stdin: more than {MAX} bytes on standard input; a Cognito password is at most 256 characters"
        )));
    }
    let mut password = zeroize::Zeroizing::new(
        String::from_utf8(std::mem::take(&mut *bytes))
            .map_err(|_| Failure::input(anyhow!("--password-stdin: standard input is not UTF-8 text")))?,
    );
    let len = password.trim_end_matches(['\r', '\n']).len();
    password.truncate(len);
    if password.is_empty() {
        return Err(Failure::input(anyhow!("--password-stdin: standard input is empty")));
    }
    Ok(password)
}

/// The user pool login; a challenge that needs the user's answer ends the command.
async fn sign_in(provider: &CognitoCredentials) -> Result<Tokens, Failure> {
    match provider.authenticate().await {
        Ok(AuthResult::Tokens(t)) => Ok(t),
        Ok(AuthResult::Challenge(c)) => Err(Failure::from(anyhow!(
            "the login stopped at the {} challenge, which needs the user's answer (cirrus cannot ask for it yet)",
            c.name()
        ))),
        Err(e) => Err(anyhow::Error::new(e).context("Cognito login failed").into()),
    }
}

/// After the `export` lines of `--format env`: the tokens, or a line saying they are redacted.
fn print_env_tokens(t: &Tokens, show_tokens: bool) -> Result<(), Failure> {
    if !show_tokens {
        return outln!("# Cognito tokens redacted: pass --show-tokens to print them");
    }
    outln!("export COGNITO_ID_TOKEN={}", shell_quote(&t.id_token))?;
    outln!("export COGNITO_ACCESS_TOKEN={}", shell_quote(&t.access_token))?;
    if let Some(r) = &t.refresh_token {
        outln!("export COGNITO_REFRESH_TOKEN={}", shell_quote(r))?;
    }
    Ok(())
}

/// `--format json`: the identity id, the credentials and the tokens (redacted unless shown).
async fn print_json(
    provider: &CognitoCredentials,
    creds: Option<&cirrus::Credentials>,
    tokens: Option<&Tokens>,
    show_tokens: bool,
) -> Result<(), Failure> {
    let show = |t: &str| if show_tokens { t.to_owned() } else { "** redacted **".to_owned() };
    let mut out = serde_json::Map::new();
    if let Some(id) = provider.identity_id().await {
        out.insert("IdentityId".into(), id.into());
    }
    if let Some(c) = creds {
        out.insert("Credentials".into(), to_json(c, Format::Json));
    }
    if let Some(t) = tokens {
        let mut tv = serde_json::Map::new();
        tv.insert("IdToken".into(), show(&t.id_token).into());
        tv.insert("AccessToken".into(), show(&t.access_token).into());
        if let Some(r) = &t.refresh_token {
            tv.insert("RefreshToken".into(), show(r).into());
        }
        tv.insert("ExpiresAt".into(), cirrus::sigv4::format_rfc3339(t.expires_at).into());
        out.insert("Tokens".into(), tv.into());
    }
    outln!("{}", serde_json::to_string_pretty(&serde_json::Value::Object(out)).unwrap_or_default())
}
