//! Real std threads, run many times. A race shows up only when the OS happens to interleave the
//! servers badly, so this is evidence, never proof: it reports how often the invariant broke.

use super::{run_servers, Around, Execution, Invariants, Limits, Scenario, Unjudged};
use crate::figures::{count, thousands};
use crate::runtime::Std;
use crate::service::JoinService;
use crate::store::Recording;
use joincheck_models::verdict::{Counterexample, Engine, Replay, Stats, Verdict};
use std::sync::{Arc, Barrier};
use std::time::Instant;

/// How a stress run went.
#[derive(Clone, Debug)]
pub struct StressReport {
    /// The protocol's name.
    pub protocol: String,
    /// Runs of the whole scenario made.
    pub runs: u64,
    /// Why the runs stopped before all of those asked for were made, if they did.
    pub stopped: Option<String>,
    /// Runs in which a user was on more than one team after some step.
    pub violations: u64,
    /// Conflicting appends seen over all runs (event-sourced protocols retry these).
    pub conflicts: u64,
    /// The first broken run, as recorded by the store.
    pub first_violation: Option<Counterexample>,
    /// The first run that could not be judged step by step, and why: without a violation, the
    /// whole report is then inconclusive.
    pub unjudged: Option<(u64, Unjudged)>,
    /// What ran, in words.
    pub scope: String,
    /// Wall time in seconds.
    pub seconds: f64,
}

/// How many runs to make, and what they judge.
///
/// ```
/// use joincheck::check::stress::StressOptions;
///
/// assert_eq!(StressOptions::default().runs, 1000);
/// assert_eq!(StressOptions::default().runs(50).runs, 50);
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct StressOptions {
    /// Runs of the whole scenario to make.
    pub runs: u64,
    /// Stop early on a timeout or a stop request: the verdict is then inconclusive.
    pub limits: Limits,
    /// The invariants judged after every step: "a user is on at most one team" and any added.
    pub invariants: Invariants,
}

impl Default for StressOptions {
    fn default() -> Self {
        StressOptions {
            runs: 1000,
            limits: Limits::default(),
            invariants: Invariants::default(),
        }
    }
}

option_builders! {
    StressOptions {
        /// Makes `runs` runs.
        runs: u64;
        /// Stops on these limits.
        limits: Limits;
    }
}

/// Runs `scenario` `options.runs` times on real threads, recording every operation, unless its
/// limits stop it first.
pub fn run<S: JoinService<Std>>(
    service: &S,
    scenario: &Scenario,
    options: &StressOptions,
) -> StressReport {
    let (runs, limits) = (options.runs, &options.limits);
    let started = Instant::now();
    let mut report = StressReport {
        protocol: service.name(),
        runs: 0,
        stopped: None,
        violations: 0,
        conflicts: 0,
        first_violation: None,
        unjudged: None,
        scope: String::new(),
        seconds: 0.0,
    };
    for run in 0..runs {
        if let Some(why) = limits.reached(started) {
            report.stopped = Some(format!(
                "stopped by the {why} after {} of {}",
                thousands(run),
                count(runs, "run")
            ));
            break;
        }
        report.runs = run + 1;
        let execution = run_together(service, scenario);
        report.conflicts += execution.conflicts();
        let replay = Replay::StressRun { run };
        let invariants = &options.invariants;
        match execution.counterexample(service.name(), scenario, invariants, Engine::Stress, replay)
        {
            Ok(None) => {}
            Ok(Some(found)) => {
                report.violations += 1;
                report.first_violation.get_or_insert(found);
            }
            Err(why) => {
                report.unjudged.get_or_insert((run, why));
            }
        }
    }
    report.scope = format!(
        "{} on real threads of {scenario}{}",
        count(report.runs, "run"),
        options.invariants.scope()
    );
    report.seconds = started.elapsed().as_secs_f64();
    report
}

/// One run on real threads, the servers released together: threads start one after another,
/// and without a common start the servers would hardly overlap.
pub(crate) fn run_together<S: JoinService<Std>>(service: &S, scenario: &Scenario) -> Execution {
    let barrier = Arc::new(Barrier::new(scenario.servers().len()));
    let around = Around {
        start: Arc::new(move || {
            barrier.wait();
        }),
        ..Around::default()
    };
    let database = service.open_database(scenario.initial(), Recording::On);
    let answers = run_servers::<Std, S>(service, scenario, &database, &around);
    Execution::of(database.as_ref(), answers)
}

impl StressReport {
    /// The verdict: violated if any run broke the invariant; inconclusive if a run could not be
    /// judged, or a limit stopped the runs; otherwise it held after every step of every run,
    /// which is evidence and is worded as such.
    pub fn verdict(&self) -> Verdict {
        let stats = Stats {
            iterations: Some(self.runs),
            seconds: self.seconds,
            ..Stats::default()
        };
        match (&self.first_violation, &self.unjudged) {
            (None, None) if self.stopped.is_some() || self.runs == 0 => Verdict::Inconclusive {
                engine: Engine::Stress,
                reason: format!(
                    "{}; nothing is proved",
                    self.stopped.as_deref().unwrap_or("no run was made")
                ),
                stats,
            },
            (Some(found), _) => Verdict::Violated {
                engine: Engine::Stress,
                counterexample: Box::new(found.clone()),
                stats,
            },
            (None, Some((run, why))) => Verdict::Inconclusive {
                engine: Engine::Stress,
                reason: format!("run {run}: {why}; nothing is proved"),
                stats,
            },
            (None, None) => Verdict::Holds {
                engine: Engine::Stress,
                scope: format!("no violation in {} (evidence, not proof)", self.scope),
                stats,
            },
        }
    }
}
