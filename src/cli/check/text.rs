//! The report for a terminal: what is checked, the verdict table (a row as each check
//! completes), the scope of each verdict, every counterexample as a numbered trace, and a
//! summary line.

use super::outcome::{Outcome, Status};
use super::plan::{generated_workloads, Skipped};
use super::settings::Settings;
use crate::cli::input;
use crate::cli::output::{thousands, Style};
use joincheck::protocols::CatalogueProtocol;
use joincheck::protocols::{self, Storage};
use joincheck::store::sql::Dialect;
use joincheck::trace;
use joincheck_models::verdict::{Engine, Verdict};
use std::fmt::Write as _;
use std::path::Path;

/// `-` for a figure an engine does not measure.
pub fn figure(value: Option<u64>) -> String {
    value.map_or_else(|| "-".to_string(), thousands)
}

/// What the report is about, printed before any check runs: the sizes, and what each engine
/// that runs checks.
pub fn header(settings: &Settings, engines: &[Engine]) -> String {
    let (style, sizes, scenario) = (settings.style, settings.sizes, &settings.scenario);
    let mut out = String::new();
    let title = match &settings.workload_file {
        Some(file) => format!("joincheck · the workload in {}", input::name(file)),
        None => format!("joincheck · {sizes}"),
    };
    let _ = writeln!(out, "{}", style.bold(&title));
    if engines.contains(&Engine::Model) {
        let choice = match settings.limits.leaves {
            true => "join or leave, user and team",
            false => "user and team",
        };
        let _ = match &settings.workload_file {
            Some(_) => writeln!(
                out,
                "model: every choice of {choice} for every request, at its sizes: {sizes}"
            ),
            None => writeln!(out, "model: every choice of {choice} for every request"),
        };
    }
    let on_the_workload: Vec<&str> = [Engine::Loom, Engine::Dpor, Engine::Shuttle]
        .into_iter()
        .filter(|engine| engines.contains(engine))
        .map(Engine::name)
        .collect();
    if !on_the_workload.is_empty() {
        let _ = writeln!(
            out,
            "{}: the workload {scenario}",
            on_the_workload.join(", ")
        );
    }
    if engines.contains(&Engine::Proptest) {
        let _ = writeln!(out, "proptest: {}", generated_workloads(sizes));
    }
    let databases = settings.databases.iter().filter(|d| d.dialect().is_some());
    if databases.count() > 0 || settings.databases_left_out.is_some() {
        let places: Vec<String> = settings
            .databases
            .iter()
            .map(|database| match database.dialect() {
                Some(Dialect::Postgres) => {
                    let Storage::Sql(target) = database else {
                        unreachable!("a dialect is a database's")
                    };
                    format!("{} ({target})", database.name())
                }
                _ => database.name().to_string(),
            })
            .collect();
        let _ = writeln!(out, "the real code runs on: {}", places.join(", "));
        if let Some(left_out) = &settings.databases_left_out {
            let _ = writeln!(out, "{left_out}");
        }
        let _ = writeln!(
            out,
            "on a database, each whole SQL statement is one step, its result the database's"
        );
    }
    let _ = writeln!(out);
    out
}

/// The verdict table, printed a row at a time as each check completes.
pub struct Table {
    protocol_width: usize,
    style: Style,
}

impl Table {
    /// A table for rows of `protocols`.
    pub fn new(protocols: &[CatalogueProtocol], style: Style) -> Table {
        let protocol_width = protocols
            .iter()
            .map(|p| p.name().len())
            .chain([8])
            .max()
            .unwrap_or(8);
        Table {
            protocol_width,
            style,
        }
    }

    /// The column headings.
    pub fn heading(&self) -> String {
        format!(
            "{:w$}  {:8}  {:8}  {:12}  {:8}  {:>10}  {:>10}  {:>5}  {:>7}  {:>8}\n",
            "protocol",
            "database",
            "engine",
            "verdict",
            "expected",
            "unique",
            "generated",
            "depth",
            "runs",
            "seconds",
            w = self.protocol_width
        )
    }

    /// One check's row.
    pub fn row(&self, outcome: &Outcome) -> String {
        let style = self.style;
        let stats = outcome.verdict.stats();
        let verdict = format!("{:12}", outcome.verdict.kind());
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
        format!(
            "{:w$}  {:8}  {:8}  {verdict}  {:8}  {:>10}  {:>10}  {:>5}  {:>7}  {:>8.2}  {status}\n",
            outcome.protocol.name(),
            outcome.database_name(),
            outcome.engine().name(),
            outcome.expected.name(),
            figure(stats.unique_states),
            figure(stats.generated_states),
            figure(stats.max_depth),
            figure(stats.iterations),
            stats.seconds,
            w = self.protocol_width
        )
    }
}

/// How a run ends besides its verdicts: the checks not run, and the `--out` directory whose
/// counterexample files could not all be written.
pub struct Ending<'a> {
    /// The checks skipped, and why.
    pub skipped: &'a [Skipped],
    /// The `--out` directory, when a file there could not be written.
    pub unsaved: Option<&'a Path>,
}

/// What follows the table once every check is done: the checks skipped, the scope of each
/// verdict, every counterexample under a header saying whether it was expected, and the summary
/// line.
pub fn footer(outcomes: &[Outcome], ending: &Ending, style: Style) -> String {
    let mut out = String::new();
    for skip in ending.skipped {
        let _ = writeln!(out, "{}", skip.line());
    }
    let _ = writeln!(out);
    for outcome in outcomes {
        let _ = writeln!(out, "{}: {}", outcome.label(), outcome.scope_line());
    }
    for outcome in outcomes {
        if let Some(found) = outcome.verdict.counterexample() {
            let _ = writeln!(out);
            let heading = format!("── {}: ", outcome.label());
            let heading = match outcome.status() {
                Status::AsExpected => style.bold(&format!("{heading}a violation, as expected ──")),
                _ => style.bad(&format!(
                    "{heading}a violation where {} was expected ──",
                    outcome.expected.name()
                )),
            };
            let _ = writeln!(out, "{heading}");
            out.push_str(&trace::text(found, Some(&outcome.replay_hint())));
        }
    }
    let _ = writeln!(out, "\n{}", summary(outcomes, ending, style));
    out
}

/// One line: were all verdicts as expected?
pub fn summary(outcomes: &[Outcome], ending: &Ending, style: Style) -> String {
    let mut line = verdicts(outcomes, ending.skipped, style);
    if let Some(out) = ending.unsaved {
        let note = format!(
            "; but the counterexample files could not all be written to {}, so the run fails \
             (exit 2)",
            out.display()
        );
        line.push_str(&style.bad(&note));
    }
    line
}

/// What the verdicts add up to, and the checks skipped.
fn verdicts(outcomes: &[Outcome], skipped: &[Skipped], style: Style) -> String {
    let total = outcomes.len();
    let unexpected: Vec<String> = outcomes
        .iter()
        .filter(|o| o.status() == Status::Unexpected)
        .map(|o| {
            format!(
                "{} (expected {}, got {})",
                o.label(),
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
        let which = match (unexpected.len(), total) {
            (_, 1) => "the verdict differs".to_string(),
            (1, _) => format!("1 of {total} verdicts differs"),
            (n, _) => format!("{n} of {total} verdicts differ"),
        };
        return style.bad(&format!(
            "{which} from what was expected: {}",
            unexpected.join(", ")
        ));
    }
    if inconclusive > 0 {
        let which = match (inconclusive, total) {
            (_, 1) => "the check is inconclusive: it stopped".to_string(),
            (1, _) => format!("1 of {total} checks is inconclusive: it stopped"),
            (n, _) if n == total => format!("all {total} checks are inconclusive: they stopped"),
            (n, _) => format!("{n} of {total} checks are inconclusive: they stopped"),
        };
        return style.warn(&format!(
            "{which} before covering the scope or searched too little to decide, so nothing is \
             proved there"
        ));
    }
    let mut line = match total {
        0 => "no check ran".to_string(),
        1 => "the verdict is as expected".to_string(),
        2 => "both verdicts as expected".to_string(),
        _ => format!("all {total} verdicts as expected"),
    };
    let mut explained = Vec::new();
    for outcome in outcomes {
        let dialect = outcome.database.as_ref().and_then(Storage::dialect);
        let why = protocols::known(outcome.protocol, dialect).why_broken();
        if let (Some(why), protocols::Expected::Violated) = (why, outcome.expected) {
            let note = format!("{} is {why}: its violation is expected", outcome.protocol);
            if !explained.contains(&note) {
                explained.push(note);
            }
        }
    }
    if !explained.is_empty() {
        line.push_str(&format!(" ({})", explained.join("; ")));
    }
    for skip in skipped {
        line.push_str(&format!("; {}", skip.line()));
    }
    style.good(&line)
}
