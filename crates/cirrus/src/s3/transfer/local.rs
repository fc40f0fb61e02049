//! The local side of a download: where a key may be written under a destination, and the
//! temporary file it is written to before it is renamed into place.

use super::Error;
use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

/// Where a download writes.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// A regular file (new or to be replaced): written to a temporary file, then renamed.
    File(PathBuf),
    /// An existing FIFO, device or socket: written into, never replaced.
    Special(PathBuf),
}

/// The names a key (below the prefix) takes as a relative path: empty segments dropped, and
/// refused when one is `.` or `..`, holds a NUL or is longer than a file name may be.
pub(crate) fn key_segments(rel: &str) -> Result<Vec<&str>, Error> {
    let segments: Vec<&str> = rel.split('/').filter(|s| !s.is_empty()).collect();
    for s in &segments {
        if *s == "." || *s == ".." {
            return Err(Error::refused(format!("the key has a {s:?} segment: it would write outside the destination")));
        }
        if s.contains('\0') {
            return Err(Error::refused("the key holds a NUL byte, which no file name can"));
        }
        if s.len() > NAME_MAX {
            let n = s.len();
            return Err(Error::refused(format!("a name in the key is {n} bytes; a file name may have {NAME_MAX}")));
        }
    }
    Ok(segments)
}

/// What a path under a destination is wanted for.
#[derive(Clone, Copy)]
enum Purpose {
    /// A download: missing directories are made.
    Write,
    /// A delete: nothing is made.
    Delete,
}

/// `root` joined with `dirs`, every one of them a real directory: never a symlink (the write or
/// the delete would reach outside the tree) nor a file. For a write, missing ones are made.
fn dirs_under(root: &Path, dirs: &[&str], purpose: Purpose) -> Result<PathBuf, Error> {
    let words = |why: String| match purpose {
        Purpose::Write => why,
        Purpose::Delete => format!("not deleted: {why}"),
    };
    let refused = |why: String| Error::refused(words(why));
    let mut path = root.to_path_buf();
    for dir in dirs {
        path.push(dir);
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.is_dir() => {}
            Ok(m) if m.file_type().is_symlink() => {
                let why = match purpose {
                    Purpose::Write => "the key would be written through it",
                    Purpose::Delete => "a delete never goes through one",
                };
                return Err(refused(format!("{} is a symlink: {why}", path.display())));
            }
            Ok(_) => return Err(refused(format!("{} is a file, where a directory must be", path.display()))),
            Err(e) if e.kind() == io::ErrorKind::NotFound && matches!(purpose, Purpose::Write) => {
                match std::fs::create_dir(&path) {
                    Ok(()) => {}
                    // Made at the same moment by another download of the same tree.
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists && path.is_dir() && !is_symlink(&path) => {}
                    Err(e) => return Err(Error::io(format!("cannot create the directory {}", path.display()), e)),
                }
            }
            Err(e) => return Err(Error::io(words(format!("cannot read {}", path.display())), e)),
        }
    }
    Ok(path)
}

/// The path `rel` (a key below the prefix being downloaded) takes under `root`, with every
/// missing directory made. Refused, with the reason, when the key would write outside `root`
/// (a `..` segment, or a directory on the way that is a symlink), when the leaf is a symlink,
/// a directory, a FIFO, socket or device, or when a file is where a directory must go (keys `a`
/// and `a/b`). Empty
/// segments (a leading `/`, `//`) are dropped: a key never names an absolute path.
///
/// Checks and creations are separate system calls: a local user racing the download could
/// swap a directory for a symlink between the two. The destination is assumed to be the
/// user's own.
pub(crate) fn target_under(root: &Path, rel: &str) -> Result<Target, Error> {
    let segments = key_segments(rel)?;
    let Some((leaf, dirs)) = segments.split_last() else {
        return Err(Error::refused("the key names no file"));
    };
    let mut path = dirs_under(root, dirs, Purpose::Write)?;
    path.push(leaf);
    let shown = path.display();
    match std::fs::symlink_metadata(&path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Target::File(path)),
        Err(e) => Err(Error::io(format!("cannot use {shown}"), e)),
        Ok(m) if m.file_type().is_symlink() => {
            Err(Error::refused(format!("{shown} is a symlink: the key would be written through it")))
        }
        Ok(m) if m.is_dir() => Err(Error::refused(format!("{shown} is a directory, where the key needs a file"))),
        Ok(m) if m.is_file() => Ok(Target::File(path)),
        // Opening a FIFO to write waits for a reader that may never come.
        Ok(_) => Err(Error::refused(format!("{shown} is a FIFO, socket or device: a key is never written into one"))),
    }
}

/// The path of `rel` under `root`, to be deleted: refused when a directory on the way is a
/// symlink (the delete would reach outside the tree, which writes are refused too) or when the
/// leaf is a directory. A leaf that is a symlink is itself what is removed, never its target.
pub(crate) fn removable_under(root: &Path, rel: &str) -> Result<PathBuf, Error> {
    let segments = key_segments(rel)?;
    let Some((leaf, dirs)) = segments.split_last() else {
        return Err(Error::refused("the name is empty"));
    };
    let mut path = dirs_under(root, dirs, Purpose::Delete)?;
    path.push(leaf);
    match std::fs::symlink_metadata(&path) {
        Ok(m) if m.is_dir() => Err(Error::refused(format!("not deleted: {} is a directory", path.display()))),
        Ok(_) => Ok(path),
        Err(e) => Err(Error::io(format!("not deleted: cannot read {}", path.display()), e)),
    }
}

/// Removes the folder `rel` under `root` when it holds nothing but empty folders (a sync's
/// download of a key where the local side had a folder whose files the sync deleted). No file,
/// symlink or unreadable folder is ever removed, and no folder on the way may be a symlink.
/// Whether it was removed.
pub(crate) fn remove_empty_folder(root: &Path, rel: &str) -> bool {
    fn empty_tree(dir: &Path) -> bool {
        let Ok(entries) = std::fs::read_dir(dir) else { return false };
        for entry in entries {
            // The type of the entry itself: a symlink is not followed, and not empty.
            match entry.and_then(|e| Ok((e.file_type()?, e.path()))) {
                Ok((t, path)) if t.is_dir() && empty_tree(&path) => {}
                _ => return false,
            }
        }
        std::fs::remove_dir(dir).is_ok()
    }
    let Ok(segments) = key_segments(rel) else { return false };
    let Some((leaf, dirs)) = segments.split_last() else { return false };
    let Ok(mut path) = dirs_under(root, dirs, Purpose::Delete) else { return false };
    path.push(leaf);
    std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir()) && empty_tree(&path)
}

/// Opens a file to read, and its metadata: never blocks on a FIFO (opened without waiting for
/// a writer, then refused, as a socket or device is), and waits out a shortage of file
/// descriptors rather than fail on it.
pub(crate) fn open_regular(path: &Path) -> io::Result<(File, std::fs::Metadata)> {
    let file = super::fd::patiently(|| crate::fs::open_file(path))?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "a FIFO, socket or device, not a file"));
    }
    Ok((file, meta))
}

/// A file's identity on its device (`None` where there is none to read).
pub(crate) fn file_id(m: &std::fs::Metadata) -> Option<(u64, u64)> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Some((m.dev(), m.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = m;
        None
    }
}

/// The target of a download to a path the user named: symlinks are followed (it is the
/// user's own choice), a directory is refused.
pub(crate) fn target_at(path: &Path) -> Result<Target, Error> {
    match std::fs::metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Target::File(path.to_path_buf())),
        Err(e) => Err(Error::io(format!("cannot use {}", path.display()), e)),
        Ok(m) if m.is_dir() => Err(Error::refused(format!("{} is a directory", path.display()))),
        Ok(m) if m.is_file() => Ok(Target::File(path.to_path_buf())),
        Ok(_) => Ok(Target::Special(path.to_path_buf())),
    }
}

fn is_symlink(path: &Path) -> bool {
    std::fs::symlink_metadata(path).map(|m| m.file_type().is_symlink()).unwrap_or(false)
}

/// The longest file name most file systems take (ext4, xfs, btrfs, tmpfs, APFS: 255 bytes).
const NAME_MAX: usize = 255;

/// A temporary file beside its target, created exclusively (`O_EXCL`, never through a
/// symlink) under a random name that fits the file system's name limit; removed when dropped
/// unless [`persist`](Self::persist) renamed it into place.
#[derive(Debug)]
pub(crate) struct TempFile {
    path: PathBuf,
    armed: bool,
}

impl TempFile {
    /// Creates the temporary file for `target` in `target`'s directory.
    pub(crate) fn create(target: &Path) -> io::Result<(TempFile, File)> {
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let mut last = None;
        for _ in 0..16 {
            let path = dir.join(temp_name(&name));
            let mut options = OpenOptions::new();
            // Readable too: a download may be read back to check it.
            options.read(true).write(true).create_new(true);
            #[cfg(any(target_os = "linux", target_os = "android"))]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC);
            }
            match options.open(&path) {
                Ok(f) => return Ok((TempFile { path, armed: true }, f)),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("no free temporary name")))
    }

    /// Renames the file onto `target` (replacing a regular file there, or the symlink itself,
    /// never what it points to).
    pub(crate) fn persist(mut self, target: &Path) -> io::Result<()> {
        std::fs::rename(&self.path, target)?;
        self.armed = false;
        Ok(())
    }
}

impl TempFile {
    /// Moves the file onto `target` only if nothing is there (`AlreadyExists` otherwise, and
    /// the temporary file stays to be removed): one `renameat2(RENAME_NOREPLACE)` where the
    /// system has it, else a hard link made exclusively and the temporary name unlinked, so a
    /// file that appears meanwhile is never replaced.
    #[allow(unsafe_code)] // renameat2: std has no rename that refuses to replace
    pub(crate) fn persist_new(mut self, target: &Path) -> io::Result<()> {
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        {
            use std::os::unix::ffi::OsStrExt;
            let c = |p: &Path| std::ffi::CString::new(p.as_os_str().as_bytes()).map_err(io::Error::other);
            let (from, to) = (c(&self.path)?, c(target)?);
            // SAFETY: two NUL-terminated paths that live across the call.
            let r = unsafe {
                libc::renameat2(libc::AT_FDCWD, from.as_ptr(), libc::AT_FDCWD, to.as_ptr(), libc::RENAME_NOREPLACE)
            };
            if r == 0 {
                self.armed = false;
                return Ok(());
            }
            let e = io::Error::last_os_error();
            // A file system without the flag: the link below does the same.
            if !matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS | libc::ENOTSUP)) {
                return Err(e);
            }
        }
        std::fs::hard_link(&self.path, target)?;
        // Both names are the file now; the temporary one goes (and would on drop anyway).
        let _ = std::fs::remove_file(&self.path);
        self.armed = false;
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if self.armed {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// `.<start of name>.<8 random characters>.cirrus`, at most [`NAME_MAX`] bytes.
fn temp_name(name: &str) -> String {
    const SUFFIX: usize = 1 + 8 + ".cirrus".len();
    let mut keep = name.len().min(NAME_MAX - 1 - SUFFIX);
    while !name.is_char_boundary(keep) {
        keep -= 1;
    }
    let random: String = (0..8).map(|_| fastrand::alphanumeric()).collect();
    format!(".{}.{random}.cirrus", &name[..keep])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("cirrus-local-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn temporary_names_fit_and_differ() {
        let long = "é".repeat(127); // 254 bytes: a legal name
        let a = temp_name(&long);
        assert!(a.len() <= NAME_MAX, "{}", a.len());
        assert!(a.starts_with('.') && a.ends_with(".cirrus"));
        assert_ne!(temp_name("x"), temp_name("x"));
    }

    #[test]
    fn keys_stay_inside_the_destination() {
        let root = scratch("inside");
        assert_eq!(target_under(&root, "a/b.txt").ok(), Some(Target::File(root.join("a/b.txt"))));
        assert!(root.join("a").is_dir());
        // A leading slash or doubled slashes never make a path absolute.
        assert_eq!(target_under(&root, "/etc/passwd").ok(), Some(Target::File(root.join("etc/passwd"))));
        assert_eq!(target_under(&root, "x//y").ok(), Some(Target::File(root.join("x/y"))));
        let long = "n".repeat(256);
        for bad in ["../escape", "a/../../escape", "a/./b", "..", "", "/", "a\0b", long.as_str()] {
            assert!(target_under(&root, bad).is_err_and(|e| e.is_refused()), "{bad:?}");
        }
        assert!(!root.parent().unwrap().join("escape").exists());
    }

    #[test]
    fn symlinks_inside_the_destination_are_not_followed() {
        let root = scratch("links");
        let outside = scratch("links-outside");
        std::os::unix::fs::symlink(&outside, root.join("out")).unwrap();
        std::os::unix::fs::symlink(outside.join("f"), root.join("leaf")).unwrap();
        assert!(target_under(&root, "out/f").unwrap_err().to_string().contains("symlink"));
        assert!(target_under(&root, "leaf").unwrap_err().to_string().contains("symlink"));
        std::fs::write(root.join("file"), b"x").unwrap();
        assert!(target_under(&root, "file/b").unwrap_err().to_string().contains("is a file"));
        std::fs::create_dir(root.join("dir")).unwrap();
        assert!(target_under(&root, "dir").unwrap_err().to_string().contains("is a directory"));
        let made = std::process::Command::new("mkfifo").arg(root.join("pipe")).status().unwrap();
        assert!(made.success());
        assert!(target_under(&root, "pipe").unwrap_err().to_string().contains("FIFO"));
    }

    #[test]
    fn temporary_files_are_exclusive_and_removed() {
        let root = scratch("temp");
        let target = root.join("t");
        let (tmp, _f) = TempFile::create(&target).unwrap();
        let path = tmp.path.clone();
        assert!(path.exists());
        drop(tmp);
        assert!(!path.exists());
        let (tmp, _f) = TempFile::create(&target).unwrap();
        tmp.persist(&target).unwrap();
        assert!(target.exists());
        assert_eq!(std::fs::read_dir(&root).unwrap().count(), 1);
        // No clobbering: a file that is there stays, and the temporary file goes.
        let (tmp, _f) = TempFile::create(&target).unwrap();
        let e = tmp.persist_new(&target).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read_dir(&root).unwrap().count(), 1);
        let fresh = root.join("fresh");
        let (tmp, _f) = TempFile::create(&fresh).unwrap();
        tmp.persist_new(&fresh).unwrap();
        assert!(fresh.exists());
        assert_eq!(std::fs::read_dir(&root).unwrap().count(), 2);
    }
}
