//! `cirrus sts ...`.

use crate::{load_config, Failure, GlobalArgs, Output};

#[derive(clap::Subcommand, Debug)]
pub(crate) enum StsCommand {
    /// Who the credentials belong to (GetCallerIdentity): account, ARN, user id.
    #[command(
        visible_alias = "get-caller-identity",
        after_help = "Examples:\n  cirrus sts get-caller-identity\n  cirrus --profile dev --output text sts whoami"
    )]
    Whoami,
}

pub(crate) async fn run(global: &GlobalArgs, cmd: StsCommand) -> Result<(), Failure> {
    match cmd {
        StsCommand::Whoami => {
            let config = load_config(global)?;
            config.require_region().map_err(Failure::config)?;
            let id = config.sts().get_caller_identity().await?;
            match global.output {
                Output::Json => {
                    outln!("{}", serde_json::json!({"Account": id.account, "Arn": id.arn, "UserId": id.user_id}))?
                }
                Output::Text => {
                    let p = crate::output::printable;
                    outln!("{}\t{}\t{}", p(&id.account), p(&id.arn), p(&id.user_id))?
                }
            }
            Ok(())
        }
    }
}
