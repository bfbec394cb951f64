//! Figures for the real-code engines: loom executions and time per scenario, shuttle schedules
//! per second and schedules until the first naive violation, random against PCT, over many seeds.
//!
//! Run with `cargo run --release --example engine_figures`.

use joincheck::check::loom::{self, LoomOptions};
use joincheck::check::shuttle::{self, ShuttleOptions, Strategy};
use joincheck::check::{Limits, Scenario};
use joincheck::service::{EventSourced, Naive};
use std::time::Duration;

fn main() {
    println!("loom, event-sourced (one global stream)");
    let loom_grid = [
        (2, 1, None),
        (3, 1, None),
        (3, 2, Some(2)),
        (4, 1, Some(2)),
        (4, 1, None),
    ];
    for (servers, requests, bound) in loom_grid {
        let scenario = Scenario::contended(servers, requests, 2).expect("valid");
        let options = LoomOptions {
            preemption_bound: bound,
            limits: Limits {
                timeout: Some(Duration::from_secs(120)),
                stop: None,
            },
            ..LoomOptions::default()
        };
        let verdict = loom::check(EventSourced::GLOBAL, &scenario, &options).expect("≤ 4 servers");
        let stats = verdict.stats();
        println!(
            "  {servers} servers × {requests} requests, preemption bound {bound:?}: {} after {} executions in {:.2} s",
            verdict.kind(),
            stats.iterations.unwrap_or(0),
            stats.seconds
        );
    }
    println!("shuttle, naive: schedules until the first violation over 100 seeds");
    for servers in [2u8, 4, 8] {
        let scenario = Scenario::contended(servers, 2, 2).expect("valid");
        for strategy in [Strategy::Random, Strategy::Pct { depth: 3 }] {
            let mut found = Vec::new();
            let mut schedules = 0;
            let mut seconds = 0.0;
            for seed in 0..100 {
                let options = ShuttleOptions {
                    strategy,
                    seed,
                    iterations: 10_000,
                    limits: Default::default(),
                };
                let verdict = shuttle::check(Naive, &scenario, &options);
                let ran = verdict.stats().iterations.unwrap_or(0);
                schedules += ran;
                seconds += verdict.stats().seconds;
                if verdict.counterexample().is_some() {
                    found.push(ran);
                }
            }
            found.sort_unstable();
            let median = found.get(found.len() / 2).copied().unwrap_or(0);
            println!(
                "  {servers} servers, {strategy:?}: found with {} of 100 seeds; median {median}, max {} schedules; {:.0} schedules/s",
                found.len(),
                found.last().copied().unwrap_or(0),
                schedules as f64 / seconds
            );
        }
    }
    let scenario = Scenario::contended(8, 3, 3).expect("valid");
    let options = ShuttleOptions {
        iterations: 10_000,
        ..ShuttleOptions::default()
    };
    let verdict = shuttle::check(EventSourced::GLOBAL, &scenario, &options);
    let stats = verdict.stats();
    println!(
        "shuttle, event-sourced, 8 servers × 3 requests: {} in {} schedules, {:.0} schedules/s",
        verdict.kind(),
        stats.iterations.unwrap_or(0),
        stats.iterations.unwrap_or(0) as f64 / stats.seconds
    );
}
