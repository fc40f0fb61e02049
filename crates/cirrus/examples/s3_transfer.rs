//! Uploads a folder to S3, syncs a change, and downloads it back, with a progress line made
//! from the transfer engine's events ([`Transfers`]).
//!
//! 1. `cp --recursive`: a sample folder (a dozen small files and one of 12 MiB, which goes as a
//!    multipart upload) to `s3://BUCKET/PREFIX/`.
//! 2. One file changed, one added, one removed, then `sync --delete`: only those three are sent
//!    or deleted. A second sync finds nothing to do.
//! 3. `cp --recursive` back into an empty folder, compared byte for byte with the sample.
//!
//! The sample folder and the download are made in the temporary directory and removed at the
//! end; the objects stay under the prefix (`cirrus s3 rm --recursive s3://BUCKET/PREFIX/`
//! removes them). Since `sync --delete` removes what the folder lacks, a prefix that holds
//! anything but an earlier run's objects is refused before anything is sent. The bucket is
//! made if it does not exist. Exits 1 if any step did not do what it should.
//!
//! Credentials, region and endpoint come from where the AWS CLI finds them: `AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`, `AWS_PROFILE`, and
//! `AWS_ENDPOINT_URL` (or `AWS_ENDPOINT_URL_S3`) for an S3-compatible server.
//!
//! ```sh
//! cargo run -p cirrus --features s3 --example s3_transfer -- s3://my-bucket/cirrus-example/
//! ```

use cirrus::s3::transfer::{Cancel, Event, Location, SyncOptions, TransferOptions, Transfers};
use cirrus::s3::{ListOptions, S3Client};
use cirrus::Config;
use futures_util::TryStreamExt;
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

type BoxError = Box<dyn std::error::Error>;

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("s3_transfer: {}", cirrus::transport::report(&*e));
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), BoxError> {
    let target = std::env::args().nth(1).ok_or("usage: s3_transfer s3://BUCKET/PREFIX/")?;
    let Location::S3 { bucket, key } = Location::parse(&target)? else {
        return Err(format!("{target:?} is not an s3:// URL").into());
    };
    let prefix = if key.is_empty() || key.ends_with('/') { key } else { format!("{key}/") };
    let remote = Location::s3(&bucket, &prefix);

    let config = Config::from_env()?;
    let s3 = S3Client::from_config(&config)?;
    ensure_bucket(&s3, &bucket).await?;
    let mut listing = std::pin::pin!(s3.list(&bucket, ListOptions::prefix(&prefix)));
    while let Some(object) = listing.try_next().await? {
        if !is_sample(object.key.strip_prefix(prefix.as_str()).unwrap_or(&object.key)) {
            return Err(format!("s3://{bucket}/{} is not the example's: name a prefix of its own", object.key).into());
        }
    }
    let transfers = Transfers::new(s3);
    // `cancel.cancel()` (from a Ctrl-C handler, say) would stop a transfer cleanly: multipart
    // uploads aborted, temporary files removed.
    let cancel = Cancel::new();

    let work = std::env::temp_dir().join(format!("cirrus-s3-transfer-{}", std::process::id()));
    let (folder, download) = (work.join("folder"), work.join("download"));
    make_sample(&folder)?;
    let result = async {
        println!("== 1. upload {} to {remote}", folder.display());
        let up = Location::Local(folder.clone());
        let (progress, observer) = Progress::start();
        let summary = transfers.copy(&up, &remote, &TransferOptions::recursive(), observer, &cancel).await?;
        progress.finish(&summary);
        if !summary.is_complete() {
            return Err("the upload did not complete".into());
        }

        println!("== 2. change the folder, then sync it (with --delete)");
        std::fs::write(folder.join("data/day-01.csv"), csv(1, 400))?;
        std::fs::write(folder.join("data/day-13.csv"), csv(13, 40))?;
        std::fs::remove_file(folder.join("data/day-12.csv"))?;
        let options = SyncOptions::default().with_delete(true);
        let (progress, observer) = Progress::start();
        let summary = transfers.sync(&up, &remote, &options, observer, &cancel).await?;
        progress.finish(&summary);
        if !summary.is_complete() || summary.done != 3 {
            return Err(format!("the sync did {} things, not the 3 it should have", summary.done).into());
        }
        let (progress, observer) = Progress::start();
        let again = transfers.sync(&up, &remote, &options, observer, &cancel).await?;
        progress.finish(&again);
        if again.done != 0 {
            return Err(format!("a second sync sent {} objects; it should send none", again.done).into());
        }
        println!("a second sync sent nothing");

        println!("== 3. download {remote} to {}", download.display());
        let (progress, observer) = Progress::start();
        let down = Location::Local(download.clone());
        let summary = transfers.copy(&remote, &down, &TransferOptions::recursive(), observer, &cancel).await?;
        progress.finish(&summary);
        if !summary.is_complete() {
            return Err("the download did not complete".into());
        }
        let (sent, got) = (read_tree(&folder)?, read_tree(&download)?);
        if sent != got {
            let differ: Vec<&String> = sent.keys().chain(got.keys()).filter(|k| sent.get(*k) != got.get(*k)).collect();
            return Err(format!("the download differs from the folder: {differ:?}").into());
        }
        let bytes: usize = got.values().map(Vec::len).sum();
        println!("the download matches the folder: {} files, {bytes} bytes", got.len());
        Ok(())
    }
    .await;
    let _ = std::fs::remove_dir_all(&work);
    result
}

/// Makes `bucket` unless it is there (a listing of one key tells).
async fn ensure_bucket(s3: &S3Client, bucket: &str) -> Result<(), cirrus::Error> {
    match s3.list_page(bucket, &ListOptions::prefix("").with_page_size(1), None).await {
        Err(e) if e.code() == Some("NoSuchBucket") => {
            s3.create_bucket(bucket).await?;
            println!("made bucket {bucket}");
            Ok(())
        }
        other => other.map(|_| ()),
    }
}

/// What the events of one transfer add up to, shown as one line: redrawn in place on a
/// terminal, a line a second otherwise.
struct Progress {
    files: AtomicU64,
    bytes: AtomicU64,
    /// Known once the source is read to its end ([`Event::Listed`]).
    total: Mutex<Option<(u64, u64)>>,
    shown: Mutex<Instant>,
    tty: bool,
}

impl Progress {
    /// The progress, and an observer to hand to the transfer (which wants `'static`).
    fn start() -> (Arc<Progress>, impl Fn(&Event) + Send + Sync + 'static) {
        let progress = Arc::new(Progress {
            files: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            total: Mutex::new(None),
            shown: Mutex::new(Instant::now()),
            tty: std::io::stderr().is_terminal(),
        });
        let p = progress.clone();
        (progress, move |event: &Event| p.on(event))
    }

    fn on(&self, event: &Event) {
        match event {
            Event::Done { .. } => {
                self.files.fetch_add(1, Ordering::Relaxed);
                self.clear();
                println!("{event}"); // upload: …/data/day-01.csv to s3://my-bucket/…/data/day-01.csv
            }
            Event::Bytes(n) => {
                self.bytes.fetch_add(*n, Ordering::Relaxed);
            }
            Event::Listed { objects, bytes } => {
                *self.total.lock().unwrap_or_else(|e| e.into_inner()) = Some((*objects, *bytes));
            }
            // Failures, skips and warnings say what happened in their own words.
            other => {
                self.clear();
                eprintln!("{other}");
            }
        }
        let mut shown = self.shown.lock().unwrap_or_else(|e| e.into_inner());
        let every = if self.tty { Duration::from_millis(100) } else { Duration::from_secs(1) };
        if shown.elapsed() >= every {
            *shown = Instant::now();
            self.show();
        }
    }

    /// `progress: 12/15 files, 3.1 MiB of 12.0 MiB`.
    fn line(&self) -> String {
        let (files, bytes) = (self.files.load(Ordering::Relaxed), self.bytes.load(Ordering::Relaxed));
        match *self.total.lock().unwrap_or_else(|e| e.into_inner()) {
            Some((n, total)) => format!("progress: {files}/{n} files, {} of {}", size(bytes), size(total)),
            None => format!("progress: {files} files, {}", size(bytes)),
        }
    }

    fn show(&self) {
        let mut err = std::io::stderr().lock();
        if self.tty {
            let _ = write!(err, "\r\x1b[K{}", self.line());
        } else {
            let _ = writeln!(err, "{}", self.line());
        }
    }

    fn clear(&self) {
        if self.tty {
            let _ = write!(std::io::stderr(), "\r\x1b[K");
        }
    }

    /// The last progress line, then the summary.
    fn finish(&self, summary: &cirrus::s3::transfer::Summary) {
        self.clear();
        if !self.tty {
            self.show();
        }
        println!("{summary}"); // 15 done, 0 failed, 0 skipped, 12.0 MiB in 0.4 s (30.0 MiB/s)
    }
}

/// `512 B`, `3.8 KiB`, `12.0 MiB`.
fn size(bytes: u64) -> String {
    match bytes {
        0..1024 => format!("{bytes} B"),
        1024..1048576 => format!("{:.1} KiB", bytes as f64 / 1024.0),
        _ => format!("{:.1} MiB", bytes as f64 / 1048576.0),
    }
}

/// A small site, a dozen CSV files and one 12 MiB file (above the 8 MiB multipart threshold).
fn make_sample(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir.join("site/css"))?;
    std::fs::create_dir_all(dir.join("data"))?;
    std::fs::create_dir_all(dir.join("archive"))?;
    std::fs::write(dir.join("site/index.html"), "<!doctype html><title>cirrus</title><h1>Hello</h1>\n")?;
    std::fs::write(dir.join("site/css/site.css"), "h1 { color: teal }\n")?;
    for day in 1..=12 {
        std::fs::write(dir.join(format!("data/day-{day:02}.csv")), csv(day, 20 + day as usize))?;
    }
    let mut state = 0x2545_f491_u32;
    let big: Vec<u8> = (0..12 << 20)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        })
        .collect();
    std::fs::write(dir.join("archive/big.bin"), big)
}

/// Whether `name` (relative to the prefix) is one of the sample folder's files.
fn is_sample(name: &str) -> bool {
    let day = name.strip_prefix("data/day-").and_then(|d| d.strip_suffix(".csv"));
    matches!(name, "site/index.html" | "site/css/site.css" | "archive/big.bin")
        || day.is_some_and(|d| d.len() == 2 && d.parse::<u32>().is_ok_and(|n| (1..=13).contains(&n)))
}

fn csv(day: u32, rows: usize) -> String {
    let mut out = String::from("hour,reading\n");
    for row in 0..rows {
        out.push_str(&format!("{day:02}T{:02},{}\n", row % 24, row * 7 % 100));
    }
    out
}

/// Every file under `root` by its path relative to it, with its bytes.
fn read_tree(root: &Path) -> std::io::Result<BTreeMap<String, Vec<u8>>> {
    let mut files = BTreeMap::new();
    let mut dirs: Vec<PathBuf> = vec![root.to_owned()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                let rel = path.strip_prefix(root).unwrap_or(&path).to_string_lossy().into_owned();
                files.insert(rel, std::fs::read(&path)?);
            }
        }
    }
    Ok(files)
}
