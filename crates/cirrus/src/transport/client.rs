//! The connection pool: hyper's client over rustls (ring, the webpki roots compiled in), built on
//! first use so a program that never calls out pays nothing at start-up.
//!
//! hyper rather than reqwest: request targets go out exactly as built (`http::Uri` does not
//! resolve `.` and `..` segments, which S3 keys may contain), and the dependency tree stays small.

use super::TransportSettings;
use bytes::Bytes;
use futures_util::stream::{self, BoxStream, StreamExt};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

type Connector = hyper_rustls::HttpsConnector<HttpConnector>;
pub(crate) type Hyper = Client<Connector, Full<Bytes>>;

/// Builds the pool on first use.
#[derive(Default)]
pub(crate) struct LazyPool(OnceLock<Hyper>);

impl LazyPool {
    pub(crate) fn get(&self, settings: &TransportSettings) -> &Hyper {
        self.0.get_or_init(|| build(settings))
    }
}

fn build(settings: &TransportSettings) -> Hyper {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(settings.connect_timeout));
    let tls = tls_config(rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() });
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Client::builder(TokioExecutor::new()).pool_idle_timeout(Duration::from_secs(90)).build(https)
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

    pub(crate) fn from_hyper(e: hyper_util::client::legacy::Error, uri: &http::Uri) -> Self {
        let (head, kind) = if e.is_connect() {
            ("could not connect", CallErrorKind::Connect)
        } else {
            ("the request failed", CallErrorKind::Broken)
        };
        CallError { message: format!("{head} ({})", origin(uri)), kind, cause: Some(Arc::new(e)) }
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
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The source is the innermost cause (`Connection refused`, a certificate error), not hyper's
/// wrappers around it (`client error (Connect)`), which say nothing the Display does not.
impl std::error::Error for CallError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        let mut root: &(dyn std::error::Error + 'static) = self.cause.as_deref()?;
        while let Some(inner) = root.source() {
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
    pool: &Hyper,
    request: http::Request<Bytes>,
    wait: Option<Duration>,
) -> Result<http::Response<Incoming>, CallError> {
    let uri = request.uri().clone();
    let fut = pool.request(request.map(Full::new));
    let result = match wait {
        Some(t) => tokio::time::timeout(t, fut).await.map_err(|_| CallError::timed_out("the response", t, &uri))?,
        None => fut.await,
    };
    result.map_err(|e| CallError::from_hyper(e, &uri))
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
