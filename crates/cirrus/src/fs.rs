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
        std::fs::read_to_string(path)
    }
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
