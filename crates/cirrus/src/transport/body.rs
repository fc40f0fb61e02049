//! Request bodies: bytes in memory, or a byte range of an open file read in small chunks as
//! hyper sends it ([`FileBody`]), so a large upload part costs a chunk of memory, not the part.
//! A file body is read again from the file for every attempt, and with the S3 client it can
//! check what it read against the CRC32 a first pass found ([`FileBody::with_crc32`]).

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use std::fmt;
use std::fs::File;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::task::JoinHandle;

/// Bytes of a file body read at a time (and the most it holds in memory at once, besides what
/// hyper has queued to write).
pub(crate) const FILE_CHUNK: usize = 128 << 10;

/// A byte range of an open file, sent as a request's body in place of
/// [`Request::body`](super::Request::body): read in chunks of 128 KiB as it is sent, on
/// blocking threads, and read again from the file for every attempt.
///
/// The signature cannot hash a body it never holds: give the range's SHA-256 with
/// [`with_sha256`](Self::with_sha256), or send with
/// [`unsigned_payload`](super::Request::unsigned_payload). The server checks that hash (and
/// any checksum header) against the bytes it receives, so a file that changes after the hash
/// was taken is refused, never stored; [`with_crc32`](Self::with_crc32) makes sure of it on
/// this side too, for servers that check neither. A file that got shorter than the range
/// fails the attempt.
#[derive(Clone)]
pub struct FileBody {
    file: Arc<File>,
    offset: u64,
    len: u64,
    sha256: Option<String>,
    /// The CRC32 (base64 of its big-endian bytes) each attempt's bytes must come to.
    #[cfg(feature = "s3")]
    crc32: Option<String>,
    /// Set by an attempt whose bytes did not come to `crc32`.
    changed: Arc<AtomicBool>,
}

impl fmt::Debug for FileBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileBody").field("offset", &self.offset).field("len", &self.len).finish_non_exhaustive()
    }
}

impl FileBody {
    /// `len` bytes of `file` from `offset`.
    pub fn new(file: Arc<File>, offset: u64, len: u64) -> Self {
        FileBody {
            file,
            offset,
            len,
            sha256: None,
            #[cfg(feature = "s3")]
            crc32: None,
            changed: Arc::default(),
        }
    }

    /// This body with the CRC32 of its bytes, as S3's `x-amz-checksum-crc32` carries it
    /// (base64 of the big-endian value), found by a first pass over the range. Every attempt
    /// computes the CRC32 of what it reads and, when that differs, fails in place of its last
    /// chunk: the server never receives the whole body, so a file that changed since that pass
    /// is not stored, whether or not the server checks checksums. [`changed`](Self::changed)
    /// says so afterwards.
    #[cfg(feature = "s3")]
    #[must_use]
    pub fn with_crc32(mut self, base64: impl Into<String>) -> Self {
        self.crc32 = Some(base64.into());
        self
    }

    /// Whether an attempt read bytes that did not come to the CRC32 given with `with_crc32`:
    /// the file changed while it was being sent.
    pub fn changed(&self) -> bool {
        self.changed.load(Ordering::Acquire)
    }

    /// This body with the SHA-256 of its bytes (lower-case hex), used as the signed payload hash.
    #[must_use]
    pub fn with_sha256(mut self, hex: impl Into<String>) -> Self {
        self.sha256 = Some(hex.into());
        self
    }

    /// The number of bytes sent.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the range is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Where the range starts in the file.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The SHA-256 given with [`with_sha256`](Self::with_sha256).
    pub fn sha256(&self) -> Option<&str> {
        self.sha256.as_deref()
    }

    /// A fresh reader of the range, for one attempt.
    pub(crate) fn reader(&self) -> FileReader {
        FileReader {
            file: self.file.clone(),
            at: self.offset,
            left: self.len,
            pending: None,
            #[cfg(feature = "s3")]
            crc32: self.crc32.clone().map(|want| (crc32fast::Hasher::new(), want, self.changed.clone())),
        }
    }
}

/// One attempt's read of a [`FileBody`]: one chunk read at a time, on a blocking thread.
pub(crate) struct FileReader {
    file: Arc<File>,
    at: u64,
    left: u64,
    pending: Option<JoinHandle<std::io::Result<Bytes>>>,
    /// The CRC32 of what this attempt read so far, what it must come to, and the body's flag
    /// to set when it does not.
    #[cfg(feature = "s3")]
    crc32: Option<(crc32fast::Hasher, String, Arc<AtomicBool>)>,
}

impl FileReader {
    /// Folds `chunk` (just read) into the running CRC32; after the last chunk, an error when
    /// the bytes read are not the ones the first pass saw.
    #[cfg(feature = "s3")]
    fn check(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        let Some((running, want, changed)) = &mut self.crc32 else { return Ok(()) };
        running.update(chunk);
        if self.left > 0 || cirrus_sigv4::base64(&running.clone().finalize().to_be_bytes()) == *want {
            return Ok(());
        }
        changed.store(true, Ordering::Release);
        Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "the file changed while it was being sent: its bytes no longer match the CRC32 taken before",
        ))
    }

    #[cfg(not(feature = "s3"))]
    fn check(&mut self, _chunk: &[u8]) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for FileReader {
    fn drop(&mut self) {
        if let Some(p) = self.pending.take() {
            p.abort();
        }
    }
}

/// The body hyper sends: bytes in memory, or a file range read as it goes.
pub(crate) enum SendBody {
    Bytes(Option<Bytes>),
    File(FileReader),
}

impl From<Bytes> for SendBody {
    fn from(b: Bytes) -> Self {
        SendBody::Bytes(Some(b).filter(|b| !b.is_empty()))
    }
}

/// Why a file body could not be read, with where in the file.
fn read_error(e: std::io::Error, at: u64, len: usize) -> std::io::Error {
    let what = if e.kind() == std::io::ErrorKind::UnexpectedEof {
        "the file got shorter while it was being sent".to_owned()
    } else {
        e.to_string()
    };
    std::io::Error::new(e.kind(), format!("cannot read {len} bytes of the file at offset {at}: {what}"))
}

impl Body for SendBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let r = match &mut *self {
            SendBody::Bytes(b) => return Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            SendBody::File(r) => r,
        };
        if r.left == 0 {
            return Poll::Ready(None);
        }
        let (at, len) = (r.at, (r.left as usize).min(FILE_CHUNK));
        let pending = r.pending.get_or_insert_with(|| {
            let file = r.file.clone();
            tokio::task::spawn_blocking(move || {
                let mut buf = vec![0u8; len];
                crate::fs::read_exact_at(&file, &mut buf, at).map_err(|e| read_error(e, at, len))?;
                Ok(Bytes::from(buf))
            })
        });
        let done = match Pin::new(pending).poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(done) => done,
        };
        r.pending = None;
        let chunk = match done {
            Ok(Ok(chunk)) => chunk,
            Ok(Err(e)) => return Poll::Ready(Some(Err(e))),
            Err(e) => return Poll::Ready(Some(Err(std::io::Error::other(format!("the file reader stopped: {e}"))))),
        };
        r.at += chunk.len() as u64;
        r.left -= chunk.len() as u64;
        if let Err(e) = r.check(&chunk) {
            return Poll::Ready(Some(Err(e)));
        }
        Poll::Ready(Some(Ok(Frame::data(chunk))))
    }

    fn is_end_stream(&self) -> bool {
        match self {
            SendBody::Bytes(b) => b.is_none(),
            SendBody::File(r) => r.left == 0,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            SendBody::Bytes(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            SendBody::File(r) => SizeHint::with_exact(r.left),
        }
    }
}
