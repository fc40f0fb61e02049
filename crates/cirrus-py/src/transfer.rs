//! The transfer engine for Python: `cp`, `sync`, `mv` and `rm` on `s3://` URLs and local
//! paths, as the AWS CLI's commands of those names, each returning a `TransferSummary`.
//!
//! A progress callback gets every `TransferEvent` (an object done, failed or skipped, bytes
//! moved), called from the engine's threads with the GIL taken for the call. Ctrl-C during a
//! blocking call, or cancelling the asyncio task, stops the transfer through its `Cancel`:
//! multipart uploads are aborted and temporary files removed before the call returns.

use crate::errors::{value_error, Failure};
use crate::summary::{Report, TransferEvent};
use cirrus::s3::transfer::{Cancel, Event, Filters, Location, Rule, SyncOptions, TransferOptions, Transfers};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use std::sync::{Arc, Mutex, Once};

/// The keyword arguments of cp, sync, mv and rm, checked.
pub(crate) struct Flags {
    recursive: bool,
    delete: bool,
    dryrun: bool,
    size_only: bool,
    exact_timestamps: bool,
    checksum: bool,
    follow_symlinks: bool,
    no_overwrite: bool,
    filters: Filters,
    put: cirrus::s3::PutOptions,
    progress: Option<Py<PyAny>>,
    raise_on_failure: bool,
}

/// The keywords each command takes.
pub(crate) const COMMON: &[&str] = &["include", "exclude", "filters", "dryrun", "progress", "raise_on_failure"];
pub(crate) const WRITES: &[&str] = &["follow_symlinks", "no_overwrite", "content_type", "metadata", "storage_class"];

fn patterns(value: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<String>> {
    if let Ok(one) = value.extract::<String>() {
        return Ok(vec![one]);
    }
    value.extract::<Vec<String>>().map_err(|_| value_error(format!("{what} must be a pattern or a list of patterns")))
}

impl Flags {
    pub(crate) fn parse(command: &str, kwargs: Option<&Bound<'_, PyDict>>, takes: &[&[&str]]) -> PyResult<Flags> {
        let mut f = Flags {
            recursive: false,
            delete: false,
            dryrun: false,
            size_only: false,
            exact_timestamps: false,
            checksum: false,
            follow_symlinks: true,
            no_overwrite: false,
            filters: Filters::default(),
            put: cirrus::s3::PutOptions::default(),
            progress: None,
            raise_on_failure: true,
        };
        let Some(kwargs) = kwargs else { return Ok(f) };
        let (mut excludes, mut includes, mut metadata) = (Vec::new(), Vec::new(), None);
        for (k, v) in kwargs.iter() {
            let key: String = k.extract()?;
            if !takes.iter().any(|set| set.contains(&key.as_str())) {
                return Err(PyTypeError::new_err(format!("{command}() got an unexpected keyword argument {key:?}")));
            }
            let flag = || v.is_truthy();
            match key.as_str() {
                "recursive" => f.recursive = flag()?,
                "delete" => f.delete = flag()?,
                "dryrun" => f.dryrun = flag()?,
                "size_only" => f.size_only = flag()?,
                "exact_timestamps" => f.exact_timestamps = flag()?,
                "checksum" => f.checksum = flag()?,
                "follow_symlinks" => f.follow_symlinks = flag()?,
                "no_overwrite" => f.no_overwrite = flag()?,
                "raise_on_failure" => f.raise_on_failure = flag()?,
                "include" => includes = patterns(&v, "include")?,
                "exclude" => excludes = patterns(&v, "exclude")?,
                "filters" => {
                    let rules: Vec<(String, String)> = v.extract().map_err(|_| {
                        value_error("filters must be a list of (\"include\" or \"exclude\", pattern) pairs")
                    })?;
                    for (rule, pattern) in rules {
                        let rule = match rule.as_str() {
                            "include" => Rule::Include,
                            "exclude" => Rule::Exclude,
                            other => {
                                return Err(value_error(format!("filter rule {other:?} is not include or exclude")))
                            }
                        };
                        f.filters.push(rule, pattern);
                    }
                }
                "content_type" => f.put.content_type = v.extract()?,
                "storage_class" => f.put.storage_class = v.extract()?,
                "metadata" => metadata = Some(v.clone()),
                "progress" => f.progress = (!v.is_none()).then(|| v.clone().unbind()),
                _ => unreachable!("every key taken is matched above"),
            }
        }
        // As the AWS CLI applies `--exclude '*' --include '*.txt'`: the later rule wins.
        for p in excludes {
            f.filters.push(Rule::Exclude, p);
        }
        for p in includes {
            f.filters.push(Rule::Include, p);
        }
        if let Some(m) = metadata {
            let m = m.cast::<PyDict>().map_err(|_| value_error("metadata must be a dict of str to str"))?;
            for (k, v) in m.iter() {
                f.put.metadata.push((k.extract()?, v.extract()?));
            }
        }
        Ok(f)
    }

    fn transfer_options(&self) -> TransferOptions {
        let base = if self.recursive { TransferOptions::recursive() } else { TransferOptions::default() };
        base.with_follow_symlinks(self.follow_symlinks)
            .with_filters(self.filters.clone())
            .with_put_options(self.put.clone())
            .with_dryrun(self.dryrun)
            .with_no_overwrite(self.no_overwrite)
    }
}

pub(crate) fn location(value: &Bound<'_, PyAny>) -> PyResult<Location> {
    let text = match value.cast::<PyString>() {
        Ok(s) => s.to_str()?.to_owned(),
        Err(_) => {
            let path = value.py().import("os")?.getattr("fspath")?.call1((value,))?;
            path.extract::<String>().map_err(|_| value_error("a location is an s3:// URL or a path"))?
        }
    };
    Location::parse(&text).map_err(|e| Failure::Call(e).into_py_err(value.py()))
}

#[derive(Clone, Copy)]
pub(crate) enum Command {
    Cp,
    Sync,
    Mv,
    Rm,
}

/// The work of one command, with the observer that feeds the callback and collects failures.
pub(crate) fn run(
    s3: cirrus::s3::S3Client,
    py: Python<'_>,
    command: Command,
    src: Location,
    dst: Option<Location>,
    flags: Flags,
    cancel: Cancel,
) -> PyResult<impl std::future::Future<Output = Result<Report, Failure>> + Send + 'static> {
    static RAISE_LIMIT: Once = Once::new();
    RAISE_LIMIT.call_once(|| {
        let _ = cirrus::s3::transfer::raise_open_file_limit();
    });
    let errors = Arc::new(Mutex::new((Vec::new(), None)));
    let seen = errors.clone();
    let callback = flags.progress.as_ref().map(|c| Arc::new(c.clone_ref(py)));
    let observer = move |event: &Event| {
        if let Event::Failed { error, .. } | Event::Skipped { reason: error, .. } = event {
            let mut seen = seen.lock().unwrap_or_else(|e| e.into_inner());
            seen.0.push(event.to_string());
            if matches!(event, Event::Failed { .. }) && seen.1.is_none() {
                seen.1 = Some(error.clone());
            }
        }
        if let Some(callback) = &callback {
            // From a runtime thread: not once the interpreter is exiting (see runtime.rs).
            crate::runtime::attach_unless_exiting(|py| {
                if let Err(e) = callback.call1(py, (TransferEvent::of(event),)) {
                    e.write_unraisable(py, None);
                }
            });
        }
    };
    let raise = flags.raise_on_failure;
    let single = !flags.recursive && !matches!(command, Command::Sync);
    Ok(async move {
        let engine = Transfers::new(s3);
        let options = flags.transfer_options();
        let summary = match (command, dst) {
            (Command::Cp, Some(dst)) => engine.copy(&src, &dst, &options, observer, &cancel).await?,
            (Command::Mv, Some(dst)) => engine.mv(&src, &dst, &options, observer, &cancel).await?,
            (Command::Sync, Some(dst)) => {
                let mut sync = SyncOptions::default().with_transfer(options).with_delete(flags.delete);
                sync = sync.with_dryrun(flags.dryrun).with_checksum(flags.checksum);
                sync.size_only = flags.size_only;
                sync.exact_timestamps = flags.exact_timestamps;
                engine.sync(&src, &dst, &sync, observer, &cancel).await?
            }
            (_, _) => engine.remove(&src, &options, observer, &cancel).await?,
        };
        let (errors, first) = std::mem::take(&mut *errors.lock().unwrap_or_else(|e| e.into_inner()));
        // One object that failed raises its own error (NotFoundError...), as boto3's calls do.
        if let (true, true, 0, Some(first)) = (raise, single, summary.done, first) {
            return Err(Failure::Transfer(first));
        }
        let report = Report::new(summary, errors);
        let failed = report.is_failure();
        if raise && failed {
            return Err(Failure::Incomplete(Box::new(report)));
        }
        Ok(report)
    })
}

pub(crate) const CP: &[&str] = &["recursive"];
pub(crate) const SYNC: &[&str] = &["delete", "size_only", "exact_timestamps", "checksum"];
pub(crate) const RM: &[&str] = &["recursive"];
