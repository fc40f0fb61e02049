//! The standard retry mode of the AWS SDKs: 3 attempts, full-jitter exponential backoff, a retry
//! quota shared by the client, and the SDKs' classification of what is worth retrying.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// How failed requests are retried, as the SDKs' `retry_mode` names it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum RetryMode {
    /// 3 attempts, full-jitter backoff, a retry quota.
    #[default]
    Standard,
    /// Standard, plus a client-side rate limiter that slows down after the service throttles
    /// (a token bucket whose rate follows CUBIC).
    Adaptive,
    /// botocore's legacy mode, mapped as botocore maps it: 5 attempts, no retry quota.
    Legacy,
}

impl RetryMode {
    /// `standard`, `adaptive` or `legacy` (any case).
    pub fn parse(s: &str) -> Option<RetryMode> {
        match s.trim().to_ascii_lowercase().as_str() {
            "standard" => Some(RetryMode::Standard),
            "adaptive" => Some(RetryMode::Adaptive),
            "legacy" => Some(RetryMode::Legacy),
            _ => None,
        }
    }
}

/// Retry settings.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RetryConfig {
    /// The mode; [`RetryConfig::for_mode`] sets the attempts and quota it implies.
    pub mode: RetryMode,
    /// Attempts in all, the first included. 3, as in the SDKs' standard mode; 1 turns retries off.
    pub max_attempts: u32,
    /// The backoff before retry `n` is a random time up to `base * 2^(n-1)`. 1 s.
    pub base_delay: Duration,
    /// The most any one backoff lasts, hints from the server included. 20 s.
    pub max_delay: Duration,
    /// The size of the retry quota. 500.
    pub quota: u32,
    /// Set by code (`with_*`, `for_mode`): the config loader then leaves it alone rather than
    /// apply `AWS_MAX_ATTEMPTS` / `AWS_RETRY_MODE` and the profile's settings.
    explicit: bool,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            mode: RetryMode::Standard,
            max_attempts: 3,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(20),
            quota: 500,
            explicit: false,
        }
    }
}

impl RetryConfig {
    /// The settings of `mode`: 3 attempts and the quota for standard and adaptive, 5 attempts
    /// and no quota for legacy.
    pub fn for_mode(mode: RetryMode) -> Self {
        let base = RetryConfig { mode, explicit: true, ..RetryConfig::default() };
        match mode {
            RetryMode::Legacy => RetryConfig { max_attempts: 5, quota: u32::MAX / 2, ..base },
            _ => base,
        }
    }

    /// Settings with this many attempts.
    #[must_use]
    pub fn with_max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self.explicit = true;
        self
    }

    /// Settings with this base delay (tests use milliseconds).
    #[must_use]
    pub fn with_base_delay(mut self, d: Duration) -> Self {
        self.base_delay = d;
        self.explicit = true;
        self
    }

    /// Whether code chose these settings (see the field `explicit`).
    pub(crate) fn is_explicit(&self) -> bool {
        self.explicit
    }

    /// The same settings, marked as not chosen by code (the loader's own resolution).
    pub(crate) fn resolved(mut self) -> Self {
        self.explicit = false;
        self
    }

    /// The full-jitter backoff before attempt `attempt + 1`, or the server's hint when it gave one.
    pub(crate) fn backoff(&self, attempt: u32, hint: Option<Duration>) -> Duration {
        if let Some(h) = hint {
            return h.min(self.max_delay);
        }
        let ceiling = self.base_delay.saturating_mul(1u32 << (attempt.saturating_sub(1)).min(16)).min(self.max_delay);
        ceiling.mul_f64(fastrand::f64())
    }
}

/// Cost of a retry in quota tokens, as in the SDKs.
const RETRY_COST: u32 = 5;
const TIMEOUT_RETRY_COST: u32 = 10;

/// The retry quota: retries spend tokens, successes earn them back, so a struggling service is
/// not hit with three times its load.
#[derive(Debug)]
pub(crate) struct RetryQuota {
    tokens: AtomicU32,
    max: u32,
}

impl RetryQuota {
    pub(crate) fn new(max: u32) -> Self {
        RetryQuota { tokens: AtomicU32::new(max), max }
    }

    /// Takes the cost of one retry; `None` when the quota is spent.
    pub(crate) fn acquire(&self, timeout: bool) -> Option<u32> {
        let cost = if timeout { TIMEOUT_RETRY_COST } else { RETRY_COST };
        self.tokens.fetch_update(Ordering::AcqRel, Ordering::Acquire, |t| t.checked_sub(cost)).ok().map(|_| cost)
    }

    /// Gives back what the retries of a request that finally succeeded cost, or 1 for a success
    /// at the first attempt.
    pub(crate) fn release(&self, spent: u32) {
        let back = if spent == 0 { 1 } else { spent };
        let _ = self.tokens.fetch_update(Ordering::AcqRel, Ordering::Acquire, |t| Some((t + back).min(self.max)));
    }

    #[cfg(test)]
    pub(crate) fn available(&self) -> u32 {
        self.tokens.load(Ordering::Acquire)
    }
}

/// Error codes that mean "slow down".
pub(crate) fn is_throttling_code(code: &str) -> bool {
    matches!(
        code,
        "Throttling"
            | "ThrottlingException"
            | "ThrottledException"
            | "RequestThrottledException"
            | "TooManyRequestsException"
            | "ProvisionedThroughputExceededException"
            | "TransactionInProgressException"
            | "RequestLimitExceeded"
            | "BandwidthLimitExceeded"
            | "LimitExceededException"
            | "RequestThrottled"
            | "SlowDown"
            | "PriorRequestNotComplete"
            | "EC2ThrottledException"
    )
}

/// Error codes for a passing failure on the service's side.
pub(crate) fn is_transient_code(code: &str) -> bool {
    matches!(
        code,
        "RequestTimeout"
            | "RequestTimeoutException"
            | "InternalError"
            | "InternalFailure"
            | "ServiceUnavailable"
            | "IDPCommunicationError"
    )
}

/// Error codes that mean the request's time was too far from the server's.
pub(crate) fn is_clock_skew_code(code: &str) -> bool {
    matches!(
        code,
        "RequestTimeTooSkewed"
            | "RequestExpired"
            | "RequestInTheFuture"
            | "InvalidSignatureException"
            | "SignatureDoesNotMatch"
            | "AuthFailure"
    )
}

/// HTTP statuses worth a retry whatever the code.
pub(crate) fn is_transient_status(status: u16) -> bool {
    matches!(status, 429 | 500 | 502 | 503 | 504)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_full_jitter_under_a_ceiling() {
        let c = RetryConfig::default();
        for attempt in 1..6 {
            let ceiling = Duration::from_secs(1 << (attempt - 1)).min(Duration::from_secs(20));
            for _ in 0..50 {
                assert!(c.backoff(attempt, None) <= ceiling);
            }
        }
        assert_eq!(c.backoff(1, Some(Duration::from_secs(3))), Duration::from_secs(3));
        assert_eq!(c.backoff(1, Some(Duration::from_secs(3600))), Duration::from_secs(20));
    }

    #[test]
    fn quota_runs_out_and_refills() {
        let q = RetryQuota::new(12);
        assert_eq!(q.acquire(false), Some(5));
        assert_eq!(q.acquire(false), Some(5));
        assert_eq!(q.acquire(false), None);
        q.release(10);
        assert_eq!(q.available(), 12);
        assert_eq!(q.acquire(true), Some(10));
        q.release(0);
        assert_eq!(q.available(), 3);
    }

    #[test]
    fn classification() {
        assert!(is_throttling_code("SlowDown") && is_throttling_code("ThrottlingException"));
        assert!(!is_throttling_code("AccessDenied"));
        assert!(is_transient_code("InternalError") && is_transient_status(503) && !is_transient_status(400));
        assert!(is_clock_skew_code("RequestTimeTooSkewed"));
    }
}
