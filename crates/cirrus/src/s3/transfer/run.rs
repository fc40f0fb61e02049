//! The executor: jobs from a planned source run with bounded requests and memory, events as
//! they finish, a summary at the end, and clean-up on interrupt.

use super::ctx::{Ctx, Outcome};
use super::local::target_at;
use super::{Action, Cancel, Error, Event, Location, Summary};
use crate::s3::Object;
use futures_util::stream::{BoxStream, StreamExt};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;
use tokio::task::JoinSet;

/// How one object ended, once its event is out: what the summary counts.
enum Ended {
    Done(u64),
    Skipped,
    /// `no_overwrite`: the destination was there, and left alone.
    NotOverwritten,
    Failed,
    /// Interrupted before anything of it was done.
    Dropped,
}

/// One object to move.
pub(crate) enum Job {
    Upload {
        path: PathBuf,
        src: Location,
        bucket: String,
        key: String,
        /// Reached through a symlinked directory: `mv` copies it and never removes it (that
        /// would delete outside the tree).
        linked: bool,
    },
    Download {
        bucket: String,
        key: String,
        object: Option<Object>,
        to: DownloadTo,
    },
    Copy {
        from_bucket: String,
        from_key: String,
        object: Option<Object>,
        bucket: String,
        key: String,
    },
    /// `sync --delete`: an object the source lacks.
    Remove {
        target: Location,
    },
    /// `sync --delete`: a local file the source lacks, `rel` under `root`; removed only when no
    /// directory on the way is a symlink.
    RemoveUnder {
        root: PathBuf,
        rel: String,
    },
}

/// Where a download goes.
pub(crate) enum DownloadTo {
    /// A key of a recursive download: `rel` under `root`, checked for escapes.
    Under { root: PathBuf, rel: String },
    /// A path the user named.
    Path(PathBuf),
    /// Like `Under`, where the local side had a folder that a sync's deletions emptied: the
    /// folder goes first when nothing but empty folders is left in it.
    InPlaceOfFolder { root: PathBuf, rel: String },
}

impl DownloadTo {
    pub(crate) fn display(&self) -> PathBuf {
        match self {
            DownloadTo::Under { root, rel } | DownloadTo::InPlaceOfFolder { root, rel } => {
                root.join(rel.trim_start_matches('/'))
            }
            DownloadTo::Path(p) => p.clone(),
        }
    }
}

/// What a planned source yields.
pub(crate) enum Planned {
    Job(Job, u64),
    Skip {
        src: Location,
        reason: Error,
    },
    Fail {
        action: Action,
        src: Location,
        reason: Error,
    },
    /// The jobs after this one start once every job before it has ended (a sync's downloads
    /// under a local file that its deletions remove first).
    AfterAll,
}

impl Job {
    fn describe(&self) -> (Action, Location, Option<Location>) {
        match self {
            Job::Upload { src, bucket, key, .. } => (Action::Upload, src.clone(), Some(Location::s3(bucket, key))),
            Job::Download { bucket, key, to, .. } => {
                (Action::Download, Location::s3(bucket, key), Some(Location::Local(to.display())))
            }
            Job::Copy { from_bucket, from_key, bucket, key, .. } => {
                (Action::Copy, Location::s3(from_bucket, from_key), Some(Location::s3(bucket, key)))
            }
            Job::Remove { target } => (Action::Delete, target.clone(), None),
            Job::RemoveUnder { root, rel } => (Action::Delete, Location::Local(root.join(rel)), None),
        }
    }
}

/// What `mv` removes once a job's copy is complete.
enum Source {
    File(PathBuf),
    Object(String, String),
}

impl Job {
    fn source(&self) -> Source {
        match self {
            Job::Upload { path, .. } => Source::File(path.clone()),
            Job::Download { bucket, key, .. } => Source::Object(bucket.clone(), key.clone()),
            Job::Copy { from_bucket, from_key, .. } => Source::Object(from_bucket.clone(), from_key.clone()),
            Job::Remove { target: Location::Local(p) } => Source::File(p.clone()),
            Job::Remove { target: Location::S3 { bucket, key } } => Source::Object(bucket.clone(), key.clone()),
            Job::RemoveUnder { root, rel } => Source::File(root.join(rel)),
        }
    }
}

/// `mv`: removes the source of a job whose copy is complete (the file, or the object).
async fn remove_source(ctx: &Ctx, source: &Source) -> Result<(), Error> {
    match source {
        Source::File(path) => {
            super::ctx::point_of_no_return();
            tokio::fs::remove_file(path).await.map_err(|e| Error::io(format!("cannot remove {}", path.display()), e))
        }
        Source::Object(bucket, key) => {
            let _slot = ctx.request_slot().await?;
            super::ctx::point_of_no_return();
            Ok(ctx.client.delete(bucket, key).await?)
        }
    }
}

/// One job run to its end, its event out, unless `cancel` fires before its point of no return
/// (then it is dropped, and neither reported nor counted: nothing of it happened).
async fn run_job(ctx: Arc<Ctx>, job: Job, cancel: Cancel) -> Ended {
    super::ctx::unless_interrupted(run_whole_job(ctx, job), &cancel).await.unwrap_or(Ended::Dropped)
}

/// One job run to its end, its event out: for `mv`, the source removed once its copy is
/// complete (never through a symlinked directory).
async fn run_whole_job(ctx: Arc<Ctx>, job: Job) -> Ended {
    let (action, src, dst) = job.describe();
    let action = if ctx.move_source() { Action::Move } else { action };
    // A file reached through a symlinked directory is copied, never removed: that would delete
    // outside the tree.
    let through_link = matches!(job, Job::Upload { linked: true, .. });
    let source = ctx.move_source().then(|| job.source()).filter(|_| !through_link);
    let outcome = match (do_job(&ctx, job).await, through_link && ctx.move_source()) {
        (Outcome::Done(_), true) => Outcome::Skipped(Error::refused(
            "copied, not moved: it is reached through a symlinked directory, and a move never deletes through one",
        )),
        (outcome, _) => outcome,
    };
    // The source goes only once its copy is complete and confirmed; if it cannot be removed,
    // the move failed (both copies stay).
    let outcome = match (outcome, source) {
        (Outcome::Done(bytes), Some(source)) => match remove_source(&ctx, &source).await {
            Ok(()) => Outcome::Done(bytes),
            Err(reason) => Outcome::Failed(reason.context("copied, but the source was not removed")),
        },
        (outcome, _) => outcome,
    };
    match outcome {
        Outcome::Done(bytes) => {
            ctx.emit(&Event::Done { action, src, dst, bytes });
            Ended::Done(bytes)
        }
        Outcome::Skipped(reason) => {
            let reason = reason.at(src.clone());
            let ended = if reason.is_already_exists() { Ended::NotOverwritten } else { Ended::Skipped };
            ctx.emit(&Event::Skipped { src, reason });
            ended
        }
        Outcome::Failed(error) => {
            let error = error.at(src.clone());
            ctx.emit(&Event::Failed { action, src, dst, error });
            Ended::Failed
        }
    }
}

/// What the job itself does: an upload, a download (to a target checked first), a copy, a
/// delete.
async fn do_job(ctx: &Arc<Ctx>, job: Job) -> Outcome {
    match job {
        Job::Upload { path, bucket, key, .. } => super::upload::upload_file(ctx, &path, &bucket, &key).await,
        Job::Download { bucket, key, object, to } => {
            let target = match to {
                DownloadTo::Under { root, rel } => {
                    tokio::task::spawn_blocking(move || super::local::target_under(&root, &rel)).await
                }
                DownloadTo::InPlaceOfFolder { root, rel } => {
                    tokio::task::spawn_blocking(move || {
                        super::local::remove_empty_folder(&root, &rel);
                        super::local::target_under(&root, &rel)
                    })
                    .await
                }
                DownloadTo::Path(p) => tokio::task::spawn_blocking(move || target_at(&p)).await,
            };
            match target {
                Ok(Ok(t)) => super::download::download(ctx, &bucket, &key, object.as_ref(), t).await,
                Ok(Err(reason)) => Outcome::Skipped(reason),
                Err(e) => Outcome::Failed(Error::task(e)),
            }
        }
        Job::Copy { from_bucket, from_key, object, bucket, key } => {
            super::copy::copy_object(ctx, &from_bucket, &from_key, object.as_ref(), &bucket, &key).await
        }
        Job::Remove { target } => {
            let source = match target {
                Location::Local(p) => Source::File(p),
                Location::S3 { bucket, key } => Source::Object(bucket, key),
            };
            remove_source(ctx, &source).await.map(|()| 0).into()
        }
        Job::RemoveUnder { root, rel } => {
            let checked = tokio::task::spawn_blocking(move || super::local::removable_under(&root, &rel)).await;
            match checked {
                // `sync --delete` never deletes what it downloaded in the same run (a key that
                // the file system takes for this name).
                Ok(Ok(path)) if ctx.was_placed(&path) => {
                    Outcome::Skipped(Error::refused("not deleted: a download of this run was written to it"))
                }
                Ok(Ok(path)) => remove_source(ctx, &Source::File(path)).await.map(|()| 0).into(),
                Ok(Err(reason)) => Outcome::Skipped(reason),
                Err(e) => Outcome::Failed(Error::task(e)),
            }
        }
    }
}

/// `--dryrun`: each job of `plan` said as an [`Event::DryRun`] (a move as `move`), its skips
/// and failures as they come; nothing is done.
pub(crate) async fn dry_run(
    mut plan: BoxStream<'static, Planned>,
    observer: &(dyn Fn(&Event) + Send + Sync),
    move_source: bool,
    no_overwrite: Option<&crate::s3::S3Client>,
) -> Summary {
    let start = Instant::now();
    let mut summary = Summary::default();
    while let Some(planned) = plan.next().await {
        match planned {
            Planned::Job(job, _) => {
                let (action, src, dst) = job.describe();
                // `no_overwrite`: what would be left alone is said as the run would say it.
                if let (Some(client), Some(to)) = (no_overwrite, &dst) {
                    match exists(client, to).await {
                        Ok(false) => {}
                        Ok(true) => {
                            summary.not_overwritten += 1;
                            observer(&Event::Skipped { reason: Error::exists(to).at(src.clone()), src });
                            continue;
                        }
                        Err(e) => {
                            summary.failed += 1;
                            observer(&Event::Failed { action, dst, error: e.at(src.clone()), src });
                            continue;
                        }
                    }
                }
                let action = if move_source { Action::Move } else { action };
                observer(&Event::DryRun { action, src, dst });
            }
            Planned::Skip { src, reason } => {
                summary.skipped += 1;
                let reason = reason.at(src.clone());
                observer(&Event::Skipped { src, reason });
            }
            Planned::Fail { action, src, reason } => {
                summary.failed += 1;
                let error = reason.at(src.clone());
                observer(&Event::Failed { action, src, dst: None, error });
            }
            Planned::AfterAll => {}
        }
    }
    summary.elapsed = start.elapsed();
    summary
}

/// Whether the destination `to` has a file or object already (a dry run with `no_overwrite`).
async fn exists(client: &crate::s3::S3Client, to: &Location) -> Result<bool, Error> {
    match to {
        Location::Local(path) => Ok(std::fs::symlink_metadata(path).is_ok()),
        Location::S3 { bucket, key } => super::ctx::head_exists(client, bucket, key).await,
    }
}

/// Runs the jobs of `plan`, at most twice as many objects at once as requests may be in
/// flight (so the next ones are ready when a slot frees), until the plan ends or `cancel`
/// fires; then aborts what an interrupt left behind.
pub(crate) async fn execute(ctx: Arc<Ctx>, plan: BoxStream<'static, Planned>, cancel: &Cancel) -> Summary {
    let start = Instant::now();
    let mut summary = Summary::default();
    let max_jobs = ctx.concurrency.saturating_mul(2);
    let mut plan = plan;
    let mut set: JoinSet<Ended> = JoinSet::new();
    let mut exhausted = false;
    // After `Planned::AfterAll`: nothing more starts until the jobs before it have ended.
    let mut barrier = false;
    let (mut objects, mut bytes) = (0u64, 0u64);
    let count = |summary: &mut Summary, joined: Result<Ended, tokio::task::JoinError>| match joined {
        Ok(Ended::Done(n)) => {
            summary.done += 1;
            summary.bytes = summary.bytes.saturating_add(n);
        }
        Ok(Ended::Skipped) => summary.skipped += 1,
        Ok(Ended::NotOverwritten) => summary.not_overwritten += 1,
        Ok(Ended::Failed) => summary.failed += 1,
        Ok(Ended::Dropped) => {}
        Err(e) if e.is_cancelled() => {}
        Err(_) => summary.failed += 1,
    };
    while !(exhausted && set.is_empty()) {
        tokio::select! {
            biased;
            _ = cancel.cancelled() => {
                summary.interrupted = true;
                break;
            }
            Some(joined) = set.join_next(), if !set.is_empty() => count(&mut summary, joined),
            // Polled under a barrier only once the jobs before it have ended: it is lifted.
            next = plan.next(), if !exhausted && set.len() < max_jobs && (!barrier || set.is_empty()) => {
                barrier = false;
                match next {
                None => {
                    exhausted = true;
                    ctx.emit(&Event::Listed { objects, bytes });
                }
                Some(Planned::Job(job, size)) => {
                    objects += 1;
                    // Sizes come from the listing: a hostile one cannot overflow the total.
                    bytes = bytes.saturating_add(size);
                    set.spawn(run_job(ctx.clone(), job, cancel.clone()));
                }
                Some(Planned::Skip { src, reason }) => {
                    summary.skipped += 1;
                    let reason = reason.at(src.clone());
                    ctx.emit(&Event::Skipped { src, reason });
                }
                Some(Planned::Fail { action, src, reason }) => {
                    summary.failed += 1;
                    let error = reason.at(src.clone());
                    ctx.emit(&Event::Failed { action, src, dst: None, error });
                }
                Some(Planned::AfterAll) => barrier = true,
            }},
        }
    }
    if summary.interrupted {
        // Each job stops on the interrupt by itself: one before its point of no return is
        // dropped (its guards remove temporary files and hand multipart uploads over to be
        // aborted below), one past it finishes, and is reported and counted as what happened.
        while let Some(joined) = set.join_next().await {
            count(&mut summary, joined);
        }
    }
    ctx.finish(&mut summary).await;
    summary.elapsed = start.elapsed();
    summary
}
