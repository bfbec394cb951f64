//! The public harness used the way a user outside this crate uses it: their own services, their
//! own scenarios, every engine.

#[path = "common/dpor_vs_loom.rs"]
mod dpor_vs_loom;

use dpor_vs_loom::agree;
use joincheck::check::conform;
use joincheck::check::loom::{self, LoomOptions};
use joincheck::check::proptest::{self, ProptestOptions};
use joincheck::check::shuttle::{self, ShuttleOptions};
use joincheck::check::Scenario;
use joincheck::runtime::Runtime;
use joincheck::service::{JoinService, Server};
use joincheck::store::Recording;
use joincheck::store::{TeamsCollection, TeamsConnection};
use joincheck_models::domain::{JoinError, ServerId, TeamId, UserId};
use joincheck_models::operation::{OpResult, Operation, Step};
use joincheck_models::verdict::Verdict;
use std::sync::Arc;

/// A plausible-looking "fix" of the naive service: check twice before pushing. Still broken.
#[derive(Clone, Copy)]
struct CheckTwice;

struct CheckTwiceServer<R: Runtime> {
    teams: TeamsConnection<R>,
}

impl<R: Runtime> Server for CheckTwiceServer<R> {
    fn join(&mut self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        for _ in 0..2 {
            if let Some(current) = self.teams.find_team_of(user) {
                return Err(JoinError::AlreadyOnTeam { team: current });
            }
        }
        self.teams.push_member(team, user);
        Ok(())
    }

    fn leave(&mut self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        match self.teams.pull_member(team, user) {
            true => Ok(()),
            false => Err(JoinError::NotOnTeam),
        }
    }
}

impl<R: Runtime> JoinService<R> for CheckTwice {
    type Database = TeamsCollection<R>;
    type Server = CheckTwiceServer<R>;

    fn name(&self) -> String {
        "check-twice".to_string()
    }

    fn open_database(
        &self,
        initial: &[(TeamId, UserId)],
        recording: Recording,
    ) -> Arc<Self::Database> {
        Arc::new(TeamsCollection::with_members(initial, recording))
    }

    fn start_server(&self, database: &Arc<TeamsCollection<R>>, id: ServerId) -> Self::Server {
        CheckTwiceServer {
            teams: database.connect(id),
        }
    }
}

#[test]
fn every_engine_refutes_a_users_broken_service() {
    let scenario = Scenario::article();
    let by_loom = loom::check(CheckTwice, &scenario, &LoomOptions::default()).unwrap();
    let by_shuttle = shuttle::check(CheckTwice, &scenario, &ShuttleOptions::default());
    let by_proptest = proptest::check(CheckTwice, &ProptestOptions::default());
    for verdict in [by_loom, by_shuttle, by_proptest] {
        let Verdict::Violated { counterexample, .. } = &verdict else {
            panic!("expected a violation: {verdict:?}");
        };
        assert_eq!(counterexample.protocol, "check-twice");
        let last = counterexample.steps.last().unwrap();
        assert_eq!(last.operation.verb(), "act");
    }
}

/// A service whose servers panic on every join (leaves work): no engine may call that a pass.
#[derive(Clone, Copy)]
struct Panics;

impl<R: Runtime> JoinService<R> for Panics {
    type Database = TeamsCollection<R>;
    type Server = PanickingServer<R>;

    fn name(&self) -> String {
        "panics".to_string()
    }

    fn open_database(
        &self,
        initial: &[(TeamId, UserId)],
        recording: Recording,
    ) -> Arc<Self::Database> {
        Arc::new(TeamsCollection::with_members(initial, recording))
    }

    fn start_server(&self, database: &Arc<TeamsCollection<R>>, id: ServerId) -> Self::Server {
        PanickingServer {
            teams: database.connect(id),
        }
    }
}

struct PanickingServer<R: Runtime> {
    teams: TeamsConnection<R>,
}

impl<R: Runtime> Server for PanickingServer<R> {
    fn join(&mut self, _user: UserId, _team: TeamId) -> Result<(), JoinError> {
        panic!("out of database connections")
    }

    fn leave(&mut self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        match self.teams.pull_member(team, user) {
            true => Ok(()),
            false => Err(JoinError::NotOnTeam),
        }
    }
}

#[test]
fn a_panicking_implementation_is_inconclusive_never_holds() {
    let scenario = Scenario::article();
    let verdicts = [
        loom::check(Panics, &scenario, &LoomOptions::default()).unwrap(),
        shuttle::check(Panics, &scenario, &ShuttleOptions::default()),
        proptest::check(Panics, &ProptestOptions::default()),
    ];
    for verdict in verdicts {
        let Verdict::Inconclusive { reason, .. } = &verdict else {
            panic!("expected inconclusive: {verdict:?}");
        };
        assert!(reason.contains("out of database connections"), "{reason}");
    }
}

/// The user's own model of `CheckTwice` on the article's race: server `s` joins sue to team `s`;
/// it checks, checks again, then pushes. A state is each server's progress and sue's teams.
struct CheckTwiceModel;

/// How far a server is: 0 idle, 1 and 2 checked once and twice, 3 done.
type Progress = [u8; 2];

impl conform::ReferenceModel for CheckTwiceModel {
    type State = (Progress, Vec<TeamId>);

    fn initial_state(&self) -> Self::State {
        ([0, 0], Vec::new())
    }

    fn successors(&self, (progress, teams): &Self::State) -> Vec<(String, Step, Self::State)> {
        let sue = UserId(0);
        let mut next = Vec::new();
        for server in 0..2u8 {
            let team = TeamId(server);
            let (mut after, mut members) = (*progress, teams.clone());
            let (operation, result) = match progress[usize::from(server)] {
                0 | 1 => {
                    let found = teams.first().copied();
                    after[usize::from(server)] = if found.is_some() {
                        3
                    } else {
                        after[usize::from(server)] + 1
                    };
                    (Operation::FindTeamOf { user: sue }, OpResult::Found(found))
                }
                2 => {
                    after[usize::from(server)] = 3;
                    members.push(team);
                    members.sort();
                    (Operation::PushMember { team, user: sue }, OpResult::Pushed)
                }
                _ => continue,
            };
            let step = Step {
                server: ServerId(server),
                operation,
                result,
                membership_after: members.iter().map(|team| (*team, sue)).collect(),
            };
            next.push((
                format!("server-{} {}", server + 1, step.operation),
                step,
                (after, members),
            ));
        }
        next
    }
}

#[test]
fn a_users_own_model_checks_a_users_own_implementation() {
    let options = ShuttleOptions::default().iterations(200);
    let report = conform::shuttle(CheckTwice, CheckTwiceModel, &Scenario::article(), &options);
    assert_eq!((report.divergence, report.incomplete), (None, None));
    assert_eq!(report.histories, 200);
    assert!(
        report.violations > 0,
        "the race is in the model and in the code"
    );
    // The same model does not fit the naive service, which checks only once.
    let report = conform::shuttle(
        joincheck::service::Naive,
        CheckTwiceModel,
        &Scenario::article(),
        &options,
    );
    let divergence = report.divergence.expect("one check is not two");
    assert_eq!(divergence.history[divergence.index].operation.verb(), "act");
}

/// The DPOR engine agrees with loom on a user's broken service (the same verdict, never more
/// executions, the same final memberships), in exactly these executions.
#[test]
fn dpor_agrees_with_loom_on_a_users_broken_service() {
    let executions = [
        agree(CheckTwice, &Scenario::article(), "the article"),
        agree(
            CheckTwice,
            &Scenario::round_robin(3, 1, 2, 1).unwrap(),
            "3 servers",
        ),
    ];
    assert_eq!(executions, [6, 42]);
}
