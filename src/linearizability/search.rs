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
use std::collections::HashSet;
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
    /// A limit stopped it: `timeout` or `stop request`.
    Stopped(&'static str),
}

/// The limits every search of one check shares, and the steps taken so far.
pub(super) struct Budget<'a> {
    limits: &'a Limits,
    started: Instant,
    /// Requests tried at a point of an order, over every search.
    pub steps: u64,
}

impl<'a> Budget<'a> {
    pub fn new(limits: &'a Limits, started: Instant) -> Self {
        Budget {
            limits,
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
/// accepts, when `ending`).
pub(super) fn decide<S: Specification>(
    spec: &S,
    key: &S::Key,
    items: &[Item<'_, S>],
    ending: bool,
    budget: &mut Budget<'_>,
) -> Decision {
    let mut list = EntryList::new(items);
    let mut done = Done::new(items);
    let mut cache: HashSet<Node<S::State>> = HashSet::new();
    let mut stack: Vec<Frame<S::State>> = Vec::new();
    let mut state = spec.initial(key);
    let mut answered_left = items.iter().filter(|item| item.is_answered()).count();
    let mut cursor = list.first();
    let mut variant = Variant::Effect;
    loop {
        if answered_left == 0 && (!ending || spec.may_end_in(key, &state)) {
            return Decision::Linearizable;
        }
        if let Some(reason) = budget.step() {
            return Decision::Stopped(reason);
        }
        let Some(index) = list.call_at(cursor) else {
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
            (cursor, variant) = next_try(&list, &items[index], frame.entry, frame.variant);
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
            if cache.insert(done.node(next.clone())) {
                stack.push(Frame {
                    entry: cursor,
                    variant,
                    previous: std::mem::replace(&mut state, next),
                });
                list.lift(cursor);
                if item.is_answered() {
                    answered_left -= 1;
                }
                cursor = list.first();
                variant = Variant::Effect;
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
        (list.next[entry as usize], Variant::Effect)
    }
}

/// A request taken effect, and how to undo it.
struct Frame<State> {
    entry: u32,
    variant: Variant,
    previous: State,
}

/// The entries of pending requests, sorted by time, as a doubly linked list over indices.
struct EntryList {
    /// Per entry: its request, and whether it is the return entry.
    entries: Vec<(u32, bool)>,
    next: Vec<u32>,
    prev: Vec<u32>,
    /// Per request: its return entry, if it has one.
    returns: Vec<Option<u32>>,
}

impl EntryList {
    fn new<S: Specification>(items: &[Item<'_, S>]) -> Self {
        let mut timed: Vec<(Ticks, bool, u32)> = Vec::with_capacity(items.len() * 2);
        for (index, item) in items.iter().enumerate() {
            timed.push((item.invoked, false, index as u32));
            if let Some(deadline) = item.deadline {
                timed.push((deadline, true, index as u32));
            }
        }
        // At equal times calls come first: touching intervals overlap.
        timed.sort_unstable();
        let count = timed.len() as u32;
        let (head, tail) = (count, count + 1);
        let mut returns = vec![None; items.len()];
        for (entry, &(_, is_return, index)) in timed.iter().enumerate() {
            if is_return {
                returns[index as usize] = Some(entry as u32);
            }
        }
        let (mut next, mut prev) = (vec![tail; timed.len() + 2], vec![head; timed.len() + 2]);
        let chain: Vec<u32> = std::iter::once(head)
            .chain(0..count)
            .chain([tail])
            .collect();
        for pair in chain.windows(2) {
            next[pair[0] as usize] = pair[1];
            prev[pair[1] as usize] = pair[0];
        }
        EntryList {
            entries: timed.into_iter().map(|(_, r, index)| (index, r)).collect(),
            next,
            prev,
            returns,
        }
    }

    fn first(&self) -> u32 {
        self.next[self.entries.len()]
    }

    fn item(&self, entry: u32) -> usize {
        self.entries[entry as usize].0 as usize
    }

    /// The request whose call entry is `entry`, or none at a return entry or the list's end.
    fn call_at(&self, entry: u32) -> Option<usize> {
        match self.entries.get(entry as usize) {
            Some(&(index, false)) => Some(index as usize),
            _ => None,
        }
    }

    /// Whether a request that may take effect at any time, with the same input as the one at
    /// `entry`, comes before it: then trying this one is trying the same thing again.
    fn has_earlier_twin<S: Specification>(&self, items: &[Item<'_, S>], entry: u32) -> bool {
        let input = items[self.item(entry)].input;
        let mut at = self.first();
        while at != entry {
            let other = &items[self.item(at)];
            if other.deadline.is_none() && !other.is_answered() && other.input == input {
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

    /// Takes the request at call entry `entry` out of the list, with its return entry.
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
/// invocations (so it is mostly a run of ones, which [`Done::node`] leaves out), and those without
/// in another.
struct Done {
    /// Per request: whether it has a deadline, and its bit.
    bits: Vec<(bool, usize)>,
    timed: Vec<u64>,
    open: Vec<u64>,
}

/// A memoized point of the search: requests taken effect, and the state.
#[derive(PartialEq, Eq, Hash)]
struct Node<State> {
    /// Leading words of `timed` that are all ones, left out.
    ones: u32,
    timed: Box<[u64]>,
    open: Box<[u64]>,
    state: State,
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

    fn node<State>(&self, state: State) -> Node<State> {
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
        Node {
            ones: ones as u32,
            timed: self.timed[ones..end.max(ones)].into(),
            open: self.open.as_slice().into(),
            state,
        }
    }
}
