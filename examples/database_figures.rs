//! Figures for the engines on each database: loom executions and shuttle schedules per second on
//! the article's race, for the naive service and the event-sourced one, in memory, on SQLite
//! and (when `DATABASE_URL` names a server) on PostgreSQL. A benchmark, not a test.
//!
//! Run with `cargo run --release --example database_figures` (with `DATABASE_URL=postgres://…`
//! for PostgreSQL).

use joincheck::check::loom::{self, LoomOptions};
use joincheck::check::shuttle::{self, ShuttleOptions};
use joincheck::check::Scenario;
use joincheck::runtime::{Loom, Shuttle};
use joincheck::service::{self, sql, JoinService};
use joincheck::store::sql::SqlTarget;
use joincheck_models::verdict::Verdict;

/// One row: how many executions an engine ran, in how long.
fn row(database: &str, protocol: &str, engine: &str, verdict: &Verdict) {
    let stats = verdict.stats();
    let runs = stats.iterations.unwrap_or(0);
    println!(
        "{database:<10} {protocol:<15} {engine:<8} {:<9} {runs:>6} runs {:>8.2} s {:>9.0} runs/s",
        verdict.kind(),
        stats.seconds,
        runs as f64 / stats.seconds.max(1e-9)
    );
}

fn measure<N, E>(database: &str, naive: N, event_sourced: E)
where
    N: JoinService<Loom> + JoinService<Shuttle> + Clone,
    E: JoinService<Loom> + JoinService<Shuttle> + Clone,
{
    let article = Scenario::article();
    let shuttle_options = ShuttleOptions::default().iterations(1000);
    let loom_options = LoomOptions::default();
    row(
        database,
        "naive",
        "loom",
        &loom::check(naive.clone(), &article, &loom_options).expect("2 servers"),
    );
    row(
        database,
        "naive",
        "shuttle",
        &shuttle::check(naive, &article, &shuttle_options),
    );
    row(
        database,
        "event-sourced",
        "loom",
        &loom::check(event_sourced.clone(), &article, &loom_options).expect("2 servers"),
    );
    row(
        database,
        "event-sourced",
        "shuttle",
        &shuttle::check(event_sourced, &article, &shuttle_options),
    );
}

fn main() {
    measure("memory", service::Naive, service::EventSourced::GLOBAL);
    let streams = sql::Streams::Global;
    let sqlite = SqlTarget::sqlite().expect("a temporary directory");
    let event_sourced = sql::EventSourced {
        target: sqlite.clone(),
        streams,
    };
    measure("sqlite", sql::Naive { target: sqlite }, event_sourced);
    match std::env::var("DATABASE_URL") {
        Ok(url) => {
            let target = SqlTarget::postgres(&url).unwrap_or_else(|error| panic!("{error}"));
            let event_sourced = sql::EventSourced {
                target: target.clone(),
                streams,
            };
            measure("postgres", sql::Naive { target }, event_sourced);
        }
        Err(_) => println!("postgres: not measured: DATABASE_URL is not set"),
    }
}
