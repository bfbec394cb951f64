//! Which checks a `joincheck check` run makes: every protocol asked for with every engine that
//! can run at these sizes, each with the verdict it must reach. An engine that cannot run is
//! skipped with the reason when it came with `--engine all`, and refused when it was asked for.

use super::args::EngineArg;
use super::settings::Settings;
use clap::ValueEnum;
use joincheck::check::loom::MAX_LOOM_SERVERS;
use joincheck::protocols::Expected;
use joincheck_models::verdict::Engine;
use joincheck_models::{Protocol, ProtocolModel, Sizes};

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
    /// The plan for `settings`, or one line saying why the engine asked for cannot run.
    pub fn new(settings: &Settings) -> Result<Plan, String> {
        let mut engines: Vec<Engine> = match settings.engine {
            EngineArg::One(engine) => vec![engine],
            EngineArg::All => EngineArg::value_variants()
                .iter()
                .filter_map(|arg| match arg {
                    EngineArg::One(engine) => Some(*engine),
                    EngineArg::All => None,
                })
                .collect(),
        };
        let mut skipped = Vec::new();
        for (engine, cannot) in [
            (Engine::Loom, loom_cannot(settings)),
            (Engine::Proptest, proptest_cannot(settings.sizes)),
        ] {
            let Some((reason, refusal)) = cannot else {
                continue;
            };
            if !engines.contains(&engine) {
                continue;
            }
            if settings.engine == EngineArg::One(engine) {
                return Err(refusal);
            }
            engines.retain(|e| *e != engine);
            skipped.push(Skipped { engine, reason });
        }
        let mut checks = Vec::new();
        for &protocol in &settings.protocols {
            let expected = settings
                .expect
                .unwrap_or_else(|| expected(protocol, settings.sizes));
            for &engine in &engines {
                // Only the model engine packs states, and only some protocols' states are wide.
                if engine == Engine::Model {
                    let model = ProtocolModel::new(protocol, settings.sizes);
                    if let Err(too_wide) = model.checkable() {
                        if settings.engine == EngineArg::One(Engine::Model) {
                            return Err(too_wide.to_string());
                        }
                        let reason = format!("{protocol}: {too_wide}");
                        skipped.push(Skipped { engine, reason });
                        continue;
                    }
                }
                checks.push(Check {
                    protocol,
                    engine,
                    expected,
                });
            }
        }
        Ok(Plan { checks, skipped })
    }
}

/// What a check of `protocol` at `sizes` must conclude: the model says at which sizes it breaks
/// (check-then-act needs two servers and two teams), and the real service is held to the same.
fn expected(protocol: Protocol, sizes: Sizes) -> Expected {
    match protocol.spec().breaks_at(sizes) {
        true => Expected::Violated,
        false => Expected::Holds,
    }
}

/// Why loom cannot run this workload: (the skip reason, the refusal).
fn loom_cannot(settings: &Settings) -> Option<(String, String)> {
    let error = settings
        .scenario
        .at_most_servers(MAX_LOOM_SERVERS, "loom")
        .err()?;
    Some((error.to_string(), error.to_string()))
}

/// Why proptest cannot run at `sizes`: (the skip reason, the refusal).
fn proptest_cannot(sizes: Sizes) -> Option<(String, String)> {
    if sizes.servers >= 2 {
        return None;
    }
    let reason = "it generates workloads of at least 2 servers".to_string();
    let refusal = format!("proptest cannot check 1 server: {reason}");
    Some((reason, refusal))
}

/// What `engine` checks at `settings`, in words.
pub fn parameters(engine: Engine, settings: &Settings) -> String {
    match engine {
        Engine::Model => settings.sizes.to_string(),
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
