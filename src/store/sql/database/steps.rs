//! A statement that took effect, as the history records it: its words, the database's answer,
//! whether it is inside a transaction, and the committed membership after it.

use super::{Connected, Inner, Session, Wait};
use crate::store::sql::error::SqlError;
use crate::store::sql::meaning::model_answer;
use crate::store::sql::postgres::PgRan;
use crate::store::sql::sqlite::Executed;
use crate::store::sql::statement::Statement;
use crate::store::sql::target::Fresh;
use joincheck_models::domain::ServerId;
use joincheck_models::operation::{OpResult, Operation, Step};
use joincheck_models::statement::SqlAnswer;
use std::sync::atomic::Ordering;

impl Inner {
    /// Records a statement that took effect, with what the database answered and the
    /// committed membership after it; `waited` says what the statement waited for, if it did.
    pub(super) fn took_effect(
        &mut self,
        server: ServerId,
        statement: &Statement,
        written: &str,
        answer: &Result<Executed, SqlError>,
        waited: Option<String>,
    ) {
        let held_back = std::mem::take(&mut self.connected(server).held_back);
        let in_transaction = self.in_transaction(server, statement, answer);
        let connected = self.connected(server);
        connected
            .flags
            .in_transaction
            .store(in_transaction, Ordering::Relaxed);
        // Writes inside a transaction show when it commits: until then nothing is committed.
        let mut record = statement.record(written.to_string());
        if in_transaction {
            connected.uncommitted.append(&mut record.writes);
        } else {
            record.writes.append(&mut connected.uncommitted);
            record.writes.sort();
            record.writes.dedup();
            self.ended += 1;
            let held_back = |c: &Connected| matches!(c.wait, Wait::HeldBack { .. });
            self.wake |= self.servers.values().any(held_back);
        }
        // Locks are given back when a transaction ends (or a savepoint is rolled back to).
        self.released |= !in_transaction || statement.transaction_effect().is_some();
        if let Some(order) = &mut self.order {
            order.took_effect(server);
        }
        if !self.history.is_on() {
            return;
        }
        // What is committed changes only when a transaction ends: every other statement runs
        // alone, and one waiting in the database is recorded when it is answered.
        if !in_transaction {
            self.membership = self
                .read_membership()
                .unwrap_or_else(|error| panic!("cannot read the committed membership: {error}"));
        }
        let mut words = words(written, answer);
        if in_transaction && answer.is_ok() && !statement.writes_none() {
            words.push_str(", not committed yet");
        }
        if let Some(waited) = waited {
            words = format!("{words} ({waited})");
        } else if held_back {
            words = format!("waited for the write lock, then {words}");
        }
        let membership = self.membership.clone();
        let model = statement.model_operation().and_then(|operation| {
            let mut version = |stream| self.stream_version(stream);
            model_answer(operation, answer, &membership, &mut version)
        });
        let not_atomic = self.not_atomic(server, statement, answer);
        let step = Step {
            server,
            operation: Operation::from(record),
            result: OpResult::from(SqlAnswer {
                words,
                model,
                error: answer.as_ref().err().map(|error| error.kind),
                not_atomic,
            }),
            membership_after: self.membership.clone(),
        };
        self.history.operation(step);
    }

    /// Whether `server`'s connection is inside a transaction after `statement`.
    fn in_transaction(
        &mut self,
        server: ServerId,
        statement: &Statement,
        answer: &Result<Executed, SqlError>,
    ) -> bool {
        let connected = self.connected(server);
        let before = connected.flags.in_transaction.load(Ordering::Relaxed);
        match connected.session.as_ref() {
            Some(Session::Sqlite(connection)) => !connection.is_autocommit(),
            _ => match statement.transaction_effect() {
                Some(true) => answer.is_ok() || before,
                Some(false) => false,
                None => before,
            },
        }
    }

    /// Why the database does not make `statement` atomic, if it does not: PostgreSQL below
    /// serializable isolation, for a write that depends on rows it read without locking them.
    fn not_atomic(
        &mut self,
        server: ServerId,
        statement: &Statement,
        answer: &Result<Executed, SqlError>,
    ) -> Option<String> {
        if answer.is_err() || !statement.reads_unlocked_rows() {
            return None;
        }
        let Fresh::Postgres(place) = &mut self.fresh else {
            return None; // SQLite runs a statement's reads and write under one lock
        };
        let connected = self.servers.get_mut(&server)?;
        let Some(Session::Postgres(session)) = connected.session.as_mut() else {
            return None;
        };
        let isolation = match session.run(place, "SHOW transaction_isolation") {
            PgRan::Answered(Ok(executed)) => executed.rows.first()?.text(0)?.to_string(),
            _ => "an unknown".to_string(),
        };
        (isolation != "serializable").then(|| {
            format!(
                "PostgreSQL runs it at {isolation} isolation, where its write depends on rows \
                 it read without locking them: two of them at once can both write"
            )
        })
    }
}

/// The answer in a trace's words: `no rows`, `team-A`, `3 rows`, `1 row`, `ok`, or the error.
pub(super) fn words(written: &str, answer: &Result<Executed, SqlError>) -> String {
    let executed = match answer {
        Ok(executed) => executed,
        Err(error) => return error.words(),
    };
    if executed.columns {
        return match executed.rows.as_slice() {
            [] => "no rows".to_string(),
            [row] => row
                .0
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            rows => format!("{} rows", rows.len()),
        };
    }
    let first = written
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_uppercase();
    match first.as_str() {
        "INSERT" | "UPDATE" | "DELETE" | "MERGE" => match executed.affected {
            1 => "1 row".to_string(),
            rows => format!("{rows} rows"),
        },
        _ => "ok".to_string(),
    }
}
