//! The building block of every store: a collection's state behind one mutex, with its history.

use super::recorder::Recorder;
use super::{Recording, StepLog};
use crate::runtime::{Condvar, Mutex, Runtime};
use joincheck_models::domain::{ServerId, TeamId, UserId};
use joincheck_models::footprint::{Access, Datum, Footprint};
use joincheck_models::operation::{OpResult, Operation, Step};
use std::collections::{BTreeSet, VecDeque};
use std::fmt;

/// An enforced order of operations, by server.
#[derive(Default)]
pub(crate) struct Order {
    next: VecDeque<ServerId>,
    finished: BTreeSet<ServerId>,
    taken: usize,
    diverged: Option<String>,
}

impl Order {
    /// An order in which operations take effect, one entry per operation.
    pub(crate) fn new(order: Vec<ServerId>) -> Order {
        Order {
            next: order.into(),
            ..Order::default()
        }
    }

    /// Whether `server` may operate now. If the server whose turn it is has finished, the order
    /// cannot be followed: note that and let everyone through.
    pub(crate) fn admits(&mut self, server: ServerId) -> bool {
        match self.next.front() {
            None => true,
            Some(turn) if *turn == server => true,
            Some(turn) if self.finished.contains(turn) => {
                self.diverged = Some(format!(
                    "operation {} was to be {turn}'s, but {turn} had no operation left",
                    self.taken + 1
                ));
                self.next.clear();
                true
            }
            Some(_) => false,
        }
    }

    /// The order cannot be followed, for the reason given: from now on, any order.
    pub(crate) fn diverge(&mut self, why: &str) {
        self.diverged = Some(format!("operation {}: {why}", self.taken + 1));
        self.next.clear();
    }

    /// `server` will perform no more operations.
    pub(crate) fn finish(&mut self, server: ServerId) {
        self.finished.insert(server);
    }

    /// Where the order could not be followed, if it could not.
    pub(crate) fn diverged(&self) -> Option<String> {
        self.diverged.clone()
    }

    /// `server`'s operation took effect: the order moves on if it was its turn.
    pub(crate) fn took_effect(&mut self, server: ServerId) {
        if self.next.front() == Some(&server) {
            self.next.pop_front();
            self.taken += 1;
        }
    }
}

/// What an operation touched: what its own footprint says, and the teams of every user whose
/// membership it changed ([`write_changed_teams`]).
fn footprint(
    step: Option<(&Operation, &OpResult)>,
    before: &[(TeamId, UserId)],
    after: &[(TeamId, UserId)],
) -> Footprint {
    let mut footprint = step.map_or_else(Footprint::default, |(op, result)| op.footprint(result));
    write_changed_teams(&mut footprint, before, after);
    footprint
}

/// Adds to `footprint` a write of the teams of every user whose membership differs between
/// `before` and `after`, so that the invariants, judged on membership, see every such change in
/// the same order in every execution an engine takes as equivalent.
pub(crate) fn write_changed_teams(
    footprint: &mut Footprint,
    before: &[(TeamId, UserId)],
    after: &[(TeamId, UserId)],
) {
    let changed = before
        .iter()
        .filter(|pair| !after.contains(pair))
        .chain(after.iter().filter(|pair| !before.contains(pair)));
    for (_, user) in changed {
        footprint.add(Access::Write, Datum::TeamsOf(Some(*user)));
    }
}

/// The mutable part of a collection: its state and any enforced order.
struct Inner<S> {
    state: S,
    order: Option<Order>,
}

/// A collection's state with its history, behind one mutex: one lock is one operation.
///
/// Build a store on it and every operation it runs through [`Guarded::operate`] takes effect in
/// one critical section and is recorded in that same section, with its result and the
/// membership right after, so the history's order is the order in which operations took effect
/// under std threads, loom and shuttle alike. It also lets operations take effect in an enforced
/// order of servers, which replaying a model path on the real code needs
/// ([`Database::enforce_order`](super::Database::enforce_order)): a store implements [`Database`](super::Database) by handing those calls to it.
///
/// ```
/// use joincheck::runtime::Runtime;
/// use joincheck::store::{Guarded, Membership, Recording};
/// use joincheck_models::domain::{ServerId, TeamId, UserId};
/// use joincheck_models::operation::{OpResult, Operation};
/// use std::collections::BTreeMap;
///
/// /// Each user's team, if any.
/// #[derive(Default)]
/// struct TeamOfUser(BTreeMap<UserId, TeamId>);
///
/// impl Membership for TeamOfUser {
///     fn membership(&self) -> Vec<(TeamId, UserId)> {
///         let mut pairs: Vec<_> = self.0.iter().map(|(user, team)| (*team, *user)).collect();
///         pairs.sort();
///         pairs
///     }
/// }
///
/// /// findOne by user: one operation, recorded with what it found.
/// fn find_team_of<R: Runtime>(
///     db: &Guarded<R, TeamOfUser>,
///     server: ServerId,
///     user: UserId,
/// ) -> Option<TeamId> {
///     db.operate(server, Operation::FindTeamOf { user }, |users| {
///         let team = users.0.get(&user).copied();
///         (team, OpResult::Found(team))
///     })
/// }
///
/// let db = Guarded::<joincheck::runtime::Std, _>::new(TeamOfUser::default(), Recording::On);
/// assert_eq!(find_team_of(&db, ServerId(0), UserId(0)), None);
/// assert_eq!(db.history().len(), 1);
/// ```
pub struct Guarded<R: Runtime, S: Send + 'static> {
    inner: Mutex<R, Inner<S>>,
    turn: Condvar<R>,
    history: Recorder,
}

impl<R: Runtime, S: Send + 'static> fmt::Debug for Guarded<R, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Guarded").finish_non_exhaustive()
    }
}

/// A step recorded here changes nothing in the state and takes no turn in an enforced order,
/// which orders the database's own operations.
impl<R: Runtime, S: Membership + Send + 'static> StepLog for Guarded<R, S> {
    fn record(&self, server: ServerId, operation: Operation, result: OpResult) {
        self.history.record(server, operation, result);
    }
}

/// A collection whose team membership can be read off its state: what the history records after
/// every operation, and what the invariant is judged on.
pub trait Membership {
    /// Team membership now, as sorted `(team, user)` pairs.
    fn membership(&self) -> Vec<(TeamId, UserId)>;
}

/// What an operation run by [`Guarded::perform`] did.
pub(crate) struct Performed<T> {
    /// Its answer to the caller.
    pub(crate) answer: T,
    /// The step to record: server, operation and result; `None` when nothing happened.
    pub(crate) step: Option<(ServerId, Operation, OpResult)>,
    /// Whether waiters may be ready now.
    pub(crate) wakes: bool,
}

impl<R: Runtime, S: Membership + Send + 'static> Guarded<R, S> {
    /// A collection holding `state`, recording its operations when `recording` is on.
    pub fn new(state: S, recording: Recording) -> Self {
        let history = Recorder::new(recording);
        history.set_membership(|| state.membership());
        Guarded {
            inner: Mutex::for_store(Inner { state, order: None }),
            turn: Condvar::new(),
            history,
        }
    }

    /// Runs one operation of `server` atomically and records it in the same critical section:
    /// `apply` changes the state and returns the caller's answer with the result to record.
    pub fn operate<T>(
        &self,
        server: ServerId,
        operation: Operation,
        apply: impl FnOnce(&mut S) -> (T, OpResult),
    ) -> T {
        R::round_trip();
        let mut guard = self.inner.lock();
        if guard.order.is_some() {
            guard = self.turn.wait_until(guard, |inner| {
                inner
                    .order
                    .as_mut()
                    .is_none_or(|order| order.admits(server))
            });
        }
        let inner = &mut *guard;
        let before = R::FOOTPRINTS.then(|| inner.state.membership());
        let (answer, result) = apply(&mut inner.state);
        if let Some(before) = before {
            let after = inner.state.membership();
            R::touch(|| footprint(Some((&operation, &result)), &before, &after));
        }
        self.record(&inner.state, server, operation, result);
        if let Some(order) = &mut inner.order {
            order.took_effect(server);
            self.turn.notify_all();
        }
        answer
    }

    /// One operation of `actor`, once `ready` holds for the state (a lock is free, say) and it
    /// is `actor`'s turn in an enforced order: atomic, and recorded in the same critical section
    /// when `apply` returns a step (an environment's operation may change nothing and record
    /// nothing). Wakes the waiters when it says they may be ready now, and under an enforced
    /// order; only then, as every wake is one more choice for loom to explore.
    pub(crate) fn perform<T>(
        &self,
        actor: ServerId,
        ready: impl Fn(&S) -> bool,
        apply: impl FnOnce(&mut S) -> Performed<T>,
    ) -> T {
        R::round_trip();
        let guard = self.inner.lock();
        let mut guard = self.turn.wait_until(guard, |inner| {
            ready(&inner.state) && inner.order.as_mut().is_none_or(|order| order.admits(actor))
        });
        let inner = &mut *guard;
        let before = R::FOOTPRINTS.then(|| inner.state.membership());
        let performed = apply(&mut inner.state);
        if let Some(before) = before {
            let after = inner.state.membership();
            let step = performed.step.as_ref().map(|(_, op, result)| (op, result));
            if step.is_some() || before != after {
                R::touch(|| footprint(step, &before, &after));
            }
        }
        if let Some((server, operation, result)) = performed.step {
            self.record(&inner.state, server, operation, result);
        }
        if let Some(order) = &mut inner.order {
            order.took_effect(actor);
        }
        if performed.wakes || inner.order.is_some() {
            self.turn.notify_all();
        }
        performed.answer
    }

    /// Changes the state without recording an operation: setting a run up, never a server's
    /// doing.
    pub(crate) fn set_up(&self, change: impl FnOnce(&mut S)) {
        let mut inner = self.inner.lock();
        change(&mut inner.state);
        self.history.set_membership(|| inner.state.membership());
    }

    /// Records an operation that took effect on `state`, within its critical section.
    fn record(&self, state: &S, server: ServerId, operation: Operation, result: OpResult) {
        if self.history.is_on() {
            self.history.operation(Step {
                server,
                operation,
                result,
                membership_after: state.membership(),
            });
        }
    }

    /// Reads the state without recording an operation (for snapshots and tests, not servers).
    pub fn inspect<T>(&self, read: impl FnOnce(&S) -> T) -> T {
        read(&self.inner.lock().state)
    }

    /// Team membership now.
    pub fn membership(&self) -> Vec<(TeamId, UserId)> {
        self.inspect(S::membership)
    }

    /// Every recorded operation, in the order they took effect (empty when not recording).
    pub fn history(&self) -> Vec<Step> {
        self.history.steps()
    }

    /// See [`Database::enforce_order`](super::Database::enforce_order).
    pub fn enforce_order(&self, order: Vec<ServerId>) -> bool {
        self.inner.lock().order = Some(Order::new(order));
        true
    }

    /// See [`Database::server_finished`](super::Database::server_finished).
    pub fn server_finished(&self, server: ServerId) {
        if let Some(order) = &mut self.inner.lock().order {
            order.finish(server);
            self.turn.notify_all();
        }
    }

    /// See [`Database::order_diverged`](super::Database::order_diverged).
    pub fn order_diverged(&self) -> Option<String> {
        let inner = self.inner.lock();
        inner.order.as_ref().and_then(Order::diverged)
    }
}
