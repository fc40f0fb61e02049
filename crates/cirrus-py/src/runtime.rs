//! One tokio runtime for the module, and the two ways Python waits on it: a blocking call that
//! lets go of the GIL and still hears Ctrl-C, and an asyncio future.
//!
//! The runtime's threads call into Python only through [`attach_unless_exiting`]: an atexit hook
//! waits for those calls to end and turns later ones away. A thread that asks for the GIL once
//! the interpreter is finalizing is ended by CPython with `pthread_exit`, whose unwinding through
//! Rust frames aborts the process ("Fatal Python error: Aborted" after a script's last line).
//! Resolving an asyncio future does ask for it again: `call_soon_threadsafe` lets go of the GIL
//! to wake the loop, and the loop can finish the program in that moment.
//!
//! A forked child cannot use its parent's runtime (its threads did not come along): the runtime
//! is made again, lazily, in any process whose id differs from the one that made it, and the
//! parent's is leaked, never dropped (dropping would wait for threads that do not exist).

use crate::errors::Failure;
use pyo3::prelude::*;
use pyo3::types::{PyCFunction, PyDict, PyTuple};
use pyo3::BoundObject;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;

/// What stops a running operation cleanly (the transfer engine's `Cancel`).
pub(crate) type Stop = Box<dyn Fn() + Send + Sync>;

static RUNTIME: Mutex<Option<(u32, Arc<Runtime>)>> = Mutex::new(None);

/// The runtime of this process, made on first use.
pub(crate) fn runtime() -> Arc<Runtime> {
    let pid = std::process::id();
    let mut slot = RUNTIME.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((owner, rt)) = slot.as_ref() {
        if *owner == pid {
            return rt.clone();
        }
    }
    if let Some((_, inherited)) = slot.take() {
        // The parent's runtime: its worker threads are not in this process, nor their calls.
        std::mem::forget(inherited);
        IN_PYTHON.store(0, SeqCst);
    }
    let rt = Arc::new(
        tokio::runtime::Builder::new_multi_thread()
            .thread_name("cirrus")
            .enable_all()
            .build()
            .expect("the tokio runtime starts (threads and an I/O driver)"),
    );
    *slot = Some((pid, rt.clone()));
    rt
}

/// Calls from the runtime's threads now inside Python, and whether the interpreter is exiting.
static IN_PYTHON: AtomicUsize = AtomicUsize::new(0);
static EXITING: AtomicBool = AtomicBool::new(false);
static EXIT_HOOK: AtomicBool = AtomicBool::new(false);
/// How long the exit hook waits for calls into Python to end (each takes microseconds).
const EXIT_WAIT: Duration = Duration::from_secs(2);

/// Runs `f` with the GIL from one of the runtime's threads, unless the interpreter is exiting
/// (then `None`: nobody waits for the answer any more, and asking for the GIL would end the
/// thread; see the module's doc).
pub(crate) fn attach_unless_exiting<R>(f: impl FnOnce(Python<'_>) -> R) -> Option<R> {
    // Counted before the flag is read, and the hook sets the flag before it reads the count
    // (both SeqCst): either this call sees the flag, or the hook sees the call and waits.
    IN_PYTHON.fetch_add(1, SeqCst);
    let answer = if EXITING.load(SeqCst) { None } else { Python::try_attach(f) };
    IN_PYTHON.fetch_sub(1, SeqCst);
    answer
}

/// Registers, at import, the atexit hook that closes the door to the runtime's threads and waits
/// (without the GIL) for those inside Python to leave.
pub(crate) fn ensure_exit_hook(py: Python<'_>) -> PyResult<()> {
    if EXIT_HOOK.swap(true, SeqCst) {
        return Ok(());
    }
    let hook = PyCFunction::new_closure(
        py,
        None,
        None,
        |args: &Bound<'_, PyTuple>, _: Option<&Bound<'_, PyDict>>| -> PyResult<()> {
            EXITING.store(true, SeqCst);
            let deadline = Instant::now() + EXIT_WAIT;
            args.py().detach(|| {
                while IN_PYTHON.load(SeqCst) > 0 && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(1));
                }
            });
            Ok(())
        },
    )?;
    let registered = py.import("atexit").and_then(|atexit| atexit.call_method1("register", (hook,)));
    if registered.is_err() {
        EXIT_HOOK.store(false, SeqCst);
    }
    registered.map(drop)
}

/// How often a blocked call looks for a signal (Ctrl-C) to hand to Python.
const SIGNAL_CHECK: Duration = Duration::from_millis(50);

/// Runs `fut` on the runtime while the calling thread waits without the GIL. A signal whose
/// handler raises (Ctrl-C's `KeyboardInterrupt`) stops the work: `stop` is called (the
/// transfer engine's `Cancel`, which aborts multipart uploads and removes temporary files), the
/// call waits for that clean-up to end, and the exception is raised. Without a `stop`, the
/// work is dropped where it stands.
pub(crate) fn block_on<T, F>(py: Python<'_>, fut: F, stop: Option<Stop>) -> PyResult<T>
where
    T: Send + 'static,
    F: Future<Output = Result<T, Failure>> + Send + 'static,
{
    let (tx, rx) = mpsc::sync_channel(1);
    // Behind a lock only to be Sync: the closures that wait without the GIL must be.
    let rx = Mutex::new(rx);
    let task = runtime().spawn(async move {
        let _ = tx.send(fut.await);
    });
    loop {
        match py.detach(|| rx.lock().unwrap_or_else(|e| e.into_inner()).recv_timeout(SIGNAL_CHECK)) {
            Ok(result) => return result.map_err(|f| f.into_py_err(py)),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(Failure::Input("the operation's task ended without an answer".into()).into_py_err(py))
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        if let Err(interrupt) = py.check_signals() {
            match &stop {
                Some(stop) => {
                    stop();
                    // The clean-up runs to its end; its summary is not the answer any more.
                    let _ = py.detach(|| rx.lock().unwrap_or_else(|e| e.into_inner()).recv());
                }
                None => task.abort(),
            }
            return Err(interrupt);
        }
    }
}

/// Starts `fut` on the runtime and returns an awaitable of the running loop that ends with its
/// result. Cancelling it calls `stop` and waits for the work to end (or, without a `stop`,
/// drops the work at once).
pub(crate) fn to_asyncio<'py, T, F>(py: Python<'py>, fut: F, stop: Option<Stop>) -> PyResult<Bound<'py, PyAny>>
where
    T: for<'a> IntoPyObject<'a> + Send + 'static,
    F: Future<Output = Result<T, Failure>> + Send + 'static,
{
    let event_loop = py.import("asyncio")?.call_method0("get_running_loop")?;
    let future = event_loop.call_method0("create_future")?;
    let (loop_ref, future_ref) = (event_loop.clone().unbind(), future.clone().unbind());
    let task = runtime().spawn(async move {
        let result = fut.await;
        attach_unless_exiting(|py| {
            let (ok, value) = match result {
                Ok(v) => match v.into_pyobject(py) {
                    Ok(v) => (true, v.into_any().unbind()),
                    Err(e) => (false, Into::<PyErr>::into(e).into_value(py).into_any()),
                },
                Err(f) => (false, f.into_py_err(py).into_value(py).into_any()),
            };
            let event_loop = loop_ref.bind(py);
            if event_loop.call_method0("is_closed").and_then(|c| c.is_truthy()).unwrap_or(true) {
                return; // nobody is waiting any more
            }
            let resolve = py.import("cirrus_aws._bridge").and_then(|m| m.getattr("resolve"));
            let sent = resolve.and_then(|resolve| {
                event_loop.call_method1("call_soon_threadsafe", (resolve, future_ref.bind(py), ok, value))
            });
            if let Err(e) = sent {
                e.write_unraisable(py, None);
            }
        });
    });
    if let Some(stop) = stop {
        // Cancelling the caller's task waits for the clean-up: `cleanly` shields the future,
        // calls `stop` on cancellation, awaits the end, then lets the cancellation go on.
        let stop =
            PyCFunction::new_closure(py, None, None, move |_: &Bound<'_, PyTuple>, _: Option<&Bound<'_, PyDict>>| {
                stop();
            })?;
        return py.import("cirrus_aws._bridge")?.getattr("cleanly")?.call1((future, stop));
    }
    let abort = task.abort_handle();
    let on_done = PyCFunction::new_closure(
        py,
        None,
        None,
        move |args: &Bound<'_, PyTuple>, _: Option<&Bound<'_, PyDict>>| -> PyResult<()> {
            if args.get_item(0)?.call_method0("cancelled")?.is_truthy()? {
                abort.abort();
            }
            Ok(())
        },
    )?;
    future.call_method1("add_done_callback", (on_done,))?;
    // A coroutine, not the future itself: `asyncio.create_task` and task groups take only those.
    py.import("cirrus_aws._bridge")?.getattr("awaiting")?.call1((future,))
}
