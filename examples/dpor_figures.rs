//! DPOR against loom: executions of each for every catalogue protocol at the sizes loom
//! finishes, side by side in one run.
//!
//! `cargo run --release --example dpor_figures [seconds per check]`

use joincheck::check::dpor::{self, DporOptions};
use joincheck::check::loom::{self as loom_engine, LoomOptions};
use joincheck::check::{Limits, Scenario};
use joincheck::protocols::{with_builtin, Builtin, Service, WithBuiltin, ALL};
use joincheck_models::verdict::Verdict;
use std::time::Duration;

const SIZES: [[u8; 4]; 5] = [
    [2, 1, 2, 1],
    [3, 1, 2, 1],
    [2, 2, 2, 2],
    [3, 2, 2, 2],
    [4, 1, 2, 1],
];

struct Both(Scenario, Limits, bool);

impl WithBuiltin for Both {
    type Output = (Verdict, Option<Result<Verdict, String>>);
    fn run<S: Service>(self, builtin: Builtin<S>) -> Self::Output {
        let Both(scenario, limits, with_loom) = self;
        let options = DporOptions::default().limits(limits.clone());
        let dpor =
            dpor::check(builtin.service.clone(), &scenario, &options).expect("a valid scenario");
        let loom = with_loom.then(|| {
            let options = LoomOptions::default().limits(limits);
            loom_engine::check(builtin.service, &scenario, &options).map_err(|e| e.to_string())
        });
        (dpor, loom)
    }
}

fn cell(verdict: &Verdict) -> String {
    let stats = verdict.stats();
    let executions = stats.iterations.unwrap_or(0);
    let word = match verdict {
        Verdict::Holds { .. } => "holds",
        Verdict::Violated { .. } => "violated",
        Verdict::Inconclusive { .. } => "unfinished",
    };
    format!("{word} {executions} ({:.2} s)", stats.seconds)
}

fn main() {
    let seconds: u64 = std::env::args()
        .nth(1)
        .map_or(10, |s| s.parse().expect("seconds"));
    let with_loom = std::env::args().nth(2).as_deref() != Some("dpor-only");
    let limits = Limits::default().timeout(Duration::from_secs(seconds));
    println!("| protocol | sizes | dpor | loom |");
    println!("|---|---|---|---|");
    for protocol in ALL {
        for [s, u, t, n] in SIZES {
            let scenario = Scenario::round_robin(s, u, t, n).expect("a valid scenario");
            let (dpor, loom) = with_builtin(protocol, Both(scenario, limits.clone(), with_loom));
            let loom = match &loom {
                None => "-".to_string(),
                Some(Ok(verdict)) => cell(verdict),
                Some(Err(refused)) => refused.clone(),
            };
            println!(
                "| {protocol} | {s},{u},{t},{n} | {} | {loom} |",
                cell(&dpor)
            );
        }
    }
}
