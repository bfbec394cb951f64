//! The shared database the servers talk to.
//!
//! Two collections, as in the article: a teams collection ([`TeamsCollection`]) for the naive
//! protocol and an event store ([`EventStore`]) for the event-sourced ones. Every operation is one
//! critical section, and is recorded in the operation history *inside that same critical
//! section*, so the history order is the order in which the operations took effect, under std
//! threads, loom and shuttle alike.

mod events;
mod leases;
mod teams;

pub use events::{Conflict, EventStore, EventStoreConnection};
pub use leases::{Lease, LeasedTeams, LeasedTeamsConnection, LockTokens, StaleToken};
pub use teams::{TeamsCollection, TeamsConnection};

use crate::runtime::{Condvar, Mutex, Runtime};
use joincheck_models::domain::{ServerId, TeamId, UserId};
use joincheck_models::operation::{OpResult, Operation, Step};
use std::collections::{BTreeSet, VecDeque};

/// Whether a database keeps its operation history. Off is faster; checks need it on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recording {
    /// Record every operation with what it returned and the membership after it.
    On,
    /// Record nothing.
    Off,
}

/// What the checking harness needs from a database, whoever wrote it.
pub trait Database: Send + Sync + 'static {
    /// A fresh database already holding the `(team, user)` memberships in `initial`; seeding is
    /// not recorded.
    fn open(initial: &[(TeamId, UserId)], recording: Recording) -> Self
    where
        Self: Sized;

    /// Team membership now, as sorted `(team, user)` pairs.
    fn membership(&self) -> Vec<(TeamId, UserId)>;
    /// Every recorded operation, in the order they took effect (empty when not recording).
    fn history(&self) -> Vec<Step>;

    /// From now on, let operations take effect only in this order of servers (one entry per
    /// operation); once it is used up, in any order. Replaying a model path on the real code
    /// needs this. Returns `false` when the database cannot enforce an order.
    fn enforce_order(&self, order: Vec<ServerId>) -> bool {
        let _ = order;
        false
    }

    /// Like [`Database::enforce_order`], from the steps themselves: a database some of whose
    /// steps are not its servers' own doing (a lease expiring under its holder) tells them apart
    /// here. The default enforces the order of the steps' servers.
    fn enforce_steps(&self, steps: &[Step]) -> bool {
        self.enforce_order(steps.iter().map(|step| step.server).collect())
    }

    /// Tells the order that `server` will perform no more operations, so that an order still
    /// waiting for it is reported as diverged instead of waiting forever.
    fn server_finished(&self, server: ServerId) {
        let _ = server;
    }

    /// Where the enforced order could not be followed, if it could not.
    fn order_diverged(&self) -> Option<String> {
        None
    }
}

/// An enforced order of operations, by server.
#[derive(Default)]
struct Order {
    next: VecDeque<ServerId>,
    finished: BTreeSet<ServerId>,
    taken: usize,
    diverged: Option<String>,
}

impl Order {
    /// Whether `server` may operate now. If the server whose turn it is has finished, the order
    /// cannot be followed: note that and let everyone through.
    fn admits(&mut self, server: ServerId) -> bool {
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

    fn took_effect(&mut self, server: ServerId) {
        if self.next.front() == Some(&server) {
            self.next.pop_front();
            self.taken += 1;
        }
    }
}

/// The mutable part of a collection: its state, its history and any enforced order.
struct Inner<S> {
    state: S,
    history: Option<Vec<Step>>,
    order: Option<Order>,
}

/// A collection's state with its history, behind one mutex: one lock = one operation.
struct Guarded<R: Runtime, S: Send + 'static> {
    inner: Mutex<R, Inner<S>>,
    turn: Condvar<R>,
}

/// What an operation run by [`Guarded::perform`] did.
struct Performed<T> {
    /// Its answer to the caller.
    answer: T,
    /// The step to record: server, operation and result; `None` when nothing happened.
    step: Option<(ServerId, Operation, OpResult)>,
    /// Whether waiters may be ready now.
    wakes: bool,
}

/// A collection whose membership can be read off its state.
trait Membership {
    fn membership(&self) -> Vec<(TeamId, UserId)>;
}

impl<R: Runtime, S: Membership + Send + 'static> Guarded<R, S> {
    fn new(state: S, recording: Recording) -> Self {
        let history = (recording == Recording::On).then(Vec::new);
        Guarded {
            inner: Mutex::new(Inner {
                state,
                history,
                order: None,
            }),
            turn: Condvar::new(),
        }
    }

    /// Runs one operation atomically and records it in the same critical section.
    fn operate<T>(
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
        let (answer, result) = apply(&mut inner.state);
        if let Some(history) = &mut inner.history {
            history.push(Step {
                server,
                operation,
                result,
                membership_after: inner.state.membership(),
            });
        }
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
    fn perform<T>(
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
        let performed = apply(&mut inner.state);
        if let (Some(history), Some((server, operation, result))) =
            (&mut inner.history, performed.step)
        {
            history.push(Step {
                server,
                operation,
                result,
                membership_after: inner.state.membership(),
            });
        }
        if let Some(order) = &mut inner.order {
            order.took_effect(actor);
        }
        if performed.wakes || inner.order.is_some() {
            self.turn.notify_all();
        }
        performed.answer
    }

    fn membership(&self) -> Vec<(TeamId, UserId)> {
        self.inner.lock().state.membership()
    }

    fn history(&self) -> Vec<Step> {
        self.inner.lock().history.clone().unwrap_or_default()
    }

    fn enforce_order(&self, order: Vec<ServerId>) -> bool {
        self.inner.lock().order = Some(Order {
            next: order.into(),
            ..Order::default()
        });
        true
    }

    fn server_finished(&self, server: ServerId) {
        if let Some(order) = &mut self.inner.lock().order {
            order.finished.insert(server);
            self.turn.notify_all();
        }
    }

    fn order_diverged(&self) -> Option<String> {
        let inner = self.inner.lock();
        inner
            .order
            .as_ref()
            .and_then(|order| order.diverged.clone())
    }
}
