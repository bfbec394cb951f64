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
use joincheck::check::{Execution, Scenario, ScenarioError};
use joincheck::load::{self, LoadOptions, LoadReport, Progress};
use joincheck::protocols::{
    with_builtin, with_service, Builtin, CatalogueProtocol, Service, Storage, WithBuiltin,
};
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

/// loom: every interleaving of `scenario` on `protocol`'s service on `database`; or why not.
pub fn loom(
    (protocol, database): (CatalogueProtocol, &Storage),
    scenario: &Scenario,
    options: &LoomOptions,
    executions: &Executions,
) -> Result<Verdict, String> {
    struct Work<'a>(&'a Scenario, &'a LoomOptions, &'a Executions);
    impl WithBuiltin for Work<'_> {
        type Output = Result<Verdict, ScenarioError>;
        fn run<S: Service>(self, builtin: Builtin<S>) -> Self::Output {
            loom_engine::check(Counted::new(builtin.service, self.2), self.0, self.1)
        }
    }
    with_service(protocol, database, Work(scenario, options, executions))?
        .map_err(|error: ScenarioError| error.to_string())
}

/// DPOR: one interleaving of `scenario` per class of equivalent ones, on `protocol`'s service on
/// `database`; or why not.
pub fn dpor(
    (protocol, database): (CatalogueProtocol, &Storage),
    scenario: &Scenario,
    options: &DporOptions,
    executions: &Executions,
) -> Result<Verdict, String> {
    struct Work<'a>(&'a Scenario, &'a DporOptions, &'a Executions);
    impl WithBuiltin for Work<'_> {
        type Output = Result<Verdict, String>;
        fn run<S: Service>(self, builtin: Builtin<S>) -> Self::Output {
            let service = Counted::new(builtin.service, self.2);
            dpor_engine::check(service, self.0, self.1).map_err(|error| error.to_string())
        }
    }
    with_service(protocol, database, Work(scenario, options, executions))?
}

/// DPOR again, following one recorded schedule; or why not.
pub fn dpor_replay(
    (protocol, database): (CatalogueProtocol, &Storage),
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
    with_service(protocol, database, Work(scenario, schedule))?
}

/// shuttle: schedules of `scenario` on `protocol`'s service on `database`; or why not.
pub fn shuttle(
    (protocol, database): (CatalogueProtocol, &Storage),
    scenario: &Scenario,
    options: &ShuttleOptions,
    executions: &Executions,
) -> Result<Verdict, String> {
    struct Work<'a>(&'a Scenario, &'a ShuttleOptions, &'a Executions);
    impl WithBuiltin for Work<'_> {
        type Output = Verdict;
        fn run<S: Service>(self, builtin: Builtin<S>) -> Verdict {
            shuttle_engine::check(Counted::new(builtin.service, self.2), self.0, self.1)
        }
    }
    with_service(protocol, database, Work(scenario, options, executions))
}

/// shuttle again, under one recorded schedule; or why not.
pub fn shuttle_replay(
    (protocol, database): (CatalogueProtocol, &Storage),
    scenario: &Scenario,
    schedule: &EncodedSchedule,
) -> Result<Result<Execution, BadSchedule>, String> {
    struct Work<'a>(&'a Scenario, &'a EncodedSchedule);
    impl WithBuiltin for Work<'_> {
        type Output = Result<Execution, BadSchedule>;
        fn run<S: Service>(self, builtin: Builtin<S>) -> Self::Output {
            shuttle_engine::replay(builtin.service, self.0, self.1)
        }
    }
    with_service(protocol, database, Work(scenario, schedule))
}

/// proptest: generated workloads on `protocol`'s service on `database`; with the shrunk workload
/// of a violation; or why not.
pub fn proptest(
    (protocol, database): (CatalogueProtocol, &Storage),
    options: &ProptestOptions,
    executions: &Executions,
) -> Result<(Verdict, Option<Scenario>), String> {
    struct Work<'a>(&'a ProptestOptions, &'a Executions);
    impl WithBuiltin for Work<'_> {
        type Output = (Verdict, Option<Scenario>);
        fn run<S: Service>(self, builtin: Builtin<S>) -> Self::Output {
            proptest_engine::check_workloads(Counted::new(builtin.service, self.1), self.0)
        }
    }
    with_service(protocol, database, Work(options, executions))
}

/// A model path run on `model`'s protocol's service on `database`, operations admitted in the
/// path's order; or why not.
pub fn on_implementation(
    database: &Storage,
    model: &ProtocolModel,
    actions: &[String],
) -> Result<Result<Execution, Box<ReplayMismatch>>, String> {
    struct Work<'a>(&'a ProtocolModel, &'a [String]);
    impl WithBuiltin for Work<'_> {
        type Output = Result<Execution, Box<ReplayMismatch>>;
        fn run<S: Service>(self, builtin: Builtin<S>) -> Self::Output {
            replay_on_implementation(&builtin.service, self.0, self.1)
        }
    }
    let protocol = joincheck::protocols::named(model.protocol().name())?;
    with_service(protocol, database, Work(model, actions))
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

/// A load test of `protocol`'s service on `database` on real threads; or why not.
pub fn load(
    (protocol, database): (CatalogueProtocol, &Storage),
    options: &LoadOptions,
    progress: &Progress,
) -> Result<LoadReport, String> {
    struct Work<'a>(&'a LoadOptions, &'a Progress);
    impl WithBuiltin for Work<'_> {
        type Output = LoadReport;
        fn run<S: Service>(self, builtin: Builtin<S>) -> LoadReport {
            load::run(&builtin.service, self.0, self.1)
        }
    }
    with_service(protocol, database, Work(options, progress))
}
