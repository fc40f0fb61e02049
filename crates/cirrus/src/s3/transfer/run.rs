//! The executor: jobs from a planned source run with bounded requests and memory, events as
//! they finish, a summary at the end, and clean-up on interrupt.

use super::local::target_at;
use super::{Action, Cancel, Error, Event, LeftBehind, Location, Summary};
use crate::s3::upload::Orphaned;
use crate::s3::{Object, PutOptions, S3Client};
use futures_util::stream::{BoxStream, StreamExt};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

/// What a job needs from the run it belongs to.
pub(crate) struct Ctx {
    pub(crate) client: S3Client,
    requests: Arc<Semaphore>,
    /// Files open at once (a file read or a temporary file written): taken before a request
    /// slot, so the two never wait on each other in a cycle.
    files: Arc<Semaphore>,
    /// Requests in flight at most: the configured concurrency, within the file budget.
    pub(crate) concurrency: usize,
    memory: Arc<Semaphore>,
    /// The memory budget in KiB (the semaphore's permits).
    memory_kib: u32,
    observer: Box<dyn Fn(&Event) + Send + Sync>,
    /// Multipart uploads whose job was dropped mid-way (an interrupt): aborted at the end.
    orphans: Mutex<Vec<(String, String, String)>>,
    /// CreateMultipartUpload requests on their way, each in a task of its own (see
    /// `create_upload`): waited for before the orphans are aborted.
    creating: Mutex<Vec<tokio::task::JoinHandle<()>>>,
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
}

impl Ctx {
    pub(crate) fn new(client: S3Client, put: PutOptions, observer: Box<dyn Fn(&Event) + Send + Sync>) -> Arc<Ctx> {
        Self::with_move(client, put, observer, false)
    }

    pub(crate) fn with_move(
        client: S3Client,
        put: PutOptions,
        observer: Box<dyn Fn(&Event) + Send + Sync>,
        move_source: bool,
    ) -> Arc<Ctx> {
        let settings = client.settings();
        let memory_kib = u32::try_from(settings.memory_budget.div_ceil(1024)).unwrap_or(u32::MAX >> 4).max(1);
        let concurrency = settings.concurrency.clamp(1, 100_000).min(super::fd::concurrency_budget());
        Arc::new(Ctx {
            requests: Arc::new(Semaphore::new(concurrency)),
            files: Arc::new(Semaphore::new(concurrency)),
            concurrency,
            memory: Arc::new(Semaphore::new(memory_kib as usize)),
            memory_kib,
            client,
            observer,
            orphans: Mutex::new(Vec::new()),
            creating: Mutex::new(Vec::new()),
            left_behind: Mutex::new(Vec::new()),
            put,
            move_source,
            verified: Default::default(),
            placed: Mutex::default(),
        })
    }

    /// Room for one open file. Take it before the request slot of the request that reads or
    /// writes the file.
    pub(crate) async fn file_slot(&self) -> Result<OwnedSemaphorePermit, Error> {
        self.files.clone().acquire_owned().await.map_err(|_| Error::stopped())
    }

    /// A slot for one request in flight.
    pub(crate) async fn request_slot(&self) -> Result<OwnedSemaphorePermit, Error> {
        self.requests.clone().acquire_owned().await.map_err(|_| Error::stopped())
    }

    /// Room for `bytes` of object data (the whole budget at most, so one oversized part can
    /// still go, alone). Take the request slot first: every holder of memory also holds a
    /// slot, so the two never wait on each other in a cycle.
    pub(crate) async fn memory(&self, bytes: u64) -> Result<OwnedSemaphorePermit, Error> {
        let kib = u32::try_from(bytes.div_ceil(1024)).unwrap_or(u32::MAX).clamp(1, self.memory_kib);
        self.memory.clone().acquire_many_owned(kib).await.map_err(|_| Error::stopped())
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
        self.client.complete_multipart_upload(bucket, key, upload_id, parts).await?;
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
    /// there (`false`: the file system took two keys' names for one file). Checked and moved
    /// under one lock, so two downloads cannot both pass.
    pub(crate) fn place(&self, tmp: super::local::TempFile, target: &std::path::Path) -> std::io::Result<bool> {
        let mut placed = self.placed.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(id) = std::fs::symlink_metadata(target).ok().as_ref().and_then(super::local::file_id) {
            if placed.contains(&id) {
                return Ok(false);
            }
        }
        tmp.persist(target)?;
        if let Some(id) = std::fs::symlink_metadata(target).ok().as_ref().and_then(super::local::file_id) {
            placed.insert(id);
        }
        Ok(true)
    }

    /// Whether `path` is a file a download of this run wrote.
    fn was_placed(&self, path: &std::path::Path) -> bool {
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
}

impl<'a> UploadGuard<'a> {
    pub(crate) fn new(ctx: &'a Ctx, bucket: &str, key: &str, upload_id: &str) -> Self {
        UploadGuard { ctx, upload: Some((bucket.to_owned(), key.to_owned(), upload_id.to_owned())) }
    }

    /// Completed: nothing to abort.
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
        if let Some(u) = self.upload.take() {
            if let Ok(mut o) = self.ctx.orphans.lock() {
                o.push(u);
            }
        }
    }
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

/// How one object ended, once its event is out: what the summary counts.
enum Ended {
    Done(u64),
    Skipped,
    Failed,
}

/// One object to move.
pub(crate) enum Job {
    Upload {
        path: PathBuf,
        src: Location,
        bucket: String,
        key: String,
        /// Reached through a symlinked directory: `mv` copies it and never removes it (that
        /// would delete outside the tree).
        linked: bool,
    },
    Download {
        bucket: String,
        key: String,
        object: Option<Object>,
        to: DownloadTo,
    },
    Copy {
        from_bucket: String,
        from_key: String,
        object: Option<Object>,
        bucket: String,
        key: String,
    },
    /// `sync --delete`: an object the source lacks.
    Remove {
        target: Location,
    },
    /// `sync --delete`: a local file the source lacks, `rel` under `root`; removed only when no
    /// directory on the way is a symlink.
    RemoveUnder {
        root: PathBuf,
        rel: String,
    },
}

/// Where a download goes.
pub(crate) enum DownloadTo {
    /// A key of a recursive download: `rel` under `root`, checked for escapes.
    Under { root: PathBuf, rel: String },
    /// A path the user named.
    Path(PathBuf),
}

impl DownloadTo {
    pub(crate) fn display(&self) -> PathBuf {
        match self {
            DownloadTo::Under { root, rel } => root.join(rel.trim_start_matches('/')),
            DownloadTo::Path(p) => p.clone(),
        }
    }
}

/// What a planned source yields.
pub(crate) enum Planned {
    Job(Job, u64),
    Skip { src: Location, reason: Error },
    Fail { action: Action, src: Location, reason: Error },
}

impl Job {
    fn describe(&self) -> (Action, Location, Option<Location>) {
        match self {
            Job::Upload { src, bucket, key, .. } => (Action::Upload, src.clone(), Some(Location::s3(bucket, key))),
            Job::Download { bucket, key, to, .. } => {
                (Action::Download, Location::s3(bucket, key), Some(Location::Local(to.display())))
            }
            Job::Copy { from_bucket, from_key, bucket, key, .. } => {
                (Action::Copy, Location::s3(from_bucket, from_key), Some(Location::s3(bucket, key)))
            }
            Job::Remove { target } => (Action::Delete, target.clone(), None),
            Job::RemoveUnder { root, rel } => (Action::Delete, Location::Local(root.join(rel)), None),
        }
    }
}

/// What `mv` removes once a job's copy is complete.
enum Source {
    File(PathBuf),
    Object(String, String),
}

impl Job {
    fn source(&self) -> Source {
        match self {
            Job::Upload { path, .. } => Source::File(path.clone()),
            Job::Download { bucket, key, .. } => Source::Object(bucket.clone(), key.clone()),
            Job::Copy { from_bucket, from_key, .. } => Source::Object(from_bucket.clone(), from_key.clone()),
            Job::Remove { target: Location::Local(p) } => Source::File(p.clone()),
            Job::Remove { target: Location::S3 { bucket, key } } => Source::Object(bucket.clone(), key.clone()),
            Job::RemoveUnder { root, rel } => Source::File(root.join(rel)),
        }
    }
}

/// `mv`: removes the source of a job whose copy is complete (the file, or the object).
async fn remove_source(ctx: &Ctx, source: &Source) -> Result<(), Error> {
    match source {
        Source::File(path) => {
            tokio::fs::remove_file(path).await.map_err(|e| Error::io(format!("cannot remove {}", path.display()), e))
        }
        Source::Object(bucket, key) => {
            let _slot = ctx.request_slot().await?;
            Ok(ctx.client.delete(bucket, key).await?)
        }
    }
}

async fn run_job(ctx: Arc<Ctx>, job: Job) -> Ended {
    let (action, src, dst) = job.describe();
    let action = if ctx.move_source { Action::Move } else { action };
    let mut source = ctx.move_source.then(|| job.source());
    let mut kept = None;
    let outcome = match job {
        Job::Upload { path, bucket, key, linked, .. } => {
            if linked && source.is_some() {
                source = None;
                kept = Some(
                    "copied, not moved: it is reached through a symlinked directory, and a move never deletes through one",
                );
            }
            super::upload::upload_file(&ctx, &path, &bucket, &key).await
        }
        Job::Download { bucket, key, object, to } => {
            let target = match to {
                DownloadTo::Under { root, rel } => {
                    tokio::task::spawn_blocking(move || super::local::target_under(&root, &rel)).await
                }
                DownloadTo::Path(p) => tokio::task::spawn_blocking(move || target_at(&p)).await,
            };
            match target {
                Ok(Ok(t)) => super::download::download(&ctx, &bucket, &key, object.as_ref(), t).await,
                Ok(Err(reason)) => Outcome::Skipped(reason),
                Err(e) => Outcome::Failed(Error::task(e)),
            }
        }
        Job::Copy { from_bucket, from_key, object, bucket, key } => {
            super::copy::copy_object(&ctx, &from_bucket, &from_key, object.as_ref(), &bucket, &key).await
        }
        Job::Remove { target } => {
            let source = match target {
                Location::Local(p) => Source::File(p),
                Location::S3 { bucket, key } => Source::Object(bucket, key),
            };
            remove_source(&ctx, &source).await.map(|()| 0).into()
        }
        Job::RemoveUnder { root, rel } => {
            let checked = tokio::task::spawn_blocking(move || super::local::removable_under(&root, &rel)).await;
            match checked {
                // `sync --delete` never deletes what it downloaded in the same run (a key that
                // the file system takes for this name).
                Ok(Ok(path)) if ctx.was_placed(&path) => {
                    Outcome::Skipped(Error::refused("not deleted: a download of this run was written to it"))
                }
                Ok(Ok(path)) => remove_source(&ctx, &Source::File(path)).await.map(|()| 0).into(),
                Ok(Err(reason)) => Outcome::Skipped(reason),
                Err(e) => Outcome::Failed(Error::task(e)),
            }
        }
    };
    let outcome = match (outcome, kept) {
        (Outcome::Done(_), Some(reason)) => Outcome::Skipped(Error::refused(reason)),
        (outcome, _) => outcome,
    };
    // The source goes only once its copy is complete and confirmed; if it cannot be removed,
    // the move failed (both copies stay).
    let outcome = match (outcome, source) {
        (Outcome::Done(bytes), Some(source)) => match remove_source(&ctx, &source).await {
            Ok(()) => Outcome::Done(bytes),
            Err(reason) => Outcome::Failed(reason.context("copied, but the source was not removed")),
        },
        (outcome, _) => outcome,
    };
    match outcome {
        Outcome::Done(bytes) => {
            ctx.emit(&Event::Done { action, src, dst, bytes });
            Ended::Done(bytes)
        }
        Outcome::Skipped(reason) => {
            let reason = reason.at(src.clone());
            ctx.emit(&Event::Skipped { src, reason });
            Ended::Skipped
        }
        Outcome::Failed(error) => {
            let error = error.at(src.clone());
            ctx.emit(&Event::Failed { action, src, dst, error });
            Ended::Failed
        }
    }
}

/// Runs the jobs of `plan`, at most twice as many objects at once as requests may be in
/// flight (so the next ones are ready when a slot frees), until the plan ends or `cancel`
/// fires; then aborts what an interrupt left behind.
pub(crate) async fn execute(ctx: Arc<Ctx>, plan: BoxStream<'static, Planned>, cancel: &Cancel) -> Summary {
    let start = Instant::now();
    let mut summary = Summary::default();
    let max_jobs = ctx.concurrency.saturating_mul(2);
    let mut plan = plan;
    let mut set: JoinSet<Ended> = JoinSet::new();
    let mut exhausted = false;
    let (mut objects, mut bytes) = (0u64, 0u64);
    let count = |summary: &mut Summary, joined: Result<Ended, tokio::task::JoinError>| match joined {
        Ok(Ended::Done(n)) => {
            summary.done += 1;
            summary.bytes = summary.bytes.saturating_add(n);
        }
        Ok(Ended::Skipped) => summary.skipped += 1,
        Ok(Ended::Failed) => summary.failed += 1,
        Err(e) if e.is_cancelled() => {}
        Err(_) => summary.failed += 1,
    };
    while !(exhausted && set.is_empty()) {
        tokio::select! {
            biased;
            _ = cancel.cancelled() => {
                summary.interrupted = true;
                break;
            }
            Some(joined) = set.join_next(), if !set.is_empty() => count(&mut summary, joined),
            next = plan.next(), if !exhausted && set.len() < max_jobs => match next {
                None => {
                    exhausted = true;
                    ctx.emit(&Event::Listed { objects, bytes });
                }
                Some(Planned::Job(job, size)) => {
                    objects += 1;
                    // Sizes come from the listing: a hostile one cannot overflow the total.
                    bytes = bytes.saturating_add(size);
                    set.spawn(run_job(ctx.clone(), job));
                }
                Some(Planned::Skip { src, reason }) => {
                    summary.skipped += 1;
                    let reason = reason.at(src.clone());
                    ctx.emit(&Event::Skipped { src, reason });
                }
                Some(Planned::Fail { action, src, reason }) => {
                    summary.failed += 1;
                    let error = reason.at(src.clone());
                    ctx.emit(&Event::Failed { action, src, dst: None, error });
                }
            },
        }
    }
    if summary.interrupted {
        // Dropping the jobs runs their guards: temporary files go, multipart uploads are
        // handed over to be aborted below.
        set.abort_all();
        while let Some(joined) = set.join_next().await {
            count(&mut summary, joined);
        }
    }
    // A CreateMultipartUpload still on its way may yet add an orphan.
    let creating = ctx.creating.lock().map(|mut c| std::mem::take(&mut *c)).unwrap_or_default();
    for task in creating {
        let _ = task.await;
    }
    let orphans = ctx.orphans.lock().map(|mut o| std::mem::take(&mut *o)).unwrap_or_default();
    let aborts = orphans.iter().map(|(b, k, id)| ctx.abort(b, k, id));
    futures_util::future::join_all(aborts).await;
    summary.left_behind = ctx.left_behind.lock().map(|mut l| std::mem::take(&mut *l)).unwrap_or_default();
    let [by_checksum, by_md5, unverified] = &ctx.verified;
    let load = |a: &std::sync::atomic::AtomicU64| a.load(std::sync::atomic::Ordering::Relaxed);
    summary.verified = load(by_checksum) + load(by_md5);
    summary.verified_by_checksum = load(by_checksum);
    summary.unverified = load(unverified);
    summary.elapsed = start.elapsed();
    summary
}
