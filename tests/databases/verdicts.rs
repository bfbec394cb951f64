//! Each SQL protocol's verdict on each database, under loom: every interleaving of whole
//! statements, with the exact number of executions for a proof and the exact steps of a
//! refutation. The article's race on both databases; a leave racing a join on SQLite.

use super::{postgres, sqlite};
use joincheck::check::loom::{self, LoomOptions};
use joincheck::check::Scenario;
use joincheck::runtime::Loom;
use joincheck::service::sql::{self, Isolation, Streams};
use joincheck::service::JoinService;
use joincheck::store::sql::SqlTarget;
use joincheck_models::domain::{Request, ServerId, TeamId, UserId};
use joincheck_models::verdict::Verdict;

const SUE: UserId = UserId(0);
const A: TeamId = TeamId(0);
const B: TeamId = TeamId(1);

const ARTICLE: &str =
    "all interleavings of server-1: join sue → team-A; server-2: join sue → team-B";
const WHOLE_STATEMENTS: &str = "; for whole statements only: evidence, not proof (PostgreSQL \
    runs it at read committed isolation, where its write depends on rows it read without \
    locking them: two of them at once can both write)";

fn article<S: JoinService<Loom> + Clone>(service: S) -> Verdict {
    loom::check(service, &Scenario::article(), &LoomOptions::default()).unwrap()
}

/// Sue starts on team-A; server-1 moves her to team-B (a leave, then a join) while server-2
/// joins her to team-A.
fn moving<S: JoinService<Loom> + Clone>(service: S) -> Verdict {
    let servers = vec![
        vec![
            Request::Leave { user: SUE, team: A },
            Request::Join { user: SUE, team: B },
        ],
        vec![Request::Join { user: SUE, team: A }],
    ];
    let scenario = Scenario::new(1, 2, servers, vec![(A, SUE)]).unwrap();
    loom::check(service, &scenario, &LoomOptions::default()).unwrap()
}

/// Holds over `scope`, in exactly `executions` loom executions.
#[track_caller]
fn assert_holds(verdict: &Verdict, executions: u64, scope: &str) {
    let Verdict::Holds {
        scope: covered,
        stats,
        ..
    } = verdict
    else {
        panic!("expected holds, got {verdict:?}");
    };
    assert_eq!(covered, scope);
    assert_eq!(stats.iterations, Some(executions), "{covered}");
}

/// Violated by exactly these steps: (server, verb, statement, answer), the last breaking it.
#[track_caller]
fn assert_violated(verdict: &Verdict, steps: &[(u8, &str, &str, &str)]) {
    let Some(counterexample) = verdict.counterexample() else {
        panic!("expected a violation, got {verdict:?}");
    };
    let seen: Vec<(u8, String, String, String)> = counterexample
        .steps
        .iter()
        .map(|step| {
            (
                step.server.0 + 1,
                step.operation.verb().to_string(),
                step.operation.to_string(),
                step.result.to_string(),
            )
        })
        .collect();
    let expected: Vec<(u8, String, String, String)> = steps
        .iter()
        .map(|(server, verb, sql, answer)| {
            (
                *server,
                verb.to_string(),
                sql.to_string(),
                answer.to_string(),
            )
        })
        .collect();
    assert_eq!(seen, expected);
    assert_eq!(
        counterexample.violation.to_string(),
        "sue ∈ {team-A, team-B}"
    );
    assert_eq!(
        counterexample.steps.last().unwrap().server,
        ServerId(steps.last().unwrap().0 - 1)
    );
}

const CHECK: &str = "SELECT team FROM memberships WHERE user_id = 'sue'";
const INSERT_A: &str = "INSERT INTO memberships (team, user_id) VALUES ('team-A', 'sue')";
const INSERT_B: &str = "INSERT INTO memberships (team, user_id) VALUES ('team-B', 'sue')";

/// The article's race on naive SQL: both check, both insert.
fn naive_breaks(target: SqlTarget) {
    let steps = [
        (1, "check", CHECK, "no rows"),
        (2, "check", CHECK, "no rows"),
        (2, "act", INSERT_B, "1 row"),
        (1, "act", INSERT_A, "1 row"),
    ];
    assert_violated(&article(sql::Naive { target }), &steps);
}

#[test]
fn naive_breaks_on_sqlite() {
    naive_breaks(sqlite());
}

#[test]
fn naive_breaks_on_postgres() {
    if let Some(target) = postgres("naive_breaks_on_postgres") {
        naive_breaks(target);
    }
}

/// Two transactions that check before either commits: read committed lets both insert, and so
/// does repeatable read (write skew: they insert different rows).
fn transaction_breaks(target: SqlTarget, isolation: Isolation, begin: &str) {
    let steps = [
        (1, "begin", begin, "ok"),
        (1, "check", CHECK, "no rows"),
        (1, "act", INSERT_A, "1 row, not committed yet"),
        (2, "begin", begin, "ok"),
        (2, "check", CHECK, "no rows"),
        (2, "act", INSERT_B, "1 row, not committed yet"),
        (2, "commit", "COMMIT", "ok"),
        (1, "commit", "COMMIT", "ok"),
    ];
    let service = sql::NaiveTransaction { target, isolation };
    assert_violated(&article(service), &steps);
}

#[test]
fn naive_transaction_breaks_at_read_committed_on_postgres() {
    if let Some(target) = postgres("naive_transaction_breaks_at_read_committed_on_postgres") {
        transaction_breaks(target, Isolation::Default, "BEGIN");
    }
}

#[test]
fn naive_repeatable_read_breaks_by_write_skew_on_postgres() {
    if let Some(target) = postgres("naive_repeatable_read_breaks_by_write_skew_on_postgres") {
        let begin = "BEGIN ISOLATION LEVEL REPEATABLE READ";
        transaction_breaks(target, Isolation::RepeatableRead, begin);
    }
}

#[test]
fn naive_serializable_and_the_row_lock_hold_on_postgres() {
    let Some(target) = postgres("naive_serializable_and_the_row_lock_hold_on_postgres") else {
        return;
    };
    let isolation = Isolation::Serializable;
    let serializable = sql::NaiveTransaction {
        target: target.clone(),
        isolation,
    };
    assert_holds(&article(serializable), 378, ARTICLE);
    assert_holds(&article(sql::LockUserRow { target }), 222, ARTICLE);
}

/// SQLite has one isolation level and one write lock, taken at `BEGIN IMMEDIATE`: every
/// transaction variant holds, as does the row lock it stands in for.
#[test]
fn every_transaction_holds_on_sqlite() {
    let target = sqlite();
    for isolation in [
        Isolation::Default,
        Isolation::RepeatableRead,
        Isolation::Serializable,
    ] {
        let target = target.clone();
        let service = sql::NaiveTransaction { target, isolation };
        assert_holds(&article(service.clone()), 54, ARTICLE);
        let scope = "all interleavings of server-1: leave sue ← team-A, join sue → team-B; \
                     server-2: join sue → team-A (initially sue ∈ team-A)";
        assert_holds(&moving(service), 405, scope);
    }
    let lock = sql::LockUserRow { target };
    assert_holds(&article(lock), 54, ARTICLE);
}

/// The check inside the insert holds for whole statements on both; on PostgreSQL at read
/// committed that is evidence, not proof, and the verdict says so.
#[test]
fn naive_one_statement_holds_for_whole_statements() {
    assert_holds(
        &article(sql::NaiveOneStatement { target: sqlite() }),
        9,
        ARTICLE,
    );
    if let Some(target) = postgres("naive_one_statement_holds_for_whole_statements") {
        let scope = format!("{ARTICLE}{WHOLE_STATEMENTS}");
        assert_holds(&article(sql::NaiveOneStatement { target }), 9, &scope);
    }
}

/// The database looks and writes in one statement: the unique index and the conditional
/// update hold on both databases, with a leave racing a join too.
fn one_step_fixes_hold(target: SqlTarget) {
    let unique = sql::UniqueMembership {
        target: target.clone(),
    };
    let document = sql::UserDocument { target };
    assert_holds(&article(unique.clone()), 9, ARTICLE);
    assert_holds(&article(document.clone()), 9, ARTICLE);
    let scope = "all interleavings of server-1: leave sue ← team-A, join sue → team-B; \
                 server-2: join sue → team-A (initially sue ∈ team-A)";
    assert_holds(&moving(unique), 18, scope);
    assert_holds(&moving(document), 18, scope);
}

#[test]
fn one_step_fixes_hold_on_sqlite() {
    one_step_fixes_hold(sqlite());
}

#[test]
fn one_step_fixes_hold_on_postgres() {
    if let Some(target) = postgres("one_step_fixes_hold_on_postgres") {
        one_step_fixes_hold(target);
    }
}

/// The event's version is the one read + 1 under a unique index on (stream, version): a global
/// or per-user stream holds; per team the version does not cover the user.
fn event_sourcing(target: SqlTarget) {
    for streams in [Streams::Global, Streams::PerUser] {
        let target = target.clone();
        assert_holds(&article(sql::EventSourced { target, streams }), 30, ARTICLE);
    }
    let read = "SELECT kind, user_id, team FROM events ORDER BY stream, version";
    let insert = |team: &str| {
        format!(
            "INSERT INTO events (stream, version, kind, user_id, team) VALUES \
             ('{team}', 1, 'joined', 'sue', '{team}')"
        )
    };
    let (to_a, to_b) = (insert("team-A"), insert("team-B"));
    let steps = [
        (1, "read", read, "no rows"),
        (2, "read", read, "no rows"),
        (2, "append", to_b.as_str(), "1 row"),
        (1, "append", to_a.as_str(), "1 row"),
    ];
    let per_team = sql::EventSourced {
        target,
        streams: Streams::PerTeam,
    };
    assert_violated(&article(per_team), &steps);
}

#[test]
fn event_sourcing_on_sqlite() {
    event_sourcing(sqlite());
}

#[test]
fn event_sourcing_on_postgres() {
    if let Some(target) = postgres("event_sourcing_on_postgres") {
        event_sourcing(target);
    }
}
