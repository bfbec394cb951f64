//! A store of a user's own, built on the public `Guarded` building block: its operations are
//! recorded inside their critical sections, and it follows an enforced order, so the harness can
//! replay a model's counterexample on it, with no recording code of its own.

#[path = "common/dpor_vs_loom.rs"]
mod dpor_vs_loom;

use dpor_vs_loom::agree;
use joincheck::check::conform::replay_on_implementation;
use joincheck::check::loom::{self, LoomOptions};
use joincheck::check::Scenario;
use joincheck::runtime::Runtime;
use joincheck::service::{JoinService, Server};
use joincheck::store::{Database, Guarded, Membership, Recording};
use joincheck_models::domain::{JoinError, ServerId, TeamId, UserId};
use joincheck_models::operation::{OpResult, Operation, Step};
use joincheck_models::verdict::{Replay, Verdict};
use joincheck_models::{CheckOptions, Protocol, ProtocolModel, Sizes};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Users and the teams that list them, keyed by user (a user may be listed twice: `$push`).
#[derive(Default)]
struct TeamsByUser(BTreeMap<UserId, Vec<TeamId>>);

impl Membership for TeamsByUser {
    fn membership(&self) -> Vec<(TeamId, UserId)> {
        let mut pairs: Vec<(TeamId, UserId)> = self
            .0
            .iter()
            .flat_map(|(user, teams)| teams.iter().map(move |team| (*team, *user)))
            .collect();
        pairs.sort();
        pairs.dedup();
        pairs
    }
}

/// The user's database: everything it does goes through `Guarded`.
struct UserIndex<R: Runtime>(Guarded<R, TeamsByUser>);

impl<R: Runtime> UserIndex<R> {
    /// A fresh database holding `initial`.
    pub fn open(initial: &[(TeamId, UserId)], recording: Recording) -> Self {
        let mut users = TeamsByUser::default();
        for (team, user) in initial {
            users.0.entry(*user).or_default().push(*team);
        }
        UserIndex(Guarded::new(users, recording))
    }
}

impl<R: Runtime> Database for UserIndex<R> {
    fn membership(&self) -> Vec<(TeamId, UserId)> {
        self.0.membership()
    }

    fn history(&self) -> Vec<Step> {
        self.0.history()
    }

    fn enforce_order(&self, order: Vec<ServerId>) -> bool {
        self.0.enforce_order(order)
    }

    fn server_finished(&self, server: ServerId) {
        self.0.server_finished(server)
    }

    fn order_diverged(&self) -> Option<String> {
        self.0.order_diverged()
    }
}

/// Check-then-act on the user index: as broken as the article's, recorded in the same words.
#[derive(Clone, Copy)]
struct IndexedNaive;

struct IndexedServer<R: Runtime> {
    database: Arc<UserIndex<R>>,
    id: ServerId,
}

impl<R: Runtime> Server for IndexedServer<R> {
    fn join(&mut self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        let check = Operation::FindTeamOf { user };
        let found = self.database.0.operate(self.id, check, |users| {
            let team = users.0.get(&user).and_then(|teams| teams.first().copied());
            (team, OpResult::Found(team))
        });
        if let Some(current) = found {
            return Err(JoinError::AlreadyOnTeam { team: current });
        }
        let act = Operation::PushMember { team, user };
        self.database.0.operate(self.id, act, |users| {
            users.0.entry(user).or_default().push(team);
            ((), OpResult::Pushed)
        });
        Ok(())
    }

    fn leave(&mut self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        let pull = Operation::PullMember { team, user };
        let pulled = self.database.0.operate(self.id, pull, |users| {
            let teams = users.0.entry(user).or_default();
            let before = teams.len();
            teams.retain(|t| *t != team);
            let pulled = teams.len() < before;
            (pulled, OpResult::Pulled(pulled))
        });
        pulled.then_some(()).ok_or(JoinError::NotOnTeam)
    }
}

impl<R: Runtime> JoinService<R> for IndexedNaive {
    type Database = UserIndex<R>;
    type Server = IndexedServer<R>;

    fn name(&self) -> String {
        "indexed-naive".to_string()
    }

    fn open_database(
        &self,
        initial: &[(TeamId, UserId)],
        recording: Recording,
    ) -> Arc<Self::Database> {
        Arc::new(UserIndex::open(initial, recording))
    }

    fn start_server(&self, database: &Arc<UserIndex<R>>, id: ServerId) -> Self::Server {
        IndexedServer {
            database: Arc::clone(database),
            id,
        }
    }
}

#[test]
fn a_store_built_on_guarded_records_every_operation_for_the_engines() {
    let verdict = loom::check(IndexedNaive, &Scenario::article(), &LoomOptions::default()).unwrap();
    let Verdict::Violated { counterexample, .. } = &verdict else {
        panic!("expected a violation, got {verdict:?}");
    };
    let verbs: Vec<&str> = counterexample
        .steps
        .iter()
        .map(|step| step.operation.verb())
        .collect();
    assert_eq!(verbs, ["check", "check", "act", "act"]);
    assert_eq!(
        counterexample.violation.to_string(),
        "sue ∈ {team-A, team-B}"
    );
}

#[test]
fn a_store_built_on_guarded_follows_an_enforced_order_so_a_model_path_replays_on_it() {
    let sizes = Sizes::new(2, 1, 2, 1).unwrap();
    let verdict = joincheck_models::check(Protocol::Naive, sizes, &CheckOptions::default());
    let found = verdict.counterexample().expect("naive breaks");
    let Replay::ModelPath { actions, .. } = &found.replay else {
        panic!("a model counterexample replays from its path");
    };
    let model = ProtocolModel::new(Protocol::Naive, sizes);
    for _ in 0..20 {
        let execution = replay_on_implementation(&IndexedNaive, &model, actions).unwrap();
        assert_eq!(execution.history, found.steps);
    }
}

/// The DPOR engine agrees with loom on a store built on `Guarded` (the same verdict, never more
/// executions, the same final memberships), in exactly these executions.
#[test]
fn dpor_agrees_with_loom_on_a_store_built_on_guarded() {
    let executions = [
        agree(IndexedNaive, &Scenario::article(), "the article"),
        agree(
            IndexedNaive,
            &Scenario::round_robin(3, 1, 2, 1).unwrap(),
            "3 servers",
        ),
        agree(
            IndexedNaive,
            &Scenario::round_robin(2, 2, 2, 2).unwrap(),
            "2 requests",
        ),
    ];
    assert_eq!(executions, [4, 21, 16]);
}
