//! proptest: generated workloads, each run under shuttle; a failure shrinks to the smallest
//! workload that still breaks, with its schedule.
//!
//! Each workload is checked with the same seeded shuttle schedules, so a workload either fails or
//! passes deterministically and shrinking is meaningful. Passing is evidence, not proof.

use super::shuttle::{self as shuttle_engine, ShuttleOptions};
use super::{Limits, Scenario};
use crate::runtime::Shuttle;
use crate::service::JoinService;
use joincheck_models::domain::{Request, TeamId, UserId};
use joincheck_models::plural as count;
use joincheck_models::verdict::{Counterexample, Engine, Stats, Verdict};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use std::cell::{Cell, RefCell};
use std::time::Instant;

/// What workloads to generate and how hard to check each.
#[derive(Clone, Debug)]
pub struct ProptestOptions {
    /// Workloads to generate (shrinking steps come on top).
    pub cases: u32,
    /// Seed of the workload generator.
    pub seed: u64,
    /// At most this many servers per workload. Every workload has at least two: one server
    /// alone has nothing to race with.
    pub max_servers: u8,
    /// At most this many requests per server.
    pub max_requests: u8,
    /// Users requests are drawn from.
    pub users: u8,
    /// Teams requests are drawn from.
    pub teams: u8,
    /// The shuttle schedules tried on each workload.
    pub shuttle: ShuttleOptions,
    /// Stop early on a time limit or a stop request: the verdict is then inconclusive.
    pub limits: Limits,
}

impl Default for ProptestOptions {
    fn default() -> Self {
        ProptestOptions {
            cases: 64,
            seed: 42,
            max_servers: 4,
            max_requests: 2,
            users: 2,
            teams: 2,
            shuttle: ShuttleOptions {
                iterations: 50,
                ..ShuttleOptions::default()
            },
            limits: Limits::default(),
        }
    }
}

/// One request: `join` first so that shrinking (towards `false`, user 0, team 0) prefers joins
/// of the first user to the first team.
fn request(users: u8, teams: u8) -> impl Strategy<Value = Request> {
    (any::<bool>(), 0..users, 0..teams).prop_map(|(leave, user, team)| {
        let (user, team) = (UserId(user), TeamId(team));
        if leave {
            Request::Leave { user, team }
        } else {
            Request::Join { user, team }
        }
    })
}

/// Workloads: 2..=max_servers servers with 1..=max_requests requests each.
fn workload(options: &ProptestOptions) -> impl Strategy<Value = Vec<Vec<Request>>> {
    let requests = 1..=usize::from(options.max_requests.max(1));
    let servers = 2..=usize::from(options.max_servers.max(2));
    let one_server = prop::collection::vec(request(options.users, options.teams), requests);
    prop::collection::vec(one_server, servers)
}

/// `2 servers`, `2 to 4 servers`.
fn between(low: u8, high: u8, noun: &str) -> String {
    match low == high {
        true => count(high, noun),
        false => format!("{low} to {}", count(high, noun)),
    }
}

/// Renames users and teams in order of first appearance. Users and teams are interchangeable, so
/// this changes no verdict, and a shrunk workload reads `sue → team-A` whichever ids it drew.
fn by_first_appearance(servers: Vec<Vec<Request>>) -> Vec<Vec<Request>> {
    let (mut users, mut teams): (Vec<UserId>, Vec<TeamId>) = (Vec::new(), Vec::new());
    fn index_of<T: PartialEq>(seen: &mut Vec<T>, id: T) -> u8 {
        let index = seen.iter().position(|s| *s == id).unwrap_or_else(|| {
            seen.push(id);
            seen.len() - 1
        });
        index as u8
    }
    let mut rename = |request: Request| {
        let user = UserId(index_of(&mut users, request.user()));
        let team = TeamId(index_of(&mut teams, request.team()));
        match request {
            Request::Join { .. } => Request::Join { user, team },
            Request::Leave { .. } => Request::Leave { user, team },
        }
    };
    servers
        .into_iter()
        .map(|requests| requests.into_iter().map(&mut rename).collect())
        .collect()
}

/// The join-only workloads of `options.cases` generated cases, for conformance runs (the
/// models have no leave requests).
pub fn join_workloads(options: &ProptestOptions) -> Vec<Scenario> {
    let (users, teams) = (options.users.max(1), options.teams.max(1));
    let mut runner = runner(options);
    let joins = workload(options).prop_map(|servers| {
        let joins = servers.into_iter().map(|requests| {
            let only_joins = requests.into_iter().map(|r| Request::Join {
                user: r.user(),
                team: r.team(),
            });
            only_joins.collect()
        });
        by_first_appearance(joins.collect())
    });
    (0..options.cases)
        .filter_map(|_| joins.new_tree(&mut runner).ok())
        .filter_map(|tree| Scenario::new(users, teams, tree.current(), Vec::new()).ok())
        .collect()
}

/// A test runner seeded from `options.seed`, so that the same seed generates the same workloads.
fn runner(options: &ProptestOptions) -> TestRunner {
    // Config::default() takes PROPTEST_* variables from the environment; the ones that would
    // change how a workload runs (forking, timeouts, shrink time, chatter) are pinned here.
    let config = Config {
        cases: options.cases,
        failure_persistence: None,
        max_shrink_iters: 1024,
        max_shrink_time: 0,
        fork: false,
        timeout: 0,
        verbose: 0,
        ..Config::default()
    };
    let mut seed = [0u8; 32];
    seed[..8].copy_from_slice(&options.seed.to_le_bytes());
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed))
}

/// Generates workloads, runs each under shuttle, and shrinks the first one that breaks.
pub fn check<S>(service: S, options: &ProptestOptions) -> Verdict
where
    S: JoinService<Shuttle> + Clone,
{
    check_workloads(service, options).0
}

/// [`check`], with the shrunk workload when violated: its counterexample's shuttle schedule
/// replays on that workload.
pub fn check_workloads<S>(service: S, options: &ProptestOptions) -> (Verdict, Option<Scenario>)
where
    S: JoinService<Shuttle> + Clone,
{
    let started = Instant::now();
    let (users, teams) = (options.users.max(1), options.teams.max(1));
    let mut runner = runner(options);
    let workloads_run = Cell::new(0u64);
    // A workload that could not be checked is not a pass: it makes the whole run inconclusive.
    let unchecked: RefCell<Option<String>> = RefCell::new(None);
    // proptest keeps the last failing workload as its smallest, so the last counterexample found
    // is the shrunk one; keeping it means a limit hit while shrinking loses nothing.
    let smallest: RefCell<Option<(Box<Counterexample>, Scenario)>> = RefCell::new(None);
    let scenario_of = |servers: Vec<Vec<Request>>| {
        Scenario::new(users, teams, by_first_appearance(servers), Vec::new())
    };
    let shuttle_options = ShuttleOptions {
        limits: options.limits.clone(),
        ..options.shuttle.effective()
    };
    let outcome = runner.run(&workload(options), |servers| {
        if let Some(why) = options.limits.reached(started) {
            let done = workloads_run.get();
            let reason = format!("stopped by the {why} after {done} workloads, nothing is proved");
            unchecked.borrow_mut().get_or_insert(reason);
            return Ok(());
        }
        workloads_run.set(workloads_run.get() + 1);
        let scenario = match scenario_of(servers) {
            Ok(scenario) => scenario,
            Err(refused) => {
                let why = format!("a generated workload was refused: {refused}");
                unchecked.borrow_mut().get_or_insert(why);
                return Ok(());
            }
        };
        match shuttle_engine::check(service.clone(), &scenario, &shuttle_options) {
            Verdict::Violated { counterexample, .. } => {
                *smallest.borrow_mut() = Some((counterexample, scenario));
                Err(TestCaseError::fail("the invariant broke"))
            }
            Verdict::Inconclusive { reason, .. } => {
                let why = format!("shuttle was inconclusive on {scenario}: {reason}");
                unchecked.borrow_mut().get_or_insert(why);
                Ok(())
            }
            Verdict::Holds { .. } => Ok(()),
        }
    });
    let stats = Stats {
        iterations: Some(workloads_run.get()),
        seconds: started.elapsed().as_secs_f64(),
        ..Stats::default()
    };
    let verdict = match outcome {
        Ok(()) if options.cases == 0 => Verdict::Inconclusive {
            engine: Engine::Proptest,
            reason: "no workloads were generated (0 cases): nothing was checked".to_string(),
            stats,
        },
        Ok(()) if unchecked.borrow().is_some() => Verdict::Inconclusive {
            engine: Engine::Proptest,
            reason: unchecked.into_inner().unwrap_or_default(),
            stats,
        },
        Ok(()) => Verdict::Holds {
            engine: Engine::Proptest,
            scope: format!(
                "no violation in {} generated workloads (seed {}, {} × {} each over {} and {}), \
                 {} shuttle schedules each ({}): evidence, not proof",
                options.cases,
                options.seed,
                between(2, options.max_servers.max(2), "server"),
                between(1, options.max_requests.max(1), "request"),
                count(users, "user"),
                count(teams, "team"),
                shuttle_options.iterations,
                shuttle_options
            ),
            stats,
        },
        Err(TestError::Fail(..)) => match smallest.into_inner() {
            Some((mut counterexample, scenario)) => {
                counterexample.engine = Engine::Proptest;
                let verdict = Verdict::Violated {
                    engine: Engine::Proptest,
                    counterexample,
                    stats,
                };
                return (verdict, Some(scenario));
            }
            None => Verdict::Inconclusive {
                engine: Engine::Proptest,
                reason: "proptest reported a failure without a counterexample".to_string(),
                stats,
            },
        },
        Err(TestError::Abort(reason)) => Verdict::Inconclusive {
            engine: Engine::Proptest,
            reason: format!("proptest stopped: {reason}"),
            stats,
        },
    };
    (verdict, None)
}
