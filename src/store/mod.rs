//! The shared database the servers talk to.
//!
//! Two collections, as in the article: a teams collection ([`TeamsCollection`]) for the naive
//! protocol and an event store ([`EventStore`]) for the event-sourced ones. Every operation is one
//! critical section, and is recorded in the operation history *inside that same critical
//! section*, so the history order is the order in which the operations took effect, under std
//! threads, loom and shuttle alike.

mod events;
mod teams;

pub use events::{Conflict, EventStore, EventStoreConnection};
pub use teams::{TeamsCollection, TeamsConnection};

use crate::runtime::{Mutex, Runtime};
use joincheck_models::domain::{ServerId, TeamId, UserId};
use joincheck_models::operation::{OpResult, Operation, Step};

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
    /// Team membership now, as sorted `(team, user)` pairs.
    fn membership(&self) -> Vec<(TeamId, UserId)>;
    /// Every recorded operation, in the order they took effect (empty when not recording).
    fn history(&self) -> Vec<Step>;
}

/// A collection's state with its history, behind one mutex: one lock = one operation.
struct Guarded<R: Runtime, S: Send + 'static> {
    inner: Mutex<R, (S, Option<Vec<Step>>)>,
}

/// A collection whose membership can be read off its state.
trait Membership {
    fn membership(&self) -> Vec<(TeamId, UserId)>;
}

impl<R: Runtime, S: Membership + Send + 'static> Guarded<R, S> {
    fn new(state: S, recording: Recording) -> Self {
        let history = (recording == Recording::On).then(Vec::new);
        Guarded {
            inner: Mutex::new((state, history)),
        }
    }

    /// Runs one operation atomically and records it in the same critical section.
    fn operate<T>(
        &self,
        server: ServerId,
        operation: Operation,
        apply: impl FnOnce(&mut S) -> (T, OpResult),
    ) -> T {
        let mut guard = self.inner.lock();
        let (state, history) = &mut *guard;
        let (answer, result) = apply(state);
        if let Some(history) = history {
            history.push(Step {
                server,
                operation,
                result,
                membership_after: state.membership(),
            });
        }
        answer
    }

    fn membership(&self) -> Vec<(TeamId, UserId)> {
        self.inner.lock().0.membership()
    }

    fn history(&self) -> Vec<Step> {
        self.inner.lock().1.clone().unwrap_or_default()
    }
}
