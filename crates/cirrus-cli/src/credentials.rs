//! `cirrus credentials`: resolve credentials through the default chain and print them in the
//! format asked for, or explain which source won and why the others were skipped.

use crate::{load_config, Failure, GlobalArgs};
use anyhow::anyhow;
use clap::ValueEnum;

#[derive(clap::Args, Debug)]
pub(crate) struct CredentialsArgs {
    /// Say which source won and why each other one was skipped (prints no secret).
    #[arg(long)]
    explain: bool,
    /// How to print the credentials, with the AWS CLI's `export-credentials` names: `process` is
    /// the credential_process JSON, so cirrus can be another tool's credential_process; `env`
    /// is shell `export` lines; `env-no-export`, `powershell`, `windows-cmd` and `fish` set the
    /// variables in those shells.
    #[arg(long, value_enum, default_value_t = Format::Process)]
    format: Format,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    /// `export AWS_ACCESS_KEY_ID=...` lines.
    Env,
    /// `AWS_ACCESS_KEY_ID=...` lines (no `export`).
    EnvNoExport,
    /// `$Env:AWS_ACCESS_KEY_ID='...'` lines for PowerShell.
    Powershell,
    /// `set AWS_ACCESS_KEY_ID=...` lines for the Windows command prompt.
    WindowsCmd,
    /// `set -gx AWS_ACCESS_KEY_ID '...'` lines for fish.
    Fish,
    /// A JSON object with the keys, the expiry and the provider.
    Json,
    /// The credential_process Version 1 JSON.
    Process,
}

pub(crate) fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

pub(crate) async fn run(global: &GlobalArgs, args: CredentialsArgs) -> Result<(), Failure> {
    let config = load_config(global)?;
    if global.no_sign_request {
        return Err(Failure::input(anyhow!("--no-sign-request: there are no credentials to show")));
    }
    if args.explain {
        let chain = config.chain().ok_or_else(|| anyhow!("no credentials chain in use"))?;
        let e = chain.explain().await;
        out!("{e}")?;
        match config.region() {
            Some(r) => outln!("region       {r} ({})", config.region_source())?,
            None => outln!("region       none: pass --region, set AWS_REGION, or set region in the profile")?,
        }
        return match e.result {
            Ok(c) => {
                outln!("access key   {} from {}", c.access_key_id(), c.provider())?;
                Ok(())
            }
            Err(err) => Err(anyhow!("no credentials: {err}").into()),
        };
    }
    let provider = config.credentials().ok_or_else(|| anyhow!("no credentials provider"))?;
    let c = provider.provide_credentials().await.map_err(|e| anyhow::Error::new(e).context("no credentials"))?;
    out!("{}", render(&c, args.format))?;
    Ok(())
}

/// Credentials as `format` prints them (with a final new line).
pub(crate) fn render(c: &cirrus::Credentials, format: Format) -> String {
    let line: fn(&str, &str) -> String = match format {
        Format::Json | Format::Process => return format!("{}\n", to_json(c, format)),
        Format::Env => |k, v| format!("export {k}={}\n", shell_quote(v)),
        Format::EnvNoExport => |k, v| format!("{k}={}\n", shell_quote(v)),
        Format::Powershell => |k, v| format!("$Env:{k}='{}'\n", v.replace('\'', "''")),
        Format::WindowsCmd => |k, v| format!("set {k}={v}\n"),
        Format::Fish => |k, v| format!("set -gx {k} '{}'\n", v.replace('\\', "\\\\").replace('\'', "\\'")),
    };
    let mut s = line("AWS_ACCESS_KEY_ID", c.access_key_id()) + &line("AWS_SECRET_ACCESS_KEY", c.secret_access_key());
    if let Some(t) = c.session_token() {
        s.push_str(&line("AWS_SESSION_TOKEN", t));
    }
    if let Some(e) = c.expiry() {
        s.push_str(&line("AWS_CREDENTIAL_EXPIRATION", &cirrus::sigv4::format_rfc3339(e)));
    }
    s
}

/// The JSON of `--format json` (with `Provider`) or `process` (with `Version`).
pub(crate) fn to_json(c: &cirrus::Credentials, format: Format) -> serde_json::Value {
    let mut v = serde_json::Map::new();
    if format == Format::Process {
        v.insert("Version".into(), 1.into());
    }
    v.insert("AccessKeyId".into(), c.access_key_id().into());
    v.insert("SecretAccessKey".into(), c.secret_access_key().into());
    if let Some(t) = c.session_token() {
        v.insert("SessionToken".into(), t.into());
    }
    if let Some(e) = c.expiry() {
        v.insert("Expiration".into(), cirrus::sigv4::format_rfc3339(e).into());
    }
    if format == Format::Json {
        v.insert("Provider".into(), c.provider().into());
    }
    serde_json::Value::Object(v)
}
