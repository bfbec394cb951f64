//! One server's connection to an SQL database, as a service holds it.

use super::{Flags, Session, SqlDatabase};
use crate::runtime::Runtime;
use crate::store::sql::error::SqlError;
use crate::store::sql::sqlite::Executed;
use crate::store::sql::statement::Statement;
use crate::store::sql::value::{Row, Value};
use crate::store::StepLog;
use joincheck_models::domain::ServerId;
use std::fmt;
use std::sync::Arc;

/// One server's connection to an [`SqlDatabase`]: every statement it runs is one step.
pub struct SqlConnection<R: Runtime> {
    pub(super) database: Arc<SqlDatabase<R>>,
    pub(super) server: ServerId,
    pub(super) flags: Arc<Flags>,
    /// The connection itself, when statements run at once (a load test); else the database
    /// keeps it, to take turns.
    pub(super) own: Option<std::sync::Mutex<Option<Session>>>,
}

impl<R: Runtime> fmt::Debug for SqlConnection<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlConnection")
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl<R: Runtime> SqlConnection<R> {
    /// The server this connection is, as its operations are recorded: what a service's own
    /// recorded lock names too ([`Mutex::lock_recorded`](crate::runtime::Mutex::lock_recorded)),
    /// so that a server needs to keep no id of its own.
    pub fn server(&self) -> ServerId {
        self.server
    }

    /// The database, as a history a service can write its own steps into.
    pub fn log(&self) -> &dyn StepLog {
        self.database.as_ref()
    }

    /// Runs a query and returns its rows.
    pub fn query(&self, statement: &Statement, params: &[Value]) -> Result<Vec<Row>, SqlError> {
        self.run(statement, params).map(|executed| executed.rows)
    }

    /// Runs a statement and returns how many rows it inserted, updated or deleted.
    pub fn execute(&self, statement: &Statement, params: &[Value]) -> Result<u64, SqlError> {
        self.run(statement, params)
            .map(|executed| executed.affected)
    }

    fn run(&self, statement: &Statement, params: &[Value]) -> Result<Executed, SqlError> {
        match &self.own {
            Some(own) => {
                let (server, flags) = (self.server, &self.flags);
                self.database
                    .run_at_once(server, own, flags, statement, params)
            }
            None => self.database.run(self.server, statement, params),
        }
    }
}

/// The server ended: its connection closes.
impl<R: Runtime> Drop for SqlConnection<R> {
    fn drop(&mut self) {
        if self.own.is_none() {
            self.database.disconnect(self.server, &self.flags);
        }
    }
}
