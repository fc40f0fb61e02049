//! Signing requests that cirrus does not send itself (the aws-requests-auth use case:
//! OpenSearch, API Gateway `execute-api`, any service): a [`RequestSigner`] signs a
//! `http::Request` (or, with the `reqwest` feature, a `reqwest::Request`) with credentials from
//! any provider, refreshed through the cache; with the `middleware` feature,
//! [`SigningMiddleware`] signs every request a `reqwest-middleware` client sends. For a URL
//! with nothing more said, [`service_from_host`] and [`region_from_host`] read the signing
//! name and the region from an AWS host.

mod host;

pub use host::{region_from_host, service_from_host};

use crate::clock::{SharedClock, SystemClock};
use crate::identity::{CredentialsError, SharedCredentialsProvider};
use cirrus_sigv4::{Payload, SigningError, SigningParams, SigningSettings};
use std::fmt;
use std::sync::Arc;

/// Signs requests for one service in one region.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use cirrus::credentials::StaticCredentials;
/// use cirrus::signing::RequestSigner;
/// use std::sync::Arc;
///
/// // Fixed keys here; `Config::from_env()?.credentials()` in practice.
/// let credentials = Arc::new(StaticCredentials::new("AKIDEXAMPLE", "secret", None));
/// let signer = RequestSigner::new(credentials, "eu-west-1", "execute-api");
/// let url = "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/orders";
/// let mut request = http::Request::post(url)
///     .header("content-type", "application/json")
///     .body(br#"{"item": 42}"#.to_vec())?;
/// signer.sign_http(&mut request).await?;
/// assert!(request.headers().contains_key("authorization"));
/// // Send `request` with any HTTP client.
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct RequestSigner {
    credentials: SharedCredentialsProvider,
    region: String,
    service: String,
    clock: SharedClock,
}

/// Why a request could not be signed: no credentials, a request the signer refuses, or a URL
/// or header that is not valid HTTP. Display says which; the cause is the
/// [`source`](std::error::Error::source).
#[derive(Debug)]
pub struct SignError(Why);

#[derive(Debug)]
enum Why {
    Credentials(CredentialsError),
    Signing(SigningError),
    InvalidRequest { uri: String, source: http::Error },
}

impl SignError {
    /// The credentials error, when there were no credentials to sign with.
    pub fn credentials_error(&self) -> Option<&CredentialsError> {
        match &self.0 {
            Why::Credentials(e) => Some(e),
            _ => None,
        }
    }

    /// The signer's error, when it refused the request as it is.
    pub fn signing_error(&self) -> Option<&SigningError> {
        match &self.0 {
            Why::Signing(e) => Some(e),
            _ => None,
        }
    }

    /// The request's URL or headers are not valid HTTP (nothing was signed).
    pub fn is_invalid_request(&self) -> bool {
        matches!(self.0, Why::InvalidRequest { .. })
    }
}

impl fmt::Display for SignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The reason is the source.
        match &self.0 {
            Why::Credentials(_) => f.write_str("no credentials to sign with"),
            Why::Signing(_) => f.write_str("cannot sign the request"),
            Why::InvalidRequest { uri, .. } => write!(f, "cannot sign an invalid request ({uri:?})"),
        }
    }
}

impl std::error::Error for SignError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.0 {
            Why::Credentials(e) => Some(e),
            Why::Signing(e) => Some(e),
            Why::InvalidRequest { source, .. } => Some(source),
        }
    }
}

impl RequestSigner {
    /// Signs for `service` (the signing name: `es`, `execute-api`, `s3`...) in `region`.
    pub fn new(credentials: SharedCredentialsProvider, region: impl Into<String>, service: impl Into<String>) -> Self {
        RequestSigner { credentials, region: region.into(), service: service.into(), clock: Arc::new(SystemClock) }
    }

    /// Uses this clock for the signing time.
    #[must_use]
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// Signs request parts whose body is `payload`. On failure the parts are unchanged.
    pub async fn sign_parts(&self, parts: &mut http::request::Parts, payload: Payload<'_>) -> Result<(), SignError> {
        let c = self.credentials.provide_credentials().await.map_err(|e| SignError(Why::Credentials(e)))?;
        if !parts.headers.contains_key(http::header::HOST) {
            if let Some(a) = parts.uri.authority() {
                if let Ok(v) = http::HeaderValue::from_str(a.as_str()) {
                    parts.headers.insert(http::header::HOST, v);
                }
            }
        }
        let params =
            SigningParams::new(c.access_key_id(), c.secret_access_key(), &self.region, &self.service, self.clock.now())
                .session_token(c.session_token())
                .settings(SigningSettings::for_service(&self.service));
        cirrus_sigv4::sign_http(parts, payload, &params).map_err(|e| SignError(Why::Signing(e)))?;
        Ok(())
    }

    /// Signs an `http::Request` whose body is in memory.
    pub async fn sign_http<B: AsRef<[u8]>>(&self, request: &mut http::Request<B>) -> Result<(), SignError> {
        let mut parts = parts_of(request.method(), &request.uri().to_string(), request.headers())?;
        self.sign_parts(&mut parts, Payload::Bytes(request.body().as_ref())).await?;
        *request.uri_mut() = parts.uri;
        *request.headers_mut() = parts.headers;
        Ok(())
    }

    /// Signs a `reqwest::Request` (feature `reqwest`). A body in memory is hashed; a streaming
    /// body is signed as `UNSIGNED-PAYLOAD` (which S3 accepts; most services do not).
    #[cfg(feature = "reqwest")]
    pub async fn sign_reqwest(&self, request: &mut reqwest::Request) -> Result<(), SignError> {
        let mut parts = parts_of(request.method(), request.url().as_str(), request.headers())?;
        let body = request.body().map(|b| b.as_bytes());
        let payload = match body {
            None => Payload::Bytes(b""),
            Some(Some(bytes)) => Payload::Bytes(bytes),
            Some(None) => Payload::Unsigned,
        };
        self.sign_parts(&mut parts, payload).await?;
        parts.headers.remove(http::header::HOST);
        *request.headers_mut() = parts.headers;
        if parts.uri.query() != request.url().query() {
            if let Ok(u) = reqwest::Url::parse(&parts.uri.to_string()) {
                *request.url_mut() = u;
            }
        }
        Ok(())
    }
}

fn parts_of(method: &http::Method, uri: &str, headers: &http::HeaderMap) -> Result<http::request::Parts, SignError> {
    let mut builder = http::Request::builder().method(method.clone()).uri(uri);
    if let Some(h) = builder.headers_mut() {
        h.clone_from(headers);
    }
    builder
        .body(())
        .map(|r| r.into_parts().0)
        .map_err(|source| SignError(Why::InvalidRequest { uri: uri.to_owned(), source }))
}

impl fmt::Debug for RequestSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestSigner")
            .field("region", &self.region)
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

/// A `reqwest-middleware` middleware that signs every request (feature `middleware`).
#[cfg(feature = "middleware")]
#[derive(Clone, Debug)]
pub struct SigningMiddleware(pub RequestSigner);

#[cfg(feature = "middleware")]
#[async_trait::async_trait]
impl reqwest_middleware::Middleware for SigningMiddleware {
    async fn handle(
        &self,
        mut req: reqwest::Request,
        extensions: &mut http::Extensions,
        next: reqwest_middleware::Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        self.0.sign_reqwest(&mut req).await.map_err(reqwest_middleware::Error::middleware)?;
        next.run(req, extensions).await
    }
}
