//! Signals. The first Ctrl-C (SIGINT), SIGTERM or SIGHUP asks the running work to stop: a check
//! then reports an inconclusive verdict with the statistics so far, and exits 3. A second one ends
//! the process at once (exit 128 + the signal's number), unless it arrives within
//! [`SAME_REQUEST`] of the first: `timeout -s INT` sends the signal to the process and again to
//! its process group, and a terminal's Ctrl-C can reach a process twice the same way, so two
//! signals that close together are one request to stop, not an impatient second one.
//!
//! A closed pipe (`joincheck … | head`) ends the process quietly, as for any Unix tool, instead
//! of a panic in `println!`.

use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

/// A second signal this soon after the first is taken as the same request to stop.
pub const SAME_REQUEST: Duration = Duration::from_millis(500);

/// The number of the first stopping signal received, 0 before any.
static RECEIVED: AtomicI32 = AtomicI32::new(0);

/// Whether a stopping signal arrived since [`install`].
pub fn interrupted() -> bool {
    RECEIVED.load(Ordering::Relaxed) != 0
}

/// The stopping signal received, in words (`Ctrl-C (SIGINT)`, `SIGTERM`, `SIGHUP`).
pub fn received() -> Option<&'static str> {
    imp::name(RECEIVED.load(Ordering::Relaxed))
}

/// What a stopping signal does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(not(unix), allow(dead_code))]
enum Response {
    /// The first: ask the running work to stop.
    Stop,
    /// A repeat of the first, delivered again: nothing more.
    SameRequest,
    /// A second request: end the process at once.
    EndNow,
}

/// What a signal arriving at `now` does, when the first arrived at `first`.
#[cfg_attr(not(unix), allow(dead_code))]
fn respond(first: Option<Instant>, now: Instant) -> Response {
    match first {
        None => Response::Stop,
        Some(first) if now.saturating_duration_since(first) < SAME_REQUEST => Response::SameRequest,
        Some(_) => Response::EndNow,
    }
}

/// `reason`, naming the signal when a signal's stop request is what it reports: the engines only
/// know that they were asked to stop, the user knows what they pressed or sent.
pub fn explain(reason: &str) -> String {
    match received() {
        Some(signal) if reason.contains("stop request") => {
            format!("{signal} asked to stop: {reason}")
        }
        _ => reason.to_string(),
    }
}

#[cfg(unix)]
mod imp {
    use super::{respond, Response, RECEIVED};
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    use signal_hook::iterator::Signals;
    use std::os::raw::c_int;
    use std::sync::atomic::Ordering;
    use std::time::Instant;

    const SIGPIPE: c_int = 13;
    const SIG_DFL: usize = 0;

    extern "C" {
        fn signal(signum: c_int, handler: usize) -> usize;
    }

    pub fn name(signal: c_int) -> Option<&'static str> {
        match signal {
            SIGINT => Some("Ctrl-C (SIGINT)"),
            SIGTERM => Some("SIGTERM"),
            SIGHUP => Some("SIGHUP"),
            _ => None,
        }
    }

    /// Signals are read by a thread of their own (signal-hook's self-pipe), so what is done with
    /// them is ordinary code. Registering replaces an inherited "ignore", which a script's
    /// background job has for SIGINT, so Ctrl-C and `kill -INT` reach every command.
    pub fn install(stop_at_once: bool) {
        let Ok(mut signals) = Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
            return;
        };
        let _ = std::thread::Builder::new()
            .name("joincheck signals".to_string())
            .spawn(move || {
                let mut first: Option<Instant> = None;
                for signal in signals.forever() {
                    let now = Instant::now();
                    match respond(first, now) {
                        Response::Stop if !stop_at_once => {
                            RECEIVED.store(signal, Ordering::Relaxed);
                            first = Some(now);
                        }
                        Response::SameRequest => {}
                        Response::Stop | Response::EndNow => std::process::exit(128 + signal),
                    }
                }
            });
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
    /// Elsewhere no signal is caught, so none has a name.
    pub fn name(_: i32) -> Option<&'static str> {
        None
    }

    /// Elsewhere Ctrl-C keeps its default meaning: the process ends.
    pub fn install(_: bool) {}

    /// Elsewhere there is no SIGPIPE.
    pub fn quiet_broken_pipe() {}
}

/// Lets a closed stdout end the process quietly, like any Unix tool.
pub fn quiet_broken_pipe() {
    imp::quiet_broken_pipe();
}

/// Routes Ctrl-C, SIGTERM and SIGHUP to [`interrupted`] instead of ending the process.
pub fn install() {
    imp::install(false);
}

/// Ends the process at the first Ctrl-C, SIGTERM or SIGHUP, even where the shell that started it
/// ignores them: for a command with no report to keep (`explore`).
pub fn end_on_signal() {
    imp::install(true);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeat_within_half_a_second_is_the_same_request_a_later_one_ends_the_process() {
        let first = Instant::now();
        assert_eq!(respond(None, first), Response::Stop);
        let soon = first + Duration::from_millis(499);
        assert_eq!(respond(Some(first), soon), Response::SameRequest);
        let later = first + SAME_REQUEST;
        assert_eq!(respond(Some(first), later), Response::EndNow);
    }
}
