//! joincheck's own explicit-state model checker: breadth-first, level by level, over states
//! packed into one `u64` each (one `u128` when a state needs more than 63 bits).
//!
//! Why not stateright's checker alone: it hashes and stores full states with their paths and is
//! several times slower on these models (see the benchmark); its BFS may also return a
//! counterexample that is not the shortest, and its limits end a run as if it were complete.
//! This checker:
//!
//! - explores level by level, so the first level holding a violation gives the shortest
//!   counterexample's length; the path itself is then rebuilt deterministically as the first
//!   path of that length in action order ([`ProtocolModel::actions`]), the same on every run and
//!   for any number of threads;
//! - stores packed states in open-addressing hash sets, one per thread, each owning the states
//!   whose hash falls in its half; threads expand their own frontier and hand successors over;
//! - reports a run stopped by a state limit, a timeout or a stop request as
//!   [`Verdict::Inconclusive`], saying how far it got.
//!
//! **Properties.** `always` "a user is on at most one team" is checked on every state;
//! `sometimes` "a user joined a team" must be met by some state; `eventually` "every request
//! completes" is checked as "no reachable state has requests left and no action enabled". That
//! is a complete check of `eventually` here because every model is acyclic: the pair (events in
//! the database, Σ over servers of progress) strictly increases, lexicographically, with every
//! step, where a server's progress is `4·done` plus 0 when idle, 1 when pending at a stale
//! version, 2 when retrying, 3 when checked or pending at the current version. (A read moves an
//! idle server up, an append or act either grows the database or moves a server up, a conflict
//! moves a stale pending server to retrying, a reread moves it to pending at the current
//! version.) So every path ends, and it ends in a state with no action enabled.

use crate::action::Action;
use crate::model::ProtocolModel;
use crate::sizes::Sizes;
use crate::state::State;
use crate::symmetry;
use crate::verdict::{Counterexample, Engine, Replay, Stats, Verdict};
use crate::Protocol;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Live figures of a running check, for a CLI to show states per second, depth and so on.
///
/// The checker updates them after every round (up to 65,536 states per thread) and every level;
/// read them from any thread.
#[derive(Debug, Default)]
pub struct Progress {
    unique_states: AtomicU64,
    generated_states: AtomicU64,
    depth: AtomicU64,
}

impl Progress {
    /// Fresh counters, all zero.
    pub fn new() -> Progress {
        Progress::default()
    }

    /// Distinct states found so far.
    pub fn unique_states(&self) -> u64 {
        self.unique_states.load(Ordering::Relaxed)
    }

    /// States generated so far, duplicates included.
    pub fn generated_states(&self) -> u64 {
        self.generated_states.load(Ordering::Relaxed)
    }

    /// The level being explored: every state up to this many steps deep has been found.
    pub fn depth(&self) -> u64 {
        self.depth.load(Ordering::Relaxed)
    }
}

/// How to run a check.
#[derive(Clone, Debug)]
pub struct CheckOptions {
    /// Store one representative per orbit under permutations of servers, users and teams. The
    /// verdict is the same, the state count much smaller.
    pub symmetry: bool,
    /// Worker threads: 1 or more (0 counts as 1).
    pub threads: usize,
    /// Stop, inconclusive, once this many distinct states are stored.
    pub max_states: Option<u64>,
    /// Stop, inconclusive, after this much wall time.
    pub timeout: Option<Duration>,
    /// Stop, inconclusive, once this becomes true (wire it to Ctrl-C).
    pub stop: Option<Arc<AtomicBool>>,
    /// Counters the checker keeps up to date while it runs.
    pub progress: Option<Arc<Progress>>,
}

impl Default for CheckOptions {
    /// No symmetry, one thread, no limits.
    fn default() -> CheckOptions {
        CheckOptions {
            symmetry: false,
            threads: 1,
            max_states: None,
            timeout: None,
            stop: None,
            progress: None,
        }
    }
}

/// Everything a check found, per property.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// `always` "a user is on at most one team".
    pub verdict: Verdict,
    /// `sometimes` "a user joined a team": true when some explored state has a member.
    pub someone_joined: bool,
    /// `eventually` "every request completes": the first shortest path (as action names) to a
    /// state where requests are left but no action is enabled, if one was found.
    pub stuck: Option<Vec<String>>,
}

/// Checks `protocol` at `sizes`: holds, violated (with the shortest counterexample) or
/// inconclusive.
///
/// The verdict is about "a user is on at most one team". If the exploration was complete and the
/// invariant held, but "every request completes" or "a user joined a team" failed, the verdict is
/// [`Verdict::Inconclusive`] and says so: the proof would be vacuous or the model broken.
pub fn check(protocol: Protocol, sizes: Sizes, options: &CheckOptions) -> Verdict {
    let report = check_report(protocol, sizes, options);
    match report.verdict {
        Verdict::Holds { engine, stats, .. }
            if report.stuck.is_some() || !report.someone_joined =>
        {
            let reason = match &report.stuck {
                Some(path) => format!(
                    "the invariant held in every state, but \"every request completes\" fails: \
                     after {} no action is enabled and requests are left",
                    path.join(", ")
                ),
                None => "the invariant held in every state, but no user ever joined a team: \
                         the check is vacuous"
                    .to_string(),
            };
            Verdict::Inconclusive {
                engine,
                reason,
                stats,
            }
        }
        verdict => verdict,
    }
}

/// Like [`check`], with the outcome of every property.
///
/// Sizes built field by field and invalid give an inconclusive verdict that says why.
pub fn check_report(protocol: Protocol, sizes: Sizes, options: &CheckOptions) -> Report {
    let started = Instant::now();
    let model = match ProtocolModel::try_new(protocol, sizes) {
        Ok(model) => model,
        Err(error) => {
            return Report {
                verdict: Verdict::Inconclusive {
                    engine: Engine::Model,
                    reason: format!("nothing was checked: {error}"),
                    stats: Stats::default(),
                },
                someone_joined: false,
                stuck: None,
            }
        }
    };
    let search = Search::new(&model, options, started);
    let outcome = search.run();
    let stats = Stats {
        unique_states: Some(outcome.unique),
        generated_states: Some(outcome.generated),
        max_depth: Some(outcome.depth),
        iterations: None,
        seconds: started.elapsed().as_secs_f64(),
    };
    let engine = Engine::Model;
    let stuck = outcome.stuck_depth.map(|depth| {
        let path = first_path(&model, options.symmetry, depth, |state| {
            state_is_stuck(&model, state)
        });
        path.unwrap_or_default()
            .iter()
            .map(ToString::to_string)
            .collect()
    });
    let verdict = if let Some(depth) = outcome.violation_depth {
        let path = first_path(&model, options.symmetry, depth, State::breaks_invariant);
        match path.and_then(|path| counterexample(&model, &path)) {
            Some(counterexample) => Verdict::Violated {
                engine,
                counterexample: Box::new(counterexample),
                stats,
            },
            // The search and the path search walk the same transitions; this is a bug if seen.
            None => Verdict::Inconclusive {
                engine,
                reason: format!(
                    "the invariant breaks {depth} steps in, but no path of that length could be \
                     rebuilt: a bug in joincheck's checker, please report it"
                ),
                stats,
            },
        }
    } else if let Some(limit) = outcome.stopped_by {
        Verdict::Inconclusive {
            engine,
            reason: format!(
                "stopped by {limit} after {} distinct state{} ({} generated); every state up to \
                 {} steps deep was found, deeper ones were not",
                thousands(outcome.unique),
                if outcome.unique == 1 { "" } else { "s" },
                thousands(outcome.generated),
                outcome.depth
            ),
            stats,
        }
    } else {
        let mut scope = format!("all interleavings of {}", sizes.scope());
        if options.symmetry {
            scope.push_str(" up to symmetry of servers, users and teams");
        }
        Verdict::Holds {
            engine,
            scope,
            stats,
        }
    };
    Report {
        verdict,
        someone_joined: outcome.someone_joined,
        stuck,
    }
}

/// Re-executes a [`Replay::ModelPath`]'s actions on `protocol` at `sizes`, returning the steps.
pub fn replay(
    protocol: Protocol,
    sizes: Sizes,
    actions: &[String],
) -> Result<Vec<crate::operation::Step>, crate::model::ReplayError> {
    ProtocolModel::try_new(protocol, sizes)
        .map_err(crate::model::ReplayError::InvalidSizes)?
        .replay(actions)
}

/// `1234567` as `1,234,567`: how every report writes large figures.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

fn state_is_stuck(model: &ProtocolModel, state: &State) -> bool {
    let mut actions = Vec::new();
    model.actions(state, &mut actions);
    actions.is_empty() && !state.all_requests_done(model.sizes())
}

/// The counterexample of a path from the initial state, if its last state breaks the invariant.
fn counterexample(model: &ProtocolModel, path: &[Action]) -> Option<Counterexample> {
    let mut state = model.initial_state();
    let mut steps = Vec::with_capacity(path.len());
    for action in path {
        let (step, next) = model.step(&state, *action)?;
        steps.push(step);
        state = next;
    }
    let violation = state.violation()?;
    Some(Counterexample {
        protocol: model.protocol().name().to_string(),
        parameters: model.sizes().to_string(),
        engine: Engine::Model,
        steps,
        violation,
        replay: Replay::ModelPath {
            sizes: model.sizes().as_array(),
            actions: path.iter().map(ToString::to_string).collect(),
        },
    })
}

/// The first path of exactly `depth` actions, in action order, that ends in a state meeting
/// `target`, if there is one. With `depth` the smallest depth at which `target` is met,
/// this is the shortest such path, and the same on every run.
fn first_path(
    model: &ProtocolModel,
    symmetry: bool,
    depth: u64,
    target: impl Fn(&State) -> bool,
) -> Option<Vec<Action>> {
    struct Dfs<'a, T> {
        model: &'a ProtocolModel,
        symmetry: bool,
        target: T,
        /// States known not to reach `target` within this many steps (keyed by representative:
        /// reaching `target` is the same for a whole orbit).
        dead_ends: HashMap<u128, u64>,
        path: Vec<Action>,
    }
    impl<T: Fn(&State) -> bool> Dfs<'_, T> {
        fn search(&mut self, state: &State, remaining: u64) -> bool {
            if remaining == 0 {
                return (self.target)(state);
            }
            let mut actions = Vec::new();
            self.model.actions(state, &mut actions);
            for action in actions {
                let Some(next) = self.model.next_state(state, action) else {
                    continue;
                };
                let key = key_of(self.model, self.symmetry, &next);
                if self
                    .dead_ends
                    .get(&key)
                    .is_some_and(|r| *r >= remaining - 1)
                {
                    continue;
                }
                self.path.push(action);
                if self.search(&next, remaining - 1) {
                    return true;
                }
                self.path.pop();
                let entry = self.dead_ends.entry(key).or_insert(0);
                *entry = (*entry).max(remaining - 1);
            }
            false
        }
    }
    let mut dfs = Dfs {
        model,
        symmetry,
        target,
        dead_ends: HashMap::new(),
        path: Vec::new(),
    };
    let initial = model.initial_state();
    dfs.search(&initial, depth).then_some(dfs.path)
}

/// The packed state the checker stores: the canonical representative under symmetry, or the
/// state itself.
fn key_of(model: &ProtocolModel, symmetry: bool, state: &State) -> u128 {
    if symmetry {
        symmetry::canonical(model, state)
    } else {
        model.layout().pack(state)
    }
}

/// A packed state as the hash set stores it: `u64` when the layout fits 63 bits (half the
/// memory traffic, the cost that dominates), `u128` otherwise. The top bit marks an occupied
/// slot, so an empty slot is all zeros.
trait Key: Copy + Eq + Send + Sync + 'static {
    /// An empty slot.
    const EMPTY: Self;
    /// `packed` (which fits) with the occupied bit set.
    fn occupied(packed: u128) -> Self;
    /// The packed state of an occupied slot.
    fn packed(self) -> u128;
}

impl Key for u64 {
    const EMPTY: u64 = 0;
    fn occupied(packed: u128) -> u64 {
        packed as u64 | 1 << 63
    }
    fn packed(self) -> u128 {
        u128::from(self & !(1 << 63))
    }
}

impl Key for u128 {
    const EMPTY: u128 = 0;
    fn occupied(packed: u128) -> u128 {
        packed | 1 << 127
    }
    fn packed(self) -> u128 {
        self & !(1 << 127)
    }
}

/// Mixes a packed state into a 64-bit hash (a multiply-xorshift finaliser).
fn hash(key: u128) -> u64 {
    let mut x = (key as u64) ^ ((key >> 64) as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 33;
    x = x.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    x ^= x >> 33;
    x = x.wrapping_mul(0xC4CE_B9FE_1A85_EC53);
    x ^ (x >> 33)
}

/// An open-addressing (linear probing) set of packed states, at most half full.
struct StateSet<K> {
    slots: Vec<K>,
    len: usize,
}

impl<K: Key> StateSet<K> {
    fn new() -> StateSet<K> {
        StateSet {
            slots: vec![K::EMPTY; 1 << 12],
            len: 0,
        }
    }

    /// Makes room for `more` keys, so that inserting them never grows the table (and the slots
    /// prefetched stay the right ones).
    fn reserve(&mut self, more: usize) {
        while (self.len + more) * 2 > self.slots.len() {
            self.grow();
        }
    }

    /// Asks the CPU to fetch the slot `hash` starts probing at: inserting is a random memory
    /// access, the cost that dominates the search.
    fn prefetch(&self, hash: u64) {
        let slot = &self.slots[hash as usize & (self.slots.len() - 1)];
        #[cfg(target_arch = "x86_64")]
        // SAFETY: a prefetch is a hint; it never faults, and the address is a valid slot.
        unsafe {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            _mm_prefetch::<_MM_HINT_T0>((slot as *const K).cast::<i8>());
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = slot;
    }

    /// Adds `key` (an occupied slot value); true when it was not there yet. Call
    /// [`StateSet::reserve`] first.
    fn insert(&mut self, key: K, hash: u64) -> bool {
        let mask = self.slots.len() - 1;
        let mut i = hash as usize & mask;
        loop {
            let slot = self.slots[i];
            if slot == K::EMPTY {
                self.slots[i] = key;
                self.len += 1;
                return true;
            }
            if slot == key {
                return false;
            }
            i = (i + 1) & mask;
        }
    }

    fn grow(&mut self) {
        let doubled = vec![K::EMPTY; self.slots.len() * 2];
        let old = std::mem::replace(&mut self.slots, doubled);
        let mask = self.slots.len() - 1;
        for key in old.into_iter().filter(|slot| *slot != K::EMPTY) {
            let mut i = hash(key.packed()) as usize & mask;
            while self.slots[i] != K::EMPTY {
                i = (i + 1) & mask;
            }
            self.slots[i] = key;
        }
    }
}

/// States a thread expands before the threads hand successors over (and limits are checked).
const CHUNK: usize = 1 << 16;

/// What one thread found while expanding a chunk.
struct Expansion<K> {
    /// Successors, by the thread that owns them.
    by_owner: Vec<Vec<K>>,
    generated: u64,
    violation: bool,
    joined: bool,
    stuck: bool,
}

struct Search<'a> {
    model: &'a ProtocolModel,
    options: &'a CheckOptions,
    started: Instant,
    parts: usize,
}

/// Where a search ended.
struct Outcome {
    unique: u64,
    generated: u64,
    /// Levels completed (or being explored when stopped): the deepest state found.
    depth: u64,
    violation_depth: Option<u64>,
    stuck_depth: Option<u64>,
    someone_joined: bool,
    /// The limit that stopped the search, in words.
    stopped_by: Option<String>,
}

impl<'a> Search<'a> {
    fn new(model: &'a ProtocolModel, options: &'a CheckOptions, started: Instant) -> Search<'a> {
        Search {
            model,
            options,
            started,
            parts: options.threads.max(1),
        }
    }

    fn owner(&self, hash: u64) -> usize {
        ((u128::from(hash) * self.parts as u128) >> 64) as usize
    }

    /// Expands `states` into `found` (cleared first), sorting successors by owner.
    fn expand<K: Key>(&self, states: &[K], found: &mut Expansion<K>) {
        let model = self.model;
        let layout = model.layout();
        let sizes = model.sizes();
        found.by_owner.resize_with(self.parts, Vec::new);
        found.by_owner.iter_mut().for_each(Vec::clear);
        found.generated = 0;
        found.violation = false;
        found.joined = false;
        found.stuck = false;
        let mut actions = Vec::new();
        for slot in states {
            let packed = slot.packed();
            let state = layout.unpack(packed);
            actions.clear();
            model.actions(&state, &mut actions);
            if actions.is_empty() && !state.all_requests_done(sizes) {
                found.stuck = true;
            }
            for action in &actions {
                let Some((next, _)) = model.apply(&state, *action) else {
                    continue;
                };
                found.generated += 1;
                // The invariant is about the database alone: only a changed one can break it.
                let database_changed =
                    next.log_len != state.log_len || next.members != state.members;
                if database_changed {
                    found.violation |= next.breaks_invariant();
                    found.joined |= next.someone_joined();
                }
                let key = if self.options.symmetry {
                    symmetry::canonical(model, &next)
                } else {
                    let index = usize::from(action.server().0);
                    let key = layout.with_server(packed, index, &next.servers[index]);
                    if database_changed {
                        layout.with_shared(key, &next)
                    } else {
                        key
                    }
                };
                let owner = self.owner(hash(key));
                found.by_owner[owner].push(K::occupied(key));
            }
        }
    }

    /// Why the search must stop now, if it must.
    fn limit_reached(&self, unique: u64) -> Option<String> {
        let options = self.options;
        if let Some(max) = options.max_states.filter(|max| unique >= *max) {
            return Some(format!("the state limit ({})", thousands(max)));
        }
        if let Some(timeout) = options.timeout.filter(|t| self.started.elapsed() >= *t) {
            return Some(format!("the timeout ({:.1} s)", timeout.as_secs_f64()));
        }
        if options
            .stop
            .as_ref()
            .is_some_and(|stop| stop.load(Ordering::Relaxed))
        {
            return Some("a stop request".to_string());
        }
        None
    }

    /// Runs the search with the smallest key type the layout fits in.
    fn run(&self) -> Outcome {
        if self.model.layout().bits() < u64::BITS {
            self.run_with::<u64>()
        } else {
            self.run_with::<u128>()
        }
    }

    fn run_with<K: Key>(&self) -> Outcome {
        let parts = self.parts;
        let mut sets: Vec<StateSet<K>> = (0..parts).map(|_| StateSet::new()).collect();
        let mut frontier: Vec<Vec<K>> = vec![Vec::new(); parts];
        // Reused from round to round: fresh large buffers would cost a page fault per page.
        let mut expansions: Vec<Expansion<K>> = (0..parts)
            .map(|_| Expansion {
                by_owner: Vec::new(),
                generated: 0,
                violation: false,
                joined: false,
                stuck: false,
            })
            .collect();
        let initial = self.model.initial_state();
        let packed = key_of(self.model, self.options.symmetry, &initial);
        let owner = self.owner(hash(packed));
        sets[owner].insert(K::occupied(packed), hash(packed));
        frontier[owner].push(K::occupied(packed));
        let mut outcome = Outcome {
            unique: 1,
            generated: 1,
            depth: 0,
            violation_depth: initial.breaks_invariant().then_some(0),
            stuck_depth: None,
            someone_joined: initial.someone_joined(),
            stopped_by: None,
        };
        // The next level, kept from level to level like the round buffers: with two threads,
        // freeing and faulting in big buffers also costs TLB shootdowns.
        let mut next: Vec<Vec<K>> = vec![Vec::new(); parts];
        while outcome.violation_depth.is_none() && frontier.iter().any(|f| !f.is_empty()) {
            for (next, current) in next.iter_mut().zip(&frontier) {
                next.clear();
                next.reserve(current.len() * 2);
            }
            let rounds = frontier
                .iter()
                .map(|f| f.len().div_ceil(CHUNK))
                .max()
                .unwrap_or(0);
            let mut violation = false;
            let mut stuck = false;
            for round in 0..rounds {
                if let Some(limit) = self.limit_reached(outcome.unique) {
                    outcome.stopped_by = Some(limit);
                    return outcome;
                }
                let chunk = |p: usize| {
                    let states = &frontier[p];
                    let start = (round * CHUNK).min(states.len());
                    &states[start..(start + CHUNK).min(states.len())]
                };
                if parts == 1 {
                    self.expand(chunk(0), &mut expansions[0]);
                } else {
                    std::thread::scope(|scope| {
                        for (p, found) in expansions.iter_mut().enumerate() {
                            let states = chunk(p);
                            scope.spawn(move || self.expand(states, found));
                        }
                    });
                }
                for expansion in &expansions {
                    outcome.generated += expansion.generated;
                    violation |= expansion.violation;
                    stuck |= expansion.stuck;
                    outcome.someone_joined |= expansion.joined;
                }
                let added: u64 = if parts == 1 {
                    insert_all(&mut sets[0], &expansions, 0, &mut next[0])
                } else {
                    std::thread::scope(|scope| {
                        let handles: Vec<_> = sets
                            .iter_mut()
                            .zip(next.iter_mut())
                            .enumerate()
                            .map(|(p, (set, next))| {
                                let expansions = &expansions;
                                scope.spawn(move || insert_all(set, expansions, p, next))
                            })
                            .collect();
                        handles.into_iter().map(join).sum()
                    })
                };
                outcome.unique += added;
                self.report_progress(&outcome);
            }
            if stuck && outcome.stuck_depth.is_none() {
                outcome.stuck_depth = Some(outcome.depth);
            }
            std::mem::swap(&mut frontier, &mut next);
            if frontier.iter().any(|f| !f.is_empty()) {
                outcome.depth += 1;
            }
            if violation {
                outcome.violation_depth = Some(outcome.depth);
            }
            self.report_progress(&outcome);
        }
        outcome
    }

    fn report_progress(&self, outcome: &Outcome) {
        if let Some(progress) = &self.options.progress {
            progress
                .unique_states
                .store(outcome.unique, Ordering::Relaxed);
            progress
                .generated_states
                .store(outcome.generated, Ordering::Relaxed);
            progress.depth.store(outcome.depth, Ordering::Relaxed);
        }
    }
}

/// Joins a worker, passing its panic on (a worker only panics on a bug in the checker).
fn join<T>(handle: std::thread::ScopedJoinHandle<'_, T>) -> T {
    match handle.join() {
        Ok(value) => value,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// How many keys ahead [`insert_all`] prefetches the hash slot: enough to hide a memory access.
const PREFETCH_AHEAD: usize = 16;

/// Inserts the successors owned by `part` into its set, collecting the new ones in `next`.
fn insert_all<K: Key>(
    set: &mut StateSet<K>,
    expansions: &[Expansion<K>],
    part: usize,
    next: &mut Vec<K>,
) -> u64 {
    let mut added = 0;
    for expansion in expansions {
        let keys = &expansion.by_owner[part];
        set.reserve(keys.len());
        for (i, key) in keys.iter().enumerate() {
            if let Some(ahead) = keys.get(i + PREFETCH_AHEAD) {
                set.prefetch(hash(ahead.packed()));
            }
            if set.insert(*key, hash(key.packed())) {
                next.push(*key);
                added += 1;
            }
        }
    }
    added
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::{reachable, small_grid};
    use crate::state::Phase;

    fn sizes(s: u8, u: u8, t: u8, n: u8) -> Sizes {
        Sizes::new(s, u, t, n).unwrap()
    }

    #[test]
    fn a_proof_states_its_scope_and_figures() {
        let verdict = check(
            Protocol::EventSourced,
            sizes(3, 3, 3, 1),
            &CheckOptions::default(),
        );
        let Verdict::Holds { scope, stats, .. } = &verdict else {
            panic!("{verdict:?}")
        };
        assert_eq!(
            scope,
            "all interleavings of 3 servers × 3 users × 3 teams × 1 request each"
        );
        let all = reachable(Protocol::EventSourced, sizes(3, 3, 3, 1)).len() as u64;
        assert_eq!(stats.unique_states, Some(all));
        assert!(stats.generated_states > stats.unique_states);
        let reduced = CheckOptions {
            symmetry: true,
            ..CheckOptions::default()
        };
        let Verdict::Holds { scope, .. } =
            check(Protocol::EventSourced, sizes(2, 1, 1, 2), &reduced)
        else {
            panic!("event sourcing holds")
        };
        assert_eq!(
            scope,
            "all interleavings of 2 servers × 1 user × 1 team × 2 requests each up to symmetry \
             of servers, users and teams"
        );
    }

    #[test]
    fn two_threads_find_the_same_states_and_the_same_counterexample() {
        for protocol in Protocol::ALL {
            for sizes in [sizes(3, 3, 3, 1), sizes(2, 2, 2, 2), sizes(3, 2, 2, 2)] {
                for symmetry in [false, true] {
                    let one = CheckOptions {
                        symmetry,
                        ..CheckOptions::default()
                    };
                    let two = CheckOptions {
                        threads: 2,
                        ..one.clone()
                    };
                    let (a, b) = (check(protocol, sizes, &one), check(protocol, sizes, &two));
                    assert_eq!(a.kind(), b.kind());
                    assert_eq!(a.stats().unique_states, b.stats().unique_states);
                    assert_eq!(a.stats().generated_states, b.stats().generated_states);
                    assert_eq!(
                        a.counterexample().map(|c| &c.steps),
                        b.counterexample().map(|c| &c.steps)
                    );
                }
            }
        }
    }

    #[test]
    fn a_state_limit_is_inconclusive_and_says_how_far_it_got() {
        let options = CheckOptions {
            max_states: Some(100),
            ..CheckOptions::default()
        };
        let verdict = check(Protocol::EventSourced, sizes(3, 3, 3, 1), &options);
        let Verdict::Inconclusive { reason, stats, .. } = &verdict else {
            panic!("{verdict:?}")
        };
        assert!(
            reason.starts_with("stopped by the state limit (100) after "),
            "{reason}"
        );
        assert!(reason.contains("steps deep was found"), "{reason}");
        assert!(stats.unique_states.unwrap() >= 100);
    }

    #[test]
    fn a_timeout_or_a_stop_request_is_inconclusive() {
        let options = CheckOptions {
            timeout: Some(Duration::ZERO),
            ..CheckOptions::default()
        };
        let verdict = check(Protocol::EventSourced, sizes(2, 2, 2, 2), &options);
        let Verdict::Inconclusive { reason, .. } = verdict else {
            panic!("a zero timeout cannot prove anything")
        };
        assert!(
            reason.starts_with("stopped by the timeout (0.0 s)"),
            "{reason}"
        );
        let stop = Arc::new(AtomicBool::new(true));
        let options = CheckOptions {
            stop: Some(stop),
            threads: 2,
            ..CheckOptions::default()
        };
        let verdict = check(Protocol::Naive, sizes(2, 2, 2, 2), &options);
        let Verdict::Inconclusive { reason, .. } = verdict else {
            panic!("stopped before the first level")
        };
        assert!(
            reason.starts_with("stopped by a stop request after 1 distinct state ("),
            "{reason}"
        );
    }

    #[test]
    fn progress_counters_follow_the_search() {
        let progress = Arc::new(Progress::new());
        let options = CheckOptions {
            progress: Some(progress.clone()),
            ..CheckOptions::default()
        };
        let verdict = check(Protocol::EventSourced, sizes(2, 2, 2, 2), &options);
        assert_eq!(
            Some(progress.unique_states()),
            verdict.stats().unique_states
        );
        assert_eq!(
            Some(progress.generated_states()),
            verdict.stats().generated_states
        );
        assert_eq!(Some(progress.depth()), verdict.stats().max_depth);
    }

    #[test]
    fn every_property_is_reported() {
        for protocol in Protocol::ALL {
            let report = check_report(protocol, sizes(2, 2, 2, 2), &CheckOptions::default());
            assert!(report.someone_joined, "{protocol}");
            assert_eq!(report.stuck, None, "{protocol}");
        }
    }

    /// The progress measure of the module docs.
    fn measure(model: &ProtocolModel, state: &State) -> (usize, u32) {
        let database = state.log_len as usize
            + state
                .members
                .iter()
                .map(|m| m.count_ones() as usize)
                .sum::<usize>();
        let progress = state
            .servers(model.sizes())
            .iter()
            .map(|server| {
                let current = match model.protocol() {
                    Protocol::EventSourcedPerUser => state
                        .log_entries()
                        .iter()
                        .filter(|(user, _)| *user == server.user)
                        .count() as u8,
                    _ => state.log_len,
                };
                let phase = match server.phase {
                    Phase::Idle => 0,
                    Phase::Pending if server.version != current => 1,
                    Phase::Retrying => 2,
                    Phase::Checked | Phase::Pending => 3,
                };
                4 * u32::from(server.done) + phase
            })
            .sum();
        (database, progress)
    }

    /// Why `eventually` is sound here: every step strictly increases the measure, so there are
    /// no cycles, and every maximal path ends in a state with all requests done.
    #[test]
    fn every_step_strictly_increases_the_progress_measure() {
        for protocol in Protocol::ALL {
            for sizes in small_grid() {
                let model = ProtocolModel::new(protocol, sizes);
                for state in reachable(protocol, sizes) {
                    let successors = model.successors(&state);
                    if successors.is_empty() {
                        assert!(state.all_requests_done(sizes), "{protocol} {sizes}: stuck");
                    }
                    for (action, _, next) in successors {
                        assert!(
                            measure(&model, &next) > measure(&model, &state),
                            "{protocol} {sizes}: {action} does not progress"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn replay_refuses_unknown_or_disabled_actions() {
        let sizes = sizes(2, 1, 2, 1);
        let unknown = replay(Protocol::Naive, sizes, &["server-1 dance".to_string()]).unwrap_err();
        assert!(unknown
            .to_string()
            .starts_with("step 1: `server-1 dance` is not an action"));
        let disabled = replay(
            Protocol::EventSourced,
            sizes,
            &["server-1 append".to_string()],
        )
        .unwrap_err();
        assert_eq!(
            disabled.to_string(),
            "step 1: `server-1 append` is not enabled here; enabled: server-1 read sue → team-A, \
             server-1 read sue → team-B, server-2 read sue → team-A, server-2 read sue → team-B"
        );
        let wrong_protocol = replay(
            Protocol::EventSourced,
            sizes,
            &["server-1 check sue → team-A".to_string()],
        );
        assert!(matches!(
            wrong_protocol,
            Err(crate::model::ReplayError::NotEnabled { index: 0, .. })
        ));
        let no_such_server = replay(
            Protocol::Naive,
            sizes,
            &["server-3 check sue → team-A".to_string()],
        );
        assert!(no_such_server.is_err());
    }

    #[test]
    fn invalid_hand_made_sizes_are_errors_not_panics() {
        let sizes = Sizes {
            servers: 9,
            users: 1,
            teams: 1,
            requests: 1,
        };
        let verdict = check(Protocol::Naive, sizes, &CheckOptions::default());
        let Verdict::Inconclusive { reason, .. } = verdict else {
            panic!("nothing can be checked")
        };
        assert_eq!(
            reason,
            "nothing was checked: servers = 9 is above the limit of 8"
        );
        let error = replay(Protocol::Naive, sizes, &[]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "cannot replay: servers = 9 is above the limit of 8"
        );
    }

    #[test]
    fn figures_read_with_thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_799_380), "1,799,380");
    }
}
