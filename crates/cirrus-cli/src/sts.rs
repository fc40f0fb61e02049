//! `cirrus sts ...`.

use crate::{load_config, Failure, GlobalArgs, Output};
use anyhow::anyhow;

#[derive(clap::Subcommand, Debug)]
pub enum StsCommand {
    /// Who the credentials belong to (GetCallerIdentity): account, ARN, user id.
    Whoami,
}

pub async fn run(global: &GlobalArgs, cmd: StsCommand) -> Result<(), Failure> {
    match cmd {
        StsCommand::Whoami => {
            let config = load_config(global)?;
            if config.region().is_none() {
                return Err(Failure::input(anyhow!(
                    "no region: pass --region, set AWS_REGION, or set region in the profile"
                )));
            }
            let id = config.sts().get_caller_identity().await.map_err(anyhow::Error::new)?;
            match global.output {
                Output::Json => {
                    println!("{}", serde_json::json!({"Account": id.account, "Arn": id.arn, "UserId": id.user_id}))
                }
                Output::Text => println!("{}\t{}\t{}", id.account, id.arn, id.user_id),
            }
            Ok(())
        }
    }
}
