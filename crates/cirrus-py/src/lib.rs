//! `cirrus_aws._cirrus`: the native half of the `cirrus-aws` Python package (pyo3).
//!
//! The Python half (`python/cirrus_aws/`) holds the exceptions, the `requests` and httpx auth
//! classes and the re-exports; everything that signs, sends or moves bytes is here, over the
//! `cirrus` crate, on one tokio runtime (`runtime.rs`). Blocking methods let go of the GIL
//! while they wait; the `Async*` clients' methods return asyncio futures.

mod auth;
mod config;
mod errors;
mod runtime;
mod s3;
mod ses;
mod show;
mod sns;
mod sns_verify;
mod summary;
mod transfer;

use pyo3::prelude::*;

#[pymodule]
fn _cirrus(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    runtime::ensure_exit_hook(m.py())?;
    m.add_class::<config::PyConfig>()?;
    m.add_class::<config::PyCredentials>()?;
    m.add_class::<config::CognitoLogin>()?;
    s3::register(m)?;
    summary::register(m)?;
    // SES, SNS and SNS webhook verification.
    ses::register(m)?;
    sns::register(m)?;
    sns_verify::register(m)?;
    auth::register(m)?;
    Ok(())
}
