//! The flags of `joincheck check` as clap parses them: each value checked on its own, nothing
//! combined and nothing done. [`super::settings`] turns them into what a run needs.

use crate::cli::memory::Bytes;
use crate::cli::output::ColorChoice;
use crate::cli::protocol_arg::{self, ProtocolArg};
use crate::cli::sizes::SizeArgs;
use crate::cli::timeout;
use crate::cli::values::{whole, ListItem};
use clap::builder::PossibleValue;
use clap::{Args, ValueEnum};
use joincheck::check::loom::MAX_LOOM_SERVERS;
use joincheck::store::sql::Dialect;
use joincheck_models::verdict::Engine;
use std::path::PathBuf;
use std::time::Duration;

/// A value of `--engine`: one of the engines `check` runs, or all of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EngineArg {
    /// This engine only.
    One(Engine),
    /// Every engine `check` runs, in this order.
    All,
}

impl ValueEnum for EngineArg {
    /// The engines `check` runs, in the order it runs them; `all` last.
    fn value_variants<'a>() -> &'a [Self] {
        use Engine::{Dpor, Loom, Model, Proptest, Shuttle};
        use EngineArg::{All, One};
        &[
            One(Model),
            One(Loom),
            One(Dpor),
            One(Shuttle),
            One(Proptest),
            All,
        ]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        let help = match self {
            EngineArg::One(Engine::Model) => "Exhaustive model check of the protocol's state \
                machine (every choice of user and team)"
                .to_string(),
            EngineArg::One(Engine::Loom) => format!(
                "loom: every interleaving of the real code on one workload (at most \
                 {MAX_LOOM_SERVERS} servers)"
            ),
            EngineArg::One(Engine::Dpor) => "dpor: every interleaving of the real code on one \
                workload, one per class of interleavings that differ only in the order of \
                operations that commute"
                .to_string(),
            EngineArg::One(Engine::Shuttle) => "shuttle: PCT schedules of the real code on one \
                workload (evidence, not proof)"
                .to_string(),
            EngineArg::One(Engine::Proptest) => "proptest: generated workloads, each under \
                shuttle, shrunk on failure (evidence)"
                .to_string(),
            EngineArg::One(Engine::Stress) => return None,
            EngineArg::All => format!(
                "All of the above (dpor only where loom runs: at most {MAX_LOOM_SERVERS} servers)"
            ),
        };
        let name = match self {
            EngineArg::One(engine) => engine.name(),
            EngineArg::All => "all",
        };
        Some(PossibleValue::new(name).help(help))
    }
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

/// `--expect`: the verdict every check must reach.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExpectArg {
    /// The invariant holds.
    Holds,
    /// The invariant is violated.
    Violated,
}

/// Arguments of `joincheck check`.
#[derive(Args, Debug)]
#[command(
    after_help = AFTER_HELP,
    mut_arg("servers", |arg| arg.help(format!(
        "Servers running the protocol at the same time (1 to 8; loom takes at most \
         {MAX_LOOM_SERVERS}). Example: --servers 3"
    ))),
    mut_arg("expect", |arg| arg.help(format!(
        "The verdict every check must reach [default: violated for the protocols known to break \
         ({}) with 2 or more servers and 2 or more teams, holds otherwise, and on PostgreSQL for \
         {} too; on a --workload, loom and shuttle expect holds, so that a workload that breaks \
         a protocol is reported]. Example: --expect holds",
        protocol_arg::known_broken(None),
        protocol_arg::known_broken(Some(Dialect::Postgres))
    ))),
)]
pub struct CheckArgs {
    /// The protocols to check, separated by commas, or all [default: all].
    /// Example: --protocol naive,event-sourced
    #[arg(
        long,
        value_name = "NAMES",
        value_parser = ListItem::<ProtocolArg>::new(),
        value_delimiter = ',',
        default_value = "all",
        hide_default_value = true
    )]
    pub protocol: Vec<ProtocolArg>,
    /// The engines, separated by commas, or all [default: all]. Example: --engine model,loom
    #[arg(
        long,
        value_name = "NAMES",
        value_parser = ListItem::<EngineArg>::new(),
        value_delimiter = ',',
        default_value = "all",
        hide_default_value = true
    )]
    pub engine: Vec<EngineArg>,
    /// loom, shuttle and proptest: where the real code runs, separated by commas: memory (the
    /// in-memory stores), sqlite (a fresh file per execution in a temporary directory),
    /// sqlite:DIR (fresh files in DIR), postgres (the server DATABASE_URL names) or a
    /// postgres://user@host:port/database URL (a fresh schema per execution, dropped after it)
    /// [default: memory,sqlite, and postgres when DATABASE_URL is set]. The model is the same
    /// on every database and runs once. Example: --database sqlite,postgres://root@127.0.0.1/test
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    pub database: Vec<String>,
    #[command(flatten)]
    pub sizes: SizeArgs,
    /// loom and shuttle: run this workload instead of the one the sizes give: a JSON file (`-`:
    /// standard input) shaped like the `scenario` of a counterexample file (users, teams, each
    /// server's requests, the initial memberships). Users are named sue, john, mary, omar, lena,
    /// raj, ines, kofi, then user-9, …, and teams team-A, team-B, …, in order: "users": 2
    /// declares sue and john. The sizes are then the workload's; the model checks them when the
    /// workload starts from an empty database (and has leaves only with --leaves), and proptest,
    /// which generates its own workloads, is not run. Example: --workload race.json
    #[arg(long, value_name = "FILE",
          conflicts_with_all = ["servers", "users", "teams", "requests"])]
    pub workload: Option<PathBuf>,
    /// Model: store one state per class of states equal up to renaming servers, users and teams.
    /// Same verdict, far fewer states. Example: --symmetry
    #[arg(long)]
    pub symmetry: bool,
    /// Model: let each request be a join or a leave (of any user from any team), a leave made of
    /// the operations the real service performs, not only a join. More states; with event
    /// sourcing, servers × requests must be at most 8. Example: --leaves
    #[arg(long)]
    pub leaves: bool,
    /// Model: worker threads, 1 to 1,024 [default: every core]; each thread needs room for its
    /// own round of successors within --max-memory. Example: --threads 2
    #[arg(long, value_name = "N", value_parser = whole::<u16>(1, 1024), allow_negative_numbers = true)]
    pub threads: Option<u16>,
    /// shuttle and proptest: the seed of the first schedule / workload. Example: --seed 7
    #[arg(long, value_name = "X", default_value_t = 42,
          value_parser = whole::<u64>(0, u64::MAX), allow_negative_numbers = true)]
    pub seed: u64,
    /// shuttle: how many PCT schedules to try, 1 to 1,000,000,000 [default: 1,000 in memory,
    /// 200 on SQLite, 50 on PostgreSQL, where each schedule's statements are real round trips].
    /// Example: --iterations 10000
    #[arg(long, value_name = "K",
          value_parser = whole::<u64>(1, 1_000_000_000), allow_negative_numbers = true)]
    pub iterations: Option<u64>,
    /// proptest: how many workloads to generate, 1 to 1,000,000 [default: the library's 256
    /// in memory, each tried under 50 random and 50 PCT shuttle schedules; 32 on SQLite, each
    /// under 10 and 10; 16 on PostgreSQL, each under 5 and 5: there every statement is a round
    /// trip]. Example: --cases 1000
    #[arg(long, value_name = "K",
          value_parser = whole::<u32>(1, 1_000_000), allow_negative_numbers = true)]
    pub cases: Option<u32>,
    /// loom: explore only interleavings with at most B preemptions, 0 to 100 (a smaller, stated scope:
    /// holds is then evidence, and an expected violation not found is inconclusive).
    /// Example: --preemption-bound 2
    #[arg(long, value_name = "B", value_parser = whole::<u8>(0, 100), allow_negative_numbers = true)]
    pub preemption_bound: Option<u8>,
    /// Model: stop, inconclusive, after M distinct states (at least 1). Example: --max-states 1000000
    #[arg(long, value_name = "M", value_parser = whole::<u64>(1, u64::MAX), allow_negative_numbers = true)]
    pub max_states: Option<u64>,
    /// Model: stop, inconclusive, before the stored states outgrow this much memory (K, M, G, T
    /// or P: binary multiples of bytes; at most 1024P) [default: half the memory available at
    /// the start].
    /// Example: --max-memory 2G
    #[arg(long, value_name = "SIZE")]
    pub max_memory: Option<Bytes>,
    /// Stop each check after SECS seconds (at most 1,000,000,000); it is then inconclusive, with
    /// the statistics so far. Example: --timeout 60
    #[arg(long, value_name = "SECS", value_parser = timeout::seconds, allow_negative_numbers = true)]
    pub timeout: Option<Duration>,
    /// Output: text (table and traces), json (for tools) or mermaid (Markdown with diagrams).
    /// Example: --format json
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write every counterexample to DIR (created if need be) as PROTOCOL-ENGINE.json (with what
    /// replays it) and PROTOCOL-ENGINE.txt. Example: --out counterexamples
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[arg(long, value_enum)]
    pub expect: Option<ExpectArg>,
    /// Colour the text output: auto (a terminal and NO_COLOR unset), always or never.
    /// Example: --color never
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

const AFTER_HELP: &str = "\
Examples:
  joincheck check
  joincheck check --protocol naive --engine model --format json
  joincheck check --protocol event-sourced --engine model --servers 3 --users 3 --teams 3 --requests 2 --symmetry
  joincheck check --engine shuttle --servers 4 --users 2 --requests 2 --iterations 10000 --seed 7
  joincheck check --protocol naive,event-sourced --engine model,loom --timeout 60
  joincheck check --engine model --leaves --symmetry          # requests may be leaves too
  joincheck check --protocol event-sourced --workload race.json   # a workload file: see --workload
  joincheck check --protocol naive-transaction --database postgres://root@127.0.0.1/test
  joincheck check --protocol naive --expect holds          # exits 1: the CI gate
  joincheck check --out counterexamples                    # then: joincheck replay counterexamples/naive-model.json

Engine limits: the model engine packs a state into 127 bits and holds at most 8 events in a
log; loom runs at most 4 servers, 3 for the lease locks (their clock takes a thread). A check
beyond that for one protocol (the model of event-sourced-per-team at 3 servers × 3 requests with
3 users × 3 teams, say) is skipped, saying why, and the others run; a skipped check is neither
passed nor inconclusive. A run with no check left to make is refused (exit 2).

Stopping: Ctrl-C, SIGTERM or SIGHUP stops the running check with the statistics so far and the
report is printed (exit 3); a second one, half a second or more after the first, ends the
process at once.

Environment: flags set every engine setting. The LOOM_*, SHUTTLE_* and PROPTEST_* variables that
loom, shuttle and proptest read are ignored (with a warning); NO_COLOR turns colour off;
GITHUB_STEP_SUMMARY, when set, gets the report as Markdown.

Exit status: 0 every verdict as expected (see --expect); 1 a verdict differs from the expected
one: a violation where holds was expected, or holds where a violation was expected; 2 bad usage
or input, or a report, counterexample file or job summary that could not be written (a full
disk: files are written whole or not at all); 3 inconclusive (--max-states, --max-memory,
--timeout, a signal, or an expected violation that a loom search bounded by --preemption-bound
did not find).";

/// The engines `args` name, in the order `check` runs them, each once; and whether `all` was
/// among them (an engine that cannot run is then skipped, not refused).
pub fn engines(args: &[EngineArg]) -> (Vec<Engine>, bool) {
    let all = args.contains(&EngineArg::All);
    let engines = EngineArg::value_variants()
        .iter()
        .filter_map(|variant| match variant {
            EngineArg::One(engine) if all || args.contains(variant) => Some(*engine),
            _ => None,
        })
        .collect();
    (engines, all)
}
