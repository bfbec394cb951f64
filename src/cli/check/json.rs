//! The report as one JSON document (schema version [`REPORT_VERSION`], see the README). Each
//! counterexample in it is a replay file ([`joincheck::trace::CounterexampleFile`]).

use super::outcome::{Outcome, Status};
use super::plan::Skipped;
use crate::cli::output::REPORT_VERSION;
use crate::cli::sizes::sizes_json;
use joincheck::check::Scenario;
use joincheck::protocols::Storage;
use joincheck_models::verdict::Verdict;
use joincheck_models::Sizes;
use serde_json::{json, Value};

/// The whole JSON report; `code` is the exit status the run ends with.
pub fn report(
    sizes: Sizes,
    scenario: &Scenario,
    (databases, left_out): (&[Storage], Option<&str>),
    outcomes: &[Outcome],
    skipped: &[Skipped],
    code: i32,
) -> Value {
    let count = |status: Status| outcomes.iter().filter(|o| o.status() == status).count();
    let results: Vec<Value> = outcomes
        .iter()
        .map(|outcome| result(outcome, sizes))
        .collect();
    json!({
        "version": REPORT_VERSION,
        "command": "check",
        "sizes": sizes_json(sizes.as_array()),
        "workload": scenario.to_string(),
        "databases": databases.iter().map(Storage::name).collect::<Vec<_>>(),
        "databases_left_out": left_out,
        "results": results,
        "skipped": skipped
            .iter()
            .map(|s| json!({
                "engine": s.engine.map(|engine| engine.name()),
                "database": s.database,
                "protocols": s.protocols.iter().map(|p| p.name()).collect::<Vec<_>>(),
                "reason": s.reason,
            }))
            .collect::<Vec<_>>(),
        "summary": {
            "checks": outcomes.len(),
            "skipped": skipped.len(),
            "as_expected": count(Status::AsExpected),
            "unexpected": count(Status::Unexpected),
            "inconclusive": count(Status::Inconclusive),
            "exit_code": code,
        },
    })
}

/// One check: its verdict, figures and status, and its counterexample when violated.
fn result(outcome: &Outcome, sizes: Sizes) -> Value {
    let verdict = &outcome.verdict;
    let stats = verdict.stats();
    let mut value = json!({
        "version": REPORT_VERSION,
        "verdict": verdict.kind(),
        "engine": verdict.engine().name(),
        "protocol": outcome.protocol.name(),
        "database": outcome.database.as_ref().map(|database| database.name()),
        "parameters": outcome.parameters,
        "statistics": {
            "unique_states": stats.unique_states,
            "generated_states": stats.generated_states,
            "max_depth": stats.max_depth,
            "iterations": stats.iterations,
            "seconds": stats.seconds,
        },
        "sizes": sizes_json(sizes.as_array()),
        "expected": outcome.expected.name(),
        "status": outcome.status().name(),
        "replay_file": outcome
            .replay_file
            .as_ref()
            .map(|file| file.display().to_string()),
    });
    match verdict {
        Verdict::Holds { scope, .. } => value["scope"] = json!(scope),
        Verdict::Inconclusive { reason, .. } => value["reason"] = json!(reason),
        Verdict::Violated { .. } => {}
    }
    if let Some(file) = &outcome.file {
        value["counterexample"] = file.to_json();
    }
    value
}
