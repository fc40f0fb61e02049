//! The transfer engine (`cirrus::s3::transfer`) against the real servers: trees up and down
//! and across, large objects in parts, every safety rule with hostile keys put by another
//! client, keep-going summaries, and interrupts that leave nothing behind.

use crate::common::{block_on, ctx_with, temp_dir, trial, Loopback, Reply};
use crate::ensure;
use crate::s3::{bucket, client, client_with, e, Server};
use cirrus::s3::transfer::{Cancel, Event, Location, Summary, TransferOptions, Transfers};
use cirrus::s3::{ListOptions, PutOptions, S3Client, S3Settings};
use futures_util::TryStreamExt;
use libtest_mimic::Trial;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Parts of 5 MiB (S3's smallest), so a 12 MiB file goes in three.
fn small_parts() -> S3Settings {
    S3Settings::default().with_part_size(5 << 20, 5 << 20)
}

/// Events as lines, for assertions.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<String>>>);

impl Log {
    fn observer(&self) -> impl Fn(&Event) + Send + Sync + 'static {
        let log = self.0.clone();
        move |ev| {
            if !matches!(ev, Event::Bytes(_)) {
                log.lock().unwrap().push(ev.to_string());
            }
        }
    }

    fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }

    fn with(&self, needle: &str) -> usize {
        self.lines().iter().filter(|l| l.contains(needle)).count()
    }
}

async fn run_copy(
    s3: &S3Client,
    src: &Location,
    dst: &Location,
    options: TransferOptions,
) -> Result<(Summary, Log), String> {
    let log = Log::default();
    let summary =
        Transfers::new(s3.clone()).copy(src, dst, &options, log.observer(), &Cancel::new()).await.map_err(e)?;
    Ok((summary, log))
}

async fn keys(s3: &S3Client, b: &str, prefix: &str) -> Result<Vec<String>, String> {
    let mut k: Vec<String> =
        s3.list(b, ListOptions::prefix(prefix)).map_ok(|o| o.key).try_collect().await.map_err(e)?;
    k.sort();
    Ok(k)
}

fn bytes(n: usize, seed: u8) -> Vec<u8> {
    (0..n).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 12) as u8).collect()
}

/// Every file under `root`, relative, with its bytes.
fn tree(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// A tree with a large file (multipart), a symlinked file (followed) and nested directories
/// goes up, comes down identical with the objects' times, and is copied across, the large
/// object with UploadPartCopy.
fn tree_round_trip(server: Server) -> Result<(), String> {
    let s3 = client_with(server, None, small_parts())?;
    let b = bucket("tree");
    let dir = temp_dir("tree");
    let src = dir.join("src");
    std::fs::create_dir_all(src.join("a/b")).map_err(e)?;
    for i in 0..40 {
        std::fs::write(src.join(format!("a/f{i}.txt")), bytes(1000 + i * 37, i as u8)).map_err(e)?;
    }
    std::fs::write(src.join("a/b/big.bin"), bytes(12 << 20, 7)).map_err(e)?;
    std::fs::write(src.join("empty"), b"").map_err(e)?;
    std::fs::write(dir.join("outside.txt"), b"followed").map_err(e)?;
    std::os::unix::fs::symlink(dir.join("outside.txt"), src.join("link.txt")).map_err(e)?;
    block_on(async {
        s3.create_bucket(&b).await.map_err(e)?;
        let up = Location::s3(&b, "up");
        let (summary, log) = run_copy(&s3, &Location::Local(src.clone()), &up, TransferOptions::recursive()).await?;
        ensure!(summary.is_complete() && summary.done == 43, "{summary} {:?}", log.lines());
        ensure!(log.with("upload: ") == 43 && log.with("s3://") == 43, "{:?}", log.lines());
        let listed = keys(&s3, &b, "up/").await?;
        ensure!(listed.len() == 43 && listed.contains(&"up/a/b/big.bin".to_owned()), "{listed:?}");
        ensure!(listed.contains(&"up/link.txt".to_owned()), "the symlinked file was not followed: {listed:?}");
        let head = s3.head(&b, "up/a/b/big.bin").await.map_err(e)?;
        ensure!(head.etag.as_deref().is_some_and(|t| t.ends_with("-3\"")), "not three parts: {:?}", head.etag);

        let down = dir.join("down");
        let (summary, log) = run_copy(&s3, &up, &Location::Local(down.clone()), TransferOptions::recursive()).await?;
        ensure!(summary.is_complete() && summary.done == 43, "{summary} {:?}", log.lines());
        let mut expect = tree(&src);
        for (rel, data) in &mut expect {
            if rel == "link.txt" {
                *data = b"followed".to_vec();
            }
        }
        ensure!(tree(&down) == expect, "the downloaded tree differs");
        // The listing's time, to the millisecond; HEAD's HTTP date has whole seconds.
        let modified = std::fs::metadata(down.join("a/b/big.bin")).map_err(e)?.modified().map_err(e)?;
        let secs = modified.duration_since(std::time::UNIX_EPOCH).map_err(e)?.as_secs();
        ensure!(
            Some(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs)) == head.last_modified,
            "mtime {modified:?} is not LastModified {:?}",
            head.last_modified
        );
        let leftovers: Vec<_> = std::fs::read_dir(down.join("a/b")).map_err(e)?.collect();
        ensure!(leftovers.len() == 1, "temporary files left: {leftovers:?}");

        let (summary, log) = run_copy(&s3, &up, &Location::s3(&b, "across/"), TransferOptions::recursive()).await?;
        ensure!(summary.is_complete() && summary.done == 43, "{summary} {:?}", log.lines());
        ensure!(log.with("copy: s3://") == 43, "{:?}", log.lines());
        let big = s3.get_bytes(&b, "across/a/b/big.bin").await.map_err(e)?;
        ensure!(big.as_ref() == bytes(12 << 20, 7).as_slice(), "the multipart copy differs");
        // A multipart copy carries the source's type over, unless the caller gives one.
        let copied = s3.head(&b, "across/a/b/big.bin").await.map_err(e)?;
        ensure!(copied.content_type == head.content_type, "{:?} vs {:?}", copied.content_type, head.content_type);
        let typed = TransferOptions::default().with_put_options(PutOptions::content_type("text/x-cirrus"));
        let (summary, _) =
            run_copy(&s3, &Location::s3(&b, "up/a/b/big.bin"), &Location::s3(&b, "typed/big.bin"), typed).await?;
        let retyped = s3.head(&b, "typed/big.bin").await.map_err(e)?;
        ensure!(summary.done == 1 && retyped.content_type.as_deref() == Some("text/x-cirrus"), "{retyped:?}");

        // One object each way, and onto a folder.
        let one = dir.join("one.bin");
        let (summary, _) = run_copy(
            &s3,
            &Location::s3(&b, "up/a/b/big.bin"),
            &Location::Local(one.clone()),
            TransferOptions::default(),
        )
        .await?;
        ensure!(summary.done == 1 && std::fs::read(&one).map_err(e)? == bytes(12 << 20, 7), "{summary}");
        let n = s3.download_file(&b, "up/empty", &dir.join("empty.out")).await.map_err(e)?;
        ensure!(n == 0 && std::fs::read(dir.join("empty.out")).map_err(e)?.is_empty(), "empty object");
        let (summary, _) =
            run_copy(&s3, &Location::Local(one), &Location::s3(&b, "single/"), TransferOptions::default()).await?;
        ensure!(summary.done == 1 && keys(&s3, &b, "single/").await? == ["single/one.bin"], "{summary}");

        s3.delete_prefix(&b, "").await.map_err(e)?;
        s3.delete_bucket(&b).await.map_err(e)?;
        Ok(())
    })
}

/// Keys put by another client that would escape the destination, pass through a symlink in
/// it, or cannot be files there are skipped and reported; everything else lands inside.
fn hostile_keys_stay_inside() -> Result<(), String> {
    let s3 = client(Server::Moto)?;
    let b = bucket("hostile");
    let dir = temp_dir("hostile");
    let dest = dir.join("dest");
    let outside = dir.join("outside");
    std::fs::create_dir_all(&dest).map_err(e)?;
    std::fs::create_dir_all(&outside).map_err(e)?;
    std::os::unix::fs::symlink(&outside, dest.join("link")).map_err(e)?;
    let long = "n".repeat(250);
    let too_long = "n".repeat(256);
    let escapes = ["../escape.txt", "a/../../escape2.txt", "link/through.txt", "x/./y"];
    let fine = ["ok.txt", "/abs/etc-passwd", "double//slash.txt", long.as_str()];
    block_on(async {
        s3.create_bucket(&b).await.map_err(e)?;
        for k in escapes.iter().chain(&fine).chain([&too_long.as_str()]) {
            s3.put(&b, k, k.as_bytes().to_vec(), &PutOptions::default()).await.map_err(e)?;
        }
        let (summary, log) =
            run_copy(&s3, &Location::s3(&b, ""), &Location::Local(dest.clone()), TransferOptions::recursive()).await?;
        ensure!(summary.done == 4 && summary.skipped == 5 && summary.failed == 0, "{summary}: {:?}", log.lines());
        ensure!(!summary.is_complete(), "a summary with skips is not complete");
        ensure!(log.with("warning: skipping s3://") == 5, "{:?}", log.lines());
        ensure!(std::fs::read_dir(&outside).map_err(e)?.count() == 0, "written through the symlink");
        ensure!(!dir.join("escape.txt").exists() && !dir.join("escape2.txt").exists(), "escaped");
        ensure!(std::fs::read(dest.join("abs/etc-passwd")).map_err(e)? == b"/abs/etc-passwd", "leading slash");
        ensure!(dest.join("double/slash.txt").exists() && dest.join(&long).exists(), "{:?}", tree(&dest));
        Ok(())
    })
}

/// Keys that are both a file and a folder (`x` and `x/y`): one of the two cannot be, and is
/// reported; the other lands.
fn file_and_folder_keys() -> Result<(), String> {
    let s3 = client(Server::Moto)?;
    let b = bucket("clash");
    let dest = temp_dir("clash");
    block_on(async {
        s3.create_bucket(&b).await.map_err(e)?;
        for k in ["x", "x/y", "z.txt"] {
            s3.put(&b, k, "v", &PutOptions::default()).await.map_err(e)?;
        }
        let (summary, log) =
            run_copy(&s3, &Location::s3(&b, ""), &Location::Local(dest.clone()), TransferOptions::recursive()).await?;
        ensure!(summary.done == 2 && summary.skipped == 1, "{summary}: {:?}", log.lines());
        let names: Vec<String> = std::fs::read_dir(&dest)
            .map_err(e)?
            .map(|d| d.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        ensure!(!names.iter().any(|n| n.ends_with(".cirrus")), "temporary file left: {names:?}");
        Ok(())
    })
}

/// `data` with a recursive delete means `data/`: `data-backup/...` and `database.sql` stay.
fn recursive_path_is_a_folder() -> Result<(), String> {
    let s3 = client(Server::S3s)?;
    let b = bucket("folder");
    let dest = temp_dir("folder");
    block_on(async {
        s3.create_bucket(&b).await.map_err(e)?;
        for k in ["data/a", "data/sub/b", "data-backup/c", "database.sql"] {
            s3.put(&b, k, "v", &PutOptions::default()).await.map_err(e)?;
        }
        let (summary, _) =
            run_copy(&s3, &Location::s3(&b, "data"), &Location::Local(dest.clone()), TransferOptions::recursive())
                .await?;
        ensure!(
            summary.done == 2 && tree(&dest).len() == 2 && dest.join("sub/b").exists(),
            "{summary} {:?}",
            tree(&dest)
        );
        let log = Log::default();
        let summary = Transfers::new(s3.clone())
            .remove(&Location::s3(&b, "data"), &TransferOptions::recursive(), log.observer(), &Cancel::new())
            .await
            .map_err(e)?;
        ensure!(summary.done == 2 && summary.is_complete(), "{summary}");
        ensure!(log.with(&format!("delete: s3://{b}/data/")) == 2, "{:?}", log.lines());
        ensure!(keys(&s3, &b, "").await? == ["data-backup/c", "database.sql"], "deleted too much");
        s3.delete_prefix(&b, "").await.map_err(e)?;
        s3.delete_bucket(&b).await.map_err(e)?;
        Ok(())
    })
}

/// `--exclude` / `--include` on every way through the engine: up, down, across, rm, and a
/// single file; relative to the source, the last matching rule winning.
fn filters_everywhere() -> Result<(), String> {
    use cirrus::s3::transfer::Filters;
    let s3 = client(Server::S3s)?;
    let b = bucket("filters");
    let src = temp_dir("filters-src");
    for (rel, body) in [("a.txt", "1"), ("b.log", "2"), ("keep/today.log", "3"), ("raw/c.txt", "4"), ("raw/d.jpg", "5")]
    {
        let p = src.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).map_err(|e| e.to_string())?;
        std::fs::write(&p, body).map_err(|e| e.to_string())?;
    }
    // No logs but the one kept, nothing under raw/ but pictures.
    let filters = Filters::default().exclude("*.log").include("keep/*").exclude("raw/*").include("raw/*.jpg");
    let options = || TransferOptions::recursive().with_filters(filters.clone());
    block_on(async {
        s3.create_bucket(&b).await.map_err(e)?;
        let (summary, _) = run_copy(&s3, &Location::Local(src.clone()), &Location::s3(&b, "up/"), options()).await?;
        let want = ["up/a.txt", "up/keep/today.log", "up/raw/d.jpg"];
        ensure!(summary.done == 3 && keys(&s3, &b, "up/").await? == want, "{summary}");
        // Down and across, everything uploaded unfiltered first.
        let (_, _) =
            run_copy(&s3, &Location::Local(src.clone()), &Location::s3(&b, "all/"), TransferOptions::recursive())
                .await?;
        let down = temp_dir("filters-down");
        run_copy(&s3, &Location::s3(&b, "all/"), &Location::Local(down.clone()), options()).await?;
        let mut got: Vec<String> = tree(&down).into_iter().map(|(r, _)| r).collect();
        got.sort();
        ensure!(got == ["a.txt", "keep/today.log", "raw/d.jpg"], "{got:?}");
        run_copy(&s3, &Location::s3(&b, "all/"), &Location::s3(&b, "across/"), options()).await?;
        ensure!(
            keys(&s3, &b, "across/").await? == ["across/a.txt", "across/keep/today.log", "across/raw/d.jpg"],
            "across"
        );
        // rm: only what the filters let through goes.
        let only_logs = TransferOptions::recursive().with_filters(Filters::default().exclude("*").include("*.log"));
        let log = Log::default();
        Transfers::new(s3.clone())
            .remove(&Location::s3(&b, "all"), &only_logs, log.observer(), &Cancel::new())
            .await
            .map_err(e)?;
        ensure!(keys(&s3, &b, "all/").await? == ["all/a.txt", "all/raw/c.txt", "all/raw/d.jpg"], "{:?}", log.lines());
        // A single file: its name is matched (against its folder, as the AWS CLI does).
        let single = TransferOptions::default().with_filters(Filters::default().exclude("*.txt"));
        let (summary, _) =
            run_copy(&s3, &Location::Local(src.join("a.txt")), &Location::s3(&b, "one/"), single).await?;
        ensure!(summary.done == 0 && keys(&s3, &b, "one/").await?.is_empty(), "{summary}");
        s3.delete_prefix(&b, "").await.map_err(e)?;
        s3.delete_bucket(&b).await.map_err(e)?;
        Ok(())
    })
}

/// `mv` every way: each source goes once its copy is complete; what fails stays; an object
/// is not moved onto itself.
fn moves() -> Result<(), String> {
    let s3 = client(Server::S3s)?;
    let b = bucket("mv");
    let src = temp_dir("mv-src");
    for rel in ["a.txt", "sub/b.txt", "sub/deeper/c.txt"] {
        let p = src.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).map_err(|e| e.to_string())?;
        std::fs::write(&p, rel).map_err(|e| e.to_string())?;
    }
    let mv = |from: Location, to: Location, options: TransferOptions| {
        let s3 = s3.clone();
        async move {
            let log = Log::default();
            let summary =
                Transfers::new(s3).mv(&from, &to, &options, log.observer(), &Cancel::new()).await.map_err(e)?;
            Ok::<_, String>((summary, log))
        }
    };
    block_on(async {
        s3.create_bucket(&b).await.map_err(e)?;
        // Up: the files go, the keys come.
        let (summary, log) =
            mv(Location::Local(src.clone()), Location::s3(&b, "up/"), TransferOptions::recursive()).await?;
        ensure!(summary.done == 3 && tree(&src).is_empty(), "{summary} {:?}", tree(&src));
        ensure!(log.with("move: ") == 3, "{:?}", log.lines());
        ensure!(keys(&s3, &b, "up/").await? == ["up/a.txt", "up/sub/b.txt", "up/sub/deeper/c.txt"], "up");
        // Across: the source keys go.
        let (summary, _) =
            mv(Location::s3(&b, "up"), Location::s3(&b, "across/"), TransferOptions::recursive()).await?;
        ensure!(summary.done == 3 && keys(&s3, &b, "up/").await?.is_empty(), "{summary}");
        // Down, one object: the key goes, the file comes.
        let down = temp_dir("mv-down");
        let (summary, _) =
            mv(Location::s3(&b, "across/a.txt"), Location::Local(down.join("a.txt")), TransferOptions::default())
                .await?;
        ensure!(
            summary.done == 1 && std::fs::read(down.join("a.txt")).map_err(|e| e.to_string())? == b"a.txt",
            "{summary}"
        );
        ensure!(keys(&s3, &b, "across/").await? == ["across/sub/b.txt", "across/sub/deeper/c.txt"], "down");
        // Into a bucket that does not exist: every copy fails, every source stays.
        let (summary, _) =
            mv(Location::s3(&b, "across"), Location::s3("no-such-bucket-cirrus", "x/"), TransferOptions::recursive())
                .await?;
        ensure!(summary.failed == 2 && summary.done == 0, "{summary}");
        ensure!(keys(&s3, &b, "across/").await?.len() == 2, "a failed move removed its source");
        // Onto itself: refused before anything happens.
        let err = Transfers::new(s3.clone())
            .mv(
                &Location::s3(&b, "across/sub/b.txt"),
                &Location::s3(&b, "across/sub/"),
                &TransferOptions::default(),
                |_| {},
                &Cancel::new(),
            )
            .await
            .err()
            .ok_or("moved an object onto itself")?;
        ensure!(err.is_input() && err.to_string().contains("onto itself"), "{err}");
        ensure!(keys(&s3, &b, "across/").await?.len() == 2, "self-move lost data");
        s3.delete_prefix(&b, "").await.map_err(e)?;
        s3.delete_bucket(&b).await.map_err(e)?;
        Ok(())
    })
}

/// Writes `rel` under `root` with `body`, its time a minute ago (a file written in the same
/// second as its upload looks newer than the object, as it would to the AWS CLI).
fn old_file(root: &Path, rel: &str, body: &str) -> Result<(), String> {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).map_err(|e| e.to_string())?;
    std::fs::write(&p, body).map_err(|e| e.to_string())?;
    let then = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
    std::fs::File::options().write(true).open(&p).and_then(|f| f.set_modified(then)).map_err(|e| e.to_string())
}

/// A local file where the bucket has a folder (`data` here, `data/x` and `data/sub/y` there):
/// `sync --delete` from S3 deletes the file and then downloads the folder, in one run (the
/// downloads wait for the deletions); a second run sends nothing. Without `--delete` the file
/// is the user's and stays; the keys beneath it are skipped.
fn sync_turns_a_file_into_a_folder_in_one_run() -> Result<(), String> {
    use cirrus::s3::transfer::SyncOptions;
    let s3 = client(Server::S3s)?;
    let b = bucket("sync-file-folder");
    let dir = temp_dir("sync-file-folder");
    let remote = Location::s3(&b, "t/");
    let sync = |delete: bool| {
        let (s3, remote, local) = (s3.clone(), remote.clone(), Location::Local(dir.clone()));
        async move {
            let log = Log::default();
            let options = SyncOptions::default().with_delete(delete);
            let summary = Transfers::new(s3).sync(&remote, &local, &options, log.observer(), &Cancel::new()).await;
            Ok::<_, String>((summary.map_err(e)?, log))
        }
    };
    block_on(async {
        s3.create_bucket(&b).await.map_err(e)?;
        for (k, v) in [("t/data/x", "x"), ("t/data/sub/y", "yy"), ("t/other", "o")] {
            s3.put(&b, k, v, &PutOptions::default()).await.map_err(e)?;
        }
        std::fs::write(dir.join("data"), "the user's file").map_err(|e| e.to_string())?;
        let (summary, log) = sync(false).await?;
        ensure!(summary.done == 1 && summary.skipped == 2, "without --delete: {summary} {:?}", log.lines());
        let kept = std::fs::read_to_string(dir.join("data")).map_err(|e| e.to_string())?;
        ensure!(kept == "the user's file", "the file was changed: {kept}");
        let (summary, log) = sync(true).await?;
        ensure!(
            summary.done == 3 && summary.failed == 0 && summary.skipped == 0 && log.with("delete:") == 1,
            "first run: {summary} {:?}",
            log.lines()
        );
        let x = std::fs::read_to_string(dir.join("data/x")).map_err(|e| e.to_string())?;
        let y = std::fs::read_to_string(dir.join("data/sub/y")).map_err(|e| e.to_string())?;
        ensure!(x == "x" && y == "yy", "downloaded: {x:?} {y:?}");
        let (summary, log) = sync(true).await?;
        ensure!(summary.done == 0 && summary.is_complete(), "second run: {summary} {:?}", log.lines());
        s3.delete_prefix(&b, "").await.map_err(e)?;
        s3.delete_bucket(&b).await.map_err(e)?;
        Ok(())
    })
}

/// A local folder where the bucket has a file (`data/y`, `data/sub/z` here, the key `data`
/// there): `sync --delete` from S3 deletes the files, then puts the download in place of the
/// folder left empty, in one run. A file the filters leave out keeps the folder (and the key is
/// skipped): nothing the user keeps is removed.
fn sync_turns_a_folder_into_a_file_in_one_run() -> Result<(), String> {
    use cirrus::s3::transfer::{Filters, SyncOptions};
    let s3 = client(Server::S3s)?;
    let b = bucket("sync-folder-file");
    let dir = temp_dir("sync-folder-file");
    let remote = Location::s3(&b, "t/");
    let sync = |exclude: Option<&'static str>| {
        let (s3, remote, local) = (s3.clone(), remote.clone(), Location::Local(dir.clone()));
        async move {
            let log = Log::default();
            let mut transfer = TransferOptions::recursive();
            if let Some(pattern) = exclude {
                transfer = transfer.with_filters(Filters::default().exclude(pattern));
            }
            let options = SyncOptions::default().with_delete(true).with_transfer(transfer);
            let summary = Transfers::new(s3).sync(&remote, &local, &options, log.observer(), &Cancel::new()).await;
            Ok::<_, String>((summary.map_err(e)?, log))
        }
    };
    let folder = |keep: bool| -> Result<(), String> {
        std::fs::create_dir_all(dir.join("data/sub/empty")).map_err(|e| e.to_string())?;
        let files = [("data/y", "y"), ("data/sub/z", "z")].into_iter().chain(keep.then_some(("data/k.keep", "k")));
        files.into_iter().try_for_each(|(rel, body)| std::fs::write(dir.join(rel), body).map_err(|e| e.to_string()))
    };
    block_on(async {
        s3.create_bucket(&b).await.map_err(e)?;
        s3.put(&b, "t/data", "the object", &PutOptions::default()).await.map_err(e)?;
        folder(true)?;
        let (summary, log) = sync(Some("*.keep")).await?;
        ensure!(summary.done == 2 && summary.skipped == 1, "with a kept file: {summary} {:?}", log.lines());
        ensure!(dir.join("data/k.keep").is_file(), "the kept file is gone");
        std::fs::remove_dir_all(dir.join("data")).map_err(|e| e.to_string())?;
        folder(false)?;
        let (summary, log) = sync(None).await?;
        ensure!(summary.done == 3 && summary.is_complete(), "first run: {summary} {:?}", log.lines());
        let got = std::fs::read_to_string(dir.join("data")).map_err(|e| e.to_string())?;
        ensure!(got == "the object", "data: {got:?}");
        let (summary, log) = sync(None).await?;
        ensure!(summary.done == 0 && summary.is_complete(), "second run: {summary} {:?}", log.lines());
        s3.delete_prefix(&b, "").await.map_err(e)?;
        s3.delete_bucket(&b).await.map_err(e)?;
        Ok(())
    })
}

/// sync every way: the first copies the tree, the second sends nothing, a change is the only
/// thing sent, --delete removes what the source lacks but not what filters leave out,
/// --dryrun changes nothing, and the plan is a stream a program can read.
fn syncs() -> Result<(), String> {
    use cirrus::s3::transfer::{Filters, SyncOptions};
    let s3 = client(Server::S3s)?;
    let b = bucket("sync");
    let src = temp_dir("sync-src");
    for (rel, body) in [("a.txt", "a"), ("sub/b.txt", "bb"), ("sub-c.txt", "ccc"), ("z.log", "z")] {
        old_file(&src, rel, body)?;
    }
    let sync = |from: Location, to: Location, options: SyncOptions| {
        let s3 = s3.clone();
        async move {
            let log = Log::default();
            let summary =
                Transfers::new(s3).sync(&from, &to, &options, log.observer(), &Cancel::new()).await.map_err(e)?;
            Ok::<_, String>((summary, log))
        }
    };
    let local = Location::Local(src.clone());
    let remote = Location::s3(&b, "site/");
    block_on(async {
        s3.create_bucket(&b).await.map_err(e)?;
        let (summary, _) = sync(local.clone(), remote.clone(), SyncOptions::default()).await?;
        ensure!(summary.done == 4, "first: {summary}");
        let (summary, log) = sync(local.clone(), remote.clone(), SyncOptions::default()).await?;
        ensure!(summary.done == 0 && log.with("upload:") == 0, "second: {summary} {:?}", log.lines());
        // One change (a new size), one file gone at the source, one extra key excluded.
        old_file(&src, "a.txt", "a changed")?;
        std::fs::remove_file(src.join("z.log")).map_err(|e| e.to_string())?;
        s3.put(&b, "site/keep.tmp", "x", &PutOptions::default()).await.map_err(e)?;
        let filters = Filters::default().exclude("*.tmp");
        let options =
            SyncOptions::default().with_delete(true).with_transfer(TransferOptions::recursive().with_filters(filters));
        let (summary, log) = sync(local.clone(), remote.clone(), options.clone().with_dryrun(true)).await?;
        ensure!(summary.done == 0, "dryrun did something: {summary}");
        let mut lines: Vec<String> = log.lines().into_iter().filter(|l| l.starts_with("(dryrun)")).collect();
        lines.sort();
        ensure!(
            lines
                == [
                    format!("(dryrun) delete: s3://{b}/site/z.log"),
                    format!("(dryrun) upload: {} to s3://{b}/site/a.txt", src.join("a.txt").display())
                ],
            "{lines:?}"
        );
        // The plan as a stream, before anything is done.
        let plan: Vec<String> = Transfers::new(s3.clone())
            .sync_plan(&local, &remote, &options)
            .await
            .map_err(e)?
            .map_ok(|a| a.to_string())
            .map_err(|e| e.to_string())
            .try_collect()
            .await?;
        ensure!(plan.len() == 2 && plan.iter().any(|l| l.starts_with("delete: ")), "{plan:?}");
        let (summary, _) = sync(local.clone(), remote.clone(), options).await?;
        ensure!(summary.done == 2, "{summary}");
        ensure!(
            keys(&s3, &b, "site/").await? == ["site/a.txt", "site/keep.tmp", "site/sub-c.txt", "site/sub/b.txt"],
            "after --delete"
        );
        // Down, twice: the second sends nothing (downloads take the object's time).
        let down = temp_dir("sync-down");
        let (summary, _) = sync(remote.clone(), Location::Local(down.clone()), SyncOptions::default()).await?;
        ensure!(
            summary.done == 4 && std::fs::read(down.join("a.txt")).map_err(|e| e.to_string())? == b"a changed",
            "{summary}"
        );
        let (summary, _) = sync(remote.clone(), Location::Local(down.clone()), SyncOptions::default()).await?;
        ensure!(summary.done == 0, "download again: {summary}");
        // Across, twice.
        let (summary, _) = sync(remote.clone(), Location::s3(&b, "mirror/"), SyncOptions::default()).await?;
        ensure!(summary.done == 4, "{summary}");
        let (summary, _) = sync(remote.clone(), Location::s3(&b, "mirror/"), SyncOptions::default()).await?;
        ensure!(summary.done == 0, "copy again: {summary}");
        // More folders than are listed ahead at once: the plan still comes in key order.
        for i in 0..40 {
            for name in ["a", "b/c", "d"] {
                s3.put(&b, &format!("many/f{i:02}/{name}"), "x", &PutOptions::default()).await.map_err(e)?;
            }
            s3.put(&b, &format!("many/f{i:02}-top"), "x", &PutOptions::default()).await.map_err(e)?;
        }
        let empty = temp_dir("sync-many");
        let plan: Vec<String> = Transfers::new(s3.clone())
            .sync_plan(&Location::s3(&b, "many"), &Location::Local(empty.clone()), &SyncOptions::default())
            .await
            .map_err(e)?
            .map_ok(|a| a.src.to_string())
            .map_err(|e| e.to_string())
            .try_collect()
            .await?;
        let mut sorted = plan.clone();
        sorted.sort();
        ensure!(plan.len() == 160 && plan == sorted, "{} steps, in order: {}", plan.len(), plan == sorted);
        // Overlapping prefixes are refused.
        let overlap = Transfers::new(s3.clone())
            .sync(&remote, &Location::s3(&b, "site/inner/"), &SyncOptions::default(), |_| {}, &Cancel::new())
            .await;
        ensure!(overlap.err().is_some_and(|e| e.is_input()), "an overlapping sync was accepted");
        s3.delete_prefix(&b, "").await.map_err(e)?;
        s3.delete_bucket(&b).await.map_err(e)?;
        Ok(())
    })
}

/// A recursive copy into a folder inside its source ends, and copies each object once: with
/// more keys than a page, and a destination that sorts after them, a second page would list
/// the copy's own output.
fn copy_into_itself_ends() -> Result<(), String> {
    let s3 = client(Server::S3s)?;
    let b = bucket("self");
    let src = temp_dir("self");
    for i in 0..1100 {
        std::fs::write(src.join(format!("k{i:04}")), b"v").map_err(e)?;
    }
    block_on(async {
        s3.create_bucket(&b).await.map_err(e)?;
        let (up, _) =
            run_copy(&s3, &Location::Local(src.clone()), &Location::s3(&b, "src"), TransferOptions::recursive())
                .await?;
        ensure!(up.done == 1100, "{up}");
        let (summary, _) = tokio::time::timeout(
            std::time::Duration::from_secs(120),
            run_copy(&s3, &Location::s3(&b, "src"), &Location::s3(&b, "src/zz"), TransferOptions::recursive()),
        )
        .await
        .map_err(|_| "the copy into its own source did not end".to_owned())??;
        ensure!(summary.done == 1100 && summary.is_complete(), "{summary}");
        ensure!(keys(&s3, &b, "src/zz/").await?.len() == 1100, "copied its own output");
        s3.delete_prefix(&b, "").await.map_err(e)?;
        s3.delete_bucket(&b).await.map_err(e)?;
        Ok(())
    })
}

/// One object that fails (a key over S3's 1,024 bytes) and one special file do not stop the
/// others; the summary counts each.
fn keeps_going() -> Result<(), String> {
    let s3 = client(Server::S3s)?;
    let b = bucket("going");
    let src = temp_dir("going");
    for i in 0..20 {
        std::fs::write(src.join(format!("f{i}")), b"data").map_err(e)?;
    }
    let deep: PathBuf = (0..6).map(|i| format!("{i}{}", "d".repeat(199))).collect();
    std::fs::create_dir_all(src.join(&deep)).map_err(e)?;
    std::fs::write(src.join(&deep).join("too-long-a-key"), b"x").map_err(e)?;
    let fifo = src.join("fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().map_err(e)?;
    ensure!(made.success(), "mkfifo failed");
    block_on(async {
        s3.create_bucket(&b).await.map_err(e)?;
        let (summary, log) =
            run_copy(&s3, &Location::Local(src.clone()), &Location::s3(&b, ""), TransferOptions::recursive()).await?;
        ensure!(summary.done == 20 && summary.failed == 1 && summary.skipped == 1, "{summary}: {:?}", log.lines());
        ensure!(log.with("upload failed: ") == 1 && log.with("1024") == 1, "{:?}", log.lines());
        ensure!(log.with("FIFO") == 1, "{:?}", log.lines());
        ensure!(keys(&s3, &b, "").await?.len() == 20, "the others did not all land");
        s3.delete_prefix(&b, "").await.map_err(e)?;
        s3.delete_bucket(&b).await.map_err(e)?;
        Ok(())
    })
}

/// A download onto a FIFO writes into it (a reader gets the bytes) and leaves it a FIFO.
fn fifo_target_is_written_into() -> Result<(), String> {
    let s3 = client(Server::S3s)?;
    let b = bucket("fifo");
    let dir = temp_dir("fifo");
    let fifo = dir.join("pipe");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().map_err(e)?;
    ensure!(made.success(), "mkfifo failed");
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo))
    };
    block_on(async {
        s3.create_bucket(&b).await.map_err(e)?;
        s3.put(&b, "k", bytes(100_000, 3), &PutOptions::default()).await.map_err(e)?;
        let n = s3.download_file(&b, "k", &fifo).await.map_err(e)?;
        ensure!(n == 100_000, "{n}");
        s3.delete_prefix(&b, "").await.map_err(e)?;
        s3.delete_bucket(&b).await.map_err(e)?;
        Ok(())
    })?;
    let got = reader.join().map_err(|_| "reader panicked".to_owned())?.map_err(e)?;
    ensure!(got == bytes(100_000, 3), "the reader got {} bytes", got.len());
    use std::os::unix::fs::FileTypeExt;
    ensure!(std::fs::symlink_metadata(&fifo).map_err(e)?.file_type().is_fifo(), "the FIFO was replaced");
    ensure!(std::fs::read_dir(&dir).map_err(e)?.count() == 1, "a temporary file was left");
    Ok(())
}

/// The ETag pin: a ranged GET for another version is refused (412), so a download never
/// mixes two versions of an object.
fn stale_etag_is_refused() -> Result<(), String> {
    let s3 = client(Server::Moto)?;
    let b = bucket("pin");
    block_on(async {
        s3.create_bucket(&b).await.map_err(e)?;
        s3.put(&b, "k", "first version", &PutOptions::default()).await.map_err(e)?;
        let old = s3.head(&b, "k").await.map_err(e)?.etag.ok_or("no etag")?;
        let ok = s3.get_if(&b, "k", Some("bytes=0-4"), Some(&old)).await.map_err(e)?;
        ensure!(ok.info.content_length == 5, "{:?}", ok.info);
        s3.put(&b, "k", "second version", &PutOptions::default()).await.map_err(e)?;
        let err = s3.get_if(&b, "k", Some("bytes=5-9"), Some(&old)).await.map(|_| ()).unwrap_err();
        ensure!(err.status() == Some(412), "{err}");
        Ok(())
    })
}

/// Interrupted mid multipart upload: the upload is aborted (nothing in ListMultipartUploads,
/// no object) before the summary returns. Interrupted mid download: no temporary file, no
/// target.
fn interrupt_cleans_up() -> Result<(), String> {
    let settings = small_parts().with_concurrency(1);
    let s3 = client_with(Server::Moto, None, settings)?;
    let b = bucket("interrupt");
    let dir = temp_dir("interrupt");
    std::fs::create_dir_all(dir.join("src")).map_err(e)?;
    std::fs::write(dir.join("src/big.bin"), bytes(30 << 20, 1)).map_err(e)?;
    block_on(async {
        s3.create_bucket(&b).await.map_err(e)?;
        let cancel = Cancel::new();
        let fire = cancel.clone();
        // Cancelled once the first part is in.
        let observer = move |ev: &Event| {
            if matches!(ev, Event::Bytes(_)) {
                fire.cancel();
            }
        };
        let summary = Transfers::new(s3.clone())
            .copy(
                &Location::Local(dir.join("src")),
                &Location::s3(&b, "up"),
                &TransferOptions::recursive(),
                observer,
                &cancel,
            )
            .await
            .map_err(e)?;
        ensure!(summary.interrupted && summary.done == 0 && summary.left_behind.is_empty(), "{summary}");
        let uploads = s3.list_multipart_uploads(&b).await.map_err(e)?;
        ensure!(uploads.is_empty(), "left behind: {uploads:?}");
        ensure!(keys(&s3, &b, "").await?.is_empty(), "an object appeared");

        let plain = client(Server::Moto)?;
        plain.upload_file(&b, "big.bin", &dir.join("src/big.bin"), &PutOptions::default()).await.map_err(e)?;
        let cancel = Cancel::new();
        let fire = cancel.clone();
        let observer = move |ev: &Event| {
            if matches!(ev, Event::Bytes(_)) {
                fire.cancel();
            }
        };
        let down = dir.join("down");
        let summary = Transfers::new(s3.clone())
            .copy(
                &Location::s3(&b, ""),
                &Location::Local(down.clone()),
                &TransferOptions::recursive(),
                observer,
                &cancel,
            )
            .await
            .map_err(e)?;
        ensure!(summary.interrupted && summary.done == 0, "{summary}");
        let left: Vec<_> = std::fs::read_dir(&down).map_err(e)?.collect();
        ensure!(left.is_empty(), "left in the destination: {left:?}");
        plain.delete_prefix(&b, "").await.map_err(e)?;
        plain.delete_bucket(&b).await.map_err(e)?;
        Ok(())
    })
}

/// Bad input is an error before anything starts.
fn bad_input() -> Result<(), String> {
    let s3 = client(Server::S3s)?;
    let dir = temp_dir("bad");
    block_on(async {
        let t = Transfers::new(s3);
        let cases = [
            (Location::Local(dir.join("missing")), Location::s3("b", "k"), false, "missing"),
            (Location::Local(dir.clone()), Location::s3("b", "k"), false, "use --recursive"),
            (Location::Local(dir.clone()), Location::Local(dir.clone()), true, "must be in S3"),
            (Location::s3("b", "folder/"), Location::Local(dir.clone()), false, "names no object"),
            (Location::s3("b", "p"), Location::s3("b", "p/"), true, "the same folder"),
        ];
        for (src, dst, recursive, want) in cases {
            let options = if recursive { TransferOptions::recursive() } else { TransferOptions::default() };
            let err = t.copy(&src, &dst, &options, |_| {}, &Cancel::new()).await.map(|_| ()).unwrap_err();
            ensure!(err.is_input() && err.to_string().contains(want), "{src} -> {dst}: {err}");
        }
        Ok(())
    })
}

/// A client for a loopback stand-in (fault injection: what no emulator does on demand).
fn client_at(url: &str, settings: S3Settings) -> Result<S3Client, String> {
    use cirrus::credentials::StaticCredentials;
    use cirrus::loader::{ConfigLoader, CredentialsChoice};
    let config = ConfigLoader::new(ctx_with(&[]))
        .region(Some("us-east-1"))
        .endpoint_url(Some(url))
        .credentials(CredentialsChoice::Provider(Arc::new(StaticCredentials::new("AKIDLOOP", "loop-secret", None))))
        .load()
        .map_err(e)?;
    S3Client::with_settings(&config, settings).map_err(e)
}

fn denied() -> Reply {
    Reply::status(403, "<Error><Code>AccessDenied</Code><Message>no</Message></Error>")
}

/// A part refused and then the abort refused too: the object fails as access denied, and the
/// upload left behind is in the summary with its bucket, key, upload id and why.
fn failed_abort_is_reported() -> Result<(), String> {
    let dir = temp_dir("left");
    std::fs::write(dir.join("big.bin"), bytes(12 << 20, 9)).map_err(e)?;
    block_on(async {
        let server = Loopback::start(|_, req| {
            if req.method == "POST" && req.target.ends_with("?uploads=") {
                Reply::ok(
                    "<InitiateMultipartUploadResult><UploadId>UPLOAD-42</UploadId></InitiateMultipartUploadResult>",
                )
            } else {
                denied()
            }
        })
        .await;
        let s3 = client_at(&server.url, small_parts())?;
        let (summary, log) = run_copy(
            &s3,
            &Location::Local(dir.join("big.bin")),
            &Location::s3("bucket", "big.bin"),
            TransferOptions::default(),
        )
        .await?;
        ensure!(summary.failed == 1 && summary.left_behind.len() == 1, "{summary}: {:?}", log.lines());
        let left = &summary.left_behind[0];
        ensure!(left.upload_id == "UPLOAD-42" && left.key == "big.bin" && left.bucket == "bucket", "{left:?}");
        ensure!(left.error.is_access_denied(), "{left}");
        ensure!(left.to_string().contains("could not abort") && left.to_string().contains("UPLOAD-42"), "{left}");
        ensure!(log.with("upload failed") == 1 && log.with("AccessDenied") == 1, "{:?}", log.lines());
        let aborts = server.requests().iter().filter(|r| r.method == "DELETE").count();
        ensure!(aborts >= 1, "no abort was sent");
        Ok(())
    })
}

/// Why an object failed is a kind a caller can match on, and the same for a single call as for
/// an object inside a bulk run: a missing key is not found, a refused one access denied, a
/// throttled one throttled, each with the AWS call's error underneath; a key that would escape
/// the destination is refused.
fn failures_are_typed_alike_in_a_call_and_a_run() -> Result<(), String> {
    use cirrus::s3::transfer::ErrorKind;
    let dir = temp_dir("typed");
    block_on(async {
        let server = Loopback::start(|_, req| {
            let error = |status, code: &str| Reply::status(status, format!("<Error><Code>{code}</Code></Error>"));
            if req.target.contains("list-type=2") {
                let item = |k: &str| {
                    format!("<Contents><Key>{k}</Key><Size>3</Size><LastModified>2024-01-01T00:00:00.000Z</LastModified></Contents>")
                };
                let items: String = ["../up", "denied", "gone", "slow"].iter().map(|k| item(k)).collect();
                Reply::ok(format!("<ListBucketResult><IsTruncated>false</IsTruncated>{items}</ListBucketResult>"))
            } else if req.target.ends_with("/gone") {
                error(404, "NoSuchKey")
            } else if req.target.ends_with("/denied") {
                error(403, "AccessDenied")
            } else {
                error(503, "SlowDown")
            }
        })
        .await;
        let s3 = client_once_at(&server.url)?;
        // One call.
        let single = s3.download_file("bucket", "gone", &dir.join("one")).await.err().ok_or("a missing key arrived")?;
        ensure!(single.is_not_found() && single.kind() == ErrorKind::NotFound, "{single:?}");
        ensure!(single.call_error().and_then(|c| c.code()) == Some("NoSuchKey"), "{single:?}");
        ensure!(single.location() == Some(&Location::s3("bucket", "gone")), "{single:?}");
        // The same keys in a bulk run.
        let seen: Arc<Mutex<Vec<(String, ErrorKind, bool)>>> = Arc::default();
        let record = seen.clone();
        let observer = move |ev: &Event| match ev {
            Event::Failed { src, error, .. } => {
                record.lock().unwrap().push((src.to_string(), error.kind(), error.call_error().is_some()))
            }
            Event::Skipped { src, reason } => record.lock().unwrap().push((src.to_string(), reason.kind(), false)),
            _ => {}
        };
        let down = dir.join("down");
        let summary = Transfers::new(s3.clone())
            .copy(
                &Location::s3("bucket", ""),
                &Location::Local(down),
                &TransferOptions::recursive(),
                observer,
                &Cancel::new(),
            )
            .await
            .map_err(e)?;
        ensure!(summary.failed == 3 && summary.skipped == 1 && summary.done == 0, "{summary}");
        let mut got = seen.lock().unwrap().clone();
        got.sort_by(|a, b| a.0.cmp(&b.0));
        let want = [
            ("s3://bucket/../up", ErrorKind::Refused, false),
            ("s3://bucket/denied", ErrorKind::AccessDenied, true),
            ("s3://bucket/gone", ErrorKind::NotFound, true),
            ("s3://bucket/slow", ErrorKind::Throttled, true),
        ];
        ensure!(got.iter().map(|(s, k, c)| (s.as_str(), *k, *c)).eq(want), "{got:?}");
        Ok(())
    })
}

/// A client of the loopback server that sends each request once (no retries).
fn client_once_at(url: &str) -> Result<S3Client, String> {
    use cirrus::credentials::StaticCredentials;
    use cirrus::loader::{ConfigLoader, CredentialsChoice};
    let config = ConfigLoader::new(ctx_with(&[("AWS_MAX_ATTEMPTS", "1")]))
        .region(Some("us-east-1"))
        .endpoint_url(Some(url))
        .credentials(CredentialsChoice::Provider(Arc::new(StaticCredentials::new("AKIDLOOP", "loop-secret", None))))
        .load()
        .map_err(e)?;
    S3Client::from_config(&config).map_err(e)
}

/// A body that breaks off mid-way is asked for again from where it stopped (a Range for the
/// rest), and the file comes out whole.
fn broken_body_is_resumed() -> Result<(), String> {
    let dir = temp_dir("resume");
    block_on(async {
        let server = Loopback::start(|i, _| match i {
            // Announces 1,000 bytes of 'x', sends 500, closes.
            0 => Reply::CutBody(1000),
            _ => Reply::Http(206, vec![("content-range".into(), "bytes 500-999/1000".into())], vec![b'x'; 500]),
        })
        .await;
        let s3 = client_at(&server.url, S3Settings::default())?;
        let n = s3.download_file("bucket", "k", &dir.join("k")).await.map_err(e)?;
        ensure!(n == 1000 && std::fs::read(dir.join("k")).map_err(e)? == vec![b'x'; 1000], "{n}");
        let seen = server.requests();
        ensure!(seen.len() == 2 && seen[1].header("range") == Some("bytes=500-999"), "{seen:?}");
        Ok(())
    })
}

/// The small objects of a listing are gathered in memory and written in one go: one whose body
/// breaks off is asked for the rest, one whose bytes do not make its ETag is asked for again
/// whole, and each file holds exactly the object (not the first answer and the second).
fn small_objects_of_a_listing_come_whole_after_faults() -> Result<(), String> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let dir = temp_dir("small-faults");
    // MD5 of 1,000 x 'x'.
    const ETAG: &str = "\"398533d48111e9f664b1f64cb10c4b63\"";
    block_on(async {
        let gets = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]);
        let seen = gets.clone();
        let server = Loopback::start(move |_, req| {
            if req.target.contains("list-type=2") {
                let item = |k: &str| {
                    format!(
                        "<Contents><Key>{k}</Key><Size>1000</Size><ETag>{ETAG}</ETag>\
                         <LastModified>2024-01-01T00:00:00.000Z</LastModified></Contents>"
                    )
                };
                return Reply::ok(format!(
                    "<ListBucketResult><IsTruncated>false</IsTruncated>{}{}</ListBucketResult>",
                    item("cut"),
                    item("flip")
                ));
            }
            let whole = || Reply::ok(vec![b'x'; 1000]).with_header("etag", ETAG);
            if req.target.ends_with("/cut") {
                match seen[0].fetch_add(1, Ordering::SeqCst) {
                    0 => Reply::CutBody(1000),
                    _ => Reply::Http(206, vec![("content-range".into(), "bytes 500-999/1000".into())], vec![b'x'; 500]),
                }
            } else {
                match seen[1].fetch_add(1, Ordering::SeqCst) {
                    0 => {
                        let mut flipped = vec![b'x'; 1000];
                        flipped[10] = b'y';
                        Reply::ok(flipped).with_header("etag", ETAG)
                    }
                    _ => whole(),
                }
            }
        })
        .await;
        let s3 = client_at(&server.url, S3Settings::default())?;
        let down = dir.join("down");
        let summary = Transfers::new(s3)
            .copy(
                &Location::s3("bucket", ""),
                &Location::Local(down.clone()),
                &TransferOptions::recursive(),
                |_: &Event| {},
                &Cancel::new(),
            )
            .await
            .map_err(e)?;
        ensure!(summary.done == 2 && summary.failed == 0, "{summary}");
        for name in ["cut", "flip"] {
            let got = std::fs::read(down.join(name)).map_err(e)?;
            ensure!(got == vec![b'x'; 1000], "{name}: {} bytes, not the object", got.len());
        }
        ensure!(gets[0].load(Ordering::SeqCst) == 2 && gets[1].load(Ordering::SeqCst) == 2, "GETs: {gets:?}");
        let rest = server.requests().into_iter().filter(|r| r.target.ends_with("/cut")).nth(1);
        ensure!(rest.as_ref().and_then(|r| r.header("range")) == Some("bytes=500-999"), "{rest:?}");
        Ok(())
    })
}

/// A file that grows while its parts are sent fails, and its multipart upload is aborted:
/// nothing is stored at a size that was never the file's.
fn a_file_that_changes_fails() -> Result<(), String> {
    let s3 = client_with(Server::Moto, None, small_parts().with_concurrency(1))?;
    let b = bucket("changing");
    let dir = temp_dir("changing");
    let path = dir.join("growing.log");
    std::fs::write(&path, bytes(15 << 20, 5)).map_err(e)?;
    block_on(async {
        s3.create_bucket(&b).await.map_err(e)?;
        let log = Log::default();
        let record = log.observer();
        let appended = std::sync::atomic::AtomicBool::new(false);
        let target = path.clone();
        // Once the first part is in, the file grows, as a log being written would.
        let observer = move |ev: &Event| {
            if matches!(ev, Event::Bytes(_)) && !appended.swap(true, std::sync::atomic::Ordering::SeqCst) {
                use std::io::Write;
                let mut f = std::fs::OpenOptions::new().append(true).open(&target).expect("open to append");
                f.write_all(b"one more line\n").expect("append");
            }
            record(ev);
        };
        let summary = Transfers::new(s3.clone())
            .copy(
                &Location::Local(path.clone()),
                &Location::s3(&b, "growing.log"),
                &TransferOptions::default(),
                observer,
                &Cancel::new(),
            )
            .await
            .map_err(e)?;
        ensure!(summary.failed == 1 && summary.done == 0, "{summary}: {:?}", log.lines());
        ensure!(log.with("changed while it was being uploaded") == 1, "{:?}", log.lines());
        ensure!(s3.list_multipart_uploads(&b).await.map_err(e)?.is_empty(), "the upload was left behind");
        ensure!(keys(&s3, &b, "").await?.is_empty(), "an object was stored");
        Ok(())
    })
}

/// Runs a copy with `--resume` in `journals`, interrupted once the first part is in.
async fn interrupted_upload(s3: &S3Client, src: &Location, dst: &Location, journals: &Path) -> Result<(), String> {
    let options = TransferOptions::default().with_resume(Some(journals.to_path_buf()));
    let cancel = Cancel::new();
    let stop = cancel.clone();
    let observer = move |ev: &Event| {
        if matches!(ev, Event::Bytes(_)) {
            stop.cancel();
        }
    };
    let summary = Transfers::new(s3.clone()).copy(src, dst, &options, observer, &cancel).await.map_err(e)?;
    ensure!(summary.interrupted && summary.resumable == 1 && summary.done == 0, "{summary}");
    ensure!(summary.to_string().contains("1 upload kept to resume"), "{summary}");
    Ok(())
}

/// The journal files in `dir`.
fn journal_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir).map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect()).unwrap_or_default()
}

/// `--resume`: an upload interrupted after its first part is kept, not aborted, with a journal;
/// the next run checks that S3 still lists the part and that the file's bytes still have the
/// digests recorded, sends only the other parts, and the object is the file. A part whose
/// bytes changed (same size, same time) is sent again; a file whose size changed starts over,
/// and the upload the first run kept is aborted.
fn resumes_an_interrupted_upload() -> Result<(), String> {
    let s3 = client_with(Server::Moto, None, small_parts().with_concurrency(1))?;
    let b = bucket("resume");
    let dir = temp_dir("resume");
    let journals = dir.join("journals");
    let options = TransferOptions::default().with_resume(Some(journals.clone()));
    block_on(async {
        s3.create_bucket(&b).await.map_err(e)?;
        // Four parts: 5 + 5 + 5 + 2 MiB.
        let data = bytes(17 << 20, 9);
        let path = dir.join("big.bin");
        std::fs::write(&path, &data).map_err(e)?;
        let (src, dst) = (Location::Local(path.clone()), Location::s3(&b, "big.bin"));
        interrupted_upload(&s3, &src, &dst, &journals).await?;
        ensure!(s3.list_multipart_uploads(&b).await.map_err(e)?.len() == 1, "the upload was not kept");
        let files = journal_files(&journals);
        let text = std::fs::read_to_string(files.first().ok_or("no journal")?).map_err(e)?;
        ensure!(files.len() == 1 && text.lines().count() == 2, "journal: {text}");
        let (summary, log) = run_copy(&s3, &src, &dst, options.clone()).await?;
        ensure!(summary.is_complete() && summary.done == 1 && summary.resumable == 0, "{summary}");
        ensure!(
            log.with("resume: ") == 1 && log.with("(1 parts, 5242880 bytes already sent)") == 1,
            "{:?}",
            log.lines()
        );
        ensure!(s3.get_bytes(&b, "big.bin").await.map_err(e)?[..] == data[..], "the object is not the file");
        ensure!(journal_files(&journals).is_empty(), "the journal was left");
        ensure!(s3.list_multipart_uploads(&b).await.map_err(e)?.is_empty(), "an upload was left");

        // A byte of the first part flipped, the size and time put back: the part is sent again.
        let path = dir.join("tampered.bin");
        std::fs::write(&path, &data).map_err(e)?;
        let (src, dst) = (Location::Local(path.clone()), Location::s3(&b, "tampered.bin"));
        interrupted_upload(&s3, &src, &dst, &journals).await?;
        let mtime = std::fs::metadata(&path).and_then(|m| m.modified()).map_err(e)?;
        let mut changed = data.clone();
        changed[1000] ^= 0xff;
        std::fs::write(&path, &changed).map_err(e)?;
        std::fs::File::options().write(true).open(&path).and_then(|f| f.set_modified(mtime)).map_err(e)?;
        let (summary, log) = run_copy(&s3, &src, &dst, options.clone()).await?;
        ensure!(summary.is_complete() && log.with("resume: ") == 0, "{summary} {:?}", log.lines());
        ensure!(s3.get_bytes(&b, "tampered.bin").await.map_err(e)?[..] == changed[..], "the old part was reused");

        // The file grew: a new upload, and the kept one aborted.
        let path = dir.join("grown.bin");
        std::fs::write(&path, &data).map_err(e)?;
        let (src, dst) = (Location::Local(path.clone()), Location::s3(&b, "grown.bin"));
        interrupted_upload(&s3, &src, &dst, &journals).await?;
        let grown = bytes(18 << 20, 3);
        std::fs::write(&path, &grown).map_err(e)?;
        let (summary, log) = run_copy(&s3, &src, &dst, options.clone()).await?;
        ensure!(summary.is_complete() && log.with("resume: ") == 0, "{summary} {:?}", log.lines());
        ensure!(s3.get_bytes(&b, "grown.bin").await.map_err(e)?[..] == grown[..], "the object is not the new file");
        ensure!(s3.list_multipart_uploads(&b).await.map_err(e)?.is_empty(), "the kept upload was not aborted");
        ensure!(journal_files(&journals).is_empty(), "a journal was left");
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    })
}

/// Copies started at once from one `Transfers` (and its clones) share one budget of requests
/// in flight: three trees of six files with a concurrency of 2, against a server that answers
/// each PUT after 100 ms, open about two connections; three engines of their own open about six.
fn transfers_share_one_budget() -> Result<(), String> {
    let dir = temp_dir("budget");
    for t in 0..3 {
        for f in 0..6 {
            let p = dir.join(format!("t{t}/f{f}"));
            std::fs::create_dir_all(p.parent().unwrap_or(&dir)).map_err(e)?;
            std::fs::write(p, format!("{t}{f}")).map_err(e)?;
        }
    }
    block_on(async {
        let slow_ok =
            || Reply::Slow(std::time::Duration::from_millis(100), Box::new(Reply::ok("").with_header("ETag", "\"x\"")));
        let mut used = Vec::new();
        for shared in [true, false] {
            let server = Loopback::start(move |_, _| slow_ok()).await;
            let s3 = client_at(&server.url, S3Settings::default().with_concurrency(2))?;
            let one = Transfers::new(s3.clone());
            let runs = (0..3).map(|t| {
                let engine = if shared { one.with_client(s3.clone()) } else { Transfers::new(s3.clone()) };
                let (src, dst) = (Location::Local(dir.join(format!("t{t}"))), Location::s3("bucket", format!("t{t}/")));
                async move { engine.copy(&src, &dst, &TransferOptions::recursive(), |_| {}, &Cancel::new()).await }
            });
            for summary in futures_util::future::join_all(runs).await {
                let summary = summary.map_err(e)?;
                ensure!(summary.done == 6, "{summary}");
            }
            used.push(server.connections());
        }
        ensure!(used[0] <= 3 && used[1] >= 5, "connections {used:?}: one budget, then three");
        Ok(())
    })
}

/// A loopback S3 that takes multipart uploads (id `U1`) of `parts` parts.
async fn multipart_loopback(parts: usize) -> Loopback {
    Loopback::start(move |_, req| {
        if req.method == "POST" && req.target.ends_with("?uploads=") {
            Reply::ok("<InitiateMultipartUploadResult><UploadId>U1</UploadId></InitiateMultipartUploadResult>")
        } else if req.method == "PUT" {
            Reply::ok("").with_header("ETag", "\"p\"")
        } else {
            Reply::ok(format!(
                "<CompleteMultipartUploadResult><ETag>\"x-{parts}\"</ETag></CompleteMultipartUploadResult>"
            ))
        }
    })
    .await
}

/// Checks that the UploadPart `put` (of parts of 5 MiB of `data`) carried its part's bytes,
/// their `algorithm` checksum and their SHA-256 as the signed payload hash.
fn part_received_whole(
    put: &crate::common::Seen,
    data: &[u8],
    algorithm: cirrus::s3::ChecksumAlgorithm,
) -> Result<(), String> {
    let number: usize = put
        .target
        .split("partNumber=")
        .nth(1)
        .and_then(|n| n.split('&').next())
        .and_then(|n| n.parse().ok())
        .ok_or("no part number")?;
    let range = &data[(number - 1) * (5 << 20)..(number * (5 << 20)).min(data.len())];
    ensure!(put.body == range, "part {number}: other bytes");
    let sum = algorithm.checksum(range);
    ensure!(put.header(algorithm.header_name()) == Some(sum.as_str()), "part {number}: {algorithm} checksum");
    ensure!(
        put.header("x-amz-content-sha256") == Some(cirrus_sigv4::sha256_hex(range).as_str()),
        "part {number}: hash"
    );
    Ok(())
}

/// A multipart upload within a memory budget below one part: parts are streamed from the
/// file, so more than one is in flight (before, each held its 5 MiB and the 2 MiB budget let one
/// go at a time), and the server receives each part's bytes, checksum and payload hash exactly.
/// The server answers each part after 300 ms: parts in flight together reach it within less.
fn parts_stream_within_a_small_budget() -> Result<(), String> {
    let dir = temp_dir("stream");
    let data = bytes(40 << 20, 11);
    std::fs::write(dir.join("big.bin"), &data).map_err(e)?;
    block_on(async {
        let (server, parts) = slow_multipart_loopback().await;
        let settings = small_parts().with_memory_budget(2 << 20).with_concurrency(8);
        let s3 = client_at(&server.url, settings)?;
        let src = Location::Local(dir.join("big.bin"));
        let (summary, log) =
            run_copy(&s3, &src, &Location::s3("bucket", "big.bin"), TransferOptions::default()).await?;
        ensure!(summary.done == 1 && summary.failed == 0, "{summary}: {:?}", log.lines());
        parts_streamed_together(&server, &parts, &data)
    })
}

/// How long [`slow_multipart_loopback`] holds each part before it answers.
const PART_HOLD: std::time::Duration = std::time::Duration::from_millis(300);

/// A multipart server that answers each part after [`PART_HOLD`], and when each part reached it.
async fn slow_multipart_loopback() -> (Loopback, Arc<Mutex<Vec<std::time::Instant>>>) {
    let parts = Arc::new(Mutex::new(Vec::new()));
    let seen_parts = parts.clone();
    let server = Loopback::start(move |_, req| {
        if req.method == "POST" && req.target.ends_with("?uploads=") {
            Reply::ok("<InitiateMultipartUploadResult><UploadId>U1</UploadId></InitiateMultipartUploadResult>")
        } else if req.method == "PUT" {
            seen_parts.lock().unwrap().push(std::time::Instant::now());
            let ok = Reply::ok("").with_header("ETag", "\"p\"");
            Reply::Slow(PART_HOLD, Box::new(ok))
        } else {
            Reply::ok("<CompleteMultipartUploadResult><ETag>\"x-8\"</ETag></CompleteMultipartUploadResult>")
        }
    })
    .await;
    (server, parts)
}

/// The 8 parts of `data` reached `server` whole (bytes, CRC32, payload hash), several in
/// flight together.
fn parts_streamed_together(
    server: &Loopback,
    parts: &Mutex<Vec<std::time::Instant>>,
    data: &[u8],
) -> Result<(), String> {
    let puts: Vec<_> = server.requests().into_iter().filter(|r| r.method == "PUT").collect();
    ensure!(puts.len() == 8, "{} parts", puts.len());
    for put in &puts {
        part_received_whole(put, data, cirrus::s3::ChecksumAlgorithm::Crc32)?;
    }
    let mut at = parts.lock().unwrap().clone();
    at.sort();
    // One at a time, a part is sent only once the one before is answered, at least PART_HOLD
    // after it arrived: a part that arrives sooner was in flight beside it. (Not a tighter
    // window: each part is read and hashed first, and on a slow machine, in a debug build,
    // beside the other tests, that alone takes 150 ms or more.)
    let together = at.windows(2).filter(|w| w[1] - w[0] < PART_HOLD).count();
    ensure!(together >= 2, "parts reached the server one at a time: {at:?}");
    Ok(())
}

/// `S3Client::upload_file` streams a file's parts as the engine does: within a 2 MiB budget
/// several 5 MiB parts are in flight at once (held in memory, one would go at a time), each
/// arrives whole with its CRC32 and payload hash, and progress ends at the file's size.
fn upload_file_streams_its_parts() -> Result<(), String> {
    let dir = temp_dir("ufstream");
    let data = bytes(40 << 20, 23);
    std::fs::write(dir.join("big.bin"), &data).map_err(e)?;
    block_on(async {
        let (server, parts) = slow_multipart_loopback().await;
        let s3 = client_at(&server.url, small_parts().with_memory_budget(2 << 20).with_concurrency(8))?;
        let sent = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let seen = sent.clone();
        let progress = Arc::new(move |n: u64| {
            seen.fetch_max(n, std::sync::atomic::Ordering::SeqCst);
        });
        let options = cirrus::s3::PutOptions::default().with_progress(progress);
        let out = s3.upload_file("bucket", "big.bin", &dir.join("big.bin"), &options).await.map_err(e)?;
        ensure!(out.parts == 8, "{out:?}");
        ensure!(sent.load(std::sync::atomic::Ordering::SeqCst) == data.len() as u64, "progress");
        parts_streamed_together(&server, &parts, &data)
    })
}

/// The seam holds one function for the whole process, and the trials run in parallel: the
/// tests that set it take turns, or one's function replaces the other's (or is cleared under
/// it) and a file that should change does not.
#[cfg(feature = "fuzzing")]
static ONE_SEAM: Mutex<()> = Mutex::new(());

/// A turn at the seam: its function is cleared, then the turn given up, when this drops.
#[cfg(feature = "fuzzing")]
struct SeamTurn(#[allow(dead_code)] std::sync::MutexGuard<'static, ()>);

#[cfg(feature = "fuzzing")]
impl Drop for SeamTurn {
    fn drop(&mut self) {
        cirrus::fuzzing::set_after_first_pass(None);
    }
}

/// Through a test seam, changes the file at `path` once, between its first part's first pass
/// (checksum and payload hash) and its sending, at the same size and modification time, so the
/// engine's check of the file's size and time cannot see it. Holds the seam until the turn
/// returned drops.
#[cfg(feature = "fuzzing")]
fn change_between_the_passes(path: &std::path::Path) -> Result<SeamTurn, String> {
    let turn = SeamTurn(ONE_SEAM.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
    use std::os::unix::fs::MetadataExt;
    let inode = std::fs::metadata(path).map_err(e)?.ino();
    let target = path.to_owned();
    let flipped = std::sync::atomic::AtomicBool::new(false);
    cirrus::fuzzing::set_after_first_pass(Some(Box::new(move |file: &std::fs::File| {
        let ours = file.metadata().is_ok_and(|m| m.ino() == inode);
        if ours && !flipped.swap(true, std::sync::atomic::Ordering::SeqCst) {
            use std::os::unix::fs::FileExt;
            let mtime = std::fs::metadata(&target).and_then(|m| m.modified()).expect("mtime");
            let f = std::fs::File::options().write(true).open(&target).expect("open to write");
            f.write_all_at(b"CHANGED", 1000).expect("write");
            f.set_modified(mtime).expect("put the time back");
        }
    })));
    Ok(turn)
}

/// A part whose file changed between its two passes is never stored by the signature-checking
/// server, and the upload fails naming the change.
#[cfg(feature = "fuzzing")]
fn a_file_changed_between_the_passes_is_refused() -> Result<(), String> {
    let s3 = client_with(Server::S3s, None, small_parts().with_concurrency(1))?;
    let b = bucket("between");
    let dir = temp_dir("between");
    let path = dir.join("big.bin");
    std::fs::write(&path, bytes(12 << 20, 4)).map_err(e)?;
    let _turn = change_between_the_passes(&path)?;
    block_on(async {
        s3.create_bucket(&b).await.map_err(e)?;
        let src = Location::Local(path.clone());
        let (summary, log) = run_copy(&s3, &src, &Location::s3(&b, "big.bin"), TransferOptions::default()).await?;
        ensure!(summary.failed == 1 && summary.done == 0, "{summary}: {:?}", log.lines());
        ensure!(log.with("file changed while it was being uploaded") == 1, "{:?}", log.lines());
        ensure!(keys(&s3, &b, "").await?.is_empty(), "an object was stored");
        Ok(())
    })
}

/// The same change against a server that checks nothing (neither the payload hash nor the
/// checksum, as s3s-fs does not check the checksum and some stores check neither): the body
/// finds that its bytes no longer come to the first pass's CRC32 and breaks off before its
/// last byte, so the server never receives the changed part whole, and the upload is aborted,
/// never completed.
#[cfg(feature = "fuzzing")]
fn a_changed_part_never_reaches_a_server_that_checks_nothing() -> Result<(), String> {
    let dir = temp_dir("betweenloop");
    let path = dir.join("big.bin");
    let data = bytes(12 << 20, 5);
    std::fs::write(&path, &data).map_err(e)?;
    let _turn = change_between_the_passes(&path)?;
    block_on(async {
        let server = multipart_loopback(3).await;
        let s3 = client_at(&server.url, small_parts().with_concurrency(1))?;
        let src = Location::Local(path.clone());
        let (summary, log) =
            run_copy(&s3, &src, &Location::s3("bucket", "big.bin"), TransferOptions::default()).await?;
        ensure!(summary.failed == 1 && summary.done == 0, "{summary}: {:?}", log.lines());
        ensure!(log.with("file changed while it was being uploaded") == 1, "{:?}", log.lines());
        let seen = server.requests();
        for put in seen.iter().filter(|r| r.method == "PUT") {
            part_received_whole(put, &data, cirrus::s3::ChecksumAlgorithm::Crc32)?;
        }
        ensure!(!seen.iter().any(|r| r.method == "POST" && r.target.contains("uploadId=U1")), "completed");
        ensure!(seen.iter().any(|r| r.method == "DELETE"), "the upload was not aborted");
        Ok(())
    })
}

/// A 40 MiB file through the signature-checking server with a 2 MiB memory budget: streamed
/// parts carry the right payload hash and checksum, and the object is the file.
fn a_large_file_within_a_small_budget() -> Result<(), String> {
    let settings = small_parts().with_memory_budget(2 << 20);
    let s3 = client_with(Server::S3s, None, settings)?;
    let b = bucket("smallbudget");
    let dir = temp_dir("smallbudget");
    let data = bytes(40 << 20, 13);
    std::fs::write(dir.join("big.bin"), &data).map_err(e)?;
    block_on(async {
        s3.create_bucket(&b).await.map_err(e)?;
        let src = Location::Local(dir.join("big.bin"));
        let (summary, log) = run_copy(&s3, &src, &Location::s3(&b, "big.bin"), TransferOptions::default()).await?;
        ensure!(summary.is_complete() && summary.done == 1, "{summary}: {:?}", log.lines());
        ensure!(s3.get_bytes(&b, "big.bin").await.map_err(e)?[..] == data[..], "the object is not the file");
        Ok(())
    })
}

/// Streamed parts carry each of S3's checksums, computed in the first pass: the signature-
/// checking s3s-fs takes every part (their payload hashes are right) and the object is the file.
/// (Neither s3s-fs nor moto checks a part's checksum: `streamed_parts_carry_each_checksum_exactly`
/// reads them.)
fn streamed_parts_carry_each_checksum() -> Result<(), String> {
    use cirrus::s3::ChecksumAlgorithm;
    let b = bucket("streamsum");
    let dir = temp_dir("streamsum");
    let data = bytes(11 << 20, 17);
    std::fs::write(dir.join("big.bin"), &data).map_err(e)?;
    block_on(async {
        client_with(Server::S3s, None, small_parts())?.create_bucket(&b).await.map_err(e)?;
        for algorithm in ChecksumAlgorithm::ALL {
            let mut settings = small_parts().with_memory_budget(2 << 20);
            settings.upload_checksum = Some(algorithm);
            let s3 = client_with(Server::S3s, None, settings)?;
            let key = format!("big-{algorithm}");
            let src = Location::Local(dir.join("big.bin"));
            let (summary, log) = run_copy(&s3, &src, &Location::s3(&b, &key), TransferOptions::default()).await?;
            ensure!(summary.is_complete() && summary.done == 1, "{algorithm}: {summary}: {:?}", log.lines());
            ensure!(s3.get_bytes(&b, &key).await.map_err(e)?[..] == data[..], "{algorithm}: the object differs");
        }
        Ok(())
    })
}

/// What a loopback server receives of a streamed upload with each of S3's checksums: every
/// part's bytes, their checksum and payload hash as computed in the first pass, and in the
/// completion the whole object's CRC32 or CRC32C combined from the parts' (cirrus combines no
/// CRC64NVME, and SHA-256 has no whole-object form).
fn streamed_parts_carry_each_checksum_exactly() -> Result<(), String> {
    use cirrus::s3::ChecksumAlgorithm;
    let dir = temp_dir("sumsloop");
    let data = bytes(11 << 20, 19);
    std::fs::write(dir.join("big.bin"), &data).map_err(e)?;
    block_on(async {
        let server = multipart_loopback(3).await;
        for algorithm in ChecksumAlgorithm::ALL {
            let mut settings = small_parts().with_memory_budget(2 << 20);
            settings.upload_checksum = Some(algorithm);
            let s3 = client_at(&server.url, settings)?;
            let before = server.requests().len();
            let src = Location::Local(dir.join("big.bin"));
            let (summary, log) =
                run_copy(&s3, &src, &Location::s3("bucket", "big.bin"), TransferOptions::default()).await?;
            ensure!(summary.done == 1 && summary.failed == 0, "{algorithm}: {summary}: {:?}", log.lines());
            let seen = server.requests().split_off(before);
            let puts: Vec<_> = seen.iter().filter(|r| r.method == "PUT").collect();
            ensure!(puts.len() == 3, "{algorithm}: {} parts", puts.len());
            for put in puts {
                part_received_whole(put, &data, algorithm).map_err(|m| format!("{algorithm}: {m}"))?;
            }
            let complete = seen.iter().find(|r| r.method == "POST" && r.target.contains("uploadId=U1"));
            let whole = complete.and_then(|r| r.header(algorithm.header_name()));
            let crc32 = matches!(algorithm, ChecksumAlgorithm::Crc32 | ChecksumAlgorithm::Crc32c);
            let want = crc32.then(|| algorithm.checksum(&data));
            ensure!(whole == want.as_deref(), "{algorithm}: the completion carried {whole:?}");
        }
        Ok(())
    })
}

pub fn trials() -> Vec<Trial> {
    #[cfg_attr(not(feature = "fuzzing"), allow(unused_mut))]
    let mut v = vec![
        trial("transfer::loopback::transfers_from_one_engine_share_one_budget", transfers_share_one_budget),
        trial("transfer::loopback::upload_parts_stream_within_a_small_budget", parts_stream_within_a_small_budget),
        trial("transfer::loopback::upload_file_streams_its_parts", upload_file_streams_its_parts),
        trial("transfer::s3s::upload_of_a_large_file_within_a_small_budget", a_large_file_within_a_small_budget),
        trial("transfer::s3s::streamed_parts_carry_each_checksum", streamed_parts_carry_each_checksum),
        trial(
            "transfer::loopback::streamed_parts_carry_each_checksum_exactly",
            streamed_parts_carry_each_checksum_exactly,
        ),
        trial("transfer::s3s::sync_turns_a_file_into_a_folder_in_one_run", sync_turns_a_file_into_a_folder_in_one_run),
        trial("transfer::s3s::sync_turns_a_folder_into_a_file_in_one_run", sync_turns_a_folder_into_a_file_in_one_run),
        trial("transfer::moto::a_file_that_changes_while_sent_fails", a_file_that_changes_fails),
        trial("transfer::moto::resume_takes_up_an_interrupted_upload", resumes_an_interrupted_upload),
        trial("transfer::loopback::a_failed_abort_is_reported_with_its_upload_id", failed_abort_is_reported),
        trial(
            "transfer::loopback::failures_are_typed_alike_in_a_call_and_a_run",
            failures_are_typed_alike_in_a_call_and_a_run,
        ),
        trial("transfer::loopback::a_broken_body_is_asked_for_again_from_where_it_stopped", broken_body_is_resumed),
        trial(
            "transfer::loopback::small_objects_of_a_listing_come_whole_after_faults",
            small_objects_of_a_listing_come_whole_after_faults,
        ),
        trial("transfer::s3s::tree_round_trip", || tree_round_trip(Server::S3s)),
        trial("transfer::moto::tree_round_trip", || tree_round_trip(Server::Moto)),
        trial("transfer::moto::hostile_keys_stay_inside_the_destination", hostile_keys_stay_inside),
        trial("transfer::moto::a_key_that_is_a_file_and_a_folder_is_reported", file_and_folder_keys),
        trial("transfer::s3s::a_recursive_path_is_a_folder", recursive_path_is_a_folder),
        trial("transfer::s3s::filters_on_every_way", filters_everywhere),
        trial("transfer::s3s::mv_removes_sources_only_after_their_copy", moves),
        trial("transfer::s3s::sync_every_way", syncs),
        trial("transfer::s3s::a_copy_into_its_own_source_ends", copy_into_itself_ends),
        trial("transfer::s3s::one_failure_does_not_stop_the_others", keeps_going),
        trial("transfer::s3s::a_fifo_target_is_written_into", fifo_target_is_written_into),
        trial("transfer::moto::a_stale_etag_is_refused", stale_etag_is_refused),
        trial("transfer::moto::an_interrupt_aborts_and_removes", interrupt_cleans_up),
        trial("transfer::s3s::bad_input_is_refused_before_starting", bad_input),
    ];
    // Through the test seam of `cirrus::fuzzing` (the tests run with every feature).
    #[cfg(feature = "fuzzing")]
    v.push(trial(
        "transfer::s3s::upload_of_a_file_changed_between_the_passes_is_refused",
        a_file_changed_between_the_passes_is_refused,
    ));
    #[cfg(feature = "fuzzing")]
    v.push(trial(
        "transfer::loopback::a_changed_part_never_reaches_a_server_that_checks_nothing",
        a_changed_part_never_reaches_a_server_that_checks_nothing,
    ));
    v
}
