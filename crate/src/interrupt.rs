//! Stopping a long loop cleanly: Jupyter's ■ Stop, or Ctrl-C in a terminal.
//!
//! In PyTorch, Stop raises `KeyboardInterrupt` wherever Python happens to
//! be; the loop ends and the model, the optimizer and every other variable
//! stay. Rust code cannot be stopped at an arbitrary point, so cnn_lab's
//! long loops (`fit`, `train_one_epoch`, `evaluate`, `test_*`,
//! `confusion_matrix_of`) hold an [`InterruptGuard`] and look at it between
//! batches: on SIGINT they stop after the step in progress and return
//! [`Error::Interrupted`](crate::Error::Interrupted), so the cell ends with a
//! readable error and the notebook keeps everything.
//!
//! The SIGINT handler is installed once, the first time a loop starts, and
//! stays. While no loop runs it hands the signal to whatever handled SIGINT
//! before (in the project's kernel, a handler that keeps the process alive,
//! the kernel killing it only if the cell does not finish; in a terminal
//! program, the default: the program ends). A second SIGINT while a loop is
//! already stopping is handed on the same way, so a program whose loop does
//! not reach its next batch can still be stopped.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::OnceLock;

/// Loops currently holding a guard.
static ACTIVE: AtomicUsize = AtomicUsize::new(0);
/// A SIGINT arrived while a guard was held.
static PENDING: AtomicBool = AtomicBool::new(false);
/// The disposition SIGINT had before ours, to hand the signal on to.
static PREVIOUS: OnceLock<libc::sigaction> = OnceLock::new();

/// Held by a loop that can stop cleanly between batches. Guards nest (`fit`
/// holds one while `train_one_epoch` holds another); an interrupt is seen
/// by all of them until the outermost is dropped.
#[derive(Debug)]
pub struct InterruptGuard {
    _private: (),
}

impl InterruptGuard {
    /// Starts watching for SIGINT (installing the handler on first use).
    pub fn new() -> Self {
        install();
        if ACTIVE.fetch_add(1, Ordering::SeqCst) == 0 {
            PENDING.store(false, Ordering::SeqCst);
        }
        InterruptGuard { _private: () }
    }

    /// Whether an interrupt arrived since the outermost guard was taken.
    pub fn interrupted(&self) -> bool {
        PENDING.load(Ordering::SeqCst)
    }
}

impl Default for InterruptGuard {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for InterruptGuard {
    fn drop(&mut self) {
        if ACTIVE.fetch_sub(1, Ordering::SeqCst) == 1 {
            PENDING.store(false, Ordering::SeqCst);
        }
    }
}

fn install() {
    PREVIOUS.get_or_init(|| {
        // SAFETY: sigaction with a zeroed, then filled struct; the handler
        // only touches atomics and async-signal-safe calls.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_sigint as *const () as libc::sighandler_t;
            action.sa_flags = libc::SA_RESTART | libc::SA_SIGINFO;
            libc::sigemptyset(&mut action.sa_mask);
            let mut previous: libc::sigaction = std::mem::zeroed();
            libc::sigaction(libc::SIGINT, &action, &mut previous);
            previous
        }
    });
}

extern "C" fn on_sigint(
    signal: libc::c_int,
    info: *mut libc::siginfo_t,
    context: *mut libc::c_void,
) {
    if ACTIVE.load(Ordering::SeqCst) > 0 && !PENDING.swap(true, Ordering::SeqCst) {
        return;
    }
    let Some(previous) = PREVIOUS.get() else {
        return;
    };
    // SAFETY: calls the handler that was installed before ours, with the
    // arguments its flags say it takes, or restores the default and
    // re-raises (the process then ends as it would have without us).
    unsafe {
        match previous.sa_sigaction {
            libc::SIG_IGN => {}
            libc::SIG_DFL => {
                libc::signal(signal, libc::SIG_DFL);
                libc::raise(signal);
            }
            handler if previous.sa_flags & libc::SA_SIGINFO != 0 => {
                let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                    std::mem::transmute(handler);
                f(signal, info, context);
            }
            handler => {
                let f: extern "C" fn(libc::c_int) = std::mem::transmute(handler);
                f(signal);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigint_during_a_guard_is_seen_and_cleared_after() {
        let guard = InterruptGuard::new();
        assert!(!guard.interrupted());
        // SAFETY: raising SIGINT in our own process; the guard's handler
        // takes it (a loop is "active"), so the test process survives.
        unsafe {
            libc::raise(libc::SIGINT);
        }
        assert!(guard.interrupted());
        {
            let inner = InterruptGuard::new();
            assert!(inner.interrupted(), "nested guards see the same interrupt");
        }
        assert!(guard.interrupted());
        drop(guard);
        let next = InterruptGuard::new();
        assert!(!next.interrupted(), "a new loop starts uninterrupted");
    }
}
