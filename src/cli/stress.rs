//! `joincheck stress`: each protocol on each database under load, on real threads with real
//! connections ([`joincheck::load`]): every request recorded with its interval and outcome, the
//! committed membership sampled throughout, then the history checked for the invariant, for
//! linearizability and for anything lost. Each protocol runs in a supervised thread (progress on
//! stderr; a signal or `--timeout` stops it, inconclusive, with the requests so far).

use super::database_arg;
use super::output::{self, thousands, Gauge, ReportFormat, REPORT_VERSION};
use super::protocol_arg::{self, ProtocolArg};
use super::supervise::{self, supervise};
use super::values::{whole, ListItem};
use super::{
    interrupt, services, timeout, EXIT_INCONCLUSIVE, EXIT_OK, EXIT_UNEXPECTED, EXIT_USAGE,
};
use clap::{Args, ValueEnum};
use joincheck::check::Limits;
use joincheck::history::svg::{self, Membership, SvgOptions};
use joincheck::history::Outcome;
use joincheck::linearizability::Linearizability;
use joincheck::load::{Faults, Length, LoadOptions, LoadReport, Progress};
use joincheck::protocols::{self, CatalogueProtocol, SqlOnly, Storage};
use joincheck::store::sql::Dialect;
use joincheck_models::domain::Request;
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// A fault `--faults` injects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FaultArg {
    /// Cut a drawn worker's connection every 25 ms on average (PostgreSQL: pg_terminate_backend;
    /// SQLite: the connection is closed mid-transaction); the worker connects again and goes on.
    KillConnections,
    /// Wait a drawn delay below 2 ms before each statement, to widen races.
    Slow,
}

/// Arguments of `joincheck stress`.
#[derive(Args, Debug)]
#[command(after_help = after_help())]
pub struct StressArgs {
    /// The protocols to load, separated by commas, or all [default: all].
    /// Example: --protocol naive,event-sourced
    #[arg(long, value_name = "NAMES", value_parser = ListItem::<ProtocolArg>::new(),
          value_delimiter = ',', default_value = "all", hide_default_value = true)]
    protocol: Vec<ProtocolArg>,
    /// Where the services run, separated by commas: memory, sqlite, sqlite:DIR, postgres
    /// (DATABASE_URL) or a postgres://… URL [default: memory,sqlite, and postgres when
    /// DATABASE_URL is set]. Example: --database postgres://root@127.0.0.1/test
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    database: Vec<String>,
    /// Worker threads, each with a connection of its own (1 to 255). Example: --workers 8
    #[arg(long, value_name = "W", default_value_t = 4,
          value_parser = whole::<u32>(1, 255), allow_negative_numbers = true)]
    workers: u32,
    /// Users the requests are drawn from (1 to 64). Example: --users 2
    #[arg(long, value_name = "U", default_value_t = 4,
          value_parser = whole::<u8>(1, 64), allow_negative_numbers = true)]
    users: u8,
    /// Teams the requests are drawn from (1 to 64). Example: --teams 3
    #[arg(long, value_name = "T", default_value_t = 3,
          value_parser = whole::<u8>(1, 64), allow_negative_numbers = true)]
    teams: u8,
    /// The seed of every worker's joins, leaves and switches, and of the faults. Example: --seed 7
    #[arg(long, value_name = "X", default_value_t = 42,
          value_parser = whole::<u64>(0, u64::MAX), allow_negative_numbers = true)]
    seed: u64,
    /// Requests per worker (1 to 10,000,000) [default: 250]. Example: --requests 1000
    #[arg(long, value_name = "N", conflicts_with = "duration",
          value_parser = whole::<u64>(1, 10_000_000), allow_negative_numbers = true)]
    requests: Option<u64>,
    /// Run each protocol for SECS seconds instead of a number of requests. Example: --duration 10
    #[arg(long, value_name = "SECS", value_parser = timeout::seconds, allow_negative_numbers = true)]
    duration: Option<Duration>,
    /// Faults to inject, separated by commas. Example: --faults kill-connections,slow
    #[arg(long, value_name = "NAMES", value_parser = ListItem::<FaultArg>::new(), value_delimiter = ',')]
    faults: Vec<FaultArg>,
    /// Stop each protocol's load and its history check after SECS seconds (at most
    /// 1,000,000,000); it is then inconclusive. Example: --timeout 30
    #[arg(long, value_name = "SECS", value_parser = timeout::seconds, allow_negative_numbers = true)]
    timeout: Option<Duration>,
    /// Write each protocol's history (history.jsonl, a request a line), report (report.json)
    /// and picture (timeline.svg) to DIR/PROTOCOL-DATABASE/ (created if need be). Example: --out runs
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Output: text, or json (one document at the end, see the README). Example: --format json
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    format: ReportFormat,
}

/// The examples, and what ends a run how: which protocols may break comes from the registry.
fn after_help() -> String {
    format!(
        "\
Examples:
  joincheck stress
  joincheck stress --protocol naive,event-sourced --database sqlite --workers 8 --requests 1000
  joincheck stress --database postgres://root@127.0.0.1/test --faults kill-connections --out runs
  joincheck stress --protocol naive-one-statement --database postgres --faults slow --duration 10

Each run is judged three ways: the invariant on every sample of the committed membership and at
the end; linearizability (an order of the requests, each taking effect inside its interval, that
a join service allows and that ends in the final membership); and nothing lost (every
acknowledged join and leave is in the database, nothing refused or failed is, and an event log
is whole). Real threads are evidence, not proof.

Stopping: Ctrl-C, SIGTERM, SIGHUP or --timeout stops the running protocol; the report keeps the
requests made so far (exit 3).

Exit status: 0 every protocol as expected: those known to break may break (in memory and on
SQLite: {}; on PostgreSQL also {} and naive-one-statement), every other must hold, be
linearizable and lose nothing; 1 one did not; 2 bad usage, or a report or file that could not
be written; 3 inconclusive (stopped early, a history too hard to decide within --timeout, or a
service that failed).",
        protocol_arg::known_broken(None),
        protocol_arg::known_broken(Some(Dialect::Postgres))
    )
}

/// One protocol's load on one database.
struct Row {
    protocol: CatalogueProtocol,
    database: &'static str,
    may_break: bool,
    report: Result<LoadReport, String>,
}

impl Row {
    /// `as-expected`, `unexpected` or `inconclusive`.
    fn status(&self) -> &'static str {
        let Ok(report) = &self.report else {
            return "inconclusive";
        };
        let linearizability = &report.linearizability;
        if report.stopped.is_some()
            || report.failure.is_some()
            || matches!(linearizability, Linearizability::Inconclusive { .. })
        {
            return "inconclusive";
        }
        let broke = report.samples.first_violation.is_some()
            || matches!(linearizability, Linearizability::NotLinearizable { .. })
            || !report.lost.is_empty();
        match broke && !self.may_break {
            true => "unexpected",
            false => "as-expected",
        }
    }

    /// `naive-sqlite`: the directory of its files.
    fn stem(&self) -> String {
        format!("{}-{}", self.protocol, self.database)
    }
}

/// Whether `protocol` may break on `database` under load: those known to break there, and the
/// one-statement check on PostgreSQL, whose statement is not atomic below serializable.
fn may_break(protocol: CatalogueProtocol, database: &Storage) -> bool {
    let dialect = database.dialect();
    protocols::known(protocol, dialect).why_broken().is_some()
        || (protocol == CatalogueProtocol::SqlOnly(SqlOnly::NaiveOneStatement)
            && dialect == Some(Dialect::Postgres))
}

/// Runs the load on every protocol asked for, on every database.
pub fn run(args: &StressArgs) -> Result<i32, String> {
    let databases = database_arg::databases(&args.database)?;
    if let Some(out) = &args.out {
        std::fs::create_dir_all(out)
            .map_err(|error| format!("cannot write to --out {}: {error}", out.display()))?;
    }
    let options = load_options(args);
    supervise::prepare();
    let text = args.format == ReportFormat::Text;
    if text {
        let mut head = format!(
            "stress · {} per protocol, {} users, {} teams, seed {}, faults: {}\n",
            match options.length {
                Length::Requests(n) =>
                    format!("{} workers × {} requests", args.workers, thousands(n)),
                Length::Duration(d) =>
                    format!("{} workers for {:.1} s", args.workers, d.as_secs_f64()),
            },
            args.users,
            args.teams,
            args.seed,
            options.faults.describe()
        );
        if let Some(left_out) = &databases.left_out {
            let _ = writeln!(head, "{left_out}");
        }
        let _ = writeln!(
            head,
            "\n{:<24} {:8} {:>9} {:>8} {:>8} {:>6} {:>8} {:>10}  {:<9}  linearizability",
            "protocol",
            "database",
            "requests",
            "ok",
            "refused",
            "error",
            "unknown",
            "requests/s",
            "invariant",
        );
        output::emit(&head);
    }
    let mut rows = Vec::new();
    let mut skipped: Vec<(String, &str, Vec<&str>)> = Vec::new();
    for protocol in protocol_arg::chosen(&args.protocol) {
        for database in &databases.storages {
            if let Some(why) = protocols::unavailable(protocol, database) {
                let place = format!("on {}", database.name());
                match skipped
                    .iter_mut()
                    .find(|(p, w, _)| *p == place && *w == why)
                {
                    Some((_, _, names)) => names.push(protocol.name()),
                    None => skipped.push((place, why, vec![protocol.name()])),
                }
                continue;
            }
            let report = load_one(protocol, database, &options);
            let row = Row {
                protocol,
                database: database.name(),
                may_break: may_break(protocol, database),
                report,
            };
            if text {
                output::emit(&table_row(&row));
            }
            rows.push(row);
        }
    }
    let statuses: Vec<&str> = rows.iter().map(Row::status).collect();
    let mut code = if statuses.contains(&"unexpected") {
        EXIT_UNEXPECTED
    } else if statuses.contains(&"inconclusive") {
        EXIT_INCONCLUSIVE
    } else {
        EXIT_OK
    };
    if let Some(out) = &args.out {
        for row in &rows {
            if let Err(message) = save(out, row, args) {
                output::unwritten(message);
                code = EXIT_USAGE;
            }
        }
    }
    let skipped: Vec<String> = skipped
        .into_iter()
        .map(|(place, why, names)| format!("{} {place}: {why}", names.join(", ")))
        .collect();
    match args.format {
        ReportFormat::Text => output::emit(&footer(&rows, &skipped, code)),
        ReportFormat::Json => {
            let document = json!({
                "version": REPORT_VERSION,
                "command": "stress",
                "workers": args.workers,
                "users": args.users,
                "teams": args.teams,
                "seed": args.seed,
                "faults": options.faults.describe(),
                "databases": databases.storages.iter().map(Storage::name).collect::<Vec<_>>(),
                "databases_left_out": databases.left_out,
                "results": rows.iter().map(|row| row_json(row, args.out.as_deref())).collect::<Vec<_>>(),
                "skipped": skipped,
                "summary": {
                    "results": rows.len(),
                    "as_expected": statuses.iter().filter(|s| **s == "as-expected").count(),
                    "unexpected": statuses.iter().filter(|s| **s == "unexpected").count(),
                    "inconclusive": statuses.iter().filter(|s| **s == "inconclusive").count(),
                    "exit_code": code,
                },
            });
            output::emit(&format!("{document:#}\n"));
        }
    }
    Ok(code)
}

/// The load options of `args`.
fn load_options(args: &StressArgs) -> LoadOptions {
    let length = match args.duration {
        Some(duration) => Length::Duration(duration),
        None => Length::Requests(args.requests.unwrap_or(250)),
    };
    let faults = Faults {
        kill_connections: args
            .faults
            .contains(&FaultArg::KillConnections)
            .then_some(Duration::from_millis(25)),
        slow: args
            .faults
            .contains(&FaultArg::Slow)
            .then_some(Duration::from_millis(2)),
    };
    let mut limits = Limits::default();
    limits.timeout = args.timeout;
    LoadOptions::default()
        .workers(args.workers)
        .users(args.users)
        .teams(args.teams)
        .seed(args.seed)
        .length(length)
        .faults(faults)
        .limits(limits)
}

/// One protocol's load on `database`, supervised: progress on stderr, stopped by a signal.
fn load_one(
    protocol: CatalogueProtocol,
    database: &Storage,
    options: &LoadOptions,
) -> Result<LoadReport, String> {
    if let Some(signal) = interrupt::received() {
        return Err(format!("not run: {signal} stopped the run before it"));
    }
    let progress = Arc::new(Progress::default());
    let what = format!("stress · {protocol} · {}", database.name());
    let (database, counted) = (database.clone(), progress.clone());
    let mut options = options.clone();
    supervise(&what, Gauge::Requests(progress), move |stop| {
        options.limits = options.limits.clone().stop(stop);
        services::load((protocol, &database), &options, &counted)
    })
    .unwrap_or_else(|unfinished| {
        Err(format!(
            "{} after {:.1} s",
            unfinished.why, unfinished.seconds
        ))
    })
    .map(|mut report| {
        report.stopped = report.stopped.map(|why| interrupt::explain(&why));
        report
    })
}

/// One row of the table.
fn table_row(row: &Row) -> String {
    let Ok(report) = &row.report else {
        return format!("{:<24} {:8} not run\n", row.protocol.name(), row.database);
    };
    let outcomes = &report.outcomes;
    let invariant = match &report.samples.first_violation {
        Some(_) => "violated",
        None => "held",
    };
    format!(
        "{:<24} {:8} {:>9} {:>8} {:>8} {:>6} {:>8} {:>10}  {:<9}  {:<16}  {}\n",
        row.protocol.name(),
        row.database,
        thousands(report.history.len() as u64),
        thousands(outcomes.ok),
        thousands(outcomes.refused),
        thousands(outcomes.error),
        thousands(outcomes.unknown),
        thousands(report.requests_per_second() as u64),
        invariant,
        report.linearizability.kind(),
        match row.status() {
            "as-expected" => "✓ as expected",
            "unexpected" => "✗ UNEXPECTED",
            _ => "? inconclusive",
        }
    )
}

/// What each run means, in words, then the summary line.
fn footer(rows: &[Row], skipped: &[String], code: i32) -> String {
    let mut out = String::from("\n");
    for skip in skipped {
        let _ = writeln!(out, "skipped: {skip}");
    }
    for row in rows {
        let label = format!("{} · {}", row.protocol, row.database);
        let report = match &row.report {
            Ok(report) => report,
            Err(why) => {
                let _ = writeln!(out, "{label}: inconclusive: {why}");
                continue;
            }
        };
        let mut notes = Vec::new();
        if let Some(first) = &report.samples.first_violation {
            let teams: Vec<String> = first.teams.iter().map(|t| t.to_string()).collect();
            notes.push(format!(
                "{} on {} at {:.3} s (first of {} samples to show it)",
                first.user,
                teams.join(" and "),
                first.at as f64 / 1e9,
                thousands(report.samples.taken)
            ));
        }
        if let Some(unorderable) = report.linearizability.unorderable() {
            notes.push(format!(
                "{}'s requests {:?} cannot be ordered{}",
                unorderable.key,
                unorderable.calls,
                if unorderable.ending {
                    " with the final membership"
                } else {
                    ""
                }
            ));
        }
        if let Linearizability::Inconclusive { reason, .. } = &report.linearizability {
            notes.push(format!("linearizability undecided: {reason}"));
        }
        for lost in report.lost.iter().take(3) {
            notes.push(format!("lost: {lost}"));
        }
        if let Some(why) = report.stopped.as_ref().or(report.failure.as_ref()) {
            notes.push(format!("stopped: {why}"));
        }
        if report.conflicts + report.retried + report.cuts > 0 {
            notes.push(format!(
                "{} conflicts, {} retried, {} connections cut",
                thousands(report.conflicts),
                thousands(report.retried),
                thousands(report.cuts)
            ));
        }
        let checked = format!(
            "linearizability checked in {:.3} s",
            report.linearizability.stats().seconds
        );
        notes.push(checked);
        let may = if row.may_break && row.status() == "as-expected" && notes.len() > 1 {
            " (known to break here)"
        } else {
            ""
        };
        let _ = writeln!(out, "{label}{may}: {}", notes.join("; "));
    }
    let summary = match code {
        EXIT_OK => format!(
            "all {} runs as expected; real threads are evidence, not proof",
            rows.len()
        ),
        EXIT_UNEXPECTED => {
            let which: Vec<String> = rows
                .iter()
                .filter(|row| row.status() == "unexpected")
                .map(|row| format!("{} · {}", row.protocol, row.database))
                .collect();
            format!("a protocol known to be correct broke: {}", which.join(", "))
        }
        EXIT_USAGE => "the files could not all be written to --out (exit 2)".to_string(),
        _ => "a run is inconclusive: it stopped, failed, or its history could not be decided"
            .to_string(),
    };
    let _ = writeln!(out, "\n{summary}");
    out
}

/// One result as JSON; `out` is where its files were written, if they were.
fn row_json(row: &Row, out: Option<&Path>) -> Value {
    let mut value = json!({
        "protocol": row.protocol.name(),
        "database": row.database,
        "expected": if row.may_break { "may-break" } else { "holds" },
        "status": row.status(),
        "files": out.map(|out| out.join(row.stem()).display().to_string()),
    });
    let report = match &row.report {
        Ok(report) => report,
        Err(why) => {
            value["reason"] = json!(why);
            return value;
        }
    };
    let stats = report.linearizability.stats();
    value["requests"] = json!(report.history.len());
    value["outcomes"] = json!({
        "ok": report.outcomes.ok,
        "refused": report.outcomes.refused,
        "error": report.outcomes.error,
        "unknown": report.outcomes.unknown,
    });
    value["seconds"] = json!(report.seconds);
    value["requests_per_second"] = json!(report.requests_per_second());
    value["invariant"] = json!({
        "verdict": if report.samples.first_violation.is_some() { "violated" } else { "holds" },
        "samples": report.samples.taken,
        "first_violation": report.samples.first_violation.as_ref().map(|first| json!({
            "seconds": first.at as f64 / 1e9,
            "user": first.user.to_string(),
            "teams": first.teams.iter().map(|t| t.to_string()).collect::<Vec<_>>(),
        })),
    });
    value["linearizability"] = json!({
        "verdict": report.linearizability.kind(),
        "seconds": stats.seconds,
        "unorderable": report.linearizability.unorderable().map(|u| json!({
            "user": u.key.to_string(),
            "requests": u.calls,
            "minimal": u.minimal,
        })),
        "reason": match &report.linearizability {
            Linearizability::Inconclusive { reason, .. } => Some(reason.clone()),
            _ => None,
        },
    });
    value["lost"] = json!(report.lost);
    value["conflicts"] = json!(report.conflicts);
    value["retried"] = json!(report.retried);
    value["connections_cut"] = json!(report.cuts);
    value["stopped"] = json!(report.stopped.as_ref().or(report.failure.as_ref()));
    value
}

/// Writes `row`'s history, report and timeline to `out/PROTOCOL-DATABASE/`, each whole or not at
/// all.
fn save(out: &Path, row: &Row, args: &StressArgs) -> Result<(), String> {
    let Ok(report) = &row.report else {
        return Ok(());
    };
    let dir = out.join(row.stem());
    std::fs::create_dir_all(&dir).map_err(|error| format!("{}: {error}", dir.display()))?;
    let mut history = Vec::new();
    report
        .history
        .write_json_lines(&mut history)
        .map_err(|error| format!("the history: {error}"))?;
    output::write_whole(&dir.join("history.jsonl"), &history)?;
    let json = format!("{:#}\n", row_json(row, Some(out)));
    output::write_whole(&dir.join("report.json"), json.as_bytes())?;
    output::write_whole(
        &dir.join("timeline.svg"),
        timeline(row, report, args).as_bytes(),
    )
}

/// The timeline: the requests of an unorderable set or of the first violation's user
/// highlighted, with that user's teams over time.
fn timeline(row: &Row, report: &LoadReport, args: &StressArgs) -> String {
    let user = report
        .linearizability
        .unorderable()
        .map(|u| u.key)
        .or(report.samples.first_violation.as_ref().map(|f| f.user));
    let mut options = SvgOptions::default().title(format!(
        "{} on {} · {} workers, seed {}",
        row.protocol, row.database, args.workers, args.seed
    ));
    if let Some(user) = user {
        let highlighted: Vec<usize> = match report.linearizability.unorderable() {
            Some(unorderable) => unorderable.calls.clone(),
            None => report
                .history
                .calls()
                .iter()
                .enumerate()
                .filter(|(_, call)| {
                    matches!(call.input.0, Request::Join { user: u, .. } if u == user)
                        && matches!(call.outcome, Outcome::Ok(()))
                })
                .map(|(id, _)| id)
                .collect(),
        };
        options = options.highlighted(highlighted).membership(Membership {
            user,
            samples: report.samples.of(user).to_vec(),
        });
    }
    svg::svg(&report.history, &options, |call| {
        format!("{} → {}", call.input, call.outcome.kind())
    })
}
