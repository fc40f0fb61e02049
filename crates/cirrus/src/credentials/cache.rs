//! A cache around any provider: refresh ahead of expiry, one fetch at a time, and static
//! stability (keep serving what still works when the source fails).
//!
//! The rules are the cross-SDK "consistent credentials refresh" ones
//! (`testdata/credential-refresh`):
//! - credentials are refreshed once inside the **advisory window** before expiry, chosen from
//!   their lifetime (up to 20 min: 5 min; up to 90 min: 15 min; longer: 60 min) unless set;
//! - inside the **mandatory window** (the last 60 s), after expiry, or after
//!   [`invalidate`](ProvideCredentials::invalidate), callers wait for the refresh; in the
//!   advisory window only one caller waits and the others keep using the cached credentials;
//! - a failed refresh (including the source returning already-expired credentials) keeps
//!   serving the cached credentials and backs off 300-600 s before asking the source again;
//! - an error that retrying cannot fix is raised at once and remembered for 5 s, so a caller
//!   looping on it does not hammer the source.

use super::{BoxFuture, Credentials, CredentialsError, ProvideCredentials, SharedCredentialsProvider};
use crate::clock::{SharedClock, SystemClock};
use arc_swap::ArcSwap;
use std::fmt;
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// How the cache refreshes.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct CacheSettings {
    /// A fixed advisory window instead of the one chosen from the credentials' lifetime.
    pub advisory_window: Option<Duration>,
    /// The last stretch before expiry in which every caller waits for the refresh. 60 s.
    pub mandatory_window: Duration,
    /// How long to wait after a failed refresh before asking the source again (picked uniformly
    /// from the range). 300-600 s.
    pub refresh_backoff: RangeInclusive<Duration>,
    /// How long an error that retrying cannot fix is returned without asking the source. 5 s.
    pub error_ttl: Duration,
}

impl Default for CacheSettings {
    fn default() -> Self {
        CacheSettings {
            advisory_window: None,
            mandatory_window: Duration::from_secs(60),
            refresh_backoff: Duration::from_secs(300)..=Duration::from_secs(600),
            error_ttl: Duration::from_secs(5),
        }
    }
}

/// Counters, for tests and diagnostics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheStats {
    /// Times the source was asked.
    pub fetches: u64,
    /// Calls answered from the cache because a refresh backoff was active.
    pub rate_limited: u64,
}

/// Any provider, cached. Itself a [`ProvideCredentials`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use cirrus::credentials::{CredentialsCache, StaticCredentials};
///
/// // Any provider: fixed keys here; an assumed role, SSO or Cognito in practice.
/// let cache = CredentialsCache::new(StaticCredentials::new("AKIDEXAMPLE", "secret", None));
/// let credentials = cache.credentials().await?;
/// assert_eq!(credentials.access_key_id(), "AKIDEXAMPLE");
/// // Borrowed from the cache, for a moment (one signature):
/// let temporary = cache.with_credentials(|c| c.session_token().is_some()).await?;
/// assert!(!temporary);
/// assert_eq!(cache.stats().fetches, 1);
/// # Ok(())
/// # }
/// ```
pub struct CredentialsCache {
    source: SharedCredentialsProvider,
    clock: SharedClock,
    settings: CacheSettings,
    state: ArcSwap<State>,
    refresh: tokio::sync::Mutex<()>,
    fetches: AtomicU64,
    rate_limited: AtomicU64,
}

#[derive(Clone, Default)]
struct State {
    credentials: Option<Credentials>,
    /// When to refresh (start of the advisory window); `None` for credentials without expiry.
    refresh_at: Option<SystemTime>,
    /// Start of the mandatory window.
    mandatory_at: Option<SystemTime>,
    advisory_window: Option<Duration>,
    invalidated: bool,
    backoff_until: Option<SystemTime>,
    /// A remembered error that retrying cannot fix, and until when.
    error: Option<(CredentialsError, SystemTime)>,
    /// The outcome of the last fetch when it failed.
    last_error: Option<CredentialsError>,
    /// Bumped by every fetch, so a caller that waited knows a fetch happened meanwhile.
    generation: u64,
}

impl CredentialsCache {
    /// Caches `source` with the default settings and the system clock.
    pub fn new(source: impl ProvideCredentials + 'static) -> Self {
        Self::with_settings(Arc::new(source), CacheSettings::default(), Arc::new(SystemClock))
    }

    /// Caches `source` with these settings and this clock.
    pub fn with_settings(source: SharedCredentialsProvider, settings: CacheSettings, clock: SharedClock) -> Self {
        CredentialsCache {
            source,
            clock,
            settings,
            state: ArcSwap::from_pointee(State::default()),
            refresh: tokio::sync::Mutex::new(()),
            fetches: AtomicU64::new(0),
            rate_limited: AtomicU64::new(0),
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> CacheStats {
        CacheStats {
            fetches: self.fetches.load(Ordering::Relaxed),
            rate_limited: self.rate_limited.load(Ordering::Relaxed),
        }
    }

    /// The advisory window in use for the cached credentials, if any.
    pub fn advisory_window(&self) -> Option<Duration> {
        self.state.load().advisory_window
    }

    /// Credentials: from the cache when they are fresh (no lock, no allocation), otherwise
    /// after a refresh.
    pub async fn credentials(&self) -> Result<Credentials, CredentialsError> {
        // Deadlines are minutes away; a clock that lags by a tick is plenty and much cheaper.
        let now = self.clock.now_coarse();
        {
            let st = self.state.load();
            if let Some(c) = &st.credentials {
                if !st.invalidated && st.refresh_at.is_none_or(|t| now < t) {
                    return Ok(c.clone());
                }
            }
        }
        // Boxed so the future of a warm lookup stays small (it is moved on every call).
        Box::pin(self.refresh_path(now)).await
    }

    /// Calls `f` with credentials, borrowed straight from the cache when they are fresh. Unlike
    /// [`credentials`](Self::credentials) it touches no shared reference count, so threads that
    /// look up at once do not contend on one cache line. Use it where the credentials are only
    /// needed for a moment, such as signing one request.
    pub async fn with_credentials<R>(&self, f: impl FnOnce(&Credentials) -> R) -> Result<R, CredentialsError> {
        let now = self.clock.now_coarse();
        {
            let st = self.state.load();
            if let Some(c) = &st.credentials {
                if !st.invalidated && st.refresh_at.is_none_or(|t| now < t) {
                    return Ok(f(c));
                }
            }
        }
        let c = Box::pin(self.refresh_path(now)).await?;
        Ok(f(&c))
    }

    async fn refresh_path(&self, now: SystemTime) -> Result<Credentials, CredentialsError> {
        let st = self.state.load_full();
        if let Some((e, until)) = &st.error {
            if now < *until {
                return Err(e.clone());
            }
        }
        if let (Some(c), Some(until)) = (&st.credentials, st.backoff_until) {
            if now < until {
                self.rate_limited.fetch_add(1, Ordering::Relaxed);
                return Ok(c.clone());
            }
        }
        let mandatory = match (&st.credentials, st.mandatory_at) {
            (None, _) => true,
            (Some(_), _) if st.invalidated => true,
            (Some(_), Some(m)) => now >= m,
            (Some(_), None) => false,
        };
        let _guard = if mandatory {
            self.refresh.lock().await
        } else {
            match (self.refresh.try_lock(), &st.credentials) {
                (Ok(g), _) => g,
                // Someone is refreshing already; what we have is still good for a while.
                (Err(_), Some(c)) => return Ok(c.clone()),
                (Err(_), None) => self.refresh.lock().await,
            }
        };
        let current = self.state.load_full();
        if current.generation != st.generation {
            // A fetch finished while we waited: share its outcome rather than fetch again.
            let now = self.clock.now();
            if let Some((e, until)) = &current.error {
                if now < *until {
                    return Err(e.clone());
                }
            }
            if let Some(c) = &current.credentials {
                return Ok(c.clone());
            }
            if let Some(e) = &current.last_error {
                return Err(e.clone());
            }
        }
        self.fetch(&current).await
    }

    async fn fetch(&self, st: &State) -> Result<Credentials, CredentialsError> {
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let result = self.source.provide_credentials().await;
        let now = self.clock.now();
        let mut next = st.clone();
        next.generation += 1;
        next.error = None;
        let outcome = match result {
            Ok(c) if c.is_expired_at(now) => Err(CredentialsError::unavailable(format!(
                "the {} provider returned credentials that have already expired",
                c.provider()
            ))),
            other => other,
        };
        let out = match outcome {
            Ok(c) => {
                let window = c.expiry().map(|e| {
                    self.settings
                        .advisory_window
                        .unwrap_or_else(|| advisory_for(e.duration_since(now).unwrap_or_default()))
                });
                next.refresh_at = c.expiry().zip(window).map(|(e, w)| e.checked_sub(w).unwrap_or(now));
                next.mandatory_at = c.expiry().map(|e| e.checked_sub(self.settings.mandatory_window).unwrap_or(now));
                next.advisory_window = window;
                next.credentials = Some(c.clone());
                next.invalidated = false;
                next.backoff_until = None;
                next.last_error = None;
                Ok(c)
            }
            Err(e) if e.is_retryable() => {
                tracing::warn!(error = %e, "credentials refresh failed");
                next.last_error = Some(e.clone());
                match &st.credentials {
                    Some(c) => {
                        next.backoff_until = Some(now + self.backoff());
                        Ok(c.clone())
                    }
                    None => Err(e),
                }
            }
            Err(e) => {
                next.last_error = Some(e.clone());
                next.error = Some((e.clone(), now + self.settings.error_ttl));
                Err(e)
            }
        };
        self.state.store(Arc::new(next));
        out
    }

    fn backoff(&self) -> Duration {
        let (lo, hi) =
            (self.settings.refresh_backoff.start().as_millis(), self.settings.refresh_backoff.end().as_millis());
        let ms = if hi > lo { fastrand::u64(lo as u64..=hi as u64) } else { lo as u64 };
        Duration::from_millis(ms)
    }
}

/// The advisory window for credentials that live `lifetime` from now.
fn advisory_for(lifetime: Duration) -> Duration {
    const MIN: u64 = 60;
    if lifetime <= Duration::from_secs(20 * MIN) {
        Duration::from_secs(5 * MIN)
    } else if lifetime < Duration::from_secs(90 * MIN) {
        Duration::from_secs(15 * MIN)
    } else {
        Duration::from_secs(60 * MIN)
    }
}

impl ProvideCredentials for CredentialsCache {
    fn provide_credentials(&self) -> BoxFuture<'_, Result<Credentials, CredentialsError>> {
        Box::pin(self.credentials())
    }

    /// Forces the next call through the mandatory refresh, unless `access_key_id` is no longer
    /// the cached one (a refresh already replaced it) or a refresh backoff is active.
    fn invalidate(&self, access_key_id: &str) {
        let now = self.clock.now();
        self.state.rcu(|st| {
            let matches = st.credentials.as_ref().is_some_and(|c| c.access_key_id() == access_key_id);
            let backing_off = st.backoff_until.is_some_and(|b| now < b);
            if matches && !backing_off {
                let mut next = State::clone(st);
                next.invalidated = true;
                Arc::new(next)
            } else {
                Arc::clone(st)
            }
        });
        self.source.invalidate(access_key_id);
    }
}

impl fmt::Debug for CredentialsCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialsCache").field("source", &self.source).field("stats", &self.stats()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advisory_windows_follow_the_lifetime_table() {
        let m = |x: u64| Duration::from_secs(x * 60);
        assert_eq!(advisory_for(m(10)), m(5));
        assert_eq!(advisory_for(m(20)), m(5));
        assert_eq!(advisory_for(Duration::from_secs(1230)), m(15));
        assert_eq!(advisory_for(m(89)), m(15));
        assert_eq!(advisory_for(m(90)), m(60));
        assert_eq!(advisory_for(m(360)), m(60));
    }
}
