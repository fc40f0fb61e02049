//! `cirrus s3 ...`: ls, cp, mv, sync, rm, run, mb, rb, presign, presign-post, following the AWS
//! CLI's conventions (`s3://bucket/key`, a trailing `/` names a "directory", `--recursive`).
//! Copies and deletes run on the library's transfer engine; these modules parse, print and map
//! the summary to an exit code.

mod args;
mod bucket;
mod ls;
mod object;
mod presign;
mod printer;
mod run;
mod transfer;
mod versions;

pub(crate) use args::ordered_filters;

use crate::{load_config, Failure, GlobalArgs};
use anyhow::anyhow;
use cirrus::s3::transfer::Location;
use cirrus::s3::S3Client;

#[derive(clap::Subcommand, Debug)]
#[command(defer = true)]
pub(crate) enum S3Command {
    /// List buckets, or the objects under s3://BUCKET/PREFIX.
    #[command(
        after_help = "Examples:\n  cirrus s3 ls\n  cirrus s3 ls s3://my-bucket/logs/\n  cirrus s3 ls --recursive --human-readable --summarize s3://my-bucket/"
    )]
    Ls(ls::LsArgs),
    /// Copy local <-> S3 or S3 -> S3; `-` is standard input or output.
    #[command(
        after_help = "Examples:\n  cirrus s3 cp report.pdf s3://my-bucket/reports/\n  cirrus s3 cp --recursive ./site s3://my-bucket/www/ --exclude '*.tmp'\n  cirrus s3 cp s3://my-bucket/logs/app.log - | less"
    )]
    Cp(args::CopyArgs),
    /// Move local <-> S3 or S3 -> S3: copy, then remove each source once its copy is complete.
    #[command(
        after_help = "Examples:\n  cirrus s3 mv --dryrun --recursive ./outbox s3://my-bucket/inbox/\n  cirrus s3 mv s3://my-bucket/tmp/a.csv s3://my-bucket/done/"
    )]
    Mv(args::CopyArgs),
    /// Make DST like SRC (a directory and a prefix, either way, or two prefixes): send what is
    /// missing or changed, and with --delete remove what SRC lacks.
    #[command(
        after_help = "Examples:\n  cirrus s3 sync ./site s3://my-bucket/www/\n  cirrus s3 sync --delete --dryrun s3://my-bucket/photos/ ./photos\n  cirrus s3 sync --checksum ./data s3://my-bucket/data/"
    )]
    Sync(args::SyncArgs),
    /// Delete a key, or everything under a folder with --recursive (`data` means `data/`).
    #[command(
        after_help = "Examples:\n  cirrus s3 rm s3://my-bucket/old.txt\n  cirrus s3 rm --recursive --dryrun s3://my-bucket/tmp/"
    )]
    Rm(args::RmArgs),
    /// Run a file of s3 commands (cp, mv, rm, sync), one a line, at once on one connection
    /// pool (s5cmd's `run`); `-` reads them from standard input.
    #[command(
        after_help = "Examples:\n  cirrus s3 run commands.txt\n  cirrus s3 run --concurrency 32 --output json -\n\nA line is a command and its flags, quoted as in a shell: cp 'my file.txt' s3://my-bucket/a.txt\nBlank lines and lines starting with # are passed over."
    )]
    Run(run::RunArgs),
    /// Make a bucket.
    #[command(
        after_help = "Examples:\n  cirrus s3 mb s3://my-bucket\n  cirrus --region eu-west-1 s3 mb s3://my-eu-bucket"
    )]
    Mb {
        /// s3://BUCKET
        target: String,
    },
    /// Remove a bucket.
    #[command(after_help = "Examples:\n  cirrus s3 rb s3://my-bucket\n  cirrus s3 rb --force s3://my-old-bucket")]
    Rb {
        /// Delete every object in it first.
        #[arg(long)]
        force: bool,
        /// s3://BUCKET
        target: String,
    },
    /// Print a presigned URL.
    #[command(
        after_help = "Examples:\n  cirrus s3 presign s3://my-bucket/report.pdf --expires-in 3600\n  cirrus --profile dev s3 presign s3://my-bucket/builds/app.tar.gz"
    )]
    Presign(presign::PresignArgs),
    /// Print a presigned POST form, {"url": ..., "fields": {...}}, for a browser upload.
    #[command(
        after_help = "Examples:\n  cirrus s3 presign-post s3://my-bucket/uploads/ --filename photo.jpg --max-size 10485760\n  cirrus s3 presign-post s3://my-bucket/in/ --filename report.pdf --size 48213 --attachment --expires-in 600"
    )]
    PresignPost(presign::PresignPostArgs),
}

pub(crate) async fn run(global: &GlobalArgs, cmd: S3Command) -> Result<(), Failure> {
    match cmd {
        S3Command::Ls(args) => ls::ls(global, args).await,
        S3Command::Cp(args) => transfer::cp(global, args).await,
        S3Command::Mv(args) => transfer::mv(global, args).await,
        S3Command::Sync(args) => transfer::sync(global, args).await,
        S3Command::Rm(args) if args.all_versions || args.version_id.is_some() => versions::rm(global, args).await,
        S3Command::Rm(args) => transfer::rm(global, args).await,
        S3Command::Run(args) => run::run(global, args).await,
        S3Command::Mb { target } => bucket::mb(global, &target).await,
        S3Command::Rb { force, target } => bucket::rb(global, force, &target).await,
        S3Command::Presign(args) => presign::presign(global, args).await,
        S3Command::PresignPost(args) => presign::presign_post(global, args).await,
    }
}

/// `s3://bucket/key` split; the key may be empty.
fn parse_s3(url: &str) -> Result<(String, String), Failure> {
    match Location::parse(url) {
        Ok(Location::S3 { bucket, key }) => Ok((bucket, key)),
        Ok(Location::Local(_)) => Err(Failure::input(anyhow!("{url:?} is not an s3:// URL (s3://BUCKET/KEY)"))),
        Err(e) => Err(Failure::input(e)),
    }
}

/// The S3 client the global flags and the profile's `s3` section describe.
pub(crate) fn client(global: &GlobalArgs) -> Result<S3Client, Failure> {
    tuned_client(global, args::TuningArgs::default())
}

/// The S3 client the global flags and the profile's `s3` section describe, with
/// `--concurrency` and `--part-size` over the profile's keys, and `--page-size`.
pub(super) fn tuned_client(global: &GlobalArgs, tuning: args::TuningArgs) -> Result<S3Client, Failure> {
    let config = load_config(global)?;
    let mut settings = cirrus::s3::S3Settings::from_config(&config)
        .map_err(Failure::config)?
        .with_bucket_as_host(global.bucket_as_host)
        .with_request_payer(global.request_payer.is_some());
    if let Some(n) = tuning.concurrency {
        settings.concurrency = n;
    }
    if let Some(n) = tuning.part_size {
        settings.part_size = n;
    }
    if let Some(n) = tuning.listing.page_size {
        settings = settings.with_list_page_size(n);
    }
    S3Client::with_settings(&config, settings).map_err(Failure::config)
}

/// Whether the user asked for `--output json` (the s3 commands print the AWS CLI's text
/// otherwise, whatever the default output is).
fn json(global: &GlobalArgs) -> bool {
    global.output_given && global.output == crate::Output::Json
}
