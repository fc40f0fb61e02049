//! The flags s3 commands share, each defined once and flattened where it is taken: what a bulk
//! command prints (`OutputArgs`), `--exclude`/`--include` (`FilterArgs`), and what cp, mv and
//! sync have in common (`TransferArgs`: the object options, the checksum, symlinks, filters,
//! output).

use super::object::{ObjectArgs, SseKeys};
use crate::{Failure, GlobalArgs};
use cirrus::s3::transfer::{Filters, Rule, SyncOptions, TransferOptions};
use cirrus::s3::ChecksumAlgorithm;

// What a copy or delete prints, as the AWS CLI's flags choose.
#[derive(clap::Args, Debug, Clone, Copy, Default)]
pub(crate) struct OutputArgs {
    /// Do not print the operations done (failures still go to stderr).
    #[arg(long)]
    pub quiet: bool,
    /// Print only errors and warnings.
    #[arg(long)]
    pub only_show_errors: bool,
    /// No progress display (there is none when stderr is not a terminal).
    #[arg(long)]
    pub no_progress: bool,
}

// `--exclude` and `--include`, as the AWS CLI takes them: patterns relative to the source, the
// later one winning (the order across both flags is kept: see `ordered_filters`).
#[derive(clap::Args, Debug, Clone, Default)]
pub(super) struct FilterArgs {
    /// Leave out what matches PATTERN (relative to the source; `*` `?` `[seq]` `[!seq]`).
    #[arg(long, value_name = "PATTERN")]
    exclude: Vec<String>,
    /// Take back in what matches PATTERN (the later of --exclude / --include wins).
    #[arg(long, value_name = "PATTERN")]
    include: Vec<String>,
}

/// The `--exclude` / `--include` of the command in `matches`, in the order they were given.
pub(crate) fn ordered_filters(matches: &clap::ArgMatches) -> Filters {
    let mut m = matches;
    while let Some((_, sub)) = m.subcommand() {
        m = sub;
    }
    let mut found: Vec<(usize, Rule, String)> = Vec::new();
    for (id, rule) in [("exclude", Rule::Exclude), ("include", Rule::Include)] {
        let Ok(Some(values)) = m.try_get_many::<String>(id) else { continue };
        let Some(indices) = m.indices_of(id) else { continue };
        found.extend(indices.zip(values).map(|(i, v)| (i, rule, v.clone())));
    }
    found.sort_by_key(|(i, _, _)| *i);
    let mut filters = Filters::default();
    for (_, rule, pattern) in found {
        filters.push(rule, pattern);
    }
    filters
}

// What cp, mv and sync share: how objects are written, and what is taken from the source.
#[derive(clap::Args, Debug)]
pub(crate) struct TransferArgs {
    #[command(flatten)]
    object: ObjectArgs,
    /// The checksum S3 verifies on upload and stores: CRC32 (the default), CRC32C, SHA256 or CRC64NVME.
    #[arg(long, value_name = "ALGORITHM")]
    checksum_algorithm: Option<ChecksumAlgorithm>,
    /// Follow symlinks in a local source (the default).
    #[arg(long, overrides_with = "no_follow_symlinks")]
    follow_symlinks: bool,
    /// Leave symlinks in a local source out.
    #[arg(long)]
    no_follow_symlinks: bool,
    /// Print what would be done (`(dryrun) upload: ...`), do nothing.
    #[arg(long)]
    pub dryrun: bool,
    /// Keep a large upload that fails or is interrupted, and take it up where it stopped when
    /// the same command is run again with --resume (parts checked before reuse; the journals
    /// are in ~/.cache/cirrus/uploads).
    #[arg(long)]
    resume: bool,
    /// Never replace what is at the destination: an existing object or file is left alone
    /// (`skip:`), and mv keeps its source.
    #[arg(long)]
    pub no_overwrite: bool,
    #[command(flatten)]
    filters: FilterArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub tuning: TuningArgs,
}

impl TransferArgs {
    /// `--resume`: where the journals are.
    fn resume_dir(&self) -> Result<Option<std::path::PathBuf>, Failure> {
        if !self.resume {
            return Ok(None);
        }
        let dir = cirrus::s3::transfer::default_resume_dir(&cirrus::env::ProcessEnv);
        let why = "--resume keeps its journals in ~/.cache/cirrus/uploads: set HOME or XDG_CACHE_HOME";
        dir.map(Some).ok_or_else(|| Failure::input(anyhow::anyhow!(why)))
    }

    /// The engine's options (the filters come in order from `global`) and the SSE-C keys.
    pub(crate) fn options(&self, recursive: bool, global: &GlobalArgs) -> Result<(TransferOptions, SseKeys), Failure> {
        let mut put = self.object.put_options()?;
        put.checksum = self.checksum_algorithm;
        let options = if recursive { TransferOptions::recursive() } else { TransferOptions::default() };
        let options = options
            .with_follow_symlinks(!self.no_follow_symlinks)
            .with_filters(global.filters.clone())
            .with_put_options(put)
            .with_dryrun(self.dryrun)
            .with_resume(self.resume_dir()?)
            .with_no_overwrite(self.no_overwrite);
        Ok((options, self.object.sse_keys()?))
    }
}

// What `cp` and `mv` take.
#[derive(clap::Args, Debug)]
pub(crate) struct CopyArgs {
    /// Everything under a directory or prefix (a prefix names a folder: `data` is `data/`).
    #[arg(long)]
    pub recursive: bool,
    /// cp from one object in S3: copy or download this version of it.
    #[arg(long, value_name = "ID", conflicts_with = "recursive")]
    pub version_id: Option<String>,
    #[command(flatten)]
    pub transfer: TransferArgs,
    #[command(flatten)]
    pub glob: GlobArgs,
    /// Source: a path, `-` (cp only), or s3://BUCKET/KEY (`*`, `?`, `[...]`, `**` match keys).
    pub src: String,
    /// Destination: a path, `-` (cp only), or s3://BUCKET/KEY (a trailing `/` keeps the source's name).
    pub dst: String,
}

// What `sync` takes: cp's flags (always recursive) and how to compare.
#[derive(clap::Args, Debug)]
pub(crate) struct SyncArgs {
    /// Remove what the destination has and the source lacks (except what filters leave out).
    #[arg(long)]
    delete: bool,
    /// Compare sizes only.
    #[arg(long)]
    size_only: bool,
    /// S3 to local: send same-sized objects unless the times match exactly.
    #[arg(long)]
    exact_timestamps: bool,
    /// Compare content, not times: a file whose MD5 (or multipart MD5) is the object's ETag,
    /// or whose CRC32/CRC32C/SHA-256 is the object's stored checksum, is not sent again.
    #[arg(long, conflicts_with_all = ["size_only", "exact_timestamps"])]
    checksum: bool,
    #[command(flatten)]
    pub transfer: TransferArgs,
    /// Source: a directory or s3://BUCKET/PREFIX.
    pub src: String,
    /// Destination: a directory or s3://BUCKET/PREFIX.
    pub dst: String,
}

impl SyncArgs {
    /// The engine's options and the SSE-C keys.
    pub(crate) fn options(&self, global: &GlobalArgs) -> Result<(SyncOptions, SseKeys), Failure> {
        let (transfer, keys) = self.transfer.options(true, global)?;
        let mut options =
            SyncOptions::default().with_transfer(transfer).with_delete(self.delete).with_dryrun(self.transfer.dryrun);
        options.size_only = self.size_only;
        options.exact_timestamps = self.exact_timestamps;
        options.checksum = self.checksum;
        Ok((options, keys))
    }
}

// What `rm` takes.
#[derive(clap::Args, Debug)]
pub(crate) struct RmArgs {
    /// Delete every key under the folder.
    #[arg(long)]
    pub recursive: bool,
    /// Print what would be deleted (`(dryrun) delete: ...`), delete nothing.
    #[arg(long)]
    pub dryrun: bool,
    /// Delete this version of the key, for good (not a delete marker).
    #[arg(long, value_name = "ID", conflicts_with_all = ["recursive", "all_versions"])]
    pub version_id: Option<String>,
    /// Delete every version and delete marker of the key (with --recursive: of every key under
    /// the folder), for good.
    #[arg(long)]
    pub all_versions: bool,
    #[command(flatten)]
    filters: FilterArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Requests in flight at once, 1 to 10000 (default: the profile's
    /// s3.max_concurrent_requests, else 128).
    #[arg(long, value_name = "N", value_parser = concurrency)]
    pub concurrency: Option<usize>,
    #[command(flatten)]
    pub listing: PageSizeArgs,
    #[command(flatten)]
    pub glob: GlobArgs,
    /// s3://BUCKET/KEY_OR_FOLDER (`*`, `?`, `[...]`, `**` match keys)
    pub target: String,
}

impl RmArgs {
    /// The engine's options (the filters come in order from `global`).
    pub(crate) fn options(&self, global: &GlobalArgs) -> TransferOptions {
        let options = if self.recursive { TransferOptions::recursive() } else { TransferOptions::default() };
        options.with_filters(global.filters.clone()).with_dryrun(self.dryrun).with_glob(!self.glob.no_glob)
    }
}

// `--no-glob`: wildcards in an S3 source are read as patterns unless this is given.
#[derive(clap::Args, Debug, Clone, Copy, Default)]
pub(crate) struct GlobArgs {
    /// Take `*`, `?`, `[` and `\` in the S3 source as part of the key, not as wildcards
    /// (without it, `\*` names a literal `*`).
    #[arg(long)]
    pub no_glob: bool,
}

impl GlobArgs {
    /// Whether `url`, an S3 source, is a pattern (a transfer of many objects).
    pub(crate) fn is_pattern(self, url: &str) -> bool {
        !self.no_glob && cirrus::s3::transfer::Location::parse(url).ok().and_then(|l| l.glob()).is_some()
    }
}

// `--concurrency` and `--part-size`: how hard a transfer pushes, over the profile's
// `s3.max_concurrent_requests` and `s3.multipart_chunksize`; `--page-size`: how many keys each
// listing request asks for.
#[derive(clap::Args, Debug, Clone, Copy, Default)]
pub(crate) struct TuningArgs {
    /// Requests in flight at once, 1 to 10000 (default: the profile's
    /// s3.max_concurrent_requests, else 128).
    #[arg(long, value_name = "N", value_parser = concurrency)]
    pub concurrency: Option<usize>,
    /// The size of each part of a multipart transfer, 5MiB to 5GiB: `8MB`, `16MiB`, `5242880`
    /// (default: the profile's s3.multipart_chunksize, else 8MiB).
    #[arg(long, value_name = "SIZE", value_parser = part_size)]
    pub part_size: Option<u64>,
    #[command(flatten)]
    pub listing: PageSizeArgs,
}

// `--page-size`, as the AWS CLI's s3 commands take it.
#[derive(clap::Args, Debug, Clone, Copy, Default)]
pub(crate) struct PageSizeArgs {
    /// Keys asked for in each listing request (default: the store's, 1000 on S3, which is also
    /// its most). Fewer help a store that times out on large pages.
    #[arg(long, value_name = "N", value_parser = page_size)]
    pub page_size: Option<u32>,
}

impl TuningArgs {
    /// Whether any of the flags was given.
    pub(crate) fn is_set(&self) -> bool {
        self.concurrency.is_some() || self.part_size.is_some() || self.listing.page_size.is_some()
    }
}

/// `--page-size N`: a whole number of keys, at least 1.
fn page_size(s: &str) -> Result<u32, String> {
    match s.trim().parse::<u32>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("{s:?} is not a number of keys (1 or more)")),
    }
}

/// `--concurrency N`: 1 to 10000, as the profile's key is kept.
fn concurrency(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if (1..=10_000).contains(&n) => Ok(n),
        _ => Err(format!("{s:?} is not a number of requests from 1 to 10000")),
    }
}

/// `--part-size SIZE`: as the profile's `s3.multipart_chunksize` reads it, within S3's 5 MiB
/// to 5 GiB.
fn part_size(s: &str) -> Result<u64, String> {
    match cirrus::s3::S3Settings::parse_size(s) {
        Some(n) if ((5 << 20)..=(5 << 30)).contains(&n) => Ok(n),
        Some(_) => Err(format!("{s:?} is outside S3's part sizes, 5MiB to 5GiB")),
        None => Err(format!("{s:?} is not a size (e.g. 8MB, 16MiB, 5242880)")),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn tuning_values() {
        assert_eq!(super::part_size("5MB"), Ok(5 << 20));
        assert_eq!(super::part_size("16MiB"), Ok(16 << 20));
        assert_eq!(super::part_size("5242880"), Ok(5 << 20));
        assert_eq!(super::part_size("5GB"), Ok(5 << 30));
        for bad in ["4MB", "5242879", "6GB", "lots", ""] {
            assert!(super::part_size(bad).is_err(), "{bad}");
        }
        assert_eq!(super::concurrency("1"), Ok(1));
        for bad in ["0", "-1", "10001", "x"] {
            assert!(super::concurrency(bad).is_err(), "{bad}");
        }
    }
}
