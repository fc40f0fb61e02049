//! The engine's events as the AWS CLI prints them (`upload: A to B` on stdout, failures and
//! warnings on stderr), a progress display on a terminal, and the summary and exit code at the
//! end.

use super::args::OutputArgs;
use crate::output::printable;
use crate::Failure;
use cirrus::s3::transfer::{Cancel, Event, Summary, VersionEvent};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Prints the engine's events as the AWS CLI does (`upload: A to B` on stdout, failures and
/// warnings on stderr), keeps the progress display, and ends with the summary and exit code.
#[derive(Clone)]
pub(super) struct Printer(Arc<PrinterInner>);

struct PrinterInner {
    output: OutputArgs,
    bar: Option<indicatif::ProgressBar>,
    done: AtomicU64,
    total: AtomicU64,
    /// Stops the engine when standard output closes (it cleans up as for an interrupt).
    cancel: Cancel,
    /// The reader of standard output went away: the command ends with 141.
    closed: std::sync::atomic::AtomicBool,
}

impl Printer {
    pub(super) fn new(output: OutputArgs, bulk: bool, cancel: &Cancel) -> Self {
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
        Printer(Arc::new(PrinterInner {
            output,
            bar,
            done: AtomicU64::new(0),
            total: AtomicU64::new(u64::MAX),
            cancel: cancel.clone(),
            closed: std::sync::atomic::AtomicBool::new(false),
        }))
    }

    /// The progress display, when there is one (standard error is a terminal, and neither
    /// `--quiet` nor `--no-progress`).
    pub(super) fn bar(&self) -> Option<&indicatif::ProgressBar> {
        self.0.bar.as_ref()
    }

    fn line(&self, to_stderr: bool, text: &str) {
        use std::io::Write;
        // Keys and server messages come from outside: no escape sequence reaches the terminal.
        let text = printable(text);
        let print = || {
            if to_stderr {
                let _ = writeln!(std::io::stderr(), "{text}");
            } else if !self.0.closed.load(Ordering::Relaxed) {
                if let Err(e) = writeln!(std::io::stdout(), "{text}") {
                    // `cirrus s3 cp ... | head`: stop as for an interrupt (uploads aborted,
                    // temporary files removed), then exit 141.
                    if crate::output::is_closed_pipe(&e) && !self.0.closed.swap(true, Ordering::Relaxed) {
                        self.0.cancel.cancel();
                    }
                }
            }
        };
        match &self.0.bar {
            Some(bar) => bar.suspend(print),
            None => print(),
        }
    }

    fn update(&self) {
        if let Some(bar) = &self.0.bar {
            let done = self.0.done.load(Ordering::Relaxed);
            match self.0.total.load(Ordering::Relaxed) {
                u64::MAX => bar.set_message(format!("{done} files")),
                total => bar.set_message(format!("{done}/{total} files")),
            }
        }
    }

    /// Prints `event`, or counts it on the progress display.
    pub(super) fn on(&self, event: &Event) {
        let o = &self.0.output;
        match event {
            Event::Done { .. } => {
                self.0.done.fetch_add(1, Ordering::Relaxed);
                if !o.quiet && !o.only_show_errors {
                    self.line(false, &event.to_string());
                }
                self.update();
            }
            Event::Failed { .. } => self.line(true, &event.to_string()),
            Event::DryRun { .. } if !o.quiet && !o.only_show_errors => self.line(false, &event.to_string()),
            Event::Skipped { .. } if !o.quiet => self.line(true, &event.to_string()),
            Event::Unverified { .. } if !o.quiet && !o.only_show_errors => self.line(true, &event.to_string()),
            Event::Bytes(n) => {
                if let Some(bar) = &self.0.bar {
                    bar.inc(*n);
                }
            }
            Event::Listed { objects, .. } => {
                self.0.total.store(*objects, Ordering::Relaxed);
                self.update();
            }
            _ => {}
        }
    }

    /// Prints a version's event as [`on`](Self::on) prints the event it carries, the version
    /// named after the object (`delete: s3://b/k (version V)`).
    pub(super) fn on_version(&self, e: &VersionEvent) {
        let o = &self.0.output;
        match &e.event {
            Event::Done { .. } => {
                self.0.done.fetch_add(1, Ordering::Relaxed);
                if !o.quiet && !o.only_show_errors {
                    self.line(false, &e.to_string());
                }
                self.update();
            }
            Event::Failed { .. } => self.line(true, &e.to_string()),
            Event::DryRun { .. } if !o.quiet && !o.only_show_errors => self.line(false, &e.to_string()),
            other => self.on(other),
        }
    }

    /// The summary (for a bulk command, or when something went wrong) and the exit code: 130
    /// interrupted, 1 anything failed or skipped, 0 otherwise.
    pub(super) fn finish(&self, summary: &Summary, bulk: bool) -> Result<(), Failure> {
        if let Some(bar) = &self.0.bar {
            bar.finish_and_clear();
        }
        for left in &summary.left_behind {
            eprintln!("cirrus: {left}");
        }
        let o = &self.0.output;
        if bulk && !o.quiet && !(o.only_show_errors && summary.is_complete()) {
            eprintln!("cirrus: {summary}");
        }
        if self.0.closed.load(Ordering::Relaxed) {
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
