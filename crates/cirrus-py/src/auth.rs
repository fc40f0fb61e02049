//! `sign_headers`: the SigV4 headers for a request that another HTTP client sends (requests,
//! httpx), and `config_credentials` for the async auth flow. The native half of
//! `cirrus_aws.auth`, over `cirrus::sigv4`.
//!
//! Signing is called once per request, so it stays on the calling thread with the GIL held
//! (letting go of the GIL costs more than a signature). Credentials from a `Config` come from
//! its cache: a fresh entry is read at once, with no task and no network call; only a refresh
//! waits, without the GIL and hearing Ctrl-C (`sign_headers`), or as an asyncio future
//! (`config_credentials`).

use crate::config::{system_time, PyConfig, PyCredentials};
use crate::errors::Failure;
use crate::runtime::{runtime, to_asyncio};
use cirrus::sigv4::{sign, Payload, SignableRequest, SigningParams, SigningSettings};
use cirrus::CredentialsError;
use futures_util::FutureExt;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple};
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, SystemTime};
use tokio::runtime::Runtime;

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(sign_headers, m)?)?;
    m.add_function(wrap_pyfunction!(config_credentials, m)?)
}

/// The headers SigV4 adds to a request: `Authorization`, `X-Amz-Date`, and when they apply
/// `X-Amz-Security-Token` and (S3) `X-Amz-Content-SHA256`. Each replaces any header of that
/// name; the request itself is not touched.
///
/// `url` is the URL as it is sent (path and query already percent-encoded, as requests and
/// httpx have them); `headers` a mapping or `(name, value)` pairs (every one is signed but the
/// few that proxies change); `Host` is the URL's authority, default port left out, unless
/// `headers` has one. The body is `body` (bytes or str, UTF-8), or, when `payload_hash` is
/// given (then `body` must be None), that SHA-256 in hex or `UNSIGNED-PAYLOAD`.
#[pyfunction]
#[pyo3(signature = (method, url, headers, body, region, service, credentials, *, payload_hash=None, time=None))]
#[allow(clippy::too_many_arguments)]
fn sign_headers<'py>(
    py: Python<'py>,
    method: &str,
    url: &str,
    headers: &Bound<'py, PyAny>,
    body: Option<&Bound<'py, PyAny>>,
    region: &str,
    service: &str,
    credentials: &Bound<'py, PyAny>,
    payload_hash: Option<&str>,
    time: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    if region.is_empty() || service.is_empty() {
        return Err(input(py, "cannot sign: region and service must not be empty".into()));
    }
    let mut pairs = header_pairs(headers)?;
    if !pairs.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
        if let Some(host) = wire_host(url) {
            pairs.push(("host".to_owned(), host.to_owned()));
        }
    }
    let body_text;
    let payload = match (payload_hash, body) {
        (Some(_), Some(b)) if !b.is_none() => {
            return Err(input(py, "cannot sign: give a body or a payload_hash, not both".into()))
        }
        (Some(hash), _) => payload_of_hash(py, hash)?,
        (None, None) => Payload::Bytes(b""),
        (None, Some(b)) if b.is_none() => Payload::Bytes(b""),
        (None, Some(b)) => {
            if let Ok(bytes) = b.cast::<PyBytes>() {
                Payload::Bytes(bytes.as_bytes())
            } else if let Ok(text) = b.cast::<PyString>() {
                body_text = text.to_cow()?;
                Payload::Bytes(body_text.as_bytes())
            } else {
                return Err(PyTypeError::new_err("body must be bytes, str or None"));
            }
        }
    };
    let now = match time {
        Some(t) => system_time(t)?,
        None => SystemTime::now(),
    };
    let creds = credentials_of(py, credentials)?;
    let request = SignableRequest::new(method, url, pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())), payload)
        .map_err(|e| input(py, format!("cannot sign the {method} request: {e}")))?;
    let params = SigningParams::new(creds.access_key_id(), creds.secret_access_key(), region, service, now)
        .session_token(creds.session_token())
        .settings(SigningSettings::for_service(service));
    let out = sign(&request, &params).map_err(|e| input(py, format!("cannot sign the {method} request: {e}")))?;
    let added = PyDict::new(py);
    for (name, value) in out.headers() {
        added.set_item(name, value)?;
    }
    Ok(added)
}

fn input(py: Python<'_>, message: String) -> PyErr {
    Failure::Input(message).into_py_err(py)
}

fn payload_of_hash<'a>(py: Python<'_>, hash: &'a str) -> PyResult<Payload<'a>> {
    if hash == "UNSIGNED-PAYLOAD" {
        Ok(Payload::Unsigned)
    } else if hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        Ok(Payload::Precomputed(hash))
    } else {
        Err(input(py, "payload_hash must be a SHA-256 in lowercase hex, or UNSIGNED-PAYLOAD".into()))
    }
}

/// `(name, value)` pairs from a dict, anything with `.items()` (requests' headers), or a
/// sequence of pairs (httpx's `multi_items()`). Values are str, or bytes holding UTF-8.
fn header_pairs(headers: &Bound<'_, PyAny>) -> PyResult<Vec<(String, String)>> {
    let bad = || PyTypeError::new_err("headers must be a mapping of str to str, or (name, value) pairs");
    let mut out = Vec::with_capacity(12);
    if let Ok(dict) = headers.cast::<PyDict>() {
        for (name, value) in dict.iter() {
            out.push((text(&name).ok_or_else(bad)?, text(&value).ok_or_else(bad)?));
        }
        return Ok(out);
    }
    // A list or tuple of pairs needs no `.items()` (asking for it would raise and catch).
    let sequence = headers.is_instance_of::<PyList>() || headers.is_instance_of::<PyTuple>();
    let items = if !sequence && headers.hasattr("items")? { headers.call_method0("items")? } else { headers.clone() };
    for item in items.try_iter()? {
        let (name, value): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item?.extract().map_err(|_| bad())?;
        out.push((text(&name).ok_or_else(bad)?, text(&value).ok_or_else(bad)?));
    }
    Ok(out)
}

fn text(value: &Bound<'_, PyAny>) -> Option<String> {
    if let Ok(s) = value.cast::<PyString>() {
        return s.to_cow().ok().map(|c| c.into_owned());
    }
    let bytes = value.cast::<PyBytes>().ok()?;
    String::from_utf8(bytes.as_bytes().to_vec()).ok()
}

/// The `Host` an HTTP client sends for `url`: its authority without user info, and without the
/// port when it is the scheme's default (`:443` for https, `:80` for http).
fn wire_host(url: &str) -> Option<&str> {
    let (scheme, rest) = url.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = rest[..end].rsplit('@').next().unwrap_or_default();
    let default_port = if scheme.eq_ignore_ascii_case("https") {
        ":443"
    } else if scheme.eq_ignore_ascii_case("http") {
        ":80"
    } else {
        return Some(authority).filter(|a| !a.is_empty());
    };
    Some(authority.strip_suffix(default_port).unwrap_or(authority)).filter(|a| !a.is_empty())
}

/// The credentials to sign with: a `Credentials` as they are, or a `Config`'s, from its cache
/// (a refresh is waited for here).
fn credentials_of(py: Python<'_>, credentials: &Bound<'_, PyAny>) -> PyResult<cirrus::Credentials> {
    if let Ok(c) = credentials.cast::<PyCredentials>() {
        return Ok(c.get().inner.clone());
    }
    let Ok(config) = credentials.cast::<PyConfig>() else {
        return Err(PyTypeError::new_err("credentials must be cirrus_aws.Credentials or cirrus_aws.Config"));
    };
    let rt = runtime();
    let result = match ask(py, config.get(), &rt)? {
        Asked::Ready(result) => result,
        Asked::Pending(pending) => wait_here(py, &rt, pending)?,
    };
    result.map_err(|e| Failure::Credentials(e).into_py_err(py))
}

/// A `Config`'s credentials for an async client: `Credentials` at once when its cache holds
/// fresh ones, otherwise an asyncio future of them (the refresh runs on the runtime while the
/// caller's event loop goes on).
#[pyfunction]
fn config_credentials<'py>(py: Python<'py>, config: &Bound<'py, PyConfig>) -> PyResult<Bound<'py, PyAny>> {
    let rt = runtime();
    match ask(py, config.get(), &rt)? {
        Asked::Ready(result) => {
            let inner = result.map_err(|e| Failure::Credentials(e).into_py_err(py))?;
            Ok(Bound::new(py, PyCredentials { inner })?.into_any())
        }
        Asked::Pending(pending) => to_asyncio(
            py,
            async move { pending.await.map(|inner| PyCredentials { inner }).map_err(Failure::Credentials) },
            None,
        ),
    }
}

type Fetch = Pin<Box<dyn Future<Output = Result<cirrus::Credentials, CredentialsError>> + Send>>;

/// What a provider said when asked once: its answer, or the fetch still under way (the same
/// one, to be driven to its end: a source is never asked twice for one signature).
enum Asked {
    Ready(Result<cirrus::Credentials, CredentialsError>),
    Pending(Fetch),
}

fn ask(py: Python<'_>, config: &PyConfig, rt: &Runtime) -> PyResult<Asked> {
    let loaded = config.load().map_err(|f| f.into_py_err(py))?;
    let Some(provider) = loaded.credentials().cloned() else {
        let none = CredentialsError::not_configured("this Config signs nothing (signed=False)");
        return Err(Failure::Credentials(none).into_py_err(py));
    };
    // A provider may start a task or a timer when asked: both need the runtime's context.
    let _context = rt.enter();
    let mut fetch: Fetch = Box::pin(async move { provider.provide_credentials().await });
    Ok(match (&mut fetch).now_or_never() {
        Some(result) => Asked::Ready(result),
        None => Asked::Pending(fetch),
    })
}

/// How often a wait for a credentials refresh looks for a signal (Ctrl-C) to hand to Python.
const SIGNAL_CHECK: Duration = Duration::from_millis(50);

/// Drives `fut` (already polled once) to its end on this thread without the GIL, raising a
/// signal's exception (`KeyboardInterrupt`) if one comes first.
fn wait_here<F>(py: Python<'_>, rt: &Runtime, mut fut: F) -> PyResult<F::Output>
where
    F: Future + Unpin + Send,
    F::Output: Send,
{
    loop {
        let step = py.detach(|| rt.block_on(async { tokio::time::timeout(SIGNAL_CHECK, &mut fut).await }));
        if let Ok(out) = step {
            return Ok(out);
        }
        py.check_signals()?;
    }
}
