//! `cirrus s3 ...`: ls, cp, rm, mb, rb, presign, presign-post, following the AWS CLI's
//! conventions (`s3://bucket/key`, a trailing `/` names a "directory", `--recursive`). Copies
//! and deletes run on the library's transfer engine; this file parses, prints and maps the
//! summary to an exit code.

use crate::output::printable;
use crate::{load_config, Failure, GlobalArgs};
use anyhow::anyhow;
use cirrus::s3::transfer::{Cancel, Event, Filters, Location, Rule, Summary, SyncOptions, TransferOptions, Transfers};
use cirrus::s3::{
    is_folder_key, ChecksumAlgorithm, Expires, ListOptions, MetadataDirective, PostOptions, PresignOptions, PutOptions,
    S3Client, ServerSideEncryption, SseCustomerKey,
};
use futures_util::StreamExt;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::io::AsyncWriteExt;

/// What a copy or delete prints, as the AWS CLI's flags choose.
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct OutputArgs {
    /// Do not print the operations done (failures still go to stderr).
    #[arg(long)]
    quiet: bool,
    /// Print only errors and warnings.
    #[arg(long)]
    only_show_errors: bool,
    /// No progress display (there is none when stderr is not a terminal).
    #[arg(long)]
    no_progress: bool,
}

#[derive(clap::Subcommand, Debug)]
pub enum S3Command {
    /// List buckets, or the objects under s3://BUCKET/PREFIX.
    Ls {
        /// Every key under the prefix, not one level.
        #[arg(long)]
        recursive: bool,
        /// Sizes in KiB, MiB, GiB... as the AWS CLI writes them.
        #[arg(long)]
        human_readable: bool,
        /// A total of objects and bytes at the end.
        #[arg(long)]
        summarize: bool,
        /// s3://BUCKET[/PREFIX]; none lists the buckets.
        target: Option<String>,
    },
    /// Copy local <-> S3 or S3 -> S3; `-` is standard input or output.
    Cp(CopyArgs),
    /// Move local <-> S3 or S3 -> S3: copy, then remove each source once its copy is complete.
    Mv(CopyArgs),
    /// Make DST like SRC (a directory and a prefix, either way, or two prefixes): send what is
    /// missing or changed, and with --delete remove what SRC lacks.
    Sync {
        /// Remove what the destination has and the source lacks (except what filters leave out).
        #[arg(long)]
        delete: bool,
        /// Print what would be done, do nothing.
        #[arg(long)]
        dryrun: bool,
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
        object: ObjectArgs,
        /// The checksum S3 verifies on upload and stores: CRC32 (the default), CRC32C, SHA256 or CRC64NVME.
        #[arg(long, value_name = "ALGORITHM")]
        checksum_algorithm: Option<ChecksumAlgorithm>,
        /// Leave symlinks in a local source out.
        #[arg(long)]
        no_follow_symlinks: bool,
        #[command(flatten)]
        filters: FilterArgs,
        #[command(flatten)]
        output: OutputArgs,
        /// Source: a directory or s3://BUCKET/PREFIX.
        src: String,
        /// Destination: a directory or s3://BUCKET/PREFIX.
        dst: String,
    },
    /// Delete a key, or everything under a folder with --recursive (`data` means `data/`).
    Rm {
        /// Delete every key under the folder.
        #[arg(long)]
        recursive: bool,
        #[command(flatten)]
        filters: FilterArgs,
        #[command(flatten)]
        output: OutputArgs,
        /// s3://BUCKET/KEY_OR_FOLDER
        target: String,
    },
    /// Make a bucket.
    Mb {
        /// s3://BUCKET
        target: String,
    },
    /// Remove a bucket.
    Rb {
        /// Delete every object in it first.
        #[arg(long)]
        force: bool,
        /// s3://BUCKET
        target: String,
    },
    /// Print a presigned URL.
    Presign {
        /// Seconds the URL works (at most 604800, 7 days).
        #[arg(long, default_value_t = 3600)]
        expires_in: u64,
        /// GET (download) or PUT (upload).
        #[arg(long, default_value = "GET")]
        method: String,
        /// s3://BUCKET/KEY
        target: String,
    },
    /// Print a presigned POST form, {"url": ..., "fields": {...}}, for a browser upload.
    PresignPost {
        /// The file name the key ends with (the key is PREFIX + FILENAME).
        #[arg(long)]
        filename: String,
        /// The Content-Type the upload must have.
        #[arg(long)]
        content_type: Option<String>,
        /// The largest upload allowed, in bytes (at most 5368709120, 5 GiB: S3's limit for POST).
        #[arg(long)]
        max_size: Option<u64>,
        /// Seconds the form works.
        #[arg(long, default_value_t = 3600)]
        expires_in: u64,
        /// s3://BUCKET/PREFIX/
        target: String,
    },
}
/// `s3://bucket/key` split; the key may be empty.
fn parse_s3(url: &str) -> Result<(String, String), Failure> {
    match Location::parse(url) {
        Ok(Location::S3 { bucket, key }) => Ok((bucket, key)),
        Ok(Location::Local(_)) => Err(Failure::input(anyhow!("{url:?} is not an s3:// URL (s3://BUCKET/KEY)"))),
        Err(e) => Err(Failure::input(e)),
    }
}

fn client(global: &GlobalArgs) -> Result<S3Client, Failure> {
    let config = load_config(global)?;
    S3Client::from_config(&config).map_err(Failure::config)
}

fn rm_options(recursive: bool, global: &GlobalArgs) -> TransferOptions {
    let options = if recursive { TransferOptions::recursive() } else { TransferOptions::default() };
    options.with_filters(global.filters.clone())
}

#[cfg(test)]
mod size_tests {
    use super::human_size;

    #[test]
    fn sizes_as_the_aws_cli_writes_them() {
        // awscli.customizations.s3.utils.human_readable_size on the same values.
        for (n, want) in [
            (0, "0 Bytes"),
            (1, "1 Byte"),
            (1023, "1023 Bytes"),
            (1024, "1.0 KiB"),
            (1536, "1.5 KiB"),
            (1048575, "1.0 MiB"),
            (11 << 20, "11.0 MiB"),
            (5 << 30, "5.0 GiB"),
        ] {
            assert_eq!(human_size(n), want, "{n}");
        }
    }
}

fn library_error(e: cirrus::transport::Error) -> Failure {
    Failure::from(e)
}

/// What `cp` and `mv` take.
#[derive(clap::Args, Debug)]
pub struct CopyArgs {
    /// Everything under a directory or prefix (a prefix names a folder: `data` is `data/`).
    #[arg(long)]
    recursive: bool,
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
    #[command(flatten)]
    filters: FilterArgs,
    #[command(flatten)]
    output: OutputArgs,
    /// Source: a path, `-` (cp only), or s3://BUCKET/KEY.
    src: String,
    /// Destination: a path, `-` (cp only), or s3://BUCKET/KEY (a trailing `/` keeps the source's name).
    dst: String,
}

impl CopyArgs {
    /// The engine's options (the filters come in order from `global`) and the SSE-C keys.
    fn options(&self, global: &GlobalArgs) -> Result<(TransferOptions, SseKeys), Failure> {
        let mut put = self.object.put_options()?;
        put.checksum = self.checksum_algorithm;
        let options = if self.recursive { TransferOptions::recursive() } else { TransferOptions::default() };
        let options = options
            .with_follow_symlinks(!self.no_follow_symlinks)
            .with_filters(global.filters.clone())
            .with_put_options(put);
        Ok((options, self.object.sse_keys()?))
    }
}

/// The headers of the objects written, with the AWS CLI's names.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ObjectArgs {
    /// Content-Type of the objects written (default: from the file name).
    #[arg(long)]
    content_type: Option<String>,
    /// Content-Disposition.
    #[arg(long)]
    content_disposition: Option<String>,
    /// Content-Encoding.
    #[arg(long)]
    content_encoding: Option<String>,
    /// Content-Language.
    #[arg(long)]
    content_language: Option<String>,
    /// Cache-Control.
    #[arg(long)]
    cache_control: Option<String>,
    /// Expires: an RFC 3339 time (`2026-12-01T00:00:00Z`), a date (`2026-12-01`), an HTTP
    /// date or seconds since 1970; sent as an HTTP date, as the AWS CLI sends it.
    #[arg(long, value_name = "TIME")]
    expires: Option<String>,
    /// Metadata: KEY=VALUE[,KEY=VALUE...].
    #[arg(long, value_name = "KEY=VALUE,...")]
    metadata: Option<String>,
    /// For S3 to S3 copies: COPY the source's metadata or REPLACE it with the options given
    /// (default: REPLACE when any is given).
    #[arg(long, value_name = "COPY|REPLACE")]
    metadata_directive: Option<String>,
    /// The storage class: STANDARD, STANDARD_IA, INTELLIGENT_TIERING, GLACIER_IR...
    #[arg(long)]
    storage_class: Option<String>,
    /// A canned ACL: private, public-read, bucket-owner-full-control...
    #[arg(long)]
    acl: Option<String>,
    /// Server-side encryption: AES256 (when given without a value) or aws:kms.
    #[arg(long, num_args = 0..=1, default_missing_value = "AES256", value_name = "AES256|aws:kms")]
    sse: Option<String>,
    /// The KMS key for --sse aws:kms.
    #[arg(long, value_name = "KEY_ID")]
    sse_kms_key_id: Option<String>,
    /// SSE-C: objects written and read are encrypted with --sse-c-key (AES256).
    #[arg(long, num_args = 0..=1, default_missing_value = "AES256", value_name = "AES256")]
    sse_c: Option<String>,
    /// The 32-byte SSE-C key, as text or fileb://PATH. Never printed.
    #[arg(long, value_name = "KEY")]
    sse_c_key: Option<String>,
    /// SSE-C: a copy's source is encrypted with --sse-c-copy-source-key (AES256).
    #[arg(long, num_args = 0..=1, default_missing_value = "AES256", value_name = "AES256")]
    sse_c_copy_source: Option<String>,
    /// The 32-byte SSE-C key of a copy's source, as text or fileb://PATH.
    #[arg(long, value_name = "KEY")]
    sse_c_copy_source_key: Option<String>,
}

/// The SSE-C keys of a command: the objects', and a copy source's.
#[derive(Default)]
pub struct SseKeys {
    object: Option<SseCustomerKey>,
    source: Option<SseCustomerKey>,
}

impl SseKeys {
    fn client(&self, s3: S3Client) -> S3Client {
        if self.object.is_none() && self.source.is_none() {
            return s3;
        }
        s3.with_sse_customer_key(self.object.clone()).with_copy_source_sse_customer_key(self.source.clone())
    }
}

/// `--sse-c AES256 --sse-c-key K`: both or neither; the key as text or `fileb://PATH`.
fn sse_c_key(flag: &str, alg: Option<&str>, key: Option<&str>) -> Result<Option<SseCustomerKey>, Failure> {
    let (alg, key) = match (alg, key) {
        (None, None) => return Ok(None),
        (Some(a), Some(k)) => (a, k),
        (Some(_), None) => return Err(Failure::input(anyhow!("--{flag} needs --{flag}-key"))),
        (None, Some(_)) => return Err(Failure::input(anyhow!("--{flag}-key goes with --{flag} AES256"))),
    };
    if alg != "AES256" {
        return Err(Failure::input(anyhow!("--{flag} {alg:?}: SSE-C is AES256")));
    }
    let bytes = match key.strip_prefix("fileb://") {
        // A key is 32 bytes: anything much larger is not one.
        Some(path) => zeroize::Zeroizing::new(crate::read_limited(
            &format!("--{flag}-key fileb://"),
            std::path::Path::new(path),
            1024,
        )?),
        None => zeroize::Zeroizing::new(key.as_bytes().to_vec()),
    };
    SseCustomerKey::new(&bytes)
        .map(Some)
        .map_err(|e| Failure::input(anyhow::Error::new(e).context(format!("--{flag}-key"))))
}

impl ObjectArgs {
    fn sse_keys(&self) -> Result<SseKeys, Failure> {
        Ok(SseKeys {
            object: sse_c_key("sse-c", self.sse_c.as_deref(), self.sse_c_key.as_deref())?,
            source: sse_c_key(
                "sse-c-copy-source",
                self.sse_c_copy_source.as_deref(),
                self.sse_c_copy_source_key.as_deref(),
            )?,
        })
    }

    /// The upload options these flags describe; bad values are exit 2.
    fn put_options(&self) -> Result<PutOptions, Failure> {
        let mut put = PutOptions::default();
        put.content_type = self.content_type.clone();
        put.content_disposition = self.content_disposition.clone();
        put.content_encoding = self.content_encoding.clone();
        put.content_language = self.content_language.clone();
        put.cache_control = self.cache_control.clone();
        if let Some(text) = &self.expires {
            let expires = text.parse::<Expires>().map_err(|_| {
                Failure::input(anyhow!(
                    "--expires {text:?} is not a time: give 2026-12-01T00:00:00Z, 2026-12-01, an HTTP date or seconds since 1970"
                ))
            })?;
            put = put.with_expires(expires);
        }
        put.storage_class = self.storage_class.clone();
        put.acl = self.acl.clone();
        if let Some(m) = &self.metadata {
            for pair in m.split(',').filter(|p| !p.trim().is_empty()) {
                let (k, v) = pair.split_once('=').ok_or_else(|| {
                    Failure::input(anyhow!("--metadata {pair:?}: expected KEY=VALUE (pairs separated by commas)"))
                })?;
                put.metadata.push((k.trim().to_owned(), v.to_owned()));
            }
        }
        if let Some(d) = &self.metadata_directive {
            let directive = d.parse::<MetadataDirective>().map_err(|_| {
                Failure::input(anyhow!("--metadata-directive {:?}: COPY or REPLACE", d.to_ascii_uppercase()))
            })?;
            put.metadata_directive = Some(directive);
        }
        if let Some(v) = &self.sse {
            let kind = v
                .parse::<ServerSideEncryption>()
                .map_err(|_| Failure::input(anyhow!("--sse {v:?}: AES256 or aws:kms")))?;
            put = put.with_server_side_encryption(kind);
        }
        if let Some(key) = &self.sse_kms_key_id {
            if put.server_side_encryption.is_some_and(|s| !s.is_kms()) {
                return Err(Failure::input(anyhow!("--sse-kms-key-id goes with --sse aws:kms")));
            }
            put = put.with_kms_key(key);
        }
        // Once, before anything is sent: a value no header can hold is bad input, not a
        // failure of every object.
        put.check().map_err(Failure::input)?;
        Ok(put)
    }
}

/// `--exclude` and `--include`, as the AWS CLI takes them: patterns relative to the source, the
/// later one winning (the order across both flags is kept: see `ordered_filters`).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct FilterArgs {
    /// Leave out what matches PATTERN (relative to the source; `*` `?` `[seq]` `[!seq]`).
    #[arg(long, value_name = "PATTERN")]
    exclude: Vec<String>,
    /// Take back in what matches PATTERN (the later of --exclude / --include wins).
    #[arg(long, value_name = "PATTERN")]
    include: Vec<String>,
}

/// The `--exclude` / `--include` of the command in `matches`, in the order they were given.
pub fn ordered_filters(matches: &clap::ArgMatches) -> Filters {
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

pub async fn run(global: &GlobalArgs, cmd: S3Command) -> Result<(), Failure> {
    match cmd {
        S3Command::Ls { recursive, human_readable, summarize, target } => {
            ls(global, recursive, LsStyle { human_readable, summarize }, target.as_deref()).await
        }
        S3Command::Cp(args) => {
            let (options, keys) = args.options(global)?;
            cp(global, options, args.output, &args.src, &args.dst, &keys).await
        }
        S3Command::Mv(args) => {
            let (options, keys) = args.options(global)?;
            mv(global, options, args.output, &args.src, &args.dst, &keys).await
        }
        S3Command::Sync {
            delete,
            dryrun,
            size_only,
            exact_timestamps,
            checksum,
            object,
            checksum_algorithm,
            no_follow_symlinks,
            filters: _,
            output,
            src,
            dst,
        } => {
            let mut put = object.put_options()?;
            put.checksum = checksum_algorithm;
            let keys = object.sse_keys()?;
            let transfer = TransferOptions::recursive()
                .with_follow_symlinks(!no_follow_symlinks)
                .with_filters(global.filters.clone())
                .with_put_options(put);
            let mut options = SyncOptions::default().with_transfer(transfer).with_delete(delete).with_dryrun(dryrun);
            options.size_only = size_only;
            options.exact_timestamps = exact_timestamps;
            options.checksum = checksum;
            let src_at = Location::parse(&src).map_err(library_error)?;
            let dst_at = Location::parse(&dst).map_err(library_error)?;
            let engine = Transfers::new(keys.client(client(global)?));
            let cancel = interrupt_on_signal();
            let printer = Printer::new(output, true, &cancel);
            let observer = printer.clone();
            let summary = engine
                .sync(&src_at, &dst_at, &options, move |e| observer.on(e), &cancel)
                .await
                .map_err(library_error)?;
            printer.finish(&summary, !dryrun)
        }
        S3Command::Rm { recursive, filters: _, output, target } => {
            let (bucket, key) = parse_s3(&target)?;
            let engine = Transfers::new(client(global)?);
            let cancel = interrupt_on_signal();
            let printer = Printer::new(output, recursive, &cancel);
            let observer = printer.clone();
            let summary = engine
                .remove(&Location::s3(bucket, key), &rm_options(recursive, global), move |e| observer.on(e), &cancel)
                .await
                .map_err(library_error)?;
            printer.finish(&summary, recursive)
        }
        S3Command::Mb { target } => {
            let (bucket, _) = parse_s3(&target)?;
            client(global)?.create_bucket(&bucket).await?;
            outln!("make_bucket: {bucket}")?;
            Ok(())
        }
        S3Command::Rb { force, target } => {
            let (bucket, _) = parse_s3(&target)?;
            let s3 = client(global)?;
            if force {
                let cancel = interrupt_on_signal();
                let output = OutputArgs { quiet: false, only_show_errors: false, no_progress: false };
                let printer = Printer::new(output, true, &cancel);
                let observer = printer.clone();
                let summary = Transfers::new(s3.clone())
                    .remove(
                        &Location::s3(bucket.clone(), ""),
                        &TransferOptions::recursive(),
                        move |e| observer.on(e),
                        &cancel,
                    )
                    .await
                    .map_err(library_error)?;
                if !summary.is_complete() {
                    return printer.finish(&summary, true);
                }
            }
            s3.delete_bucket(&bucket).await?;
            outln!("remove_bucket: {bucket}")?;
            Ok(())
        }
        S3Command::Presign { expires_in, method, target } => {
            let (bucket, key) = parse_s3(&target)?;
            let method = match method.to_ascii_uppercase().as_str() {
                "GET" => http::Method::GET,
                "PUT" => http::Method::PUT,
                other => return Err(Failure::input(anyhow!("--method {other:?}: GET or PUT"))),
            };
            let s3 = client(global)?;
            let opts = PresignOptions::default();
            let p = s3
                .presign(method, &bucket, &key, Duration::from_secs(expires_in), &opts)
                .await
                .map_err(library_error)?;
            if let Some(w) = p.warning() {
                eprintln!("cirrus: warning: {w}");
            }
            outln!("{}", p.url)?;
            Ok(())
        }
        S3Command::PresignPost { filename, content_type, max_size, expires_in, target } => {
            let (bucket, prefix) = parse_s3(&target)?;
            let mut opts =
                PostOptions::new(prefix).with_filename(filename).with_expires_in(Duration::from_secs(expires_in));
            if let Some(t) = content_type {
                opts = opts.with_content_type(t);
            }
            if let Some(n) = max_size {
                opts = opts.with_max_size(n);
            }
            let s3 = client(global)?;
            let form = s3.presign_post(&bucket, &opts).await.map_err(library_error)?;
            let fields: serde_json::Map<String, serde_json::Value> =
                form.fields.into_iter().map(|(k, v)| (k, serde_json::Value::String(v))).collect();
            outln!("{}", serde_json::json!({"url": form.url, "fields": fields}))?;
            Ok(())
        }
    }
}

fn date(t: Option<SystemTime>) -> String {
    let s = t.map(cirrus::sigv4::format_rfc3339).unwrap_or_else(|| "                    ".to_owned());
    // 2024-01-02T03:04:05Z -> 2024-01-02 03:04:05, as the AWS CLI prints it.
    s.trim_end_matches('Z').replacen('T', " ", 1)
}

/// How `ls` writes sizes and whether it sums up.
#[derive(Clone, Copy)]
struct LsStyle {
    human_readable: bool,
    summarize: bool,
}

impl LsStyle {
    fn size(self, n: u64) -> String {
        if self.human_readable {
            human_size(n)
        } else {
            n.to_string()
        }
    }
}

/// The AWS CLI's human-readable sizes: `1 Byte`, `512 Bytes`, `1.0 KiB`, `11.0 MiB`...
fn human_size(n: u64) -> String {
    const SUFFIXES: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let bytes = n as f64;
    if n == 1 {
        return "1 Byte".to_owned();
    }
    if n < 1024 {
        return format!("{n} Bytes");
    }
    for (i, suffix) in SUFFIXES.iter().enumerate() {
        let unit = 1024f64.powi(i as i32 + 2);
        if ((bytes / unit) * 1024.0).round() < 1024.0 {
            return format!("{:.1} {suffix}", 1024.0 * bytes / unit);
        }
    }
    format!("{:.1} EiB", bytes / 1024f64.powi(6))
}

async fn ls(global: &GlobalArgs, recursive: bool, style: LsStyle, target: Option<&str>) -> Result<(), Failure> {
    let s3 = client(global)?;
    let mut out = std::io::stdout().lock();
    let Some(target) = target else {
        let buckets = s3.list_buckets().await?;
        for b in buckets {
            writeln!(out, "{} {}", date(b.created), printable(&b.name)).map_err(crate::output::stdout_error)?;
        }
        return Ok(());
    };
    let (bucket, prefix) = parse_s3(target)?;
    let (mut objects_seen, mut bytes_seen) = (0u64, 0u64);
    async {
        if recursive {
            let mut objects = Box::pin(s3.list(&bucket, ListOptions::prefix(prefix.clone())));
            while let Some(o) = objects.next().await {
                let o = o.map_err(library_error)?;
                (objects_seen, bytes_seen) = (objects_seen + 1, bytes_seen.saturating_add(o.size));
                writeln!(out, "{} {:>10} {}", date(o.last_modified), style.size(o.size), printable(&o.key))
                    .map_err(crate::output::stdout_error)?;
            }
        } else {
            let mut pages = Box::pin(s3.list_pages(&bucket, ListOptions::prefix(prefix.clone()).with_delimiter("/")));
            // Relative to the "directory" the prefix names, as the AWS CLI shows them.
            let base = match prefix.rfind('/') {
                Some(i) => &prefix[..=i],
                None => "",
            };
            while let Some(p) = pages.next().await {
                let p = p.map_err(library_error)?;
                for cp in &p.common_prefixes {
                    writeln!(out, "{:>30} {}", "PRE", printable(cp.strip_prefix(base).unwrap_or(cp)))
                        .map_err(crate::output::stdout_error)?;
                }
                for o in &p.objects {
                    (objects_seen, bytes_seen) = (objects_seen + 1, bytes_seen.saturating_add(o.size));
                    writeln!(
                        out,
                        "{} {:>10} {}",
                        date(o.last_modified),
                        style.size(o.size),
                        printable(o.key.strip_prefix(base).unwrap_or(&o.key))
                    )
                    .map_err(crate::output::stdout_error)?;
                }
            }
        }
        if style.summarize {
            // The AWS CLI's layout: a blank line, then the two totals right-aligned.
            writeln!(out, "\nTotal Objects: {objects_seen}\n   Total Size: {}", style.size(bytes_seen))
                .map_err(crate::output::stdout_error)?;
        }
        Ok::<_, Failure>(())
    }
    .await?;
    Ok(())
}

/// Stops the engine on SIGINT or SIGTERM (it cleans up, then the command exits 130); a second
/// signal ends the program at once.
fn interrupt_on_signal() -> Cancel {
    use tokio::signal::unix::{signal, SignalKind};
    let cancel = Cancel::new();
    // Registered now, before any work starts, so an early signal is not lost.
    let (int, term) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate()));
    let (Ok(mut int), Ok(mut term)) = (int, term) else { return cancel };
    let fire = cancel.clone();
    tokio::spawn(async move {
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
        eprintln!("cirrus: interrupted: stopping, aborting multipart uploads, removing temporary files");
        fire.cancel();
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
        std::process::exit(130);
    });
    cancel
}

/// Prints the engine's events as the AWS CLI does (`upload: A to B` on stdout, failures and
/// warnings on stderr), keeps the progress display, and ends with the summary and exit code.
#[derive(Clone)]
struct Printer(Arc<PrinterInner>);

struct PrinterInner {
    output: OutputArgs,
    bar: Option<indicatif::ProgressBar>,
    done: AtomicU64,
    total: AtomicU64,
    /// Stops the engine when standard output closes (it cleans up as for an interrupt).
    cancel: Cancel,
    /// The reader of standard output went away: the command ends with 141.
    closed: std::sync::atomic::AtomicBool,
}

impl Printer {
    fn new(output: OutputArgs, bulk: bool, cancel: &Cancel) -> Self {
        let bar = (!output.no_progress && !output.quiet && std::io::stderr().is_terminal()).then(|| {
            let template = if bulk {
                "{spinner} {msg} {binary_bytes} {binary_bytes_per_sec} {elapsed}"
            } else {
                "{spinner} {binary_bytes} {binary_bytes_per_sec} {elapsed}"
            };
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_style(
                indicatif::ProgressStyle::with_template(template)
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Printer(Arc::new(PrinterInner {
            output,
            bar,
            done: AtomicU64::new(0),
            total: AtomicU64::new(u64::MAX),
            cancel: cancel.clone(),
            closed: std::sync::atomic::AtomicBool::new(false),
        }))
    }

    fn line(&self, to_stderr: bool, text: &str) {
        use std::io::Write;
        // Keys and server messages come from outside: no escape sequence reaches the terminal.
        let text = printable(text);
        let print = || {
            if to_stderr {
                let _ = writeln!(std::io::stderr(), "{text}");
            } else if !self.0.closed.load(Ordering::Relaxed) {
                if let Err(e) = writeln!(std::io::stdout(), "{text}") {
                    // `cirrus s3 cp ... | head`: stop as for an interrupt (uploads aborted,
                    // temporary files removed), then exit 141.
                    if crate::output::is_closed_pipe(&e) && !self.0.closed.swap(true, Ordering::Relaxed) {
                        self.0.cancel.cancel();
                    }
                }
            }
        };
        match &self.0.bar {
            Some(bar) => bar.suspend(print),
            None => print(),
        }
    }

    fn update(&self) {
        if let Some(bar) = &self.0.bar {
            let done = self.0.done.load(Ordering::Relaxed);
            match self.0.total.load(Ordering::Relaxed) {
                u64::MAX => bar.set_message(format!("{done} files")),
                total => bar.set_message(format!("{done}/{total} files")),
            }
        }
    }

    fn on(&self, event: &Event) {
        let o = &self.0.output;
        match event {
            Event::Done { .. } => {
                self.0.done.fetch_add(1, Ordering::Relaxed);
                if !o.quiet && !o.only_show_errors {
                    self.line(false, &event.to_string());
                }
                self.update();
            }
            Event::Failed { .. } => self.line(true, &event.to_string()),
            Event::DryRun { .. } if !o.quiet && !o.only_show_errors => self.line(false, &event.to_string()),
            Event::Skipped { .. } if !o.quiet => self.line(true, &event.to_string()),
            Event::Unverified { .. } if !o.quiet && !o.only_show_errors => self.line(true, &event.to_string()),
            Event::Bytes(n) => {
                if let Some(bar) = &self.0.bar {
                    bar.inc(*n);
                }
            }
            Event::Listed { objects, .. } => {
                self.0.total.store(*objects, Ordering::Relaxed);
                self.update();
            }
            _ => {}
        }
    }

    /// The summary (for a bulk command, or when something went wrong) and the exit code: 130
    /// interrupted, 1 anything failed or skipped, 0 otherwise.
    fn finish(&self, summary: &Summary, bulk: bool) -> Result<(), Failure> {
        if let Some(bar) = &self.0.bar {
            bar.finish_and_clear();
        }
        for left in &summary.left_behind {
            eprintln!("cirrus: {left}");
        }
        let o = &self.0.output;
        if bulk && !o.quiet && !(o.only_show_errors && summary.is_complete()) {
            eprintln!("cirrus: {summary}");
        }
        if self.0.closed.load(Ordering::Relaxed) {
            Err(Failure::silent(141))
        } else if summary.interrupted {
            Err(Failure::silent(130))
        } else if !summary.is_complete() {
            Err(Failure::silent(1))
        } else {
            Ok(())
        }
    }
}

/// `cp`: standard input and output here; everything else on the engine.
async fn mv(
    global: &GlobalArgs,
    options: TransferOptions,
    output: OutputArgs,
    src: &str,
    dst: &str,
    keys: &SseKeys,
) -> Result<(), Failure> {
    if src == "-" || dst == "-" {
        return Err(Failure::input(anyhow!("mv moves files and objects, not standard input or output: use cp")));
    }
    on_engine(global, options, output, (src, dst), keys, true).await
}

async fn cp(
    global: &GlobalArgs,
    options: TransferOptions,
    output: OutputArgs,
    src: &str,
    dst: &str,
    keys: &SseKeys,
) -> Result<(), Failure> {
    if src == "-" {
        let (bucket, key) = parse_s3(dst)?;
        if is_folder_key(&key) {
            return Err(Failure::input(anyhow!("{dst:?}: name the key to write standard input to")));
        }
        let s3 = keys.client(client(global)?);
        let cancel = interrupt_on_signal();
        let printer = Printer::new(output, false, &cancel);
        let mut put = options.put.clone();
        if let Some(bar) = printer.0.bar.clone() {
            put = put.with_progress(Arc::new(move |n| bar.set_position(n)));
        }
        let uploaded = s3.upload_with_cancel(&bucket, &key, tokio::io::stdin(), &put, &cancel).await;
        match uploaded {
            Ok(_) => {}
            // Interrupted: the multipart upload is aborted (or the error says it could not be).
            Err(e) if cancel.is_cancelled() => {
                eprintln!("cirrus: {}", printable(&e.to_string()));
                return Err(Failure::silent(130));
            }
            Err(e) => return Err(library_error(e)),
        }
        printer.finish(&Summary::default(), false)?;
        if !output.quiet && !output.only_show_errors {
            outln!("{}", printable(&format!("upload: - to s3://{bucket}/{key}")))?;
        }
        return Ok(());
    }
    if dst == "-" {
        let (bucket, key) = parse_s3(src)?;
        if is_folder_key(&key) {
            return Err(Failure::input(anyhow!("{src:?} names no object")));
        }
        let got = keys.client(client(global)?).get(&bucket, &key, None).await?;
        let mut body = got.body;
        let mut out = tokio::io::stdout();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(anyhow::Error::new)?;
            out.write_all(&chunk).await.map_err(crate::output::stdout_error)?;
        }
        out.flush().await.map_err(crate::output::stdout_error)?;
        return Ok(());
    }
    on_engine(global, options, output, (src, dst), keys, false).await
}

/// `cp` (or `mv`, when `moving`) between a directory and a prefix, or two prefixes, on the
/// transfer engine.
async fn on_engine(
    global: &GlobalArgs,
    options: TransferOptions,
    output: OutputArgs,
    (src, dst): (&str, &str),
    keys: &SseKeys,
    moving: bool,
) -> Result<(), Failure> {
    let src_at = Location::parse(src).map_err(library_error)?;
    let dst_at = Location::parse(dst).map_err(library_error)?;
    if !src_at.is_s3() && !dst_at.is_s3() {
        return Err(Failure::input(anyhow!("one of SRC and DST must be an s3:// URL")));
    }
    let engine = Transfers::new(keys.client(client(global)?));
    let cancel = interrupt_on_signal();
    let printer = Printer::new(output, options.recursive, &cancel);
    let observer = printer.clone();
    let observer = move |e: &Event| observer.on(e);
    let summary = if moving {
        engine.mv(&src_at, &dst_at, &options, observer, &cancel).await
    } else {
        engine.copy(&src_at, &dst_at, &options, observer, &cancel).await
    }
    .map_err(library_error)?;
    printer.finish(&summary, options.recursive)
}
