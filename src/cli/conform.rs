//! `joincheck conform`: does the real implementation only do what its model allows?
//!
//! Histories of the real service, under shuttle's random and PCT schedules, generated workloads
//! and real threads, are matched step by step against the protocol's model, in a supervised
//! thread: progress on stderr, and a signal or `--timeout` ends it with what was validated.

use super::database_arg;
use super::memory::{Budget, Bytes, PROCESS};
use super::output::{self, count, thousands, Gauge, ReportFormat, REPORT_VERSION};
use super::protocol_arg::OneProtocol;
use super::services::{Counted, Executions};
use super::sizes::{scenario, scenario_with_leaves, sizes_json, SizeArgs};
use super::supervise::{self, supervise};
use super::{interrupt, timeout};
use super::{EXIT_INCONCLUSIVE, EXIT_OK, EXIT_UNEXPECTED};
use crate::cli::values::whole;
use clap::Args;
use joincheck::check::conform::{self, builtin_model, ConformanceReport, Divergence};
use joincheck::check::proptest::ProptestOptions;
use joincheck::check::shuttle::{ShuttleOptions, Strategy};
use joincheck::check::{Limits, Scenario};
use joincheck::protocols::{self, Builtin, Service, WithBuiltin};
use joincheck::trace::file::StepRecord;
use joincheck_models::{plural, Protocol, ProtocolModel};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Arguments of `joincheck conform`.
#[derive(Args, Debug)]
#[command(
    mut_arg("servers", |arg| arg.help(
        "Servers racing (2 to 8: one server has nothing to race). Example: --servers 3")),
    after_help = "\
Examples:
  joincheck conform --protocol event-sourced
  joincheck conform --protocol naive --servers 3 --users 2 --iterations 2000 --seed 7
  joincheck conform --protocol event-sourced --timeout 60 --format json
  joincheck conform --protocol lease-lock --requests 2 --leaves
  joincheck conform --protocol event-sourced --database sqlite --iterations 100

Stopping: Ctrl-C, SIGTERM, SIGHUP, --timeout or --max-memory stops the run, within the matching
of a history too; the report keeps what was validated so far (exit 3). Sizes `check` refuses are
refused (exit 2).

Exit status: 0 every history is a path of the model; 1 a step the model cannot take; 2 bad
usage, or a report that could not be written; 3 incomplete (stopped early, or a run could not be validated).")]
pub struct ConformArgs {
    /// The protocol whose implementation is matched against its model.
    /// Example: --protocol event-sourced
    #[arg(long, value_name = "NAME", value_enum)]
    protocol: OneProtocol,
    #[command(flatten)]
    sizes: SizeArgs,
    /// Shuttle schedules per scheduler (random, then PCT depth 3), and runs on real threads (at
    /// most 2,000); 1 to 10,000,000. Example: --iterations 2000
    #[arg(long, value_name = "K", default_value_t = 500,
          value_parser = whole::<u64>(1, 10_000_000), allow_negative_numbers = true)]
    iterations: u64,
    /// Seed of the schedules and of the generated workloads. Example: --seed 7
    #[arg(long, value_name = "X", default_value_t = 42,
          value_parser = whole::<u64>(0, u64::MAX), allow_negative_numbers = true)]
    seed: u64,
    /// Stop after SECS seconds (at most 1,000,000,000); the run is then incomplete, with what
    /// was validated so far. Example: --timeout 60
    #[arg(long, value_name = "SECS", value_parser = timeout::seconds, allow_negative_numbers = true)]
    timeout: Option<Duration>,
    /// Where the implementation runs: memory (the in-memory stores), sqlite, sqlite:DIR, postgres
    /// (DATABASE_URL) or a postgres://… URL; on a database its statements are matched in the
    /// model's terms [default: memory]. Example: --database sqlite
    #[arg(long, value_name = "NAME")]
    database: Option<String>,
    /// Output: text, or json (one document at the end, see the README). Example: --format json
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    format: ReportFormat,
    /// Race leaves with the joins: every second request of a server leaves the team the one
    /// before joined (at least 2 requests), matched against the model with leaves. The generated
    /// workloads stay joins. Example: --leaves
    #[arg(long)]
    leaves: bool,
    /// Stop, incomplete, before the model states a history is matched against outgrow this much
    /// memory (K, M, G, T or P) [default: half the room the tightest memory limit leaves].
    /// Example: --max-memory 2G
    #[arg(long, value_name = "SIZE")]
    max_memory: Option<Bytes>,
}

/// Runs the trace validation: 0 when every history is a path of the model, 1 at the first one
/// that is not, 3 when part of the run could not be validated.
pub fn run(args: &ConformArgs) -> Result<i32, String> {
    let protocol = args.protocol.0;
    let database = database_arg::one(args.database.as_deref())?;
    if let Some(why) = protocols::unavailable(protocol.into(), &database) {
        return Err(format!("{protocol} on {}: {why}", database.name()));
    }
    let sizes = args.sizes.sizes()?;
    if sizes.servers < 2 {
        return Err("conform needs at least 2 servers: one server has nothing to race".into());
    }
    // The models are sized from the workload; refuse one they cannot follow before starting,
    // and sizes `check` refuses: matching a history there keeps more candidate states than a
    // model check could.
    let (scenario, model) = match args.leaves {
        true => {
            let model =
                ProtocolModel::try_new(protocol, sizes).and_then(ProtocolModel::with_leaves);
            (
                scenario_with_leaves(sizes)?,
                model.map_err(|e| e.to_string())?,
            )
        }
        false => {
            let scenario = scenario(sizes)?;
            let model = builtin_model(protocol, &scenario).map_err(|e| e.to_string())?;
            (scenario, model)
        }
    };
    model.checkable().map_err(|too_big| too_big.to_string())?;
    let budget = Budget::new(args.max_memory);
    let memory = budget.map(|budget| budget.room());
    if let (Some(budget), Some(0)) = (budget, memory) {
        return Err(format!(
            "{} leaves no room beyond the process's own {}",
            budget.describe(),
            Bytes(PROCESS)
        ));
    }
    supervise::prepare();
    let work = Conform {
        protocol,
        model,
        scenario: scenario.clone(),
        iterations: args.iterations,
        seed: args.seed,
        timeout: args.timeout,
        memory,
    };
    let what = match database.dialect() {
        Some(dialect) => format!("conform · {protocol} · {dialect}"),
        None => format!("conform · {protocol}"),
    };
    let started = Instant::now();
    let executions = Executions::default();
    let counted = executions.clone();
    let database_name = database.name();
    let validated = supervise(&what, Gauge::Executions(executions), move |stop| {
        protocols::with_service(protocol.into(), &database, work.with(stop, counted))
            .expect("checked above: the protocol has a service on this database")
    })
    .unwrap_or_else(|unfinished| Validated {
        report: ConformanceReport {
            incomplete: Some(format!(
                "{} after {:.1} s",
                unfinished.why, unfinished.seconds
            )),
            ..ConformanceReport::default()
        },
        workload_histories: 0,
    });
    let Validated {
        mut report,
        workload_histories,
    } = validated;
    let seconds = started.elapsed().as_secs_f64();
    if report.divergence.is_some() {
        // A divergence decides; whatever stopped the run afterwards does not matter.
        report.incomplete = None;
    }
    report.incomplete = report.incomplete.map(|why| {
        let why = interrupt::explain(&why);
        match budget.filter(|_| why.contains("stopped by the memory limit (")) {
            Some(budget) => format!(
                "{why}; the limit is {}, less the process's own {}",
                budget.describe(),
                Bytes(PROCESS)
            ),
            None => why,
        }
    });
    let code = match (&report.divergence, &report.incomplete) {
        (Some(_), _) => EXIT_UNEXPECTED,
        (None, Some(_)) => EXIT_INCONCLUSIVE,
        (None, None) => EXIT_OK,
    };
    let ran = Ran {
        model: &model,
        database: database_name,
        scenario: &scenario,
        report: &report,
        workload_histories,
        iterations: args.iterations,
    };
    match args.format {
        ReportFormat::Text => output::emit(&text(&ran)),
        ReportFormat::Json => {
            let document = report_json(&ran, seconds, code);
            output::emit(&format!("{document:#}\n"));
        }
    }
    Ok(code)
}

/// What a run validated, and against what.
struct Ran<'a> {
    model: &'a ProtocolModel,
    /// `memory`, `sqlite` or `postgres`.
    database: &'static str,
    scenario: &'a Scenario,
    report: &'a ConformanceReport,
    /// The histories of `scenario` among the report's; the others are of generated workloads.
    workload_histories: u64,
    iterations: u64,
}

impl Ran<'_> {
    /// The histories of the generated workloads.
    fn generated_histories(&self) -> u64 {
        self.report.histories - self.workload_histories
    }

    /// `256 generated join workloads of up to 2 servers × 1 request each over 1 user and 2
    /// teams`: what the generated workloads were (the sizes given, as for `check`'s proptest).
    fn generated(&self) -> String {
        let sizes = self.model.sizes();
        format!(
            "{} generated join workloads of up to {} × {} each over {} and {}",
            thousands(u64::from(ProptestOptions::default().cases)),
            plural(sizes.servers, "server"),
            plural(sizes.requests, "request"),
            plural(sizes.users, "user"),
            plural(sizes.teams, "team")
        )
    }
}

/// The report for a terminal: how many histories of which workloads matched, then the verdict.
fn text(ran: &Ran) -> String {
    let (model, report) = (ran.model, ran.report);
    let protocol = model.protocol().name();
    let with = if model.leaves() { " with leaves" } else { "" };
    let runs = ran.iterations.min(MAX_RUNS_ON_THREADS);
    let mut out = format!(
        "{protocol} · conformance{} · {}\nvalidated {}, {}, against the {protocol} model{with} ({} \
         of them broke the invariant):\n  {} of this workload ({} random and {} PCT shuttle \
         schedules, {} on real threads)\n  {} of {} ({} PCT schedules each)\n",
        match ran.database {
            "memory" => String::new(),
            database => format!(" on {database}"),
        },
        ran.scenario,
        count(report.histories, "history"),
        count(report.steps, "step"),
        thousands(report.violations),
        count(ran.workload_histories, "history"),
        thousands(ran.iterations),
        thousands(ran.iterations),
        count(runs, "run"),
        count(ran.generated_histories(), "history"),
        ran.generated(),
        ProptestOptions::default().shuttle.iterations,
    );
    match (&report.divergence, &report.incomplete) {
        (Some(divergence), _) => out.push_str(&divergence.to_string()),
        (None, Some(why)) => out.push_str(&format!("INCOMPLETE  {why}\n")),
        (None, None) => out.push_str("CONFORMS  every history is a path of the model\n"),
    }
    out
}

/// The JSON report (schema in the README).
fn report_json(ran: &Ran, seconds: f64, code: i32) -> Value {
    let (model, scenario, report) = (ran.model, ran.scenario, ran.report);
    let status = match (&report.divergence, &report.incomplete) {
        (Some(_), _) => "not-conforming",
        (None, Some(_)) => "incomplete",
        (None, None) => "conforms",
    };
    json!({
        "version": REPORT_VERSION,
        "command": "conform",
        "protocol": model.protocol().name(),
        "database": ran.database,
        "sizes": sizes_json(model.sizes().as_array()),
        "workload": scenario.to_string(),
        "status": status,
        "histories": report.histories,
        "workload_histories": ran.workload_histories,
        "generated_histories": ran.generated_histories(),
        "generated": ran.generated(),
        "steps": report.steps,
        "violations": report.violations,
        "divergence": report.divergence.as_deref().map(divergence_json),
        "incomplete": report.incomplete,
        "seconds": seconds,
        "exit_code": code,
    })
}

/// The first step the model cannot take, as data.
fn divergence_json(divergence: &Divergence) -> Value {
    json!({
        "origin": divergence.origin,
        "step": divergence.index + 1,
        "history": divergence.history.iter().map(StepRecord::of).collect::<Vec<_>>(),
        "allowed": divergence
            .allowed
            .iter()
            .map(|(action, step)| json!({ "action": action, "step": StepRecord::of(step) }))
            .collect::<Vec<_>>(),
    })
}

/// The whole conformance run of one protocol.
struct Conform {
    protocol: Protocol,
    /// The model the workload's histories are matched against.
    model: ProtocolModel,
    scenario: Scenario,
    iterations: u64,
    seed: u64,
    timeout: Option<Duration>,
    /// The bytes the candidate model states of one history may take.
    memory: Option<u64>,
}

/// The most runs on real threads, whatever `--iterations` says.
const MAX_RUNS_ON_THREADS: u64 = 2000;

/// What a run validated: the report, and how many of its histories are of the workload (the
/// others are of generated workloads).
struct Validated {
    report: ConformanceReport,
    workload_histories: u64,
}

impl Conform {
    /// The run, stopped when `stop` is set, counting its executions in `executions`.
    fn with(self, stop: Arc<AtomicBool>, executions: Executions) -> Run {
        Run {
            deadline: self.timeout.map(|timeout| Instant::now() + timeout),
            conform: self,
            stop,
            executions,
        }
    }
}

/// A conformance run under way: every phase is stopped by the same flag and the same deadline.
struct Run {
    conform: Conform,
    stop: Arc<AtomicBool>,
    deadline: Option<Instant>,
    executions: Executions,
}

impl Run {
    /// The limits of a phase starting now: the time left until the deadline, the flag, and the
    /// memory budget.
    fn limits(&self) -> Limits {
        let mut limits = Limits::default().stop(self.stop.clone());
        limits.timeout = self
            .deadline
            .map(|deadline| deadline.saturating_duration_since(Instant::now()));
        limits.memory = self.conform.memory;
        limits
    }

    /// Whether the run ends before `next`, its next phase: at a divergence, at the first part it
    /// could not validate (the later phases would not make it complete), or at the flag or the
    /// deadline, which `report` then names (unless the phase cut short already did).
    fn over(&self, report: &mut ConformanceReport, next: &str) -> bool {
        if report.divergence.is_some() || report.incomplete.is_some() {
            return true;
        }
        let why = if self.stop.load(Ordering::Relaxed) {
            "stop request"
        } else if self
            .deadline
            .is_some_and(|deadline| Instant::now() >= deadline)
        {
            "timeout"
        } else {
            return false;
        };
        report
            .incomplete
            .get_or_insert_with(|| format!("stopped by the {why} before {next}"));
        true
    }
}

impl WithBuiltin for Run {
    type Output = Validated;

    fn run<S: Service>(self, builtin: Builtin<S>) -> Validated {
        let service = Counted::new(builtin.service, &self.executions);
        let mut report = ConformanceReport::default();
        let workload_histories = self.workload(service.clone(), &mut report);
        if !self.over(&mut report, "the generated workloads") {
            let sizes = self.conform.model.sizes();
            let defaults = ProptestOptions::default();
            let shuttle = defaults.shuttle.clone().limits(self.limits());
            let workloads = defaults
                .seed(self.conform.seed)
                .max_servers(sizes.servers)
                .max_requests(sizes.requests)
                .users(sizes.users)
                .teams(sizes.teams)
                .limits(self.limits())
                .shuttle(shuttle);
            let protocol = self.conform.protocol;
            report.merge(conform::workloads(service, protocol, &workloads));
        }
        Validated {
            report,
            workload_histories,
        }
    }
}

impl Run {
    /// Matches the workload's histories under random and PCT schedules and on real threads into
    /// `report`; returns how many histories that was.
    fn workload<S: Service>(&self, service: Counted<S>, report: &mut ConformanceReport) -> u64 {
        let conform = &self.conform;
        let (scenario, model) = (&conform.scenario, conform.model);
        let phases = [
            (Strategy::Random, "the PCT schedules"),
            (Strategy::Pct { depth: 3 }, "the runs on real threads"),
        ];
        for (strategy, next) in phases {
            let options = ShuttleOptions::default()
                .strategy(strategy)
                .seed(conform.seed)
                .iterations(conform.iterations)
                .limits(self.limits());
            report.merge(conform::shuttle(service.clone(), model, scenario, &options));
            if self.over(report, next) {
                return report.histories;
            }
        }
        let runs = conform.iterations.min(MAX_RUNS_ON_THREADS);
        report.merge(conform::stress(
            &service,
            &model,
            scenario,
            runs,
            &self.limits(),
        ));
        report.histories
    }
}
