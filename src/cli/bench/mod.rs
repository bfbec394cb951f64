//! `joincheck bench`: the model-checking benchmark table over the models crate's
//! [`bench_grid`], each configuration without and with symmetry reduction.
//!
//! Each configuration runs in a fresh child process (`joincheck bench-one`), so its peak memory
//! (`VmHWM` in `/proc/self/status`) is its own and not the high-water mark of earlier runs.
//!
//! `bench --against FILE` is the guard against a slower checker: it runs a stored baseline's
//! rows and fails when one is slower than the baseline says, or finds other state counts.
//! `bench --spin` runs Spin beside the rows it has a model for ([`spin`]).

mod against;
mod spin;

use super::output::{self, count, thousands, ReportFormat, REPORT_VERSION};
use super::sizes::{sizes_json, SizeArgs};
use super::{EXIT_OK, EXIT_UNEXPECTED};
use crate::cli::values::whole;
use clap::Args;
use joincheck::protocols;
use joincheck_models::{bench_grid, skip_without_symmetry, CheckOptions, Protocol};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Command;

/// Arguments of `joincheck bench`.
#[derive(Args, Debug)]
#[command(after_help = "\
Examples:
  joincheck bench --quick
  joincheck bench --threads 1 --format json
  joincheck bench --threads 1 --spin
  joincheck bench --against benches/checker-baseline.json

Exit status: 0 the table was printed (a configuration that failed says so in its row), or every
row of --against's baseline is as fast as it says; 1 a row of the baseline is slower than its
tolerance allows, found other states, or failed, or Spin (--spin) found other states than ours;
2 bad usage, a baseline that does not read, or a report that could not be written.")]
pub struct BenchArgs {
    /// A small grid that runs in about a second, to see that the benchmark works.
    /// Example: joincheck bench --quick
    #[arg(long)]
    quick: bool,
    /// Worker threads for each check, 1 to 1,024 [default: every core]. Example: --threads 1
    #[arg(long, value_name = "N", value_parser = whole::<u16>(1, 1024), allow_negative_numbers = true)]
    threads: Option<u16>,
    /// Output: text (a row as each configuration completes), or json (one document at the end,
    /// see the README). Example: --format json
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    format: ReportFormat,
    /// Also run Spin (`spin` and `gcc` on PATH) on the rows it has a model for, the
    /// event-sourced protocol without symmetry, each right after ours: its states (which must be
    /// ours), its time, and ours as a fraction of it. Example: joincheck bench --threads 1 --spin
    #[arg(long)]
    spin: bool,
    /// Instead of the grid, run the rows of this baseline (JSON, see the README) --runs times
    /// each, in fresh processes, and fail when the median states per CPU second of one is more
    /// than the baseline's tolerance below its rate, or its states differ.
    /// Example: --against benches/checker-baseline.json
    #[arg(long, value_name = "FILE", conflicts_with_all = ["quick", "threads", "format", "spin"])]
    against: Option<PathBuf>,
    /// With --against: runs of each row, whose median is compared, 1 to 99.
    #[arg(long, value_name = "N", default_value_t = 3, requires = "against",
          value_parser = whole::<u8>(1, 99), allow_negative_numbers = true)]
    runs: u8,
    /// With --against: write the medians measured into FILE as its rates, instead of comparing
    /// (after a change that makes the checker faster, or on another machine).
    #[arg(long, requires = "against")]
    record: bool,
}

/// Arguments of `joincheck bench-one` (one configuration; prints a JSON line).
#[derive(Args, Debug)]
pub struct BenchOneArgs {
    /// The protocol.
    #[arg(long, value_name = "NAME")]
    protocol: String,
    #[command(flatten)]
    sizes: SizeArgs,
    /// Reduce by symmetry of servers, users and teams.
    #[arg(long)]
    symmetry: bool,
    /// Worker threads.
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = whole::<usize>(1, 1024), allow_negative_numbers = true)]
    threads: usize,
}

/// One row of the table.
struct Config {
    protocol: Protocol,
    sizes: [u8; 4],
    symmetry: bool,
}

/// The models crate's benchmark grid, each configuration without and with symmetry reduction
/// (rows too big to run unreduced say why instead).
fn full_grid() -> Vec<(Config, Option<&'static str>)> {
    let mut rows = Vec::new();
    for (protocol, sizes) in bench_grid() {
        for symmetry in [false, true] {
            let skip = if symmetry {
                None
            } else {
                skip_without_symmetry(protocol, sizes)
            };
            let config = Config {
                protocol,
                sizes: sizes.as_array(),
                symmetry,
            };
            rows.push((config, skip));
        }
    }
    rows
}

/// A grid small enough for a test.
fn quick_grid() -> Vec<(Config, Option<&'static str>)> {
    [
        (Protocol::Naive, [2, 2, 2, 1], false),
        (Protocol::EventSourced, [2, 2, 2, 1], false),
        (Protocol::EventSourced, [2, 2, 2, 2], true),
    ]
    .into_iter()
    .map(|(protocol, sizes, symmetry)| {
        let config = Config {
            protocol,
            sizes,
            symmetry,
        };
        (config, None)
    })
    .collect()
}

/// Published figures of other model checkers for the same work: Spin without symmetry, Rumur
/// with.
fn reference(config: &Config) -> &'static str {
    if config.protocol != Protocol::EventSourced {
        return "";
    }
    match (config.sizes, config.symmetry) {
        ([3, 3, 3, 2], false) => "Spin: 1,799,380 in 2.1 s",
        ([3, 3, 3, 3], false) => "Spin: 8,168,959 in 11.3 s, 504 MB",
        ([3, 3, 3, 2], true) => "Rumur: 9,388 in 0.09 s",
        ([3, 3, 3, 3], true) => "Rumur: 40,853 in 0.42 s",
        ([4, 4, 4, 2], true) => "Rumur: 1,780,794 in 37 s",
        ([5, 3, 3, 2], true) => "Rumur: 2,254,157 in 56 s",
        _ => "",
    }
}

/// Runs the grid, one child process per configuration; as text, each row is printed as it
/// completes, as JSON the rows come in one document at the end.
pub fn run(args: &BenchArgs) -> Result<i32, String> {
    let exe = std::env::current_exe()
        .map_err(|error| format!("cannot find the joincheck executable: {error}"))?;
    if let Some(file) = &args.against {
        return against::run(&exe, file, args.runs, args.record);
    }
    let threads = args.threads.map(usize::from).unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    let grid = if args.quick {
        quick_grid()
    } else {
        full_grid()
    };
    if args.spin {
        spin::available()?;
    }
    let text = args.format == ReportFormat::Text;
    if text {
        output::emit(&format!(
            "model checking benchmark · {} · each row in a fresh process\n\
             {:24} {:>9} {:>8} {:12} {:>12} {:>12} {:>8} {:>12} {:>9}  reference\n",
            count(threads as u64, "thread"),
            "protocol",
            "S,U,T,N",
            "symmetry",
            "verdict",
            "unique",
            "generated",
            "seconds",
            "states/s",
            "peak MB"
        ));
    }
    let mut rows = Vec::new();
    let mut spin_differs = Vec::new();
    for (config, skip) in &grid {
        let measured = match skip {
            Some(why) => Measured::Skipped(why.to_string()),
            None => measure(&exe, config, threads)?,
        };
        let spin = match &measured {
            Measured::Figures(_) if args.spin && spin::covers(config.protocol, config.symmetry) => {
                Some(spin::measure(config.sizes))
            }
            _ => None,
        };
        if let (Some(Ok(spin)), Measured::Figures(ours)) = (&spin, &measured) {
            if Some(spin.states) != ours["unique_states"].as_u64() {
                let [s, u, t, n] = config.sizes;
                spin_differs.push(format!("{} at {s},{u},{t},{n}", config.protocol.name()));
            }
        }
        if text {
            output::emit(&row_text(config, &measured, spin.as_ref()));
        }
        rows.push(row_json(config, &measured, spin.as_ref()));
    }
    if !text {
        let document = json!({
            "version": REPORT_VERSION,
            "command": "bench",
            "threads": threads,
            "quick": args.quick,
            "spin": args.spin,
            "rows": rows,
            "exit_code": if spin_differs.is_empty() { EXIT_OK } else { EXIT_UNEXPECTED },
        });
        output::emit(&format!("{document:#}\n"));
    }
    if !spin_differs.is_empty() {
        eprintln!(
            "joincheck: Spin found other states than ours on {}: its model and ours differ",
            spin_differs.join(", ")
        );
        return Ok(EXIT_UNEXPECTED);
    }
    Ok(EXIT_OK)
}

/// What one configuration gave.
enum Measured {
    /// Not run, and why.
    Skipped(String),
    /// Its child process gave no figures: what it said on stderr.
    Failed(String),
    /// Its figures, as `bench-one` printed them.
    Figures(Value),
}

/// Runs `config` in a fresh process.
fn measure(exe: &std::path::Path, config: &Config, threads: usize) -> Result<Measured, String> {
    let [s, u, t, n] = config.sizes;
    let mut command = Command::new(exe);
    command.args(["bench-one", "--protocol", config.protocol.name()]);
    for (flag, value) in [
        ("--servers", s),
        ("--users", u),
        ("--teams", t),
        ("--requests", n),
    ] {
        command.args([flag, &value.to_string()]);
    }
    command.args(["--threads", &threads.to_string()]);
    if config.symmetry {
        command.arg("--symmetry");
    }
    let output = command
        .output()
        .map_err(|error| format!("cannot run a benchmark process: {error}"))?;
    let figures: Option<Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .last()
        .and_then(|line| serde_json::from_str(line).ok());
    Ok(match figures {
        Some(figures) => Measured::Figures(figures),
        None => Measured::Failed(String::from_utf8_lossy(&output.stderr).trim().to_string()),
    })
}

/// States per second, from a row's figures.
fn rate(figures: &Value) -> u64 {
    let unique = figures["unique_states"].as_u64().unwrap_or(0);
    let seconds = figures["seconds"].as_f64().unwrap_or(0.0);
    (unique as f64 / seconds.max(1e-9)) as u64
}

/// Spin's run of a row: its figures, or why it gave none.
type SpinRun = Result<spin::SpinFigures, String>;

/// The reference column: Spin's run beside ours when there was one, else published figures.
fn reference_text(config: &Config, ours: &Value, spin: Option<&SpinRun>) -> String {
    let Some(spin) = spin else {
        return reference(config).to_string();
    };
    let spin = match spin {
        Ok(spin) => spin,
        Err(why) => return why.clone(),
    };
    let memory = spin
        .memory_mb
        .map_or_else(String::new, |mb| format!(", {mb:.0} MB"));
    let ours_unique = ours["unique_states"].as_u64().unwrap_or(0);
    let ours_seconds = ours["seconds"].as_f64().unwrap_or(0.0);
    let states = thousands(spin.states);
    match spin.states == ours_unique {
        true => format!(
            "Spin now: {states} in {:.2} s{memory}; ours in {:.2}× its time",
            spin.seconds,
            ours_seconds / spin.seconds.max(1e-9)
        ),
        false => format!("Spin now: {states} states, NOT ours (its model and ours differ)"),
    }
}

/// One row of the text table.
fn row_text(config: &Config, measured: &Measured, spin: Option<&SpinRun>) -> String {
    let [s, u, t, n] = config.sizes;
    let label = format!("{s},{u},{t},{n}");
    let symmetry = if config.symmetry { "yes" } else { "no" };
    let protocol = config.protocol.name();
    match measured {
        Measured::Skipped(why) => format!("{protocol:24} {label:>9} {symmetry:>8} {why}\n"),
        Measured::Failed(why) => format!("{protocol:24} {label:>9} {symmetry:>8} failed: {why}\n"),
        Measured::Figures(row) => {
            let peak = row["peak_kb"].as_u64().map_or_else(
                || "-".to_string(),
                |kb| format!("{:.1}", kb as f64 / 1024.0),
            );
            format!(
                "{protocol:24} {label:>9} {symmetry:>8} {:12} {:>12} {:>12} {:>8.2} {:>12} \
                 {peak:>9}  {}\n",
                row["verdict"].as_str().unwrap_or("?"),
                thousands(row["unique_states"].as_u64().unwrap_or(0)),
                thousands(row["generated_states"].as_u64().unwrap_or(0)),
                row["seconds"].as_f64().unwrap_or(0.0),
                thousands(rate(row)),
                reference_text(config, row, spin)
            )
        }
    }
}

/// One row of the JSON report (schema in the README).
fn row_json(config: &Config, measured: &Measured, spin: Option<&SpinRun>) -> Value {
    let mut value = json!({
        "protocol": config.protocol.name(),
        "sizes": sizes_json(config.sizes),
        "symmetry": config.symmetry,
        "reference": Some(reference(config)).filter(|r| !r.is_empty()),
    });
    match measured {
        Measured::Skipped(why) => value["skipped"] = json!(why),
        Measured::Failed(why) => value["failed"] = json!(why),
        Measured::Figures(row) => {
            value["verdict"] = row["verdict"].clone();
            value["unique_states"] = row["unique_states"].clone();
            value["generated_states"] = row["generated_states"].clone();
            value["seconds"] = row["seconds"].clone();
            value["states_per_second"] = json!(rate(row));
            value["peak_mb"] = json!(row["peak_kb"].as_u64().map(|kb| kb as f64 / 1024.0));
        }
    }
    match spin {
        Some(Ok(spin)) => {
            value["spin"] = json!({
                "unique_states": spin.states,
                "seconds": spin.seconds,
                "peak_mb": spin.memory_mb,
            });
        }
        Some(Err(why)) => value["spin"] = json!({ "failed": why }),
        None => {}
    }
    value
}

/// Checks one configuration and prints its figures as one JSON line.
pub fn run_one(args: &BenchOneArgs) -> Result<i32, String> {
    let named = protocols::named(&args.protocol)?;
    let protocol = named
        .model()
        .ok_or_else(|| format!("{named} exists only as SQL and has no model to benchmark"))?;
    let sizes = args.sizes.sizes()?;
    let options = CheckOptions::default()
        .symmetry(args.symmetry)
        .threads(args.threads);
    let verdict = joincheck_models::check(protocol, sizes, &options);
    let stats = verdict.stats();
    output::emit(&format!(
        "{}\n",
        json!({
            "protocol": protocol.name(),
            "sizes": sizes_json(sizes.as_array()),
            "symmetry": args.symmetry,
            "verdict": verdict.kind(),
            "unique_states": stats.unique_states,
            "generated_states": stats.generated_states,
            "seconds": stats.seconds,
            "cpu_seconds": cpu_seconds(),
            "peak_kb": peak_memory_kb(),
        })
    ));
    Ok(EXIT_OK)
}

/// This process's peak resident memory (`VmHWM`), where `/proc` has it.
fn peak_memory_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// This process's CPU time so far, user and system, over all its threads (those that ended
/// too), where `/proc` has it: unlike the wall time, what other work on the machine leaves alone.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // After the command name (in parentheses, which may hold spaces): state, then 10 fields,
    // then utime and stime in clock ticks (USER_HZ, 100 on Linux).
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}
