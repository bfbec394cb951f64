//! Lock the user's row first: `BEGIN`, `SELECT id FROM users WHERE id = $1 FOR UPDATE`, check,
//! insert, `COMMIT`.
//!
//! The row lock makes a second server's lock wait until the first commits; at read committed
//! its check, a new statement, then sees the first server's insert. SQLite has no row locks:
//! its one write lock, taken at `BEGIN IMMEDIATE`, stands in for the row lock (coarser: it
//! holds back every other writer, not only the other joins of this user).

use super::{begin, connect, in_transaction, open, seed_memberships, Abort, Isolation};
use super::{MEMBERSHIPS, MEMBERSHIPS_QUERY};
use crate::runtime::Runtime;
use crate::service::{JoinService, Server};
use crate::store::sql::{every_user, insert_rows, Dialect, Schema, SqlConnection};
use crate::store::sql::{SqlDatabase, SqlError, SqlTarget, Statement, Value};
use crate::store::Recording;
use joincheck_models::domain::{JoinError, ServerId, TeamId, UserId};
use std::sync::Arc;

/// Lock the user's row, check, insert, commit.
#[derive(Clone, Debug)]
pub struct LockUserRow {
    /// Where its databases are opened.
    pub target: SqlTarget,
}

/// A server that locks the user's row before it checks.
#[derive(Debug)]
pub struct LockUserRowServer<R: Runtime> {
    db: SqlConnection<R>,
    dialect: Dialect,
}

const SCHEMA: Schema = Schema {
    create: &[
        "CREATE TABLE users (id VARCHAR(64) PRIMARY KEY)",
        MEMBERSHIPS,
    ],
    seed,
    membership: MEMBERSHIPS_QUERY,
};

/// A row for every user, and the initial memberships.
fn seed(initial: &[(TeamId, UserId)]) -> Vec<String> {
    let users = every_user()
        .map(|user| format!("({})", Value::from(user).literal()))
        .collect();
    let mut statements = insert_rows("users", "id", users);
    statements.extend(seed_memberships(initial));
    statements
}

impl<R: Runtime> LockUserRowServer<R> {
    /// Locks `user`'s row until the transaction ends (PostgreSQL; on SQLite the transaction
    /// holds the write lock already).
    fn lock(&self, db: &SqlConnection<R>, user: UserId) -> Result<(), SqlError> {
        if self.dialect == Dialect::Sqlite {
            return Ok(());
        }
        let lock = Statement::new("lock", "SELECT id FROM users WHERE id = $1 FOR UPDATE");
        db.query(&lock, &[user.into()]).map(drop)
    }
}

impl<R: Runtime> Server for LockUserRowServer<R> {
    fn join(&mut self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        let begin = begin(self.dialect, Isolation::Default);
        in_transaction(&self.db, begin, |db| {
            self.lock(db, user)?;
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
        let begin = begin(self.dialect, Isolation::Default);
        in_transaction(&self.db, begin, |db| {
            self.lock(db, user)?;
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

impl<R: Runtime> JoinService<R> for LockUserRow {
    type Database = SqlDatabase<R>;
    type Server = LockUserRowServer<R>;

    fn name(&self) -> String {
        "lock-user-row".to_string()
    }

    fn open_database(
        &self,
        initial: &[(TeamId, UserId)],
        recording: Recording,
    ) -> Arc<SqlDatabase<R>> {
        open(&self.target, SCHEMA, initial, recording)
    }

    fn start_server(&self, database: &Arc<SqlDatabase<R>>, id: ServerId) -> LockUserRowServer<R> {
        LockUserRowServer {
            db: connect(database, id),
            dialect: self.target.dialect(),
        }
    }
}
