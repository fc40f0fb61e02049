//! The client-side rate limiter of the SDKs' `adaptive` retry mode: a token bucket, off until a
//! service throttles, whose fill rate follows CUBIC (cut to 70% on each throttle, grown back on
//! a cubic curve after it) and never exceeds twice the rate actually measured.
//!
//! Time is passed in (seconds since the limiter was made), so the arithmetic is tested without
//! sleeping.

/// Constants of the SDKs' specification.
const SMOOTH: f64 = 0.8;
const BETA: f64 = 0.7;
const SCALE: f64 = 0.4;
const MIN_FILL_RATE: f64 = 0.5;
const MIN_CAPACITY: f64 = 1.0;

#[derive(Debug, Default)]
pub(crate) struct RateLimiter {
    enabled: bool,
    fill_rate: f64,
    max_capacity: f64,
    capacity: f64,
    last_refill: Option<f64>,
    measured_rate: f64,
    last_rate_bucket: f64,
    requests_in_bucket: u64,
    last_max_rate: f64,
    last_throttle: f64,
    time_window: f64,
}

impl RateLimiter {
    /// Takes one token at time `now`; the time to wait first, if the bucket is short.
    pub(crate) fn acquire(&mut self, now: f64) -> Option<f64> {
        if !self.enabled {
            return None;
        }
        self.refill(now);
        let wait = if self.capacity < 1.0 { Some((1.0 - self.capacity) / self.fill_rate) } else { None };
        self.capacity -= 1.0;
        wait
    }

    /// Records an answer at `now`: a throttle cuts the rate, anything else grows it back.
    pub(crate) fn update(&mut self, throttled: bool, now: f64) {
        self.measure(now);
        let rate = if throttled {
            let rate = if self.enabled { self.measured_rate.min(self.fill_rate) } else { self.measured_rate };
            self.last_max_rate = rate;
            self.window();
            self.last_throttle = now;
            self.enabled = true;
            rate * BETA
        } else {
            self.window();
            SCALE * (now - self.last_throttle - self.time_window).powi(3) + self.last_max_rate
        };
        self.set_rate(rate.min(2.0 * self.measured_rate), now);
    }

    fn refill(&mut self, now: f64) {
        if let Some(last) = self.last_refill {
            self.capacity = (self.capacity + (now - last).max(0.0) * self.fill_rate).min(self.max_capacity);
        }
        self.last_refill = Some(now);
    }

    fn window(&mut self) {
        self.time_window = (self.last_max_rate * (1.0 - BETA) / SCALE).cbrt();
    }

    fn set_rate(&mut self, rate: f64, now: f64) {
        self.refill(now);
        self.fill_rate = rate.max(MIN_FILL_RATE);
        self.max_capacity = rate.max(MIN_CAPACITY);
        self.capacity = self.capacity.min(self.max_capacity);
    }

    /// The rate of requests actually sent, smoothed over half-second buckets.
    fn measure(&mut self, now: f64) {
        let bucket = (now * 2.0).floor() / 2.0;
        self.requests_in_bucket += 1;
        if bucket > self.last_rate_bucket {
            let current = self.requests_in_bucket as f64 / (bucket - self.last_rate_bucket);
            self.measured_rate = current * SMOOTH + self.measured_rate * (1.0 - SMOOTH);
            self.requests_in_bucket = 0;
            self.last_rate_bucket = bucket;
        }
    }

    #[cfg(test)]
    fn fill_rate(&self) -> f64 {
        self.fill_rate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_until_the_first_throttle() {
        let mut l = RateLimiter::default();
        for i in 0..100 {
            let t = f64::from(i) * 0.01;
            assert_eq!(l.acquire(t), None);
            l.update(false, t);
        }
        l.update(true, 1.0);
        assert!(l.enabled);
    }

    #[test]
    fn a_throttle_cuts_the_rate_and_success_grows_it_back() {
        let mut l = RateLimiter::default();
        // 20 requests a second for 5 s, then a throttle.
        let mut t = 0.0;
        while t < 5.0 {
            l.update(false, t);
            t += 0.05;
        }
        let measured = l.measured_rate;
        assert!((15.0..=25.0).contains(&measured), "measured {measured}");
        l.update(true, 5.0);
        let cut = l.fill_rate();
        assert!((cut - measured * BETA).abs() < 1.0, "cut to {cut} from {measured}");
        // Right after the throttle the bucket makes callers wait.
        let waits: f64 = (0..40).filter_map(|_| l.acquire(5.0)).sum();
        assert!(waits > 1.0, "40 requests at once waited {waits} s in all");
        // Successes later on grow the rate back toward (and past) what it was.
        let mut t = 5.0;
        while t < 12.0 {
            l.update(false, t);
            t += 0.05;
        }
        assert!(l.fill_rate() > cut, "{} did not grow from {cut}", l.fill_rate());
    }

    #[test]
    fn the_rate_never_falls_below_the_floor() {
        let mut l = RateLimiter::default();
        for i in 0..50 {
            l.update(true, f64::from(i) * 0.1);
        }
        assert!(l.fill_rate() >= MIN_FILL_RATE);
        let wait = l.acquire(5.0).unwrap_or_default() + l.acquire(5.0).unwrap_or_default();
        assert!(wait <= 2.0 / MIN_FILL_RATE + 1e-9, "{wait}");
    }
}
