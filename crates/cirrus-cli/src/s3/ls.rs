//! `ls`: the buckets, or the objects under a prefix, as the AWS CLI prints them.

use super::{parse_s3, tuned_client};
use crate::output::{json_text, printable};
use crate::{Failure, GlobalArgs};
use anyhow::anyhow;
use cirrus::s3::{ListOptions, ObjectVersion, S3Client};
use futures_util::StreamExt;
use std::io::Write;
use std::time::SystemTime;

// What `ls` takes.
#[derive(clap::Args, Debug)]
pub(crate) struct LsArgs {
    /// Every key under the prefix, not one level.
    #[arg(long)]
    recursive: bool,
    /// Sizes in KiB, MiB, GiB... as the AWS CLI writes them.
    #[arg(long)]
    human_readable: bool,
    /// A total of objects and bytes at the end.
    #[arg(long)]
    summarize: bool,
    #[command(flatten)]
    glob: super::args::GlobArgs,
    /// Every version and delete marker, with its version id (ListObjectVersions).
    #[arg(long)]
    versions: bool,
    #[command(flatten)]
    listing: super::args::PageSizeArgs,
    /// s3://BUCKET[/PREFIX]; none lists the buckets. A key with `*`, `?`, `[...]` or `**`
    /// lists the keys that match (whole, as --recursive prints them).
    target: Option<String>,
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

pub(super) async fn ls(global: &GlobalArgs, args: LsArgs) -> Result<(), Failure> {
    // `s3://` alone names no bucket: the buckets are listed, as the AWS CLI lists them.
    let (recursive, target) = (args.recursive, args.target.as_deref().filter(|t| *t != "s3://"));
    let style = LsStyle { human_readable: args.human_readable, summarize: args.summarize };
    let s3 = tuned_client(global, super::args::TuningArgs { listing: args.listing, ..Default::default() })?;
    let json = global.output_given && global.output == crate::Output::Json;
    if args.versions {
        let style = VersionsStyle { human_readable: args.human_readable, summarize: args.summarize, json };
        return ls_versions(&s3, recursive, style, target).await;
    }
    if let Some(target) = target.filter(|t| args.glob.is_pattern(t)) {
        return ls_glob(&s3, target, style, json).await;
    }
    let target = target.map(|t| if args.glob.no_glob { t.to_owned() } else { unescaped(t) });
    let target = target.as_deref();
    if json {
        return ls_json(&s3, recursive, style.summarize, target).await;
    }
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
            // Folder by folder in parallel, in key order (a flat listing is a chain of pages).
            let mut objects = Box::pin(s3.list_tree(&bucket, &prefix));
            while let Some(o) = objects.next().await {
                let o = o.map_err(Failure::from)?;
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
                let p = p.map_err(Failure::from)?;
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

/// `s3://b/a\*b` as `s3://b/a*b`: escapes name the characters they escape.
pub(super) fn unescaped(target: &str) -> String {
    match target.strip_prefix("s3://") {
        Some(rest) => format!("s3://{}", cirrus::s3::transfer::Glob::unescape(rest)),
        None => target.to_owned(),
    }
}

/// An object as a line of `--output json`, with ListObjectsV2's names, invisible characters
/// escaped.
fn object_json(o: &cirrus::s3::Object) -> String {
    let time = o.last_modified.map(cirrus::sigv4::format_rfc3339);
    json_text(&serde_json::json!({
        "Key": o.key, "Size": o.size, "LastModified": time, "ETag": o.etag, "StorageClass": o.storage_class,
    }))
}

/// `s3 ls s3://BUCKET/PATTERN`: the keys under the pattern's literal prefix that match it, as
/// `--recursive` prints them (or one JSON object a line); none is a failure.
async fn ls_glob(s3: &cirrus::s3::S3Client, target: &str, style: LsStyle, json: bool) -> Result<(), Failure> {
    let (bucket, key) = parse_s3(target)?;
    let Some(glob) = cirrus::s3::transfer::Glob::new(&key) else { return Ok(()) };
    let (mut objects_seen, mut bytes_seen) = (0u64, 0u64);
    let mut objects = Box::pin(s3.list(&bucket, ListOptions::prefix(glob.prefix())));
    while let Some(o) = objects.next().await {
        let o = o.map_err(Failure::from)?;
        if !glob.matches(&o.key) {
            continue;
        }
        (objects_seen, bytes_seen) = (objects_seen + 1, bytes_seen.saturating_add(o.size));
        if json {
            outln!("{}", object_json(&o))?;
        } else {
            outln!("{} {:>10} {}", date(o.last_modified), style.size(o.size), printable(&o.key))?;
        }
    }
    if objects_seen == 0 {
        return Err(anyhow::anyhow!("nothing matched {}", printable(target)).into());
    }
    if style.summarize && json {
        outln!("{}", serde_json::json!({"TotalObjects": objects_seen, "TotalSize": bytes_seen}))?;
    } else if style.summarize {
        outln!("\nTotal Objects: {objects_seen}\n   Total Size: {}", style.size(bytes_seen))?;
    }
    Ok(())
}

/// `s3 ls --output json`: one JSON object a line, with ListObjectsV2's field names: a bucket
/// `{"Name", "CreationDate"}`, a folder `{"Prefix"}`, an object `{"Key", "Size",
/// "LastModified", "ETag", "StorageClass"}` (keys whole, not relative), and with --summarize a
/// last `{"TotalObjects", "TotalSize"}`.
async fn ls_json(
    s3: &cirrus::s3::S3Client,
    recursive: bool,
    summarize: bool,
    target: Option<&str>,
) -> Result<(), Failure> {
    let time = |t: Option<std::time::SystemTime>| t.map(cirrus::sigv4::format_rfc3339);
    let Some(target) = target else {
        for b in s3.list_buckets().await? {
            outln!("{}", json_text(&serde_json::json!({"Name": b.name, "CreationDate": time(b.created)})))?;
        }
        return Ok(());
    };
    let (bucket, prefix) = parse_s3(target)?;
    let (mut objects, mut bytes) = (0u64, 0u64);
    let mut object_line = |o: &cirrus::s3::Object| {
        (objects, bytes) = (objects + 1, bytes.saturating_add(o.size));
        outln!("{}", object_json(o))
    };
    if recursive {
        // Folder by folder in parallel, in key order (a flat listing is a chain of pages).
        let mut listed = Box::pin(s3.list_tree(&bucket, &prefix));
        while let Some(o) = listed.next().await {
            object_line(&o.map_err(Failure::from)?)?;
        }
    } else {
        let mut pages = Box::pin(s3.list_pages(&bucket, ListOptions::prefix(prefix).with_delimiter("/")));
        while let Some(page) = pages.next().await {
            let page = page.map_err(Failure::from)?;
            for p in &page.common_prefixes {
                outln!("{}", json_text(&serde_json::json!({ "Prefix": p })))?;
            }
            for o in &page.objects {
                object_line(o)?;
            }
        }
    }
    if summarize {
        outln!("{}", serde_json::json!({"TotalObjects": objects, "TotalSize": bytes}))?;
    }
    Ok(())
}

/// How `ls --versions` prints.
#[derive(Clone, Copy)]
struct VersionsStyle {
    human_readable: bool,
    summarize: bool,
    /// One JSON object a line (`--output json`).
    json: bool,
}

/// `ls --versions`: one line a version or delete marker, newest first within a key:
/// `DATE TIME SIZE|deleted latest|      VERSION_ID KEY` (the key last, whatever it holds). With
/// `--output json`, one object a line with ListObjectVersions' names.
async fn ls_versions(
    s3: &S3Client,
    recursive: bool,
    style: VersionsStyle,
    target: Option<&str>,
) -> Result<(), Failure> {
    let Some(target) = target else {
        return Err(Failure::input(anyhow!("--versions lists the objects of a bucket: name s3://BUCKET[/PREFIX]")));
    };
    let (bucket, prefix) = parse_s3(target)?;
    let mut options = ListOptions::prefix(prefix.clone());
    if !recursive {
        options = options.with_delimiter("/");
    }
    // Relative to the "directory" the prefix names, as `ls` shows keys (JSON keeps them whole).
    let base = match prefix.rfind('/') {
        Some(i) if !recursive && !style.json => &prefix[..=i],
        _ => "",
    };
    let (mut versions, mut markers, mut bytes) = (0u64, 0u64, 0u64);
    let mut pages = Box::pin(s3.list_object_version_pages(&bucket, options));
    while let Some(page) = pages.next().await {
        let page = page?;
        for p in &page.common_prefixes {
            match style.json {
                true => outln!("{}", serde_json::json!({ "Prefix": p }))?,
                false => outln!("{:>30} {}", "PRE", printable(p.strip_prefix(base).unwrap_or(p)))?,
            }
        }
        for v in &page.versions {
            if v.is_delete_marker {
                markers += 1;
            } else {
                (versions, bytes) = (versions + 1, bytes.saturating_add(v.size));
            }
            match style.json {
                true => outln!("{}", version_json(v))?,
                false => outln!("{}", version_line(v, style, base))?,
            }
        }
    }
    if style.summarize {
        let size = if style.human_readable { human_size(bytes) } else { bytes.to_string() };
        match style.json {
            true => outln!(
                "{}",
                serde_json::json!({"TotalVersions": versions, "TotalDeleteMarkers": markers, "TotalSize": bytes})
            )?,
            false => outln!("\nTotal Versions: {versions}\nTotal Delete Markers: {markers}\n    Total Size: {size}")?,
        }
    }
    Ok(())
}

fn version_line(v: &ObjectVersion, style: VersionsStyle, base: &str) -> String {
    let size = match (v.is_delete_marker, style.human_readable) {
        (true, _) => "deleted".to_owned(),
        (false, true) => human_size(v.size),
        (false, false) => v.size.to_string(),
    };
    let latest = if v.is_latest { "latest" } else { "" };
    let key = v.key.strip_prefix(base).unwrap_or(&v.key);
    format!("{} {size:>10} {latest:6} {} {}", date(v.last_modified), printable(&v.version_id), printable(key))
}

fn version_json(v: &ObjectVersion) -> serde_json::Value {
    let time = v.last_modified.map(cirrus::sigv4::format_rfc3339);
    if v.is_delete_marker {
        serde_json::json!({"Key": v.key, "VersionId": v.version_id, "IsLatest": v.is_latest,
            "LastModified": time, "DeleteMarker": true})
    } else {
        serde_json::json!({"Key": v.key, "VersionId": v.version_id, "IsLatest": v.is_latest,
            "LastModified": time, "Size": v.size, "ETag": v.etag, "StorageClass": v.storage_class})
    }
}

#[cfg(test)]
mod tests {
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
