//! The public harness used the way a user outside this crate uses it: their own services, their
//! own scenarios, every engine.

use joincheck::check::loom::{self, LoomOptions};
use joincheck::check::proptest::{self, ProptestOptions};
use joincheck::check::shuttle::{self, ShuttleOptions};
use joincheck::check::Scenario;
use joincheck::runtime::Runtime;
use joincheck::service::{JoinService, Server};
use joincheck::store::{Recording, TeamsCollection, TeamsConnection};
use joincheck_models::domain::{JoinError, ServerId, TeamId, UserId};
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
    ) -> Arc<TeamsCollection<R>> {
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

/// A service whose servers panic on every join: no engine may call that a pass.
#[derive(Clone, Copy)]
struct Panics;

impl<R: Runtime> JoinService<R> for Panics {
    type Database = TeamsCollection<R>;
    type Server = PanickingServer;

    fn name(&self) -> String {
        "panics".to_string()
    }

    fn open_database(
        &self,
        initial: &[(TeamId, UserId)],
        recording: Recording,
    ) -> Arc<TeamsCollection<R>> {
        Arc::new(TeamsCollection::with_members(initial, recording))
    }

    fn start_server(&self, _database: &Arc<TeamsCollection<R>>, _id: ServerId) -> PanickingServer {
        PanickingServer
    }
}

struct PanickingServer;

impl Server for PanickingServer {
    fn join(&mut self, _user: UserId, _team: TeamId) -> Result<(), JoinError> {
        panic!("out of database connections")
    }

    fn leave(&mut self, _user: UserId, _team: TeamId) -> Result<(), JoinError> {
        Ok(())
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
