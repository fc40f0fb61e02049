//! `cirrus`: the command line.

#![warn(unreachable_pub, missing_debug_implementations)]

/// `print!` to standard output, as a `Result`: a reader that went away (`cirrus ... | head`)
/// is told by the error's kind and ends the command quietly with 141, as SIGPIPE ends C tools.
macro_rules! out {
    ($($arg:tt)*) => { $crate::output::write_stdout(format_args!($($arg)*), false) };
}

/// `println!` to standard output, as a `Result` (see `out!`).
macro_rules! outln {
    ($($arg:tt)*) => { $crate::output::write_stdout(format_args!($($arg)*), true) };
}

mod cognito;
mod configure;
mod credentials;
mod curl;
mod failure;
mod mfa;
mod output;
mod s3;
mod s3api;
mod ses;
mod sign;
mod sns;
mod sso;
mod sts;

use clap::{Parser, Subcommand, ValueEnum};
pub use failure::Failure;
use output::stdout_error;
use std::process::ExitCode;
use std::time::Duration;

/// A lean AWS toolkit.
#[derive(Parser, Debug)]
#[command(name = "cirrus", version, about, propagate_version = true)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

/// The help heading of the global flags: after the command's own.
const GLOBAL: &str = "Global options";

/// Global flags, named as in the AWS CLI.
#[derive(clap::Args, Debug, Clone)]
pub struct GlobalArgs {
    /// The AWS region (default: AWS_REGION, then AWS_DEFAULT_REGION).
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub region: Option<String>,
    /// A named profile from the shared config files (default: AWS_PROFILE, then `default`).
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub profile: Option<String>,
    /// Send requests to this endpoint instead of AWS.
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub endpoint_url: Option<String>,
    /// Do not sign requests.
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub no_sign_request: bool,
    /// Output format (`s3 ls` prints the AWS CLI's text unless --output json is given).
    #[arg(long, global = true, help_heading = GLOBAL, value_enum, default_value_t = Output::Json)]
    pub output: Output,
    /// Whether --output was given (filled in by `main`): `s3 ls` keeps the AWS CLI's text
    /// layout unless asked for JSON.
    #[arg(skip)]
    pub output_given: bool,
    /// Seconds to wait for a connection (TCP and TLS) before retrying; 0 waits as long as the
    /// system does. Default 3.1 (the SDKs'), as the AWS CLI's option of this name.
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "SECONDS", value_parser = seconds)]
    pub cli_connect_timeout: Option<f64>,
    /// Seconds to wait between two reads of an answer; 0 never times out. Default 60.
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "SECONDS", value_parser = seconds)]
    pub cli_read_timeout: Option<f64>,
    /// The `--exclude` / `--include` of an s3 command, in the order given (filled in by `main`
    /// from the parsed arguments: clap keeps each flag's values apart).
    #[arg(skip)]
    pub filters: cirrus::s3::transfer::Filters,
    /// Print debugging detail on stderr: every log line of cirrus and its HTTP stack, and for
    /// `sign` the canonical request and string to sign (secrets redacted).
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub debug: bool,
    /// S3: the bucket is its own host name (a bucket `files.example.com` CNAME'd to S3):
    /// requests, presigned URLs and forms go to https://BUCKET/KEY.
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub bucket_as_host: bool,
    /// S3: `requester` pays for the requests to a requester-pays bucket (x-amz-request-payer);
    /// given alone, as the AWS CLI takes it, it means `requester`.
    #[arg(long, global = true, help_heading = GLOBAL, value_parser = ["requester"], num_args = 0..=1,
          default_missing_value = "requester", require_equals = false)]
    pub request_payer: Option<String>,
    /// Trust the certificates of this PEM file for TLS (endpoints and https:// proxies) in
    /// place of the built-in ones; wins over --ca-native, AWS_CA_BUNDLE and the profile's
    /// ca_bundle.
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "PATH")]
    pub ca_bundle: Option<std::path::PathBuf>,
    /// Trust the operating system's certificate store (as curl's --ca-native) in place of the
    /// built-in roots; wins over AWS_CA_BUNDLE and the profile's ca_bundle.
    #[arg(long, global = true, help_heading = GLOBAL, env = "CIRRUS_CA_NATIVE",
          value_parser = clap::builder::BoolishValueParser::new())]
    pub ca_native: bool,
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
// Each command's flags are made only when it runs (or its help is asked for): the process
// starts without building the whole tree (see BENCHMARKS.md, cold start).
#[command(defer = true)]
enum Command {
    /// Read a raw HTTP request and print it signed with SigV4.
    #[command(
        after_help = "Examples:\n  cirrus sign --service execute-api --region eu-west-1 < request.http\n  cirrus sign --service s3 --region us-east-1 < put.http > signed.http"
    )]
    Sign(sign::SignArgs),
    /// Sign and send any request, print the response (like awscurl).
    #[command(
        after_help = "Examples:\n  cirrus curl https://sts.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15\n  cirrus curl -i --service execute-api --region eu-west-1 https://abc123.execute-api.eu-west-1.amazonaws.com/prod/items"
    )]
    Curl(curl::CurlArgs),
    /// Set up a profile (keys, region, output) or IAM Identity Center (`configure sso`); read and
    /// write single settings of the shared config files (set, get, list, list-profiles).
    Configure(configure::ConfigureArgs),
    /// Resolve credentials through the default chain and print them, or explain the choice.
    #[command(
        after_help = "Examples:\n  cirrus credentials --explain\n  cirrus --profile dev credentials --format env"
    )]
    Credentials(credentials::CredentialsArgs),
    /// STS commands.
    #[command(subcommand)]
    Sts(sts::StsCommand),
    /// IAM Identity Center: log in (the AWS CLI's token cache) and out.
    #[command(subcommand)]
    Sso(sso::SsoCommand),
    /// S3 commands: ls, cp, mv, sync, rm, mb, rb, presign, presign-post.
    #[command(subcommand)]
    S3(Box<s3::S3Command>),
    /// The S3 API calls scripts use (head-object, get-object, list-object-versions, tagging,
    /// versioning, policy...), with the AWS CLI's flags and JSON.
    #[command(subcommand)]
    S3api(Box<s3api::S3apiCommand>),
    /// SES commands: send.
    #[command(subcommand)]
    Ses(ses::SesCommand),
    /// SNS commands: verify (a webhook message), publish.
    #[command(subcommand)]
    Sns(sns::SnsCommand),
    /// Cognito commands: login (a user pool login turned into AWS credentials).
    #[command(subcommand)]
    Cognito(cognito::CognitoCommand),
    /// Print shell completions: `cirrus completions bash > /etc/bash_completion.d/cirrus`.
    #[command(
        after_help = "Examples:\n  cirrus completions bash > ~/.local/share/bash-completion/completions/cirrus\n  cirrus completions zsh > ~/.zfunc/_cirrus"
    )]
    Completions {
        /// bash, zsh, fish, powershell or elvish.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): `cirrus man > cirrus.1; man ./cirrus.1`.
    #[command(after_help = "Examples:\n  cirrus man > cirrus.1\n  cirrus man | man -l -")]
    Man,
}

/// Completions or the manual page, from the clap definition itself, on standard output.
fn generated(what: &Command) -> Result<(), Failure> {
    use clap::CommandFactory;
    let mut out = Vec::new();
    match what {
        Command::Completions { shell } => clap_complete::generate(*shell, &mut Cli::command(), "cirrus", &mut out),
        _ => clap_mangen::Man::new(Cli::command())
            .render(&mut out)
            .map_err(|e| Failure::from(anyhow::anyhow!("cannot render the manual page: {e}")))?,
    }
    let mut stdout = std::io::stdout().lock();
    std::io::Write::write_all(&mut stdout, &out).and_then(|()| std::io::Write::flush(&mut stdout)).map_err(stdout_error)
}

/// The most a request body read into memory may be (`sign`, `curl -d @FILE`): 1 GiB.
pub const MAX_BODY_IN_MEMORY: usize = 1 << 30;

/// A file (or `-`, standard input) of at most `limit` bytes; a larger one is refused from its
/// size, and never more than `limit + 1` bytes are read. Errors start with `what` and the path
/// (joined with no space when `what` ends in `//`, as in `fileb://`).
pub fn read_limited(what: &str, path: &std::path::Path, limit: usize) -> Result<Vec<u8>, Failure> {
    use std::io::Read;
    let sep = if what.ends_with("//") { "" } else { " " };
    let at = format!("{what}{sep}{}", path.display());
    let fail = |e: std::io::Error| Failure::input(anyhow::anyhow!("{at}: {e}"));
    let mut b = Vec::new();
    if path.as_os_str() == "-" {
        std::io::stdin().take(limit as u64 + 1).read_to_end(&mut b).map_err(fail)?;
    } else {
        // A file the user names may be a pipe (`-d @<(cmd)`, `fileb:///dev/stdin`): read as it
        // comes, as curl and the AWS CLI read it. Files cirrus finds on its own (settings, the CA
        // bundle, caches) are never opened when they are FIFOs (`cirrus::fs::open_file`).
        let file = std::fs::File::open(path).map_err(fail)?;
        let size = file.metadata().map_err(fail)?.len();
        if size > limit as u64 {
            return Err(Failure::input(anyhow::anyhow!("{at}: {size} bytes; at most {limit} allowed")));
        }
        file.take(limit as u64 + 1).read_to_end(&mut b).map_err(fail)?;
    }
    if b.len() > limit {
        return Err(Failure::input(anyhow::anyhow!("{at}: more than the {limit} bytes allowed")));
    }
    Ok(b)
}

/// The configuration the global flags and the environment describe.
pub fn load_config(global: &GlobalArgs) -> Result<cirrus::Config, Failure> {
    let credentials = if global.no_sign_request {
        cirrus::loader::CredentialsChoice::Anonymous
    } else {
        cirrus::loader::CredentialsChoice::Default
    };
    let ctx = cirrus::Context::from_process().with_mfa_prompt(mfa::mfa_prompt());
    let mut loader = cirrus::loader::ConfigLoader::new(ctx)
        .region_from_flag(global.region.as_deref(), "--region")
        .profile(global.profile.as_deref())
        .endpoint_url(global.endpoint_url.as_deref())
        .credentials(credentials);
    let roots = trusted_roots(global)?;
    if global.cli_connect_timeout.is_some() || global.cli_read_timeout.is_some() || roots.is_some() {
        let mut settings = cirrus::transport::TransportSettings::default();
        if let Some(roots) = roots {
            // The loader then leaves AWS_CA_BUNDLE and the profile's ca_bundle aside.
            settings = settings.with_tls_roots(roots);
        }
        if let Some(s) = global.cli_connect_timeout {
            // 0: as long as the system allows (the kernel gives up on its own, after minutes).
            let d = if s == 0.0 { Duration::from_secs(24 * 3600) } else { Duration::from_secs_f64(s) };
            settings = settings.with_connect_timeout(d);
        }
        if let Some(s) = global.cli_read_timeout {
            settings = settings.with_read_timeout((s > 0.0).then(|| Duration::from_secs_f64(s)));
        }
        loader = loader.transport(settings);
    }
    loader.load().map_err(Failure::config)
}

/// The roots --ca-bundle or --ca-native ask for; none: the loader's choice (AWS_CA_BUNDLE, the
/// profile's ca_bundle, else the built-in roots).
pub(crate) fn trusted_roots(global: &GlobalArgs) -> Result<Option<cirrus::transport::TlsRoots>, Failure> {
    let Some(path) = &global.ca_bundle else {
        return Ok(global.ca_native.then_some(cirrus::transport::TlsRoots::System));
    };
    let pem = read_limited("--ca-bundle", path, 16 << 20)?;
    let roots = cirrus::transport::TlsRoots::from_pem(&pem).map_err(|e| {
        let what = format!("the CA bundle {} (from --ca-bundle) is not a PEM bundle", path.display());
        Failure::input(anyhow::Error::new(e).context(what))
    })?;
    Ok(Some(roots))
}

/// A number of seconds from 0 to one day (the AWS CLI's timeouts take fractions).
fn seconds(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if (0.0..=86_400.0).contains(&v) => Ok(v),
        _ => Err(format!("{s:?} is not a number of seconds from 0 to 86400")),
    }
}

/// Transfers hold their object data in buffers of 512 KiB to 8 MiB, freed on many threads.
/// glibc's dynamic mmap threshold would grow to their size and keep every freed buffer in a
/// per-thread heap, so the process would grow well past the transfer's memory budget; a fixed
/// threshold of 1 MiB returns each part buffer to the system when it is freed.
fn bounded_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

fn main() -> ExitCode {
    bounded_allocator();
    let mut command = <Cli as clap::CommandFactory>::command();
    let matches = command.get_matches_mut();
    // The process ends soon: freeing the command tree would cost more than the parse did.
    std::mem::forget(command);
    let mut cli = match <Cli as clap::FromArgMatches>::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    cli.global.filters = s3::ordered_filters(&matches);
    cli.global.output_given = matches.value_source("output") == Some(clap::parser::ValueSource::CommandLine);
    if cli.global.debug {
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(std::io::stderr)
            .with_ansi(false)
            .init();
    }
    // A transfer holds a file and a connection per request: take what the system allows (the
    // engine sizes its concurrency to it).
    cirrus::s3::transfer::raise_open_file_limit();
    // One runtime for the whole process: every command shares one connection pool.
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cirrus: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(run(cli));
    // Nothing is left to wait for; a blocked read of standard input must not hold the exit.
    runtime.shutdown_background();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure { code, error: None }) => ExitCode::from(code),
        Err(Failure { code, error: Some(error) }) => {
            // One line: each layer's failure then its cause, never a backtrace. Every error
            // names only its own layer and leaves the cause to source(), so nothing repeats.
            let msg: Vec<String> = error.chain().map(|e| e.to_string()).collect();
            eprintln!("cirrus: {}", output::printable(&msg.join(": ").replace('\n', " ")));
            if no_credentials(&error) {
                eprintln!("{NO_CREDENTIALS_HINT}");
            }
            if untrusted_certificate(&error) {
                eprintln!("{UNTRUSTED_HINT}");
            }
            ExitCode::from(code)
        }
    }
}

/// What to do when no source had credentials: the next step, on a line of its own.
const NO_CREDENTIALS_HINT: &str = "cirrus: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, run `cirrus configure` \
     (keys) or `cirrus configure sso` / `cirrus sso login` (IAM Identity Center), or name a profile with \
     --profile; `cirrus credentials --explain` says why each source had none";

/// What to do when a certificate is not signed by a CA cirrus trusts.
const UNTRUSTED_HINT: &str =
    "cirrus: the certificate is not signed by a CA cirrus trusts: name the CA's PEM file with \
     --ca-bundle PATH (or AWS_CA_BUNDLE), or trust the system's store with --ca-native";

/// Whether `error` is a TLS certificate of an unknown issuer.
fn untrusted_certificate(error: &anyhow::Error) -> bool {
    error
        .chain()
        .any(|e| e.downcast_ref::<cirrus::transport::CallError>().is_some_and(|c| c.is_untrusted_certificate()))
}

/// Whether `error` is that no source had credentials (not a source that failed).
fn no_credentials(error: &anyhow::Error) -> bool {
    error.chain().any(|e| e.downcast_ref::<cirrus::CredentialsError>().is_some_and(|c| c.is_not_configured()))
}

async fn run(cli: Cli) -> Result<(), Failure> {
    let global = &cli.global;
    match cli.command {
        Command::Sign(args) => sign::run(global, args).await,
        Command::Curl(args) => curl::run(global, args).await,
        Command::Credentials(args) => credentials::run(global, args).await,
        Command::Sts(cmd) => sts::run(global, cmd).await,
        Command::Configure(cmd) => configure::run(global, cmd).await,
        Command::Sso(cmd) => sso::run(global, cmd).await,
        Command::S3(cmd) => s3::run(global, *cmd).await,
        Command::S3api(cmd) => s3api::run(global, *cmd).await,
        Command::Ses(cmd) => ses::run(global, cmd).await,
        Command::Sns(cmd) => sns::run(global, cmd).await,
        Command::Cognito(cmd) => cognito::run(global, cmd).await,
        what @ (Command::Completions { .. } | Command::Man) => generated(&what),
    }
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::{CommandFactory, Parser};

    /// Every example line (`  cirrus ...`) of every command's help, in words: quotes kept
    /// together, a pipe or a redirection ends the command.
    fn examples(cmd: &clap::Command, out: &mut Vec<Vec<String>>) {
        let help = cmd.get_after_help().map(|h| h.to_string()).unwrap_or_default();
        for line in help.lines().filter_map(|l| l.trim_start().strip_prefix("cirrus ")) {
            // What the shell takes (a pipe, a redirection) is not an argument.
            let line = [" | ", " < ", " > "].iter().fold(line, |l, cut| l.split(cut).next().unwrap_or_default());
            let mut words = vec!["cirrus".to_owned()];
            let mut quoted = false;
            let mut word = String::new();
            for c in line.chars() {
                match c {
                    '\'' => quoted = !quoted,
                    ' ' if !quoted => words.extend((!word.is_empty()).then(|| std::mem::take(&mut word))),
                    c => word.push(c),
                }
            }
            words.extend((!word.is_empty()).then_some(word));
            out.push(words);
        }
        for sub in cmd.get_subcommands() {
            examples(sub, out);
        }
    }

    /// The commands under `cmd` (a path of names) whose help has fewer than two example lines.
    fn without_examples(cmd: &clap::Command, path: &str, out: &mut Vec<String>) {
        let path = format!("{path} {}", cmd.get_name());
        let subs: Vec<_> = cmd.get_subcommands().filter(|c| c.get_name() != "help").collect();
        let help = cmd.get_after_help().map(|h| h.to_string()).unwrap_or_default();
        if subs.is_empty() && help.lines().filter(|l| l.trim_start().starts_with("cirrus ")).count() < 2 {
            out.push(path.clone());
        }
        for sub in subs {
            without_examples(sub, &path, out);
        }
    }

    /// Every command's one-line summary, by path.
    fn summaries(cmd: &clap::Command, path: &str, out: &mut Vec<(String, String)>) {
        let path = format!("{path} {}", cmd.get_name());
        out.push((path.clone(), cmd.get_about().map(|a| a.to_string()).unwrap_or_default()));
        for sub in cmd.get_subcommands() {
            summaries(sub, &path, out);
        }
    }

    /// A command's flags are made when it runs (`defer`): its summary must stay the one the
    /// parent gives it, not become the doc comment of the struct that holds its flags.
    #[test]
    fn a_command_keeps_its_summary_once_its_flags_are_made() {
        let (mut before, mut after) = (Vec::new(), Vec::new());
        summaries(&Cli::command(), "", &mut before);
        let mut built = Cli::command();
        built.build();
        summaries(&built, "", &mut after);
        let after: std::collections::HashMap<String, String> =
            after.into_iter().filter(|(path, _)| !path.contains(" help")).collect();
        for (path, about) in &before {
            assert_eq!(after.get(path), Some(about), "{path}");
        }
        assert!(after.len() > 40 && after.values().all(|about| !about.is_empty()), "{after:#?}");
    }

    #[test]
    fn every_command_has_two_examples_in_its_help() {
        let mut missing = Vec::new();
        let mut cli = Cli::command();
        cli.build();
        without_examples(&cli, "", &mut missing);
        assert!(missing.is_empty(), "fewer than two examples in the help of: {missing:#?}");
    }

    #[test]
    fn every_example_in_the_help_parses() {
        let mut all = Vec::new();
        let mut cli = Cli::command();
        cli.build();
        examples(&cli, &mut all);
        assert!(all.len() >= 15, "{} examples", all.len());
        for words in all {
            if let Err(e) = Cli::try_parse_from(&words) {
                panic!("{words:?}: {e}");
            }
        }
    }
}
