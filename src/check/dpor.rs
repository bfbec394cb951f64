//! DPOR: every interleaving of the real code, one execution per class of equivalent ones.
//!
//! Two executions are equivalent (one Mazurkiewicz trace) when one is the other with adjacent
//! independent events swapped; an event is one store operation and the server's code after it
//! (see [`crate::runtime::Dpor`]), and two events are independent when their footprints
//! ([`joincheck_models::footprint`]) do not conflict: no datum that one writes is touched by the
//! other. Equivalent executions give every server the same answers, end in the same state, and
//! change each user's teams by the same steps in the same order, so "a user is on at most one
//! team", judged after every step, breaks in one exactly when it breaks in the other. (An added
//! invariant may look at several users at once: with one, every change of membership is
//! dependent on every other.)
//!
//! The search is source-set DPOR with sleep sets (Abdulla, Aronis, Jonsson and Sagonas,
//! *Optimal dynamic partial order reduction*, POPL 2014, Algorithm 1): stateless, each execution
//! rerun from the start; after each event, for each earlier event of another thread in a
//! reversible race with it, one thread that can start the reversed order is added to the
//! backtrack set before the earlier event, unless one is there already; sleep sets keep the
//! explored orders from being explored again. It explores at least one execution of every class
//! (without wakeup trees, sometimes more than one, and sometimes starts one it abandons because
//! every thread that may run is asleep: those are not counted as executions).

use super::quiet::EngineRun;
use super::{
    panic_message, run_once, whole_statements, Invariants, Limits, Scenario, ScenarioError,
    Unjudged,
};
use crate::figures::count;
use crate::runtime::dpor::{Abandoned, Chooser, Cut, Keep, Run, ThreadNumber};
use crate::runtime::Dpor;
use crate::service::JoinService;
use crate::store::Recording;
use joincheck_models::footprint::{Access, Datum, Footprint};
use joincheck_models::verdict::{Counterexample, Engine, Replay, Stats, Verdict};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Limits of a DPOR check, and what it judges.
///
/// ```
/// use joincheck::check::dpor::DporOptions;
/// use joincheck::check::Invariant;
///
/// let options = DporOptions::default()
///     .max_executions(Some(1000))
///     .invariant(Invariant::at_most_members(1));
/// assert_eq!(options.max_executions, Some(1000));
/// ```
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct DporOptions {
    /// Stop after this many executions: the verdict is then inconclusive.
    pub max_executions: Option<u64>,
    /// Stop on a timeout, a stop request or the memory limit: the verdict is then inconclusive.
    pub limits: Limits,
    /// The invariants judged after every step: "a user is on at most one team" and any added.
    pub invariants: Invariants,
}

option_builders! {
    DporOptions {
        /// Stops after this many executions.
        max_executions: Option<u64>;
        /// Stops on these limits.
        limits: Limits;
    }
}

/// After the first violation, how many more executions [`check`] explores for a shorter one.
/// The search order is fixed, so the shortest among them is the same on every run.
pub const SHORTENING_EXECUTIONS: u64 = 1000;

/// A schedule: the thread that ran each event, by number (1, 2, … the servers in order, then
/// the service's environment), as a replay file keeps it: `1 2 2 1`.
pub fn encode_schedule(threads: &[ThreadNumber]) -> String {
    let words: Vec<String> = threads.iter().map(ToString::to_string).collect();
    words.join(" ")
}

/// The threads of an encoded schedule, or what is wrong with it.
pub fn decode_schedule(schedule: &str) -> Result<Vec<ThreadNumber>, String> {
    schedule
        .split_whitespace()
        .map(|word| match word.parse::<ThreadNumber>() {
            Ok(thread) if thread > 0 => Ok(thread),
            _ => Err(format!("`{word}` is not a thread number (1, 2, …)")),
        })
        .collect()
}

/// One decision of the current execution: which threads could run, which ran, and what the
/// search keeps there.
struct Node {
    enabled: u64,
    chosen: ThreadNumber,
    /// Threads to run here, in some execution.
    backtrack: u64,
    /// Threads run here already.
    done: u64,
    /// Threads asleep here, with the footprint of their next event.
    sleep: Vec<(ThreadNumber, Footprint)>,
    /// What the chosen thread's event touched, once it ran.
    event: Option<Footprint>,
    /// For each thread, one past the position of its last event that happens before this one.
    clock: Vec<usize>,
}

fn bit(thread: ThreadNumber) -> u64 {
    1 << thread
}

/// The search: the current execution's decisions, and where the rerun is.
#[derive(Default)]
struct Search {
    stack: Vec<Node>,
    /// Decisions taken in the current run.
    position: usize,
    /// Every change of membership conflicts with every other (an added invariant may judge
    /// several users at once).
    whole_membership: bool,
    /// A rerun found different threads able to run than the first run did.
    nondeterministic: Option<String>,
    /// A replayed schedule to follow instead of searching.
    forced: Option<Vec<ThreadNumber>>,
}

/// The search, shared with the runtime's chooser of the run under way.
#[derive(Clone)]
struct Shared(Arc<Mutex<Search>>);

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Search> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Chooser for Shared {
    fn choose(&mut self, enabled: &[ThreadNumber]) -> Option<ThreadNumber> {
        self.lock().choose(enabled)
    }

    fn executed(&mut self, thread: ThreadNumber, footprint: &Footprint) {
        self.lock().executed(thread, footprint);
    }
}

impl Search {
    fn choose(&mut self, enabled: &[ThreadNumber]) -> Option<ThreadNumber> {
        let mask = enabled.iter().fold(0, |mask, thread| mask | bit(*thread));
        let position = self.position;
        self.position += 1;
        if let Some(forced) = &self.forced {
            let thread = *forced.get(position)?;
            return enabled.contains(&thread).then_some(thread);
        }
        if let Some(node) = self.stack.get(position) {
            if node.enabled != mask {
                self.nondeterministic = Some(format!(
                    "at event {}, rerunning the same schedule, other threads could run than \
                     before: the service is not deterministic under a fixed schedule",
                    position + 1
                ));
                return None;
            }
            return Some(node.chosen);
        }
        let sleep = match self.stack.last() {
            None => Vec::new(),
            Some(parent) => {
                let event = parent.event.as_ref().expect("the parent's event ran");
                let awake = |(_, next): &&(ThreadNumber, Footprint)| !next.conflicts(event);
                parent.sleep.iter().filter(awake).cloned().collect()
            }
        };
        let asleep = sleep
            .iter()
            .fold(0, |mask, (thread, _)| mask | bit(*thread));
        // Every thread that may run is asleep: each order from here was explored already.
        let chosen = enabled.iter().copied().find(|t| asleep & bit(*t) == 0)?;
        self.stack.push(Node {
            enabled: mask,
            chosen,
            backtrack: bit(chosen),
            done: 0,
            sleep,
            event: None,
            clock: Vec::new(),
        });
        Some(chosen)
    }

    /// Whether the event at `earlier` happens before the one at `later`.
    fn happens_before(&self, earlier: usize, later: usize) -> bool {
        let thread = self.stack[earlier].chosen;
        self.stack[later].clock.get(thread).copied().unwrap_or(0) > earlier
    }

    fn executed(&mut self, thread: ThreadNumber, footprint: &Footprint) {
        if self.forced.is_some() {
            return;
        }
        let at = self.position - 1;
        debug_assert_eq!(self.stack[at].chosen, thread);
        if at + 1 < self.stack.len() {
            // A rerun of the prefix: its footprints, clocks and races are known already.
            return;
        }
        let mut footprint = footprint.clone();
        if self.whole_membership && writes_membership(&footprint) {
            footprint.add(Access::Write, Datum::TeamsOf(None));
        }
        let previous = (0..at).rev().find(|k| self.stack[*k].chosen == thread);
        let dependent: Vec<usize> = (0..at)
            .filter(|k| {
                let node = &self.stack[*k];
                node.chosen != thread
                    && node.event.as_ref().is_some_and(|e| e.conflicts(&footprint))
            })
            .collect();
        let mut clock = previous.map_or_else(Vec::new, |k| self.stack[k].clock.clone());
        for k in &dependent {
            let theirs = &self.stack[*k].clock;
            if clock.len() < theirs.len() {
                clock.resize(theirs.len(), 0);
            }
            for (mine, theirs) in clock.iter_mut().zip(theirs) {
                *mine = (*mine).max(*theirs);
            }
        }
        if clock.len() <= thread {
            clock.resize(thread + 1, 0);
        }
        clock[thread] = at + 1;
        self.stack[at].clock = clock;
        self.stack[at].event = Some(footprint);
        for &earlier in &dependent {
            let direct = !dependent
                .iter()
                .chain(previous.iter())
                .any(|&k| k > earlier && self.happens_before(earlier, k));
            if direct {
                self.reverse(earlier, at);
            }
        }
    }

    /// Makes sure some execution runs, before the event at `earlier`, a thread that starts the
    /// reversed race between it and the event at `later`.
    fn reverse(&mut self, earlier: usize, later: usize) {
        let thread = self.stack[later].chosen;
        // v: the events after `earlier` that do not happen after it, then the later event.
        let v: Vec<usize> = (earlier + 1..later)
            .filter(|k| !self.happens_before(earlier, *k))
            .chain(std::iter::once(later))
            .collect();
        let mut initials = 0u64;
        let mut seen = 0u64;
        for (index, &k) in v.iter().enumerate() {
            let runs = self.stack[k].chosen;
            if seen & bit(runs) != 0 {
                continue;
            }
            seen |= bit(runs);
            if v[..index].iter().all(|&j| !self.happens_before(j, k)) {
                initials |= bit(runs);
            }
        }
        // The later event's thread cannot run there and nothing before it in v is its own:
        // the earlier event enabled it (a lock freed, a write it waited for), no race to reverse.
        let own_before = v[..v.len() - 1]
            .iter()
            .any(|&k| self.stack[k].chosen == thread);
        let node = &mut self.stack[earlier];
        let node_enabled = node.enabled;
        if !own_before && node_enabled & bit(thread) == 0 {
            return;
        }
        if initials & node.backtrack != 0 {
            return;
        }
        let startable = initials & node_enabled;
        node.backtrack |= match startable {
            0 => node_enabled,
            _ => startable & startable.wrapping_neg(),
        };
    }

    /// Moves to the next execution to explore; `false` when there is none.
    fn advance(&mut self) -> bool {
        self.position = 0;
        while let Some(node) = self.stack.last_mut() {
            node.done |= bit(node.chosen);
            if let Some(event) = node.event.take() {
                node.sleep.push((node.chosen, event));
            }
            let asleep = node.sleep.iter().fold(0, |mask, (t, _)| mask | bit(*t));
            let next = node.backtrack & node.enabled & !node.done & !asleep;
            if next != 0 {
                node.chosen = next.trailing_zeros() as ThreadNumber;
                node.clock.clear();
                return true;
            }
            self.stack.pop();
        }
        false
    }

    /// The threads of the current execution's events, in order.
    fn schedule(&self) -> Vec<ThreadNumber> {
        self.stack.iter().map(|node| node.chosen).collect()
    }

    /// The bytes the search keeps now.
    fn bytes(&self) -> u64 {
        let node = std::mem::size_of::<Node>() as u64;
        self.stack
            .iter()
            .map(|n| node + 64 * (n.sleep.len() as u64 + 1) + 8 * n.clock.len() as u64)
            .sum()
    }
}

fn writes_membership(footprint: &Footprint) -> bool {
    footprint
        .accesses()
        .iter()
        .any(|(access, datum)| *access == Access::Write && matches!(datum, Datum::TeamsOf(_)))
}

/// Every thread of a DPOR run keeps the engine's panics quiet.
fn quiet() -> Keep {
    Arc::new(|| Box::new(EngineRun::start()))
}

/// How one execution ended.
enum Ended {
    /// It ran to the end: this is what it did.
    Ran(super::Execution),
    /// The search abandoned it (every thread that could run was asleep).
    Abandoned,
    /// It stopped: why (the threads deadlocked, the implementation panicked).
    Failed(String),
}

fn run_one<S: JoinService<Dpor>>(service: &S, scenario: &Scenario, search: &Shared) -> Ended {
    let (outcome, cut, _) = Run::run(Box::new(search.clone()), quiet(), || {
        run_once::<Dpor, S>(service, scenario, Recording::On)
    });
    match (outcome, cut) {
        (Ok(execution), None) => Ended::Ran(execution),
        (_, Some(Cut::Deadlock)) => {
            Ended::Failed("every unfinished thread waits for another: a deadlock".into())
        }
        (Err(payload), _) if !payload.is::<Abandoned>() => Ended::Failed(format!(
            "the run panicked: {}",
            panic_message(payload.as_ref())
        )),
        _ => match search.lock().nondeterministic.clone() {
            Some(why) => Ended::Failed(why),
            None => Ended::Abandoned,
        },
    }
}

/// What [`explore`] covered.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Exploration {
    /// Executions run to the end (each visited).
    pub executions: u64,
    /// Executions begun and abandoned because every thread that could run was asleep: their
    /// orders were explored already.
    pub abandoned: u64,
    /// Why the exploration stopped before covering every class, if it did.
    pub stopped: Option<String>,
}

/// Whether [`explore`] goes on after a visit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Next {
    /// On to the next execution.
    Continue,
    /// Stop here: enough is known.
    Enough,
    /// Stop here: nothing can be concluded, for this reason.
    Stop(String),
}

/// Runs one execution of every class of equivalent interleavings of `scenario`, handing each to
/// `visit` with its schedule ([`encode_schedule`]), until every class is covered, `visit` says
/// stop, or a limit of `options` is reached.
pub fn explore<S>(
    service: &S,
    scenario: &Scenario,
    options: &DporOptions,
    mut visit: impl FnMut(&super::Execution, &[usize]) -> Next,
) -> Exploration
where
    S: JoinService<Dpor>,
{
    let _quiet = EngineRun::start();
    let started = Instant::now();
    let search = Shared(Arc::new(Mutex::new(Search {
        whole_membership: !options.invariants.added().is_empty(),
        ..Search::default()
    })));
    let mut explored = Exploration {
        executions: 0,
        abandoned: 0,
        stopped: None,
    };
    loop {
        let over = options
            .max_executions
            .is_some_and(|limit| explored.executions >= limit);
        let memory = options
            .limits
            .memory
            .is_some_and(|limit| search.lock().bytes() > limit);
        let why = options.limits.reached(started).or(match (over, memory) {
            (true, _) => Some("execution limit"),
            (_, true) => Some("memory limit"),
            _ => None,
        });
        if let Some(why) = why {
            explored.stopped = Some(format!(
                "stopped by the {why} after {}",
                count(explored.executions, "execution")
            ));
            return explored;
        }
        match run_one(service, scenario, &search) {
            Ended::Ran(execution) => {
                explored.executions += 1;
                let schedule = search.lock().schedule();
                match visit(&execution, &schedule) {
                    Next::Continue => {}
                    Next::Enough => return explored,
                    Next::Stop(why) => {
                        explored.stopped = Some(why);
                        return explored;
                    }
                }
            }
            Ended::Abandoned => explored.abandoned += 1,
            Ended::Failed(why) => {
                explored.stopped = Some(format!("execution {}: {why}", explored.executions + 1));
                return explored;
            }
        }
        if !search.lock().advance() {
            return explored;
        }
    }
}

/// Explores one execution of every class of equivalent interleavings of `scenario`, judging the
/// invariants after every step of every execution. After the first violation it explores up to
/// [`SHORTENING_EXECUTIONS`] more and reports the shortest violation among them.
pub fn check<S>(
    service: S,
    scenario: &Scenario,
    options: &DporOptions,
) -> Result<Verdict, ScenarioError>
where
    S: JoinService<Dpor>,
{
    let started = Instant::now();
    let protocol = service.name();
    let mut shortest: Option<Counterexample> = None;
    let mut first_at: Option<u64> = None;
    let mut executions = 0;
    let mut not_atomic: Option<String> = None;
    let explored = explore(&service, scenario, options, |execution, schedule| {
        executions += 1;
        if let Some(reason) = execution.not_atomic() {
            not_atomic.get_or_insert_with(|| reason.to_string());
        }
        let replay = Replay::DporSchedule {
            schedule: encode_schedule(schedule),
        };
        let judged = execution.counterexample(
            protocol.clone(),
            scenario,
            &options.invariants,
            Engine::Dpor,
            replay,
        );
        match judged {
            Ok(None) => {}
            Ok(Some(found)) => {
                if shortest
                    .as_ref()
                    .is_none_or(|best| found.steps.len() < best.steps.len())
                {
                    shortest = Some(found);
                }
                first_at.get_or_insert(executions);
            }
            Err(Unjudged(why)) => {
                return Next::Stop(format!(
                    "execution {executions} cannot be judged step by step: {why}"
                ))
            }
        }
        match first_at.is_some_and(|at| executions >= at + SHORTENING_EXECUTIONS) {
            true => Next::Enough,
            false => Next::Continue,
        }
    });
    let stats = Stats {
        iterations: Some(explored.executions),
        seconds: started.elapsed().as_secs_f64(),
        ..Stats::default()
    };
    let scope = format!(
        "all interleavings of {scenario}{}, one per class of interleavings that differ only \
         in the order of operations that commute",
        options.invariants.scope()
    );
    // A violation found is a violation, whatever stopped the search afterwards.
    if let Some(counterexample) = shortest {
        return Ok(Verdict::Violated {
            engine: Engine::Dpor,
            counterexample: Box::new(counterexample),
            stats,
        });
    }
    Ok(match explored.stopped {
        None => Verdict::Holds {
            engine: Engine::Dpor,
            scope: whole_statements(scope, not_atomic.as_deref()),
            stats,
        },
        Some(why) if why.starts_with("stopped") => Verdict::Inconclusive {
            engine: Engine::Dpor,
            reason: format!("{why}, before covering {scope}"),
            stats,
        },
        Some(why) => Verdict::Inconclusive {
            engine: Engine::Dpor,
            reason: format!("{why}; nothing is proved"),
            stats,
        },
    })
}

/// Reruns `scenario` on the DPOR runtime following `schedule` ([`decode_schedule`]): the
/// execution, or why it could not be followed.
pub fn replay<S>(
    service: &S,
    scenario: &Scenario,
    schedule: &[ThreadNumber],
) -> Result<super::Execution, String>
where
    S: JoinService<Dpor>,
{
    let _quiet = EngineRun::start();
    let search = Shared(Arc::new(Mutex::new(Search {
        forced: Some(schedule.to_vec()),
        ..Search::default()
    })));
    match run_one(service, scenario, &search) {
        Ended::Ran(execution) => {
            let taken = search.lock().position;
            match taken == schedule.len() {
                true => Ok(execution),
                false => Err(format!(
                    "the schedule has {} events but the run took {taken}",
                    schedule.len()
                )),
            }
        }
        Ended::Abandoned => Err(format!(
            "the schedule could not be followed at event {}: that thread could not run there",
            search.lock().position
        )),
        Ended::Failed(why) => Err(why),
    }
}
