//! `cp`, `mv`, `sync` and `rm` (and `rb --force`'s emptying) on the library's transfer engine;
//! `cp` from standard input and to standard output here.

use super::args::{CopyArgs, GlobArgs, OutputArgs, RmArgs, SyncArgs, TuningArgs};
use super::object::SseKeys;
use super::printer::Printer;
use super::{client, json, parse_s3, tuned_client};
use crate::output::printable;
use crate::{Failure, GlobalArgs};
use anyhow::anyhow;
use cirrus::s3::transfer::{Action, Cancel, Event, Location, Summary, SyncOptions, TransferOptions, Transfers};
use cirrus::s3::{is_folder_key, S3Client};
use futures_util::StreamExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::io::AsyncWriteExt;

/// One cp, mv, sync or rm, read and checked, ready for an engine: what a command runs, and
/// what `s3 run` runs for each of its lines.
pub(super) enum Task {
    /// cp (or mv, when `moving`) between a directory and a prefix, or two prefixes.
    Copy { src: Location, dst: Location, options: TransferOptions, keys: SseKeys, moving: bool },
    /// sync.
    Sync { src: Location, dst: Location, options: SyncOptions, keys: SseKeys },
    /// rm.
    Remove { target: Location, options: TransferOptions },
}

impl Task {
    /// cp or mv on the engine (not standard input or output).
    pub(super) fn copy(global: &GlobalArgs, args: &CopyArgs, moving: bool) -> Result<Task, Failure> {
        if moving && args.version_id.is_some() {
            return Err(Failure::input(anyhow!("mv takes no --version-id: cp the version, then rm --version-id")));
        }
        let (options, keys) = args.transfer.options(args.recursive, global)?;
        let options = options.with_glob(!args.glob.no_glob).with_version_id(args.version_id.clone());
        Task::copy_of((&args.src, &args.dst), options, keys, moving)
    }

    /// cp or mv with its options read already (they are read once: an SSE-C key may come from
    /// a pipe).
    fn copy_of(
        (src, dst): (&str, &str),
        options: TransferOptions,
        keys: SseKeys,
        moving: bool,
    ) -> Result<Task, Failure> {
        let src = Location::parse(src).map_err(Failure::from)?;
        let dst = Location::parse(dst).map_err(Failure::from)?;
        if !src.is_s3() && !dst.is_s3() {
            return Err(Failure::input(anyhow!("one of SRC and DST must be an s3:// URL")));
        }
        Ok(Task::Copy { src, dst, options, keys, moving })
    }

    pub(super) fn sync(global: &GlobalArgs, args: &SyncArgs) -> Result<Task, Failure> {
        let (options, keys) = args.options(global)?;
        let src = Location::parse(&args.src).map_err(Failure::from)?;
        let dst = Location::parse(&args.dst).map_err(Failure::from)?;
        Ok(Task::Sync { src, dst, options, keys })
    }

    pub(super) fn remove(global: &GlobalArgs, args: &RmArgs) -> Result<Task, Failure> {
        let (bucket, key) = parse_s3(&args.target)?;
        Ok(Task::Remove { target: Location::s3(bucket, key), options: args.options(global) })
    }

    /// Whether it is recursive, or a pattern (a progress display that counts files).
    fn recursive(&self) -> bool {
        match self {
            Task::Copy { src: at, options, .. } | Task::Remove { target: at, options } => {
                options.recursive || (options.glob && at.glob().is_some())
            }
            Task::Sync { .. } => true,
        }
    }

    /// Whether the text output ends with the summary line: a bulk run that was not a dry run.
    fn bulk(&self) -> bool {
        match self {
            Task::Copy { options, .. } | Task::Remove { options, .. } => self.recursive() && !options.dryrun,
            Task::Sync { options, .. } => !options.dryrun,
        }
    }

    /// Runs on `engine` (its client, with this task's SSE-C keys), each event to `printer`:
    /// the summary, or an error when nothing could start.
    pub(super) async fn run(self, engine: &Transfers, printer: &Printer, cancel: &Cancel) -> Result<Summary, Failure> {
        let observer = printer.clone();
        let observer = move |e: &Event| observer.on(e);
        match self {
            Task::Copy { src, dst, options, keys, moving } => {
                let engine = engine.with_client(keys.client(engine.client().clone()));
                if moving {
                    engine.mv(&src, &dst, &options, observer, cancel).await
                } else {
                    engine.copy(&src, &dst, &options, observer, cancel).await
                }
                .map_err(Failure::from)
            }
            Task::Sync { src, dst, options, keys } => {
                let engine = engine.with_client(keys.client(engine.client().clone()));
                engine.sync(&src, &dst, &options, observer, cancel).await.map_err(Failure::from)
            }
            Task::Remove { target, options } => {
                engine.remove(&target, &options, observer, cancel).await.map_err(Failure::from)
            }
        }
    }
}

/// `cp`: standard input and output here; everything else on the engine.
pub(super) async fn cp(global: &GlobalArgs, args: CopyArgs) -> Result<(), Failure> {
    let (options, keys) = args.transfer.options(args.recursive, global)?;
    let options = options.with_glob(!args.glob.no_glob).with_version_id(args.version_id.clone());
    let output = args.transfer.output;
    if options.dryrun && (args.src == "-" || args.dst == "-") {
        // Standard input or output is never read or written in a dry run.
        let action = if args.src == "-" { "upload" } else { "download" };
        if json(global) {
            let printer = Printer::new(output, true, false, &Cancel::new());
            let (src, dst) = (args.src.as_str(), args.dst.as_str());
            let fields = [
                ("event", "dryrun".into()),
                ("action", action.into()),
                ("source", src.into()),
                ("destination", dst.into()),
            ];
            printer.json_line(&fields);
            return printer.finish(&Summary::default(), false);
        }
        if !output.quiet && !output.only_show_errors {
            outln!("{}", printable(&format!("(dryrun) {action}: {} to {}", args.src, args.dst)))?;
        }
        return Ok(());
    }
    let tuning = args.transfer.tuning;
    match (args.src.as_str(), args.dst.as_str()) {
        ("-", _) if options.version_id.is_some() => {
            Err(Failure::input(anyhow!("--version-id names a version of an object in S3, not of standard input")))
        }
        ("-", dst) => from_stdin(global, &options, output, tuning, dst, &keys).await,
        (src, "-") => to_stdout(global, &literal_source(src, args.glob)?, options.version_id.as_deref(), &keys).await,
        (src, dst) => {
            let task = Task::copy_of((src, dst), options, keys, false)?;
            on_engine(global, tuning, output, task).await
        }
    }
}

/// `mv`: files and objects only, on the engine.
pub(super) async fn mv(global: &GlobalArgs, args: CopyArgs) -> Result<(), Failure> {
    if args.src == "-" || args.dst == "-" {
        return Err(Failure::input(anyhow!("mv moves files and objects, not standard input or output: use cp")));
    }
    let task = Task::copy(global, &args, true)?;
    on_engine(global, args.transfer.tuning, args.transfer.output, task).await
}

/// `sync`: the engine compares both sides and sends what differs.
pub(super) async fn sync(global: &GlobalArgs, args: SyncArgs) -> Result<(), Failure> {
    let task = Task::sync(global, &args)?;
    on_engine(global, args.transfer.tuning, args.transfer.output, task).await
}

/// `rm`: one key, or with `--recursive` everything under the folder.
pub(super) async fn rm(global: &GlobalArgs, args: RmArgs) -> Result<(), Failure> {
    let task = Task::remove(global, &args)?;
    let tuning = TuningArgs { concurrency: args.concurrency, part_size: None, listing: args.listing };
    on_engine(global, tuning, args.output, task).await
}

/// One task on an engine of its own: its events printed, then the summary and exit code.
async fn on_engine(global: &GlobalArgs, tuning: TuningArgs, output: OutputArgs, task: Task) -> Result<(), Failure> {
    let engine = Transfers::new(tuned_client(global, tuning)?);
    let cancel = interrupt_on_signal();
    let printer = Printer::new(output, json(global), task.recursive(), &cancel);
    let bulk = task.bulk();
    let summary = task.run(&engine, &printer, &cancel).await?;
    printer.finish(&summary, bulk)
}

/// Deletes every object of `bucket` (`rb --force`); when any is left, the summary is printed
/// and the error ends the command.
pub(super) async fn empty_bucket(s3: &S3Client, bucket: &str, json: bool) -> Result<(), Failure> {
    let cancel = interrupt_on_signal();
    let printer = Printer::new(OutputArgs::default(), json, true, &cancel);
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
    tuning: TuningArgs,
    dst: &str,
    keys: &SseKeys,
) -> Result<(), Failure> {
    let (bucket, key) = parse_s3(dst)?;
    if is_folder_key(&key) {
        return Err(Failure::input(anyhow!("{dst:?}: name the key to write standard input to")));
    }
    let s3 = keys.client(tuned_client(global, tuning)?);
    let cancel = interrupt_on_signal();
    let printer = Printer::new(output, json(global), false, &cancel);
    let mut put = options.put.clone();
    let sent = Arc::new(AtomicU64::new(0));
    put.if_none_match |= options.no_overwrite;
    let (bar, at) = (printer.bar().cloned(), sent.clone());
    put = put.with_progress(Arc::new(move |n| {
        at.store(n, Ordering::Relaxed);
        if let Some(bar) = &bar {
            bar.set_position(n);
        }
    }));
    match s3.upload_with_cancel(&bucket, &key, tokio::io::stdin(), &put, &cancel).await {
        Ok(_) => {}
        // Interrupted: the multipart upload is aborted (or the error says it could not be).
        Err(e) if cancel.is_cancelled() => {
            eprintln!("cirrus: {}", printable(&e.to_string()));
            return Err(Failure::silent(130));
        }
        // `--no-overwrite`: S3 kept the object the key has (`If-None-Match: *`).
        Err(e) if put.if_none_match && e.status() == Some(412) => {
            printer.finish(&Summary::default(), false)?;
            if !output.quiet && !output.only_show_errors {
                outln!("{}", printable(&format!("skip: -: s3://{bucket}/{key} exists, not overwritten")))?;
            }
            return Ok(());
        }
        Err(e) => return Err(Failure::from(e)),
    }
    let src = Location::Local("-".into());
    let done = Event::Done {
        action: Action::Upload,
        src,
        dst: Some(Location::s3(&bucket, &key)),
        bytes: sent.load(Ordering::Relaxed),
    };
    if printer.json() {
        printer.on(&done);
        let mut summary = Summary::default();
        (summary.done, summary.bytes) = (1, sent.load(Ordering::Relaxed));
        return printer.finish(&summary, false);
    }
    printer.finish(&Summary::default(), false)?;
    if !output.quiet && !output.only_show_errors {
        outln!("{}", printable(&done.to_string()))?;
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

/// `cp s3://... -`: one object, so a pattern is refused; an escaped key is the key it names.
fn literal_source(src: &str, glob: GlobArgs) -> Result<String, Failure> {
    if glob.no_glob {
        return Ok(src.to_owned());
    }
    if glob.is_pattern(src) {
        return Err(Failure::input(anyhow!(
            "{src:?} is a pattern; standard output takes one object (--no-glob for a key with wildcards)"
        )));
    }
    Ok(super::ls::unescaped(src))
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
