//! `cirrus s3 ...`: ls, cp, rm, mb, rb, presign, presign-post, following the AWS CLI's
//! conventions (`s3://bucket/key`, a trailing `/` names a "directory", `--recursive`).

use crate::{block_on, load_config, Failure, GlobalArgs};
use anyhow::{anyhow, Context as _};
use cirrus::s3::{ChecksumAlgorithm, ListOptions, PostOptions, PresignOptions, PutOptions, S3Client};
use futures_util::{StreamExt, TryStreamExt};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::io::AsyncWriteExt;

#[derive(clap::Subcommand, Debug)]
pub enum S3Command {
    /// List buckets, or the objects under s3://BUCKET/PREFIX.
    Ls {
        /// Every key under the prefix, not one level.
        #[arg(long)]
        recursive: bool,
        /// s3://BUCKET[/PREFIX]; none lists the buckets.
        target: Option<String>,
    },
    /// Copy local <-> S3 or S3 -> S3; `-` is standard input or output.
    Cp {
        /// Copy everything under a directory or prefix.
        #[arg(long)]
        recursive: bool,
        /// Content-Type of uploaded objects (default: from the file name).
        #[arg(long)]
        content_type: Option<String>,
        /// A checksum S3 verifies on upload: CRC32, CRC32C or SHA256.
        #[arg(long, value_name = "ALGORITHM")]
        checksum_algorithm: Option<ChecksumAlgorithm>,
        /// Source: a path, `-`, or s3://BUCKET/KEY.
        src: String,
        /// Destination: a path, `-`, or s3://BUCKET/KEY (a trailing `/` keeps the source's name).
        dst: String,
    },
    /// Delete a key, or everything under a prefix with --recursive.
    Rm {
        /// Delete every key under the prefix.
        #[arg(long)]
        recursive: bool,
        /// s3://BUCKET/KEY_OR_PREFIX
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
        /// The largest upload allowed, in bytes.
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
    let rest = url
        .strip_prefix("s3://")
        .ok_or_else(|| Failure::input(anyhow!("{url:?} is not an s3:// URL (s3://BUCKET/KEY)")))?;
    let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err(Failure::input(anyhow!("{url:?} names no bucket")));
    }
    Ok((bucket.to_owned(), key.to_owned()))
}

fn client(global: &GlobalArgs) -> Result<S3Client, Failure> {
    let config = load_config(global)?;
    S3Client::new(&config).map_err(|e| Failure::input(anyhow!("{e}")))
}

pub fn run(global: &GlobalArgs, cmd: S3Command) -> Result<(), Failure> {
    match cmd {
        S3Command::Ls { recursive, target } => ls(global, recursive, target.as_deref()),
        S3Command::Cp { recursive, content_type, checksum_algorithm, src, dst } => {
            let mut opts = PutOptions::default();
            opts.content_type = content_type;
            opts.checksum = checksum_algorithm;
            cp(global, recursive, &opts, &src, &dst)
        }
        S3Command::Rm { recursive, target } => {
            let (bucket, key) = parse_s3(&target)?;
            let s3 = client(global)?;
            if recursive {
                let report = block_on(s3.delete_prefix(&bucket, &key))?.map_err(anyhow::Error::new)?;
                for f in &report.failed {
                    eprintln!("delete failed: s3://{bucket}/{} {}: {}", f.key, f.code, f.message);
                }
                println!("deleted {} objects under s3://{bucket}/{key}", report.deleted);
                if !report.is_complete() {
                    return Err(anyhow!("{} objects could not be deleted", report.failed.len()).into());
                }
            } else {
                if key.is_empty() {
                    return Err(Failure::input(anyhow!("{target:?} names no key (use --recursive for a prefix)")));
                }
                block_on(s3.delete(&bucket, &key))?.map_err(anyhow::Error::new)?;
                println!("delete: s3://{bucket}/{key}");
            }
            Ok(())
        }
        S3Command::Mb { target } => {
            let (bucket, _) = parse_s3(&target)?;
            block_on(client(global)?.create_bucket(&bucket))?.map_err(anyhow::Error::new)?;
            println!("make_bucket: {bucket}");
            Ok(())
        }
        S3Command::Rb { force, target } => {
            let (bucket, _) = parse_s3(&target)?;
            let s3 = client(global)?;
            block_on(async {
                if force {
                    let report = s3.delete_prefix(&bucket, "").await?;
                    if !report.is_complete() {
                        return Err(anyhow!("{} objects could not be deleted", report.failed.len()));
                    }
                }
                s3.delete_bucket(&bucket).await?;
                Ok(())
            })??;
            println!("remove_bucket: {bucket}");
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
            let p = block_on(s3.presign(method, &bucket, &key, Duration::from_secs(expires_in), &opts))?
                .map_err(|e| if e.is_input() { Failure::input(e) } else { anyhow::Error::new(e).into() })?;
            if let Some(w) = p.warning() {
                eprintln!("cirrus: warning: {w}");
            }
            println!("{}", p.url);
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
            let form = block_on(s3.presign_post(&bucket, &opts))?.map_err(|e| {
                if e.is_input() {
                    Failure::input(e)
                } else {
                    anyhow::Error::new(e).into()
                }
            })?;
            let fields: serde_json::Map<String, serde_json::Value> =
                form.fields.into_iter().map(|(k, v)| (k, serde_json::Value::String(v))).collect();
            println!("{}", serde_json::json!({"url": form.url, "fields": fields}));
            Ok(())
        }
    }
}

fn date(t: Option<SystemTime>) -> String {
    let s = t.map(cirrus::sigv4::format_rfc3339).unwrap_or_else(|| "                    ".to_owned());
    // 2024-01-02T03:04:05Z -> 2024-01-02 03:04:05, as the AWS CLI prints it.
    s.trim_end_matches('Z').replacen('T', " ", 1)
}

fn ls(global: &GlobalArgs, recursive: bool, target: Option<&str>) -> Result<(), Failure> {
    let s3 = client(global)?;
    let mut out = std::io::stdout().lock();
    let Some(target) = target else {
        let buckets = block_on(s3.list_buckets())?.map_err(anyhow::Error::new)?;
        for b in buckets {
            writeln!(out, "{} {}", date(b.created), b.name).context("cannot write to standard output")?;
        }
        return Ok(());
    };
    let (bucket, prefix) = parse_s3(target)?;
    block_on(async {
        if recursive {
            let mut objects = Box::pin(s3.list(&bucket, ListOptions::prefix(prefix.clone())));
            while let Some(o) = objects.next().await {
                let o = o?;
                writeln!(out, "{} {:>10} {}", date(o.last_modified), o.size, o.key)?;
            }
        } else {
            let mut pages = Box::pin(s3.list_pages(&bucket, ListOptions::prefix(prefix.clone()).with_delimiter("/")));
            // Relative to the "directory" the prefix names, as the AWS CLI shows them.
            let base = match prefix.rfind('/') {
                Some(i) => &prefix[..=i],
                None => "",
            };
            while let Some(p) = pages.next().await {
                let p = p?;
                for cp in &p.common_prefixes {
                    writeln!(out, "{:>30} {}", "PRE", cp.strip_prefix(base).unwrap_or(cp))?;
                }
                for o in &p.objects {
                    writeln!(
                        out,
                        "{} {:>10} {}",
                        date(o.last_modified),
                        o.size,
                        o.key.strip_prefix(base).unwrap_or(&o.key)
                    )?;
                }
            }
        }
        Ok::<_, anyhow::Error>(())
    })??;
    Ok(())
}

/// A byte counter on stderr when it is a terminal; nothing otherwise.
fn progress(total: Option<u64>, what: &str) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let pb = match total {
        Some(n) => indicatif::ProgressBar::new(n),
        None => indicatif::ProgressBar::no_length(),
    };
    let style = indicatif::ProgressStyle::with_template(
        "{msg} {bar:30} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} {eta}",
    )
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    pb.set_style(style);
    pb.set_message(what.to_owned());
    Some(pb)
}

/// `opts`: what the command line says about uploaded objects.
fn cp(global: &GlobalArgs, recursive: bool, opts: &PutOptions, src: &str, dst: &str) -> Result<(), Failure> {
    let s3 = client(global)?;
    match (src.starts_with("s3://"), dst.starts_with("s3://")) {
        (false, true) => {
            let (bucket, key) = parse_s3(dst)?;
            if recursive {
                let root = PathBuf::from(src);
                let files = walk(&root).with_context(|| format!("cannot read {src}")).map_err(Failure::input)?;
                let base = if key.is_empty() || key.ends_with('/') { key.clone() } else { format!("{key}/") };
                for f in files {
                    let rel = f.strip_prefix(&root).unwrap_or(&f).to_string_lossy().replace('\\', "/");
                    upload(&s3, &f, &bucket, &format!("{base}{rel}"), opts)?;
                }
                Ok(())
            } else if src == "-" {
                if key.is_empty() || key.ends_with('/') {
                    return Err(Failure::input(anyhow!("{dst:?}: name the key to write standard input to")));
                }
                let pb = progress(None, "stdin");
                let opts = with_progress(opts.clone(), &pb);
                block_on(s3.upload(&bucket, &key, tokio::io::stdin(), &opts))?.map_err(anyhow::Error::new)?;
                if let Some(pb) = pb {
                    pb.finish_and_clear();
                }
                println!("upload: - to s3://{bucket}/{key}");
                Ok(())
            } else {
                let path = Path::new(src);
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                let key = if key.is_empty() || key.ends_with('/') { format!("{key}{name}") } else { key };
                upload(&s3, path, &bucket, &key, opts)
            }
        }
        (true, false) => {
            let (bucket, key) = parse_s3(src)?;
            if recursive {
                let prefix = if key.is_empty() || key.ends_with('/') { key.clone() } else { format!("{key}/") };
                let objects: Vec<_> =
                    block_on(s3.list(&bucket, ListOptions::prefix(prefix.clone())).try_collect::<Vec<_>>())?
                        .map_err(anyhow::Error::new)?;
                for o in objects {
                    let rel = o.key.strip_prefix(&prefix).unwrap_or(&o.key);
                    if rel.is_empty() || rel.ends_with('/') || rel.split('/').any(|s| s == ".." || s == ".") {
                        eprintln!("cirrus: skipping s3://{bucket}/{}: not a safe local file name", o.key);
                        continue;
                    }
                    download(&s3, &bucket, &o.key, &Path::new(dst).join(rel))?;
                }
                Ok(())
            } else if key.is_empty() {
                Err(Failure::input(anyhow!("{src:?} names no key (use --recursive for a prefix)")))
            } else if dst == "-" {
                block_on(async {
                    let got = s3.get(&bucket, &key, None).await?;
                    let mut body = got.body;
                    let mut out = tokio::io::stdout();
                    while let Some(chunk) = body.next().await {
                        out.write_all(&chunk?).await?;
                    }
                    out.flush().await?;
                    Ok::<_, anyhow::Error>(())
                })??;
                Ok(())
            } else {
                let name = key.rsplit('/').next().unwrap_or(&key);
                let target = if dst.ends_with('/') || Path::new(dst).is_dir() {
                    Path::new(dst).join(name)
                } else {
                    PathBuf::from(dst)
                };
                download(&s3, &bucket, &key, &target)
            }
        }
        (true, true) => {
            let (from_bucket, from_key) = parse_s3(src)?;
            let (bucket, key) = parse_s3(dst)?;
            if recursive {
                let prefix = if from_key.is_empty() || from_key.ends_with('/') {
                    from_key.clone()
                } else {
                    format!("{from_key}/")
                };
                let base = if key.is_empty() || key.ends_with('/') { key.clone() } else { format!("{key}/") };
                block_on(async {
                    let mut objects = Box::pin(s3.list(&from_bucket, ListOptions::prefix(prefix.clone())));
                    while let Some(o) = objects.next().await {
                        let o = o?;
                        let to = format!("{base}{}", o.key.strip_prefix(&prefix).unwrap_or(&o.key));
                        s3.copy(&from_bucket, &o.key, &bucket, &to).await?;
                        println!("copy: s3://{from_bucket}/{} to s3://{bucket}/{to}", o.key);
                    }
                    Ok::<_, anyhow::Error>(())
                })??;
                Ok(())
            } else {
                let name = from_key.rsplit('/').next().unwrap_or(&from_key);
                let key = if key.is_empty() || key.ends_with('/') { format!("{key}{name}") } else { key };
                block_on(s3.copy(&from_bucket, &from_key, &bucket, &key))?.map_err(anyhow::Error::new)?;
                println!("copy: {src} to s3://{bucket}/{key}");
                Ok(())
            }
        }
        (false, false) => Err(Failure::input(anyhow!("one of SRC and DST must be an s3:// URL"))),
    }
}

fn with_progress(opts: PutOptions, pb: &Option<indicatif::ProgressBar>) -> PutOptions {
    match pb {
        Some(pb) => {
            let pb = pb.clone();
            opts.with_progress(Arc::new(move |n| pb.set_position(n)))
        }
        None => opts,
    }
}

fn upload(s3: &S3Client, path: &Path, bucket: &str, key: &str, opts: &PutOptions) -> Result<(), Failure> {
    let mut opts = opts.clone();
    if opts.content_type.is_none() {
        opts.content_type = cirrus::content_type::guess(key).map(str::to_owned);
    }
    let size = std::fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))
        .map_err(Failure::input)?
        .len();
    let pb = progress(Some(size), &path.display().to_string());
    let opts = with_progress(opts, &pb);
    block_on(s3.upload_file(bucket, key, path, &opts))?.map_err(anyhow::Error::new)?;
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    println!("upload: {} to s3://{bucket}/{key}", path.display());
    Ok(())
}

/// Streams an object into a temporary file beside `target`, renamed into place only once
/// complete: a failed download leaves no partial file.
fn download(s3: &S3Client, bucket: &str, key: &str, target: &Path) -> Result<(), Failure> {
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create {}", dir.display()))
            .map_err(Failure::input)?;
    }
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = target.with_file_name(format!(".{name}.cirrus-{}.part", std::process::id()));
    let result = block_on(async {
        let got = s3.get(bucket, key, None).await?;
        let pb = progress(Some(got.info.content_length), &format!("s3://{bucket}/{key}"));
        let mut file =
            tokio::fs::File::create(&tmp).await.with_context(|| format!("cannot create {}", tmp.display()))?;
        let mut body = got.body;
        while let Some(chunk) = body.next().await {
            let chunk = chunk?;
            file.write_all(&chunk).await.with_context(|| format!("cannot write {}", tmp.display()))?;
            if let Some(pb) = &pb {
                pb.inc(chunk.len() as u64);
            }
        }
        file.flush().await?;
        file.sync_all().await.ok();
        if let Some(pb) = pb {
            pb.finish_and_clear();
        }
        std::fs::rename(&tmp, target).with_context(|| format!("cannot move the download to {}", target.display()))?;
        Ok::<_, anyhow::Error>(())
    })?;
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(e.into());
    }
    println!("download: s3://{bucket}/{key} to {}", target.display());
    Ok(())
}

/// Every file under `root`, sorted; symlinked directories are not followed.
fn walk(root: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            if kind.is_dir() {
                stack.push(entry.path());
            } else if kind.is_file() {
                out.push(entry.path());
            }
        }
    }
    out.sort();
    Ok(out)
}
