//! SQL databases: the protocols as SQL on SQLite and PostgreSQL, checked statement by statement.
//!
//! A service written with SQL keeps its tables in a [`Schema`] and runs its statements through
//! an [`SqlConnection`] of an [`SqlDatabase`], opened fresh for every execution at an
//! [`SqlTarget`] (a new SQLite file, or a new PostgreSQL schema). Every statement is one step:
//! the engines choose the order of the servers' statements, and the database decides what each
//! sees, whether it waits for a lock, fails or writes. The harness records each statement with
//! its parameters written in, the database's answer (its error classified by code), and the
//! committed membership after it, read on a connection of its own: the invariant is judged after
//! every statement, on what is committed.
//!
//! # What a step is, and what it is not
//!
//! The engines take each statement as one atomic step. SQLite gives that: one writer at a time,
//! and a statement's reads and writes under the same lock. PostgreSQL below serializable
//! isolation gives it for a write that rechecks the rows it locks (an `UPDATE … WHERE team IS
//! NULL` rereads the row it locked; a unique index checks under the index's lock), but not for a
//! write that depends on rows it does not lock, such as `INSERT … SELECT … WHERE NOT EXISTS
//! (…)`: two of those running at once can both insert. Such a statement is declared with
//! [`Statement::reads_unlocked`] (a write with a `SELECT` in it is taken to be one), and a
//! verdict that relies on it on PostgreSQL below serializable isolation is evidence, not proof.

mod database;
mod error;
mod footprint;
mod meaning;
mod postgres;
mod schema;
mod sqlite;
mod statement;
mod target;
mod value;

pub use database::{SqlConnection, SqlDatabase};
pub use error::SqlError;
pub use meaning::{event_kind, stream_name};
pub use schema::{every_user, insert_rows, Schema};
pub use statement::Statement;
pub use target::{Dialect, SqlTarget};
pub use value::{Row, Value};
