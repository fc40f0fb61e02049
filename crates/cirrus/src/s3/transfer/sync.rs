//! `sync`, as the AWS CLI decides it: both sides read as streams in the same key order (a
//! sorted directory walk, or one listing), compared side by side without a HEAD per object
//! and without holding either side in memory. A file or object is sent when it is missing at
//! the destination, its size differs, or its time says so:
//!
//! - upload and copy: the destination is older than the source;
//! - download: the local file is newer than the object (with `exact_timestamps`: any
//!   difference), since a download sets the file's time to the object's;
//! - `size_only`: sizes alone.
//!
//! With `delete`, what the destination has and the source lacks is removed, except what the
//! filters leave out. A listing that fails stops the plan there: nothing is deleted on a
//! partial view of the source. An S3 listing must come in key order; one that does not ends the
//! plan with an error, and with S3 as the source the deletions wait for the end of the
//! comparison (held as keys in memory), so a disorder found late deletes nothing. A download
//! that needs a directory where a local file is to be deleted (file `a`, keys under `a/`) is
//! held back too, and starts once the deletions have ended: one sync converges. So does a key
//! where the local side has a folder (key `a`, files under `a/`): its download waits for the
//! deletions, then replaces the folder if nothing but empty folders is left in it.

use super::ctx::Ctx;
use super::plan::input;
use super::run::{execute, DownloadTo, Job, Planned};
use super::walk::{walk, Found};
use super::{Action, Cancel, Error, ErrorKind, Event, Location, Summary, TransferOptions, Transfers};
use crate::s3::checksum::{file_digests, EtagForm};
use crate::s3::folder_key;
use crate::s3::{ChecksumAlgorithm, Object, S3Client};
use futures_util::stream::{self, BoxStream, StreamExt};
use std::path::PathBuf;
use std::time::SystemTime;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

/// How a sync decides and what it may do.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct SyncOptions {
    /// Filters, symlinks and the headers of objects written (`recursive` is implied).
    pub transfer: TransferOptions,
    /// Remove what the destination has and the source lacks (`--delete`).
    pub delete: bool,
    /// Compare sizes only (`--size-only`).
    pub size_only: bool,
    /// Downloads: send same-sized objects unless the times are exactly equal
    /// (`--exact-timestamps`).
    pub exact_timestamps: bool,
    /// Say what would be done, do nothing (`--dryrun`).
    pub dryrun: bool,
    /// Compare content, not times (`--checksum`): a file and an object of the same size are the
    /// same when the file's MD5 (or, for a multipart object, the MD5 of its parts' MD5s) is the
    /// object's ETag, or its CRC32, CRC32C, SHA-256 or CRC64NVME is the checksum stored with
    /// the object; two objects when their ETags are equal. Where the server keeps nothing to compare with
    /// (an encrypted object without a stored checksum), times decide as without it.
    pub checksum: bool,
}

impl SyncOptions {
    /// These options with `--delete` on or off.
    #[must_use]
    pub fn with_delete(mut self, on: bool) -> Self {
        self.delete = on;
        self
    }

    /// These options with `--dryrun` on or off.
    #[must_use]
    pub fn with_dryrun(mut self, on: bool) -> Self {
        self.dryrun = on;
        self
    }

    /// These options with `--checksum` on or off.
    #[must_use]
    pub fn with_checksum(mut self, on: bool) -> Self {
        self.checksum = on;
        self
    }

    /// These options with these transfer options (filters, headers...).
    #[must_use]
    pub fn with_transfer(mut self, transfer: TransferOptions) -> Self {
        self.transfer = transfer;
        self
    }
}

/// One thing a sync does: send a file or object (upload, download, copy), or delete one.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SyncAction {
    /// Upload, download, copy or delete.
    pub action: Action,
    /// What is sent, or deleted.
    pub src: Location,
    /// Where it goes (none for a delete).
    pub dst: Option<Location>,
}

impl std::fmt::Display for SyncAction {
    /// The AWS CLI's words: `upload: a.txt to s3://b/a.txt`, `delete: s3://b/old.txt`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.dst {
            Some(dst) => write!(f, "{}: {} to {dst}", self.action.as_str(), self.src),
            None => write!(f, "{}: {}", self.action.as_str(), self.src),
        }
    }
}

/// One side's file or object, by its name relative to the side's root.
struct Entry {
    rel: String,
    size: u64,
    time: Option<SystemTime>,
    what: What,
}

enum What {
    /// A local file, and whether a symlinked directory leads to it.
    File(PathBuf, bool),
    Object(Object),
    /// Something at the source the walk could not see (or left out by choice, when there is
    /// no reason): nothing at the destination is deleted at or beneath it.
    Unseen(Option<Error>),
}

/// A side, read in key order; `Err` ends the plan.
type Side = BoxStream<'static, Result<Entry, Error>>;

fn local_side(root: PathBuf, follow: bool, skips: Option<mpsc::Sender<Planned>>) -> Side {
    let rx = walk(root, follow);
    stream::unfold((rx, skips), |(mut rx, skips)| async move {
        loop {
            match rx.recv().await? {
                Found::File { path, rel, size, mtime, linked } => {
                    let entry = Entry { rel, size, time: mtime, what: What::File(path, linked) };
                    return Some((Ok(entry), (rx, skips)));
                }
                Found::Unseen { path, rel, reason } => {
                    if let (Some(tx), Some(reason)) = (&skips, &reason) {
                        let skip = Planned::Skip { src: Location::Local(path.clone()), reason: reason.clone() };
                        let _ = tx.send(skip).await;
                    }
                    let entry = Entry { rel, size: 0, time: None, what: What::Unseen(reason) };
                    return Some((Ok(entry), (rx, skips)));
                }
                Found::Skip { path, reason } => {
                    if let Some(tx) = &skips {
                        let _ = tx.send(Planned::Skip { src: Location::Local(path), reason }).await;
                    }
                }
            }
        }
    })
    .boxed()
}

/// An object as an entry of the side rooted at `root`; `None` for a folder marker.
fn object_entry(o: Object, root: &str) -> Option<Entry> {
    if o.is_folder_marker() {
        return None;
    }
    Some(Entry {
        rel: o.key.strip_prefix(root).unwrap_or(&o.key).to_owned(),
        size: o.size,
        time: o.last_modified,
        what: What::Object(o),
    })
}

/// The objects under `prefix`, in key order, listed in parallel key ranges
/// ([`S3Client::list_tree`]); folder markers left out, a listing error the last item.
fn s3_side(transfers: &Transfers, bucket: String, prefix: String) -> Side {
    objects_side(transfers.client().list_tree(&bucket, &prefix).boxed(), prefix)
}

/// [`s3_side`] of a listing already under way.
fn objects_side(objects: BoxStream<'static, Result<Object, crate::transport::Error>>, prefix: String) -> Side {
    objects
        .filter_map(move |item| {
            std::future::ready(match item {
                Ok(o) => object_entry(o, &prefix).map(Ok),
                Err(e) => Some(Err(Error::call("listing stopped", e))),
            })
        })
        .boxed()
}

/// S3 lists keys in ascending byte order, and the side-by-side comparison depends on it: a
/// listing out of that order (a broken or hostile server) ends the plan, rather than send or
/// delete on a wrong reading of which side has what.
fn in_key_order(side: Side) -> Side {
    let mut last: Option<String> = None;
    side.map(move |item| {
        let e = item?;
        if let Some(prev) = last.as_deref().filter(|p| e.rel.as_bytes() <= p.as_bytes()) {
            return Err(Error::new(
                ErrorKind::Other,
                format!("the listing is out of key order ({:?} came after {prev:?}): it cannot be compared", e.rel),
            ));
        }
        last = Some(e.rel.clone());
        Ok(e)
    })
    .boxed()
}

/// Where the sides are.
#[derive(Clone)]
enum Root {
    Local(PathBuf),
    S3 { bucket: String, prefix: String },
}

impl Root {
    fn of(at: &Location) -> Root {
        match at {
            Location::Local(p) => Root::Local(p.clone()),
            Location::S3 { bucket, key } => Root::S3 { bucket: bucket.clone(), prefix: folder_key(key) },
        }
    }

    fn at(&self, rel: &str) -> Location {
        match self {
            Root::Local(p) => Location::Local(p.join(rel)),
            Root::S3 { bucket, prefix } => Location::s3(bucket, format!("{prefix}{rel}")),
        }
    }
}

/// What a step of the plan is: a job for the executor, and how to say it.
fn step(action: Action, src: &Root, dst: &Root, entry: Entry) -> (Planned, SyncAction) {
    let (from, to) = (src.at(&entry.rel), dst.at(&entry.rel));
    let say = SyncAction { action, src: from.clone(), dst: Some(to.clone()) };
    let job = match (entry.what, dst) {
        (What::File(path, linked), Root::S3 { bucket, prefix }) => {
            Job::Upload { path, src: from, bucket: bucket.clone(), key: format!("{prefix}{}", entry.rel), linked }
        }
        (What::Object(o), Root::Local(root)) => Job::Download {
            bucket: match src {
                Root::S3 { bucket, .. } => bucket.clone(),
                Root::Local(_) => String::new(),
            },
            key: o.key.clone(),
            object: Some(o),
            to: DownloadTo::Under { root: root.clone(), rel: entry.rel },
        },
        (What::Object(o), Root::S3 { bucket, prefix }) => Job::Copy {
            from_bucket: match src {
                Root::S3 { bucket, .. } => bucket.clone(),
                Root::Local(_) => String::new(),
            },
            from_key: o.key.clone(),
            object: Some(o),
            bucket: bucket.clone(),
            key: format!("{prefix}{}", entry.rel),
        },
        (What::File(..), Root::Local(_)) => unreachable!("a local to local sync is refused before planning"),
        (What::Unseen(..), _) => unreachable!("an unseen entry is never sent"),
    };
    (Planned::Job(job, entry.size), say)
}

fn delete_step(dst: &Root, rel: &str) -> (Planned, SyncAction) {
    let target = dst.at(rel);
    let job = match dst {
        Root::Local(root) => Job::RemoveUnder { root: root.clone(), rel: rel.to_owned() },
        Root::S3 { .. } => Job::Remove { target: target.clone() },
    };
    (Planned::Job(job, 0), SyncAction { action: Action::Delete, src: target, dst: None })
}

/// A download step made to replace a local folder that the sync's deletions empty.
fn in_place_of_folder(planned: Planned) -> Planned {
    match planned {
        Planned::Job(Job::Download { bucket, key, object, to: DownloadTo::Under { root, rel } }, size) => {
            Planned::Job(Job::Download { bucket, key, object, to: DownloadTo::InPlaceOfFolder { root, rel } }, size)
        }
        other => other,
    }
}

/// A destination entry the source lacks: its name, and whether a symlinked directory leads to
/// it.
struct Doomed {
    rel: String,
    linked: bool,
}

impl From<Entry> for Doomed {
    fn from(e: Entry) -> Doomed {
        Doomed { linked: matches!(e.what, What::File(_, true)), rel: e.rel }
    }
}

/// What of the source could not be seen, by name relative to the root, with why nothing is
/// deleted beneath it (`None`: left out by choice, nothing to say).
#[derive(Default)]
struct Unseen(std::collections::BTreeMap<String, Option<Error>>);

impl Unseen {
    /// What keeps `rel` from being deleted: an unseen entry at it or at a folder above it.
    fn covering(&self, rel: &str) -> Option<(&str, &Option<Error>)> {
        // The root (`""`: unreadable as a whole), each folder on the way, the name itself.
        let folders = rel.match_indices('/').map(|(i, _)| &rel[..i]);
        [""].into_iter().chain(folders).chain([rel]).find_map(|p| self.0.get_key_value(p).map(|(k, v)| (k.as_str(), v)))
    }
}

/// The deletion of `d` (the destination has it, the source lacks it), unless the source could
/// not be seen there or the file is reached through a symlinked directory: then a skip that says
/// why (or nothing, for what the user chose to leave out).
fn delete_or_keep(dst_root: &Root, d: Doomed, unseen: &Unseen) -> Option<(Planned, Option<SyncAction>)> {
    let target = dst_root.at(&d.rel);
    if let Some((_, why)) = unseen.covering(&d.rel) {
        return Some((Planned::Skip { src: target, reason: why.clone()? }, None));
    }
    if d.linked {
        let reason = Error::refused("not deleted: it is reached through a symlinked directory");
        return Some((Planned::Skip { src: target, reason }, None));
    }
    let (planned, say) = delete_step(dst_root, &d.rel);
    Some((planned, Some(say)))
}

/// The plain form of a name that is not in it (`a//b`, `/a/b`, `a/b/` are `a/b`).
fn other_form(rel: &str) -> Option<String> {
    let (plain, is_plain) = super::collide::local_name(rel, false)?;
    (!is_plain && !plain.is_empty()).then_some(plain)
}

/// Content checks run at once ahead of the comparison (each reads one file).
const CHECKS_AHEAD: usize = 8;

/// Whether `src` and `dst` (of one size) hold the same bytes, by what the server keeps; `None`
/// when it cannot tell. `bucket` is the bucket of the object side.
async fn same_content(client: &S3Client, bucket: &str, src: &Entry, dst: &Entry) -> Option<bool> {
    let (path, object) = match (&src.what, &dst.what) {
        (What::File(p, _), What::Object(o)) | (What::Object(o), What::File(p, _)) => (p.clone(), o),
        (What::Object(a), What::Object(b)) => {
            let (a, b) = (EtagForm::parse(a.etag.as_deref()?)?, EtagForm::parse(b.etag.as_deref()?)?);
            // Equal ETags are the same bytes; unequal ones may be another part size.
            return (a == b).then_some(true);
        }
        _ => return None,
    };
    let hash = |part: Option<u64>, also: Option<ChecksumAlgorithm>| {
        let path = path.clone();
        async move { tokio::task::spawn_blocking(move || file_digests(&path, part, also)).await.ok()?.ok() }
    };
    let part_of = |form: &EtagForm| form.part_size(object.size, client.settings().part_size);
    let usable = |form: &EtagForm| matches!(form, EtagForm::Single(_)) || part_of(form).is_some();
    // The listing's ETag first (S3 lists them): one read of the file, no request.
    let listed = object.etag.as_deref().and_then(EtagForm::parse).filter(usable);
    if let Some(form) = &listed {
        if hash(part_of(form), None).await?.0 == *form {
            return Some(true);
        }
    }
    // Then what HEAD says: the stored checksum decides; else the ETag (a store that lists none,
    // or a listed one that differed), unless the object is encrypted and its ETag no MD5.
    let info = client.head_with_checksum(bucket, &object.key).await.ok()?;
    let stored = info.checksum.filter(crate::s3::Checksum::is_whole);
    let encrypted =
        client.has_sse_c() || info.server_side_encryption.as_deref().is_some_and(|e| e.starts_with("aws:kms"));
    let form = listed.or_else(|| info.etag.as_deref().and_then(EtagForm::parse).filter(usable)).filter(|_| !encrypted);
    if stored.is_none() && form.is_none() {
        return None;
    }
    let (local, checksum) = hash(form.as_ref().and_then(part_of), stored.as_ref().map(|c| c.algorithm)).await?;
    match (stored, form) {
        (Some(stored), _) => Some(checksum? == stored.value),
        (None, Some(form)) => Some(local == form),
        (None, None) => None,
    }
}

/// Whether `src` must be sent over `dst` (both present).
fn differs(action: Action, src: &Entry, dst: &Entry, options: &SyncOptions) -> bool {
    if src.size != dst.size {
        return true;
    }
    if options.size_only {
        return false;
    }
    let (Some(s), Some(d)) = (src.time, dst.time) else { return true };
    match action {
        Action::Download if options.exact_timestamps => s != d,
        // The local file (which a download gives the object's time) is newer.
        Action::Download => same_grain(d, s) > s,
        // The destination is older: an object stored in the second the file was last written
        // is not, on a server that keeps whole seconds (S3 itself) as on one that keeps
        // milliseconds (MinIO, s3s).
        _ => d < same_grain(s, d),
    }
}

/// `t` cut to the grain of `object` (an S3 time): whole seconds when it has nothing below them
/// (S3 itself), milliseconds when it has nothing below those (MinIO, s3s), microseconds
/// likewise. A server says nothing finer than it stores, and a file's nanoseconds must not
/// outweigh that: a file written at .4005 s and stored in the same millisecond is stored at
/// .400 s, not before it was written.
fn same_grain(t: SystemTime, object: SystemTime) -> SystemTime {
    let (Ok(td), Ok(od)) = (t.duration_since(SystemTime::UNIX_EPOCH), object.duration_since(SystemTime::UNIX_EPOCH))
    else {
        return t;
    };
    let grain = match od.subsec_nanos() {
        0 => 1_000_000_000,
        n if n % 1_000_000 == 0 => 1_000_000,
        n if n % 1_000 == 0 => 1_000,
        _ => return t,
    };
    let nanos = td.subsec_nanos() - td.subsec_nanos() % grain;
    SystemTime::UNIX_EPOCH + std::time::Duration::new(td.as_secs(), nanos)
}

impl Transfers {
    /// The plan of `aws s3 sync SRC DST` (a directory and a prefix, either way, or two
    /// prefixes), as a stream of what would be done, in key order (with S3 as the source, the
    /// deletions come last). Nothing is changed.
    ///
    /// ```no_run
    /// # async fn example(s3: cirrus::s3::S3Client) -> Result<(), Box<dyn std::error::Error>> {
    /// use cirrus::s3::transfer::{Location, SyncOptions, Transfers};
    /// use futures_util::StreamExt;
    ///
    /// let (src, dst) = (Location::parse("./site")?, Location::parse("s3://my-bucket/www/")?);
    /// let mut plan = Transfers::new(s3).sync_plan(&src, &dst, &SyncOptions::default().with_delete(true)).await?;
    /// while let Some(step) = plan.next().await {
    ///     println!("{}", step?); // upload: site/index.html to s3://my-bucket/www/index.html
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn sync_plan(
        &self,
        src: &Location,
        dst: &Location,
        options: &SyncOptions,
    ) -> Result<BoxStream<'static, Result<SyncAction, Error>>, crate::Error> {
        let steps = self.sync_steps(src, dst, options, None).await?;
        Ok(steps
            .filter_map(|(planned, say)| {
                std::future::ready(match planned {
                    Planned::Fail { reason, .. } => Some(Err(reason)),
                    Planned::Skip { .. } | Planned::AfterAll => None,
                    Planned::Job(..) => say.map(Ok),
                })
            })
            .boxed())
    }

    /// `aws s3 sync SRC DST`: the plan run (or, with `dryrun`, each step told as a
    /// [`Event::DryRun`] and nothing done). Downloads set each file's time to its object's, so
    /// a second sync either way sends nothing.
    pub async fn sync(
        &self,
        src: &Location,
        dst: &Location,
        options: &SyncOptions,
        observer: impl Fn(&Event) + Send + Sync + 'static,
        cancel: &Cancel,
    ) -> Result<Summary, crate::Error> {
        let (skip_tx, skip_rx) = mpsc::channel::<Planned>(64);
        let steps = self.sync_steps(src, dst, options, Some(skip_tx)).await?;
        let skips = stream::unfold(skip_rx, |mut rx| async move { rx.recv().await.map(|p| (p, rx)) });
        if options.dryrun {
            // The walk's skips read as they come, beside the plan: its channel is bounded.
            let mut summary = Summary::default();
            let mut all = stream::select(steps, skips.map(|p| (p, None))).boxed();
            while let Some((planned, say)) = all.next().await {
                match (planned, say) {
                    (Planned::Fail { action, src, reason }, _) => {
                        summary.failed += 1;
                        let error = reason.at(src.clone());
                        observer(&Event::Failed { action, src, dst: None, error });
                    }
                    (Planned::Skip { src, reason }, _) => {
                        summary.skipped += 1;
                        let reason = reason.at(src.clone());
                        observer(&Event::Skipped { src, reason });
                    }
                    (_, Some(say)) => observer(&Event::DryRun { action: say.action, src: say.src, dst: say.dst }),
                    _ => {}
                }
            }
            return Ok(summary);
        }
        let plan = stream::select(steps.map(|(p, _)| p), skips).boxed();
        let resume = options.transfer.resume.clone();
        let put = options.transfer.put_for_run();
        let ctx = Ctx::with_move(self.client().clone(), self.limits(), put, Box::new(observer), false, resume);
        Ok(execute(ctx, plan, cancel).await)
    }

    async fn sync_steps(
        &self,
        src: &Location,
        dst: &Location,
        options: &SyncOptions,
        skips: Option<mpsc::Sender<Planned>>,
    ) -> Result<BoxStream<'static, (Planned, Option<SyncAction>)>, crate::Error> {
        // A listing of the S3 source begun while checking that it can be read.
        let mut started = None;
        let action = match (src, dst) {
            (Location::Local(p), Location::S3 { bucket, .. }) => {
                crate::s3::check_bucket("PutObject", bucket)?;
                if !tokio::fs::metadata(p).await.map(|m| m.is_dir()).unwrap_or(false) {
                    return Err(input(format!("{src} is not a directory")));
                }
                Action::Upload
            }
            (Location::S3 { bucket, key }, Location::Local(p)) => {
                crate::s3::check_bucket("GetObject", bucket)?;
                if !options.dryrun && tokio::fs::metadata(p).await.is_err() {
                    started = Some(self.listed_into_new_folder(bucket, &folder_key(key), p).await?);
                }
                Action::Download
            }
            (Location::S3 { bucket: b1, key: k1 }, Location::S3 { bucket: b2, key: k2 }) => {
                crate::s3::check_bucket("CopyObject", b1)?;
                crate::s3::check_bucket("CopyObject", b2)?;
                let (p1, p2) = (folder_key(k1), folder_key(k2));
                if b1 == b2 && (p2.starts_with(&p1) || p1.starts_with(&p2)) {
                    return Err(input(format!("{src} and {dst} overlap: a sync would read its own output")));
                }
                Action::Copy
            }
            (Location::Local(_), Location::Local(_)) => {
                return Err(input("one of the source and destination must be in S3"));
            }
        };
        let mut side = |at: &Location, skips: Option<mpsc::Sender<Planned>>| match at {
            Location::Local(p) => local_side(p.clone(), options.transfer.follow_symlinks, skips),
            Location::S3 { bucket, key } => in_key_order(match started.take() {
                Some(objects) => objects_side(objects, folder_key(key)),
                None => s3_side(self, bucket.clone(), folder_key(key)),
            }),
        };
        // What could not be seen is kept whatever the filters: files under it may be included.
        let filtered = |side: Side| {
            let filters = options.transfer.filters.clone();
            let accepts = move |r: &Result<Entry, Error>| {
                r.as_ref().map_or(true, |e| matches!(e.what, What::Unseen(..)) || filters.accepts(&e.rel))
            };
            side.filter(move |r| std::future::ready(accepts(r))).boxed()
        };
        let (src_side, dst_side) = (filtered(side(src, skips)), filtered(side(dst, None)));
        let (src_root, dst_root) = (Root::of(src), Root::of(dst));
        let object_bucket = match (&src_root, &dst_root) {
            (_, Root::S3 { bucket, .. }) | (Root::S3 { bucket, .. }, _) => bucket.clone(),
            _ => String::new(),
        };
        let (tx, rx) = mpsc::channel(256);
        let compare = Compare {
            action,
            // A listing is read in S3's order, and only its end proves it was in order (see
            // `in_key_order`): with S3 as the source, what the destination alone has is deleted
            // once the comparison is complete, so a disorder found late deletes nothing.
            defer_deletes: matches!(src_root, Root::S3 { .. }),
            src_root,
            dst_root,
            options: options.clone(),
            client: self.client().clone(),
            object_bucket,
            tx,
            checks: JoinSet::new(),
            deferred: Vec::new(),
            doomed: std::collections::HashSet::new(),
            after_deletes: Vec::new(),
            unseen: Unseen::default(),
        };
        tokio::spawn(compare.run(src_side, dst_side));
        Ok(stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|s| (s, rx)) }).boxed())
    }
}

/// A step of the plan, and how to say it (none for a skip or a failure).
type Step = (Planned, Option<SyncAction>);

/// Whoever reads the plan has gone: stop.
struct Gone;

/// The side-by-side comparison of a sync, in a task of its own: both sides read in key order,
/// a step sent for each difference.
struct Compare {
    action: Action,
    src_root: Root,
    dst_root: Root,
    options: SyncOptions,
    client: S3Client,
    /// The bucket of the S3 side (`--checksum` asks it for stored checksums).
    object_bucket: String,
    tx: mpsc::Sender<Step>,
    /// Content checks (`--checksum`) in flight, each ending in a step or nothing.
    checks: JoinSet<Option<Step>>,
    /// Deletions held back to the end of the comparison (S3 as the source).
    defer_deletes: bool,
    deferred: Vec<Doomed>,
    /// The names of the deletions held back.
    doomed: std::collections::HashSet<String>,
    /// Downloads under a name in `doomed` (a file where they need a directory): sent after
    /// the deletions, to start once those have ended.
    after_deletes: Vec<Step>,
    /// What the source could not see, by name.
    unseen: Unseen,
}

impl Compare {
    async fn send(&self, step: Step) -> Result<(), Gone> {
        self.tx.send(step).await.map_err(|_| Gone)
    }

    async fn run(mut self, mut a: Side, mut b: Side) {
        let _ = self.compare(&mut a, &mut b).await;
    }

    async fn compare(&mut self, a: &mut Side, b: &mut Side) -> Result<(), Gone> {
        let (mut x, mut y) = (a.next().await, b.next().await);
        loop {
            // A listing that failed ends the plan: nothing more is sent, nothing deleted on a
            // partial view.
            if let Some(reason) = [&x, &y].into_iter().find_map(|side| side.as_ref()?.as_ref().err()) {
                let fail = Planned::Fail { action: self.action, src: self.src_root.at(""), reason: reason.clone() };
                return self.send((fail, None)).await;
            }
            // What the source could not see protects the destination beneath it; what the
            // destination could not see is neither compared nor deleted.
            if let Some(Ok(e @ Entry { what: What::Unseen(..), .. })) = &mut x {
                self.unseen_at_source(e);
                x = a.next().await;
                continue;
            }
            if let Some(Ok(Entry { what: What::Unseen(..), .. })) = &y {
                y = b.next().await;
                continue;
            }
            if let Some(Ok(e)) = &x {
                if self.in_another_form(e).await? {
                    x = a.next().await;
                    continue;
                }
            }
            let order = match (&x, &y) {
                (None, None) => return self.finish().await,
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (Some(Ok(s)), Some(Ok(d))) => s.rel.as_bytes().cmp(d.rel.as_bytes()),
                _ => return Ok(()),
            };
            match order {
                std::cmp::Ordering::Less => {
                    let Some(Ok(s)) = x.take() else { return Ok(()) };
                    x = a.next().await;
                    let under_doomed = self.under_doomed(&s.rel);
                    // The local side has a folder where the key needs a file.
                    let over_folder = self.defer_deletes
                        && self.options.delete
                        && self.action == Action::Download
                        && matches!(&y, Some(Ok(d)) if d.rel.strip_prefix(s.rel.as_str()).is_some_and(|r| r.starts_with('/')));
                    let step = step(self.action, &self.src_root, &self.dst_root, s);
                    if over_folder {
                        self.after_deletes.push((in_place_of_folder(step.0), Some(step.1)));
                    } else if under_doomed {
                        self.after_deletes.push((step.0, Some(step.1)));
                    } else {
                        self.send((step.0, Some(step.1))).await?;
                    }
                }
                std::cmp::Ordering::Greater => {
                    let Some(Ok(d)) = y.take() else { return Ok(()) };
                    y = b.next().await;
                    self.only_at_destination(d).await?;
                }
                std::cmp::Ordering::Equal => {
                    let (Some(Ok(s)), Some(Ok(d))) = (x.take(), y.take()) else { return Ok(()) };
                    x = a.next().await;
                    y = b.next().await;
                    self.on_both_sides(s, d).await?;
                }
            }
        }
    }

    /// An entry of the source the walk could not see: nothing at or beneath its name is
    /// deleted, and each held delete says why.
    fn unseen_at_source(&mut self, e: &mut Entry) {
        let What::Unseen(why) = &mut e.what else { return };
        let why = why.take().map(|w| {
            let what = format!("not deleted: {} could not be read", self.src_root.at(&e.rel));
            w.context(what).with_kind(ErrorKind::Refused)
        });
        self.unseen.0.insert(std::mem::take(&mut e.rel), why);
    }

    /// A key in another form than its path (`a//b` for `a/b`) cannot be compared by name: it
    /// is not downloaded, and the file it names is not deleted. Whether `e` was one.
    async fn in_another_form(&mut self, e: &Entry) -> Result<bool, Gone> {
        let Some(plain) = other_form(&e.rel).filter(|_| self.action == Action::Download) else { return Ok(false) };
        let path = self.dst_root.at(&plain);
        let reason = format!("not downloaded: the key names the local file {path} in another form");
        let skip = Planned::Skip { src: self.src_root.at(&e.rel), reason: Error::refused(reason) };
        let why = format!("not deleted: the key {} names it too", self.src_root.at(&e.rel));
        self.unseen.0.insert(plain, Some(Error::refused(why)));
        self.send((skip, None)).await?;
        Ok(true)
    }

    /// What the destination alone has: deleted with `delete` (now, or at the end when S3 is
    /// the source), unless the source could not be seen there.
    async fn only_at_destination(&mut self, d: Entry) -> Result<(), Gone> {
        if !self.options.delete {
            return Ok(());
        }
        if self.defer_deletes {
            self.doomed.insert(d.rel.clone());
            self.deferred.push(d.into());
            return Ok(());
        }
        match delete_or_keep(&self.dst_root, d.into(), &self.unseen) {
            Some(step) => self.send(step).await,
            None => Ok(()),
        }
    }

    /// A name on both sides: sent when they differ (never with `no_overwrite`), by time and size or (`--checksum`, same
    /// size) by content, in a task of its own, up to [`CHECKS_AHEAD`] at once.
    async fn on_both_sides(&mut self, s: Entry, d: Entry) -> Result<(), Gone> {
        let (action, options) = (self.action, &self.options);
        // `no_overwrite`: what the destination has stays as it is, however it differs.
        if options.transfer.no_overwrite {
            return Ok(());
        }
        if !(options.checksum && s.size == d.size) {
            if differs(action, &s, &d, options) {
                let (planned, say) = step(action, &self.src_root, &self.dst_root, s);
                self.send((planned, Some(say))).await?;
            }
            return Ok(());
        }
        while self.checks.len() >= CHECKS_AHEAD {
            if let Some(Ok(Some(step))) = self.checks.join_next().await {
                self.send(step).await?;
            }
        }
        let (client, bucket, options) = (self.client.clone(), self.object_bucket.clone(), self.options.clone());
        let (src_root, dst_root) = (self.src_root.clone(), self.dst_root.clone());
        self.checks.spawn(async move {
            let send = match same_content(&client, &bucket, &s, &d).await {
                Some(same) => !same,
                None => differs(action, &s, &d, &options),
            };
            send.then(|| {
                let (planned, say) = step(action, &src_root, &dst_root, s);
                (planned, Some(say))
            })
        });
        Ok(())
    }

    /// Whether a download of `rel` needs a directory where a local file is to be deleted (a
    /// folder above it is in `doomed`).
    fn under_doomed(&self, rel: &str) -> bool {
        self.action == Action::Download
            && !self.doomed.is_empty()
            && rel.match_indices('/').any(|(i, _)| self.doomed.contains(&rel[..i]))
    }

    /// Both sides read to their end: the content checks still running, then the deletions held
    /// back, then the downloads that waited for them.
    async fn finish(&mut self) -> Result<(), Gone> {
        while let Some(done) = self.checks.join_next().await {
            if let Ok(Some(step)) = done {
                self.send(step).await?;
            }
        }
        for d in std::mem::take(&mut self.deferred) {
            if let Some(step) = delete_or_keep(&self.dst_root, d, &self.unseen) {
                self.send(step).await?;
            }
        }
        let held = std::mem::take(&mut self.after_deletes);
        if !held.is_empty() {
            self.send((Planned::AfterAll, None)).await?;
        }
        for step in held {
            self.send(step).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn unseen_entries_cover_what_is_beneath_them() {
        let mut unseen = Unseen::default();
        unseen.0.insert("d".into(), Some(Error::refused("denied")));
        unseen.0.insert("d-x".into(), None);
        let why =
            |c: Option<(&str, &Option<Error>)>| c.map(|(at, e)| (at.to_owned(), e.as_ref().map(Error::to_string)));
        assert_eq!(why(unseen.covering("d")), Some(("d".into(), Some("denied".into()))));
        assert_eq!(why(unseen.covering("d/e/f")), Some(("d".into(), Some("denied".into()))));
        assert_eq!(unseen.covering("d-x/y").map(|c| c.0), Some("d-x"));
        for free in ["dd", "d.x", "e/d", "d-"] {
            assert!(unseen.covering(free).is_none(), "{free}");
        }
        unseen.0.insert(String::new(), Some(Error::refused("the root")));
        assert_eq!(unseen.covering("anything/at/all").map(|c| c.0), Some(""));
    }

    fn entry(size: u64, secs: u64) -> Entry {
        Entry {
            rel: "k".into(),
            size,
            time: Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs)),
            what: What::File(PathBuf::new(), false),
        }
    }

    /// The AWS CLI's rules (awscli.customizations.s3.syncstrategy), case by case.
    #[test]
    fn what_differs_as_the_aws_cli_decides() {
        let plain = SyncOptions::default();
        let exact = SyncOptions { exact_timestamps: true, ..SyncOptions::default() };
        let size_only = SyncOptions { size_only: true, ..SyncOptions::default() };
        // Another size: always sent.
        for o in [&plain, &exact, &size_only] {
            assert!(differs(Action::Upload, &entry(1, 10), &entry(2, 10), o));
        }
        // Upload and copy: sent when the destination is older, not when newer or equal.
        for a in [Action::Upload, Action::Copy] {
            assert!(differs(a, &entry(1, 20), &entry(1, 10), &plain));
            assert!(!differs(a, &entry(1, 10), &entry(1, 20), &plain));
            assert!(!differs(a, &entry(1, 10), &entry(1, 10), &plain));
        }
        // Download: sent when the local file is newer; with exact timestamps, on any difference.
        assert!(differs(Action::Download, &entry(1, 10), &entry(1, 20), &plain));
        assert!(!differs(Action::Download, &entry(1, 20), &entry(1, 10), &plain));
        assert!(differs(Action::Download, &entry(1, 20), &entry(1, 10), &exact));
        assert!(!differs(Action::Download, &entry(1, 10), &entry(1, 10), &exact));
        // Times with milliseconds (MinIO, s3s): an object stored 5 ms after its file was
        // written is not older; one stored before it is.
        let at = |ms: u64| Entry { time: Some(SystemTime::UNIX_EPOCH + Duration::from_millis(ms)), ..entry(1, 0) };
        assert!(!differs(Action::Upload, &at(49_565), &at(49_570), &plain));
        assert!(differs(Action::Upload, &at(49_565), &at(49_560), &plain));
        // An object stored in the millisecond its file was written (the file's time has
        // nanoseconds, the store's milliseconds) is not older.
        let ns = |ms: u64, extra: u32| Entry {
            time: Some(SystemTime::UNIX_EPOCH + Duration::from_millis(ms) + Duration::from_nanos(u64::from(extra))),
            ..entry(1, 0)
        };
        assert!(!differs(Action::Upload, &ns(49_565, 400_500), &at(49_565), &plain));
        assert!(differs(Action::Upload, &ns(49_566, 1), &at(49_565), &plain));
        assert!(!differs(Action::Download, &at(49_565), &ns(49_565, 900_000), &plain));
        // A server that stores whole seconds (S3): the object of the same second is not older.
        assert!(!differs(Action::Upload, &at(49_565), &at(49_000), &plain));
        assert!(differs(Action::Upload, &at(50_001), &at(49_000), &plain));
        // Downloads: the file was given the object's time to the millisecond.
        assert!(!differs(Action::Download, &at(49_565), &at(49_565), &plain));
        assert!(!differs(Action::Download, &at(49_000), &at(49_900), &plain));
        assert!(differs(Action::Download, &at(49_000), &at(50_100), &plain));
        // Size only: times never matter.
        assert!(!differs(Action::Upload, &entry(1, 20), &entry(1, 10), &size_only));
        assert!(!differs(Action::Download, &entry(1, 10), &entry(1, 20), &size_only));
    }
}
