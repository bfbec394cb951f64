//! A rerun against its file: the same run, step for step (server, operation, result, membership
//! after), the same violation, and for loom the same execution. Anything less is not a
//! reproduction, however much the rerun looks like one.

use joincheck::trace::file::{CounterexampleFile, ReplayRecord, StepRecord};
use joincheck_models::verdict::Counterexample;
use serde_json::Value;

/// The first way `rerun` differs from `file`, in words; `None` when it reproduces the file.
pub fn first_difference(file: &CounterexampleFile, rerun: &Counterexample) -> Option<String> {
    let rerun = CounterexampleFile::new(rerun, None, None);
    if file.parameters != rerun.parameters {
        return Some(format!(
            "what was checked: the file says `{}`, the rerun checked `{}`",
            file.parameters, rerun.parameters
        ));
    }
    let longest = file.steps.len().max(rerun.steps.len());
    for index in 0..longest {
        let (saved, rerun) = (file.steps.get(index), rerun.steps.get(index));
        if saved == rerun {
            continue;
        }
        // Two steps that read the same in words differ in a field the words leave out: name it.
        let unseen = (step(saved) == step(rerun))
            .then(|| saved.zip(rerun).and_then(field_differing))
            .flatten();
        let Some((field, saved_value, rerun_value)) = unseen else {
            return Some(format!(
                "step {}: the file has {}, the rerun has {}",
                index + 1,
                step(saved),
                step(rerun)
            ));
        };
        return Some(format!(
            "step {}, `{field}`: the file has {saved_value}, the rerun has {rerun_value} (the \
             step: {})",
            index + 1,
            step(rerun.or(saved))
        ));
    }
    if file.violation != rerun.violation {
        return Some(format!(
            "the violation: the file has {}, the rerun has {}",
            file.violation, rerun.violation
        ));
    }
    if let (
        ReplayRecord::LoomExecution { iteration: saved },
        ReplayRecord::LoomExecution { iteration: rerun },
    ) = (&file.replay, &rerun.replay)
    {
        if saved != rerun {
            return Some(format!(
                "the loom execution: the file has execution {saved}, the rerun broke the \
                 invariant at execution {rerun}"
            ));
        }
    }
    None
}

/// The first field in which two steps differ (`conflict`, `arguments.user`), with its value in
/// each, as JSON.
fn field_differing((saved, rerun): (&StepRecord, &StepRecord)) -> Option<(String, String, String)> {
    let fields = |step: &StepRecord| -> Vec<(String, Value)> {
        let Ok(Value::Object(object)) = serde_json::to_value(step) else {
            return Vec::new();
        };
        let mut fields = Vec::new();
        for (name, value) in object {
            match value {
                Value::Object(arguments) => fields.extend(
                    arguments
                        .into_iter()
                        .map(|(argument, value)| (format!("{name}.{argument}"), value)),
                ),
                value => fields.push((name, value)),
            }
        }
        fields
    };
    let (saved, rerun) = (fields(saved), fields(rerun));
    let value_of = |fields: &[(String, Value)], name: &str| {
        fields
            .iter()
            .find(|(field, _)| field == name)
            .map_or_else(|| "nothing".to_string(), |(_, value)| value.to_string())
    };
    let names = saved.iter().chain(&rerun).map(|(name, _)| name);
    names
        .map(|name| (name.clone(), value_of(&saved, name), value_of(&rerun, name)))
        .find(|(_, saved, rerun)| saved != rerun)
}

/// `server-2 act push sue → team-B → ok, after: team-A: sue, team-B: sue`.
fn step(step: Option<&StepRecord>) -> String {
    let Some(step) = step else {
        return "no such step".to_string();
    };
    let after: Vec<String> = step
        .membership_after
        .iter()
        .map(|member| format!("{}: {}", member.team, member.user))
        .collect();
    let after = match after.is_empty() {
        true => "nobody on a team".to_string(),
        false => after.join(", "),
    };
    format!(
        "`{} {} {} → {}, after: {after}`",
        step.server, step.operation, step.detail, step.result
    )
}
