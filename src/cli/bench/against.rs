//! `bench --against FILE`: the guard against a slower checker. It runs a stored baseline's
//! rows in fresh processes and fails loudly when the median rate of one falls further below the
//! baseline than its tolerance allows, or when one finds other states.

use super::{measure, Config, Measured};
use crate::cli::input;
use crate::cli::output::{self, count, thousands};
use crate::cli::{EXIT_OK, EXIT_UNEXPECTED};
use joincheck::protocols;
use joincheck_models::Sizes;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// A stored baseline of the checker's speed: `bench --against` runs its rows and compares.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Baseline {
    /// The baseline format's version: 1.
    version: u32,
    /// Where and how the rates were measured, in words.
    machine: String,
    /// How far below its rate a row may fall, in percent, before it counts as slower.
    tolerance_percent: f64,
    rows: Vec<BaselineRow>,
}

/// One configuration of a baseline, with what it found and how fast.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BaselineRow {
    protocol: String,
    sizes: BaselineSizes,
    symmetry: bool,
    threads: usize,
    /// Distinct states: a change of the checker must find the same.
    unique_states: u64,
    /// Distinct states per second of CPU time (user and system), the median of the runs.
    states_per_cpu_second: u64,
}

/// Sizes as every JSON report writes them.
#[derive(Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BaselineSizes {
    servers: u8,
    users: u8,
    teams: u8,
    requests: u8,
}

/// Runs the rows of the baseline in `file` `runs` times each, and compares their medians with
/// it, or, with `record`, writes them into it.
pub fn run(exe: &Path, file: &Path, runs: u8, record: bool) -> Result<i32, String> {
    let text = input::read(file).map_err(|error| format!("{}: {error}", input::name(file)))?;
    let mut baseline: Baseline =
        serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_str(&text))
            .map_err(|error| format!("{}: not a baseline: {error}", input::name(file)))?;
    if baseline.version != 1 {
        return Err(format!(
            "{}: baseline version {} is not 1",
            input::name(file),
            baseline.version
        ));
    }
    let tolerance = baseline.tolerance_percent;
    if !(0.0..100.0).contains(&tolerance) {
        return Err(format!(
            "{}: tolerance_percent {tolerance} is not from 0 to under 100",
            input::name(file)
        ));
    }
    output::emit(&format!(
        "model checker against {} · {} each, median of states per CPU second · tolerance {tolerance}%\n\
         {:24} {:>9} {:>8} {:>7} {:>12} {:>14} {:>14} {:>8}\n",
        input::name(file),
        count(u64::from(runs), "run"),
        "protocol",
        "S,U,T,N",
        "symmetry",
        "threads",
        "unique",
        "baseline/s",
        "now/s",
        "change",
    ));
    let mut failures = Vec::new();
    for row in &mut baseline.rows {
        let named = protocols::named(&row.protocol)?;
        let protocol = named
            .model()
            .ok_or_else(|| format!("{named} exists only as SQL and has no model to benchmark"))?;
        let BaselineSizes {
            servers,
            users,
            teams,
            requests,
        } = row.sizes;
        let sizes = Sizes::new(servers, users, teams, requests).map_err(|e| e.to_string())?;
        let config = Config {
            protocol,
            sizes: sizes.as_array(),
            symmetry: row.symmetry,
        };
        let label = format!(
            "{} at {servers},{users},{teams},{requests}{} on {}",
            row.protocol,
            if row.symmetry { " with symmetry" } else { "" },
            count(row.threads as u64, "thread")
        );
        let mut rates = Vec::new();
        let mut unique = None;
        for _ in 0..runs {
            let figures = match measure(exe, &config, row.threads)? {
                Measured::Figures(figures) => figures,
                Measured::Failed(why) | Measured::Skipped(why) => {
                    failures.push(format!("{label} failed: {why}"));
                    break;
                }
            };
            let states = figures["unique_states"].as_u64().unwrap_or(0);
            let cpu = figures["cpu_seconds"].as_f64();
            let Some(cpu) = cpu else {
                return Err("this system does not say how much CPU time a process took \
                            (/proc/self/stat): --against needs it"
                    .to_string());
            };
            unique = Some(states);
            rates.push((states as f64 / cpu.max(0.01)) as u64);
        }
        let Some(unique) = unique.filter(|_| rates.len() == usize::from(runs)) else {
            continue;
        };
        rates.sort_unstable();
        let now = rates[rates.len() / 2];
        let change = 100.0 * (now as f64 / row.states_per_cpu_second.max(1) as f64 - 1.0);
        let [s, u, t, n] = config.sizes;
        output::emit(&format!(
            "{:24} {:>9} {:>8} {:>7} {:>12} {:>14} {:>14} {:>+7.1}%\n",
            row.protocol,
            format!("{s},{u},{t},{n}"),
            if row.symmetry { "yes" } else { "no" },
            row.threads,
            thousands(unique),
            thousands(row.states_per_cpu_second),
            thousands(now),
            change
        ));
        if unique != row.unique_states {
            failures.push(format!(
                "{label} found {} distinct states where the baseline found {}",
                thousands(unique),
                thousands(row.unique_states)
            ));
        } else if !record && change < -tolerance {
            failures.push(format!(
                "{label} is SLOWER: {} states per CPU second against the baseline's {} \
                 ({change:+.1}%, more than the {tolerance}% allowed)",
                thousands(now),
                thousands(row.states_per_cpu_second)
            ));
        }
        row.states_per_cpu_second = now;
    }
    if !failures.is_empty() {
        let message = format!(
            "THE MODEL CHECKER REGRESSED against {}:\n  {}\n",
            input::name(file),
            failures.join("\n  ")
        );
        output::emit(&message);
        eprint!("{message}");
        return Ok(EXIT_UNEXPECTED);
    }
    if record {
        let mut json = serde_json::to_string_pretty(&baseline).map_err(|e| e.to_string())?;
        json.push('\n');
        output::write_whole(file, json.as_bytes())?;
        output::emit(&format!("recorded the medians into {}\n", file.display()));
    } else {
        output::emit("no row is slower than the baseline allows\n");
    }
    Ok(EXIT_OK)
}
