//! User documents: one document per user with a `team` field, changed only by conditional
//! updates, as `UPDATE users SET team = $1 WHERE id = $2 AND team IS NULL` does in SQL.
//!
//! The condition is what makes a join one operation: the update reads the field and writes it in
//! the same critical section, and answers how many documents it changed.

use super::{Database, Guarded, Membership, Recording, StepLog};
use crate::runtime::Runtime;
use joincheck_models::domain::{ServerId, TeamId, UserId};
use joincheck_models::operation::{OpResult, Operation, Step};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// Each user's `team` field. Every user has a document; the users not listed have no team.
#[derive(Default)]
struct Documents(BTreeMap<UserId, TeamId>);

impl Membership for Documents {
    fn membership(&self) -> Vec<(TeamId, UserId)> {
        let mut pairs: Vec<(TeamId, UserId)> =
            self.0.iter().map(|(user, team)| (*team, *user)).collect();
        pairs.sort();
        pairs
    }
}

/// The users' documents. Each method is one database call.
pub struct UserDocuments<R: Runtime> {
    documents: Guarded<R, Documents>,
}

impl<R: Runtime> fmt::Debug for UserDocuments<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserDocuments").finish_non_exhaustive()
    }
}

impl<R: Runtime> UserDocuments<R> {
    /// Documents whose `team` is set for the given `(team, user)` memberships; seeding is not
    /// recorded.
    ///
    /// # Panics
    ///
    /// When `initial` puts a user on two teams: one document has one `team` field.
    pub fn with_members(initial: &[(TeamId, UserId)], recording: Recording) -> Self {
        let mut documents = Documents::default();
        for &(team, user) in initial {
            let existing = *documents.0.entry(user).or_insert(team);
            assert_eq!(
                existing, team,
                "{user}'s document cannot have its team be {existing} and {team}"
            );
        }
        UserDocuments {
            documents: Guarded::new(documents, recording),
        }
    }

    /// A connection for `server`: the history attributes its operations to that server.
    pub fn connect(self: &Arc<Self>, server: ServerId) -> UserDocumentsConnection<R> {
        UserDocumentsConnection {
            documents: Arc::clone(self),
            server,
        }
    }
}

impl<R: Runtime> Database for UserDocuments<R> {
    fn membership(&self) -> Vec<(TeamId, UserId)> {
        self.documents.membership()
    }

    fn history(&self) -> Vec<Step> {
        self.documents.history()
    }

    fn enforce_order(&self, order: Vec<ServerId>) -> bool {
        self.documents.enforce_order(order)
    }

    fn server_finished(&self, server: ServerId) {
        self.documents.server_finished(server)
    }

    fn order_diverged(&self) -> Option<String> {
        self.documents.order_diverged()
    }
}

impl<R: Runtime> StepLog for UserDocuments<R> {
    fn record(&self, server: ServerId, operation: Operation, result: OpResult) {
        self.documents.record(server, operation, result);
    }
}

/// One server's connection to the user documents.
pub struct UserDocumentsConnection<R: Runtime> {
    documents: Arc<UserDocuments<R>>,
    server: ServerId,
}

impl<R: Runtime> fmt::Debug for UserDocumentsConnection<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserDocumentsConnection")
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl<R: Runtime> UserDocumentsConnection<R> {
    /// The server this connection is, as its operations are recorded: what a service's own
    /// recorded lock names too ([`Mutex::lock_recorded`](crate::runtime::Mutex::lock_recorded)),
    /// so that a server needs to keep no id of its own.
    pub fn server(&self) -> ServerId {
        self.server
    }

    /// The database, as a history a service can write its own steps into (a recorded lock).
    pub fn log(&self) -> &dyn StepLog {
        self.documents.as_ref()
    }

    /// updateOne: `set team = team where user = user and team is where_team` (`None`: no team).
    /// Returns how many documents it changed (0 or 1).
    pub fn update_team(
        &self,
        user: UserId,
        team: Option<TeamId>,
        where_team: Option<TeamId>,
    ) -> u64 {
        let operation = Operation::UpdateTeam {
            user,
            team,
            where_team,
        };
        self.documents
            .documents
            .operate(self.server, operation, |documents| {
                let current = documents.0.get(&user).copied();
                let rows = if current == where_team {
                    match team {
                        Some(team) => documents.0.insert(user, team),
                        None => documents.0.remove(&user),
                    };
                    1
                } else {
                    0
                };
                (rows, OpResult::Changed { rows })
            })
    }
}
