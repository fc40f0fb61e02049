//! The cross-SDK credential refresh cases (`testdata/credential-refresh`), one test each,
//! run against [`CredentialsCache`] with a hand-moved clock; plus single-flight under load.

use crate::common::{block_on, testdata, trial};
use crate::ensure;
use cirrus::clock::{Clock, ManualClock};
use cirrus::credentials::{BoxFuture, CacheSettings, CredentialsCache, ProvideCredentials};
use cirrus::{Credentials, CredentialsError};
use libtest_mimic::Trial;
use serde_json::Value;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What the source answers next.
#[derive(Clone, Copy, Debug)]
enum Answer {
    Fresh { lifetime: u64 },
    Stale,
    Error,
    NonRecoverable,
}

#[derive(Debug)]
struct Scripted {
    clock: ManualClock,
    answers: Mutex<VecDeque<Answer>>,
    calls: AtomicU64,
    key: Mutex<String>,
    delay: Duration,
}

impl Scripted {
    fn new(clock: ManualClock) -> Self {
        Scripted {
            clock,
            answers: Mutex::default(),
            calls: AtomicU64::new(0),
            key: Mutex::new(String::new()),
            delay: Duration::ZERO,
        }
    }

    fn next(&self, a: Answer, key: &str) {
        self.answers.lock().unwrap().push_back(a);
        *self.key.lock().unwrap() = key.to_owned();
    }
}

impl ProvideCredentials for Scripted {
    fn provide_credentials(&self) -> BoxFuture<'_, Result<Credentials, CredentialsError>> {
        Box::pin(async move {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if !self.delay.is_zero() {
                tokio::time::sleep(self.delay).await;
            }
            let now = self.clock.now();
            let key = self.key.lock().unwrap().clone();
            match self.answers.lock().unwrap().pop_front() {
                Some(Answer::Fresh { lifetime }) => {
                    Ok(Credentials::new(key, "secret", None, Some(now + Duration::from_secs(lifetime)), "scripted"))
                }
                Some(Answer::Stale) => {
                    Ok(Credentials::new(key, "secret", None, Some(now - Duration::from_secs(1)), "scripted"))
                }
                Some(Answer::Error) => Err(CredentialsError::unavailable("source down")),
                Some(Answer::NonRecoverable) => Err(CredentialsError::rejected("access denied")),
                None => Err(CredentialsError::rejected("the test did not expect the source to be asked")),
            }
        })
    }
}

const SIX_HOURS: u64 = 6 * 3600;

fn run_case(case: &Value) -> Result<(), String> {
    let given = &case["given"];
    let t0 = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let clock = ManualClock::new(t0);
    let source = Arc::new(Scripted::new(clock.clone()));
    let mut settings = CacheSettings::default();
    if let Some(w) = given["configuredAdvisoryWindowSeconds"].as_u64() {
        settings.advisory_window = Some(Duration::from_secs(w));
    }
    if let Some(b) = given["refreshBackoffSeconds"].as_u64() {
        settings.refresh_backoff = Duration::from_secs(b)..=Duration::from_secs(b);
    }
    let cache = CredentialsCache::with_settings(source.clone(), settings, Arc::new(clock.clone()));
    let seeded_key = given["accessKeyId"].as_str().unwrap_or("AKID-SEEDED").to_owned();

    block_on(async {
        // Put the cache in the given state through its own front door.
        let state = given["cachedCredentials"].as_str().unwrap_or("none");
        let mut current = None;
        if state != "none" {
            source.next(Answer::Fresh { lifetime: SIX_HOURS }, &seeded_key);
            cache.credentials().await.map_err(|e| format!("seeding failed: {e}"))?;
            let expiry = t0 + Duration::from_secs(SIX_HOURS);
            match state {
                "valid" => {}
                "advisory" => clock.set(expiry - Duration::from_secs(30 * 60)),
                "mandatory" => clock.set(expiry - Duration::from_secs(30)),
                "expired" => clock.set(expiry + Duration::from_secs(10)),
                other => return Err(format!("unknown given state {other}")),
            }
            current = Some(seeded_key.clone());
        }
        let mut fresh_n = 0;
        for (i, step) in case["steps"].as_array().ok_or("no steps")?.iter().enumerate() {
            match step["type"].as_str() {
                Some("advanceTime") => {
                    clock.advance(Duration::from_secs(step["seconds"].as_u64().ok_or("no seconds")?))
                }
                Some("invalidate") => cache.invalidate(step["rejectedAccessKeyId"].as_str().ok_or("no key")?),
                Some("getCredentials") => {
                    let mut new_key = None;
                    match step["response"].as_str() {
                        None => {}
                        Some("freshCredentials") => {
                            fresh_n += 1;
                            let key = format!("AKID-NEW-{fresh_n}");
                            let lifetime = step["lifetimeSeconds"].as_u64().unwrap_or(SIX_HOURS);
                            source.next(Answer::Fresh { lifetime }, &key);
                            new_key = Some(key);
                        }
                        Some("staleCredentials") => source.next(Answer::Stale, "AKID-STALE"),
                        Some("error") => source.next(Answer::Error, ""),
                        Some("nonRecoverableError") => source.next(Answer::NonRecoverable, ""),
                        Some(other) => return Err(format!("unknown response {other}")),
                    }
                    let calls = source.calls.load(Ordering::SeqCst);
                    let limited = cache.stats().rate_limited;
                    let got = cache.credentials().await;
                    // An answer the source was not asked for must not linger into the next step.
                    source.answers.lock().unwrap().clear();
                    let exp = &step["expected"];
                    let contacted = source.calls.load(Ordering::SeqCst) > calls;
                    let rate_limited = cache.stats().rate_limited > limited;
                    ensure!(
                        contacted == exp["sourceContacted"].as_bool().unwrap_or(false),
                        "step {i}: source contacted = {contacted}"
                    );
                    ensure!(
                        rate_limited == exp["rateLimited"].as_bool().unwrap_or(false),
                        "step {i}: rate limited = {rate_limited}"
                    );
                    match (exp["result"].as_str(), &got) {
                        (Some("cachedCredentials"), Ok(c)) => {
                            ensure!(
                                Some(c.access_key_id()) == current.as_deref(),
                                "step {i}: got {c:?}, want the cached {current:?}"
                            )
                        }
                        (Some("newCredentials"), Ok(c)) => {
                            ensure!(
                                Some(c.access_key_id()) == new_key.as_deref(),
                                "step {i}: got {c:?}, want {new_key:?}"
                            );
                            current = new_key.clone();
                        }
                        (Some("noCredentialsError"), Err(e)) => ensure!(e.is_retryable(), "step {i}: {e}"),
                        (Some("nonRecoverableError"), Err(e)) => ensure!(!e.is_retryable(), "step {i}: {e}"),
                        (want, got) => return Err(format!("step {i}: want {want:?}, got {got:?}")),
                    }
                    if let Some(w) = exp["advisoryWindowSeconds"].as_u64() {
                        let have = cache.advisory_window();
                        ensure!(have == Some(Duration::from_secs(w)), "step {i}: advisory window {have:?}, want {w} s");
                    }
                }
                other => return Err(format!("unknown step {other:?}")),
            }
        }
        Ok(())
    })
}

/// 1,000 callers arrive while the credentials are expired: exactly one fetch, everyone gets it.
fn single_flight(state: &'static str) -> Result<(), String> {
    let t0 = SystemTime::now();
    let clock = ManualClock::new(t0);
    let mut scripted = Scripted::new(clock.clone());
    scripted.delay = Duration::from_millis(100);
    let source = Arc::new(scripted);
    let cache =
        Arc::new(CredentialsCache::with_settings(source.clone(), CacheSettings::default(), Arc::new(clock.clone())));
    block_on(async move {
        if state != "none" {
            source.next(Answer::Fresh { lifetime: 3600 }, "OLD");
            cache.credentials().await.map_err(|e| e.to_string())?;
            clock.set(match state {
                "expired" => t0 + Duration::from_secs(3700),
                _ => t0 + Duration::from_secs(3600 - 600), // advisory (15 min window)
            });
        }
        let before = source.calls.load(Ordering::SeqCst);
        source.next(Answer::Fresh { lifetime: 3600 }, "NEW");
        let tasks: Vec<_> = (0..1000)
            .map(|_| {
                let cache = cache.clone();
                tokio::spawn(async move { cache.credentials().await.map(|c| c.access_key_id().to_owned()) })
            })
            .collect();
        let mut keys = std::collections::BTreeMap::<String, usize>::new();
        for t in tasks {
            let k = t.await.map_err(|e| e.to_string())?.map_err(|e| e.to_string())?;
            *keys.entry(k).or_default() += 1;
        }
        let fetches = source.calls.load(Ordering::SeqCst) - before;
        ensure!(fetches == 1, "{fetches} fetches for 1,000 callers");
        if state == "advisory" {
            // Only callers that arrived after the refresh see the new key; nobody waited for it but one.
            ensure!(keys.keys().all(|k| k == "OLD" || k == "NEW"), "{keys:?}");
        } else {
            ensure!(keys.len() == 1 && keys.contains_key("NEW"), "{keys:?}");
        }
        Ok(())
    })
}

/// The borrowing lookup follows the same rules: it fetches when nothing is cached, borrows
/// without asking the source while fresh, and refreshes once the advisory window opens.
fn with_credentials_borrows_and_refreshes() -> Result<(), String> {
    let t0 = SystemTime::now();
    let clock = ManualClock::new(t0);
    let source = Arc::new(Scripted::new(clock.clone()));
    let cache = CredentialsCache::with_settings(source.clone(), CacheSettings::default(), Arc::new(clock.clone()));
    block_on(async {
        source.next(Answer::Fresh { lifetime: 3600 }, "FIRST");
        let key = cache.with_credentials(|c| c.access_key_id().to_owned()).await.map_err(|e| e.to_string())?;
        ensure!(key == "FIRST", "{key}");
        for _ in 0..10 {
            let key = cache.with_credentials(|c| c.access_key_id().to_owned()).await.map_err(|e| e.to_string())?;
            ensure!(key == "FIRST", "{key}");
        }
        ensure!(source.calls.load(Ordering::SeqCst) == 1, "the source was asked while the credentials were fresh");
        clock.set(t0 + Duration::from_secs(3600 - 30)); // mandatory window: everyone waits
        source.next(Answer::Fresh { lifetime: 3600 }, "SECOND");
        let key = cache.with_credentials(|c| c.access_key_id().to_owned()).await.map_err(|e| e.to_string())?;
        ensure!(key == "SECOND", "{key}");
        ensure!(source.calls.load(Ordering::SeqCst) == 2, "calls: {}", source.calls.load(Ordering::SeqCst));
        Ok(())
    })
}

pub fn trials() -> Vec<Trial> {
    let path = testdata().join("credential-refresh/credential-refresh-tests.json");
    let cases: Vec<Value> = match std::fs::read(&path)
        .map_err(|e| e.to_string())
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
    {
        Ok(c) => c,
        Err(e) => return vec![trial("credential_refresh::load", move || Err(format!("{}: {e}", path.display())))],
    };
    let mut out: Vec<Trial> = cases
        .into_iter()
        .enumerate()
        .map(|(i, case)| {
            let doc = case["documentation"].as_str().unwrap_or("").to_owned();
            let slug: String = doc
                .split_whitespace()
                .take(8)
                .collect::<Vec<_>>()
                .join("_")
                .chars()
                .filter(|c| c.is_alphanumeric() || *c == '_')
                .collect::<String>()
                .to_lowercase();
            trial(format!("credential_refresh::{i:02}_{slug}"), move || {
                run_case(&case).map_err(|e| format!("{doc}\n{e}"))
            })
        })
        .collect();
    out.push(trial("credential_cache::with_credentials_borrows_and_refreshes", with_credentials_borrows_and_refreshes));
    for state in ["none", "expired", "advisory"] {
        out.push(trial(format!("credential_cache::single_flight_1000_callers_{state}"), move || single_flight(state)));
    }
    out
}
