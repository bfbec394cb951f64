//! The protocols as SQL on real databases: SQLite always, PostgreSQL when `DATABASE_URL` names
//! one (each test says in one line that it skipped PostgreSQL otherwise). Every execution runs in
//! a fresh SQLite file or PostgreSQL schema of its own, so these tests may run in parallel.

mod dpor;
mod engines;
mod statements;
mod verdicts;

use joincheck::store::sql::SqlTarget;
use std::io::Write;

/// A fresh temporary directory of SQLite files.
fn sqlite() -> SqlTarget {
    SqlTarget::sqlite().expect("a temporary directory")
}

/// The PostgreSQL server `DATABASE_URL` names, or `None` after one line saying the test skips it.
/// A server that is named and does not answer fails the test: CI names one.
fn postgres(test: &str) -> Option<SqlTarget> {
    match std::env::var("DATABASE_URL") {
        Ok(url) => Some(SqlTarget::postgres(&url).unwrap_or_else(|error| panic!("{error}"))),
        Err(_) => {
            // Written to stderr itself, not through `eprintln!`, so the test harness does not
            // capture the line: a skip is said, not hidden.
            let line = format!("{test}: PostgreSQL skipped: DATABASE_URL is not set\n");
            let _ = std::io::stderr().write_all(line.as_bytes());
            None
        }
    }
}
