//! Is a [`History`] linearizable: is there an order of its requests, each taking effect at one
//! moment between its invocation and its completion, that a sequential [`Specification`] allows?
//!
//! The specification is data: an initial state per key, a step that says whether an answer is
//! possible in a state and what state follows, and a partition of requests into independent keys
//! (requests on different users are independent). A history is linearizable iff each key's
//! requests are (P-compositionality), so each key is searched alone, with Wing & Gong's search
//! and Lowe's memoization (Porcupine's algorithm, written anew): depth first over which pending
//! request takes effect next, never visiting the same (set of requests taken effect, state)
//! twice.
//!
//! Outcomes: ok and refused answers are judged; an error did not take effect and is left out; an
//! unknown outcome may take effect at any time after its invocation, or never. A specification
//! may also name the state each key must end in (the final membership read from the database).
//!
//! The verdict never claims more than was searched: a history too hard to decide within the
//! [`Limits`] is [`Linearizability::Inconclusive`]. A history that is not linearizable comes with
//! the requests that cannot be ordered, shrunk to a minimal set ([`Unorderable`]); [`timeline`]
//! prints them.
//!
//! ```
//! use joincheck::history::join::{JoinHistory, JoinRequest};
//! use joincheck::history::{Call, Outcome};
//! use joincheck::linearizability::{check, join::JoinSpec, Options};
//! use joincheck::models::domain::{Request, TeamId, UserId};
//!
//! // Two servers both let sue join, at overlapping times: check-then-act's race.
//! let (sue, a, b) = (UserId(0), TeamId(0), TeamId(1));
//! let mut history = JoinHistory::new();
//! history.push(Call::new(0, JoinRequest(Request::Join { user: sue, team: a }), 0, 80, Outcome::Ok(())))?;
//! history.push(Call::new(1, JoinRequest(Request::Join { user: sue, team: b }), 30, 120, Outcome::Ok(())))?;
//!
//! let verdict = check(&JoinSpec::new(), &history, &Options::default());
//! assert_eq!(verdict.kind(), "not linearizable");
//! assert_eq!(verdict.unorderable().unwrap().calls, [0, 1]);
//! # Ok::<(), joincheck::history::HistoryError>(())
//! ```

pub mod join;
mod lists;
mod minimal;
pub mod register;
mod search;
mod timeline;

pub use timeline::timeline;

use crate::check::Limits;
use crate::history::{Call, History, Outcome};
use search::{Budget, Decision, Item};
use std::collections::BTreeMap;
use std::hash::Hash;
use std::time::Instant;

/// A sequential specification, partitioned into independent keys.
pub trait Specification {
    /// What a request asks.
    type Input: PartialEq;
    /// What an ok answer carries.
    type Ok;
    /// What a refusal carries.
    type Refusal;
    /// The part of the state a request touches; requests on different keys are independent.
    type Key: Clone + Ord;
    /// One key's state.
    type State: Clone + Eq + Hash;

    /// The key `input` touches.
    fn key(&self, input: &Self::Input) -> Self::Key;

    /// `key`'s state before any request.
    fn initial(&self, key: &Self::Key) -> Self::State;

    /// The state after `input` takes effect in `state` and answers `answer`, if that answer is
    /// possible there. For [`Answer::Unknown`], the state after it takes effect with whatever
    /// answer the state gives it.
    fn step(
        &self,
        state: &Self::State,
        input: &Self::Input,
        answer: Answer<'_, Self::Ok, Self::Refusal>,
    ) -> Option<Self::State>;

    /// Whether `input` answered `answer` leaves every state it is possible in unchanged (a read,
    /// a refusal). The search takes such a request as soon as it is possible, without trying
    /// other orders, which is sound only if this is true; by default no request is read-only.
    fn is_read_only(
        &self,
        _input: &Self::Input,
        _answer: Answer<'_, Self::Ok, Self::Refusal>,
    ) -> bool {
        false
    }

    /// Whether `key` may end in `state` once every request is over: the final state read from
    /// the system, when it is known. Every state, unless the specification says otherwise.
    fn may_end_in(&self, _key: &Self::Key, _state: &Self::State) -> bool {
        true
    }

    /// Keys to check even if no request touches them: those whose initial or final state the
    /// specification names.
    fn keys(&self) -> Vec<Self::Key> {
        Vec::new()
    }

    /// `call` in words, for timelines: `join sue → team-A: ok`.
    fn describe_call(&self, call: &CallOf<Self>) -> String;

    /// `key` in words: `sue`.
    fn describe_key(&self, key: &Self::Key) -> String;

    /// The final state `key` must end in, in words, when [`Specification::may_end_in`] says so.
    fn describe_ending(&self, key: &Self::Key) -> String {
        format!("{}'s required final state", self.describe_key(key))
    }
}

/// A call of a history checked against `S`.
pub type CallOf<S> =
    Call<<S as Specification>::Input, <S as Specification>::Ok, <S as Specification>::Refusal>;

/// A history checked against `S`.
pub type HistoryOf<S> =
    History<<S as Specification>::Input, <S as Specification>::Ok, <S as Specification>::Refusal>;

/// The answer a step must agree with.
#[derive(Debug)]
pub enum Answer<'a, A, R> {
    /// The service said yes, with this.
    Ok(&'a A),
    /// The service said no, with this reason.
    Refused(&'a R),
    /// Nobody knows what it answered.
    Unknown,
}

impl<A, R> Clone for Answer<'_, A, R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<A, R> Copy for Answer<'_, A, R> {}

/// How long to search, and whether to shrink what cannot be ordered.
///
/// ```
/// use joincheck::check::Limits;
/// use joincheck::linearizability::Options;
/// use std::time::Duration;
///
/// let options = Options::default().limits(Limits::default().timeout(Duration::from_secs(60)));
/// assert!(options.minimize);
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Options {
    /// Stop on a timeout or a stop request: the verdict is then inconclusive, unless a request
    /// that cannot be ordered was found first.
    pub limits: Limits,
    /// Shrink the requests that cannot be ordered to a minimal set (by default); without it the
    /// report names every request of the key.
    pub minimize: bool,
    /// At most this many points (requests taken effect, state) memoized by one key's search, a
    /// hundred bytes or so each (10,000,000 by default); past it the verdict is inconclusive.
    pub max_states: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            limits: Limits::default(),
            minimize: true,
            max_states: 10_000_000,
        }
    }
}

impl Options {
    /// Stops on these limits.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Shrinks what cannot be ordered, or not.
    pub fn minimize(mut self, minimize: bool) -> Self {
        self.minimize = minimize;
        self
    }

    /// Memoizes at most `max_states` points per key's search.
    pub fn max_states(mut self, max_states: usize) -> Self {
        self.max_states = max_states;
        self
    }
}

/// The verdict on a history.
#[derive(Clone, Debug, PartialEq)]
pub enum Linearizability<K> {
    /// Every key's requests have an order the specification allows.
    Linearizable {
        /// What was searched.
        stats: Stats,
    },
    /// Some key's requests have none.
    NotLinearizable {
        /// Such a key (the first in key order of those refuted in the earliest round, see
        /// [`check`]) and its requests that cannot be ordered.
        unorderable: Unorderable<K>,
        /// What was searched.
        stats: Stats,
    },
    /// A limit stopped the search before every key was decided.
    Inconclusive {
        /// Why, and how far it got.
        reason: String,
        /// What was searched.
        stats: Stats,
    },
}

impl<K> Linearizability<K> {
    /// `linearizable`, `not linearizable` or `inconclusive`.
    pub fn kind(&self) -> &'static str {
        match self {
            Linearizability::Linearizable { .. } => "linearizable",
            Linearizability::NotLinearizable { .. } => "not linearizable",
            Linearizability::Inconclusive { .. } => "inconclusive",
        }
    }

    /// What was searched.
    pub fn stats(&self) -> &Stats {
        match self {
            Linearizability::Linearizable { stats }
            | Linearizability::NotLinearizable { stats, .. }
            | Linearizability::Inconclusive { stats, .. } => stats,
        }
    }

    /// The requests that cannot be ordered, if some cannot.
    pub fn unorderable(&self) -> Option<&Unorderable<K>> {
        match self {
            Linearizability::NotLinearizable { unorderable, .. } => Some(unorderable),
            _ => None,
        }
    }
}

/// Requests of one key that cannot be ordered: no order of the key's requests gives these the
/// answers they got, even if every other request of the key took effect or not, at any moment of
/// its interval (an unknown one: at any moment after its invocation, or never).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unorderable<K> {
    /// The key.
    pub key: K,
    /// The requests' ids, in id order.
    pub calls: Vec<usize>,
    /// Whether the key's required final state is part of the contradiction: without it, these
    /// requests could be ordered. Always set when not minimized.
    pub ending: bool,
    /// Whether the set is minimal: giving any one of its requests an unknown answer within its
    /// interval lets the rest be ordered. False when minimizing was off or a limit stopped it.
    pub minimal: bool,
    /// How many requests the key has in the history, errors included.
    pub key_calls: usize,
}

/// What a check searched.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stats {
    /// Keys decided.
    pub keys: usize,
    /// Requests of the decided keys, errors included.
    pub calls: usize,
    /// Search steps: requests tried at a point of an order, over every search.
    pub steps: u64,
    /// Seconds deciding the keys.
    pub seconds: f64,
    /// Seconds shrinking the requests that cannot be ordered.
    pub minimizing_seconds: f64,
}

/// Steps each undecided key may take in the first round; each round allows four times more.
const FIRST_ROUND_STEPS: u64 = 100_000;

/// Checks `history` against `spec` until every key is decided, a key's requests cannot be
/// ordered, or a limit stops it.
///
/// Keys are searched in rounds, in key order within each, with a step allowance per key that
/// grows fourfold from round to round; a key that needs more waits for the next round. So a key
/// that is quick to refute is found even behind one that is slow to exhaust, and the key
/// reported is the same on every run: the first, in key order, refuted in the earliest round.
pub fn check<S: Specification>(
    spec: &S,
    history: &HistoryOf<S>,
    options: &Options,
) -> Linearizability<S::Key> {
    let started = Instant::now();
    let mut budget = Budget::new(&options.limits, options.max_states, started);
    let mut undecided: Vec<(S::Key, Vec<usize>)> = partition(spec, history).into_iter().collect();
    let keys = undecided.len();
    let mut stats = Stats::default();
    let mut allowance = FIRST_ROUND_STEPS;
    while !undecided.is_empty() {
        let mut next_round = Vec::new();
        for (key, ids) in undecided {
            let items = items(history, &ids);
            let decision = search::decide(spec, &key, &items, true, allowance, &mut budget);
            stats.steps = budget.steps;
            stats.seconds = started.elapsed().as_secs_f64();
            match decision {
                Decision::Linearizable => {
                    stats.keys += 1;
                    stats.calls += ids.len();
                }
                Decision::OverCap => next_round.push((key, ids)),
                Decision::NotLinearizable => {
                    stats.keys += 1;
                    stats.calls += ids.len();
                    let unorderable =
                        unorderable(spec, key, &items, ids.len(), options, &mut budget);
                    stats.steps = budget.steps;
                    stats.minimizing_seconds = started.elapsed().as_secs_f64() - stats.seconds;
                    return Linearizability::NotLinearizable { unorderable, stats };
                }
                Decision::Stopped(reason) => {
                    let reason = format!(
                        "stopped by the {reason} after deciding {} of {}",
                        stats.keys,
                        crate::figures::count(keys as u64, "key")
                    );
                    return Linearizability::Inconclusive { reason, stats };
                }
            }
        }
        undecided = next_round;
        allowance = allowance.saturating_mul(4);
    }
    Linearizability::Linearizable { stats }
}

/// The requests of `key` that cannot be ordered, shrunk when `options` say so.
fn unorderable<S: Specification>(
    spec: &S,
    key: S::Key,
    items: &[Item<'_, S>],
    key_calls: usize,
    options: &Options,
    budget: &mut Budget<'_>,
) -> Unorderable<S::Key> {
    let shrunk = if options.minimize {
        minimal::shrink(spec, &key, items, budget)
    } else {
        minimal::Shrunk::everything(items)
    };
    Unorderable {
        key,
        calls: shrunk.calls,
        ending: shrunk.ending,
        minimal: shrunk.minimal,
        key_calls,
    }
}

/// Each key's calls (ids, errors included), for every key a call touches or the spec names.
fn partition<S: Specification>(spec: &S, history: &HistoryOf<S>) -> BTreeMap<S::Key, Vec<usize>> {
    let mut keys: BTreeMap<S::Key, Vec<usize>> = spec
        .keys()
        .into_iter()
        .map(|key| (key, Vec::new()))
        .collect();
    for (id, call) in history.calls().iter().enumerate() {
        keys.entry(spec.key(&call.input)).or_default().push(id);
    }
    keys
}

/// The calls `ids` as the search sees them: errors left out (they did not take effect).
fn items<'h, S: Specification>(history: &'h HistoryOf<S>, ids: &[usize]) -> Vec<Item<'h, S>> {
    ids.iter()
        .filter_map(|&id| {
            let call = &history.calls()[id];
            let answer = match &call.outcome {
                Outcome::Ok(ok) => Answer::Ok(ok),
                Outcome::Refused(refusal) => Answer::Refused(refusal),
                Outcome::Unknown => Answer::Unknown,
                Outcome::Error(_) => return None,
            };
            Some(Item {
                id,
                input: &call.input,
                answer,
                invoked: call.invoked,
                deadline: call.completed,
            })
        })
        .collect()
}
