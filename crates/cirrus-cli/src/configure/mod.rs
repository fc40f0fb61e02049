//! `cirrus configure ...`: the shared config and credentials files, as `aws configure` reads
//! and writes them: the questions of `configure` and `configure sso` (`prompt.rs`, `sso.rs`),
//! and one setting at a time.

mod prompt;
mod sso;

use crate::{Failure, GlobalArgs};
use cirrus::profile::profile_name;
use cirrus::Origin;
use prompt::{masked, Prompter};

// `configure` alone asks for the keys, region and output; a subcommand does one thing.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  cirrus configure\n  cirrus --profile dev configure\n  cirrus configure sso\n  \
                  cirrus configure set region eu-west-1")]
pub(crate) struct ConfigureArgs {
    #[command(subcommand)]
    command: Option<ConfigureCommand>,
}

#[derive(clap::Subcommand, Debug)]
#[command(defer = true)]
pub(crate) enum ConfigureCommand {
    /// Set up a profile for IAM Identity Center: an [sso-session], a login, then the account
    /// and role to use (as `aws configure sso`).
    #[command(
        after_help = "Examples:\n  cirrus configure sso\n  cirrus --profile dev configure sso --use-device-code"
    )]
    Sso(sso::SsoSetupArgs),
    /// Write a setting of the profile (--profile, AWS_PROFILE or `default`): the keys in the
    /// credentials file, everything else in the config file; comments and order kept.
    #[command(
        after_help = "Examples:\n  cirrus configure set region eu-west-1\n  cirrus --profile dev configure set \
                            aws_access_key_id AKIAEXAMPLE\n  cirrus configure set s3.max_concurrent_requests 64"
    )]
    Set {
        /// The setting (`region`, `output`, `aws_access_key_id`, `s3.multipart_chunksize`...).
        key: String,
        /// Its value.
        value: String,
    },
    /// Print a setting of the profile; exit 1 when it is not set.
    #[command(after_help = "Examples:\n  cirrus configure get region\n  cirrus --profile dev configure get \
                            s3.max_concurrent_requests")]
    Get {
        /// The setting (`region`, `s3.max_concurrent_requests`...).
        key: String,
    },
    /// The names of every profile in the config and credentials files.
    #[command(after_help = "Examples:\n  cirrus configure list-profiles\n  cirrus configure list-profiles | grep dev")]
    ListProfiles,
    /// The profile, keys and region in use, and where each came from (keys masked).
    #[command(after_help = "Examples:\n  cirrus configure list\n  cirrus --profile dev configure list")]
    List,
}

pub(crate) async fn run(global: &GlobalArgs, args: ConfigureArgs) -> Result<(), Failure> {
    let ctx = cirrus::Context::from_process();
    let profile = profile_name(global.profile.as_deref(), ctx.env());
    let Some(cmd) = args.command else { return ask_keys(&ctx, &profile) };
    match cmd {
        ConfigureCommand::Sso(args) => sso::configure_sso(global, args).await,
        ConfigureCommand::Set { key, value } => write_setting(ctx.env(), &profile, &key, &value),
        ConfigureCommand::Get { key } => {
            let set = ctx.profiles().map_err(|e| Failure::input(anyhow::Error::new(e)))?;
            let found = set.get(&profile).and_then(|p| match key.split_once('.') {
                Some((parent, sub)) => p.get_sub(parent, sub),
                None => p.get(&key),
            });
            match found {
                Some(v) => outln!("{}", crate::output::printable(v)),
                // As the AWS CLI: nothing printed, exit 1.
                None => Err(Failure::silent(1)),
            }
        }
        ConfigureCommand::ListProfiles => {
            let set = ctx.profiles().map_err(|e| Failure::input(anyhow::Error::new(e)))?;
            for name in set.names() {
                outln!("{}", crate::output::printable(name))?;
            }
            Ok(())
        }
        ConfigureCommand::List => list(global).await,
    }
}

/// `configure` alone: the access key id, the secret, the region and the output format of the
/// profile, each shown as set now (keys masked) and kept when the answer is empty.
fn ask_keys(ctx: &cirrus::Context, profile: &str) -> Result<(), Failure> {
    let set = ctx.profiles().map_err(|e| Failure::input(anyhow::Error::new(e)))?;
    let current = |key: &str| set.get(profile).and_then(|p| p.get(key)).map(str::to_owned);
    let mut ask = Prompter::stdin();
    let questions = [
        ("aws_access_key_id", "AWS Access Key ID", Some(false)),
        ("aws_secret_access_key", "AWS Secret Access Key", Some(true)),
        ("region", "Default region name", None),
        ("output", "Default output format", None),
    ];
    for (key, question, secret) in questions {
        let now = current(key);
        let shown = match (&now, secret) {
            (Some(v), Some(secret)) => Some(masked(v, secret)),
            (v, _) => v.clone(),
        };
        let answer = ask.ask(question, shown.as_deref())?;
        if answer.is_empty() || Some(&answer) == now.as_ref() {
            continue;
        }
        write_setting(ctx.env(), profile, key, &answer)?;
    }
    Ok(())
}

/// `key = value` in `profile`, written where the AWS CLI writes it.
fn write_setting(env: &dyn cirrus::env::Env, profile: &str, key: &str, value: &str) -> Result<(), Failure> {
    let path = cirrus::profile::set_value(env, profile, key, value)
        .map_err(|e| write_failure(e, format!("cannot set {key} of the profile `{profile}`")))?;
    tracing::debug!(path = %path.display(), key, "written");
    Ok(())
}

/// A settings file not written: what cannot be written (a new line in a value, `]` in a
/// name) is bad input, anything else a failure.
pub(super) fn write_failure(e: std::io::Error, what: String) -> Failure {
    let invalid = e.kind() == std::io::ErrorKind::InvalidInput;
    let e = anyhow::Error::new(e).context(what);
    if invalid {
        Failure::input(e)
    } else {
        Failure::from(e)
    }
}

/// `configure list`: the AWS CLI's table of the profile, the keys (the last four characters of
/// the access key id shown, nothing of the secret) and the region, each with the kind of source and where it is.
async fn list(global: &GlobalArgs) -> Result<(), Failure> {
    let config = crate::load_config(global)?;
    let env = config.context().env();
    let files = config.context().profiles().ok().map(|s| s.sources().clone());
    let file = |credentials: bool| {
        files.as_ref().map_or(String::new(), |f| {
            let path = if credentials { &f.credentials_file } else { &f.config_file };
            path.display().to_string()
        })
    };
    let where_from = |origin: &Origin, credentials: bool| -> (String, String) {
        match origin {
            Origin::Explicit => ("manual".into(), "--region".into()),
            Origin::Flag(flag) => ("manual".into(), (*flag).into()),
            Origin::Env(var) => ("env".into(), var.to_string()),
            Origin::Profile(_) if credentials => ("shared-credentials-file".into(), file(true)),
            Origin::Profile(_) => ("config-file".into(), file(false)),
            Origin::Imds => ("iam-role".into(), String::new()),
            _ => ("None".into(), "None".into()),
        }
    };
    let row = |name: &str, value: &str, (kind, location): (String, String)| {
        outln!("{name:>10} {value:>24} {kind:>16}    {}", crate::output::printable(&location))
    };
    row("Name", "Value", ("Type".into(), "Location".into()))?;
    row("----", "-----", ("----".into(), "--------".into()))?;
    let profile = match (&global.profile, env.get("AWS_PROFILE")) {
        (Some(p), _) => (p.clone(), ("manual".into(), "--profile".into())),
        (None, Some(p)) => (p, ("env".into(), "AWS_PROFILE".into())),
        (None, None) => ("<not set>".into(), ("None".into(), "None".into())),
    };
    row("profile", &crate::output::printable(&profile.0), profile.1)?;
    let explained = match config.chain() {
        Some(chain) => Some(chain.explain().await),
        None => None,
    };
    let credentials = explained.as_ref().and_then(|e| e.result.as_ref().ok());
    let origin = explained.as_ref().and_then(|e| e.origin()).cloned().unwrap_or(Origin::Unset);
    let masked = |key: Option<&str>| match key {
        Some(k) if k.len() > 4 => format!("{}{}", "*".repeat(16), &k[k.len() - 4..]),
        Some(_) => "*".repeat(16),
        None => "<not set>".into(),
    };
    let from_credentials = |c: Option<&cirrus::Credentials>| {
        if c.is_some() {
            where_from(&origin, true)
        } else {
            where_from(&Origin::Unset, true)
        }
    };
    row("access_key", &masked(credentials.map(|c| c.access_key_id())), from_credentials(credentials))?;
    // Not even the end of the secret: the access key id says which key it is.
    let secret = credentials.map_or("<not set>".to_owned(), |_| "*".repeat(20));
    let mut secret_from = from_credentials(credentials);
    if secret_from.1 == "AWS_ACCESS_KEY_ID" {
        secret_from.1 = "AWS_SECRET_ACCESS_KEY".into();
    }
    row("secret_key", &secret, secret_from)?;
    let region = config.region().map_or("<not set>".to_owned(), |r| crate::output::printable(r).into_owned());
    row("region", &region, where_from(config.region_source(), false))?;
    Ok(())
}
