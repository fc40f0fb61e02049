//! Keys that name one local file. A key is a string and a path is not: `p/a//b`, `p//a/b` and
//! `p/a/b` all land at `a/b` under the destination (empty segments are dropped), and on a file
//! system that ignores case so do `A/b` and `a/b`. Downloaded as they come, the last one would
//! win and `mv` would delete every source, though only one survived.
//!
//! So a recursive download passes its jobs through [`without_collisions`]: a key whose path is
//! already written in this run is not downloaded, and a key that is not in its plain form
//! (a doubled, leading or trailing `/`) waits until the listing ends, when it goes only if no
//! other key named its path. Every key left out is reported with the key it collides with, and
//! its source stays.

use super::local::key_segments;
use super::run::{DownloadTo, Job, Planned};
use super::Location;
use futures_util::stream::{BoxStream, StreamExt};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use tokio::sync::mpsc;

/// The local path a key takes, as compared: its segments joined, lower-cased where the file
/// system ignores case. `None` when it takes none (refused later with its reason).
pub(super) fn local_name(rel: &str, fold_case: bool) -> Option<(String, bool)> {
    let segments = key_segments(rel).ok()?;
    let plain = segments.join("/");
    let is_plain = plain == rel;
    Some((if fold_case { plain.to_lowercase() } else { plain }, is_plain))
}

/// Whether the file system at `dir` treats names that differ in case as one (a probe file,
/// made and removed). `false` when it cannot tell.
pub(crate) fn ignores_case(dir: &Path) -> bool {
    let name = format!(".cirrus-case-{}", fastrand::u64(..));
    let probe = dir.join(&name);
    if std::fs::OpenOptions::new().write(true).create_new(true).open(&probe).is_err() {
        return false;
    }
    let folded = std::fs::symlink_metadata(dir.join(name.to_uppercase())).is_ok();
    let _ = std::fs::remove_file(&probe);
    folded
}

/// What a planned job downloads to, under a root: its name there.
fn rel_of(planned: &Planned) -> Option<&str> {
    match planned {
        Planned::Job(Job::Download { to: DownloadTo::Under { rel, .. }, .. }, _) => Some(rel),
        _ => None,
    }
}

/// The key a planned download reads, and the local path it would write.
fn ends_of(planned: &Planned) -> (Location, String) {
    match planned {
        // The file as the file system has it: `a//b` is `a/b`.
        Planned::Job(Job::Download { bucket, key, to: DownloadTo::Under { root, rel }, .. }, _) => {
            let name = local_name(rel, false).map_or_else(|| rel.clone(), |(name, _)| name);
            (Location::s3(bucket, key), root.join(name).display().to_string())
        }
        Planned::Job(Job::Download { bucket, key, to, .. }, _) => {
            (Location::s3(bucket, key), to.display().display().to_string())
        }
        _ => (Location::s3("", ""), String::new()),
    }
}

/// The skip of a key that collides; `others`, the keys it collides with when they are known.
fn collides(planned: &Planned, others: &[String]) -> Planned {
    let (src, path) = ends_of(planned);
    let reason = if others.is_empty() {
        format!("not downloaded: another key of this run was written to {path}, the file this key names too")
    } else {
        format!("not downloaded: {} name the same local file {path}", others.join(", "))
    };
    Planned::Skip { src, reason: super::Error::refused(reason) }
}

/// `plan` (jobs of a recursive download) without keys that name one local file; see the
/// module's notes. Memory: the local names written (one string per object).
pub(crate) fn without_collisions(plan: BoxStream<'static, Planned>, fold_case: bool) -> BoxStream<'static, Planned> {
    let (tx, rx) = mpsc::channel::<Planned>(256);
    tokio::spawn(async move {
        let mut plan = plan;
        // Local names written in this run.
        let mut taken: HashSet<String> = HashSet::new();
        // Keys held to the end (in another form than their path's, or named by a held key),
        // by local name.
        let mut held: HashMap<String, Vec<Planned>> = HashMap::new();
        while let Some(planned) = plan.next().await {
            let Some((name, plain)) = rel_of(&planned).and_then(|rel| local_name(rel, fold_case)) else {
                if tx.send(planned).await.is_err() {
                    return;
                }
                continue;
            };
            let out = if taken.contains(&name) {
                collides(&planned, &[])
            } else if !plain || held.contains_key(&name) {
                held.entry(name).or_default().push(planned);
                continue;
            } else {
                taken.insert(name);
                planned
            };
            if tx.send(out).await.is_err() {
                return;
            }
        }
        // A held key goes only when it is alone and its name is free.
        let mut groups: Vec<(String, Vec<Planned>)> = held.into_iter().collect();
        groups.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, mut group) in groups {
            let out: Vec<Planned> = if taken.contains(&name) {
                group.iter().map(|p| collides(p, &[])).collect()
            } else if group.len() == 1 {
                vec![group.remove(0)]
            } else {
                let all: Vec<String> = group.iter().map(|p| ends_of(p).0.to_string()).collect();
                group.iter().map(|p| collides(p, &all)).collect()
            };
            for p in out {
                if tx.send(p).await.is_err() {
                    return;
                }
            }
        }
    });
    futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|p| (p, rx)) }).boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_compared() {
        assert_eq!(local_name("a/b", false), Some(("a/b".into(), true)));
        assert_eq!(local_name("a//b", false), Some(("a/b".into(), false)));
        assert_eq!(local_name("/a/b/", false), Some(("a/b".into(), false)));
        assert_eq!(local_name("A/B", true), Some(("a/b".into(), true)));
        assert_eq!(local_name("a/../b", false), None);
    }

    /// What a download plan becomes: the keys downloaded, and the keys skipped.
    fn run(keys: &[&str], fold_case: bool) -> (Vec<String>, Vec<String>) {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            let jobs: Vec<Planned> = keys
                .iter()
                .map(|k| {
                    let to = DownloadTo::Under { root: "/dest".into(), rel: k.to_string() };
                    Planned::Job(Job::Download { bucket: "b".into(), key: k.to_string(), object: None, to }, 1)
                })
                .collect();
            let mut out = without_collisions(futures_util::stream::iter(jobs).boxed(), fold_case);
            let (mut done, mut skipped) = (Vec::new(), Vec::new());
            while let Some(p) = out.next().await {
                match p {
                    Planned::Job(Job::Download { key, .. }, _) => done.push(key),
                    Planned::Skip { src, .. } => skipped.push(src.to_string()),
                    _ => {}
                }
            }
            done.sort();
            skipped.sort();
            (done, skipped)
        })
    }

    #[test]
    fn keys_that_name_one_file_are_all_held_back() {
        // Doubled, leading and trailing slashes, in S3's key order: none of the group goes.
        let (done, skipped) = run(&["/a/b", "a//b", "a/b", "a/b/", "c"], false);
        assert_eq!(done, ["c"]);
        assert_eq!(skipped, ["s3://b//a/b", "s3://b/a//b", "s3://b/a/b", "s3://b/a/b/"]);
        // A key in another form alone goes.
        assert_eq!(run(&["x//y"], false).0, ["x//y"]);
        // Case, where the file system ignores it: `A/x` comes first and goes, `a/x` lands on it.
        let (done, skipped) = run(&["A/x", "B", "a/x"], true);
        assert_eq!((done, skipped), (vec!["A/x".to_owned(), "B".to_owned()], vec!["s3://b/a/x".to_owned()]));
        // Where it does not, both go.
        assert_eq!(run(&["A/x", "a/x"], false).0, ["A/x", "a/x"]);
    }

    #[test]
    fn this_file_system_tells_case_apart() {
        // The test machines' file systems (ext4, tmpfs) are case-sensitive: the probe says so
        // and leaves nothing behind.
        let dir = std::env::temp_dir().join(format!("cirrus-case-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert!(!ignores_case(&dir));
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
    }
}
