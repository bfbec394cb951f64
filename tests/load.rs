//! Load tests on real threads with real connections: what must hold on every run, whatever the
//! operating system's schedule. A racy service's breaking is never asserted: it is a rate.

use joincheck::history::Outcome;
use joincheck::linearizability::Linearizability;
use joincheck::load::{self, Faults, Length, LoadOptions, LoadReport, Progress, Requests};
use joincheck::runtime::Std;
use joincheck::service::{self, sql, JoinService};
use joincheck::store::sql::SqlTarget;
use joincheck_models::domain::Request;
use std::io::Write;
use std::sync::atomic::Ordering;
use std::time::Duration;

fn postgres(test: &str) -> Option<SqlTarget> {
    match std::env::var("DATABASE_URL") {
        Ok(url) => Some(SqlTarget::postgres(&url).unwrap_or_else(|error| panic!("{error}"))),
        Err(_) => {
            let line = format!("{test}: PostgreSQL skipped: DATABASE_URL is not set\n");
            let _ = std::io::stderr().write_all(line.as_bytes());
            None
        }
    }
}

fn options(faults: Faults) -> LoadOptions {
    LoadOptions::default()
        .workers(4)
        .users(3)
        .teams(3)
        .length(Length::Requests(150))
        .faults(faults)
}

/// What every run must show: every request recorded once, outcomes adding up, the progress
/// counter matching.
fn well_formed(report: &LoadReport, progress: &Progress) {
    let outcomes = report.outcomes;
    let total = outcomes.ok + outcomes.refused + outcomes.error + outcomes.unknown;
    assert_eq!(report.history.len() as u64, total);
    assert_eq!(total, 4 * 150, "{}", report.protocol);
    assert_eq!(report.statements.len(), report.history.len());
    assert_eq!(progress.requests.load(Ordering::Relaxed), total);
    assert_eq!(report.failure, None);
    assert_eq!(report.stopped, None);
}

/// A correct service holds on every sample, its history is linearizable and nothing is lost,
/// under every fault; unknown outcomes only where connections were cut.
fn holds<S: JoinService<Std>>(service: S, faults: Faults) {
    let progress = Progress::default();
    let report = load::run(&service, &options(faults), &progress);
    well_formed(&report, &progress);
    assert_eq!(report.samples.first_violation, None, "{}", report.protocol);
    assert!(
        matches!(report.linearizability, Linearizability::Linearizable { .. }),
        "{}: {:?}",
        report.protocol,
        report.linearizability
    );
    assert!(
        report.lost.is_empty(),
        "{}: {:?}",
        report.protocol,
        report.lost
    );
    if faults.kill_connections.is_none() {
        assert_eq!(report.outcomes.unknown, 0);
    }
}

#[test]
fn correct_services_hold_linearize_and_lose_nothing_on_every_database_under_every_fault() {
    let cut = Faults {
        kill_connections: Some(Duration::from_millis(10)),
        slow: None,
    };
    let slow = Faults {
        kill_connections: None,
        slow: Some(Duration::from_micros(200)),
    };
    let mut targets = vec![SqlTarget::sqlite().unwrap()];
    targets.extend(postgres("correct_services_hold_linearize_and_lose_nothing"));
    for faults in [Faults::NONE, cut, slow] {
        holds(service::EventSourced::GLOBAL, faults);
        holds(service::UniqueMembership, faults);
        for target in &targets {
            let streams = sql::Streams::Global;
            holds(
                sql::EventSourced {
                    target: target.clone(),
                    streams,
                },
                faults,
            );
            holds(
                sql::EventSourced {
                    target: target.clone(),
                    streams: sql::Streams::PerUser,
                },
                faults,
            );
            holds(
                sql::UniqueMembership {
                    target: target.clone(),
                },
                faults,
            );
            holds(
                sql::UserDocument {
                    target: target.clone(),
                },
                faults,
            );
            holds(
                sql::LockUserRow {
                    target: target.clone(),
                },
                faults,
            );
            let isolation = sql::Isolation::Serializable;
            holds(
                sql::NaiveTransaction {
                    target: target.clone(),
                    isolation,
                },
                faults,
            );
        }
    }
}

/// naive may break or not on a given run; what must hold is that whatever the monitor or the
/// history shows is reported consistently, and a sample with a user on two teams makes the
/// history unorderable or the end say so.
#[test]
fn naive_under_load_is_recorded_whole_and_a_sampled_violation_never_linearizes() {
    let mut targets = vec![SqlTarget::sqlite().unwrap()];
    targets.extend(postgres("naive_under_load_is_recorded_whole"));
    let progress = Progress::default();
    let report = load::run(&service::Naive, &options(Faults::NONE), &progress);
    well_formed(&report, &progress);
    for target in targets {
        let progress = Progress::default();
        let report = load::run(&sql::Naive { target }, &options(Faults::NONE), &progress);
        well_formed(&report, &progress);
        // Every request's statements are there: a join checks first, a leave pulls.
        for (call, statements) in report.history.calls().iter().zip(&report.statements) {
            let first = match call.input.0 {
                Request::Join { .. } => "check",
                Request::Leave { .. } => "pull",
            };
            assert_eq!(statements[0].operation.verb(), first);
        }
        if report.samples.first_violation.is_some() {
            assert!(!matches!(
                report.linearizability,
                Linearizability::Linearizable { .. }
            ));
        }
    }
}

/// One seed, one workload: every worker's requests are drawn from the seed alone.
#[test]
fn a_seed_gives_the_same_requests_to_every_worker_on_every_run() {
    let run = || {
        let report = load::run(
            &service::EventSourced::GLOBAL,
            &options(Faults::NONE),
            &Progress::default(),
        );
        let mut by_worker: Vec<Vec<_>> = vec![Vec::new(); 4];
        for call in report.history.calls() {
            by_worker[call.worker as usize].push(call.input.0);
        }
        by_worker
    };
    let expected: Vec<Vec<_>> = (0..4)
        .map(|w| Requests::new(42, w, 3, 3).take(150).collect())
        .collect();
    assert_eq!(run(), expected);
    assert_eq!(run(), expected);
}

/// Cutting connections gives unknown outcomes on SQL databases, and none in memory (it has no
/// connections to cut); the workers connect again and finish their requests.
#[test]
fn cut_connections_give_unknown_outcomes_and_the_workers_go_on() {
    let cut = Faults {
        kill_connections: Some(Duration::from_millis(2)),
        slow: Some(Duration::from_micros(200)),
    };
    let progress = Progress::default();
    let memory = load::run(&service::EventSourced::GLOBAL, &options(cut), &progress);
    assert_eq!((memory.cuts, memory.outcomes.unknown), (0, 0));
    let report = load::run(
        &sql::EventSourced {
            target: SqlTarget::sqlite().unwrap(),
            streams: sql::Streams::Global,
        },
        &options(cut),
        &Progress::default(),
    );
    assert!(report.cuts > 0);
    let unknown = report
        .history
        .calls()
        .iter()
        .filter(|c| c.outcome == Outcome::Unknown)
        .count();
    assert_eq!(unknown as u64, report.outcomes.unknown);
    assert!(report.lost.is_empty(), "{:?}", report.lost);
}
