//! Two things a user adds to the harness, used from outside the crate: a service's own lock,
//! recorded in the trace, and invariants of their own beside "a user is on at most one team".

#[path = "common/dpor_vs_loom.rs"]
mod dpor_vs_loom;

use dpor_vs_loom::agree;
use joincheck::check::loom::{self, LoomOptions};
use joincheck::check::proptest::{self, ProptestOptions};
use joincheck::check::shuttle::{self, ShuttleOptions};
use joincheck::check::stress::{self, StressOptions};
use joincheck::check::{Invariant, Scenario};
use joincheck::runtime::{Mutex, Runtime};
use joincheck::service::{JoinService, Server, UserDocument};
use joincheck::store::{Database, EventStore, MembershipsCollection, Recording};
use joincheck::store::{LeasedTeams, LockTokens, TeamsCollection, TeamsConnection, UserDocuments};
use joincheck::trace::{self, CounterexampleFile};
use joincheck_models::domain::{JoinError, Request, ServerId, TeamId, UserId};
use joincheck_models::operation::Step;
use joincheck_models::verdict::{Verdict, Violation};
use std::sync::Arc;

/// The teams collection with one lock every server shares (a lock service, say).
struct LockedTeams<R: Runtime> {
    teams: Arc<TeamsCollection<R>>,
    lock: Mutex<R, ()>,
}

impl<R: Runtime> LockedTeams<R> {
    /// A fresh database holding `initial`.
    pub fn open(initial: &[(TeamId, UserId)], recording: Recording) -> Self {
        LockedTeams {
            teams: Arc::new(TeamsCollection::with_members(initial, recording)),
            lock: Mutex::new(()),
        }
    }
}

impl<R: Runtime> Database for LockedTeams<R> {
    fn membership(&self) -> Vec<(TeamId, UserId)> {
        self.teams.membership()
    }

    fn history(&self) -> Vec<Step> {
        self.teams.history()
    }
}

/// Check-then-act under the shared lock, recorded in the trace unless `RECORDED` is false.
/// `WHOLE`: the lock is held over the check and the act; otherwise only over the check, a
/// plausible slip.
#[derive(Clone, Copy)]
struct Locked<const WHOLE: bool, const RECORDED: bool = true>;

/// It keeps no server id of its own: its connection says which server it is.
struct LockedServer<R: Runtime, const WHOLE: bool, const RECORDED: bool> {
    database: Arc<LockedTeams<R>>,
    teams: TeamsConnection<R>,
}

impl<R: Runtime, const WHOLE: bool, const RECORDED: bool> LockedServer<R, WHOLE, RECORDED> {
    /// Takes the join lock, recorded in the trace or not.
    fn lock(&self) -> Box<dyn std::fmt::Debug + '_> {
        let lock = &self.database.lock;
        match RECORDED {
            true => {
                Box::new(lock.lock_recorded(self.teams.server(), "the join lock", self.teams.log()))
            }
            false => Box::new(lock.lock()),
        }
    }
}

impl<R: Runtime, const WHOLE: bool, const RECORDED: bool> Server
    for LockedServer<R, WHOLE, RECORDED>
{
    fn join(&mut self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        let held = self.lock();
        if let Some(current) = self.teams.find_team_of(user) {
            return Err(JoinError::AlreadyOnTeam { team: current });
        }
        if !WHOLE {
            drop(held);
            self.teams.push_member(team, user);
            return Ok(());
        }
        self.teams.push_member(team, user);
        Ok(())
    }

    fn leave(&mut self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        let _held = self.lock();
        match self.teams.pull_member(team, user) {
            true => Ok(()),
            false => Err(JoinError::NotOnTeam),
        }
    }
}

impl<R: Runtime, const WHOLE: bool, const RECORDED: bool> JoinService<R>
    for Locked<WHOLE, RECORDED>
{
    type Database = LockedTeams<R>;
    type Server = LockedServer<R, WHOLE, RECORDED>;

    fn name(&self) -> String {
        match WHOLE {
            true => "locked".to_string(),
            false => "locked-check".to_string(),
        }
    }

    fn open_database(
        &self,
        initial: &[(TeamId, UserId)],
        recording: Recording,
    ) -> Arc<Self::Database> {
        Arc::new(LockedTeams::open(initial, recording))
    }

    fn start_server(&self, database: &Arc<LockedTeams<R>>, id: ServerId) -> Self::Server {
        LockedServer {
            database: Arc::clone(database),
            teams: database.teams.connect(id),
        }
    }
}

#[test]
fn a_lock_held_over_check_and_act_holds_and_every_acquire_is_in_its_history() {
    let verdict = loom::check(
        Locked::<true>,
        &Scenario::article(),
        &LoomOptions::default(),
    );
    let verdict = verdict.unwrap();
    assert_eq!(verdict.kind(), "holds", "{verdict:?}");
    assert_eq!(verdict.stats().iterations, Some(12));
    let execution = joincheck::check::run_once::<joincheck::runtime::Std, _>(
        &Locked::<true>,
        &Scenario::article(),
        Recording::On,
    );
    let verbs: Vec<&str> = execution
        .history
        .iter()
        .map(|s| s.operation.verb())
        .collect();
    assert!(
        verbs == ["acquire", "check", "act", "release", "acquire", "check", "release"],
        "{verbs:?}"
    );
}

#[test]
fn a_lock_released_before_the_act_is_refuted_and_the_trace_shows_who_held_it() {
    let verdict = loom::check(
        Locked::<false>,
        &Scenario::article(),
        &LoomOptions::default(),
    );
    let found = verdict.unwrap();
    let found = found.counterexample().expect("the act is outside the lock");
    assert_eq!(
        trace::text(found, None),
        "\
locked-check · loom, execution 4 · server-1: join sue → team-A; server-2: join sue → team-B
VIOLATED  a user is on at most one team — counterexample, 8 steps
   1  server-1  acquire  acquire the join lock   held
   2  server-1  check    is sue on a team?       no
   3  server-1  release  release the join lock   free
   4  server-2  acquire  acquire the join lock   held
   5  server-2  check    is sue on a team?       no
   6  server-2  release  release the join lock   free
   7  server-2  act      push sue → team-B       sue ∈ {team-B}
   8  server-1  act      push sue → team-A       sue ∈ {team-A, team-B}   ✗
broken: sue ∈ {team-A, team-B}
why: server-1 acted at step 8 on what it read at step 2; step 7 made that read stale.
"
    );
}

/// Every built-in connection says which server it is, so that a service records its own lock
/// as that server without keeping the id apart.
#[test]
fn every_built_in_connection_says_which_server_it_is() {
    type R = joincheck::runtime::Std;
    let server = ServerId(2);
    let none: &[(TeamId, UserId)] = &[];
    let teams = Arc::new(TeamsCollection::<R>::with_members(none, Recording::On));
    let events = Arc::new(EventStore::<R>::with_members(none, Recording::On));
    let memberships = Arc::new(MembershipsCollection::<R>::with_members(
        none,
        Recording::On,
    ));
    let documents = Arc::new(UserDocuments::<R>::with_members(none, Recording::On));
    assert_eq!(teams.connect(server).server(), server);
    assert_eq!(events.connect(server).server(), server);
    assert_eq!(memberships.connect(server).server(), server);
    assert_eq!(documents.connect(server).server(), server);
    let leased = LeasedTeams::<R>::with_members(none, Recording::On, LockTokens::Fencing);
    assert_eq!(Arc::new(leased).connect(server).server(), server);
}

/// sue and john join team-A at once: one team per user holds, a capacity of one does not.
fn two_users_one_team() -> Scenario {
    let join = |user| {
        vec![Request::Join {
            user: UserId(user),
            team: TeamId(0),
        }]
    };
    Scenario::new(2, 2, vec![join(0), join(1)], Vec::new()).unwrap()
}

#[test]
fn an_added_invariant_is_judged_by_every_engine_and_named_in_the_verdict_and_trace() {
    let small = Invariant::at_most_members(1);
    let scenario = two_users_one_team();
    let verdicts = [
        loom::check(
            UserDocument,
            &scenario,
            &LoomOptions::default().invariant(small.clone()),
        )
        .unwrap(),
        shuttle::check(
            UserDocument,
            &scenario,
            &ShuttleOptions::default().invariant(small.clone()),
        ),
        proptest::check(
            UserDocument,
            &ProptestOptions::default().invariant(small.clone()),
        ),
        stress::run(
            &UserDocument,
            &scenario,
            &StressOptions::default().runs(5).invariant(small),
        )
        .verdict(),
    ];
    for verdict in &verdicts {
        let found = verdict
            .counterexample()
            .unwrap_or_else(|| panic!("{verdict:?}"));
        assert_eq!(found.violation.invariant(), "a team has at most 1 member");
        assert_eq!(found.violation.to_string(), "team-A has 2 members");
    }
    // proptest draws workloads of its own: its shrunk one has a leave that changes nothing.
    let by_proptest = verdicts[2].counterexample().unwrap();
    assert_eq!(
        by_proptest.parameters,
        "server-1: leave sue ← team-A, join sue → team-A; server-2: join john → team-A"
    );
    assert_eq!(by_proptest.steps.len(), 3);
    for verdict in [&verdicts[0], &verdicts[1], &verdicts[3]] {
        assert_eq!(verdict.counterexample().unwrap().steps.len(), 2);
    }
    let by_loom = verdicts[0].counterexample().unwrap();
    assert_eq!(
        trace::text(by_loom, None),
        "\
user-document · loom, execution 1 · server-1: join sue → team-A; server-2: join john → team-A
VIOLATED  a team has at most 1 member — counterexample, 2 steps
   1  server-1  update  update sue's document set team = team-A where team is none    1 row, sue ∈ {team-A}
   2  server-2  update  update john's document set team = team-A where team is none   1 row, john ∈ {team-A}   ✗
broken: team-A has 2 members (a team has at most 1 member)
"
    );
    let file = CounterexampleFile::new(by_loom, Some(&scenario), None);
    assert_eq!(
        file.to_json()["violation"],
        serde_json::json!({"invariant": "a team has at most 1 member", "detail": "team-A has 2 members"})
    );
    let text = file.to_json().to_string();
    assert_eq!(CounterexampleFile::from_json(&text).unwrap(), file);
}

#[test]
fn an_invariant_of_ones_own_is_named_in_the_scope_when_it_holds() {
    // A rule of one's own, in one's own words; the article's race never breaks it.
    let off_c = Invariant::new("nobody is on team-C", |membership| {
        let on_c = membership.iter().find(|(team, _)| *team == TeamId(2))?;
        Some(format!("{} is on team-C", on_c.1))
    });
    let options = LoomOptions::default().invariant(off_c);
    let verdict = loom::check(UserDocument, &Scenario::article(), &options).unwrap();
    let Verdict::Holds { scope, .. } = &verdict else {
        panic!("{verdict:?}");
    };
    assert_eq!(
        scope,
        "all interleavings of server-1: join sue → team-A; server-2: join sue → team-B \
         (invariants: a user is on at most one team; nobody is on team-C)"
    );
    // The built-in invariant is judged first, and still broken where it was.
    let options = LoomOptions::default().invariant(Invariant::at_most_members(5));
    let naive = loom::check(joincheck::service::Naive, &Scenario::article(), &options).unwrap();
    let found = naive.counterexample().unwrap();
    assert!(matches!(found.violation, Violation::OnSeveralTeams(_)));
}

/// Recording a lock adds no point where an engine switches servers: loom and DPOR explore as
/// many executions with the lock recorded as without, and shuttle, drawing its choices at its
/// points, takes the same store operations in the same order from the same seed.
#[test]
fn recording_a_lock_adds_no_scheduling_point_in_any_engine() {
    use joincheck::check::dpor::{self, DporOptions};
    use joincheck::check::shuttle::Strategy;
    use std::ops::ControlFlow;
    let scenario = Scenario::round_robin(3, 1, 2, 1).unwrap();
    let loom_executions = |verdict: Verdict| verdict.stats().iterations.unwrap();
    let options = LoomOptions::default();
    assert_eq!(
        loom_executions(loom::check(Locked::<true, true>, &scenario, &options).unwrap()),
        loom_executions(loom::check(Locked::<true, false>, &scenario, &options).unwrap()),
    );
    let options = DporOptions::default();
    let dpor_executions = |verdict: Verdict| verdict.stats().iterations.unwrap();
    assert_eq!(
        dpor_executions(dpor::check(Locked::<true, true>, &scenario, &options).unwrap()),
        dpor_executions(dpor::check(Locked::<true, false>, &scenario, &options).unwrap()),
    );
    fn store_steps<S: JoinService<joincheck::runtime::Shuttle>>(
        service: S,
        scenario: &Scenario,
    ) -> Vec<Vec<String>> {
        let options = ShuttleOptions::default()
            .strategy(Strategy::Random)
            .seed(5)
            .iterations(300);
        let runs = Arc::new(std::sync::Mutex::new(Vec::new()));
        let collected = Arc::clone(&runs);
        shuttle::explore(service, scenario, &options, move |execution, _| {
            let steps = execution
                .history
                .iter()
                .filter(|step| !["acquire", "release"].contains(&step.operation.verb()))
                .map(|step| format!("{} {}", step.server, step.operation))
                .collect();
            collected.lock().unwrap().push(steps);
            ControlFlow::Continue(())
        })
        .unwrap();
        let runs = runs.lock().unwrap().clone();
        runs
    }
    let recorded = store_steps(Locked::<false, true>, &scenario);
    let unrecorded = store_steps(Locked::<false, false>, &scenario);
    assert_eq!((recorded.len(), unrecorded.len()), (300, 300));
    let differs = recorded.iter().zip(&unrecorded).position(|(a, b)| a != b);
    assert_eq!(
        differs, None,
        "schedule {differs:?} took other store operations"
    );
}

/// The DPOR engine agrees with loom on a service's own lock, recorded or not, held over the check
/// and the act or only the check (the same verdict, never more executions, the same final
/// memberships), in exactly these executions.
#[test]
fn dpor_agrees_with_loom_on_a_services_own_lock() {
    let scenario = Scenario::round_robin(3, 1, 2, 1).unwrap();
    let executions = [
        agree(Locked::<true, true>, &scenario, "held over both, recorded"),
        agree(Locked::<true, false>, &scenario, "held over both"),
        agree(
            Locked::<false, true>,
            &scenario,
            "held over the check, recorded",
        ),
        agree(Locked::<false, false>, &scenario, "held over the check"),
    ];
    assert_eq!(executions, [6, 6, 66, 66]);
}
