//! Figures for load tests on real threads: requests per second per protocol and database for 2,
//! 4 and 8 workers; how often naive and the one-statement check break; the event-sourced
//! protocols' conflict and retry rates; unknown outcomes under cut connections. A benchmark, not
//! a test: real threads vary from run to run, so every figure is a rate over seeds.
//!
//! Run with `cargo run --release --example load_figures` (with `DATABASE_URL=postgres://…` for
//! PostgreSQL).

use joincheck::linearizability::Linearizability;
use joincheck::load::{self, Faults, Length, LoadOptions, LoadReport, Progress};
use joincheck::runtime::Std;
use joincheck::service::{self, sql, JoinService};
use joincheck::store::sql::SqlTarget;
use std::time::Duration;

/// Whether a run broke: a sample saw a user on two teams, or no order explains the history.
fn broke(report: &LoadReport) -> bool {
    report.samples.first_violation.is_some()
        || matches!(
            report.linearizability,
            Linearizability::NotLinearizable { .. }
        )
}

/// One protocol on one database: requests/s at 2, 4 and 8 workers (1,000 requests each), then
/// over 20 seeds at 4 workers how many runs broke, and the conflicts and retries per request.
fn measure<S: JoinService<Std>>(database: &str, service: S) {
    let mut rates = Vec::new();
    for workers in [2, 4, 8] {
        let options = LoadOptions::default()
            .workers(workers)
            .length(Length::Requests(1000));
        let report = load::run(&service, &options, &Progress::default());
        rates.push(format!("{:>7.0}", report.requests_per_second()));
    }
    let (mut broken, mut requests, mut conflicts, mut retried) = (0, 0, 0, 0);
    for seed in 0..20 {
        let options = LoadOptions::default()
            .workers(4)
            .seed(seed)
            .length(Length::Requests(250));
        let report = load::run(&service, &options, &Progress::default());
        broken += u64::from(broke(&report));
        requests += report.history.len() as u64;
        conflicts += report.conflicts;
        retried += report.retried;
    }
    println!(
        "{database:<9} {:<24} {} req/s (2, 4, 8 workers)   broke in {broken:>2} of 20 runs   \
         {:.3} conflicts, {:.3} retries per request",
        service.name(),
        rates.join(" "),
        conflicts as f64 / requests as f64,
        retried as f64 / requests as f64,
    );
}

/// Unknown outcomes when connections are cut every 10 ms on average (4 workers × 1,000).
fn cut<S: JoinService<Std>>(database: &str, service: S) {
    let faults = Faults {
        kill_connections: Some(Duration::from_millis(10)),
        slow: None,
    };
    let options = LoadOptions::default()
        .workers(4)
        .length(Length::Requests(1000))
        .faults(faults);
    let report = load::run(&service, &options, &Progress::default());
    println!(
        "{database:<9} {:<24} {} cuts, {} unknown outcomes of {} requests, {}, lost: {}",
        service.name(),
        report.cuts,
        report.outcomes.unknown,
        report.history.len(),
        report.linearizability.kind(),
        report.lost.len()
    );
}

fn sql_protocols(database: &str, target: &SqlTarget) {
    let t = || target.clone();
    measure(database, sql::Naive { target: t() });
    measure(database, sql::NaiveOneStatement { target: t() });
    for isolation in [
        sql::Isolation::Default,
        sql::Isolation::RepeatableRead,
        sql::Isolation::Serializable,
    ] {
        measure(
            database,
            sql::NaiveTransaction {
                target: t(),
                isolation,
            },
        );
    }
    measure(database, sql::LockUserRow { target: t() });
    measure(database, sql::UniqueMembership { target: t() });
    measure(database, sql::UserDocument { target: t() });
    for streams in [
        sql::Streams::Global,
        sql::Streams::PerUser,
        sql::Streams::PerTeam,
    ] {
        measure(
            database,
            sql::EventSourced {
                target: t(),
                streams,
            },
        );
    }
}

fn main() {
    println!("4 users, 3 teams; joins, leaves and switches");
    measure("memory", service::Naive);
    measure("memory", service::EventSourced::GLOBAL);
    measure("memory", service::EventSourced::PER_USER);
    measure("memory", service::UniqueMembership);
    let sqlite = SqlTarget::sqlite().expect("a temporary directory");
    sql_protocols("sqlite", &sqlite);
    let postgres = std::env::var("DATABASE_URL")
        .ok()
        .map(|url| SqlTarget::postgres(&url).unwrap_or_else(|error| panic!("{error}")));
    if let Some(target) = &postgres {
        sql_protocols("postgres", target);
    }
    println!("kill-connections");
    let streams = sql::Streams::Global;
    cut(
        "sqlite",
        sql::EventSourced {
            target: sqlite.clone(),
            streams,
        },
    );
    cut("sqlite", sql::UniqueMembership { target: sqlite });
    if let Some(target) = postgres {
        cut(
            "postgres",
            sql::EventSourced {
                target: target.clone(),
                streams,
            },
        );
        cut("postgres", sql::UniqueMembership { target });
    }
}
