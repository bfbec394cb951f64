//! One insert under a unique index on the user: the database looks and writes in one
//! statement, under the index's lock, so there is no check to go stale. A duplicate key means
//! the user is on a team already (the error does not say which).

use super::{connect, open, seed_memberships, MEMBERSHIPS, MEMBERSHIPS_QUERY};
use crate::runtime::Runtime;
use crate::service::{JoinService, Server};
use crate::store::sql::{Schema, SqlConnection, SqlDatabase, SqlTarget, Statement};
use crate::store::Recording;
use joincheck_models::domain::{DatabaseError, JoinError, ServerId, TeamId, UserId};
use joincheck_models::operation::Operation;
use std::sync::Arc;

/// An insert into memberships with a unique index on the user.
#[derive(Clone, Debug)]
pub struct UniqueMembership {
    /// Where its databases are opened.
    pub target: SqlTarget,
}

/// A server inserting memberships under the unique index.
#[derive(Debug)]
pub struct UniqueMembershipServer<R: Runtime> {
    db: SqlConnection<R>,
}

const SCHEMA: Schema = Schema {
    create: &[
        MEMBERSHIPS,
        "CREATE UNIQUE INDEX memberships_user ON memberships (user_id)",
    ],
    seed: seed_memberships,
    membership: MEMBERSHIPS_QUERY,
};

impl<R: Runtime> Server for UniqueMembershipServer<R> {
    fn join(&mut self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        let insert = Statement::new(
            "insert",
            "INSERT INTO memberships (team, user_id) VALUES ($1, $2)",
        )
        .reads(user)
        .writes(user)
        .model(Operation::InsertMembership { user, team });
        match self.db.execute(&insert, &[team.into(), user.into()]) {
            Ok(_) => Ok(()),
            Err(error) if error.kind == DatabaseError::DuplicateKey => {
                Err(JoinError::AlreadyOnSomeTeam)
            }
            Err(error) => Err(error.into()),
        }
    }

    fn leave(&mut self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        let delete = Statement::new(
            "delete",
            "DELETE FROM memberships WHERE user_id = $1 AND team = $2",
        )
        .writes(user)
        .model(Operation::DeleteMembership { user, team });
        match self.db.execute(&delete, &[user.into(), team.into()])? {
            0 => Err(JoinError::NotOnTeam),
            _ => Ok(()),
        }
    }
}

impl<R: Runtime> JoinService<R> for UniqueMembership {
    type Database = SqlDatabase<R>;
    type Server = UniqueMembershipServer<R>;

    fn name(&self) -> String {
        "unique-membership".to_string()
    }

    fn open_database(
        &self,
        initial: &[(TeamId, UserId)],
        recording: Recording,
    ) -> Arc<SqlDatabase<R>> {
        open(&self.target, SCHEMA, initial, recording)
    }

    fn start_server(
        &self,
        database: &Arc<SqlDatabase<R>>,
        id: ServerId,
    ) -> UniqueMembershipServer<R> {
        UniqueMembershipServer {
            db: connect(database, id),
        }
    }
}
