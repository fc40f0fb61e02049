//! The AWS CLI's SSO token cache: `~/.aws/sso/cache/<sha1>.json`, the SHA-1 of the
//! `sso-session` name (or of the start URL for a legacy profile), with `startUrl`, `region`,
//! `accessToken`, `expiresAt`, `clientId`, `clientSecret`, `registrationExpiresAt` and
//! `refreshToken`. Written to a temporary file (mode 0600) and renamed into place, as botocore
//! does, so a reader never sees half a token.

use crate::env::Env;
use serde_json::{json, Map, Value};
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;
use zeroize::Zeroizing;

/// One cached login.
#[derive(Clone)]
pub struct SsoToken {
    /// The start URL (`https://my-sso-portal.awsapps.com/start`).
    pub start_url: String,
    /// The Identity Center region.
    pub region: String,
    /// The access token.
    pub access_token: Zeroizing<String>,
    /// When it expires.
    pub expires_at: SystemTime,
    /// The registered client, needed to refresh.
    pub client_id: Option<String>,
    /// Its secret.
    pub client_secret: Option<Zeroizing<String>>,
    /// When the registration ends.
    pub registration_expires_at: Option<SystemTime>,
    /// The refresh token.
    pub refresh_token: Option<Zeroizing<String>>,
}

impl fmt::Debug for SsoToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SsoToken")
            .field("start_url", &self.start_url)
            .field("region", &self.region)
            .field("expires_at", &self.expires_at)
            .field("client_id", &self.client_id)
            .field("refreshable", &self.refresh_token.is_some())
            .finish_non_exhaustive()
    }
}

/// The time format of the AWS CLI's caches.
pub(crate) fn format_time(t: SystemTime) -> String {
    cirrus_sigv4::format_rfc3339(t)
}

/// RFC 3339, and the `...UTC` / `+00:00` forms older AWS CLI versions wrote.
pub(crate) fn parse_time(s: &str) -> Option<SystemTime> {
    let s = s.trim();
    let fixed = if let Some(p) = s.strip_suffix("UTC") {
        format!("{p}Z")
    } else if let Some(p) = s.strip_suffix("+00:00") {
        format!("{p}Z")
    } else {
        s.to_owned()
    };
    cirrus_sigv4::parse_rfc3339(&fixed)
}

impl SsoToken {
    fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("startUrl".into(), json!(self.start_url));
        m.insert("region".into(), json!(self.region));
        m.insert("accessToken".into(), json!(self.access_token.as_str()));
        m.insert("expiresAt".into(), json!(format_time(self.expires_at)));
        if let Some(id) = &self.client_id {
            m.insert("clientId".into(), json!(id));
        }
        if let Some(s) = &self.client_secret {
            m.insert("clientSecret".into(), json!(s.as_str()));
        }
        if let Some(t) = self.registration_expires_at {
            m.insert("registrationExpiresAt".into(), json!(format_time(t)));
        }
        if let Some(r) = &self.refresh_token {
            m.insert("refreshToken".into(), json!(r.as_str()));
        }
        Value::Object(m)
    }

    pub(crate) fn from_json(v: &Value) -> Option<SsoToken> {
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        Some(SsoToken {
            start_url: s("startUrl").unwrap_or_default(),
            region: s("region").unwrap_or_default(),
            access_token: Zeroizing::new(s("accessToken")?),
            expires_at: parse_time(&s("expiresAt")?)?,
            client_id: s("clientId"),
            client_secret: s("clientSecret").map(Zeroizing::new),
            registration_expires_at: s("registrationExpiresAt").as_deref().and_then(parse_time),
            refresh_token: s("refreshToken").map(Zeroizing::new),
        })
    }

    /// Whether a refresh can be tried at `now`: a refresh token and a registration still valid.
    pub fn can_refresh(&self, now: SystemTime) -> bool {
        self.refresh_token.is_some()
            && self.client_id.is_some()
            && self.client_secret.is_some()
            && self.registration_expires_at.is_some_and(|t| t > now)
    }
}

/// The token cache directory.
#[derive(Clone, Debug)]
pub struct TokenCache {
    dir: PathBuf,
}

/// The hex SHA-1 of `input`: the AWS CLI's cache file names.
pub(crate) fn sha1_hex(input: &str) -> String {
    let d = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, input.as_bytes());
    cirrus_sigv4::hex(d.as_ref())
}

impl TokenCache {
    /// A cache in this directory.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        TokenCache { dir: dir.into() }
    }

    /// `~/.aws/sso/cache`, the AWS CLI's.
    pub fn default_location(env: &dyn Env) -> Self {
        TokenCache::new(crate::profile::expand_home(env, "~/.aws/sso/cache"))
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of the session named `key` (or of the start URL, for a legacy profile).
    pub fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{}.json", sha1_hex(key)))
    }

    /// The cached token of `key`; `None` when there is none or the file is not a token (the
    /// AWS CLI treats both the same way: log in again).
    pub fn load(&self, key: &str) -> Option<SsoToken> {
        let path = self.path(key);
        let text = crate::fs::read_text(&path).ok()?;
        let token = serde_json::from_str::<Value>(&text).ok().and_then(|v| SsoToken::from_json(&v));
        if token.is_none() {
            tracing::debug!(path = %path.display(), "the SSO cache file is not a token");
        }
        token
    }

    /// Writes the token of `key`, atomically, readable by its owner only.
    pub fn store(&self, key: &str, token: &SsoToken) -> io::Result<()> {
        crate::fs::write_private(&self.path(key), token.to_json().to_string().as_bytes())
    }

    /// Removes every cached access token (`sso logout`), as the AWS CLI does: the `*.json`
    /// files that hold an `accessToken`, nothing else (a client registration, a file of another
    /// tool, a directory stay). An entry that cannot be read or removed is passed over, with a
    /// warning, and the others still go. How many were removed.
    pub fn remove_all(&self) -> io::Result<usize> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(e),
        };
        let mut removed = 0;
        for path in entries.filter_map(|e| e.ok()).map(|e| e.path()) {
            let is_token = path.extension().is_some_and(|x| x == "json")
                && crate::fs::read_text(&path)
                    .ok()
                    .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
                    .is_some_and(|v| v.get("accessToken").is_some());
            if !is_token {
                continue;
            }
            match std::fs::remove_file(&path) {
                Ok(()) => removed += 1,
                Err(e) => tracing::warn!(path = %path.display(), error = %e, "cannot remove a cached SSO token"),
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_file_name_is_the_sha1_of_the_session_name() {
        // hashlib.sha1(b"my-sso").hexdigest(), as the AWS CLI computes it.
        assert_eq!(sha1_hex("my-sso"), "0ad374308c5a4e22f723adf10145eafad7c4031c");
    }

    #[test]
    fn a_token_round_trips_in_the_aws_cli_format() {
        let dir = std::env::temp_dir().join(format!("cirrus-sso-cache-{}", std::process::id()));
        let cache = TokenCache::new(&dir);
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let token = SsoToken {
            start_url: "https://d-1.awsapps.com/start".into(),
            region: "eu-west-1".into(),
            access_token: Zeroizing::new("access".into()),
            expires_at: at,
            client_id: Some("cid".into()),
            client_secret: Some(Zeroizing::new("csecret".into())),
            registration_expires_at: Some(at + Duration::from_secs(86400)),
            refresh_token: Some(Zeroizing::new("refresh".into())),
        };
        cache.store("corp", &token).unwrap();
        let text = std::fs::read_to_string(cache.path("corp")).unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["expiresAt"], "2027-01-15T08:00:00Z");
        assert_eq!((v["accessToken"].as_str(), v["refreshToken"].as_str()), (Some("access"), Some("refresh")));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(cache.path("corp")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let back = cache.load("corp").unwrap();
        assert_eq!((back.expires_at, back.access_token.as_str()), (at, "access"));
        assert!(back.can_refresh(at) && !back.can_refresh(at + Duration::from_secs(86401)));
        assert!(!format!("{back:?}").contains("access\"") && !format!("{back:?}").contains("csecret"));
        assert_eq!(cache.remove_all().unwrap(), 1);
        assert!(cache.load("corp").is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn older_time_forms_are_read() {
        let t = parse_time("2019-11-14T04:05:45UTC").unwrap();
        assert_eq!(parse_time("2019-11-14T04:05:45Z"), Some(t));
        assert_eq!(parse_time("2019-11-14T04:05:45+00:00"), Some(t));
        assert!(parse_time("soon").is_none());
    }
}
