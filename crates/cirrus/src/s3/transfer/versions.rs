//! Deleting every version and delete marker under a folder (`rm --recursive --all-versions`,
//! `rb --force` of a versioned bucket), page by page with DeleteObjects.

use super::plan::input;
use super::{Action, Cancel, Event, Location, Summary, TransferOptions, Transfers};
use crate::s3::{folder_key, DeleteReport, ListOptions, ObjectVersion};
use crate::transport::{Chain, Error};
use futures_util::StreamExt;
use std::fmt;
use std::sync::Arc;
use std::time::Instant;
use tokio::task::JoinSet;

/// What [`Transfers::remove_versions`] reports: an [`Event`] about one version or delete
/// marker (`Done`, `Failed`, `DryRun`), and the version's id (none for a failed listing).
///
/// ```
/// use cirrus::s3::transfer::{Action, Event, Location, VersionEvent};
///
/// let event = Event::Done { action: Action::Delete, src: Location::s3("b", "k"), dst: None, bytes: 0 };
/// let done = VersionEvent::new(event, Some("v1".to_owned()));
/// assert_eq!(done.to_string(), "delete: s3://b/k (version v1)");
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub struct VersionEvent {
    /// What happened to it.
    pub event: Event,
    /// The version (or delete marker) id.
    pub version_id: Option<String>,
}

impl VersionEvent {
    /// `event`, about `version_id`.
    pub fn new(event: Event, version_id: Option<String>) -> Self {
        VersionEvent { event, version_id }
    }
}

impl fmt::Display for VersionEvent {
    /// The engine's line with the version after the object: `delete: s3://b/k (version V)`,
    /// `(dryrun) delete: ...`, `delete failed: s3://b/k (version V) why`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let version = match &self.version_id {
            Some(v) => format!(" (version {v})"),
            None => String::new(),
        };
        match &self.event {
            Event::Done { action, src, .. } => write!(f, "{}: {src}{version}", action.as_str()),
            Event::DryRun { action, src, .. } => write!(f, "(dryrun) {}: {src}{version}", action.as_str()),
            Event::Failed { action, src, error, .. } => {
                write!(f, "{} failed: {src}{version} {}", action.as_str(), Chain(error))
            }
            other => write!(f, "{other}{version}"),
        }
    }
}

/// The versions of one DeleteObjects call, and what it said.
type Batch = (Vec<(String, String)>, Result<DeleteReport, Error>);

impl Transfers {
    /// Deletes every version and delete marker of every key under the folder `target` names
    /// (`data` means `data/`; the bucket's root deletes them all), or without `recursive` of
    /// the one key it names, for good: listed page by
    /// page with ListObjectVersions, each page's versions that the filters accept deleted in
    /// one DeleteObjects call (up to 4 in flight), so memory does not grow with the bucket.
    /// Nothing outside the folder is touched, and nothing that has not been listed: a listing
    /// that fails stops the run (reported as a failure) with the rest left as it was. With
    /// `dryrun`, each is reported and nothing deleted.
    ///
    /// ```no_run
    /// # async fn example(s3: cirrus::s3::S3Client) -> Result<(), Box<dyn std::error::Error>> {
    /// use cirrus::s3::transfer::{Cancel, Location, TransferOptions, Transfers};
    ///
    /// let target = Location::parse("s3://my-bucket/tmp/")?;
    /// let (transfers, cancel) = (Transfers::new(s3), Cancel::new());
    /// let summary = transfers
    ///     .remove_versions(&target, &TransferOptions::recursive(), |e| println!("{e}"), &cancel)
    ///     .await?;
    /// assert!(summary.is_complete());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn remove_versions(
        &self,
        target: &Location,
        options: &TransferOptions,
        observer: impl Fn(&VersionEvent) + Send + Sync + 'static,
        cancel: &Cancel,
    ) -> Result<Summary, Error> {
        let Location::S3 { bucket, key } = target else {
            return Err(input(format!("{target} is not in S3")));
        };
        crate::s3::check_bucket("DeleteObjects", bucket)?;
        let start = Instant::now();
        let exact = !options.recursive;
        if exact && key.is_empty() {
            return Err(input(format!("{target} names no object (use --recursive for a folder)")));
        }
        let prefix = if exact { key.clone() } else { folder_key(key) };
        // One key: the filters see its name, as for `rm` of one key; a folder: the key below it.
        let chosen = |k: &str| match k.strip_prefix(prefix.as_str()) {
            Some("") if exact => options.filters.accepts(k.rsplit('/').next().unwrap_or(k)),
            Some(rel) if !exact => options.filters.accepts(rel),
            _ => false,
        };
        let observer = Arc::new(observer);
        let mut summary = Summary::default();
        let mut pages = Box::pin(self.client().list_object_version_pages(bucket, ListOptions::prefix(prefix.clone())));
        let mut in_flight: JoinSet<Batch> = JoinSet::new();
        loop {
            let page = tokio::select! {
                biased;
                _ = cancel.cancelled() => { summary.interrupted = true; break; }
                p = pages.next() => p,
            };
            let page = match page {
                None => break,
                Some(Ok(p)) => p,
                Some(Err(e)) => {
                    summary.failed += 1;
                    observer(&listing_failed(bucket, &prefix, e));
                    break;
                }
            };
            let chosen: Vec<(String, String)> = page
                .versions
                .into_iter()
                .filter(|v| chosen(&v.key))
                .map(|ObjectVersion { key, version_id, .. }| (key, version_id))
                .collect();
            if chosen.is_empty() {
                continue;
            }
            if options.dryrun {
                for (k, v) in chosen {
                    let event = Event::DryRun { action: Action::Delete, src: Location::s3(bucket, k), dst: None };
                    observer(&VersionEvent::new(event, Some(v)));
                }
                continue;
            }
            while in_flight.len() >= 4 {
                if let Some(joined) = in_flight.join_next().await {
                    settle(&mut summary, bucket, joined, &*observer);
                }
            }
            let Ok(slot) = self.limits().request_slot().await else { break };
            let (client, b) = (self.client().clone(), bucket.to_owned());
            in_flight.spawn(async move {
                let pairs: Vec<_> = chosen.iter().map(|(k, v)| (k.as_str(), Some(v.as_str()))).collect();
                let r = client.delete_versions(&b, pairs).await;
                drop(slot);
                (chosen, r)
            });
        }
        // Batches already sent are waited for, even on interrupt: each call's report says what
        // it removed.
        while let Some(joined) = in_flight.join_next().await {
            settle(&mut summary, bucket, joined, &*observer);
        }
        summary.elapsed = start.elapsed();
        Ok(summary)
    }
}

/// The event of a listing that stopped under `prefix`.
fn listing_failed(bucket: &str, prefix: &str, e: Error) -> VersionEvent {
    let src = Location::s3(bucket, prefix);
    let error = super::Error::call("listing stopped", e).at(src.clone());
    VersionEvent::new(Event::Failed { action: Action::Delete, src, dst: None, error }, None)
}

/// Counts and reports each version of a batch: deleted, refused by S3, or failed with the call.
fn settle(
    summary: &mut Summary,
    bucket: &str,
    joined: Result<Batch, tokio::task::JoinError>,
    observer: &(impl Fn(&VersionEvent) + ?Sized),
) {
    // A batch whose task died: its versions' fate is unknown, which is a failure.
    let Ok((versions, report)) = joined else {
        summary.failed += 1;
        return;
    };
    let failed = |src: Location, v: &str, error: super::Error| {
        let error = error.at(src.clone());
        observer(&VersionEvent::new(
            Event::Failed { action: Action::Delete, src, dst: None, error },
            Some(v.to_owned()),
        ));
    };
    match report {
        Ok(r) => {
            // A refusal names the key and, normally, the version; one that names no version
            // counts against every version of its key (never taken for a deletion).
            let refusal = |k: &str, v: &str| {
                r.failed.iter().find(|f| f.key == k && f.version_id.as_deref().is_none_or(|fv| fv == v))
            };
            for (k, v) in &versions {
                let src = Location::s3(bucket, k);
                match refusal(k, v) {
                    None => {
                        summary.done += 1;
                        let event = Event::Done { action: Action::Delete, src, dst: None, bytes: 0 };
                        observer(&VersionEvent::new(event, Some(v.clone())));
                    }
                    Some(f) => {
                        summary.failed += 1;
                        failed(src, v, super::Error::refused_key("DeleteObjects", &f.code, &f.message));
                    }
                }
            }
        }
        Err(e) => {
            let error = super::Error::from(e);
            for (k, v) in &versions {
                summary.failed += 1;
                failed(Location::s3(bucket, k), v, error.clone());
            }
        }
    }
}
