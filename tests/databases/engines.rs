//! shuttle, proptest and conformance run the SQL services unchanged: each statement one step
//! whose order the engine chooses, the database deciding its answer.

use super::{postgres, sqlite};
use joincheck::check::conform::{self, builtin_model};
use joincheck::check::proptest::{self, ProptestOptions};
use joincheck::check::shuttle::{self, ShuttleOptions};
use joincheck::check::Scenario;
use joincheck::runtime::Shuttle;
use joincheck::service::sql::{self, Streams};
use joincheck::service::JoinService;
use joincheck::store::sql::SqlTarget;
use joincheck_models::verdict::Verdict;
use joincheck_models::Protocol;

/// shuttle finds the article's race on naive SQL and finds event sourcing holding.
fn shuttle_on(target: SqlTarget) {
    let options = ShuttleOptions::default().iterations(100);
    let naive = sql::Naive {
        target: target.clone(),
    };
    let verdict = shuttle::check(naive, &Scenario::article(), &options);
    let found = verdict.counterexample().expect("shuttle finds the race");
    assert_eq!(found.steps.len(), 4);
    assert_eq!(found.violation.to_string(), "sue ∈ {team-A, team-B}");
    let streams = Streams::Global;
    let event_sourced = sql::EventSourced { target, streams };
    let verdict = shuttle::check(event_sourced, &Scenario::article(), &options);
    let Verdict::Holds { scope, stats, .. } = verdict else {
        panic!("{verdict:?}");
    };
    assert_eq!(stats.iterations, Some(100));
    assert!(scope.starts_with("no violation in 100 schedules (PCT depth 3, seed 42)"));
}

#[test]
fn shuttle_runs_sql_on_sqlite() {
    shuttle_on(sqlite());
}

#[test]
fn shuttle_runs_sql_on_postgres() {
    if let Some(target) = postgres("shuttle_runs_sql_on_postgres") {
        shuttle_on(target);
    }
}

/// proptest's generated workloads (joins, leaves, switches, initial members) on SQL: the
/// unique index holds, naive breaks and shrinks to the article's race.
#[test]
fn proptest_generates_workloads_for_sql_on_sqlite() {
    let target = sqlite();
    let options = ProptestOptions::default()
        .cases(16)
        .random_schedules(10)
        .shuttle(ShuttleOptions::default().iterations(10));
    let unique = sql::UniqueMembership {
        target: target.clone(),
    };
    let verdict = proptest::check(unique, &options);
    let Verdict::Holds { stats, .. } = &verdict else {
        panic!("{verdict:?}");
    };
    assert_eq!(stats.iterations, Some(16));
    let (verdict, shrunk) = proptest::check_workloads(sql::Naive { target }, &options);
    assert!(matches!(verdict, Verdict::Violated { .. }), "{verdict:?}");
    let shrunk = shrunk.expect("a violation comes with its workload");
    assert_eq!(shrunk.servers().len(), 2);
    assert!(shrunk.servers().iter().all(|requests| requests.len() == 1));
}

/// Every statement of the SQL services that have a model is one of the model's steps, with
/// the database's answer in the model's terms: their histories conform.
fn conforms_on(target: SqlTarget) {
    let scenario = Scenario::contended(2, 2, 2).unwrap();
    fn conforms<S: JoinService<Shuttle>>(service: S, protocol: Protocol, scenario: &Scenario) {
        let model = builtin_model(protocol, scenario).unwrap();
        let options = ShuttleOptions::default().iterations(40);
        let report = conform::shuttle(service, model, scenario, &options);
        assert_eq!(report.divergence, None, "{protocol}");
        assert_eq!(report.incomplete, None, "{protocol}");
        assert_eq!(report.histories, 40, "{protocol}");
        assert!(report.steps >= 40 * 4, "{protocol}: {}", report.steps);
    }
    let naive = sql::Naive {
        target: target.clone(),
    };
    conforms(naive, Protocol::Naive, &scenario);
    let unique = sql::UniqueMembership {
        target: target.clone(),
    };
    conforms(unique, Protocol::UniqueMembership, &scenario);
    let document = sql::UserDocument {
        target: target.clone(),
    };
    conforms(document, Protocol::UserDocument, &scenario);
    for (streams, protocol) in [
        (Streams::Global, Protocol::EventSourced),
        (Streams::PerUser, Protocol::EventSourcedPerUser),
        (Streams::PerTeam, Protocol::EventSourcedPerTeam),
    ] {
        let target = target.clone();
        conforms(sql::EventSourced { target, streams }, protocol, &scenario);
    }
}

#[test]
fn sql_histories_conform_to_the_models_on_sqlite() {
    conforms_on(sqlite());
}

#[test]
fn sql_histories_conform_to_the_models_on_postgres() {
    if let Some(target) = postgres("sql_histories_conform_to_the_models_on_postgres") {
        conforms_on(target);
    }
}
