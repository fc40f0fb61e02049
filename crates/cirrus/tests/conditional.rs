//! Never overwriting (`If-None-Match: *`, `TransferOptions::no_overwrite`) and wildcards in
//! source keys (`TransferOptions::glob`), on the library against the real servers: what S3
//! keeps, what the engine skips, and what a pattern lists, copies and deletes.

use crate::common::{block_on, temp_dir, trial};
use crate::ensure;
use crate::s3::{bucket, client_with, e, Server};
use cirrus::s3::transfer::{Cancel, Event, Location, Summary, TransferOptions, Transfers};
use cirrus::s3::{ListOptions, PutOptions, S3Client, S3Settings};
use futures_util::TryStreamExt;
use libtest_mimic::Trial;
use std::sync::{Arc, Mutex};

/// Parts of 5 MiB from 5 MiB up, so 6 MiB goes as a multipart upload.
fn small_parts() -> S3Settings {
    S3Settings::default().with_part_size(5 << 20, 5 << 20)
}

fn data(n: usize, seed: u8) -> Vec<u8> {
    (0..n).map(|i| (i as u8).wrapping_mul(7).wrapping_add(seed)).collect()
}

async fn keys(s3: &S3Client, b: &str) -> Result<Vec<String>, String> {
    let mut k: Vec<String> = s3.list(b, ListOptions::default()).map_ok(|o| o.key).try_collect().await.map_err(e)?;
    k.sort();
    Ok(k)
}

/// Runs a copy or move, and the lines of its events.
async fn transfer(
    s3: &S3Client,
    (src, dst): (&Location, &Location),
    options: &TransferOptions,
    moving: bool,
) -> Result<(Summary, Vec<String>), String> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let log = lines.clone();
    let observer = move |ev: &Event| {
        if !matches!(ev, Event::Bytes(_) | Event::Listed { .. }) {
            log.lock().unwrap().push(ev.to_string());
        }
    };
    let t = Transfers::new(s3.clone());
    let summary = if moving {
        t.mv(src, dst, options, observer, &Cancel::new()).await
    } else {
        t.copy(src, dst, options, observer, &Cancel::new()).await
    }
    .map_err(e)?;
    let lines = lines.lock().unwrap().clone();
    Ok((summary, lines))
}

/// PutObject and a multipart upload's completion with `If-None-Match: *`: a key that has an
/// object keeps it (412), a new key is written. Without the header both would replace it.
fn if_none_match_keeps_the_object(server: Server) -> Result<(), String> {
    let s3 = client_with(server, None, small_parts())?;
    let b = bucket("inm");
    block_on(async {
        s3.create_bucket(&b).await.map_err(e)?;
        s3.put(&b, "k", "first", &PutOptions::default()).await.map_err(e)?;
        let inm = PutOptions::default().with_if_none_match();
        let err = s3.put(&b, "k", "second", &inm).await.err().ok_or("PutObject replaced the object")?;
        ensure!(err.status() == Some(412), "{err}");
        // Multipart: the parts go up, the completion is refused, the object stays.
        let big = data(6 << 20, 3);
        let err = s3.upload(&b, "k", &big[..], &inm).await.err().ok_or("the multipart upload replaced the object")?;
        ensure!(err.status() == Some(412) && err.operation() == "CompleteMultipartUpload", "{err}");
        ensure!(s3.get_bytes(&b, "k").await.map_err(e)? == "first", "the object changed");
        let out = s3.upload(&b, "new", &big[..], &inm).await.map_err(e)?;
        ensure!(out.parts == 2, "{} parts", out.parts);
        ensure!(s3.get_bytes(&b, "new").await.map_err(e)? == big, "the new object differs");
        Ok(())
    })
}

/// `no_overwrite` every way on the engine: uploads (one PUT, and multipart), downloads and S3
/// to S3 copies leave what is there and write what is not; `mv` keeps the sources it did not
/// write.
fn no_overwrite_every_way() -> Result<(), String> {
    let s3 = client_with(Server::S3s, None, small_parts())?;
    let b = bucket("no-overwrite");
    let dir = temp_dir("no-overwrite");
    let src = dir.join("src");
    std::fs::create_dir_all(&src).map_err(e)?;
    std::fs::write(src.join("small"), "new small").map_err(e)?;
    std::fs::write(src.join("big"), data(6 << 20, 9)).map_err(e)?;
    std::fs::write(src.join("fresh"), "fresh").map_err(e)?;
    let options = TransferOptions::recursive().with_no_overwrite(true);
    block_on(async {
        s3.create_bucket(&b).await.map_err(e)?;
        for k in ["up/small", "up/big", "copy/small"] {
            s3.put(&b, k, "old", &PutOptions::default()).await.map_err(e)?;
        }
        let (up, local) = (Location::s3(&b, "up/"), Location::Local(src.clone()));
        let (summary, lines) = transfer(&s3, (&local, &up), &options, false).await?;
        ensure!(summary.done == 1 && summary.not_overwritten == 2 && summary.is_complete(), "{summary} {lines:?}");
        ensure!(lines.iter().filter(|l| l.starts_with("skip: ")).count() == 2, "{lines:?}");
        for k in ["up/small", "up/big"] {
            ensure!(s3.get_bytes(&b, k).await.map_err(e)? == "old", "{k} was replaced");
        }
        ensure!(s3.get_bytes(&b, "up/fresh").await.map_err(e)? == "fresh", "up/fresh");

        // Down: a file that is there stays; the others come.
        let down = dir.join("down");
        std::fs::create_dir_all(&down).map_err(e)?;
        std::fs::write(down.join("small"), "mine").map_err(e)?;
        let (summary, lines) = transfer(&s3, (&up, &Location::Local(down.clone())), &options, false).await?;
        ensure!(summary.done == 2 && summary.not_overwritten == 1, "{summary} {lines:?}");
        ensure!(std::fs::read(down.join("small")).map_err(e)? == b"mine", "the local file was replaced");
        ensure!(std::fs::read(down.join("fresh")).map_err(e)? == b"fresh", "fresh");

        // S3 to S3, and a move that keeps what it did not write.
        let copy = Location::s3(&b, "copy/");
        let (summary, lines) = transfer(&s3, (&up, &copy), &options, true).await?;
        ensure!(summary.done == 2 && summary.not_overwritten == 1, "{summary} {lines:?}");
        ensure!(s3.get_bytes(&b, "copy/small").await.map_err(e)? == "old", "copy/small was replaced");
        let left = keys(&s3, &b).await?;
        let want = ["copy/big", "copy/fresh", "copy/small", "up/small"];
        ensure!(left == want, "{left:?}");
        Ok(())
    })
}

/// Wildcards on the engine: only keys under the literal prefix are taken, each matched whole;
/// names are relative to the folder of the prefix; a pattern that matches nothing fails; an
/// escaped wildcard names a key; a removal deletes the matches and nothing else.
fn globs_on_the_engine() -> Result<(), String> {
    let s3 = client_with(Server::S3s, None, S3Settings::default())?;
    let b = bucket("glob");
    let dir = temp_dir("glob");
    let glob = TransferOptions::default().with_glob(true);
    block_on(async {
        s3.create_bucket(&b).await.map_err(e)?;
        for k in ["logs/a.gz", "logs/b.txt", "logs/2024/c.gz", "other/logs/d.gz", "logs/odd*.gz"] {
            s3.put(&b, k, k.to_owned(), &PutOptions::default()).await.map_err(e)?;
        }
        let to = Location::Local(dir.join("flat"));
        let (summary, _) = transfer(&s3, (&Location::s3(&b, "logs/*.gz"), &to), &glob, false).await?;
        ensure!(summary.done == 2 && summary.is_complete(), "{summary}");
        let mut got: Vec<_> =
            std::fs::read_dir(dir.join("flat")).map_err(e)?.flatten().map(|d| d.file_name()).collect();
        got.sort();
        ensure!(got == ["a.gz", "odd*.gz"], "{got:?}");
        let copy = Location::s3(&b, "copy/");
        let (summary, _) = transfer(&s3, (&Location::s3(&b, "logs/**.gz"), &copy), &glob, false).await?;
        ensure!(summary.done == 3, "{summary}");
        let (summary, lines) = transfer(&s3, (&Location::s3(&b, "logs/*.zip"), &copy), &glob, false).await?;
        ensure!(summary.failed == 1 && lines.iter().any(|l| l.contains("nothing matched")), "{summary} {lines:?}");
        let one = Location::Local(dir.join("one"));
        let (summary, _) = transfer(&s3, (&Location::s3(&b, r"logs/odd\*.gz"), &one), &glob, false).await?;
        ensure!(summary.done == 1 && std::fs::read(dir.join("one")).map_err(e)? == b"logs/odd*.gz", "{summary}");
        let t = Transfers::new(s3.clone());
        let summary = t.remove(&Location::s3(&b, "copy/**"), &glob, |_| {}, &Cancel::new()).await.map_err(e)?;
        ensure!(summary.done == 3, "{summary}");
        let summary = t.remove(&Location::s3(&b, "logs/?.*"), &glob, |_| {}, &Cancel::new()).await.map_err(e)?;
        ensure!(summary.done == 2, "{summary}");
        let left = keys(&s3, &b).await?;
        ensure!(left == ["logs/2024/c.gz", "logs/odd*.gz", "other/logs/d.gz"], "{left:?}");
        Ok(())
    })
}

pub fn trials() -> Vec<Trial> {
    vec![
        trial("conditional::s3s::if_none_match_keeps_the_object", || if_none_match_keeps_the_object(Server::S3s)),
        trial("conditional::moto::if_none_match_keeps_the_object", || if_none_match_keeps_the_object(Server::Moto)),
        trial("conditional::s3s::no_overwrite_every_way", no_overwrite_every_way),
        trial("conditional::s3s::globs_on_the_engine", globs_on_the_engine),
    ]
}
