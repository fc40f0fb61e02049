//! `cirrus sso login` and `cirrus sso logout`: IAM Identity Center logins in the AWS CLI's token
//! cache, so `aws` and `cirrus` share them.

use crate::{load_config, Failure, GlobalArgs};
use cirrus::sso::{LoginError, LoginTarget, OidcClient, TokenCache, OIDC_SPEC};
use std::io::IsTerminal;
use std::time::Duration;

#[derive(clap::Subcommand, Debug)]
#[command(defer = true)]
pub(crate) enum SsoCommand {
    /// Log in to IAM Identity Center for the profile (--profile, AWS_PROFILE) or an sso-session,
    /// and cache the token where the AWS CLI keeps it.
    #[command(
        after_help = "Examples:\n  cirrus sso login --profile dev\n  cirrus sso login --sso-session corp --use-device-code"
    )]
    Login(LoginArgs),
    /// Remove every cached IAM Identity Center token and the role credentials cached from them.
    #[command(after_help = "Examples:\n  cirrus sso logout\n  cirrus --profile dev sso logout")]
    Logout,
}

#[derive(clap::Args, Debug)]
pub(crate) struct LoginArgs {
    /// Log in to this [sso-session NAME] instead of the profile's.
    #[arg(long, value_name = "NAME")]
    sso_session: Option<String>,
    #[command(flatten)]
    how: HowArgs,
}

// How to log in: the grant and the browser.
#[derive(clap::Args, Debug)]
pub(crate) struct HowArgs {
    /// Use the device authorization grant (a code to type at a URL, for a browser on another
    /// machine) instead of the authorization code grant with a loopback redirect.
    #[arg(long)]
    use_device_code: bool,
    /// Never open a browser; print the URL to open.
    #[arg(long)]
    no_browser: bool,
}

/// Opens `url` in the desktop's browser, only when a person is at a terminal, and only an
/// http(s) URL: the device flow's URL comes from the server, and the opener would start any
/// program registered for a scheme (`file:`, `smb:`...).
fn open_browser(url: &str, allowed: bool) {
    if !allowed || !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return;
    }
    if !(url.starts_with("https://") || url.starts_with("http://")) || url.chars().any(char::is_control) {
        eprintln!("(not opening {}: not an http(s) URL)", crate::output::printable(url));
        return;
    }
    let mut cmd = if cfg!(target_os = "macos") {
        std::process::Command::new("open")
    } else if cfg!(windows) {
        // Not `cmd /C start`: cmd.exe would read `&` and `|` in the URL as its own syntax.
        let mut c = std::process::Command::new("rundll32");
        c.arg("url.dll,FileProtocolHandler");
        c
    } else {
        std::process::Command::new("xdg-open")
    };
    let spawned = cmd
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    if spawned.is_err() {
        eprintln!("(could not open a browser: open the URL above yourself)");
    }
}

fn login_failure(e: LoginError) -> Failure {
    if e.is_settings() {
        Failure::input(anyhow::Error::new(e))
    } else {
        Failure::from(anyhow::Error::new(e))
    }
}

pub(crate) async fn run(global: &GlobalArgs, cmd: SsoCommand) -> Result<(), Failure> {
    let config = load_config(global)?;
    let ctx = config.context();
    let cache = TokenCache::default_location(ctx.env());
    match cmd {
        SsoCommand::Logout => {
            let tokens = cache.remove_all().map_err(|e| anyhow::Error::new(e).context("cannot clear the SSO cache"))?;
            let roles = cirrus::credentials::remove_sso_role_credentials(ctx.env());
            eprintln!(
                "Removed {tokens} cached IAM Identity Center token{} and {roles} set{} of role credentials.",
                if tokens == 1 { "" } else { "s" },
                if roles == 1 { "" } else { "s" }
            );
            Ok(())
        }
        SsoCommand::Login(args) => {
            let set = ctx
                .profiles()
                .map_err(|e| Failure::input(anyhow::Error::new(e).context("cannot read the shared config files")))?;
            let profile = cirrus::profile::profile_name(global.profile.as_deref(), ctx.env());
            let target = match &args.sso_session {
                Some(s) => LoginTarget::for_session(&set, s),
                None => LoginTarget::for_profile(&set, &profile),
            }
            .map_err(|e| {
                // A profile that does not use Identity Center: the next step is to set one up.
                let hint = "`cirrus configure sso` sets one up";
                if e.is_settings() {
                    Failure::input(anyhow::anyhow!("{e}; {hint}"))
                } else {
                    login_failure(e)
                }
            })?;
            login(ctx, &target, &profile, &args.how).await.map(drop)
        }
    }
}

/// Logs in to `target` (the profile's endpoints and HTTP settings from `ctx`), caches the token
/// where the AWS CLI keeps it, and says so.
pub(crate) async fn login(
    ctx: &cirrus::Context,
    target: &LoginTarget,
    profile: &str,
    how: &HowArgs,
) -> Result<cirrus::sso::SsoToken, Failure> {
    let cache = TokenCache::default_location(ctx.env());
    let oidc = OidcClient::new(cirrus::sso::service(ctx, OIDC_SPEC, &target.region, profile));
    let browser = !how.no_browser;
    let token = if how.use_device_code {
        cirrus::sso::device_login(&oidc, &cache, target, |auth| {
            let url = auth.verification_uri_complete.as_deref().unwrap_or(&auth.verification_uri);
            // Both come from the server: no escape sequence reaches the terminal.
            eprintln!(
                "To sign in, open\n\n    {}\n\nand enter the code\n\n    {}\n",
                crate::output::printable(&auth.verification_uri),
                crate::output::printable(&auth.user_code)
            );
            open_browser(url, browser);
        })
        .await
    } else {
        cirrus::sso::pkce_login(&oidc, &cache, target, Duration::from_secs(600), |url| {
            eprintln!("To sign in, open this URL in a browser on this machine:\n\n    {url}\n");
            open_browser(url, browser);
        })
        .await
    }
    .map_err(login_failure)?;
    let name = target.session.as_deref().map_or_else(|| target.start_url.clone(), |s| format!("sso-session {s}"));
    eprintln!(
        "Logged in to {}; the token, valid until {}, is in {}.",
        crate::output::printable(&name),
        cirrus::sigv4::format_rfc3339(token.expires_at),
        cache.path(target.cache_key()).display()
    );
    Ok(token)
}
