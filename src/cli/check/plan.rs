//! Which checks a `joincheck check` run makes: every protocol asked for with every engine that
//! can run at these sizes, each with the verdict it must reach. An engine that cannot run at all
//! is skipped with the reason when it came with `--engine all`, and refused when it was asked
//! for. An engine that cannot check one protocol (a model state too wide, loom without room for
//! the protocol's clock) skips that protocol only; a plan left with no check is refused.

use super::settings::Settings;
use crate::cli::services;
use joincheck::check::loom::MAX_LOOM_SERVERS;
use joincheck::protocols::Expected;
use joincheck_models::domain::Request;
use joincheck_models::verdict::Engine;
use joincheck_models::{requests_in_words, Protocol, ProtocolModel, Sizes};

/// One check to make.
#[derive(Clone, Copy, Debug)]
pub struct Check {
    /// The protocol.
    pub protocol: Protocol,
    /// The engine.
    pub engine: Engine,
    /// The verdict it must reach.
    pub expected: Expected,
}

/// An engine that was not run, and why.
#[derive(Clone, Debug)]
pub struct Skipped {
    /// The engine.
    pub engine: Engine,
    /// Why it could not run at these settings.
    pub reason: String,
}

/// The checks to make, in report order, and the engines left out.
#[derive(Debug)]
pub struct Plan {
    /// Protocol by protocol, engine by engine.
    pub checks: Vec<Check>,
    /// Engines of `--engine all` that cannot run at these settings.
    pub skipped: Vec<Skipped>,
}

impl Plan {
    /// The plan for `settings`, or one line saying why an engine asked for by name cannot run.
    pub fn new(settings: &Settings) -> Result<Plan, String> {
        let mut engines = settings.engines.clone();
        let mut skipped = Vec::new();
        for (engine, cannot) in [
            (Engine::Model, model_cannot(settings)),
            (Engine::Loom, loom_cannot(settings)),
            (Engine::Proptest, proptest_cannot(settings)),
        ] {
            let Some((reason, refusal)) = cannot else {
                continue;
            };
            if !engines.contains(&engine) {
                continue;
            }
            if !settings.all_engines {
                return Err(refusal);
            }
            engines.retain(|e| *e != engine);
            skipped.push(Skipped { engine, reason });
        }
        let mut checks = Vec::new();
        for &protocol in &settings.protocols {
            for &engine in &engines {
                if let Err(unfit) = fits(settings, protocol, engine) {
                    let reason = format!("{protocol}: {unfit}");
                    skipped.push(Skipped { engine, reason });
                    continue;
                }
                checks.push(Check {
                    protocol,
                    engine,
                    expected: expected(settings, protocol, engine),
                });
            }
        }
        if checks.is_empty() {
            let reasons: Vec<String> = skipped.iter().map(|skip| skip.reason.clone()).collect();
            return Err(format!("no check can run: {}", reasons.join("; ")));
        }
        Ok(Plan { checks, skipped })
    }

    /// The engines that run, in order.
    pub fn engines(&self) -> Vec<Engine> {
        let mut engines: Vec<Engine> = Vec::new();
        for check in &self.checks {
            if !engines.contains(&check.engine) {
                engines.push(check.engine);
            }
        }
        engines
    }
}

/// The verdict `engine` must reach on `protocol`: what `--expect` says; otherwise what the
/// model says of these sizes (check-then-act breaks with two servers and two teams), which is
/// about every workload of that size, and the real service is held to the same. A `--workload`
/// is one workload, and a broken protocol breaks only on some: on it, loom and shuttle are
/// expected to find the invariant holding, so that a workload that breaks it is reported.
fn expected(settings: &Settings, protocol: Protocol, engine: Engine) -> Expected {
    if let Some(expected) = settings.expect {
        return expected;
    }
    match (&settings.workload_file, engine) {
        (Some(_), Engine::Loom | Engine::Dpor | Engine::Shuttle) => Expected::Holds,
        _ if protocol.spec().breaks_at(settings.sizes) => Expected::Violated,
        _ => Expected::Holds,
    }
}

/// Whether `engine` can check `protocol` at these settings: only the model packs states, and
/// only loom has a limit on threads that a protocol's own clock takes from the servers.
fn fits(settings: &Settings, protocol: Protocol, engine: Engine) -> Result<(), String> {
    match engine {
        Engine::Model => model_fits(settings, protocol),
        Engine::Loom => {
            let room = MAX_LOOM_SERVERS - services::environment_actors(protocol);
            let scenario = &settings.scenario;
            scenario.at_most_servers(room, "loom").map_err(|error| {
                format!("{error}: its service's environment (a lease's clock) takes a thread")
            })
        }
        _ => Ok(()),
    }
}

/// Whether the model engine can check `protocol` at the settings' sizes, with leaves if asked:
/// its states must pack, and with leaves its log must fit in a state.
fn model_fits(settings: &Settings, protocol: Protocol) -> Result<(), String> {
    let model = ProtocolModel::try_new(protocol, settings.sizes).map_err(|e| e.to_string())?;
    let model = match settings.limits.leaves {
        true => model.with_leaves().map_err(|error| error.to_string())?,
        false => model,
    };
    model.checkable().map_err(|too_wide| too_wide.to_string())
}

/// Why the model cannot check a `--workload`: (the skip reason, the refusal). The models start
/// from an empty database, and have leaves only with `--leaves`.
fn model_cannot(settings: &Settings) -> Option<(String, String)> {
    settings.workload_file.as_ref()?;
    let scenario = &settings.scenario;
    let leaves = scenario
        .servers()
        .iter()
        .flatten()
        .any(|request| matches!(request, Request::Leave { .. }));
    let without_leaves = leaves && !settings.limits.leaves;
    let reason = match (without_leaves, scenario.initial().is_empty()) {
        (_, false) => {
            "the workload starts with members, and the models start from an empty database"
        }
        (true, true) => {
            "the workload has leave requests, and the models have leaves only with --leaves"
        }
        (false, true) => return None,
    };
    let refusal = format!("the model cannot check this workload: {reason}");
    Some((reason.to_string(), refusal))
}

/// Why loom cannot run this workload: (the skip reason, the refusal).
fn loom_cannot(settings: &Settings) -> Option<(String, String)> {
    let error = settings
        .scenario
        .at_most_servers(MAX_LOOM_SERVERS, "loom")
        .err()?;
    Some((error.to_string(), error.to_string()))
}

/// Why proptest cannot run: (the skip reason, the refusal).
fn proptest_cannot(settings: &Settings) -> Option<(String, String)> {
    let reason = if settings.workload_file.is_some() {
        "it generates its own workloads; --workload is for loom and shuttle"
    } else if settings.sizes.servers < 2 {
        "it generates workloads of at least 2 servers"
    } else {
        return None;
    };
    let refusal = match settings.workload_file {
        Some(_) => format!("proptest cannot check a --workload: {reason}"),
        None => format!("proptest cannot check 1 server: {reason}"),
    };
    Some((reason.to_string(), refusal))
}

/// What `engine` checks at `settings`, in words.
pub fn parameters(engine: Engine, settings: &Settings) -> String {
    match engine {
        Engine::Model => {
            let leaves = settings.limits.leaves;
            format!("{}{}", settings.sizes, requests_in_words(leaves))
        }
        Engine::Proptest => generated_workloads(settings.sizes),
        _ => settings.scenario.to_string(),
    }
}

/// "generated workloads of up to 2 servers × 1 request each over 1 user and 2 teams".
pub fn generated_workloads(sizes: Sizes) -> String {
    let count = joincheck_models::plural;
    format!(
        "generated workloads of up to {} × {} each over {} and {}",
        count(sizes.servers, "server"),
        count(sizes.requests, "request"),
        count(sizes.users, "user"),
        count(sizes.teams, "team")
    )
}
