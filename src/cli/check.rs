//! `joincheck check`: protocols × engines, a verdict table, then every counterexample.

use super::interrupt;
use super::output::{thousands, ColorChoice, Style, Ticker};
use super::replay;
use super::services::{parse_protocol, with_service, Builtin, WithService};
use super::sizes::{self, SizeArgs};
use super::{EXIT_INCONCLUSIVE, EXIT_OK, EXIT_UNEXPECTED};
use clap::{Args, ValueEnum};
use joincheck::check::loom::{self as loom_engine, LoomOptions};
use joincheck::check::proptest::{self as proptest_engine, ProptestOptions};
use joincheck::check::shuttle::{self as shuttle_engine, ShuttleOptions, Strategy};
use joincheck::check::Limits;
use joincheck::check::{Scenario, ScenarioError};
use joincheck::trace;
use joincheck_models::verdict::{Engine, Stats, Verdict};
use joincheck_models::{CheckOptions, Progress, Protocol, ProtocolModel, Sizes};
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::Duration;

/// Which engines to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum EngineArg {
    /// Exhaustive model check of the protocol's state machine (every choice of user and team).
    Model,
    /// loom: every interleaving of the real code on one workload (at most 4 servers).
    Loom,
    /// shuttle: PCT schedules of the real code on one workload (evidence, not proof).
    Shuttle,
    /// proptest: generated workloads, each under shuttle, shrunk on failure (evidence).
    Proptest,
    /// All of the above.
    All,
}

/// How to print the results.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A verdict table, then each counterexample as a numbered trace.
    Text,
    /// One JSON document (schema version 1, see the README).
    Json,
    /// Markdown: the verdict table and each counterexample as a Mermaid sequence diagram.
    Mermaid,
}

/// What a verdict should be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Expect {
    /// The invariant holds.
    Holds,
    /// The invariant is violated.
    Violated,
}

impl Expect {
    fn name(self) -> &'static str {
        match self {
            Expect::Holds => "holds",
            Expect::Violated => "violated",
        }
    }
}

/// Arguments of `joincheck check`.
#[derive(Args, Debug)]
#[command(after_help = "\
Examples:
  joincheck check
  joincheck check --protocol naive --engine model --format json
  joincheck check --protocol event-sourced --engine model --servers 3 --users 3 --teams 3 --requests 2 --symmetry
  joincheck check --engine shuttle --servers 4 --users 2 --iterations 10000 --seed 7
  joincheck check --protocol naive --expect holds          # exits 1: the CI gate
  joincheck check --out counterexamples                    # then: joincheck replay counterexamples/naive-model.json

Exit status: 0 every verdict as expected (naive: violated, others: holds, unless --expect),
1 a verdict differs, 2 bad usage or input, 3 inconclusive (limit, --timeout or Ctrl-C).")]
pub struct CheckArgs {
    /// The protocol to check: naive, event-sourced, event-sourced-per-user, or all.
    /// Example: --protocol event-sourced
    #[arg(long, value_name = "NAME", default_value = "all", value_parser = protocol_arg)]
    protocol: ProtocolArg,
    /// The engine: model, loom, shuttle, proptest, or all. Example: --engine model
    #[arg(long, value_enum, default_value_t = EngineArg::All)]
    engine: EngineArg,
    #[command(flatten)]
    sizes: SizeArgs,
    /// Model: store one state per class of states equal up to renaming servers, users and teams.
    /// Same verdict, far fewer states. Example: --symmetry
    #[arg(long)]
    symmetry: bool,
    /// Model: worker threads [default: every core]. Example: --threads 2
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    threads: Option<u16>,
    /// shuttle and proptest: the seed of the first schedule / workload. Example: --seed 7
    #[arg(long, value_name = "X", default_value_t = 42)]
    seed: u64,
    /// shuttle: how many PCT schedules to try. Example: --iterations 10000
    #[arg(long, value_name = "K", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000_000))]
    iterations: u64,
    /// proptest: how many workloads to generate (each tried under 50 shuttle schedules).
    /// Example: --cases 256
    #[arg(long, value_name = "K", default_value_t = 64,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    cases: u32,
    /// loom: explore only interleavings with at most B preemptions (a smaller, stated scope).
    /// Example: --preemption-bound 2
    #[arg(long, value_name = "B", value_parser = clap::value_parser!(u8).range(0..=100))]
    preemption_bound: Option<u8>,
    /// Model: stop, inconclusive, after M distinct states. Example: --max-states 1000000
    #[arg(long, value_name = "M", value_parser = clap::value_parser!(u64).range(1..))]
    max_states: Option<u64>,
    /// Stop each engine's run after SECS seconds; it is then inconclusive, with the statistics
    /// so far. Example: --timeout 60
    #[arg(long, value_name = "SECS", value_parser = seconds_arg, allow_negative_numbers = true)]
    timeout: Option<Duration>,
    /// Output: text (table and traces), json (for tools) or mermaid (Markdown with diagrams).
    /// Example: --format json
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Write every counterexample to DIR as PROTOCOL-ENGINE.json (with what replays it) and
    /// PROTOCOL-ENGINE.txt. Example: --out counterexamples
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// The verdict every check must reach [default: violated for naive on 2 or more servers,
    /// holds otherwise].
    /// Example: --expect holds
    #[arg(long, value_enum)]
    expect: Option<Expect>,
    /// Colour the text output: auto (a terminal and NO_COLOR unset), always or never.
    /// Example: --color never
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
}

/// `--protocol`: one protocol, or every one.
#[derive(Clone, Copy, Debug)]
struct ProtocolArg(Option<Protocol>);

fn protocol_arg(text: &str) -> Result<ProtocolArg, String> {
    if text == "all" {
        return Ok(ProtocolArg(None));
    }
    parse_protocol(text).map(|protocol| ProtocolArg(Some(protocol)))
}

fn seconds_arg(text: &str) -> Result<Duration, String> {
    let seconds: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    if !seconds.is_finite() || seconds <= 0.0 || seconds > 1e9 {
        return Err(format!("{text} seconds: the timeout must be positive"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// Everything a run needs, shared by all runs of one command.
#[derive(Clone, Debug)]
struct Settings {
    sizes: Sizes,
    scenario: Scenario,
    symmetry: bool,
    threads: usize,
    seed: u64,
    iterations: u64,
    cases: u32,
    preemption_bound: Option<usize>,
    max_states: Option<u64>,
    timeout: Option<Duration>,
}

/// One check's result, with what it was expected to be.
struct Outcome {
    protocol: Protocol,
    expected: Expect,
    parameters: String,
    verdict: Verdict,
    replay_file: Option<PathBuf>,
}

/// How a verdict compares with its expectation.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Status {
    AsExpected,
    Unexpected,
    Inconclusive,
}

impl Status {
    fn name(self) -> &'static str {
        match self {
            Status::AsExpected => "as-expected",
            Status::Unexpected => "unexpected",
            Status::Inconclusive => "inconclusive",
        }
    }
}

impl Outcome {
    fn status(&self) -> Status {
        match (&self.verdict, self.expected) {
            (Verdict::Inconclusive { .. }, _) => Status::Inconclusive,
            (Verdict::Holds { .. }, Expect::Holds) => Status::AsExpected,
            (Verdict::Violated { .. }, Expect::Violated) => Status::AsExpected,
            _ => Status::Unexpected,
        }
    }

    fn engine(&self) -> Engine {
        self.verdict.engine()
    }

    /// `naive-model`: the name of its counterexample files.
    fn file_stem(&self) -> String {
        format!("{}-{}", self.protocol.name(), self.engine().name())
    }

    /// The line under the table: what exactly was covered, or why it stopped.
    fn scope_line(&self) -> String {
        match &self.verdict {
            Verdict::Holds { scope, .. } => format!("holds — {scope}"),
            Verdict::Violated { counterexample, .. } => {
                let shortest = if counterexample.engine == Engine::Model {
                    "shortest counterexample"
                } else {
                    "counterexample"
                };
                format!(
                    "violated — {shortest} of {} steps below",
                    counterexample.steps.len()
                )
            }
            Verdict::Inconclusive { reason, .. } => format!("inconclusive — {reason}"),
        }
    }

    fn replay_hint(&self) -> String {
        match &self.replay_file {
            Some(file) => format!("joincheck replay {}", file.display()),
            None => format!(
                "add --out DIR to save it, then joincheck replay DIR/{}.json",
                self.file_stem()
            ),
        }
    }
}

/// A run that was not made, and why.
struct Skipped {
    engine: Engine,
    reason: String,
}

/// Runs `joincheck check`.
pub fn run(args: &CheckArgs) -> Result<i32, String> {
    let sizes = args.sizes.sizes()?;
    let scenario = sizes::scenario(sizes)?;
    if let Some(out) = &args.out {
        prepare_out(out)?;
    }
    let protocols: Vec<Protocol> = match args.protocol.0 {
        Some(protocol) => vec![protocol],
        None => Protocol::ALL.to_vec(),
    };
    let mut engines = match args.engine {
        EngineArg::Model => vec![Engine::Model],
        EngineArg::Loom => vec![Engine::Loom],
        EngineArg::Shuttle => vec![Engine::Shuttle],
        EngineArg::Proptest => vec![Engine::Proptest],
        EngineArg::All => vec![
            Engine::Model,
            Engine::Loom,
            Engine::Shuttle,
            Engine::Proptest,
        ],
    };
    if engines.contains(&Engine::Model) {
        for protocol in &protocols {
            let model = ProtocolModel::new(*protocol, sizes);
            model.checkable().map_err(|error| error.to_string())?;
        }
    }
    let mut skipped = Vec::new();
    if engines.contains(&Engine::Loom) {
        if let Err(error) = scenario.at_most_servers(loom_engine::MAX_SERVERS, "loom") {
            if args.engine == EngineArg::Loom {
                return Err(error.to_string());
            }
            engines.retain(|engine| *engine != Engine::Loom);
            skipped.push(Skipped {
                engine: Engine::Loom,
                reason: error.to_string(),
            });
        }
    }
    if engines.contains(&Engine::Proptest) && sizes.servers < 2 {
        let reason = "it generates workloads of at least 2 servers".to_string();
        if args.engine == EngineArg::Proptest {
            return Err(format!("proptest cannot check 1 server: {reason}"));
        }
        engines.retain(|engine| *engine != Engine::Proptest);
        skipped.push(Skipped {
            engine: Engine::Proptest,
            reason,
        });
    }
    let settings = Settings {
        sizes,
        scenario,
        symmetry: args.symmetry,
        threads: args.threads.map(usize::from).unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
        }),
        seed: args.seed,
        iterations: args.iterations,
        cases: args.cases,
        preemption_bound: args.preemption_bound.map(usize::from),
        max_states: args.max_states,
        timeout: args.timeout,
    };
    interrupt::install();
    quiet_engine_panics();
    let mut outcomes = Vec::new();
    let mut unwritten = false;
    for protocol in &protocols {
        for engine in &engines {
            // Check-then-act is correct on one server and broken on two or more.
            let expected = args.expect.unwrap_or(match protocol {
                Protocol::Naive if sizes.servers >= 2 => Expect::Violated,
                _ => Expect::Holds,
            });
            let mut outcome = Outcome {
                protocol: *protocol,
                expected,
                parameters: parameters(*engine, &settings),
                verdict: run_one(*protocol, *engine, &settings),
                replay_file: None,
            };
            if let (Some(out), Some(found)) = (&args.out, outcome.verdict.counterexample()) {
                let stem = outcome.file_stem();
                let json_path = out.join(format!("{stem}.json"));
                let hint = format!("joincheck replay {}", json_path.display());
                let document = replay::document(found, sizes, settings.preemption_bound);
                let saved = save(&json_path, &format!("{document:#}\n")).and_then(|()| {
                    save(
                        &out.join(format!("{stem}.txt")),
                        &trace::text(found, Some(&hint)),
                    )
                });
                // A file that cannot be written must not cost the counterexample: it is still
                // printed below, and the run ends with exit 2 after the report.
                match saved {
                    Ok(()) => outcome.replay_file = Some(json_path),
                    Err(message) => {
                        eprintln!("joincheck: {message}; the counterexample is in the report");
                        unwritten = true;
                    }
                }
            }
            outcomes.push(outcome);
        }
    }
    let code = if unwritten {
        super::EXIT_USAGE
    } else {
        exit_code(&outcomes)
    };
    let markdown = markdown(sizes, &outcomes, &skipped);
    let report = match args.format {
        Format::Text => text(
            sizes,
            &settings.scenario,
            &outcomes,
            &skipped,
            Style::for_stdout(args.color),
        ),
        Format::Json => format!(
            "{:#}\n",
            json_document(sizes, &settings.scenario, &outcomes, &skipped, code)
        ),
        Format::Mermaid => markdown.clone(),
    };
    super::output::emit(&report);
    append_step_summary(&markdown);
    Ok(code)
}

/// 1 when a verdict differs from its expectation, else 3 when one is inconclusive, else 0.
fn exit_code(outcomes: &[Outcome]) -> i32 {
    let statuses: Vec<Status> = outcomes.iter().map(Outcome::status).collect();
    if statuses.contains(&Status::Unexpected) {
        EXIT_UNEXPECTED
    } else if statuses.contains(&Status::Inconclusive) {
        EXIT_INCONCLUSIVE
    } else {
        EXIT_OK
    }
}

/// What an engine checks at these settings, in words.
fn parameters(engine: Engine, settings: &Settings) -> String {
    match engine {
        Engine::Model => settings.sizes.to_string(),
        Engine::Proptest => generated_workloads(settings.sizes),
        _ => settings.scenario.to_string(),
    }
}

/// "generated workloads of up to 2 servers × 1 request each over 1 user and 2 teams".
fn generated_workloads(sizes: Sizes) -> String {
    let count = joincheck_models::plural;
    format!(
        "generated workloads of up to {} × {} each over {} and {}",
        count(sizes.servers, "server"),
        count(sizes.requests, "request"),
        count(sizes.users, "user"),
        count(sizes.teams, "team")
    )
}

/// Creates `--out` and makes sure a file can be written there, before any check runs.
fn prepare_out(out: &Path) -> Result<(), String> {
    let cannot =
        |error: std::io::Error| format!("cannot write to --out {}: {error}", out.display());
    std::fs::create_dir_all(out).map_err(cannot)?;
    let probe = out.join(".joincheck-write-test");
    std::fs::write(&probe, b"").map_err(cannot)?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

fn save(path: &Path, contents: &str) -> Result<(), String> {
    std::fs::write(path, contents)
        .map_err(|error| format!("cannot write {}: {error}", path.display()))
}

/// Appends the Markdown report to the GitHub job summary, when running in GitHub Actions.
fn append_step_summary(markdown: &str) {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|path| !path.is_empty()) else {
        return;
    };
    let appended = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut file| file.write_all(format!("{markdown}\n").as_bytes()));
    if let Err(error) = appended {
        let path = PathBuf::from(path);
        eprintln!(
            "joincheck: could not append to GITHUB_STEP_SUMMARY ({}): {error}",
            path.display()
        );
    }
}

/// The name prefix of the threads engines run in.
const ENGINE_THREAD: &str = "joincheck engine: ";

/// Keeps panic messages of engine threads off stderr: an engine turns a panic of the code it
/// checks into an inconclusive verdict that carries the panic's message, and the harness records
/// failing schedules itself. Without this, shuttle's hook prints a "task failed" block and a
/// backtrace for every panic an engine catches (a panicking implementation, say).
///
/// shuttle installs its hook once, wrapping whatever hook is current, at its first execution; so
/// one empty execution first, then this hook around shuttle's, which other threads still reach.
fn quiet_engine_panics() {
    let scheduler = shuttle::scheduler::RandomScheduler::new(1);
    shuttle::Runner::new(scheduler, shuttle_engine::config()).run(|| {});
    let outer = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let current = std::thread::current();
        if !current
            .name()
            .is_some_and(|name| name.starts_with(ENGINE_THREAD))
        {
            outer(info);
        }
    }));
}

/// Runs one engine on one protocol in a worker thread, showing progress and honouring Ctrl-C.
fn run_one(protocol: Protocol, engine: Engine, settings: &Settings) -> Verdict {
    let what = format!("{engine} · {protocol}");
    if interrupt::interrupted() {
        return Verdict::Inconclusive {
            engine,
            reason: "not run: interrupted by Ctrl-C".to_string(),
            stats: Stats::default(),
        };
    }
    let stop = Arc::new(AtomicBool::new(false));
    let progress = Arc::new(Progress::new());
    let (sender, receiver) = mpsc::channel();
    let job = Job {
        protocol,
        engine,
        settings: settings.clone(),
        stop: stop.clone(),
        progress: progress.clone(),
    };
    let spawned = std::thread::Builder::new()
        .name(format!("{ENGINE_THREAD}{what}"))
        .spawn(move || {
            let _ = sender.send(job.execute());
        });
    let mut ticker = Ticker::start();
    let stopped_early = |ticker: &Ticker, why: &str| Verdict::Inconclusive {
        engine,
        reason: format!(
            "{why} after {:.1} s; the run did not finish, nothing is proved",
            ticker.elapsed().as_secs_f64()
        ),
        stats: Stats {
            seconds: ticker.elapsed().as_secs_f64(),
            ..Stats::default()
        },
    };
    if spawned.is_err() {
        return stopped_early(&ticker, "could not start a thread");
    }
    let model_progress = (engine == Engine::Model).then_some(&*progress);
    let verdict = loop {
        match receiver.recv_timeout(Duration::from_millis(100)) {
            Ok(verdict) => break verdict,
            Err(RecvTimeoutError::Timeout) => {
                if interrupt::interrupted() {
                    // Every engine stops at the flag (the model checker at once, the others
                    // before their next execution) and reports how far it got.
                    stop.store(true, Ordering::Relaxed);
                }
                ticker.tick(&what, model_progress);
            }
            Err(RecvTimeoutError::Disconnected) => {
                break stopped_early(&ticker, "the engine panicked")
            }
        }
    };
    ticker.finish();
    verdict
}

/// One engine on one protocol, as run in its worker thread.
struct Job {
    protocol: Protocol,
    engine: Engine,
    settings: Settings,
    stop: Arc<AtomicBool>,
    progress: Arc<Progress>,
}

impl Job {
    fn execute(self) -> Verdict {
        let settings = &self.settings;
        let limits = Limits {
            timeout: settings.timeout,
            stop: Some(self.stop.clone()),
        };
        match self.engine {
            Engine::Model => {
                let options = CheckOptions {
                    symmetry: settings.symmetry,
                    threads: settings.threads,
                    max_states: settings.max_states,
                    timeout: settings.timeout,
                    stop: Some(self.stop),
                    progress: Some(self.progress),
                };
                joincheck_models::check(self.protocol, settings.sizes, &options)
            }
            Engine::Loom => {
                let options = LoomOptions {
                    preemption_bound: settings.preemption_bound,
                    max_iterations: None,
                    limits,
                };
                let work = LoomWork {
                    scenario: &settings.scenario,
                    options: &options,
                };
                with_service(self.protocol, work).unwrap_or_else(|error| Verdict::Inconclusive {
                    engine: Engine::Loom,
                    reason: format!("not run: {error}"),
                    stats: Stats::default(),
                })
            }
            Engine::Shuttle => {
                let options = ShuttleOptions {
                    // PCT refuses a run without concurrency: one server gets random schedules.
                    strategy: if settings.sizes.servers >= 2 {
                        Strategy::Pct { depth: 3 }
                    } else {
                        Strategy::Random
                    },
                    seed: settings.seed,
                    iterations: settings.iterations,
                    limits,
                };
                with_service(
                    self.protocol,
                    ShuttleWork {
                        scenario: &settings.scenario,
                        options: &options,
                    },
                )
            }
            Engine::Stress => Verdict::Inconclusive {
                engine: Engine::Stress,
                reason: "not run: real threads are `joincheck stress`".to_string(),
                stats: Stats::default(),
            },
            Engine::Proptest => {
                let sizes = settings.sizes;
                let options = ProptestOptions {
                    cases: settings.cases,
                    seed: settings.seed,
                    max_servers: sizes.servers,
                    max_requests: sizes.requests,
                    users: sizes.users,
                    teams: sizes.teams,
                    shuttle: ShuttleOptions {
                        seed: settings.seed,
                        ..ProptestOptions::default().shuttle
                    },
                    limits,
                };
                with_service(self.protocol, ProptestWork { options: &options })
            }
        }
    }
}

/// loom on one scenario.
pub struct LoomWork<'a> {
    /// The workload.
    pub scenario: &'a Scenario,
    /// loom's limits.
    pub options: &'a LoomOptions,
}

impl WithService for LoomWork<'_> {
    type Output = Result<Verdict, ScenarioError>;
    fn run<S: Builtin>(self, service: S) -> Self::Output {
        loom_engine::check(service, self.scenario, self.options)
    }
}

struct ShuttleWork<'a> {
    scenario: &'a Scenario,
    options: &'a ShuttleOptions,
}

impl WithService for ShuttleWork<'_> {
    type Output = Verdict;
    fn run<S: Builtin>(self, service: S) -> Verdict {
        shuttle_engine::check(service, self.scenario, self.options)
    }
}

struct ProptestWork<'a> {
    options: &'a ProptestOptions,
}

impl WithService for ProptestWork<'_> {
    type Output = Verdict;
    fn run<S: Builtin>(self, service: S) -> Verdict {
        proptest_engine::check(service, self.options)
    }
}

/// `-` for a figure an engine does not measure.
fn figure(value: Option<u64>) -> String {
    value.map_or_else(|| "-".to_string(), thousands)
}

/// The verdict table, the scope of each verdict, every counterexample, and a summary line.
fn text(
    sizes: Sizes,
    scenario: &Scenario,
    outcomes: &[Outcome],
    skipped: &[Skipped],
    style: Style,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", style.bold(&format!("joincheck · {sizes}")));
    let ran = |engine: Engine| outcomes.iter().any(|o| o.engine() == engine);
    if ran(Engine::Model) {
        let _ = writeln!(
            out,
            "model: every choice of user and team for every request"
        );
    }
    if ran(Engine::Loom) || ran(Engine::Shuttle) {
        let _ = writeln!(out, "loom, shuttle: the workload {scenario}");
    }
    if ran(Engine::Proptest) {
        let _ = writeln!(out, "proptest: {}", generated_workloads(sizes));
    }
    let _ = writeln!(out);
    let protocol_width = outcomes
        .iter()
        .map(|o| o.protocol.name().len())
        .chain([8])
        .max()
        .unwrap_or(8);
    let _ = writeln!(
        out,
        "{:protocol_width$}  {:8}  {:12}  {:8}  {:>10}  {:>10}  {:>5}  {:>7}  {:>8}",
        "protocol",
        "engine",
        "verdict",
        "expected",
        "unique",
        "generated",
        "depth",
        "runs",
        "seconds"
    );
    for outcome in outcomes {
        let stats = outcome.verdict.stats();
        let kind = outcome.verdict.kind();
        let verdict = format!("{kind:12}");
        let verdict = match outcome.verdict {
            Verdict::Holds { .. } => style.good(&verdict),
            Verdict::Violated { .. } => style.bad(&verdict),
            Verdict::Inconclusive { .. } => style.warn(&verdict),
        };
        let status = match outcome.status() {
            Status::AsExpected => style.good("✓ as expected"),
            Status::Unexpected => style.bad("✗ UNEXPECTED"),
            Status::Inconclusive => style.warn("? inconclusive"),
        };
        let _ = writeln!(
            out,
            "{:protocol_width$}  {:8}  {verdict}  {:8}  {:>10}  {:>10}  {:>5}  {:>7}  {:>8.2}  {status}",
            outcome.protocol.name(),
            outcome.engine().name(),
            outcome.expected.name(),
            figure(stats.unique_states),
            figure(stats.generated_states),
            figure(stats.max_depth),
            figure(stats.iterations),
            stats.seconds,
        );
    }
    for skip in skipped {
        let _ = writeln!(out, "{} skipped: {}", skip.engine, skip.reason);
    }
    let _ = writeln!(out);
    for outcome in outcomes {
        let _ = writeln!(
            out,
            "{} · {}: {}",
            outcome.protocol,
            outcome.engine(),
            outcome.scope_line()
        );
    }
    for outcome in outcomes {
        if let Some(found) = outcome.verdict.counterexample() {
            let _ = writeln!(out);
            if outcome.status() == Status::AsExpected {
                let _ = writeln!(
                    out,
                    "{}",
                    style.bold(&format!(
                        "── {} · {}: a violation, as expected ──",
                        outcome.protocol,
                        outcome.engine()
                    ))
                );
            }
            out.push_str(&trace::text(found, Some(&outcome.replay_hint())));
        }
    }
    let _ = writeln!(out, "\n{}", summary(outcomes, skipped, style));
    out
}

/// One line: were all verdicts as expected?
fn summary(outcomes: &[Outcome], skipped: &[Skipped], style: Style) -> String {
    let total = outcomes.len();
    let unexpected: Vec<String> = outcomes
        .iter()
        .filter(|o| o.status() == Status::Unexpected)
        .map(|o| {
            format!(
                "{} · {} (expected {}, got {})",
                o.protocol,
                o.engine(),
                o.expected.name(),
                o.verdict.kind()
            )
        })
        .collect();
    let inconclusive = outcomes
        .iter()
        .filter(|o| o.status() == Status::Inconclusive)
        .count();
    if !unexpected.is_empty() {
        return style.bad(&format!(
            "{} of {total} verdicts differ from what was expected: {}",
            unexpected.len(),
            unexpected.join(", ")
        ));
    }
    if inconclusive > 0 {
        return style.warn(&format!(
            "{inconclusive} of {total} checks inconclusive: they stopped before covering their \
             scope, so nothing is proved there"
        ));
    }
    let naive_expected = outcomes
        .iter()
        .any(|o| o.protocol == Protocol::Naive && o.expected == Expect::Violated);
    let mut line = if total == 1 {
        "the verdict is as expected".to_string()
    } else {
        format!("all {total} verdicts as expected")
    };
    if naive_expected {
        line.push_str(" (naive is the article's broken check-then-act: its violation is expected)");
    }
    for skip in skipped {
        line.push_str(&format!("; {} not run: {}", skip.engine, skip.reason));
    }
    style.good(&line)
}

/// The report as Markdown: a table, then each counterexample as a Mermaid diagram. Printed by
/// `--format mermaid` and appended to `GITHUB_STEP_SUMMARY`.
fn markdown(sizes: Sizes, outcomes: &[Outcome], skipped: &[Skipped]) -> String {
    let mut out = format!("### joincheck · {sizes}\n\n");
    out.push_str(
        "| protocol | engine | verdict | expected | unique states | depth | runs | seconds | |\n\
         |---|---|---|---|--:|--:|--:|--:|---|\n",
    );
    for outcome in outcomes {
        let stats = outcome.verdict.stats();
        let mark = match outcome.status() {
            Status::AsExpected => "✓",
            Status::Unexpected => "✗ unexpected",
            Status::Inconclusive => "? inconclusive",
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {:.2} | {mark} |",
            outcome.protocol,
            outcome.engine(),
            outcome.verdict.kind(),
            outcome.expected.name(),
            figure(stats.unique_states),
            figure(stats.max_depth),
            figure(stats.iterations),
            stats.seconds
        );
    }
    for skip in skipped {
        let _ = writeln!(out, "\n{} skipped: {}", skip.engine, skip.reason);
    }
    for outcome in outcomes {
        if let Some(found) = outcome.verdict.counterexample() {
            let _ = write!(
                out,
                "\n#### {} · {}: {}\n\n{}\n\n```mermaid\n{}```\n",
                outcome.protocol,
                outcome.engine(),
                outcome.scope_line(),
                found.parameters,
                trace::mermaid(found)
            );
        }
    }
    out
}

/// The report as one JSON document (schema version [`trace::JSON_VERSION`]).
fn json_document(
    sizes: Sizes,
    scenario: &Scenario,
    outcomes: &[Outcome],
    skipped: &[Skipped],
    code: i32,
) -> Value {
    let count = |status: Status| outcomes.iter().filter(|o| o.status() == status).count();
    let results: Vec<Value> = outcomes
        .iter()
        .map(|outcome| {
            let mut value = trace::verdict_json(
                outcome.protocol.name(),
                &outcome.parameters,
                &outcome.verdict,
            );
            value["sizes"] = sizes_json(sizes);
            value["expected"] = json!(outcome.expected.name());
            value["status"] = json!(outcome.status().name());
            value["replay_file"] = json!(outcome
                .replay_file
                .as_ref()
                .map(|file| file.display().to_string()));
            value
        })
        .collect();
    json!({
        "version": trace::JSON_VERSION,
        "command": "check",
        "sizes": sizes_json(sizes),
        "workload": scenario.to_string(),
        "results": results,
        "skipped": skipped
            .iter()
            .map(|s| json!({ "engine": s.engine.name(), "reason": s.reason }))
            .collect::<Vec<_>>(),
        "summary": {
            "checks": outcomes.len(),
            "skipped": skipped.len(),
            "as_expected": count(Status::AsExpected),
            "unexpected": count(Status::Unexpected),
            "inconclusive": count(Status::Inconclusive),
            "exit_code": code,
        },
    })
}

fn sizes_json(sizes: Sizes) -> Value {
    json!({
        "servers": sizes.servers,
        "users": sizes.users,
        "teams": sizes.teams,
        "requests": sizes.requests,
    })
}
