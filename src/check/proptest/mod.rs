//! proptest: generated workloads, each run under shuttle; a failure shrinks to the smallest
//! workload that still breaks, with its schedule.
//!
//! A workload is a few servers, each with a few joins, leaves and switches, from an initial
//! membership. Each is checked with the same seeded shuttle schedules, random ones and then PCT
//! ones, so a workload either fails or passes deterministically and shrinking is meaningful.
//! Passing is evidence, not proof.

mod generate;

use super::shuttle::{self as shuttle_engine, ShuttleOptions, Strategy as Schedules};
use super::{whole_statements, Invariants, Limits, Scenario, ScenarioError};
use crate::runtime::Shuttle;
use crate::service::JoinService;
use generate::workload;
use joincheck_models::plural as count;
use joincheck_models::verdict::{Counterexample, Engine, Replay, Stats, Verdict};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use std::cell::{Cell, RefCell};
use std::time::Instant;

/// What workloads to generate, how hard to check each, and what to judge.
///
/// ```
/// use joincheck::check::proptest::ProptestOptions;
///
/// let options = ProptestOptions::default().cases(64).seed(7).leaves(false);
/// assert_eq!((options.cases, options.seed, options.leaves), (64, 7, false));
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ProptestOptions {
    /// Workloads to generate (shrinking steps come on top): 256 by default, proptest's own
    /// default, and `joincheck check --cases`'s too.
    pub cases: u32,
    /// Seed of the workload generator.
    pub seed: u64,
    /// At most this many servers per workload. Every workload has at least two: one server
    /// alone has nothing to race with.
    pub max_servers: u8,
    /// At most this many requests per server, a switch counting as two.
    pub max_requests: u8,
    /// Users requests are drawn from.
    pub users: u8,
    /// Teams requests are drawn from.
    pub teams: u8,
    /// Whether requests may also be leaves and switches (a leave and then a join of the same
    /// user by one server), instead of joins only. A service's leave, and what a server does
    /// after its own leave, can break the invariant as much as a join can.
    pub leaves: bool,
    /// Whether some users may already be on a team when the servers start. A leave only means
    /// something for a user who is on a team, and a service may treat existing members apart.
    pub initial_members: bool,
    /// Uniformly random schedules tried on each workload, from `shuttle.seed`, before the
    /// `shuttle` ones. Random schedules switch servers often, which a bug that needs several
    /// conflicts within one request wants (PCT at depth 3 changes priorities only twice); PCT
    /// schedules (the default of `shuttle`) reach any bug of their depth with a known probability.
    /// 0 runs only the `shuttle` ones.
    pub random_schedules: u64,
    /// The schedules tried on each workload after the random ones: PCT by default. With
    /// `shuttle.iterations` 0, only the random ones run
    /// ([`ProptestOptions::random_schedules_only`]); with both 0, nothing is checked, and the
    /// verdict says so (inconclusive).
    pub shuttle: ShuttleOptions,
    /// Stop early on a time limit or a stop request: the verdict is then inconclusive.
    pub limits: Limits,
    /// The invariants judged after every step: "a user is on at most one team" and any added.
    pub invariants: Invariants,
}

option_builders! {
    ProptestOptions {
        /// Generates `cases` workloads.
        cases: u32;
        /// Generates from `seed`.
        seed: u64;
        /// At most `max_servers` servers per workload.
        max_servers: u8;
        /// At most `max_requests` requests per server.
        max_requests: u8;
        /// Draws requests from `users` users.
        users: u8;
        /// Draws requests from `teams` teams.
        teams: u8;
        /// Whether requests may also be leaves and switches.
        leaves: bool;
        /// Whether some users may already be on a team when the servers start.
        initial_members: bool;
        /// Tries `random_schedules` random schedules on each workload before the `shuttle` ones.
        random_schedules: u64;
        /// Tries these schedules on each workload after the random ones.
        shuttle: ShuttleOptions;
        /// Stops on these limits.
        limits: Limits;
    }
}

impl ProptestOptions {
    /// Tries `schedules` uniformly random schedules on each workload, and no others: no PCT.
    ///
    /// ```
    /// use joincheck::check::proptest::ProptestOptions;
    ///
    /// let options = ProptestOptions::default().random_schedules_only(200);
    /// assert_eq!((options.random_schedules, options.shuttle.iterations), (200, 0));
    /// ```
    pub fn random_schedules_only(mut self, schedules: u64) -> Self {
        self.random_schedules = schedules;
        self.shuttle.iterations = 0;
        self
    }
}

impl Default for ProptestOptions {
    fn default() -> Self {
        ProptestOptions {
            cases: 256,
            seed: 42,
            max_servers: 4,
            max_requests: 3,
            users: 2,
            teams: 2,
            leaves: true,
            initial_members: true,
            random_schedules: 50,
            shuttle: ShuttleOptions {
                iterations: 50,
                ..ShuttleOptions::default()
            },
            limits: Limits::default(),
            invariants: Invariants::default(),
        }
    }
}

/// `2 servers`, `2 to 4 servers`.
fn between(low: u8, high: u8, noun: &str) -> String {
    match low == high {
        true => count(high, noun),
        false => format!("{low} to {}", count(high, noun)),
    }
}

/// What kinds of workload `options` generates, for the scope of a verdict.
fn kinds(options: &ProptestOptions) -> String {
    // A switch is two requests: with one request per server it is cut to its leave.
    let requests = match (options.leaves, options.max_requests >= 2) {
        (true, true) => "joins, leaves and switches",
        (true, false) => "joins and leaves",
        (false, _) => "joins",
    };
    match options.initial_members {
        true => format!("{requests}, some users on a team at the start"),
        false => format!("{requests} from no memberships"),
    }
}

/// `options.cases` workloads from the generator [`check`] uses, seeded by `options.seed` (not
/// necessarily the ones `check` draws: its runner seeds each case on its own).
pub fn workloads(options: &ProptestOptions) -> Vec<Scenario> {
    let (users, teams) = (options.users.max(1), options.teams.max(1));
    let mut runner = runner(options);
    let generate = workload(options);
    (0..options.cases)
        .filter_map(|_| generate.new_tree(&mut runner).ok())
        .filter_map(|tree| tree.current().scenario(users, teams).ok())
        .collect()
}

/// The [`workloads`] of `options` with joins only and no initial members, whatever `options`
/// says: conformance runs match them against the models, which have joins only and start with
/// everyone on no team.
pub fn join_workloads(options: &ProptestOptions) -> Vec<Scenario> {
    workloads(&ProptestOptions {
        leaves: false,
        initial_members: false,
        ..options.clone()
    })
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

/// Runs `scenario` under the random schedules and, if they find nothing, under the PCT ones;
/// a kind of schedule with none to try is skipped, unless both are (shuttle then says that
/// zero schedules check nothing).
fn check_workload<S>(
    service: &S,
    scenario: &Scenario,
    schedules: &[ShuttleOptions; 2],
    not_atomic: &RefCell<Option<String>>,
) -> Verdict
where
    S: JoinService<Shuttle> + Clone,
{
    let [random, pct] = schedules;
    let check = |options| {
        let (verdict, reason) = shuttle_engine::check_noting(service.clone(), scenario, options);
        if let Some(reason) = reason {
            not_atomic.borrow_mut().get_or_insert(reason);
        }
        verdict
    };
    if random.iterations > 0 {
        let verdict = check(random);
        if !matches!(verdict, Verdict::Holds { .. }) || pct.iterations == 0 {
            return verdict;
        }
    }
    check(pct)
}

/// The schedules tried on each workload, in words: `50 shuttle schedules (random, seed 42) and
/// 50 (PCT depth 3, seed 42)`, or only the kind there were any of.
fn schedules_tried(random: &ShuttleOptions, pct: &ShuttleOptions) -> String {
    match (random.iterations, pct.iterations) {
        (0, n) => format!("{n} shuttle schedules ({pct})"),
        (n, 0) => format!("{n} shuttle schedules ({random})"),
        (r, p) => format!("{r} shuttle schedules ({random}) and {p} ({pct})"),
    }
}

/// Generates workloads, runs each under random and then PCT shuttle schedules, and shrinks the
/// first one that breaks.
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
    let (users, teams) = (options.users.max(1), options.teams.max(1));
    let generated = workload(options).prop_map(move |workload| {
        workload
            .scenario(users, teams)
            .map_err(|refused| refused.to_string())
    });
    let what = format!(
        "generated workloads (seed {}, {} × {} each over {} and {}: {})",
        options.seed,
        between(2, options.max_servers.max(2), "server"),
        between(1, options.max_requests.max(1), "request"),
        count(users, "user"),
        count(teams, "team"),
        kinds(options),
    );
    search(service, options, generated, &what)
}

/// Like [`check`], on workloads drawn from a strategy of your own (shrinking is then your
/// strategy's) instead of the built-in generator: the scenarios your service must survive, with
/// the leaves, initial members and request mix you choose. `options` still sets the number of
/// cases, the seed, the schedules tried on each workload and the limits; its size fields are
/// not used. Returns the shrunk workload with the verdict when violated.
///
/// ```
/// use joincheck::check::proptest::{check_strategy, ProptestOptions};
/// use joincheck::check::Scenario;
/// use joincheck::service::Naive;
/// use joincheck_models::domain::{Request, TeamId, UserId};
/// use proptest::prelude::*;
///
/// // Two servers join sue, each to a team of its own choosing.
/// let sue_twice = (0..2u8, 0..2u8).prop_map(|(a, b)| {
///     let join = |team| vec![Request::Join { user: UserId(0), team: TeamId(team) }];
///     Scenario::new(1, 2, vec![join(a), join(b)], Vec::new()).expect("a valid scenario")
/// });
/// let (verdict, shrunk) = check_strategy(Naive, &ProptestOptions::default(), sue_twice);
/// assert_eq!(verdict.kind(), "violated");
/// // Your strategy shrinks it: both teams towards team-A, until the two differ no more.
/// assert_eq!(
///     shrunk.unwrap().to_string(),
///     "server-1: join sue → team-B; server-2: join sue → team-A"
/// );
/// ```
pub fn check_strategy<S, W>(
    service: S,
    options: &ProptestOptions,
    workloads: W,
) -> (Verdict, Option<Scenario>)
where
    S: JoinService<Shuttle> + Clone,
    W: Strategy<Value = Scenario>,
{
    let what = format!("workloads of your own strategy (seed {})", options.seed);
    search(service, options, workloads.prop_map(Ok), &what)
}

/// Runs every workload of `workloads` (`what` in words) under random and then PCT schedules,
/// and shrinks the first one that breaks. A workload that could not be built makes the run
/// inconclusive.
fn search<S, W>(
    service: S,
    options: &ProptestOptions,
    workloads: W,
    what: &str,
) -> (Verdict, Option<Scenario>)
where
    S: JoinService<Shuttle> + Clone,
    W: Strategy<Value = Result<Scenario, String>>,
{
    let started = Instant::now();
    let mut runner = runner(options);
    let workloads_run = Cell::new(0u64);
    // The case that first broke, before shrinking: what a reader reruns to see it again.
    let first_broken_case: Cell<Option<u64>> = Cell::new(None);
    // A workload that could not be checked is not a pass: it makes the whole run inconclusive.
    let unchecked: RefCell<Option<String>> = RefCell::new(None);
    // proptest keeps the last failing workload as its smallest, so the last counterexample found
    // is the shrunk one; keeping it means a limit hit while shrinking loses nothing.
    let smallest: RefCell<Option<(Box<Counterexample>, Scenario)>> = RefCell::new(None);
    let not_atomic: RefCell<Option<String>> = RefCell::new(None);
    let pct = ShuttleOptions {
        limits: options.limits.clone(),
        invariants: options.invariants.clone(),
        ..options.shuttle.effective()
    };
    let random = ShuttleOptions {
        strategy: Schedules::Random,
        iterations: options.random_schedules,
        ..pct.clone()
    };
    let schedules = [random, pct];
    let outcome = runner.run(&workloads, |workload| {
        if let Some(why) = options.limits.reached(started) {
            let done = workloads_run.get();
            let reason = format!(
                "stopped by the {why} after {}, nothing is proved",
                crate::figures::count(done, "workload")
            );
            unchecked.borrow_mut().get_or_insert(reason);
            return Ok(());
        }
        workloads_run.set(workloads_run.get() + 1);
        let scenario = match workload {
            Ok(scenario) => scenario,
            Err(refused) => {
                let why = format!("a generated workload was refused: {refused}");
                unchecked.borrow_mut().get_or_insert(why);
                return Ok(());
            }
        };
        match check_workload(&service, &scenario, &schedules, &not_atomic) {
            Verdict::Violated { counterexample, .. } => {
                if first_broken_case.get().is_none() {
                    first_broken_case.set(Some(workloads_run.get()));
                }
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
    let [random, pct] = &schedules;
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
            scope: whole_statements(
                format!(
                    "no violation in {} {}, each under {}{}: evidence, not proof",
                    options.cases,
                    // "1 generated workload (…)", "64 generated workloads (…)".
                    match options.cases {
                        1 => what.replacen("workloads", "workload", 1),
                        _ => what.to_string(),
                    },
                    schedules_tried(random, pct),
                    options.invariants.scope(),
                ),
                not_atomic.borrow().as_deref(),
            ),
            stats,
        },
        Err(TestError::Fail(..)) => match smallest.into_inner() {
            Some((mut counterexample, scenario)) => {
                counterexample.engine = Engine::Proptest;
                // The trace names the generator as well as the schedule that broke the shrunk
                // workload.
                if let Replay::ShuttleSchedule { found_by, .. } = &mut counterexample.replay {
                    let case = first_broken_case.get().unwrap_or_default();
                    *found_by = format!(
                        "case {case} of seed {} (shrunk workload), shuttle {found_by}",
                        options.seed
                    );
                }
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
