//! `s3 run FILE`: one s3 command a line (s5cmd's `run`). Every line is read with the clap
//! definitions of the commands themselves, all before anything runs (a bad line is exit 2,
//! naming it); then the commands run at once, up to the concurrency, on one client, one
//! connection pool and one budget of requests and memory, with one summary at the end.

use super::args::{OutputArgs, TuningArgs};
use super::printer::{add_summary, Printer};
use super::transfer::{interrupt_on_signal, Task};
use super::{json, tuned_client, S3Command};
use crate::{Failure, GlobalArgs};
use anyhow::anyhow;
use cirrus::s3::transfer::{Summary, Transfers};
use futures_util::StreamExt;
use std::path::PathBuf;

// What `run` takes.
#[derive(clap::Args, Debug)]
pub(crate) struct RunArgs {
    #[command(flatten)]
    output: OutputArgs,
    #[command(flatten)]
    tuning: TuningArgs,
    /// A file of commands, one a line (`cp a.txt s3://my-bucket/a.txt`); `-` reads standard input.
    file: PathBuf,
}

/// One line, read as the arguments of `cirrus s3`.
#[derive(clap::Parser, Debug)]
#[command(name = "s3", no_binary_name = true, disable_help_subcommand = true)]
struct Line {
    #[command(subcommand)]
    command: S3Command,
}

/// A line ready to run: its number and text, its own output flags, what it does.
struct Planned {
    number: usize,
    text: String,
    output: OutputArgs,
    task: Task,
}

/// The most a file of commands may hold: 64 MiB.
const MAX_FILE: usize = 64 << 20;

pub(super) async fn run(global: &GlobalArgs, args: RunArgs) -> Result<(), Failure> {
    let bytes = crate::read_limited("commands", &args.file, MAX_FILE)?;
    let name = match args.file.as_os_str() == "-" {
        true => "standard input".to_owned(),
        false => args.file.display().to_string(),
    };
    let text = String::from_utf8(bytes).map_err(|_| Failure::input(anyhow!("{name}: not UTF-8 text")))?;
    let lines = read_lines(global, &name, &text)?;
    let engine = Transfers::new(tuned_client(global, args.tuning)?);
    let cancel = interrupt_on_signal();
    let printer = Printer::new(args.output, json(global), true, &cancel);
    let at_once = engine.client().settings().concurrency.max(1);
    let start = std::time::Instant::now();
    let runs = futures_util::stream::iter(lines).map(|line| {
        let (engine, cancel, printer) = (&engine, &cancel, printer.with_flags(line.output));
        async move {
            // Stopped (an interrupt, standard output closed): what has not started never does.
            if cancel.is_cancelled() {
                let mut summary = Summary::default();
                summary.interrupted = true;
                return (line.number, line.text, Ok(summary));
            }
            (line.number, line.text, line.task.run(engine, &printer, cancel).await)
        }
    });
    let mut runs = std::pin::pin!(runs.buffer_unordered(at_once));
    let mut total = Summary::default();
    while let Some((number, text, result)) = runs.next().await {
        match result {
            Ok(summary) => add_summary(&mut total, summary),
            // Nothing of this line could start (a missing source, a bad bucket): one failure.
            Err(failure) => {
                total.failed += 1;
                let error = failure.error.map(|e| crate::failure::one_line(&e)).unwrap_or_default();
                if printer.json() {
                    let fields = [
                        ("event", "failed".into()),
                        ("line", number.into()),
                        ("command", text.into()),
                        ("error", error.into()),
                    ];
                    printer.json_line(&fields);
                } else {
                    eprintln!("cirrus: {name} line {number}: {}", crate::output::printable(&error));
                }
            }
        }
    }
    total.elapsed = start.elapsed();
    printer.finish(&total, true)
}

/// Every command of `text`, each line read as `cirrus s3` reads its arguments; the first bad
/// line is an error naming it (exit 2), before anything runs.
fn read_lines(global: &GlobalArgs, name: &str, text: &str) -> Result<Vec<Planned>, Failure> {
    let mut planned = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let number = i + 1;
        let bad = |msg: String| Failure::input(anyhow!("{name} line {number}: {msg}"));
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let words = shlex::split(line).ok_or_else(|| bad("a quote is not closed".to_owned()))?;
        if words.is_empty() {
            continue;
        }
        let (output, task) = read_line(global, &words).map_err(bad)?;
        planned.push(Planned { number, text: line.to_owned(), output, task });
    }
    Ok(planned)
}

/// One line's words as a command: its output flags and its task; or what is wrong with it.
fn read_line(global: &GlobalArgs, words: &[String]) -> Result<(OutputArgs, Task), String> {
    use clap::{CommandFactory, FromArgMatches};
    // clap's message on one line, without its usage and help lines.
    let clap_error = |e: clap::Error| {
        use clap::error::ErrorKind;
        if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
            return "--help and --version cannot run in `s3 run`".to_owned();
        }
        let text = e.to_string();
        let said: Vec<&str> =
            text.lines().map(str::trim).take_while(|l| !l.starts_with("Usage:")).filter(|l| !l.is_empty()).collect();
        let said = said.join(" ");
        said.strip_prefix("error: ").unwrap_or(&said).to_owned()
    };
    let matches = Line::command().try_get_matches_from(words).map_err(clap_error)?;
    let line = Line::from_arg_matches(&matches).map_err(clap_error)?;
    let mut global = global.clone();
    global.filters = super::ordered_filters(&matches);
    let failed = |f: Failure| f.error.map(|e| crate::failure::one_line(&e)).unwrap_or_default();
    let no_tuning = |t: &TuningArgs| match t.is_set() {
        true => Err("--concurrency, --part-size and --page-size go on `cirrus s3 run`, for every line".to_owned()),
        false => Ok(()),
    };
    match line.command {
        S3Command::Cp(args) | S3Command::Mv(args) if args.src == "-" || args.dst == "-" => {
            Err("standard input and output (`-`) cannot be used in `s3 run`".to_owned())
        }
        S3Command::Cp(args) => {
            no_tuning(&args.transfer.tuning)?;
            Ok((args.transfer.output, Task::copy(&global, &args, false).map_err(failed)?))
        }
        S3Command::Mv(args) => {
            no_tuning(&args.transfer.tuning)?;
            Ok((args.transfer.output, Task::copy(&global, &args, true).map_err(failed)?))
        }
        S3Command::Sync(args) => {
            no_tuning(&args.transfer.tuning)?;
            Ok((args.transfer.output, Task::sync(&global, &args).map_err(failed)?))
        }
        S3Command::Rm(args) => {
            if args.all_versions || args.version_id.is_some() {
                return Err("rm --version-id and --all-versions cannot run in `s3 run`: run them alone".to_owned());
            }
            if args.concurrency.is_some() || args.listing.page_size.is_some() {
                return Err("--concurrency and --page-size go on `cirrus s3 run`, for every line".to_owned());
            }
            Ok((args.output, Task::remove(&global, &args).map_err(failed)?))
        }
        _ => {
            let name = words.first().map(String::as_str).unwrap_or_default();
            Err(format!("`{name}` cannot run in `s3 run`: only cp, mv, rm and sync"))
        }
    }
}
