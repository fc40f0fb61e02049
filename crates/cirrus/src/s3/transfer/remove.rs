//! Deleting one key, or every key under a folder, 1,000 at a time with DeleteObjects.

use super::plan::{input, literal, source_glob, Listed};
use super::{Action, Cancel, Event, Location, Summary, TransferOptions, Transfers};
use crate::s3::DeleteReport;
use crate::transport::Error;
use futures_util::StreamExt;
use std::sync::Arc;
use std::time::Instant;
use tokio::task::JoinSet;

impl Transfers {
    /// Deletes `target`: one key, or with `recursive` every key under the folder it names
    /// (`data` means `data/`), 1,000 at a time with DeleteObjects. Keys S3 refuses are reported
    /// and the rest go on.
    ///
    /// ```no_run
    /// # async fn example(s3: cirrus::s3::S3Client) -> Result<(), Box<dyn std::error::Error>> {
    /// use cirrus::s3::transfer::{Cancel, Location, TransferOptions, Transfers};
    ///
    /// // `aws s3 rm --recursive s3://my-bucket/tmp/`
    /// let target = Location::parse("s3://my-bucket/tmp/")?;
    /// let (transfers, cancel) = (Transfers::new(s3), Cancel::new());
    /// let options = TransferOptions::recursive();
    /// let summary = transfers.remove(&target, &options, |event| println!("{event}"), &cancel).await?;
    /// if !summary.is_complete() {
    ///     eprintln!("{summary}");
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn remove(
        &self,
        target: &Location,
        options: &TransferOptions,
        observer: impl Fn(&Event) + Send + Sync + 'static,
        cancel: &Cancel,
    ) -> Result<Summary, Error> {
        let Location::S3 { bucket, key } = target else {
            return Err(input(format!("{target} is not in S3")));
        };
        crate::s3::check_bucket("DeleteObject", bucket)?;
        super::plan::no_version(options, "deleted (see S3Client::delete_version)")?;
        let start = Instant::now();
        let listed = match source_glob(target, options) {
            Some((bucket, glob)) => Some(Listed::glob(bucket, glob)),
            None => options.recursive.then(|| Listed::folder(bucket, key)),
        };
        let mut summary = if let Some(listed) = listed {
            self.remove_listed(&listed, options, Arc::new(observer), cancel).await
        } else {
            if key.is_empty() {
                return Err(input(format!("{target} names no object (use --recursive for a folder)")));
            }
            let target = literal(target, options);
            let Location::S3 { key, .. } = &target else { return Err(input(format!("{target} is not in S3"))) };
            self.remove_one(&target, key, options, &observer).await
        };
        summary.elapsed = start.elapsed();
        Ok(summary)
    }

    /// One key (`dir/` is the folder marker object itself, as in the AWS CLI), unless the
    /// filters leave it out.
    async fn remove_one(
        &self,
        target: &Location,
        key: &str,
        options: &TransferOptions,
        observer: &(impl Fn(&Event) + Send + Sync),
    ) -> Summary {
        let mut summary = Summary::default();
        if !options.filters.accepts(key.rsplit('/').next().unwrap_or(key)) {
            return summary;
        }
        let Location::S3 { bucket, .. } = target else { return summary };
        if options.dryrun {
            observer(&Event::DryRun { action: Action::Delete, src: target.clone(), dst: None });
            return summary;
        }
        let deleted = match self.limits().request_slot().await {
            Ok(_slot) => self.client().delete(bucket, key).await.map_err(super::Error::from),
            Err(e) => Err(e),
        };
        match deleted {
            Ok(()) => {
                summary.done = 1;
                observer(&Event::Done { action: Action::Delete, src: target.clone(), dst: None, bytes: 0 });
            }
            Err(e) => {
                summary.failed = 1;
                let error = e.at(target.clone());
                observer(&Event::Failed { action: Action::Delete, src: target.clone(), dst: None, error });
            }
        }
        summary
    }

    /// Every key `listed` names (under a folder, or matching a pattern), listed in parallel key
    /// ranges, deleted 1,000 at a time in one DeleteObjects call (up to 4 in flight, within the
    /// shared request budget): only keys seen in a listing and matched are deleted. A pattern
    /// that matched nothing fails.
    async fn remove_listed(
        &self,
        listed: &Listed,
        options: &TransferOptions,
        observer: Arc<impl Fn(&Event) + Send + Sync + 'static>,
        cancel: &Cancel,
    ) -> Summary {
        let mut summary = self.remove_pages(listed, options, &observer, cancel).await;
        if summary.failed == 0 && !summary.interrupted {
            if let Some((src, error)) = listed.nothing_matched() {
                summary.failed += 1;
                observer(&Event::Failed { action: Action::Delete, src, dst: None, error });
            }
        }
        summary
    }

    /// The listing and the DeleteObjects batches of [`remove_listed`](Self::remove_listed): the
    /// keys come from [`S3Client::list_tree`](crate::s3::S3Client::list_tree) (key ranges
    /// listed in parallel, as sync and `ls --recursive` list), in key order, and
    /// go in batches of [`BATCH`] as they arrive. A listing that fails sends nothing more: the
    /// keys of the batch being filled stay.
    async fn remove_pages(
        &self,
        listed: &Listed,
        options: &TransferOptions,
        observer: &Arc<impl Fn(&Event) + Send + Sync + 'static>,
        cancel: &Cancel,
    ) -> Summary {
        let mut summary = Summary::default();
        let (bucket, prefix) = (listed.bucket.as_str(), listed.prefix.clone());
        let mut objects = Box::pin(self.client().list_tree(bucket, &prefix));
        let mut in_flight: JoinSet<Batch> = JoinSet::new();
        let mut keys: Vec<String> = Vec::new();
        loop {
            let item = tokio::select! {
                biased;
                _ = cancel.cancelled() => { summary.interrupted = true; break; }
                o = objects.next() => o,
            };
            let end = match item {
                None => true,
                Some(Ok(o)) => {
                    if listed.name(&o.key).is_some_and(|rel| options.filters.accepts(rel)) {
                        keys.push(o.key);
                    }
                    false
                }
                Some(Err(e)) => {
                    summary.failed += 1;
                    let src = Location::s3(bucket, &prefix);
                    let error = super::Error::call("listing stopped", e).at(src.clone());
                    observer(&Event::Failed { action: Action::Delete, src, dst: None, error });
                    break;
                }
            };
            if keys.len() >= BATCH || (end && !keys.is_empty()) {
                let batch = std::mem::take(&mut keys);
                if !self.dispatch(batch, bucket, options, observer, &mut in_flight, &mut summary).await {
                    break;
                }
            }
            if end {
                break;
            }
        }
        // Batches already sent are waited for, even on interrupt: a DeleteObjects call is done
        // in one go and its report says what it removed.
        while let Some(joined) = in_flight.join_next().await {
            joined_batch(&mut summary, bucket, joined, &**observer);
        }
        summary
    }

    /// One batch of keys: printed under `--dryrun`, else deleted by a task of its own (up to 4
    /// in flight, each holding a request slot of the shared budget, `--concurrency`). False
    /// when no slot can be had (the run is closing).
    async fn dispatch(
        &self,
        batch: Vec<String>,
        bucket: &str,
        options: &TransferOptions,
        observer: &Arc<impl Fn(&Event) + Send + Sync + 'static>,
        in_flight: &mut JoinSet<Batch>,
        summary: &mut Summary,
    ) -> bool {
        if options.dryrun {
            for k in batch {
                observer(&Event::DryRun { action: Action::Delete, src: Location::s3(bucket, k), dst: None });
            }
            return true;
        }
        while in_flight.len() >= 4 {
            if let Some(joined) = in_flight.join_next().await {
                joined_batch(summary, bucket, joined, &**observer);
            }
        }
        let Ok(slot) = self.limits().request_slot().await else { return false };
        let (client, b) = (self.client().clone(), bucket.to_owned());
        in_flight.spawn(async move {
            let r = client.delete_many(&b, &batch).await;
            drop(slot);
            (batch, r)
        });
        true
    }
}

/// A batch's task ended: its keys are settled, or, if the task died, their fate is unknown,
/// which is a failure.
fn joined_batch(
    summary: &mut Summary,
    bucket: &str,
    joined: Result<Batch, tokio::task::JoinError>,
    observer: &(impl Fn(&Event) + ?Sized),
) {
    match joined {
        Ok(batch) => settle(summary, bucket, batch, observer),
        Err(_) => summary.failed += 1,
    }
}

/// Keys a DeleteObjects call takes at most.
const BATCH: usize = 1000;

/// The keys of one DeleteObjects call, and what it said.
type Batch = (Vec<String>, Result<DeleteReport, Error>);

/// Counts and reports each key of a batch: deleted, refused by S3 (its code and message), or
/// failed with the call.
fn settle(summary: &mut Summary, bucket: &str, (keys, report): Batch, observer: &(impl Fn(&Event) + ?Sized)) {
    let failed = |src: Location, error: super::Error| {
        let error = error.at(src.clone());
        observer(&Event::Failed { action: Action::Delete, src, dst: None, error });
    };
    match report {
        Ok(r) => {
            let refused: std::collections::HashMap<&str, &crate::s3::DeleteFailure> =
                r.failed.iter().map(|f| (f.key.as_str(), f)).collect();
            for k in &keys {
                let src = Location::s3(bucket, k);
                match refused.get(k.as_str()) {
                    None => {
                        summary.done += 1;
                        observer(&Event::Done { action: Action::Delete, src, dst: None, bytes: 0 });
                    }
                    Some(f) => {
                        summary.failed += 1;
                        failed(src, super::Error::refused_key("DeleteObjects", &f.code, &f.message));
                    }
                }
            }
        }
        Err(e) => {
            // One failure for every key of the batch, the call's error shared.
            let error = super::Error::from(e);
            for k in &keys {
                summary.failed += 1;
                failed(Location::s3(bucket, k), error.clone());
            }
        }
    }
}
