//! One engine on one protocol: the options it gets from the settings, then the run. Called in a
//! worker thread by [`super::runner`], with the stop flag a signal sets and the model's progress.

use super::settings::{EngineLimits, Settings};
use crate::cli::memory::Budget;
use crate::cli::output::{count, thousands};
use crate::cli::services::{self, Executions};
use joincheck::check::dpor::DporOptions;
use joincheck::check::loom::LoomOptions;
use joincheck::check::proptest::ProptestOptions;
use joincheck::check::shuttle::{ShuttleOptions, Strategy};
use joincheck::check::{Limits, Scenario};
use joincheck::protocols::{CatalogueProtocol, Storage};
use joincheck_models::verdict::{Engine, Stats, Verdict};
use joincheck_models::{CheckOptions, Progress};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// One engine on one protocol, as run in its worker thread.
pub struct Job {
    /// The protocol.
    pub protocol: CatalogueProtocol,
    /// The engine.
    pub engine: Engine,
    /// Where the real code runs (none for the model).
    pub database: Option<Storage>,
    /// The command's settings.
    pub settings: Settings,
    /// Where the model checker reports how far it got.
    pub progress: Arc<Progress>,
    /// Where the engines of the real code count their executions.
    pub executions: Executions,
}

/// What an engine concluded, with the workload the real code ran (none for the model): a
/// counterexample file needs it to rerun the schedule or execution.
pub struct Ran {
    /// The verdict.
    pub verdict: Verdict,
    /// The workload of the verdict.
    pub workload: Option<Scenario>,
}

impl Ran {
    /// A verdict reached without running the real code.
    pub fn without_workload(verdict: Verdict) -> Ran {
        Ran {
            verdict,
            workload: None,
        }
    }
}

impl Job {
    /// Runs the engine to its verdict; setting `stop` ends it early, inconclusive.
    pub fn execute(self, stop: Arc<AtomicBool>) -> Ran {
        let (sizes, scenario) = (self.settings.sizes, &self.settings.scenario);
        let limits = &self.settings.limits;
        let mut stop_at = Limits::default().stop(stop.clone());
        stop_at.timeout = limits.timeout;
        let engine = self.engine;
        let not_run = |reason: String| Verdict::Inconclusive {
            engine,
            reason: format!("not run: {reason}"),
            stats: Stats::default(),
        };
        let on_scenario = |verdict: Result<Verdict, String>| Ran {
            verdict: verdict.unwrap_or_else(not_run),
            workload: Some(scenario.clone()),
        };
        let storage = self.database.unwrap_or(Storage::Memory);
        let service = (self.protocol, &storage);
        match self.engine {
            Engine::Model => {
                let (max_states, by_memory) = limits.model_states(sizes);
                if let (Some(0), Some(budget)) = (max_states, limits.memory) {
                    return Ran::without_workload(Verdict::Inconclusive {
                        engine: Engine::Model,
                        reason: format!(
                            "not run: {} leaves no {}",
                            budget.describe(),
                            budget.model_room(sizes, limits.threads)
                        ),
                        stats: Stats::default(),
                    });
                }
                let mut options = CheckOptions::default()
                    .symmetry(limits.symmetry)
                    .threads(limits.threads)
                    .stop(stop)
                    .progress(self.progress)
                    .leaves(limits.leaves);
                options.max_states = max_states;
                options.timeout = limits.timeout;
                let Some(protocol) = self.protocol.model() else {
                    return Ran::without_workload(not_run(format!(
                        "{} has no model",
                        self.protocol
                    )));
                };
                let verdict = joincheck_models::check(protocol, sizes, &options);
                let budget = limits.memory.filter(|_| by_memory);
                Ran::without_workload(match (budget, max_states) {
                    (Some(budget), Some(states)) => {
                        let room = budget.model_room(sizes, limits.threads);
                        out_of_memory(verdict, &budget, states, &room)
                    }
                    _ => verdict,
                })
            }
            Engine::Loom => {
                let mut options = LoomOptions::default().limits(stop_at);
                options.preemption_bound = limits.preemption_bound;
                on_scenario(services::loom(
                    service,
                    scenario,
                    &options,
                    &self.executions,
                ))
            }
            Engine::Dpor => {
                let mut within = stop_at;
                within.memory = limits.memory.map(|budget| budget.bytes.0);
                let options = DporOptions::default().limits(within);
                on_scenario(services::dpor(
                    service,
                    scenario,
                    &options,
                    &self.executions,
                ))
            }
            Engine::Shuttle => {
                let iterations = limits.iterations_on(&storage);
                let options = shuttle_options(sizes.servers, limits, iterations, stop_at);
                on_scenario(services::shuttle(
                    service,
                    scenario,
                    &options,
                    &self.executions,
                ))
            }
            Engine::Stress => Ran::without_workload(Verdict::Inconclusive {
                engine: Engine::Stress,
                reason: "not run: real threads are `joincheck stress`".to_string(),
                stats: Stats::default(),
            }),
            Engine::Proptest => {
                let defaults = ProptestOptions::default();
                let schedules = EngineLimits::schedules_on(&storage);
                let shuttle = defaults
                    .shuttle
                    .clone()
                    .seed(limits.seed)
                    .iterations(schedules);
                let mut options = defaults
                    .cases(limits.cases_on(&storage))
                    .seed(limits.seed)
                    .max_servers(sizes.servers)
                    .max_requests(sizes.requests)
                    .users(sizes.users)
                    .teams(sizes.teams)
                    .shuttle(shuttle)
                    .limits(stop_at);
                options.random_schedules = schedules;
                match services::proptest(service, &options, &self.executions) {
                    Ok((verdict, shrunk)) => Ran {
                        verdict,
                        workload: shrunk,
                    },
                    Err(why) => Ran::without_workload(not_run(why)),
                }
            }
        }
    }
}

/// A check the memory budget stopped says so: the checker only knows it reached a number of
/// states, the budget it was derived from (and the `room` it leaves, in words) is what the user
/// set, or should set.
fn out_of_memory(verdict: Verdict, budget: &Budget, states: u64, room: &str) -> Verdict {
    match verdict {
        Verdict::Inconclusive {
            engine,
            stats,
            reason,
        } => {
            let unique = stats.unique_states.unwrap_or(0);
            if unique < states {
                // A timeout or a stop request came first.
                return Verdict::Inconclusive {
                    engine,
                    reason,
                    stats,
                };
            }
            let reason = format!(
                "stopped by {}, which has {room}, after {} ({} generated); every state up to {} \
                 steps deep was found, deeper ones were not",
                budget.describe(),
                count(unique, "distinct state"),
                thousands(stats.generated_states.unwrap_or(0)),
                stats.max_depth.unwrap_or(0)
            );
            Verdict::Inconclusive {
                engine,
                reason,
                stats,
            }
        }
        verdict => verdict,
    }
}

/// shuttle's options: PCT refuses a run without concurrency, so one server gets random
/// schedules.
fn shuttle_options(
    servers: u8,
    limits: &EngineLimits,
    iterations: u64,
    stop_at: Limits,
) -> ShuttleOptions {
    let strategy = if servers >= 2 {
        Strategy::Pct { depth: 3 }
    } else {
        Strategy::Random
    };
    ShuttleOptions::default()
        .strategy(strategy)
        .seed(limits.seed)
        .iterations(iterations)
        .limits(stop_at)
}
