//! Keeps the engines' own panics off stderr, so a program that runs loom, shuttle and proptest in
//! any order prints only what it prints itself.
//!
//! Both loom and shuttle use panics for control flow: loom unwinds out of an execution it
//! abandons, the harness unwinds out of loom when it has what it needs, and a panicking
//! implementation is turned into an inconclusive verdict that carries the panic's message. The
//! process-wide panic hook would print each of them, and shuttle's hook (installed at its first
//! run, wrapping whatever hook is current, kept for the whole process) adds a "task failed" block
//! to each, even to loom's and to panics outside any shuttle run. So the harness wraps the hook
//! once: it stays silent for panics raised on a thread while it runs an engine there (loom and
//! shuttle run every checked thread as a coroutine on the caller's thread, so a thread-local flag
//! covers all of them); a panic inside a user's own shuttle run still gets shuttle's report, and
//! any other panic reaches the process's hook alone.

use shuttle_engine::runtime::execution::{ExecutionState, ExecutionStateBorrowError};
use std::cell::Cell;
use std::panic::{self, PanicHookInfo};
use std::sync::{Arc, Once};

/// A process-wide panic hook.
type PanicHook = dyn Fn(&PanicHookInfo<'_>) + Send + Sync + 'static;

thread_local! {
    /// How many engine runs are under way on this thread (engines may nest: proptest runs shuttle).
    static ENGINE_RUNS: Cell<u32> = const { Cell::new(0) };
}

/// shuttle's configuration for the harness's runs: the harness records and reports failing
/// schedules itself, so shuttle does not also persist them. (shuttle's panic hook keeps the
/// configuration of the first run in the process, so a program should start shuttle with this.)
/// Defined here, where the hook is installed, and offered as
/// [`check::shuttle::config`](crate::check::shuttle::config): the shuttle engine uses this
/// module, not the other way round.
pub fn config() -> shuttle::Config {
    let mut config = shuttle::Config::new();
    config.failure_persistence = shuttle::FailurePersistence::None;
    config
}

/// An engine run on this thread; panics are silent until it is dropped.
pub(crate) struct EngineRun(());

impl EngineRun {
    /// Starts an engine run on this thread, installing the quiet hook the first time.
    pub(crate) fn start() -> EngineRun {
        static INSTALL: Once = Once::new();
        INSTALL.call_once(|| {
            // shuttle installs its hook at its first run, around whatever hook is current, and
            // its hook prints a "task failed" block even for panics outside any shuttle run.
            // So: let shuttle wrap the process's hook now, keep both, and send each panic to
            // the one that fits it.
            let process: Arc<PanicHook> = Arc::from(panic::take_hook());
            let under_shuttle = Arc::clone(&process);
            panic::set_hook(Box::new(move |info| under_shuttle(info)));
            let scheduler = shuttle::scheduler::RandomScheduler::new(1);
            shuttle::Runner::new(scheduler, config()).run(|| {});
            let shuttle_hook = panic::take_hook();
            panic::set_hook(Box::new(move |info| {
                if ENGINE_RUNS.with(Cell::get) > 0 {
                    return;
                }
                let in_shuttle_run = !matches!(
                    ExecutionState::try_with(|_| ()),
                    Err(ExecutionStateBorrowError::NotSet)
                );
                match in_shuttle_run {
                    true => shuttle_hook(info),
                    false => process(info),
                }
            }));
        });
        ENGINE_RUNS.with(|runs| runs.set(runs.get() + 1));
        EngineRun(())
    }
}

impl Drop for EngineRun {
    fn drop(&mut self) {
        ENGINE_RUNS.with(|runs| runs.set(runs.get() - 1));
    }
}
