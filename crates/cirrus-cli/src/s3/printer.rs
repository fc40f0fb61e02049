//! The engine's events as the AWS CLI prints them (`upload: A to B` on stdout, failures and
//! warnings on stderr), or with `--output json` as one JSON object a line on stdout (the field
//! names below are a contract); a progress display on a terminal; and the summary and exit
//! code at the end.

use super::args::OutputArgs;
use crate::output::{json_object, printable};
use crate::Failure;
use cirrus::s3::transfer::{Action, Cancel, ErrorKind, Event, LeftBehind, Location, Summary, VersionEvent};
use cirrus::transport::Chain;
use serde_json::Value;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Prints the engine's events as the AWS CLI does (`upload: A to B` on stdout, failures and
/// warnings on stderr) or as JSON lines, keeps the progress display, and ends with the summary
/// and exit code. Clones share the display and what standard output has done; each may print
/// with its own flags (a line of `s3 run`).
#[derive(Clone)]
pub(super) struct Printer {
    output: OutputArgs,
    /// `--output json`: one JSON object a line on stdout.
    json: bool,
    shared: Arc<Shared>,
}

struct Shared {
    bar: Option<indicatif::ProgressBar>,
    done: AtomicU64,
    total: AtomicU64,
    /// Stops the engine when standard output closes (it cleans up as for an interrupt).
    cancel: Cancel,
    /// The reader of standard output went away: the command ends with 141.
    closed: AtomicBool,
}

impl Printer {
    pub(super) fn new(output: OutputArgs, json: bool, bulk: bool, cancel: &Cancel) -> Self {
        let bar = (!output.no_progress && !output.quiet && std::io::stderr().is_terminal()).then(|| {
            let template = if bulk {
                "{spinner} {msg} {binary_bytes} {binary_bytes_per_sec} {elapsed}"
            } else {
                "{spinner} {binary_bytes} {binary_bytes_per_sec} {elapsed}"
            };
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_style(
                indicatif::ProgressStyle::with_template(template)
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        let shared = Shared {
            bar,
            done: AtomicU64::new(0),
            total: AtomicU64::new(u64::MAX),
            cancel: cancel.clone(),
            closed: AtomicBool::new(false),
        };
        Printer { output, json, shared: Arc::new(shared) }
    }

    /// This printer with `output`'s flags added to its own (`--quiet` on a line of `s3 run`).
    pub(super) fn with_flags(&self, output: OutputArgs) -> Self {
        let o = self.output;
        let output = OutputArgs {
            quiet: o.quiet || output.quiet,
            only_show_errors: o.only_show_errors || output.only_show_errors,
            no_progress: o.no_progress || output.no_progress,
        };
        Printer { output, ..self.clone() }
    }

    /// Whether events are printed as JSON.
    pub(super) fn json(&self) -> bool {
        self.json
    }

    /// The progress display, when there is one (standard error is a terminal, and neither
    /// `--quiet` nor `--no-progress`).
    pub(super) fn bar(&self) -> Option<&indicatif::ProgressBar> {
        self.shared.bar.as_ref()
    }

    fn line(&self, to_stderr: bool, text: &str) {
        use std::io::Write;
        // Keys and server messages come from outside: no escape sequence reaches the terminal.
        let text = printable(text);
        let print = || {
            if to_stderr {
                let _ = writeln!(std::io::stderr(), "{text}");
            } else if !self.shared.closed.load(Ordering::Relaxed) {
                let mut out = std::io::stdout().lock();
                if let Err(e) = writeln!(out, "{text}").and_then(|()| out.flush()) {
                    // `cirrus s3 cp ... | head`: stop as for an interrupt (uploads aborted,
                    // temporary files removed), then exit 141.
                    if crate::output::is_closed_pipe(&e) && !self.shared.closed.swap(true, Ordering::Relaxed) {
                        self.shared.cancel.cancel();
                    }
                }
            }
        };
        match &self.shared.bar {
            Some(bar) => bar.suspend(print),
            None => print(),
        }
    }

    /// One JSON object, its fields in this order, on its line of stdout.
    pub(super) fn json_line(&self, fields: &[(&str, Value)]) {
        self.line(false, &json_object(fields));
    }

    fn update(&self) {
        if let Some(bar) = &self.shared.bar {
            let done = self.shared.done.load(Ordering::Relaxed);
            match self.shared.total.load(Ordering::Relaxed) {
                u64::MAX => bar.set_message(format!("{done} files")),
                total => bar.set_message(format!("{done}/{total} files")),
            }
        }
    }

    /// Prints `event`, or counts it on the progress display.
    pub(super) fn on(&self, event: &Event) {
        let o = &self.output;
        let shown = match event {
            Event::Done { .. } => {
                self.shared.done.fetch_add(1, Ordering::Relaxed);
                self.update();
                !o.quiet && !o.only_show_errors
            }
            Event::Failed { .. } => true,
            Event::DryRun { .. } | Event::Unverified { .. } | Event::Resumed { .. } => !o.quiet && !o.only_show_errors,
            // `--no-overwrite`: left alone on purpose, said as `upload:` lines are.
            Event::Skipped { reason, .. } if reason.is_already_exists() => !o.quiet && !o.only_show_errors,
            Event::Skipped { .. } => !o.quiet,
            Event::Bytes(n) => {
                if let Some(bar) = &self.shared.bar {
                    bar.inc(*n);
                }
                false
            }
            Event::Listed { objects, .. } => {
                self.shared.total.store(*objects, Ordering::Relaxed);
                self.update();
                false
            }
            _ => false,
        };
        if !shown {
            return;
        }
        if self.json {
            if let Some(value) = event_json(event) {
                self.json_line(&value);
            }
        } else {
            let to_stdout = match event {
                Event::Done { .. } | Event::DryRun { .. } => true,
                Event::Skipped { reason, .. } => reason.is_already_exists(),
                _ => false,
            };
            let to_stderr = !to_stdout;
            self.line(to_stderr, &event.to_string());
        }
    }

    /// Prints a version's event as [`on`](Self::on) prints the event it carries, the version
    /// named after the object (`delete: s3://b/k (version V)`; `version_id` in JSON).
    pub(super) fn on_version(&self, e: &VersionEvent) {
        let o = &self.output;
        let shown = match &e.event {
            Event::Done { .. } => {
                self.shared.done.fetch_add(1, Ordering::Relaxed);
                self.update();
                !o.quiet && !o.only_show_errors
            }
            Event::Failed { .. } => true,
            Event::DryRun { .. } => !o.quiet && !o.only_show_errors,
            other => return self.on(other),
        };
        if !shown {
            return;
        }
        if self.json {
            if let Some(mut fields) = event_json(&e.event) {
                fields.push(("version_id", e.version_id.clone().into()));
                self.json_line(&fields);
            }
        } else {
            self.line(matches!(e.event, Event::Failed { .. }), &e.to_string());
        }
    }

    /// The summary (for a bulk command, or when something went wrong; with JSON always, as
    /// the last line, whatever `--quiet` says) and the exit code: 141 standard output closed, 130
    /// interrupted, 1 anything failed or skipped, 0 otherwise.
    pub(super) fn finish(&self, summary: &Summary, bulk: bool) -> Result<(), Failure> {
        if let Some(bar) = &self.shared.bar {
            bar.finish_and_clear();
        }
        let o = &self.output;
        if self.json {
            for left in &summary.left_behind {
                self.json_line(&left_behind_json(left));
            }
            self.json_line(&summary_json(summary));
        } else {
            for left in &summary.left_behind {
                eprintln!("cirrus: {}", printable(&left.to_string()));
            }
            if bulk && !o.quiet && !(o.only_show_errors && summary.is_complete()) {
                eprintln!("cirrus: {summary}");
            }
            if summary.resumable > 0 {
                eprintln!("cirrus: {} upload(s) kept: run the same command with --resume to go on", summary.resumable);
            }
        }
        if self.shared.closed.load(Ordering::Relaxed) {
            Err(Failure::silent(141))
        } else if summary.interrupted {
            Err(Failure::silent(130))
        } else if !summary.is_complete() {
            Err(Failure::silent(1))
        } else {
            Ok(())
        }
    }
}

/// The name of what was done, in JSON: the AWS CLI's words.
fn action(a: Action) -> &'static str {
    a.as_str()
}

/// The kind of a failure, in JSON: `not_found`, `access_denied`, `throttled`, `corrupt`,
/// `changed`, `refused`, `io`, `service`, `transport`, `stopped` or `other`.
fn kind(k: ErrorKind) -> &'static str {
    match k {
        ErrorKind::NotFound => "not_found",
        ErrorKind::AccessDenied => "access_denied",
        ErrorKind::Throttled => "throttled",
        ErrorKind::Corrupt => "corrupt",
        ErrorKind::Changed => "changed",
        ErrorKind::Refused => "refused",
        ErrorKind::Io => "io",
        ErrorKind::Service => "service",
        ErrorKind::Transport => "transport",
        ErrorKind::Stopped => "stopped",
        ErrorKind::AlreadyExists => "already_exists",
        _ => "other",
    }
}

/// The fields of a JSON line, in order.
pub(super) type Fields = Vec<(&'static str, Value)>;

/// One event as the fields of its JSON line (README, "--output json"): `event` says which,
/// then `action`, `source`, `destination` (null for a delete), and `bytes`, `error`,
/// `error_kind` or `reason` as the event has them. None for what is not printed (progress).
pub(super) fn event_json(event: &Event) -> Option<Fields> {
    let at = |l: &Location| Value::from(l.to_string());
    let to = |l: &Option<Location>| l.as_ref().map_or(Value::Null, at);
    let error = |e: &cirrus::s3::transfer::Error| Value::from(Chain(e).to_string());
    Some(match event {
        Event::Done { action: a, src, dst, bytes } => vec![
            ("event", "done".into()),
            ("action", action(*a).into()),
            ("source", at(src)),
            ("destination", to(dst)),
            ("bytes", (*bytes).into()),
        ],
        Event::DryRun { action: a, src, dst } => {
            vec![
                ("event", "dryrun".into()),
                ("action", action(*a).into()),
                ("source", at(src)),
                ("destination", to(dst)),
            ]
        }
        Event::Failed { action: a, src, dst, error: e } => vec![
            ("event", "failed".into()),
            ("action", action(*a).into()),
            ("source", at(src)),
            ("destination", to(dst)),
            ("error", error(e)),
            ("error_kind", kind(e.kind()).into()),
        ],
        Event::Skipped { src, reason } => vec![
            ("event", "skipped".into()),
            ("source", at(src)),
            ("error", error(reason)),
            ("error_kind", kind(reason.kind()).into()),
        ],
        Event::Unverified { src, reason } => {
            vec![("event", "unverified".into()), ("source", at(src)), ("reason", reason.as_str().into())]
        }
        Event::Resumed { src, dst, parts, bytes } => vec![
            ("event", "resumed".into()),
            ("source", at(src)),
            ("destination", at(dst)),
            ("parts", (*parts).into()),
            ("bytes", (*bytes).into()),
        ],
        _ => return None,
    })
}

/// A multipart upload an abort could not remove, as the fields of its JSON line.
fn left_behind_json(left: &LeftBehind) -> Fields {
    vec![
        ("event", "left_behind".into()),
        ("destination", format!("s3://{}/{}", left.bucket, left.key).into()),
        ("upload_id", left.upload_id.as_str().into()),
        ("error", Chain(&left.error).to_string().into()),
    ]
}

/// The summary as the fields of its JSON line: the last line.
fn summary_json(s: &Summary) -> Fields {
    vec![
        ("event", "summary".into()),
        ("done", s.done.into()),
        ("failed", s.failed.into()),
        ("skipped", s.skipped.into()),
        ("bytes", s.bytes.into()),
        ("elapsed_seconds", ((s.elapsed.as_secs_f64() * 1000.0).round() / 1000.0).into()),
        ("verified", s.verified.into()),
        ("unverified", s.unverified.into()),
        ("left_behind", s.left_behind.len().into()),
        ("resumable", s.resumable.into()),
        ("not_overwritten", s.not_overwritten.into()),
        ("interrupted", s.interrupted.into()),
    ]
}

/// Adds `more` to `total`: the counts, the bytes and what was left behind (`s3 run`, whose
/// commands run at once, takes its own time).
pub(super) fn add_summary(total: &mut Summary, more: Summary) {
    total.done += more.done;
    total.failed += more.failed;
    total.skipped += more.skipped;
    total.bytes = total.bytes.saturating_add(more.bytes);
    total.interrupted |= more.interrupted;
    total.verified += more.verified;
    total.verified_by_checksum += more.verified_by_checksum;
    total.unverified += more.unverified;
    total.resumable += more.resumable;
    total.not_overwritten += more.not_overwritten;
    total.left_behind.extend(more.left_behind);
}
