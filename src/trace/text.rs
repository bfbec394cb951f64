//! The terminal rendering: a numbered, aligned trace, the broken invariant, why it broke and
//! how to replay it.

use super::{broken, how_found, outcome, why};
use joincheck_models::verdict::{Counterexample, Engine};
use std::fmt::Write;

/// Renders a counterexample as aligned text; `replay_hint` is the command that replays it.
pub fn text(counterexample: &Counterexample, replay_hint: Option<&str>) -> String {
    let mut out = String::new();
    let steps = &counterexample.steps;
    let _ = writeln!(
        out,
        "{} · {} · {}",
        counterexample.protocol,
        how_found(counterexample),
        counterexample.parameters
    );
    let shortest = if counterexample.engine == Engine::Model {
        "shortest counterexample"
    } else {
        "counterexample"
    };
    let plural = if steps.len() == 1 { "" } else { "s" };
    let _ = writeln!(
        out,
        "VIOLATED  {} — {shortest}, {} step{plural}",
        counterexample.violation.invariant(),
        steps.len()
    );
    let operations: Vec<String> = steps.iter().map(|s| s.operation.to_string()).collect();
    let width = operations
        .iter()
        .map(|o| o.chars().count())
        .max()
        .unwrap_or(0);
    let verb_width = steps
        .iter()
        .map(|s| s.operation.verb().chars().count())
        .max()
        .unwrap_or(0);
    for (index, (step, operation)) in steps.iter().zip(&operations).enumerate() {
        let mark = if index + 1 == steps.len() {
            "   ✗"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "  {:>2}  {}  {:verb_width$}  {:width$}   {}{mark}",
            index + 1,
            step.server,
            step.operation.verb(),
            operation,
            outcome(steps, index),
        );
    }
    let _ = writeln!(out, "broken: {}", broken(counterexample));
    if let Some(why) = why(counterexample) {
        let _ = writeln!(out, "why: {why}");
    }
    if let Some(hint) = replay_hint {
        let _ = writeln!(out, "replay: {hint}");
    }
    out
}
