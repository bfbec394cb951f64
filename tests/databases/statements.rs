//! What the harness does with statements a user writes: waits for locks as the database decides,
//! a deadlock the database breaks, SQLite's busy wait, errors by code, and nothing left behind.
//! The services here are written with the public API only, as a user writes them.

use super::{postgres, sqlite};
use joincheck::check::shuttle::{self, ShuttleOptions, Strategy};
use joincheck::check::{Execution, Scenario};
use joincheck::runtime::Runtime;
use joincheck::service::{JoinService, Server};
use joincheck::store::sql::{insert_rows, Schema, SqlConnection, SqlDatabase, SqlTarget};
use joincheck::store::sql::{Statement, Value};
use joincheck::store::Recording;
use joincheck_models::domain::{DatabaseError, JoinError, ServerId, TeamId, UserId};
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex};

const SUE: UserId = UserId(0);
const JOHN: UserId = UserId(1);
const A: TeamId = TeamId(0);
const B: TeamId = TeamId(1);

/// A users table whose row says the team; every user has a row.
const USERS: Schema = Schema {
    create: &["CREATE TABLE users (id VARCHAR(64) PRIMARY KEY, team VARCHAR(64))"],
    seed: |initial| {
        let rows = [SUE, JOHN]
            .into_iter()
            .map(|user| {
                let team = initial.iter().find(|(_, u)| *u == user).map(|(t, _)| *t);
                format!(
                    "({}, {})",
                    Value::from(user).literal(),
                    Value::from(team).literal()
                )
            })
            .collect();
        insert_rows("users", "id, team", rows)
    },
    membership: "SELECT team, id FROM users WHERE team IS NOT NULL",
};

/// A join that locks the rows of both users, in an order of the server's own (`first`), then
/// sets the user's team if none is set; on a deadlock it tries again.
#[derive(Clone, Debug)]
struct LocksBothUsers {
    target: SqlTarget,
}

#[derive(Debug)]
struct LocksBothUsersServer<R: Runtime> {
    db: SqlConnection<R>,
    first: UserId,
}

impl<R: Runtime> Server for LocksBothUsersServer<R> {
    fn join(&mut self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        let second = if self.first == SUE { JOHN } else { SUE };
        loop {
            let attempt = (|| {
                self.db.execute(&Statement::new("begin", "BEGIN"), &[])?;
                for locked in [self.first, second] {
                    let lock =
                        Statement::new("lock", "SELECT id FROM users WHERE id = $1 FOR UPDATE");
                    self.db.query(&lock, &[locked.into()])?;
                }
                let set = Statement::new(
                    "act",
                    "UPDATE users SET team = $2 WHERE id = $1 AND team IS NULL",
                )
                .writes(user);
                let rows = self.db.execute(&set, &[user.into(), team.into()])?;
                self.db.execute(&Statement::new("commit", "COMMIT"), &[])?;
                Ok(rows)
            })();
            match attempt {
                Ok(0) => return Err(JoinError::AlreadyOnSomeTeam),
                Ok(_) => return Ok(()),
                Err(error) => {
                    let _ = self
                        .db
                        .execute(&Statement::new("rollback", "ROLLBACK"), &[]);
                    let error: joincheck::store::sql::SqlError = error;
                    if error.kind != DatabaseError::Deadlock {
                        return Err(error.into());
                    }
                }
            }
        }
    }

    fn leave(&mut self, _user: UserId, _team: TeamId) -> Result<(), JoinError> {
        Err(JoinError::NotOnTeam)
    }
}

impl<R: Runtime> JoinService<R> for LocksBothUsers {
    type Database = SqlDatabase<R>;
    type Server = LocksBothUsersServer<R>;

    fn name(&self) -> String {
        "locks-both-users".to_string()
    }

    fn open_database(
        &self,
        initial: &[(TeamId, UserId)],
        recording: Recording,
    ) -> Arc<SqlDatabase<R>> {
        Arc::new(SqlDatabase::open(&self.target, USERS, initial, recording).unwrap())
    }

    fn start_server(&self, database: &Arc<SqlDatabase<R>>, id: ServerId) -> Self::Server {
        LocksBothUsersServer {
            db: database.connect(id).unwrap(),
            first: if id.0 == 0 { SUE } else { JOHN },
        }
    }
}

/// Every history shuttle finds for `service` on the article's race, by random schedules.
fn histories<S: JoinService<joincheck::runtime::Shuttle>>(
    service: S,
    schedules: u64,
) -> Vec<Execution> {
    let seen: Arc<Mutex<Vec<Execution>>> = Arc::default();
    let keep = Arc::clone(&seen);
    let options = ShuttleOptions::default()
        .strategy(Strategy::Random)
        .seed(3)
        .iterations(schedules);
    let visit = move |execution, _| {
        keep.lock().unwrap().push(execution);
        ControlFlow::Continue(())
    };
    shuttle::explore(service, &Scenario::article(), &options, visit).unwrap();
    let histories = seen.lock().unwrap().clone();
    histories
}

/// Two servers locking two rows in opposite orders deadlock; PostgreSQL breaks the cycle with a
/// deadlock error, which reaches the service as the database's error, and the service's retry
/// goes through. No engine hangs on it. (Each deadlock waits for PostgreSQL's detector, 50 ms:
/// shuttle's schedules, not loom's every interleaving, keep this test short.)
#[test]
fn a_deadlock_postgres_breaks_reaches_the_service_and_no_engine_hangs() {
    let Some(target) = postgres("a_deadlock_postgres_breaks_reaches_the_service") else {
        return;
    };
    let service = LocksBothUsers { target };
    let runs = histories(service.clone(), 60);
    let deadlocked = |execution: &Execution| {
        execution.history.iter().any(|step| {
            step.result.to_string() == "deadlock detected (40P01) (waited for server-1's lock)"
                || step.result.to_string()
                    == "deadlock detected (40P01) (waited for server-2's lock)"
        })
    };
    assert!(runs.iter().any(deadlocked), "no schedule met the deadlock");
    for run in &runs {
        let team = run.membership.first().map(|(team, _)| *team);
        assert!(matches!(team, Some(A) | Some(B)), "{:#?}", run.history);
        assert_eq!(run.membership.len(), 1, "{:#?}", run.history);
    }
}

/// A statement waiting for another server's row lock is answered when that server commits,
/// and the trace says whom it waited for.
#[test]
fn a_row_lock_wait_is_answered_after_the_holders_commit_and_says_so() {
    let Some(target) = postgres("a_row_lock_wait_is_answered_after_the_holders_commit") else {
        return;
    };
    let service = joincheck::service::sql::LockUserRow { target };
    let runs = histories(service, 40);
    let mut waited = 0;
    for run in &runs {
        let steps: Vec<(u8, String, String)> = run
            .history
            .iter()
            .map(|s| {
                (
                    s.server.0,
                    s.operation.verb().to_string(),
                    s.result.to_string(),
                )
            })
            .collect();
        let Some(at) = steps
            .iter()
            .position(|(_, verb, answer)| verb == "lock" && answer.contains("waited for"))
        else {
            continue;
        };
        waited += 1;
        let (server, _, answer) = &steps[at];
        let other = 1 - server;
        assert_eq!(
            answer,
            &format!("sue (waited for server-{}'s lock)", other + 1)
        );
        assert_eq!(
            steps[at - 1],
            (other, "commit".to_string(), "ok".to_string())
        );
    }
    assert!(waited > 0, "no schedule waited for the row lock");
}

/// SQLite's one write lock: a second `BEGIN IMMEDIATE` waits (SQLite's busy handler says it
/// would) until the first transaction ends, and the trace says so.
#[test]
fn a_busy_sqlite_waits_for_the_write_lock_and_says_so() {
    let service = joincheck::service::sql::LockUserRow { target: sqlite() };
    let runs = histories(service, 40);
    let waits: Vec<String> = runs
        .iter()
        .flat_map(|run| &run.history)
        .map(|step| step.result.to_string())
        .filter(|answer| answer.starts_with("waited"))
        .collect();
    assert!(!waits.is_empty());
    assert!(
        waits
            .iter()
            .all(|w| w == "waited for the write lock, then ok"),
        "{waits:?}"
    );
}

/// Errors are classified by the database's code: a duplicate key on both databases.
#[test]
fn a_duplicate_key_is_named_by_code_on_both_databases() {
    let mut targets = vec![("SQLITE_CONSTRAINT_PRIMARYKEY", sqlite())];
    if let Some(target) = postgres("a_duplicate_key_is_named_by_code_on_both_databases") {
        targets.push(("23505", target));
    }
    for (code, target) in targets {
        let database =
            SqlDatabase::<joincheck::runtime::Std>::open(&target, USERS, &[], Recording::On)
                .unwrap();
        let database = Arc::new(database);
        let db = database.connect(ServerId(0)).unwrap();
        let insert = Statement::new("insert", "INSERT INTO users (id) VALUES ($1)");
        let error = db.execute(&insert, &[SUE.into()]).unwrap_err();
        assert_eq!(
            (error.kind, error.code.as_str()),
            (DatabaseError::DuplicateKey, code)
        );
        assert_eq!(
            JoinError::from(error),
            JoinError::Database(DatabaseError::DuplicateKey)
        );
    }
}

/// A server that ends with its transaction open has it rolled back, as a pool does with a
/// connection handed back; the trace shows it.
#[test]
fn a_transaction_left_open_is_rolled_back_when_its_server_ends() {
    let mut targets = vec![sqlite()];
    targets.extend(postgres("a_transaction_left_open_is_rolled_back"));
    for target in targets {
        let database = Arc::new(
            SqlDatabase::<joincheck::runtime::Std>::open(&target, USERS, &[], Recording::On)
                .unwrap(),
        );
        {
            let db = database.connect(ServerId(0)).unwrap();
            db.execute(&Statement::new("begin", "BEGIN"), &[]).unwrap();
            let set = Statement::new("act", "UPDATE users SET team = $2 WHERE id = $1");
            db.execute(&set, &[SUE.into(), B.into()]).unwrap();
        }
        use joincheck::store::Database;
        let last = database.history().pop().unwrap();
        assert_eq!(
            (last.operation.to_string(), last.result.to_string()),
            (
                "ROLLBACK".to_string(),
                "ok (server-1 ended with its transaction open)".to_string()
            )
        );
        assert_eq!(database.membership(), vec![]);
    }
}
