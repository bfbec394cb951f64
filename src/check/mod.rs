//! The checking engines. Each runs a [`JoinService`] on a [`Scenario`] and returns a
//! [`Verdict`](joincheck_models::verdict::Verdict); every violation carries a
//! [`Counterexample`](joincheck_models::verdict::Counterexample) built from the store's operation
//! history, judged after every recorded step ([`Execution::judge`]).
//!
//! The engines take the service as a factory and build the database and servers inside every
//! checked run, so loom and shuttle primitives are only ever created where they are valid.

/// An engine's option builders: a method per listed field that sets it
/// (`ShuttleOptions::default().seed(7)`), and `invariant`, which adds one to those judged
/// (not for options `without invariants`).
macro_rules! option_builders {
    (without invariants $options:ident { $($(#[$doc:meta])* $field:ident: $type:ty;)* }) => {
        impl $options {
            $($(#[$doc])* pub fn $field(mut self, $field: $type) -> Self {
                self.$field = $field;
                self
            })*
        }
    };
    ($options:ident { $($(#[$doc:meta])* $field:ident: $type:ty;)* }) => {
        option_builders!(without invariants $options { $($(#[$doc])* $field: $type;)* });

        impl $options {
            /// Judges `invariant` too, after every step.
            pub fn invariant(mut self, invariant: $crate::check::Invariant) -> Self {
                self.invariants = self.invariants.and(invariant);
                self
            }
        }
    };
}

pub(crate) use option_builders;

pub mod conform;
pub mod dpor;
mod execution;
mod invariant;
pub mod loom;
pub mod proptest;
mod quiet;
mod scenario;
mod schedule;
pub mod shuttle;

pub mod stress;

pub use execution::{first_broken_step, Execution, Judgement, Unjudged};
pub use invariant::{Invariant, Invariants};
pub use scenario::{Scenario, ScenarioError, MAX_SCENARIO_SERVERS};

use crate::runtime::{self, Runtime};
use crate::service::{JoinService, Server};
use crate::store::Recording;
use joincheck_models::domain::{JoinError, ServerId};
use std::panic;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Runs `scenario` once on runtime `R`: one thread per server, each handling its requests in
/// order. Panics from the implementation propagate to the caller.
pub fn run_once<R: Runtime, S: JoinService<R>>(
    service: &S,
    scenario: &Scenario,
    recording: Recording,
) -> Execution {
    let database = service.open_database(scenario.initial(), recording);
    let answers = run_servers::<R, S>(service, scenario, &database, &Around::default());
    Execution::of(database.as_ref(), answers)
}

/// What every server thread does before its first request and after its last.
#[derive(Clone)]
pub(crate) struct Around {
    /// Before the first request (a barrier, on real threads, so the servers overlap).
    pub start: Arc<dyn Fn() + Send + Sync>,
    /// After the last request (telling an enforced order the server is done).
    pub finish: Arc<dyn Fn(ServerId) + Send + Sync>,
}

impl Default for Around {
    fn default() -> Self {
        Around {
            start: Arc::new(|| {}),
            finish: Arc::new(|_| {}),
        }
    }
}

/// Starts one thread per server of `scenario` on `database`, each handling its requests in
/// order, and one per actor of the service's environment; returns each server's answers once
/// all are done. Panics from the implementation propagate.
pub(crate) fn run_servers<R: Runtime, S: JoinService<R>>(
    service: &S,
    scenario: &Scenario,
    database: &Arc<S::Database>,
    around: &Around,
) -> Vec<Vec<Result<(), JoinError>>> {
    let handles: Vec<_> = scenario
        .servers()
        .iter()
        .enumerate()
        .map(|(index, requests)| {
            let id = ServerId(index as u8);
            let mut server = service.start_server(database, id);
            let (requests, around) = (requests.clone(), around.clone());
            runtime::spawn::<R, _>(move || {
                (around.start)();
                let answers = requests.into_iter().map(|r| server.handle(r)).collect();
                (around.finish)(id);
                answers
            })
        })
        .collect();
    let environment: Vec<_> = service
        .environment(database)
        .into_iter()
        .map(runtime::spawn::<R, _>)
        .collect();
    let answers = handles
        .into_iter()
        .map(|handle| R::join(handle).unwrap_or_else(|payload| panic::resume_unwind(payload)))
        .collect();
    for handle in environment {
        R::join(handle).unwrap_or_else(|payload| panic::resume_unwind(payload));
    }
    answers
}

/// When to give up on a check before it covers its scope. A check stopped this way is
/// inconclusive, never a pass.
///
/// ```
/// use joincheck::check::Limits;
/// use std::time::Duration;
///
/// let limits = Limits::default().timeout(Duration::from_secs(60));
/// assert_eq!(limits.timeout, Some(Duration::from_secs(60)));
/// ```
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct Limits {
    /// Stop once this much time has passed.
    pub timeout: Option<Duration>,
    /// Stop as soon as this flag is set (a Ctrl-C handler sets it).
    pub stop: Option<Arc<AtomicBool>>,
    /// Stop before the check's own bookkeeping outgrows this many bytes: conformance keeps a
    /// model state for each way a history could have gone so far. (The other engines keep
    /// nothing that grows with a run.)
    pub memory: Option<u64>,
}

impl Limits {
    /// Stops once `timeout` has passed.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Stops as soon as `stop` is set.
    pub fn stop(mut self, stop: Arc<AtomicBool>) -> Self {
        self.stop = Some(stop);
        self
    }

    /// Stops before conformance's candidate model states outgrow `bytes`.
    pub fn memory(mut self, bytes: u64) -> Self {
        self.memory = Some(bytes);
        self
    }

    /// Why a check that started at `started` must stop now, if it must: `stop request` or
    /// `timeout`, the words every engine's reason uses after "stopped by the".
    pub fn reached(&self, started: Instant) -> Option<&'static str> {
        if self
            .stop
            .as_ref()
            .is_some_and(|stop| stop.load(Ordering::Relaxed))
        {
            Some("stop request")
        } else if self.timeout.is_some_and(|limit| started.elapsed() > limit) {
            Some("timeout")
        } else {
            None
        }
    }
}

/// The scope of a verdict that holds, qualified when a run relied on a statement the database
/// does not make atomic (`reason` says which and why): interleaving whole statements cannot
/// show a race inside one, so the verdict is then evidence, not proof.
pub(crate) fn whole_statements(scope: String, not_atomic: Option<&str>) -> String {
    match not_atomic {
        None => scope,
        Some(reason) => {
            format!("{scope}; for whole statements only: evidence, not proof ({reason})")
        }
    }
}

/// The message of a panic payload, for reporting a panicking implementation.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic without a message".to_string()
    }
}
