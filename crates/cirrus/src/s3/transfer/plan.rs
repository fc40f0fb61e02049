//! Planning: what a copy's source and destination mean (a file, a directory walked, a prefix
//! listed page by page) turned into a stream of jobs for the executor.

use super::ctx::{Ctx, Limits};
use super::run::{dry_run, execute, DownloadTo, Job, Planned};
use super::walk::{walk, Found};
use super::{Action, Cancel, Event, Filters, Glob, Location, Summary, TransferOptions};
use crate::s3::{folder_key, is_folder_key, ListOptions, Object, S3Client};
use crate::transport::Error;
use futures_util::stream::{self, BoxStream, StreamExt};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

/// Runs transfers with one client: every transfer it starts shares the client's connection
/// pool, and is held to the client's [`S3Settings`](crate::s3::S3Settings): multipart
/// threshold and part size, and a budget of requests in flight
/// ([`concurrency`](crate::s3::S3Settings::concurrency)) and object data in memory
/// ([`memory_budget`](crate::s3::S3Settings::memory_budget)) that the transfers it (or a
/// clone of it) runs at once share: ten copies started together stay within one budget.
#[derive(Clone, Debug)]
pub struct Transfers {
    client: S3Client,
    limits: Limits,
}

/// The last segment of a key, as the file or key name a single transfer into a folder keeps.
fn base_name(key: &str) -> &str {
    key.rsplit('/').next().unwrap_or(key)
}

pub(crate) fn input(msg: impl Into<String>) -> Error {
    S3Client::input_error("Transfer", msg)
}

impl Transfers {
    /// Transfers with `client`'s settings and connection pool.
    pub fn new(client: S3Client) -> Self {
        let limits = Limits::new(client.settings());
        Transfers { client, limits }
    }

    /// Transfers with another client (one with SSE-C keys, say) on the same budget of
    /// requests and memory as these.
    pub fn with_client(&self, client: S3Client) -> Self {
        Transfers { client, limits: self.limits.clone() }
    }

    pub(crate) fn limits(&self) -> &Limits {
        &self.limits
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
        let engine = self.for_version(src, options)?;
        let plan = engine.plan(src, dst, options).await?;
        if options.dryrun {
            let no_overwrite = options.no_overwrite.then_some(&engine.client);
            return Ok(dry_run(plan, &observer, false, no_overwrite).await);
        }
        let resume = options.resume.clone();
        let put = options.put_for_run();
        let ctx = Ctx::with_move(engine.client.clone(), &engine.limits, put, Box::new(observer), false, resume);
        Ok(execute(ctx, plan, cancel).await)
    }

    /// Like [`copy`](Self::copy), then each source (a file, or an object) is removed once its
    /// copy is complete and confirmed: what fails, or is skipped, or is not reached before an
    /// interrupt, stays where it was. Events say `move`. Moving an object onto itself is
    /// refused.
    ///
    /// ```no_run
    /// # async fn example(s3: cirrus::s3::S3Client) -> Result<(), Box<dyn std::error::Error>> {
    /// use cirrus::s3::transfer::{Cancel, Location, TransferOptions, Transfers};
    ///
    /// // `aws s3 mv --recursive ./outbox s3://my-bucket/inbox/`
    /// let (src, dst) = (Location::parse("./outbox")?, Location::parse("s3://my-bucket/inbox/")?);
    /// let transfers = Transfers::new(s3);
    /// let summary = transfers.mv(&src, &dst, &TransferOptions::recursive(), |e| println!("{e}"), &Cancel::new()).await?;
    /// assert!(summary.is_complete());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn mv(
        &self,
        src: &Location,
        dst: &Location,
        options: &TransferOptions,
        observer: impl Fn(&Event) + Send + Sync + 'static,
        cancel: &Cancel,
    ) -> Result<Summary, Error> {
        let single = source_glob(src, options).is_none() && !options.recursive;
        if let (Location::S3 { bucket: b1, key: k1 }, Location::S3 { bucket: b2, key: k2 }) =
            (&literal(src, options), dst)
        {
            let k2 = if is_folder_key(k2) { format!("{k2}{}", base_name(k1)) } else { k2.clone() };
            if single && b1 == b2 && *k1 == k2 {
                return Err(input(format!("cannot move {src} onto itself")));
            }
        }
        no_version(options, "moved")?;
        let plan = self.plan(src, dst, options).await?;
        if options.dryrun {
            let no_overwrite = options.no_overwrite.then_some(&self.client);
            return Ok(dry_run(plan, &observer, true, no_overwrite).await);
        }
        let resume = options.resume.clone();
        let ctx =
            Ctx::with_move(self.client.clone(), &self.limits, options.put_for_run(), Box::new(observer), true, resume);
        Ok(execute(ctx, plan, cancel).await)
    }

    /// These transfers, reading the one S3 object `src` names at the options' version, if
    /// they name one.
    fn for_version(&self, src: &Location, options: &TransferOptions) -> Result<Transfers, Error> {
        let Some(v) = options.version_id.as_deref() else { return Ok(self.clone()) };
        match src {
            _ if v.is_empty() => Err(input("the version id is empty")),
            _ if options.recursive => Err(input("a version id names one object's version: not with a recursive copy")),
            Location::S3 { bucket, key } if !is_folder_key(key) => {
                Ok(self.with_client(self.client.pinned_to(bucket, key, v)))
            }
            _ => Err(input(format!("a version id is for one object in S3; {src} is not one"))),
        }
    }

    async fn plan(
        &self,
        src: &Location,
        dst: &Location,
        options: &TransferOptions,
    ) -> Result<BoxStream<'static, Planned>, Error> {
        if let Some((bucket, glob)) = source_glob(src, options) {
            crate::s3::check_bucket("ListObjectsV2", &bucket)?;
            let listed = Listed::glob(bucket, glob);
            return match dst {
                Location::Local(path) => self.download_tree(&listed, path, options).await,
                Location::S3 { .. } => self.copy_tree(&listed, src, dst, options).await,
            };
        }
        let src = &literal(src, options);
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
                    let (root, prefix) = (path.clone(), folder_key(key));
                    Ok(upload_tree(root, bucket.clone(), prefix, options.follow_symlinks, options.filters.clone()))
                } else {
                    upload_one(path, &meta, bucket, key, options)
                }
            }
            (Location::S3 { bucket, key }, Location::Local(path)) => {
                crate::s3::check_bucket("GetObject", bucket)?;
                if options.recursive {
                    self.download_tree(&Listed::folder(bucket, key), path, options).await
                } else {
                    download_one(src, bucket, key, path, options).await
                }
            }
            (Location::S3 { bucket: from_bucket, key: from_key }, Location::S3 { bucket, key }) => {
                crate::s3::check_bucket("CopyObject", from_bucket)?;
                crate::s3::check_bucket("CopyObject", bucket)?;
                if options.recursive {
                    self.copy_tree(&Listed::folder(from_bucket, from_key), src, dst, options).await
                } else {
                    copy_one(src, (from_bucket, from_key), (bucket, key), options)
                }
            }
            (Location::Local(_), Location::Local(_)) => Err(input("one of the source and destination must be in S3")),
        }
    }

    /// Every key `src` lists (under a folder, or matching a pattern), as downloads under
    /// `path` (made first), less the keys that name one local file.
    async fn download_tree(
        &self,
        src: &Listed,
        path: &std::path::Path,
        options: &TransferOptions,
    ) -> Result<BoxStream<'static, Planned>, Error> {
        let objects = if !options.dryrun && tokio::fs::metadata(path).await.is_err() {
            self.listed_into_new_folder(&src.bucket, &src.prefix, path).await?
        } else {
            async_stream_list(self.client.clone(), src.bucket.clone(), src.prefix.clone())
        };
        let (root, b) = (path.to_path_buf(), src.bucket.clone());
        let filters = options.filters.clone();
        let to = move |rel: String| DownloadTo::Under { root: root.clone(), rel };
        let p = path.to_path_buf();
        let fold_case = tokio::task::spawn_blocking(move || super::collide::ignores_case(&p)).await.unwrap_or(false);
        let names = src.clone();
        let jobs = jobs_of(Action::Download, Location::s3(&src.bucket, &src.prefix), objects, None, move |o| {
            // A folder marker (`dir/`) is a directory, made by the keys under it.
            if o.is_folder_marker() {
                return None;
            }
            let rel = names.name(&o.key)?.to_owned();
            if !filters.accepts(&rel) {
                return None;
            }
            Some(Job::Download { bucket: b.clone(), key: o.key.clone(), to: to(rel), object: Some(o) })
        });
        Ok(src.unless_empty(super::collide::without_collisions(jobs, fold_case), Action::Download))
    }

    /// Every key `from` lists (under a folder, or matching a pattern), as copies under the
    /// destination folder; refused when the two are one folder, or when a copy would land on
    /// a source.
    async fn copy_tree(
        &self,
        from: &Listed,
        src: &Location,
        dst: &Location,
        options: &TransferOptions,
    ) -> Result<BoxStream<'static, Planned>, Error> {
        let Location::S3 { bucket, key } = dst else {
            return Err(input("a copy is from S3 to S3"));
        };
        let (from_bucket, from_prefix, to_prefix) = (&from.bucket, &from.base, folder_key(key));
        if from_bucket == bucket && *from_prefix == to_prefix {
            return Err(input(format!("{src} and {dst} are the same folder")));
        }
        if from_bucket == bucket && from_prefix.starts_with(&to_prefix) {
            self.refuse_overwriting_sources(src, dst, bucket, from_prefix, &to_prefix).await?;
        }
        // The destination inside the source: what is under it is the copy's own output (or
        // will be), never copied again.
        let exclude = (from_bucket == bucket && to_prefix.starts_with(from_prefix.as_str())).then(|| to_prefix.clone());
        let (fb, b) = (from_bucket.clone(), bucket.clone());
        let names = from.clone();
        let filters = options.filters.clone();
        let jobs = self.list_jobs(Action::Copy, from_bucket, &from.prefix, exclude, move |o| {
            // Folder markers are not copied, as the AWS CLI leaves them.
            if o.is_folder_marker() {
                return None;
            }
            let rel = names.name(&o.key)?;
            if !filters.accepts(rel) {
                return None;
            }
            Some(Job::Copy {
                from_bucket: fb.clone(),
                from_key: o.key.clone(),
                bucket: b.clone(),
                key: format!("{to_prefix}{rel}"),
                object: Some(o),
            })
        });
        Ok(from.unless_empty(jobs, Action::Copy))
    }

    /// A download into a folder not made yet: the listing of the source begun, and the folder
    /// made once its first answer says that the source can be read (nothing is left behind
    /// when it cannot).
    pub(super) async fn listed_into_new_folder(
        &self,
        bucket: &str,
        prefix: &str,
        path: &std::path::Path,
    ) -> Result<BoxStream<'static, Result<Object, Error>>, Error> {
        let mut objects = async_stream_list(self.client.clone(), bucket.to_owned(), prefix.to_owned());
        let first = objects.next().await;
        if let Some(Err(e)) = first {
            return Err(e);
        }
        tokio::fs::create_dir_all(path).await.map_err(|e| input(format!("cannot create {}: {e}", path.display())))?;
        Ok(stream::iter(first).chain(objects).boxed())
    }

    /// The source inside the destination (`s3://b/a/sub/` into `s3://b/a/`): `a/sub/sub/x`
    /// would be written over the source `a/sub/x`, maybe before that is read. Refused before
    /// anything is sent when the source holds any such key (one listing request tells).
    async fn refuse_overwriting_sources(
        &self,
        src: &Location,
        dst: &Location,
        bucket: &str,
        from_prefix: &str,
        to_prefix: &str,
    ) -> Result<(), Error> {
        // `from_prefix` is `to_prefix` followed by `d`: a key under `from_prefix` + `d` lands back
        // under `from_prefix`.
        let inner = format!("{from_prefix}{}", &from_prefix[to_prefix.len()..]);
        let options = ListOptions::prefix(inner.clone()).with_page_size(1);
        let first = Box::pin(self.client.list_pages(bucket, options)).next().await;
        match first {
            Some(Ok(page)) if page.objects.is_empty() => Ok(()),
            None => Ok(()),
            Some(Ok(page)) => {
                let key = &page.objects[0].key;
                Err(input(format!(
                    "{src} lies inside {dst}: the copy of s3://{bucket}/{key} would be written over the source \
                     s3://{bucket}/{from_prefix}{}, maybe before it is read; nothing was copied (copy to a folder \
                     outside the source instead)",
                    key.get(inner.len()..).unwrap_or_default(),
                )))
            }
            Some(Err(e)) => Err(e),
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
        let objects = async_stream_list(self.client.clone(), bucket.to_owned(), prefix.to_owned());
        jobs_of(action, src, objects, exclude, job)
    }
}

/// [`Transfers::list_jobs`] of a listing already under way.
fn jobs_of(
    action: Action,
    src: Location,
    objects: BoxStream<'static, Result<Object, Error>>,
    exclude: Option<String>,
    job: impl Fn(Object) -> Option<Job> + Send + 'static,
) -> BoxStream<'static, Planned> {
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
                Err(e) => {
                    let reason = super::Error::call("listing stopped", e);
                    Some(Planned::Fail { action, src: src.clone(), reason })
                }
            };
            std::future::ready(planned)
        })
        .boxed()
}

/// The pattern in an S3 source, when the options read wildcards and it holds one.
pub(super) fn source_glob(src: &Location, options: &TransferOptions) -> Option<(String, Glob)> {
    match src {
        Location::S3 { bucket, key } if options.glob => Some((bucket.clone(), Glob::new(key)?)),
        _ => None,
    }
}

/// The source as the key it names: with wildcards read, a key with none left has its escapes
/// taken away (`a\*b` is the key `a*b`).
pub(super) fn literal(src: &Location, options: &TransferOptions) -> Location {
    match src {
        Location::S3 { bucket, key } if options.glob => Location::s3(bucket, Glob::unescape(key)),
        other => other.clone(),
    }
}

/// What a transfer of many objects lists, and the names it gives them: every key under a
/// folder, or the keys that match a pattern (listed under its literal prefix).
#[derive(Clone)]
pub(super) struct Listed {
    pub(super) bucket: String,
    /// Listed: the folder, or the pattern's literal prefix.
    pub(super) prefix: String,
    /// What names are relative to: the folder, or the folder holding the pattern's prefix.
    pub(super) base: String,
    glob: Option<Glob>,
    /// Keys the pattern matched so far (none at the end is a failure).
    matched: Arc<AtomicU64>,
}

impl Listed {
    pub(super) fn folder(bucket: &str, key: &str) -> Listed {
        let prefix = folder_key(key);
        Listed { bucket: bucket.to_owned(), base: prefix.clone(), prefix, glob: None, matched: Arc::default() }
    }

    pub(super) fn glob(bucket: String, glob: Glob) -> Listed {
        let (prefix, base) = (glob.prefix().to_owned(), glob.base().to_owned());
        Listed { bucket, prefix, base, glob: Some(glob), matched: Arc::default() }
    }

    /// The name of a listed key (relative to the base), or `None` when the pattern does not
    /// match it.
    pub(super) fn name<'k>(&self, key: &'k str) -> Option<&'k str> {
        if let Some(g) = &self.glob {
            if !g.matches(key) {
                return None;
            }
            self.matched.fetch_add(1, Ordering::Relaxed);
        }
        Some(key.strip_prefix(&self.base).unwrap_or(key))
    }

    /// For a pattern that matched no key: where, and the failure that says nothing matched.
    pub(super) fn nothing_matched(&self) -> Option<(Location, super::Error)> {
        let glob = self.glob.as_ref().filter(|_| self.matched.load(Ordering::Relaxed) == 0)?;
        let listed = Location::s3(&self.bucket, &self.prefix);
        let why = format!("nothing matched: no key listed under {listed} matches {}", glob.as_str());
        Some((Location::s3(&self.bucket, glob.as_str()), super::Error::new(super::ErrorKind::NotFound, why)))
    }

    /// `jobs`, then, for a pattern whose listing ended whole with no key matched, a failure
    /// that says nothing matched.
    pub(super) fn unless_empty(
        &self,
        jobs: BoxStream<'static, Planned>,
        action: Action,
    ) -> BoxStream<'static, Planned> {
        if self.glob.is_none() {
            return jobs;
        }
        let (listed, failed) = (self.clone(), Arc::new(AtomicBool::new(false)));
        let seen = failed.clone();
        let end = stream::once(async move {
            let (src, reason) = listed.nothing_matched().filter(|_| !failed.load(Ordering::Relaxed))?;
            Some(Planned::Fail { action, src, reason })
        })
        .filter_map(std::future::ready);
        jobs.inspect(move |p| {
            if matches!(p, Planned::Fail { .. }) {
                seen.store(true, Ordering::Relaxed);
            }
        })
        .chain(end)
        .boxed()
    }
}

/// One file to a key (the file's name after a key that names a folder).
fn upload_one(
    path: &std::path::Path,
    meta: &std::fs::Metadata,
    bucket: &str,
    key: &str,
    options: &TransferOptions,
) -> Result<BoxStream<'static, Planned>, Error> {
    if !meta.is_file() {
        let what = if meta.is_dir() { "a directory (use --recursive)" } else { "a FIFO, socket or device, not a file" };
        return Err(input(format!("{} is {what}", path.display())));
    }
    let name = path.file_name().and_then(|n| n.to_str());
    if !options.filters.accepts(name.unwrap_or_default()) {
        return Ok(stream::empty().boxed());
    }
    let key = if is_folder_key(key) {
        let name =
            name.ok_or_else(|| input(format!("{}: the file name is not UTF-8; name the key", path.display())))?;
        format!("{key}{name}")
    } else {
        key.to_owned()
    };
    let job = Job::Upload {
        path: path.to_path_buf(),
        src: Location::Local(path.to_path_buf()),
        bucket: bucket.to_owned(),
        key,
        // The path the user named: its own choice, as given.
        linked: false,
    };
    Ok(stream::iter([Planned::Job(job, meta.len())]).boxed())
}

/// One key to a file: `path` itself, or the key's name inside `path` when it is a folder (the
/// folders on the way made, as the AWS CLI makes them).
async fn download_one(
    src: &Location,
    bucket: &str,
    key: &str,
    path: &std::path::Path,
    options: &TransferOptions,
) -> Result<BoxStream<'static, Planned>, Error> {
    if is_folder_key(key) {
        return Err(input(format!("{src} names no object (use --recursive for a folder)")));
    }
    let name = base_name(key);
    if !options.filters.accepts(name) {
        return Ok(stream::empty().boxed());
    }
    let into_dir = path.as_os_str().to_string_lossy().ends_with('/') || path.is_dir();
    if into_dir && (name == "." || name == "..") {
        return Err(input(format!("{src}: {name:?} cannot be a file name; name the file")));
    }
    let parent = if into_dir { Some(path) } else { path.parent() };
    if let Some(dir) = parent.filter(|d| !d.as_os_str().is_empty() && !options.dryrun) {
        tokio::fs::create_dir_all(dir).await.map_err(|e| input(format!("cannot create {}: {e}", dir.display())))?;
    }
    // Into a folder, the name comes from the key: held to the rules of keys (no symlink, FIFO
    // or device at it). A path the user named is their choice.
    let to = if into_dir {
        DownloadTo::Under { root: path.to_path_buf(), rel: name.to_owned() }
    } else {
        DownloadTo::Path(path.to_path_buf())
    };
    let job = Job::Download { bucket: bucket.to_owned(), key: key.to_owned(), object: None, to };
    Ok(stream::iter([Planned::Job(job, 0)]).boxed())
}

/// One object to a key (the source's name after a key that names a folder).
fn copy_one(
    src: &Location,
    (from_bucket, from_key): (&str, &str),
    (bucket, key): (&str, &str),
    options: &TransferOptions,
) -> Result<BoxStream<'static, Planned>, Error> {
    if is_folder_key(from_key) {
        return Err(input(format!("{src} names no object (use --recursive for a folder)")));
    }
    if !options.filters.accepts(base_name(from_key)) {
        return Ok(stream::empty().boxed());
    }
    let key = if is_folder_key(key) { format!("{key}{}", base_name(from_key)) } else { key.to_owned() };
    let job = Job::Copy {
        from_bucket: from_bucket.to_owned(),
        from_key: from_key.to_owned(),
        object: None,
        bucket: bucket.to_owned(),
        key,
    };
    Ok(stream::iter([Planned::Job(job, 0)]).boxed())
}

/// Refuses a version id where the operation has no use for one.
pub(super) fn no_version(options: &TransferOptions, what: &str) -> Result<(), Error> {
    match &options.version_id {
        Some(_) => Err(input(format!("a version id is for copies; objects are not {what} by version here"))),
        None => Ok(()),
    }
}

/// Every object under `prefix`, in key order: the first page, then the rest of the tree in
/// parallel key ranges when there is more ([`S3Client::list_tree`]).
fn async_stream_list(client: S3Client, bucket: String, prefix: String) -> BoxStream<'static, Result<Object, Error>> {
    client.list_tree(&bucket, &prefix).boxed()
}

/// Every file under `root`, as upload jobs to `prefix`.
fn upload_tree(
    root: PathBuf,
    bucket: String,
    prefix: String,
    follow: bool,
    filters: Filters,
) -> BoxStream<'static, Planned> {
    let rx = walk(root, follow);
    stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|f| (f, rx)) })
        .filter_map(move |found| {
            let planned = match found {
                Found::File { rel, .. } if !filters.accepts(&rel) => None,
                Found::File { path, rel, size, linked, .. } => {
                    let job = Job::Upload {
                        src: Location::Local(path.clone()),
                        path,
                        bucket: bucket.clone(),
                        key: format!("{prefix}{rel}"),
                        linked,
                    };
                    Some(Planned::Job(job, size))
                }
                Found::Unseen { reason: None, .. } => None,
                Found::Unseen { path, reason: Some(reason), .. } | Found::Skip { path, reason } => {
                    Some(Planned::Skip { src: Location::Local(path), reason })
                }
            };
            std::future::ready(planned)
        })
        .boxed()
}
