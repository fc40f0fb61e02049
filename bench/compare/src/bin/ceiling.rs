//! The ceiling of an S3 server for one large object: a minimal client with nothing between it
//! and the socket, for bench/compare/large.sh (issue 27).
//!
//!     ceiling up|down --endpoint http://HOST:PORT --bucket B --key K --conns N --part-mib M
//!                     [--file PATH | --size-mib S] [--payload unsigned|signed] [--verify]
//!
//! `up`: a multipart upload of the data, held in memory (read from PATH, or S MiB made here,
//! before the clock starts), in parts of M MiB, N part PUTs in flight, each on its own HTTP/1.1
//! connection. No checksum headers; the payload is `UNSIGNED-PAYLOAD` (default) or, with
//! `--payload signed`, each part's SHA-256, computed before the clock starts (so the server
//! does the work it does for a client that signs payloads over http, and the client none).
//! Timed: CreateMultipartUpload, the parts, CompleteMultipartUpload.
//!
//! `down`: a HEAD, then N ranged GETs of M MiB in flight, each on its own connection; the bytes
//! are counted and dropped (each range must bring exactly its length). With `--verify` they are
//! kept, and the SHA-256 of the whole object is printed after the clock stops.
//!
//! The floor for many small objects (transfer.sh's `floor` tool), each object one request, N
//! requests in flight on N keep-alive connections, payloads signed (their SHA-256 computed
//! before the requests start), nothing else: no checksum headers, no retries.
//!
//!     ceiling tree-up   --endpoint E --bucket B --prefix P --dir D --conns N
//!     ceiling tree-down --endpoint E --bucket B --prefix P --dir D --conns N
//!     ceiling tree-copy --endpoint E --bucket B --prefix P --to Q --conns N
//!
//! `tree-up` reads every file under D into memory and PUTs it at P + its relative path.
//! `tree-down` lists P (ListObjectsV2, pages in a chain) and GETs every key into D, one file
//! written per object. `tree-copy` lists P and copies every key to Q (CopyObject). The clock
//! runs from the first connection to the last answer.
//!
//! Keys come from CIRRUS_S3S_ACCESS_KEY and CIRRUS_S3S_SECRET_KEY (else AWS_ACCESS_KEY_ID and
//! AWS_SECRET_ACCESS_KEY); the region is us-east-1, addressing path-style. One line goes to
//! stdout: `op=up conns=N part_mib=M bytes=... secs=... mib_s=...` and the phases.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use std::error::Error;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

type Res<T> = Result<T, Box<dyn Error + Send + Sync>>;
type Conn = http1::SendRequest<Full<Bytes>>;

const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

struct Opts {
    op: String,
    host: String,
    bucket: String,
    key: String,
    conns: usize,
    part: usize,
    file: Option<String>,
    size_mib: usize,
    signed: bool,
    verify: bool,
    prefix: String,
    to: String,
    dir: String,
    access: String,
    secret: String,
}

fn usage() -> ! {
    eprintln!(
        "usage: ceiling up|down --endpoint http://HOST:PORT --bucket B --key K --conns N --part-mib M \
         [--file PATH | --size-mib S] [--payload unsigned|signed] [--verify]\n       \
         ceiling tree-up|tree-down|tree-copy --endpoint http://HOST:PORT --bucket B --prefix P \
         [--dir D] [--to Q] --conns N"
    );
    std::process::exit(2)
}

fn opts() -> Opts {
    let mut args = std::env::args().skip(1);
    let op = args
        .next()
        .filter(|o| ["up", "down", "tree-up", "tree-down", "tree-copy"].contains(&o.as_str()))
        .unwrap_or_else(|| usage());
    let env = |a: &str, b: &str| std::env::var(a).or_else(|_| std::env::var(b)).unwrap_or_default();
    let mut o = Opts {
        op,
        host: String::new(),
        bucket: String::new(),
        key: String::new(),
        conns: 8,
        part: 8 << 20,
        file: None,
        size_mib: 1024,
        signed: false,
        verify: false,
        prefix: String::new(),
        to: String::new(),
        dir: String::new(),
        access: env("CIRRUS_S3S_ACCESS_KEY", "AWS_ACCESS_KEY_ID"),
        secret: env("CIRRUS_S3S_SECRET_KEY", "AWS_SECRET_ACCESS_KEY"),
    };
    while let Some(a) = args.next() {
        if a == "--verify" {
            o.verify = true;
            continue;
        }
        let v = args.next().unwrap_or_else(|| usage());
        let num = |v: &str| v.parse::<usize>().ok().filter(|n| *n > 0).unwrap_or_else(|| usage());
        match a.as_str() {
            "--endpoint" => o.host = v.strip_prefix("http://").unwrap_or_else(|| usage()).trim_end_matches('/').into(),
            "--bucket" => o.bucket = v,
            "--key" => o.key = v,
            "--conns" => o.conns = num(&v),
            "--part-mib" => o.part = num(&v) << 20,
            "--file" => o.file = Some(v),
            "--size-mib" => o.size_mib = num(&v),
            "--payload" => o.signed = v == "signed",
            "--prefix" => o.prefix = v,
            "--to" => o.to = v,
            "--dir" => o.dir = v,
            _ => usage(),
        }
    }
    let tree = o.op.starts_with("tree-");
    let named = if tree { !o.prefix.is_empty() } else { !o.key.is_empty() };
    let needs = match o.op.as_str() {
        "tree-up" | "tree-down" => !o.dir.is_empty(),
        "tree-copy" => !o.to.is_empty(),
        _ => true,
    };
    if o.host.is_empty() || o.bucket.is_empty() || !named || !needs || o.access.is_empty() {
        usage();
    }
    o
}

async fn connect(host: &str) -> Res<Conn> {
    let stream = tokio::net::TcpStream::connect(host).await?;
    stream.set_nodelay(true)?;
    let (send, conn) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    Ok(send)
}

/// Sends one signed request; the status, headers and the body (not read yet).
async fn send(
    conn: &mut Conn,
    o: &Opts,
    method: &str,
    uri: &str,
    body: Bytes,
    payload_hash: Option<&str>,
    extra: &[(&str, String)],
) -> Res<http::Response<hyper::body::Incoming>> {
    let payload = match payload_hash {
        Some(h) => cirrus_sigv4::Payload::Precomputed(h),
        None => cirrus_sigv4::Payload::Unsigned,
    };
    let signed_headers = std::iter::once(("host", o.host.as_str())).chain(extra.iter().map(|(n, v)| (*n, v.as_str())));
    let req = cirrus_sigv4::SignableRequest::new(method, uri, signed_headers, payload)?;
    let params = cirrus_sigv4::SigningParams::new(&o.access, &o.secret, "us-east-1", "s3", SystemTime::now());
    let signed = cirrus_sigv4::sign(&req, &params)?;
    let mut b = http::Request::builder().method(method).uri(uri).header("host", &o.host);
    for (n, v) in signed.headers() {
        b = b.header(n, v);
    }
    for (n, v) in extra {
        b = b.header(*n, v);
    }
    if !body.is_empty() || method == "PUT" || method == "POST" {
        b = b.header("content-length", body.len());
    }
    conn.ready().await?;
    Ok(conn.send_request(b.body(Full::new(body))?).await?)
}

/// The whole body of an answer that must be a success.
async fn ok_body(resp: http::Response<hyper::body::Incoming>, what: &str) -> Res<(http::HeaderMap, Bytes)> {
    let (parts, body) = resp.into_parts();
    let bytes = body.collect().await?.to_bytes();
    if !parts.status.is_success() {
        return Err(format!("{what}: {} {}", parts.status, String::from_utf8_lossy(&bytes)).into());
    }
    Ok((parts.headers, bytes))
}

fn tag<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let start = xml.find(&format!("<{name}>"))? + name.len() + 2;
    let end = xml[start..].find(&format!("</{name}>"))? + start;
    Some(&xml[start..end])
}

fn data(o: &Opts) -> Res<Bytes> {
    if let Some(f) = &o.file {
        return Ok(Bytes::from(std::fs::read(f)?));
    }
    // xorshift64*: incompressible enough, and fast to make.
    let mut v = vec![0u8; o.size_mib << 20];
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for c in v.chunks_exact_mut(8) {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        c.copy_from_slice(&x.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    Ok(Bytes::from(v))
}

async fn upload(o: Arc<Opts>) -> Res<()> {
    let data = data(&o)?;
    let count = data.len().div_ceil(o.part);
    let parts: Vec<Bytes> = (0..count).map(|i| data.slice(i * o.part..((i + 1) * o.part).min(data.len()))).collect();
    let hashes: Vec<Option<String>> = parts.iter().map(|p| o.signed.then(|| cirrus_sigv4::sha256_hex(p))).collect();
    let (parts, hashes) = (Arc::new(parts), Arc::new(hashes));
    let path = format!("/{}/{}", o.bucket, o.key);

    let t0 = Instant::now();
    let mut c = connect(&o.host).await?;
    let r = send(&mut c, &o, "POST", &format!("{path}?uploads"), Bytes::new(), Some(EMPTY_SHA256), &[]).await?;
    let (_, body) = ok_body(r, "CreateMultipartUpload").await?;
    let body = String::from_utf8_lossy(&body).into_owned();
    let id = tag(&body, "UploadId").ok_or("no UploadId")?.to_owned();

    let t_parts = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let etags = Arc::new(Mutex::new(vec![String::new(); count]));
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..o.conns.min(count) {
        let (o, parts, hashes, next, etags, id, path) =
            (o.clone(), parts.clone(), hashes.clone(), next.clone(), etags.clone(), id.clone(), path.clone());
        set.spawn(async move {
            let mut c = connect(&o.host).await?;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= parts.len() {
                    return Ok::<_, Box<dyn Error + Send + Sync>>(());
                }
                let uri = format!("{path}?partNumber={}&uploadId={id}", i + 1);
                let r = send(&mut c, &o, "PUT", &uri, parts[i].clone(), hashes[i].as_deref(), &[]).await?;
                let (h, _) = ok_body(r, "UploadPart").await?;
                let etag = h.get("etag").and_then(|v| v.to_str().ok()).ok_or("no ETag")?.to_owned();
                etags.lock().unwrap()[i] = etag;
            }
        });
    }
    while let Some(r) = set.join_next().await {
        r??;
    }
    let parts_secs = t_parts.elapsed().as_secs_f64();

    let t_complete = Instant::now();
    let mut xml = String::from("<CompleteMultipartUpload>");
    for (i, e) in etags.lock().unwrap().iter().enumerate() {
        xml.push_str(&format!("<Part><PartNumber>{}</PartNumber><ETag>{e}</ETag></Part>", i + 1));
    }
    xml.push_str("</CompleteMultipartUpload>");
    let hash = cirrus_sigv4::sha256_hex(xml.as_bytes());
    let r = send(&mut c, &o, "POST", &format!("{path}?uploadId={id}"), Bytes::from(xml), Some(&hash), &[]).await?;
    let (_, body) = ok_body(r, "CompleteMultipartUpload").await?;
    if String::from_utf8_lossy(&body).contains("<Error>") {
        return Err(format!("CompleteMultipartUpload: {}", String::from_utf8_lossy(&body)).into());
    }
    let secs = t0.elapsed().as_secs_f64();
    let complete_secs = t_complete.elapsed().as_secs_f64();
    let mib = data.len() as f64 / (1 << 20) as f64;
    println!(
        "op=up conns={} part_mib={} payload={} bytes={} secs={secs:.3} mib_s={:.1} parts_secs={parts_secs:.3} \
         complete_secs={complete_secs:.3} parts_mib_s={:.1}",
        o.conns,
        o.part >> 20,
        if o.signed { "signed" } else { "unsigned" },
        data.len(),
        mib / secs,
        mib / parts_secs,
    );
    Ok(())
}

async fn download(o: Arc<Opts>) -> Res<()> {
    let path = format!("/{}/{}", o.bucket, o.key);
    let t0 = Instant::now();
    let mut c = connect(&o.host).await?;
    let r = send(&mut c, &o, "HEAD", &path, Bytes::new(), Some(EMPTY_SHA256), &[]).await?;
    let (h, _) = ok_body(r, "HeadObject").await?;
    let size: usize =
        h.get("content-length").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok()).ok_or("no size")?;
    let count = size.div_ceil(o.part);
    let next = Arc::new(AtomicUsize::new(0));
    let kept: Arc<Mutex<Vec<Bytes>>> = Arc::new(Mutex::new(vec![Bytes::new(); count]));
    let total = Arc::new(AtomicUsize::new(0));
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..o.conns.min(count) {
        let (o, next, kept, total, path) = (o.clone(), next.clone(), kept.clone(), total.clone(), path.clone());
        set.spawn(async move {
            let mut c = connect(&o.host).await?;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    return Ok::<_, Box<dyn Error + Send + Sync>>(());
                }
                let (start, end) = (i * o.part, ((i + 1) * o.part).min(size));
                let range = vec![("range", format!("bytes={}-{}", start, end - 1))];
                let r = send(&mut c, &o, "GET", &path, Bytes::new(), Some(EMPTY_SHA256), &range).await?;
                if r.status() != http::StatusCode::PARTIAL_CONTENT {
                    return Err(format!("GetObject range {i}: {}", r.status()).into());
                }
                let mut body = r.into_body();
                let mut n = 0;
                let mut keep = Vec::new();
                while let Some(frame) = body.frame().await {
                    if let Ok(d) = frame?.into_data() {
                        n += d.len();
                        if o.verify {
                            keep.extend_from_slice(&d);
                        }
                    }
                }
                if n != end - start {
                    return Err(format!("range {i}: {n} bytes, want {}", end - start).into());
                }
                total.fetch_add(n, Ordering::Relaxed);
                if o.verify {
                    kept.lock().unwrap()[i] = Bytes::from(keep);
                }
            }
        });
    }
    while let Some(r) = set.join_next().await {
        r??;
    }
    let secs = t0.elapsed().as_secs_f64();
    let got = total.load(Ordering::Relaxed);
    if got != size {
        return Err(format!("{got} bytes came, the object has {size}").into());
    }
    let mut line = format!(
        "op=down conns={} part_mib={} bytes={size} secs={secs:.3} mib_s={:.1}",
        o.conns,
        o.part >> 20,
        size as f64 / (1 << 20) as f64 / secs
    );
    if o.verify {
        let mut whole = Vec::with_capacity(size);
        for b in kept.lock().unwrap().iter() {
            whole.extend_from_slice(b);
        }
        line.push_str(&format!(" sha256={}", cirrus_sigv4::sha256_hex(&whole)));
    }
    println!("{line}");
    Ok(())
}

/// Percent-encodes a query value or a key's bytes (all but the unreserved characters; `/` too
/// unless `keep_slash`).
fn encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) || (keep_slash && b == b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Every file under `dir`, as (path relative to it with `/`, bytes).
fn read_tree(dir: &std::path::Path, rel: &str, out: &mut Vec<(String, Bytes)>) -> Res<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().into_string().map_err(|_| "a file name that is not UTF-8")?;
        let rel = if rel.is_empty() { name } else { format!("{rel}/{name}") };
        if entry.file_type()?.is_dir() {
            read_tree(&entry.path(), &rel, out)?;
        } else {
            out.push((rel, Bytes::from(std::fs::read(entry.path())?)));
        }
    }
    Ok(())
}

/// Every key under the prefix: ListObjectsV2 pages in a chain.
async fn list_keys(c: &mut Conn, o: &Opts) -> Res<Vec<String>> {
    let (mut keys, mut token) = (Vec::new(), None::<String>);
    loop {
        let mut uri = format!("/{}?list-type=2&prefix={}", o.bucket, encode(&o.prefix, false));
        if let Some(t) = &token {
            uri = format!(
                "/{}?continuation-token={}&list-type=2&prefix={}",
                o.bucket,
                encode(t, false),
                encode(&o.prefix, false)
            );
        }
        let r = send(c, o, "GET", &uri, Bytes::new(), Some(EMPTY_SHA256), &[]).await?;
        let (_, body) = ok_body(r, "ListObjectsV2").await?;
        let xml = String::from_utf8_lossy(&body).into_owned();
        let mut rest = xml.as_str();
        while let Some(k) = tag(rest, "Key") {
            keys.push(k.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">"));
            rest = &rest[rest.find("</Key>").unwrap_or(rest.len() - 1) + 6..];
        }
        token = tag(&xml, "NextContinuationToken").map(str::to_owned);
        if tag(&xml, "IsTruncated") != Some("true") || token.is_none() {
            return Ok(keys);
        }
    }
}

/// Runs `one` for every item on `o.conns` connections, each taking the next item in turn.
async fn each<T, F, Fut>(o: &Arc<Opts>, items: Vec<T>, one: F) -> Res<()>
where
    T: Send + Sync + 'static,
    F: Fn(Arc<Opts>, Conn, Arc<Vec<T>>, usize) -> Fut + Send + Sync + Copy + 'static,
    Fut: std::future::Future<Output = Res<Conn>> + Send,
{
    let (items, next) = (Arc::new(items), Arc::new(AtomicUsize::new(0)));
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..o.conns.min(items.len()) {
        let (o, items, next) = (o.clone(), items.clone(), next.clone());
        set.spawn(async move {
            let mut c = connect(&o.host).await?;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= items.len() {
                    return Ok::<_, Box<dyn Error + Send + Sync>>(());
                }
                c = one(o.clone(), c, items.clone(), i).await?;
            }
        });
    }
    while let Some(r) = set.join_next().await {
        r??;
    }
    Ok(())
}

async fn tree(o: Arc<Opts>) -> Res<()> {
    let mut files = Vec::new();
    if o.op == "tree-up" {
        read_tree(std::path::Path::new(&o.dir), "", &mut files)?;
    }
    let files: Vec<(String, Bytes, String)> = files
        .into_iter()
        .map(|(rel, data)| (format!("{}{rel}", o.prefix), data.clone(), cirrus_sigv4::sha256_hex(&data)))
        .collect();
    let t0 = Instant::now();
    let count = match o.op.as_str() {
        "tree-up" => {
            let n = files.len();
            each(&o, files, |o, mut c, files, i| async move {
                let (key, data, hash) = &files[i];
                let uri = format!("/{}/{}", o.bucket, encode(key, true));
                let r = send(&mut c, &o, "PUT", &uri, data.clone(), Some(hash), &[]).await?;
                ok_body(r, "PutObject").await?;
                Ok(c)
            })
            .await?;
            n
        }
        op => {
            let mut c = connect(&o.host).await?;
            let keys = list_keys(&mut c, &o).await?;
            let n = keys.len();
            let fetch = |o: Arc<Opts>, mut c: Conn, keys: Arc<Vec<String>>, i: usize| async move {
                let key = &keys[i];
                let rel = key.strip_prefix(&o.prefix).ok_or("a listed key outside the prefix")?;
                let uri = format!("/{}/{}", o.bucket, encode(key, true));
                let r = send(&mut c, &o, "GET", &uri, Bytes::new(), Some(EMPTY_SHA256), &[]).await?;
                let (_, body) = ok_body(r, "GetObject").await?;
                let path = std::path::Path::new(&o.dir).join(rel);
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                std::fs::write(path, &body)?;
                Ok(c)
            };
            let copy = |o: Arc<Opts>, mut c: Conn, keys: Arc<Vec<String>>, i: usize| async move {
                let key = &keys[i];
                let rel = key.strip_prefix(&o.prefix).ok_or("a listed key outside the prefix")?;
                let uri = format!("/{}/{}", o.bucket, encode(&format!("{}{rel}", o.to), true));
                let source = vec![("x-amz-copy-source", format!("/{}/{}", o.bucket, encode(key, true)))];
                let r = send(&mut c, &o, "PUT", &uri, Bytes::new(), Some(EMPTY_SHA256), &source).await?;
                let (_, body) = ok_body(r, "CopyObject").await?;
                if String::from_utf8_lossy(&body).contains("<Error>") {
                    return Err(format!("CopyObject {key}: {}", String::from_utf8_lossy(&body)).into());
                }
                Ok(c)
            };
            if op == "tree-down" {
                each(&o, keys, fetch).await?;
            } else {
                each(&o, keys, copy).await?;
            }
            n
        }
    };
    let secs = t0.elapsed().as_secs_f64();
    println!("op={} conns={} objects={count} secs={secs:.3} objects_s={:.0}", o.op, o.conns, count as f64 / secs);
    Ok(())
}

fn main() {
    let o = Arc::new(opts());
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    let r = rt.block_on(async {
        match o.op.as_str() {
            "up" => upload(o.clone()).await,
            "down" => download(o.clone()).await,
            _ => tree(o.clone()).await,
        }
    });
    if let Err(e) = r {
        eprintln!("ceiling {}: {e}", o.op);
        std::process::exit(1);
    }
}
