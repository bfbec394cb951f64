//! PostgreSQL keeps nothing of a check: every schema joincheck made is dropped, after a check
//! and after one whose service panicked. A test binary of its own, so that no other test's
//! schemas are on the server while it counts this process's.

use joincheck::check::loom::{self, LoomOptions};
use joincheck::check::Scenario;
use joincheck::runtime::Runtime;
use joincheck::service::sql::Naive;
use joincheck::service::{JoinService, Server};
use joincheck::store::sql::{Schema, SqlConnection, SqlDatabase, SqlTarget};
use joincheck::store::Recording;
use joincheck_models::domain::{JoinError, ServerId, TeamId, UserId};
use joincheck_models::verdict::Verdict;
use std::io::Write;
use std::sync::Arc;

/// This process's schemas on the server at `url`.
fn ours(url: &str) -> i64 {
    let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
    let pattern = format!("joincheck\\_%\\_{}\\_%", std::process::id());
    let row = client
        .query_one(
            "SELECT count(*) FROM pg_namespace WHERE nspname LIKE $1",
            &[&pattern],
        )
        .unwrap();
    row.get::<_, i64>(0)
}

/// A service whose second server cannot start: the run panics mid-way.
#[derive(Clone, Debug)]
struct SecondServerPanics(SqlTarget);

#[derive(Debug)]
struct Idle<R: Runtime> {
    _connection: SqlConnection<R>,
}

impl<R: Runtime> Server for Idle<R> {
    fn join(&mut self, _: UserId, _: TeamId) -> Result<(), JoinError> {
        Ok(())
    }
    fn leave(&mut self, _: UserId, _: TeamId) -> Result<(), JoinError> {
        Ok(())
    }
}

const EMPTY: Schema = Schema {
    create: &["CREATE TABLE memberships (team VARCHAR(64), user_id VARCHAR(64))"],
    seed: |_| Vec::new(),
    membership: "SELECT team, user_id FROM memberships",
};

impl<R: Runtime> JoinService<R> for SecondServerPanics {
    type Database = SqlDatabase<R>;
    type Server = Idle<R>;
    fn name(&self) -> String {
        "second-server-panics".to_string()
    }
    fn open_database(
        &self,
        initial: &[(TeamId, UserId)],
        recording: Recording,
    ) -> Arc<SqlDatabase<R>> {
        Arc::new(SqlDatabase::open(&self.0, EMPTY, initial, recording).unwrap())
    }
    fn start_server(&self, database: &Arc<SqlDatabase<R>>, id: ServerId) -> Idle<R> {
        assert_eq!(id.0, 0, "the second server cannot start");
        Idle {
            _connection: database.connect(id).unwrap(),
        }
    }
}

#[test]
fn postgres_keeps_nothing_after_a_check_or_a_panic() {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        let line = "postgres_keeps_nothing: PostgreSQL skipped: DATABASE_URL is not set\n";
        let _ = std::io::stderr().write_all(line.as_bytes());
        return;
    };
    let target = SqlTarget::postgres(&url).unwrap();
    let naive = Naive {
        target: target.clone(),
    };
    let verdict = loom::check(naive, &Scenario::article(), &LoomOptions::default()).unwrap();
    assert!(matches!(verdict, Verdict::Violated { .. }), "{verdict:?}");
    let panicked = SecondServerPanics(target.clone());
    let verdict = loom::check(panicked, &Scenario::article(), &LoomOptions::default()).unwrap();
    assert!(
        matches!(verdict, Verdict::Inconclusive { .. }),
        "{verdict:?}"
    );
    drop(target);
    assert_eq!(ours(&url), 0);
}
