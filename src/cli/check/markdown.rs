//! The report as Markdown: the verdict table, the scope of each verdict (what a holds covered,
//! why a check was inconclusive), the summary line, then each counterexample as a Mermaid
//! `sequenceDiagram`. Printed by `--format mermaid` and appended to `GITHUB_STEP_SUMMARY`.

use super::outcome::{Outcome, Status};
use super::text::{figure, summary, Ending};
use crate::cli::output::{ColorChoice, Style};
use joincheck::trace;
use joincheck_models::Sizes;
use std::fmt::Write as _;

/// The whole Markdown report.
pub fn report(sizes: Sizes, outcomes: &[Outcome], ending: &Ending) -> String {
    let mut out = format!("### joincheck · {sizes}\n\n");
    out.push_str(
        "| protocol | database | engine | verdict | expected | unique states | depth | runs | seconds | |\n\
         |---|---|---|---|---|--:|--:|--:|--:|---|\n",
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
            "| {} | {} | {} | {} | {} | {} | {} | {} | {:.2} | {mark} |",
            outcome.protocol,
            outcome.database_name(),
            outcome.engine(),
            outcome.verdict.kind(),
            outcome.expected.name(),
            figure(stats.unique_states),
            figure(stats.max_depth),
            figure(stats.iterations),
            stats.seconds
        );
    }
    out.push('\n');
    for outcome in outcomes {
        let _ = writeln!(out, "- {}: {}", outcome.label(), outcome.scope_line());
    }
    for skip in ending.skipped {
        let _ = writeln!(out, "- {}", skip.line());
    }
    let plain = Style::for_stdout(ColorChoice::Never);
    let _ = writeln!(out, "\n**{}**", summary(outcomes, ending, plain));
    for outcome in outcomes {
        if let Some(found) = outcome.verdict.counterexample() {
            let _ = write!(
                out,
                "\n#### {}: {}\n\n{}\n\n```mermaid\n{}```\n",
                outcome.label(),
                outcome.scope_line(),
                found.parameters,
                trace::mermaid(found)
            );
        }
    }
    out
}
