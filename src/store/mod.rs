//! The shared database the servers talk to.
//!
//! Two collections, as in the article: a teams collection ([`TeamsCollection`]) for the naive
//! protocol and an event store ([`EventStore`]) for the event-sourced ones. Every operation is one
//! critical section, and is recorded in the operation history *inside that same critical
//! section*, so the history order is the order in which the operations took effect, under std
//! threads, loom and shuttle alike. [`Guarded`] is that building block, public so that a store of
//! your own gets the same recording, and the enforced order a model replay needs, for free.
//!
//! The one-step fixes have databases of their own: a memberships collection with a unique index
//! on the user ([`MembershipsCollection`]) and user documents changed by conditional updates
//! ([`UserDocuments`]).

mod events;
mod guarded;
mod leases;
mod memberships;
mod recorder;
pub mod sql;
mod teams;
mod user_documents;

pub use events::{Conflict, EventStore, EventStoreConnection};
pub(crate) use guarded::Performed;
pub use guarded::{Guarded, Membership};
pub use leases::{Lease, LeasedTeams, LeasedTeamsConnection, LockTokens, StaleToken};
pub use memberships::{DuplicateKey, MembershipsCollection, MembershipsConnection};
pub use teams::{TeamsCollection, TeamsConnection};
pub use user_documents::{UserDocuments, UserDocumentsConnection};

use joincheck_models::domain::{ServerId, TeamId, UserId};
use joincheck_models::operation::{OpResult, Operation, Step};

/// Whether a database keeps its operation history. Off is faster; checks need it on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recording {
    /// Record every operation with what it returned and the membership after it: what every
    /// engine judges. On an SQL database the servers' statements then take turns, one step each.
    On,
    /// Record nothing. On an SQL database statements run at once, as in a deployment.
    Off,
    /// Keep each server's operations apart, without the membership, for a load test to take
    /// after each request ([`Database::take_steps`]). On an SQL database statements run at
    /// once, as in a deployment. The in-memory stores keep nothing this way.
    PerServer,
}

/// A history a service can write its own steps into, beside the database's operations: a lock
/// taken and released ([`Mutex::lock_recorded`](crate::runtime::Mutex::lock_recorded)), a cache
/// hit. [`Guarded`] is one, and so is every built-in collection.
pub trait StepLog: Send + Sync {
    /// Records that `server` did `operation`, which returned `result`, with the membership now,
    /// when the history is recording; the database's state does not change.
    fn record(&self, server: ServerId, operation: Operation, result: OpResult);
}

/// What the checking harness needs from a database, whoever wrote it. A service opens a fresh
/// one for every execution
/// ([`JoinService::open_database`](crate::service::JoinService::open_database)).
pub trait Database: Send + Sync + 'static {
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

    /// The operations `server` performed since the last call, when the database was opened
    /// with [`Recording::PerServer`]: a load test records each request's statements this way.
    fn take_steps(&self, server: ServerId) -> Vec<Step> {
        let _ = server;
        Vec::new()
    }

    /// Cuts `server`'s connection, as a network fault or an administrator would (a load test's
    /// fault): its statement in flight, if any, and every later one fail with the connection
    /// lost, until the server connects again. `false` when the database has no connections to
    /// cut.
    fn cut_connection(&self, server: ServerId) -> bool {
        let _ = server;
        false
    }
}
