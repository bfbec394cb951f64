//! `joincheck stress`: the built-in services on real threads, one after another, each in a
//! supervised thread (progress on stderr, a signal or `--timeout` stops it with the runs so far).

use super::output::{self, count, thousands, Gauge, ReportFormat, REPORT_VERSION};
use super::services::Executions;
use super::supervise::{self, supervise};
use super::{interrupt, protocol_arg, services, timeout};
use super::{EXIT_INCONCLUSIVE, EXIT_OK, EXIT_UNEXPECTED};
use crate::cli::values::whole;
use clap::Args;
use joincheck::check::stress::{StressOptions, StressReport};
use joincheck::check::{Limits, Scenario};
use joincheck::protocols;
use joincheck::trace::{self, CounterexampleFile};
use joincheck_models::verdict::Verdict;
use joincheck_models::Protocol;
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::time::Duration;

/// Arguments of `joincheck stress`.
#[derive(Args, Debug)]
#[command(after_help = after_help())]
pub struct StressArgs {
    /// How many times to run the whole workload per service (1 to 10,000,000).
    /// Example: --runs 5000
    #[arg(long, default_value_t = 2000, value_parser = whole::<u64>(1, 10_000_000), allow_negative_numbers = true)]
    runs: u64,
    /// Servers (threads) racing (2 to 64). Example: --servers 8
    #[arg(long, default_value_t = 4, value_parser = whole::<u8>(2, 64), allow_negative_numbers = true)]
    servers: u8,
    /// Users each server tries to place (1 to 64). Example: --users 4
    #[arg(long, default_value_t = 3, value_parser = whole::<u8>(1, 64), allow_negative_numbers = true)]
    users: u8,
    /// Teams the users are spread over (2 to 64). Example: --teams 3
    #[arg(long, default_value_t = 2, value_parser = whole::<u8>(2, 64), allow_negative_numbers = true)]
    teams: u8,
    /// Stop each service's runs after SECS seconds (at most 1,000,000,000); its verdict is then
    /// inconclusive, with the runs so far. Example: --timeout 30
    #[arg(long, value_name = "SECS", value_parser = timeout::seconds, allow_negative_numbers = true)]
    timeout: Option<Duration>,
    /// Output: text, or json (one document at the end, see the README). Example: --format json
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    format: ReportFormat,
}

/// The examples, and what ends a run how: which services may break comes from the registry.
fn after_help() -> String {
    format!(
        "\
Examples:
  joincheck stress
  joincheck stress --runs 5000 --servers 8 --users 4 --teams 3
  joincheck stress --timeout 30 --format json

Stopping: Ctrl-C, SIGTERM, SIGHUP or --timeout stops the running service's runs; the report
keeps the runs made so far (exit 3).

Exit status: 0 no service known to be correct broke (those known to break may, and are marked
may-break in the JSON report: {}); 1 a service known to be correct broke; 2 bad usage, or a
report that could not be written; 3 inconclusive (stopped early, or a run could not be judged
step by step).",
        protocol_arg::known_broken(None)
    )
}

/// One service's runs, with what is known about it.
struct Row {
    protocol: Protocol,
    report: StressReport,
    verdict: Verdict,
}

impl Row {
    /// A protocol known to be broken may break (at least two servers always race here); a
    /// protocol known to be correct must not.
    fn status(&self) -> &'static str {
        let may_break = protocols::known(self.protocol.into(), None)
            .why_broken()
            .is_some();
        match &self.verdict {
            Verdict::Violated { .. } if !may_break => "unexpected",
            Verdict::Inconclusive { .. } => "inconclusive",
            _ => "as-expected",
        }
    }
}

/// Runs the stress workload on every built-in service.
pub fn run(args: &StressArgs) -> Result<i32, String> {
    let scenario = Scenario::contended(args.servers, args.users, args.teams)
        .map_err(|error| error.to_string())?;
    supervise::prepare();
    let text = args.format == ReportFormat::Text;
    if text {
        output::emit(&format!(
            "workload: {scenario}\nruns per service: {}\n\n{:<24} {:>10} {:>10} {:>10} {:>8}\n",
            thousands(args.runs),
            "service",
            "runs",
            "broken",
            "conflicts",
            "seconds"
        ));
    }
    let mut rows = Vec::new();
    for protocol in protocols::ALL {
        let mut report = stress_one(protocol, &scenario, args);
        report.stopped = report.stopped.map(|why| interrupt::explain(&why));
        let verdict = report.verdict();
        if text {
            output::emit(&row(&report));
        }
        rows.push(Row {
            protocol,
            report,
            verdict,
        });
    }
    let statuses: Vec<&str> = rows.iter().map(Row::status).collect();
    let code = if statuses.contains(&"unexpected") {
        EXIT_UNEXPECTED
    } else if statuses.contains(&"inconclusive") {
        EXIT_INCONCLUSIVE
    } else {
        EXIT_OK
    };
    match args.format {
        ReportFormat::Text => output::emit(&describe_all(&rows)),
        ReportFormat::Json => output::emit(&format!(
            "{:#}\n",
            report_json(&rows, &scenario, args, code)
        )),
    }
    Ok(code)
}

/// A service's row of the table; one that made no run says so instead of showing zeros.
fn row(report: &StressReport) -> String {
    if report.runs == 0 && report.stopped.is_some() {
        return format!("{:<24} {:>10}\n", report.protocol, "not run");
    }
    format!(
        "{:<24} {:>10} {:>10} {:>10} {:>8.2}\n",
        report.protocol,
        thousands(report.runs),
        thousands(report.violations),
        thousands(report.conflicts),
        report.seconds
    )
}

/// One service's runs in a supervised thread; a service not started before a signal arrived
/// made no runs.
fn stress_one(protocol: Protocol, scenario: &Scenario, args: &StressArgs) -> StressReport {
    let not_run = |why: String| StressReport {
        protocol: protocol.name().to_string(),
        runs: 0,
        stopped: Some(why),
        violations: 0,
        conflicts: 0,
        first_violation: None,
        unjudged: None,
        scope: String::new(),
        seconds: 0.0,
    };
    if let Some(signal) = interrupt::received() {
        return not_run(format!(
            "not run: {signal} stopped the run before this service"
        ));
    }
    let (work, runs, timeout) = (scenario.clone(), args.runs, args.timeout);
    let what = format!("stress · {protocol}");
    let executions = Executions::default();
    let counted = executions.clone();
    supervise(&what, Gauge::Executions(executions), move |stop| {
        let mut limits = Limits::default().stop(stop);
        limits.timeout = timeout;
        let options = StressOptions::default().runs(runs).limits(limits);
        services::stress(protocol, &work, &options, &counted)
    })
    .unwrap_or_else(|unfinished| {
        not_run(format!(
            "{} after {:.1} s",
            unfinished.why, unfinished.seconds
        ))
    })
}

/// What each report means, in words, with the first broken run's trace.
fn describe_all(rows: &[Row]) -> String {
    let mut out = String::from("\n");
    for row in rows {
        let protocol = &row.report.protocol;
        let _ = match &row.verdict {
            Verdict::Inconclusive { reason, .. } => {
                writeln!(out, "{protocol}: inconclusive: {reason}")
            }
            Verdict::Holds { .. } => {
                let runs = match row.report.runs {
                    1 => "its 1 run".to_string(),
                    runs => format!("all {}", count(runs, "run")),
                };
                writeln!(
                    out,
                    "{protocol}: the invariant held in {runs} (evidence, not proof)"
                )
            }
            Verdict::Violated { counterexample, .. } => {
                let stopped = match &row.report.stopped {
                    Some(why) => format!(" ({why})"),
                    None => String::new(),
                };
                writeln!(
                    out,
                    "{protocol}: the invariant broke in {} of {}{stopped}; the first one:\n\n{}",
                    thousands(row.report.violations),
                    count(row.report.runs, "run"),
                    trace::text(counterexample, None)
                )
            }
        };
    }
    out
}

/// The JSON report (schema in the README).
fn report_json(rows: &[Row], scenario: &Scenario, args: &StressArgs, code: i32) -> Value {
    let results: Vec<Value> = rows
        .iter()
        .map(|row| {
            let report = &row.report;
            let mut value = json!({
                "protocol": report.protocol,
                "verdict": row.verdict.kind(),
                "expected": match protocols::known(row.protocol.into(), None).why_broken() {
                    Some(_) => "may-break",
                    None => "holds",
                },
                "status": row.status(),
                "runs": report.runs,
                "broken": report.violations,
                "conflicts": report.conflicts,
                "seconds": report.seconds,
            });
            match &row.verdict {
                Verdict::Holds { scope, .. } => value["scope"] = json!(scope),
                Verdict::Inconclusive { reason, .. } => value["reason"] = json!(reason),
                Verdict::Violated { counterexample, .. } => {
                    let file = CounterexampleFile::new(counterexample, Some(scenario), None);
                    value["counterexample"] = file.to_json();
                }
            }
            value
        })
        .collect();
    let count = |status: &str| rows.iter().filter(|row| row.status() == status).count();
    json!({
        "version": REPORT_VERSION,
        "command": "stress",
        "workload": scenario.to_string(),
        "runs": args.runs,
        "results": results,
        "summary": {
            "services": rows.len(),
            "as_expected": count("as-expected"),
            "unexpected": count("unexpected"),
            "inconclusive": count("inconclusive"),
            "exit_code": code,
        },
    })
}
