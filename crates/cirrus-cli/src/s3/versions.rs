//! Versions on the deleting commands: `rm --version-id`, `rm --all-versions` and the emptying
//! of a versioned bucket by `rb --force`, each version named in the lines printed (`delete:
//! s3://b/k (version V)`). `ls --versions` is in `ls.rs`.

use super::args::{OutputArgs, RmArgs};
use super::printer::Printer;
use super::transfer::interrupt_on_signal;
use super::{parse_s3, tuned_client};
use crate::{Failure, GlobalArgs};
use anyhow::anyhow;
use cirrus::s3::transfer::{Action, Event, Location, Summary, TransferOptions, Transfers, VersionEvent};
use cirrus::s3::{is_folder_key, S3Client};

/// `rm --version-id V s3://B/K` (that version, for good) or `rm --all-versions [--recursive]`
/// (every version and delete marker of the key, or of every key under the folder).
pub(super) async fn rm(global: &GlobalArgs, args: RmArgs) -> Result<(), Failure> {
    let (bucket, key) = parse_s3(&args.target)?;
    let tuning = super::args::TuningArgs { listing: args.listing, ..Default::default() };
    let s3 = tuned_client(global, tuning)?;
    let cancel = interrupt_on_signal();
    let bulk = args.recursive || args.all_versions;
    let printer = Printer::new(args.output, super::json(global), bulk, &cancel);
    let options = args.options(global);
    let summary = match &args.version_id {
        Some(v) => rm_version(&s3, &printer, (&bucket, &key, v), &options).await?,
        None => {
            let observer = printer.clone();
            Transfers::new(s3)
                .remove_versions(&Location::s3(bucket, key), &options, move |e| observer.on_version(e), &cancel)
                .await?
        }
    };
    printer.finish(&summary, bulk && !args.dryrun)
}

/// One version of one key, unless the filters leave its name out.
async fn rm_version(
    s3: &S3Client,
    printer: &Printer,
    (bucket, key, version): (&str, &str, &str),
    options: &TransferOptions,
) -> Result<Summary, Failure> {
    let mut summary = Summary::default();
    if is_folder_key(key) {
        return Err(Failure::input(anyhow!(
            "s3://{bucket}/{key} names no object: --version-id is a version of one key"
        )));
    }
    if !options.filters.accepts(key.rsplit('/').next().unwrap_or(key)) {
        return Ok(summary);
    }
    let src = Location::s3(bucket, key);
    let event = if options.dryrun {
        Event::DryRun { action: Action::Delete, src, dst: None }
    } else {
        match s3.delete_version(bucket, key, Some(version)).await {
            Ok(_) => {
                summary.done = 1;
                Event::Done { action: Action::Delete, src, dst: None, bytes: 0 }
            }
            Err(e) if e.is_input() => return Err(e.into()),
            Err(e) => {
                summary.failed = 1;
                let error = cirrus::s3::transfer::Error::from(e);
                Event::Failed { action: Action::Delete, src, dst: None, error }
            }
        }
    };
    printer.on_version(&VersionEvent::new(event, Some(version.to_owned())));
    Ok(summary)
}

/// Deletes every version and delete marker of `bucket` (`rb --force` of a versioned bucket);
/// when any is left, the summary is printed and the error ends the command.
pub(super) async fn empty_bucket(s3: &S3Client, bucket: &str, json: bool) -> Result<(), Failure> {
    let cancel = interrupt_on_signal();
    let printer = Printer::new(OutputArgs::default(), json, true, &cancel);
    let observer = printer.clone();
    let summary = Transfers::new(s3.clone())
        .remove_versions(
            &Location::s3(bucket, ""),
            &TransferOptions::recursive(),
            move |e| observer.on_version(e),
            &cancel,
        )
        .await?;
    if summary.is_complete() {
        return Ok(());
    }
    printer.finish(&summary, true)
}
