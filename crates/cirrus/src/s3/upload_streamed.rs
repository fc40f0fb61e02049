//! Multipart uploads of a regular file whose parts are streamed from the file, never held:
//! [`S3Client::upload_file`]'s path for files at or above the multipart threshold, and each
//! part of the transfer engine's uploads ([`S3Client::upload_part_streamed`]).

use super::cancel::Cancel;
use super::checksum::{part_digests, PartDigests, Wanted};
use super::upload::{joined, AbortGuard, PutOutput, MAX_PARTS};
use super::{ChecksumAlgorithm, CompletedPart, PutOptions, S3Client};
use crate::transport::{Error, FileBody, FILE_CHUNK};
use std::fs::File;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::task::JoinSet;

/// Memory charged for a streamed part in flight: the chunk its first pass reads, then, while it
/// is sent, the chunk its body reads and what hyper has queued to write (hyper takes chunks
/// while under its 400 KiB buffer: up to four more of 128 KiB). Measured: 80 parts at 512 KiB
/// each peaked at 66 MiB through a slow link, 53 at 768 KiB stay within the 64 MiB bound.
pub(crate) const STREAMED_PART_MEMORY: u64 = 6 * FILE_CHUNK as u64;

/// Why a streamed part was not stored.
pub(crate) enum PartFailed {
    /// The bytes read as the part was sent were not those of its first pass: the file changed.
    Changed,
    /// The request failed (or the server refused it).
    Sent(Error),
}

impl Wanted {
    /// These digests and the CRC32 a streamed body checks what it sends against.
    pub(crate) fn streamed(mut self) -> Self {
        if !self.sums.contains(&ChecksumAlgorithm::Crc32) {
            self.sums.push(ChecksumAlgorithm::Crc32);
        }
        self
    }
}

/// The first pass over `range` of `file`, one chunk at a time on a blocking thread. A file
/// shorter than the range is an `UnexpectedEof` error.
pub(crate) async fn first_pass(file: &Arc<File>, range: (u64, u64), want: Wanted) -> std::io::Result<PartDigests> {
    let file = file.clone();
    tokio::task::spawn_blocking(move || part_digests(&file, range, &want, FILE_CHUNK))
        .await
        .map_err(|e| std::io::Error::other(format!("the reading task failed: {e}")))?
}

impl S3Client {
    /// UploadPart `number` of `upload` (bucket, key, upload id): `range` (offset, length) of
    /// `file`, as its first pass found it (`digests`: the CRC32 always, the `checksum` sent and
    /// the signed payload hash when asked for). The body is read from the file as it is sent,
    /// again on a retry, and checked against the first pass's CRC32: a file that changed
    /// meanwhile breaks the body off before its last byte, so no server stores it, whatever it
    /// checks.
    pub(crate) async fn upload_part_streamed(
        &self,
        upload: (&str, &str, &str),
        number: u32,
        (file, range): (&Arc<File>, (u64, u64)),
        digests: &PartDigests,
        checksum: Option<ChecksumAlgorithm>,
    ) -> Result<CompletedPart, PartFailed> {
        let mut body = FileBody::new(file.clone(), range.0, range.1);
        if let Some(hash) = &digests.sha256_hex {
            body = body.with_sha256(hash.clone());
        }
        if let Some(crc) = digests.sum(ChecksumAlgorithm::Crc32) {
            body = body.with_crc32(crc.value.clone());
        }
        let sent = checksum.and_then(|a| digests.sum(a).cloned());
        match self.upload_part_file(upload, number, body.clone(), sent).await {
            Ok(part) => Ok(part),
            Err(_) if body.changed() => Err(PartFailed::Changed),
            Err(e) => Err(PartFailed::Sent(e)),
        }
    }

    /// A multipart upload of the `size` bytes of a regular file, each part streamed from it:
    /// as many parts in flight as `concurrency` allows within the memory budget (768 KiB each,
    /// not the part's size), the upload aborted (and the abort awaited) on any failure or when
    /// `cancel` fires.
    pub(super) async fn upload_streamed(
        &self,
        (bucket, key): (&str, &str),
        file: Arc<File>,
        size: u64,
        options: &PutOptions,
        cancel: Option<&Cancel>,
    ) -> Result<PutOutput, Error> {
        let part_size = self.settings().part_size.max(size.div_ceil(MAX_PARTS));
        let options = &self.with_upload_checksum(options);
        let mut guard = self.create_guarded(bucket, key, options).await?;
        let upload_id = guard.upload_id.clone().unwrap_or_default();
        let sent = self.streamed_parts((bucket, key, &upload_id), &file, (size, part_size), options, cancel).await;
        self.complete_guarded(&mut guard, (bucket, key), sent, options).await
    }

    async fn streamed_parts(
        &self,
        upload: (&str, &str, &str),
        file: &Arc<File>,
        (size, part_size): (u64, u64),
        options: &PutOptions,
        cancel: Option<&Cancel>,
    ) -> Result<Vec<CompletedPart>, Error> {
        let settings = self.settings();
        let fit = (settings.memory_budget / STREAMED_PART_MEMORY).max(1);
        let concurrency = settings.concurrency.min(fit as usize).max(1);
        let uploaded = Arc::new(AtomicU64::new(0));
        let mut in_flight = JoinSet::new();
        let mut parts = Vec::new();
        for index in 0..size.div_ceil(part_size) {
            while in_flight.len() >= concurrency {
                match next_part(&mut in_flight, cancel).await {
                    Some(Ok(part)) => parts.push(part),
                    Some(Err(e)) => return Err(stop_parts(in_flight, e).await),
                    None => break,
                }
            }
            let range = (index * part_size, part_size.min(size - index * part_size));
            let (client, file, checksum) = (self.clone(), file.clone(), options.checksum);
            let (progress, uploaded) = (options.progress.clone(), uploaded.clone());
            let (b, k, id) = (upload.0.to_owned(), upload.1.to_owned(), upload.2.to_owned());
            in_flight.spawn(async move {
                let number = index as u32 + 1;
                let part = client.stream_one_part((&b, &k, &id), number, (&file, range), checksum).await?;
                let total = uploaded.fetch_add(range.1, Ordering::Relaxed) + range.1;
                if let Some(p) = progress {
                    p(total);
                }
                Ok::<_, Error>(part)
            });
        }
        while let Some(done) = next_part(&mut in_flight, cancel).await {
            match done {
                Ok(part) => parts.push(part),
                Err(e) => return Err(stop_parts(in_flight, e).await),
            }
        }
        parts.sort_by_key(|p| p.number);
        Ok(parts)
    }

    /// One part of [`upload_streamed`](Self::upload_streamed): its first pass, then its body.
    async fn stream_one_part(
        &self,
        upload: (&str, &str, &str),
        number: u32,
        (file, range): (&Arc<File>, (u64, u64)),
        checksum: Option<ChecksumAlgorithm>,
    ) -> Result<CompletedPart, Error> {
        const OP: &str = "UploadPart";
        let want = Wanted { sha256: self.signs_payload(), md5: false, sums: checksum.into_iter().collect() };
        let digests = first_pass(file, range, want.streamed())
            .await
            .map_err(|e| Self::input_error(OP, format!("cannot read part {number} of the file: {e}")))?;
        self.upload_part_streamed(upload, number, (file, range), &digests, checksum).await.map_err(|f| match f {
            PartFailed::Changed => Self::input_error(
                OP,
                format!("the file changed while it was being uploaded: part {number} no longer matched its CRC32"),
            ),
            PartFailed::Sent(e) => e,
        })
    }

    /// Completes the upload `guard` holds with `parts`, or aborts it when they failed or the
    /// completion does.
    pub(super) async fn complete_guarded(
        &self,
        guard: &mut AbortGuard,
        (bucket, key): (&str, &str),
        parts: Result<Vec<CompletedPart>, Error>,
        options: &PutOptions,
    ) -> Result<PutOutput, Error> {
        let parts = match parts {
            Ok(parts) => parts,
            Err(e) => return Err(guard.abort_after(e).await),
        };
        let upload_id = guard.upload_id.clone().unwrap_or_default();
        match self.complete_multipart_upload_with(bucket, key, &upload_id, &parts, options).await {
            Ok(mut out) => {
                guard.upload_id = None;
                out.parts = parts.len() as u32;
                Ok(out)
            }
            Err(e) => Err(guard.abort_after(e).await),
        }
    }
}

/// The next part to end (`None` when none is left), or an error when `cancel` fires first.
async fn next_part(
    in_flight: &mut JoinSet<Result<CompletedPart, Error>>,
    cancel: Option<&Cancel>,
) -> Option<Result<CompletedPart, Error>> {
    let stopped = async {
        match cancel {
            Some(c) => c.cancelled().await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        done = in_flight.join_next() => done.map(joined),
        () = stopped => Some(Err(S3Client::response_error("UploadPart", "interrupted"))),
    }
}

/// Stops the other parts and waits until none is in flight, so the abort that follows is the
/// last word on the upload (a part that landed after an abort would be billed again); then
/// `error`.
pub(crate) async fn stop_parts<T: 'static, E>(mut set: JoinSet<T>, error: E) -> E {
    set.shutdown().await;
    error
}
