//! A file to S3 inside a transfer: one PutObject below the multipart threshold, otherwise a
//! multipart upload whose parts are streamed from their offsets in parallel, each holding a
//! request slot and a few chunks of the memory budget (not its size); with `--resume`, one an
//! earlier run left is taken up (`resume.rs`).

use super::ctx::{Ctx, Outcome, UploadGuard};
use super::error::joined;
use super::resume::{self, Found, Journal, Listed};
use super::{Error, ErrorKind, Event, Location};
use crate::s3::checksum::{PartDigests, Wanted};
pub(crate) use crate::s3::upload_streamed::stop_parts;
use crate::s3::upload_streamed::{first_pass, PartFailed, STREAMED_PART_MEMORY};
use crate::s3::CompletedPart;
use bytes::Bytes;
use std::fs::File;
use std::path::Path;
use std::sync::Arc;
use tokio::task::JoinSet;

pub(crate) async fn upload_file(ctx: &Arc<Ctx>, path: &Path, bucket: &str, key: &str) -> Outcome {
    // Held to the end: the file stays open while its parts go.
    let _file_slot = match ctx.file_slot().await {
        Ok(s) => s,
        Err(e) => return Outcome::Failed(e),
    };
    let owned = path.to_path_buf();
    let opened = tokio::task::spawn_blocking(move || super::local::open_regular(&owned)).await;
    let (file, meta): (File, _) = match opened {
        Ok(Ok(x)) => x,
        // Out of descriptors past every wait: a failure, to be tried again, never a skip.
        Ok(Err(e)) if super::fd::out_of_descriptors(&e) => return Outcome::Failed(Error::io("cannot open it", e)),
        // Unreadable (permissions, gone since the walk, not a file): reported and left out.
        Ok(Err(e)) => return Outcome::Skipped(Error::io("cannot read it", e)),
        Err(e) => return Outcome::Failed(Error::task(e)),
    };
    let size = meta.len();
    let mut put = ctx.client.with_upload_checksum(&ctx.put);
    if put.content_type.is_none() {
        put.content_type = crate::content_type::guess(key).map(str::to_owned);
    }
    let file = Arc::new(file);
    let settings = ctx.client.settings();
    // An empty file is one PutObject whatever the threshold (a multipart upload needs a part).
    if size < settings.multipart_threshold || size == 0 {
        let result = async {
            let _slot = ctx.request_slot().await?;
            let _memory = ctx.memory(size).await?;
            let data = read_at(&file, 0, size).await?;
            unchanged(&file, &meta).await?;
            super::ctx::point_of_no_return();
            ctx.client.put(bucket, key, data, &put).await?;
            Ok::<_, Error>(())
        }
        .await;
        return match result {
            Ok(()) => {
                ctx.progress(size);
                Outcome::Done(size)
            }
            Err(e) => not_written(ctx, bucket, key, e),
        };
    }
    if put.checksum_value.is_some() {
        let why = "a given checksum value covers one PutObject, not a multipart upload";
        return Outcome::Failed(Error::new(ErrorKind::Other, why));
    }
    multipart(ctx, file, &meta, path, (bucket, key), &put).await
}

/// A multipart upload being sent: what its parts need.
struct Multipart {
    file: Arc<File>,
    /// The file as it was when the upload began.
    before: std::fs::Metadata,
    size: u64,
    part_size: u64,
    bucket: String,
    key: String,
    upload_id: String,
    checksum: Option<crate::s3::ChecksumAlgorithm>,
    /// `--resume`: the journal, and what an earlier run left (with the parts S3 lists).
    journal: Option<Journal>,
    found: Option<(Found, Listed)>,
}

/// A multipart upload of `file`: a new one, or with `--resume` the one an earlier run left.
async fn multipart(
    ctx: &Arc<Ctx>,
    file: Arc<File>,
    meta: &std::fs::Metadata,
    path: &Path,
    (bucket, key): (&str, &str),
    put: &crate::s3::PutOptions,
) -> Outcome {
    let size = meta.len();
    // `no_overwrite`: a key that has an object is not uploaded in parts only to be refused at
    // the end (the completion still carries `If-None-Match`, for one that appears meanwhile).
    if ctx.no_overwrite() {
        match ctx.dst_exists(bucket, key).await {
            Ok(false) => {}
            Ok(true) => return Outcome::Skipped(Error::exists(&Location::s3(bucket, key))),
            Err(e) => return Outcome::Failed(e),
        }
    }
    let journal = ctx.resume.as_deref().map(|dir| Journal::new(dir, &ctx.client, bucket, key, path, meta));
    let (upload_id, part_size, found) = match begin(ctx, journal.as_ref(), (bucket, key), put, size).await {
        Ok(x) => x,
        Err(e) => return Outcome::Failed(e),
    };
    let guard = UploadGuard::new(ctx, bucket, key, &upload_id);
    let guard = if journal.is_some() { guard.kept_on_drop() } else { guard };
    let job = Arc::new(Multipart {
        file,
        before: meta.clone(),
        size,
        part_size,
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        upload_id: upload_id.clone(),
        checksum: put.checksum,
        journal,
        found,
    });
    let sent = match upload_parts(ctx, &job).await {
        // Every part read: the file must still be the one whose size was planned.
        Ok((parts, reused)) => unchanged(&job.file, meta).await.map(|()| (parts, reused)).map_err(|e| (e, false)),
        Err(e) => Err((e, false)),
    };
    let completed = match sent {
        Ok((parts, (count, bytes))) => {
            if count > 0 {
                let (src, dst) = (Location::Local(path.to_path_buf()), Location::s3(bucket, key));
                ctx.emit(&Event::Resumed { src, dst, parts: count, bytes });
            }
            ctx.complete_upload(bucket, key, &upload_id, &parts).await.map_err(|e| (e, true))
        }
        Err(e) => Err(e),
    };
    match (completed, &job.journal) {
        (Ok(()), journal) => {
            guard.done();
            journal.iter().for_each(Journal::remove);
            Outcome::Done(size)
        }
        (Err((e, completing)), Some(_)) if worth_keeping(&e, completing) => {
            guard.done();
            ctx.count_kept();
            Outcome::Failed(e)
        }
        (Err((e, _)), journal) => {
            journal.iter().for_each(Journal::remove);
            not_written(ctx, bucket, key, guard.abort(e).await)
        }
    }
}

/// A write that failed: with `no_overwrite`, S3's refusal to replace the key's object means
/// it is there, which is a skip; anything else is a failure.
pub(crate) fn not_written(ctx: &Ctx, bucket: &str, key: &str, e: Error) -> Outcome {
    if ctx.no_overwrite() && Error::is_write_refused(&e) {
        Outcome::Skipped(Error::exists(&Location::s3(bucket, key)))
    } else {
        Outcome::Failed(e)
    }
}

/// Whether a failed upload is kept for a later run: not when the file changed, not when the
/// upload is gone, and not when S3 refused to complete it (the same parts would be refused
/// again).
fn worth_keeping(e: &Error, completing: bool) -> bool {
    // Gone (completed, aborted or expired by a lifecycle rule): a later run starts over.
    if e.call_error().and_then(crate::Error::code) == Some("NoSuchUpload") {
        return false;
    }
    match e.kind() {
        ErrorKind::Changed => false,
        ErrorKind::Transport | ErrorKind::Throttled | ErrorKind::Stopped => true,
        _ => !completing,
    }
}

/// The upload id and part size to send with, and what an earlier run left when it is resumed.
async fn begin(
    ctx: &Arc<Ctx>,
    journal: Option<&Journal>,
    (bucket, key): (&str, &str),
    put: &crate::s3::PutOptions,
    size: u64,
) -> Result<(String, u64, Option<(Found, Listed)>), Error> {
    if let Some(journal) = journal {
        match journal.find() {
            Ok(Some(found)) => match resume::listed(&ctx.client, bucket, key, &found.upload_id).await? {
                Some(listed) => return Ok((found.upload_id.clone(), found.part_size, Some((found, listed)))),
                // Completed or aborted since: start over.
                None => journal.remove(),
            },
            Ok(None) => {}
            // The file changed since that upload began: it is of no use, and costs storage.
            Err(old_upload) => ctx.abort(bucket, key, &old_upload).await,
        }
    }
    let upload_id = ctx.create_upload(bucket, key, put).await?;
    let part_size = ctx.part_size_for(size);
    if let Some(journal) = journal {
        if let Err(e) = journal.start(&upload_id, part_size, put.checksum) {
            ctx.abort(bucket, key, &upload_id).await;
            return Err(e);
        }
    }
    Ok((upload_id, part_size, None))
}

/// Sends the parts (reusing, when resuming, those an earlier run sent that check out), a
/// request slot and the part's memory each; the parts in order, and how many parts and bytes
/// were reused.
async fn upload_parts(ctx: &Arc<Ctx>, job: &Arc<Multipart>) -> Result<(Vec<CompletedPart>, (u32, u64)), Error> {
    let count = job.size.div_ceil(job.part_size);
    let window = ctx.concurrency;
    let mut set: JoinSet<Result<(CompletedPart, bool), Error>> = JoinSet::new();
    let mut parts = Vec::with_capacity(count as usize);
    let mut reused = (0u32, 0u64);
    let mut take = |(part, was_reused): (CompletedPart, bool)| {
        if was_reused {
            reused = (reused.0 + 1, reused.1 + part.size);
        }
        parts.push(part);
    };
    for index in 0..count {
        while set.len() >= window {
            if let Some(done) = set.join_next().await {
                match joined(done) {
                    Ok(p) => take(p),
                    Err(e) => return Err(stop_parts(set, e).await),
                }
            }
        }
        let (ctx, job) = (ctx.clone(), job.clone());
        set.spawn(async move { send_part(&ctx, &job, index).await });
    }
    while let Some(done) = set.join_next().await {
        match joined(done) {
            Ok(p) => take(p),
            Err(e) => return Err(stop_parts(set, e).await),
        }
    }
    parts.sort_by_key(|p| p.number);
    Ok((parts, reused))
}

/// Part `index` (from 0): reused when an earlier run sent it and it checks out, else sent and,
/// when resumable, recorded in the journal once S3 confirmed it.
///
/// The part is never held whole: a first pass over its range computes its checksum, the
/// signed payload hash (plain http) and, for a resume journal, its MD5, one chunk at a time;
/// then the body is streamed from the file (read again on a retry) and checked against the
/// first pass's CRC32 ([`S3Client::upload_part_streamed`](crate::s3::S3Client)): a file changed
/// between the passes is never stored, and the part is reported as the file having changed.
async fn send_part(ctx: &Arc<Ctx>, job: &Multipart, index: u64) -> Result<(CompletedPart, bool), Error> {
    let offset = index * job.part_size;
    let len = job.part_size.min(job.size - offset);
    let number = index as u32 + 1;
    let _slot = ctx.request_slot().await?;
    let _memory = ctx.memory(STREAMED_PART_MEMORY).await?;
    let found = job.found.as_ref().filter(|(f, _)| f.has(number));
    let mut want = Wanted {
        sha256: ctx.client.signs_payload(),
        md5: job.journal.is_some() || found.is_some(),
        sums: job.checksum.into_iter().chain(found.and_then(|(f, _)| f.algorithm_of(number))).collect(),
    };
    want.sums.dedup();
    let digests = read_first_pass(&job.file, (offset, len), want.streamed()).await?;
    if let Some((found, listed)) = found {
        if let Some(part) = found.reusable(number, len, &digests, listed) {
            ctx.progress(len);
            return Ok((part, true));
        }
    }
    test_hook::after_first_pass(&job.file);
    let upload = (job.bucket.as_str(), job.key.as_str(), job.upload_id.as_str());
    let sent = ctx.client.upload_part_streamed(upload, number, (&job.file, (offset, len)), &digests, job.checksum);
    let part = match sent.await {
        Ok(part) => part,
        Err(PartFailed::Changed) => {
            return Err(Error::new(
                ErrorKind::Changed,
                format!("the file changed while it was being uploaded: part {number} no longer matched its CRC32"),
            ))
        }
        // Refused: when the file changed meanwhile, that is the reason to give.
        Err(PartFailed::Sent(e)) => {
            unchanged(&job.file, &job.before).await?;
            return Err(e.into());
        }
    };
    if let (Some(journal), Some(md5)) = (&job.journal, &digests.md5_hex) {
        journal.record(&part, md5)?;
    }
    ctx.progress(len);
    Ok((part, false))
}

/// The first pass over a part's range, on a blocking thread; a file that got shorter has
/// changed.
async fn read_first_pass(file: &Arc<File>, range: (u64, u64), want: Wanted) -> Result<PartDigests, Error> {
    first_pass(file, range, want).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            Error::new(ErrorKind::Changed, "the file got shorter while it was being uploaded")
        } else {
            Error::io("cannot read the file", e)
        }
    })
}

/// Fails when the file's size or modification time moved since `before`: a file written while it
/// is sent would be stored as a mix of old and new bytes, at whatever size was planned.
async fn unchanged(file: &Arc<File>, before: &std::fs::Metadata) -> Result<(), Error> {
    let file = file.clone();
    let now = tokio::task::spawn_blocking(move || file.metadata())
        .await
        .map_err(Error::task)?
        .map_err(|e| Error::io("cannot read the file", e))?;
    let (was, is) = (before.modified().ok(), now.modified().ok());
    if now.len() != before.len() || was != is {
        let (then, now) = (before.len(), now.len());
        return Err(Error::new(
            ErrorKind::Changed,
            format!("the file changed while it was being uploaded ({then} bytes when it started, {now} now); nothing was stored"),
        ));
    }
    Ok(())
}

/// Exactly `len` bytes of `file` from `offset`; a file that is shorter than it was has changed
/// while it was sent, which is an error, never a short object.
async fn read_at(file: &Arc<File>, offset: u64, len: u64) -> Result<Bytes, Error> {
    let file = file.clone();
    let read = tokio::task::spawn_blocking(move || -> std::io::Result<Vec<u8>> {
        let mut buf = vec![0u8; len as usize];
        crate::fs::read_exact_at(&file, &mut buf, offset)?;
        Ok(buf)
    })
    .await
    .map_err(Error::task)?;
    match read {
        Ok(buf) => Ok(Bytes::from(buf)),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            Err(Error::new(ErrorKind::Changed, "the file got shorter while it was being uploaded"))
        }
        Err(e) => Err(Error::io("cannot read the file", e)),
    }
}

/// A seam for the tests (feature `fuzzing` only, never on in the product): a function called
/// between a part's first pass and its sending, which may change the file.
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) mod test_hook {
    use std::fs::File;
    use std::sync::{Mutex, PoisonError};

    type Hook = crate::fuzzing::AfterFirstPass;
    static AFTER_FIRST_PASS: Mutex<Option<Hook>> = Mutex::new(None);

    /// Sets (or with `None` clears) the function.
    pub(crate) fn set(hook: Option<Hook>) {
        *AFTER_FIRST_PASS.lock().unwrap_or_else(PoisonError::into_inner) = hook;
    }

    pub(super) fn after_first_pass(file: &File) {
        if let Some(hook) = &*AFTER_FIRST_PASS.lock().unwrap_or_else(PoisonError::into_inner) {
            hook(file);
        }
    }
}

#[cfg(not(any(test, feature = "fuzzing")))]
mod test_hook {
    pub(super) fn after_first_pass(_: &std::fs::File) {}
}
