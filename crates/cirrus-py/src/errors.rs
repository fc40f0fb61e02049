//! cirrus's errors as the Python exceptions of `cirrus_aws.errors`.
//!
//! The exception classes are Python classes (`NotFoundError` is both a `ServiceError` and a
//! `FileNotFoundError`, which a native class cannot be); a `Failure` is what the Rust side
//! carries until it holds the GIL again, and becomes an instance of one of them there. Every
//! message is the error's `Display` with its causes (`transport::report`), which never holds a
//! secret.

use cirrus::config::ConfigError;
use cirrus::s3::transfer::{self, ErrorKind};
use cirrus::CredentialsError;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// Why an operation failed, until the GIL is held again.
#[derive(Debug)]
pub(crate) enum Failure {
    /// An AWS call.
    Call(cirrus::Error),
    /// One object of the transfer engine (or `download_file`).
    Transfer(transfer::Error),
    /// A whole transfer that did not do everything.
    Incomplete(Box<crate::summary::Report>),
    Credentials(CredentialsError),
    Config(ConfigError),
    /// An argument refused before anything was sent.
    Input(String),
    /// Raised by Python code cirrus called (a credentials callable, a progress callback).
    Python(PyErr),
}

impl From<cirrus::Error> for Failure {
    fn from(e: cirrus::Error) -> Self {
        Failure::Call(e)
    }
}

impl From<transfer::Error> for Failure {
    fn from(e: transfer::Error) -> Self {
        Failure::Transfer(e)
    }
}

impl From<ConfigError> for Failure {
    fn from(e: ConfigError) -> Self {
        Failure::Config(e)
    }
}

impl From<CredentialsError> for Failure {
    fn from(e: CredentialsError) -> Self {
        Failure::Credentials(e)
    }
}

impl From<PyErr> for Failure {
    fn from(e: PyErr) -> Self {
        Failure::Python(e)
    }
}

fn raise(py: Python<'_>, class: &str, message: String, kwargs: Option<&Bound<'_, PyDict>>) -> PyErr {
    let made = py.import("cirrus_aws.errors").and_then(|m| m.getattr(class)).and_then(|c| c.call((message,), kwargs));
    match made {
        Ok(instance) => PyErr::from_value(instance),
        Err(e) => e,
    }
}

/// The class of a failed AWS call: the common cases have their own.
fn call_class(e: &cirrus::Error) -> &'static str {
    if e.credentials_error().is_some() {
        "CredentialsError"
    } else if e.is_input() {
        "ParamValidationError"
    } else if e.is_not_found() {
        "NotFoundError"
    } else if e.is_access_denied() || e.status() == Some(403) {
        "AccessDeniedError"
    } else if e.is_throttling() {
        "ThrottlingError"
    } else {
        "ServiceError"
    }
}

fn call_error(py: Python<'_>, class: &str, message: String, e: &cirrus::Error) -> PyErr {
    if matches!(class, "CredentialsError" | "ParamValidationError") {
        return raise(py, class, message, None);
    }
    let kwargs = PyDict::new(py);
    let set = || -> PyResult<()> {
        kwargs.set_item("service", e.service_name())?;
        kwargs.set_item("operation", e.operation())?;
        kwargs.set_item("status", e.status())?;
        kwargs.set_item("code", e.code())?;
        kwargs.set_item("error_message", e.message())?;
        kwargs.set_item("request_id", e.request_id())?;
        kwargs.set_item("attempts", e.attempts())?;
        Ok(())
    };
    if let Err(err) = set() {
        return err;
    }
    raise(py, class, message, Some(&kwargs))
}

impl Failure {
    pub(crate) fn into_py_err(self, py: Python<'_>) -> PyErr {
        match self {
            Failure::Call(e) => {
                let message = cirrus::transport::report(&e);
                call_error(py, call_class(&e), message, &e)
            }
            Failure::Transfer(e) => transfer_error(py, e),
            Failure::Incomplete(report) => {
                let message = format!("the transfer did not do everything: {}", report.summary_line());
                let made = crate::summary::report_object(py, *report).and_then(|s| {
                    let kwargs = PyDict::new(py);
                    kwargs.set_item("summary", s)?;
                    Ok(kwargs)
                });
                match made {
                    Ok(kwargs) => raise(py, "TransferError", message, Some(&kwargs)),
                    Err(e) => e,
                }
            }
            Failure::Credentials(e) => raise(py, "CredentialsError", cirrus::transport::report(&e), None),
            Failure::Config(e) => raise(py, "ConfigError", cirrus::transport::report(&e), None),
            Failure::Input(message) => raise(py, "ParamValidationError", message, None),
            Failure::Python(e) => e,
        }
    }
}

fn transfer_error(py: Python<'_>, e: transfer::Error) -> PyErr {
    let message = cirrus::transport::report(&e);
    if let Some(call) = e.call_error() {
        let class = match e.kind() {
            ErrorKind::NotFound => "NotFoundError",
            ErrorKind::AccessDenied => "AccessDeniedError",
            _ => call_class(call),
        };
        return call_error(py, class, message, call);
    }
    let class = match e.kind() {
        ErrorKind::NotFound => "NotFoundError",
        ErrorKind::AccessDenied => "AccessDeniedError",
        ErrorKind::Refused => "ParamValidationError",
        _ => "CirrusError",
    };
    raise(py, class, message, None)
}

/// A `ValueError` for an argument refused on the Python side.
pub(crate) fn value_error(message: impl Into<String>) -> PyErr {
    PyValueError::new_err(message.into())
}
