//! SQLite: a fresh database file per execution, in WAL mode, with a connection per server.
//!
//! SQLite never keeps a statement waiting inside the database: when another connection holds
//! the lock, a statement calls the connection's busy handler, which in a deployment sleeps and
//! retries (`busy_timeout`). The harness's handler notes the call and gives up at once, and the
//! harness then holds that server back until another server's statement ends a transaction,
//! and lets the engine choose when it tries again: a wait, as SQLite decides it. Where SQLite
//! does *not* call the handler (a transaction that read and then wants to write while another
//! holds the lock: waiting could deadlock), `SQLITE_BUSY` reaches the service, as it would.

use super::error::{from_sqlite, SqlError};
use super::schema::Schema;
use super::value::{Row, Value};
use joincheck_models::domain::{TeamId, UserId};
use rusqlite::config::DbConfig;
use rusqlite::types::ValueRef;
use rusqlite::Connection;
use std::cell::Cell;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// What a statement did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Executed {
    /// The rows it returned.
    pub rows: Vec<Row>,
    /// The rows it inserted, updated or deleted (or, on PostgreSQL, returned).
    pub affected: u64,
    /// Whether it answers with rows (a query), even none.
    pub columns: bool,
}

/// A statement's fate on SQLite.
pub(crate) enum Ran {
    /// The database answered.
    Answered(Result<Executed, SqlError>),
    /// Another connection holds the lock and SQLite would wait for it.
    WouldWait,
}

thread_local! {
    /// Whether SQLite called the busy handler during the statement running on this thread.
    static WOULD_WAIT: Cell<bool> = const { Cell::new(false) };
}

/// Notes that SQLite would wait, and refuses to: the harness waits instead.
fn busy(_attempts: i32) -> bool {
    WOULD_WAIT.with(|would_wait| would_wait.set(true));
    false
}

/// The directory fresh database files go in, and their numbering.
pub(crate) struct SqliteDirectory {
    path: PathBuf,
    /// Removed with the target: a temporary directory of the harness's own.
    temporary: bool,
    next: AtomicU64,
    /// The template file of each schema, by the address of its `create` statements.
    templates: Mutex<BTreeMap<usize, PathBuf>>,
}

impl fmt::Debug for SqliteDirectory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteDirectory")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SqliteDirectory {
    /// A new temporary directory, in `TMPDIR`, else in `/dev/shm` where there is one (files
    /// in memory, as fast as SQLite gets with real files and locks), else the system's.
    pub(crate) fn temporary() -> Result<SqliteDirectory, String> {
        let base = match std::env::var_os("TMPDIR") {
            Some(dir) => PathBuf::from(dir),
            None if Path::new("/dev/shm").is_dir() => PathBuf::from("/dev/shm"),
            None => std::env::temp_dir(),
        };
        let path = base.join(format!(
            "joincheck-{}-{}",
            std::process::id(),
            DIRECTORIES.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path)
            .map_err(|error| format!("cannot create {}: {error}", path.display()))?;
        Ok(SqliteDirectory {
            path,
            temporary: true,
            next: AtomicU64::new(0),
            templates: Mutex::default(),
        })
    }

    /// The directory `path`, created if need be; the files made there are removed, the
    /// directory is kept.
    pub(crate) fn at(path: &Path) -> Result<SqliteDirectory, String> {
        if path.exists() && !path.is_dir() {
            return Err(format!(
                "sqlite:{} names a directory for the fresh database files, and it is a file",
                path.display()
            ));
        }
        std::fs::create_dir_all(path)
            .map_err(|error| format!("cannot create {}: {error}", path.display()))?;
        Ok(SqliteDirectory {
            path: path.to_path_buf(),
            temporary: false,
            next: AtomicU64::new(0),
            templates: Mutex::default(),
        })
    }

    /// Where the files go.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// A fresh database file holding `schema` and the `initial` memberships, with the
    /// harness's own connection to it. The file is a copy of one made once per schema (tables
    /// created, in WAL mode): copying a small file costs a tenth of creating the tables.
    pub(crate) fn create(
        &self,
        schema: &Schema,
        initial: &[(TeamId, UserId)],
    ) -> Result<(SqliteFile, Connection), SqlError> {
        let template = self.template(schema.create)?;
        let number = self.next.fetch_add(1, Ordering::Relaxed);
        let path = self.path.join(format!("execution-{number}.sqlite"));
        remove_database(&path);
        std::fs::copy(&template, &path).map_err(|error| {
            SqlError::harness(format!("cannot copy {}: {error}", template.display()))
        })?;
        let file = SqliteFile { path };
        let monitor = file.open()?;
        let seed: Vec<String> = (schema.seed)(initial);
        if !seed.is_empty() {
            let setup = format!("BEGIN; {}; COMMIT;", seed.join("; "));
            monitor.execute_batch(&setup).map_err(from_sqlite)?;
        }
        Ok((file, monitor))
    }

    /// The file that fresh databases with the tables of `create` are copies of, made on first
    /// use: in WAL mode, checkpointed, closed.
    fn template(&self, create: &'static [&'static str]) -> Result<PathBuf, SqlError> {
        let mut templates = self
            .templates
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let key = create.as_ptr() as usize;
        if let Some(path) = templates.get(&key) {
            return Ok(path.clone());
        }
        let path = self
            .path
            .join(format!("template-{}.sqlite", templates.len()));
        remove_database(&path);
        let connection = Connection::open(&path).map_err(from_sqlite)?;
        connection
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(from_sqlite)?;
        let tables = format!("BEGIN; {}; COMMIT;", create.join("; "));
        connection.execute_batch(&tables).map_err(from_sqlite)?;
        connection
            .pragma_update(None, "wal_checkpoint", "TRUNCATE")
            .map_err(from_sqlite)?;
        drop(connection);
        templates.insert(key, path.clone());
        Ok(path)
    }
}

impl Drop for SqliteDirectory {
    fn drop(&mut self) {
        if self.temporary {
            let _ = std::fs::remove_dir_all(&self.path);
            return;
        }
        let templates = self
            .templates
            .get_mut()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for template in templates.values() {
            remove_database(template);
        }
    }
}

/// Numbers the temporary directories of one process.
static DIRECTORIES: AtomicU64 = AtomicU64::new(0);

/// One execution's database file; removed, with its WAL files, when dropped.
pub(crate) struct SqliteFile {
    path: PathBuf,
}

impl SqliteFile {
    /// A connection of its own, as every server and the harness's monitor have: separate
    /// connections to one file, the semantics a deployment gets (no shared cache).
    pub(crate) fn open(&self) -> Result<Connection, SqlError> {
        open_connection(&self.path, false)
    }

    /// Where the file is.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

/// A connection of its own to the database file at `path`. When statements take turns, the busy
/// handler tells the harness that SQLite would wait; when they run at once (a load test), the
/// connection waits for locks as a deployment's does (`busy_timeout`, 5 s).
pub(crate) fn open_connection(path: &Path, at_once: bool) -> Result<Connection, SqlError> {
    let mut connection = Connection::open(path).map_err(from_sqlite)?;
    // Writes need not reach the disk for a check: durability is not what is checked, and
    // neither isolation nor locking depends on it.
    connection
        .pragma_update(None, "synchronous", "OFF")
        .map_err(from_sqlite)?;
    match at_once {
        true => connection.busy_timeout(std::time::Duration::from_secs(5)),
        false => connection.busy_handler(Some(busy)),
    }
    .map_err(from_sqlite)?;
    // The file goes with its execution: closing need not move the WAL into it first.
    connection
        .set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)
        .map_err(from_sqlite)?;
    Ok(connection)
}

impl Drop for SqliteFile {
    fn drop(&mut self) {
        remove_database(&self.path);
    }
}

/// Removes a database file and its WAL and shared-memory files.
fn remove_database(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(name));
    }
}

/// Runs one statement on `connection`.
pub(crate) fn run(connection: &Connection, sql: &str) -> Ran {
    WOULD_WAIT.with(|would_wait| would_wait.set(false));
    let answer = execute(connection, sql);
    let would_wait = WOULD_WAIT.with(Cell::get);
    match answer {
        Err(error) if would_wait && error.kind == joincheck_models::domain::DatabaseError::Busy => {
            Ran::WouldWait
        }
        answer => Ran::Answered(answer),
    }
}

/// Runs a query on the harness's own connection (the statement cannot wait: readers never do
/// in WAL mode).
pub(crate) fn query(connection: &Connection, sql: &str) -> Result<Vec<Row>, SqlError> {
    execute(connection, sql).map(|executed| executed.rows)
}

/// Runs one statement; a busy database answers busy.
pub(crate) fn execute(connection: &Connection, sql: &str) -> Result<Executed, SqlError> {
    let mut statement = connection.prepare(sql).map_err(from_sqlite)?;
    let columns = statement.column_count();
    if columns == 0 {
        let affected = statement.execute([]).map_err(from_sqlite)?;
        return Ok(Executed {
            rows: Vec::new(),
            affected: affected as u64,
            columns: false,
        });
    }
    let writes = !statement.readonly();
    let mut rows = Vec::new();
    let mut answer = statement.query([]).map_err(from_sqlite)?;
    while let Some(row) = answer.next().map_err(from_sqlite)? {
        let values = (0..columns)
            .map(|index| row.get_ref(index).map(value).map_err(from_sqlite))
            .collect::<Result<Vec<Value>, SqlError>>()?;
        rows.push(Row(values));
    }
    drop(answer);
    let affected = if writes { connection.changes() } else { 0 };
    Ok(Executed {
        rows,
        affected,
        columns: true,
    })
}

fn value(cell: ValueRef<'_>) -> Value {
    match cell {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(number) => Value::Int(number),
        ValueRef::Real(number) => Value::Text(number.to_string()),
        ValueRef::Text(text) | ValueRef::Blob(text) => {
            Value::Text(String::from_utf8_lossy(text).into_owned())
        }
    }
}
