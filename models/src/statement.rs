//! A statement an SQL database ran for a server, and what it answered, as a history records them.
//!
//! On a real database one step is one whole statement: the database decides what it sees and
//! whether it waits, fails or writes. The record keeps the statement as the server sent it (its
//! parameters written in), the users whose team it reads and may change (what the `why:` line of
//! a trace needs), and, where the statement is one of a model's operations, that operation and
//! its result in the model's terms, which is what conformance compares with the model.

use crate::domain::{DatabaseError, UserId};
use crate::operation::{OpResult, Operation};
use std::fmt;

/// A statement as the server sent it to the database.
///
/// ```
/// use joincheck_models::domain::UserId;
/// use joincheck_models::statement::SqlStatement;
///
/// let sue = UserId(0);
/// let check = SqlStatement::new("check", "SELECT team FROM memberships WHERE user_id = 'sue'")
///     .reads(sue);
/// assert_eq!(check.to_string(), "SELECT team FROM memberships WHERE user_id = 'sue'");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SqlStatement {
    /// The protocol-level verb: `check`, `act`, `begin`, `commit`, `lock`, `read`, `append`, …
    pub verb: String,
    /// The statement with its parameters written in as literals.
    pub sql: String,
    /// The users whose team the statement reads.
    pub reads: Vec<UserId>,
    /// The users whose team the statement may change.
    pub writes: Vec<UserId>,
    /// The model operation this statement performs, when it performs one.
    pub model: Option<Operation>,
}

impl SqlStatement {
    /// A statement `sql` with the protocol-level `verb`, reading and writing no user's team until
    /// [`SqlStatement::reads`] and [`SqlStatement::writes`] say it does.
    pub fn new(verb: impl Into<String>, sql: impl Into<String>) -> Self {
        SqlStatement {
            verb: verb.into(),
            sql: sql.into(),
            reads: Vec::new(),
            writes: Vec::new(),
            model: None,
        }
    }

    /// The statement also reads `user`'s team.
    pub fn reads(mut self, user: UserId) -> Self {
        self.reads.push(user);
        self
    }

    /// The statement may also change `user`'s team.
    pub fn writes(mut self, user: UserId) -> Self {
        self.writes.push(user);
        self
    }

    /// The statement is the model operation `operation`.
    pub fn model(mut self, operation: Operation) -> Self {
        self.model = Some(operation);
        self
    }
}

impl fmt::Display for SqlStatement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.sql)
    }
}

/// What the database answered to a statement.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SqlAnswer {
    /// The answer in words: `no rows`, `team-A`, `1 row`, `duplicate key`, `waited for
    /// server-1, then 1 row`.
    pub words: String,
    /// The answer in the model's terms, when the statement is a model operation.
    pub model: Option<OpResult>,
    /// The database's error, by kind, when it refused the statement.
    pub error: Option<DatabaseError>,
    /// Why the database does not make this statement one atomic step, when it does not: the
    /// statement's write depends on rows it read without locking them, below serializable
    /// isolation. A check that relies on such a statement is evidence, not proof.
    pub not_atomic: Option<String>,
}

impl SqlAnswer {
    /// An answer in `words`, with no model meaning, atomic.
    pub fn new(words: impl Into<String>) -> Self {
        SqlAnswer {
            words: words.into(),
            model: None,
            error: None,
            not_atomic: None,
        }
    }
}

impl fmt::Display for SqlAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.words)
    }
}
