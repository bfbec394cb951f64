//! PostgreSQL: a schema of its own per execution, a connection per server, and statements that
//! may wait inside the database for a lock another server's open transaction holds.
//!
//! Each server's connection is driven by an operating-system thread of its own, outside every
//! engine's scheduler, so that a statement can wait in the database while the engine runs the
//! other servers. The harness tells a waiting statement from a running one by asking the
//! database (`pg_blocking_pids`): it is then *blocked*, and its server waits until another
//! server's statement ends the transaction that holds the lock, as the database decides.
//! Connections are pooled across executions: opening one costs more than a whole execution.

mod schemas;

use schemas::{creation, drop_schema, drop_stale_schemas, host_tag, Factory};

use super::error::{from_postgres, SqlError};
use super::schema::Schema;
use super::sqlite::Executed;
use super::value::{Row, Value};
use joincheck_models::domain::{TeamId, UserId};
use postgres::{Client, Config, NoTls, SimpleQueryMessage};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long connecting may take before the server counts as not answering.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a statement may run (not wait for a lock) before the harness gives up on it.
const STATEMENT_LIMIT: Duration = Duration::from_secs(60);
/// How long the harness gives the database to break a cycle of waiting transactions.
const DEADLOCK_LIMIT: Duration = Duration::from_secs(30);

/// A PostgreSQL server, with the connections idle between executions.
pub(crate) struct PgServer {
    config: Config,
    /// The URL as given, for messages.
    url: String,
    /// The prefix of this process's schemas: `joincheck_<host>_<pid>`.
    prefix: String,
    idle_sessions: Mutex<Vec<PgSession>>,
    idle_monitors: Mutex<Vec<Client>>,
    factory: Factory,
}

impl fmt::Debug for PgServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgServer")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl PgServer {
    /// The server at `url`, checked: it answers, and this user may create and drop a schema.
    /// Schemas a killed run of joincheck on this machine left behind are dropped.
    pub(crate) fn connect(given: &str) -> Result<Arc<PgServer>, String> {
        let url = &without_password(given);
        let mut config: Config = given
            .parse()
            .map_err(|error| format!("{url} is not a PostgreSQL URL: {error}"))?;
        config.connect_timeout(CONNECT_TIMEOUT);
        let prefix = format!("joincheck_{}_{}", host_tag(), std::process::id());
        let connect = |config: &Config| {
            connect_client(config)
                .map_err(|error| format!("PostgreSQL at {url} does not answer: {}", error.message))
        };
        let mut monitor = connect(&config)?;
        let factory = Factory::start(connect(&config)?);
        let server = PgServer {
            config,
            url: url.to_string(),
            prefix,
            idle_sessions: Mutex::default(),
            idle_monitors: Mutex::default(),
            factory,
        };
        let probe = format!("{}_probe", server.prefix);
        monitor
            .batch_execute(&format!("CREATE SCHEMA {probe}; DROP SCHEMA {probe}"))
            .map_err(|error| {
                format!(
                    "PostgreSQL at {url}: cannot create a schema: {}",
                    from_postgres(&error).message
                )
            })?;
        drop_stale_schemas(&mut monitor);
        lock(&server.idle_monitors).push(monitor);
        Ok(Arc::new(server))
    }

    /// The URL, as given but for its password.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    fn schema_name(&self) -> String {
        let number = SCHEMAS.fetch_add(1, Ordering::Relaxed);
        format!("{}_{number}", self.prefix)
    }

    fn monitor(&self) -> Result<Client, SqlError> {
        match lock(&self.idle_monitors).pop() {
            Some(client) => Ok(client),
            None => connect_client(&self.config),
        }
    }

    /// A server's connection (from the pool when one is idle), working in `schema`.
    pub(crate) fn session_in(&self, schema: &str) -> Result<PgSession, SqlError> {
        let idle = lock(&self.idle_sessions).pop();
        let mut session = match idle {
            Some(session) => session,
            None => PgSession::start(connect_client(&self.config)?)?,
        };
        let search_path = format!("SET search_path TO {schema}");
        session.jobs.send(search_path).map_err(|_| session.lost())?;
        session.pending = true;
        session.wait_for_answer()?;
        Ok(session)
    }

    /// A fresh schema holding `schema`'s tables and the `initial` memberships.
    pub(crate) fn create(
        self: &Arc<Self>,
        schema: &Schema,
        initial: &[(TeamId, UserId)],
    ) -> Result<PgPlace, SqlError> {
        let mut monitor = self.monitor()?;
        let name = match self.factory.take(schema.create) {
            Some(name) => name,
            None => {
                let name = self.schema_name();
                monitor
                    .batch_execute(&creation(&name, schema.create))
                    .map_err(|error| from_postgres(&error))?;
                name
            }
        };
        self.factory.prepare(schema.create, self.schema_name());
        let mut setup = format!("SET search_path TO {name};");
        for statement in (schema.seed)(initial) {
            setup.push_str(&statement);
            setup.push(';');
        }
        monitor
            .batch_execute(&setup)
            .map_err(|error| from_postgres(&error))?;
        Ok(PgPlace {
            server: Arc::clone(self),
            schema: name,
            monitor: Some(monitor),
        })
    }
}

/// `url` with its password, if it has one, shown as `***`: reports and errors print the URL.
fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((credentials, host)) => match credentials.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{path}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// Numbers the schemas of this process: several targets may share one server.
static SCHEMAS: AtomicU64 = AtomicU64::new(0);

/// Connects, for a check: commits need not wait for the disk (durability is not what is
/// checked), and a deadlock is broken after 50 ms instead of a second (a superuser's setting;
/// others keep the default).
fn connect_client(config: &Config) -> Result<Client, SqlError> {
    let mut client = config
        .connect(NoTls)
        .map_err(|error| from_postgres(&error))?;
    client
        .batch_execute("SET synchronous_commit = off")
        .map_err(|error| from_postgres(&error))?;
    let _ = client.batch_execute("SET deadlock_timeout = '50ms'");
    Ok(client)
}

/// One execution's schema, and the harness's own connection to it; dropped with the execution.
pub(crate) struct PgPlace {
    server: Arc<PgServer>,
    schema: String,
    monitor: Option<Client>,
}

impl PgPlace {
    /// A query on the harness's own connection: it sees what is committed.
    pub(crate) fn query(&mut self, sql: &str) -> Result<Vec<Row>, SqlError> {
        let monitor = self
            .monitor
            .as_mut()
            .expect("the monitor lives as long as the place");
        simple_query(monitor, sql).map(|executed| executed.rows)
    }

    /// The server, and this execution's schema on it: what a server's connection needs.
    pub(crate) fn location(&self) -> (Arc<PgServer>, String) {
        (Arc::clone(&self.server), self.schema.clone())
    }

    /// Which of the servers' backends hold the lock the backend `pid` waits for: empty when it
    /// is not waiting for a lock.
    pub(crate) fn blockers(&mut self, pid: i32) -> Vec<i32> {
        let sql = format!("SELECT unnest(pg_blocking_pids({pid}))");
        match self.query(&sql) {
            Ok(rows) => rows
                .iter()
                .filter_map(|row| row.int(0).and_then(|pid| i32::try_from(pid).ok()))
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    /// Gives a server's connection back to the pool, its transaction (if any) rolled back.
    pub(crate) fn give_back(&self, mut session: PgSession) {
        if session.reset().is_ok() {
            lock(&self.server.idle_sessions).push(session);
        }
    }
}

/// The schema is dropped (by the factory, soon, or here) and the monitor goes back to the pool.
impl Drop for PgPlace {
    fn drop(&mut self) {
        let Some(mut monitor) = self.monitor.take() else {
            return;
        };
        let schema = std::mem::take(&mut self.schema);
        if let Err(schema) = self.server.factory.discard(schema) {
            drop_schema(&mut monitor, &schema);
        }
        lock(&self.server.idle_monitors).push(monitor);
    }
}

/// A server's connection: a thread of its own runs its statements, one at a time.
pub(crate) struct PgSession {
    /// The backend's process id, as `pg_blocking_pids` names it.
    pub(crate) pid: i32,
    jobs: Sender<String>,
    answers: Receiver<Result<Executed, SqlError>>,
    cancel: postgres::CancelToken,
    /// A statement was sent whose answer has not been taken.
    pending: bool,
    /// The connection is inside a transaction (as its statements said).
    pub(crate) in_transaction: bool,
    worker: Option<JoinHandle<()>>,
}

/// A statement's fate on PostgreSQL.
pub(crate) enum PgRan {
    /// The database answered.
    Answered(Result<Executed, SqlError>),
    /// The statement waits for a lock these backends hold.
    Blocked(Vec<i32>),
}

impl PgSession {
    fn start(mut client: Client) -> Result<PgSession, SqlError> {
        let pid = simple_query(&mut client, "SELECT pg_backend_pid()")?
            .rows
            .first()
            .and_then(|row| row.int(0))
            .and_then(|pid| i32::try_from(pid).ok())
            .ok_or_else(|| SqlError::harness("PostgreSQL did not say its backend's pid"))?;
        let cancel = client.cancel_token();
        let (jobs, jobs_in) = mpsc::channel::<String>();
        let (answers_out, answers) = mpsc::channel();
        let worker = std::thread::Builder::new()
            .name(format!("postgres-{pid}"))
            .spawn(move || {
                for sql in jobs_in {
                    if answers_out.send(simple_query(&mut client, &sql)).is_err() {
                        break;
                    }
                }
            })
            .map_err(|error| SqlError::harness(format!("cannot start a thread: {error}")))?;
        Ok(PgSession {
            pid,
            jobs,
            answers,
            cancel,
            pending: false,
            in_transaction: false,
            worker: Some(worker),
        })
    }

    fn lost(&self) -> SqlError {
        SqlError::connection_lost("the connection to PostgreSQL was lost")
    }

    /// Sends `sql` and waits for its answer however long the database keeps it waiting (a load
    /// test's statements wait for each other's locks as a deployment's do).
    pub(crate) fn run_to_answer(&mut self, sql: &str) -> Result<Executed, SqlError> {
        if self.jobs.send(sql.to_string()).is_err() {
            return Err(self.lost());
        }
        self.pending = true;
        let answer = self.answers.recv().map_err(|_| self.lost())?;
        self.pending = false;
        answer
    }

    /// Sends `sql` and waits until it is answered or blocked.
    pub(crate) fn run(&mut self, place: &mut PgPlace, sql: &str) -> PgRan {
        if self.jobs.send(sql.to_string()).is_err() {
            return PgRan::Answered(Err(self.lost()));
        }
        self.pending = true;
        // Most statements are answered within a round trip: asking the database whether one
        // waits would cost another.
        if let Some(answer) = self.receive(Duration::from_millis(1)) {
            return PgRan::Answered(answer);
        }
        self.settle(place)
    }

    /// The answer to the statement sent, once it is answered; or the backends it waits for.
    /// A statement neither answered nor blocked is running: wait for it to do one or the other.
    pub(crate) fn settle(&mut self, place: &mut PgPlace) -> PgRan {
        let started = Instant::now();
        let mut patience = Duration::ZERO;
        loop {
            if let Some(answer) = self.receive(patience) {
                return PgRan::Answered(answer);
            }
            let blockers = place.blockers(self.pid);
            if !blockers.is_empty() {
                return PgRan::Blocked(blockers);
            }
            patience = Duration::from_micros(300);
            if started.elapsed() > STATEMENT_LIMIT {
                return PgRan::Answered(Err(SqlError::harness(format!(
                    "the statement neither finished nor waited for a lock within {} s",
                    STATEMENT_LIMIT.as_secs()
                ))));
            }
        }
    }

    /// The answer, if the database gave it already; never waits.
    pub(crate) fn answered(&mut self) -> Option<Result<Executed, SqlError>> {
        self.receive(Duration::ZERO)
    }

    /// The answer, if the database gives it within `patience`.
    fn receive(&mut self, patience: Duration) -> Option<Result<Executed, SqlError>> {
        let answer = match self.answers.recv_timeout(patience) {
            Ok(answer) => answer,
            Err(RecvTimeoutError::Timeout) => return None,
            Err(RecvTimeoutError::Disconnected) => Err(self.lost()),
        };
        self.pending = false;
        Some(answer)
    }

    fn wait_for_answer(&mut self) -> Result<Executed, SqlError> {
        let answer = self
            .answers
            .recv_timeout(STATEMENT_LIMIT)
            .map_err(|_| self.lost())?;
        self.pending = false;
        answer
    }

    /// Ends whatever the connection was doing: a statement still waiting is cancelled, a
    /// transaction still open rolled back; ready for the next execution.
    fn reset(&mut self) -> Result<(), SqlError> {
        if self.pending {
            let _ = self.cancel.cancel_query(NoTls);
            let _ = self.wait_for_answer();
        }
        self.jobs
            .send("ROLLBACK".to_string())
            .map_err(|_| self.lost())?;
        self.pending = true;
        self.wait_for_answer()?;
        self.in_transaction = false;
        Ok(())
    }
}

impl Drop for PgSession {
    fn drop(&mut self) {
        // Closing the channel ends the worker, which closes the connection.
        let (closed, _) = mpsc::channel();
        self.jobs = closed;
        if let Some(worker) = self.worker.take() {
            if self.pending {
                let _ = self.cancel.cancel_query(NoTls);
            }
            let _ = worker.join();
        }
    }
}

/// Waits, as the database does, until it breaks a cycle of waiting statements: one of
/// `sessions` is answered (with a deadlock error, as a rule). Returns its index.
pub(crate) fn await_deadlock_break(
    sessions: &mut [&mut PgSession],
) -> Option<(usize, Result<Executed, SqlError>)> {
    let started = Instant::now();
    while started.elapsed() < DEADLOCK_LIMIT {
        for (index, session) in sessions.iter_mut().enumerate() {
            if let Some(answer) = session.answered() {
                return Some((index, answer));
            }
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    None
}

/// Runs `sql` with the simple query protocol: one statement, parameters written in.
fn simple_query(client: &mut Client, sql: &str) -> Result<Executed, SqlError> {
    let messages = client
        .simple_query(sql)
        .map_err(|error| from_postgres(&error))?;
    let mut executed = Executed::default();
    for message in messages {
        match message {
            SimpleQueryMessage::Row(row) => {
                let values = (0..row.len())
                    .map(|index| row.get(index).map_or(Value::Null, Value::from))
                    .collect();
                executed.rows.push(Row(values));
                executed.columns = true;
            }
            SimpleQueryMessage::RowDescription(_) => executed.columns = true,
            SimpleQueryMessage::CommandComplete(rows) => executed.affected = rows,
            _ => {}
        }
    }
    Ok(executed)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_not_shown() {
        let shown = without_password("postgres://root:secret@127.0.0.1:5432/test");
        assert_eq!(shown, "postgres://root:***@127.0.0.1:5432/test");
        let plain = "postgres://root@127.0.0.1:5432/test";
        assert_eq!(without_password(plain), plain);
        assert_eq!(without_password("host=x"), "host=x");
    }
}
