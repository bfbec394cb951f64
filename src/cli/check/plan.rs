//! Which checks a `joincheck check` run makes: every protocol asked for with every engine that
//! can run at these sizes, each with the verdict it must reach. An engine that cannot run at all
//! is skipped with the reason when it came with `--engine all`, and refused when it was asked
//! for. An engine that cannot check one protocol (a model state too wide, loom without room for
//! the protocol's clock) skips that protocol only; a plan left with no check is refused.
//!
//! The model is the same whatever the database, so it runs once per protocol; loom, shuttle and
//! proptest run the real code once per database. A protocol without a model (one that exists
//! only as SQL) is skipped by the model, and one without a service on a database (a lease lock
//! in SQL, a transaction in memory) there, each with the reason.

use super::settings::Settings;
use crate::cli::services;
use joincheck::check::loom::MAX_LOOM_SERVERS;
use joincheck::protocols::{self, CatalogueProtocol, Expected, Storage};
use joincheck_models::domain::Request;
use joincheck_models::verdict::Engine;
use joincheck_models::{requests_in_words, Protocol, ProtocolModel, Sizes};

/// One check to make.
#[derive(Clone, Debug)]
pub struct Check {
    /// The protocol.
    pub protocol: CatalogueProtocol,
    /// The engine.
    pub engine: Engine,
    /// Where the real code runs (none for the model).
    pub database: Option<Storage>,
    /// The verdict it must reach.
    pub expected: Expected,
}

/// An engine or a database that was not run, for some protocols or for all, and why.
#[derive(Clone, Debug)]
pub struct Skipped {
    /// The engine, when one engine was not run.
    pub engine: Option<Engine>,
    /// The database, when it was not run.
    pub database: Option<&'static str>,
    /// The protocols it was not run for (none: for every protocol, or the reason names it).
    pub protocols: Vec<CatalogueProtocol>,
    /// Why it could not run at these settings.
    pub reason: String,
}

impl Skipped {
    /// An engine not run, as the reason says.
    fn engine(engine: Engine, reason: String) -> Skipped {
        Skipped {
            engine: Some(engine),
            database: None,
            protocols: Vec::new(),
            reason,
        }
    }

    /// What was not run, in words: `model`, `sqlite`, `loom on sqlite`.
    pub fn what(&self) -> String {
        match (self.engine, self.database) {
            (Some(engine), Some(database)) => format!("{engine} on {database}"),
            (Some(engine), None) => engine.name().to_string(),
            (None, Some(database)) => database.to_string(),
            (None, None) => "a check".to_string(),
        }
    }

    /// One line: `sqlite skipped for lease-lock, lease-lock-fenced: …`.
    pub fn line(&self) -> String {
        let names: Vec<&str> = self.protocols.iter().map(|p| p.name()).collect();
        match names.is_empty() {
            true => format!("{} skipped: {}", self.what(), self.reason),
            false => format!(
                "{} skipped for {}: {}",
                self.what(),
                names.join(", "),
                self.reason
            ),
        }
    }

    /// Notes `protocol` as skipped by `engine` on `database` for `reason`, in the entry for
    /// the same engine, database and reason if there is one.
    fn note(
        skipped: &mut Vec<Skipped>,
        (engine, database): (Option<Engine>, Option<&'static str>),
        protocol: CatalogueProtocol,
        reason: &str,
    ) {
        let same = skipped.iter_mut().find(|skip| {
            (skip.engine, skip.database) == (engine, database) && skip.reason == reason
        });
        match same {
            Some(skip) => skip.protocols.push(protocol),
            None => skipped.push(Skipped {
                engine,
                database,
                protocols: vec![protocol],
                reason: reason.to_string(),
            }),
        }
    }
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
            (Engine::Dpor, dpor_cannot(settings)),
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
            skipped.push(Skipped::engine(engine, reason));
        }
        let mut checks = Vec::new();
        let real_code: Vec<Engine> = engines
            .iter()
            .copied()
            .filter(|engine| *engine != Engine::Model)
            .collect();
        let databases = match real_code.is_empty() {
            true => &[][..],
            false => &settings.databases[..],
        };
        for &protocol in &settings.protocols {
            if engines.contains(&Engine::Model) {
                let engine = Engine::Model;
                match protocol.model().map(|model| model_fits(settings, model)) {
                    None => {
                        let why = "it exists only as SQL, and has no model";
                        Skipped::note(&mut skipped, (Some(engine), None), protocol, why);
                    }
                    Some(Err(unfit)) => {
                        let reason = format!("{protocol}: {unfit}");
                        skipped.push(Skipped::engine(engine, reason));
                    }
                    Some(Ok(())) => checks.push(Check {
                        protocol,
                        engine,
                        database: None,
                        expected: expected(settings, protocol, None, engine),
                    }),
                }
            }
            for database in databases {
                if let Some(why) = protocols::unavailable(protocol, database) {
                    Skipped::note(&mut skipped, (None, Some(database.name())), protocol, why);
                    continue;
                }
                for &engine in &real_code {
                    if let Err(unfit) = fits(settings, protocol, engine) {
                        let reason = format!("{protocol}: {unfit}");
                        skipped.push(Skipped::engine(engine, reason));
                        continue;
                    }
                    checks.push(Check {
                        protocol,
                        engine,
                        database: Some(database.clone()),
                        expected: expected(settings, protocol, Some(database), engine),
                    });
                }
            }
        }
        if checks.is_empty() {
            let reasons: Vec<String> = skipped
                .iter()
                .map(|skip| match skip.protocols.is_empty() {
                    true => skip.reason.clone(),
                    false => skip.line(),
                })
                .collect();
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
///
/// On a database the registry says what breaks there: the transactions below serializable
/// break on PostgreSQL and hold on SQLite.
fn expected(
    settings: &Settings,
    protocol: CatalogueProtocol,
    database: Option<&Storage>,
    engine: Engine,
) -> Expected {
    if let Some(expected) = settings.expect {
        return expected;
    }
    let dialect = database.and_then(Storage::dialect);
    match (&settings.workload_file, engine) {
        (Some(_), Engine::Loom | Engine::Dpor | Engine::Shuttle) => Expected::Holds,
        _ if protocol.breaks_at(dialect, settings.sizes) => Expected::Violated,
        _ => Expected::Holds,
    }
}

/// Whether the real code's `engine` can check `protocol` at these settings: only loom has a
/// limit on threads that a protocol's own clock takes from the servers, and `--engine all`
/// runs dpor only where loom runs.
fn fits(settings: &Settings, protocol: CatalogueProtocol, engine: Engine) -> Result<(), String> {
    let Some(model) = protocol.model() else {
        return Ok(());
    };
    let room = MAX_LOOM_SERVERS - services::environment_actors(model);
    let scenario = &settings.scenario;
    let clock = "its service's environment (a lease's clock) takes a thread";
    match engine {
        Engine::Loom => scenario
            .at_most_servers(room, "loom")
            .map_err(|error| format!("{error}: {clock}")),
        Engine::Dpor if settings.all_engines => {
            scenario.at_most_servers(room, "loom").map_err(|_| {
                format!(
                    "--engine all runs it only where loom runs, and loom takes at most {room} \
                     servers here (a lease's clock takes a thread); --engine dpor runs it at any \
                     size"
                )
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

/// Why `--engine all` leaves dpor out: it runs there only where loom runs, which bounds the
/// servers and so keeps the default check finite; it explores no more executions than loom, so
/// it finishes wherever loom does. Asked for by name, it runs at any size (`--timeout` bounds
/// it).
fn dpor_cannot(settings: &Settings) -> Option<(String, String)> {
    if !settings.all_engines {
        return None;
    }
    let servers = settings.scenario.servers().len();
    if servers <= MAX_LOOM_SERVERS {
        return None;
    }
    let reason = format!(
        "--engine all runs it only where loom runs, at most {MAX_LOOM_SERVERS} servers (these are \
         {servers}); --engine dpor runs it at any size"
    );
    Some((reason.clone(), reason))
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
