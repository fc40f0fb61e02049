//! One https GET at a time, for the signing certificate and `SubscribeURL`: no redirects, no
//! plain http, a size limit and a time limit. Rare enough (certificates are cached) that a
//! connection per fetch costs nothing worth pooling.

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Fetches SNS certificates over https.
#[derive(Clone)]
pub struct CertFetcher {
    tls: Arc<rustls::ClientConfig>,
    /// What an https:// proxy's certificate is checked against.
    proxy_tls: Arc<rustls::ClientConfig>,
    connect_to: Option<SocketAddr>,
    timeout: Duration,
    proxy: crate::transport::ProxySettings,
}

impl fmt::Debug for CertFetcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertFetcher")
            .field("connect_to", &self.connect_to)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Default for CertFetcher {
    fn default() -> Self {
        CertFetcher::new()
    }
}

pub(crate) enum FetchError {
    TooLarge(usize),
    Other(String),
}

impl FetchError {
    pub(crate) fn reason(&self) -> String {
        match self {
            FetchError::TooLarge(n) => format!("the answer is larger than {n} bytes"),
            FetchError::Other(r) => r.clone(),
        }
    }
}

fn tls_config(roots: rustls::RootCertStore) -> Arc<rustls::ClientConfig> {
    Arc::new(crate::transport::client::tls_config(roots))
}

impl CertFetcher {
    /// Trusts the webpki roots (Mozilla's), waits at most 10 seconds.
    pub fn new() -> Self {
        let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
        CertFetcher {
            proxy_tls: tls_config(roots.clone()),
            tls: tls_config(roots),
            connect_to: None,
            timeout: Duration::from_secs(10),
            proxy: crate::transport::ProxySettings::none(),
        }
    }

    /// Trusts only these root certificates (DER), e.g. a private CA in front of SNS or in tests.
    pub fn with_root_certificates<'a>(
        self,
        roots: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<Self, crate::transport::ParseError> {
        let mut store = rustls::RootCertStore::empty();
        for der in roots {
            store.add(rustls::pki_types::CertificateDer::from(der.to_vec())).map_err(|e| {
                crate::transport::ParseError::with_source("a root certificate", "not usable as a trust anchor", e)
            })?;
        }
        Ok(CertFetcher { tls: tls_config(store), ..self })
    }

    /// Connects to this address whatever the URL's host (which TLS still checks the server's
    /// certificate against): for a proxy that terminates nothing, or a test server.
    #[must_use]
    pub fn connect_to(mut self, addr: SocketAddr) -> Self {
        self.connect_to = Some(addr);
        self
    }

    /// Fetches through these proxies (a `CONNECT` tunnel; TLS stays end to end with SNS), e.g.
    /// [`ProxySettings::from_env`](crate::transport::ProxySettings::from_env).
    #[must_use]
    pub fn proxy(mut self, proxy: crate::transport::ProxySettings) -> Self {
        self.proxy = proxy;
        self
    }

    /// Checks an `https://` proxy's certificate against these roots (default: the built-in
    /// ones), e.g. the CA bundle the rest of the program trusts.
    #[must_use]
    pub fn proxy_roots(mut self, roots: &crate::transport::TlsRoots) -> Self {
        self.proxy_tls = tls_config(roots.store());
        self
    }

    /// The most a fetch may take, connection included.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// GETs an `https://host/...` URL; only a 200 answer of at most `limit` bytes is returned.
    pub(crate) async fn get(&self, url: &str, limit: usize) -> Result<Bytes, FetchError> {
        let other = |r: String| FetchError::Other(r);
        let rest = url.strip_prefix("https://").ok_or_else(|| other("not an https URL".into()))?;
        let (host, target) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let target = if target.is_empty() { "/" } else { target };
        let uri: http::Uri = url.parse().map_err(|e| other(format!("bad URL: {e}")))?;
        let work = async {
            let via = self.proxy.matcher().and_then(|m| m.intercept(&uri));
            let https_proxy = via.as_ref().is_some_and(|p| p.uri().scheme() == Some(&http::uri::Scheme::HTTPS));
            let tcp = match (&via, self.connect_to) {
                (Some(p), _) => {
                    let authority = p.uri().authority().map(|a| a.as_str().to_owned()).unwrap_or_default();
                    let authority = authority.rsplit_once('@').map_or(authority.clone(), |(_, h)| h.to_owned());
                    let default_port = if https_proxy { 443 } else { 80 };
                    let port = if authority.rsplit_once(']').map_or(authority.as_str(), |(_, p)| p).contains(':') {
                        authority
                    } else {
                        format!("{authority}:{default_port}")
                    };
                    tokio::net::TcpStream::connect(port).await
                }
                (None, Some(addr)) => tokio::net::TcpStream::connect(addr).await,
                (None, None) => tokio::net::TcpStream::connect((host, 443)).await,
            }
            .map_err(|e| {
                other(format!("could not connect{}: {e}", if via.is_some() { " to the proxy" } else { "" }))
            })?;
            let _ = tcp.set_nodelay(true);
            let mut tcp = tcp;
            match &via {
                // TLS to the proxy, the tunnel inside it, and TLS to SNS inside the tunnel.
                Some(p) if https_proxy => {
                    let proxy_host = p.uri().host().unwrap_or_default().trim_start_matches('[').trim_end_matches(']');
                    let name = rustls::pki_types::ServerName::try_from(proxy_host.to_owned())
                        .map_err(|e| other(format!("bad proxy host name: {e}")))?;
                    let mut tls = tokio_rustls::TlsConnector::from(self.proxy_tls.clone())
                        .connect(name, tcp)
                        .await
                        .map_err(|e| other(format!("TLS to the proxy: {e}")))?;
                    crate::transport::client::tunnel(&mut tls, &uri, p.basic_auth())
                        .await
                        .map_err(|e| other(e.to_string()))?;
                    self.get_over(tls, host, target, &uri, limit).await
                }
                Some(p) => {
                    crate::transport::client::tunnel(&mut tcp, &uri, p.basic_auth())
                        .await
                        .map_err(|e| other(e.to_string()))?;
                    self.get_over(tcp, host, target, &uri, limit).await
                }
                None => self.get_over(tcp, host, target, &uri, limit).await,
            }
        };
        tokio::time::timeout(self.timeout, work)
            .await
            .map_err(|_| other(format!("no answer within {:?}", self.timeout)))?
    }

    /// TLS to `host` over `stream` (a connection to it, or a tunnel), then the GET of `target`.
    async fn get_over<S>(
        &self,
        stream: S,
        host: &str,
        target: &str,
        uri: &http::Uri,
        limit: usize,
    ) -> Result<Bytes, FetchError>
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let other = |r: String| FetchError::Other(r);
        let name = rustls::pki_types::ServerName::try_from(host.to_owned())
            .map_err(|e| other(format!("bad host name: {e}")))?;
        let tls = tokio_rustls::TlsConnector::from(self.tls.clone())
            .connect(name, stream)
            .await
            .map_err(|e| other(format!("TLS: {e}")))?;
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(TokioIo::new(tls)).await.map_err(|e| other(format!("HTTP: {e}")))?;
        let driver = tokio::spawn(conn);
        let request = http::Request::get(target)
            .header(http::header::HOST, host)
            .header(http::header::USER_AGENT, concat!("cirrus/", env!("CARGO_PKG_VERSION")))
            .header(http::header::CONNECTION, "close")
            .body(Full::new(Bytes::new()))
            .map_err(|e| other(format!("bad request: {e}")))?;
        let response = sender.send_request(request).await.map_err(|e| other(format!("HTTP: {e}")))?;
        if response.status() != http::StatusCode::OK {
            driver.abort();
            return Err(other(format!("HTTP {} (redirects are not followed)", response.status())));
        }
        let body = crate::transport::client::read_all(response.into_body(), limit, None, uri).await;
        driver.abort();
        body.map_err(|e| if e.is_too_large() { FetchError::TooLarge(limit) } else { other(e.to_string()) })
    }
}
