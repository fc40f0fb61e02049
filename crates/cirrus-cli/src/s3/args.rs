//! The flags s3 commands share, each defined once and flattened where it is taken: what a bulk
//! command prints (`OutputArgs`), `--exclude`/`--include` (`FilterArgs`), and what cp, mv and
//! sync have in common (`TransferArgs`: the object options, the checksum, symlinks, filters,
//! output).

use super::object::{ObjectArgs, SseKeys};
use crate::{Failure, GlobalArgs};
use cirrus::s3::transfer::{Filters, Rule, SyncOptions, TransferOptions};
use cirrus::s3::ChecksumAlgorithm;

/// What a copy or delete prints, as the AWS CLI's flags choose.
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

/// `--exclude` and `--include`, as the AWS CLI takes them: patterns relative to the source, the
/// later one winning (the order across both flags is kept: see `ordered_filters`).
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

/// What cp, mv and sync share: how objects are written, and what is taken from the source.
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
    #[command(flatten)]
    filters: FilterArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

impl TransferArgs {
    /// The engine's options (the filters come in order from `global`) and the SSE-C keys.
    pub(crate) fn options(&self, recursive: bool, global: &GlobalArgs) -> Result<(TransferOptions, SseKeys), Failure> {
        let mut put = self.object.put_options()?;
        put.checksum = self.checksum_algorithm;
        let options = if recursive { TransferOptions::recursive() } else { TransferOptions::default() };
        let options = options
            .with_follow_symlinks(!self.no_follow_symlinks)
            .with_filters(global.filters.clone())
            .with_put_options(put)
            .with_dryrun(self.dryrun);
        Ok((options, self.object.sse_keys()?))
    }
}

/// What `cp` and `mv` take.
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
    /// Source: a path, `-` (cp only), or s3://BUCKET/KEY.
    pub src: String,
    /// Destination: a path, `-` (cp only), or s3://BUCKET/KEY (a trailing `/` keeps the source's name).
    pub dst: String,
}

/// What `sync` takes: cp's flags (always recursive) and how to compare.
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

/// What `rm` takes.
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
    /// s3://BUCKET/KEY_OR_FOLDER
    pub target: String,
}

impl RmArgs {
    /// The engine's options (the filters come in order from `global`).
    pub(crate) fn options(&self, global: &GlobalArgs) -> TransferOptions {
        let options = if self.recursive { TransferOptions::recursive() } else { TransferOptions::default() };
        options.with_filters(global.filters.clone()).with_dryrun(self.dryrun)
    }
}
