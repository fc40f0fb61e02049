//! The file system behind a seam: tests hand in files from memory.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

/// Reads files.
pub trait Fs: Send + Sync {
    /// The whole file as UTF-8 text. `NotFound` when it does not exist.
    fn read_to_string(&self, path: &Path) -> io::Result<String>;
}

/// The real file system.
#[derive(Clone, Copy, Debug, Default)]
pub struct RealFs;

impl Fs for RealFs {
    fn read_to_string(&self, path: &Path) -> io::Result<String> {
        read_text(path)
    }
}

/// The most cirrus reads of a settings or credentials file (config, credentials, a CA bundle,
/// a token file, a cache entry): 16 MiB. A path that names something else by mistake
/// (`/dev/zero`, a disk image) is refused instead of filling memory.
pub const MAX_FILE_BYTES: u64 = 16 << 20;

/// Opens a file to read without ever waiting: a FIFO (which would block until a writer came),
/// a socket or a block device is refused with an error that says so (`InvalidInput`). A
/// character device such as `/dev/null` is read as it is.
pub fn open_file(path: &Path) -> io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC);
    }
    let file = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let kind = file.metadata()?.file_type();
        if kind.is_fifo() || kind.is_socket() || kind.is_block_device() {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "a FIFO, socket or block device, not a file"));
        }
    }
    Ok(file)
}

/// Exactly `buf.len()` bytes of `file` from `offset`, leaving the file's position alone where
/// the system allows (a positioned read).
pub(crate) fn read_exact_at(file: &std::fs::File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
    }
    #[cfg(not(unix))]
    {
        use std::io::{Read, Seek, SeekFrom};
        let mut f = file.try_clone()?;
        f.seek(SeekFrom::Start(offset))?;
        f.read_exact(buf)
    }
}

/// A whole file as UTF-8 text, at most [`MAX_FILE_BYTES`]: a larger one is refused from its
/// size, and never more than the limit and a byte is read (a device has no size). A FIFO or
/// socket is refused ([`open_file`]).
pub fn read_text(path: &Path) -> io::Result<String> {
    use std::io::Read;
    let file = open_file(path)?;
    let too_large = || {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("larger than {MAX_FILE_BYTES} bytes, the most read of such a file"),
        )
    };
    if file.metadata()?.len() > MAX_FILE_BYTES {
        return Err(too_large());
    }
    let mut text = String::new();
    file.take(MAX_FILE_BYTES + 1).read_to_string(&mut text)?;
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large());
    }
    Ok(text)
}

/// Files held in memory, for tests.
#[derive(Clone, Debug, Default)]
pub struct MemFs {
    files: HashMap<PathBuf, String>,
}

impl MemFs {
    /// A file system holding these `(path, content)` files.
    pub fn new<'a>(files: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        MemFs { files: files.into_iter().map(|(p, c)| (PathBuf::from(p), c.to_owned())).collect() }
    }
}

impl Fs for MemFs {
    fn read_to_string(&self, path: &Path) -> io::Result<String> {
        self.files.get(path).cloned().ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such file"))
    }
}

/// Writes `bytes` to `path` through a temporary file beside it (mode 0600 on Unix), synced and
/// renamed into place; makes the directory (mode 0700) when missing.
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("cache");
    let tmp = dir.join(format!(".{name}.{}.{:08x}.tmp", std::process::id(), fastrand::u32(..)));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let result = (|| {
        let mut f = options.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_read_up_to_a_limit() {
        // A device has no size: the read stops at the limit.
        let e = read_text(Path::new("/dev/zero")).unwrap_err();
        assert!(e.kind() == io::ErrorKind::InvalidData && e.to_string().contains("16777216"), "{e}");
        // A large file is refused from its size (sparse: nothing is written).
        let dir = std::env::temp_dir().join(format!("cirrus-fs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let big = dir.join("big");
        std::fs::File::create(&big).and_then(|f| f.set_len(MAX_FILE_BYTES + 1)).unwrap();
        assert_eq!(read_text(&big).unwrap_err().kind(), io::ErrorKind::InvalidData);
        std::fs::write(dir.join("small"), "[default]\n").unwrap();
        assert_eq!(read_text(&dir.join("small")).unwrap(), "[default]\n");
        assert_eq!(read_text(&dir.join("none")).unwrap_err().kind(), io::ErrorKind::NotFound);
        assert_eq!(read_text(Path::new("/dev/null")).unwrap(), "");
        // A FIFO nobody writes to: refused at once, never waited on.
        let fifo = dir.join("fifo");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        let e = read_text(&fifo).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert!(e.to_string().contains("FIFO"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
