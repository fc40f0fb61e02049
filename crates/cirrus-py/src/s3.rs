//! `S3Client` and `AsyncS3Client`: the same methods, one blocking (the GIL let go while it
//! waits), one returning asyncio futures. Each method's work is one async function here,
//! called by both.

use crate::config::{PerProcess, PyConfig};
use crate::errors::{value_error, Failure};
use crate::runtime::{block_on, to_asyncio, Stop};
use crate::show::py_str;
use cirrus::s3::{ListOptions, Object, ObjectInfo, PostOptions, PresignOptions, PutOptions, S3Client};
use pyo3::exceptions::{PyStopAsyncIteration, PyStopIteration};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use pyo3::BoundObject;
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyS3Client>()?;
    m.add_class::<AsyncS3Client>()?;
    m.add_class::<PyObject>()?;
    m.add_class::<PyObjectInfo>()?;
    m.add_class::<ObjectIterator>()?;
    m.add_class::<AsyncObjectIterator>()?;
    Ok(())
}

/// What both clients hold: the config, and the Rust client made from it once per process.
pub(crate) struct Shared {
    pub(crate) config: Py<PyConfig>,
    client: PerProcess<S3Client>,
}

impl Shared {
    fn new(config: Py<PyConfig>) -> Self {
        Shared { config, client: PerProcess::default() }
    }

    pub(crate) fn client(&self) -> Result<S3Client, Failure> {
        self.client.get_or_try(|| Ok(S3Client::from_config(&self.config.get().load()?)?))
    }
}

fn datetime(py: Python<'_>, t: Option<SystemTime>) -> PyResult<Option<Bound<'_, PyAny>>> {
    let Some(t) = t else { return Ok(None) };
    let seconds = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs_f64(),
        Err(e) => -e.duration().as_secs_f64(),
    };
    let dt = py.import("datetime")?;
    let utc = dt.getattr("timezone")?.getattr("utc")?;
    Ok(Some(dt.getattr("datetime")?.call_method1("fromtimestamp", (seconds, utc))?))
}

/// An object as a listing gives it.
#[pyclass(frozen, module = "cirrus_aws", name = "Object")]
pub(crate) struct PyObject {
    #[pyo3(get)]
    key: String,
    #[pyo3(get)]
    size: u64,
    #[pyo3(get)]
    etag: Option<String>,
    #[pyo3(get)]
    storage_class: Option<String>,
    modified: Option<SystemTime>,
}

impl From<Object> for PyObject {
    fn from(o: Object) -> Self {
        PyObject { key: o.key, size: o.size, etag: o.etag, storage_class: o.storage_class, modified: o.last_modified }
    }
}

#[pymethods]
impl PyObject {
    /// When it was last written (an aware datetime, UTC).
    #[getter]
    fn last_modified<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        datetime(py, self.modified)
    }

    fn __repr__(&self) -> String {
        format!("Object(key={}, size={}, etag={})", py_str(Some(&self.key)), self.size, py_str(self.etag.as_deref()))
    }
}

/// What HEAD says of an object.
#[pyclass(frozen, module = "cirrus_aws", name = "ObjectInfo")]
pub(crate) struct PyObjectInfo {
    #[pyo3(get)]
    size: u64,
    #[pyo3(get)]
    content_type: Option<String>,
    #[pyo3(get)]
    etag: Option<String>,
    #[pyo3(get)]
    version_id: Option<String>,
    #[pyo3(get)]
    storage_class: Option<String>,
    #[pyo3(get)]
    cache_control: Option<String>,
    #[pyo3(get)]
    content_encoding: Option<String>,
    #[pyo3(get)]
    content_disposition: Option<String>,
    metadata: Vec<(String, String)>,
    modified: Option<SystemTime>,
}

impl From<ObjectInfo> for PyObjectInfo {
    fn from(i: ObjectInfo) -> Self {
        PyObjectInfo {
            size: i.content_length,
            content_type: i.content_type,
            etag: i.etag,
            version_id: i.version_id,
            storage_class: i.storage_class,
            cache_control: i.cache_control,
            content_encoding: i.content_encoding,
            content_disposition: i.content_disposition,
            metadata: i.metadata,
            modified: i.last_modified,
        }
    }
}

#[pymethods]
impl PyObjectInfo {
    #[getter]
    fn last_modified<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        datetime(py, self.modified)
    }

    /// `x-amz-meta-*` headers, without the prefix.
    #[getter]
    fn metadata<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (k, v) in &self.metadata {
            d.set_item(k, v)?;
        }
        Ok(d)
    }

    /// boto3's name for the size.
    #[getter]
    fn content_length(&self) -> u64 {
        self.size
    }

    fn __repr__(&self) -> String {
        format!(
            "ObjectInfo(size={}, etag={}, content_type={})",
            self.size,
            py_str(self.etag.as_deref()),
            py_str(self.content_type.as_deref())
        )
    }
}

/// Bytes for Python (`bytes`, not a list of ints).
pub(crate) struct Body(bytes::Bytes);

impl<'py> IntoPyObject<'py> for Body {
    type Target = PyBytes;
    type Output = Bound<'py, PyBytes>;
    type Error = std::convert::Infallible;
    fn into_pyobject(self, py: Python<'py>) -> Result<Self::Output, Self::Error> {
        Ok(PyBytes::new(py, &self.0))
    }
}

/// A PUT's answer.
pub(crate) struct Put(cirrus::s3::PutOutput);

impl<'py> IntoPyObject<'py> for Put {
    type Target = PyDict;
    type Output = Bound<'py, PyDict>;
    type Error = PyErr;
    fn into_pyobject(self, py: Python<'py>) -> PyResult<Self::Output> {
        let d = PyDict::new(py);
        d.set_item("etag", self.0.etag)?;
        d.set_item("version_id", self.0.version_id)?;
        d.set_item("checksum", self.0.checksum.map(|c| format!("{}:{}", c.algorithm.as_str(), c.value)))?;
        Ok(d)
    }
}

/// A presigned POST form: `{"url": ..., "fields": {...}}`, as boto3 returns it.
pub(crate) struct Form(cirrus::s3::PostForm);

impl<'py> IntoPyObject<'py> for Form {
    type Target = PyDict;
    type Output = Bound<'py, PyDict>;
    type Error = PyErr;
    fn into_pyobject(self, py: Python<'py>) -> PyResult<Self::Output> {
        let fields = PyDict::new(py);
        for (k, v) in &self.0.fields {
            fields.set_item(k, v)?;
        }
        let d = PyDict::new(py);
        d.set_item("url", &self.0.url)?;
        d.set_item("fields", fields)?;
        Ok(d)
    }
}

/// The headers of objects written, from keyword arguments.
pub(crate) fn put_options(
    content_type: Option<String>,
    metadata: Option<&Bound<'_, PyDict>>,
    storage_class: Option<String>,
) -> PyResult<PutOptions> {
    let mut put = PutOptions::default();
    put.content_type = content_type;
    put.storage_class = storage_class;
    if let Some(m) = metadata {
        for (k, v) in m.iter() {
            put.metadata.push((k.extract()?, v.extract()?));
        }
    }
    Ok(put)
}

fn expiry(seconds: u64) -> Duration {
    Duration::from_secs(seconds)
}

fn bytes_of(data: &Bound<'_, PyAny>) -> PyResult<bytes::Bytes> {
    if let Ok(s) = data.extract::<&str>() {
        return Ok(bytes::Bytes::copy_from_slice(s.as_bytes()));
    }
    if let Ok(b) = data.cast::<PyBytes>() {
        return Ok(bytes::Bytes::copy_from_slice(b.as_bytes()));
    }
    // Anything with the buffer protocol (bytearray, memoryview, array, mmap), as bytes.
    let v: Vec<u8> = py_bytes(data)
        .and_then(|b| b.extract())
        .map_err(|_| value_error("data must be bytes, bytearray, memoryview or str"))?;
    Ok(bytes::Bytes::from(v))
}

fn py_bytes<'py>(data: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    data.py().import("builtins")?.getattr("memoryview")?.call1((data,))?.call_method0("tobytes")
}

/// A progress callback called with the bytes moved since its last call (boto3's `Callback`),
/// from the running totals the upload reports (parts end in any order).
fn byte_callback(callback: Option<Py<PyAny>>) -> Option<cirrus::s3::Progress> {
    let callback = Arc::new(callback?);
    let told = Arc::new(std::sync::atomic::AtomicU64::new(0));
    Some(Arc::new(move |total: u64| {
        let before = told.fetch_max(total, std::sync::atomic::Ordering::Relaxed);
        if total <= before {
            return;
        }
        // From a runtime thread: not once the interpreter is exiting (see runtime.rs).
        crate::runtime::attach_unless_exiting(|py| {
            if let Err(e) = callback.call1(py, (total - before,)) {
                e.write_unraisable(py, None);
            }
        });
    }))
}

/// The async work behind each method, shared by both clients.
mod ops {
    use super::*;

    pub(super) async fn head(s3: S3Client, bucket: String, key: String) -> Result<PyObjectInfo, Failure> {
        Ok(s3.head(&bucket, &key).await?.into())
    }

    pub(super) async fn get(s3: S3Client, bucket: String, key: String, range: Option<String>) -> Result<Body, Failure> {
        match range {
            None => Ok(Body(s3.get_bytes(&bucket, &key).await?)),
            Some(r) => {
                use futures_util::TryStreamExt;
                let object = s3.get(&bucket, &key, Some(&r)).await?;
                let chunks: Vec<bytes::Bytes> = object.body.try_collect().await?;
                Ok(Body(chunks.concat().into()))
            }
        }
    }

    pub(super) async fn put(
        s3: S3Client,
        bucket: String,
        key: String,
        data: bytes::Bytes,
        put: PutOptions,
    ) -> Result<Put, Failure> {
        Ok(Put(s3.put(&bucket, &key, data, &put).await?))
    }

    pub(super) async fn upload_file(
        s3: S3Client,
        path: PathBuf,
        bucket: String,
        key: String,
        put: PutOptions,
        cancel: cirrus::s3::transfer::Cancel,
    ) -> Result<Put, Failure> {
        // A missing file is Python's own FileNotFoundError, as boto3's upload_file raises.
        if let Err(e) = tokio::fs::metadata(&path).await {
            if e.kind() == std::io::ErrorKind::NotFound {
                let why = (2, e.to_string(), path.display().to_string()); // errno ENOENT
                return Err(Failure::Python(pyo3::exceptions::PyFileNotFoundError::new_err(why)));
            }
        }
        Ok(Put(s3.upload_file_with_cancel(&bucket, &key, &path, &put, &cancel).await?))
    }

    pub(super) async fn download_file(
        s3: S3Client,
        bucket: String,
        key: String,
        path: PathBuf,
    ) -> Result<u64, Failure> {
        Ok(s3.download_file(&bucket, &key, &path).await?)
    }

    pub(super) async fn delete(s3: S3Client, bucket: String, keys: Vec<String>) -> Result<u64, Failure> {
        if let [key] = keys.as_slice() {
            s3.delete(&bucket, key).await?;
            return Ok(1);
        }
        let report = s3.delete_many(&bucket, &keys).await?;
        check_deleted(report)
    }

    pub(super) async fn delete_prefix(s3: S3Client, bucket: String, prefix: String) -> Result<u64, Failure> {
        if prefix.is_empty() {
            return Err(Failure::Input(
                "delete_prefix needs a prefix: to empty a bucket, pass rm(\"s3://BUCKET/\", recursive=True)".into(),
            ));
        }
        check_deleted(s3.delete_prefix(&bucket, &prefix).await?)
    }

    fn check_deleted(report: cirrus::s3::DeleteReport) -> Result<u64, Failure> {
        match report.failed.first() {
            None => Ok(report.deleted),
            Some(f) => Err(Failure::Input(format!(
                "{} of the keys were not deleted; the first, {:?}: {} ({})",
                report.failed.len(),
                f.key,
                f.message,
                f.code
            ))),
        }
    }

    pub(super) async fn presign(
        s3: S3Client,
        method: http::Method,
        bucket: String,
        key: String,
        expires_in: u64,
    ) -> Result<String, Failure> {
        let link = s3.presign(method, &bucket, &key, expiry(expires_in), &PresignOptions::default()).await?;
        Ok(link.url)
    }

    pub(super) async fn presign_post(s3: S3Client, bucket: String, options: PostOptions) -> Result<Form, Failure> {
        Ok(Form(s3.presign_post(&bucket, &options).await?))
    }

    pub(super) async fn create_bucket(s3: S3Client, bucket: String) -> Result<(), Failure> {
        Ok(s3.create_bucket(&bucket).await?)
    }

    pub(super) async fn delete_bucket(s3: S3Client, bucket: String) -> Result<(), Failure> {
        Ok(s3.delete_bucket(&bucket).await?)
    }

    pub(super) async fn page(
        s3: S3Client,
        bucket: String,
        options: ListOptions,
        token: Option<String>,
    ) -> Result<cirrus::s3::ListPage, Failure> {
        Ok(s3.list_page(&bucket, &options, token.as_deref()).await?)
    }
}

/// boto3's `generate_presigned_post` key: a key ending in `/` or `${filename}` is a prefix any
/// file name may follow; any other is that exact key.
fn post_options(key: &str, expires_in: u64, content_type: Option<String>, max_size: Option<u64>) -> PostOptions {
    let mut options = match key.strip_suffix("${filename}").or_else(|| key.ends_with('/').then_some(key)) {
        Some(prefix) => PostOptions::new(prefix),
        None => {
            let (prefix, name) =
                key.rsplit_once('/').map(|(p, n)| (format!("{p}/"), n)).unwrap_or((String::new(), key));
            PostOptions::new(prefix).with_filename(name)
        }
    };
    options = options.with_expires_in(expiry(expires_in));
    if let Some(t) = content_type {
        options = options.with_content_type(t);
    }
    if let Some(n) = max_size {
        options = options.with_max_size(n);
    }
    options
}

fn list_options(
    prefix: &str,
    delimiter: Option<String>,
    start_after: Option<String>,
    page_size: Option<u32>,
) -> ListOptions {
    let mut options = ListOptions::prefix(prefix);
    if let Some(d) = delimiter {
        options = options.with_delimiter(d);
    }
    if let Some(s) = start_after {
        options = options.with_start_after(s);
    }
    if let Some(n) = page_size {
        options = options.with_page_size(n);
    }
    options
}

/// The listing's state: the objects of the page in hand, and where the next page starts.
struct Listing {
    s3: S3Client,
    bucket: String,
    options: ListOptions,
    buffer: VecDeque<Object>,
    token: Option<String>,
    started: bool,
}

impl Listing {
    fn is_done(&self) -> bool {
        self.started && self.token.is_none()
    }

    fn take_page(&mut self, page: cirrus::s3::ListPage) {
        self.started = true;
        self.token = page.next_token;
        self.buffer.extend(page.objects);
    }
}

/// The objects under a prefix, a page at a time, in key order.
#[pyclass(module = "cirrus_aws")]
pub(crate) struct ObjectIterator(Listing);

#[pymethods]
impl ObjectIterator {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&mut self, py: Python<'_>) -> PyResult<PyObject> {
        loop {
            if let Some(o) = self.0.buffer.pop_front() {
                return Ok(o.into());
            }
            if self.0.is_done() {
                return Err(PyStopIteration::new_err(()));
            }
            let l = &self.0;
            let work = ops::page(l.s3.clone(), l.bucket.clone(), l.options.clone(), l.token.clone());
            let page = block_on(py, work, None)?;
            self.0.take_page(page);
        }
    }
}

/// The objects under a prefix, for `async for`.
#[pyclass(module = "cirrus_aws")]
pub(crate) struct AsyncObjectIterator(Arc<tokio::sync::Mutex<Listing>>);

#[pymethods]
impl AsyncObjectIterator {
    fn __aiter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __anext__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        // The objects of the page in hand need no trip to the runtime.
        if let Ok(mut l) = self.0.try_lock() {
            if let Some(o) = l.buffer.pop_front() {
                let object = Bound::new(py, PyObject::from(o))?;
                return py.import("cirrus_aws._bridge")?.getattr("ready")?.call1((object,));
            }
            if l.is_done() {
                return Err(PyStopAsyncIteration::new_err(()));
            }
        }
        let listing = self.0.clone();
        to_asyncio(
            py,
            async move {
                let mut l = listing.lock().await;
                loop {
                    if let Some(o) = l.buffer.pop_front() {
                        return Ok(Some(PyObject::from(o)));
                    }
                    if l.is_done() {
                        return Ok(None);
                    }
                    let page = ops::page(l.s3.clone(), l.bucket.clone(), l.options.clone(), l.token.clone()).await?;
                    l.take_page(page);
                }
            },
            None,
        )
        .and_then(|future| {
            // `None` ends the iteration: StopAsyncIteration, raised by the awaiting side.
            py.import("cirrus_aws._bridge")?.getattr("stop_at_none")?.call1((future,))
        })
    }
}

/// A client for S3 and S3-compatible stores. Blocking: each call lets go of the GIL while it
/// waits, so threads run side by side; Ctrl-C stops it.
#[pyclass(frozen, module = "cirrus_aws", name = "S3Client")]
pub(crate) struct PyS3Client(pub(crate) Shared);

/// The same client for asyncio: every method returns an awaitable.
#[pyclass(frozen, module = "cirrus_aws", name = "AsyncS3Client")]
pub(crate) struct AsyncS3Client(pub(crate) Shared);

fn s3(shared: &Shared, py: Python<'_>) -> PyResult<S3Client> {
    shared.client().map_err(|f| f.into_py_err(py))
}

fn config_or_default(py: Python<'_>, config: Option<Py<PyConfig>>) -> PyResult<Py<PyConfig>> {
    match config {
        Some(c) => Ok(c),
        None => Ok(py.import("cirrus_aws")?.getattr("Config")?.call0()?.extract()?),
    }
}

/// Both clients' methods: `$run` is `block_on` or `to_asyncio`, and `$out` what it returns.
macro_rules! s3_methods {
    ($client:ident, $run:ident, $out:ty, $listing:ident) => {
        #[pymethods]
        impl $client {
            #[new]
            #[pyo3(signature = (config=None))]
            fn new(py: Python<'_>, config: Option<Py<PyConfig>>) -> PyResult<Self> {
                let client = $client(Shared::new(config_or_default(py, config)?));
                s3(&client.0, py)?;
                Ok(client)
            }

            /// The Config this client was made from.
            #[getter]
            fn config(&self, py: Python<'_>) -> Py<PyConfig> {
                self.0.config.clone_ref(py)
            }

            /// HEAD: the object's size, type, ETag, metadata...
            fn head<'py>(&self, py: Python<'py>, bucket: String, key: String) -> PyResult<$out> {
                $run(py, ops::head(s3(&self.0, py)?, bucket, key), None).map(Into::into)
            }

            /// The object's bytes (or those of `range`, `"bytes=0-99"`).
            #[pyo3(signature = (bucket, key, *, range=None))]
            fn get<'py>(&self, py: Python<'py>, bucket: String, key: String, range: Option<String>) -> PyResult<$out> {
                $run(py, ops::get(s3(&self.0, py)?, bucket, key, range), None).map(Into::into)
            }

            /// PUT `data` (bytes, or str as UTF-8) as one object: `{"etag", "version_id", "checksum"}`.
            #[pyo3(signature = (bucket, key, data, *, content_type=None, metadata=None, storage_class=None))]
            #[allow(clippy::too_many_arguments)]
            fn put<'py>(
                &self,
                py: Python<'py>,
                bucket: String,
                key: String,
                data: &Bound<'py, PyAny>,
                content_type: Option<String>,
                metadata: Option<&Bound<'py, PyDict>>,
                storage_class: Option<String>,
            ) -> PyResult<$out> {
                let body = bytes_of(data)?;
                let put = put_options(content_type, metadata, storage_class)?;
                $run(py, ops::put(s3(&self.0, py)?, bucket, key, body, put), None).map(Into::into)
            }

            /// Uploads a file (multipart when large, parts in parallel), boto3's argument order.
            /// `callback` is called with the bytes sent since its last call.
            #[pyo3(signature = (filename, bucket, key, *, content_type=None, metadata=None, storage_class=None, callback=None))]
            #[allow(clippy::too_many_arguments)]
            fn upload_file<'py>(
                &self,
                py: Python<'py>,
                filename: PathBuf,
                bucket: String,
                key: String,
                content_type: Option<String>,
                metadata: Option<&Bound<'py, PyDict>>,
                storage_class: Option<String>,
                callback: Option<Py<PyAny>>,
            ) -> PyResult<$out> {
                let mut put = put_options(content_type, metadata, storage_class)?;
                put.progress = byte_callback(callback);
                // Stopped (Ctrl-C, a cancelled task): a multipart upload is aborted first.
                let cancel = cirrus::s3::transfer::Cancel::new();
                let work = ops::upload_file(s3(&self.0, py)?, filename, bucket, key, put, cancel.clone());
                $run(py, work, Some(Box::new(move || cancel.cancel()))).map(Into::into)
            }

            /// Downloads an object to a file, verified, written to a temporary file and moved
            /// into place; returns its size.
            fn download_file<'py>(&self, py: Python<'py>, bucket: String, key: String, filename: PathBuf) -> PyResult<$out> {
                $run(py, ops::download_file(s3(&self.0, py)?, bucket, key, filename), None).map(Into::into)
            }

            /// Deletes these keys (DeleteObjects, 1,000 a call); returns how many.
            #[pyo3(signature = (bucket, *keys))]
            fn delete<'py>(&self, py: Python<'py>, bucket: String, keys: Vec<String>) -> PyResult<$out> {
                if keys.is_empty() {
                    return Err(value_error("delete needs at least one key"));
                }
                $run(py, ops::delete(s3(&self.0, py)?, bucket, keys), None).map(Into::into)
            }

            /// Deletes every object under `prefix`; returns how many.
            fn delete_prefix<'py>(&self, py: Python<'py>, bucket: String, prefix: String) -> PyResult<$out> {
                $run(py, ops::delete_prefix(s3(&self.0, py)?, bucket, prefix), None).map(Into::into)
            }

            /// A URL that GETs the object without credentials until it expires.
            #[pyo3(signature = (bucket, key, expires_in=3600))]
            fn presign_get<'py>(&self, py: Python<'py>, bucket: String, key: String, expires_in: u64) -> PyResult<$out> {
                $run(py, ops::presign(s3(&self.0, py)?, http::Method::GET, bucket, key, expires_in), None).map(Into::into)
            }

            /// A URL that PUTs the object without credentials until it expires.
            #[pyo3(signature = (bucket, key, expires_in=3600))]
            fn presign_put<'py>(&self, py: Python<'py>, bucket: String, key: String, expires_in: u64) -> PyResult<$out> {
                $run(py, ops::presign(s3(&self.0, py)?, http::Method::PUT, bucket, key, expires_in), None).map(Into::into)
            }

            /// A browser upload form: `{"url", "fields"}`. A key ending in `/` or `${filename}`
            /// lets the browser name the file under that prefix.
            #[pyo3(signature = (bucket, key, *, expires_in=3600, content_type=None, max_size=None))]
            #[allow(clippy::too_many_arguments)]
            fn presign_post<'py>(
                &self,
                py: Python<'py>,
                bucket: String,
                key: String,
                expires_in: u64,
                content_type: Option<String>,
                max_size: Option<u64>,
            ) -> PyResult<$out> {
                let options = post_options(&key, expires_in, content_type, max_size);
                $run(py, ops::presign_post(s3(&self.0, py)?, bucket, options), None).map(Into::into)
            }

            /// The objects under `prefix`, in key order, a page (1,000) per request as you
            /// iterate (`for`, or `async for` on the async client).
            #[pyo3(signature = (bucket, prefix="", *, delimiter=None, start_after=None, page_size=None))]
            fn list(
                &self,
                py: Python<'_>,
                bucket: String,
                prefix: &str,
                delimiter: Option<String>,
                start_after: Option<String>,
                page_size: Option<u32>,
            ) -> PyResult<$listing> {
                let options = list_options(prefix, delimiter, start_after, page_size);
                let s3 = s3(&self.0, py)?;
                Ok(Listing { s3, bucket, options, buffer: VecDeque::new(), token: None, started: false }.into())
            }

            /// `aws s3 cp`: a file or object, or with `recursive=True` a folder or prefix.
            #[pyo3(signature = (src, dst, **kwargs))]
            fn cp<'py>(&self, py: Python<'py>, src: &Bound<'py, PyAny>, dst: &Bound<'py, PyAny>, kwargs: Option<&Bound<'py, PyDict>>) -> PyResult<$out> {
                let flags = crate::transfer::Flags::parse("cp", kwargs, &[crate::transfer::COMMON, crate::transfer::WRITES, crate::transfer::CP])?;
                let cancel = cirrus::s3::transfer::Cancel::new();
                let work = crate::transfer::run(s3(&self.0, py)?, py, crate::transfer::Command::Cp, crate::transfer::location(src)?, Some(crate::transfer::location(dst)?), flags, cancel.clone())?;
                $run(py, work, Some(Box::new(move || cancel.cancel())))
            }

            /// `aws s3 sync`: what is new or changed, and with `delete=True` remove what the
            /// source lacks (only after the whole source was seen).
            #[pyo3(signature = (src, dst, **kwargs))]
            fn sync<'py>(&self, py: Python<'py>, src: &Bound<'py, PyAny>, dst: &Bound<'py, PyAny>, kwargs: Option<&Bound<'py, PyDict>>) -> PyResult<$out> {
                let flags = crate::transfer::Flags::parse("sync", kwargs, &[crate::transfer::COMMON, crate::transfer::WRITES, crate::transfer::SYNC])?;
                let cancel = cirrus::s3::transfer::Cancel::new();
                let work = crate::transfer::run(s3(&self.0, py)?, py, crate::transfer::Command::Sync, crate::transfer::location(src)?, Some(crate::transfer::location(dst)?), flags, cancel.clone())?;
                $run(py, work, Some(Box::new(move || cancel.cancel())))
            }

            /// `aws s3 mv`: copy, then remove each source once its copy is verified.
            #[pyo3(signature = (src, dst, **kwargs))]
            fn mv<'py>(&self, py: Python<'py>, src: &Bound<'py, PyAny>, dst: &Bound<'py, PyAny>, kwargs: Option<&Bound<'py, PyDict>>) -> PyResult<$out> {
                let flags = crate::transfer::Flags::parse("mv", kwargs, &[crate::transfer::COMMON, crate::transfer::WRITES, crate::transfer::CP])?;
                let cancel = cirrus::s3::transfer::Cancel::new();
                let work = crate::transfer::run(s3(&self.0, py)?, py, crate::transfer::Command::Mv, crate::transfer::location(src)?, Some(crate::transfer::location(dst)?), flags, cancel.clone())?;
                $run(py, work, Some(Box::new(move || cancel.cancel())))
            }

            /// `aws s3 rm`: an object, or with `recursive=True` everything under a prefix.
            #[pyo3(signature = (target, **kwargs))]
            fn rm<'py>(&self, py: Python<'py>, target: &Bound<'py, PyAny>, kwargs: Option<&Bound<'py, PyDict>>) -> PyResult<$out> {
                let flags = crate::transfer::Flags::parse("rm", kwargs, &[crate::transfer::COMMON, crate::transfer::RM])?;
                let cancel = cirrus::s3::transfer::Cancel::new();
                let work = crate::transfer::run(s3(&self.0, py)?, py, crate::transfer::Command::Rm, crate::transfer::location(target)?, None, flags, cancel.clone())?;
                $run(py, work, Some(Box::new(move || cancel.cancel())))
            }

            fn create_bucket<'py>(&self, py: Python<'py>, bucket: String) -> PyResult<$out> {
                $run(py, ops::create_bucket(s3(&self.0, py)?, bucket), None).map(Into::into)
            }

            fn delete_bucket<'py>(&self, py: Python<'py>, bucket: String) -> PyResult<$out> {
                $run(py, ops::delete_bucket(s3(&self.0, py)?, bucket), None).map(Into::into)
            }
        }
    };
}

pub(crate) fn blocking<T, F>(py: Python<'_>, fut: F, stop: Option<Stop>) -> PyResult<Py<PyAny>>
where
    T: for<'a> IntoPyObject<'a> + Send + 'static,
    F: std::future::Future<Output = Result<T, Failure>> + Send + 'static,
{
    let value = block_on(py, fut, stop)?;
    Ok(value.into_pyobject(py).map_err(Into::into)?.into_any().unbind())
}

pub(crate) fn awaitable<'py, T, F>(py: Python<'py>, fut: F, stop: Option<Stop>) -> PyResult<Bound<'py, PyAny>>
where
    T: for<'a> IntoPyObject<'a> + Send + 'static,
    F: std::future::Future<Output = Result<T, Failure>> + Send + 'static,
{
    to_asyncio(py, fut, stop)
}

s3_methods!(PyS3Client, blocking, Py<PyAny>, ObjectIterator);
s3_methods!(AsyncS3Client, awaitable, Bound<'py, PyAny>, AsyncObjectIterator);

impl From<Listing> for ObjectIterator {
    fn from(l: Listing) -> Self {
        ObjectIterator(l)
    }
}

impl From<Listing> for AsyncObjectIterator {
    fn from(l: Listing) -> Self {
        AsyncObjectIterator(Arc::new(tokio::sync::Mutex::new(l)))
    }
}
