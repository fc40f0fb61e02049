//! `cirrus configure sso`: the questions `aws configure sso` asks, an `[sso-session]` and a
//! profile written as it writes them, and a login in between (the accounts and roles to choose
//! from come from the portal with the new token).

use super::prompt::Prompter;
use crate::output::printable;
use crate::sso::HowArgs;
use crate::{Failure, GlobalArgs};
use anyhow::anyhow;
use cirrus::sso::{LoginTarget, PortalClient, DEFAULT_SCOPE, PORTAL_SPEC};
use std::io::BufRead;

// `configure sso`'s flags: how to log in.
#[derive(clap::Args, Debug)]
pub(crate) struct SsoSetupArgs {
    #[command(flatten)]
    how: HowArgs,
}

/// What the user answered before the login.
struct Session {
    /// `None`: a legacy profile, with the start URL and region in the profile itself.
    name: Option<String>,
    start_url: String,
    region: String,
    scopes: String,
}

pub(super) async fn configure_sso(global: &GlobalArgs, args: SsoSetupArgs) -> Result<(), Failure> {
    let ctx = cirrus::Context::from_process();
    let env = ctx.env();
    let mut ask = Prompter::stdin();
    let session = ask_session(&mut ask)?;
    if let Some(name) = &session.name {
        for (key, value) in [
            ("sso_start_url", &session.start_url),
            ("sso_region", &session.region),
            ("sso_registration_scopes", &session.scopes),
        ] {
            cirrus::profile::set_session_value(env, name, key, value)
                .map_err(|e| super::write_failure(e, "cannot write the config file".into()))?;
        }
    }
    let target = LoginTarget {
        session: session.name.clone(),
        start_url: session.start_url.clone(),
        region: session.region.clone(),
        scopes: session.scopes.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect(),
    };
    let profile_hint = global.profile.as_deref().unwrap_or("default");
    let token = crate::sso::login(&ctx, &target, profile_hint, &args.how).await?;
    let portal = PortalClient::new(cirrus::sso::service(&ctx, PORTAL_SPEC, &session.region, profile_hint));
    let (account, role) = choose_role(&mut ask, &portal, &token.access_token).await?;
    let region = ask.ask("CLI default client Region", None)?;
    let output = ask.ask("CLI default output format (json if not specified)", None)?;
    let profile = match &global.profile {
        Some(p) => p.clone(),
        None => {
            let suggested = format!("{role}-{account}");
            let name = ask.ask("CLI profile name", Some(&suggested))?;
            if name.is_empty() {
                suggested
            } else {
                name
            }
        }
    };
    let mut settings = match &session.name {
        Some(name) => vec![("sso_session", name.as_str())],
        None => vec![("sso_start_url", session.start_url.as_str()), ("sso_region", session.region.as_str())],
    };
    settings.extend([("sso_account_id", account.as_str()), ("sso_role_name", role.as_str())]);
    settings
        .extend([("region", region.as_str()), ("output", output.as_str())].into_iter().filter(|(_, v)| !v.is_empty()));
    for (key, value) in settings {
        cirrus::profile::set_value(env, &profile, key, value)
            .map_err(|e| super::write_failure(e, "cannot write the config file".into()))?;
    }
    let flag = if profile == "default" { String::new() } else { format!(" --profile {}", printable(&profile)) };
    eprintln!("\nTo use this profile, name it with --profile, as shown:\n\n    cirrus{flag} s3 ls\n");
    Ok(())
}

/// The session name (empty: a legacy profile), start URL, Identity Center region and scopes.
fn ask_session<R: BufRead>(ask: &mut Prompter<R>) -> Result<Session, Failure> {
    let name = ask.ask("SSO session name (Recommended)", None)?;
    let start_url = ask.require("SSO start URL", None, "SSO start URL")?;
    if !(start_url.starts_with("https://") || start_url.starts_with("http://")) {
        return Err(Failure::input(anyhow!("{}: the SSO start URL is an https:// URL", printable(&start_url))));
    }
    let region = ask.require("SSO region", None, "SSO region")?;
    if !region.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(Failure::input(anyhow!("{}: not a region name (us-east-1, eu-west-1...)", printable(&region))));
    }
    let scopes = match name.is_empty() {
        true => String::new(),
        false => ask.require("SSO registration scopes", Some(DEFAULT_SCOPE), "scope")?,
    };
    Ok(Session { name: (!name.is_empty()).then_some(name), start_url, region, scopes })
}

/// The account and role, from those the token may reach; asked only when there is a choice.
async fn choose_role<R: BufRead>(
    ask: &mut Prompter<R>,
    portal: &PortalClient,
    token: &str,
) -> Result<(String, String), Failure> {
    let accounts = portal.list_accounts(token).await.map_err(|e| Failure::from(anyhow::Error::new(e)))?;
    let items: Vec<(String, String)> = accounts
        .iter()
        .map(|a| {
            let name = a.account_name.as_deref().unwrap_or("");
            let email = a.email_address.as_deref().map_or(String::new(), |e| format!(", {e}"));
            (a.account_id.clone(), format!("{name} ({}{email})", a.account_id))
        })
        .collect();
    let account = match items.as_slice() {
        [] => return Err(Failure::from(anyhow!("the login gives no AWS account: ask your administrator for access"))),
        [(id, label)] => {
            eprintln!("The only AWS account available to you is: {}", printable(label));
            id.clone()
        }
        _ => {
            eprintln!("There are {} AWS accounts available to you:", items.len());
            ask.choose("Account", &items)?.to_owned()
        }
    };
    let roles = portal.list_account_roles(token, &account).await.map_err(|e| Failure::from(anyhow::Error::new(e)))?;
    let items: Vec<(String, String)> = roles.iter().map(|r| (r.clone(), r.clone())).collect();
    let role = match items.as_slice() {
        [] => return Err(Failure::from(anyhow!("no role in account {account} is available to you"))),
        [(role, _)] => {
            eprintln!("The only role available to you is: {}", printable(role));
            role.clone()
        }
        _ => {
            eprintln!("There are {} roles available to you:", items.len());
            ask.choose("Role", &items)?.to_owned()
        }
    };
    Ok((account, role))
}
