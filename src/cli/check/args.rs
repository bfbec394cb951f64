//! The flags of `joincheck check` as clap parses them: each value checked on its own, nothing
//! combined and nothing done. [`super::settings`] turns them into what a run needs.

use crate::cli::output::ColorChoice;
use crate::cli::sizes::SizeArgs;
use clap::builder::PossibleValue;
use clap::{Args, ValueEnum};
use joincheck::protocols;
use joincheck_models::verdict::Engine;
use joincheck_models::Protocol;
use std::path::PathBuf;
use std::time::Duration;

/// `--engine`: one of the engines `check` runs, or all of them.
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
        use Engine::{Loom, Model, Proptest, Shuttle};
        use EngineArg::{All, One};
        &[One(Model), One(Loom), One(Shuttle), One(Proptest), All]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        let help = match self {
            EngineArg::One(Engine::Model) => {
                "Exhaustive model check of the protocol's state machine (every choice of user and \
                 team)"
            }
            EngineArg::One(Engine::Loom) => {
                "loom: every interleaving of the real code on one workload (at most 4 servers)"
            }
            EngineArg::One(Engine::Shuttle) => {
                "shuttle: PCT schedules of the real code on one workload (evidence, not proof)"
            }
            EngineArg::One(Engine::Proptest) => {
                "proptest: generated workloads, each under shuttle, shrunk on failure (evidence)"
            }
            EngineArg::One(Engine::Stress) => return None,
            EngineArg::All => "All of the above",
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
#[command(after_help = "\
Examples:
  joincheck check
  joincheck check --protocol naive --engine model --format json
  joincheck check --protocol event-sourced --engine model --servers 3 --users 3 --teams 3 --requests 2 --symmetry
  joincheck check --engine shuttle --servers 4 --users 2 --iterations 10000 --seed 7
  joincheck check --protocol naive --expect holds          # exits 1: the CI gate
  joincheck check --out counterexamples                    # then: joincheck replay counterexamples/naive-model.json

Exit status: 0 every verdict as expected (naive, event-sourced-per-team: violated, others: holds,
unless --expect),
1 a verdict differs, 2 bad usage or input, 3 inconclusive (limit, --timeout, Ctrl-C, or an
expected violation that a loom search bounded by --preemption-bound did not find).")]
pub struct CheckArgs {
    /// The protocol to check: naive, event-sourced, event-sourced-per-user,
    /// event-sourced-per-team, or all.
    /// Example: --protocol event-sourced
    #[arg(long, value_name = "NAME", default_value = "all", value_parser = protocol_arg)]
    pub protocol: ProtocolArg,
    /// The engine: model, loom, shuttle, proptest, or all. Example: --engine model
    #[arg(long, value_enum, default_value_t = EngineArg::All)]
    pub engine: EngineArg,
    #[command(flatten)]
    pub sizes: SizeArgs,
    /// Model: store one state per class of states equal up to renaming servers, users and teams.
    /// Same verdict, far fewer states. Example: --symmetry
    #[arg(long)]
    pub symmetry: bool,
    /// Model: worker threads [default: every core]. Example: --threads 2
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    /// shuttle and proptest: the seed of the first schedule / workload. Example: --seed 7
    #[arg(long, value_name = "X", default_value_t = 42)]
    pub seed: u64,
    /// shuttle: how many PCT schedules to try. Example: --iterations 10000
    #[arg(long, value_name = "K", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000_000))]
    pub iterations: u64,
    /// proptest: how many workloads to generate (each tried under 50 random and 50 PCT shuttle
    /// schedules).
    /// Example: --cases 256
    #[arg(long, value_name = "K", default_value_t = 64,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub cases: u32,
    /// loom: explore only interleavings with at most B preemptions (a smaller, stated scope:
    /// holds is then evidence, and an expected violation not found is inconclusive).
    /// Example: --preemption-bound 2
    #[arg(long, value_name = "B", value_parser = clap::value_parser!(u8).range(0..=100))]
    pub preemption_bound: Option<u8>,
    /// Model: stop, inconclusive, after M distinct states. Example: --max-states 1000000
    #[arg(long, value_name = "M", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_states: Option<u64>,
    /// Stop each engine's run after SECS seconds; it is then inconclusive, with the statistics
    /// so far. Example: --timeout 60
    #[arg(long, value_name = "SECS", value_parser = seconds_arg, allow_negative_numbers = true)]
    pub timeout: Option<Duration>,
    /// Output: text (table and traces), json (for tools) or mermaid (Markdown with diagrams).
    /// Example: --format json
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write every counterexample to DIR as PROTOCOL-ENGINE.json (with what replays it) and
    /// PROTOCOL-ENGINE.txt. Example: --out counterexamples
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// The verdict every check must reach [default: violated for naive on 2 or more servers,
    /// holds otherwise].
    /// Example: --expect holds
    #[arg(long, value_enum)]
    pub expect: Option<ExpectArg>,
    /// Colour the text output: auto (a terminal and NO_COLOR unset), always or never.
    /// Example: --color never
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// `--protocol`: one protocol, or every one (`None`).
#[derive(Clone, Copy, Debug)]
pub struct ProtocolArg(pub Option<Protocol>);

fn protocol_arg(text: &str) -> Result<ProtocolArg, String> {
    if text == "all" {
        return Ok(ProtocolArg(None));
    }
    protocols::named(text).map(|protocol| ProtocolArg(Some(protocol)))
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
