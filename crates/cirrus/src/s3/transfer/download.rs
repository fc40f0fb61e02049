//! S3 to a file: small objects in one GET, large ones in parallel ranged GETs pinned to one
//! ETag, each written at its offset into a temporary file that is renamed into place only when
//! complete. A FIFO or device target is written into, in order, and never replaced.

use super::ctx::{Ctx, Outcome, Placed};
use super::error::joined;
use super::local::{Target, TempFile};
use super::{Error, ErrorKind, Location};
use crate::s3::checksum::{BodyCheck, PartsEtag, WholeCrc};
use crate::s3::{check_bucket_key, Object, S3Client};
use crate::transport::ByteStream;

use bytes::BytesMut;
use futures_util::StreamExt;
use std::fs::File;
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;
use tokio::task::JoinSet;

/// Bytes gathered before one write.
const BUF: u64 = 512 << 10;

/// Objects up to this size, below the multipart threshold, are gathered in memory and reach
/// their file in one trip to the blocking pool (create, write, time, rename): for a small
/// object, three trips (each a thread woken and a task woken back) cost more than its bytes.
const IN_MEMORY: u64 = BUF;

/// Where a body's bytes go: a file at their offsets, or memory (the bytes so far, in order).
enum Sink<'a> {
    File(&'a Arc<File>),
    Memory(&'a mut BytesMut),
}

/// What a body streamed in holds in memory, charged to the budget: the write buffer and about
/// twice as much again in the connection's read buffer and the chunks on their way (measured:
/// 64 ranged GETs at once grew the process by ~1.5 MiB each). A small object holds less.
fn stream_cost(size: Option<u64>) -> u64 {
    3 * size.unwrap_or(BUF).clamp(1, BUF)
}

pub(crate) async fn download(
    ctx: &Arc<Ctx>,
    bucket: &str,
    key: &str,
    object: Option<&Object>,
    target: Target,
) -> Outcome {
    match target {
        Target::Special(path) => into_special(ctx, bucket, key, &path).await.into(),
        // `no_overwrite`: a file there already is left alone, without a GET (one that appears
        // while the object comes is not replaced either: see `Ctx::place`).
        Target::File(path) if ctx.no_overwrite() && tokio::fs::symlink_metadata(&path).await.is_ok() => {
            Outcome::Skipped(Error::exists(&Location::Local(path)))
        }
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
    ///
    /// The error is the transfer engine's, as for an object of a bulk transfer: a missing key
    /// [`is_not_found`](Error::is_not_found), bytes that do not match the object's checksum
    /// [`is_corrupt`](Error::is_corrupt), and the AWS call's error is kept underneath.
    ///
    /// ```no_run
    /// # async fn example(s3: &cirrus::s3::S3Client) -> Result<(), Box<dyn std::error::Error>> {
    /// use std::path::Path;
    ///
    /// let size = s3.download_file("my-bucket", "videos/clip.mp4", Path::new("clip.mp4")).await?;
    /// println!("{size} bytes");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn download_file(&self, bucket: &str, key: &str, path: &Path) -> Result<u64, Error> {
        let at = || Location::s3(bucket, key);
        check_bucket_key("GetObject", bucket, key).map_err(|e| Error::from(e).at(at()))?;
        let p = path.to_path_buf();
        let target = tokio::task::spawn_blocking(move || super::local::target_at(&p))
            .await
            .map_err(Error::task)
            .and_then(|t| t)
            .map_err(|e| e.at(at()))?;
        let ctx = Ctx::new(self.clone(), crate::s3::PutOptions::default(), Box::new(|_| {}));
        match download(&ctx, bucket, key, None, target).await {
            Outcome::Done(n) => Ok(n),
            Outcome::Skipped(e) | Outcome::Failed(e) => Err(e.at(at())),
        }
    }
}

async fn into_special(ctx: &Arc<Ctx>, bucket: &str, key: &str, path: &Path) -> Result<u64, Error> {
    use tokio::io::AsyncWriteExt;
    let _file_slot = ctx.file_slot().await?;
    let _slot = ctx.request_slot().await?;
    let _memory = ctx.memory(stream_cost(None)).await?;
    let got = ctx.client.get(bucket, key, None).await?;
    // Opening a FIFO waits for its reader: on the blocking pool, after the object answered.
    let p = path.to_path_buf();
    let file = tokio::task::spawn_blocking(move || std::fs::OpenOptions::new().write(true).open(p))
        .await
        .map_err(Error::task)?
        .map_err(|e| Error::io(format!("cannot open {}", path.display()), e))?;
    let cannot_write = |e| Error::io(format!("cannot write {}", path.display()), e);
    let mut out = tokio::fs::File::from_std(file);
    let mut body = got.body;
    let mut n = 0u64;
    while let Some(chunk) = body.next().await {
        let chunk = chunk?;
        out.write_all(&chunk).await.map_err(cannot_write)?;
        n += chunk.len() as u64;
        ctx.progress(chunk.len() as u64);
    }
    out.flush().await.map_err(cannot_write)?;
    // Written as it came: nothing to check it against before it was out of reach.
    ctx.not_verified(bucket, key, "written into a FIFO or device as it came");
    Ok(n)
}

async fn into_file(ctx: &Arc<Ctx>, bucket: &str, key: &str, object: Option<&Object>, path: &Path) -> Outcome {
    // Held to the end: the temporary file stays open while its ranges come.
    let _file_slot = match ctx.file_slot().await {
        Ok(s) => s,
        Err(e) => return Outcome::Failed(e),
    };
    let threshold = ctx.client.settings().multipart_threshold;
    if let Some(o) = object.filter(|o| o.size <= IN_MEMORY && o.size < threshold) {
        return small_into_file(ctx, bucket, key, o, path).await;
    }
    let p = path.to_path_buf();
    let created = ctx.blocking(move || super::fd::patiently(|| TempFile::create(&p))).await;
    let (tmp, file) = match created {
        Ok(Ok(x)) => x,
        Ok(Err(e)) => {
            return Outcome::Failed(Error::io(format!("cannot create a temporary file beside {}", path.display()), e))
        }
        Err(e) => return Outcome::Failed(e),
    };
    let file = Arc::new(file);
    let small = object.is_some_and(|o| o.size < threshold);
    let etag = object.and_then(|o| o.etag.as_deref());
    let fetched = if small {
        whole(ctx, bucket, key, etag, object.map(|o| o.size), &mut Sink::File(&file)).await.map(|(n, m, _)| (n, m))
    } else {
        ranged_checked(ctx, bucket, key, etag, object.map(|o| o.size), &file).await
    };
    let (n, modified) = match fetched {
        Ok(x) => x,
        Err(e) => return Outcome::Failed(e),
    };
    let modified = object.and_then(|o| o.last_modified).or(modified);
    let target = path.to_path_buf();
    let run = ctx.clone();
    // The rename cannot be called back once its thread runs: the job finishes and is counted.
    super::ctx::point_of_no_return();
    let placed = tokio::task::spawn_blocking(move || -> std::io::Result<Placed> {
        // Exactly the bytes received: a retry of a shorter answer leaves no old tail.
        file.set_len(n)?;
        // The AWS CLI gives a download the object's time, so that sync can compare them.
        if let Some(t) = modified {
            let _ = file.set_modified(t);
        }
        drop(file);
        run.place(tmp, &target)
    })
    .await
    .map_err(Error::task);
    placed_outcome(placed, n, path)
}

/// A small object of the listing ([`IN_MEMORY`]): gathered and checked in memory, then created,
/// written, timed and renamed into place in one trip to the blocking pool.
async fn small_into_file(ctx: &Arc<Ctx>, bucket: &str, key: &str, object: &Object, path: &Path) -> Outcome {
    // The memory stays charged until the bytes are in the file.
    let mut data = BytesMut::with_capacity(usize::try_from(object.size).unwrap_or(0));
    let fetched =
        whole(ctx, bucket, key, object.etag.as_deref(), Some(object.size), &mut Sink::Memory(&mut data)).await;
    let (n, modified, _memory) = match fetched {
        Ok(x) => x,
        Err(e) => return Outcome::Failed(e),
    };
    let modified = object.last_modified.or(modified);
    let (target, run) = (path.to_path_buf(), ctx.clone());
    super::ctx::point_of_no_return();
    // Err: the temporary file could not be created (true) or written (false).
    let placed = ctx
        .blocking(move || -> Result<std::io::Result<Placed>, (bool, std::io::Error)> {
            let (tmp, file) = super::fd::patiently(|| TempFile::create(&target)).map_err(|e| (true, e))?;
            write_all_at(&file, &data, 0).map_err(|e| (false, e))?;
            if let Some(t) = modified {
                let _ = file.set_modified(t);
            }
            drop(file);
            Ok(run.place(tmp, &target))
        })
        .await;
    let placed = match placed {
        Ok(Err((true, e))) => {
            let what = format!("cannot create a temporary file beside {}", path.display());
            return Outcome::Failed(Error::io(what, e));
        }
        Ok(Err((false, e))) => return Outcome::Failed(Error::io("cannot write the file", e)),
        Ok(Ok(placed)) => Ok(placed),
        Err(e) => Err(e),
    };
    placed_outcome(placed, n, path)
}

/// What placing a download into `path` made of it.
fn placed_outcome(placed: Result<std::io::Result<Placed>, Error>, n: u64, path: &Path) -> Outcome {
    match placed {
        Ok(Ok(Placed::Moved)) => Outcome::Done(n),
        Ok(Ok(Placed::Exists)) => Outcome::Skipped(Error::exists(&Location::Local(path.to_path_buf()))),
        Ok(Ok(Placed::Taken)) => Outcome::Skipped(Error::refused(format!(
            "not downloaded: another key of this run was written to {}, which the file system takes for this \
             key's name too",
            path.display()
        ))),
        // A directory where the file must go (keys `a` and `a/b`), a name too long: the key
        // cannot be a file here.
        Ok(Err(e)) if cannot_be_a_file(&e) => Outcome::Skipped(
            Error::io(format!("it cannot be the file {}", path.display()), e).with_kind(ErrorKind::Refused),
        ),
        Ok(Err(e)) => Outcome::Failed(Error::io(format!("cannot move the download into {}", path.display()), e)),
        Err(e) => Outcome::Failed(e),
    }
}

/// One GET for the whole object; its size, time, and the memory it was charged (the bytes of a
/// [`Sink::Memory`] are held until the caller drops it).
async fn whole(
    ctx: &Arc<Ctx>,
    bucket: &str,
    key: &str,
    etag: Option<&str>,
    size: Option<u64>,
    sink: &mut Sink<'_>,
) -> Result<(u64, Option<SystemTime>, tokio::sync::OwnedSemaphorePermit), Error> {
    let _slot = ctx.request_slot().await?;
    let memory = ctx.memory(stream_cost(size)).await?;
    let mut attempt = 0;
    // Asked for again, it must be the same version (If-Match on the first answer's ETag).
    let mut pin = etag.map(str::to_owned);
    loop {
        let (got, check) = ctx.client.get_checked(bucket, key, pin.as_deref()).await?;
        let pinned = got.info.etag.clone().or_else(|| pin.clone());
        pin.clone_from(&pinned);
        let want = Range { start: 0, len: got.info.content_length };
        let mut check = check;
        if let Sink::Memory(data) = sink {
            data.clear();
        }
        let n = finish_range(ctx, (bucket, key, pinned.as_deref()), sink, want, got.body, &mut check).await?;
        match check.map(BodyCheck::finish) {
            None => {
                let why = "the answer had neither a stored checksum nor an MD5 ETag (a multipart or encrypted object)";
                ctx.not_verified(bucket, key, why);
                return Ok((n, got.info.last_modified, memory));
            }
            Some(Ok(how)) => {
                ctx.count_verified(Some(how));
                return Ok((n, got.info.last_modified, memory));
            }
            // Changed on the way: asked for again (the file is written over from the start).
            Some(Err(e)) if attempt < CORRUPT_RETRIES => {
                tracing::warn!(bucket, key, error = %e, "a download did not match its checksum; asking again");
                attempt += 1;
            }
            Some(Err(e)) => return Err(Error::new(ErrorKind::Corrupt, e)),
        }
    }
}

/// Times a whole object whose bytes did not match its checksum is asked for again.
const CORRUPT_RETRIES: u32 = 2;

/// [`ranged`], and when its ranges do not make the multipart ETag, once more: different bytes
/// the second time were changed on the way (the object fails, unless the second download
/// matches); the same bytes twice mean that the part size read from the ETag was not the
/// upload's (the download is kept, named as not verified).
async fn ranged_checked(
    ctx: &Arc<Ctx>,
    bucket: &str,
    key: &str,
    etag: Option<&str>,
    size: Option<u64>,
    file: &Arc<File>,
) -> Result<(u64, Option<SystemTime>), Error> {
    let (n, modified, mismatch, pinned) = ranged(ctx, bucket, key, etag, size, file).await?;
    let Some((first, what)) = mismatch else { return Ok((n, modified)) };
    // The part size read from the ETag may be one of several that fit: the file, read back,
    // is tried at the others before anything is fetched again.
    if let Some(form) = pinned.as_deref().and_then(crate::s3::checksum::EtagForm::parse).filter(|_| !first.is_empty()) {
        let tried = ranges_part(ctx, pinned.as_deref(), n);
        let others: Vec<u64> =
            form.part_sizes(n, ctx.client.settings().part_size).into_iter().filter(|p| Some(*p) != tried).collect();
        let f = file.clone();
        let matched = tokio::task::spawn_blocking(move || {
            others.into_iter().any(|p| crate::s3::checksum::multipart_form_of(&f, n, p).is_ok_and(|got| got == form))
        })
        .await
        .unwrap_or(false);
        if matched {
            ctx.count_verified(Some(crate::s3::checksum::Verified::Md5));
            return Ok((n, modified));
        }
    }
    tracing::warn!(bucket, key, error = %what, "a download did not make its multipart ETag; asking again");
    // The same version again (If-Match on the first attempt's ETag).
    let etag = pinned.as_deref().or(etag);
    let (n, modified, mismatch, _) = ranged(ctx, bucket, key, etag, size, file).await?;
    match mismatch {
        None => Ok((n, modified)),
        Some((again, _)) if again == first && !first.is_empty() => {
            let why = "the same bytes came twice and do not make its multipart ETag: it was uploaded in parts of \
                       another size than its ETag suggests";
            ctx.not_verified(bucket, key, why);
            Ok((n, modified))
        }
        Some((_, what)) => Err(Error::new(
            ErrorKind::Corrupt,
            format!("{what}, and other bytes came the second time: changed on the way"),
        )),
    }
}

/// The part size [`ranged`] took for an object of `size` bytes with this ETag (the first that
/// fits, as there).
fn ranges_part(ctx: &Ctx, etag: Option<&str>, size: u64) -> Option<u64> {
    let configured = ctx.client.settings().part_size.max(1);
    etag.and_then(crate::s3::checksum::EtagForm::parse).and_then(|f| f.part_size(size, configured))
}

/// What a ranged download made: its bytes, the object's time, what the ranges made when they
/// did not make the stored CRC or the multipart ETag (the bytes' form, and why), and the ETag
/// the ranges were pinned to.
type Ranged = (u64, Option<SystemTime>, Option<(String, String)>, Option<String>);

/// The first part's range, then the others in parallel, all pinned to the first answer's
/// ETag; with what the ranges made when they did not make the stored CRC or the multipart ETag.
/// A server that ignores ranges (200) sends everything in the first answer.
///
/// The ranges are the upload's parts when the listing's ETag and size tell them (a multipart
/// ETag whose part count fits a common part size: 8 MiB for the AWS CLI, boto3 and cirrus, 5
/// MiB for others...), so that the multipart ETag verifies the download; otherwise they are the
/// configured part size.
async fn ranged(
    ctx: &Arc<Ctx>,
    bucket: &str,
    key: &str,
    etag: Option<&str>,
    size: Option<u64>,
    file: &Arc<File>,
) -> Result<Ranged, Error> {
    let first = match first_range(ctx, bucket, key, etag, size, file).await? {
        First::Whole(done) => return Ok(done),
        First::Range(first) => first,
    };
    let (total, part, modified) = (first.total, first.part, first.got.info.last_modified);
    let pinned = first.pinned.clone();
    // The whole object's CRC, when the store keeps one (a HEAD of the same version tells),
    // checks ranges of any size cheaply; else ranges that are the upload's parts check a
    // multipart ETag with MD5. Each range is hashed as it streams.
    let whole_crc = match ctx.client.head_with_checksum(bucket, key).await {
        Ok(info) if info.etag.is_some() && info.etag == pinned => info.checksum.as_ref().and_then(WholeCrc::for_stored),
        _ => None,
    };
    let encrypted = ctx.client.has_sse_c()
        || first.got.info.server_side_encryption.as_deref().is_some_and(|s| s.starts_with("aws:kms"));
    let parts_etag = match &whole_crc {
        Some(_) => None,
        None => pinned.as_deref().and_then(|t| PartsEtag::for_ranges(t, encrypted, total, part)),
    };
    let range_check = || match (&whole_crc, &parts_etag) {
        (Some(w), _) => Some(w.range_check()),
        (None, Some(_)) => Some(PartsEtag::range_check()),
        (None, None) => None,
    };
    let (n, checks, sizes) = all_ranges(ctx, (bucket, key), file, first, &range_check).await?;
    if n != total {
        return Err(Error::new(ErrorKind::Other, format!("the object is {total} bytes, but {n} came")));
    }
    match (whole_crc, parts_etag) {
        // A stored CRC is never a guess: a mismatch is bytes changed, asked for again.
        (Some(crc), _) => match crc.finish(&checks, &sizes) {
            Ok(how) => ctx.count_verified(Some(how)),
            Err(what) => return Ok((n, modified, Some((String::new(), what)), pinned)),
        },
        (None, Some(etag)) => match etag.finish(&checks) {
            Ok(how) => ctx.count_verified(Some(how)),
            Err(mismatch) => return Ok((n, modified, Some(mismatch), pinned)),
        },
        (None, None) => ctx.not_verified(
            bucket,
            key,
            "downloaded in ranges, and its ETag is no multipart ETag of that part size (another tool's part \
             size, or an encrypted object)",
        ),
    }
    Ok((n, modified, None, pinned))
}

/// How the first ranged GET answered.
enum First {
    /// With the whole object (an empty one, or a server that ignores ranges): written already.
    Whole(Ranged),
    /// With the first range, its body still to read.
    Range(Box<FirstRange>),
}

/// The first range's answer, and what it told.
struct FirstRange {
    got: crate::s3::GetObject,
    /// The object's size.
    total: u64,
    /// The size of every range.
    part: u64,
    /// The ETag every other range is pinned to.
    pinned: Option<String>,
    /// Its request slot and memory, held until its body is written.
    held: (tokio::sync::OwnedSemaphorePermit, tokio::sync::OwnedSemaphorePermit),
}

/// The first range, in a part size read from the listing's ETag when it tells one (else from
/// the answer's ETag, asking again), or the configured one.
async fn first_range(
    ctx: &Arc<Ctx>,
    bucket: &str,
    key: &str,
    etag: Option<&str>,
    size: Option<u64>,
    file: &Arc<File>,
) -> Result<First, Error> {
    let configured = ctx.client.settings().part_size.max(1);
    let parts_of_upload =
        etag.and_then(crate::s3::checksum::EtagForm::parse).zip(size).and_then(|(f, n)| f.part_size(n, configured));
    let mut part = parts_of_upload.unwrap_or(configured);
    let slot = ctx.request_slot().await?;
    let memory = ctx.memory(stream_cost(None)).await?;
    let mut first = match ctx.client.get_if(bucket, key, Some(&format!("bytes=0-{}", part - 1)), etag).await {
        Ok(g) => g,
        // An empty object has no byte 0.
        Err(e) if e.status() == Some(416) => {
            drop((slot, memory));
            let (n, modified, _) = whole(ctx, bucket, key, etag, Some(0), &mut Sink::File(file)).await?;
            return Ok(First::Whole((n, modified, None, None)));
        }
        Err(e) => return Err(e.into()),
    };
    let pinned = first.info.etag.clone().or_else(|| etag.map(str::to_owned));
    let total = match first.info.content_range.as_deref() {
        None => {
            // The whole object, unranged.
            let want = Range { start: 0, len: first.info.content_length };
            let object = (bucket, key, pinned.as_deref());
            let n = finish_range(ctx, object, &mut Sink::File(file), want, first.body, &mut None).await?;
            ctx.not_verified(bucket, key, "the server answered a ranged request with the whole object, unchecked");
            return Ok(First::Whole((n, first.info.last_modified, None, pinned)));
        }
        Some(range) => parse_total(range)
            .ok_or_else(|| Error::new(ErrorKind::Other, format!("cannot read the Content-Range {range:?}")))?,
    };
    // A store that lists no ETags shows it only now: when it tells another part size, the first
    // range is asked for again with that size (before any of its bytes are read).
    if parts_of_upload.is_none() {
        let told = pinned.as_deref().and_then(crate::s3::checksum::EtagForm::parse);
        if let Some(p) = told.and_then(|f| f.part_size(total, configured)).filter(|p| *p != part) {
            first = ctx.client.get_if(bucket, key, Some(&format!("bytes=0-{}", p - 1)), pinned.as_deref()).await?;
            if first.info.content_range.is_none() {
                return Err(Error::new(ErrorKind::Other, "the server stopped answering ranged requests with a range"));
            }
            part = p;
        }
    }
    Ok(First::Range(Box::new(FirstRange { got: first, total, part, pinned, held: (slot, memory) })))
}

/// The first range written by this task while the others run in parallel (at most
/// `concurrency` at once), each checked as it streams; the bytes, and each range's check and
/// size in order. The first failure ends the download (dropping the set stops the others).
async fn all_ranges(
    ctx: &Arc<Ctx>,
    (bucket, key): (&str, &str),
    file: &Arc<File>,
    first: Box<FirstRange>,
    range_check: &(dyn Fn() -> Option<BodyCheck> + Sync),
) -> Result<(u64, Vec<Option<BodyCheck>>, Vec<u64>), Error> {
    let FirstRange { got, total, part, pinned, held } = *first;
    let object = (bucket, key, pinned.as_deref());
    let first_len = part.min(total);
    let first_write = async {
        let mut check = range_check();
        let want = Range { start: 0, len: first_len };
        let n = finish_range(ctx, object, &mut Sink::File(file), want, got.body, &mut check).await?;
        drop(held);
        Ok::<_, Error>((n, check))
    };
    let rest = async {
        let mut set: JoinSet<Result<RangeDone, Error>> = JoinSet::new();
        let mut done = 0u64;
        let mut checks: Vec<Option<BodyCheck>> = Vec::new();
        let mut sizes: Vec<u64> = Vec::new();
        let mut keep = |(index, n, check): RangeDone| {
            done += n;
            if checks.len() <= index {
                checks.resize(index + 1, None);
                sizes.resize(index + 1, 0);
            }
            checks[index] = check;
            sizes[index] = n;
        };
        let (mut offset, mut index) = (first_len, 1);
        while offset < total {
            while set.len() >= ctx.concurrency {
                if let Some(r) = set.join_next().await {
                    keep(joined(r)?);
                }
            }
            let want = Range { start: offset, len: part.min(total - offset) };
            let (ctx, file, bucket, key, pinned) =
                (ctx.clone(), file.clone(), bucket.to_owned(), key.to_owned(), pinned.clone());
            let mut check = range_check();
            set.spawn(async move {
                let _slot = ctx.request_slot().await?;
                let _memory = ctx.memory(stream_cost(None)).await?;
                let got = ctx.client.get_if(&bucket, &key, Some(&want.header()), pinned.as_deref()).await?;
                let object = (bucket.as_str(), key.as_str(), pinned.as_deref());
                let n = finish_range(&ctx, object, &mut Sink::File(&file), want, got.body, &mut check).await?;
                Ok((index, n, check))
            });
            offset += want.len;
            index += 1;
        }
        while let Some(r) = set.join_next().await {
            keep(joined(r)?);
        }
        Ok::<_, Error>((done, checks, sizes))
    };
    let ((a, first_check), (b, mut checks, mut sizes)) = futures_util::future::try_join(first_write, rest).await?;
    if checks.is_empty() {
        checks.push(None);
        sizes.push(0);
    }
    checks[0] = first_check;
    sizes[0] = a;
    Ok((a + b, checks, sizes))
}

/// A range written: its index, its bytes, and their MD5 when the ETag is checked.
type RangeDone = (usize, u64, Option<BodyCheck>);

/// Bytes of an object.
#[derive(Clone, Copy, Debug)]
struct Range {
    start: u64,
    len: u64,
}

impl Range {
    fn header(self) -> String {
        format!("bytes={}-{}", self.start, self.start + self.len.saturating_sub(1))
    }
}

/// Times a range that broke off mid-body is asked for again (what is missing of it).
const RANGE_RETRIES: u32 = 3;

/// Writes `body`, the answer for `want`, at its offsets; when the body breaks off, asks for
/// what is missing (pinned to the ETag) up to [`RANGE_RETRIES`] times, as the AWS CLI retries
/// a download that stalls. More bytes than asked for is an error, never written.
async fn finish_range(
    ctx: &Arc<Ctx>,
    (bucket, key, etag): (&str, &str, Option<&str>),
    sink: &mut Sink<'_>,
    want: Range,
    body: ByteStream,
    check: &mut Option<BodyCheck>,
) -> Result<u64, Error> {
    let mut body = body;
    let mut done = 0u64;
    let mut retries = 0;
    loop {
        let rest = Range { start: want.start + done, len: want.len - done };
        let (n, end) = match sink {
            Sink::File(file) => write_stream(ctx, body, file, rest, check).await,
            Sink::Memory(data) => gather(ctx, body, data, rest, check).await,
        };
        done += n;
        let broken = match end {
            // Every byte came (a connection that broke after the last one has nothing more to
            // give; the checks see the bytes).
            StreamEnd::Complete | StreamEnd::Broken(_) if done == want.len => return Ok(done),
            StreamEnd::Complete => {
                Error::new(ErrorKind::Transport, format!("the answer ended after {done} of {} bytes", want.len))
            }
            StreamEnd::Broken(e) => e,
            StreamEnd::Fatal(e) => return Err(e),
        };
        if retries == RANGE_RETRIES {
            return Err(broken);
        }
        retries += 1;
        let rest = Range { start: want.start + done, len: want.len - done };
        tracing::debug!(bucket, key, range = %rest.header(), error = %broken, "asking again for the rest of a range");
        body = ctx.client.get_if(bucket, key, Some(&rest.header()), etag).await?.body;
    }
}

/// How a body ended.
enum StreamEnd {
    /// Its end came.
    Complete,
    /// It broke off (a reset, a timeout): the rest can be asked for again.
    Broken(Error),
    /// Writing failed, or more came than asked for: give up.
    Fatal(Error),
}

/// The file system refuses this name or this place for a file.
fn cannot_be_a_file(e: &std::io::Error) -> bool {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        matches!(
            e.raw_os_error(),
            Some(libc::EISDIR | libc::ENOTDIR | libc::ENAMETOOLONG | libc::EEXIST | libc::ENOTEMPTY)
        )
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        let _ = e;
        false
    }
}

/// `bytes 0-99/1234` -> 1234.
pub(crate) fn parse_total(content_range: &str) -> Option<u64> {
    content_range.rsplit_once('/')?.1.trim().parse().ok()
}

/// Writes a body into `want` through one buffer of [`BUF`] (reused: filled, written on the
/// blocking pool, handed back), so a stream holds no more than that however fast it comes; the
/// bytes written and how the body ended. `check` sees every byte written, in order.
async fn write_stream(
    ctx: &Arc<Ctx>,
    mut body: ByteStream,
    file: &Arc<File>,
    want: Range,
    check: &mut Option<BodyCheck>,
) -> (u64, StreamEnd) {
    let mut buf = BytesMut::with_capacity(BUF as usize);
    let mut written = 0u64;
    loop {
        let chunk = body.next().await;
        let (end, data) = match chunk {
            None => (Some(StreamEnd::Complete), None),
            Some(Err(e)) => (Some(StreamEnd::Broken(e.into())), None),
            Some(Ok(c)) => (None, Some(c)),
        };
        let incoming = data.as_ref().map_or(0, |c| c.len());
        if written + (buf.len() + incoming) as u64 > want.len {
            let what = format!("the answer holds more than the {} bytes asked for", want.len);
            return (written, StreamEnd::Fatal(Error::new(ErrorKind::Other, what)));
        }
        // Write what is held when the chunk would not fit, or at the end.
        if !buf.is_empty() && (end.is_some() || buf.len() + incoming > BUF as usize) {
            let len = buf.len() as u64;
            let (f, at) = (file.clone(), want.start + written);
            let mut running = check.take();
            let wrote = tokio::task::spawn_blocking(move || {
                if let Some(c) = &mut running {
                    c.update(&buf);
                }
                let r = write_all_at(&f, &buf, at);
                (buf, running, r)
            })
            .await;
            match wrote {
                Ok((b, running, Ok(()))) => {
                    buf = b;
                    *check = running;
                }
                Ok((_, _, Err(e))) => return (written, StreamEnd::Fatal(Error::io("cannot write the file", e))),
                Err(e) => return (written, StreamEnd::Fatal(Error::task(e))),
            }
            buf.clear();
            written += len;
            ctx.progress(len);
        }
        if let Some(c) = data {
            buf.extend_from_slice(&c);
        }
        if let Some(end) = end {
            return (written, end);
        }
    }
}

/// [`write_stream`] into memory: `data` holds the bytes before `want.start`, and gets the rest
/// as they come, each chunk checked.
async fn gather(
    ctx: &Arc<Ctx>,
    mut body: ByteStream,
    data: &mut BytesMut,
    want: Range,
    check: &mut Option<BodyCheck>,
) -> (u64, StreamEnd) {
    debug_assert_eq!(data.len() as u64, want.start);
    let mut got = 0u64;
    loop {
        let chunk = match body.next().await {
            None => return (got, StreamEnd::Complete),
            Some(Err(e)) => return (got, StreamEnd::Broken(e.into())),
            Some(Ok(c)) => c,
        };
        if got + chunk.len() as u64 > want.len {
            let what = format!("the answer holds more than the {} bytes asked for", want.len);
            return (got, StreamEnd::Fatal(Error::new(ErrorKind::Other, what)));
        }
        if let Some(c) = check {
            c.update(&chunk);
        }
        data.extend_from_slice(&chunk);
        got += chunk.len() as u64;
        ctx.progress(chunk.len() as u64);
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
