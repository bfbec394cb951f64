//! The real join services, one file per protocol, written the way a user writes them.
//!
//! A protocol is a [`JoinService`]: it says how to open its database and how to start a server on
//! it. A [`Server`] handles one request at a time, like one Node process in the article. Both are
//! generic over the [`Runtime`], so std threads, loom and shuttle run the very same code, and a
//! user's own implementation plugs into every engine by implementing these two traits.

pub mod event_sourced;
pub mod lease_lock;
pub mod naive;
pub mod sql;
pub mod unique_membership;
pub mod user_document;

pub use event_sourced::{EventSourced, EventSourcedServer};
pub use lease_lock::{LeaseLock, LeaseLockServer};
pub use naive::{Naive, NaiveServer};
pub use unique_membership::{UniqueMembership, UniqueMembershipServer};
pub use user_document::{UserDocument, UserDocumentServer};

use crate::runtime::Runtime;
use crate::store::{Database, Recording};
use joincheck_models::domain::{Event, JoinError, Request, ServerId, TeamId, UserId};
use std::sync::Arc;

/// A join protocol implementation: its database and the servers that share it.
///
/// Engines call these inside each checked run, so every primitive is created where the
/// runtime allows it.
pub trait JoinService<R: Runtime>: Send + Sync + 'static {
    /// The database every server of one run shares.
    type Database: Database;
    /// One server process.
    type Server: Server;

    /// The protocol's name in reports, e.g. `naive`.
    fn name(&self) -> String;

    /// Opens a fresh database already holding the `(team, user)` memberships in `initial`
    /// (seeding is not recorded): every execution gets one. A database that cannot be opened
    /// (a server that went away) panics with the reason: the engines then report the check
    /// inconclusive, never holding.
    fn open_database(
        &self,
        initial: &[(TeamId, UserId)],
        recording: Recording,
    ) -> Arc<Self::Database>;

    /// Starts server `id` on `database`.
    fn start_server(&self, database: &Arc<Self::Database>, id: ServerId) -> Self::Server;

    /// The event log of `database`, for a service that keeps one: a load test checks that each
    /// stream's versions run 1, 2, 3, … and that every acknowledged request's event is in it
    /// exactly once. `None` (the default) for a service without one.
    fn event_log(&self, database: &Self::Database) -> Option<Vec<LoggedEvent>> {
        let _ = database;
        None
    }

    /// Actors besides the servers that act on `database` while the servers run: a lease's
    /// clock, say. The engines run each on a thread of its own next to the servers', so loom and
    /// shuttle choose when they act, and wait for them as for the servers. None by default.
    fn environment(&self, database: &Arc<Self::Database>) -> Vec<Box<dyn FnOnce() + Send>> {
        let _ = database;
        Vec::new()
    }
}

/// An event of an event log, where the log keeps it: its stream and its version there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoggedEvent {
    /// The stream, by name: `log`, `sue`, `team-A`.
    pub stream: String,
    /// Its version in the stream, from 1.
    pub version: u64,
    /// The event.
    pub event: Event,
}

/// One server: it handles requests one after another.
pub trait Server: Send + 'static {
    /// Adds `user` to `team`, unless the user is on a team already.
    fn join(&mut self, user: UserId, team: TeamId) -> Result<(), JoinError>;

    /// Removes `user` from `team`.
    fn leave(&mut self, user: UserId, team: TeamId) -> Result<(), JoinError>;

    /// Handles one request.
    fn handle(&mut self, request: Request) -> Result<(), JoinError> {
        match request {
            Request::Join { user, team } => self.join(user, team),
            Request::Leave { user, team } => self.leave(user, team),
        }
    }
}
