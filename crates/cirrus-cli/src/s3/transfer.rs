//! `cp`, `mv`, `sync` and `rm` (and `rb --force`'s emptying) on the library's transfer engine;
//! `cp` from standard input and to standard output here.

use super::args::{CopyArgs, OutputArgs, RmArgs, SyncArgs};
use super::object::SseKeys;
use super::printer::Printer;
use super::{client, parse_s3};
use crate::output::printable;
use crate::{Failure, GlobalArgs};
use anyhow::anyhow;
use cirrus::s3::transfer::{Cancel, Event, Location, Summary, TransferOptions, Transfers};
use cirrus::s3::{is_folder_key, S3Client};
use futures_util::StreamExt;
use std::sync::Arc;
use tokio::io::AsyncWriteExt;

/// `cp`: standard input and output here; everything else on the engine.
pub(super) async fn cp(global: &GlobalArgs, args: CopyArgs) -> Result<(), Failure> {
    let (options, keys) = args.transfer.options(args.recursive, global)?;
    let options = options.with_version_id(args.version_id.clone());
    let output = args.transfer.output;
    if options.dryrun && (args.src == "-" || args.dst == "-") {
        // Standard input or output is never read or written in a dry run.
        let action = if args.src == "-" { "upload" } else { "download" };
        if !output.quiet && !output.only_show_errors {
            outln!("{}", printable(&format!("(dryrun) {action}: {} to {}", args.src, args.dst)))?;
        }
        return Ok(());
    }
    match (args.src.as_str(), args.dst.as_str()) {
        ("-", _) if options.version_id.is_some() => {
            Err(Failure::input(anyhow!("--version-id names a version of an object in S3, not of standard input")))
        }
        ("-", dst) => from_stdin(global, &options, output, dst, &keys).await,
        (src, "-") => to_stdout(global, src, options.version_id.as_deref(), &keys).await,
        (src, dst) => on_engine(global, options, output, (src, dst), &keys, false).await,
    }
}

/// `mv`: files and objects only, on the engine.
pub(super) async fn mv(global: &GlobalArgs, args: CopyArgs) -> Result<(), Failure> {
    let (options, keys) = args.transfer.options(args.recursive, global)?;
    if args.version_id.is_some() {
        return Err(Failure::input(anyhow!("mv takes no --version-id: cp the version, then rm --version-id")));
    }
    if args.src == "-" || args.dst == "-" {
        return Err(Failure::input(anyhow!("mv moves files and objects, not standard input or output: use cp")));
    }
    on_engine(global, options, args.transfer.output, (&args.src, &args.dst), &keys, true).await
}

/// `sync`: the engine compares both sides and sends what differs.
pub(super) async fn sync(global: &GlobalArgs, args: SyncArgs) -> Result<(), Failure> {
    let (options, keys) = args.options(global)?;
    let src_at = Location::parse(&args.src).map_err(Failure::from)?;
    let dst_at = Location::parse(&args.dst).map_err(Failure::from)?;
    let engine = Transfers::new(keys.client(client(global)?));
    let cancel = interrupt_on_signal();
    let printer = Printer::new(args.transfer.output, true, &cancel);
    let observer = printer.clone();
    let summary =
        engine.sync(&src_at, &dst_at, &options, move |e| observer.on(e), &cancel).await.map_err(Failure::from)?;
    printer.finish(&summary, !args.transfer.dryrun)
}

/// `rm`: one key, or with `--recursive` everything under the folder.
pub(super) async fn rm(global: &GlobalArgs, args: RmArgs) -> Result<(), Failure> {
    let (bucket, key) = parse_s3(&args.target)?;
    let engine = Transfers::new(client(global)?);
    let cancel = interrupt_on_signal();
    let printer = Printer::new(args.output, args.recursive, &cancel);
    let observer = printer.clone();
    let summary = engine
        .remove(&Location::s3(bucket, key), &args.options(global), move |e| observer.on(e), &cancel)
        .await
        .map_err(Failure::from)?;
    printer.finish(&summary, args.recursive && !args.dryrun)
}

/// Deletes every object of `bucket` (`rb --force`); when any is left, the summary is printed
/// and the error ends the command.
pub(super) async fn empty_bucket(s3: &S3Client, bucket: &str) -> Result<(), Failure> {
    let cancel = interrupt_on_signal();
    let printer = Printer::new(OutputArgs::default(), true, &cancel);
    let observer = printer.clone();
    let summary = Transfers::new(s3.clone())
        .remove(&Location::s3(bucket, ""), &TransferOptions::recursive(), move |e| observer.on(e), &cancel)
        .await
        .map_err(Failure::from)?;
    if summary.is_complete() {
        return Ok(());
    }
    printer.finish(&summary, true)
}

/// `cp - s3://BUCKET/KEY`: standard input uploaded as it comes (multipart when large).
async fn from_stdin(
    global: &GlobalArgs,
    options: &TransferOptions,
    output: OutputArgs,
    dst: &str,
    keys: &SseKeys,
) -> Result<(), Failure> {
    let (bucket, key) = parse_s3(dst)?;
    if is_folder_key(&key) {
        return Err(Failure::input(anyhow!("{dst:?}: name the key to write standard input to")));
    }
    let s3 = keys.client(client(global)?);
    let cancel = interrupt_on_signal();
    let printer = Printer::new(output, false, &cancel);
    let mut put = options.put.clone();
    if let Some(bar) = printer.bar().cloned() {
        put = put.with_progress(Arc::new(move |n| bar.set_position(n)));
    }
    match s3.upload_with_cancel(&bucket, &key, tokio::io::stdin(), &put, &cancel).await {
        Ok(_) => {}
        // Interrupted: the multipart upload is aborted (or the error says it could not be).
        Err(e) if cancel.is_cancelled() => {
            eprintln!("cirrus: {}", printable(&e.to_string()));
            return Err(Failure::silent(130));
        }
        Err(e) => return Err(Failure::from(e)),
    }
    printer.finish(&Summary::default(), false)?;
    if !output.quiet && !output.only_show_errors {
        outln!("{}", printable(&format!("upload: - to s3://{bucket}/{key}")))?;
    }
    Ok(())
}

/// `cp s3://BUCKET/KEY -`: the object's bytes to standard output as they arrive.
async fn to_stdout(global: &GlobalArgs, src: &str, version_id: Option<&str>, keys: &SseKeys) -> Result<(), Failure> {
    let (bucket, key) = parse_s3(src)?;
    if is_folder_key(&key) {
        return Err(Failure::input(anyhow!("{src:?} names no object")));
    }
    let got = keys.client(client(global)?).get_version(&bucket, &key, version_id, None).await?;
    let mut body = got.body;
    let mut out = tokio::io::stdout();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(anyhow::Error::new)?;
        out.write_all(&chunk).await.map_err(crate::output::stdout_error)?;
    }
    out.flush().await.map_err(crate::output::stdout_error)
}

/// `cp` (or `mv`, when `moving`) between a directory and a prefix, or two prefixes, on the
/// transfer engine.
async fn on_engine(
    global: &GlobalArgs,
    options: TransferOptions,
    output: OutputArgs,
    (src, dst): (&str, &str),
    keys: &SseKeys,
    moving: bool,
) -> Result<(), Failure> {
    let src_at = Location::parse(src).map_err(Failure::from)?;
    let dst_at = Location::parse(dst).map_err(Failure::from)?;
    if !src_at.is_s3() && !dst_at.is_s3() {
        return Err(Failure::input(anyhow!("one of SRC and DST must be an s3:// URL")));
    }
    let engine = Transfers::new(keys.client(client(global)?));
    let cancel = interrupt_on_signal();
    let printer = Printer::new(output, options.recursive, &cancel);
    let observer = printer.clone();
    let observer = move |e: &Event| observer.on(e);
    let summary = if moving {
        engine.mv(&src_at, &dst_at, &options, observer, &cancel).await
    } else {
        engine.copy(&src_at, &dst_at, &options, observer, &cancel).await
    }
    .map_err(Failure::from)?;
    printer.finish(&summary, options.recursive && !options.dryrun)
}

/// Stops the engine on SIGINT or SIGTERM (it cleans up, then the command exits 130); a second
/// signal ends the program at once.
pub(super) fn interrupt_on_signal() -> Cancel {
    use tokio::signal::unix::{signal, SignalKind};
    let cancel = Cancel::new();
    // Registered now, before any work starts, so an early signal is not lost.
    let (int, term) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate()));
    let (Ok(mut int), Ok(mut term)) = (int, term) else { return cancel };
    let fire = cancel.clone();
    tokio::spawn(async move {
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
        eprintln!("cirrus: interrupted: stopping, aborting multipart uploads, removing temporary files");
        fire.cancel();
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
        std::process::exit(130);
    });
    cancel
}
