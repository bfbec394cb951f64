//! `joincheck stress`: the built-in services on real threads.

use clap::Args;
use joincheck::check::stress::{self, StressReport};
use joincheck::check::Scenario;
use joincheck::service::{EventSourced, Naive};
use joincheck::trace;

/// Arguments of `joincheck stress`.
#[derive(Args, Debug)]
pub struct StressArgs {
    /// How many times to run the whole workload per service. Example: --runs 5000
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    runs: u64,
    /// Servers (threads) racing. Example: --servers 8
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u8).range(2..=64))]
    servers: u8,
    /// Users each server tries to place. Example: --users 4
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..=64))]
    users: u8,
    /// Teams the users are spread over. Example: --teams 3
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u8).range(2..=64))]
    teams: u8,
}

/// Runs the stress workload; exit 0 when the naive service broke at most as expected and the
/// event-sourced ones never did, 1 otherwise.
pub fn run(args: &StressArgs) -> i32 {
    let scenario = match Scenario::contended(args.servers, args.users, args.teams) {
        Ok(scenario) => scenario,
        Err(error) => {
            eprintln!("joincheck: {error}");
            return 2;
        }
    };
    println!("workload: {scenario}");
    println!("runs per service: {}\n", args.runs);
    let reports = [
        stress::run(&Naive, &scenario, args.runs),
        stress::run(&EventSourced::GLOBAL, &scenario, args.runs),
        stress::run(&EventSourced::PER_USER, &scenario, args.runs),
    ];
    println!(
        "{:<24} {:>8} {:>10} {:>10} {:>8}",
        "service", "runs", "broken", "conflicts", "seconds"
    );
    for report in &reports {
        println!(
            "{:<24} {:>8} {:>10} {:>10} {:>8.2}",
            report.protocol, report.runs, report.violations, report.conflicts, report.seconds
        );
    }
    println!();
    let mut healthy = true;
    for report in &reports {
        healthy &= describe(report);
    }
    i32::from(!healthy)
}

/// Prints what one report means; returns false when an event-sourced service broke.
fn describe(report: &StressReport) -> bool {
    match (&report.first_violation, report.protocol.as_str()) {
        (None, _) => {
            println!(
                "{}: the invariant held in all {} runs (evidence, not proof)",
                report.protocol, report.runs
            );
            true
        }
        (Some(found), protocol) => {
            println!(
                "{protocol}: the invariant broke in {} of {} runs; the first one:\n",
                report.violations, report.runs
            );
            println!("{}", trace::text(found, None));
            protocol == "naive"
        }
    }
}
