//! The generic engines, run on the service the registry ([`joincheck::protocols`]) has for a
//! protocol. The engines are generic over the service type; each function here is the one
//! place an engine meets the registry. The engines that run the real code count their
//! executions in an [`Executions`] counter, which progress shows.

use joincheck::check::conform::{replay_on_implementation, ReplayMismatch};
use joincheck::check::dpor::{self as dpor_engine, DporOptions};
use joincheck::check::loom::{self as loom_engine, LoomOptions};
use joincheck::check::proptest::{self as proptest_engine, ProptestOptions};
use joincheck::check::shuttle::ShuttleOptions;
use joincheck::check::shuttle::{self as shuttle_engine, BadSchedule, EncodedSchedule};
use joincheck::check::stress::{self as stress_engine, StressOptions, StressReport};
use joincheck::check::{Execution, Scenario, ScenarioError};
use joincheck::protocols::{with_builtin, Builtin, Service, WithBuiltin};
use joincheck::runtime::{Runtime, Std};
use joincheck::service::JoinService;
use joincheck::store::Recording;
use joincheck_models::domain::{ServerId, TeamId, UserId};
use joincheck_models::verdict::Verdict;
use joincheck_models::{Protocol, ProtocolModel};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// How many executions an engine has begun: the databases it opened to record one.
pub type Executions = Arc<AtomicU64>;

/// A service that counts its executions in `executions`, for progress; otherwise `service`.
#[derive(Clone)]
pub struct Counted<S> {
    service: S,
    executions: Executions,
}

impl<S> Counted<S> {
    /// `service`, counting in `executions`.
    pub fn new(service: S, executions: &Executions) -> Counted<S> {
        Counted {
            service,
            executions: Arc::clone(executions),
        }
    }
}

impl<R: Runtime, S: JoinService<R>> JoinService<R> for Counted<S> {
    type Database = S::Database;
    type Server = S::Server;

    fn name(&self) -> String {
        self.service.name()
    }

    /// An engine opens a recording database for each execution (loom's count of the service's
    /// clock opens one that records nothing, which is not an execution).
    fn open_database(
        &self,
        initial: &[(TeamId, UserId)],
        recording: Recording,
    ) -> Arc<Self::Database> {
        if recording == Recording::On {
            self.executions.fetch_add(1, Ordering::Relaxed);
        }
        self.service.open_database(initial, recording)
    }

    fn start_server(&self, database: &Arc<Self::Database>, id: ServerId) -> Self::Server {
        self.service.start_server(database, id)
    }

    fn environment(&self, database: &Arc<Self::Database>) -> Vec<Box<dyn FnOnce() + Send>> {
        self.service.environment(database)
    }
}

/// loom: every interleaving of `scenario` on `protocol`'s service.
pub fn loom(
    protocol: Protocol,
    scenario: &Scenario,
    options: &LoomOptions,
    executions: &Executions,
) -> Result<Verdict, ScenarioError> {
    struct Work<'a>(&'a Scenario, &'a LoomOptions, &'a Executions);
    impl WithBuiltin for Work<'_> {
        type Output = Result<Verdict, ScenarioError>;
        fn run<S: Service>(self, builtin: Builtin<S>) -> Self::Output {
            loom_engine::check(Counted::new(builtin.service, self.2), self.0, self.1)
        }
    }
    with_builtin(protocol, Work(scenario, options, executions))
}

/// DPOR: one interleaving of `scenario` per class of equivalent ones, on `protocol`'s service.
pub fn dpor(
    protocol: Protocol,
    scenario: &Scenario,
    options: &DporOptions,
    executions: &Executions,
) -> Verdict {
    struct Work<'a>(&'a Scenario, &'a DporOptions, &'a Executions);
    impl WithBuiltin for Work<'_> {
        type Output = Verdict;
        fn run<S: Service>(self, builtin: Builtin<S>) -> Verdict {
            let service = Counted::new(builtin.service, self.2);
            dpor_engine::check(service, self.0, self.1).unwrap_or_else(|error| {
                Verdict::Inconclusive {
                    engine: joincheck_models::verdict::Engine::Dpor,
                    reason: format!("not run: {error}"),
                    stats: Default::default(),
                }
            })
        }
    }
    with_builtin(protocol, Work(scenario, options, executions))
}

/// DPOR again, following one recorded schedule.
pub fn dpor_replay(
    protocol: Protocol,
    scenario: &Scenario,
    schedule: &[usize],
) -> Result<Execution, String> {
    struct Work<'a>(&'a Scenario, &'a [usize]);
    impl WithBuiltin for Work<'_> {
        type Output = Result<Execution, String>;
        fn run<S: Service>(self, builtin: Builtin<S>) -> Self::Output {
            dpor_engine::replay(&builtin.service, self.0, self.1)
        }
    }
    with_builtin(protocol, Work(scenario, schedule))
}

/// shuttle: schedules of `scenario` on `protocol`'s service.
pub fn shuttle(
    protocol: Protocol,
    scenario: &Scenario,
    options: &ShuttleOptions,
    executions: &Executions,
) -> Verdict {
    struct Work<'a>(&'a Scenario, &'a ShuttleOptions, &'a Executions);
    impl WithBuiltin for Work<'_> {
        type Output = Verdict;
        fn run<S: Service>(self, builtin: Builtin<S>) -> Verdict {
            shuttle_engine::check(Counted::new(builtin.service, self.2), self.0, self.1)
        }
    }
    with_builtin(protocol, Work(scenario, options, executions))
}

/// shuttle again, under one recorded schedule.
pub fn shuttle_replay(
    protocol: Protocol,
    scenario: &Scenario,
    schedule: &EncodedSchedule,
) -> Result<Execution, BadSchedule> {
    struct Work<'a>(&'a Scenario, &'a EncodedSchedule);
    impl WithBuiltin for Work<'_> {
        type Output = Result<Execution, BadSchedule>;
        fn run<S: Service>(self, builtin: Builtin<S>) -> Self::Output {
            shuttle_engine::replay(builtin.service, self.0, self.1)
        }
    }
    with_builtin(protocol, Work(scenario, schedule))
}

/// proptest: generated workloads on `protocol`'s service; with the shrunk workload of a
/// violation.
pub fn proptest(
    protocol: Protocol,
    options: &ProptestOptions,
    executions: &Executions,
) -> (Verdict, Option<Scenario>) {
    struct Work<'a>(&'a ProptestOptions, &'a Executions);
    impl WithBuiltin for Work<'_> {
        type Output = (Verdict, Option<Scenario>);
        fn run<S: Service>(self, builtin: Builtin<S>) -> Self::Output {
            proptest_engine::check_workloads(Counted::new(builtin.service, self.1), self.0)
        }
    }
    with_builtin(protocol, Work(options, executions))
}

/// A model path run on `model`'s protocol's service, operations admitted in the path's order.
pub fn on_implementation(
    protocol: Protocol,
    model: &ProtocolModel,
    actions: &[String],
) -> Result<Execution, Box<ReplayMismatch>> {
    struct Work<'a>(&'a ProtocolModel, &'a [String]);
    impl WithBuiltin for Work<'_> {
        type Output = Result<Execution, Box<ReplayMismatch>>;
        fn run<S: Service>(self, builtin: Builtin<S>) -> Self::Output {
            replay_on_implementation(&builtin.service, self.0, self.1)
        }
    }
    with_builtin(protocol, Work(model, actions))
}

/// How many threads `protocol`'s service runs besides its servers (a lease's clock, say), which
/// take loom's room for servers. Counted on a database opened for the purpose, the actors not run.
pub fn environment_actors(protocol: Protocol) -> usize {
    struct Work;
    impl WithBuiltin for Work {
        type Output = usize;
        fn run<S: Service>(self, builtin: Builtin<S>) -> usize {
            let service = builtin.service;
            let database = JoinService::<Std>::open_database(&service, &[], Recording::Off);
            JoinService::<Std>::environment(&service, &database).len()
        }
    }
    with_builtin(protocol, Work)
}

/// Runs of `scenario` on real threads, as many as `options` say unless its limits stop them.
pub fn stress(
    protocol: Protocol,
    scenario: &Scenario,
    options: &StressOptions,
    executions: &Executions,
) -> StressReport {
    struct Work<'a>(&'a Scenario, &'a StressOptions, &'a Executions);
    impl WithBuiltin for Work<'_> {
        type Output = StressReport;
        fn run<S: Service>(self, builtin: Builtin<S>) -> StressReport {
            stress_engine::run(&Counted::new(builtin.service, self.2), self.0, self.1)
        }
    }
    with_builtin(protocol, Work(scenario, options, executions))
}
