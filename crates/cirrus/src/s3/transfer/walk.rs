//! A local tree, walked as the transfer goes: files in the byte order of their names relative
//! to the root, as S3 lists keys (a directory sorts as its name with a `/` after it), handed
//! over a bounded channel so a tree of any size costs the same memory.
//!
//! The walk says what it could not see. A directory it could not read (permissions, an I/O
//! error, a file-descriptor limit that held past its retries), an entry it could not stat, a
//! symlink to nothing (an unmounted disk), a loop: each comes as [`Found::Unseen`], in its place
//! in the order, so that nothing at the other side is deleted beneath it on the belief that
//! the source lacks it.

use super::fd::patiently;
use super::Error;
use std::path::PathBuf;
use tokio::sync::mpsc;

/// What the walk found.
#[derive(Debug)]
pub(crate) enum Found {
    /// A file to send: its path, its name relative to the root (`/`-separated), its size and
    /// modification time, and whether a symlinked directory was followed on the way to it (so
    /// that removing it would reach outside the tree).
    File { path: PathBuf, rel: String, size: u64, mtime: Option<std::time::SystemTime>, linked: bool },
    /// Something that is there and was left out: `rel` (and everything beneath it) must not be
    /// taken as absent. `reason` is `None` when it was left out by choice (a symlink not
    /// followed), which is not reported.
    Unseen { path: PathBuf, rel: String, reason: Option<Error> },
    /// Something that can never be a key (a name that is not UTF-8), and why.
    Skip { path: PathBuf, reason: Error },
}

/// Walks `root` on a blocking thread. Symlinks are followed when `follow` (a link to a
/// directory being walked is a loop, reported once and not entered) and passed over
/// otherwise, as `--no-follow-symlinks` asks; FIFOs, sockets and devices are reported and
/// left out, as the AWS CLI does.
pub(crate) fn walk(root: PathBuf, follow: bool) -> mpsc::Receiver<Found> {
    let (tx, rx) = mpsc::channel(256);
    tokio::task::spawn_blocking(move || walk_blocking(root, follow, &|f| tx.blocking_send(f).is_ok()));
    rx
}

/// The entries of a directory, every one of them, or the error that kept any from being read
/// (an error part-way is an error for the whole directory: a partial view is no view).
fn read_dir_whole(dir: &std::path::Path) -> std::io::Result<Vec<PathBuf>> {
    patiently(|| std::fs::read_dir(dir)?.map(|e| e.map(|e| e.path())).collect())
}

/// One entry of a directory, classified, with the key it sorts by.
enum Item {
    File { path: PathBuf, rel: String, size: u64, mtime: Option<std::time::SystemTime> },
    Dir { path: PathBuf, rel: String, id: Option<(u64, u64)>, linked: bool },
    Out(Found),
}

/// A directory being walked: its items left, in reverse key order (popped from the end), and
/// whether it was reached through a symlink.
struct Frame {
    items: Vec<(String, Item)>,
    /// Its identity on its device, where the system gives one (for loops).
    id: Option<(u64, u64)>,
    linked: bool,
}

fn walk_blocking(root: PathBuf, follow: bool, send: &dyn Fn(Found) -> bool) {
    // A stat takes no descriptor: only opens are waited out (fd::patiently).
    let root_meta = match std::fs::metadata(&root) {
        Ok(m) => m,
        Err(e) => {
            send(Found::Unseen { path: root, rel: String::new(), reason: Some(Error::io("cannot read it", e)) });
            return;
        }
    };
    let mut stack = Vec::new();
    match read_items(&root, "", follow) {
        Ok(items) => stack.push(Frame { items, id: super::local::file_id(&root_meta), linked: false }),
        Err(found) => {
            send(found);
            return;
        }
    }
    while let Some(frame) = stack.last_mut() {
        let Some((_, item)) = frame.items.pop() else {
            stack.pop();
            continue;
        };
        let above_linked = frame.linked;
        let found = match item {
            Item::File { path, rel, size, mtime } => Found::File { path, rel, size, mtime, linked: above_linked },
            Item::Out(found) => found,
            Item::Dir { path, rel, id, linked } => {
                if id.is_some() && stack.iter().any(|f| f.id == id) {
                    let reason = Error::refused("a symlink loop (it leads back to a directory above it)");
                    Found::Unseen { path, rel, reason: Some(reason) }
                } else {
                    match read_items(&path, &rel, follow) {
                        Ok(items) => {
                            stack.push(Frame { items, id, linked: above_linked || linked });
                            continue;
                        }
                        Err(found) => found,
                    }
                }
            }
        };
        if !send(found) {
            return;
        }
    }
}

/// The items of `dir` (named `rel` under the root), sorted for popping; `Err` with what to say
/// when the directory cannot be read whole.
fn read_items(dir: &std::path::Path, rel: &str, follow: bool) -> Result<Vec<(String, Item)>, Found> {
    let entries = read_dir_whole(dir).map_err(|e| Found::Unseen {
        path: dir.to_owned(),
        rel: rel.to_owned(),
        reason: Some(Error::io("cannot read the directory", e)),
    })?;
    let mut items: Vec<(String, Item)> = Vec::with_capacity(entries.len());
    for path in entries {
        let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_owned) else {
            let reason = Error::refused("the name is not UTF-8, so it cannot be a key");
            items.push((String::new(), Item::Out(Found::Skip { path, reason })));
            continue;
        };
        let child = if rel.is_empty() { name } else { format!("{rel}/{name}") };
        let unseen = |path: PathBuf, child: &str, reason: Option<Error>| {
            (child.to_owned(), Item::Out(Found::Unseen { path, rel: child.to_owned(), reason }))
        };
        let lmeta = match std::fs::symlink_metadata(&path) {
            Ok(m) => m,
            Err(e) => {
                items.push(unseen(path, &child, Some(Error::io("cannot read it", e))));
                continue;
            }
        };
        let linked = lmeta.file_type().is_symlink();
        let meta = if linked {
            if !follow {
                items.push(unseen(path, &child, None));
                continue;
            }
            match std::fs::metadata(&path) {
                Ok(m) => m,
                Err(e) => {
                    items.push(unseen(path, &child, Some(Error::io("a symlink to nothing readable", e))));
                    continue;
                }
            }
        } else {
            lmeta
        };
        if meta.is_dir() {
            items.push((format!("{child}/"), Item::Dir { path, rel: child, id: super::local::file_id(&meta), linked }));
        } else if meta.is_file() {
            let (size, mtime) = (meta.len(), meta.modified().ok());
            items.push((child.clone(), Item::File { path, rel: child, size, mtime }));
        } else {
            items.push(unseen(path, &child, Some(Error::refused("a FIFO, socket or device, not a file"))));
        }
    }
    // Popped from the end: reverse key order.
    items.sort_by(|a, b| b.0.as_bytes().cmp(a.0.as_bytes()));
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(root: PathBuf, follow: bool) -> Vec<Found> {
        let out = std::sync::Mutex::new(Vec::new());
        walk_blocking(root, follow, &|f| {
            out.lock().unwrap().push(f);
            true
        });
        out.into_inner().unwrap()
    }

    fn scratch(tag: &str) -> PathBuf {
        let root = std::env::temp_dir().join(format!("cirrus-walk-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        root
    }

    fn files(got: &[Found]) -> Vec<(String, u64, bool)> {
        got.iter()
            .filter_map(|f| match f {
                Found::File { rel, size, linked, .. } => Some((rel.clone(), *size, *linked)),
                _ => None,
            })
            .collect()
    }

    fn unseen(got: &[Found]) -> Vec<(String, Option<String>)> {
        got.iter()
            .filter_map(|f| match f {
                Found::Unseen { rel, reason, .. } => Some((rel.clone(), reason.as_ref().map(ToString::to_string))),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn follows_links_and_stops_at_loops() {
        let root = scratch("links");
        std::fs::create_dir_all(root.join("d/e")).unwrap();
        std::fs::write(root.join("a.txt"), b"a").unwrap();
        std::fs::write(root.join("d/e/f.txt"), b"ff").unwrap();
        let other = root.with_extension("other");
        std::fs::create_dir_all(&other).unwrap();
        std::fs::write(other.join("linked.txt"), b"lll").unwrap();
        std::os::unix::fs::symlink(other.join("linked.txt"), root.join("b-link.txt")).unwrap();
        std::os::unix::fs::symlink(&other, root.join("c-dir")).unwrap();
        std::os::unix::fs::symlink(&root, root.join("d/loop")).unwrap();
        std::os::unix::fs::symlink(root.join("nothing"), root.join("dangling")).unwrap();

        let got = collect(root.clone(), true);
        assert_eq!(
            files(&got),
            [
                ("a.txt".into(), 1, false),
                ("b-link.txt".into(), 3, false),
                ("c-dir/linked.txt".into(), 3, true),
                ("d/e/f.txt".into(), 2, false)
            ]
        );
        let unseen = unseen(&got);
        assert_eq!(unseen.len(), 2, "{unseen:?}");
        assert_eq!(unseen[0].0, "d/loop");
        assert!(unseen[0].1.as_deref().unwrap().contains("loop"));
        assert_eq!(unseen[1].0, "dangling");
        assert!(unseen[1].1.as_deref().unwrap().contains("symlink to nothing"));

        // Not followed: left out quietly, but still there (never taken as absent).
        let got = collect(root, false);
        assert_eq!(files(&got).len(), 2, "{got:?}");
        let quiet: Vec<String> =
            super::tests::unseen(&got).into_iter().filter(|u| u.1.is_none()).map(|u| u.0).collect();
        assert_eq!(quiet, ["b-link.txt", "c-dir", "d/loop", "dangling"]);
    }

    #[test]
    fn key_order_with_directories_as_folders() {
        let root = scratch("order");
        for rel in ["a/b", "a-b", "a.b", "a0", "ab/c"] {
            let p = root.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, b"x").unwrap();
        }
        let got: Vec<String> = files(&collect(root, true)).into_iter().map(|f| f.0).collect();
        assert_eq!(got, ["a-b", "a.b", "a/b", "a0", "ab/c"]);
    }

    #[test]
    fn fifos_are_unseen_not_absent() {
        let root = scratch("fifo");
        let made = std::process::Command::new("mkfifo").arg(root.join("pipe")).status().unwrap();
        assert!(made.success());
        let got = collect(root, true);
        assert_eq!(unseen(&got).len(), 1, "{got:?}");
        assert!(files(&got).is_empty());
    }
}
