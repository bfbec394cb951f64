//! The article's check and act in one transaction: `BEGIN`, `SELECT`, `INSERT`, `COMMIT`.
//!
//! Whether that is enough is the isolation level's to say. At PostgreSQL's default, read
//! committed, each statement sees what was committed when it started: both servers check before
//! either commits, and both insert. At repeatable read both read one snapshot and insert
//! different rows, which no row lock or unique index stops: write skew. Serializable notices
//! that the two transactions read what the other wrote and fails one with a serialization
//! failure, which the service retries. SQLite has one level, serializable, and its one write
//! lock, taken at `BEGIN IMMEDIATE`, runs the transactions one after another.

use super::{begin, connect, in_transaction, open, seed_memberships, Abort};
use super::{MEMBERSHIPS, MEMBERSHIPS_QUERY};
use crate::runtime::Runtime;
use crate::service::{JoinService, Server};
use crate::store::sql::{Schema, SqlConnection, SqlDatabase, SqlTarget, Statement};
use crate::store::Recording;
use joincheck_models::domain::{JoinError, ServerId, TeamId, UserId};
use std::sync::Arc;

/// The isolation level a transaction asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isolation {
    /// The database's default: read committed on PostgreSQL.
    Default,
    /// Repeatable read: one snapshot for the whole transaction.
    RepeatableRead,
    /// Serializable: as if the transactions ran one after another, or one fails.
    Serializable,
}

/// The naive check-then-act protocol in one transaction, at an isolation level.
#[derive(Clone, Debug)]
pub struct NaiveTransaction {
    /// Where its databases are opened.
    pub target: SqlTarget,
    /// The level its transactions ask for.
    pub isolation: Isolation,
}

/// A server running the naive protocol in transactions.
#[derive(Debug)]
pub struct NaiveTransactionServer<R: Runtime> {
    db: SqlConnection<R>,
    begin: &'static str,
}

const SCHEMA: Schema = Schema {
    create: &[MEMBERSHIPS],
    seed: seed_memberships,
    membership: MEMBERSHIPS_QUERY,
};

impl<R: Runtime> Server for NaiveTransactionServer<R> {
    fn join(&mut self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        in_transaction(&self.db, self.begin, |db| {
            let check = Statement::new("check", "SELECT team FROM memberships WHERE user_id = $1")
                .reads(user);
            let found = db.query(&check, &[user.into()])?;
            if let Some(current) = found.first().and_then(|row| row.team(0)) {
                return Err(Abort::Refuse(JoinError::AlreadyOnTeam { team: current }));
            }
            let act = Statement::new(
                "act",
                "INSERT INTO memberships (team, user_id) VALUES ($1, $2)",
            )
            .writes(user);
            db.execute(&act, &[team.into(), user.into()])?;
            Ok(())
        })
    }

    fn leave(&mut self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        in_transaction(&self.db, self.begin, |db| {
            let pull = Statement::new(
                "pull",
                "DELETE FROM memberships WHERE team = $1 AND user_id = $2",
            )
            .writes(user);
            match db.execute(&pull, &[team.into(), user.into()])? {
                0 => Err(Abort::Refuse(JoinError::NotOnTeam)),
                _ => Ok(()),
            }
        })
    }
}

impl<R: Runtime> JoinService<R> for NaiveTransaction {
    type Database = SqlDatabase<R>;
    type Server = NaiveTransactionServer<R>;

    fn name(&self) -> String {
        match self.isolation {
            Isolation::Default => "naive-transaction",
            Isolation::RepeatableRead => "naive-repeatable-read",
            Isolation::Serializable => "naive-serializable",
        }
        .to_string()
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
    ) -> NaiveTransactionServer<R> {
        NaiveTransactionServer {
            db: connect(database, id),
            begin: begin(self.target.dialect(), self.isolation),
        }
    }
}
