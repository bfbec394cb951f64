//! The report as one JSON document (schema version [`trace::JSON_VERSION`], see the README).

use super::outcome::{Outcome, Status};
use super::plan::Skipped;
use joincheck::check::Scenario;
use joincheck::trace;
use joincheck_models::Sizes;
use serde_json::{json, Value};

/// The whole JSON report; `code` is the exit status the run ends with.
pub fn report(
    sizes: Sizes,
    scenario: &Scenario,
    outcomes: &[Outcome],
    skipped: &[Skipped],
    code: i32,
) -> Value {
    let count = |status: Status| outcomes.iter().filter(|o| o.status() == status).count();
    let results: Vec<Value> = outcomes
        .iter()
        .map(|outcome| {
            let mut value = trace::verdict_json(
                outcome.protocol.name(),
                &outcome.parameters,
                &outcome.verdict,
            );
            value["sizes"] = sizes_json(sizes);
            value["expected"] = json!(outcome.expected.name());
            value["status"] = json!(outcome.status().name());
            value["replay_file"] = json!(outcome
                .replay_file
                .as_ref()
                .map(|file| file.display().to_string()));
            value
        })
        .collect();
    json!({
        "version": trace::JSON_VERSION,
        "command": "check",
        "sizes": sizes_json(sizes),
        "workload": scenario.to_string(),
        "results": results,
        "skipped": skipped
            .iter()
            .map(|s| json!({ "engine": s.engine.name(), "reason": s.reason }))
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

fn sizes_json(sizes: Sizes) -> Value {
    json!({
        "servers": sizes.servers,
        "users": sizes.users,
        "teams": sizes.teams,
        "requests": sizes.requests,
    })
}
