//! The connection pool: hyper's client over rustls (ring, the webpki roots compiled in), built on
//! first use so a program that never calls out pays nothing at start-up.
//!
//! hyper rather than reqwest: request targets go out exactly as built (`http::Uri` does not
//! resolve `.` and `..` segments, which S3 keys may contain), and the dependency tree stays small.

use super::body::SendBody;
use super::TransportSettings;
use bytes::Bytes;
use futures_util::stream::{self, BoxStream, StreamExt};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_rustls::MaybeHttpsStream;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::client::legacy::Client;
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpStream;

type Connector = hyper_rustls::HttpsConnector<ProxyConnector>;
type Hyper = Client<Connector, SendBody>;

/// A connection pool and the proxies its connections go through.
pub(crate) struct Pool {
    hyper: Hyper,
    proxies: Option<Arc<Matcher>>,
}

/// Builds the pools on first use: one through the configured proxies, and one direct for the
/// instance metadata and container endpoints (local addresses a proxy cannot reach).
#[derive(Default)]
pub(crate) struct LazyPool {
    proxied: OnceLock<Pool>,
    direct: OnceLock<Pool>,
}

impl LazyPool {
    pub(crate) fn get(&self, settings: &TransportSettings) -> &Pool {
        self.proxied.get_or_init(|| build(settings, settings.proxy.matcher(), settings.proxy.broken()))
    }

    pub(crate) fn direct(&self, settings: &TransportSettings) -> &Pool {
        if settings.proxy.is_none() {
            return self.get(settings);
        }
        self.direct.get_or_init(|| build(settings, None, None))
    }
}

/// A pool through `proxies`; `broken`: why the proxy settings could not be read, which every
/// connection then fails with.
fn build(settings: &TransportSettings, proxies: Option<Arc<Matcher>>, broken: Option<Arc<str>>) -> Pool {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(settings.connect_timeout));
    let tls = tls_config(settings.tls_roots.store());
    // To the proxy itself: plain for an http:// proxy, TLS for an https:// one, trusting the
    // same roots as the destinations.
    let to_proxy =
        hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(tls.clone()).https_or_http().enable_http1();
    let to_proxy = to_proxy.wrap_connector(http.clone());
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(ProxyConnector { http, to_proxy, proxies: proxies.clone(), broken });
    let hyper = Client::builder(TokioExecutor::new()).pool_idle_timeout(Duration::from_secs(90)).build(https);
    Pool { hyper, proxies }
}

impl Pool {
    /// The proxy `uri` goes through, if any.
    fn proxy_for(&self, uri: &http::Uri) -> Option<hyper_util::client::proxy::matcher::Intercept> {
        self.proxies.as_ref()?.intercept(uri)
    }
}

/// Connects directly, through a `CONNECT` tunnel (https through a proxy), or to the proxy itself
/// (http through a proxy: hyper then sends the request in absolute form). The connection to an
/// `https://` proxy is TLS of its own. TLS, when the destination is https, is layered on top by
/// hyper-rustls, end to end with the destination (inside the proxy's TLS, if any).
#[derive(Clone)]
pub(crate) struct ProxyConnector {
    http: HttpConnector,
    to_proxy: hyper_rustls::HttpsConnector<HttpConnector>,
    proxies: Option<Arc<Matcher>>,
    /// Why the proxy settings could not be read (a context without the loader): every
    /// connection fails with it rather than going around the proxy.
    broken: Option<Arc<str>>,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl tower_service::Service<http::Uri> for ProxyConnector {
    type Response = Conn;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Conn, BoxError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, dst: http::Uri) -> Self::Future {
        let mut http = self.http.clone();
        let mut to_proxy = self.to_proxy.clone();
        let proxy = self.proxies.as_ref().and_then(|m| m.intercept(&dst));
        let broken = self.broken.clone();
        Box::pin(async move {
            if let Some(why) = broken {
                return Err(Box::new(ProxyFailure { message: why.to_string(), source: None }) as BoxError);
            }
            let Some(proxy) = proxy else {
                return Ok(Conn { io: MaybeHttpsStream::Http(http.call(dst).await?), proxied: false });
            };
            // Boxed as the error itself (not a box of a box), so `CallError` finds it.
            let mut io = to_proxy.call(proxy.uri().clone()).await.map_err(|e| -> BoxError {
                Box::new(ProxyFailure { message: "could not reach the proxy".into(), source: Some(e) })
            })?;
            if dst.scheme() != Some(&http::uri::Scheme::HTTPS) {
                return Ok(Conn { io, proxied: true });
            }
            match &mut io {
                MaybeHttpsStream::Http(tcp) => tunnel(tcp.inner_mut(), &dst, proxy.basic_auth()).await,
                MaybeHttpsStream::Https(tls) => tunnel(tls.inner_mut(), &dst, proxy.basic_auth()).await,
            }
            .map_err(|e| -> BoxError { Box::new(e) })?;
            Ok(Conn { io, proxied: false })
        })
    }
}

/// Asks the proxy on `stream` for a tunnel to `dst` (`CONNECT host:port`) and reads its
/// answer: a 2xx leaves `stream` a byte pipe to the destination.
pub(crate) async fn tunnel<S>(
    stream: &mut S,
    dst: &http::Uri,
    auth: Option<&http::HeaderValue>,
) -> Result<(), ProxyFailure>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let failure = |message: String| ProxyFailure { message, source: None };
    let host = dst.host().ok_or_else(|| failure("the destination has no host".into()))?;
    let port = dst.port_u16().unwrap_or(443);
    let target = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let mut head = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n").into_bytes();
    if let Some(auth) = auth {
        head.extend_from_slice(b"Proxy-Authorization: ");
        head.extend_from_slice(auth.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"\r\n");
    let io_error = |e: std::io::Error| ProxyFailure {
        message: "the CONNECT exchange broke off".into(),
        source: Some(Box::new(e)),
    };
    stream.write_all(&head).await.map_err(io_error)?;
    stream.flush().await.map_err(io_error)?;
    // The answer's head, byte by byte up to the blank line, so nothing of the tunnel is read.
    let mut answer = Vec::with_capacity(256);
    while !answer.ends_with(b"\r\n\r\n") {
        if answer.len() >= 16 * 1024 {
            return Err(failure("the proxy's answer to CONNECT has a head over 16 KiB".into()));
        }
        let mut byte = [0u8; 1];
        if stream.read(&mut byte).await.map_err(io_error)? == 0 {
            return Err(failure("the proxy closed the connection instead of answering CONNECT".into()));
        }
        answer.push(byte[0]);
    }
    let status_line = answer.split(|&b| b == b'\r').next().unwrap_or_default();
    let status_line = String::from_utf8_lossy(status_line);
    let status = status_line.split(' ').nth(1).and_then(|s| s.parse::<u16>().ok());
    match status {
        Some(200..=299) => Ok(()),
        // 407, or 401 as tinyproxy answers a CONNECT without credentials.
        Some(401 | 407) => Err(ProxyFailure::auth(auth.is_some(), &status_line)),
        Some(_) => Err(failure(format!("the proxy refused the CONNECT tunnel: {}", printable(&status_line)))),
        None => Err(failure(format!("the proxy's answer to CONNECT is not HTTP: {:?}", printable(&status_line)))),
    }
}

/// At most 100 characters of a line from the network, control characters escaped.
fn printable(line: &str) -> String {
    line.chars().take(100).flat_map(char::escape_default).collect()
}

/// A connection (TCP, or TLS to an https:// proxy) that knows whether it goes to a proxy in
/// place of the destination.
pub(crate) struct Conn {
    io: MaybeHttpsStream<TokioIo<TcpStream>>,
    proxied: bool,
}

impl Connection for Conn {
    fn connected(&self) -> Connected {
        self.io.connected().proxy(self.proxied)
    }
}

impl hyper::rt::Read for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for Conn {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }
}

/// What a proxy did wrong, in words a person can act on; the I/O error under it, if any, is
/// the source.
#[derive(Debug)]
pub(crate) struct ProxyFailure {
    message: String,
    source: Option<BoxError>,
}

impl ProxyFailure {
    /// A 407 (or 401): no credentials in the proxy URL, or wrong ones. `answer` is the
    /// proxy's status line.
    fn auth(had_credentials: bool, answer: &str) -> Self {
        let answer = printable(answer);
        let message = if had_credentials {
            format!("the proxy refused its credentials ({answer})")
        } else {
            format!("the proxy asks for credentials ({answer}): put user:password@ in the proxy URL")
        };
        ProxyFailure { message, source: None }
    }
}

impl fmt::Display for ProxyFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The source is the innermost cause (`Connection refused`, the proxy's certificate refused),
/// as for [`CallError`].
impl std::error::Error for ProxyFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        let mut root: &(dyn std::error::Error + 'static) = self.source.as_deref()?;
        while let Some(inner) = root.source() {
            root = inner;
        }
        Some(root)
    }
}

/// rustls with ring and the safe default protocol versions, trusting `roots`.
pub(crate) fn tls_config(roots: rustls::RootCertStore) -> rustls::ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    match rustls::ClientConfig::builder_with_provider(provider).with_safe_default_protocol_versions() {
        Ok(b) => b.with_root_certificates(roots).with_no_client_auth(),
        // ring supports the default versions; this arm is for a provider that would not, and
        // trusts nothing.
        Err(_) => {
            rustls::ClientConfig::builder().with_root_certificates(rustls::RootCertStore::empty()).with_no_client_auth()
        }
    }
}

/// Why a request got no answer: it could not connect, timed out, or the connection broke.
/// Display says which and where; the root cause (an I/O or TLS error) is the
/// [`source`](std::error::Error::source).
#[derive(Clone, Debug)]
pub struct CallError {
    message: String,
    kind: CallErrorKind,
    cause: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CallErrorKind {
    Connect,
    Timeout,
    Broken,
    TooLarge,
}

impl CallError {
    pub(crate) fn timed_out(what: &str, after: Duration, uri: &http::Uri) -> Self {
        CallError {
            message: format!("timed out after {after:?} waiting for {what} ({})", origin(uri)),
            kind: CallErrorKind::Timeout,
            cause: None,
        }
    }

    /// The whole operation, retries included, ran past its timeout.
    pub(crate) fn operation_timed_out(after: Duration) -> Self {
        CallError {
            message: format!("timed out after {after:?} (the operation timeout)"),
            kind: CallErrorKind::Timeout,
            cause: None,
        }
    }

    pub(crate) fn from_hyper(e: hyper_util::client::legacy::Error, uri: &http::Uri, via: &str) -> Self {
        let (head, kind) = if e.is_connect() {
            ("could not connect", CallErrorKind::Connect)
        } else {
            ("the request failed", CallErrorKind::Broken)
        };
        CallError { message: format!("{head} ({}{via})", origin(uri)), kind, cause: Some(Arc::new(e)) }
    }

    pub(crate) fn body(e: hyper::Error, uri: &http::Uri) -> Self {
        CallError {
            message: format!("the response body broke off ({})", origin(uri)),
            kind: CallErrorKind::Broken,
            cause: Some(Arc::new(e)),
        }
    }

    pub(crate) fn too_large(limit: usize, uri: &http::Uri) -> Self {
        CallError {
            message: format!("the response body from {} is larger than {limit} bytes", origin(uri)),
            kind: CallErrorKind::TooLarge,
            cause: None,
        }
    }

    /// Whether it timed out.
    pub fn is_timeout(&self) -> bool {
        self.kind == CallErrorKind::Timeout
    }

    /// Whether no connection could be made.
    pub fn is_connect(&self) -> bool {
        self.kind == CallErrorKind::Connect
    }

    /// Whether the answer was larger than allowed (retrying will not help).
    pub fn is_too_large(&self) -> bool {
        self.kind == CallErrorKind::TooLarge
    }

    /// Whether no connection could be made because a certificate (the server's, or an
    /// `https://` proxy's) is not signed by a trusted CA: trusting its CA (a CA bundle, or the
    /// system's store) would help.
    pub fn is_untrusted_certificate(&self) -> bool {
        self.kind == CallErrorKind::Connect && self.cause.as_deref().is_some_and(|e| unknown_issuer(e))
    }
}

/// Whether `e` or a cause under it is rustls refusing a certificate of an unknown issuer
/// (inside `io::Error`s too, whose `source` skips the error they wrap).
fn unknown_issuer(e: &(dyn std::error::Error + 'static)) -> bool {
    use rustls::{CertificateError, Error as Tls};
    if let Some(Tls::InvalidCertificate(CertificateError::UnknownIssuer)) = e.downcast_ref::<Tls>() {
        return true;
    }
    if let Some(inner) = e.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
        if unknown_issuer(inner) {
            return true;
        }
    }
    e.source().is_some_and(unknown_issuer)
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The source is the innermost cause (`Connection refused`, a certificate error), not hyper's
/// wrappers around it (`client error (Connect)`), which say nothing the Display does not; or
/// what a proxy did wrong, which says whose connection or certificate failed.
impl std::error::Error for CallError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        let mut root: &(dyn std::error::Error + 'static) = self.cause.as_deref()?;
        while let Some(inner) = root.source() {
            if root.is::<ProxyFailure>() {
                break;
            }
            root = inner;
        }
        Some(root)
    }
}

/// `scheme://host[:port]`: where a failed request went, without user info, path or query
/// (which may carry a password or a presigned signature).
fn origin(uri: &http::Uri) -> String {
    let authority = uri.authority().map(|a| a.as_str()).unwrap_or("");
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    format!("{}://{host}", uri.scheme_str().unwrap_or("http"))
}

/// Query parameters that carry a signature, a token or a key id.
const SECRET_PARAMS: [&str; 5] =
    ["x-amz-signature", "x-amz-security-token", "x-amz-credential", "signature", "awsaccesskeyid"];

/// `url` fit for an error message or a log: user info and the values of signing parameters
/// (`X-Amz-Signature`, `X-Amz-Security-Token`, `X-Amz-Credential`...) replaced by `REDACTED`.
///
/// ```
/// let url = "https://user:pw@b.s3.amazonaws.com/k?X-Amz-Signature=abc&x-id=GetObject";
/// assert_eq!(
///     cirrus::transport::redact_url(url),
///     "https://REDACTED@b.s3.amazonaws.com/k?X-Amz-Signature=REDACTED&x-id=GetObject"
/// );
/// ```
pub fn redact_url(url: &str) -> String {
    let (before_fragment, fragment) = match url.split_once('#') {
        Some((a, f)) => (a, Some(f)),
        None => (url, None),
    };
    let (base, query) = match before_fragment.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (before_fragment, None),
    };
    let mut out = match base.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
            match authority.rsplit_once('@') {
                Some((_, host)) => format!("{scheme}://REDACTED@{host}{path}"),
                None => base.to_owned(),
            }
        }
        None => base.to_owned(),
    };
    if let Some(q) = query {
        out.push('?');
        let params: Vec<String> = q
            .split('&')
            .map(|p| {
                let name = p.split('=').next().unwrap_or("");
                if SECRET_PARAMS.contains(&name.to_ascii_lowercase().as_str()) {
                    format!("{name}=REDACTED")
                } else {
                    p.to_owned()
                }
            })
            .collect();
        out.push_str(&params.join("&"));
    }
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

/// Sends `request` and waits for the response head, at most `wait` (none: no limit).
pub(crate) async fn send(
    pool: &Pool,
    mut request: http::Request<SendBody>,
    wait: Option<Duration>,
) -> Result<http::Response<Incoming>, CallError> {
    let uri = request.uri().clone();
    let proxy = pool.proxy_for(&uri);
    let via = proxy.as_ref().map(|p| format!(" through the proxy {}", origin(p.uri()))).unwrap_or_default();
    let plain_through_proxy = proxy.is_some() && uri.scheme() != Some(&http::uri::Scheme::HTTPS);
    if plain_through_proxy {
        // In absolute form to the proxy itself: the credentials go in this request's head.
        if let Some(auth) = proxy.as_ref().and_then(|p| p.basic_auth()) {
            request.headers_mut().insert(http::header::PROXY_AUTHORIZATION, auth.clone());
        }
    }
    let fut = pool.hyper.request(request);
    let result = match wait {
        Some(t) => tokio::time::timeout(t, fut).await.map_err(|_| CallError::timed_out("the response", t, &uri))?,
        None => fut.await,
    };
    let response = result.map_err(|e| CallError::from_hyper(e, &uri, &via))?;
    // A 407, or a 401 asking for Basic auth (tinyproxy's answer to wrong credentials; AWS never
    // asks for Basic auth), is the proxy's.
    let basic_challenge = response
        .headers()
        .get(http::header::WWW_AUTHENTICATE)
        .is_some_and(|v| v.as_bytes().len() >= 5 && v.as_bytes()[..5].eq_ignore_ascii_case(b"basic"));
    let status = response.status().as_u16();
    if plain_through_proxy && (status == 407 || (status == 401 && basic_challenge)) {
        let had_credentials = proxy.as_ref().is_some_and(|p| p.basic_auth().is_some());
        let reason = response.status().canonical_reason().unwrap_or_default();
        let failure = ProxyFailure::auth(had_credentials, &format!("{status} {reason}"));
        return Err(CallError {
            message: format!("could not connect ({}{via})", origin(&uri)),
            kind: CallErrorKind::Connect,
            cause: Some(Arc::new(failure)),
        });
    }
    Ok(response)
}

/// Reads a whole body, at most `limit` bytes, each read within `wait`.
pub(crate) async fn read_all(
    mut body: Incoming,
    limit: usize,
    wait: Option<Duration>,
    uri: &http::Uri,
) -> Result<Bytes, CallError> {
    let mut buf = bytes::BytesMut::new();
    while let Some(chunk) = next_chunk(&mut body, wait, uri).await? {
        if buf.len() + chunk.len() > limit {
            return Err(CallError::too_large(limit, uri));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

/// The next data chunk of a body (trailers skipped), each read within `wait`.
async fn next_chunk(body: &mut Incoming, wait: Option<Duration>, uri: &http::Uri) -> Result<Option<Bytes>, CallError> {
    loop {
        let frame = match wait {
            Some(t) => {
                tokio::time::timeout(t, body.frame()).await.map_err(|_| CallError::timed_out("the body", t, uri))?
            }
            None => body.frame().await,
        };
        match frame {
            None => return Ok(None),
            Some(Err(e)) => return Err(CallError::body(e, uri)),
            Some(Ok(f)) => {
                if let Ok(data) = f.into_data() {
                    if !data.is_empty() {
                        return Ok(Some(data));
                    }
                }
            }
        }
    }
}

/// A body as a stream of chunks, each read within `wait`.
pub(crate) fn stream_body(
    body: Incoming,
    wait: Option<Duration>,
    uri: http::Uri,
) -> BoxStream<'static, Result<Bytes, CallError>> {
    stream::unfold(Some(body), move |state| {
        let uri = uri.clone();
        async move {
            let mut body = state?;
            match next_chunk(&mut body, wait, &uri).await {
                Ok(Some(chunk)) => Some((Ok(chunk), Some(body))),
                Ok(None) => None,
                Err(e) => Some((Err(e), None)),
            }
        }
    })
    .boxed()
}
