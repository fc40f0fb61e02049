//! `cirrus`: the command line.

mod cognito;
mod credentials;
mod curl;
mod s3;
mod ses;
mod sign;
mod sns;
mod sts;

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
    /// A named profile from the shared config files (default: AWS_PROFILE, then `default`).
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
    /// Print debugging detail on stderr: every log line of cirrus and its HTTP stack, and for
    /// `sign` the canonical request and string to sign (secrets redacted).
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
    /// Sign and send any request, print the response (like awscurl).
    Curl(curl::CurlArgs),
    /// Resolve credentials through the default chain and print them, or explain the choice.
    Credentials(credentials::CredentialsArgs),
    /// STS commands.
    #[command(subcommand)]
    Sts(sts::StsCommand),
    /// S3 commands: ls, cp, rm, mb, rb, presign, presign-post.
    #[command(subcommand)]
    S3(s3::S3Command),
    /// SES commands: send.
    #[command(subcommand)]
    Ses(ses::SesCommand),
    /// SNS commands: verify (a webhook message), publish.
    #[command(subcommand)]
    Sns(sns::SnsCommand),
    /// Cognito commands: login (a user pool login turned into AWS credentials).
    #[command(subcommand)]
    Cognito(cognito::CognitoCommand),
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

/// The configuration the global flags and the environment describe.
pub fn load_config(global: &GlobalArgs) -> Result<cirrus::Config, Failure> {
    let credentials = if global.no_sign_request {
        cirrus::config::CredentialsChoice::Anonymous
    } else {
        cirrus::config::CredentialsChoice::Default
    };
    cirrus::Config::loader()
        .region(global.region.as_deref())
        .profile(global.profile.as_deref())
        .endpoint_url(global.endpoint_url.as_deref())
        .credentials(credentials)
        .load()
        .map_err(|e| Failure::from(anyhow::Error::new(e)))
}

/// Runs a future to completion on a single-threaded runtime.
pub fn block_on<F: std::future::Future>(f: F) -> Result<F::Output, Failure> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::from(anyhow::anyhow!("cannot start the async runtime: {e}")))?;
    Ok(rt.block_on(f))
}

/// A reader that went away (`cirrus ... | head`) ends the program quietly, as SIGPIPE ends C
/// tools (exit 141), instead of the panic `print!` raises on a closed stdout.
fn quiet_on_closed_stdout() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if msg.starts_with("failed printing to stdout") && msg.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info);
    }));
}

fn main() -> ExitCode {
    quiet_on_closed_stdout();
    let cli = Cli::parse();
    if cli.global.debug {
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(std::io::stderr)
            .with_ansi(false)
            .init();
    }
    let result = match cli.command {
        Command::Sign(args) => sign::run(&cli.global, args),
        Command::Curl(args) => curl::run(&cli.global, args),
        Command::Credentials(args) => credentials::run(&cli.global, args),
        Command::Sts(cmd) => sts::run(&cli.global, cmd),
        Command::S3(cmd) => s3::run(&cli.global, cmd),
        Command::Ses(cmd) => ses::run(&cli.global, cmd),
        Command::Sns(cmd) => sns::run(&cli.global, cmd),
        Command::Cognito(cmd) => cognito::run(&cli.global, cmd),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            // One line: the error and its causes, never a backtrace.
            let mut msg = f.error.to_string();
            for cause in f.error.chain().skip(1) {
                // Some errors (cirrus::Error among them) already show their source in Display.
                let cause = cause.to_string();
                if !msg.contains(&cause) {
                    msg.push_str(": ");
                    msg.push_str(&cause);
                }
            }
            eprintln!("cirrus: {}", msg.replace('\n', " "));
            ExitCode::from(f.code)
        }
    }
}
