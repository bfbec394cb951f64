//! Every engine judges the invariant after every recorded step, as the model checker judges every
//! state: a user on two teams in the middle of a run is a violation even if the run ends well.
//! And a run the harness cannot judge step by step is never a pass.
//!
//! The services here are written as a user would write them, with the public API only.

use joincheck::check::loom::{self, LoomOptions};
use joincheck::check::proptest::{self, ProptestOptions};
use joincheck::check::shuttle::{self, ShuttleOptions};
use joincheck::check::stress::{self, StressOptions};
use joincheck::check::Scenario;
use joincheck::runtime::{Mutex, Runtime};
use joincheck::service::{EventSourced, JoinService, Naive, Server};
use joincheck::store::{
    Database, EventStore, EventStoreConnection, Recording, TeamsCollection, TeamsConnection,
};
use joincheck_models::domain::{
    fold_membership, Event, JoinError, Request, ServerId, TeamId, UserId,
};
use joincheck_models::operation::{Step, StreamKey};
use joincheck_models::verdict::{Counterexample, Replay, Verdict};
use std::sync::Arc;

const SUE: UserId = UserId(0);
const A: TeamId = TeamId(0);
const B: TeamId = TeamId(1);

/// Initially empty; server-1: join sue → team-A; server-2: join sue → team-B, leave sue ← team-B.
/// Under naive, sue can be on two teams after the second push and on one team at the end.
fn join_then_leave() -> Scenario {
    let servers = vec![
        vec![Request::Join { user: SUE, team: A }],
        vec![
            Request::Join { user: SUE, team: B },
            Request::Leave { user: SUE, team: B },
        ],
    ];
    Scenario::new(1, 2, servers, Vec::new()).expect("a valid scenario")
}

/// `server-1 check  is sue on a team? → no`: a trace line per step, as a person reads it.
fn lines(counterexample: &Counterexample) -> Vec<String> {
    counterexample
        .steps
        .iter()
        .map(|step| format!("{} {} → {}", step.server, step.operation, step.result))
        .collect()
}

fn violated(verdict: &Verdict) -> &Counterexample {
    verdict
        .counterexample()
        .unwrap_or_else(|| panic!("expected a violation, got {verdict:?}"))
}

#[test]
fn loom_refutes_naive_where_the_user_is_on_two_teams_only_in_the_middle_of_the_run() {
    let verdict = loom::check(Naive, &join_then_leave(), &LoomOptions::default()).unwrap();
    let found = violated(&verdict);
    assert_eq!(
        lines(found),
        [
            "server-1 is sue on a team? → no",
            "server-2 is sue on a team? → no",
            "server-2 push sue → team-B → ok",
            "server-1 push sue → team-A → ok",
        ]
    );
    assert_eq!(found.violation.to_string(), "sue ∈ {team-A, team-B}");
    // loom explored all 42 interleavings: the shortest is the shortest there is.
    assert_eq!(verdict.stats().iterations, Some(42));
}

#[test]
fn shuttle_refutes_naive_where_the_user_is_on_two_teams_only_in_the_middle_of_the_run() {
    let verdict = shuttle::check(Naive, &join_then_leave(), &ShuttleOptions::default());
    let found = violated(&verdict);
    assert_eq!(
        lines(found),
        [
            "server-1 is sue on a team? → no",
            "server-2 is sue on a team? → no",
            "server-1 push sue → team-A → ok",
            "server-2 push sue → team-B → ok",
        ]
    );
    assert_eq!(found.violation.to_string(), "sue ∈ {team-A, team-B}");
    // Replayed, the schedule ends with sue on one team: only the step judgement sees the race.
    let Replay::ShuttleSchedule { schedule, .. } = &found.replay else {
        panic!("a shuttle counterexample replays from its schedule");
    };
    let schedule = shuttle::EncodedSchedule(schedule.clone());
    let replayed = shuttle::replay(Naive, &join_then_leave(), &schedule).unwrap();
    assert_eq!(replayed.membership, [(A, SUE)]);
    assert_eq!(replayed.steps_to_violation(), found.steps);
}

#[test]
fn event_sourcing_holds_on_every_interleaving_of_the_join_then_leave_scenario() {
    for service in [EventSourced::GLOBAL, EventSourced::PER_USER] {
        let verdict = loom::check(service, &join_then_leave(), &LoomOptions::default()).unwrap();
        let Verdict::Holds { stats, .. } = &verdict else {
            panic!("expected holds, got {verdict:?}");
        };
        assert_eq!(stats.iterations, Some(81));
    }
}

/// "Record first, validate after": a server appends `Joined` without looking, then reads the log
/// and, if the user had joined another team first, appends `Left` to take its join back. The
/// user always ends on one team, but is on two between the second `Joined` and its `Left`.
#[derive(Clone, Copy)]
struct JoinThenCompensate;

struct CompensatingServer<R: Runtime> {
    events: EventStoreConnection<R>,
}

impl<R: Runtime> CompensatingServer<R> {
    /// Appends `event` at whatever version the log is at.
    fn append(&self, event: Event) {
        loop {
            let (version, _) = self.events.read(StreamKey::Global);
            if self
                .events
                .append(StreamKey::Global, version, vec![event])
                .is_ok()
            {
                return;
            }
        }
    }

    /// The team `user` joined first among the teams they are on now.
    fn first_team(&self, user: UserId) -> Option<TeamId> {
        let (_, events) = self.events.read(StreamKey::Global);
        let on_now = fold_membership(&events);
        events.iter().find_map(|event| match *event {
            Event::Joined { user: u, team } if u == user && on_now.contains(&(team, user)) => {
                Some(team)
            }
            _ => None,
        })
    }
}

impl<R: Runtime> Server for CompensatingServer<R> {
    fn join(&mut self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        self.append(Event::Joined { user, team });
        match self.first_team(user) {
            Some(first) if first != team => {
                self.append(Event::Left { user, team });
                Err(JoinError::AlreadyOnTeam { team: first })
            }
            _ => Ok(()),
        }
    }

    fn leave(&mut self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        self.append(Event::Left { user, team });
        Ok(())
    }
}

impl<R: Runtime> JoinService<R> for JoinThenCompensate {
    type Database = EventStore<R>;
    type Server = CompensatingServer<R>;

    fn name(&self) -> String {
        "join-then-compensate".to_string()
    }

    fn open_database(
        &self,
        initial: &[(TeamId, UserId)],
        recording: Recording,
    ) -> Arc<Self::Database> {
        Arc::new(EventStore::with_members(initial, recording))
    }

    fn start_server(&self, database: &Arc<EventStore<R>>, id: ServerId) -> Self::Server {
        CompensatingServer {
            events: database.connect(id),
        }
    }
}

/// The steps of the shortest race: both `Joined` appended, the second one breaks the invariant.
const COMPENSATE_RACE: [&str; 4] = [
    "server-1 read the log → v0, 0 events",
    "server-1 append Joined(sue, team-A) expecting v0 → ok (now v1)",
    "server-2 read the log → v1, 1 event",
    "server-2 append Joined(sue, team-B) expecting v1 → ok (now v2)",
];

#[test]
fn a_service_that_breaks_the_invariant_only_for_a_moment_is_refuted_by_every_engine() {
    let article = Scenario::article();
    let by_loom = loom::check(JoinThenCompensate, &article, &LoomOptions::default()).unwrap();
    let by_shuttle = shuttle::check(JoinThenCompensate, &article, &ShuttleOptions::default());
    let by_proptest = proptest::check(JoinThenCompensate, &ProptestOptions::default());
    assert_eq!(lines(violated(&by_loom)), COMPENSATE_RACE);
    // shuttle's seeded search met the same race with the servers the other way round.
    let mirrored = [
        "server-2 read the log → v0, 0 events",
        "server-2 append Joined(sue, team-B) expecting v0 → ok (now v1)",
        "server-1 read the log → v1, 1 event",
        "server-1 append Joined(sue, team-A) expecting v1 → ok (now v2)",
    ];
    assert_eq!(lines(violated(&by_shuttle)), mirrored);
    for verdict in [&by_loom, &by_shuttle] {
        let found = violated(verdict);
        assert_eq!(found.violation.to_string(), "sue ∈ {team-A, team-B}");
    }
    let found = violated(&by_proptest);
    assert_eq!(
        found.parameters,
        "server-1: join sue → team-A; server-2: join sue → team-B"
    );
    assert_eq!(found.violation.to_string(), "sue ∈ {team-A, team-B}");
    // Every run ends with sue on exactly one team: judging only the end would have passed it.
    let replayed = joincheck::check::run_once::<joincheck::runtime::Std, _>(
        &JoinThenCompensate,
        &article,
        Recording::On,
    );
    assert_eq!(replayed.membership.len(), 1);
    assert!(replayed.violation().is_some());
}

/// A teams collection that forgets to record its history: the harness sees the membership at the
/// end, but not what happened on the way.
struct Forgetful<R: Runtime> {
    teams: Arc<TeamsCollection<R>>,
    /// One lock around check and push: the service itself is correct.
    join_lock: Mutex<R, ()>,
    /// Whether it drops its writes from the history (and keeps its reads), or records nothing.
    keeps_reads: bool,
}

impl<R: Runtime> Forgetful<R> {
    /// A fresh database holding `initial`.
    pub fn open(initial: &[(TeamId, UserId)], recording: Recording) -> Self {
        Forgetful {
            teams: Arc::new(TeamsCollection::with_members(initial, recording)),
            join_lock: Mutex::new(()),
            keeps_reads: false,
        }
    }
}

impl<R: Runtime> Database for Forgetful<R> {
    fn membership(&self) -> Vec<(TeamId, UserId)> {
        self.teams.membership()
    }

    fn history(&self) -> Vec<Step> {
        let mut history = self.teams.history();
        history.retain(|step| self.keeps_reads && step.operation.verb() == "check");
        history
    }
}

#[derive(Clone, Copy)]
struct LockedJoin {
    keeps_reads: bool,
}

struct LockedServer<R: Runtime> {
    database: Arc<Forgetful<R>>,
    teams: TeamsConnection<R>,
}

impl<R: Runtime> Server for LockedServer<R> {
    fn join(&mut self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        let _held = self.database.join_lock.lock();
        if let Some(current) = self.teams.find_team_of(user) {
            return Err(JoinError::AlreadyOnTeam { team: current });
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

impl<R: Runtime> JoinService<R> for LockedJoin {
    type Database = Forgetful<R>;
    type Server = LockedServer<R>;

    fn name(&self) -> String {
        "locked-join".to_string()
    }

    fn open_database(
        &self,
        initial: &[(TeamId, UserId)],
        recording: Recording,
    ) -> Arc<Forgetful<R>> {
        let mut database = Forgetful::open(initial, recording);
        database.keeps_reads = self.keeps_reads;
        Arc::new(database)
    }

    fn start_server(&self, database: &Arc<Forgetful<R>>, id: ServerId) -> Self::Server {
        LockedServer {
            database: Arc::clone(database),
            teams: database.teams.connect(id),
        }
    }
}

fn inconclusive(verdict: &Verdict) -> &str {
    match verdict {
        Verdict::Inconclusive { reason, .. } => reason,
        _ => panic!("expected inconclusive, got {verdict:?}"),
    }
}

#[test]
fn a_database_that_records_nothing_is_inconclusive_on_every_engine_never_holds() {
    let service = LockedJoin { keeps_reads: false };
    let article = Scenario::article();
    let verdicts = [
        loom::check(service, &article, &LoomOptions::default()).unwrap(),
        shuttle::check(service, &article, &ShuttleOptions::default()),
        proptest::check(service, &ProptestOptions::default()),
        stress::run(&service, &article, &StressOptions::default().runs(10)).verdict(),
    ];
    for verdict in &verdicts {
        let reason = inconclusive(verdict);
        assert!(
            reason.contains(
                "the run cannot be judged step by step: the database recorded no operation \
                 although the servers handled"
            ),
            "{}: {reason}",
            verdict.engine()
        );
    }
}

#[test]
fn a_history_that_misses_the_writes_is_inconclusive_never_holds() {
    let service = LockedJoin { keeps_reads: true };
    // Two users: every run ends with a push, which the history leaves out.
    let servers = vec![
        vec![Request::Join { user: SUE, team: A }],
        vec![Request::Join {
            user: UserId(1),
            team: B,
        }],
    ];
    let two_users = Scenario::new(2, 2, servers, Vec::new()).unwrap();
    let verdicts = [
        loom::check(service, &two_users, &LoomOptions::default()).unwrap(),
        shuttle::check(service, &two_users, &ShuttleOptions::default()),
        stress::run(&service, &two_users, &StressOptions::default().runs(10)).verdict(),
    ];
    for verdict in &verdicts {
        let reason = inconclusive(verdict);
        assert!(
            reason.contains("its history misses operations"),
            "{}: {reason}",
            verdict.engine()
        );
    }
}
