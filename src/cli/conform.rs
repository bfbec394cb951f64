//! `joincheck conform`: does the real implementation only do what its model allows?
//!
//! Histories of the real service, under shuttle's random and PCT schedules, generated workloads
//! and real threads, are matched step by step against the protocol's model, in a supervised
//! thread: progress on stderr, and a signal or `--timeout` ends it with what was validated.

use super::output::{self, count, thousands, ReportFormat, REPORT_VERSION};
use super::protocol_arg::OneProtocol;
use super::sizes::{scenario, scenario_with_leaves, sizes_json, SizeArgs};
use super::supervise::{self, supervise};
use super::{interrupt, timeout};
use super::{EXIT_INCONCLUSIVE, EXIT_OK, EXIT_UNEXPECTED};
use clap::Args;
use joincheck::check::conform::{self, builtin_model, ConformanceReport, Divergence};
use joincheck::check::proptest::ProptestOptions;
use joincheck::check::shuttle::{ShuttleOptions, Strategy};
use joincheck::check::{Limits, Scenario};
use joincheck::protocols::{with_builtin, Builtin, Service, WithBuiltin};
use joincheck::trace::file::StepRecord;
use joincheck_models::{Protocol, ProtocolModel};
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

Stopping: Ctrl-C, SIGTERM, SIGHUP or --timeout stops the run; the report keeps what was
validated so far (exit 3).

Exit status: 0 every history is a path of the model; 1 a step the model cannot take; 2 bad
usage; 3 incomplete (stopped early, or a run could not be validated).")]
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
          value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    iterations: u64,
    /// Seed of the schedules and of the generated workloads. Example: --seed 7
    #[arg(long, value_name = "X", default_value_t = 42)]
    seed: u64,
    /// Stop after SECS seconds (at most 1,000,000,000); the run is then incomplete, with what
    /// was validated so far. Example: --timeout 60
    #[arg(long, value_name = "SECS", value_parser = timeout::seconds, allow_negative_numbers = true)]
    timeout: Option<Duration>,
    /// Output: text, or json (one document at the end, see the README). Example: --format json
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    format: ReportFormat,
    /// Race leaves with the joins: every second request of a server leaves the team the one
    /// before joined (at least 2 requests), matched against the model with leaves. The generated
    /// workloads stay joins. Example: --leaves
    #[arg(long)]
    leaves: bool,
}

/// Runs the trace validation: 0 when every history is a path of the model, 1 at the first one
/// that is not, 3 when part of the run could not be validated.
pub fn run(args: &ConformArgs) -> Result<i32, String> {
    let protocol = args.protocol.0;
    let sizes = args.sizes.sizes()?;
    if sizes.servers < 2 {
        return Err("conform needs at least 2 servers: one server has nothing to race".into());
    }
    // The models are sized from the workload; refuse one they cannot follow before starting.
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
    supervise::prepare();
    let work = Conform {
        protocol,
        model,
        scenario: scenario.clone(),
        iterations: args.iterations,
        seed: args.seed,
        timeout: args.timeout,
    };
    let what = format!("conform · {protocol}");
    let started = Instant::now();
    let mut report = supervise(&what, None, move |stop| {
        with_builtin(protocol, work.with(stop))
    })
    .unwrap_or_else(|unfinished| ConformanceReport {
        incomplete: Some(format!(
            "{} after {:.1} s",
            unfinished.why, unfinished.seconds
        )),
        ..ConformanceReport::default()
    });
    let seconds = started.elapsed().as_secs_f64();
    if report.divergence.is_some() {
        // A divergence decides; whatever stopped the run afterwards does not matter.
        report.incomplete = None;
    }
    report.incomplete = report.incomplete.map(|why| interrupt::explain(&why));
    let code = match (&report.divergence, &report.incomplete) {
        (Some(_), _) => EXIT_UNEXPECTED,
        (None, Some(_)) => EXIT_INCONCLUSIVE,
        (None, None) => EXIT_OK,
    };
    match args.format {
        ReportFormat::Text => output::emit(&text(&model, &scenario, &report)),
        ReportFormat::Json => {
            let document = report_json(&model, &scenario, &report, seconds, code);
            output::emit(&format!("{document:#}\n"));
        }
    }
    Ok(code)
}

/// The report for a terminal.
fn text(model: &ProtocolModel, scenario: &Scenario, report: &ConformanceReport) -> String {
    let protocol = model.protocol().name();
    let with = if model.leaves() { " with leaves" } else { "" };
    let mut out = format!(
        "{protocol} · conformance · {scenario}\nvalidated {}, {}, against the {protocol} \
         model{with} ({} of them broke the invariant)\n",
        count(report.histories, "history"),
        count(report.steps, "step"),
        thousands(report.violations)
    );
    match (&report.divergence, &report.incomplete) {
        (Some(divergence), _) => out.push_str(&divergence.to_string()),
        (None, Some(why)) => out.push_str(&format!("INCOMPLETE  {why}\n")),
        (None, None) => out.push_str("CONFORMS  every history is a path of the model\n"),
    }
    out
}

/// The JSON report (schema in the README).
fn report_json(
    model: &ProtocolModel,
    scenario: &Scenario,
    report: &ConformanceReport,
    seconds: f64,
    code: i32,
) -> Value {
    let status = match (&report.divergence, &report.incomplete) {
        (Some(_), _) => "not-conforming",
        (None, Some(_)) => "incomplete",
        (None, None) => "conforms",
    };
    json!({
        "version": REPORT_VERSION,
        "command": "conform",
        "protocol": model.protocol().name(),
        "sizes": sizes_json(model.sizes()),
        "workload": scenario.to_string(),
        "status": status,
        "histories": report.histories,
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
}

impl Conform {
    /// The run, stopped when `stop` is set.
    fn with(self, stop: Arc<AtomicBool>) -> Run {
        Run {
            deadline: self.timeout.map(|timeout| Instant::now() + timeout),
            conform: self,
            stop,
        }
    }
}

/// A conformance run under way: every phase is stopped by the same flag and the same deadline.
struct Run {
    conform: Conform,
    stop: Arc<AtomicBool>,
    deadline: Option<Instant>,
}

impl Run {
    /// The limits of a phase starting now: the time left until the deadline, and the flag.
    fn limits(&self) -> Limits {
        let mut limits = Limits::default().stop(self.stop.clone());
        limits.timeout = self
            .deadline
            .map(|deadline| deadline.saturating_duration_since(Instant::now()));
        limits
    }

    /// Whether the flag or the deadline ends the run before `next`, its next phase; if so,
    /// `report` says so (unless the phase that was cut short already did).
    fn over(&self, report: &mut ConformanceReport, next: &str) -> bool {
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
    type Output = ConformanceReport;

    fn run<S: Service>(self, builtin: Builtin<S>) -> ConformanceReport {
        let (service, conform) = (builtin.service, &self.conform);
        let (scenario, model) = (&conform.scenario, conform.model);
        let mut report = ConformanceReport::default();
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
            report.merge(conform::shuttle(service, model, scenario, &options));
            if report.divergence.is_some() || self.over(&mut report, next) {
                return report;
            }
        }
        let runs = conform.iterations.min(2000);
        let on_threads = conform::stress(&service, &model, scenario, runs, &self.limits());
        report.merge(on_threads);
        if report.divergence.is_some() || self.over(&mut report, "the generated workloads") {
            return report;
        }
        let defaults = ProptestOptions::default();
        let shuttle = defaults.shuttle.clone().limits(self.limits());
        let workloads = defaults
            .seed(conform.seed)
            .limits(self.limits())
            .shuttle(shuttle);
        report.merge(conform::workloads(service, conform.protocol, &workloads));
        report
    }
}
