//! The report for a terminal: the verdict table, the scope of each verdict, every counterexample
//! as a numbered trace, and a summary line.

use super::outcome::{Outcome, Status};
use super::plan::{generated_workloads, Skipped};
use crate::cli::output::{thousands, Style};
use joincheck::check::Scenario;
use joincheck::protocols;
use joincheck::trace;
use joincheck_models::verdict::{Engine, Verdict};
use joincheck_models::Sizes;
use std::fmt::Write as _;

/// `-` for a figure an engine does not measure.
pub fn figure(value: Option<u64>) -> String {
    value.map_or_else(|| "-".to_string(), thousands)
}

/// The whole text report.
pub fn report(
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
    table(&mut out, outcomes, skipped, style);
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

/// The verdict table, one row per check, then the skipped engines.
fn table(out: &mut String, outcomes: &[Outcome], skipped: &[Skipped], style: Style) {
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
             scope or searched too little to decide, so nothing is proved there"
        ));
    }
    let mut line = if total == 1 {
        "the verdict is as expected".to_string()
    } else {
        format!("all {total} verdicts as expected")
    };
    let mut explained = Vec::new();
    for outcome in outcomes {
        let why = protocols::known(outcome.protocol).why_broken();
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
        line.push_str(&format!("; {} not run: {}", skip.engine, skip.reason));
    }
    style.good(&line)
}
