//! Reruns what a replay file recorded: the model path on the model (or on the real service), the
//! shuttle schedule or the loom exploration on the real service, on the file's workload.

use crate::cli::services;
use joincheck::check::dpor;
use joincheck::check::loom::LoomOptions;
use joincheck::check::shuttle::EncodedSchedule;
use joincheck::check::{first_broken_step, Execution, Invariants, Scenario};
use joincheck::protocols::{CatalogueProtocol, Storage};
use joincheck::trace::file::{CounterexampleFile, ReplayRecord};
use joincheck_models::operation::Step;
use joincheck_models::verdict::{Counterexample, Engine, Replay, Verdict};
use joincheck_models::{plural, requests_in_words, Action, Protocol, ProtocolModel, Sizes};

/// How a rerun ended.
pub enum Rerun {
    /// It broke the invariant, as here.
    Broke(Counterexample),
    /// It ran to the end with the invariant intact.
    Held,
    /// It could not be judged: inconclusive, and why.
    Inconclusive(String),
    /// The implementation did not follow the model path (`--on-implementation`), and how.
    NotConforming(String),
}

/// Why a file cannot be rerun.
pub enum Refusal {
    /// The file does not describe a run this joincheck can make.
    Unreadable(String),
    /// The file describes a run, but not one that can be made again.
    Impossible(String),
}

impl Refusal {
    /// The one line saying why `file` was refused.
    pub fn message(self, file: &str) -> String {
        match self {
            Refusal::Unreadable(why) => format!("{file}: not a joincheck counterexample: {why}"),
            Refusal::Impossible(why) => format!("{file}: {why}"),
        }
    }
}

/// What a rerun `execution` of a schedule shows, judged step by step as the run that found it
/// was: `engine` names the engine in words when it cannot be judged.
fn judged(
    execution: &Execution,
    (protocol, scenario, recorded, replay): (CatalogueProtocol, &Scenario, Engine, Replay),
    engine: &str,
) -> Rerun {
    let found = execution.counterexample(
        protocol.name().to_string(),
        scenario,
        &Invariants::default(),
        recorded,
        replay,
    );
    match found {
        Ok(found) => found.map_or(Rerun::Held, Rerun::Broke),
        Err(unjudged) => {
            Rerun::Inconclusive(format!("the {engine} rerun was inconclusive: {unjudged}"))
        }
    }
}

fn unreadable(why: impl ToString) -> Refusal {
    Refusal::Unreadable(why.to_string())
}

/// Reruns `file` the way its engine found it, the real code on `database`.
pub fn rerun(
    file: &CounterexampleFile,
    protocol: CatalogueProtocol,
    database: &Storage,
) -> Result<Rerun, Refusal> {
    let service = (protocol, database);
    match &file.replay {
        ReplayRecord::ModelPath { sizes, actions } => {
            let model = model_of(file, modelled(protocol)?, sizes_of(*sizes)?, actions)?;
            let steps = model.replay(actions).map_err(unreadable)?;
            Ok(model_outcome(&model, actions, steps))
        }
        ReplayRecord::ShuttleSchedule { schedule, found_by } => {
            let scenario = workload(file)?;
            let encoded = EncodedSchedule(schedule.clone());
            let execution = services::shuttle_replay(service, &scenario, &encoded)
                .map_err(Refusal::Impossible)?
                .map_err(|bad| unreadable(format!("`replay.schedule`: {bad}")))?;
            let replay = Replay::ShuttleSchedule {
                schedule: schedule.clone(),
                found_by: found_by.clone(),
            };
            let rerun = (protocol, &scenario, file.engine, replay);
            Ok(judged(&execution, rerun, "shuttle"))
        }
        ReplayRecord::LoomExecution { .. } => {
            let scenario = workload(file)?;
            let mut options = LoomOptions::default();
            options.preemption_bound = file.loom.and_then(|loom| loom.preemption_bound);
            let executions = services::Executions::default();
            match services::loom(service, &scenario, &options, &executions).map_err(unreadable)? {
                Verdict::Violated { counterexample, .. } => Ok(Rerun::Broke(*counterexample)),
                Verdict::Holds { .. } => Ok(Rerun::Held),
                Verdict::Inconclusive { reason, .. } => Ok(Rerun::Inconclusive(format!(
                    "the loom rerun was inconclusive: {reason}"
                ))),
            }
        }
        ReplayRecord::DporSchedule { schedule } => {
            let scenario = workload(file)?;
            let threads = dpor::decode_schedule(schedule)
                .map_err(|bad| unreadable(format!("`replay.schedule`: {bad}")))?;
            let execution = services::dpor_replay(service, &scenario, &threads)
                .map_err(|why| Refusal::Impossible(format!("the DPOR schedule: {why}")))?;
            let replay = Replay::DporSchedule {
                schedule: schedule.clone(),
            };
            let rerun = (protocol, &scenario, file.engine, replay);
            Ok(judged(&execution, rerun, "DPOR"))
        }
        ReplayRecord::StressRun { .. } => Err(Refusal::Impossible(
            "a run on real threads cannot be replayed: the operating system chose its \
             interleaving (its recorded steps are in the file)"
                .to_string(),
        )),
    }
}

/// Runs `file`'s model path on the real service on `database`, operations admitted in the
/// path's order.
pub fn on_implementation(
    file: &CounterexampleFile,
    protocol: CatalogueProtocol,
    database: &Storage,
) -> Result<Rerun, Refusal> {
    let ReplayRecord::ModelPath { sizes, actions } = &file.replay else {
        return Err(Refusal::Impossible(
            "--on-implementation replays model counterexamples; this one was found on the \
             implementation already"
                .to_string(),
        ));
    };
    let model = model_of(file, modelled(protocol)?, sizes_of(*sizes)?, actions)?;
    // The path must be one of the model's before the implementation is held to it.
    model.replay(actions).map_err(unreadable)?;
    match services::on_implementation(database, &model, actions).map_err(Refusal::Impossible)? {
        Ok(execution) => Ok(model_outcome(&model, actions, execution.history)),
        Err(mismatch) => Ok(Rerun::NotConforming(format!(
            "the implementation did not follow the model path: {mismatch}"
        ))),
    }
}

/// The model of `protocol`, which a model path needs.
fn modelled(protocol: CatalogueProtocol) -> Result<Protocol, Refusal> {
    protocol.model().ok_or_else(|| {
        unreadable(format!(
            "`protocol`: {protocol} exists only as SQL and has no model, so no model path is one \
             of its"
        ))
    })
}

/// The model `file`'s path was found on: the one with leaves when the file says its check had
/// them (in its parameters, as the checker writes them) or the path starts a leave.
fn model_of(
    file: &CounterexampleFile,
    protocol: Protocol,
    sizes: Sizes,
    actions: &[String],
) -> Result<ProtocolModel, Refusal> {
    let model = ProtocolModel::try_new(protocol, sizes).map_err(unreadable)?;
    let leaves = file.parameters.ends_with(requests_in_words(true))
        || actions
            .iter()
            .filter_map(|text| Action::parse(text))
            .any(Action::starts_leave);
    match leaves {
        true => model.with_leaves().map_err(unreadable),
        false => Ok(model),
    }
}

/// A model path's steps as a rerun: broken at the first step after which a user is on two
/// teams, judged after every step as the model checker judges every state.
fn model_outcome(model: &ProtocolModel, actions: &[String], steps: Vec<Step>) -> Rerun {
    let Some((index, violation)) = first_broken_step(&steps) else {
        return Rerun::Held;
    };
    let sizes = model.sizes();
    Rerun::Broke(Counterexample {
        protocol: model.protocol().name().to_string(),
        parameters: format!("{sizes}{}", requests_in_words(model.leaves())),
        engine: Engine::Model,
        steps: steps[..=index].to_vec(),
        violation,
        replay: Replay::ModelPath {
            sizes: sizes.as_array(),
            actions: actions.to_vec(),
        },
    })
}

fn sizes_of([servers, users, teams, requests]: [u8; 4]) -> Result<Sizes, Refusal> {
    Sizes::new(servers, users, teams, requests)
        .map_err(|error| unreadable(format!("`replay.sizes`: {error}")))
}

/// The workload the file's real-code run ran.
fn workload(file: &CounterexampleFile) -> Result<Scenario, Refusal> {
    let workload = file
        .scenario
        .as_ref()
        .ok_or_else(|| unreadable("no `scenario`: the workload the real code ran"))?;
    workload.scenario().map_err(|error| {
        unreadable(format!(
            "`scenario`: {error} (it declares {} and {})",
            plural(workload.users, "user"),
            plural(workload.teams, "team")
        ))
    })
}
