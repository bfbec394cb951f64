//! Signals. Ctrl-C: the first one asks the running check to stop (it then reports an
//! inconclusive verdict with the statistics so far); a second one ends the process at once.
//! A closed pipe (`joincheck … | head`) ends the process quietly, as for any Unix tool, instead
//! of a panic in `println!`.

use std::sync::atomic::{AtomicBool, Ordering};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Whether Ctrl-C was pressed since [`install`].
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::Relaxed)
}

#[cfg(unix)]
mod imp {
    use super::INTERRUPTED;
    use std::os::raw::c_int;
    use std::sync::atomic::Ordering;

    const SIGINT: c_int = 2;
    const SIGPIPE: c_int = 13;
    const SIG_DFL: usize = 0;

    extern "C" {
        fn signal(signum: c_int, handler: usize) -> usize;
        fn _exit(status: c_int) -> !;
    }

    /// Only async-signal-safe work here: an atomic swap, and `_exit` on the second press.
    extern "C" fn on_interrupt(_: c_int) {
        if INTERRUPTED.swap(true, Ordering::SeqCst) {
            // SAFETY: _exit is async-signal-safe and ends the process without running anything.
            unsafe { _exit(130) }
        }
    }

    pub fn install() {
        // SAFETY: the handler only touches an atomic and calls _exit, both allowed in a handler.
        unsafe {
            signal(SIGINT, on_interrupt as extern "C" fn(c_int) as usize);
        }
    }

    pub fn quiet_broken_pipe() {
        // SAFETY: restores the default action of SIGPIPE, which Rust's runtime set to ignore.
        unsafe {
            signal(SIGPIPE, SIG_DFL);
        }
    }
}

#[cfg(not(unix))]
mod imp {
    /// Elsewhere Ctrl-C keeps its default meaning: the process ends.
    pub fn install() {}

    /// Elsewhere there is no SIGPIPE.
    pub fn quiet_broken_pipe() {}
}

/// Lets a closed stdout end the process quietly, like any Unix tool.
pub fn quiet_broken_pipe() {
    imp::quiet_broken_pipe();
}

/// Routes Ctrl-C to [`interrupted`] instead of ending the process.
pub fn install() {
    imp::install();
}
