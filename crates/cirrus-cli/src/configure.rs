//! `cirrus configure ...`: the shared config and credentials files, as `aws configure` reads
//! and writes them.

use crate::{Failure, GlobalArgs};
use cirrus::profile::profile_name;

#[derive(clap::Subcommand, Debug)]
pub(crate) enum ConfigureCommand {
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
    #[command(after_help = "Examples:\n  cirrus configure list-profiles")]
    ListProfiles,
}

pub(crate) fn run(global: &GlobalArgs, cmd: ConfigureCommand) -> Result<(), Failure> {
    let ctx = cirrus::Context::from_process();
    let profile = profile_name(global.profile.as_deref(), ctx.env());
    match cmd {
        ConfigureCommand::Set { key, value } => {
            let path = cirrus::profile::set_value(ctx.env(), &profile, &key, &value).map_err(|e| {
                let e = anyhow::Error::new(e).context(format!("cannot set {key} of the profile `{profile}`"));
                let invalid = |c: &(dyn std::error::Error + 'static)| {
                    c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::InvalidInput)
                };
                if e.chain().any(invalid) {
                    Failure::input(e)
                } else {
                    Failure::from(e)
                }
            })?;
            tracing::debug!(path = %path.display(), "written");
            Ok(())
        }
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
    }
}
