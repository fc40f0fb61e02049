//! A file to S3 inside a transfer: one PutObject below the multipart threshold, otherwise a
//! multipart upload whose parts are read at their offsets and sent in parallel, each holding a
//! request slot and its bytes of the memory budget.

use super::ctx::{Ctx, Outcome, UploadGuard};
use super::error::joined;
use super::{Error, ErrorKind, Location};
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
    // `no_overwrite`: a key that has an object is not uploaded in parts only to be refused at
    // the end (the completion still carries `If-None-Match`, for one that appears meanwhile).
    if ctx.no_overwrite() {
        match ctx.dst_exists(bucket, key).await {
            Ok(false) => {}
            Ok(true) => return Outcome::Skipped(Error::exists(&Location::s3(bucket, key))),
            Err(e) => return Outcome::Failed(e),
        }
    }
    let upload_id = match ctx.create_upload(bucket, key, &put).await {
        Ok(id) => id,
        Err(e) => return Outcome::Failed(e),
    };
    let guard = UploadGuard::new(ctx, bucket, key, &upload_id);
    let part_size = ctx.part_size_for(size);
    let sent = match upload_parts(ctx, &file, size, part_size, bucket, key, &upload_id, &put).await {
        // Every part read: the file must still be the one whose size was planned.
        Ok(parts) => unchanged(&file, &meta).await.map(|()| parts),
        Err(e) => Err(e),
    };
    let completed = match sent {
        Ok(parts) => ctx.complete_upload(bucket, key, &upload_id, &parts).await,
        Err(e) => Err(e),
    };
    match completed {
        Ok(()) => {
            guard.done();
            Outcome::Done(size)
        }
        Err(e) => not_written(ctx, bucket, key, guard.abort(e).await),
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

#[allow(clippy::too_many_arguments)]
async fn upload_parts(
    ctx: &Arc<Ctx>,
    file: &Arc<File>,
    size: u64,
    part_size: u64,
    bucket: &str,
    key: &str,
    upload_id: &str,
    put: &crate::s3::PutOptions,
) -> Result<Vec<CompletedPart>, Error> {
    let count = size.div_ceil(part_size);
    let window = ctx.concurrency;
    let mut set: JoinSet<Result<CompletedPart, Error>> = JoinSet::new();
    let mut parts = Vec::with_capacity(count as usize);
    for index in 0..count {
        while set.len() >= window {
            if let Some(done) = set.join_next().await {
                match joined(done) {
                    Ok(p) => parts.push(p),
                    Err(e) => return Err(stop_parts(set, e).await),
                }
            }
        }
        let offset = index * part_size;
        let len = part_size.min(size - offset);
        let (ctx, file) = (ctx.clone(), file.clone());
        let (bucket, key, upload_id) = (bucket.to_owned(), key.to_owned(), upload_id.to_owned());
        let checksum = put.checksum;
        set.spawn(async move {
            let _slot = ctx.request_slot().await?;
            let _memory = ctx.memory(len).await?;
            let data = read_at(&file, offset, len).await?;
            let number = index as u32 + 1;
            let part = ctx.client.upload_part(&bucket, &key, &upload_id, number, data, checksum).await?;
            ctx.progress(len);
            Ok(part)
        });
    }
    while let Some(done) = set.join_next().await {
        match joined(done) {
            Ok(p) => parts.push(p),
            Err(e) => return Err(stop_parts(set, e).await),
        }
    }
    parts.sort_by_key(|p| p.number);
    Ok(parts)
}

/// Stops the other parts and waits until none is in flight, so the abort that follows is the
/// last word on the upload (a part that landed after an abort would be billed again).
pub(crate) async fn stop_parts<T: 'static>(mut set: JoinSet<T>, error: Error) -> Error {
    set.shutdown().await;
    error
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
