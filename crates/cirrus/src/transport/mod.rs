//! HTTP for every AWS call: one pooled hyper client (rustls with ring), timeouts, the standard
//! retry mode, clock-skew correction, re-signing on every attempt, and errors read per protocol.

mod adaptive;
mod body;
pub(crate) mod client;
mod error;
pub mod paginate;
mod parse_error;
pub mod protocol;
mod proxy;
pub(crate) mod retry;
mod send;
pub mod xml;

pub use body::FileBody;
#[cfg(feature = "s3")]
pub(crate) use body::FILE_CHUNK;
pub use client::{redact_url, CallError};
pub use error::{report, Chain, Error};
pub use parse_error::ParseError;
pub use protocol::Protocol;
pub use proxy::{ProxySettings, TlsRoots};
pub use retry::{RetryConfig, RetryMode};

use crate::service::ServiceSpec;

use crate::clock::{SharedClock, SystemClock};
use crate::identity::SharedCredentialsProvider;
use bytes::Bytes;
use futures_util::stream::BoxStream;
use http::{HeaderMap, HeaderValue, Method};
use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Whether `url` parses as a URI whose port, if any, fits in 16 bits (`http::Uri` takes
/// `host:99999` and reports no port).
pub(crate) fn valid_url(url: &str) -> bool {
    let Ok(uri) = url.parse::<http::Uri>() else { return false };
    let authority = uri.authority().map_or("", http::uri::Authority::as_str);
    // User info left out, then what follows an IPv6 address's brackets (or the whole name).
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let after_host = host_port.rsplit(']').next().unwrap_or_default();
    !after_host.contains(':') || uri.port_u16().is_some()
}

/// Timeouts, retries and limits of the HTTP client.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct TransportSettings {
    /// Time allowed to open a connection (TCP and TLS). 3.1 s, as the SDKs.
    pub connect_timeout: Duration,
    /// Time allowed between two reads of a response. 60 s.
    pub read_timeout: Option<Duration>,
    /// Time allowed for a whole operation, retries and backoffs included. None by default.
    pub operation_timeout: Option<Duration>,
    /// Retry settings.
    pub retry: RetryConfig,
    /// The largest response body read into memory. 64 MiB.
    pub max_response_bytes: usize,
    /// The proxies requests go through (none by default; the config loader reads
    /// `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY`).
    pub proxy: ProxySettings,
    /// The certificates a TLS server may chain to (the built-in roots by default; the config
    /// loader reads `AWS_CA_BUNDLE` and the profile's `ca_bundle`).
    pub tls_roots: TlsRoots,
}

impl Default for TransportSettings {
    fn default() -> Self {
        TransportSettings {
            connect_timeout: Duration::from_millis(3100),
            read_timeout: Some(Duration::from_secs(60)),
            operation_timeout: None,
            retry: RetryConfig::default(),
            max_response_bytes: 64 << 20,
            proxy: ProxySettings::none(),
            tls_roots: TlsRoots::BuiltIn,
        }
    }
}

impl TransportSettings {
    /// These settings with another connect timeout.
    #[must_use]
    pub fn with_connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }

    /// These settings with another read timeout.
    #[must_use]
    pub fn with_read_timeout(mut self, d: Option<Duration>) -> Self {
        self.read_timeout = d;
        self
    }

    /// These settings with an operation timeout.
    #[must_use]
    pub fn with_operation_timeout(mut self, d: Option<Duration>) -> Self {
        self.operation_timeout = d;
        self
    }

    /// These settings with other retry settings.
    #[must_use]
    pub fn with_retry(mut self, retry: RetryConfig) -> Self {
        self.retry = retry;
        self
    }

    /// These settings with these proxies.
    #[must_use]
    pub fn with_proxy(mut self, proxy: ProxySettings) -> Self {
        self.proxy = proxy;
        self
    }

    /// These settings trusting these roots.
    #[must_use]
    pub fn with_tls_roots(mut self, roots: TlsRoots) -> Self {
        self.tls_roots = roots;
        self
    }
}

/// The HTTP client: a connection pool, the retry quota and the measured clock skew, shared by
/// every service client made from it. Cheap to clone.
#[derive(Clone)]
pub struct HttpClient {
    inner: Arc<Inner>,
}

struct Inner {
    pool: client::LazyPool,
    settings: TransportSettings,
    quota: retry::RetryQuota,
    /// Server time minus local time, in milliseconds, from the last `Date` seen.
    skew_ms: AtomicI64,
    /// The adaptive mode's rate limiter, and the time its clock counts from.
    limiter: Option<(std::sync::Mutex<adaptive::RateLimiter>, std::time::Instant)>,
}

impl Default for HttpClient {
    fn default() -> Self {
        HttpClient::new(TransportSettings::default())
    }
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient").field("settings", &self.inner.settings).finish_non_exhaustive()
    }
}

impl HttpClient {
    /// A client with these settings. Nothing is set up until the first request.
    pub fn new(settings: TransportSettings) -> Self {
        let quota = retry::RetryQuota::new(settings.retry.quota);
        HttpClient {
            inner: Arc::new(Inner {
                pool: client::LazyPool::default(),
                limiter: (settings.retry.mode == RetryMode::Adaptive)
                    .then(|| (std::sync::Mutex::new(adaptive::RateLimiter::default()), std::time::Instant::now())),
                settings,
                quota,
                skew_ms: AtomicI64::new(0),
            }),
        }
    }

    /// The settings in use.
    pub fn settings(&self) -> &TransportSettings {
        &self.inner.settings
    }

    fn pool(&self) -> &client::Pool {
        self.inner.pool.get(&self.inner.settings)
    }

    /// Sends one request as it is (no signing, no retry) through the pool and reads the whole
    /// answer, whatever its status: for calls cirrus does not model (IMDS, the container
    /// endpoint, `cirrus curl`). With `timeout`, the whole call must finish within it; without,
    /// each read must come within the read timeout. The body is limited to
    /// [`max_response_bytes`](TransportSettings::max_response_bytes).
    pub async fn call(
        &self,
        request: http::Request<Bytes>,
        timeout: Option<Duration>,
    ) -> Result<http::Response<Bytes>, CallError> {
        self.call_through(self.pool(), request, timeout).await
    }

    /// Like [`call`](Self::call), never through a proxy: for the instance metadata and
    /// container credential endpoints, link-local or loopback addresses a proxy cannot reach
    /// (the SDKs do the same).
    pub async fn call_direct(
        &self,
        request: http::Request<Bytes>,
        timeout: Option<Duration>,
    ) -> Result<http::Response<Bytes>, CallError> {
        self.call_through(self.inner.pool.direct(&self.inner.settings), request, timeout).await
    }

    async fn call_through(
        &self,
        pool: &client::Pool,
        request: http::Request<Bytes>,
        timeout: Option<Duration>,
    ) -> Result<http::Response<Bytes>, CallError> {
        let uri = request.uri().clone();
        let settings = &self.inner.settings;
        let whole = async {
            let wait = if timeout.is_some() { None } else { settings.read_timeout };
            let resp = client::send(pool, request.map(body::SendBody::from), wait).await?;
            let (parts, body) = resp.into_parts();
            let body = client::read_all(body, settings.max_response_bytes, wait, &uri).await?;
            Ok(http::Response::from_parts(parts, body))
        };
        match timeout {
            Some(t) => tokio::time::timeout(t, whole).await.map_err(|_| CallError::timed_out("the answer", t, &uri))?,
            None => whole.await,
        }
    }

    /// The adaptive mode: waits for a token of the rate limiter before an attempt.
    async fn before_attempt(&self) {
        let Some((limiter, start)) = &self.inner.limiter else { return };
        let wait = {
            let mut l = limiter.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            l.acquire(start.elapsed().as_secs_f64())
        };
        if let Some(w) = wait.filter(|w| *w > 0.0) {
            tracing::debug!(wait_s = w, "adaptive retry mode: waiting for the client-side rate limit");
            tokio::time::sleep(Duration::from_secs_f64(w.min(60.0))).await;
        }
    }

    /// The adaptive mode: tells the rate limiter how an attempt ended.
    fn after_attempt(&self, throttled: bool) {
        if let Some((limiter, start)) = &self.inner.limiter {
            let mut l = limiter.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            l.update(throttled, start.elapsed().as_secs_f64());
        }
    }

    /// The clock skew measured from servers' `Date` headers (server minus local).
    pub fn clock_skew(&self) -> Duration {
        Duration::from_millis(self.inner.skew_ms.load(Ordering::Relaxed).unsigned_abs())
    }

    fn signing_time(&self, clock: &SharedClock) -> SystemTime {
        let skew = self.inner.skew_ms.load(Ordering::Relaxed);
        let now = clock.now();
        if skew >= 0 {
            now + Duration::from_millis(skew as u64)
        } else {
            now - Duration::from_millis(skew.unsigned_abs())
        }
    }

    fn record_skew(&self, headers: &HeaderMap, clock: &SharedClock) -> i64 {
        let server = headers
            .get(http::header::DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|s| httpdate::parse_http_date(s).ok());
        let Some(server) = server else { return self.inner.skew_ms.load(Ordering::Relaxed) };
        let local = clock.now();
        let skew = match server.duration_since(local) {
            Ok(ahead) => ahead.as_millis() as i64,
            Err(behind) => -(behind.duration().as_millis() as i64),
        };
        // Date has whole seconds: ignore differences below that.
        let skew = if skew.abs() < 1500 { 0 } else { skew };
        self.inner.skew_ms.store(skew, Ordering::Relaxed);
        skew
    }
}

/// Who a request goes to and how it is signed: built once per service client, usually by
/// [`Config::service`](crate::Config::service); by hand with [`ServiceConfig::builder`].
///
/// ```
/// use cirrus::credentials::StaticCredentials;
/// use cirrus::transport::{HttpClient, ServiceConfig};
/// use std::sync::Arc;
///
/// let svc = ServiceConfig::builder(cirrus::sts::SPEC, "eu-west-1", "http://127.0.0.1:4566")
///     .credentials(Some(Arc::new(StaticCredentials::new("AKIDEXAMPLE", "secret", None))))
///     .http(HttpClient::default())
///     .build();
/// assert_eq!((svc.name(), svc.region(), svc.endpoint()), ("STS", "eu-west-1", "http://127.0.0.1:4566"));
/// ```
#[derive(Clone)]
pub struct ServiceConfig {
    spec: ServiceSpec,
    region: String,
    /// No trailing slash.
    endpoint: String,
    credentials: Option<SharedCredentialsProvider>,
    http: HttpClient,
    clock: SharedClock,
}

impl fmt::Debug for ServiceConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceConfig")
            .field("name", &self.spec.name)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("anonymous", &self.credentials.is_none())
            .finish_non_exhaustive()
    }
}

impl ServiceConfig {
    /// A builder for `spec` in `region` at `endpoint` (a base URL; a trailing `/` is dropped),
    /// unsigned, with a default HTTP client and the system clock until told otherwise.
    pub fn builder(spec: ServiceSpec, region: impl Into<String>, endpoint: impl Into<String>) -> ServiceConfigBuilder {
        ServiceConfigBuilder {
            spec,
            region: region.into(),
            endpoint: endpoint.into(),
            credentials: None,
            http: None,
            clock: None,
        }
    }

    /// What service this is.
    pub fn spec(&self) -> &ServiceSpec {
        &self.spec
    }

    /// The service as people name it in messages (`"STS"`, `"S3"`).
    pub fn name(&self) -> &'static str {
        self.spec.name
    }

    /// The region signed for.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// Base URL, no trailing slash (`https://sts.eu-west-1.amazonaws.com`).
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Credentials; `None` sends requests unsigned (anonymous, like botocore's UNSIGNED).
    pub fn credentials(&self) -> Option<&SharedCredentialsProvider> {
        self.credentials.as_ref()
    }

    /// The HTTP client.
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// The clock used for signing.
    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// This config with other credentials (`None`: unsigned).
    #[must_use]
    pub fn with_credentials(mut self, credentials: Option<SharedCredentialsProvider>) -> Self {
        self.credentials = credentials;
        self
    }

    /// This config with another clock (tests, or a clock corrected elsewhere).
    #[must_use]
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }
}

/// Builds a [`ServiceConfig`].
#[must_use]
#[derive(Clone)]
pub struct ServiceConfigBuilder {
    spec: ServiceSpec,
    region: String,
    endpoint: String,
    credentials: Option<SharedCredentialsProvider>,
    http: Option<HttpClient>,
    clock: Option<SharedClock>,
}

impl fmt::Debug for ServiceConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceConfigBuilder")
            .field("name", &self.spec.name)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl ServiceConfigBuilder {
    /// Signs with these credentials (`None`: unsigned).
    pub fn credentials(mut self, credentials: Option<SharedCredentialsProvider>) -> Self {
        self.credentials = credentials;
        self
    }

    /// Sends through this HTTP client (its pool, settings, retry quota and measured skew).
    pub fn http(mut self, http: HttpClient) -> Self {
        self.http = Some(http);
        self
    }

    /// Signs at this clock's time.
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// The config.
    pub fn build(self) -> ServiceConfig {
        ServiceConfig {
            spec: self.spec,
            region: self.region,
            endpoint: self.endpoint.trim_end_matches('/').to_owned(),
            credentials: self.credentials,
            http: self.http.unwrap_or_default(),
            clock: self.clock.unwrap_or_else(|| Arc::new(SystemClock)),
        }
    }
}

/// A request ready to be signed and sent.
#[derive(Clone, Debug)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// The full URL, already percent-encoded. Sent exactly as given: `.` and `..` path
    /// segments are not resolved.
    pub url: String,
    /// Headers (`Host` is added from the URL).
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
    /// A byte range of a file sent in place of `body` (which is then empty), read as it goes
    /// and again on a retry; see [`FileBody`].
    pub file: Option<FileBody>,
    /// Sign the payload as `UNSIGNED-PAYLOAD` instead of hashing it (S3 over https).
    pub unsigned_payload: bool,
}

impl Request {
    /// A request with no headers.
    pub fn new(method: Method, url: impl Into<String>, body: impl Into<Bytes>) -> Self {
        Request {
            method,
            url: url.into(),
            headers: HeaderMap::new(),
            body: body.into(),
            file: None,
            unsigned_payload: false,
        }
    }

    /// The request line and headers, `Host` set from the URL (it is signed).
    pub(crate) fn head(&self) -> Result<http::request::Parts, String> {
        let mut b = http::Request::builder().method(self.method.clone()).uri(&self.url);
        if let Some(h) = b.headers_mut() {
            h.clone_from(&self.headers);
        }
        let shown = || redact_url(&self.url);
        let (mut parts, ()) = b.body(()).map_err(|e| format!("bad request URL {:?}: {e}", shown()))?.into_parts();
        // Whatever the endpoint's source (AWS_ENDPOINT_URL_<SERVICE>, a profile's endpoint_url),
        // user info is never sent in Host, and a port no socket has is never the default one.
        let host = parts.uri.authority().map(|a| a.as_str().to_owned()).unwrap_or_default();
        if host.contains('@') {
            return Err(format!("the URL {:?} holds user info (user:password@), which cirrus does not send", shown()));
        }
        if !valid_url(&self.url) {
            return Err(format!("bad request URL {:?}: a port is at most 65535", shown()));
        }
        let host = HeaderValue::from_str(&host).map_err(|_| format!("URL {:?} has no host", self.url))?;
        parts.headers.insert(http::header::HOST, host);
        Ok(parts)
    }

    /// This request with `file` as its body (in place of [`body`](Self::body), which is emptied).
    #[must_use]
    pub fn with_file(mut self, file: FileBody) -> Self {
        self.body = Bytes::new();
        self.file = Some(file);
        self
    }

    /// The body for one attempt: the bytes, or a fresh reader of the file range.
    pub(crate) fn send_body(&self) -> body::SendBody {
        match &self.file {
            Some(f) => body::SendBody::File(f.reader()),
            None => body::SendBody::from(self.body.clone()),
        }
    }

    /// Adds a header whose value comes from the caller, refusing values that are not valid
    /// HTTP (control characters, new lines) with a message that names the header and where
    /// the value goes wrong, never the value (it may be a token).
    pub fn try_header(mut self, name: http::HeaderName, value: &str) -> Result<Self, ParseError> {
        let v = HeaderValue::from_str(value).map_err(|_| {
            let at = value.bytes().position(|b| b != b'\t' && !(0x20..0x7f).contains(&b)).unwrap_or(0);
            let byte = value.as_bytes().get(at).copied().unwrap_or(0);
            let why = format!("{name}: the value holds byte 0x{byte:02x} at {at}, which HTTP does not allow there");
            ParseError::new("a header value", why)
        })?;
        self.headers.insert(name, v);
        Ok(self)
    }

    /// Adds a header. Names and values that are not valid HTTP are dropped (callers pass constants).
    #[must_use]
    pub fn header(mut self, name: &'static str, value: &str) -> Self {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.insert(name, v);
        }
        self
    }
}

/// A successful answer, body read.
#[derive(Clone, Debug)]
pub struct Response {
    /// The HTTP status.
    pub status: u16,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

/// A body read as it arrives.
pub type ByteStream = BoxStream<'static, Result<Bytes, Error>>;

/// A successful answer whose body has not been read yet.
pub struct StreamingResponse {
    /// The HTTP status.
    pub status: u16,
    /// The headers.
    pub headers: HeaderMap,
    /// The body, chunk by chunk. A failure mid-body is an error item (not retried: the caller
    /// knows how much it has and can ask for the rest with a range).
    pub body: ByteStream,
}

impl fmt::Debug for StreamingResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamingResponse").field("status", &self.status).field("headers", &self.headers).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_never_sends_user_info_or_a_wrapped_port() {
        let ok = Request::new(Method::GET, "https://sts.example:8443/", "").head().unwrap();
        assert_eq!(ok.headers[http::header::HOST], "sts.example:8443");
        let e = Request::new(Method::GET, "https://user:secret@sts.example/", "").head().unwrap_err();
        assert!(e.contains("user info") && !e.contains("secret"), "{e}");
        let e = Request::new(Method::GET, "http://127.0.0.1:99999/", "").head().unwrap_err();
        assert!(e.contains("65535"), "{e}");
        assert!(valid_url("http://[::1]:9000/") && valid_url("http://u:p@proxy") && !valid_url("http://[::1]:70000"));
    }

    /// A header value that is not HTTP (an SSO token with a new line in it) is refused with its
    /// name and where it goes wrong, never with the value.
    #[test]
    fn a_bad_header_value_is_never_printed() {
        let name = http::HeaderName::from_static("x-amz-sso_bearer_token");
        let e = Request::new(Method::GET, "https://portal.sso.example/", "")
            .try_header(name, "aoa\r\nSECRETTOKENVALUE")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("x-amz-sso_bearer_token") && e.contains("0x0d at 3"), "{e}");
        assert!(!e.contains("SECRET") && !e.contains("aoa"), "{e}");
    }
}
