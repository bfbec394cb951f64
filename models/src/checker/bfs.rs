//! The breadth-first search: level by level. The states are stored in parts, each part owning
//! the states whose hash falls in it; each level is explored in rounds, and each round in two
//! phases that any free thread takes work from: expanding slices of the frontier, sorting each
//! successor by its part, and then storing each part's successors in that part. A thread the
//! system pauses (the machine is shared) holds the others up by one slice or one part, not by
//! half a level.

use super::insert::{insert_all, Unstored};
use super::state_set::{hash, key_of, room_for, Key, StateSet};
use super::{thousands, CheckOptions};
use crate::model::ProtocolModel;
use crate::protocol::JoinProtocol;
use crate::symmetry;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// States in one slice: one piece of expansion work.
const SLICE: usize = 1 << 13;

/// Slices per thread expanded in a round, before their successors are stored (and limits are
/// checked): the round's buffers stay small, and each thread has work for several turns.
const SLICES_PER_THREAD: usize = 8;

/// At most this many slices a round, whatever the threads: each slice's buffer has a list per
/// part, and hundreds of threads must not make that millions of lists.
const MAX_SLICES_PER_ROUND: usize = 256;

/// Parts per thread when several threads share the work: enough that one part is a small turn.
const PARTS_PER_THREAD: usize = 8;

/// Slots a part's table starts with.
const FIRST_SLOTS: usize = 1 << 10;

/// What expanding one slice found. Each thread writes its own, on cache lines of its own (two
/// threads writing values that share a line take the line from each other at every write).
#[repr(align(128))]
pub(super) struct Expansion<K> {
    /// Successors in the order found, then sorted by the part that owns them into `by_part`.
    found: Vec<K>,
    /// The successors, part by part: part `p`'s are `by_part[starts[p]..starts[p + 1]]`.
    pub(super) by_part: Vec<K>,
    pub(super) starts: Vec<usize>,
    generated: u64,
    violation: bool,
    joined: bool,
    stuck: bool,
}

impl<K> Expansion<K> {
    fn new() -> Expansion<K> {
        Expansion {
            found: Vec::new(),
            by_part: Vec::new(),
            starts: Vec::new(),
            generated: 0,
            violation: false,
            joined: false,
            stuck: false,
        }
    }
}

/// One part of the state set, with the states new to it in this level. Each thread stores into
/// its own, on cache lines of its own.
#[repr(align(128))]
struct Part<K> {
    set: StateSet<K>,
    next: Vec<K>,
    /// What storing this round's successors gave: states added, and why some were left unstored.
    stored: (u64, Option<Unstored>),
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
    let threads = options.threads.max(1);
    let search = Search {
        model,
        options,
        started,
        threads,
        parts: match threads {
            1 => 1,
            _ => threads.saturating_mul(PARTS_PER_THREAD).min(1 << 10),
        },
    };
    if model.layout().bits() < u64::BITS {
        search.run::<u64>()
    } else {
        search.run::<u128>()
    }
}

/// One search: the model, how to run it, its threads, and how many parts the state set has.
struct Search<'a, P: JoinProtocol + ?Sized> {
    model: &'a ProtocolModel<P>,
    options: &'a CheckOptions,
    started: Instant,
    threads: usize,
    parts: usize,
}

/// Runs `work` on each of `items` items, `threads` at a time (the caller's thread among them),
/// each thread taking the next item left as it becomes free.
fn share_out<T: Send>(threads: usize, items: &mut [T], work: impl Fn(&mut T) + Sync) {
    if threads <= 1 || items.len() <= 1 {
        items.iter_mut().for_each(work);
        return;
    }
    let taken = AtomicUsize::new(0);
    let items: Vec<Mutex<&mut T>> = items.iter_mut().map(Mutex::new).collect();
    let worker = || {
        while let Some(item) = items.get(taken.fetch_add(1, Ordering::Relaxed)) {
            // Each item is taken once: its lock is never contended, and never poisoned (a
            // panic ends the whole search).
            work(&mut item.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
        }
    };
    std::thread::scope(|scope| {
        for _ in 1..threads.min(items.len()) {
            scope.spawn(worker);
        }
        worker();
    });
}

impl<P: JoinProtocol + ?Sized> Search<'_, P> {
    /// The part that owns `key` (an occupied slot): a multiplicative hash, cheaper than the
    /// table's (which needs its low bits mixed, this only its high ones).
    fn part_of<K: Key>(&self, key: K) -> usize {
        let packed = key.packed();
        let mixed = (packed as u64 ^ (packed >> 64) as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        ((u128::from(mixed) * self.parts as u128) >> 64) as usize
    }

    /// Expands `states` into `found` (cleared first), sorting successors by part.
    fn expand<K: Key>(&self, states: &[K], found: &mut Expansion<K>) {
        let model = self.model;
        let layout = model.layout();
        let sizes = model.sizes();
        found.found.clear();
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
                found.found.push(K::occupied(key));
            }
            // Stuck: requests are left and no action is enabled (one listed, such as a push
            // that waits for another server, may be refused).
            if found.generated == generated && !state.all_requests_done(sizes) {
                found.stuck = true;
            }
        }
        self.sort_by_part(found);
    }

    /// Sorts a slice's successors by part (a counting sort, in two tight passes: sorting them
    /// one by one as they are found, into a list per part, made the expansion a third slower).
    fn sort_by_part<K: Key>(&self, expansion: &mut Expansion<K>) {
        let Expansion {
            found,
            by_part,
            starts,
            ..
        } = expansion;
        starts.clear();
        starts.resize(self.parts + 1, 0);
        if self.parts == 1 {
            starts[1] = found.len();
            std::mem::swap(found, by_part);
            return;
        }
        for key in found.iter() {
            starts[self.part_of(*key) + 1] += 1;
        }
        for part in 1..=self.parts {
            starts[part] += starts[part - 1];
        }
        by_part.clear();
        by_part.resize(found.len(), K::EMPTY);
        let mut next = starts.clone();
        for key in found.iter() {
            let at = &mut next[self.part_of(*key)];
            by_part[*at] = *key;
            *at += 1;
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
        let mut so_far = SearchEnd {
            unique: 0,
            generated: 1,
            depth: 0,
            violation_depth: None,
            stuck_depth: None,
            someone_joined: false,
            stopped_by: None,
        };
        let mut parts = Vec::new();
        for _ in 0..self.parts {
            match StateSet::with_slots(FIRST_SLOTS) {
                Ok(set) => parts.push(Part {
                    set,
                    next: Vec::new(),
                    stored: (0, None),
                }),
                Err(refused) => {
                    so_far.stopped_by = Some(refused.to_string());
                    return so_far;
                }
            }
        }
        let mut frontier: Vec<Vec<K>> = vec![Vec::new(); self.parts];
        let initial = self.model.initial_state();
        let packed = key_of(self.model, self.options.symmetry, &initial);
        let part = self.part_of(K::occupied(packed));
        parts[part].set.insert(K::occupied(packed), hash(packed));
        frontier[part].push(K::occupied(packed));
        so_far.unique = 1;
        so_far.violation_depth = initial.breaks_invariant().then_some(0);
        so_far.someone_joined = initial.someone_joined();
        // Reused from round to round: fresh large buffers would cost a page fault per page (and,
        // with several threads, TLB shootdowns).
        let slices_per_round = self
            .threads
            .saturating_mul(SLICES_PER_THREAD)
            .min(MAX_SLICES_PER_ROUND);
        let mut expansions: Vec<Expansion<K>> =
            (0..slices_per_round).map(|_| Expansion::new()).collect();
        while so_far.violation_depth.is_none() && frontier.iter().any(|f| !f.is_empty()) {
            for (part, current) in parts.iter_mut().zip(&frontier) {
                part.next.clear();
                if let Err(refused) = room_for(&mut part.next, current.len() * 2) {
                    so_far.stopped_by = Some(refused.to_string());
                    return so_far;
                }
            }
            let slices: Vec<&[K]> = frontier.iter().flat_map(|f| f.chunks(SLICE)).collect();
            let mut violation = false;
            let mut stuck = false;
            for round in slices.chunks(slices_per_round) {
                if let Some(limit) = self.limit_reached() {
                    so_far.stopped_by = Some(limit);
                    return so_far;
                }
                let mut work: Vec<(&[K], &mut Expansion<K>)> =
                    round.iter().copied().zip(expansions.iter_mut()).collect();
                share_out(self.threads, &mut work, |(states, found)| {
                    self.expand(states, found)
                });
                let expanded = &expansions[..round.len()];
                let mut successors = 0;
                for expansion in expanded {
                    so_far.generated += expansion.generated;
                    successors += expansion.generated;
                    violation |= expansion.violation;
                    stuck |= expansion.stuck;
                    so_far.someone_joined |= expansion.joined;
                }
                let unstored = self.store(&mut parts, expanded, successors, &mut so_far);
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
            for (part, frontier) in parts.iter_mut().zip(frontier.iter_mut()) {
                std::mem::swap(&mut part.next, frontier);
            }
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

    /// Stores the `successors` of a round's `expanded` slices in their parts, adding the new ones
    /// to `so_far`; says why some were left unstored, if some were. While the state limit is
    /// out of the round's reach the parts store at once, each on whichever thread is free;
    /// otherwise one after the other, so that exactly the limit is stored.
    fn store<K: Key>(
        &self,
        parts: &mut [Part<K>],
        expanded: &[Expansion<K>],
        successors: u64,
        so_far: &mut SearchEnd,
    ) -> Option<Unstored> {
        let left = self
            .options
            .max_states
            .map(|max| max.saturating_sub(so_far.unique))
            .filter(|left| *left < successors);
        let Some(left) = left else {
            let mut work: Vec<(usize, &mut Part<K>)> = parts.iter_mut().enumerate().collect();
            share_out(self.threads, &mut work, |(index, part)| {
                part.stored = insert_all(&mut part.set, &mut part.next, expanded, *index, None);
            });
            let mut unstored = None;
            for part in parts.iter() {
                so_far.unique += part.stored.0;
                unstored = unstored.or(part.stored.1);
            }
            return unstored;
        };
        let mut added = 0;
        for (index, part) in parts.iter_mut().enumerate() {
            let room = Some(left - added);
            let (stored, unstored) =
                insert_all(&mut part.set, &mut part.next, expanded, index, room);
            added += stored;
            if unstored.is_some() {
                so_far.unique += added;
                return unstored;
            }
        }
        so_far.unique += added;
        None
    }

    fn report_progress(&self, so_far: &SearchEnd) {
        if let Some(progress) = &self.options.progress {
            progress.publish(so_far.unique, so_far.generated, so_far.depth);
        }
    }
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
