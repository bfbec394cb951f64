//! Long work in a thread of its own, watched from the main thread: progress on stderr once it has
//! run for a second, and a stop request when a signal arrives, so that `check`, `conform` and
//! `stress` end with the report so far instead of being killed.

use crate::cli::interrupt;
use crate::cli::output::{Gauge, Ticker};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::Duration;

/// The name prefix of the threads supervised work runs in.
const WORKER_THREAD: &str = "joincheck worker: ";

/// Prepares the process for supervised work: Ctrl-C, SIGTERM and SIGHUP become a stop request,
/// and the workers' panics stay off stderr.
pub fn prepare() {
    interrupt::install();
    quiet_worker_panics();
}

/// Keeps panic messages of worker threads off stderr: an engine turns a panic of the code it
/// checks into an inconclusive verdict that carries the panic's message, and the model checker's
/// thread reports its own end. The library keeps the engines' panics quiet (and shuttle's hook
/// in its place) by wrapping whatever hook is current when the first engine runs: this one.
fn quiet_worker_panics() {
    let outer = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let current = std::thread::current();
        if !current
            .name()
            .is_some_and(|name| name.starts_with(WORKER_THREAD))
        {
            outer(info);
        }
    }));
}

/// Why supervised work gave no result.
pub struct Unfinished {
    /// What happened, in words: "the engine panicked".
    pub why: &'static str,
    /// Seconds from the start until then.
    pub seconds: f64,
}

/// Runs `work` in a worker thread named after `what`, handing it the flag that asks it to stop.
/// Meanwhile shows progress of `what` (what `gauge` counts), and sets the flag when a stopping
/// signal arrives.
pub fn supervise<T: Send + 'static>(
    what: &str,
    gauge: Gauge,
    work: impl FnOnce(Arc<AtomicBool>) -> T + Send + 'static,
) -> Result<T, Unfinished> {
    let stop = Arc::new(AtomicBool::new(false));
    let (sender, receiver) = mpsc::channel();
    let flag = stop.clone();
    let spawned = std::thread::Builder::new()
        .name(format!("{WORKER_THREAD}{what}"))
        .spawn(move || {
            let _ = sender.send(work(flag));
        });
    let mut ticker = Ticker::start();
    let unfinished = |ticker: &Ticker, why| Unfinished {
        why,
        seconds: ticker.elapsed().as_secs_f64(),
    };
    if spawned.is_err() {
        return Err(unfinished(&ticker, "could not start a thread"));
    }
    let result = loop {
        match receiver.recv_timeout(Duration::from_millis(100)) {
            Ok(value) => break Ok(value),
            Err(RecvTimeoutError::Timeout) => {
                if interrupt::interrupted() {
                    // Every engine stops at the flag (the model checker at once, the others
                    // before their next execution) and reports how far it got.
                    stop.store(true, Ordering::Relaxed);
                }
                ticker.tick(what, &gauge);
            }
            Err(RecvTimeoutError::Disconnected) => {
                break Err(unfinished(&ticker, "the worker panicked"))
            }
        }
    };
    ticker.finish();
    result
}
