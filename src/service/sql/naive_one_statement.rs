//! The check moved into the insert: `INSERT … SELECT … WHERE NOT EXISTS (…)`, one statement.
//!
//! Interleaving whole statements, it holds: each insert sees the other's row. Inside one
//! statement it need not: on PostgreSQL below serializable isolation the statement reads its
//! snapshot before it writes, and locks nothing it read, so two of them running at once can
//! both find no membership and both insert. The statement is declared so, and a check on
//! PostgreSQL that finds it holding says that is evidence, not proof. On SQLite, where a
//! statement's read and write happen under one write lock, it holds.

use super::{connect, open, seed_memberships, MEMBERSHIPS, MEMBERSHIPS_QUERY};
use crate::runtime::Runtime;
use crate::service::{JoinService, Server};
use crate::store::sql::{Schema, SqlConnection, SqlDatabase, SqlTarget, Statement};
use crate::store::Recording;
use joincheck_models::domain::{JoinError, ServerId, TeamId, UserId};
use std::sync::Arc;

/// The check inside the insert, one statement.
#[derive(Clone, Debug)]
pub struct NaiveOneStatement {
    /// Where its databases are opened.
    pub target: SqlTarget,
}

/// A server inserting a membership only where none exists, in one statement.
#[derive(Debug)]
pub struct NaiveOneStatementServer<R: Runtime> {
    db: SqlConnection<R>,
}

const SCHEMA: Schema = Schema {
    create: &[MEMBERSHIPS],
    seed: seed_memberships,
    membership: MEMBERSHIPS_QUERY,
};

impl<R: Runtime> Server for NaiveOneStatementServer<R> {
    fn join(&mut self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        let insert = Statement::new(
            "act",
            "INSERT INTO memberships (team, user_id) SELECT $2, $1 \
             WHERE NOT EXISTS (SELECT 1 FROM memberships WHERE user_id = $1)",
        )
        .reads(user)
        .writes(user)
        .reads_unlocked();
        match self.db.execute(&insert, &[user.into(), team.into()])? {
            0 => Err(JoinError::AlreadyOnSomeTeam),
            _ => Ok(()),
        }
    }

    fn leave(&mut self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        let pull = Statement::new(
            "pull",
            "DELETE FROM memberships WHERE team = $1 AND user_id = $2",
        )
        .writes(user);
        match self.db.execute(&pull, &[team.into(), user.into()])? {
            0 => Err(JoinError::NotOnTeam),
            _ => Ok(()),
        }
    }
}

impl<R: Runtime> JoinService<R> for NaiveOneStatement {
    type Database = SqlDatabase<R>;
    type Server = NaiveOneStatementServer<R>;

    fn name(&self) -> String {
        "naive-one-statement".to_string()
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
    ) -> NaiveOneStatementServer<R> {
        NaiveOneStatementServer {
            db: connect(database, id),
        }
    }
}
