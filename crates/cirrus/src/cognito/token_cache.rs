//! An on-disk cache of user pool tokens, so a new process refreshes instead of logging in again.
//!
//! One JSON file per (user pool, app client, user) in a directory the user chooses, written
//! 0600 (the directory 0700) through a temporary file and a rename, so a reader never sees half
//! a file. It holds the id, access and refresh tokens (each in its own slot) and their expiry;
//! never the password.

use super::Tokens;
use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;
use zeroize::Zeroizing;

/// The token cache in one directory.
#[derive(Clone, Debug)]
pub struct TokenCache {
    dir: PathBuf,
}

impl TokenCache {
    /// A cache in `dir` (created on first write).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        TokenCache { dir: dir.into() }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file for this user of this app client.
    pub fn path(&self, user_pool_id: &str, app_id: &str, username: &str) -> PathBuf {
        let key = format!("{user_pool_id}\n{app_id}\n{username}");
        let name = &cirrus_sigv4::sha256_hex(key.as_bytes())[..32];
        self.dir.join(format!("{name}.json"))
    }

    /// The cached tokens, if a readable entry for this user exists. An entry other users can
    /// read or write (not 0600) is not trusted: it is ignored, and the next store replaces it.
    pub fn load(&self, user_pool_id: &str, app_id: &str, username: &str) -> Option<Tokens> {
        let path = self.path(user_pool_id, app_id, username);
        if !private(&path) {
            tracing::warn!(path = %path.display(), "ignoring a Cognito token cache file others can read or write");
            return None;
        }
        let text = Zeroizing::new(crate::fs::read_text(&path).ok()?);
        let v: Value = serde_json::from_str(&text).ok()?;
        let same = v["user_pool_id"] == user_pool_id && v["app_id"] == app_id && v["username"] == username;
        if !same {
            return None;
        }
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(|t| Zeroizing::new(t.to_owned()));
        Some(Tokens {
            id_token: s("id_token")?,
            access_token: s("access_token")?,
            refresh_token: s("refresh_token"),
            expires_at: cirrus_sigv4::parse_rfc3339(v.get("expires_at")?.as_str()?)?,
        })
    }

    /// Writes the tokens, replacing the entry atomically.
    pub fn store(&self, user_pool_id: &str, app_id: &str, username: &str, tokens: &Tokens) -> std::io::Result<()> {
        create_private_dir(&self.dir)?;
        let path = self.path(user_pool_id, app_id, username);
        let body = Zeroizing::new(
            json!({
                "user_pool_id": user_pool_id,
                "app_id": app_id,
                "username": username,
                "id_token": tokens.id_token.as_str(),
                "access_token": tokens.access_token.as_str(),
                "refresh_token": tokens.refresh_token.as_ref().map(|t| t.as_str()),
                "expires_at": cirrus_sigv4::format_rfc3339(tokens.expires_at),
                "written_at": cirrus_sigv4::format_rfc3339(SystemTime::now()),
            })
            .to_string(),
        );
        let tmp = path.with_extension(format!("tmp-{}-{}", std::process::id(), fastrand::u64(..)));
        let written = (|| {
            let mut f = private_file(&tmp)?;
            f.write_all(body.as_bytes())?;
            f.sync_all()?;
            std::fs::rename(&tmp, &path)
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written
    }

    /// Removes the entry (after the refresh token was refused).
    pub fn remove(&self, user_pool_id: &str, app_id: &str, username: &str) {
        let _ = std::fs::remove_file(self.path(user_pool_id, app_id, username));
    }
}

#[cfg(unix)]
fn private(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o077 == 0)
}

#[cfg(not(unix))]
fn private(path: &Path) -> bool {
    path.is_file()
}

#[cfg(unix)]
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)
}

#[cfg(not(unix))]
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new().write(true).create_new(true).open(path)
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}
