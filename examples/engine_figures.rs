//! Figures for the real-code engines: loom executions and time per scenario, shuttle schedules
//! per second and schedules until the first naive violation, random against PCT, over many seeds.
//!
//! Run with `cargo run --release --example engine_figures`.

use joincheck::check::loom::{self, LoomOptions};
use joincheck::check::shuttle::{self, ShuttleOptions, Strategy};
use joincheck::check::{Limits, Scenario};
use joincheck::service::{EventSourced, Naive};
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

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
        let mut options =
            LoomOptions::default().limits(Limits::default().timeout(Duration::from_secs(60)));
        options.preemption_bound = bound;
        let verdict = loom::check(EventSourced::GLOBAL, &scenario, &options).expect("≤ 4 servers");
        let stats = verdict.stats();
        println!(
            "  {servers} servers × {}, preemption bound {bound:?}: {} after {} executions in {:.2} s",
            joincheck_models::plural(requests, "request"),
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
                let options = ShuttleOptions::default()
                    .strategy(strategy)
                    .seed(seed)
                    .iterations(10_000);
                // Count schedules up to the first violation (check would go on shortening).
                let started = Instant::now();
                let mut until = 0;
                let first = Arc::new(AtomicU64::new(0));
                let seen = first.clone();
                let ran = shuttle::explore(Naive, &scenario, &options, move |execution, _| {
                    until += 1;
                    if execution.violation().is_some() {
                        seen.store(until, Ordering::Relaxed);
                        return ControlFlow::Break(());
                    }
                    ControlFlow::Continue(())
                })
                .expect("naive does not panic");
                schedules += ran;
                seconds += started.elapsed().as_secs_f64();
                match first.load(Ordering::Relaxed) {
                    0 => {}
                    at => found.push(at),
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
    let options = ShuttleOptions::default().iterations(10_000);
    let verdict = shuttle::check(EventSourced::GLOBAL, &scenario, &options);
    let stats = verdict.stats();
    println!(
        "shuttle, event-sourced, 8 servers × 3 requests: {} in {} schedules, {:.0} schedules/s",
        verdict.kind(),
        stats.iterations.unwrap_or(0),
        stats.iterations.unwrap_or(0) as f64 / stats.seconds
    );
}
