//! Running one check: the engine works in its own thread while this one shows progress on
//! stderr and passes Ctrl-C on as a stop request, so a long check ends with the statistics so far
//! instead of being killed.

use super::engines::{Job, Ran};
use super::plan::Check;
use super::settings::Settings;
use crate::cli::interrupt;
use crate::cli::output::Ticker;
use joincheck::check::shuttle as shuttle_engine;
use joincheck_models::verdict::{Engine, Stats, Verdict};
use joincheck_models::Progress;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::Duration;

/// The name prefix of the threads engines run in.
const ENGINE_THREAD: &str = "joincheck engine: ";

/// Prepares the process for running checks: Ctrl-C becomes a stop request, and engine threads'
/// panics stay off stderr.
pub fn prepare() {
    interrupt::install();
    quiet_engine_panics();
}

/// Keeps panic messages of engine threads off stderr: an engine turns a panic of the code it
/// checks into an inconclusive verdict that carries the panic's message, and the harness records
/// failing schedules itself. Without this, shuttle's hook prints a "task failed" block and a
/// backtrace for every panic an engine catches (a panicking implementation, say).
///
/// shuttle installs its hook once, wrapping whatever hook is current, at its first execution; so
/// one empty execution first, then this hook around shuttle's, which other threads still reach.
fn quiet_engine_panics() {
    let scheduler = shuttle::scheduler::RandomScheduler::new(1);
    shuttle::Runner::new(scheduler, shuttle_engine::config()).run(|| {});
    let outer = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let current = std::thread::current();
        if !current
            .name()
            .is_some_and(|name| name.starts_with(ENGINE_THREAD))
        {
            outer(info);
        }
    }));
}

/// Runs `check` in a worker thread, showing progress and honouring Ctrl-C.
pub fn run(check: &Check, settings: &Settings) -> Ran {
    let (protocol, engine) = (check.protocol, check.engine);
    let what = format!("{engine} · {protocol}");
    if interrupt::interrupted() {
        return Ran::without_workload(Verdict::Inconclusive {
            engine,
            reason: "not run: interrupted by Ctrl-C".to_string(),
            stats: Stats::default(),
        });
    }
    let stop = Arc::new(AtomicBool::new(false));
    let progress = Arc::new(Progress::new());
    let (sender, receiver) = mpsc::channel();
    let job = Job {
        protocol,
        engine,
        settings: settings.clone(),
        stop: stop.clone(),
        progress: progress.clone(),
    };
    let spawned = std::thread::Builder::new()
        .name(format!("{ENGINE_THREAD}{what}"))
        .spawn(move || {
            let _ = sender.send(job.execute());
        });
    let mut ticker = Ticker::start();
    let stopped_early = |ticker: &Ticker, why: &str| {
        Ran::without_workload(Verdict::Inconclusive {
            engine,
            reason: format!(
                "{why} after {:.1} s; the run did not finish, nothing is proved",
                ticker.elapsed().as_secs_f64()
            ),
            stats: Stats {
                seconds: ticker.elapsed().as_secs_f64(),
                ..Stats::default()
            },
        })
    };
    if spawned.is_err() {
        return stopped_early(&ticker, "could not start a thread");
    }
    let model_progress = (engine == Engine::Model).then_some(&*progress);
    let ran = loop {
        match receiver.recv_timeout(Duration::from_millis(100)) {
            Ok(ran) => break ran,
            Err(RecvTimeoutError::Timeout) => {
                if interrupt::interrupted() {
                    // Every engine stops at the flag (the model checker at once, the others
                    // before their next execution) and reports how far it got.
                    stop.store(true, Ordering::Relaxed);
                }
                ticker.tick(&what, model_progress);
            }
            Err(RecvTimeoutError::Disconnected) => {
                break stopped_early(&ticker, "the engine panicked")
            }
        }
    };
    ticker.finish();
    ran
}
