//! A local source, walked as the transfer goes: files in name order, directory by directory,
//! handed over a bounded channel so a tree of any size costs the same memory.

use std::path::{Path, PathBuf};
use tokio::sync::mpsc;

/// What the walk found.
#[derive(Debug)]
pub(crate) enum Found {
    /// A file to send: its path, its name relative to the root (`/`-separated), its size and
    /// modification time.
    File { path: PathBuf, rel: String, size: u64, mtime: Option<std::time::SystemTime> },
    /// Something left out, and why.
    Skip { path: PathBuf, reason: String },
}

/// Walks `root` on a blocking thread. Symlinks are followed when `follow` (a link to a
/// directory being walked is a loop, reported once and not entered) and silently passed over
/// otherwise, as `--no-follow-symlinks` asks; FIFOs, sockets and devices are reported and
/// left out, as the AWS CLI does.
pub(crate) fn walk(root: PathBuf, follow: bool) -> mpsc::Receiver<Found> {
    let (tx, rx) = mpsc::channel(256);
    tokio::task::spawn_blocking(move || walk_blocking(root, follow, &tx));
    rx
}

#[cfg(unix)]
fn dir_id(m: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (m.dev(), m.ino())
}

#[cfg(not(unix))]
fn dir_id(_: &std::fs::Metadata) -> (u64, u64) {
    (0, 0)
}

/// A directory to visit: its path, its name under the root, the ids of it and the directories
/// above it.
type Pending = (PathBuf, String, Vec<(u64, u64)>);

fn walk_blocking(root: PathBuf, follow: bool, tx: &mpsc::Sender<Found>) {
    let send = |f: Found| tx.blocking_send(f).is_ok();
    let root_id = match std::fs::metadata(&root) {
        Ok(m) => dir_id(&m),
        Err(e) => {
            send(Found::Skip { path: root, reason: format!("cannot read it: {e}") });
            return;
        }
    };
    // Each directory to visit with the ids of the directories above it (for loops).
    let mut stack: Vec<Pending> = vec![(root, String::new(), vec![root_id])];
    while let Some((dir, rel, ancestors)) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(rd) => rd.filter_map(Result::ok).map(|e| e.path()).collect::<Vec<_>>(),
            Err(e) => {
                if !send(Found::Skip { path: dir, reason: format!("cannot read the directory: {e}") }) {
                    return;
                }
                continue;
            }
        };
        let mut entries = entries;
        entries.sort();
        let mut subdirs = Vec::new();
        for path in entries {
            let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_owned) else {
                if !send(Found::Skip { path, reason: "the name is not UTF-8, so it cannot be a key".to_owned() }) {
                    return;
                }
                continue;
            };
            let child_rel = if rel.is_empty() { name } else { format!("{rel}/{name}") };
            let lmeta = match std::fs::symlink_metadata(&path) {
                Ok(m) => m,
                Err(e) => {
                    if !send(Found::Skip { path, reason: format!("cannot read it: {e}") }) {
                        return;
                    }
                    continue;
                }
            };
            let meta = if lmeta.file_type().is_symlink() {
                if !follow {
                    continue;
                }
                match std::fs::metadata(&path) {
                    Ok(m) => m,
                    Err(e) => {
                        if !send(Found::Skip { path, reason: format!("a symlink to nothing readable: {e}") }) {
                            return;
                        }
                        continue;
                    }
                }
            } else {
                lmeta
            };
            let found = if meta.is_dir() {
                let id = dir_id(&meta);
                if ancestors.contains(&id) {
                    Found::Skip { path, reason: "a symlink loop (it leads back to a directory above it)".to_owned() }
                } else {
                    let mut a = ancestors.clone();
                    a.push(id);
                    subdirs.push((path, child_rel, a));
                    continue;
                }
            } else if meta.is_file() {
                Found::File { path, rel: child_rel, size: meta.len(), mtime: meta.modified().ok() }
            } else {
                Found::Skip { path, reason: "a FIFO, socket or device, not a file".to_owned() }
            };
            if !send(found) {
                return;
            }
        }
        // Popped in name order.
        subdirs.reverse();
        stack.extend(subdirs);
    }
}

/// Like [`walk`], the files in the byte order of their relative names, as S3 lists keys (a
/// directory sorts as its name with a `/` after it): what `sync` compares side by side.
pub(crate) fn walk_sorted(root: PathBuf, follow: bool) -> mpsc::Receiver<Found> {
    let (tx, rx) = mpsc::channel(256);
    tokio::task::spawn_blocking(move || {
        let send = |f: Found| tx.blocking_send(f).is_ok();
        match std::fs::metadata(&root) {
            Ok(m) => {
                sorted_dir(&root, "", &mut vec![dir_id(&m)], follow, &send);
            }
            Err(e) => {
                send(Found::Skip { path: root, reason: format!("cannot read it: {e}") });
            }
        }
    });
    rx
}

/// How deep a sorted walk goes (each level is a stack frame).
const MAX_DEPTH: usize = 512;

/// One directory of a sorted walk, its subdirectories where they fall; `false` when the
/// receiver is gone.
fn sorted_dir(
    dir: &Path,
    rel: &str,
    ancestors: &mut Vec<(u64, u64)>,
    follow: bool,
    send: &dyn Fn(Found) -> bool,
) -> bool {
    let entries = match std::fs::read_dir(dir) {
        Ok(rd) => rd.filter_map(Result::ok).map(|e| e.path()).collect::<Vec<_>>(),
        Err(e) => return send(Found::Skip { path: dir.to_owned(), reason: format!("cannot read the directory: {e}") }),
    };
    // (sort key, path, child rel, a directory's metadata or a file's size and time)
    type Item = (String, PathBuf, String, Result<std::fs::Metadata, (u64, Option<std::time::SystemTime>)>);
    let mut items: Vec<Item> = Vec::with_capacity(entries.len());
    for path in entries {
        let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_owned) else {
            if !send(Found::Skip { path, reason: "the name is not UTF-8, so it cannot be a key".to_owned() }) {
                return false;
            }
            continue;
        };
        let child_rel = if rel.is_empty() { name } else { format!("{rel}/{name}") };
        let meta = match std::fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_symlink() && !follow => continue,
            Ok(m) if m.file_type().is_symlink() => match std::fs::metadata(&path) {
                Ok(m) => m,
                Err(e) => {
                    if !send(Found::Skip { path, reason: format!("a symlink to nothing readable: {e}") }) {
                        return false;
                    }
                    continue;
                }
            },
            Ok(m) => m,
            Err(e) => {
                if !send(Found::Skip { path, reason: format!("cannot read it: {e}") }) {
                    return false;
                }
                continue;
            }
        };
        if meta.is_dir() {
            items.push((format!("{child_rel}/"), path, child_rel, Ok(meta)));
        } else if meta.is_file() {
            items.push((child_rel, path, String::new(), Err((meta.len(), meta.modified().ok()))));
        } else if !send(Found::Skip { path, reason: "a FIFO, socket or device, not a file".to_owned() }) {
            return false;
        }
    }
    items.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    for (key, path, child_rel, dir_meta) in items {
        match dir_meta {
            Ok(meta) => {
                let id = dir_id(&meta);
                if ancestors.contains(&id) {
                    let reason = "a symlink loop (it leads back to a directory above it)".to_owned();
                    if !send(Found::Skip { path, reason }) {
                        return false;
                    }
                } else if ancestors.len() >= MAX_DEPTH {
                    if !send(Found::Skip { path, reason: format!("deeper than {MAX_DEPTH} directories") }) {
                        return false;
                    }
                } else {
                    ancestors.push(id);
                    let go_on = sorted_dir(&path, &child_rel, ancestors, follow, send);
                    ancestors.pop();
                    if !go_on {
                        return false;
                    }
                }
            }
            Err((size, mtime)) => {
                if !send(Found::File { path, rel: key, size, mtime }) {
                    return false;
                }
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(root: PathBuf, follow: bool) -> Vec<Found> {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            let mut rx = walk(root, follow);
            let mut out = Vec::new();
            while let Some(f) = rx.recv().await {
                out.push(f);
            }
            out
        })
    }

    #[test]
    fn follows_links_and_stops_at_loops() {
        let root = std::env::temp_dir().join(format!("cirrus-walk-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("d/e")).unwrap();
        std::fs::write(root.join("a.txt"), b"a").unwrap();
        std::fs::write(root.join("d/e/f.txt"), b"ff").unwrap();
        let other = root.with_extension("other");
        std::fs::create_dir_all(&other).unwrap();
        std::fs::write(other.join("linked.txt"), b"lll").unwrap();
        std::os::unix::fs::symlink(other.join("linked.txt"), root.join("b-link.txt")).unwrap();
        std::os::unix::fs::symlink(&root, root.join("d/loop")).unwrap();
        std::os::unix::fs::symlink(root.join("nothing"), root.join("dangling")).unwrap();

        let got = collect(root.clone(), true);
        let files: Vec<(String, u64)> = got
            .iter()
            .filter_map(|f| match f {
                Found::File { rel, size, .. } => Some((rel.clone(), *size)),
                _ => None,
            })
            .collect();
        assert_eq!(files, [("a.txt".into(), 1), ("b-link.txt".into(), 3), ("d/e/f.txt".into(), 2)]);
        let skips: Vec<String> = got
            .iter()
            .filter_map(|f| match f {
                Found::Skip { reason, .. } => Some(reason.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(skips.len(), 2, "{skips:?}");
        assert!(skips.iter().any(|r| r.contains("loop")) && skips.iter().any(|r| r.contains("symlink to nothing")));

        let got = collect(root, false);
        assert_eq!(got.len(), 2, "links passed over: {got:?}");
    }
}
