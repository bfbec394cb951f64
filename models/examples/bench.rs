//! Benchmarks joincheck's checker on the grid of `docs/ARCHITECTURE.md` (event sourcing at
//! 3,3,3,2 / 3,3,3,3 / 4,4,4,2 / 5,3,3,2, naive too), with and without symmetry, on 1 and 2
//! threads.
//!
//! ```text
//! cargo run --release -p joincheck-models --example bench [-- --quick]
//! ```
//!
//! `--quick` runs only the 1-thread rows; `--stateright` also times stateright's own BFS on the
//! same models (event sourcing at 3,3,3,2 and 3,3,3,3, no symmetry: its BFS ignores it). Peak memory is the process's peak resident set
//! (VmHWM), reset before each run where Linux allows it.

use joincheck_models::{
    bench_grid, check, skip_without_symmetry, stateright_model, CheckOptions, Protocol, Sizes,
    Verdict,
};
use stateright::{Checker, Model};
use std::time::Instant;

/// Resets the peak resident set size so the next reading belongs to the next run.
fn reset_peak_memory() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Peak resident set size in MiB, when the platform says.
fn peak_memory_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Times stateright's BFS on the same transitions, for comparison.
fn stateright_rows(threads: &[usize]) {
    for [s, u, t, n] in [[3, 3, 3, 2], [3, 3, 3, 3]] {
        let Ok(sizes) = Sizes::new(s, u, t, n) else {
            continue;
        };
        for &threads in threads {
            reset_peak_memory();
            let started = Instant::now();
            let checker = stateright_model(Protocol::EventSourced, sizes)
                .checker()
                .threads(threads)
                .spawn_bfs()
                .join();
            let seconds = started.elapsed().as_secs_f64();
            let unique = checker.unique_state_count();
            let peak = peak_memory_mib().map_or("?".to_string(), |mib| format!("{mib:.0}"));
            println!(
                "{:<23} {:<8} {:<9} {threads:>3} {:<8} {unique:>12} {:>12} {seconds:>8.2} {:>12.0} {peak:>9}",
                "stateright BFS, e-s",
                format!("{s},{u},{t},{n}"),
                "off",
                if checker.discovery("a user is on at most one team").is_some() {
                    "violated"
                } else {
                    "holds"
                },
                checker.state_count(),
                unique as f64 / seconds.max(1e-9),
            );
        }
    }
}

fn main() {
    let quick = std::env::args().any(|arg| arg == "--quick");
    let threads: &[usize] = if quick { &[1] } else { &[1, 2] };
    println!(
        "{:<23} {:<8} {:<9} {:>3} {:<8} {:>12} {:>12} {:>8} {:>12} {:>9}",
        "protocol",
        "S,U,T,N",
        "symmetry",
        "thr",
        "verdict",
        "unique",
        "generated",
        "seconds",
        "unique/s",
        "peak MiB"
    );
    for (protocol, sizes) in bench_grid() {
        let [s, u, t, n] = sizes.as_array();
        let label = format!("{s},{u},{t},{n}");
        for symmetry in [false, true] {
            if !symmetry {
                if let Some(reason) = skip_without_symmetry(protocol, sizes) {
                    println!("{:<23} {label:<8} {:<9} {reason}", protocol.name(), "off");
                    continue;
                }
            }
            for &threads in threads {
                reset_peak_memory();
                let options = CheckOptions::default().symmetry(symmetry).threads(threads);
                let verdict = check(protocol, sizes, &options);
                let stats = verdict.stats();
                let unique = stats.unique_states.unwrap_or(0);
                let peak = peak_memory_mib().map_or("?".to_string(), |mib| format!("{mib:.0}"));
                println!(
                    "{:<23} {label:<8} {:<9} {threads:>3} {:<8} {unique:>12} {:>12} {:>8.2} {:>12.0} {peak:>9}",
                    protocol.name(),
                    if symmetry { "on" } else { "off" },
                    verdict.kind(),
                    stats.generated_states.unwrap_or(0),
                    stats.seconds,
                    unique as f64 / stats.seconds.max(1e-9),
                );
                if let Verdict::Inconclusive { reason, .. } = &verdict {
                    println!("  {reason}");
                }
            }
        }
    }
    if std::env::args().any(|arg| arg == "--stateright") {
        stateright_rows(threads);
    }
}
