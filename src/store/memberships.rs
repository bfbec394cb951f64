//! The memberships collection: one `{user, team}` document per membership, with a unique index on
//! `user`, as `db.memberships.createIndex({user: 1}, {unique: true})` makes in Mongo.
//!
//! The index is what makes a join one operation: the insert looks for the user's membership and
//! writes in the same critical section, and refuses with a duplicate key when one is there.

use super::{Database, Guarded, Membership, Recording, StepLog};
use crate::runtime::Runtime;
use joincheck_models::domain::{JoinError, ServerId, TeamId, UserId};
use joincheck_models::operation::{OpResult, Operation, Step};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// The unique index refused an insert: this membership is already there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DuplicateKey {
    /// The user inserted twice.
    pub user: UserId,
    /// The team of the membership already there.
    pub team: TeamId,
}

impl fmt::Display for DuplicateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "duplicate key: {} already has a membership, on {}",
            self.user, self.team
        )
    }
}

impl std::error::Error for DuplicateKey {}

impl From<DuplicateKey> for JoinError {
    fn from(duplicate: DuplicateKey) -> JoinError {
        JoinError::AlreadyOnTeam {
            team: duplicate.team,
        }
    }
}

/// The memberships by user: the unique index allows one per user.
#[derive(Default)]
struct Memberships(BTreeMap<UserId, TeamId>);

impl Membership for Memberships {
    fn membership(&self) -> Vec<(TeamId, UserId)> {
        let mut pairs: Vec<(TeamId, UserId)> =
            self.0.iter().map(|(user, team)| (*team, *user)).collect();
        pairs.sort();
        pairs
    }
}

/// A memberships collection with a unique index on `user`. Each method is one database call.
pub struct MembershipsCollection<R: Runtime> {
    memberships: Guarded<R, Memberships>,
}

impl<R: Runtime> fmt::Debug for MembershipsCollection<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MembershipsCollection")
            .finish_non_exhaustive()
    }
}

impl<R: Runtime> MembershipsCollection<R> {
    /// A collection holding the given `(team, user)` memberships; seeding is not recorded.
    ///
    /// # Panics
    ///
    /// When `initial` puts a user on two teams: the unique index cannot hold that.
    pub fn with_members(initial: &[(TeamId, UserId)], recording: Recording) -> Self {
        let mut memberships = Memberships::default();
        for &(team, user) in initial {
            let existing = *memberships.0.entry(user).or_insert(team);
            assert_eq!(
                existing, team,
                "the unique index on user cannot hold {user} on {existing} and {team}"
            );
        }
        MembershipsCollection {
            memberships: Guarded::new(memberships, recording),
        }
    }

    /// A connection for `server`: the history attributes its operations to that server.
    pub fn connect(self: &Arc<Self>, server: ServerId) -> MembershipsConnection<R> {
        MembershipsConnection {
            collection: Arc::clone(self),
            server,
        }
    }
}

impl<R: Runtime> Database for MembershipsCollection<R> {
    fn membership(&self) -> Vec<(TeamId, UserId)> {
        self.memberships.membership()
    }

    fn history(&self) -> Vec<Step> {
        self.memberships.history()
    }

    fn enforce_order(&self, order: Vec<ServerId>) -> bool {
        self.memberships.enforce_order(order)
    }

    fn server_finished(&self, server: ServerId) {
        self.memberships.server_finished(server)
    }

    fn order_diverged(&self) -> Option<String> {
        self.memberships.order_diverged()
    }
}

impl<R: Runtime> StepLog for MembershipsCollection<R> {
    fn record(&self, server: ServerId, operation: Operation, result: OpResult) {
        self.memberships.record(server, operation, result);
    }
}

/// One server's connection to the memberships collection.
pub struct MembershipsConnection<R: Runtime> {
    collection: Arc<MembershipsCollection<R>>,
    server: ServerId,
}

impl<R: Runtime> fmt::Debug for MembershipsConnection<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MembershipsConnection")
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl<R: Runtime> MembershipsConnection<R> {
    /// The server this connection is, as its operations are recorded: what a service's own
    /// recorded lock names too ([`Mutex::lock_recorded`](crate::runtime::Mutex::lock_recorded)),
    /// so that a server needs to keep no id of its own.
    pub fn server(&self) -> ServerId {
        self.server
    }

    /// The database, as a history a service can write its own steps into (a recorded lock).
    pub fn log(&self) -> &dyn StepLog {
        self.collection.as_ref()
    }

    /// insertOne `{user, team}`; the unique index refuses it when `user` has a membership.
    pub fn insert(&self, user: UserId, team: TeamId) -> Result<(), DuplicateKey> {
        let operation = Operation::InsertMembership { user, team };
        self.collection
            .memberships
            .operate(self.server, operation, |memberships| {
                match memberships.0.get(&user) {
                    Some(&team) => {
                        let duplicate = DuplicateKey { user, team };
                        (Err(duplicate), OpResult::DuplicateKey { user, team })
                    }
                    None => {
                        memberships.0.insert(user, team);
                        (Ok(()), OpResult::Inserted)
                    }
                }
            })
    }

    /// deleteOne `{user, team}`: removes `user`'s membership only if it is for `team`. Returns
    /// how many documents it deleted (0 or 1).
    pub fn delete(&self, user: UserId, team: TeamId) -> u64 {
        let operation = Operation::DeleteMembership { user, team };
        self.collection
            .memberships
            .operate(self.server, operation, |memberships| {
                let rows = match memberships.0.get(&user) {
                    Some(&current) if current == team => {
                        memberships.0.remove(&user);
                        1
                    }
                    _ => 0,
                };
                (rows, OpResult::Changed { rows })
            })
    }
}
