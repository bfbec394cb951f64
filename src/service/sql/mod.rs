//! The join services as SQL, written the way a user writes SQL, on SQLite or PostgreSQL.
//!
//! Each service holds the [`SqlTarget`] its databases are opened at, keeps its tables in a
//! [`Schema`](crate::store::sql::Schema) next to its statements, and runs every statement
//! through its server's [`SqlConnection`]: one statement, one step.
//!
//! - [`Naive`]: the article's check, then act, each statement on its own (autocommit).
//! - [`NaiveTransaction`]: the same two statements in one transaction, at the database's default
//!   isolation, at repeatable read, or serializable.
//! - [`NaiveOneStatement`]: the check inside the insert, `INSERT … SELECT … WHERE NOT EXISTS`.
//! - [`LockUserRow`]: lock the user's row (`SELECT … FOR UPDATE`), check, insert, commit.
//! - [`UniqueMembership`]: an insert under a unique index on the user.
//! - [`UserDocument`]: `UPDATE users SET team = $2 WHERE id = $1 AND team IS NULL`.
//! - [`EventSourced`]: events appended at the version read + 1 under a unique index on
//!   `(stream, version)`, retried on the duplicate key.

mod event_sourced;
mod lock_user_row;
mod naive;
mod naive_one_statement;
mod naive_transaction;
mod unique_membership;
mod user_document;

pub use event_sourced::{EventSourced, EventSourcedServer, Streams};
pub use lock_user_row::{LockUserRow, LockUserRowServer};
pub use naive::{Naive, NaiveServer};
pub use naive_one_statement::{NaiveOneStatement, NaiveOneStatementServer};
pub use naive_transaction::{Isolation, NaiveTransaction, NaiveTransactionServer};
pub use unique_membership::{UniqueMembership, UniqueMembershipServer};
pub use user_document::{UserDocument, UserDocumentServer};

use crate::runtime::Runtime;
use crate::store::sql::{
    insert_rows, Dialect, Schema, SqlConnection, SqlDatabase, SqlError, SqlTarget, Statement, Value,
};
use crate::store::Recording;
use joincheck_models::domain::{JoinError, ServerId, TeamId, UserId};
use std::sync::Arc;

/// Opens a fresh database for one execution; a database that cannot be opened ends the run
/// with the reason (the engines report it inconclusive).
fn open<R: Runtime>(
    target: &SqlTarget,
    schema: Schema,
    initial: &[(TeamId, UserId)],
    recording: Recording,
) -> Arc<SqlDatabase<R>> {
    match SqlDatabase::open(target, schema, initial, recording) {
        Ok(database) => Arc::new(database),
        Err(error) => panic!("cannot open a fresh database on {target}: {error}"),
    }
}

/// Server `id`'s own connection; one that cannot be made ends the run with the reason.
fn connect<R: Runtime>(database: &Arc<SqlDatabase<R>>, id: ServerId) -> SqlConnection<R> {
    database
        .connect(id)
        .unwrap_or_else(|error| panic!("{id} cannot connect: {error}"))
}

/// The memberships table, one row per membership.
const MEMBERSHIPS: &str =
    "CREATE TABLE memberships (team VARCHAR(64) NOT NULL, user_id VARCHAR(64) NOT NULL)";

/// The committed memberships, when the memberships table holds them.
const MEMBERSHIPS_QUERY: &str = "SELECT team, user_id FROM memberships";

/// The initial memberships as rows of the memberships table.
fn seed_memberships(initial: &[(TeamId, UserId)]) -> Vec<String> {
    let rows = initial
        .iter()
        .map(|&(team, user)| {
            format!(
                "({}, {})",
                Value::from(team).literal(),
                Value::from(user).literal()
            )
        })
        .collect();
    insert_rows("memberships", "team, user_id", rows)
}

/// A transaction gave up: the request is refused, or the database refused a statement.
enum Abort {
    Refuse(JoinError),
    Database(SqlError),
}

impl From<SqlError> for Abort {
    fn from(error: SqlError) -> Abort {
        Abort::Database(error)
    }
}

/// `BEGIN` as each database says it for `isolation`: PostgreSQL takes the level; SQLite has one
/// (serializable) and takes its one write lock at `BEGIN IMMEDIATE`, waiting for it (the busy
/// timeout) instead of failing a transaction that read and then writes.
fn begin(dialect: Dialect, isolation: Isolation) -> &'static str {
    match (dialect, isolation) {
        (Dialect::Sqlite, _) => "BEGIN IMMEDIATE",
        (Dialect::Postgres, Isolation::Default) => "BEGIN",
        (Dialect::Postgres, Isolation::RepeatableRead) => "BEGIN ISOLATION LEVEL REPEATABLE READ",
        (Dialect::Postgres, Isolation::Serializable) => "BEGIN ISOLATION LEVEL SERIALIZABLE",
    }
}

/// Runs `body` in a transaction opened with `begin` and commits it. When the database says the
/// transaction may pass if tried again (a serialization failure, a deadlock, busy), it is rolled
/// back and tried again from `begin`, as both databases' manuals tell; a refused request rolls
/// back.
fn in_transaction<R: Runtime, T>(
    db: &SqlConnection<R>,
    begin: &str,
    body: impl Fn(&SqlConnection<R>) -> Result<T, Abort>,
) -> Result<T, JoinError> {
    loop {
        if let Err(error) = db.execute(&Statement::new("begin", begin), &[]) {
            if error.is_retryable() {
                continue;
            }
            return Err(error.into());
        }
        let done = body(db).and_then(|value| {
            db.execute(&Statement::new("commit", "COMMIT"), &[])?;
            Ok(value)
        });
        let abort = match done {
            Ok(value) => return Ok(value),
            Err(abort) => abort,
        };
        // After a failed COMMIT the transaction is over already; PostgreSQL only warns then.
        if db
            .execute(&Statement::new("rollback", "ROLLBACK"), &[])
            .is_err()
        {
            // Nothing left to roll back: the database ended the transaction itself.
        }
        match abort {
            Abort::Refuse(refused) => return Err(refused),
            Abort::Database(error) if error.is_retryable() => continue,
            Abort::Database(error) => return Err(error.into()),
        }
    }
}
