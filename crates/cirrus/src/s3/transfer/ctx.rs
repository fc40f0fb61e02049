//! What a job needs from the run it belongs to: request, file and memory slots, the events
//! it reports, the multipart uploads it must not leave behind, the downloads it placed; and
//! how one job ends.

use super::{Error, Event, LeftBehind, Location, Summary};
use crate::s3::upload::Orphaned;
use crate::s3::{PutOptions, S3Client};
use std::sync::{Arc, Mutex};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

tokio::task_local! {
    /// Whether the job of this task has passed its point of no return.
    static COMMITTED: std::cell::Cell<bool>;
}

/// Marks the job running in this task as past its point of no return: the request or rename
/// that makes its result real is under way. An interrupt from now on lets the job finish (and
/// its event and count come out) rather than dropping it with its outcome unknown.
pub(crate) fn point_of_no_return() {
    let _ = COMMITTED.try_with(|c| c.set(true));
}

/// Runs `job` until it ends or `cancel` fires; on cancel, a job still before its point of no
/// return is dropped (its guards clean up: `None`), one past it runs to its end.
pub(crate) async fn unless_interrupted<F: std::future::Future>(job: F, cancel: &super::Cancel) -> Option<F::Output> {
    COMMITTED
        .scope(std::cell::Cell::new(false), async move {
            let mut job = std::pin::pin!(job);
            tokio::select! {
                biased;
                done = &mut job => Some(done),
                () = cancel.cancelled() => match COMMITTED.with(std::cell::Cell::get) {
                    true => Some(job.await),
                    false => None,
                },
            }
        })
        .await
}

/// Permits of `Ctx::blocking_work`: more than blocking threads will ever run at once.
const BLOCKING_PERMITS: u32 = 1 << 20;

/// What a job needs from the run it belongs to.
pub(crate) struct Ctx {
    pub(crate) client: S3Client,
    limits: Limits,
    /// Requests in flight at most: the configured concurrency, within the file budget.
    pub(crate) concurrency: usize,
    observer: Box<dyn Fn(&Event) + Send + Sync>,
    /// Multipart uploads whose job was dropped mid-way (an interrupt): aborted at the end.
    orphans: Mutex<Vec<(String, String, String)>>,
    /// CreateMultipartUpload requests on their way, each in a task of its own (see
    /// `create_upload`): waited for before the orphans are aborted.
    creating: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    /// Work on blocking threads (`blocking`), one permit each: all of them are taken at the
    /// end, so what such work leaves (a temporary file whose job was dropped) is gone before
    /// the summary returns.
    blocking_work: Arc<Semaphore>,
    /// Aborts that failed.
    left_behind: Mutex<Vec<LeftBehind>>,
    pub(crate) put: PutOptions,
    /// `mv`: each source is removed once its copy is complete.
    move_source: bool,
    /// Downloads checked against a stored checksum, against an MD5 ETag, and not checked.
    verified: [std::sync::atomic::AtomicU64; 3],
    /// The files downloads of this run moved into place, by device and inode: a second key that
    /// lands on one (names a file system does not tell apart) is refused, and a delete of one
    /// is held back.
    placed: Mutex<std::collections::HashSet<(u64, u64)>>,
    /// `--resume`: the journals' folder; uploads that fail are kept for a later run.
    pub(crate) resume: Option<std::path::PathBuf>,
    /// Uploads kept to resume.
    kept: std::sync::atomic::AtomicU64,
}

/// The budget of the runs that share it: requests in flight, open files and object data in
/// memory. Every run a [`Transfers`](super::Transfers) (or a clone of it) starts takes from
/// the same one, so runs at once stay within the settings together.
#[derive(Clone, Debug)]
pub(crate) struct Limits {
    requests: Arc<Semaphore>,
    /// Files open at once (a file read or a temporary file written): taken before a request
    /// slot, so the two never wait on each other in a cycle.
    files: Arc<Semaphore>,
    /// Requests in flight at most: the configured concurrency, within the file budget.
    concurrency: usize,
    memory: Arc<Semaphore>,
    /// The memory budget in KiB (the semaphore's permits).
    memory_kib: u32,
}

impl Limits {
    /// A budget with `settings`' concurrency and memory.
    pub(crate) fn new(settings: &crate::s3::S3Settings) -> Limits {
        let memory_kib = u32::try_from(settings.memory_budget.div_ceil(1024)).unwrap_or(u32::MAX >> 4).max(1);
        let concurrency = settings.concurrency.clamp(1, 100_000).min(super::fd::concurrency_budget());
        Limits {
            requests: Arc::new(Semaphore::new(concurrency)),
            files: Arc::new(Semaphore::new(concurrency)),
            concurrency,
            memory: Arc::new(Semaphore::new(memory_kib as usize)),
            memory_kib,
        }
    }

    /// A slot for one request in flight.
    pub(crate) async fn request_slot(&self) -> Result<OwnedSemaphorePermit, Error> {
        self.requests.clone().acquire_owned().await.map_err(|_| Error::stopped())
    }
}

impl Ctx {
    /// A run on its own budget (one object, outside any [`Transfers`](super::Transfers)).
    pub(crate) fn new(client: S3Client, put: PutOptions, observer: Box<dyn Fn(&Event) + Send + Sync>) -> Arc<Ctx> {
        let limits = Limits::new(client.settings());
        Self::with_move(client, &limits, put, observer, false, None)
    }

    /// A run on `limits`, shared with the other runs that hold them.
    pub(crate) fn with_move(
        client: S3Client,
        limits: &Limits,
        put: PutOptions,
        observer: Box<dyn Fn(&Event) + Send + Sync>,
        move_source: bool,
        resume: Option<std::path::PathBuf>,
    ) -> Arc<Ctx> {
        Arc::new(Ctx {
            limits: limits.clone(),
            concurrency: limits.concurrency,
            client,
            observer,
            orphans: Mutex::new(Vec::new()),
            creating: Mutex::new(Vec::new()),
            blocking_work: Arc::new(Semaphore::new(BLOCKING_PERMITS as usize)),
            left_behind: Mutex::new(Vec::new()),
            put,
            move_source,
            verified: Default::default(),
            placed: Mutex::default(),
            resume,
            kept: Default::default(),
        })
    }

    /// Room for one open file. Take it before the request slot of the request that reads or
    /// writes the file.
    pub(crate) async fn file_slot(&self) -> Result<OwnedSemaphorePermit, Error> {
        self.limits.files.clone().acquire_owned().await.map_err(|_| Error::stopped())
    }

    /// A slot for one request in flight.
    pub(crate) async fn request_slot(&self) -> Result<OwnedSemaphorePermit, Error> {
        self.limits.request_slot().await
    }

    /// Room for `bytes` of object data (the whole budget at most, so one oversized part can
    /// still go, alone). Take the request slot first: every holder of memory also holds a
    /// slot, so the two never wait on each other in a cycle.
    pub(crate) async fn memory(&self, bytes: u64) -> Result<OwnedSemaphorePermit, Error> {
        let kib = u32::try_from(bytes.div_ceil(1024)).unwrap_or(u32::MAX).clamp(1, self.limits.memory_kib);
        self.limits.memory.clone().acquire_many_owned(kib).await.map_err(|_| Error::stopped())
    }

    /// The part size for an object of `size`: the configured one, raised to stay within S3's
    /// 10,000 parts.
    pub(crate) fn part_size_for(&self, size: u64) -> u64 {
        self.client.settings().part_size.max(size.div_ceil(crate::s3::upload::MAX_PARTS)).max(1)
    }

    /// CreateMultipartUpload, in a request slot: the upload id.
    ///
    /// A job dropped by an interrupt while the answer is on its way would never learn the id,
    /// and the upload would be left behind. So the request runs detached
    /// ([`S3Client::create_detached`]): an id nobody took is recorded as an orphan, and the run
    /// waits for such requests before it aborts the orphans.
    pub(crate) async fn create_upload(
        self: &Arc<Self>,
        bucket: &str,
        key: &str,
        put: &PutOptions,
    ) -> Result<String, Error> {
        let _slot = self.request_slot().await?;
        let ctx = self.clone();
        let orphaned: Orphaned = Arc::new(move |bucket, key, id| ctx.orphan(bucket, key, id));
        let (task, pending) = self.client.create_detached(bucket, key, put, orphaned);
        if let Ok(mut creating) = self.creating.lock() {
            creating.retain(|t| !t.is_finished());
            creating.push(task);
        }
        Ok(pending.answer().await?)
    }

    /// Records a multipart upload to abort at the end of the run.
    fn orphan(&self, bucket: String, key: String, upload_id: String) {
        if let Ok(mut o) = self.orphans.lock() {
            o.push((bucket, key, upload_id));
        }
    }

    /// CompleteMultipartUpload, in a request slot.
    pub(crate) async fn complete_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        parts: &[crate::s3::CompletedPart],
    ) -> Result<(), Error> {
        let _slot = self.request_slot().await?;
        point_of_no_return();
        self.client.complete_multipart_upload_with(bucket, key, upload_id, parts, &self.put).await?;
        Ok(())
    }

    /// Counts a download by how its bytes were checked (`None`: they could not be).
    pub(crate) fn count_verified(&self, how: Option<crate::s3::checksum::Verified>) {
        use crate::s3::checksum::Verified;
        let i = match how {
            Some(Verified::Checksum(_)) => 0,
            Some(Verified::Md5) => 1,
            None => 2,
        };
        self.verified[i].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// Moves a finished download onto `target`, unless a download of this run was already moved
    /// there (the file system took two keys' names for one file) or, with `no_overwrite`,
    /// anything is there by now (the rename itself refuses to replace). Checked and moved
    /// under one lock, so two downloads cannot both pass.
    pub(crate) fn place(&self, tmp: super::local::TempFile, target: &std::path::Path) -> std::io::Result<Placed> {
        let mut placed = self.placed.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(id) = std::fs::symlink_metadata(target).ok().as_ref().and_then(super::local::file_id) {
            if placed.contains(&id) {
                return Ok(Placed::Taken);
            }
        }
        if self.no_overwrite() {
            match tmp.persist_new(target) {
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(Placed::Exists),
                other => other?,
            }
        } else {
            tmp.persist(target)?;
        }
        if let Some(id) = std::fs::symlink_metadata(target).ok().as_ref().and_then(super::local::file_id) {
            placed.insert(id);
        }
        Ok(Placed::Moved)
    }

    /// `no_overwrite`: nothing at the destination is replaced (the objects' headers carry
    /// `If-None-Match: *`).
    pub(crate) fn no_overwrite(&self) -> bool {
        self.put.if_none_match
    }

    /// `no_overwrite`: whether `key` has an object already (HEAD), before a multipart upload
    /// or a copy is begun. An answer other than found or not found is the job's failure: the
    /// destination might be there.
    pub(crate) async fn dst_exists(&self, bucket: &str, key: &str) -> Result<bool, Error> {
        let _slot = self.request_slot().await?;
        head_exists(&self.client, bucket, key).await
    }

    /// Whether `path` is a file a download of this run wrote.
    pub(super) fn was_placed(&self, path: &std::path::Path) -> bool {
        let placed = self.placed.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        std::fs::symlink_metadata(path)
            .ok()
            .as_ref()
            .and_then(super::local::file_id)
            .is_some_and(|id| placed.contains(&id))
    }

    /// Counts a download that nothing could verify, and says which and why.
    pub(crate) fn not_verified(&self, bucket: &str, key: &str, reason: &str) {
        self.count_verified(None);
        self.emit(&Event::Unverified { src: Location::s3(bucket, key), reason: reason.to_owned() });
    }

    /// `mv`: each source is removed once its copy is complete.
    pub(super) fn move_source(&self) -> bool {
        self.move_source
    }

    /// The end of a run: waits for CreateMultipartUpload requests still on their way, aborts
    /// the uploads dropped jobs left, and counts into `summary` what could not be aborted and
    /// how the downloads were verified.
    /// Runs `f` on a blocking thread. When the job awaiting it is dropped (an interrupt), what
    /// `f` returns (a temporary file's guard) is dropped on that thread, and [`finish`]
    /// (Self::finish) waits for it.
    pub(crate) async fn blocking<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Result<T, Error> {
        let permit = self.blocking_work.clone().try_acquire_owned().ok();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let task = tokio::task::spawn_blocking(move || {
            // Nobody waits any more: dropped here, before the permit goes back.
            drop(tx.send(f()).err());
            drop(permit);
        });
        task.await.map_err(Error::task)?;
        rx.await.map_err(|_| Error::new(super::ErrorKind::Other, "a blocking task ended without its result"))
    }

    pub(super) async fn finish(&self, summary: &mut Summary) {
        // Blocking work of dropped jobs ends first (their temporary files removed).
        let _all = self.blocking_work.acquire_many(BLOCKING_PERMITS).await;
        // A CreateMultipartUpload still on its way may yet add an orphan.
        let creating = self.creating.lock().map(|mut c| std::mem::take(&mut *c)).unwrap_or_default();
        for task in creating {
            let _ = task.await;
        }
        let orphans = self.orphans.lock().map(|mut o| std::mem::take(&mut *o)).unwrap_or_default();
        let aborts = orphans.iter().map(|(b, k, id)| self.abort(b, k, id));
        futures_util::future::join_all(aborts).await;
        summary.left_behind = self.left_behind.lock().map(|mut l| std::mem::take(&mut *l)).unwrap_or_default();
        let [by_checksum, by_md5, unverified] = &self.verified;
        let load = |a: &std::sync::atomic::AtomicU64| a.load(std::sync::atomic::Ordering::Relaxed);
        summary.verified = load(by_checksum) + load(by_md5);
        summary.verified_by_checksum = load(by_checksum);
        summary.unverified = load(unverified);
        summary.resumable = load(&self.kept);
    }

    /// An upload kept, not aborted, for a later run to resume.
    pub(crate) fn count_kept(&self) {
        self.kept.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    pub(crate) fn emit(&self, event: &Event) {
        (self.observer)(event);
    }

    pub(crate) fn progress(&self, bytes: u64) {
        if bytes > 0 {
            self.emit(&Event::Bytes(bytes));
        }
    }

    /// Aborts a multipart upload now, recording it in the summary if the abort fails.
    pub(crate) async fn abort(&self, bucket: &str, key: &str, upload_id: &str) {
        match self.client.abort_multipart_upload(bucket, key, upload_id).await {
            Ok(()) => {}
            // Gone already: completed after all (an interrupt during CompleteMultipartUpload)
            // or aborted by someone else. Nothing is left to pay for.
            Err(e) if e.code() == Some("NoSuchUpload") => {}
            Err(e) => {
                let left = LeftBehind {
                    bucket: bucket.to_owned(),
                    key: key.to_owned(),
                    upload_id: upload_id.to_owned(),
                    error: e.into(),
                };
                if let Ok(mut l) = self.left_behind.lock() {
                    l.push(left);
                }
            }
        }
    }
}

impl Drop for Ctx {
    /// The run was dropped before it could abort what its jobs left (a caller's timeout or
    /// `select!`): abort on the runtime, as the single-object upload does.
    fn drop(&mut self) {
        let orphans = self.orphans.get_mut().map(std::mem::take).unwrap_or_default();
        if orphans.is_empty() {
            return;
        }
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            for (b, k, id) in orphans {
                tracing::warn!(bucket = %b, key = %k, upload_id = %id, "multipart upload dropped outside a runtime; not aborted");
            }
            return;
        };
        for (b, k, id) in orphans {
            let client = self.client.clone();
            handle.spawn(async move {
                if let Err(e) = client.abort_multipart_upload(&b, &k, &id).await {
                    tracing::warn!(bucket = %b, key = %k, upload_id = %id, error = %e, "could not abort a dropped multipart upload");
                }
            });
        }
    }
}

/// A multipart upload in progress: if its job is dropped before [`done`](Self::done), the
/// upload is handed to the run, which aborts it before returning.
pub(crate) struct UploadGuard<'a> {
    ctx: &'a Ctx,
    upload: Option<(String, String, String)>,
    /// `--resume`: dropped, the upload is kept for a later run (its journal says what it holds).
    keep: bool,
}

impl<'a> UploadGuard<'a> {
    pub(crate) fn new(ctx: &'a Ctx, bucket: &str, key: &str, upload_id: &str) -> Self {
        UploadGuard { ctx, upload: Some((bucket.to_owned(), key.to_owned(), upload_id.to_owned())), keep: false }
    }

    /// Dropped before it ends (an interrupt), the upload is kept and counted, not aborted.
    pub(crate) fn kept_on_drop(mut self) -> Self {
        self.keep = true;
        self
    }

    /// Completed, or kept for a later run to resume: nothing to abort.
    pub(crate) fn done(mut self) {
        self.upload = None;
    }

    /// Failed: abort now (an abort that fails is in the summary's
    /// [`left_behind`](Summary::left_behind)); the reason, as it was.
    pub(crate) async fn abort(mut self, reason: Error) -> Error {
        let Some((b, k, id)) = self.upload.clone() else { return reason };
        // Still armed while the abort is awaited: dropped mid-way, the run aborts it again.
        self.ctx.abort(&b, &k, &id).await;
        self.upload = None;
        reason
    }
}

impl Drop for UploadGuard<'_> {
    fn drop(&mut self) {
        if self.keep && self.upload.take().is_some() {
            self.ctx.count_kept();
            return;
        }
        if let Some(u) = self.upload.take() {
            if let Ok(mut o) = self.ctx.orphans.lock() {
                o.push(u);
            }
        }
    }
}

/// What [`Ctx::place`] did with a finished download.
pub(crate) enum Placed {
    /// Moved onto the target.
    Moved,
    /// Another key of this run was written there.
    Taken,
    /// `no_overwrite`: something is there; the download was dropped.
    Exists,
}

/// How one object ended.
pub(crate) enum Outcome {
    Done(u64),
    Skipped(Error),
    Failed(Error),
}

impl From<Result<u64, Error>> for Outcome {
    fn from(r: Result<u64, Error>) -> Outcome {
        match r {
            Ok(n) => Outcome::Done(n),
            Err(e) => Outcome::Failed(e),
        }
    }
}

/// Whether `key` has an object (HEAD): found, not found, or an error (it might be there).
pub(crate) async fn head_exists(client: &S3Client, bucket: &str, key: &str) -> Result<bool, Error> {
    match client.head(bucket, key).await {
        Ok(_) => Ok(true),
        Err(e) if e.is_not_found() => Ok(false),
        Err(e) => Err(Error::call("cannot tell whether the destination exists", e)),
    }
}
