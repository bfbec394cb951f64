//! `joincheck replay FILE`: reruns a counterexample saved by `check --out DIR`, compares the
//! rerun with the file and prints its trace again. A model path is replayed on the model, a
//! shuttle schedule on the real service (the same workload under the same schedule), a loom
//! counterexample by rerunning loom's deterministic exploration of the same workload.

mod compare;
mod rerun;

use crate::cli::{output, EXIT_OK, EXIT_UNEXPECTED};
use clap::Args;
use joincheck::protocols;
use joincheck::trace::{self, CounterexampleFile};
use rerun::Rerun;
use std::path::PathBuf;

/// Arguments of `joincheck replay`.
#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// A counterexample file written by `joincheck check --out DIR`.
    /// Example: joincheck replay counterexamples/naive-model.json
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Run a model counterexample on the real service instead of the model: real threads, with
    /// the store admitting operations only in the model path's order. The history must be the
    /// model's, step for step. Example: joincheck replay out/naive-model.json --on-implementation
    #[arg(long)]
    on_implementation: bool,
}

/// Runs `joincheck replay`: 0 when the rerun reproduces the file (the same steps and the same
/// violation), 1 when it differs or no longer breaks the invariant, 2 when the file cannot be
/// read as a counterexample, 3 when the rerun could not finish.
pub fn run(args: &ReplayArgs) -> Result<i32, String> {
    let name = args.file.display().to_string();
    let bad = |detail: String| format!("{name}: not a joincheck counterexample: {detail}");
    let text = std::fs::read_to_string(&args.file)
        .map_err(|error| format!("cannot read {name}: {error}"))?;
    let file = CounterexampleFile::from_json(&text).map_err(|error| bad(error.to_string()))?;
    let protocol = protocols::named(&file.protocol).map_err(bad)?;
    let rerun = if args.on_implementation {
        rerun::on_implementation(&file, protocol)
    } else {
        rerun::rerun(&file, protocol)
    };
    match rerun.map_err(|refusal| refusal.message(&name))? {
        Rerun::Broke(found) => {
            let trace = trace::text(&found, Some(&format!("joincheck replay {name}")));
            match compare::first_difference(&file, &found) {
                None => {
                    output::emit(&trace);
                    Ok(EXIT_OK)
                }
                Some(difference) => {
                    println!("NOT REPRODUCED  the rerun differs from the file in {difference}");
                    output::emit(&format!("the rerun:\n{trace}"));
                    Ok(EXIT_UNEXPECTED)
                }
            }
        }
        Rerun::Held => {
            println!(
                "{protocol}: the replay ran to the end and the invariant held: this \
                 counterexample no longer reproduces"
            );
            Ok(EXIT_UNEXPECTED)
        }
        Rerun::Stopped(code) => Ok(code),
    }
}
