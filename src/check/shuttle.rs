//! shuttle: randomized and PCT schedules of the real code, for many servers.
//!
//! Finding nothing in N schedules is evidence, not proof, and the verdict says so. The harness
//! wraps shuttle's scheduler to record every scheduling decision itself, so a failing schedule is
//! returned as a value (not only printed to stderr) and replays to the identical history.

pub use super::quiet::config;
use super::quiet::EngineRun;
use super::schedule;
use super::{panic_message, run_once, whole_statements, Execution, Invariants, Limits};
use super::{Scenario, Unjudged};
use crate::figures::{count, thousands};
use crate::runtime::Shuttle;
use crate::service::JoinService;
use crate::store::Recording;
use joincheck_models::verdict::{Counterexample, Engine, Replay, Stats, Verdict};
use shuttle::scheduler::{PctScheduler, RandomScheduler, Schedule, Scheduler};
use shuttle::scheduler::{Task, TaskId};
use shuttle_engine::scheduler::serialization;
use std::fmt;
use std::mem::ManuallyDrop;
use std::ops::ControlFlow;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// How shuttle picks schedules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// Uniformly random choice at every step.
    Random,
    /// Probabilistic concurrency testing: finds any bug of the given depth with a known
    /// probability per schedule.
    Pct {
        /// The bug depth targeted.
        depth: usize,
    },
}

/// What to run, and what it judges.
///
/// ```
/// use joincheck::check::shuttle::{ShuttleOptions, Strategy};
///
/// let options = ShuttleOptions::default().strategy(Strategy::Random).seed(7).iterations(100);
/// assert_eq!(options.to_string(), "random, seed 7");
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ShuttleOptions {
    /// The scheduler.
    pub strategy: Strategy,
    /// The seed of the first schedule; the same seed gives the same schedules.
    pub seed: u64,
    /// How many schedules to try.
    pub iterations: u64,
    /// Stop early on a timeout or a stop request: the verdict is then inconclusive.
    pub limits: Limits,
    /// The invariants judged after every step: "a user is on at most one team" and any added.
    pub invariants: Invariants,
}

impl Default for ShuttleOptions {
    fn default() -> Self {
        ShuttleOptions {
            strategy: Strategy::Pct { depth: 3 },
            seed: 42,
            iterations: 1000,
            limits: Limits::default(),
            invariants: Invariants::default(),
        }
    }
}

option_builders! {
    ShuttleOptions {
        /// Picks schedules with `strategy`.
        strategy: Strategy;
        /// Starts from `seed`.
        seed: u64;
        /// Tries `iterations` schedules.
        iterations: u64;
        /// Stops on these limits.
        limits: Limits;
    }
}

impl ShuttleOptions {
    /// These options as shuttle will really run them: `SHUTTLE_RANDOM_SEED`, when set, replaces
    /// the seed inside shuttle, and a report must name the seed that was used.
    /// (An unreadable `SHUTTLE_RANDOM_SEED` leaves the seed as it is; [`explore`] refuses to run.)
    pub fn effective(&self) -> ShuttleOptions {
        ShuttleOptions {
            seed: seed_override().ok().flatten().unwrap_or(self.seed),
            ..self.clone()
        }
    }
}

/// The seed `SHUTTLE_RANDOM_SEED` imposes on shuttle's schedulers, if set; an error when it is
/// set but not a whole number (shuttle itself would panic).
pub fn seed_override() -> Result<Option<u64>, String> {
    const VARIABLE: &str = "SHUTTLE_RANDOM_SEED";
    match std::env::var(VARIABLE) {
        Err(std::env::VarError::NotPresent) => Ok(None),
        Ok(text) => match text.trim().parse::<u64>() {
            Ok(seed) => Ok(Some(seed)),
            Err(_) => Err(format!("{VARIABLE}={text} is not a whole number")),
        },
        Err(std::env::VarError::NotUnicode(_)) => Err(format!("{VARIABLE} is not text")),
    }
}

impl fmt::Display for ShuttleOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.strategy {
            Strategy::Random => write!(f, "random, seed {}", self.seed),
            Strategy::Pct { depth } => write!(f, "PCT depth {depth}, seed {}", self.seed),
        }
    }
}

/// A schedule of the real implementation, in shuttle's own encoding (the string shuttle prints
/// for a failing test, which `shuttle::replay` also accepts).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncodedSchedule(pub String);

/// A schedule that cannot be read back or replayed, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadSchedule(pub String);

impl fmt::Display for BadSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not a shuttle schedule that replays: {}", self.0)
    }
}

impl std::error::Error for BadSchedule {}

impl EncodedSchedule {
    fn encode(schedule: &Schedule) -> EncodedSchedule {
        EncodedSchedule(serialization::serialize_schedule(schedule))
    }

    fn decode(&self) -> Result<Schedule, BadSchedule> {
        schedule::decode(&self.0).ok_or_else(|| {
            BadSchedule("it is not shuttle's encoding of a whole schedule".to_string())
        })
    }
}

/// Wraps a scheduler to keep the current execution's decisions, and to end the run when asked
/// (returning `None` from `new_execution` stops shuttle without a panic).
///
/// shuttle's random scheduler prints "failing seed … run `shuttle::check_random`" when it is
/// dropped before its last iteration, which is misleading after a deliberate stop: the harness
/// reports the schedule itself. So an inner scheduler that was stopped early is not dropped.
struct Recorder<S> {
    inner: ManuallyDrop<S>,
    current: Arc<Mutex<Schedule>>,
    stop: Arc<AtomicBool>,
    limits: Limits,
    started: Instant,
}

impl<S> Drop for Recorder<S> {
    fn drop(&mut self) {
        if !self.stop.load(Ordering::Relaxed) {
            // SAFETY: `inner` is never used again; this is the only place it is dropped.
            unsafe { ManuallyDrop::drop(&mut self.inner) }
        }
    }
}

impl<S: Scheduler> Scheduler for Recorder<S> {
    fn new_execution(&mut self) -> Option<Schedule> {
        if self.stop.load(Ordering::Relaxed) || self.limits.reached(self.started).is_some() {
            self.stop.store(true, Ordering::Relaxed);
            return None;
        }
        let schedule = self.inner.new_execution()?;
        *lock(&self.current) = Schedule::new(schedule.seed);
        Some(schedule)
    }

    fn next_task(
        &mut self,
        runnable: &[&Task],
        current: Option<TaskId>,
        is_yielding: bool,
    ) -> Option<TaskId> {
        let chosen = self.inner.next_task(runnable, current, is_yielding)?;
        lock(&self.current).push_task(chosen);
        Some(chosen)
    }

    fn next_u64(&mut self) -> u64 {
        lock(&self.current).push_random();
        self.inner.next_u64()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs up to `options.iterations` schedules of `scenario`, handing each execution and the
/// schedule that produced it to `visit`, until `visit` breaks. Returns the number of schedules
/// run, or the message of a panic in the implementation.
pub fn explore<S, V>(
    service: S,
    scenario: &Scenario,
    options: &ShuttleOptions,
    visit: V,
) -> Result<u64, String>
where
    S: JoinService<Shuttle>,
    V: FnMut(Execution, EncodedSchedule) -> ControlFlow<()> + Send + 'static,
{
    seed_override()?;
    let _quiet = EngineRun::start();
    let options = &options.effective();
    let iterations = options.iterations as usize;
    let scheduler: Box<dyn Scheduler + Send> = match options.strategy {
        Strategy::Random => Box::new(RandomScheduler::new_from_seed(options.seed, iterations)),
        Strategy::Pct { depth } => {
            Box::new(PctScheduler::new_from_seed(options.seed, depth, iterations))
        }
    };
    let current: Arc<Mutex<Schedule>> = Arc::new(Mutex::new(Schedule::new(options.seed)));
    let stop = Arc::new(AtomicBool::new(false));
    let recorder = Recorder {
        inner: ManuallyDrop::new(scheduler),
        current: current.clone(),
        stop: stop.clone(),
        limits: options.limits.clone(),
        started: Instant::now(),
    };
    let visit = Mutex::new(visit);
    let scenario = scenario.clone();
    let body = move || {
        let execution = run_once::<Shuttle, S>(&service, &scenario, Recording::On);
        let schedule = EncodedSchedule::encode(&lock(&current));
        if (lock(&visit))(execution, schedule).is_break() {
            stop.store(true, Ordering::Relaxed);
        }
    };
    let runner = shuttle::Runner::new(recorder, config());
    panic::catch_unwind(AssertUnwindSafe(|| runner.run(body)))
        .map(|ran| ran as u64)
        .map_err(|payload| panic_message(payload.as_ref()))
}

/// After the first violation, how many more schedules [`check`] tries for a shorter one. shuttle
/// cannot shrink a schedule; searching on from the same seed is the deterministic stand-in.
pub const SHORTENING_SCHEDULES: u64 = 1000;

/// Runs up to `options.iterations` schedules of `scenario`. After the first violation it tries
/// up to [`SHORTENING_SCHEDULES`] more (within the budget) and reports the shortest violation.
pub fn check<S>(service: S, scenario: &Scenario, options: &ShuttleOptions) -> Verdict
where
    S: JoinService<Shuttle>,
{
    let (verdict, not_atomic) = check_noting(service, scenario, options);
    match verdict {
        Verdict::Holds {
            engine,
            scope,
            stats,
        } => Verdict::Holds {
            engine,
            scope: whole_statements(scope, not_atomic.as_deref()),
            stats,
        },
        verdict => verdict,
    }
}

/// [`check`], with why a statement of some schedule was not one atomic step, if one was not,
/// apart from the verdict: proptest says so once for all its workloads.
pub(crate) fn check_noting<S>(
    service: S,
    scenario: &Scenario,
    options: &ShuttleOptions,
) -> (Verdict, Option<String>)
where
    S: JoinService<Shuttle>,
{
    let options = &options.effective();
    let started = Instant::now();
    let found: Arc<Mutex<Option<Counterexample>>> = Arc::default();
    let unjudged: Arc<Mutex<Option<(u64, Unjudged)>>> = Arc::default();
    let not_atomic: Arc<Mutex<Option<String>>> = Arc::default();
    let visit = {
        let (found, unjudged, scenario) = (found.clone(), unjudged.clone(), scenario.clone());
        let noted = not_atomic.clone();
        let protocol = JoinService::<Shuttle>::name(&service);
        let found_by = options.to_string();
        let invariants = options.invariants.clone();
        let (mut schedules, mut first_found_at) = (0u64, None);
        move |execution: Execution, schedule: EncodedSchedule| {
            schedules += 1;
            if let Some(reason) = execution.not_atomic() {
                lock(&noted).get_or_insert_with(|| reason.to_string());
            }
            let replay = Replay::ShuttleSchedule {
                schedule: schedule.0,
                found_by: found_by.clone(),
            };
            let protocol = protocol.clone();
            let engine = Engine::Shuttle;
            match execution.counterexample(protocol, &scenario, &invariants, engine, replay) {
                Ok(None) => {}
                Ok(Some(counterexample)) => {
                    let mut best = lock(&found);
                    if best
                        .as_ref()
                        .is_none_or(|b| counterexample.steps.len() < b.steps.len())
                    {
                        *best = Some(counterexample);
                    }
                    first_found_at.get_or_insert(schedules);
                }
                Err(why) => {
                    *lock(&unjudged) = Some((schedules, why));
                    return ControlFlow::Break(());
                }
            }
            match first_found_at {
                Some(at) if schedules >= at + SHORTENING_SCHEDULES => ControlFlow::Break(()),
                _ => ControlFlow::Continue(()),
            }
        }
    };
    let outcome = explore(service, scenario, options, visit);
    let mut stats = Stats {
        seconds: started.elapsed().as_secs_f64(),
        ..Stats::default()
    };
    let ran = match outcome {
        Ok(ran) => ran,
        Err(message) => {
            let verdict = Verdict::Inconclusive {
                engine: Engine::Shuttle,
                reason: format!("shuttle stopped: {message}"),
                stats,
            };
            return (verdict, None);
        }
    };
    stats.iterations = Some(ran);
    let found = lock(&found).take();
    let unjudged = lock(&unjudged).take();
    let not_atomic = lock(&not_atomic).take();
    let verdict = match (found, unjudged) {
        (Some(counterexample), _) => Verdict::Violated {
            engine: Engine::Shuttle,
            counterexample: Box::new(counterexample),
            stats,
        },
        (None, Some((schedule, why))) => Verdict::Inconclusive {
            engine: Engine::Shuttle,
            reason: format!("schedule {schedule}: {why}; nothing is proved"),
            stats,
        },
        (None, None) if ran < options.iterations => Verdict::Inconclusive {
            engine: Engine::Shuttle,
            reason: format!(
                "stopped by the {} after {} of {}, nothing is proved",
                options.limits.reached(started).unwrap_or("scheduler"),
                thousands(ran),
                count(options.iterations, "schedule")
            ),
            stats,
        },
        (None, None) if ran == 0 => Verdict::Inconclusive {
            engine: Engine::Shuttle,
            reason: "no schedule was run: nothing was checked".to_string(),
            stats,
        },
        (None, None) => Verdict::Holds {
            engine: Engine::Shuttle,
            scope: format!(
                "no violation in {} ({options}) of {scenario}{}: evidence, not proof",
                count(ran, "schedule"),
                options.invariants.scope()
            ),
            stats,
        },
    };
    (verdict, not_atomic)
}

/// Replays a schedule found by [`check`] and returns the execution it produces.
pub fn replay<S>(
    service: S,
    scenario: &Scenario,
    schedule: &EncodedSchedule,
) -> Result<Execution, BadSchedule>
where
    S: JoinService<Shuttle>,
{
    let decoded = schedule.decode()?;
    let _quiet = EngineRun::start();
    let result: Arc<Mutex<Option<Execution>>> = Arc::default();
    let body = {
        let (scenario, result) = (scenario.clone(), result.clone());
        move || *lock(&result) = Some(run_once::<Shuttle, S>(&service, &scenario, Recording::On))
    };
    // The schedule was captured when the scenario ended; the decisions shuttle makes while the
    // run winds down after that are not in it, and need not be.
    let misfit: Arc<Mutex<Option<String>>> = Arc::default();
    let scheduler = schedule::Replaying::new(decoded, misfit.clone());
    let runner = shuttle::Runner::new(scheduler, config());
    panic::catch_unwind(AssertUnwindSafe(|| runner.run(body))).map_err(|payload| {
        BadSchedule(format!(
            "the run under it panicked: {}",
            panic_message(payload.as_ref())
        ))
    })?;
    let execution = lock(&result).take();
    execution.ok_or_else(|| {
        let misfit = lock(&misfit).take();
        BadSchedule(misfit.unwrap_or_else(|| "the run did not finish under it".to_string()))
    })
}
