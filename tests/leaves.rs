//! The models with leaves tell the real services' story: every history of every built-in
//! service on workloads of joins and leaves, under shuttle and on real threads, is a path of
//! its model with leaves.

use joincheck::check::conform::{self, ConformanceReport};
use joincheck::check::shuttle::{ShuttleOptions, Strategy};
use joincheck::check::{Execution, Limits, Scenario};
use joincheck::protocols::{with_builtin, Builtin, Service, WithBuiltin};
use joincheck_models::domain::{Request, TeamId, UserId};
use joincheck_models::{Protocol, ProtocolModel, Sizes};

const SUE: UserId = UserId(0);
const JOHN: UserId = UserId(1);
const A: TeamId = TeamId(0);
const B: TeamId = TeamId(1);

fn join(user: UserId, team: TeamId) -> Request {
    Request::Join { user, team }
}

fn leave(user: UserId, team: TeamId) -> Request {
    Request::Leave { user, team }
}

/// Leaves racing joins and each other: for sue alone, and for sue and john on three servers.
fn workloads() -> [Scenario; 2] {
    let sue = vec![
        vec![join(SUE, A), leave(SUE, A)],
        vec![leave(SUE, A), join(SUE, B)],
    ];
    let both = vec![
        vec![join(SUE, A), leave(JOHN, B)],
        vec![join(JOHN, B), leave(SUE, A)],
        vec![leave(SUE, A), join(SUE, B)],
    ];
    [
        Scenario::new(1, 2, sue, Vec::new()).unwrap(),
        Scenario::new(2, 2, both, Vec::new()).unwrap(),
    ]
}

/// The model with leaves sized for `scenario`: its servers, users and teams, and as many
/// requests as its busiest server.
fn model_with_leaves(protocol: Protocol, scenario: &Scenario) -> ProtocolModel {
    let servers = scenario.servers();
    let requests = servers.iter().map(Vec::len).max().unwrap();
    let sizes = Sizes::new(
        servers.len() as u8,
        scenario.users(),
        scenario.teams(),
        requests as u8,
    )
    .unwrap();
    ProtocolModel::new(protocol, sizes).with_leaves().unwrap()
}

/// Conformance of one built-in service on `scenario`: random and PCT shuttle schedules, then runs
/// on real threads.
struct Conform<'a> {
    scenario: &'a Scenario,
}

impl WithBuiltin for Conform<'_> {
    type Output = (ConformanceReport, ConformanceReport);

    fn run<S: Service>(self, builtin: Builtin<S>) -> Self::Output {
        let protocol = builtin
            .protocol
            .model()
            .expect("an in-memory service has a model");
        let model = model_with_leaves(protocol, self.scenario);
        let mut scheduled = ConformanceReport::default();
        for strategy in [Strategy::Random, Strategy::Pct { depth: 3 }] {
            let options = ShuttleOptions::default()
                .strategy(strategy)
                .seed(7)
                .iterations(100);
            let report = conform::shuttle(builtin.service.clone(), model, self.scenario, &options);
            scheduled.merge(report);
        }
        let limits = Limits::default();
        let on_threads = conform::stress(&builtin.service, &model, self.scenario, 50, &limits);
        (scheduled, on_threads)
    }
}

/// Every history is a path of the model with leaves, for every protocol; the broken ones break
/// on some schedules (sue on two teams while a leave is on its way), the others never do.
#[test]
fn every_service_with_leaves_conforms_to_its_model_with_leaves() {
    let mut broken = Vec::new();
    for protocol in Protocol::ALL {
        let mut violations = 0;
        for scenario in &workloads() {
            let (scheduled, on_threads) = with_builtin(protocol, Conform { scenario });
            for report in [&scheduled, &on_threads] {
                assert_eq!(report.divergence, None, "{protocol} {scenario}");
                assert_eq!(report.incomplete, None, "{protocol} {scenario}");
            }
            assert_eq!(scheduled.histories, 200, "{protocol} {scenario}");
            assert_eq!(on_threads.histories, 50, "{protocol} {scenario}");
            violations += scheduled.violations;
        }
        broken.push((protocol.name(), violations));
    }
    assert_eq!(
        broken,
        [
            ("naive", 65),
            ("event-sourced", 0),
            ("event-sourced-per-user", 0),
            ("event-sourced-per-team", 65),
            ("unique-membership", 0),
            ("user-document", 0),
            ("lease-lock", 8),
            ("lease-lock-fenced", 1),
            ("lease-lock-fenced-reads", 0),
        ]
    );
}

/// A workload with a leave is one the built-in models without leaves refuse, and the models with
/// leaves take: what the conformance above relies on.
#[test]
fn only_the_models_with_leaves_follow_a_workload_with_leaves() {
    let [sue, _] = workloads();
    let refusal = conform::builtin_model(Protocol::Naive, &sue).unwrap_err();
    assert_eq!(
        refusal.to_string(),
        "the built-in models cannot follow this scenario: it has leave requests"
    );
    let model = model_with_leaves(Protocol::Naive, &sue);
    assert_eq!(model.sizes(), Sizes::new(2, 1, 2, 2).unwrap());
    assert!(model.leaves());
}

/// A model path with leaves is given to the real service as the requests its first actions
/// start, joins and leaves alike, and the service follows it step for step.
#[test]
fn a_model_path_with_a_leave_replays_on_the_real_services() {
    let sizes = Sizes::new(2, 1, 2, 1).unwrap();
    let paths = [
        (
            Protocol::Naive,
            &[
                "server-1 check sue → team-A",
                "server-1 act",
                "server-2 pull sue ← team-A",
            ][..],
        ),
        (
            Protocol::EventSourced,
            &[
                "server-1 read sue → team-A",
                "server-1 append",
                "server-2 read sue ← team-A",
                "server-2 append",
            ][..],
        ),
    ];
    for (protocol, path) in paths {
        let model = ProtocolModel::new(protocol, sizes).with_leaves().unwrap();
        let path: Vec<String> = path.iter().map(|action| action.to_string()).collect();
        let execution = with_builtin(
            protocol,
            Replay {
                model: &model,
                path: &path,
            },
        );
        assert_eq!(execution.history.len(), path.len(), "{protocol}");
        assert_eq!(
            execution.history[path.len() - 2].membership_after,
            [(A, SUE)],
            "{protocol}"
        );
        assert_eq!(execution.membership, [], "{protocol}");
        assert_eq!(execution.answers, [[Ok(())], [Ok(())]], "{protocol}");
    }
}

/// Replays a model path on one built-in service.
struct Replay<'a> {
    model: &'a ProtocolModel,
    path: &'a [String],
}

impl WithBuiltin for Replay<'_> {
    type Output = Execution;

    fn run<S: Service>(self, builtin: Builtin<S>) -> Execution {
        conform::replay_on_implementation(&builtin.service, self.model, self.path).unwrap()
    }
}
