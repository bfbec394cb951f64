//! `joincheck replay FILE`: reruns a counterexample saved by `check --out DIR`, compares the
//! rerun with the file and prints its trace again. A model path is replayed on the model, a
//! shuttle schedule on the real service (the same workload under the same schedule), a loom
//! counterexample by rerunning loom's deterministic exploration of the same workload.

mod compare;
mod rerun;

use crate::cli::database_arg;
use crate::cli::input;
use crate::cli::output::{self, ReportFormat, REPORT_VERSION};
use crate::cli::{EXIT_INCONCLUSIVE, EXIT_OK, EXIT_UNEXPECTED};
use clap::Args;
use joincheck::protocols;
use joincheck::trace::{self, CounterexampleFile};
use rerun::Rerun;
use serde_json::{json, Value};
use std::path::PathBuf;

/// Arguments of `joincheck replay`.
#[derive(Args, Debug)]
#[command(after_help = "\
Examples:
  joincheck check --protocol naive --out out          writes out/naive-model.json and others
  joincheck replay out/naive-model.json
  joincheck replay out/naive-shuttle.json --format json
  joincheck replay out/naive-model.json --on-implementation
  joincheck check --protocol naive --engine model --format json | jq '.results[0].counterexample' | joincheck replay -

Exit status: 0 the rerun reproduces the file (the same steps and the same violation; with
--on-implementation, the implementation's history is the model's); 1 it does not: it differs,
no longer breaks the invariant, or the implementation did not follow the model path; 2 the file
cannot be read as a counterexample, or cannot be rerun, or the report could not be written; 3 the rerun could not be judged.")]
pub struct ReplayArgs {
    /// A counterexample file written by `joincheck check --out DIR` (or a `counterexample` of
    /// its JSON report); `-` reads it from standard input.
    /// Example: joincheck replay counterexamples/naive-model.json
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Run a model counterexample on the real service instead of the model: real threads, with
    /// the store admitting operations only in the model path's order. The history must be the
    /// model's, step for step. Example: joincheck replay out/naive-model.json --on-implementation
    #[arg(long)]
    on_implementation: bool,
    /// Where to rerun a counterexample the real code showed on a database: sqlite (a fresh file
    /// in a temporary directory, the default for a file found on SQLite), sqlite:DIR, or a
    /// postgres://… URL (default: DATABASE_URL, for a file found on PostgreSQL).
    /// Example: --database postgres://root@127.0.0.1/test
    #[arg(long, value_name = "NAME")]
    database: Option<String>,
    /// Output: text (the trace), or json (one document, see the README). Example: --format json
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    format: ReportFormat,
}

/// How a replay ended: its status in the JSON report, its exit status, and what it found.
struct Ending {
    status: &'static str,
    code: i32,
    /// What went differently, in one line, when it did.
    difference: Option<String>,
    /// The rerun's counterexample, when it broke the invariant.
    rerun: Option<joincheck_models::verdict::Counterexample>,
}

/// Runs `joincheck replay`: 0 when the rerun reproduces the file (the same steps and the same
/// violation), 1 when it differs or no longer breaks the invariant, 2 when the file cannot be
/// read as a counterexample, 3 when the rerun could not be judged.
pub fn run(args: &ReplayArgs) -> Result<i32, String> {
    let from_stdin = input::is_stdin(&args.file);
    let name = input::name(&args.file);
    let text = input::read(&args.file).map_err(|error| format!("cannot read {name}: {error}"))?;
    let bad = |detail: String| format!("{name}: not a joincheck counterexample: {detail}");
    let file = CounterexampleFile::from_json(&text).map_err(|error| bad(error.to_string()))?;
    let protocol =
        protocols::named(&file.protocol).map_err(|error| bad(format!("`protocol`: {error}")))?;
    let database = database_arg::for_replay(file.database.as_deref(), args.database.as_deref())
        .map_err(|why| format!("{name}: {why}"))?;
    let rerun = if args.on_implementation {
        rerun::on_implementation(&file, protocol, &database)
    } else {
        rerun::rerun(&file, protocol, &database)
    };
    let rerun = rerun.map_err(|refusal| refusal.message(&name))?;
    let ending = match rerun {
        Rerun::Broke(found) => match compare::first_difference(&file, &found) {
            None => Ending::new("reproduced", EXIT_OK, None, Some(found)),
            Some(difference) => {
                let line = format!("the rerun differs from the file in {difference}");
                Ending::new("not-reproduced", EXIT_UNEXPECTED, Some(line), Some(found))
            }
        },
        Rerun::Held => {
            let line = format!(
                "{protocol}: the replay ran to the end and the invariant held: this \
                 counterexample no longer reproduces"
            );
            Ending::new("no-longer-breaks", EXIT_UNEXPECTED, Some(line), None)
        }
        Rerun::NotConforming(why) => {
            Ending::new("not-conforming", EXIT_UNEXPECTED, Some(why), None)
        }
        Rerun::Inconclusive(why) => Ending::new("inconclusive", EXIT_INCONCLUSIVE, Some(why), None),
    };
    let hint = (!from_stdin).then(|| format!("joincheck replay {name}"));
    match args.format {
        ReportFormat::Text => print_text(&ending, args.on_implementation, protocol, hint),
        ReportFormat::Json => {
            let document = report_json(&ending, &file, &name, args.on_implementation);
            output::emit(&format!("{document:#}\n"));
        }
    }
    Ok(ending.code)
}

impl Ending {
    fn new(
        status: &'static str,
        code: i32,
        difference: Option<String>,
        rerun: Option<joincheck_models::verdict::Counterexample>,
    ) -> Ending {
        Ending {
            status,
            code,
            difference,
            rerun,
        }
    }
}

/// The replay for a terminal: the trace when it reproduced; otherwise what differs first, then
/// the rerun's trace if it has one.
fn print_text(
    ending: &Ending,
    on_implementation: bool,
    protocol: joincheck::protocols::CatalogueProtocol,
    hint: Option<String>,
) {
    // Replaying the same file again would not reproduce it either: no hint for a rerun that
    // differs.
    let hint = hint.filter(|_| ending.status == "reproduced");
    let trace = ending
        .rerun
        .as_ref()
        .map(|found| trace::text(found, hint.as_deref()));
    let mut out = String::new();
    let followed = matches!(
        ending.status,
        "reproduced" | "not-reproduced" | "no-longer-breaks"
    );
    if on_implementation && followed {
        out.push_str(&format!(
            "on the implementation: the real {} service on real threads, operations admitted \
             in the model path's order; its history equals the model's\n",
            protocol.name()
        ));
    }
    match (ending.status, &ending.difference, trace) {
        ("reproduced", _, Some(trace)) => out.push_str(&trace),
        ("not-reproduced", Some(line), Some(trace)) => {
            out.push_str(&format!("NOT REPRODUCED  {line}\nthe rerun:\n{trace}"));
        }
        ("not-conforming", Some(line), _) => out.push_str(&format!("NOT CONFORMING  {line}\n")),
        ("inconclusive", Some(line), _) => eprintln!("joincheck: {line}"),
        (_, Some(line), _) => out.push_str(&format!("{line}\n")),
        _ => {}
    }
    output::emit(&out);
}

/// The JSON report of a replay (schema in the README); the rerun's counterexample keeps the
/// file's workload and loom settings, so it replays in turn.
fn report_json(
    ending: &Ending,
    file: &CounterexampleFile,
    name: &str,
    on_implementation: bool,
) -> Value {
    json!({
        "version": REPORT_VERSION,
        "command": "replay",
        "file": name,
        "on_implementation": on_implementation,
        "status": ending.status,
        "difference": ending.difference,
        "rerun": ending.rerun.as_ref().map(|found| {
            let mut rerun = CounterexampleFile::new(found, None, None);
            rerun.scenario = file.scenario.clone();
            rerun.loom = file.loom;
            rerun.to_json()
        }),
        "exit_code": ending.code,
    })
}
