//! `cirrus sts ...`: the AWS CLI's names, flags and JSON.

use crate::{load_config, Failure, GlobalArgs, Output};
use cirrus::sts::AssumeRoleRequest;
use cirrus::Credentials;

#[derive(clap::Subcommand, Debug)]
#[command(defer = true)]
pub(crate) enum StsCommand {
    /// Who the credentials belong to (GetCallerIdentity): account, ARN, user id.
    #[command(
        visible_alias = "get-caller-identity",
        after_help = "Examples:\n  cirrus sts get-caller-identity\n  cirrus --profile dev --output text sts whoami"
    )]
    Whoami,
    /// Temporary credentials for a role (AssumeRole), printed as the AWS CLI prints them.
    #[command(after_help = "Examples:\n  cirrus sts assume-role --role-arn arn:aws:iam::123456789012:role/deploy \
                            --role-session-name ci\n  cirrus sts assume-role --role-arn arn:aws:iam::123456789012:role/admin \
                            --role-session-name me --serial-number arn:aws:iam::123456789012:mfa/me --token-code 123456")]
    AssumeRole(AssumeRoleArgs),
    /// Temporary credentials for the caller (GetSessionToken), with MFA when the policy asks.
    #[command(
        after_help = "Examples:\n  cirrus sts get-session-token --duration-seconds 3600\n  cirrus sts get-session-token \
                            --serial-number arn:aws:iam::123456789012:mfa/me --token-code 123456"
    )]
    GetSessionToken(SessionArgs),
}

// AssumeRole's flags, named as the AWS CLI's.
#[derive(clap::Args, Debug)]
pub(crate) struct AssumeRoleArgs {
    /// The role to assume.
    #[arg(long, value_name = "ARN")]
    role_arn: String,
    /// A name for the session (2-64 characters of letters, digits and `+=,.@-_`).
    #[arg(long, value_name = "NAME")]
    role_session_name: String,
    /// The external id the role's trust policy asks for.
    #[arg(long, value_name = "ID")]
    external_id: Option<String>,
    /// An inline session policy (JSON).
    #[arg(long, value_name = "JSON")]
    policy: Option<String>,
    #[command(flatten)]
    session: SessionArgs,
}

// What AssumeRole and GetSessionToken share: the lifetime and the MFA device.
#[derive(clap::Args, Debug)]
pub(crate) struct SessionArgs {
    /// How long the credentials last, in seconds (900 up to the role's or the account's maximum).
    #[arg(long, value_name = "SECONDS")]
    duration_seconds: Option<u32>,
    /// The MFA device (its ARN or serial number); with --token-code.
    #[arg(long, value_name = "SERIAL", requires = "token_code")]
    serial_number: Option<String>,
    /// The MFA device's current code; with --serial-number.
    #[arg(long, value_name = "CODE", requires = "serial_number")]
    token_code: Option<String>,
}

impl SessionArgs {
    fn mfa(&self) -> Option<(&str, &str)> {
        self.serial_number.as_deref().zip(self.token_code.as_deref())
    }
}

pub(crate) async fn run(global: &GlobalArgs, cmd: StsCommand) -> Result<(), Failure> {
    let config = load_config(global)?;
    config.require_region().map_err(Failure::config)?;
    let sts = config.sts();
    match cmd {
        StsCommand::Whoami => {
            let id = sts.get_caller_identity().await?;
            match global.output {
                Output::Json => {
                    #[derive(serde::Serialize)]
                    #[serde(rename_all = "PascalCase")]
                    struct Identity<'a> {
                        user_id: &'a str,
                        account: &'a str,
                        arn: &'a str,
                    }
                    crate::output::print_json(&Identity { user_id: &id.user_id, account: &id.account, arn: &id.arn })?
                }
                Output::Text => {
                    let p = crate::output::printable;
                    outln!("{}\t{}\t{}", p(&id.account), p(&id.arn), p(&id.user_id))?
                }
            }
        }
        StsCommand::AssumeRole(args) => {
            let mut req = AssumeRoleRequest::new(&args.role_arn, &args.role_session_name);
            req.external_id = args.external_id;
            req.policy = args.policy;
            req.duration_seconds = args.session.duration_seconds;
            req.mfa = args.session.mfa().map(|(s, c)| (s.to_owned(), c.to_owned()));
            let role = sts.assume_role(&req).await?;
            let user = role.arn.as_deref().map(|arn| (role.assumed_role_id.as_deref(), arn));
            print_credentials(global.output, &role.credentials, user)?;
        }
        StsCommand::GetSessionToken(args) => {
            let credentials = sts.get_session_token(args.duration_seconds, args.mfa()).await?;
            print_credentials(global.output, &credentials, None)?;
        }
    }
    Ok(())
}

/// `{"Credentials": {...}, "AssumedRoleUser": {"Arn": ...}}` as the AWS CLI prints them, or its
/// text lines (`CREDENTIALS`, `ASSUMEDROLEUSER`).
fn print_credentials(output: Output, c: &Credentials, user: Option<(Option<&str>, &str)>) -> Result<(), Failure> {
    // As the AWS CLI writes times (Python's isoformat): `+00:00`, not `Z`.
    let expiration = c.expiry().map(|t| cirrus::sigv4::format_rfc3339(t).replace('Z', "+00:00"));
    match output {
        Output::Json => {
            #[derive(serde::Serialize)]
            #[serde(rename_all = "PascalCase")]
            struct Temporary<'a> {
                access_key_id: &'a str,
                secret_access_key: &'a str,
                #[serde(skip_serializing_if = "Option::is_none")]
                session_token: Option<&'a str>,
                #[serde(skip_serializing_if = "Option::is_none")]
                expiration: Option<String>,
            }
            #[derive(serde::Serialize)]
            #[serde(rename_all = "PascalCase")]
            struct User<'a> {
                #[serde(skip_serializing_if = "Option::is_none")]
                assumed_role_id: Option<&'a str>,
                arn: &'a str,
            }
            #[derive(serde::Serialize)]
            #[serde(rename_all = "PascalCase")]
            struct Answer<'a> {
                credentials: Temporary<'a>,
                #[serde(skip_serializing_if = "Option::is_none")]
                assumed_role_user: Option<User<'a>>,
            }
            crate::output::print_json(&Answer {
                credentials: Temporary {
                    access_key_id: c.access_key_id(),
                    secret_access_key: c.secret_access_key(),
                    session_token: c.session_token(),
                    expiration,
                },
                assumed_role_user: user.map(|(assumed_role_id, arn)| User { assumed_role_id, arn }),
            })?;
        }
        Output::Text => {
            if let Some((id, arn)) = user {
                let p = crate::output::printable;
                outln!("ASSUMEDROLEUSER\t{}\t{}", p(arn), p(id.unwrap_or_default()))?;
            }
            let token = c.session_token().unwrap_or_default();
            let expiration = expiration.unwrap_or_default();
            outln!("CREDENTIALS\t{}\t{expiration}\t{}\t{token}", c.access_key_id(), c.secret_access_key())?;
        }
    }
    Ok(())
}
