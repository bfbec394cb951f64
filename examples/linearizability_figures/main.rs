//! Figures for the linearizability checker: simulated join-service histories of 1,000, 10,000
//! and 100,000 requests (linearizable; with a final membership no order reaches; with
//! check-then-act races inserted), each check stopped after 60 s, and, when
//! `JOINCHECK_PORCUPINE_TEST_DATA` names Porcupine's `test_data` directory, the 102 Jepsen etcd
//! histories.
//!
//! Run with `cargo run --release --example linearizability_figures`.

mod simulation;

use joincheck::check::Limits;
use joincheck::history::register::from_jepsen_log;
use joincheck::linearizability::join::JoinSpec;
use joincheck::linearizability::register::Register;
use joincheck::linearizability::{check, Options};
use joincheck::models::domain::TeamId;
use simulation::{insert_races, simulate, Workload};
use std::time::{Duration, Instant};

fn main() {
    let options = Options::default().limits(Limits::default().timeout(Duration::from_secs(60)));
    println!("simulated join service: requests, workers × users × teams, lost answers, verdict, seconds checking (+ minimizing), steps");
    for requests in [1_000, 10_000, 100_000] {
        // Many users, few requests each at once; a few users, contended; one user, with lost
        // answers as under killed connections.
        for (workers, users, unknown_per_mille) in [(8, 250, 10), (16, 8, 10), (16, 1, 50)] {
            let workload = Workload {
                workers,
                users,
                teams: 3,
                requests,
                errors_per_mille: 10,
                unknown_per_mille,
                seed: 20,
            };
            let mut simulated = simulate(&workload);
            let spec = JoinSpec::new().ending_with(&simulated.ending);
            report(
                "linearizable, final membership",
                &spec,
                &simulated.history,
                &options,
                &workload,
            );
            let last = simulated
                .timeline
                .keys()
                .next_back()
                .copied()
                .expect("a user");
            let mut on_two_teams = simulated.ending.clone();
            on_two_teams.extend([(TeamId(0), last), (TeamId(1), last)]);
            let unreachable = JoinSpec::new().ending_with(&on_two_teams);
            let what = "final membership with a user on two teams";
            report(what, &unreachable, &simulated.history, &options, &workload);
            let races = insert_races(&mut simulated, 3, 7);
            let what = format!("{} races inserted", races.len());
            let found = report(
                &what,
                &JoinSpec::new(),
                &simulated.history,
                &options,
                &workload,
            );
            assert_eq!(
                found,
                races.first().map(|(_, ids)| ids.to_vec()),
                "the first race is the set"
            );
        }
    }
    let Some(directory) = std::env::var_os("JOINCHECK_PORCUPINE_TEST_DATA") else {
        println!("etcd: set JOINCHECK_PORCUPINE_TEST_DATA to Porcupine's test_data directory");
        return;
    };
    let directory = std::path::PathBuf::from(directory);
    let (mut requests, mut seconds, mut slowest) = (0, 0.0, (0.0, 0));
    for number in (0..=102).filter(|n| *n != 95) {
        let log = std::fs::read_to_string(directory.join(format!("jepsen/etcd_{number:03}.log")))
            .expect("the etcd history");
        let history = from_jepsen_log(&log).expect("a Jepsen log");
        let started = Instant::now();
        let verdict = check(&Register, &history, &options.clone().minimize(false));
        let took = started.elapsed().as_secs_f64();
        println!(
            "  etcd_{number:03}: {} requests, {}, {took:.3} s",
            history.len(),
            verdict.kind()
        );
        requests += history.len();
        seconds += took;
        if took > slowest.0 {
            slowest = (took, number);
        }
    }
    println!(
        "etcd: 102 histories, {requests} requests, {:.1} ms in all, slowest etcd_{:03} {:.3} ms",
        seconds * 1e3,
        slowest.1,
        slowest.0 * 1e3
    );
}

/// Checks one history and prints a row; returns the set that cannot be ordered, if any.
fn report(
    what: &str,
    spec: &JoinSpec,
    history: &joincheck::history::join::JoinHistory,
    options: &Options,
    workload: &Workload,
) -> Option<Vec<usize>> {
    let verdict = check(spec, history, options);
    let stats = verdict.stats();
    println!(
        "  {:>7} requests, {:>2} × {:>3} × {}, {}‰ unknown, {what}: {}, {:.3} s (+ {:.3} s), {} steps",
        history.len(),
        workload.workers,
        workload.users,
        workload.teams,
        workload.unknown_per_mille,
        verdict.kind(),
        stats.seconds,
        stats.minimizing_seconds,
        stats.steps
    );
    verdict.unorderable().map(|u| u.calls.clone())
}
