//! `joincheck stress`: the built-in services on real threads.

use super::services;
use clap::Args;
use joincheck::check::stress::StressReport;
use joincheck::check::Scenario;
use joincheck::protocols;
use joincheck::trace;
use joincheck_models::Protocol;

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

/// Runs the stress workload; exit 1 when a service the registry knows to be correct broke, else 0.
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
    let reports: Vec<(Protocol, StressReport)> = protocols::ALL
        .into_iter()
        .map(|protocol| (protocol, services::stress(protocol, &scenario, args.runs)))
        .collect();
    println!(
        "{:<24} {:>8} {:>10} {:>10} {:>8}",
        "service", "runs", "broken", "conflicts", "seconds"
    );
    for (_, report) in &reports {
        println!(
            "{:<24} {:>8} {:>10} {:>10} {:>8.2}",
            report.protocol, report.runs, report.violations, report.conflicts, report.seconds
        );
    }
    println!();
    let mut healthy = true;
    for (protocol, report) in &reports {
        // At least two servers always race here: a protocol known to be broken may break.
        let may_break = protocols::known(*protocol).why_broken().is_some();
        healthy &= describe(report, may_break);
    }
    i32::from(!healthy)
}

/// Prints what one report means; returns false when it broke and `may_break` is false, or when
/// a run could not be judged.
fn describe(report: &StressReport, may_break: bool) -> bool {
    if let (None, Some((run, why))) = (&report.first_violation, &report.unjudged) {
        println!("{}: inconclusive: run {run}: {why}", report.protocol);
        return false;
    }
    match &report.first_violation {
        None => {
            println!(
                "{}: the invariant held in all {} runs (evidence, not proof)",
                report.protocol, report.runs
            );
            true
        }
        Some(found) => {
            println!(
                "{}: the invariant broke in {} of {} runs; the first one:\n",
                report.protocol, report.violations, report.runs
            );
            println!("{}", trace::text(found, None));
            may_break
        }
    }
}
