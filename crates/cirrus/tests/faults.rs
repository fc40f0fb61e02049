//! Faults survived, nothing lost: the transfer engine through a fault-injecting HTTP proxy in
//! front of the signature-checking S3 server (s3s-fs). The proxy, seeded so that a run can be
//! replayed, breaks about one request in four: the connection dropped before the server saw the
//! request or after it answered, 503 SlowDown, 500 InternalError, a response body cut short, one
//! byte flipped in an object's GET body or in a PUT body. `cp --recursive` both ways, S3 to S3,
//! `sync` (with `--delete` up and down) and `mv` (all three ways) of a tree with small and multipart
//! objects go through it: every object arrives intact or is reported failed, no source of a move
//! is removed unless its copy was verified, and `sync` run again converges.
//!
//! Listings are not flipped: a listing carries no checksum (TLS guards it on the wire), so a byte
//! changed there is a different key, which no client can tell.

use crate::common::{block_on, temp_dir, trial};
use crate::ensure;
use crate::s3::{bucket, client_with, e, Server};
use cirrus::s3::transfer::{Cancel, Event, Location, Summary, SyncOptions, TransferOptions, Transfers};
use cirrus::s3::{ListOptions, S3Client, S3Settings};
use futures_util::TryStreamExt;
use libtest_mimic::Trial;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// What the proxy does to one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Fault {
    Pass,
    DropBefore,
    DropAfter,
    SlowDown,
    Internal,
    CutBody,
    FlipGet,
    FlipPut,
}

const FAULTS: [Fault; 7] = [
    Fault::DropBefore,
    Fault::DropAfter,
    Fault::SlowDown,
    Fault::Internal,
    Fault::CutBody,
    Fault::FlipGet,
    Fault::FlipPut,
];

/// A proxy between a client and `target` that injects faults into one request in `one_in`.
/// Every request goes on a connection of its own (`Connection: close`), so a response is read
/// to its end without parsing its framing.
struct FaultProxy {
    url: String,
    on: Arc<AtomicBool>,
    counts: Arc<Mutex<BTreeMap<Fault, u64>>>,
}

impl FaultProxy {
    fn start(target: &str, seed: u64, one_in: u64) -> Result<FaultProxy, String> {
        FaultProxy::start_with(target, seed, move |_, rng| {
            if rng.u64(..one_in) == 0 {
                FAULTS[rng.usize(..FAULTS.len())]
            } else {
                Fault::Pass
            }
        })
    }

    /// A proxy whose fault for the connection numbered `i` (from 0) is `pick(i, rng)`.
    fn start_with(
        target: &str,
        seed: u64,
        pick: impl Fn(u64, &mut fastrand::Rng) -> Fault + Send + 'static,
    ) -> Result<FaultProxy, String> {
        let target = target.trim_start_matches("http://").to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").map_err(e)?;
        let url = format!("http://{}", listener.local_addr().map_err(e)?);
        let on = Arc::new(AtomicBool::new(true));
        let counts = Arc::new(Mutex::new(BTreeMap::new()));
        let (on2, counts2) = (on.clone(), counts.clone());
        let n = Arc::new(AtomicU64::new(0));
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let i = n.fetch_add(1, Ordering::SeqCst);
                // One generator per request, from the seed and the request's number.
                let mut rng = fastrand::Rng::with_seed(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ i);
                let fault = if on2.load(Ordering::SeqCst) { pick(i, &mut rng) } else { Fault::Pass };
                let (target, counts) = (target.clone(), counts2.clone());
                std::thread::spawn(move || {
                    if let Ok(applied) = relay(client, &target, fault, &mut rng) {
                        *counts.lock().unwrap().entry(applied).or_insert(0) += 1;
                    }
                });
            }
        });
        Ok(FaultProxy { url, on, counts })
    }

    fn faults(&self) -> u64 {
        self.counts.lock().unwrap().iter().filter(|(f, _)| **f != Fault::Pass).map(|(_, n)| n).sum()
    }
}

/// Reads up to the end of the head (`\r\n\r\n`): the head, and what came after it.
fn read_head(s: &mut TcpStream) -> std::io::Result<Option<(Vec<u8>, Vec<u8>)>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buf.split_off(end + 4);
            return Ok(Some((buf, rest)));
        }
        let n = s.read(&mut chunk)?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn error_reply(status: &str, code: &str) -> Vec<u8> {
    let body = format!("<?xml version=\"1.0\"?><Error><Code>{code}</Code><Message>injected</Message></Error>");
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// One request from `client` to `target`, with `fault`; the fault applied (a flip needs a body).
fn relay(mut client: TcpStream, target: &str, fault: Fault, rng: &mut fastrand::Rng) -> std::io::Result<Fault> {
    let Some((head, mut body)) = read_head(&mut client)? else { return Ok(Fault::Pass) };
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut lines = text.split("\r\n");
    let request_line = lines.next().unwrap_or_default().to_owned();
    let mut length = 0usize;
    let mut out = format!("{request_line}\r\n");
    for line in lines.filter(|l| !l.is_empty()) {
        let (name, value) = line.split_once(':').unwrap_or((line, ""));
        if name.eq_ignore_ascii_case("content-length") {
            length = value.trim().parse().unwrap_or(0);
        }
        if !name.eq_ignore_ascii_case("connection") {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str("Connection: close\r\n\r\n");
    while body.len() < length {
        let mut chunk = vec![0u8; (length - body.len()).min(1 << 16)];
        let n = client.read(&mut chunk)?;
        if n == 0 {
            return Ok(Fault::Pass);
        }
        body.extend_from_slice(&chunk[..n]);
    }
    let method = request_line.split(' ').next().unwrap_or_default().to_owned();
    let target_path = request_line.split(' ').nth(1).unwrap_or_default();
    // An object's bytes: a GET of a key (no query: not a listing, not a part list).
    let object_get = method == "GET" && !target_path.contains('?') && target_path.trim_matches('/').contains('/');
    let mut applied = fault;
    match fault {
        Fault::DropBefore => {
            let _ = client.shutdown(Shutdown::Both);
            return Ok(fault);
        }
        Fault::SlowDown => {
            client.write_all(&error_reply("503 Slow Down", "SlowDown"))?;
            return Ok(fault);
        }
        Fault::Internal => {
            client.write_all(&error_reply("500 Internal Server Error", "InternalError"))?;
            return Ok(fault);
        }
        Fault::FlipPut if method == "PUT" && !body.is_empty() => {
            let at = rng.usize(..body.len());
            body[at] ^= 0x20;
        }
        Fault::FlipPut => applied = Fault::Pass,
        _ => {}
    }
    let mut server = TcpStream::connect(target)?;
    server.write_all(out.as_bytes())?;
    server.write_all(&body)?;
    let mut response = Vec::new();
    server.read_to_end(&mut response)?;
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").map_or(response.len(), |p| p + 4);
    let status_ok = response.starts_with(b"HTTP/1.1 200") || response.starts_with(b"HTTP/1.1 206");
    match fault {
        Fault::DropAfter => {
            let _ = client.shutdown(Shutdown::Both);
            return Ok(fault);
        }
        Fault::CutBody if response.len() > split + 1 => {
            let cut = split + (response.len() - split) / 2;
            client.write_all(&response[..cut])?;
            let _ = client.shutdown(Shutdown::Both);
            return Ok(fault);
        }
        Fault::CutBody => applied = Fault::Pass,
        Fault::FlipGet if object_get && status_ok && response.len() > split => {
            let at = split + rng.usize(..response.len() - split);
            response[at] ^= 0x01;
        }
        Fault::FlipGet => applied = Fault::Pass,
        _ => {}
    }
    client.write_all(&response)?;
    let _ = client.shutdown(Shutdown::Write);
    Ok(applied)
}

/// Small files of many sizes and two that go in parts (5 MiB parts: 12 MiB is three).
fn make_tree(root: &Path, seed: u64) -> Result<BTreeMap<String, Vec<u8>>, String> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut files = BTreeMap::new();
    for i in 0..60 {
        let size = [0, 1, 100, 4096, 20_000][i % 5] + rng.usize(..512);
        files.insert(format!("d{}/f{i:02}.bin", i % 4), (0..size).map(|_| rng.u8(..)).collect());
    }
    for i in 0..2 {
        files.insert(format!("big{i}.bin"), (0..(12 << 20) + 1000 * i).map(|_| rng.u8(..)).collect());
    }
    for (rel, data) in &files {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).map_err(e)?;
        std::fs::write(&p, data).map_err(e)?;
    }
    Ok(files)
}

/// The sources reported failed or skipped, and every event's line (for a failure's message).
#[derive(Clone, Default)]
struct Failures(Arc<Mutex<Vec<String>>>, Arc<Mutex<Vec<String>>>);

impl Failures {
    fn observer(&self) -> impl Fn(&Event) + Send + Sync + 'static {
        let (failed, lines) = (self.0.clone(), self.1.clone());
        move |ev| {
            if let Event::Failed { src, .. } | Event::Skipped { src, .. } = ev {
                failed.lock().unwrap().push(src.to_string());
            }
            if !matches!(ev, Event::Bytes(_)) {
                lines.lock().unwrap().push(ev.to_string());
            }
        }
    }

    /// Whether `src` was reported: itself, or a folder above it (a listing that stopped).
    fn reported(&self, src: &str) -> bool {
        self.0.lock().unwrap().iter().any(|s| s == src || (s.ends_with('/') && src.starts_with(s.as_str())))
    }

    fn about(&self, rel: &str) -> Vec<String> {
        self.1.lock().unwrap().iter().filter(|l| l.contains(rel)).cloned().collect()
    }
}

/// What is in the bucket under `prefix`, read without the proxy.
async fn remote(s3: &S3Client, b: &str, prefix: &str) -> Result<BTreeMap<String, Vec<u8>>, String> {
    let keys: Vec<String> = s3.list(b, ListOptions::prefix(prefix)).map_ok(|o| o.key).try_collect().await.map_err(e)?;
    let mut out = BTreeMap::new();
    for k in keys {
        let data = s3.get_bytes(b, &k).await.map_err(e)?;
        out.insert(k[prefix.len()..].to_owned(), data.to_vec());
    }
    Ok(out)
}

/// Every file under `root`, and any temporary file left behind.
fn local(root: &Path) -> Result<BTreeMap<String, Vec<u8>>, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for entry in entries {
            let p = entry.map_err(e)?.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(root).map_err(e)?.to_string_lossy().into_owned();
                ensure!(!rel.ends_with(".cirrus"), "a temporary file was left: {rel}");
                out.insert(rel, std::fs::read(&p).map_err(e)?);
            }
        }
    }
    Ok(out)
}

/// Each of `got` is intact; each of `want` missing from `got` was reported (as `src(rel)`).
fn intact_or_reported(
    what: &str,
    want: &BTreeMap<String, Vec<u8>>,
    got: &BTreeMap<String, Vec<u8>>,
    failures: &Failures,
    src: impl Fn(&str) -> String,
) -> Result<usize, String> {
    let mut missing = 0;
    for (rel, data) in got {
        let Some(expected) = want.get(rel) else { return Err(format!("{what}: {rel} was not in the source")) };
        ensure!(data == expected, "{what}: {rel} is corrupt ({} bytes, {} expected)", data.len(), expected.len());
    }
    for rel in want.keys().filter(|r| !got.contains_key(*r)) {
        missing += 1;
        ensure!(
            failures.reported(&src(rel)),
            "{what}: {rel} is missing and was not reported failed; its events: {:?}",
            failures.about(rel)
        );
    }
    Ok(missing)
}

/// `sync` through the proxy until a run is complete (at most 12 runs): the re-runs converge.
async fn converge(t: &Transfers, src: &Location, dst: &Location) -> Result<u32, String> {
    for run in 1..=12 {
        let summary: Summary = t.sync(src, dst, &SyncOptions::default(), |_| {}, &Cancel::new()).await.map_err(e)?;
        if summary.is_complete() {
            return Ok(run);
        }
    }
    Err(format!("sync {src} -> {dst} did not converge in 12 runs"))
}

/// A client of s3s-fs through `proxy`: the same server, another endpoint.
fn through(proxy: &FaultProxy, settings: S3Settings) -> Result<S3Client, String> {
    let key = std::env::var("CIRRUS_S3S_ACCESS_KEY").map_err(e)?;
    let secret = std::env::var("CIRRUS_S3S_SECRET_KEY").map_err(e)?;
    let config = cirrus::loader::ConfigLoader::new(crate::common::ctx_with(&[]))
        .region(Some("us-east-1"))
        .endpoint_url(Some(&proxy.url))
        .credentials(cirrus::loader::CredentialsChoice::Provider(Arc::new(
            cirrus::credentials::StaticCredentials::new(key, secret, None),
        )))
        .load()
        .map_err(e)?;
    S3Client::with_settings(&config, settings).map_err(e)
}

/// Upload parts are streamed from the file; one whose connection is reset after its body went
/// out is sent again by reading its range from the file again. The proxy drops every other
/// connection once it has read the request (one request in flight at a time, so every
/// request's first attempt is dropped and its second goes through): the object is the file.
fn a_part_sent_again_reads_its_range_again() -> Result<(), String> {
    let settings =
        S3Settings::default().with_part_size(5 << 20, 5 << 20).with_concurrency(1).with_memory_budget(1 << 20);
    let direct = client_with(Server::S3s, None, settings.clone())?;
    let proxy = FaultProxy::start_with(&std::env::var("CIRRUS_S3S_URL").map_err(e)?, 0, |i, _| {
        if i % 2 == 0 {
            Fault::DropBefore
        } else {
            Fault::Pass
        }
    })?;
    let t = Transfers::new(through(&proxy, settings)?);
    let b = bucket("partretry");
    let dir = temp_dir("partretry");
    let data: Vec<u8> = (0..12u32 << 20).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    std::fs::write(dir.join("big.bin"), &data).map_err(e)?;
    block_on(async {
        direct.create_bucket(&b).await.map_err(e)?;
        let (src, dst) = (Location::Local(dir.join("big.bin")), Location::s3(&b, "big.bin"));
        let summary = t.copy(&src, &dst, &TransferOptions::default(), |_| {}, &Cancel::new()).await.map_err(e)?;
        ensure!(summary.is_complete() && summary.done == 1, "{summary}");
        // CreateMultipartUpload, three parts and the completion: each dropped once.
        ensure!(proxy.faults() >= 5, "{} requests dropped", proxy.faults());
        let got = direct.get_bytes(&b, "big.bin").await.map_err(e)?;
        ensure!(got[..] == data[..], "the object is not the file");
        Ok(())
    })
}

fn faults_survived(seed: u64) -> Result<(), String> {
    let settings = S3Settings::default().with_part_size(5 << 20, 5 << 20).with_concurrency(8);
    let direct = client_with(Server::S3s, None, settings.clone())?;
    let proxy = FaultProxy::start(&std::env::var("CIRRUS_S3S_URL").map_err(e)?, seed, 4)?;
    let t = Transfers::new(through(&proxy, settings)?);
    let b = bucket(&format!("faults{seed}"));
    let dir = temp_dir(&format!("faults-{seed}"));
    let src = dir.join("src");
    let files = make_tree(&src, seed)?;
    let local_of = |root: &Path, rel: &str| root.join(rel).display().to_string();
    block_on(async {
        direct.create_bucket(&b).await.map_err(e)?;
        let options = TransferOptions::recursive();

        // Up: intact or reported; a sync converges.
        let fails = Failures::default();
        t.copy(&Location::Local(src.clone()), &Location::s3(&b, "up/"), &options, fails.observer(), &Cancel::new())
            .await
            .map_err(e)?;
        let up = remote(&direct, &b, "up/").await?;
        intact_or_reported("cp up", &files, &up, &fails, |r| local_of(&src, r))?;
        converge(&t, &Location::Local(src.clone()), &Location::s3(&b, "up/")).await?;
        ensure!(remote(&direct, &b, "up/").await? == files, "up/ differs after sync");

        // Down.
        let down = dir.join("down");
        let fails = Failures::default();
        t.copy(&Location::s3(&b, "up/"), &Location::Local(down.clone()), &options, fails.observer(), &Cancel::new())
            .await
            .map_err(e)?;
        intact_or_reported("cp down", &files, &local(&down)?, &fails, |r| format!("s3://{b}/up/{r}"))?;
        converge(&t, &Location::s3(&b, "up/"), &Location::Local(down.clone())).await?;
        ensure!(local(&down)? == files, "down/ differs after sync");

        // Across.
        let fails = Failures::default();
        t.copy(&Location::s3(&b, "up/"), &Location::s3(&b, "across/"), &options, fails.observer(), &Cancel::new())
            .await
            .map_err(e)?;
        intact_or_reported("cp across", &files, &remote(&direct, &b, "across/").await?, &fails, |r| {
            format!("s3://{b}/up/{r}")
        })?;
        converge(&t, &Location::s3(&b, "up/"), &Location::s3(&b, "across/")).await?;

        // mv down: a source is gone only when its file is there, intact.
        let moved = dir.join("moved");
        let fails = Failures::default();
        t.mv(&Location::s3(&b, "across/"), &Location::Local(moved.clone()), &options, fails.observer(), &Cancel::new())
            .await
            .map_err(e)?;
        let (left, landed) = (remote(&direct, &b, "across/").await?, local(&moved)?);
        for (rel, data) in &landed {
            ensure!(files.get(rel) == Some(data), "mv down: {rel} is corrupt");
        }
        for (rel, data) in &files {
            ensure!(left.contains_key(rel) || landed.contains_key(rel), "mv down lost {rel}");
            ensure!(left.get(rel).is_none_or(|d| d == data), "mv down: the source {rel} changed");
        }

        // mv up: a file is removed only when its object is there, intact.
        let fails = Failures::default();
        t.mv(&Location::Local(moved.clone()), &Location::s3(&b, "back/"), &options, fails.observer(), &Cancel::new())
            .await
            .map_err(e)?;
        let (kept, back) = (local(&moved)?, remote(&direct, &b, "back/").await?);
        for (rel, data) in &back {
            ensure!(files.get(rel) == Some(data), "mv up: {rel} is corrupt");
        }
        for (rel, data) in &landed {
            ensure!(kept.get(rel) == Some(data) || back.contains_key(rel), "mv up lost {rel}");
        }

        // mv across: an object is removed only when its copy is there, intact.
        let fails = Failures::default();
        let (from, to) = (Location::s3(&b, "up/"), Location::s3(&b, "moved-across/"));
        t.mv(&from, &to, &options, fails.observer(), &Cancel::new()).await.map_err(e)?;
        let (left, arrived) = (remote(&direct, &b, "up/").await?, remote(&direct, &b, "moved-across/").await?);
        for (rel, data) in &arrived {
            ensure!(files.get(rel) == Some(data), "mv across: {rel} is corrupt");
        }
        for (rel, data) in &files {
            ensure!(left.get(rel) == Some(data) || arrived.contains_key(rel), "mv across lost {rel}");
        }

        // sync --delete: a third of the files gone from the source; what is left is never
        // deleted, and re-runs converge on exactly the source.
        let fewer = dir.join("fewer");
        let mut kept_files = BTreeMap::new();
        for (i, (rel, data)) in files.iter().enumerate() {
            if i % 3 != 0 {
                let p = fewer.join(rel);
                std::fs::create_dir_all(p.parent().unwrap()).map_err(e)?;
                std::fs::write(&p, data).map_err(e)?;
                kept_files.insert(rel.clone(), data.clone());
            }
        }
        let delete = SyncOptions::default().with_delete(true);
        let (src_fewer, dst_across) = (Location::Local(fewer.clone()), Location::s3(&b, "across/"));
        for run in 1..=12 {
            let summary = t.sync(&src_fewer, &dst_across, &delete, |_| {}, &Cancel::new()).await.map_err(e)?;
            let now = remote(&direct, &b, "across/").await?;
            for (rel, data) in &kept_files {
                ensure!(now.get(rel).is_none_or(|d| d == data), "sync --delete: {rel} is corrupt");
            }
            for rel in now.keys() {
                ensure!(files.contains_key(rel), "sync --delete: {rel} came from nowhere");
            }
            if summary.is_complete() {
                ensure!(now == kept_files, "sync --delete converged on something else");
                break;
            }
            ensure!(run < 12, "sync --delete did not converge in 12 runs");
        }

        // sync --delete down: the local files the bucket lacks go only once the listing is
        // whole; the files it has are never deleted, and re-runs converge on exactly the bucket.
        let (src_across, dst_down) = (Location::s3(&b, "across/"), Location::Local(down.clone()));
        for run in 1..=12 {
            let summary = t.sync(&src_across, &dst_down, &delete, |_| {}, &Cancel::new()).await.map_err(e)?;
            let now = local(&down)?;
            for (rel, data) in &kept_files {
                ensure!(now.get(rel) == Some(data), "sync --delete down: {rel} was deleted or changed");
            }
            if summary.is_complete() {
                ensure!(now == kept_files, "sync --delete down converged on something else");
                break;
            }
            ensure!(run < 12, "sync --delete down did not converge in 12 runs");
        }

        ensure!(proxy.faults() > 0, "the proxy injected nothing");
        proxy.on.store(false, Ordering::SeqCst);
        direct.delete_prefix(&b, "").await.map_err(e)?;
        direct.delete_bucket(&b).await.map_err(e)?;
        let _ = std::fs::remove_dir_all(&dir);
        eprintln!("seed {seed}: {:?}", proxy.counts.lock().unwrap());
        Ok(())
    })
}

/// Seeds 1 to 3, or to `CIRRUS_FAULT_SEEDS` for a longer run (RELIABILITY.md).
pub fn trials() -> Vec<Trial> {
    let seeds: u64 = std::env::var("CIRRUS_FAULT_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(3);
    (1..=seeds)
        .map(|seed| {
            trial(format!("faults::s3s::nothing_lost_through_faults_seed_{seed}"), move || faults_survived(seed))
        })
        .chain([trial(
            "faults::s3s::an_upload_part_sent_again_reads_its_range_again",
            a_part_sent_again_reads_its_range_again,
        )])
        .collect()
}
