//! The breadth-first search: level by level, each thread expanding the states it owns and
//! handing their successors to the threads that own them.

use super::state_set::{hash, key_of, room_for, Key, Refused, StateSet};
use super::{thousands, CheckOptions};
use crate::model::ProtocolModel;
use crate::protocol::JoinProtocol;
use crate::symmetry;
use std::sync::atomic::Ordering;
use std::time::Instant;

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

/// Where a search ended.
pub(super) struct SearchEnd {
    /// Distinct states found.
    pub(super) unique: u64,
    /// States generated, duplicates included.
    pub(super) generated: u64,
    /// Levels completed (or being explored when stopped): the deepest state found.
    pub(super) depth: u64,
    /// The first level with a state that breaks the invariant; the search ends there.
    pub(super) violation_depth: Option<u64>,
    /// The first level with a state where requests are left and no action is enabled.
    pub(super) stuck_depth: Option<u64>,
    /// True when some state found has a member.
    pub(super) someone_joined: bool,
    /// The limit that stopped the search, in words.
    pub(super) stopped_by: Option<String>,
}

/// Explores `model` breadth-first, level by level, until every state is found, a level breaks
/// the invariant, or a limit of `options` stops it (checked since `started`).
pub(super) fn search<P: JoinProtocol + ?Sized>(
    model: &ProtocolModel<P>,
    options: &CheckOptions,
    started: Instant,
) -> SearchEnd {
    let search = Search {
        model,
        options,
        started,
        parts: options.threads.max(1),
    };
    if model.layout().bits() < u64::BITS {
        search.run::<u64>()
    } else {
        search.run::<u128>()
    }
}

/// One search: the model, how to run it, and how many threads (parts of the state set) share it.
struct Search<'a, P: JoinProtocol + ?Sized> {
    model: &'a ProtocolModel<P>,
    options: &'a CheckOptions,
    started: Instant,
    parts: usize,
}

impl<P: JoinProtocol + ?Sized> Search<'_, P> {
    /// The thread that owns the states with this hash.
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
            let generated = found.generated;
            for action in &actions {
                let Some(next) = model.next_state(&state, *action) else {
                    continue;
                };
                found.generated += 1;
                // The invariant is about the database alone: only a changed one can break it.
                let database_changed = next.log_len != state.log_len
                    || next.members != state.members
                    || next.tokens != state.tokens;
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
            // Stuck: requests are left and no action is enabled (one listed, such as a push
            // that waits for another server, may be refused).
            if found.generated == generated && !state.all_requests_done(sizes) {
                found.stuck = true;
            }
        }
    }

    /// Why the search must stop now, if it must. (The state limit is enforced as states are
    /// stored, by [`insert_all`].)
    fn limit_reached(&self) -> Option<String> {
        let options = self.options;
        if let Some(timeout) = options.timeout.filter(|t| self.started.elapsed() >= *t) {
            return Some(format!("the timeout ({:.1} s)", timeout.as_secs_f64()));
        }
        if options
            .stop
            .as_ref()
            .is_some_and(|stop| stop.load(Ordering::Relaxed))
        {
            return Some("the stop request".to_string());
        }
        None
    }

    /// Runs the search, storing states as `K`: the smallest key type the layout fits in.
    fn run<K: Key>(&self) -> SearchEnd {
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
        let mut so_far = SearchEnd {
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
        while so_far.violation_depth.is_none() && frontier.iter().any(|f| !f.is_empty()) {
            for (next, current) in next.iter_mut().zip(&frontier) {
                next.clear();
                if let Err(refused) = room_for(next, current.len() * 2) {
                    so_far.stopped_by = Some(refused.to_string());
                    return so_far;
                }
            }
            let rounds = frontier
                .iter()
                .map(|f| f.len().div_ceil(CHUNK))
                .max()
                .unwrap_or(0);
            let mut violation = false;
            let mut stuck = false;
            for round in 0..rounds {
                if let Some(limit) = self.limit_reached() {
                    so_far.stopped_by = Some(limit);
                    return so_far;
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
                    so_far.generated += expansion.generated;
                    violation |= expansion.violation;
                    stuck |= expansion.stuck;
                    so_far.someone_joined |= expansion.joined;
                }
                // The state limit is a limit on states stored: each part may add its share of
                // the room left, and a part that runs out of room ends the search.
                let room = self.options.max_states.map(|max| {
                    let left = max.saturating_sub(so_far.unique);
                    (left / parts as u64, left % parts as u64)
                });
                let share = |p: usize| room.map(|(each, extra)| each + u64::from(p == 0) * extra);
                let (added, unstored): (u64, Option<Unstored>) = if parts == 1 {
                    insert_all(&mut sets[0], &expansions, 0, &mut next[0], share(0))
                } else {
                    std::thread::scope(|scope| {
                        let handles: Vec<_> = sets
                            .iter_mut()
                            .zip(next.iter_mut())
                            .enumerate()
                            .map(|(p, (set, next))| {
                                let (expansions, room) = (&expansions, share(p));
                                scope.spawn(move || insert_all(set, expansions, p, next, room))
                            })
                            .collect();
                        handles
                            .into_iter()
                            .map(join)
                            .fold((0, None), |(sum, first), (n, why)| (sum + n, first.or(why)))
                    })
                };
                so_far.unique += added;
                self.report_progress(&so_far);
                if let Some(unstored) = unstored {
                    so_far.stopped_by = Some(match unstored {
                        Unstored::Full => {
                            let max = self.options.max_states.unwrap_or_default();
                            format!("the state limit ({})", thousands(max))
                        }
                        Unstored::Refused(refused) => refused.to_string(),
                    });
                    return so_far;
                }
            }
            if stuck && so_far.stuck_depth.is_none() {
                so_far.stuck_depth = Some(so_far.depth);
            }
            std::mem::swap(&mut frontier, &mut next);
            if frontier.iter().any(|f| !f.is_empty()) {
                so_far.depth += 1;
            }
            if violation {
                so_far.violation_depth = Some(so_far.depth);
            }
            self.report_progress(&so_far);
        }
        so_far
    }

    fn report_progress(&self, so_far: &SearchEnd) {
        if let Some(progress) = &self.options.progress {
            progress.publish(so_far.unique, so_far.generated, so_far.depth);
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

/// Why successors were left unstored: the search is then incomplete.
#[derive(Clone, Copy)]
enum Unstored {
    /// The state limit was reached.
    Full,
    /// The system refused memory for the set or the next level.
    Refused(Refused),
}

/// Inserts the successors owned by `part` into its set, collecting the new ones in `next`, and
/// stops once `room` new states have been added, or when the system refuses the memory to
/// store more. Returns how many were added, and why successors were left unstored, if they were.
fn insert_all<K: Key>(
    set: &mut StateSet<K>,
    expansions: &[Expansion<K>],
    part: usize,
    next: &mut Vec<K>,
    room: Option<u64>,
) -> (u64, Option<Unstored>) {
    let mut added = 0;
    for expansion in expansions {
        let keys = &expansion.by_owner[part];
        let reserved = set
            .reserve(keys.len())
            .and_then(|()| room_for(next, keys.len()));
        if let Err(refused) = reserved {
            return (added, Some(Unstored::Refused(refused)));
        }
        for (i, key) in keys.iter().enumerate() {
            if let Some(ahead) = keys.get(i + PREFETCH_AHEAD) {
                set.prefetch(hash(ahead.packed()));
            }
            if room.is_some_and(|room| added == room) {
                // Full: a state already stored costs no room, a new one ends the search.
                match set.contains(*key, hash(key.packed())) {
                    true => continue,
                    false => return (added, Some(Unstored::Full)),
                }
            }
            if set.insert(*key, hash(key.packed())) {
                next.push(*key);
                added += 1;
            }
        }
    }
    (added, None)
}

#[cfg(test)]
mod tests {
    use crate::checker::{check, CheckOptions};
    use crate::reference::sizes;
    use crate::verdict::Verdict;
    use crate::Protocol;
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;
    use std::time::Duration;

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
        assert!(reason.contains("step deep was found"), "{reason}");
        assert_eq!(stats.unique_states, Some(100));
        // With two threads each stores its share of the room, and the shares add up to the
        // room left (an odd one too): exactly the limit again.
        for limit in [99, 100, 101] {
            let two = CheckOptions::default().threads(2).max_states(limit);
            let verdict = check(Protocol::EventSourced, sizes(3, 3, 3, 1), &two);
            assert_eq!(verdict.kind(), "inconclusive");
            assert_eq!(verdict.stats().unique_states, Some(limit));
        }
        // A limit of exactly as many states as there are stops nothing; one fewer does.
        let exact = |max| CheckOptions {
            max_states: Some(max),
            ..CheckOptions::default()
        };
        let whole = check(Protocol::EventSourced, sizes(2, 1, 2, 1), &exact(31));
        assert_eq!(
            (whole.kind(), whole.stats().unique_states),
            ("holds", Some(31))
        );
        let short = check(Protocol::EventSourced, sizes(2, 1, 2, 1), &exact(30));
        assert_eq!(
            (short.kind(), short.stats().unique_states),
            ("inconclusive", Some(30))
        );
        // Also where a full table must find, past collisions, the states it already stored.
        let whole = check(Protocol::EventSourced, sizes(3, 3, 3, 1), &exact(23_311));
        assert_eq!(
            (whole.kind(), whole.stats().unique_states),
            ("holds", Some(23_311))
        );
        let Verdict::Inconclusive { reason, .. } =
            check(Protocol::EventSourced, sizes(3, 3, 3, 1), &exact(10))
        else {
            panic!("a limit of 10 stops the search")
        };
        assert_eq!(
            reason,
            "stopped by the state limit (10) after 10 distinct states (28 generated); every \
             state up to 0 steps deep was found, deeper ones were not"
        );
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
            reason.starts_with("stopped by the stop request after 1 distinct state ("),
            "{reason}"
        );
    }
}
