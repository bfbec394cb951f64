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

use super::lists::Lists;
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
