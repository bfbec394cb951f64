//! The model and the code tell the same story: real histories are paths of the model, model
//! paths replay on the real code, and deliberately drifted implementations are caught.

use joincheck::check::conform::{self, builtin_model, replay_on_implementation, ReplayMismatch};
use joincheck::check::proptest::ProptestOptions;
use joincheck::check::shuttle::{self, ShuttleOptions, Strategy};
use joincheck::check::{Limits, Scenario};
use joincheck::runtime::Runtime;
use joincheck::service::{EventSourced, JoinService, Naive, Server};
use joincheck::store::Recording;
use joincheck::store::{EventStore, EventStoreConnection};
use joincheck_models::domain::{fold_membership, Event, JoinError, ServerId, TeamId, UserId};
use joincheck_models::operation::{OpResult, StreamKey};
use joincheck_models::verdict::{Replay, Verdict};
use joincheck_models::{CheckOptions, Protocol, ProtocolModel, Sizes};
use std::sync::Arc;

fn options(strategy: Strategy, seed: u64) -> ShuttleOptions {
    ShuttleOptions::default()
        .strategy(strategy)
        .seed(seed)
        .iterations(100)
}

/// Every shuttle history (random and PCT, several seeds) of every built-in service is a path of
/// its model; so is every history on real threads.
#[test]
fn every_builtin_service_conforms_to_its_model() {
    let scenarios = [Scenario::article(), Scenario::contended(3, 2, 2).unwrap()];
    for scenario in &scenarios {
        for seed in 0..3 {
            for strategy in [Strategy::Random, Strategy::Pct { depth: 3 }] {
                let opts = options(strategy, seed);
                let model = |protocol| builtin_model(protocol, scenario).unwrap();
                let reports = [
                    conform::shuttle(Naive, model(Protocol::Naive), scenario, &opts),
                    conform::shuttle(
                        EventSourced::GLOBAL,
                        model(Protocol::EventSourced),
                        scenario,
                        &opts,
                    ),
                    conform::shuttle(
                        EventSourced::PER_USER,
                        model(Protocol::EventSourcedPerUser),
                        scenario,
                        &opts,
                    ),
                ];
                for report in reports {
                    assert_eq!(report.divergence, None);
                    assert_eq!(report.incomplete, None);
                    assert_eq!(report.histories, 100);
                    let requests = scenario.servers().iter().map(Vec::len).sum::<usize>();
                    assert!(report.steps >= 100 * requests as u64);
                }
            }
        }
        let model = builtin_model(Protocol::EventSourced, scenario).unwrap();
        let report = conform::stress(
            &EventSourced::GLOBAL,
            &model,
            scenario,
            50,
            &Limits::default(),
        );
        assert_eq!((report.divergence, report.histories), (None, 50));
        let model = builtin_model(Protocol::Naive, scenario).unwrap();
        assert_eq!(
            conform::stress(&Naive, &model, scenario, 50, &Limits::default()).divergence,
            None
        );
    }
}

#[test]
fn generated_workloads_conform() {
    let options = ProptestOptions::default().cases(16);
    for (service, protocol) in [
        (EventSourced::GLOBAL, Protocol::EventSourced),
        (EventSourced::PER_USER, Protocol::EventSourcedPerUser),
    ] {
        let report = conform::workloads(service, protocol, &options);
        assert_eq!(report.divergence, None);
        assert_eq!(report.histories, 16 * 50);
    }
    let report = conform::workloads(Naive, Protocol::Naive, &options);
    assert_eq!(report.divergence, None);
    assert!(
        report.violations > 0,
        "naive broke in none of the generated workloads"
    );
}

/// The naive model's shortest counterexample, replayed on the real naive service on real
/// threads, breaks the invariant with the identical trace.
#[test]
fn the_models_shortest_counterexample_breaks_the_real_naive_service() {
    let sizes = Sizes::new(2, 1, 2, 1).unwrap();
    let verdict = joincheck_models::check(Protocol::Naive, sizes, &CheckOptions::default());
    let Verdict::Violated { counterexample, .. } = verdict else {
        panic!("the model must refute naive: {verdict:?}");
    };
    let Replay::ModelPath { actions, .. } = &counterexample.replay else {
        panic!("not a model path");
    };
    let model = ProtocolModel::new(Protocol::Naive, sizes);
    for _ in 0..20 {
        let execution = replay_on_implementation(&Naive, &model, actions).unwrap();
        assert_eq!(execution.history, counterexample.steps);
        assert_eq!(
            execution.violation(),
            Some(counterexample.violation.clone())
        );
    }
}

#[test]
fn a_model_path_with_a_conflict_replays_on_the_real_event_sourced_service() {
    let model = ProtocolModel::new(Protocol::EventSourced, Sizes::new(2, 1, 2, 1).unwrap());
    let path: Vec<String> = [
        "server-1 read sue → team-A",
        "server-2 read sue → team-B",
        "server-1 append",
        "server-2 append",
        "server-2 reread",
    ]
    .map(String::from)
    .to_vec();
    let execution = replay_on_implementation(&EventSourced::GLOBAL, &model, &path).unwrap();
    assert_eq!(
        execution.history[3].result,
        OpResult::Conflict { actual: 1 }
    );
    assert_eq!(execution.violation(), None);
    assert_eq!(
        execution.answers[1],
        vec![Err(JoinError::AlreadyOnTeam { team: TeamId(0) })]
    );
    // The same path is not the naive service's: the store sees other operations.
    let mismatch = replay_on_implementation(&Naive, &model, &path).unwrap_err();
    assert!(
        matches!(*mismatch, ReplayMismatch::Differs { index: 0, .. }),
        "{mismatch}"
    );
}

/// A drifted event-sourced service: `fix` decides how it reacts between its read and its append.
#[derive(Clone, Copy)]
enum Drift {
    /// Reads the version again right before appending: the expected version no longer guards
    /// the decision.
    IgnoresExpectedVersion,
    /// After a conflict, appends again at the version the conflict reported, without reading.
    RetriesWithoutRereading,
}

struct DriftServer<R: Runtime> {
    events: EventStoreConnection<R>,
    drift: Drift,
}

impl<R: Runtime> Server for DriftServer<R> {
    fn join(&mut self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        let (mut version, events) = self.events.read(StreamKey::Global);
        if let Some((current, _)) = fold_membership(&events)
            .into_iter()
            .find(|(_, u)| *u == user)
        {
            return Err(JoinError::AlreadyOnTeam { team: current });
        }
        if let Drift::IgnoresExpectedVersion = self.drift {
            version = self.events.read(StreamKey::Global).0;
        }
        loop {
            let joined = vec![Event::Joined { user, team }];
            match self.events.append(StreamKey::Global, version, joined) {
                Ok(_) => return Ok(()),
                Err(conflict) => version = conflict.actual,
            }
        }
    }

    fn leave(&mut self, _user: UserId, _team: TeamId) -> Result<(), JoinError> {
        Err(JoinError::NotOnTeam)
    }
}

impl<R: Runtime> JoinService<R> for Drift {
    type Database = EventStore<R>;
    type Server = DriftServer<R>;

    fn name(&self) -> String {
        format!("{:?}", self)
    }

    fn open_database(
        &self,
        initial: &[(TeamId, UserId)],
        recording: Recording,
    ) -> Arc<Self::Database> {
        Arc::new(EventStore::with_members(initial, recording))
    }

    fn start_server(&self, database: &Arc<EventStore<R>>, id: ServerId) -> DriftServer<R> {
        DriftServer {
            events: database.connect(id),
            drift: *self,
        }
    }
}

impl std::fmt::Debug for Drift {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Drift::IgnoresExpectedVersion => write!(f, "ignores-expected-version"),
            Drift::RetriesWithoutRereading => write!(f, "retries-without-rereading"),
        }
    }
}

#[test]
fn drifted_implementations_are_reported_as_non_conforming_and_violated() {
    let scenario = Scenario::article();
    let model = || builtin_model(Protocol::EventSourced, &scenario).unwrap();
    let opts = options(Strategy::Pct { depth: 3 }, 1);
    for drift in [
        Drift::IgnoresExpectedVersion,
        Drift::RetriesWithoutRereading,
    ] {
        let report = conform::shuttle(drift, model(), &scenario, &opts);
        let divergence = report.divergence.expect("drift must be caught");
        let diverging = &divergence.history[divergence.index];
        match drift {
            // The second read of one request: the model's pending server can only append.
            Drift::IgnoresExpectedVersion => {
                assert_eq!(diverging.operation.verb(), "read");
                assert!(divergence
                    .allowed
                    .iter()
                    .any(|(action, _)| action.ends_with("append")));
            }
            // An append right after a conflict: the model's retrying server must read again.
            Drift::RetriesWithoutRereading => {
                assert_eq!(diverging.operation.verb(), "append");
                assert!(divergence
                    .allowed
                    .iter()
                    .any(|(action, _)| action.ends_with("reread")));
            }
        }
        let text = divergence.to_string();
        assert!(
            text.starts_with("NOT CONFORMING  the model cannot take step"),
            "{text}"
        );
        let verdict = shuttle::check(drift, &scenario, &opts);
        assert!(
            matches!(verdict, Verdict::Violated { .. }),
            "{drift:?}: {verdict:?}"
        );
    }
}
