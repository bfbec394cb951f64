//! What a database answered when it refused a statement, classified by its error code, never by
//! its message text.

use joincheck_models::domain::{DatabaseError, JoinError};
use std::fmt;

/// A statement the database refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SqlError {
    /// What kind of refusal, by the database's code.
    pub kind: DatabaseError,
    /// The database's own code: a PostgreSQL SQLSTATE (`23505`) or an SQLite extended result
    /// code (`SQLITE_BUSY_SNAPSHOT`).
    pub code: String,
    /// The database's message.
    pub message: String,
}

impl SqlError {
    /// An error the harness itself raises about a statement (a parameter missing, say).
    pub(crate) fn harness(message: impl Into<String>) -> SqlError {
        SqlError {
            kind: DatabaseError::Other,
            code: "joincheck".to_string(),
            message: message.into(),
        }
    }

    /// The connection is gone: whether the statement took effect is unknown.
    pub(crate) fn connection_lost(message: impl Into<String>) -> SqlError {
        SqlError {
            kind: DatabaseError::ConnectionLost,
            code: "connection".to_string(),
            message: message.into(),
        }
    }

    /// Whether the whole transaction may succeed if tried again.
    pub fn is_retryable(&self) -> bool {
        self.kind.is_retryable()
    }

    /// The error in a trace's words: `duplicate key (23505)`.
    pub fn words(&self) -> String {
        format!("{} ({})", self.kind, self.code)
    }
}

impl fmt::Display for SqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.kind, self.code, self.message)
    }
}

impl std::error::Error for SqlError {}

/// A request the service gives up on because the database refused a statement.
impl From<SqlError> for JoinError {
    fn from(error: SqlError) -> JoinError {
        JoinError::Database(error.kind)
    }
}

/// SQLite's refusal, by extended result code.
pub(crate) fn from_sqlite(error: rusqlite::Error) -> SqlError {
    use rusqlite::ffi;
    match &error {
        rusqlite::Error::SqliteFailure(failure, message) => {
            let extended = failure.extended_code;
            let kind = match extended {
                ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                    DatabaseError::DuplicateKey
                }
                _ if failure.code == rusqlite::ErrorCode::DatabaseBusy => DatabaseError::Busy,
                _ => DatabaseError::Other,
            };
            SqlError {
                kind,
                code: sqlite_code_name(extended),
                message: message.clone().unwrap_or_else(|| failure.to_string()),
            }
        }
        _ => SqlError {
            kind: DatabaseError::Other,
            code: "SQLITE".to_string(),
            message: error.to_string(),
        },
    }
}

/// The name of an SQLite extended result code, for the ones a join protocol meets.
fn sqlite_code_name(code: i32) -> String {
    use rusqlite::ffi;
    match code {
        ffi::SQLITE_BUSY => "SQLITE_BUSY".to_string(),
        ffi::SQLITE_BUSY_SNAPSHOT => "SQLITE_BUSY_SNAPSHOT".to_string(),
        ffi::SQLITE_CONSTRAINT_UNIQUE => "SQLITE_CONSTRAINT_UNIQUE".to_string(),
        ffi::SQLITE_CONSTRAINT_PRIMARYKEY => "SQLITE_CONSTRAINT_PRIMARYKEY".to_string(),
        other => format!("SQLite error {other}"),
    }
}

/// PostgreSQL's refusal, by SQLSTATE.
pub(crate) fn from_postgres(error: &postgres::Error) -> SqlError {
    use postgres::error::SqlState;
    // Without the database's own error, the connection failed us: the simple query protocol
    // sends no parameters to get wrong.
    let Some(database) = error.as_db_error() else {
        return SqlError::connection_lost(error.to_string());
    };
    let code = database.code();
    let kind = if *code == SqlState::ADMIN_SHUTDOWN {
        DatabaseError::ConnectionLost
    } else if *code == SqlState::UNIQUE_VIOLATION {
        DatabaseError::DuplicateKey
    } else if *code == SqlState::T_R_SERIALIZATION_FAILURE {
        DatabaseError::SerializationFailure
    } else if *code == SqlState::T_R_DEADLOCK_DETECTED {
        DatabaseError::Deadlock
    } else {
        DatabaseError::Other
    };
    SqlError {
        kind,
        code: code.code().to_string(),
        message: database.message().to_string(),
    }
}
