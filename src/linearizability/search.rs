//! The search for one key: Wing & Gong's depth-first search over which request takes effect
//! next, with Lowe's memoization of (requests taken effect, state).
//!
//! Answered requests must take effect between their invocation and their completion. They are
//! entries in a list sorted by time, a call entry at the invocation and a return entry at the
//! completion, and one can take effect next iff its call entry comes before the first return
//! entry left: no request still pending had to complete before it was invoked. Taking effect
//! lifts a request's entries out of the list; backtracking puts them back (dancing links).
//!
//! Optional requests may take effect or not: an unknown outcome at any time after its
//! invocation, an answer the minimizer gave up within its interval. They hold nothing up. One may
//! take effect next iff it was invoked no later than the first completion pending and completes
//! no earlier than the latest invocation taken effect so far (the order's moments never go
//! back). They are tried after the answered requests, which must take effect anyway: trying
//! optional effects first sends the search deep into orders that the next answer refutes.

use super::{Answer, Specification};
use crate::check::Limits;
use crate::history::Ticks;
use std::collections::HashMap;
use std::hash::Hash;
use std::time::Instant;

/// One request as the search sees it.
pub(super) struct Item<'h, S: Specification> {
    /// Its id in the history.
    pub id: usize,
    /// What it asked.
    pub input: &'h S::Input,
    /// What it answered; [`Answer::Unknown`] makes it optional: an unknown outcome, or an answer
    /// the minimizer gave up.
    pub answer: Answer<'h, S::Ok, S::Refusal>,
    /// When it was invoked.
    pub invoked: Ticks,
    /// When it completed; none for an unknown outcome.
    pub deadline: Option<Ticks>,
}

impl<S: Specification> Item<'_, S> {
    /// Whether it has an answer the order must give it: it must take effect.
    pub fn is_answered(&self) -> bool {
        !matches!(self.answer, Answer::Unknown)
    }
}

impl<S: Specification> Clone for Item<'_, S> {
    fn clone(&self) -> Self {
        Item {
            id: self.id,
            input: self.input,
            answer: self.answer,
            invoked: self.invoked,
            deadline: self.deadline,
        }
    }
}

/// How a search ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Decision {
    /// An order exists.
    Linearizable,
    /// None does.
    NotLinearizable,
    /// It took more steps than it was allowed.
    OverCap,
    /// A limit stopped it: `timeout`, `stop request` or `state limit`.
    Stopped(&'static str),
}

/// The limits every search of one check shares, and the steps taken so far.
pub(super) struct Budget<'a> {
    limits: &'a Limits,
    max_states: usize,
    started: Instant,
    /// Requests tried at a point of an order, over every search.
    pub steps: u64,
}

impl<'a> Budget<'a> {
    pub fn new(limits: &'a Limits, max_states: usize, started: Instant) -> Self {
        Budget {
            limits,
            max_states,
            started,
            steps: 0,
        }
    }

    /// Counts a step; every 1,024 steps, whether a limit says stop.
    fn step(&mut self) -> Option<&'static str> {
        self.steps += 1;
        if self.steps.is_multiple_of(1024) {
            self.limits.reached(self.started)
        } else {
            None
        }
    }
}

/// Whether `items`, the requests of `key`, have an order `spec` allows (ending in a state it
/// accepts, when `ending`), found in at most `cap` steps.
pub(super) fn decide<S: Specification>(
    spec: &S,
    key: &S::Key,
    items: &[Item<'_, S>],
    ending: bool,
    cap: u64,
    budget: &mut Budget<'_>,
) -> Decision {
    let cap = budget.steps.saturating_add(cap);
    let mut lists = Lists::new(items);
    let mut done = Done::new(items);
    let mut seen: Seen<S::State> = Seen {
        points: HashMap::new(),
        len: 0,
    };
    let mut stack: Vec<Frame<S::State>> = Vec::new();
    let mut state = spec.initial(key);
    // The latest invocation of a request taken effect: no moment of the order is earlier.
    let mut now: Ticks = 0;
    let mut answered_left = items.iter().filter(|item| item.is_answered()).count();
    let mut cursor = lists.first();
    // Whether the search just arrived at this point and has not yet looked for a read-only move.
    let mut arrived = true;
    loop {
        if answered_left == 0 && (!ending || spec.may_end_in(key, &state)) {
            return Decision::Linearizable;
        }
        if let Some(reason) = budget.step() {
            return Decision::Stopped(reason);
        }
        if budget.steps > cap {
            return Decision::OverCap;
        }
        if seen.len >= budget.max_states {
            return Decision::Stopped("state limit");
        }
        // A read-only request possible now takes effect now: any order that puts it later can
        // put it here instead (nothing pending had to precede it, it changes no state, and no
        // optional request that could take effect before it must do so before its invocation),
        // so this point has no other move worth trying.
        let read_only = if arrived {
            arrived = false;
            let horizon = lists.optional_horizon(now);
            lists.answered_candidate(|index| {
                let item = &items[index];
                item.invoked <= horizon
                    && spec.is_read_only(item.input, item.answer)
                    && spec.step(&state, item.input, item.answer).is_some()
            })
        } else {
            None
        };
        let mut forced = false;
        let (entry, next) = match read_only {
            Some(entry) => {
                forced = true;
                (Some(entry), Some(state.clone()))
            }
            None => match lists.candidate(cursor, now) {
                None => (None, None),
                Some(entry) => {
                    let item = &items[lists.item(entry)];
                    let next = if item.is_answered() {
                        spec.step(&state, item.input, item.answer)
                    } else if lists.has_better_twin(items, entry, now) {
                        None
                    } else {
                        spec.step(&state, item.input, Answer::Unknown)
                            .filter(|next| *next != state)
                    };
                    (Some(entry), next)
                }
            },
        };
        if let (Some(entry), Some(next)) = (entry, next) {
            let index = lists.item(entry);
            done.set(index);
            let later = now.max(items[index].invoked);
            let point = done.point(next.clone());
            if seen.visit(point, later, &done.optional, |now| done.first_possible(now)) {
                stack.push(Frame {
                    entry,
                    previous: std::mem::replace(&mut state, next),
                    now,
                    forced,
                });
                lists.lift(entry);
                now = later;
                if items[index].is_answered() {
                    answered_left -= 1;
                }
                (cursor, arrived) = (lists.first(), true);
                continue;
            }
            done.clear(index);
        }
        if let (Some(entry), false) = (entry, forced) {
            cursor = lists.after(entry);
            continue;
        }
        // Nothing more to try here: back to the point before.
        let Some(frame) = stack.pop() else {
            return Decision::NotLinearizable;
        };
        lists.unlift(frame.entry);
        let index = lists.item(frame.entry);
        done.clear(index);
        if items[index].is_answered() {
            answered_left += 1;
        }
        (state, now) = (frame.previous, frame.now);
        cursor = if frame.forced {
            lists.end()
        } else {
            lists.after(frame.entry)
        };
    }
}

/// A request taken effect, and how to undo it.
struct Frame<State> {
    entry: u32,
    previous: State,
    now: Ticks,
    /// Taken as the only move worth trying at its point: when it fails, the point fails.
    forced: bool,
}

/// The entries of pending requests as two doubly linked lists over indices (dancing links): the
/// answered requests, a call and a return entry each, sorted by time; then the optional
/// requests, one entry each, sorted by invocation.
struct Lists {
    entries: Vec<Entry>,
    next: Vec<u32>,
    prev: Vec<u32>,
    /// Per request: its return entry, if it has one.
    returns: Vec<Option<u32>>,
    /// Entries `0..answered` are the first list's; the optional list's follow.
    answered: u32,
    /// The sentinels: before and after the first list, before and after the second.
    heads: [u32; 4],
}

/// One entry: its request, whether it is a return entry, its time, and for an optional request,
/// its deadline.
#[derive(Clone, Copy)]
struct Entry {
    item: u32,
    is_return: bool,
    time: Ticks,
    deadline: Option<Ticks>,
}

impl Lists {
    fn new<S: Specification>(items: &[Item<'_, S>]) -> Self {
        let mut answered: Vec<(Ticks, bool, u32)> = Vec::new();
        let mut optional: Vec<(Ticks, bool, u32)> = Vec::new();
        for (index, item) in items.iter().enumerate() {
            let call = (item.invoked, false, index as u32);
            match item.deadline {
                Some(deadline) if item.is_answered() => {
                    answered.extend([call, (deadline, true, index as u32)])
                }
                _ => optional.push(call),
            }
        }
        // At equal times calls come first: touching intervals overlap.
        answered.sort_unstable();
        optional.sort_unstable();
        let (count, first_optional) = (
            (answered.len() + optional.len()) as u32,
            answered.len() as u32,
        );
        let heads = [count, count + 1, count + 2, count + 3];
        let entries: Vec<Entry> = answered
            .into_iter()
            .chain(optional)
            .map(|(time, is_return, item)| Entry {
                item,
                is_return,
                time,
                deadline: items[item as usize].deadline,
            })
            .collect();
        let mut returns = vec![None; items.len()];
        for (index, entry) in entries.iter().enumerate() {
            if entry.is_return {
                returns[entry.item as usize] = Some(index as u32);
            }
        }
        let size = count as usize + 4;
        let (mut next, mut prev) = (vec![0; size], vec![0; size]);
        let lists = [
            (heads[0], 0..first_optional, heads[1]),
            (heads[2], first_optional..count, heads[3]),
        ];
        for (head, members, tail) in lists {
            let chain: Vec<u32> = std::iter::once(head).chain(members).chain([tail]).collect();
            for pair in chain.windows(2) {
                next[pair[0] as usize] = pair[1];
                prev[pair[1] as usize] = pair[0];
            }
        }
        Lists {
            entries,
            next,
            prev,
            returns,
            answered: first_optional,
            heads,
        }
    }

    /// Where the candidates at a point of the search begin.
    fn first(&self) -> u32 {
        self.after(self.heads[0])
    }

    /// A position with no candidate at or after it.
    fn end(&self) -> u32 {
        self.heads[3]
    }

    /// The position after `entry`: the next call entry of the first list, or, once that list
    /// reaches a return entry or its end, the optional list's entries in turn.
    fn after(&self, entry: u32) -> u32 {
        let next = self.next[entry as usize];
        let in_answered = entry < self.answered || entry == self.heads[0];
        if in_answered && (next == self.heads[1] || self.entries[next as usize].is_return) {
            self.next[self.heads[2] as usize]
        } else {
            next
        }
    }

    fn item(&self, entry: u32) -> usize {
        self.entries[entry as usize].item as usize
    }

    /// The first entry at or after `entry` whose request may take effect now, after the
    /// latest invocation taken effect, `now`.
    fn candidate(&self, mut entry: u32, now: Ticks) -> Option<u32> {
        if entry < self.answered {
            return Some(entry);
        }
        let bound = self.first_completion();
        while let Some(at) = self.entries.get(entry as usize) {
            if at.time > bound {
                return None;
            }
            if at.deadline.is_none_or(|deadline| deadline >= now) {
                return Some(entry);
            }
            entry = self.next[entry as usize];
        }
        None
    }

    /// The first completion pending in the first list: nothing invoked later may take effect
    /// before that request.
    fn first_completion(&self) -> Ticks {
        let mut at = self.next[self.heads[0] as usize];
        while at != self.heads[1] {
            if self.entries[at as usize].is_return {
                return self.entries[at as usize].time;
            }
            at = self.next[at as usize];
        }
        Ticks::MAX
    }

    /// The earliest deadline of an optional request that may take effect now, after `now`:
    /// moving the order past it would rule that request out.
    fn optional_horizon(&self, now: Ticks) -> Ticks {
        let bound = self.first_completion();
        let mut horizon = Ticks::MAX;
        let mut at = self.next[self.heads[2] as usize];
        while let Some(entry) = self.entries.get(at as usize) {
            if entry.time > bound {
                break;
            }
            if let Some(deadline) = entry.deadline.filter(|deadline| *deadline >= now) {
                horizon = horizon.min(deadline);
            }
            at = self.next[at as usize];
        }
        horizon
    }

    /// The first call entry of the first list, before its first return entry, whose request
    /// `read_only` says may take effect now and change nothing.
    fn answered_candidate(&self, read_only: impl Fn(usize) -> bool) -> Option<u32> {
        let mut at = self.next[self.heads[0] as usize];
        while at != self.heads[1] && !self.entries[at as usize].is_return {
            if read_only(self.item(at)) {
                return Some(at);
            }
            at = self.next[at as usize];
        }
        None
    }

    /// Whether an optional request before the one at `entry` (invoked no later), still pending
    /// and possible now, asks the same and must take effect no later: trying that one is
    /// enough. An order that uses this one next can use that one instead, and this one where it
    /// used that one, if it did: each then takes effect within its interval.
    fn has_better_twin<S: Specification>(
        &self,
        items: &[Item<'_, S>],
        entry: u32,
        now: Ticks,
    ) -> bool {
        let deadline = |entry: &Entry| entry.deadline.unwrap_or(Ticks::MAX);
        let this = self.entries[entry as usize];
        let input = items[this.item as usize].input;
        let mut at = self.next[self.heads[2] as usize];
        while at != entry {
            let other = &self.entries[at as usize];
            if (now..=deadline(&this)).contains(&deadline(other))
                && items[other.item as usize].input == input
            {
                return true;
            }
            at = self.next[at as usize];
        }
        false
    }

    fn unlink(&mut self, entry: u32) {
        let (prev, next) = (self.prev[entry as usize], self.next[entry as usize]);
        self.next[prev as usize] = next;
        self.prev[next as usize] = prev;
    }

    fn relink(&mut self, entry: u32) {
        let (prev, next) = (self.prev[entry as usize], self.next[entry as usize]);
        self.next[prev as usize] = entry;
        self.prev[next as usize] = entry;
    }

    /// Takes the request at call entry `entry` out of the lists, with its return entry.
    fn lift(&mut self, entry: u32) {
        self.unlink(entry);
        if let Some(ret) = self.returns[self.item(entry)] {
            self.unlink(ret);
        }
    }

    /// Undoes the last [`Lists::lift`], of `entry`.
    fn unlift(&mut self, entry: u32) {
        if let Some(ret) = self.returns[self.item(entry)] {
            self.relink(ret);
        }
        self.relink(entry);
    }
}

/// Which requests have taken effect: the answered ones in one bit set, in the order of their
/// invocations (so it is mostly a run of ones, which [`Done::point`] leaves out); the optional
/// ones in another, in the order of their deadlines (so those past a moment are a prefix).
struct Done {
    /// Per request: whether it is answered, and its bit.
    bits: Vec<(bool, usize)>,
    answered: Vec<u64>,
    optional: Vec<u64>,
    /// The optional requests' deadlines, in bit order (none is latest).
    deadlines: Vec<Ticks>,
}

/// Where the search stands, but for the optional requests: the answered requests that took
/// effect, and the state.
#[derive(PartialEq, Eq, Hash)]
struct Point<State> {
    /// Leading words of the bit set that are all ones, left out.
    ones: u32,
    answered: Box<[u64]>,
    state: State,
}

/// Lowe's memo, with subsumption: each point visited, with the latest invocation taken effect
/// and the optional requests taken effect each time. A visit is no better than an earlier one
/// that had no later a moment and, of the optional requests still possible, used none that this
/// one did not: everything this visit can still do, that one could. The search goes on only
/// from visits that are better.
struct Seen<State> {
    points: HashMap<Point<State>, Vec<Visit>>,
    /// Visits held, over every point.
    len: usize,
}

/// One visit of a point: the latest invocation taken effect, and the optional requests that had.
type Visit = (Ticks, Box<[u64]>);

impl<State: Eq + Hash> Seen<State> {
    /// Records `point` reached at moment `now` with `optional` taken effect; false when an
    /// earlier visit was as good. `first_possible` says from which optional bit on requests are
    /// still possible at a moment.
    fn visit(
        &mut self,
        point: Point<State>,
        now: Ticks,
        optional: &[u64],
        first_possible: impl Fn(Ticks) -> usize,
    ) -> bool {
        // Whether `a`, of the optional requests possible from bit `from` on, used only what `b`
        // used too.
        let within = |a: &[u64], b: &[u64], from: usize| {
            (from / 64..a.len()).all(|word| {
                let mask = if word == from / 64 {
                    u64::MAX << (from % 64)
                } else {
                    u64::MAX
                };
                a[word] & !b[word] & mask == 0
            })
        };
        let visits = self.points.entry(point).or_default();
        let from = first_possible(now);
        if visits
            .iter()
            .any(|(then, used)| *then <= now && within(used, optional, from))
        {
            return false;
        }
        let before = visits.len();
        visits.retain(|(then, used)| {
            !(now <= *then && within(optional, used, first_possible(*then)))
        });
        visits.push((now, optional.into()));
        self.len = self.len + visits.len() - before;
        true
    }
}

impl Done {
    fn new<S: Specification>(items: &[Item<'_, S>]) -> Self {
        let deadline = |index: usize| items[index].deadline.unwrap_or(Ticks::MAX);
        let mut answered: Vec<usize> = (0..items.len())
            .filter(|&i| items[i].is_answered())
            .collect();
        answered.sort_by_key(|&i| (items[i].invoked, i));
        let mut optional: Vec<usize> = (0..items.len())
            .filter(|&i| !items[i].is_answered())
            .collect();
        optional.sort_by_key(|&i| (deadline(i), items[i].invoked, i));
        let mut bits = vec![(false, 0); items.len()];
        for (bit, &index) in answered.iter().enumerate() {
            bits[index] = (true, bit);
        }
        for (bit, &index) in optional.iter().enumerate() {
            bits[index] = (false, bit);
        }
        Done {
            bits,
            answered: vec![0; answered.len().div_ceil(64)],
            optional: vec![0; optional.len().div_ceil(64)],
            deadlines: optional.iter().map(|&i| deadline(i)).collect(),
        }
    }

    fn word(&mut self, index: usize) -> (&mut u64, u64) {
        let (answered, bit) = self.bits[index];
        let words = if answered {
            &mut self.answered
        } else {
            &mut self.optional
        };
        (&mut words[bit / 64], 1 << (bit % 64))
    }

    fn set(&mut self, index: usize) {
        let (word, mask) = self.word(index);
        *word |= mask;
    }

    fn clear(&mut self, index: usize) {
        let (word, mask) = self.word(index);
        *word &= !mask;
    }

    /// The first optional bit whose request may still take effect at moment `now`.
    fn first_possible(&self, now: Ticks) -> usize {
        self.deadlines.partition_point(|deadline| *deadline < now)
    }

    fn point<State>(&self, state: State) -> Point<State> {
        let ones = self
            .answered
            .iter()
            .take_while(|word| **word == u64::MAX)
            .count();
        let end = self
            .answered
            .iter()
            .rposition(|word| *word != 0)
            .map_or(ones, |last| last + 1);
        Point {
            ones: ones as u32,
            answered: self.answered[ones..end.max(ones)].into(),
            state,
        }
    }
}
