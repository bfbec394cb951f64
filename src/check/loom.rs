//! loom: every interleaving of the real code, optionally bounded in preemptions.
//!
//! loom prints nothing but the panic when a check fails, so the harness records the history of
//! the failing execution itself and stops loom by unwinding out of the run.

use super::quiet::EngineRun;
use super::{panic_message, run_once, whole_statements, Invariants, Limits, Scenario};
use super::{ScenarioError, Unjudged};
use crate::figures::count;
use crate::runtime::Loom;
use crate::service::JoinService;
use crate::store::Recording;
use joincheck_models::verdict::{Counterexample, Engine, Replay, Stats, Verdict};
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// loom runs at most 5 threads, its own main thread included.
pub const MAX_LOOM_SERVERS: usize = 4;

/// Limits of a loom check, and what it judges.
///
/// ```
/// use joincheck::check::loom::LoomOptions;
/// use joincheck::check::Invariant;
///
/// let options = LoomOptions::default()
///     .preemption_bound(2)
///     .invariant(Invariant::at_most_members(1));
/// assert_eq!(options.preemption_bound, Some(2));
/// ```
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct LoomOptions {
    /// Explore only interleavings with at most this many preemptions (a smaller, stated scope).
    pub preemption_bound: Option<usize>,
    /// Stop after this many executions: the verdict is then inconclusive.
    pub max_iterations: Option<u64>,
    /// Stop on a timeout or a stop request: the verdict is then inconclusive.
    pub limits: Limits,
    /// The invariants judged after every step: "a user is on at most one team" and any added.
    pub invariants: Invariants,
}

impl LoomOptions {
    /// Explores only interleavings with at most `bound` preemptions.
    pub fn preemption_bound(mut self, bound: usize) -> Self {
        self.preemption_bound = Some(bound);
        self
    }

    /// Stops after `executions` executions.
    pub fn max_iterations(mut self, executions: u64) -> Self {
        self.max_iterations = Some(executions);
        self
    }
}

option_builders! {
    LoomOptions {
        /// Stops on these limits.
        limits: Limits;
    }
}

/// After the first violation, how many more executions [`check`] explores for a shorter one.
/// loom explores in a fixed order, so the shortest among them is the same on every run.
pub const SHORTENING_EXECUTIONS: u64 = 1000;

/// Why the harness unwound out of a loom run.
enum Stop {
    /// The shortening budget after the first violation is spent.
    Shortened,
    /// A limit was reached.
    Limit(String),
    /// An execution could not be judged step by step.
    Unjudged(Unjudged),
}

/// What the loom body keeps between executions.
#[derive(Default)]
struct Found {
    /// The shortest counterexample so far.
    shortest: Option<Counterexample>,
    /// The execution that found the first one.
    first_at: Option<u64>,
    /// Why the harness stopped loom, if it did.
    stop: Option<Stop>,
    /// Why a statement of some execution was not one atomic step, if one was not.
    not_atomic: Option<String>,
}

/// Explores every interleaving of `scenario` (within the preemption bound) with loom, judging
/// the invariant after every step of every execution. After the first violation it explores up
/// to [`SHORTENING_EXECUTIONS`] more and reports the shortest violation among them.
pub fn check<S>(
    service: S,
    scenario: &Scenario,
    options: &LoomOptions,
) -> Result<Verdict, ScenarioError>
where
    S: JoinService<Loom> + Clone,
{
    let _quiet = EngineRun::start();
    let started = Instant::now();
    let iterations = Arc::new(AtomicU64::new(0));
    let found: Arc<Mutex<Found>> = Arc::default();
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
    let actors = environment_actors(&builder, service.clone());
    scenario.at_most_servers(MAX_LOOM_SERVERS - actors, "loom")?;
    let protocol = JoinService::<Loom>::name(&service);
    let body = {
        let (iterations, found, scenario) = (iterations.clone(), found.clone(), scenario.clone());
        let (max_iterations, limits) = (options.max_iterations, options.limits.clone());
        let invariants = options.invariants.clone();
        let stop = move |found: &Mutex<Found>, why: Stop| -> ! {
            lock(found).stop = Some(why);
            panic::resume_unwind(Box::new(()));
        };
        move || {
            let iteration = iterations.fetch_add(1, Ordering::Relaxed) + 1;
            if lock(&found)
                .first_at
                .is_some_and(|at| iteration > at + SHORTENING_EXECUTIONS)
            {
                stop(&found, Stop::Shortened);
            }
            let over = max_iterations.is_some_and(|limit| iteration > limit);
            if let Some(why) = limits
                .reached(started)
                .or(over.then_some("iteration limit"))
            {
                stop(&found, Stop::Limit(why.into()));
            }
            let execution = run_once::<Loom, S>(&service, &scenario, Recording::On);
            if let Some(reason) = execution.not_atomic() {
                lock(&found)
                    .not_atomic
                    .get_or_insert_with(|| reason.to_string());
            }
            let replay = Replay::LoomExecution { iteration };
            let protocol = protocol.clone();
            match execution.counterexample(protocol, &scenario, &invariants, Engine::Loom, replay) {
                Ok(None) => {}
                Ok(Some(counterexample)) => {
                    let mut found = lock(&found);
                    let shorter =
                        |best: &Counterexample| counterexample.steps.len() < best.steps.len();
                    if found.shortest.as_ref().is_none_or(shorter) {
                        found.shortest = Some(counterexample);
                    }
                    found.first_at.get_or_insert(iteration);
                }
                Err(unjudged) => stop(&found, Stop::Unjudged(unjudged)),
            }
        }
    };
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| builder.check(body)));
    let found = std::mem::take(&mut *lock(&found));
    // The execution that hit a limit (or the shortening budget) was abandoned before it ran.
    let begun = iterations.load(Ordering::Relaxed);
    let done = match found.stop {
        Some(Stop::Limit(_) | Stop::Shortened) => begun.saturating_sub(1),
        _ => begun,
    };
    let stats = Stats {
        iterations: Some(done),
        seconds: started.elapsed().as_secs_f64(),
        ..Stats::default()
    };
    let invariants = options.invariants.scope();
    let scope = match options.preemption_bound {
        None => format!("all interleavings of {scenario}{invariants}"),
        Some(bound) => format!(
            "all interleavings within preemption bound {bound} of {scenario}{invariants}: \
             evidence, not proof (interleavings with more preemptions were not explored)"
        ),
    };
    // A violation found is a violation, whatever stopped the search afterwards.
    if let Some(counterexample) = found.shortest {
        return Ok(Verdict::Violated {
            engine: Engine::Loom,
            counterexample: Box::new(counterexample),
            stats,
        });
    }
    Ok(match (outcome, found.stop) {
        (Ok(()), _) => Verdict::Holds {
            engine: Engine::Loom,
            scope: whole_statements(scope, found.not_atomic.as_deref()),
            stats,
        },
        (Err(_), Some(Stop::Limit(why))) => Verdict::Inconclusive {
            engine: Engine::Loom,
            reason: format!(
                "stopped by the {why} after {}, before covering {scope}",
                count(done, "execution")
            ),
            stats,
        },
        (Err(_), Some(Stop::Unjudged(why))) => Verdict::Inconclusive {
            engine: Engine::Loom,
            reason: format!("execution {begun}: {why}; nothing is proved"),
            stats,
        },
        (Err(payload), _) => Verdict::Inconclusive {
            engine: Engine::Loom,
            reason: format!("the run panicked: {}", panic_message(payload.as_ref())),
            stats,
        },
    })
}

/// How many threads the service's environment adds to the servers' (a lease's clock, say):
/// asked in a loom run of its own, as only there can its database be opened.
fn environment_actors<S: JoinService<Loom>>(builder: &loom::model::Builder, service: S) -> usize {
    let actors = Arc::new(AtomicU64::new(0));
    let counted = Arc::clone(&actors);
    builder.check(move || {
        let database = service.open_database(&[], Recording::Off);
        let environment = service.environment(&database).len() as u64;
        counted.store(environment, Ordering::Relaxed);
    });
    actors.load(Ordering::Relaxed) as usize
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
