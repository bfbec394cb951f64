//! An SQL database as the engines see it: every statement is one step, whose order the engine
//! chooses and whose answer the database decides.
//!
//! A statement runs inside one critical section of the runtime's mutex, so loom, shuttle and
//! real threads order statements as they order any store operation. In that same section the
//! harness reads the *committed* membership on a connection of its own and records the step.
//! A statement that must wait for a lock is not run to completion there: on PostgreSQL it waits
//! inside the database while the engine runs the other servers, and it is answered (and
//! recorded) when another server's statement ends the transaction holding the lock; on SQLite
//! its server is held back and tries again once a transaction has ended.

mod connection;
mod steps;
mod waits;

pub use connection::SqlConnection;
use steps::words;
use waits::servers_of;

use super::error::SqlError;
use super::footprint::Tables;
use super::meaning::stream_name;
use super::postgres::{PgRan, PgSession};
use super::schema::Schema;
use super::sqlite::{self, Executed, Ran};
use super::statement::Statement;
use super::target::{Connector, Dialect, Fresh, SqlTarget};
use super::value::{write_in, Row, Value};
use crate::runtime::{Condvar, Mutex, Runtime};
use crate::store::guarded::{write_changed_teams, Order};
use crate::store::recorder::Recorder;
use crate::store::{Database, Recording, StepLog};
use joincheck_models::domain::{DatabaseError, ServerId, TeamId, UserId};
use joincheck_models::operation::{OpResult, Operation, Step};
use joincheck_models::statement::SqlAnswer;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A fresh SQL database for one execution, shared by the servers' connections.
pub struct SqlDatabase<R: Runtime> {
    inner: Mutex<R, Inner>,
    /// The statements' history, which a service's own steps join without taking `inner`.
    history: Arc<Recorder>,
    turn: Condvar<R>,
    dialect: Dialect,
    connector: Connector,
    /// Connections made and not yet taken into `inner`: connecting takes no lock an engine
    /// sees (a server may connect while others already run), and the next statement takes them
    /// in. A plain mutex: it is never held across a scheduling point.
    arrivals: std::sync::Mutex<Vec<(ServerId, Connected)>>,
    /// Statements run at once, each on its server's own connection, as in a deployment (a load
    /// test), instead of taking turns.
    at_once: bool,
    /// Each server's statements since a load test last took them ([`Recording::PerServer`]).
    logs: Option<std::sync::Mutex<BTreeMap<ServerId, Vec<Step>>>>,
    /// Each server's latest connection, to cut it.
    cables: std::sync::Mutex<BTreeMap<ServerId, Cable>>,
}

impl<R: Runtime> fmt::Debug for SqlDatabase<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlDatabase")
            .field("dialect", &self.dialect)
            .finish_non_exhaustive()
    }
}

/// A server's connection as the harness drives it.
enum Session {
    Sqlite(rusqlite::Connection),
    Postgres(PgSession),
}

/// Where a server's current statement stands.
enum Wait {
    /// No statement waits.
    Ready,
    /// SQLite would wait for a lock: try again once more than `ended` transactions have ended.
    HeldBack { ended: u64 },
    /// PostgreSQL is keeping the statement waiting for the locks of these servers.
    Blocked {
        statement: Statement,
        written: String,
        blockers: Vec<ServerId>,
    },
    /// The statement was answered while its server waited; the server takes the answer.
    Answered(Result<Executed, SqlError>),
}

struct Connected {
    session: Option<Session>,
    wait: Wait,
    /// SQLite held the current statement back at least once.
    held_back: bool,
    /// The users the open transaction wrote, shown when it commits.
    uncommitted: Vec<UserId>,
    flags: Arc<Flags>,
}

/// A server's connection as a fault cuts it: its flags (SQLite closes it before its next
/// statement) and its PostgreSQL backend (ended at once).
type Cable = (Arc<Flags>, Option<i32>);

/// What a server's connection shares with the harness outside the runtime's mutex: a server
/// that ends holding no transaction says so without taking the mutex, which would be one more
/// scheduling point for every engine.
#[derive(Default)]
struct Flags {
    /// The connection is inside a transaction.
    in_transaction: AtomicBool,
    /// The server has ended.
    ended: AtomicBool,
    /// A fault cut the connection: its next statement finds it closed.
    cut: AtomicBool,
}

impl Connected {
    fn live(&self) -> bool {
        !self.flags.ended.load(Ordering::Relaxed)
    }
}

struct Inner {
    /// Declared before `fresh`: connections close before their database goes.
    servers: BTreeMap<ServerId, Connected>,
    fresh: Fresh,
    schema: Schema,
    /// The schema's tables, which statements that run on their own are ordered by (DPOR).
    tables: Tables,
    history: Arc<Recorder>,
    order: Option<Order>,
    /// How many transactions have ended (SQLite: a server held back tries again after one).
    ended: u64,
    /// The committed membership after the last step.
    membership: Vec<(TeamId, UserId)>,
    /// A server waiting on the condition variable may be able to go on now.
    wake: bool,
    /// A transaction ended since statements waiting in the database were last looked at.
    released: bool,
}

/// How a statement's first attempt went.
enum Started {
    Answered(Result<Executed, SqlError>),
    WouldWait,
    Blocked(Vec<ServerId>),
}

impl<R: Runtime> SqlDatabase<R> {
    /// A fresh database at `target` holding `schema`'s tables and the `initial` memberships
    /// (not recorded), recording every statement when `recording` is on.
    pub fn open(
        target: &SqlTarget,
        schema: Schema,
        initial: &[(TeamId, UserId)],
        recording: Recording,
    ) -> Result<SqlDatabase<R>, SqlError> {
        let fresh = target.open(&schema, initial)?;
        let mut inner = Inner {
            servers: BTreeMap::new(),
            fresh,
            tables: Tables::of(&schema),
            schema,
            history: Arc::new(Recorder::new(recording)),
            order: None,
            ended: 0,
            membership: Vec::new(),
            wake: false,
            released: false,
        };
        inner.membership = inner.read_membership()?;
        inner.history.set_membership(|| inner.membership.clone());
        let connector = inner.fresh.connector();
        Ok(SqlDatabase {
            history: Arc::clone(&inner.history),
            inner: Mutex::for_store(inner),
            turn: Condvar::new(),
            dialect: target.dialect(),
            connector,
            arrivals: std::sync::Mutex::default(),
            at_once: recording != Recording::On,
            logs: (recording == Recording::PerServer).then(std::sync::Mutex::default),
            cables: std::sync::Mutex::default(),
        })
    }

    /// The engine behind this database.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Runs a query on the harness's own connection, which sees what is committed: for checks
    /// after a run (an event log's versions, say), never a server's step.
    pub fn committed(&self, sql: &str) -> Result<Vec<Row>, SqlError> {
        self.lock().query(sql)
    }

    /// A connection of its own for `server`, as every server of a deployment has. A server
    /// whose connection was cut connects again this way.
    pub fn connect(self: &Arc<Self>, server: ServerId) -> Result<SqlConnection<R>, SqlError> {
        let session = match &self.connector {
            Connector::Sqlite(path) => {
                Session::Sqlite(sqlite::open_connection(path, self.at_once)?)
            }
            Connector::Postgres(database, schema) => {
                Session::Postgres(database.session_in(schema)?)
            }
        };
        let flags = Arc::new(Flags::default());
        let pid = match &session {
            Session::Postgres(session) => Some(session.pid),
            Session::Sqlite(_) => None,
        };
        plain(&self.cables).insert(server, (Arc::clone(&flags), pid));
        if self.at_once {
            return Ok(SqlConnection {
                database: Arc::clone(self),
                server,
                flags,
                own: Some(std::sync::Mutex::new(Some(session))),
            });
        }
        plain(&self.arrivals).push((
            server,
            Connected {
                session: Some(session),
                wait: Wait::Ready,
                held_back: false,
                uncommitted: Vec::new(),
                flags: Arc::clone(&flags),
            },
        ));
        Ok(SqlConnection {
            database: Arc::clone(self),
            server,
            flags,
            own: None,
        })
    }

    /// Runs one statement of `server`: one step, recorded with the database's answer and the
    /// committed membership after it.
    fn run(
        &self,
        server: ServerId,
        statement: &Statement,
        params: &[Value],
    ) -> Result<Executed, SqlError> {
        let written = write_in(statement.sql(), params).map_err(SqlError::harness)?;
        R::round_trip();
        let mut guard = self.lock();
        loop {
            guard = self.turn.wait_until(guard, |inner| inner.may_start(server));
            let inner = &mut *guard;
            let alone = R::FOOTPRINTS && inner.alone(server, statement);
            let before = alone.then(|| inner.membership.clone());
            match inner.start(server, &written) {
                Started::Answered(answer) => {
                    inner.took_effect(server, statement, &written, &answer, None);
                    if let Some(before) = before.filter(|_| inner.alone(server, statement)) {
                        if let Some(mut footprint) = inner.tables.footprint(&written) {
                            write_changed_teams(&mut footprint, &before, &inner.membership);
                            R::touch(|| footprint);
                        }
                    }
                    inner.settle_blocked();
                    self.wake_if_needed(inner);
                    return answer;
                }
                Started::WouldWait => {
                    let ended = inner.ended;
                    let connected = inner.connected(server);
                    connected.wait = Wait::HeldBack { ended };
                    connected.held_back = true;
                    inner.stuck_unless_someone_can_go();
                }
                Started::Blocked(blockers) => {
                    inner.connected(server).wait = Wait::Blocked {
                        statement: statement.clone(),
                        written,
                        blockers,
                    };
                    if let Some(order) = &mut inner.order {
                        order.diverge("a statement waited for a lock");
                    }
                    inner.break_a_deadlock_if_everyone_waits();
                    self.wake_if_needed(inner);
                    guard = self.turn.wait_until(guard, |inner| {
                        matches!(inner.servers[&server].wait, Wait::Answered(_))
                    });
                    let wait = std::mem::replace(&mut guard.connected(server).wait, Wait::Ready);
                    let Wait::Answered(answer) = wait else {
                        unreachable!("the wait ended with an answer")
                    };
                    return answer;
                }
            }
        }
    }

    /// The database's state, with the connections made since taken in.
    fn lock(&self) -> crate::runtime::MutexGuard<'_, R, Inner> {
        let mut guard = self.inner.lock();
        let arrivals = std::mem::take(&mut *plain(&self.arrivals));
        guard.servers.extend(arrivals);
        guard
    }

    /// Wakes the servers waiting on the condition variable when one of them may go on: every
    /// wake is one more choice for loom to explore, so only then.
    fn wake_if_needed(&self, inner: &mut Inner) {
        if std::mem::take(&mut inner.wake) || inner.order.is_some() {
            self.turn.notify_all();
        }
    }

    /// Runs one statement on `server`'s own connection, at once with the other servers'; it
    /// waits for locks as long as the database keeps it waiting.
    fn run_at_once(
        &self,
        server: ServerId,
        own: &std::sync::Mutex<Option<Session>>,
        flags: &Flags,
        statement: &Statement,
        params: &[Value],
    ) -> Result<Executed, SqlError> {
        let written = write_in(statement.sql(), params).map_err(SqlError::harness)?;
        R::round_trip();
        let mut own = plain(own);
        if flags.cut.swap(false, Ordering::Relaxed) {
            // Closing the connection: the database rolls back its open transaction.
            *own = None;
        }
        let answer = match own.as_mut() {
            None => Err(SqlError::connection_lost(format!(
                "{server}'s connection was cut"
            ))),
            Some(Session::Sqlite(connection)) => sqlite::execute(connection, &written),
            Some(Session::Postgres(session)) => session.run_to_answer(&written),
        };
        if answer
            .as_ref()
            .is_err_and(|error| error.kind == DatabaseError::ConnectionLost)
        {
            *own = None;
        }
        if let Some(logs) = &self.logs {
            let step = Step {
                server,
                operation: Operation::from(statement.record(written.clone())),
                result: OpResult::from(SqlAnswer {
                    error: answer.as_ref().err().map(|error| error.kind),
                    ..SqlAnswer::new(words(&written, &answer))
                }),
                membership_after: Vec::new(),
            };
            plain(logs).entry(server).or_default().push(step);
        }
        answer
    }

    /// `server` ended: a transaction it left open is rolled back, as a pool does with a
    /// connection handed back, and recorded. One that holds none just says it ended.
    fn disconnect(&self, server: ServerId, flags: &Flags) {
        // A run torn down by a panic cannot take the runtime's mutex any more (loom's and
        // shuttle's exist only while the run does): the database is dropped with the run.
        if !flags.in_transaction.load(Ordering::Relaxed) || std::thread::panicking() {
            flags.ended.store(true, Ordering::Relaxed);
            return;
        }
        // The rollback is a statement of its own: its own step for an engine that schedules at
        // statements (the database's mutex is no point for DPOR).
        R::round_trip();
        let mut guard = self.lock();
        let inner = &mut *guard;
        let rollback = Statement::new("close", "ROLLBACK");
        if let Started::Answered(answer) = inner.start(server, "ROLLBACK") {
            let why = format!("{server} ended with its transaction open");
            inner.took_effect(server, &rollback, "ROLLBACK", &answer, Some(why));
            inner.settle_blocked();
        }
        flags.ended.store(true, Ordering::Relaxed);
        inner.wake = true;
        self.wake_if_needed(inner);
    }
}

impl Inner {
    /// Whether `statement` of `server` runs on its own: outside any transaction, opening or
    /// ending none, with no server waiting on the database (whose statement it could let go
    /// on). Only such a statement is ordered by the tables it names (see [`Tables`]).
    fn alone(&mut self, server: ServerId, statement: &Statement) -> bool {
        let in_transaction = self
            .connected(server)
            .flags
            .in_transaction
            .load(Ordering::Relaxed);
        let waiting = self
            .servers
            .values()
            .any(|c| matches!(c.wait, Wait::HeldBack { .. } | Wait::Blocked { .. }));
        !in_transaction && statement.transaction_effect().is_none() && !waiting
    }

    fn connected(&mut self, server: ServerId) -> &mut Connected {
        self.servers
            .get_mut(&server)
            .expect("a server runs statements only on its own connection")
    }

    /// Whether `server` may try its statement now: its turn in an enforced order, and, if
    /// SQLite held it back, a transaction has ended since.
    fn may_start(&mut self, server: ServerId) -> bool {
        let ended = self.ended;
        let ready = match self.servers.get(&server).map(|c| &c.wait) {
            Some(Wait::HeldBack { ended: before }) => ended > *before,
            _ => true,
        };
        ready && self.order.as_mut().is_none_or(|order| order.admits(server))
    }

    /// Sends `written` on `server`'s connection.
    fn start(&mut self, server: ServerId, written: &str) -> Started {
        let pids = self.pids();
        let Inner { servers, fresh, .. } = self;
        let connected = servers
            .get_mut(&server)
            .expect("a server runs statements only on its own connection");
        connected.wait = Wait::Ready;
        let session = connected.session.as_mut().expect("a live connection");
        match (session, fresh) {
            (Session::Sqlite(connection), _) => match sqlite::run(connection, written) {
                Ran::Answered(answer) => Started::Answered(answer),
                Ran::WouldWait => Started::WouldWait,
            },
            (Session::Postgres(session), Fresh::Postgres(place)) => {
                match session.run(place, written) {
                    PgRan::Answered(answer) => Started::Answered(answer),
                    PgRan::Blocked(blockers) => Started::Blocked(servers_of(&pids, &blockers)),
                }
            }
            (Session::Postgres(_), Fresh::Sqlite { .. }) => {
                unreachable!("a PostgreSQL connection belongs to a PostgreSQL database")
            }
        }
    }

    /// The committed membership, read on the harness's own connection.
    fn read_membership(&mut self) -> Result<Vec<(TeamId, UserId)>, SqlError> {
        let rows = self.query(self.schema.membership)?;
        let mut pairs: Vec<(TeamId, UserId)> = rows
            .iter()
            .map(|row| match (row.team(0), row.user(1)) {
                (Some(team), Some(user)) => (team, user),
                _ => panic!(
                    "the membership query's rows must be (team, user) names; one was {:?}",
                    row.0
                ),
            })
            .collect();
        pairs.sort();
        pairs.dedup();
        Ok(pairs)
    }

    /// A stream's committed version: how many events it holds.
    fn stream_version(&mut self, stream: joincheck_models::operation::StreamKey) -> Option<u64> {
        let name = Value::from(stream_name(stream)).literal();
        let sql = format!("SELECT count(*) FROM events WHERE stream = {name}");
        let rows = self.query(&sql).ok()?;
        rows.first()?
            .int(0)
            .and_then(|count| u64::try_from(count).ok())
    }

    /// A query on the harness's own connection.
    fn query(&mut self, sql: &str) -> Result<Vec<Row>, SqlError> {
        match &mut self.fresh {
            Fresh::Sqlite { monitor, .. } => sqlite::query(monitor, sql),
            Fresh::Postgres(place) => place.query(sql),
        }
    }
}

/// Connections go back to the pool (PostgreSQL) or close (SQLite) before the database goes.
impl Drop for Inner {
    fn drop(&mut self) {
        let servers = std::mem::take(&mut self.servers);
        for (_, mut connected) in servers {
            if let (Some(Session::Postgres(session)), Fresh::Postgres(place)) =
                (connected.session.take(), &self.fresh)
            {
                place.give_back(session);
            }
        }
    }
}

impl<R: Runtime> Database for SqlDatabase<R> {
    fn membership(&self) -> Vec<(TeamId, UserId)> {
        self.lock()
            .read_membership()
            .unwrap_or_else(|error| panic!("cannot read the committed membership: {error}"))
    }

    fn history(&self) -> Vec<Step> {
        self.history.steps()
    }

    fn enforce_order(&self, order: Vec<ServerId>) -> bool {
        self.inner.lock().order = Some(Order::new(order));
        true
    }

    fn server_finished(&self, server: ServerId) {
        if let Some(order) = &mut self.inner.lock().order {
            order.finish(server);
        }
        self.turn.notify_all();
    }

    fn order_diverged(&self) -> Option<String> {
        self.inner.lock().order.as_ref().and_then(Order::diverged)
    }

    fn take_steps(&self, server: ServerId) -> Vec<Step> {
        match &self.logs {
            Some(logs) => plain(logs).remove(&server).unwrap_or_default(),
            None => Vec::new(),
        }
    }

    fn cut_connection(&self, server: ServerId) -> bool {
        let Some((flags, pid)) = plain(&self.cables).get(&server).cloned() else {
            return false;
        };
        match pid {
            // The backend goes now; its statement in flight, if any, fails at once.
            Some(pid) => {
                let sql = format!("SELECT pg_terminate_backend({pid})");
                self.inner.lock().query(&sql).is_ok()
            }
            None => {
                flags.cut.store(true, Ordering::Relaxed);
                true
            }
        }
    }
}

/// A step recorded here (a lock taken, say) changes nothing in the database.
impl<R: Runtime> StepLog for SqlDatabase<R> {
    fn record(&self, server: ServerId, operation: Operation, result: OpResult) {
        self.history.record(server, operation, result);
    }
}

/// A plain mutex's guard: one never held across a scheduling point, whose poisoning a panic
/// already reported.
fn plain<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
