//! The transfer engine: every bulk or large transfer (a directory to a prefix, a prefix to a
//! directory, a prefix to a prefix, one object either way) planned and run by one executor.
//!
//! - **Many requests in flight**: up to [`S3Settings::concurrency`](crate::s3::S3Settings::concurrency) across all objects and their
//!   parts, and object data in memory bounded by [`S3Settings::memory_budget`](crate::s3::S3Settings::memory_budget), whatever the
//!   number or size of the files. Sources are read as they go (a directory walked, a prefix
//!   listed page by page), never collected whole.
//! - **Large objects in parts**: multipart uploads (aborted on any failure or interrupt),
//!   downloads in parallel ranges written at their offsets with the ETag pinned (`If-Match`,
//!   so an object replaced mid-download fails instead of mixing versions), copies with
//!   UploadPartCopy in parallel.
//! - **Safe against any bucket**: a download never writes outside its destination (`..` keys,
//!   keys through a symlink, a leading `/`), writes to a temporary file created exclusively and
//!   renames it into place only when complete, refuses a key that lands on a FIFO or a device
//!   (a path the caller names is written into, never replaced), and downloads none of the keys
//!   that name one local file.
//! - **Never deletes on a partial view**: `sync` with `delete` removes nothing beneath a part of
//!   the source it could not see (an unreadable directory, a dangling symlinked directory, a
//!   loop), nothing through a symlinked directory, and nothing after a listing that failed.
//! - **Keeps going**: a failed object is reported and the others go on; the [`Summary`] says
//!   what was done, skipped and failed.
//! - **Interruptible**: when the [`Cancel`] handle fires, no new work starts, multipart uploads
//!   in flight are aborted and temporary files removed before the summary returns.
//!
//! ```no_run
//! # async fn demo(config: &cirrus::Config) -> Result<(), cirrus::transport::Error> {
//! use cirrus::s3::transfer::{Cancel, Location, TransferOptions, Transfers};
//! use cirrus::s3::S3Client;
//!
//! let s3 = S3Client::from_config(config).expect("a region");
//! let summary = Transfers::new(s3)
//!     .copy(
//!         &Location::parse("./site")?,
//!         &Location::parse("s3://my-bucket/www/")?,
//!         &TransferOptions::recursive(),
//!         |event| println!("{event}"),
//!         &Cancel::new(),
//!     )
//!     .await?;
//! println!("{summary}");
//! # Ok(()) }
//! ```

mod collide;
mod copy;
mod ctx;
pub(crate) mod download;
mod error;
mod fd;
pub(crate) mod filter;
mod glob;
pub(crate) mod local;
mod plan;
mod remove;
mod resume;
mod run;
mod sync;
pub(crate) mod upload;
mod versions;
mod walk;

pub use super::cancel::Cancel;
pub use error::{Error, ErrorKind};
pub use fd::raise_open_file_limit;
pub use filter::{Filters, Rule};
pub use glob::Glob;
pub use plan::Transfers;
pub use resume::default_resume_dir;
pub use sync::{SyncAction, SyncOptions};
pub use versions::VersionEvent;

use super::{PutOptions, S3Client};
use crate::transport::Chain;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// Where a transfer reads or writes: a local path, or a bucket and a key (or prefix).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Location {
    /// A file or directory.
    Local(PathBuf),
    /// A key, or with a recursive transfer a prefix (`""` for the whole bucket).
    S3 {
        /// The bucket.
        bucket: String,
        /// The key or prefix, exactly as stored.
        key: String,
    },
}

impl Location {
    /// `s3://BUCKET[/KEY]` as a bucket and key, anything else as a local path. BUCKET may be
    /// an access point ARN (`s3://arn:aws:s3:us-west-2:123456789012:accesspoint/my-ap/KEY`).
    ///
    /// ```
    /// use cirrus::s3::transfer::Location;
    ///
    /// let remote = Location::parse("s3://my-bucket/photos/2024/")?;
    /// assert_eq!(remote, Location::s3("my-bucket", "photos/2024/"));
    /// assert!(!Location::parse("./photos")?.is_s3());
    /// assert!(Location::parse("s3://bad bucket/key").is_err());
    /// # Ok::<(), cirrus::Error>(())
    /// ```
    pub fn parse(text: &str) -> Result<Location, crate::Error> {
        match text.strip_prefix("s3://") {
            Some(rest) => {
                // An access point ARN holds a `/` of its own: split as the AWS CLI splits it.
                let (bucket, key) =
                    super::access_point::split_path(rest).unwrap_or_else(|| rest.split_once('/').unwrap_or((rest, "")));
                super::check_bucket("URL", bucket)?;
                Ok(Location::S3 { bucket: bucket.to_owned(), key: key.to_owned() })
            }
            None if text.is_empty() => Err(S3Client::input_error("URL", "an empty path")),
            None => Ok(Location::Local(PathBuf::from(text))),
        }
    }

    /// A location in S3.
    pub fn s3(bucket: impl Into<String>, key: impl Into<String>) -> Location {
        Location::S3 { bucket: bucket.into(), key: key.into() }
    }

    /// Whether it is in S3.
    pub fn is_s3(&self) -> bool {
        matches!(self, Location::S3 { .. })
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Local(p) => write!(f, "{}", p.display()),
            Location::S3 { bucket, key } => write!(f, "s3://{bucket}/{key}"),
        }
    }
}

/// How a transfer treats its source.
///
/// ```
/// use cirrus::s3::transfer::TransferOptions;
/// use cirrus::s3::PutOptions;
///
/// // `aws s3 cp --recursive --no-follow-symlinks --storage-class STANDARD_IA`
/// let mut put = PutOptions::default();
/// put.storage_class = Some("STANDARD_IA".to_owned());
/// let options = TransferOptions::recursive().with_follow_symlinks(false).with_put_options(put);
/// assert!(options.recursive && !options.follow_symlinks);
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct TransferOptions {
    /// Everything under the source directory or prefix (a prefix names a folder: `data` means
    /// `data/`), not one file or object.
    pub recursive: bool,
    /// Follow symlinks in a local source (the default, as the AWS CLI); when off, they are
    /// passed over silently, as the AWS CLI's `--no-follow-symlinks` does.
    pub follow_symlinks: bool,
    /// Headers of the objects written (content type, metadata, storage class, checksum...).
    /// A content type left unset is guessed from each file's name.
    pub put: PutOptions,
    /// `--exclude` / `--include`, relative to the source: what they leave out is passed over
    /// silently, as in the AWS CLI.
    pub filters: Filters,
    /// `--dryrun`: plan as usual (the source read, every check made), then say each object as
    /// an [`Event::DryRun`] and send, write or delete nothing.
    pub dryrun: bool,
    /// `--resume`: a multipart upload that fails or is interrupted is kept, not aborted, with a
    /// journal in this folder (the upload id and each part S3 confirmed, with the MD5 and
    /// checksum of its bytes); a later run with the same folder, file and key sends only the
    /// parts it lacks, after checking that S3 still lists each one and that the file's bytes
    /// still match what was recorded ([`Event::Resumed`]). A file that changed starts over and
    /// its old upload is aborted. Kept uploads cost storage until resumed or aborted: they are
    /// counted in [`Summary::resumable`]. See [`default_resume_dir`].
    pub resume: Option<PathBuf>,
    /// Wildcards in an S3 source key (`*`, `?`, `[...]` within one folder level, `**` across
    /// levels, `\` to take the next character literally; see [`Glob`]): only the literal
    /// prefix before the first wildcard is listed, each key under it matched whole, and the
    /// copies named from the folder that holds that prefix. A pattern is a transfer of many
    /// objects (as [`recursive`](Self::recursive)), and one that matches nothing is a
    /// failure. Off by default: a key is then exactly itself.
    pub glob: bool,
    /// Never replace what is at the destination: an existing object or file is left alone and
    /// the source reported as [`Event::Skipped`] with [`ErrorKind::AlreadyExists`] (counted in
    /// [`Summary::not_overwritten`], not a failure; `mv` keeps that source). Uploads and copies
    /// carry `If-None-Match: *` ([`PutOptions::if_none_match`]) on PutObject, CopyObject and
    /// CompleteMultipartUpload, so S3 itself refuses to replace an object that appeared
    /// meanwhile; a multipart upload and a copy first ask with HEAD (a copy's `If-None-Match`
    /// is ignored by some S3-compatible stores, and a part upload would be wasted).
    /// Downloads are moved into place with a rename that never replaces a file.
    pub no_overwrite: bool,
    /// [`Transfers::copy`] of one object (not recursive) from S3: the version of the source
    /// to read instead of the current one. Only `copy` reads it (`mv` and `remove` refuse it).
    pub version_id: Option<String>,
}

impl Default for TransferOptions {
    fn default() -> Self {
        TransferOptions {
            recursive: false,
            follow_symlinks: true,
            put: PutOptions::default(),
            filters: Filters::default(),
            dryrun: false,
            resume: None,
            glob: false,
            no_overwrite: false,
            version_id: None,
        }
    }
}

impl TransferOptions {
    /// Options for a recursive transfer.
    pub fn recursive() -> Self {
        TransferOptions { recursive: true, ..TransferOptions::default() }
    }

    /// These options with symlinks in a local source followed or not.
    #[must_use]
    pub fn with_follow_symlinks(mut self, on: bool) -> Self {
        self.follow_symlinks = on;
        self
    }

    /// These options with these `--exclude` / `--include` filters.
    #[must_use]
    pub fn with_filters(mut self, filters: Filters) -> Self {
        self.filters = filters;
        self
    }

    /// These options with these object headers.
    #[must_use]
    pub fn with_put_options(mut self, put: PutOptions) -> Self {
        self.put = put;
        self
    }

    /// These options copying this version of a single S3 source (see
    /// [`version_id`](Self::version_id)).
    #[must_use]
    pub fn with_version_id(mut self, version_id: Option<String>) -> Self {
        self.version_id = version_id;
        self
    }

    /// These options with `--dryrun` on or off.
    #[must_use]
    pub fn with_dryrun(mut self, on: bool) -> Self {
        self.dryrun = on;
        self
    }

    /// These options with resumable uploads, their journals in `dir` (see
    /// [`resume`](Self::resume)); `None` aborts what fails, the default.
    #[must_use]
    pub fn with_resume(mut self, dir: Option<PathBuf>) -> Self {
        self.resume = dir;
        self
    }
    /// These options with wildcards in S3 source keys read as patterns, or not (see
    /// [`glob`](Self::glob)).
    #[must_use]
    pub fn with_glob(mut self, on: bool) -> Self {
        self.glob = on;
        self
    }

    /// These options with `--no-overwrite` on or off (see [`no_overwrite`](Self::no_overwrite)).
    #[must_use]
    pub fn with_no_overwrite(mut self, on: bool) -> Self {
        self.no_overwrite = on;
        self
    }

    /// The object headers a run writes with: [`put`](Self::put), with `If-None-Match: *`
    /// when [`no_overwrite`](Self::no_overwrite) is on, and no progress callback (a run
    /// reports progress as events).
    fn put_for_run(&self) -> PutOptions {
        let mut put = self.put.clone();
        put.progress = None;
        put.if_none_match |= self.no_overwrite;
        put
    }
}

/// What was done to one object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Local to S3.
    Upload,
    /// S3 to local.
    Download,
    /// S3 to S3.
    Copy,
    /// Removed from S3.
    Delete,
    /// Copied (either way, or S3 to S3), then the source removed.
    Move,
}

impl Action {
    /// `upload`, `download`, `copy`, `delete`: the AWS CLI's words.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Upload => "upload",
            Action::Download => "download",
            Action::Copy => "copy",
            Action::Delete => "delete",
            Action::Move => "move",
        }
    }
}

/// What a running transfer reports, as it happens. Events come from many tasks at once.
///
/// ```
/// use cirrus::s3::transfer::{Action, Event, Location};
///
/// let event = Event::Done {
///     action: Action::Upload,
///     src: Location::parse("site/index.html")?,
///     dst: Some(Location::s3("my-bucket", "www/index.html")),
///     bytes: 2048,
/// };
/// assert_eq!(event.to_string(), "upload: site/index.html to s3://my-bucket/www/index.html");
/// # Ok::<(), cirrus::Error>(())
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Event {
    /// An object is done.
    Done {
        /// What was done.
        action: Action,
        /// From.
        src: Location,
        /// To (none for a delete).
        dst: Option<Location>,
        /// Its size.
        bytes: u64,
    },
    /// An object failed; the others go on.
    Failed {
        /// What was tried.
        action: Action,
        /// From.
        src: Location,
        /// To (none for a delete).
        dst: Option<Location>,
        /// Why: what kind of failure, and its cause.
        error: Error,
    },
    /// An object was left out, and why (a key that would escape the destination, a symlink
    /// not followed, a special file...).
    Skipped {
        /// What was left out.
        src: Location,
        /// Why: most often [`ErrorKind::Refused`]; an unreadable file is
        /// [`ErrorKind::AccessDenied`].
        reason: Error,
    },
    /// More bytes moved (for progress).
    Bytes(u64),
    /// `--dryrun`: what would be done, and was not.
    DryRun {
        /// What would be done.
        action: Action,
        /// From (or what would be deleted).
        src: Location,
        /// To (none for a delete).
        dst: Option<Location>,
    },
    /// A download that arrived whole but that nothing could verify: the server gave neither a
    /// checksum nor an ETag to check it against.
    Unverified {
        /// The object.
        src: Location,
        /// Why it could not be checked.
        reason: String,
    },
    /// A multipart upload taken up where an earlier run left it ([`TransferOptions::resume`]):
    /// this many parts, checked, are not sent again.
    Resumed {
        /// The file.
        src: Location,
        /// The object.
        dst: Location,
        /// Parts reused.
        parts: u32,
        /// Their bytes.
        bytes: u64,
    },
    /// The source is read to its end: this many objects and bytes in all.
    Listed {
        /// Objects found.
        objects: u64,
        /// Their bytes.
        bytes: u64,
    },
}

impl fmt::Display for Event {
    /// The AWS CLI's line for the event: `upload: a.txt to s3://b/a.txt`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Done { action, src, dst: Some(dst), .. } => write!(f, "{}: {src} to {dst}", action.as_str()),
            Event::Done { action, src, dst: None, .. } => write!(f, "{}: {src}", action.as_str()),
            // The error with its causes: this is the line a person reads.
            Event::Failed { action, src, dst: Some(dst), error } => {
                write!(f, "{} failed: {src} to {dst} {}", action.as_str(), Chain(error))
            }
            Event::Failed { action, src, dst: None, error } => {
                write!(f, "{} failed: {src} {}", action.as_str(), Chain(error))
            }
            Event::Skipped { src, reason } if reason.kind() == ErrorKind::AlreadyExists => {
                write!(f, "skip: {src}: {}", Chain(reason))
            }
            Event::Skipped { src, reason } => write!(f, "warning: skipping {src}: {}", Chain(reason)),
            Event::DryRun { action, src, dst: Some(dst) } => write!(f, "(dryrun) {}: {src} to {dst}", action.as_str()),
            Event::DryRun { action, src, dst: None } => write!(f, "(dryrun) {}: {src}", action.as_str()),
            Event::Bytes(n) => write!(f, "{n} bytes"),
            Event::Resumed { src, dst, parts, bytes } => {
                write!(f, "resume: {src} to {dst} ({parts} parts, {bytes} bytes already sent)")
            }
            Event::Listed { objects, bytes } => write!(f, "{objects} objects, {bytes} bytes to go"),
            Event::Unverified { src, reason } => write!(f, "warning: {src} was not verified: {reason}"),
        }
    }
}

/// A multipart upload that an abort could not remove: its parts are still billed. Remove it
/// with `AbortMultipartUpload` (or a lifecycle rule).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct LeftBehind {
    /// The bucket.
    pub bucket: String,
    /// The key.
    pub key: String,
    /// The upload id.
    pub upload_id: String,
    /// Why the abort failed.
    pub error: Error,
}

impl fmt::Display for LeftBehind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "could not abort the multipart upload of s3://{}/{} (upload id {}): {}",
            self.bucket,
            self.key,
            self.upload_id,
            Chain(&self.error)
        )
    }
}

/// What a transfer did, at the end.
///
/// ```
/// use cirrus::s3::transfer::Summary;
/// use std::time::Duration;
///
/// let mut summary = Summary::default();
/// summary.done = 12;
/// summary.failed = 1;
/// summary.bytes = 192 * 1024;
/// summary.elapsed = Duration::from_millis(800);
/// assert!(!summary.is_complete());
/// let line = "12 done, 1 failed, 0 skipped, 192.0 KiB in 0.8 s (240.0 KiB/s)";
/// assert_eq!(summary.to_string(), line);
/// ```
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct Summary {
    /// Objects done.
    pub done: u64,
    /// Objects that failed.
    pub failed: u64,
    /// Objects left out.
    pub skipped: u64,
    /// Objects not sent because the destination already had one
    /// ([`TransferOptions::no_overwrite`]): left alone on purpose, so neither skipped nor
    /// failed.
    pub not_overwritten: u64,
    /// Bytes of the objects done.
    pub bytes: u64,
    /// From start to end.
    pub elapsed: Duration,
    /// Stopped by the [`Cancel`] handle before the end.
    pub interrupted: bool,
    /// Multipart uploads an abort could not remove.
    pub left_behind: Vec<LeftBehind>,
    /// Downloads whose bytes were checked against the object's stored checksum or the MD5 of
    /// its ETag (a mismatch is asked for again, then fails the object).
    pub verified: u64,
    /// Of those, the ones checked against a stored checksum (the others: an MD5 ETag).
    pub verified_by_checksum: u64,
    /// Downloads with nothing to check them against (a multipart object without a full-object
    /// checksum, an SSE-KMS or SSE-C object without one), or written in ranges.
    pub unverified: u64,
    /// Multipart uploads that failed or were interrupted and are kept, with their journals, for
    /// a later run to resume ([`TransferOptions::resume`]).
    pub resumable: u64,
}

impl Summary {
    /// Whether everything was done: nothing failed, skipped, interrupted or left behind.
    pub fn is_complete(&self) -> bool {
        self.failed == 0 && self.skipped == 0 && !self.interrupted && self.left_behind.is_empty()
    }
}

impl fmt::Display for Summary {
    /// `12 done, 1 failed, 0 skipped, 192.0 KiB in 0.8 s (240.0 KiB/s)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.elapsed.as_secs_f64();
        write!(
            f,
            "{} done, {} failed, {} skipped, {} in {secs:.1} s",
            self.done,
            self.failed,
            self.skipped,
            human_bytes(self.bytes as f64)
        )?;
        if secs > 0.0 && self.bytes > 0 {
            write!(f, " ({}/s)", human_bytes(self.bytes as f64 / secs))?;
        }
        if self.verified + self.unverified > 0 {
            write!(f, "; {} of {} downloads verified", self.verified, self.verified + self.unverified)?;
            if self.verified > 0 {
                let by_md5 = self.verified - self.verified_by_checksum.min(self.verified);
                write!(f, " ({} by stored checksum, {by_md5} by MD5 ETag)", self.verified_by_checksum)?;
            }
        }
        if self.resumable > 0 {
            let s = if self.resumable == 1 { "" } else { "s" };
            write!(f, "; {} upload{s} kept to resume", self.resumable)?;
        }
        if self.not_overwritten > 0 {
            write!(f, "; {} already there, not overwritten", self.not_overwritten)?;
        }
        if self.interrupted {
            f.write_str(", interrupted")?;
        }
        Ok(())
    }
}

/// `1.5 MiB`.
fn human_bytes(n: f64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = n;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{v:.0} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations() {
        assert_eq!(Location::parse("s3://b").unwrap(), Location::s3("b", ""));
        assert_eq!(Location::parse("s3://b/a/b/").unwrap(), Location::s3("b", "a/b/"));
        assert_eq!(Location::parse("s3://b//x").unwrap(), Location::s3("b", "/x"));
        assert_eq!(Location::parse("dir/x").unwrap(), Location::Local("dir/x".into()));
        assert!(Location::parse("s3://").is_err());
        assert!(Location::parse("s3:///k").is_err());
        assert!(Location::parse("").is_err());
        assert_eq!(Location::s3("b", "k").to_string(), "s3://b/k");
    }

    #[test]
    fn access_point_locations() {
        let arn = "arn:aws:s3:us-west-2:123456789012:accesspoint/my-ap";
        assert_eq!(Location::parse(&format!("s3://{arn}/logs/a.txt")).unwrap(), Location::s3(arn, "logs/a.txt"));
        assert_eq!(Location::parse(&format!("s3://{arn}")).unwrap(), Location::s3(arn, ""));
        assert_eq!(Location::s3(arn, "k").to_string(), format!("s3://{arn}/k"));
        let e = Location::parse("s3://arn:aws:s3::123456789012:accesspoint/x.mrap/k").unwrap_err();
        assert!(e.is_input() && e.to_string().contains("SigV4a"), "{e}");
        let alias = "my-ap-hrzrlukc5m36ft7okagglf3gmwluquse1b-s3alias";
        assert_eq!(Location::parse(&format!("s3://{alias}/k")).unwrap(), Location::s3(alias, "k"));
    }

    #[test]
    fn summary_line() {
        let s = Summary { done: 3, failed: 1, bytes: 3 << 20, elapsed: Duration::from_secs(2), ..Summary::default() };
        assert_eq!(s.to_string(), "3 done, 1 failed, 0 skipped, 3.0 MiB in 2.0 s (1.5 MiB/s)");
        assert!(!s.is_complete());
        assert!(Summary::default().is_complete());
    }
}
