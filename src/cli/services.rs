//! The generic engines, run on the service the registry ([`joincheck::protocols`]) has for a
//! protocol. The engines are generic over the service type; each function here is the one
//! place an engine meets the registry.

use joincheck::check::conform::{replay_on_implementation, ReplayMismatch};
use joincheck::check::loom::{self as loom_engine, LoomOptions};
use joincheck::check::proptest::{self as proptest_engine, ProptestOptions};
use joincheck::check::shuttle::ShuttleOptions;
use joincheck::check::shuttle::{self as shuttle_engine, BadSchedule, EncodedSchedule};
use joincheck::check::stress::{self as stress_engine, StressOptions, StressReport};
use joincheck::check::{Execution, Scenario, ScenarioError};
use joincheck::protocols::{with_builtin, Builtin, Service, WithBuiltin};
use joincheck_models::verdict::Verdict;
use joincheck_models::{Protocol, ProtocolModel};

/// loom: every interleaving of `scenario` on `protocol`'s service.
pub fn loom(
    protocol: Protocol,
    scenario: &Scenario,
    options: &LoomOptions,
) -> Result<Verdict, ScenarioError> {
    struct Work<'a>(&'a Scenario, &'a LoomOptions);
    impl WithBuiltin for Work<'_> {
        type Output = Result<Verdict, ScenarioError>;
        fn run<S: Service>(self, builtin: Builtin<S>) -> Self::Output {
            loom_engine::check(builtin.service, self.0, self.1)
        }
    }
    with_builtin(protocol, Work(scenario, options))
}

/// shuttle: schedules of `scenario` on `protocol`'s service.
pub fn shuttle(protocol: Protocol, scenario: &Scenario, options: &ShuttleOptions) -> Verdict {
    struct Work<'a>(&'a Scenario, &'a ShuttleOptions);
    impl WithBuiltin for Work<'_> {
        type Output = Verdict;
        fn run<S: Service>(self, builtin: Builtin<S>) -> Verdict {
            shuttle_engine::check(builtin.service, self.0, self.1)
        }
    }
    with_builtin(protocol, Work(scenario, options))
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
pub fn proptest(protocol: Protocol, options: &ProptestOptions) -> (Verdict, Option<Scenario>) {
    struct Work<'a>(&'a ProptestOptions);
    impl WithBuiltin for Work<'_> {
        type Output = (Verdict, Option<Scenario>);
        fn run<S: Service>(self, builtin: Builtin<S>) -> Self::Output {
            proptest_engine::check_workloads(builtin.service, self.0)
        }
    }
    with_builtin(protocol, Work(options))
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

/// Runs of `scenario` on real threads, as many as `options` say unless its limits stop them.
pub fn stress(protocol: Protocol, scenario: &Scenario, options: &StressOptions) -> StressReport {
    struct Work<'a>(&'a Scenario, &'a StressOptions);
    impl WithBuiltin for Work<'_> {
        type Output = StressReport;
        fn run<S: Service>(self, builtin: Builtin<S>) -> StressReport {
            stress_engine::run(&builtin.service, self.0, self.1)
        }
    }
    with_builtin(protocol, Work(scenario, options))
}
