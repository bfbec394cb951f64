//! Versioned JSON for tools. Field names are part of the public interface: bump
//! [`JSON_VERSION`] when one changes meaning.

use joincheck_models::operation::{OpResult, Operation, Step};
use joincheck_models::verdict::{Counterexample, Replay, Verdict};
use serde_json::{json, Value};

/// The schema version of every JSON document joincheck writes.
pub const JSON_VERSION: u32 = 1;

/// A verdict as JSON: `verdict`, `engine`, `protocol`, `scope` or `reason`, `statistics`, and the
/// `counterexample` when violated.
pub fn verdict_json(protocol: &str, parameters: &str, verdict: &Verdict) -> Value {
    let stats = verdict.stats();
    let mut value = json!({
        "version": JSON_VERSION,
        "verdict": verdict.kind(),
        "engine": verdict.engine().name(),
        "protocol": protocol,
        "parameters": parameters,
        "statistics": {
            "unique_states": stats.unique_states,
            "generated_states": stats.generated_states,
            "max_depth": stats.max_depth,
            "iterations": stats.iterations,
            "seconds": stats.seconds,
        },
    });
    match verdict {
        Verdict::Holds { scope, .. } => value["scope"] = json!(scope),
        Verdict::Inconclusive { reason, .. } => value["reason"] = json!(reason),
        Verdict::Violated { counterexample, .. } => {
            value["counterexample"] = counterexample_json(counterexample)
        }
    }
    value
}

/// A counterexample as JSON, with everything needed to replay it.
pub fn counterexample_json(counterexample: &Counterexample) -> Value {
    let violation = &counterexample.violation;
    json!({
        "version": JSON_VERSION,
        "protocol": counterexample.protocol,
        "parameters": counterexample.parameters,
        "engine": counterexample.engine.name(),
        "violation": {
            "user": violation.user.to_string(),
            "teams": violation.teams.iter().map(ToString::to_string).collect::<Vec<_>>(),
        },
        "steps": counterexample.steps.iter().map(step_json).collect::<Vec<_>>(),
        "replay": replay_json(&counterexample.replay),
    })
}

fn step_json(step: &Step) -> Value {
    json!({
        "server": step.server.to_string(),
        "operation": step.operation.verb(),
        "detail": step.operation.to_string(),
        "arguments": operation_arguments(&step.operation),
        "result": step.result.to_string(),
        "conflict": matches!(step.result, OpResult::Conflict { .. }),
        "membership_after": step
            .membership_after
            .iter()
            .map(|(team, user)| json!({ "team": team.to_string(), "user": user.to_string() }))
            .collect::<Vec<_>>(),
    })
}

fn operation_arguments(operation: &Operation) -> Value {
    match operation {
        Operation::FindTeamOf { user } => json!({ "user": user.to_string() }),
        Operation::PushMember { team, user } | Operation::PullMember { team, user } => {
            json!({ "team": team.to_string(), "user": user.to_string() })
        }
        Operation::Read { stream } => json!({ "stream": stream.to_string() }),
        Operation::Append {
            stream,
            expected,
            events,
        } => json!({
            "stream": stream.to_string(),
            "expected_version": expected,
            "events": events.iter().map(ToString::to_string).collect::<Vec<_>>(),
        }),
    }
}

fn replay_json(replay: &Replay) -> Value {
    match replay {
        Replay::ModelPath { sizes, actions } => {
            json!({ "kind": "model-path", "sizes": sizes, "actions": actions })
        }
        Replay::ShuttleSchedule { schedule, found_by } => {
            json!({ "kind": "shuttle-schedule", "schedule": schedule, "found_by": found_by })
        }
        Replay::LoomExecution { iteration } => {
            json!({ "kind": "loom-execution", "iteration": iteration })
        }
        Replay::StressRun { run } => json!({ "kind": "stress-run", "run": run }),
    }
}
