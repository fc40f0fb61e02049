//! The MFA code of a role profile (`mfa_serial`), asked on the terminal as the AWS CLI does
//! (`Enter MFA code for ARN: `), not echoed while it is typed. The terminal is put back as it
//! was on every path: the code read, a read that failed, and an interrupt (SIGINT, SIGTERM)
//! while waiting, which then exits 130.

/// The prompt the configuration loader is handed.
pub(crate) fn mfa_prompt() -> cirrus::context::MfaPrompt {
    std::sync::Arc::new(|serial: String| {
        Box::pin(async move {
            tokio::task::spawn_blocking(move || ask_on_terminal(&format!("Enter MFA code for {serial}: ")))
                .await
                .map_err(|e| cirrus::CredentialsError::invalid(format!("the MFA prompt failed: {e}")))?
        })
    })
}

/// Writes `prompt` on the controlling terminal and reads a line there with echo off; an error
/// when there is no terminal (a script, CI), rather than a hang.
fn ask_on_terminal(prompt: &str) -> Result<String, cirrus::CredentialsError> {
    use std::io::{BufRead, Write};
    let no_terminal = || cirrus::CredentialsError::invalid("an MFA code is needed, but there is no terminal to ask on");
    let tty = std::fs::OpenOptions::new().read(true).write(true).open("/dev/tty").map_err(|_| no_terminal())?;
    let mut out = &tty;
    let mut line = String::new();
    {
        // Echo off (and the interrupt handler in place) before the prompt shows: nothing
        // typed after it is echoed.
        let _quiet = EchoOff::new(&tty);
        out.write_all(prompt.as_bytes()).and_then(|()| out.flush()).map_err(|_| no_terminal())?;
        std::io::BufReader::new(&tty).read_line(&mut line).map_err(|_| no_terminal())?;
    }
    // The Enter typed was not echoed either.
    let _ = out.write_all(b"\n");
    Ok(line.trim().to_owned())
}

#[cfg(unix)]
use unix::EchoOff;

#[cfg(unix)]
mod unix {
    use std::os::fd::AsRawFd;
    use std::sync::atomic::{AtomicI32, AtomicPtr, Ordering};

    /// The terminal and its settings as they were, for the signal handler.
    static TTY: AtomicI32 = AtomicI32::new(-1);
    static SAVED: AtomicPtr<libc::termios> = AtomicPtr::new(std::ptr::null_mut());

    /// SIGINT or SIGTERM while the code is read: the terminal's settings back, a new line, and
    /// exit 130 (nothing has been sent yet: the code is needed first). Only async-signal-safe
    /// calls.
    extern "C" fn interrupted(_: libc::c_int) {
        let fd = TTY.load(Ordering::SeqCst);
        let saved = SAVED.load(Ordering::SeqCst);
        // SAFETY: `saved` points to a termios that is never freed (see `EchoOff::new`);
        // tcsetattr, write and _exit are async-signal-safe.
        unsafe {
            if fd >= 0 && !saved.is_null() {
                libc::tcsetattr(fd, libc::TCSANOW, saved);
                libc::write(fd, b"\n".as_ptr().cast(), 1);
            }
            libc::_exit(130);
        }
    }

    /// Echo off on a terminal while it lives, and the interrupt handler above in place; the
    /// settings and handlers as they were when it is dropped. Nothing on a file that is not a
    /// terminal.
    pub(super) struct EchoOff {
        fd: i32,
        saved: &'static libc::termios,
        old: [(libc::c_int, libc::sigaction); 2],
    }

    impl EchoOff {
        pub(super) fn new(tty: &std::fs::File) -> Option<EchoOff> {
            let fd = tty.as_raw_fd();
            // SAFETY: termios and sigaction are plain C structs, valid when zeroed; each call
            // gets valid pointers to them and an open descriptor.
            unsafe {
                let mut saved: libc::termios = std::mem::zeroed();
                if libc::tcgetattr(fd, &mut saved) != 0 {
                    return None;
                }
                // Leaked (a few bytes per prompt): a handler running on another thread may
                // still read it after the guard is gone.
                let saved: &'static libc::termios = Box::leak(Box::new(saved));
                TTY.store(fd, Ordering::SeqCst);
                SAVED.store(std::ptr::from_ref(saved).cast_mut(), Ordering::SeqCst);
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = interrupted as extern "C" fn(libc::c_int) as libc::sighandler_t;
                let mut old = [(libc::SIGINT, std::mem::zeroed()), (libc::SIGTERM, std::mem::zeroed())];
                for (signal, previous) in &mut old {
                    libc::sigaction(*signal, &action, previous);
                }
                // The handler is in place before echo goes off.
                let mut quiet = *saved;
                quiet.c_lflag &= !(libc::ECHO | libc::ECHOE | libc::ECHOK);
                libc::tcsetattr(fd, libc::TCSAFLUSH, &quiet);
                Some(EchoOff { fd, saved, old })
            }
        }
    }

    impl Drop for EchoOff {
        fn drop(&mut self) {
            // SAFETY: as in `new`; the settings go back before the handlers do, so an interrupt
            // in between finds the terminal as it was either way.
            unsafe {
                libc::tcsetattr(self.fd, libc::TCSANOW, self.saved);
                for (signal, previous) in &self.old {
                    libc::sigaction(*signal, previous, std::ptr::null_mut());
                }
            }
            SAVED.store(std::ptr::null_mut(), Ordering::SeqCst);
            TTY.store(-1, Ordering::SeqCst);
        }
    }
}

/// No terminal settings to change elsewhere.
#[cfg(not(unix))]
struct EchoOff;

#[cfg(not(unix))]
impl EchoOff {
    fn new(_: &std::fs::File) -> Option<EchoOff> {
        None
    }
}
