//! What a `joincheck check` run needs, validated from its flags: the sizes and the workload they
//! give, the protocols and engines asked for, the engines' limits and how to report. Building
//! settings reads the environment (cores, `NO_COLOR`, a terminal) but changes nothing.

use super::args::{CheckArgs, EngineArg, ExpectArg, Format};
use crate::cli::output::Style;
use crate::cli::sizes;
use joincheck::check::Scenario;
use joincheck::protocols::{self, Expected};
use joincheck_models::{Protocol, Sizes};
use std::path::PathBuf;
use std::time::Duration;

/// A validated `joincheck check` command line.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The protocols to check, in report order.
    pub protocols: Vec<Protocol>,
    /// The engines asked for.
    pub engine: EngineArg,
    /// The sizes of every check.
    pub sizes: Sizes,
    /// The one workload loom and shuttle run at these sizes.
    pub scenario: Scenario,
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
    /// Model: worker threads.
    pub threads: usize,
    /// shuttle and proptest: the first seed.
    pub seed: u64,
    /// shuttle: schedules to try.
    pub iterations: u64,
    /// proptest: workloads to generate.
    pub cases: u32,
    /// loom: the preemption bound, if any.
    pub preemption_bound: Option<usize>,
    /// Model: the state limit, if any.
    pub max_states: Option<u64>,
    /// Every engine: the time limit, if any.
    pub timeout: Option<Duration>,
}

impl Settings {
    /// The settings of `args`, or one line saying what is wrong.
    pub fn new(args: &CheckArgs) -> Result<Settings, String> {
        let sizes = args.sizes.sizes()?;
        let scenario = sizes::scenario(sizes)?;
        Ok(Settings {
            protocols: match args.protocol.0 {
                Some(protocol) => vec![protocol],
                None => protocols::ALL.to_vec(),
            },
            engine: args.engine,
            sizes,
            scenario,
            limits: EngineLimits {
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
