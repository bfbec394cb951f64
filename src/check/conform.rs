//! Conformance: the model and the code must tell the same story.
//!
//! *Code → model*: every history the real implementation produces is matched, step by step,
//! against the model; a step the model cannot take is a [`Divergence`], reported with the
//! model's allowed steps at that point. *Model → code*: a model path is replayed on the real
//! service on real threads, with the store letting operations take effect only in the path's
//! order, and must produce the identical history.

use super::proptest::ProptestOptions;
use super::shuttle::{self as shuttle_engine, ShuttleOptions};
use super::{run_servers, Around, Execution, Judgement, Limits, Scenario};
use crate::figures::{count, thousands};
use crate::runtime::{Shuttle, Std};
use crate::service::JoinService;
use crate::store::{Database, Recording};
use joincheck_models::domain::Request;
use joincheck_models::operation::Step;
use joincheck_models::{Action, Protocol, ProtocolModel, Sizes};
use std::collections::HashSet;
use std::fmt;
use std::hash::Hash;
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// A state machine that histories are checked against: the built-in [`ProtocolModel`]s, or a
/// user's own model of their own service.
pub trait ReferenceModel {
    /// A model state.
    type State: Clone + Eq + Hash;
    /// Where every history starts.
    fn initial_state(&self) -> Self::State;
    /// Every step the model can take from `state`: the action's name, the step the store would
    /// record, and the state after.
    fn successors(&self, state: &Self::State) -> Vec<(String, Step, Self::State)>;
}

impl ReferenceModel for ProtocolModel {
    type State = joincheck_models::State;

    fn initial_state(&self) -> Self::State {
        ProtocolModel::initial_state(self)
    }

    fn successors(&self, state: &Self::State) -> Vec<(String, Step, Self::State)> {
        ProtocolModel::successors(self, state)
            .into_iter()
            .map(|(action, step, next)| (action.to_string(), step, next))
            .collect()
    }
}

/// The first step of a history that the model cannot take.
#[derive(Clone, Debug, PartialEq)]
pub struct Divergence {
    /// Zero-based index of the diverging step.
    pub index: usize,
    /// The history up to and including the diverging step.
    pub history: Vec<Step>,
    /// What the model allowed instead: action names with the steps they record.
    pub allowed: Vec<(String, Step)>,
    /// Where the history came from (engine, seed, schedule).
    pub origin: String,
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "NOT CONFORMING  the model cannot take step {} ({})",
            self.index + 1,
            self.origin
        )?;
        for (index, step) in self.history.iter().enumerate() {
            let mark = if index == self.index { "   ✗" } else { "" };
            writeln!(
                f,
                "  {:>2}  {}  {}  →  {}{mark}",
                index + 1,
                step.server,
                step.operation,
                step.result
            )?;
        }
        writeln!(f, "the model allowed instead:")?;
        if self.allowed.is_empty() {
            writeln!(f, "  nothing: every modelled request is done")?;
        }
        for (action, step) in &self.allowed {
            writeln!(f, "  {action}  ({} → {})", step.operation, step.result)?;
        }
        Ok(())
    }
}

/// Matches `history` against `model` from its initial state. Several model states can record
/// the same step (a check does not show the team it will push to), so every candidate is kept.
/// A statement of an SQL database is matched as the model operation it performs
/// ([`Step::in_model_terms`]). Returns a model path (action names) that records exactly this
/// history.
pub fn match_history<M: ReferenceModel>(
    model: &M,
    history: &[Step],
    origin: &str,
) -> Result<Vec<String>, Box<Divergence>> {
    let extend = |path: &Vec<String>, action: String| {
        let mut path = path.clone();
        path.push(action);
        path
    };
    let unbounded = |_, _| Ok::<(), std::convert::Infallible>(());
    match follow(model, history, origin, Vec::new(), extend, unbounded) {
        Ok(path) => Ok(path),
        Err(Unmatched::Diverged(divergence)) => Err(divergence),
        Err(Unmatched::Stopped(never)) => match never {},
        // Unbounded matching fails as any collection does when memory is refused.
        Err(Unmatched::Refused(candidates)) => std::alloc::handle_alloc_error(
            std::alloc::Layout::array::<M::State>(candidates)
                .unwrap_or(std::alloc::Layout::new::<M::State>()),
        ),
    }
}

/// Candidate model states expanded before the matching of one history heeds the run's timeout
/// and stop requests: a few milliseconds' work.
const LONG_MATCHING: usize = 10_000;

/// What stops matching a history under a run's limits.
enum Halt {
    /// The timeout or a stop request (in the words every engine uses after "stopped by the").
    Limit(&'static str),
    /// The memory limit, and what it has room for.
    Memory(String),
}

/// Why a history was not matched to its end.
enum Unmatched<Stop> {
    /// A step the model cannot take.
    Diverged(Box<Divergence>),
    /// The bound stopped the matching first, and why.
    Stopped(Stop),
    /// The system refused memory for more than this many candidates.
    Refused(usize),
}

/// The candidates [`follow`] keeps at most while matching under `limits`: as many as the memory
/// limit has room for, at two copies of a model state each (the candidate, and the set that
/// keeps candidates distinct) and a little for the set's own bookkeeping.
fn most_candidates<M: ReferenceModel>(limits: &Limits) -> Option<usize> {
    let each = 2 * std::mem::size_of::<M::State>() + 16;
    limits
        .memory
        .map(|bytes| usize::try_from(bytes / each as u64).unwrap_or(usize::MAX))
}

/// Matches `history` as [`match_history`] does, carrying a `trail` from candidate to candidate
/// (the path so far, or nothing) and asking `bound`, with the number of candidates and of those
/// expanded so far, whether to go on before each step. Memory the system refuses for the
/// candidates stops it too.
fn follow<M: ReferenceModel, T: Clone, Stop>(
    model: &M,
    history: &[Step],
    origin: &str,
    trail: T,
    extend: impl Fn(&T, String) -> T,
    bound: impl Fn(usize, usize) -> Result<(), Stop>,
) -> Result<T, Unmatched<Stop>> {
    let mut candidates = vec![(model.initial_state(), trail)];
    let mut expanded = 0;
    for (index, recorded) in history.iter().enumerate() {
        bound(candidates.len(), expanded).map_err(Unmatched::Stopped)?;
        expanded += candidates.len();
        let recorded = &recorded.in_model_terms();
        let mut seen = HashSet::new();
        let mut next = Vec::new();
        let mut allowed = Vec::new();
        for (state, trail) in &candidates {
            for (action, step, after) in model.successors(state) {
                if step == *recorded {
                    if seen.try_reserve(1).and(next.try_reserve(1)).is_err() {
                        return Err(Unmatched::Refused(next.len()));
                    }
                    if seen.insert(after.clone()) {
                        next.push((after, extend(trail, action)));
                    }
                } else if !allowed.iter().any(|(_, s)| *s == step) {
                    allowed.push((action, step));
                }
            }
        }
        if next.is_empty() {
            return Err(Unmatched::Diverged(Box::new(Divergence {
                index,
                history: history[..=index].to_vec(),
                allowed,
                origin: origin.to_string(),
            })));
        }
        candidates = next;
    }
    Ok(candidates.swap_remove(0).1)
}

/// What a conformance run validated.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConformanceReport {
    /// Histories matched against the model.
    pub histories: u64,
    /// Steps matched, over all histories.
    pub steps: u64,
    /// Histories that also broke the invariant.
    pub violations: u64,
    /// The first history the model could not produce.
    pub divergence: Option<Box<Divergence>>,
    /// Why part of the run could not be validated (the implementation panicked, say).
    pub incomplete: Option<String>,
}

impl ConformanceReport {
    /// Adds another report's figures; keeps the first divergence.
    pub fn merge(&mut self, other: ConformanceReport) {
        self.histories += other.histories;
        self.steps += other.steps;
        self.violations += other.violations;
        if self.divergence.is_none() {
            self.divergence = other.divergence;
        }
        if self.incomplete.is_none() {
            self.incomplete = other.incomplete;
        }
    }

    /// Matches one execution. Breaks once a divergence is found or a run cannot be validated
    /// (noted in the report), or with the limit of `limits` that stopped the matching (a timeout
    /// or a stop request, which the caller words with how far the run got; the history is then
    /// not counted).
    fn validate<M: ReferenceModel>(
        &mut self,
        model: &M,
        execution: &Execution,
        origin: &str,
        limits: &Limits,
        started: Instant,
    ) -> ControlFlow<Option<&'static str>> {
        let broke = match execution.judge() {
            Judgement::Held => false,
            Judgement::Broke { .. } => true,
            // An unrecorded run matches any model vacuously: it validates nothing.
            Judgement::Unjudged(why) => {
                self.histories += 1;
                self.incomplete.get_or_insert(format!("{origin}: {why}"));
                return ControlFlow::Break(None);
            }
        };
        let most = most_candidates::<M>(limits);
        // Matching one history can take long and much memory (a model state per way the steps
        // so far could have gone): the run's limits hold within it too.
        // A short matching finishes whatever stops the run meanwhile: the history it was given
        // ran to its end and is validated. A long one stops at the run's limits.
        let limited = |expanded: usize| match expanded < LONG_MATCHING {
            true => None,
            false => limits.reached(started),
        };
        let bound = |candidates: usize, expanded: usize| match limited(expanded) {
            Some(why) => Err(Halt::Limit(why)),
            None if most.is_some_and(|most| candidates > most) => Err(Halt::Memory(format!(
                "stopped by the memory limit ({} bytes: room for {} candidate model states at \
                 once)",
                thousands(limits.memory.unwrap_or_default()),
                thousands(most.unwrap_or_default() as u64)
            ))),
            None => Ok(()),
        };
        let matched = follow(model, &execution.history, origin, (), |(), _| (), bound);
        if !matches!(matched, Err(Unmatched::Stopped(Halt::Limit(_)))) {
            self.histories += 1;
            self.violations += u64::from(broke);
        }
        let why = match matched {
            Ok(()) => {
                self.steps += execution.history.len() as u64;
                return ControlFlow::Continue(());
            }
            Err(Unmatched::Diverged(divergence)) => {
                self.steps += divergence.index as u64;
                self.divergence = Some(divergence);
                return ControlFlow::Break(None);
            }
            Err(Unmatched::Stopped(Halt::Limit(why))) => return ControlFlow::Break(Some(why)),
            Err(Unmatched::Stopped(Halt::Memory(why))) => why,
            Err(Unmatched::Refused(candidates)) => format!(
                "the system refused memory for more than {} candidate model states",
                thousands(candidates as u64)
            ),
        };
        let why = format!("{why} while matching a history of {origin}");
        self.incomplete.get_or_insert(why);
        ControlFlow::Break(None)
    }
}

/// Why a scenario cannot be checked against the built-in models.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotModelled(pub String);

impl fmt::Display for NotModelled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the built-in models cannot follow this scenario: {}",
            self.0
        )
    }
}

impl std::error::Error for NotModelled {}

/// The built-in model of `protocol` sized for `scenario`. The models have joins only and start
/// from an empty database.
pub fn builtin_model(
    protocol: Protocol,
    scenario: &Scenario,
) -> Result<ProtocolModel, NotModelled> {
    if !scenario.initial().is_empty() {
        return Err(NotModelled("it starts with members".to_string()));
    }
    let servers = scenario.servers();
    if servers
        .iter()
        .flatten()
        .any(|r| matches!(r, Request::Leave { .. }))
    {
        return Err(NotModelled("it has leave requests".to_string()));
    }
    let requests = servers.iter().map(Vec::len).max().unwrap_or(0);
    let sizes = Sizes::new(
        u8::try_from(servers.len()).unwrap_or(u8::MAX),
        scenario.users(),
        scenario.teams(),
        u8::try_from(requests).unwrap_or(u8::MAX),
    )
    .map_err(|error| NotModelled(error.to_string()))?;
    ProtocolModel::try_new(protocol, sizes).map_err(|error| NotModelled(error.to_string()))
}

/// Matches the history of every shuttle schedule of `scenario` against `model`.
pub fn shuttle<S, M>(
    service: S,
    model: M,
    scenario: &Scenario,
    options: &ShuttleOptions,
) -> ConformanceReport
where
    S: JoinService<Shuttle>,
    M: ReferenceModel + Send + 'static,
{
    let report = Arc::new(Mutex::new(ConformanceReport::default()));
    let started = Instant::now();
    let visit = {
        let (report, found_by) = (report.clone(), options.effective().to_string());
        let limits = options.limits.clone();
        move |execution: Execution, schedule: shuttle_engine::EncodedSchedule| {
            let origin = format!("shuttle, {found_by}, schedule {}", schedule.0);
            let mut report = report.lock().unwrap_or_else(|e| e.into_inner());
            match report.validate(&model, &execution, &origin, &limits, started) {
                ControlFlow::Continue(()) => ControlFlow::Continue(()),
                // A limit that stopped the matching is worded below, with the schedules run.
                ControlFlow::Break(_) => ControlFlow::Break(()),
            }
        }
    };
    let outcome = shuttle_engine::explore(service, scenario, options, visit);
    let mut report = report.lock().unwrap_or_else(|e| e.into_inner()).clone();
    match outcome {
        Err(panic) => report.incomplete = Some(format!("shuttle stopped: {panic}")),
        // Fewer schedules than asked for, and the visits did not stop them: a limit did.
        Ok(ran) if ran < options.iterations && report.divergence.is_none() => {
            if let Some(why) = options.limits.reached(started) {
                report.incomplete.get_or_insert(format!(
                    "stopped by the {why} after {} of {} ({})",
                    thousands(ran),
                    count(options.iterations, "shuttle schedule"),
                    options.effective()
                ));
            }
        }
        Ok(_) => {}
    }
    report
}

/// Matches the history of `runs` runs of `scenario` on real threads against `model`, unless
/// `limits` stop it first.
pub fn stress<S, M>(
    service: &S,
    model: &M,
    scenario: &Scenario,
    runs: u64,
    limits: &Limits,
) -> ConformanceReport
where
    S: JoinService<Std>,
    M: ReferenceModel,
{
    let started = Instant::now();
    let mut report = ConformanceReport::default();
    let stopped = |why: &str, run: u64| {
        format!(
            "stopped by the {why} after {} of {} on real threads",
            thousands(run),
            count(runs, "run")
        )
    };
    for run in 0..runs {
        if let Some(why) = limits.reached(started) {
            report.incomplete = Some(stopped(why, run));
            break;
        }
        let execution = super::stress::run_together(service, scenario);
        let origin = format!("real threads, run {run}");
        match report.validate(model, &execution, &origin, limits, started) {
            ControlFlow::Continue(()) => {}
            ControlFlow::Break(None) => break,
            ControlFlow::Break(Some(why)) => {
                report.incomplete.get_or_insert(stopped(why, run));
                break;
            }
        }
    }
    report
}

/// Generates join-only workloads as the proptest engine does, and matches every shuttle history
/// of each against the built-in model of `protocol` sized for it; `options.limits` stop it
/// between workloads, `options.shuttle.limits` within one.
pub fn workloads<S>(service: S, protocol: Protocol, options: &ProptestOptions) -> ConformanceReport
where
    S: JoinService<Shuttle> + Clone,
{
    let started = Instant::now();
    let mut report = ConformanceReport::default();
    let workloads = super::proptest::join_workloads(options);
    for (done, scenario) in workloads.iter().enumerate() {
        if let Some(why) = options.limits.reached(started) {
            report.incomplete.get_or_insert(format!(
                "stopped by the {why} after {done} of {}",
                count(workloads.len() as u64, "generated workload")
            ));
            break;
        }
        let model = match builtin_model(protocol, scenario) {
            Ok(model) => model,
            Err(not_modelled) => {
                report.incomplete.get_or_insert(not_modelled.to_string());
                continue;
            }
        };
        report.merge(shuttle(service.clone(), model, scenario, &options.shuttle));
        if report.divergence.is_some() {
            break;
        }
    }
    report
}

/// Why a model path did not replay on the implementation.
#[derive(Clone, Debug, PartialEq)]
pub enum ReplayMismatch {
    /// The path is not a path of the model.
    Model(joincheck_models::ReplayError),
    /// The path names no request (nothing to run).
    Empty,
    /// The implementation did not perform the operations in the path's order.
    OrderNotFollowed(String),
    /// The implementation recorded a different step than the model at `index`.
    Differs {
        /// Zero-based index of the first differing step.
        index: usize,
        /// What the model recorded.
        model: Option<Step>,
        /// What the implementation recorded.
        implementation: Option<Step>,
    },
}

impl fmt::Display for ReplayMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |step: &Option<Step>| match step {
            Some(step) => format!("{} {} → {}", step.server, step.operation, step.result),
            None => "nothing".to_string(),
        };
        match self {
            ReplayMismatch::Model(error) => write!(f, "not a path of the model: {error}"),
            ReplayMismatch::Empty => write!(f, "the path starts no request"),
            ReplayMismatch::OrderNotFollowed(why) => write!(f, "the order was not followed: {why}"),
            ReplayMismatch::Differs {
                index,
                model,
                implementation,
            } => write!(
                f,
                "step {}: the model records {}, the implementation {}",
                index + 1,
                show(model),
                show(implementation)
            ),
        }
    }
}

impl std::error::Error for ReplayMismatch {}

/// Replays a model path on the real service, on real threads: each request the path starts is
/// given to its server, and the store lets operations take effect only in the path's order.
/// Returns the execution, whose history must equal the model's steps.
pub fn replay_on_implementation<S: JoinService<Std>>(
    service: &S,
    model: &ProtocolModel,
    actions: &[String],
) -> Result<Execution, Box<ReplayMismatch>> {
    let steps = model.replay(actions).map_err(ReplayMismatch::Model)?;
    let sizes = model.sizes();
    let mut requests = vec![Vec::new(); usize::from(sizes.servers)];
    for action in actions.iter().filter_map(|text| Action::parse(text)) {
        if let Some(request) = action.request() {
            requests[usize::from(action.server().0)].push(request);
        }
    }
    let scenario = Scenario::new(sizes.users, sizes.teams, requests, Vec::new())
        .map_err(|_| ReplayMismatch::Empty)?;
    let database = service.open_database(&[], Recording::On);
    database.enforce_steps(&steps);
    let finishing = Arc::clone(&database);
    let around = Around {
        finish: Arc::new(move |id| finishing.server_finished(id)),
        ..Around::default()
    };
    let answers = run_servers::<Std, S>(service, &scenario, &database, &around);
    if let Some(why) = database.order_diverged() {
        return Err(Box::new(ReplayMismatch::OrderNotFollowed(why)));
    }
    let execution = Execution::of(database.as_ref(), answers);
    let history = &execution.history[..execution.history.len().min(steps.len())];
    if let Some(index) = (0..steps.len()).find(|&i| history.get(i) != steps.get(i)) {
        return Err(Box::new(ReplayMismatch::Differs {
            index,
            model: steps.get(index).cloned(),
            implementation: history.get(index).cloned(),
        }));
    }
    Ok(execution)
}
