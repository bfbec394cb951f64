//! A Mermaid `sequenceDiagram`: renders in GitHub pull requests and job summaries.

use super::{broken, outcome, why};
use joincheck_models::operation::Operation;
use joincheck_models::verdict::Counterexample;
use std::collections::BTreeSet;
use std::fmt::Write;

/// Renders a counterexample as a Mermaid sequence diagram (without the surrounding fence).
pub fn mermaid(counterexample: &Counterexample) -> String {
    let mut out = String::from("sequenceDiagram\n");
    let servers: BTreeSet<_> = counterexample.steps.iter().map(|s| s.server).collect();
    for server in &servers {
        let _ = writeln!(
            out,
            "    participant S{} as {server}",
            u16::from(server.0) + 1
        );
    }
    let _ = writeln!(out, "    participant DB as database");
    let last = counterexample.steps.len();
    for (index, step) in counterexample.steps.iter().enumerate() {
        if let Operation::Expire { user } = step.operation {
            // The database's clock acts, not the holder, who is not told: no message from it.
            let _ = writeln!(
                out,
                "    Note over DB: {}. {user}'s lease (held by {}) expires: {}",
                index + 1,
                step.server,
                escape(&step.result.to_string())
            );
            continue;
        }
        let who = format!("S{}", u16::from(step.server.0) + 1);
        let _ = writeln!(
            out,
            "    {who}->>DB: {}. {}",
            index + 1,
            escape(&step.operation.to_string())
        );
        let mark = if index + 1 == last { " ✗" } else { "" };
        let outcome = outcome(&counterexample.steps, index);
        let _ = writeln!(out, "    DB-->>{who}: {}{mark}", escape(&outcome));
    }
    let _ = writeln!(
        out,
        "    Note over DB: broken: {}",
        escape(&broken(counterexample))
    );
    if let Some(why) = why(counterexample) {
        let _ = writeln!(out, "    Note over DB: {}", escape(&why));
    }
    out
}

/// Mermaid reads `;` as a statement end and `#` as an entity start.
fn escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '#' => "#35;".to_string(),
            ';' => "#59;".to_string(),
            c => c.to_string(),
        })
        .collect()
}
