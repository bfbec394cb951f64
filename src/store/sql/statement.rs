//! A statement as a service writes it, with what the harness must know about it.

use joincheck_models::domain::UserId;
use joincheck_models::operation::Operation;
use joincheck_models::statement::SqlStatement;

/// One SQL statement of a service: its text with `$1`, `$2`, … for parameters, the verb a trace
/// shows for it, the users whose team it reads and may change, and, for a statement that is one
/// of a model's operations, that operation.
///
/// ```
/// use joincheck::store::sql::Statement;
/// use joincheck_models::domain::UserId;
///
/// let sue = UserId(0);
/// let check = Statement::new("check", "SELECT team FROM memberships WHERE user_id = $1").reads(sue);
/// assert_eq!(check.sql(), "SELECT team FROM memberships WHERE user_id = $1");
/// assert!(!check.reads_unlocked_rows());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    verb: String,
    sql: String,
    reads: Vec<UserId>,
    writes: Vec<UserId>,
    model: Option<Operation>,
    unlocked: bool,
}

impl Statement {
    /// The statement `sql`, shown in a trace as `verb` (`check`, `act`, `begin`, `commit`, …).
    pub fn new(verb: impl Into<String>, sql: impl Into<String>) -> Statement {
        Statement {
            verb: verb.into(),
            sql: sql.into(),
            reads: Vec::new(),
            writes: Vec::new(),
            model: None,
            unlocked: false,
        }
    }

    /// The statement reads `user`'s team (the `why:` line looks for the read a write acted on).
    pub fn reads(mut self, user: UserId) -> Statement {
        self.reads.push(user);
        self
    }

    /// The statement may change `user`'s team.
    pub fn writes(mut self, user: UserId) -> Statement {
        self.writes.push(user);
        self
    }

    /// The statement is `operation` of the protocol's model: conformance then compares it, and
    /// the database's answer in the model's terms, with the model.
    pub fn model(mut self, operation: Operation) -> Statement {
        self.model = Some(operation);
        self
    }

    /// Declares that the statement's write depends on rows it reads without locking them, as
    /// `INSERT … SELECT … WHERE NOT EXISTS (…)` does: two of them running at once can both write
    /// on what neither saw, which interleaving whole statements cannot show. Below serializable
    /// isolation on PostgreSQL, a check relying on such a statement is evidence, not proof.
    /// A write whose text holds a `SELECT` is taken to be one without this.
    pub fn reads_unlocked(mut self) -> Statement {
        self.unlocked = true;
        self
    }

    /// The statement's text, with its parameters as `$1`, `$2`, …
    pub fn sql(&self) -> &str {
        &self.sql
    }

    /// Whether the statement's write may depend on rows it reads without locking them:
    /// declared with [`Statement::reads_unlocked`], or a write (`INSERT`, `UPDATE`, `DELETE`,
    /// `MERGE`) with a `SELECT` in it.
    pub fn reads_unlocked_rows(&self) -> bool {
        if self.unlocked {
            return true;
        }
        let words: Vec<String> = self
            .sql
            .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .filter(|word| !word.is_empty())
            .map(str::to_ascii_uppercase)
            .collect();
        let writes = words
            .first()
            .is_some_and(|first| ["INSERT", "UPDATE", "DELETE", "MERGE"].contains(&first.as_str()));
        writes && words.iter().any(|word| word == "SELECT")
    }

    /// Whether the statement changes no user's team.
    pub(crate) fn writes_none(&self) -> bool {
        self.writes.is_empty()
    }

    /// The record of this statement as it ran, with its parameters written in.
    pub(crate) fn record(&self, written: String) -> SqlStatement {
        SqlStatement {
            verb: self.verb.clone(),
            sql: written,
            reads: self.reads.clone(),
            writes: self.writes.clone(),
            model: self.model.clone(),
        }
    }

    /// The model operation this statement is, if any.
    pub(crate) fn model_operation(&self) -> Option<&Operation> {
        self.model.as_ref()
    }

    /// How the statement moves its connection's transaction: `Some(true)` when it opens one,
    /// `Some(false)` when it ends one, `None` otherwise.
    pub(crate) fn transaction_effect(&self) -> Option<bool> {
        let upper = self.sql.trim_start().to_ascii_uppercase();
        let first = upper
            .split(|c: char| !c.is_ascii_alphabetic())
            .next()
            .unwrap_or("");
        match first {
            "BEGIN" | "START" => Some(true),
            "COMMIT" | "END" | "ABORT" => Some(false),
            "ROLLBACK" if !upper.contains(" TO ") => Some(false),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_with_a_select_in_it_reads_unlocked_rows() {
        let one_statement = Statement::new(
            "act",
            "INSERT INTO memberships (team, user_id) SELECT $2, $1 \
             WHERE NOT EXISTS (SELECT 1 FROM memberships WHERE user_id = $1)",
        );
        assert!(one_statement.reads_unlocked_rows());
        let update = Statement::new(
            "act",
            "UPDATE users SET team = $2 WHERE id = $1 AND team IS NULL",
        );
        assert!(!update.reads_unlocked_rows());
        assert!(update.reads_unlocked().reads_unlocked_rows());
        let read = Statement::new("check", "SELECT team FROM memberships WHERE user_id = $1");
        assert!(!read.reads_unlocked_rows());
    }

    #[test]
    fn transactions_open_with_begin_and_end_with_commit_or_rollback() {
        let effect = |sql| Statement::new("x", sql).transaction_effect();
        assert_eq!(effect("BEGIN ISOLATION LEVEL SERIALIZABLE"), Some(true));
        assert_eq!(effect("begin immediate"), Some(true));
        assert_eq!(effect("START TRANSACTION"), Some(true));
        assert_eq!(effect("COMMIT"), Some(false));
        assert_eq!(effect("ROLLBACK"), Some(false));
        assert_eq!(effect("ROLLBACK TO SAVEPOINT a"), None);
        assert_eq!(effect("SELECT 1"), None);
    }
}
