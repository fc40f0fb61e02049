//! Resumable uploads: a multipart upload that fails or is interrupted is kept, and a journal of
//! it (the upload id, the file it reads as it was, and each part S3 confirmed with the digests
//! of its bytes) is kept in the resume folder, so a later run sends only what is missing.
//!
//! A journal is one file per upload, named by a digest of the endpoint, bucket, key and file
//! path: a header line, then one line per confirmed part, appended as each lands (a line torn
//! by a crash is ignored). A part is reused only when S3 still lists it at its size, with the
//! ETag it gave (when the store gives ETags), and the file's bytes at its place still have the
//! MD5 and checksum recorded; anything else is sent again. A file whose size or modification
//! time moved starts over, and its old upload is aborted.

use super::Error;
use crate::s3::checksum::PartDigests;
use crate::s3::{Checksum, ChecksumAlgorithm, CompletedPart, S3Client};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

/// The parts S3 lists for an upload: number to size and ETag.
pub(crate) type Listed = HashMap<u32, (u64, Option<String>)>;

/// The journal of one file's upload to one key.
#[derive(Debug)]
pub(crate) struct Journal {
    path: PathBuf,
    /// What the header must say for the journal to be this upload's.
    identity: Value,
}

/// What an earlier run left: the upload and the parts it confirmed.
#[derive(Debug)]
pub(crate) struct Found {
    pub(crate) upload_id: String,
    pub(crate) part_size: u64,
    /// Confirmed parts by number: (ETag, MD5 hex of the bytes, checksum, size).
    parts: HashMap<u32, (String, String, Option<Checksum>, u64)>,
}

impl Journal {
    /// The journal in `dir` of `file` (as `meta` says it is now) uploaded to `bucket`/`key`.
    pub(crate) fn new(
        dir: &Path,
        client: &S3Client,
        bucket: &str,
        key: &str,
        file: &Path,
        meta: &std::fs::Metadata,
    ) -> Self {
        let endpoint = client.service().endpoint();
        let source = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
        let name =
            cirrus_sigv4::sha256_hex(format!("{endpoint}\0{bucket}\0{key}\0{}", source.to_string_lossy()).as_bytes());
        let mtime = meta.modified().ok().and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map_or(0, |d| d.as_nanos());
        let identity = json!({
            "endpoint": endpoint, "bucket": bucket, "key": key, "file": source.to_string_lossy(),
            "size": meta.len(), "mtime_ns": mtime.to_string(),
        });
        Journal { path: dir.join(format!("{name}.upload")), identity }
    }

    /// The upload an earlier run left for this file, when there is one and the file is as it
    /// was then. A journal of the same key and path whose file has changed is removed and its
    /// upload id returned in `Err`, to be aborted.
    pub(crate) fn find(&self) -> Result<Option<Found>, String> {
        let Ok(text) = crate::fs::read_text(&self.path) else { return Ok(None) };
        let mut lines = text.lines();
        let header: Option<Value> = lines.next().and_then(|l| serde_json::from_str(l).ok());
        let Some(header) = header else {
            self.remove();
            return Ok(None);
        };
        let upload_id = header["upload_id"].as_str().unwrap_or_default().to_owned();
        let part_size = header["part_size"].as_u64().unwrap_or_default();
        if header["identity"] != self.identity || upload_id.is_empty() || part_size == 0 {
            self.remove();
            return if upload_id.is_empty() { Ok(None) } else { Err(upload_id) };
        }
        let algorithm = header["checksum"].as_str().and_then(|a| a.parse::<ChecksumAlgorithm>().ok());
        let mut parts = HashMap::new();
        for line in lines {
            // A line cut short by a crash is not a part.
            let Ok(p) = serde_json::from_str::<Value>(line) else { continue };
            let (Some(n), Some(etag), Some(md5), Some(size)) =
                (p["n"].as_u64(), p["etag"].as_str(), p["md5"].as_str(), p["size"].as_u64())
            else {
                continue;
            };
            let checksum =
                algorithm.zip(p["sum"].as_str()).map(|(algorithm, v)| Checksum { algorithm, value: v.into() });
            parts.insert(n as u32, (etag.to_owned(), md5.to_owned(), checksum, size));
        }
        Ok(Some(Found { upload_id, part_size, parts }))
    }

    /// Starts the journal of a new upload (replacing any other).
    pub(crate) fn start(
        &self,
        upload_id: &str,
        part_size: u64,
        checksum: Option<ChecksumAlgorithm>,
    ) -> Result<(), Error> {
        let header = json!({
            "v": 1, "identity": self.identity, "upload_id": upload_id, "part_size": part_size,
            "checksum": checksum.map(ChecksumAlgorithm::as_str),
        });
        // write_private makes the folder (owner only) when it is missing.
        crate::fs::write_private(&self.path, format!("{header}\n").as_bytes())
            .map_err(|e| Error::io("cannot write the resume journal", e))
    }

    /// Records a part S3 confirmed, with the MD5 (hex) of the bytes sent; its checksum is
    /// the part's.
    pub(crate) fn record(&self, part: &CompletedPart, md5_hex: &str) -> Result<(), Error> {
        let line = json!({
            "n": part.number, "etag": part.etag, "md5": md5_hex, "size": part.size,
            "sum": part.checksum.as_ref().map(|c| c.value.as_str()),
        });
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&self.path)
            .map_err(|e| Error::io("cannot write the resume journal", e))?;
        // One write per line: a crash leaves at most the last line torn.
        file.write_all(format!("{line}\n").as_bytes()).map_err(|e| Error::io("cannot write the resume journal", e))
    }

    /// The upload is complete or aborted: nothing to resume.
    pub(crate) fn remove(&self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Found {
    /// The recorded part `number` as CompleteMultipartUpload needs it, when S3 still lists it
    /// (`listed`: number to size and ETag) as it was and the file's `len` bytes at its place
    /// have the digests recorded (`digests`, from a pass over them that computed the MD5 and
    /// the recorded checksum's algorithm, [`Found::algorithm_of`]).
    pub(crate) fn reusable(
        &self,
        number: u32,
        len: u64,
        digests: &PartDigests,
        listed: &Listed,
    ) -> Option<CompletedPart> {
        let (etag, md5, checksum, size) = self.parts.get(&number)?;
        let (listed_size, listed_etag) = listed.get(&number)?;
        let same_etag = listed_etag.as_ref().is_none_or(|e| e == etag);
        if *listed_size != *size || len != *size || !same_etag || digests.md5_hex.as_ref() != Some(md5) {
            return None;
        }
        if let Some(c) = checksum {
            if digests.sum(c.algorithm).map(|d| &d.value) != Some(&c.value) {
                return None;
            }
        }
        Some(CompletedPart { number, etag: etag.clone(), checksum: checksum.clone(), size: *size })
    }

    /// Whether a part of this number was confirmed (and is worth reading back to check).
    pub(crate) fn has(&self, number: u32) -> bool {
        self.parts.contains_key(&number)
    }

    /// The checksum algorithm recorded with part `number`, which checking it needs computed.
    pub(crate) fn algorithm_of(&self, number: u32) -> Option<ChecksumAlgorithm> {
        self.parts.get(&number).and_then(|p| p.2.as_ref()).map(|c| c.algorithm)
    }
}

/// The parts S3 lists for the upload: number to size and ETag; `None` when the upload is gone.
pub(crate) async fn listed(
    client: &S3Client,
    bucket: &str,
    key: &str,
    upload_id: &str,
) -> Result<Option<Listed>, Error> {
    match client.list_parts(bucket, key, upload_id).await {
        Ok(parts) => Ok(Some(parts.into_iter().map(|p| (p.number, (p.size, p.etag))).collect())),
        Err(e) if e.code() == Some("NoSuchUpload") => Ok(None),
        Err(e) => Err(Error::call("cannot list the parts of the upload to resume", e)),
    }
}

/// Where the CLI keeps journals: `$XDG_CACHE_HOME/cirrus/uploads`, else
/// `~/.cache/cirrus/uploads`.
pub fn default_resume_dir(env: &dyn crate::env::Env) -> Option<PathBuf> {
    let cache = env
        .get("XDG_CACHE_HOME")
        .filter(|d| Path::new(d).is_absolute())
        .map(PathBuf::from)
        .or_else(|| env.get("HOME").filter(|h| !h.is_empty()).map(|h| Path::new(&h).join(".cache")))?;
    Some(cache.join("cirrus").join("uploads"))
}
