//! The search for one key: Wing & Gong's depth-first search over which request takes effect next,
//! with Lowe's memoization of (requests taken effect, state).
//!
//! Requests are entries in a list sorted by time: each has a call entry at its invocation and,
//! unless it may take effect at any later time, a return entry at its deadline. A request can
//! take effect next iff its call entry comes before the first return entry left in the list
//! (every request still pending then was invoked before any pending one must have completed).
//! Taking effect lifts its entries out of the list; backtracking puts them back (dancing links).

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
    /// What it answered: [`Answer::Unknown`] for an unknown outcome, and for a request whose
    /// answer the minimizer gave up (it then may take effect or not, before its deadline).
    pub answer: Answer<'h, S::Ok, S::Refusal>,
    /// When it was invoked.
    pub invoked: Ticks,
    /// When it completed; none when it may take effect at any time after its invocation.
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
    let mut list = EntryList::new(items);
    let mut done = Done::new(items);
    let mut seen: Seen<S::State> = Seen {
        points: HashMap::new(),
        len: 0,
    };
    let mut stack: Vec<Frame<S::State>> = Vec::new();
    let mut state = spec.initial(key);
    let mut answered_left = items.iter().filter(|item| item.is_answered()).count();
    let mut cursor = list.first();
    let mut variant = Variant::Effect;
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
        // put it here instead (nothing pending must precede it, and it changes no state), so
        // this point has no other move worth trying.
        let read_only = if arrived {
            arrived = false;
            list.read_only_candidate(|index| {
                let item = &items[index];
                item.is_answered()
                    && spec.is_read_only(item.input, item.answer)
                    && spec.step(&state, item.input, item.answer).is_some()
            })
        } else {
            None
        };
        if let Some(entry) = read_only {
            let index = list.item(entry);
            done.set(index);
            if seen.visit(done.point(state.clone()), &done.open) {
                stack.push(Frame {
                    entry,
                    variant: Variant::Effect,
                    previous: state.clone(),
                    forced: true,
                });
                list.lift(entry);
                answered_left -= 1;
                (cursor, variant) = (list.first(), Variant::Effect);
                arrived = true;
                continue;
            }
            done.clear(index);
            cursor = list.none();
        }
        let Some(index) = list.call_at(cursor) else {
            // Nothing more to try here: back to the point before.
            let Some(frame) = stack.pop() else {
                return Decision::NotLinearizable;
            };
            list.unlift(frame.entry);
            let index = list.item(frame.entry);
            done.clear(index);
            if items[index].is_answered() {
                answered_left += 1;
            }
            state = frame.previous;
            (cursor, variant) = if frame.forced {
                (list.none(), Variant::Effect)
            } else {
                next_try(&list, &items[index], frame.entry, frame.variant)
            };
            continue;
        };
        let item = &items[index];
        let tried = match (item.answer, item.deadline, variant) {
            (Answer::Unknown, None, Variant::Effect) if list.has_earlier_twin(items, cursor) => {
                None
            }
            (Answer::Unknown, _, Variant::Effect) => spec
                .step(&state, item.input, Answer::Unknown)
                .filter(|next| *next != state),
            (Answer::Unknown, Some(_), Variant::NoEffect) => Some(state.clone()),
            (answer, _, Variant::Effect) => spec.step(&state, item.input, answer),
            _ => None,
        };
        if let Some(next) = tried {
            done.set(index);
            if seen.visit(done.point(next.clone()), &done.open) {
                stack.push(Frame {
                    entry: cursor,
                    variant,
                    previous: std::mem::replace(&mut state, next),
                    forced: false,
                });
                list.lift(cursor);
                if item.is_answered() {
                    answered_left -= 1;
                }
                cursor = list.first();
                variant = Variant::Effect;
                arrived = true;
                continue;
            }
            done.clear(index);
        }
        (cursor, variant) = next_try(&list, item, cursor, variant);
    }
}

/// How a request takes effect at a point of an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Variant {
    /// With its effect on the state.
    Effect,
    /// Without any (only a request whose answer was given up, before its deadline).
    NoEffect,
}

/// The try after `variant` of `item` at `entry`: the same request without effect, if it may have
/// none and must decide before a deadline; else the next entry.
fn next_try<S: Specification>(
    list: &EntryList,
    item: &Item<'_, S>,
    entry: u32,
    variant: Variant,
) -> (u32, Variant) {
    if !item.is_answered() && item.deadline.is_some() && variant == Variant::Effect {
        (entry, Variant::NoEffect)
    } else {
        (list.after(entry), Variant::Effect)
    }
}

/// A request taken effect, and how to undo it.
struct Frame<State> {
    entry: u32,
    variant: Variant,
    previous: State,
    /// Taken as the only move worth trying at its point: when it fails, the point fails.
    forced: bool,
}

/// The entries of pending requests as two doubly linked lists over indices (dancing links):
/// the requests with a deadline, a call entry and a return entry each, sorted by time; and the
/// requests without, one entry each, sorted by invocation.
///
/// The candidates at a point of the search are, in this order: the call entries before the first
/// return entry, then the requests without a deadline invoked no later than that return entry.
/// Answered requests come first because they must take effect: trying unknown effects first
/// sends the search deep into orders that the next answer refutes.
struct EntryList {
    entries: Vec<Entry>,
    next: Vec<u32>,
    prev: Vec<u32>,
    /// Per request: its return entry, if it has one.
    returns: Vec<Option<u32>>,
    /// Entries `0..timed` are the first list's; the open list's follow.
    timed: u32,
    /// The sentinels: before and after the first list, before and after the second.
    heads: [u32; 4],
}

/// One entry: its request, whether it is a return entry, and its time.
#[derive(Clone, Copy)]
struct Entry {
    item: u32,
    is_return: bool,
    time: Ticks,
}

impl EntryList {
    fn new<S: Specification>(items: &[Item<'_, S>]) -> Self {
        let mut timed: Vec<(Ticks, bool, u32)> = Vec::new();
        let mut open: Vec<(Ticks, bool, u32)> = Vec::new();
        for (index, item) in items.iter().enumerate() {
            let call = (item.invoked, false, index as u32);
            match item.deadline {
                Some(deadline) => timed.extend([call, (deadline, true, index as u32)]),
                None => open.push(call),
            }
        }
        // At equal times calls come first: touching intervals overlap.
        timed.sort_unstable();
        open.sort_unstable();
        let (count, first_open) = ((timed.len() + open.len()) as u32, timed.len() as u32);
        let heads = [count, count + 1, count + 2, count + 3];
        let entries: Vec<Entry> = timed
            .into_iter()
            .chain(open)
            .map(|(time, is_return, item)| Entry {
                item,
                is_return,
                time,
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
            (heads[0], 0..first_open, heads[1]),
            (heads[2], first_open..count, heads[3]),
        ];
        for (head, members, tail) in lists {
            let chain: Vec<u32> = std::iter::once(head).chain(members).chain([tail]).collect();
            for pair in chain.windows(2) {
                next[pair[0] as usize] = pair[1];
                prev[pair[1] as usize] = pair[0];
            }
        }
        EntryList {
            entries,
            next,
            prev,
            returns,
            timed: first_open,
            heads,
        }
    }

    /// The first candidate at this point of the search.
    fn first(&self) -> u32 {
        self.after(self.heads[0])
    }

    /// The candidate after `entry`: the next call entry of the first list, or, once that list
    /// reaches a return entry or its end, the open list's entries in turn.
    fn after(&self, entry: u32) -> u32 {
        let next = self.next[entry as usize];
        let in_timed = entry < self.timed || entry == self.heads[0];
        if in_timed && (next == self.heads[1] || self.entries[next as usize].is_return) {
            self.next[self.heads[2] as usize]
        } else {
            next
        }
    }

    /// A position with no candidate: trying it backtracks.
    fn none(&self) -> u32 {
        self.heads[3]
    }

    /// The first call entry of the first list, before its first return entry, whose request
    /// `read_only` says may take effect now without changing anything.
    fn read_only_candidate(&self, read_only: impl Fn(usize) -> bool) -> Option<u32> {
        let mut at = self.next[self.heads[0] as usize];
        while at != self.heads[1] && !self.entries[at as usize].is_return {
            if read_only(self.item(at)) {
                return Some(at);
            }
            at = self.next[at as usize];
        }
        None
    }

    /// The latest invocation a request without a deadline may have to take effect now: the
    /// first deadline left in the first list.
    fn open_bound(&self) -> Ticks {
        let mut at = self.next[self.heads[0] as usize];
        while at != self.heads[1] {
            if self.entries[at as usize].is_return {
                return self.entries[at as usize].time;
            }
            at = self.next[at as usize];
        }
        Ticks::MAX
    }

    fn item(&self, entry: u32) -> usize {
        self.entries[entry as usize].item as usize
    }

    /// The request to try at `entry`, if it may take effect now.
    fn call_at(&self, entry: u32) -> Option<usize> {
        let at = self.entries.get(entry as usize)?;
        let now = entry < self.timed || at.time <= self.open_bound();
        (!at.is_return && now).then_some(at.item as usize)
    }

    /// Whether a request without a deadline and with the same input as the one at `entry` comes
    /// before it: trying this one would try the same thing again.
    fn has_earlier_twin<S: Specification>(&self, items: &[Item<'_, S>], entry: u32) -> bool {
        let input = items[self.item(entry)].input;
        let mut at = self.next[self.heads[2] as usize];
        while at != entry {
            if items[self.item(at)].input == input {
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

    /// Undoes the last [`EntryList::lift`], of `entry`.
    fn unlift(&mut self, entry: u32) {
        if let Some(ret) = self.returns[self.item(entry)] {
            self.relink(ret);
        }
        self.relink(entry);
    }
}

/// Which requests have taken effect: those with a deadline in one bit set, in the order of their
/// invocations (so it is mostly a run of ones, which [`Done::point`] leaves out), and those
/// without in another.
struct Done {
    /// Per request: whether it has a deadline, and its bit.
    bits: Vec<(bool, usize)>,
    timed: Vec<u64>,
    open: Vec<u64>,
}

/// Where the search stands, but for the requests without a deadline that took effect: the
/// requests with one that took effect, and the state.
#[derive(PartialEq, Eq, Hash)]
struct Point<State> {
    /// Leading words of the bit set that are all ones, left out.
    ones: u32,
    timed: Box<[u64]>,
    state: State,
}

/// Lowe's memo, with subsumption: each point visited, with the sets of requests without a
/// deadline that had taken effect there. Reaching a point with a superset of one of those is
/// no better (fewer such requests are left to take effect, and nothing else differs), so the
/// search goes there only with a set that is not.
struct Seen<State> {
    points: HashMap<Point<State>, Vec<Box<[u64]>>>,
    /// Sets held, over every point.
    len: usize,
}

impl<State: Eq + Hash> Seen<State> {
    /// Records `point` reached with `open` taken effect; false when that is no better than a
    /// visit before.
    fn visit(&mut self, point: Point<State>, open: &[u64]) -> bool {
        let subset = |a: &[u64], b: &[u64]| a.iter().zip(b).all(|(a, b)| a & !b == 0);
        let sets = self.points.entry(point).or_default();
        if sets.iter().any(|set| subset(set, open)) {
            return false;
        }
        let before = sets.len();
        sets.retain(|set| !subset(open, set));
        sets.push(open.into());
        self.len = self.len + sets.len() - before;
        true
    }
}

impl Done {
    fn new<S: Specification>(items: &[Item<'_, S>]) -> Self {
        let mut order: Vec<usize> = (0..items.len()).collect();
        order.sort_by_key(|&index| (items[index].invoked, index));
        let mut bits = vec![(false, 0); items.len()];
        let (mut timed, mut open) = (0, 0);
        for index in order {
            let counter = if items[index].deadline.is_some() {
                &mut timed
            } else {
                &mut open
            };
            bits[index] = (items[index].deadline.is_some(), *counter);
            *counter += 1;
        }
        Done {
            bits,
            timed: vec![0; timed.div_ceil(64)],
            open: vec![0; open.div_ceil(64)],
        }
    }

    fn words(&mut self, index: usize) -> (&mut u64, u64) {
        let (timed, bit) = self.bits[index];
        let words = if timed {
            &mut self.timed
        } else {
            &mut self.open
        };
        (&mut words[bit / 64], 1 << (bit % 64))
    }

    fn set(&mut self, index: usize) {
        let (word, mask) = self.words(index);
        *word |= mask;
    }

    fn clear(&mut self, index: usize) {
        let (word, mask) = self.words(index);
        *word &= !mask;
    }

    fn point<State>(&self, state: State) -> Point<State> {
        let ones = self
            .timed
            .iter()
            .take_while(|word| **word == u64::MAX)
            .count();
        let end = self
            .timed
            .iter()
            .rposition(|word| *word != 0)
            .map_or(ones, |last| last + 1);
        Point {
            ones: ones as u32,
            timed: self.timed[ones..end.max(ones)].into(),
            state,
        }
    }
}
