//! Versions on the high-level commands: `ls --versions`, `rm --version-id`, `rm
//! --all-versions` and the emptying of a versioned bucket by `rb --force`, each version named in
//! the lines printed (`delete: s3://b/k (version V)`).

use super::args::{OutputArgs, RmArgs};
use super::printer::Printer;
use super::transfer::interrupt_on_signal;
use super::{client, parse_s3};
use crate::output::printable;
use crate::{Failure, GlobalArgs};
use anyhow::anyhow;
use cirrus::s3::transfer::{Action, Event, Location, Summary, TransferOptions, Transfers, VersionEvent};
use cirrus::s3::{is_folder_key, ListOptions, ObjectVersion, S3Client};
use futures_util::StreamExt;
use std::time::SystemTime;

/// How `ls --versions` prints.
#[derive(Clone, Copy)]
pub(super) struct LsStyle {
    pub human_readable: bool,
    pub summarize: bool,
    /// One JSON object a line (`--output json`).
    pub json: bool,
}

fn date(t: Option<SystemTime>) -> String {
    let s = t.map(cirrus::sigv4::format_rfc3339).unwrap_or_else(|| "                    ".to_owned());
    s.trim_end_matches('Z').replacen('T', " ", 1)
}

/// `ls --versions`: one line a version or delete marker, newest first within a key:
/// `DATE TIME SIZE|deleted latest|      VERSION_ID KEY` (the key last, whatever it holds). With
/// `--output json`, one object a line with ListObjectVersions' names.
pub(super) async fn ls(s3: &S3Client, recursive: bool, style: LsStyle, target: Option<&str>) -> Result<(), Failure> {
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
                true => outln!("{}", json_line(v))?,
                false => outln!("{}", text_line(v, style, base))?,
            }
        }
    }
    if style.summarize {
        let size = if style.human_readable { super::ls::human_size(bytes) } else { bytes.to_string() };
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

fn text_line(v: &ObjectVersion, style: LsStyle, base: &str) -> String {
    let size = match (v.is_delete_marker, style.human_readable) {
        (true, _) => "deleted".to_owned(),
        (false, true) => super::ls::human_size(v.size),
        (false, false) => v.size.to_string(),
    };
    let latest = if v.is_latest { "latest" } else { "" };
    let key = v.key.strip_prefix(base).unwrap_or(&v.key);
    format!("{} {size:>10} {latest:6} {} {}", date(v.last_modified), printable(&v.version_id), printable(key))
}

fn json_line(v: &ObjectVersion) -> serde_json::Value {
    let time = v.last_modified.map(cirrus::sigv4::format_rfc3339);
    if v.is_delete_marker {
        serde_json::json!({"Key": v.key, "VersionId": v.version_id, "IsLatest": v.is_latest,
            "LastModified": time, "DeleteMarker": true})
    } else {
        serde_json::json!({"Key": v.key, "VersionId": v.version_id, "IsLatest": v.is_latest,
            "LastModified": time, "Size": v.size, "ETag": v.etag, "StorageClass": v.storage_class})
    }
}

/// `rm --version-id V s3://B/K` (that version, for good) or `rm --all-versions [--recursive]`
/// (every version and delete marker of the key, or of every key under the folder).
pub(super) async fn rm(global: &GlobalArgs, args: RmArgs) -> Result<(), Failure> {
    let (bucket, key) = parse_s3(&args.target)?;
    let s3 = client(global)?;
    let cancel = interrupt_on_signal();
    let bulk = args.recursive || args.all_versions;
    let printer = Printer::new(args.output, bulk, &cancel);
    let options = args.options(global);
    let summary = match &args.version_id {
        Some(v) => rm_version(&s3, &printer, (&bucket, &key, v), &options).await?,
        None => {
            let observer = printer.clone();
            Transfers::new(s3)
                .remove_versions(&Location::s3(bucket, key), &options, move |e| observer.on_version(e), &cancel)
                .await?
        }
    };
    printer.finish(&summary, bulk && !args.dryrun)
}

/// One version of one key, unless the filters leave its name out.
async fn rm_version(
    s3: &S3Client,
    printer: &Printer,
    (bucket, key, version): (&str, &str, &str),
    options: &TransferOptions,
) -> Result<Summary, Failure> {
    let mut summary = Summary::default();
    if is_folder_key(key) {
        return Err(Failure::input(anyhow!(
            "s3://{bucket}/{key} names no object: --version-id is a version of one key"
        )));
    }
    if !options.filters.accepts(key.rsplit('/').next().unwrap_or(key)) {
        return Ok(summary);
    }
    let src = Location::s3(bucket, key);
    let event = if options.dryrun {
        Event::DryRun { action: Action::Delete, src, dst: None }
    } else {
        match s3.delete_version(bucket, key, Some(version)).await {
            Ok(_) => {
                summary.done = 1;
                Event::Done { action: Action::Delete, src, dst: None, bytes: 0 }
            }
            Err(e) if e.is_input() => return Err(e.into()),
            Err(e) => {
                summary.failed = 1;
                let error = cirrus::s3::transfer::Error::from(e);
                Event::Failed { action: Action::Delete, src, dst: None, error }
            }
        }
    };
    printer.on_version(&VersionEvent::new(event, Some(version.to_owned())));
    Ok(summary)
}

/// Deletes every version and delete marker of `bucket` (`rb --force` of a versioned bucket);
/// when any is left, the summary is printed and the error ends the command.
pub(super) async fn empty_bucket(s3: &S3Client, bucket: &str) -> Result<(), Failure> {
    let cancel = interrupt_on_signal();
    let printer = Printer::new(OutputArgs::default(), true, &cancel);
    let observer = printer.clone();
    let summary = Transfers::new(s3.clone())
        .remove_versions(
            &Location::s3(bucket, ""),
            &TransferOptions::recursive(),
            move |e| observer.on_version(e),
            &cancel,
        )
        .await?;
    if summary.is_complete() {
        return Ok(());
    }
    printer.finish(&summary, true)
}
