//! Proxies and trusted roots: `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` as curl and the AWS
//! SDKs read them, and the certificates a TLS connection may chain to (the built-in roots, a PEM
//! bundle that replaces them as botocore's `AWS_CA_BUNDLE` does, or the system's).
//!
//! https requests go through a proxy in a `CONNECT` tunnel (TLS end to end, the proxy sees only
//! the host and port); http requests are sent to the proxy in absolute form. An `https://` proxy
//! is reached over TLS of its own (its certificate checked against the same roots), and the
//! tunnel runs inside it. Basic auth comes from the proxy URL's user info and is never printed.

use super::client::redact_url;
use super::ParseError;
use crate::env::Env;
use hyper_util::client::proxy::matcher::Matcher;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use std::fmt;
use std::sync::Arc;

/// Which proxy each request goes through: one for http URLs, one for https URLs, and the hosts
/// that bypass both. Debug shows the URLs without their passwords.
///
/// ```
/// use cirrus::transport::ProxySettings;
///
/// let env = [("HTTPS_PROXY", "http://user:secret@proxy.corp:3128"), ("NO_PROXY", "localhost,.internal")];
/// let proxies = ProxySettings::from_env(&env)?;
/// assert_eq!(proxies.https_proxy(), Some("http://user:secret@proxy.corp:3128"));
/// assert!(!format!("{proxies:?}").contains("secret"));
/// assert!(ProxySettings::from_env(&[("HTTPS_PROXY", "https://proxy.corp:8443")]).is_ok());
/// assert!(ProxySettings::from_env(&[("HTTPS_PROXY", "socks5://proxy:1080")]).is_err());
/// # Ok::<(), cirrus::transport::ParseError>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ProxySettings {
    http: Option<String>,
    https: Option<String>,
    no_proxy: Option<String>,
    /// Why the environment's settings could not be used (`from_env_or_broken`): every
    /// connection of the proxied pool fails with it.
    broken: Option<String>,
}

impl ProxySettings {
    /// No proxy: every connection is made directly.
    pub fn none() -> Self {
        ProxySettings::default()
    }

    /// `HTTPS_PROXY` (or `https_proxy`), `HTTP_PROXY` (or `http_proxy`) and `NO_PROXY` (or
    /// `no_proxy`: host names, domain suffixes, IP addresses and ranges, or `*`). A value that is
    /// not an `http://` or `https://` proxy URL is an error, not a silent direct connection.
    pub fn from_env(env: &dyn Env) -> Result<Self, ParseError> {
        let first = |names: [&'static str; 2]| names.into_iter().find_map(|n| env.get(n).map(|v| (n, v)));
        let mut settings = ProxySettings::none();
        if let Some((name, url)) = first(["HTTPS_PROXY", "https_proxy"]) {
            settings.https = Some(check_proxy_url(name, &url)?);
        }
        if let Some((name, url)) = first(["HTTP_PROXY", "http_proxy"]) {
            settings.http = Some(check_proxy_url(name, &url)?);
        }
        Ok(match first(["NO_PROXY", "no_proxy"]) {
            Some((_, list)) => settings.with_no_proxy(&list),
            None => settings,
        })
    }

    /// The environment's settings as [`from_env`](Self::from_env) reads them, for a client
    /// built where no error can be returned ([`Context::http`](crate::Context::http)): settings
    /// that are not valid make every connection that would use a proxy fail with the reason,
    /// rather than go around the proxy.
    pub(crate) fn from_env_or_broken(env: &dyn Env) -> Self {
        ProxySettings::from_env(env)
            .unwrap_or_else(|e| ProxySettings { broken: Some(e.to_string()), ..Default::default() })
    }

    /// Why the settings could not be read, if they could not.
    pub(crate) fn broken(&self) -> Option<Arc<str>> {
        self.broken.as_deref().map(Arc::from)
    }

    /// Sends https requests through this proxy (`http://[user:password@]host:port`, or
    /// `https://...` for a proxy reached over TLS).
    pub fn with_https_proxy(mut self, url: &str) -> Result<Self, ParseError> {
        self.https = Some(check_proxy_url("the https proxy", url)?);
        Ok(self)
    }

    /// Sends http requests through this proxy.
    pub fn with_http_proxy(mut self, url: &str) -> Result<Self, ParseError> {
        self.http = Some(check_proxy_url("the http proxy", url)?);
        Ok(self)
    }

    /// Hosts that bypass the proxies, in `NO_PROXY`'s syntax: comma-separated host names (each
    /// also covers its subdomains; `.corp` and `*.corp` are taken as `corp`'s subdomains), IP
    /// addresses or ranges (`10.0.0.0/8`), or `*` for every host. An entry with a port
    /// (`localhost:9000`, `[::1]:8080`) or in brackets (`[::1]`) stands for its host, on any
    /// port.
    #[must_use]
    pub fn with_no_proxy(mut self, list: &str) -> Self {
        let entries: Vec<&str> = list
            .split(',')
            .map(|e| e.trim())
            .map(|e| e.strip_prefix('*').filter(|r| r.starts_with('.')).unwrap_or(e))
            .map(without_port)
            .collect();
        self.no_proxy = Some(entries.join(",")).filter(|l| !l.replace(',', "").is_empty());
        self
    }

    /// The proxy for https requests.
    pub fn https_proxy(&self) -> Option<&str> {
        self.https.as_deref()
    }

    /// The proxy for http requests.
    pub fn http_proxy(&self) -> Option<&str> {
        self.http.as_deref()
    }

    /// True when no request goes through a proxy.
    pub fn is_none(&self) -> bool {
        self.http.is_none() && self.https.is_none() && self.broken.is_none()
    }

    pub(crate) fn matcher(&self) -> Option<Arc<Matcher>> {
        // `*` bypasses every host (hyper-util's matcher applies it to names only, not to IPs).
        let everything = self.no_proxy.as_deref().is_some_and(|n| n.split(',').any(|e| e == "*"));
        if self.is_none() || everything {
            return None;
        }
        let mut builder = Matcher::builder();
        if let Some(u) = &self.http {
            builder = builder.http(u.clone());
        }
        if let Some(u) = &self.https {
            builder = builder.https(u.clone());
        }
        if let Some(n) = &self.no_proxy {
            builder = builder.no(n.clone());
        }
        Some(Arc::new(builder.build()))
    }
}

impl fmt::Debug for ProxySettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxySettings")
            .field("http", &self.http.as_deref().map(redact_url))
            .field("https", &self.https.as_deref().map(redact_url))
            .field("no_proxy", &self.no_proxy)
            .field("broken", &self.broken)
            .finish()
    }
}

/// `http://[user:password@]host[:port][/]`, `https://...` (TLS to the proxy), or `host:port`
/// (taken as http, as curl does). A SOCKS proxy is refused.
fn check_proxy_url(name: &str, url: &str) -> Result<String, ParseError> {
    let url = url.trim();
    let full = if url.contains("://") { url.to_owned() } else { format!("http://{url}") };
    // The user info runs to the last `@`: a password may hold `/`, `?`, `#` or `@`, which a URL
    // needs percent-encoded (the proxy's Basic auth is decoded from it again). Encoded here, the
    // URL parses as the user meant it, and the password is never read as a path or a port.
    let full = match full.split_once("://") {
        Some((scheme, rest)) => match rest.rsplit_once('@') {
            Some((userinfo, host)) => format!("{scheme}://{}@{host}", encode_userinfo(userinfo)),
            None => full,
        },
        None => full,
    };
    let shown = redact_url(&full);
    let (scheme, rest) = full.split_once("://").unwrap_or(("", ""));
    let authority = rest.split('/').next().unwrap_or("");
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let problem = if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        Some("is not an http:// or https:// proxy (SOCKS proxies are not supported)")
    } else if host.is_empty() || host.starts_with(':') {
        Some("names no host")
    } else if !super::valid_url(&full) {
        Some("is not a URL (a port is at most 65535)")
    } else if !matches!(&rest[authority.len()..], "" | "/") {
        Some("has a path; a proxy URL is scheme, host and port")
    } else {
        None
    };
    match problem {
        Some(p) => Err(ParseError::new("a proxy URL", format!("{name} {shown:?} {p}"))),
        None => Ok(full),
    }
}

/// A `NO_PROXY` entry without its port and brackets: `host:9000` is `host`, `[::1]:8080` and
/// `[::1]` are `::1`; a bare IPv6 address (`::1`, more than one colon) is left whole.
fn without_port(entry: &str) -> &str {
    if let Some(rest) = entry.strip_prefix('[') {
        return rest.split_once(']').map_or(entry, |(ip, _)| ip);
    }
    match entry.split_once(':') {
        Some((host, port)) if !port.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => entry,
    }
}

/// What is wrong with a PEM block, in words (the PEM reader's own Display prints the markers as
/// byte arrays).
fn pem_problem(e: &rustls::pki_types::pem::Error) -> String {
    use rustls::pki_types::pem::Error;
    match e {
        Error::MissingSectionEnd { end_marker } => {
            format!("it is cut short: no -----END {}----- line", String::from_utf8_lossy(end_marker).trim())
        }
        Error::IllegalSectionStart { line } => {
            format!("its first line {:?} is not a -----BEGIN ...----- line", String::from_utf8_lossy(line).trim())
        }
        Error::Base64Decode(why) => format!("its body is not base64 ({why})"),
        other => other.to_string(),
    }
}

/// `user:password` with what cannot stand in a URL's user info percent-encoded (`%` is kept:
/// an already encoded password stays as it is).
fn encode_userinfo(userinfo: &str) -> String {
    let mut out = String::with_capacity(userinfo.len());
    for b in userinfo.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:%".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The certificates a TLS server may chain to.
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum TlsRoots {
    /// The Mozilla roots compiled into cirrus (webpki-roots): the same everywhere.
    #[default]
    BuiltIn,
    /// These certificates only, in place of the built-in ones (`AWS_CA_BUNDLE`, `ca_bundle`).
    Bundle(Arc<Vec<CertificateDer<'static>>>),
    /// The operating system's trust store (feature `native-roots`).
    #[cfg(feature = "native-roots")]
    System,
}

impl TlsRoots {
    /// The certificates of a PEM bundle. A bundle with no certificate, or a block that is not
    /// one, is an error: trusting nothing would fail every connection later, less clearly.
    ///
    /// ```
    /// use cirrus::transport::TlsRoots;
    ///
    /// let e = TlsRoots::from_pem(b"not a certificate").err().unwrap();
    /// assert!(e.to_string().contains("no certificate"));
    /// ```
    pub fn from_pem(pem: &[u8]) -> Result<TlsRoots, ParseError> {
        let mut certs = Vec::new();
        let mut store = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(pem) {
            let n = certs.len() + 1;
            let cert =
                cert.map_err(|e| ParseError::new("a CA bundle", format!("certificate {n}: {}", pem_problem(&e))))?;
            // Base64 that decodes to something else than a certificate would be dropped by the
            // trust store without a word, and every connection would fail later.
            store.add(cert.clone()).map_err(|e| {
                ParseError::new(
                    "a CA bundle",
                    format!("certificate {n} is not an X.509 certificate a TLS client can trust ({e})"),
                )
            })?;
            certs.push(cert);
        }
        if certs.is_empty() {
            return Err(ParseError::new("a CA bundle", "it holds no certificate (-----BEGIN CERTIFICATE-----)"));
        }
        Ok(TlsRoots::Bundle(Arc::new(certs)))
    }

    pub(crate) fn store(&self) -> rustls::RootCertStore {
        match self {
            TlsRoots::BuiltIn => rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() },
            TlsRoots::Bundle(certs) => {
                let mut store = rustls::RootCertStore::empty();
                let (added, ignored) = store.add_parsable_certificates(certs.iter().cloned());
                tracing::debug!(added, ignored, "CA bundle");
                store
            }
            #[cfg(feature = "native-roots")]
            TlsRoots::System => {
                let found = rustls_native_certs::load_native_certs();
                for e in &found.errors {
                    tracing::warn!(error = %e, "reading the system's certificates");
                }
                let mut store = rustls::RootCertStore::empty();
                store.add_parsable_certificates(found.certs);
                store
            }
        }
    }
}

impl fmt::Debug for TlsRoots {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsRoots::BuiltIn => f.write_str("BuiltIn"),
            TlsRoots::Bundle(c) => write!(f, "Bundle({} certificates)", c.len()),
            #[cfg(feature = "native-roots")]
            TlsRoots::System => f.write_str("System"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_urls_are_checked() {
        assert_eq!(check_proxy_url("p", "proxy:3128").unwrap(), "http://proxy:3128");
        assert_eq!(check_proxy_url("p", "http://u:p@proxy:3128/").unwrap(), "http://u:p@proxy:3128/");
        assert_eq!(check_proxy_url("p", "http://u:p@proxy").unwrap(), "http://u:p@proxy");
        assert!(check_proxy_url("p", "http://[::1]:3128").is_ok());
        assert_eq!(check_proxy_url("p", "https://u:p@proxy:8443").unwrap(), "https://u:p@proxy:8443");
        for (bad, why) in [
            ("socks5://proxy:1080", "not an http://"),
            ("ftp://u:secret@proxy:21", "not an http://"),
            ("http://:3128", "no host"),
            ("http://u:secret@proxy:3128/path", "has a path"),
            ("http://u:secret@proxy:99999", "not a URL"),
            ("proxy:70000", "not a URL"),
            ("http://u:se/cr#et?@proxy:99999", "not a URL"),
            ("http://u:se/cr#et?@:3128", "no host"),
        ] {
            let e = check_proxy_url("HTTPS_PROXY", bad).unwrap_err().to_string();
            assert!(e.contains(why) && e.contains("HTTPS_PROXY") && !e.contains("secret"), "{bad}: {e}");
            assert!(!e.contains("cr") && !e.contains("et?"), "{bad}: {e}");
        }
    }

    /// A password holding `/`, `#`, `?` or `@` is the password, encoded for the URL (the
    /// proxy's Basic auth decodes it again), never a path, a fragment or a host.
    #[test]
    fn passwords_with_any_character() {
        assert_eq!(
            check_proxy_url("p", "http://u:pa/s#s?@x@proxy:3128").unwrap(),
            "http://u:pa%2Fs%23s%3F%40x@proxy:3128"
        );
        assert_eq!(check_proxy_url("p", "u:p%2Fw@proxy:3128").unwrap(), "http://u:p%2Fw@proxy:3128");
        let env = [("HTTPS_PROXY", "http://user:pa/ss@proxy:3128")];
        let p = ProxySettings::from_env(&env).unwrap();
        let seen = p.matcher().unwrap().intercept(&"https://s3.amazonaws.com/".parse().unwrap());
        let auth = seen.and_then(|i| i.basic_auth().cloned()).expect("basic auth");
        // `user:pa/ss` in base64.
        assert_eq!(auth.to_str().unwrap(), "Basic dXNlcjpwYS9zcw==");
        assert!(!format!("{p:?}").contains("pa"));
    }

    #[test]
    fn the_environment_names_the_proxies() {
        let env = [("https_proxy", "proxy:1"), ("HTTP_PROXY", "http://proxy:2"), ("no_proxy", "*.corp")];
        let p = ProxySettings::from_env(&env).unwrap();
        assert_eq!((p.https_proxy(), p.http_proxy()), (Some("http://proxy:1"), Some("http://proxy:2")));
        let m = p.matcher().unwrap();
        assert!(m.intercept(&"https://s3.amazonaws.com/".parse().unwrap()).is_some());
        assert!(m.intercept(&"https://a.b.corp/".parse().unwrap()).is_none());
        assert!(m.intercept(&"https://corp.example/".parse().unwrap()).is_some());
        let m = ProxySettings::none()
            .with_https_proxy("proxy:1")
            .unwrap()
            .with_no_proxy(" .internal , 10.0.0.0/8")
            .matcher()
            .unwrap();
        assert!(m.intercept(&"https://s3.internal/".parse().unwrap()).is_none());
        assert!(m.intercept(&"https://10.1.2.3/".parse().unwrap()).is_none());
        assert!(m.intercept(&"https://11.1.2.3/".parse().unwrap()).is_some());
        assert!(ProxySettings::none().with_https_proxy("proxy:1").unwrap().with_no_proxy("x, *").matcher().is_none());
        // Ports and brackets, as curl and Go take them.
        let m = ProxySettings::none()
            .with_https_proxy("proxy:1")
            .unwrap()
            .with_no_proxy("localhost:9000, [::1]:8080, [fd00::7], 127.0.0.1:9")
            .matcher()
            .unwrap();
        for direct in ["https://localhost:9000/", "https://[::1]:8080/", "https://[fd00::7]/", "https://127.0.0.1:9/"] {
            assert!(m.intercept(&direct.parse().unwrap()).is_none(), "{direct}");
        }
        assert!(m.intercept(&"https://example.com:9000/".parse().unwrap()).is_some());
        assert!(ProxySettings::from_env(&[("HOME", "/")]).unwrap().matcher().is_none());
    }

    /// A bundle cut short, or a block whose body is no certificate, is refused with what is
    /// wrong, in words.
    #[test]
    fn a_broken_bundle_says_what_is_wrong() {
        let cut = b"-----BEGIN CERTIFICATE-----\nMIIB\n";
        let e = TlsRoots::from_pem(cut).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("certificate 1: it is cut short: no -----END CERTIFICATE----- line"), "{e}");
        assert!(!e.contains("[45"), "{e}");
        let junk = b"-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n";
        let e = TlsRoots::from_pem(junk).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("certificate 1 is not an X.509 certificate"), "{e}");
    }

    #[test]
    fn an_empty_bundle_is_an_error() {
        assert!(TlsRoots::from_pem(b"").is_err());
        let garbage = b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
        assert!(TlsRoots::from_pem(garbage).is_err());
    }
}
