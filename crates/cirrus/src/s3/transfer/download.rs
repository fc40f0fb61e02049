//! S3 to a file: small objects in one GET, large ones in parallel ranged GETs pinned to one
//! ETag, each written at its offset into a temporary file that is renamed into place only when
//! complete. A FIFO or device target is written into, in order, and never replaced.

use super::local::{Target, TempFile};
use super::run::{Ctx, Outcome};
use crate::s3::{check_bucket_key, Object, S3Client};
use crate::transport::{ByteStream, Error};
use bytes::BytesMut;
use futures_util::StreamExt;
use std::fs::File;
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;
use tokio::task::JoinSet;

/// Bytes gathered before one write: the memory each stream in flight holds.
const BUF: u64 = 1 << 20;

pub(crate) async fn download(
    ctx: &Arc<Ctx>,
    bucket: &str,
    key: &str,
    object: Option<&Object>,
    target: Target,
) -> Outcome {
    match target {
        Target::Special(path) => match into_special(ctx, bucket, key, &path).await {
            Ok(n) => Outcome::Done(n),
            Err(e) => Outcome::Failed(e),
        },
        Target::File(path) => into_file(ctx, bucket, key, object, &path).await,
    }
}

impl S3Client {
    /// Downloads an object to `path` and returns its size. Large objects (from the
    /// [multipart threshold](crate::s3::S3Settings::multipart_threshold) up) come in parallel
    /// ranged GETs pinned to one ETag, so an object replaced mid-way fails instead of mixing
    /// versions.
    ///
    /// The bytes go to a temporary file beside `path`, created exclusively (never through a
    /// symlink) under a random name, and renamed onto `path` only once complete; on failure it
    /// is removed. The file gets the object's modification time, as the AWS CLI does. When
    /// `path` exists and is not a regular file (a FIFO, `/dev/null`, a device), the object is
    /// written into it, in order, and it is never replaced. A directory is refused.
    pub async fn download_file(&self, bucket: &str, key: &str, path: &Path) -> Result<u64, Error> {
        let fail = |m: String| S3Client::response_error("GetObject", m);
        check_bucket_key("GetObject", bucket, key)?;
        let p = path.to_path_buf();
        let target = tokio::task::spawn_blocking(move || super::local::target_at(&p))
            .await
            .map_err(|e| fail(format!("internal error: {e}")))?
            .map_err(|m| S3Client::input_error("GetObject", m))?;
        let ctx = Ctx::new(self.clone(), crate::s3::PutOptions::default(), Box::new(|_| {}));
        match download(&ctx, bucket, key, None, target).await {
            Outcome::Done(n) => Ok(n),
            Outcome::Skipped(m) | Outcome::Failed(m) => Err(fail(m)),
        }
    }
}

async fn into_special(ctx: &Arc<Ctx>, bucket: &str, key: &str, path: &Path) -> Result<u64, String> {
    use tokio::io::AsyncWriteExt;
    let _slot = ctx.request_slot().await?;
    let _memory = ctx.memory(BUF).await?;
    let got = ctx.client.get(bucket, key, None).await.map_err(|e| e.to_string())?;
    // Opening a FIFO waits for its reader: on the blocking pool, after the object answered.
    let p = path.to_path_buf();
    let file = tokio::task::spawn_blocking(move || std::fs::OpenOptions::new().write(true).open(p))
        .await
        .map_err(|e| format!("internal error: {e}"))?
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let mut out = tokio::fs::File::from_std(file);
    let mut body = got.body;
    let mut n = 0u64;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| e.to_string())?;
        out.write_all(&chunk).await.map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        n += chunk.len() as u64;
        ctx.progress(chunk.len() as u64);
    }
    out.flush().await.map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(n)
}

async fn into_file(ctx: &Arc<Ctx>, bucket: &str, key: &str, object: Option<&Object>, path: &Path) -> Outcome {
    let p = path.to_path_buf();
    let created = tokio::task::spawn_blocking(move || TempFile::create(&p)).await;
    let (tmp, file) = match created {
        Ok(Ok(x)) => x,
        Ok(Err(e)) => return Outcome::Failed(format!("cannot create a temporary file beside {}: {e}", path.display())),
        Err(e) => return Outcome::Failed(format!("internal error: {e}")),
    };
    let file = Arc::new(file);
    let small = object.is_some_and(|o| o.size < ctx.client.settings().multipart_threshold);
    let etag = object.and_then(|o| o.etag.as_deref());
    let fetched =
        if small { whole(ctx, bucket, key, etag, &file).await } else { ranged(ctx, bucket, key, etag, &file).await };
    let (n, modified) = match fetched {
        Ok(x) => x,
        Err(e) => return Outcome::Failed(e),
    };
    let modified = object.and_then(|o| o.last_modified).or(modified);
    let target = path.to_path_buf();
    let placed = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        // The AWS CLI gives a download the object's time, so that sync can compare them.
        if let Some(t) = modified {
            let _ = file.set_modified(t);
        }
        drop(file);
        tmp.persist(&target)
    })
    .await;
    match placed {
        Ok(Ok(())) => Outcome::Done(n),
        Ok(Err(e)) => Outcome::Failed(format!("cannot move the download into {}: {e}", path.display())),
        Err(e) => Outcome::Failed(format!("internal error: {e}")),
    }
}

/// One GET for the whole object.
async fn whole(
    ctx: &Arc<Ctx>,
    bucket: &str,
    key: &str,
    etag: Option<&str>,
    file: &Arc<File>,
) -> Result<(u64, Option<SystemTime>), String> {
    let _slot = ctx.request_slot().await?;
    let _memory = ctx.memory(BUF).await?;
    let got = ctx.client.get_if(bucket, key, None, etag).await.map_err(|e| e.to_string())?;
    let expect = got.info.content_length;
    let n = write_stream(ctx, got.body, file, 0).await?;
    if n != expect {
        return Err(format!("the object is {expect} bytes, but {n} came"));
    }
    Ok((n, got.info.last_modified))
}

/// The first part's range, then the others in parallel, all pinned to the first answer's
/// ETag. A server that ignores ranges (200) sends everything in the first answer.
async fn ranged(
    ctx: &Arc<Ctx>,
    bucket: &str,
    key: &str,
    etag: Option<&str>,
    file: &Arc<File>,
) -> Result<(u64, Option<SystemTime>), String> {
    let part = ctx.client.settings().part_size.max(1);
    let slot = ctx.request_slot().await?;
    let memory = ctx.memory(BUF).await?;
    let first = match ctx.client.get_if(bucket, key, Some(&format!("bytes=0-{}", part - 1)), etag).await {
        Ok(g) => g,
        // An empty object has no byte 0.
        Err(e) if e.status() == Some(416) => {
            drop((slot, memory));
            return whole(ctx, bucket, key, etag, file).await;
        }
        Err(e) => return Err(e.to_string()),
    };
    let modified = first.info.last_modified;
    let total = match first.info.content_range.as_deref() {
        None => {
            // The whole object, unranged.
            let expect = first.info.content_length;
            let n = write_stream(ctx, first.body, file, 0).await?;
            return if n == expect {
                Ok((n, modified))
            } else {
                Err(format!("the object is {expect} bytes, but {n} came"))
            };
        }
        Some(range) => parse_total(range).ok_or_else(|| format!("cannot read the Content-Range {range:?}"))?,
    };
    let pinned = first.info.etag.clone().or_else(|| etag.map(str::to_owned));
    let mut set: JoinSet<Result<u64, String>> = JoinSet::new();
    let window = ctx.client.settings().concurrency.max(1);
    let mut offset = part.min(total);
    let first_len = offset;
    let first_body = first.body;
    // The first range is written by this task while the others run.
    let first_write = async {
        let n = write_stream(ctx, first_body, file, 0).await?;
        drop((slot, memory));
        if n == first_len {
            Ok(n)
        } else {
            Err(format!("the first range should hold {first_len} bytes, but {n} came"))
        }
    };
    let spawn_rest = async {
        let mut done = 0u64;
        while offset < total {
            while set.len() >= window {
                if let Some(r) = set.join_next().await {
                    done += joined(r)?;
                }
            }
            let len = part.min(total - offset);
            let (ctx, file, bucket, key, pinned) =
                (ctx.clone(), file.clone(), bucket.to_owned(), key.to_owned(), pinned.clone());
            let start = offset;
            set.spawn(async move {
                let _slot = ctx.request_slot().await?;
                let _memory = ctx.memory(BUF).await?;
                let range = format!("bytes={start}-{}", start + len - 1);
                let got = ctx
                    .client
                    .get_if(&bucket, &key, Some(&range), pinned.as_deref())
                    .await
                    .map_err(|e| e.to_string())?;
                let n = write_stream(&ctx, got.body, &file, start).await?;
                if n == len {
                    Ok(n)
                } else {
                    Err(format!("the range {range} should hold {len} bytes, but {n} came"))
                }
            });
            offset += len;
        }
        while let Some(r) = set.join_next().await {
            done += joined(r)?;
        }
        Ok::<u64, String>(done)
    };
    let (a, b) = futures_util::future::join(first_write, spawn_rest).await;
    let n = a? + b?;
    if n != total {
        return Err(format!("the object is {total} bytes, but {n} came"));
    }
    Ok((n, modified))
}

fn joined(r: Result<Result<u64, String>, tokio::task::JoinError>) -> Result<u64, String> {
    r.map_err(|e| format!("a range's task failed: {e}"))?
}

/// `bytes 0-99/1234` -> 1234.
fn parse_total(content_range: &str) -> Option<u64> {
    content_range.rsplit_once('/')?.1.trim().parse().ok()
}

/// Writes a body at `offset` on, a buffer of [`BUF`] at a time; the number of bytes written.
async fn write_stream(ctx: &Arc<Ctx>, mut body: ByteStream, file: &Arc<File>, mut offset: u64) -> Result<u64, String> {
    let mut buf = BytesMut::new();
    let mut written = 0u64;
    loop {
        let chunk = body.next().await;
        let end = chunk.is_none();
        if let Some(c) = chunk {
            let c: bytes::Bytes = c.map_err(|e: Error| e.to_string())?;
            buf.extend_from_slice(&c);
        }
        if (end && !buf.is_empty()) || buf.len() as u64 >= BUF {
            let data = buf.split().freeze();
            let len = data.len() as u64;
            let f = file.clone();
            let at = offset;
            tokio::task::spawn_blocking(move || write_all_at(&f, &data, at))
                .await
                .map_err(|e| format!("internal error: {e}"))?
                .map_err(|e| format!("cannot write the file: {e}"))?;
            offset += len;
            written += len;
            ctx.progress(len);
        }
        if end {
            return Ok(written);
        }
    }
}

#[cfg(unix)]
fn write_all_at(file: &File, data: &[u8], offset: u64) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt;
    file.write_all_at(data, offset)
}

#[cfg(not(unix))]
fn write_all_at(file: &File, data: &[u8], offset: u64) -> std::io::Result<()> {
    use std::io::{Seek, SeekFrom, Write};
    let mut f = file.try_clone()?;
    f.seek(SeekFrom::Start(offset))?;
    f.write_all(data)
}

#[cfg(test)]
mod tests {
    #[test]
    fn content_range_totals() {
        assert_eq!(super::parse_total("bytes 0-99/1234"), Some(1234));
        assert_eq!(super::parse_total("bytes 0-99/*"), None);
        assert_eq!(super::parse_total("nonsense"), None);
    }
}
