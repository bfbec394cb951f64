//! The stores' contracts, pinned from outside: a database of a user's own that cannot enforce an
//! order says so and is never reported as diverged, and `Guarded` follows an enforced order,
//! reports the turn that could not be taken, and lets everyone through once the order is used up.

use joincheck::check::conform::replay_on_implementation;
use joincheck::runtime::{Runtime, Std};
use joincheck::service::{JoinService, Server};
use joincheck::store::{
    Database, EventStore, Guarded, LeasedTeams, LockTokens, Membership, MembershipsCollection,
    Recording, StaleToken, StepLog, TeamsCollection, TeamsConnection, UserDocuments,
};
use joincheck_models::domain::{JoinError, ServerId, TeamId, UserId};
use joincheck_models::operation::{OpResult, Operation, Step, StreamKey};
use joincheck_models::{Protocol, ProtocolModel, Sizes};
use std::sync::Arc;

const SUE: UserId = UserId(0);
const A: TeamId = TeamId(0);

/// A database of a user's own that implements only what it must: no enforced order.
struct Unordered<R: Runtime>(Arc<TeamsCollection<R>>);

impl<R: Runtime> Unordered<R> {
    /// A fresh database holding `initial`.
    pub fn open(initial: &[(TeamId, UserId)], recording: Recording) -> Self {
        Unordered(Arc::new(TeamsCollection::with_members(initial, recording)))
    }
}

impl<R: Runtime> Database for Unordered<R> {
    fn membership(&self) -> Vec<(TeamId, UserId)> {
        self.0.membership()
    }

    fn history(&self) -> Vec<Step> {
        self.0.history()
    }
}

/// The article's check-then-act, on that database.
#[derive(Clone, Copy)]
struct UnorderedNaive;

struct UnorderedServer<R: Runtime>(TeamsConnection<R>);

impl<R: Runtime> Server for UnorderedServer<R> {
    fn join(&mut self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        if let Some(current) = self.0.find_team_of(user) {
            return Err(JoinError::AlreadyOnTeam { team: current });
        }
        self.0.push_member(team, user);
        Ok(())
    }

    fn leave(&mut self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        self.0
            .pull_member(team, user)
            .then_some(())
            .ok_or(JoinError::NotOnTeam)
    }
}

impl<R: Runtime> JoinService<R> for UnorderedNaive {
    type Database = Unordered<R>;
    type Server = UnorderedServer<R>;

    fn name(&self) -> String {
        "unordered-naive".to_string()
    }

    fn open_database(
        &self,
        initial: &[(TeamId, UserId)],
        recording: Recording,
    ) -> Arc<Self::Database> {
        Arc::new(Unordered::open(initial, recording))
    }

    fn start_server(&self, database: &Arc<Unordered<R>>, id: ServerId) -> Self::Server {
        UnorderedServer(database.0.connect(id))
    }
}

/// The one path of a model with one server: its only successor at every state.
fn only_path(model: &ProtocolModel) -> Vec<String> {
    let mut state = model.initial_state();
    let mut actions = Vec::new();
    while let Some((action, _, next)) = model.successors(&state).into_iter().next() {
        actions.push(action.to_string());
        state = next;
    }
    actions
}

#[test]
fn a_database_that_cannot_enforce_an_order_says_so_and_never_diverges() {
    let database = Unordered::<Std>::open(&[], Recording::On);
    assert!(!database.enforce_order(vec![ServerId(1), ServerId(0)]));
    assert!(!database.enforce_steps(&[]));
    database.server_finished(ServerId(1));
    assert_eq!(database.order_diverged(), None);
    // One server needs no order: its path replays on the database all the same.
    let model = ProtocolModel::new(Protocol::Naive, Sizes::new(1, 1, 1, 1).unwrap());
    let actions = only_path(&model);
    assert_eq!(actions.len(), 2);
    let execution = replay_on_implementation(&UnorderedNaive, &model, &actions).unwrap();
    assert_eq!(execution.history, model.replay(&actions).unwrap());
    assert_eq!(execution.membership, [(A, SUE)]);
}

/// Which users are on team-A.
#[derive(Default)]
struct TeamA(Vec<UserId>);

impl Membership for TeamA {
    fn membership(&self) -> Vec<(TeamId, UserId)> {
        self.0.iter().map(|user| (A, *user)).collect()
    }
}

/// `server` pushes `user` onto team-A through `Guarded`.
fn push(database: &Guarded<Std, TeamA>, server: u8, user: u8) {
    let operation = Operation::PushMember {
        team: A,
        user: UserId(user),
    };
    database.operate(ServerId(server), operation, |team| {
        team.0.push(UserId(user));
        ((), OpResult::Pushed)
    });
}

fn servers(history: &[Step]) -> Vec<u8> {
    history.iter().map(|step| step.server.0).collect()
}

#[test]
fn guarded_holds_a_server_back_until_its_turn_then_lets_everyone_through() {
    let database = Arc::new(Guarded::<Std, TeamA>::new(TeamA::default(), Recording::On));
    assert!(database.enforce_order(vec![ServerId(1), ServerId(0)]));
    let early = {
        let database = Arc::clone(&database);
        std::thread::spawn(move || push(&database, 0, 0))
    };
    // Recorded steps of the servers' own take no turn.
    database.record(
        ServerId(2),
        Operation::FindTeamOf { user: SUE },
        OpResult::Found(None),
    );
    push(&database, 1, 1);
    early.join().unwrap();
    // The order is used up: any server, any order.
    push(&database, 2, 2);
    push(&database, 0, 3);
    assert_eq!(servers(&database.history()), [2, 1, 0, 2, 0]);
    assert_eq!(database.order_diverged(), None);
    assert_eq!(
        database.membership(),
        [
            (A, UserId(1)),
            (A, UserId(0)),
            (A, UserId(2)),
            (A, UserId(3))
        ]
    );
}

#[test]
fn guarded_reports_the_turn_of_a_server_that_had_finished() {
    let database = Guarded::<Std, TeamA>::new(TeamA::default(), Recording::On);
    database.enforce_order(vec![ServerId(0), ServerId(1), ServerId(0)]);
    push(&database, 0, 0);
    database.server_finished(ServerId(1));
    // server-2 will never take its turn: server-1 goes ahead, and the order is dropped.
    push(&database, 0, 1);
    push(&database, 2, 2);
    assert_eq!(
        database.order_diverged().as_deref(),
        Some("operation 2 was to be server-2's, but server-2 had no operation left")
    );
    assert_eq!(servers(&database.history()), [0, 0, 2]);
}

#[test]
fn guarded_records_nothing_when_recording_is_off() {
    let database = Guarded::<Std, TeamA>::new(TeamA::default(), Recording::Off);
    push(&database, 0, 0);
    database.record(
        ServerId(0),
        Operation::FindTeamOf { user: SUE },
        OpResult::Found(None),
    );
    assert_eq!(database.history(), []);
    assert_eq!(database.membership(), [(A, SUE)]);
    assert_eq!(database.inspect(|team| team.0.len()), 1);
}

/// Every built-in store keeps the order contract through its own `Database` and `StepLog`: it
/// enforces an order, reports the turn of a server that finished, and records a service's own
/// steps.
fn keeps_the_order_contract<D: Database + StepLog>(
    database: Arc<D>,
    operate: impl Fn(&Arc<D>, ServerId),
) {
    assert!(database.enforce_order(vec![ServerId(1), ServerId(0)]));
    database.server_finished(ServerId(1));
    operate(&database, ServerId(0));
    assert_eq!(
        database.order_diverged().as_deref(),
        Some("operation 1 was to be server-2's, but server-2 had no operation left")
    );
    let hit = Operation::FindTeamOf { user: SUE };
    database.record(ServerId(2), hit.clone(), OpResult::Found(None));
    let history = database.history();
    assert_eq!(servers(&history), [0, 2]);
    assert_eq!(history[1].operation, hit);
}

#[test]
fn every_builtin_store_enforces_an_order_and_records_a_services_own_steps() {
    let on = Recording::On;
    keeps_the_order_contract(
        Arc::new(TeamsCollection::<Std>::with_members(&[], on)),
        |d, s| {
            d.connect(s).find_team_of(SUE);
        },
    );
    keeps_the_order_contract(
        Arc::new(EventStore::<Std>::with_members(&[], on)),
        |d, s| {
            d.connect(s).read(StreamKey::Global);
        },
    );
    keeps_the_order_contract(
        Arc::new(MembershipsCollection::<Std>::with_members(&[], on)),
        |d, s| {
            d.connect(s).delete(SUE, A);
        },
    );
    keeps_the_order_contract(
        Arc::new(UserDocuments::<Std>::with_members(&[], on)),
        |d, s| {
            d.connect(s).update_team(SUE, None, Some(A));
        },
    );
    keeps_the_order_contract(
        Arc::new(LeasedTeams::<Std>::with_members(
            &[],
            on,
            LockTokens::Fencing,
        )),
        |d, s| {
            d.connect(s).find_team_of(SUE, None).unwrap();
        },
    );
}

/// Under an enforced order, the lease clock ticks once for each expiry of the replayed steps,
/// and an expiry takes the clock's turn, not its holder's.
#[test]
fn the_lease_clock_ticks_once_for_each_expiry_it_replays() {
    let expire = Step {
        server: ServerId(0),
        operation: Operation::Expire { user: SUE },
        result: OpResult::Expired,
        membership_after: Vec::new(),
    };
    let leased = LeasedTeams::<Std>::with_members(&[], Recording::On, LockTokens::Fencing);
    assert!(leased.enforce_steps(&[expire.clone(), expire.clone()]));
    assert!(leased.tick(), "one more expiry is due");
    assert!(!leased.tick(), "no expiry is due");
    // Nobody held a lease: nothing expired, nothing was recorded, nothing diverged.
    assert_eq!(leased.history(), []);
    assert_eq!(leased.order_diverged(), None);
    // server-1's own operation waits for the clock, whose turn the expiry is.
    let leased = Arc::new(LeasedTeams::<Std>::with_members(
        &[],
        Recording::On,
        LockTokens::Fencing,
    ));
    assert!(leased.enforce_steps(&[expire]));
    let clock = {
        let leased = Arc::clone(&leased);
        std::thread::spawn(move || leased.tick())
    };
    leased.connect(ServerId(0)).find_team_of(SUE, None).unwrap();
    assert!(!clock.join().unwrap());
    assert_eq!(servers(&leased.history()), [0]);
}

/// A fenced write whose lease expired meanwhile is refused, and the refusal names both tokens,
/// as the store's error and as the request's.
#[test]
fn a_write_fenced_with_an_expired_lease_names_both_tokens() {
    let store = Arc::new(LeasedTeams::<Std>::with_members(
        &[],
        Recording::Off,
        LockTokens::Fencing,
    ));
    let (one, two) = (store.connect(ServerId(0)), store.connect(ServerId(1)));
    let first = one.acquire(SUE);
    store.tick();
    let second = two.acquire(SUE);
    assert_eq!((first.token, second.token), (Some(1), Some(2)));
    assert_eq!(two.push_member(A, SUE, second.token), Ok(()));
    let stale = one.push_member(A, SUE, first.token);
    assert_eq!(
        stale,
        Err(StaleToken {
            token: 1,
            newest: 2
        })
    );
    let refusal = stale.unwrap_err();
    assert_eq!(refusal.to_string(), "token 1 is older than token 2");
    assert_eq!(
        JoinError::from(refusal).to_string(),
        "rejected: token 1 is older than token 2"
    );
    assert_eq!(store.membership(), [(A, SUE)]);
}
