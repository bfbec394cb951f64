//! A check's result next to what it was expected to be, and the exit status they add up to.

use super::engines::Ran;
use super::plan::Check;
use crate::cli::{EXIT_INCONCLUSIVE, EXIT_OK, EXIT_UNEXPECTED};
use joincheck::figures::count;
use joincheck::protocols::Expected;
use joincheck::protocols::{CatalogueProtocol, Storage};
use joincheck::trace::CounterexampleFile;
use joincheck_models::verdict::{Engine, Verdict};
use std::path::PathBuf;

/// One check's result, with what it was expected to be.
pub struct Outcome {
    /// The protocol checked.
    pub protocol: CatalogueProtocol,
    /// Where the real code ran (none for the model).
    pub database: Option<Storage>,
    /// The verdict it had to reach.
    pub expected: Expected,
    /// What the engine checked, in words.
    pub parameters: String,
    /// The verdict it reached.
    pub verdict: Verdict,
    /// Its counterexample with what reruns it, when violated.
    pub file: Option<CounterexampleFile>,
    /// Where its counterexample was saved, if it was.
    pub replay_file: Option<PathBuf>,
}

/// How a verdict compares with its expectation.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Status {
    AsExpected,
    Unexpected,
    Inconclusive,
}

impl Status {
    /// `as-expected`, `unexpected` or `inconclusive`, as the JSON report names it.
    pub fn name(self) -> &'static str {
        match self {
            Status::AsExpected => "as-expected",
            Status::Unexpected => "unexpected",
            Status::Inconclusive => "inconclusive",
        }
    }
}

impl Outcome {
    /// The outcome of `check`, which `ran` (loom with `preemption_bound`).
    pub fn new(
        check: &Check,
        parameters: String,
        ran: Ran,
        preemption_bound: Option<usize>,
    ) -> Outcome {
        let verdict = bounded_search_found_nothing(ran.verdict, check.expected, preemption_bound);
        let dialect = check.database.as_ref().and_then(Storage::dialect);
        let file = verdict.counterexample().map(|found| {
            let file = CounterexampleFile::new(found, ran.workload.as_ref(), preemption_bound);
            match dialect {
                Some(dialect) => file.on_database(dialect.name()),
                None => file,
            }
        });
        Outcome {
            protocol: check.protocol,
            database: check.database.clone(),
            expected: check.expected,
            parameters,
            verdict,
            file,
            replay_file: None,
        }
    }

    /// As expected, unexpected, or inconclusive whatever was expected.
    pub fn status(&self) -> Status {
        match (&self.verdict, self.expected) {
            (Verdict::Inconclusive { .. }, _) => Status::Inconclusive,
            (Verdict::Holds { .. }, Expected::Holds) => Status::AsExpected,
            (Verdict::Violated { .. }, Expected::Violated) => Status::AsExpected,
            _ => Status::Unexpected,
        }
    }

    /// The engine that reached the verdict.
    pub fn engine(&self) -> Engine {
        self.verdict.engine()
    }

    /// `memory`, `sqlite` or `postgres`; `-` for the model, which is the same on every one.
    pub fn database_name(&self) -> &'static str {
        self.database.as_ref().map_or("-", Storage::name)
    }

    /// `naive · model`, `naive · loom` (in memory), `naive · sqlite · loom`: the check, as
    /// headings name it.
    pub fn label(&self) -> String {
        match self.database.as_ref().filter(|d| d.dialect().is_some()) {
            None => format!("{} · {}", self.protocol, self.engine()),
            Some(database) => format!(
                "{} · {} · {}",
                self.protocol,
                database.name(),
                self.engine()
            ),
        }
    }

    /// `naive-model`, `naive-loom` (in memory), `naive-sqlite-loom`: the name of its
    /// counterexample files.
    pub fn file_stem(&self) -> String {
        match self.database.as_ref().filter(|d| d.dialect().is_some()) {
            Some(database) => format!(
                "{}-{}-{}",
                self.protocol.name(),
                database.name(),
                self.engine().name()
            ),
            None => format!("{}-{}", self.protocol.name(), self.engine().name()),
        }
    }

    /// The line under the table: what exactly was covered, or why it stopped.
    pub fn scope_line(&self) -> String {
        match &self.verdict {
            Verdict::Holds { scope, .. } => match self.database.as_ref().and_then(Storage::dialect)
            {
                Some(dialect) => format!(
                    "holds — {scope}; on {dialect}, each whole SQL statement one step, its result \
                     the database's"
                ),
                None => format!("holds — {scope}"),
            },
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

    /// The command that replays its counterexample, or how to save one to replay.
    pub fn replay_hint(&self) -> String {
        match &self.replay_file {
            Some(file) => format!("joincheck replay {}", file.display()),
            None => format!(
                "add --out DIR to save it, then joincheck replay DIR/{}.json",
                self.file_stem()
            ),
        }
    }
}

/// A loom search bounded in preemptions covers only interleavings within the bound, and the
/// expected violation may need more: finding none there decides nothing, so it is inconclusive,
/// not a verdict that differs from the expectation. The same holds for shuttle's and proptest's
/// sampled searches.
fn bounded_search_found_nothing(
    verdict: Verdict,
    expected: Expected,
    preemption_bound: Option<usize>,
) -> Verdict {
    match (verdict, expected, preemption_bound) {
        (
            Verdict::Holds {
                engine: Engine::Loom,
                stats,
                ..
            },
            Expected::Violated,
            Some(bound),
        ) => Verdict::Inconclusive {
            engine: Engine::Loom,
            reason: format!(
                "a violation is expected and the loom search bounded to {bound} preemptions \
                     found none; a bounded search that finds nothing proves nothing"
            ),
            stats,
        },
        // Sampled schedules (shuttle) and generated workloads (proptest) are evidence: missing
        // a violation that exists somewhere is their known weakness, not a contradiction.
        (
            Verdict::Holds {
                engine: engine @ (Engine::Shuttle | Engine::Proptest),
                stats,
                ..
            },
            Expected::Violated,
            _,
        ) => Verdict::Inconclusive {
            engine,
            reason: format!(
                "a violation is expected and {engine}'s search found none in {}; a sampled \
                 search that finds nothing proves nothing (try more --iterations or --cases)",
                match engine {
                    Engine::Shuttle => count(stats.iterations.unwrap_or(0), "schedule"),
                    _ => count(stats.iterations.unwrap_or(0), "workload"),
                }
            ),
            stats,
        },
        (verdict, ..) => verdict,
    }
}

/// 1 when a verdict differs from its expectation, else 3 when one is inconclusive, else 0.
pub fn exit_code(outcomes: &[Outcome]) -> i32 {
    let statuses: Vec<Status> = outcomes.iter().map(Outcome::status).collect();
    if statuses.contains(&Status::Unexpected) {
        EXIT_UNEXPECTED
    } else if statuses.contains(&Status::Inconclusive) {
        EXIT_INCONCLUSIVE
    } else {
        EXIT_OK
    }
}
