//! Ctrl-C: the first one asks the running check to stop (it then reports an inconclusive verdict
//! with the statistics so far); a second one ends the process at once.

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

    extern "C" {
        fn signal(signum: c_int, handler: extern "C" fn(c_int)) -> usize;
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
            signal(SIGINT, on_interrupt);
        }
    }
}

#[cfg(not(unix))]
mod imp {
    /// Elsewhere Ctrl-C keeps its default meaning: the process ends.
    pub fn install() {}
}

/// Routes Ctrl-C to [`interrupted`] instead of ending the process.
pub fn install() {
    imp::install();
}
