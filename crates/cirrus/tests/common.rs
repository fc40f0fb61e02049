//! Helpers shared by the integration tests.

#![allow(dead_code)]

use std::future::Future;
use std::path::PathBuf;

/// Runs a future on a fresh multi-threaded runtime.
pub fn block_on<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap().block_on(f)
}

/// A libtest-mimic trial from a test that returns a Result.
pub fn trial(name: impl Into<String>, f: impl FnOnce() -> Result<(), String> + Send + 'static) -> libtest_mimic::Trial {
    libtest_mimic::Trial::test(name, move || f().map_err(Into::into))
}

/// `testdata` seen from the workspace.
pub fn testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

/// Fails the test with a message.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A request as a loopback server saw it.
#[derive(Clone, Debug, Default)]
pub struct Seen {
    pub method: String,
    pub target: String,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(&name.to_ascii_lowercase()).map(String::as_str)
    }
}

/// What a loopback server answers.
#[derive(Clone, Debug)]
pub enum Reply {
    /// Status, headers, body.
    Http(u16, Vec<(String, String)>, Vec<u8>),
    /// Headers announcing `len` bytes, then only half of them, then the connection is closed.
    CutBody(usize),
    /// Wait this long before answering.
    Slow(std::time::Duration, Box<Reply>),
}

impl Reply {
    pub fn ok(body: impl Into<Vec<u8>>) -> Reply {
        Reply::Http(200, vec![], body.into())
    }

    pub fn status(status: u16, body: impl Into<Vec<u8>>) -> Reply {
        Reply::Http(status, vec![], body.into())
    }

    pub fn with_header(self, name: &str, value: &str) -> Reply {
        match self {
            Reply::Http(s, mut h, b) => {
                h.push((name.to_owned(), value.to_owned()));
                Reply::Http(s, h, b)
            }
            other => other,
        }
    }
}

type Handler = dyn Fn(usize, &Seen) -> Reply + Send + Sync;

/// A small HTTP/1.1 server on 127.0.0.1 for what no emulator offers (IMDS, the container
/// endpoint, fault injection). Records every request; `handler` gets the request's index.
pub struct Loopback {
    pub url: String,
    pub port: u16,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    count: Arc<AtomicUsize>,
    connections: Arc<AtomicUsize>,
}

impl Loopback {
    pub async fn start(handler: impl Fn(usize, &Seen) -> Reply + Send + Sync + 'static) -> Loopback {
        Loopback::launch(None, handler).await
    }

    /// The same server over TLS with this certificate chain and key (`url` is https).
    pub async fn start_tls(
        config: Arc<rustls::ServerConfig>,
        handler: impl Fn(usize, &Seen) -> Reply + Send + Sync + 'static,
    ) -> Loopback {
        Loopback::launch(Some(tokio_rustls::TlsAcceptor::from(config)), handler).await
    }

    async fn launch(
        tls: Option<tokio_rustls::TlsAcceptor>,
        handler: impl Fn(usize, &Seen) -> Reply + Send + Sync + 'static,
    ) -> Loopback {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let count = Arc::new(AtomicUsize::new(0));
        let handler: Arc<Handler> = Arc::new(handler);
        let connections = Arc::new(AtomicUsize::new(0));
        let (s, c, accepted) = (seen.clone(), count.clone(), connections.clone());
        let scheme = if tls.is_some() { "https" } else { "http" };
        tokio::spawn(async move {
            loop {
                let Ok((conn, _)) = listener.accept().await else { return };
                accepted.fetch_add(1, Ordering::SeqCst);
                let (s, c, h, tls) = (s.clone(), c.clone(), handler.clone(), tls.clone());
                tokio::spawn(async move {
                    let _ = match tls {
                        None => serve(conn, s, c, h).await,
                        Some(acceptor) => match acceptor.accept(conn).await {
                            Ok(stream) => serve(stream, s, c, h).await,
                            Err(_) => Ok(()),
                        },
                    };
                });
            }
        });
        Loopback { url: format!("{scheme}://127.0.0.1:{port}"), port, seen, count, connections }
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

async fn serve<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    mut conn: S,
    seen: Arc<Mutex<Vec<Seen>>>,
    count: Arc<AtomicUsize>,
    handler: Arc<Handler>,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    loop {
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i;
            }
            let mut chunk = [0u8; 4096];
            let n = conn.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let mut lines = head.split("\r\n");
        let mut first = lines.next().unwrap_or("").split(' ');
        let mut req = Seen {
            method: first.next().unwrap_or("").to_owned(),
            target: first.next().unwrap_or("").to_owned(),
            ..Seen::default()
        };
        for l in lines {
            if let Some((k, v)) = l.split_once(':') {
                req.headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
            }
        }
        let len: usize = req.header("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
        buf.drain(..head_end + 4);
        while buf.len() < len {
            let mut chunk = [0u8; 4096];
            let n = conn.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        req.body = buf.drain(..len).collect();
        let i = count.fetch_add(1, Ordering::SeqCst);
        let mut reply = handler(i, &req);
        seen.lock().unwrap().push(req);
        while let Reply::Slow(d, r) = reply {
            tokio::time::sleep(d).await;
            reply = *r;
        }
        match reply {
            Reply::Http(status, headers, body) => {
                let mut out = format!("HTTP/1.1 {status} X\r\ncontent-length: {}\r\n", body.len());
                for (k, v) in headers {
                    out.push_str(&format!("{k}: {v}\r\n"));
                }
                out.push_str("\r\n");
                conn.write_all(out.as_bytes()).await?;
                conn.write_all(&body).await?;
            }
            Reply::CutBody(n) => {
                let out = format!("HTTP/1.1 200 OK\r\ncontent-length: {n}\r\n\r\n");
                conn.write_all(out.as_bytes()).await?;
                conn.write_all(&vec![b'x'; n / 2]).await?;
                conn.flush().await?;
                return Ok(());
            }
            Reply::Slow(..) => unreachable!(),
        }
    }
}

/// The moto server started by scripts/test. Missing is a failure, never a skip.
pub fn moto() -> Result<String, String> {
    std::env::var("CIRRUS_MOTO_URL")
        .map_err(|_| "CIRRUS_MOTO_URL is not set: the moto server is not running (scripts/test starts it)".to_owned())
}

/// A context over these variables and the real file system.
pub fn ctx_with(vars: &[(&str, &str)]) -> cirrus::Context {
    let env: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    cirrus::Context::new(Arc::new(env), Arc::new(cirrus::fs::RealFs))
}

/// A fresh directory under the system temp dir, removed when the test is done with it.
pub fn temp_dir(tag: &str) -> TempDir {
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "cirrus-test-{}-{tag}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    TempDir(d)
}

/// A test's scratch directory, removed with everything in it when dropped (kept when the test
/// panicked, to look at).
pub struct TempDir(PathBuf);

impl TempDir {
    /// The path, owned (`Location::Local(dir.clone())`); the directory stays this guard's.
    #[allow(clippy::should_implement_trait)]
    pub fn clone(&self) -> PathBuf {
        self.0.clone()
    }
}

impl std::ops::Deref for TempDir {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl AsRef<std::path::Path> for TempDir {
    fn as_ref(&self) -> &std::path::Path {
        &self.0
    }
}

impl AsRef<std::ffi::OsStr> for TempDir {
    fn as_ref(&self) -> &std::ffi::OsStr {
        self.0.as_os_str()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if !std::thread::panicking() && std::fs::remove_dir_all(&self.0).is_err() && self.0.exists() {
            // Unreadable corners made by a test (chmod 000) opened again first.
            let _ = std::process::Command::new("chmod").args(["-R", "u+rwx"]).arg(&self.0).status();
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// The Python of the test virtualenv (pycognito, boto3), named by scripts/test. Missing is a
/// failure, never a skip.
pub fn python() -> Result<String, String> {
    std::env::var("CIRRUS_PYTHON")
        .map_err(|_| "CIRRUS_PYTHON is not set: scripts/test names the .venv Python with pycognito".to_owned())
}
