//! The clock behind a seam: providers and the cache read the time through [`Clock`], so tests
//! move time forward by hand instead of sleeping or patching the system clock.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// A source of wall-clock time.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time.
    fn now(&self) -> SystemTime;

    /// The current time, allowed to lag by a few milliseconds in exchange for being cheap to
    /// read. Hot paths that compare against deadlines minutes away (the credential cache) use it.
    fn now_coarse(&self) -> SystemTime {
        self.now()
    }
}

/// A shareable clock.
pub type SharedClock = Arc<dyn Clock>;

/// The system's clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }

    fn now_coarse(&self) -> SystemTime {
        coarse_now()
    }
}

/// `CLOCK_REALTIME_COARSE`: the time at the last timer tick (a few ms behind at most). About 8 ns
/// against about 27 ns for `SystemTime::now()` on the build machine, which is most of a warm
/// credential lookup.
#[cfg(any(target_os = "linux", target_os = "android"))]
#[allow(unsafe_code)]
fn coarse_now() -> SystemTime {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec that outlives the call, and
    // CLOCK_REALTIME_COARSE is a clock id every Linux since 2.6.32 knows.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_REALTIME_COARSE, &mut ts) };
    match (rc, u64::try_from(ts.tv_sec), u32::try_from(ts.tv_nsec)) {
        (0, Ok(secs), Ok(nanos)) => SystemTime::UNIX_EPOCH + Duration::new(secs, nanos),
        _ => SystemTime::now(),
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn coarse_now() -> SystemTime {
    SystemTime::now()
}

/// A clock that only moves when told to, for tests.
#[derive(Clone, Debug)]
pub struct ManualClock {
    now: Arc<Mutex<SystemTime>>,
}

impl ManualClock {
    /// A clock stopped at `at`.
    pub fn new(at: SystemTime) -> Self {
        ManualClock { now: Arc::new(Mutex::new(at)) }
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(|p| p.into_inner());
        *now += by;
    }

    /// Sets the clock.
    pub fn set(&self, at: SystemTime) {
        *self.now.lock().unwrap_or_else(|p| p.into_inner()) = at;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.now.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coarse_clock_is_close_to_the_precise_one() {
        let precise = SystemClock.now();
        let coarse = SystemClock.now_coarse();
        let gap = match coarse.duration_since(precise) {
            Ok(ahead) => ahead,
            Err(behind) => behind.duration(),
        };
        assert!(gap < Duration::from_millis(100), "coarse clock off by {gap:?}");
        assert!(coarse > SystemTime::UNIX_EPOCH + Duration::from_secs(1_600_000_000));
    }
}
