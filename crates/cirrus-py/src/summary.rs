//! What a transfer tells Python: `TransferEvent`s as it runs, a `TransferSummary` at the end.

use crate::show::py_str;
use cirrus::s3::transfer::{Event, Location, Summary};
use pyo3::prelude::*;

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<TransferSummary>()?;
    m.add_class::<TransferEvent>()?;
    Ok(())
}

/// What a transfer did.
#[pyclass(frozen, module = "cirrus_aws", name = "TransferSummary")]
pub(crate) struct TransferSummary {
    /// Objects done.
    #[pyo3(get)]
    done: u64,
    /// Objects that failed.
    #[pyo3(get)]
    failed: u64,
    /// Objects left out (a symlink not followed, a key that would escape the destination...).
    #[pyo3(get)]
    skipped: u64,
    /// Objects not sent because the destination had one (`no_overwrite`).
    #[pyo3(get)]
    not_overwritten: u64,
    /// Bytes of the objects done.
    #[pyo3(get)]
    bytes: u64,
    /// Seconds from start to end.
    #[pyo3(get)]
    elapsed: f64,
    /// Stopped before the end (Ctrl-C, a cancelled task).
    #[pyo3(get)]
    interrupted: bool,
    /// Downloads checked against a checksum or an MD5 ETag.
    #[pyo3(get)]
    verified: u64,
    /// Downloads with nothing to check them against.
    #[pyo3(get)]
    unverified: u64,
    /// Multipart uploads an abort could not remove.
    #[pyo3(get)]
    left_behind: u64,
    /// The line of each failure and skip, as the AWS CLI prints it.
    #[pyo3(get)]
    errors: Vec<String>,
    text: String,
}

#[pymethods]
impl TransferSummary {
    /// Nothing failed, skipped, interrupted or left behind.
    #[getter]
    fn ok(&self) -> bool {
        self.failed == 0 && self.skipped == 0 && !self.interrupted && self.left_behind == 0
    }

    fn __str__(&self) -> &str {
        &self.text
    }

    fn __repr__(&self) -> String {
        format!(
            "TransferSummary(done={}, failed={}, skipped={}, bytes={}, elapsed={:.3})",
            self.done, self.failed, self.skipped, self.bytes, self.elapsed
        )
    }
}

/// A finished transfer: its summary and the lines of what went wrong.
#[derive(Debug)]
pub(crate) struct Report {
    summary: Summary,
    errors: Vec<String>,
}

impl Report {
    pub(crate) fn new(summary: Summary, errors: Vec<String>) -> Self {
        Report { summary, errors }
    }

    /// Something failed, was interrupted or left behind (a skip alone is not a failure).
    pub(crate) fn is_failure(&self) -> bool {
        self.summary.failed > 0 || self.summary.interrupted || !self.summary.left_behind.is_empty()
    }
}

impl<'py> IntoPyObject<'py> for Report {
    type Target = TransferSummary;
    type Output = Bound<'py, TransferSummary>;
    type Error = PyErr;
    fn into_pyobject(self, py: Python<'py>) -> PyResult<Self::Output> {
        let s = &self.summary;
        let made = TransferSummary {
            done: s.done,
            failed: s.failed,
            skipped: s.skipped,
            not_overwritten: s.not_overwritten,
            bytes: s.bytes,
            elapsed: s.elapsed.as_secs_f64(),
            interrupted: s.interrupted,
            verified: s.verified,
            unverified: s.unverified,
            left_behind: s.left_behind.len() as u64,
            errors: self.errors,
            text: s.to_string(),
        };
        Bound::new(py, made)
    }
}

impl Report {
    pub(crate) fn summary_line(&self) -> String {
        match self.errors.first() {
            Some(first) => format!("{}; first: {first}", self.summary),
            None => self.summary.to_string(),
        }
    }
}

pub(crate) fn report_object(py: Python<'_>, report: Report) -> PyResult<Bound<'_, PyAny>> {
    Ok(report.into_pyobject(py)?.into_any())
}

/// One thing a running transfer tells: `kind` is `done`, `failed`, `skipped`, `bytes`,
/// `dryrun`, `listed`, `resumed` or `unverified`.
#[pyclass(frozen, module = "cirrus_aws", name = "TransferEvent")]
pub(crate) struct TransferEvent {
    #[pyo3(get)]
    kind: &'static str,
    /// `upload`, `download`, `copy`, `delete`, `move`, or None.
    #[pyo3(get)]
    action: Option<&'static str>,
    #[pyo3(get)]
    src: Option<String>,
    #[pyo3(get)]
    dst: Option<String>,
    /// The object's size (`done`), the bytes moved (`bytes`), or all to go (`listed`).
    #[pyo3(get)]
    bytes: u64,
    text: String,
}

#[pymethods]
impl TransferEvent {
    /// The AWS CLI's line: `upload: a.txt to s3://b/a.txt`.
    fn __str__(&self) -> &str {
        &self.text
    }

    fn __repr__(&self) -> String {
        format!("TransferEvent(kind={}, text={})", py_str(Some(self.kind)), py_str(Some(&self.text)))
    }
}

impl TransferEvent {
    pub(crate) fn of(event: &Event) -> Self {
        let text = event.to_string();
        let s = |l: &Location| Some(l.to_string());
        let (kind, action, src, dst, bytes) = match event {
            Event::Done { action, src, dst, bytes } => {
                ("done", Some(action.as_str()), s(src), dst.as_ref().and_then(s), *bytes)
            }
            Event::Failed { action, src, dst, .. } => {
                ("failed", Some(action.as_str()), s(src), dst.as_ref().and_then(s), 0)
            }
            Event::Skipped { src, .. } => ("skipped", None, s(src), None, 0),
            Event::Bytes(n) => ("bytes", None, None, None, *n),
            Event::DryRun { action, src, dst } => {
                ("dryrun", Some(action.as_str()), s(src), dst.as_ref().and_then(s), 0)
            }
            Event::Unverified { src, .. } => ("unverified", None, s(src), None, 0),
            Event::Resumed { src, dst, bytes, .. } => ("resumed", None, s(src), s(dst), *bytes),
            Event::Listed { bytes, .. } => ("listed", None, None, None, *bytes),
            _ => ("other", None, None, None, 0),
        };
        TransferEvent { kind, action, src, dst, bytes, text }
    }
}
