//! `cirrus`: the command line.

mod sign;

use clap::{Parser, Subcommand, ValueEnum};
use std::process::ExitCode;

/// A lean AWS toolkit.
#[derive(Parser, Debug)]
#[command(name = "cirrus", version, about, propagate_version = true)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

/// Global flags, named as in the AWS CLI.
#[derive(clap::Args, Debug, Clone)]
pub struct GlobalArgs {
    /// The AWS region (default: AWS_REGION, then AWS_DEFAULT_REGION).
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// A named profile from the shared config files (not read yet by `sign`).
    #[arg(long, global = true)]
    pub profile: Option<String>,
    /// Send requests to this endpoint instead of AWS.
    #[arg(long, global = true)]
    pub endpoint_url: Option<String>,
    /// Do not sign requests.
    #[arg(long, global = true)]
    pub no_sign_request: bool,
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = Output::Json)]
    pub output: Output,
    /// Print debugging detail on stderr (for `sign`: the canonical request and string to sign,
    /// which include a session token when there is one).
    #[arg(long, global = true)]
    pub debug: bool,
}

/// Output formats.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// JSON.
    Json,
    /// Tab-separated text.
    Text,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Read a raw HTTP request and print it signed with SigV4.
    Sign(sign::SignArgs),
}

/// An error with the exit code it maps to: 2 for bad input, 1 for everything else.
#[derive(Debug)]
pub struct Failure {
    code: u8,
    error: anyhow::Error,
}

impl Failure {
    /// Bad input (a malformed request, an invalid flag value): exit 2.
    pub fn input(error: impl Into<anyhow::Error>) -> Self {
        Failure { code: 2, error: error.into() }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Self {
        Failure { code: 1, error }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Sign(args) => sign::run(&cli.global, args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            // One line: the error and its causes, never a backtrace.
            let mut msg = f.error.to_string();
            for cause in f.error.chain().skip(1) {
                msg.push_str(": ");
                msg.push_str(&cause.to_string());
            }
            eprintln!("cirrus: {}", msg.replace('\n', " "));
            ExitCode::from(f.code)
        }
    }
}
