//! File descriptors: a transfer holds a file and a connection for each request in flight, so at
//! a low open-file limit (256 is macOS's default) a large concurrency runs out of them. The
//! limit is raised once where the system allows it, and the concurrency held within what is
//! left; a shortage that still happens is waited out (see [`patiently`]), never taken for
//! a missing file.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Descriptors kept back for everything else: the runtime, listings read ahead (up to 16), the
/// standard streams, a connection opened in the moment another goes back to the pool.
const RESERVED: u64 = 64;

/// Whether an error is a shortage of file descriptors (this process's or the system's), which
/// passes: waited out, never read as "not there".
pub(crate) fn out_of_descriptors(e: &std::io::Error) -> bool {
    #[cfg(unix)]
    {
        matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
    }
    #[cfg(not(unix))]
    {
        let _ = e;
        false
    }
}

/// `op`, an operation that takes a descriptor (an open, a directory read), tried again while it
/// fails for want of them (for up to ~10 s, as other transfers finish and close theirs). Once a
/// wait has run its whole course with none freed, the next shortage fails at once, until such
/// an operation succeeds again: a process starved for good (an open-file limit below what it
/// holds) fails each file in turn, not one every 10 s.
pub(crate) fn patiently<T>(op: impl FnMut() -> std::io::Result<T>) -> std::io::Result<T> {
    static PATIENCE: Patience = Patience::new(Duration::from_secs(10));
    PATIENCE.wait_out(op)
}

/// How long shortages of descriptors are waited out, and whether the last wait came to nothing.
struct Patience {
    limit: Duration,
    starved: AtomicBool,
}

impl Patience {
    const fn new(limit: Duration) -> Self {
        Self { limit, starved: AtomicBool::new(false) }
    }

    fn wait_out<T>(&self, mut op: impl FnMut() -> std::io::Result<T>) -> std::io::Result<T> {
        let mut wait = Duration::from_millis(5);
        let mut waited = Duration::ZERO;
        loop {
            match op() {
                Err(e) if out_of_descriptors(&e) => {
                    if waited >= self.limit || self.starved.load(Ordering::Relaxed) {
                        self.starved.store(true, Ordering::Relaxed);
                        return Err(e);
                    }
                    std::thread::sleep(wait.min(self.limit - waited));
                    waited += wait;
                    wait = (wait * 2).min(Duration::from_millis(200));
                }
                other => {
                    if other.is_ok() {
                        self.starved.store(false, Ordering::Relaxed);
                    }
                    return other;
                }
            }
        }
    }
}

/// Raises this process's soft limit on open files to its hard limit (as other transfer tools
/// do at start) and returns the limit now in force; `None` where there is no such limit or it
/// cannot be read. Call it once, early: the CLI does.
#[allow(unsafe_code, clippy::unnecessary_cast)] // rlim_t is not u64 everywhere
pub fn raise_open_file_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: getrlimit writes into the struct it is given, nothing else.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
            return None;
        }
        // macOS refuses a soft limit above OPEN_MAX however high the hard limit is.
        let ceiling: libc::rlim_t = if cfg!(target_os = "macos") { 10_240 } else { 1 << 20 };
        let want = lim.rlim_max.min(ceiling);
        if want > lim.rlim_cur {
            let raised = libc::rlimit { rlim_cur: want, rlim_max: lim.rlim_max };
            // SAFETY: setrlimit reads the struct it is given.
            if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
                lim.rlim_cur = want;
            }
        }
        Some(lim.rlim_cur as u64)
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// The soft limit on open files now, if there is one.
#[allow(unsafe_code, clippy::unnecessary_cast)] // rlim_t is not u64 everywhere
fn open_file_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: getrlimit writes into the struct it is given, nothing else.
        (unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0).then_some(lim.rlim_cur as u64)
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// Descriptors open now (Linux: `/proc/self/fd`; elsewhere a guess).
fn open_now() -> u64 {
    std::fs::read_dir("/proc/self/fd").map(|d| d.count() as u64).unwrap_or(32)
}

/// How many requests a transfer may have in flight within the open-file limit: each holds a
/// file and a connection, and a connection may briefly have a second beside it.
pub(crate) fn concurrency_budget() -> usize {
    match open_file_limit() {
        Some(limit) if limit < u64::MAX / 2 => {
            let free = limit.saturating_sub(open_now() + RESERVED);
            usize::try_from(free / 3).unwrap_or(usize::MAX).max(1)
        }
        _ => usize::MAX,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_budget_fits_the_limit() {
        let budget = super::concurrency_budget();
        if let Some(limit) = super::open_file_limit() {
            assert!((budget as u64).saturating_mul(3) <= limit, "{budget} for a limit of {limit}");
        }
        assert!(budget >= 1);
    }

    /// An operation short of descriptors for its first `short` tries, through `patience`: what
    /// it answered, how often it was tried, and how long that took.
    #[cfg(unix)]
    fn short_for(patience: &super::Patience, short: u32) -> (std::io::Result<()>, u32, std::time::Duration) {
        let started = std::time::Instant::now();
        let mut tries = 0;
        let got = patience.wait_out(|| {
            tries += 1;
            if tries <= short {
                Err(std::io::Error::from_raw_os_error(libc::EMFILE))
            } else {
                Ok(())
            }
        });
        (got, tries, started.elapsed())
    }

    #[cfg(unix)]
    #[test]
    fn a_shortage_is_waited_out_until_a_wait_comes_to_nothing() {
        use std::time::Duration;
        let patience = super::Patience::new(Duration::from_millis(100));
        // Freed on the third try: waited out, and the answer is the operation's.
        let (got, tries, _) = short_for(&patience, 2);
        assert!(got.is_ok());
        assert_eq!(tries, 3);
        // Never freed: the whole wait, then the shortage itself.
        let (got, tries, took) = short_for(&patience, u32::MAX);
        assert!(super::out_of_descriptors(&got.unwrap_err()));
        assert!(took >= Duration::from_millis(100) && tries > 2, "{tries} tries in {took:?}");
        // Starved: the next shortage fails at once, tried once.
        let (got, tries, took) = short_for(&patience, u32::MAX);
        assert!(super::out_of_descriptors(&got.unwrap_err()));
        assert_eq!(tries, 1);
        assert!(took < Duration::from_millis(50), "{took:?}");
        // Another error is not a shortage and ends nothing; a success ends the starving.
        assert!(patience.wait_out(|| -> std::io::Result<()> { Err(std::io::ErrorKind::NotFound.into()) }).is_err());
        assert_eq!(short_for(&patience, u32::MAX).1, 1);
        assert!(patience.wait_out(|| Ok(())).is_ok());
        let (got, tries, _) = short_for(&patience, 1);
        assert!(got.is_ok());
        assert_eq!(tries, 2);
    }
}
