//! What a `joincheck check` run needs, validated from its flags: the sizes and the workload they
//! give (or the workload file), the protocols and engines asked for, the engines' limits and how
//! to report. Building settings reads the environment (cores, memory, `NO_COLOR`, a terminal) and
//! the workload file, but changes nothing.

use super::args::{self, CheckArgs, ExpectArg, Format};
use crate::cli::database_arg;
use crate::cli::input;
use crate::cli::memory::{state_cost, Budget, Bytes, Source, PROCESS};
use crate::cli::output::count;
use crate::cli::output::Style;
use crate::cli::protocol_arg;
use crate::cli::sizes;
use joincheck::check::proptest::ProptestOptions;
use joincheck::check::Scenario;
use joincheck::protocols::{CatalogueProtocol, Expected, Storage};
use joincheck::store::sql::Dialect;
use joincheck::trace::file::Workload;
use joincheck_models::verdict::Engine;
use joincheck_models::Sizes;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A validated `joincheck check` command line.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The protocols to check, in report order.
    pub protocols: Vec<CatalogueProtocol>,
    /// Where loom, shuttle and proptest run the real code, in report order (none when only the
    /// model runs).
    pub databases: Vec<Storage>,
    /// Why a default database was left out, when one was.
    pub databases_left_out: Option<String>,
    /// The engines asked for, in the order they run.
    pub engines: Vec<Engine>,
    /// Whether `all` was among the engines: one that cannot run is then skipped, not refused.
    pub all_engines: bool,
    /// The sizes of every check.
    pub sizes: Sizes,
    /// The one workload loom and shuttle run.
    pub scenario: Scenario,
    /// The file the workload came from, when `--workload` gave it.
    pub workload_file: Option<PathBuf>,
    /// How far each engine goes.
    pub limits: EngineLimits,
    /// How to print the report.
    pub format: Format,
    /// Colour, for the text format.
    pub style: Style,
    /// Where to write counterexample files.
    pub out: Option<PathBuf>,
    /// The verdict every check must reach, when given; otherwise the registry says.
    pub expect: Option<Expected>,
}

/// The settings each engine takes from the command line.
#[derive(Clone, Debug)]
pub struct EngineLimits {
    /// Model: reduce by symmetry.
    pub symmetry: bool,
    /// Model: requests may be leaves as well as joins.
    pub leaves: bool,
    /// Model: worker threads.
    pub threads: usize,
    /// shuttle and proptest: the first seed.
    pub seed: u64,
    /// shuttle: schedules to try, when given.
    pub iterations: Option<u64>,
    /// proptest: workloads to generate, when given.
    pub cases: Option<u32>,
    /// loom: the preemption bound, if any.
    pub preemption_bound: Option<usize>,
    /// Model: the state limit `--max-states` gave, if any.
    pub max_states: Option<u64>,
    /// Model: the memory budget, where one is known.
    pub memory: Option<Budget>,
    /// Every engine: the timeout, if any.
    pub timeout: Option<Duration>,
}

impl EngineLimits {
    /// shuttle's schedules on `storage`: `--iterations`, else fewer where every statement is a
    /// round trip to a real database.
    pub fn iterations_on(&self, storage: &Storage) -> u64 {
        self.iterations.unwrap_or(match storage.dialect() {
            None => 1000,
            Some(Dialect::Sqlite) => 200,
            Some(Dialect::Postgres) => 50,
        })
    }

    /// proptest's workloads on `storage`: `--cases`, else fewer on a real database.
    pub fn cases_on(&self, storage: &Storage) -> u32 {
        self.cases.unwrap_or(match storage.dialect() {
            None => ProptestOptions::default().cases,
            Some(Dialect::Sqlite) => 32,
            Some(Dialect::Postgres) => 16,
        })
    }

    /// The random and the PCT schedules proptest tries each workload under, on `storage`.
    pub fn schedules_on(storage: &Storage) -> u64 {
        match storage.dialect() {
            None => 50,
            Some(Dialect::Sqlite) => 10,
            Some(Dialect::Postgres) => 5,
        }
    }

    /// The states the model checker may store at `sizes`, and whether the memory budget (rather
    /// than `--max-states`) is what sets that number.
    pub fn model_states(&self, sizes: Sizes) -> (Option<u64>, bool) {
        let by_memory = self
            .memory
            .map(|budget| budget.model_states(sizes, self.threads));
        match (self.max_states, by_memory) {
            (Some(given), Some(memory)) if memory < given => (Some(memory), true),
            (Some(given), _) => (Some(given), false),
            (None, memory) => (memory, memory.is_some()),
        }
    }
}

impl EngineLimits {
    /// Refuses a `--max-memory` that leaves the model checker room for no state at `sizes`: a
    /// check that cannot store its first state is not worth starting.
    pub fn budget_has_room(&self, sizes: Sizes) -> Result<(), String> {
        match self.memory {
            Some(
                budget @ Budget {
                    source: Source::Given,
                    ..
                },
            ) if budget.model_states(sizes, self.threads) == 0 => Err(format!(
                "--max-memory {} leaves the model checker no room for a state: it needs {} \
                     for itself, then {} a state at these sizes on {}",
                budget.bytes,
                Bytes(PROCESS),
                Bytes(state_cost(sizes)),
                count(self.threads as u64, "thread")
            )),
            _ => Ok(()),
        }
    }
}

impl Settings {
    /// The settings of `args`, or one line saying what is wrong.
    pub fn new(args: &CheckArgs) -> Result<Settings, String> {
        let (sizes, scenario) = match &args.workload {
            Some(file) => from_workload_file(file)?,
            None => {
                let sizes = args.sizes.sizes()?;
                (sizes, sizes::scenario(sizes)?)
            }
        };
        let (engines, all_engines) = args::engines(&args.engine);
        let real_code = engines.iter().any(|engine| *engine != Engine::Model);
        let databases = match real_code {
            true => database_arg::databases(&args.database)?,
            false => database_arg::Databases {
                storages: Vec::new(),
                left_out: None,
            },
        };
        let threads = args.threads.map(usize::from).unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
        });
        Ok(Settings {
            protocols: protocol_arg::chosen(&args.protocol),
            databases: databases.storages,
            databases_left_out: databases.left_out,
            engines,
            all_engines,
            sizes,
            scenario,
            workload_file: args.workload.clone(),
            limits: EngineLimits {
                symmetry: args.symmetry,
                leaves: args.leaves,
                threads,
                seed: args.seed,
                iterations: args.iterations,
                cases: args.cases,
                preemption_bound: args.preemption_bound.map(usize::from),
                max_states: args.max_states,
                memory: Budget::new(args.max_memory),
                timeout: args.timeout,
            },
            format: args.format,
            style: Style::for_stdout(args.color),
            out: args.out.clone(),
            expect: args.expect.map(|expect| match expect {
                ExpectArg::Holds => Expected::Holds,
                ExpectArg::Violated => Expected::Violated,
            }),
        })
    }
}

/// The workload in `file` (`-`: standard input) and the sizes it has: its servers, users and
/// teams, and the most requests a server handles.
fn from_workload_file(file: &Path) -> Result<(Sizes, Scenario), String> {
    let name = input::name(file);
    let text =
        input::read(file).map_err(|error| format!("cannot read --workload {name}: {error}"))?;
    let bad = |why: String| format!("--workload {name}: not a workload: {why}");
    let workload = Workload::from_json(&text).map_err(|error| bad(error.to_string()))?;
    let scenario = workload
        .scenario()
        .map_err(|error| bad(error.to_string()))?;
    let servers = scenario.servers();
    let most_requests = servers.iter().map(Vec::len).max().unwrap_or(0);
    let narrow = |count: usize| u8::try_from(count).unwrap_or(u8::MAX);
    let sizes = Sizes::new(
        narrow(servers.len()),
        scenario.users(),
        scenario.teams(),
        narrow(most_requests),
    )
    .map_err(|error| bad(format!("its sizes: {error}")))?;
    Ok((sizes, scenario))
}
