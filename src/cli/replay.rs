//! `joincheck replay FILE`: reruns a counterexample saved by `check --out DIR` and prints the
//! same trace. A model path is replayed on the model, a shuttle schedule on the real service
//! (the same workload under the same schedule), a loom counterexample by rerunning loom's
//! deterministic exploration of the same workload.

use super::services;
use super::{EXIT_INCONCLUSIVE, EXIT_OK, EXIT_UNEXPECTED};
use clap::Args;
use joincheck::check::loom::LoomOptions;
use joincheck::check::shuttle::EncodedSchedule;
use joincheck::check::{Limits, Scenario};
use joincheck::protocols;
use joincheck::trace;
use joincheck_models::domain::{user_on_several_teams, Request, TeamId, UserId};
use joincheck_models::verdict::{Counterexample, Engine, Replay, Verdict};
use joincheck_models::{ProtocolModel, Sizes};
use serde_json::{json, Value};
use std::path::PathBuf;

/// Arguments of `joincheck replay`.
#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// A counterexample file written by `joincheck check --out DIR`.
    /// Example: joincheck replay counterexamples/naive-model.json
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Run a model counterexample on the real service instead of the model: real threads, with
    /// the store admitting operations only in the model path's order. The history must be the
    /// model's, step for step. Example: joincheck replay out/naive-model.json --on-implementation
    #[arg(long)]
    on_implementation: bool,
}

/// The replay file of `found`: its JSON (with the replay data) plus, for the real-code engines,
/// the workload it ran and loom's preemption bound.
pub fn document(found: &Counterexample, sizes: Sizes, preemption_bound: Option<usize>) -> Value {
    let mut value = trace::counterexample_json(found);
    if found.engine != Engine::Model {
        value["scenario"] = parse_scenario(&found.parameters, sizes.users, sizes.teams)
            .map_or(Value::Null, |scenario| scenario_json(&scenario));
    }
    if found.engine == Engine::Loom {
        value["loom"] = json!({ "preemption_bound": preemption_bound });
    }
    value
}

fn scenario_json(scenario: &Scenario) -> Value {
    let servers: Vec<Vec<String>> = scenario
        .servers()
        .iter()
        .map(|requests| requests.iter().map(ToString::to_string).collect())
        .collect();
    json!({ "users": scenario.users(), "teams": scenario.teams(), "servers": servers })
}

/// Reads back what a scenario's `Display` prints (`server-1: join sue → team-A; server-2: …`),
/// without initial memberships (the workloads `check` runs have none).
fn parse_scenario(text: &str, users: u8, teams: u8) -> Option<Scenario> {
    let servers = text
        .split("; ")
        .map(|server| {
            let (_, requests) = server.split_once(": ")?;
            requests.split(", ").map(parse_request).collect()
        })
        .collect::<Option<Vec<Vec<Request>>>>()?;
    Scenario::new(users, teams, servers, Vec::new()).ok()
}

/// `join sue → team-A` or `leave sue ← team-B`.
fn parse_request(text: &str) -> Option<Request> {
    let words: Vec<&str> = text.split_whitespace().collect();
    match words[..] {
        ["join", user, "→", team] => Some(Request::Join {
            user: UserId::parse(user)?,
            team: TeamId::parse(team)?,
        }),
        ["leave", user, "←", team] => Some(Request::Leave {
            user: UserId::parse(user)?,
            team: TeamId::parse(team)?,
        }),
        _ => None,
    }
}

/// Runs `joincheck replay`: 0 when the counterexample is reproduced, 1 when the rerun no longer
/// breaks the invariant, 2 when the file cannot be read as a counterexample.
pub fn run(args: &ReplayArgs) -> Result<i32, String> {
    let name = args.file.display().to_string();
    let bad = |detail: String| format!("{name}: not a joincheck counterexample: {detail}");
    let contents = std::fs::read_to_string(&args.file)
        .map_err(|error| format!("cannot read {name}: {error}"))?;
    let document: Value =
        serde_json::from_str(&contents).map_err(|error| bad(format!("invalid JSON ({error})")))?;
    let version = document["version"].as_u64();
    if version != Some(u64::from(trace::JSON_VERSION)) {
        return Err(bad(format!(
            "version {} (this joincheck reads version {})",
            document["version"],
            trace::JSON_VERSION
        )));
    }
    let protocol = document["protocol"]
        .as_str()
        .ok_or_else(|| bad("no `protocol`".to_string()))?;
    let protocol = protocols::named(protocol).map_err(bad)?;
    let engine = match document["engine"].as_str() {
        Some("model") => Engine::Model,
        Some("loom") => Engine::Loom,
        Some("shuttle") => Engine::Shuttle,
        Some("proptest") => Engine::Proptest,
        Some("stress") => Engine::Stress,
        other => return Err(bad(format!("unknown engine {other:?}"))),
    };
    let replay = &document["replay"];
    let hint = format!("joincheck replay {name}");
    let found = match replay["kind"].as_str() {
        Some("model-path") => {
            let sizes = replay["sizes"]
                .as_array()
                .filter(|sizes| sizes.len() == 4)
                .and_then(|sizes| {
                    let sizes: Option<Vec<u8>> = sizes
                        .iter()
                        .map(|n| n.as_u64().and_then(|n| u8::try_from(n).ok()))
                        .collect();
                    sizes
                })
                .ok_or_else(|| {
                    bad("`replay.sizes` is not [servers, users, teams, requests]".into())
                })?;
            let sizes = Sizes::new(sizes[0], sizes[1], sizes[2], sizes[3])
                .map_err(|error| bad(error.to_string()))?;
            let actions: Vec<String> = replay["actions"]
                .as_array()
                .and_then(|actions| {
                    actions
                        .iter()
                        .map(|a| a.as_str().map(str::to_string))
                        .collect()
                })
                .ok_or_else(|| bad("`replay.actions` is not a list of actions".into()))?;
            let steps = joincheck_models::replay(protocol, sizes, &actions)
                .map_err(|error| bad(error.to_string()))?;
            let steps = if args.on_implementation {
                let model = ProtocolModel::new(protocol, sizes);
                let execution = match services::on_implementation(&model, &actions) {
                    Ok(execution) => execution,
                    Err(mismatch) => {
                        println!("NOT CONFORMING  the implementation did not follow the model path: {mismatch}");
                        return Ok(EXIT_UNEXPECTED);
                    }
                };
                println!(
                    "on the implementation: the real {} service on real threads, operations \
                     admitted in the model path's order; its history equals the model's",
                    protocol.name()
                );
                execution.history
            } else {
                steps
            };
            let last = steps.last().map(|step| step.membership_after.clone());
            let violation = last.and_then(|membership| {
                user_on_several_teams(
                    membership
                        .iter()
                        .map(|(team, user)| (*team, std::slice::from_ref(user))),
                )
            });
            violation.map(|violation| Counterexample {
                protocol: protocol.name().to_string(),
                parameters: sizes.to_string(),
                engine: Engine::Model,
                steps,
                violation,
                replay: Replay::ModelPath {
                    sizes: sizes.as_array(),
                    actions,
                },
            })
        }
        _ if args.on_implementation => {
            return Err(format!(
                "{name}: --on-implementation replays model counterexamples; this one was found \
                 on the implementation already"
            ))
        }
        Some("shuttle-schedule") => {
            let scenario = scenario_of(&document).map_err(bad)?;
            let schedule = replay["schedule"]
                .as_str()
                .ok_or_else(|| bad("no `replay.schedule`".into()))?
                .to_string();
            let found_by = replay["found_by"].as_str().unwrap_or_default().to_string();
            let encoded = EncodedSchedule(schedule.clone());
            let execution = services::shuttle_replay(protocol, &scenario, &encoded)
                .map_err(|error| bad(error.to_string()))?;
            let replay = Replay::ShuttleSchedule { schedule, found_by };
            execution.counterexample(protocol.name().to_string(), &scenario, engine, replay)
        }
        Some("loom-execution") => {
            let scenario = scenario_of(&document).map_err(bad)?;
            let options = LoomOptions {
                preemption_bound: document["loom"]["preemption_bound"]
                    .as_u64()
                    .map(|bound| bound as usize),
                max_iterations: None,
                limits: Limits::default(),
            };
            match services::loom(protocol, &scenario, &options)
                .map_err(|error| bad(error.to_string()))?
            {
                Verdict::Violated { counterexample, .. } => Some(*counterexample),
                Verdict::Holds { .. } => None,
                Verdict::Inconclusive { reason, .. } => {
                    eprintln!("joincheck: the loom rerun was inconclusive: {reason}");
                    return Ok(EXIT_INCONCLUSIVE);
                }
            }
        }
        Some("stress-run") => {
            return Err(format!(
                "{name}: a run on real threads cannot be replayed: the operating system chose \
                 its interleaving (its recorded steps are in the file)"
            ))
        }
        other => return Err(bad(format!("unknown replay kind {other:?}"))),
    };
    match found {
        Some(found) => {
            super::output::emit(&trace::text(&found, Some(&hint)));
            Ok(EXIT_OK)
        }
        None => {
            println!(
                "{protocol}: the replay ran to the end and the invariant held: this \
                 counterexample no longer reproduces"
            );
            Ok(EXIT_UNEXPECTED)
        }
    }
}

/// The workload saved in a replay file.
fn scenario_of(document: &Value) -> Result<Scenario, String> {
    let scenario = &document["scenario"];
    let dimension = |key: &str| {
        scenario[key]
            .as_u64()
            .and_then(|n| u8::try_from(n).ok())
            .ok_or_else(|| format!("no `scenario.{key}`"))
    };
    let (users, teams) = (dimension("users")?, dimension("teams")?);
    let servers = scenario["servers"]
        .as_array()
        .and_then(|servers| {
            servers
                .iter()
                .map(|requests| {
                    requests
                        .as_array()?
                        .iter()
                        .map(|request| parse_request(request.as_str()?))
                        .collect::<Option<Vec<Request>>>()
                })
                .collect::<Option<Vec<Vec<Request>>>>()
        })
        .ok_or_else(|| "`scenario.servers` is not a list of request lists".to_string())?;
    Scenario::new(users, teams, servers, Vec::new()).map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenarios_read_back_from_their_display() {
        let scenario = Scenario::contended(3, 2, 2).unwrap();
        let text = scenario.to_string();
        assert_eq!(parse_scenario(&text, 2, 2), Some(scenario));
        assert_eq!(
            parse_scenario(&Scenario::article().to_string(), 1, 2),
            Some(Scenario::article())
        );
        assert_eq!(parse_scenario("server-1: jump sue", 1, 2), None);
        assert_eq!(
            parse_request("leave john ← team-B"),
            Some(Request::Leave {
                user: UserId(1),
                team: TeamId(1)
            })
        );
    }
}
