//! Where a service's SQL runs: SQLite files or a PostgreSQL server, fresh for every execution.

use super::error::SqlError;
use super::postgres::{PgPlace, PgServer};
use super::schema::Schema;
use super::sqlite::{SqliteDirectory, SqliteFile};
use joincheck_models::domain::{TeamId, UserId};
use std::fmt;
use std::path::Path;
use std::sync::Arc;

/// Which database engine runs the SQL.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dialect {
    /// SQLite, embedded: one writer at a time, serializable.
    Sqlite,
    /// PostgreSQL: row locks, unique indexes, and the isolation level a transaction asks for.
    Postgres,
}

impl Dialect {
    /// `sqlite` or `postgres`, as reports name it.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
        }
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

/// Where a service's SQL runs, fresh for every execution: a new SQLite file in a directory (in
/// WAL mode, a connection per server), or a new schema on a PostgreSQL server (a connection per
/// server), removed after the execution. Cheap to clone: clones share the place.
///
/// ```
/// use joincheck::store::sql::{Dialect, SqlTarget};
///
/// let sqlite = SqlTarget::sqlite()?;
/// assert_eq!(sqlite.dialect(), Dialect::Sqlite);
/// # Ok::<(), String>(())
/// ```
#[derive(Clone)]
pub struct SqlTarget(Arc<Place>);

enum Place {
    Sqlite(SqliteDirectory),
    Postgres(Arc<PgServer>),
}

impl fmt::Debug for SqlTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SqlTarget({self})")
    }
}

/// `SQLite in /dev/shm/joincheck-1-0`, `PostgreSQL at postgres://…`.
impl fmt::Display for SqlTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.as_ref() {
            Place::Sqlite(directory) => write!(f, "SQLite in {}", directory.path().display()),
            Place::Postgres(server) => write!(f, "PostgreSQL at {}", server.url()),
        }
    }
}

impl SqlTarget {
    /// SQLite files in a new temporary directory, removed with the last clone of the target.
    pub fn sqlite() -> Result<SqlTarget, String> {
        Ok(SqlTarget(Arc::new(Place::Sqlite(
            SqliteDirectory::temporary()?,
        ))))
    }

    /// SQLite files in the directory `path` (created if need be): each execution's file is
    /// removed after it, the directory is kept.
    pub fn sqlite_in(path: &Path) -> Result<SqlTarget, String> {
        Ok(SqlTarget(Arc::new(Place::Sqlite(SqliteDirectory::at(
            path,
        )?))))
    }

    /// The PostgreSQL server at `url` (`postgres://user@host:port/database`), checked at once:
    /// it answers within 5 s and this user may create a schema; else one line saying why.
    pub fn postgres(url: &str) -> Result<SqlTarget, String> {
        Ok(SqlTarget(Arc::new(Place::Postgres(PgServer::connect(
            url,
        )?))))
    }

    /// The engine behind the target.
    pub fn dialect(&self) -> Dialect {
        match self.0.as_ref() {
            Place::Sqlite(_) => Dialect::Sqlite,
            Place::Postgres(_) => Dialect::Postgres,
        }
    }

    /// A fresh database holding `schema` and the `initial` memberships.
    pub(crate) fn open(
        &self,
        schema: &Schema,
        initial: &[(TeamId, UserId)],
    ) -> Result<Fresh, SqlError> {
        match self.0.as_ref() {
            Place::Sqlite(directory) => {
                let (file, monitor) = directory.create(schema, initial)?;
                Ok(Fresh::Sqlite { monitor, file })
            }
            Place::Postgres(server) => Ok(Fresh::Postgres(server.create(schema, initial)?)),
        }
    }
}

/// How a server connects to one execution's database: known outside the database's mutex, so
/// that connecting is no step any engine schedules.
pub(crate) enum Connector {
    /// The SQLite file.
    Sqlite(std::path::PathBuf),
    /// The PostgreSQL server, and the execution's schema on it.
    Postgres(Arc<PgServer>, String),
}

impl Fresh {
    /// How servers connect to this database.
    pub(crate) fn connector(&self) -> Connector {
        match self {
            Fresh::Sqlite { file, .. } => Connector::Sqlite(file.path().to_path_buf()),
            Fresh::Postgres(place) => {
                let (server, schema) = place.location();
                Connector::Postgres(server, schema)
            }
        }
    }
}

/// One execution's fresh database and the harness's own connection to it.
pub(crate) enum Fresh {
    /// A new SQLite file. The monitor is declared first so it closes before the file goes.
    Sqlite {
        /// The harness's connection.
        monitor: rusqlite::Connection,
        /// The file.
        file: SqliteFile,
    },
    /// A new PostgreSQL schema, with the harness's connection to it.
    Postgres(PgPlace),
}
