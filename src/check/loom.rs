//! loom: every interleaving of the real code, optionally bounded in preemptions.
//!
//! loom prints nothing but the panic when a check fails, so the harness records the history of
//! the failing execution itself and stops loom by unwinding out of the run.

use super::{panic_message, run_once, Limits, Scenario, ScenarioError};
use crate::runtime::Loom;
use crate::service::JoinService;
use crate::store::Recording;
use joincheck_models::verdict::{Counterexample, Engine, Replay, Stats, Verdict};
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// loom runs at most 5 threads, its own main thread included.
pub const MAX_SERVERS: usize = 4;

/// Limits of a loom check.
#[derive(Clone, Debug, Default)]
pub struct LoomOptions {
    /// Explore only interleavings with at most this many preemptions (a smaller, stated scope).
    pub preemption_bound: Option<usize>,
    /// Stop after this many executions: the verdict is then inconclusive.
    pub max_iterations: Option<u64>,
    /// Stop on a time limit or a stop request: the verdict is then inconclusive.
    pub limits: Limits,
}

/// Why the harness unwound out of a loom run.
enum Stop {
    Violation(Box<Counterexample>),
    Limit(String),
}

/// Explores every interleaving of `scenario` (within the preemption bound) with loom.
pub fn check<S>(
    service: S,
    scenario: &Scenario,
    options: &LoomOptions,
) -> Result<Verdict, ScenarioError>
where
    S: JoinService<Loom> + Clone,
{
    scenario.at_most_servers(MAX_SERVERS, "loom")?;
    let started = Instant::now();
    let iterations = Arc::new(AtomicU64::new(0));
    let stop: Arc<Mutex<Option<Stop>>> = Arc::default();
    // Builder::new panics on an unreadable LOOM_* variable: say so instead of unwinding.
    let builder = panic::catch_unwind(loom::model::Builder::new);
    let Ok(mut builder) = builder else {
        return Ok(Verdict::Inconclusive {
            engine: Engine::Loom,
            reason: "loom could not start: a LOOM_* environment variable is not readable"
                .to_string(),
            stats: Stats::default(),
        });
    };
    // Builder::new reads LOOM_* variables; the scope we report must not depend on them.
    builder.preemption_bound = options.preemption_bound;
    builder.max_permutations = None;
    builder.max_duration = None;
    builder.checkpoint_file = None;
    builder.log = false;
    let protocol = JoinService::<Loom>::name(&service);
    let body = {
        let (iterations, stop, scenario) = (iterations.clone(), stop.clone(), scenario.clone());
        let (max_iterations, limits) = (options.max_iterations, options.limits.clone());
        move || {
            let iteration = iterations.fetch_add(1, Ordering::Relaxed) + 1;
            let over = max_iterations.is_some_and(|limit| iteration > limit);
            if let Some(why) = limits
                .reached(started)
                .or(over.then_some("iteration limit"))
            {
                *stop.lock().unwrap_or_else(|e| e.into_inner()) = Some(Stop::Limit(why.into()));
                panic::resume_unwind(Box::new(()));
            }
            let execution = run_once::<Loom, S>(&service, &scenario, Recording::On);
            let replay = Replay::LoomExecution { iteration };
            let found = execution.counterexample(protocol.clone(), &scenario, Engine::Loom, replay);
            if let Some(found) = found {
                *stop.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some(Stop::Violation(Box::new(found)));
                panic::resume_unwind(Box::new(()));
            }
        }
    };
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| builder.check(body)));
    let stopped = stop.lock().unwrap_or_else(|e| e.into_inner()).take();
    // The execution that hit a limit was abandoned before it ran.
    let begun = iterations.load(Ordering::Relaxed);
    let done = match stopped {
        Some(Stop::Limit(_)) => begun.saturating_sub(1),
        _ => begun,
    };
    let stats = Stats {
        iterations: Some(done),
        seconds: started.elapsed().as_secs_f64(),
        ..Stats::default()
    };
    let scope = match options.preemption_bound {
        None => format!("all interleavings of {scenario}"),
        Some(bound) => format!("all interleavings with at most {bound} preemptions of {scenario}"),
    };
    Ok(match (outcome, stopped) {
        (Ok(()), _) => Verdict::Holds {
            engine: Engine::Loom,
            scope,
            stats,
        },
        (Err(_), Some(Stop::Violation(counterexample))) => Verdict::Violated {
            engine: Engine::Loom,
            counterexample,
            stats,
        },
        (Err(_), Some(Stop::Limit(why))) => Verdict::Inconclusive {
            engine: Engine::Loom,
            reason: format!(
                "stopped by the {why} after {done} executions, before covering {scope}"
            ),
            stats,
        },
        (Err(payload), None) => Verdict::Inconclusive {
            engine: Engine::Loom,
            reason: format!("the run panicked: {}", panic_message(payload.as_ref())),
            stats,
        },
    })
}
