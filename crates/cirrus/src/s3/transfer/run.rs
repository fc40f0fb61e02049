//! The executor: jobs from a planned source run with bounded requests and memory, events as
//! they finish, a summary at the end, and clean-up on interrupt.

use super::local::target_at;
use super::walk::{walk, Found};
use super::{Action, Cancel, Event, LeftBehind, Location, Summary, TransferOptions};
use crate::s3::{ListOptions, Object, PutOptions, S3Client};
use crate::transport::Error;
use futures_util::stream::{self, BoxStream, StreamExt};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

/// Runs transfers with one client: every transfer it starts shares the client's connection
/// pool, and each is held to the client's [`S3Settings`](crate::s3::S3Settings): requests in
/// flight ([`concurrency`](crate::s3::S3Settings::concurrency)), object data in memory
/// ([`memory_budget`](crate::s3::S3Settings::memory_budget)), multipart threshold and part size.
#[derive(Clone, Debug)]
pub struct Transfers {
    client: S3Client,
}

/// What a job needs from the run it belongs to.
pub(crate) struct Ctx {
    pub(crate) client: S3Client,
    requests: Arc<Semaphore>,
    memory: Arc<Semaphore>,
    /// The memory budget in KiB (the semaphore's permits).
    memory_kib: u32,
    observer: Box<dyn Fn(&Event) + Send + Sync>,
    /// Multipart uploads whose job was dropped mid-way (an interrupt): aborted at the end.
    orphans: Mutex<Vec<(String, String, String)>>,
    /// Aborts that failed.
    left_behind: Mutex<Vec<LeftBehind>>,
    pub(crate) put: PutOptions,
}

impl Ctx {
    pub(crate) fn new(client: S3Client, put: PutOptions, observer: Box<dyn Fn(&Event) + Send + Sync>) -> Arc<Ctx> {
        let settings = client.settings();
        let memory_kib = u32::try_from(settings.memory_budget.div_ceil(1024)).unwrap_or(u32::MAX >> 4).max(1);
        Arc::new(Ctx {
            requests: Arc::new(Semaphore::new(settings.concurrency.clamp(1, 100_000))),
            memory: Arc::new(Semaphore::new(memory_kib as usize)),
            memory_kib,
            client,
            observer,
            orphans: Mutex::new(Vec::new()),
            left_behind: Mutex::new(Vec::new()),
            put,
        })
    }

    /// A slot for one request in flight.
    pub(crate) async fn request_slot(&self) -> Result<OwnedSemaphorePermit, String> {
        self.requests.clone().acquire_owned().await.map_err(|_| "the transfer is stopping".to_owned())
    }

    /// Room for `bytes` of object data (the whole budget at most, so one oversized part can
    /// still go, alone). Take the request slot first: every holder of memory also holds a
    /// slot, so the two never wait on each other in a cycle.
    pub(crate) async fn memory(&self, bytes: u64) -> Result<OwnedSemaphorePermit, String> {
        let kib = u32::try_from(bytes.div_ceil(1024)).unwrap_or(u32::MAX).clamp(1, self.memory_kib);
        self.memory.clone().acquire_many_owned(kib).await.map_err(|_| "the transfer is stopping".to_owned())
    }

    pub(crate) fn emit(&self, event: &Event) {
        (self.observer)(event);
    }

    pub(crate) fn progress(&self, bytes: u64) {
        if bytes > 0 {
            self.emit(&Event::Bytes(bytes));
        }
    }

    /// Aborts a multipart upload now, recording it if the abort fails; returns the failure.
    pub(crate) async fn abort(&self, bucket: &str, key: &str, upload_id: &str) -> Option<String> {
        match self.client.abort_multipart_upload(bucket, key, upload_id).await {
            Ok(()) => None,
            // Gone already: completed after all (an interrupt during CompleteMultipartUpload)
            // or aborted by someone else. Nothing is left to pay for.
            Err(e) if e.code() == Some("NoSuchUpload") => None,
            Err(e) => {
                let left = LeftBehind {
                    bucket: bucket.to_owned(),
                    key: key.to_owned(),
                    upload_id: upload_id.to_owned(),
                    reason: e.to_string(),
                };
                let msg = left.to_string();
                if let Ok(mut l) = self.left_behind.lock() {
                    l.push(left);
                }
                Some(msg)
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

    /// Failed: abort now; the reason, with the abort's failure if it failed too.
    pub(crate) async fn abort(mut self, reason: String) -> String {
        let Some((b, k, id)) = self.upload.clone() else { return reason };
        // Still armed while the abort is awaited: dropped mid-way, the run aborts it again.
        let failed = self.ctx.abort(&b, &k, &id).await;
        self.upload = None;
        match failed {
            None => reason,
            Some(e) => format!("{reason}; {e}"),
        }
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
    Skipped(String),
    Failed(String),
}

/// One object to move.
pub(crate) enum Job {
    Upload { path: PathBuf, src: Location, bucket: String, key: String },
    Download { bucket: String, key: String, object: Option<Object>, to: DownloadTo },
    Copy { from_bucket: String, from_key: String, object: Option<Object>, bucket: String, key: String },
}

/// Where a download goes.
pub(crate) enum DownloadTo {
    /// A key of a recursive download: `rel` under `root`, checked for escapes.
    Under { root: PathBuf, rel: String },
    /// A path the user named.
    Path(PathBuf),
}

impl DownloadTo {
    fn display(&self) -> PathBuf {
        match self {
            DownloadTo::Under { root, rel } => root.join(rel.trim_start_matches('/')),
            DownloadTo::Path(p) => p.clone(),
        }
    }
}

/// What a planned source yields.
pub(crate) enum Planned {
    Job(Job, u64),
    Skip { src: Location, reason: String },
    Fail { action: Action, src: Location, reason: String },
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
        }
    }
}

async fn run_job(ctx: Arc<Ctx>, job: Job) -> Outcome {
    let (action, src, dst) = job.describe();
    let outcome = match job {
        Job::Upload { path, bucket, key, .. } => super::upload::upload_file(&ctx, &path, &bucket, &key).await,
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
                Err(e) => Outcome::Failed(format!("internal error: {e}")),
            }
        }
        Job::Copy { from_bucket, from_key, object, bucket, key } => {
            super::copy::copy_object(&ctx, &from_bucket, &from_key, object.as_ref(), &bucket, &key).await
        }
    };
    match &outcome {
        Outcome::Done(bytes) => ctx.emit(&Event::Done { action, src, dst, bytes: *bytes }),
        Outcome::Skipped(reason) => ctx.emit(&Event::Skipped { src, reason: reason.clone() }),
        Outcome::Failed(reason) => ctx.emit(&Event::Failed { action, src, dst, reason: reason.clone() }),
    }
    outcome
}

/// `data` -> `data/`: a recursive path names a folder. `""` stays the whole bucket.
pub(crate) fn folder(key: &str) -> String {
    if key.is_empty() || key.ends_with('/') {
        key.to_owned()
    } else {
        format!("{key}/")
    }
}

/// The last segment of a key, as the file or key name a single transfer into a folder keeps.
fn base_name(key: &str) -> &str {
    key.rsplit('/').next().unwrap_or(key)
}

fn input(msg: impl Into<String>) -> Error {
    S3Client::input_error("Transfer", msg)
}

impl Transfers {
    /// Transfers with `client`'s settings and connection pool.
    pub fn new(client: S3Client) -> Self {
        Transfers { client }
    }

    /// The client.
    pub fn client(&self) -> &S3Client {
        &self.client
    }

    /// Copies `src` to `dst`, as `aws s3 cp` does: a local path to S3, S3 to a local path, or
    /// S3 to S3; one file or object, or with [`TransferOptions::recursive`] everything under
    /// a directory or prefix. A destination that ends in `/` (or, for downloads, is a
    /// directory) keeps the source's name. `observer` hears of every object as it ends; the
    /// summary comes at the end. An error means nothing could start (bad input, a missing
    /// source); failures of single objects are in the summary.
    ///
    /// A recursive S3 -> S3 copy whose destination lies inside its source never copies what is
    /// already under the destination (its own output).
    pub async fn copy(
        &self,
        src: &Location,
        dst: &Location,
        options: &TransferOptions,
        observer: impl Fn(&Event) + Send + Sync + 'static,
        cancel: &Cancel,
    ) -> Result<Summary, Error> {
        let plan = self.plan(src, dst, options).await?;
        let mut put = options.put.clone();
        put.progress = None;
        let ctx = Ctx::new(self.client.clone(), put, Box::new(observer));
        Ok(execute(ctx, plan, cancel).await)
    }

    async fn plan(
        &self,
        src: &Location,
        dst: &Location,
        options: &TransferOptions,
    ) -> Result<BoxStream<'static, Planned>, Error> {
        match (src, dst) {
            (Location::Local(path), Location::S3 { bucket, key }) => {
                crate::s3::check_bucket("PutObject", bucket)?;
                let meta = tokio::fs::metadata(path)
                    .await
                    .map_err(|e| input(format!("cannot read {}: {e}", path.display())))?;
                if options.recursive {
                    if !meta.is_dir() {
                        return Err(input(format!("{} is not a directory", path.display())));
                    }
                    Ok(upload_tree(path.clone(), bucket.clone(), folder(key), options.follow_symlinks))
                } else {
                    if !meta.is_file() {
                        let what = if meta.is_dir() { "a directory (use --recursive)" } else { "not a file" };
                        return Err(input(format!("{} is {what}", path.display())));
                    }
                    let key = if key.is_empty() || key.ends_with('/') {
                        let name = path.file_name().and_then(|n| n.to_str()).ok_or_else(|| {
                            input(format!("{}: the file name is not UTF-8; name the key", path.display()))
                        })?;
                        format!("{key}{name}")
                    } else {
                        key.clone()
                    };
                    let job = Job::Upload {
                        path: path.clone(),
                        src: Location::Local(path.clone()),
                        bucket: bucket.clone(),
                        key,
                    };
                    Ok(stream::iter([Planned::Job(job, meta.len())]).boxed())
                }
            }
            (Location::S3 { bucket, key }, Location::Local(path)) => {
                crate::s3::check_bucket("GetObject", bucket)?;
                if options.recursive {
                    tokio::fs::create_dir_all(path)
                        .await
                        .map_err(|e| input(format!("cannot create {}: {e}", path.display())))?;
                    let prefix = folder(key);
                    let (root, b) = (path.clone(), bucket.clone());
                    let to = move |o: &Object| DownloadTo::Under {
                        root: root.clone(),
                        rel: o.key.strip_prefix(&prefix).unwrap_or(&o.key).to_owned(),
                    };
                    Ok(self.list_jobs(Action::Download, bucket, &folder(key), None, move |o| {
                        // A folder marker (`dir/`) is a directory, made by the keys under it.
                        if o.key.ends_with('/') && o.size == 0 {
                            return None;
                        }
                        Some(Job::Download { bucket: b.clone(), key: o.key.clone(), to: to(&o), object: Some(o) })
                    }))
                } else {
                    if key.is_empty() || key.ends_with('/') {
                        return Err(input(format!("{src} names no object (use --recursive for a folder)")));
                    }
                    let name = base_name(key);
                    let into_dir = path.as_os_str().to_string_lossy().ends_with('/') || path.is_dir();
                    let target = if into_dir {
                        if name == "." || name == ".." {
                            return Err(input(format!("{src}: {name:?} cannot be a file name; name the file")));
                        }
                        path.join(name)
                    } else {
                        path.clone()
                    };
                    // The folders on the way are made, as the AWS CLI makes them.
                    let parent = if into_dir { Some(path.as_path()) } else { target.parent() };
                    if let Some(dir) = parent.filter(|d| !d.as_os_str().is_empty()) {
                        tokio::fs::create_dir_all(dir)
                            .await
                            .map_err(|e| input(format!("cannot create {}: {e}", dir.display())))?;
                    }
                    let job = Job::Download {
                        bucket: bucket.clone(),
                        key: key.clone(),
                        object: None,
                        to: DownloadTo::Path(target),
                    };
                    Ok(stream::iter([Planned::Job(job, 0)]).boxed())
                }
            }
            (Location::S3 { bucket: from_bucket, key: from_key }, Location::S3 { bucket, key }) => {
                crate::s3::check_bucket("CopyObject", from_bucket)?;
                crate::s3::check_bucket("CopyObject", bucket)?;
                if options.recursive {
                    let (from_prefix, to_prefix) = (folder(from_key), folder(key));
                    if from_bucket == bucket && from_prefix == to_prefix {
                        return Err(input(format!("{src} and {dst} are the same folder")));
                    }
                    // The destination inside the source: what is under it is the copy's own
                    // output (or will be), never copied again.
                    let exclude =
                        (from_bucket == bucket && to_prefix.starts_with(&from_prefix)).then(|| to_prefix.clone());
                    let (fb, b) = (from_bucket.clone(), bucket.clone());
                    let fp = from_prefix.clone();
                    Ok(self.list_jobs(Action::Copy, from_bucket, &from_prefix, exclude, move |o| {
                        // Folder markers are not copied, as the AWS CLI leaves them.
                        if o.key.ends_with('/') && o.size == 0 {
                            return None;
                        }
                        let rel = o.key.strip_prefix(&fp).unwrap_or(&o.key);
                        Some(Job::Copy {
                            from_bucket: fb.clone(),
                            from_key: o.key.clone(),
                            bucket: b.clone(),
                            key: format!("{to_prefix}{rel}"),
                            object: Some(o),
                        })
                    }))
                } else {
                    if from_key.is_empty() || from_key.ends_with('/') {
                        return Err(input(format!("{src} names no object (use --recursive for a folder)")));
                    }
                    let key = if key.is_empty() || key.ends_with('/') {
                        format!("{key}{}", base_name(from_key))
                    } else {
                        key.clone()
                    };
                    let job = Job::Copy {
                        from_bucket: from_bucket.clone(),
                        from_key: from_key.clone(),
                        object: None,
                        bucket: bucket.clone(),
                        key,
                    };
                    Ok(stream::iter([Planned::Job(job, 0)]).boxed())
                }
            }
            (Location::Local(_), Location::Local(_)) => Err(input("one of the source and destination must be in S3")),
        }
    }

    /// The objects under `prefix` (page by page, as listed) turned into jobs; keys under
    /// `exclude` left out; a listing error ends the plan with a failure.
    fn list_jobs(
        &self,
        action: Action,
        bucket: &str,
        prefix: &str,
        exclude: Option<String>,
        job: impl Fn(Object) -> Option<Job> + Send + 'static,
    ) -> BoxStream<'static, Planned> {
        let src = Location::s3(bucket, prefix);
        let client = self.client.clone();
        let (bucket, prefix) = (bucket.to_owned(), prefix.to_owned());
        let objects = async_stream_list(client, bucket, prefix);
        objects
            .filter_map(move |o| {
                let planned = match o {
                    Ok(o) => {
                        if exclude.as_deref().is_some_and(|x| o.key.starts_with(x)) {
                            None
                        } else {
                            let size = o.size;
                            job(o).map(|j| Planned::Job(j, size))
                        }
                    }
                    Err(e) => Some(Planned::Fail { action, src: src.clone(), reason: format!("listing stopped: {e}") }),
                };
                std::future::ready(planned)
            })
            .boxed()
    }

    /// Deletes `target`: one key, or with `recursive` every key under the folder it names
    /// (`data` means `data/`), page by page with DeleteObjects. Keys S3 refuses are reported
    /// and the rest go on.
    pub async fn remove(
        &self,
        target: &Location,
        recursive: bool,
        observer: impl Fn(&Event) + Send + Sync + 'static,
        cancel: &Cancel,
    ) -> Result<Summary, Error> {
        let Location::S3 { bucket, key } = target else {
            return Err(input(format!("{target} is not in S3")));
        };
        crate::s3::check_bucket("DeleteObject", bucket)?;
        let start = Instant::now();
        let mut summary = Summary::default();
        if !recursive {
            if key.is_empty() {
                return Err(input(format!("{target} names no object (use --recursive for a folder)")));
            }
            // `dir/` without --recursive is the folder marker object itself, as in the AWS CLI.
            match self.client.delete(bucket, key).await {
                Ok(()) => {
                    summary.done = 1;
                    observer(&Event::Done { action: Action::Delete, src: target.clone(), dst: None, bytes: 0 });
                }
                Err(e) => {
                    summary.failed = 1;
                    observer(&Event::Failed {
                        action: Action::Delete,
                        src: target.clone(),
                        dst: None,
                        reason: e.to_string(),
                    });
                }
            }
            summary.elapsed = start.elapsed();
            return Ok(summary);
        }
        let prefix = folder(key);
        let mut pages = Box::pin(self.client.list_pages(bucket, ListOptions::prefix(prefix.clone())));
        let observer = Arc::new(observer);
        let mut in_flight: JoinSet<(Vec<String>, Result<crate::s3::DeleteReport, Error>)> = JoinSet::new();
        let settle =
            |summary: &mut Summary, (keys, report): (Vec<String>, Result<crate::s3::DeleteReport, Error>)| match report
            {
                Ok(r) => {
                    let failed: std::collections::HashMap<&str, String> =
                        r.failed.iter().map(|f| (f.key.as_str(), format!("{}: {}", f.code, f.message))).collect();
                    for k in &keys {
                        let src = Location::s3(bucket, k);
                        match failed.get(k.as_str()) {
                            None => {
                                summary.done += 1;
                                observer(&Event::Done { action: Action::Delete, src, dst: None, bytes: 0 });
                            }
                            Some(reason) => {
                                summary.failed += 1;
                                observer(&Event::Failed {
                                    action: Action::Delete,
                                    src,
                                    dst: None,
                                    reason: reason.clone(),
                                });
                            }
                        }
                    }
                }
                Err(e) => {
                    for k in &keys {
                        summary.failed += 1;
                        let reason = e.to_string();
                        observer(&Event::Failed {
                            action: Action::Delete,
                            src: Location::s3(bucket, k),
                            dst: None,
                            reason,
                        });
                    }
                }
            };
        loop {
            if cancel.is_cancelled() {
                summary.interrupted = true;
                break;
            }
            let page = tokio::select! {
                biased;
                _ = cancel.cancelled() => { summary.interrupted = true; break; }
                p = pages.next() => p,
            };
            let Some(page) = page else { break };
            let page = match page {
                Ok(p) => p,
                Err(e) => {
                    summary.failed += 1;
                    observer(&Event::Failed {
                        action: Action::Delete,
                        src: Location::s3(bucket, &prefix),
                        dst: None,
                        reason: format!("listing stopped: {e}"),
                    });
                    break;
                }
            };
            let keys: Vec<String> =
                page.objects.into_iter().map(|o| o.key).filter(|k| k.starts_with(&prefix)).collect();
            if keys.is_empty() {
                continue;
            }
            while in_flight.len() >= 4 {
                match in_flight.join_next().await {
                    Some(Ok(done)) => settle(&mut summary, done),
                    Some(Err(_)) => summary.failed += 1,
                    None => {}
                }
            }
            let (client, b) = (self.client.clone(), bucket.clone());
            in_flight.spawn(async move {
                let r = client.delete_many(&b, &keys).await;
                (keys, r)
            });
        }
        // Batches already sent are waited for, even on interrupt: a DeleteObjects call is done
        // in one go and its report says what it removed.
        while let Some(done) = in_flight.join_next().await {
            match done {
                Ok(done) => settle(&mut summary, done),
                // A batch whose task died: its keys' fate is unknown, which is a failure.
                Err(_) => summary.failed += 1,
            }
        }
        summary.elapsed = start.elapsed();
        Ok(summary)
    }
}

/// Every object under `prefix`, page by page.
fn async_stream_list(client: S3Client, bucket: String, prefix: String) -> BoxStream<'static, Result<Object, Error>> {
    stream::once(async move { client.list(&bucket, ListOptions::prefix(prefix)).boxed() }).flatten().boxed()
}

/// Every file under `root`, as upload jobs to `prefix`.
fn upload_tree(root: PathBuf, bucket: String, prefix: String, follow: bool) -> BoxStream<'static, Planned> {
    let rx = walk(root, follow);
    stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|f| (f, rx)) })
        .map(move |found| match found {
            Found::File { path, rel, size } => {
                let job = Job::Upload {
                    src: Location::Local(path.clone()),
                    path,
                    bucket: bucket.clone(),
                    key: format!("{prefix}{rel}"),
                };
                Planned::Job(job, size)
            }
            Found::Skip { path, reason } => Planned::Skip { src: Location::Local(path), reason },
        })
        .boxed()
}

/// Runs the jobs of `plan`, at most twice as many objects at once as requests may be in
/// flight (so the next ones are ready when a slot frees), until the plan ends or `cancel`
/// fires; then aborts what an interrupt left behind.
pub(crate) async fn execute(ctx: Arc<Ctx>, plan: BoxStream<'static, Planned>, cancel: &Cancel) -> Summary {
    let start = Instant::now();
    let mut summary = Summary::default();
    let max_jobs = ctx.client.settings().concurrency.max(1).saturating_mul(2);
    let mut plan = plan;
    let mut set: JoinSet<Outcome> = JoinSet::new();
    let mut exhausted = false;
    let (mut objects, mut bytes) = (0u64, 0u64);
    let count = |summary: &mut Summary, joined: Result<Outcome, tokio::task::JoinError>| match joined {
        Ok(Outcome::Done(n)) => {
            summary.done += 1;
            summary.bytes += n;
        }
        Ok(Outcome::Skipped(_)) => summary.skipped += 1,
        Ok(Outcome::Failed(_)) => summary.failed += 1,
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
                    bytes += size;
                    set.spawn(run_job(ctx.clone(), job));
                }
                Some(Planned::Skip { src, reason }) => {
                    summary.skipped += 1;
                    ctx.emit(&Event::Skipped { src, reason });
                }
                Some(Planned::Fail { action, src, reason }) => {
                    summary.failed += 1;
                    ctx.emit(&Event::Failed { action, src, dst: None, reason });
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
    let orphans = ctx.orphans.lock().map(|mut o| std::mem::take(&mut *o)).unwrap_or_default();
    let aborts = orphans.iter().map(|(b, k, id)| ctx.abort(b, k, id));
    futures_util::future::join_all(aborts).await;
    summary.left_behind = ctx.left_behind.lock().map(|mut l| std::mem::take(&mut *l)).unwrap_or_default();
    summary.elapsed = start.elapsed();
    summary
}
