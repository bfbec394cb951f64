//! Figures the engines report, pinned exactly: how far each searches after its first violation,
//! which of the equally short violations it keeps, how a run is judged step by step, and the
//! fixed workload of the real-code engines. Written from outside the crate, with the public API
//! only; a change in any of these is a change in what a user is told.

use ::shuttle::rand::{self as shuttle_rand, RngCore};
use joincheck::check::loom::{self, LoomOptions, SHORTENING_EXECUTIONS};
use joincheck::check::proptest::{self, ProptestOptions};
use joincheck::check::shuttle::{self, ShuttleOptions, Strategy, SHORTENING_SCHEDULES};
use joincheck::check::stress::{self, StressOptions};
use joincheck::check::{first_broken_step, run_once, Execution, Invariant, Invariants, Judgement};
use joincheck::check::{Limits, Scenario};
use joincheck::runtime::{Runtime, Shuttle, Std};
use joincheck::service::{EventSourced, Naive};
use joincheck::service::{JoinService, Server};
use joincheck::store::Recording;
use joincheck::store::TeamsCollection;
use joincheck::store::TeamsConnection;
use joincheck_models::domain::{JoinError, Request, ServerId, TeamId, UserId};
use joincheck_models::operation::{OpResult, Operation, Step};
use joincheck_models::verdict::{Counterexample, Replay, Verdict};
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SUE: UserId = UserId(0);
const A: TeamId = TeamId(0);
const B: TeamId = TeamId(1);

/// `server-1 is sue on a team? → no`: a trace line per step, as a person reads it.
fn lines(steps: &[Step]) -> Vec<String> {
    steps
        .iter()
        .map(|step| format!("{} {} → {}", step.server, step.operation, step.result))
        .collect()
}

fn violated(verdict: &Verdict) -> &Counterexample {
    verdict
        .counterexample()
        .unwrap_or_else(|| panic!("expected a violation, got {verdict:?}"))
}

/// The check-check-act-act race of the article, in the order the shortest one shows it.
const RACE: [&str; 4] = [
    "server-1 is sue on a team? → no",
    "server-2 is sue on a team? → no",
    "server-2 push sue → team-B → ok",
    "server-1 push sue → team-A → ok",
];

/// Three servers join sue: loom first breaks at execution 79, and explores exactly
/// SHORTENING_EXECUTIONS more, keeping the first of the shortest (no later one is shorter than
/// four steps), so the verdict names execution 79 and counts 1,079.
#[test]
fn loom_searches_exactly_its_shortening_budget_and_keeps_the_first_shortest() {
    let scenario = Scenario::contended(3, 1, 2).unwrap();
    let verdict = loom::check(Naive, &scenario, &LoomOptions::default()).unwrap();
    let found = violated(&verdict);
    assert_eq!(lines(&found.steps), RACE);
    assert_eq!(found.replay, Replay::LoomExecution { iteration: 79 });
    assert_eq!(verdict.stats().iterations, Some(79 + SHORTENING_EXECUTIONS));
    assert!(verdict.stats().seconds > 0.0, "{verdict:?}");
    assert_eq!(found.protocol, "naive");
    assert_eq!(found.parameters, scenario.to_string());
}

/// Random schedules from seed 9 first break naive at schedule 4; shuttle tries exactly
/// SHORTENING_SCHEDULES more and stops, though 5,000 were allowed.
#[test]
fn shuttle_searches_exactly_its_shortening_budget_after_the_first_violation() {
    let scenario = Scenario::contended(4, 2, 2).unwrap();
    let options = ShuttleOptions::default()
        .strategy(Strategy::Random)
        .seed(9)
        .iterations(5000);
    let verdict = shuttle::check(Naive, &scenario, &options);
    let found = violated(&verdict);
    assert_eq!(
        lines(&found.steps),
        [
            "server-1 is sue on a team? → no",
            "server-2 is sue on a team? → no",
            "server-1 push sue → team-A → ok",
            "server-2 push sue → team-B → ok",
        ]
    );
    assert_eq!(verdict.stats().iterations, Some(4 + SHORTENING_SCHEDULES));
    assert!(verdict.stats().seconds > 0.0, "{verdict:?}");
    let Replay::ShuttleSchedule { found_by, .. } = &found.replay else {
        panic!("a shuttle counterexample replays from its schedule");
    };
    assert_eq!(found_by, "random, seed 9");
}

/// Event sourcing retries a refused append: over the first 100 PCT schedules of three servers
/// joining sue, 26 executions saw a conflict, 30 conflicts in all, never more than 2 in one.
#[test]
fn an_execution_counts_the_appends_that_were_refused() {
    #[derive(Default, Debug, PartialEq)]
    struct Seen {
        conflicts: u64,
        executions_with_one: u64,
        most: u64,
    }
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let counting = seen.clone();
    let scenario = Scenario::contended(3, 1, 2).unwrap();
    let options = ShuttleOptions::default().iterations(100);
    let ran = shuttle::explore(EventSourced::GLOBAL, &scenario, &options, move |run, _| {
        let mut seen = counting.lock().unwrap();
        let conflicts = run.conflicts();
        let refused = |step: &&Step| matches!(step.result, OpResult::Conflict { .. });
        assert_eq!(conflicts, run.history.iter().filter(refused).count() as u64);
        seen.conflicts += conflicts;
        seen.executions_with_one += u64::from(conflicts > 0);
        seen.most = seen.most.max(conflicts);
        ControlFlow::Continue(())
    });
    assert_eq!(ran, Ok(100));
    let expected = Seen {
        conflicts: 30,
        executions_with_one: 26,
        most: 2,
    };
    assert_eq!(*seen.lock().unwrap(), expected);
}

/// A step of `server` that left `membership_after`.
fn step(server: u8, operation: Operation, result: OpResult, after: &[(TeamId, UserId)]) -> Step {
    Step {
        server: ServerId(server),
        operation,
        result,
        membership_after: after.to_vec(),
    }
}

/// Naive's race, recorded, then sue leaves team-B: two teams after step 4, one at the end.
fn race_then_leave() -> Vec<Step> {
    let check = Operation::FindTeamOf { user: SUE };
    let push = |team| Operation::PushMember { team, user: SUE };
    vec![
        step(0, check.clone(), OpResult::Found(None), &[]),
        step(1, check, OpResult::Found(None), &[]),
        step(0, push(A), OpResult::Pushed, &[(A, SUE)]),
        step(1, push(B), OpResult::Pushed, &[(A, SUE), (B, SUE)]),
        step(
            1,
            Operation::PullMember { team: B, user: SUE },
            OpResult::Pulled(true),
            &[(A, SUE)],
        ),
    ]
}

/// A run is judged after every step: the first step that breaks the invariant is named, the
/// trace stops there, though the run ended well.
#[test]
fn a_run_that_breaks_the_invariant_in_its_middle_is_judged_at_that_step() {
    let history = race_then_leave();
    let (index, violation) = first_broken_step(&history).expect("sue was on two teams");
    assert_eq!(index, 3);
    assert_eq!(violation.to_string(), "sue ∈ {team-A, team-B}");
    assert_eq!(first_broken_step(&history[..3]), None);
    let run = Execution {
        history: history.clone(),
        membership: vec![(A, SUE)],
        answers: vec![vec![Ok(())], vec![Ok(()), Ok(())]],
    };
    assert_eq!(run.violation(), Some(violation.clone()));
    assert_eq!(run.steps_to_violation(), history[..4]);
    assert_eq!(
        run.judge(),
        Judgement::Broke {
            steps: history[..4].to_vec(),
            violation
        }
    );
    // Without the race, the same run holds, and its whole history is the trace.
    let calm = Execution {
        history: history[..3].to_vec(),
        membership: vec![(A, SUE)],
        answers: vec![
            vec![Ok(())],
            vec![Err(JoinError::AlreadyOnTeam { team: A })],
        ],
    };
    assert_eq!(calm.judge(), Judgement::Held);
    assert_eq!(calm.violation(), None);
    assert_eq!(calm.steps_to_violation(), history[..3]);
}

/// Servers that handled no request and a database that recorded nothing: nothing happened, and
/// nothing is wrong with that.
#[test]
fn a_run_with_no_request_and_no_step_holds() {
    let idle = Execution {
        history: Vec::new(),
        membership: vec![(A, SUE)],
        answers: vec![Vec::new(), Vec::new()],
    };
    assert_eq!(idle.judge(), Judgement::Held);
    let unrecorded = Execution {
        answers: vec![vec![Ok(())], Vec::new()],
        ..idle
    };
    let Judgement::Unjudged(why) = unrecorded.judge() else {
        panic!("a run whose request left no step cannot be judged");
    };
    assert_eq!(
        why.to_string(),
        "the run cannot be judged step by step: the database recorded no operation although \
         the servers handled 1 request (open it with Recording::On, and record every operation)"
    );
}

/// Added invariants are kept in order, and print by name.
#[test]
fn added_invariants_are_listed_in_order_and_print_by_name() {
    let invariants = Invariants::default()
        .and(Invariant::at_most_members(3))
        .and(Invariant::at_most_members(1));
    let names: Vec<&str> = invariants.added().iter().map(Invariant::name).collect();
    assert_eq!(
        names,
        [
            "a team has at most 3 members",
            "a team has at most 1 member"
        ]
    );
    assert_eq!(
        format!("{:?}", invariants.added()[1]),
        "Invariant(\"a team has at most 1 member\")"
    );
    let three = &invariants.added()[0];
    let members = |count: u8| (0..count).map(|user| (A, UserId(user))).collect::<Vec<_>>();
    assert_eq!(three.broken(&members(3)), None);
    assert_eq!(
        three.broken(&members(4)),
        Some("team-A has 4 members".to_string())
    );
    // A full team-A does not make team-B full.
    let mut two_teams = members(3);
    two_teams.push((B, UserId(3)));
    assert_eq!(three.broken(&two_teams), None);
}

/// The workload the real-code engines run, against its documented formula: request `k` of
/// server `s` joins user `(⌊s/2⌋ + k) mod U` (even `s`) or `(⌊s/2⌋ − k) mod U` (odd `s`) to team
/// `(s + k) mod T`.
#[test]
fn round_robin_follows_its_documented_formula() {
    let formula = |servers: u8, users: u8, teams: u8, requests: u8| -> Vec<Vec<Request>> {
        let (users, teams) = (i32::from(users), i32::from(teams));
        (0..i32::from(servers))
            .map(|s| {
                (0..i32::from(requests))
                    .map(|k| {
                        let user = match s % 2 {
                            0 => (s / 2 + k).rem_euclid(users),
                            _ => (s / 2 - k).rem_euclid(users),
                        };
                        Request::Join {
                            user: UserId(user as u8),
                            team: TeamId((s + k).rem_euclid(teams) as u8),
                        }
                    })
                    .collect()
            })
            .collect()
    };
    for (servers, users, teams, requests) in [
        (4, 3, 3, 2),
        (5, 3, 4, 4),
        (6, 4, 2, 5),
        (3, 1, 2, 1),
        (2, 1, 2, 4),
    ] {
        let scenario = Scenario::round_robin(servers, users, teams, requests).unwrap();
        assert_eq!(
            scenario.servers(),
            formula(servers, users, teams, requests),
            "{servers} servers, {users} users, {teams} teams, {requests} requests"
        );
        assert_eq!((scenario.users(), scenario.teams()), (users, teams));
    }
    assert_eq!(
        Scenario::round_robin(4, 3, 3, 2).unwrap().to_string(),
        "server-1: join sue → team-A, join john → team-B; server-2: join sue → team-B, join \
         mary → team-C; server-3: join john → team-C, join mary → team-A; server-4: join john → \
         team-A, join sue → team-B"
    );
    assert_eq!(
        Scenario::contended(3, 2, 2).unwrap(),
        Scenario::round_robin(3, 2, 2, 2).unwrap()
    );
}

/// Each server's answers, request by request, as the run gave them.
#[test]
fn a_run_keeps_each_servers_answers_in_order() {
    let servers = vec![
        vec![
            Request::Join { user: SUE, team: A },
            Request::Join { user: SUE, team: B },
        ],
        vec![Request::Leave {
            user: UserId(1),
            team: B,
        }],
    ];
    let scenario = Scenario::new(2, 2, servers, Vec::new()).unwrap();
    let run = run_once::<Std, _>(&Naive, &scenario, Recording::On);
    assert_eq!(
        run.answers,
        [
            vec![Ok(()), Err(JoinError::AlreadyOnTeam { team: A })],
            vec![Err(JoinError::NotOnTeam)],
        ]
    );
    assert_eq!(run.membership, [(A, SUE)]);
    assert_eq!(run.history.len(), 4);
}

/// A run starts from the scenario's memberships: sue, already on team-A, is refused team-B.
#[test]
fn a_run_starts_from_the_scenarios_memberships() {
    let servers = vec![vec![Request::Join { user: SUE, team: B }]];
    let scenario = Scenario::new(1, 2, servers, vec![(A, SUE)]).unwrap();
    assert_eq!(scenario.initial(), [(A, SUE)]);
    let run = run_once::<Std, _>(&Naive, &scenario, Recording::On);
    assert_eq!(
        run.answers,
        [vec![Err(JoinError::AlreadyOnTeam { team: A })]]
    );
    assert_eq!(run.membership, [(A, SUE)]);
}

/// A time limit already spent stops every engine before its first run, with the same words; one
/// far away stops none.
#[test]
fn a_spent_time_limit_stops_every_engine_before_its_first_run() {
    let spent = Limits::default().timeout(Duration::ZERO);
    let article = Scenario::article();
    let inconclusive = |verdict: Verdict| match verdict {
        Verdict::Inconclusive { reason, stats, .. } => (reason, stats.iterations),
        other => panic!("expected inconclusive, got {other:?}"),
    };
    let loom_options = LoomOptions::default().limits(spent.clone());
    let (reason, executions) =
        inconclusive(loom::check(EventSourced::GLOBAL, &article, &loom_options).unwrap());
    assert_eq!(
        reason,
        format!("stopped by the timeout after 0 executions, before covering all interleavings of {article}")
    );
    assert_eq!(executions, Some(0));
    let shuttle_options = ShuttleOptions::default().limits(spent.clone());
    let (reason, schedules) = inconclusive(shuttle::check(
        EventSourced::GLOBAL,
        &article,
        &shuttle_options,
    ));
    assert_eq!(
        reason,
        "stopped by the timeout after 0 of 1,000 schedules, nothing is proved"
    );
    assert_eq!(schedules, Some(0));
    let proptest_options = ProptestOptions::default().cases(3).limits(spent.clone());
    let (reason, _) = inconclusive(proptest::check(EventSourced::GLOBAL, &proptest_options));
    assert_eq!(
        reason,
        "stopped by the timeout after 0 workloads, nothing is proved"
    );
    let stress_options = StressOptions::default().runs(10).limits(spent);
    let report = stress::run(&EventSourced::GLOBAL, &article, &stress_options);
    assert_eq!(
        report.stopped.as_deref(),
        Some("stopped by the timeout after 0 of 10 runs")
    );

    let distant = Limits::default().timeout(Duration::from_secs(3600));
    let verdict = loom::check(
        EventSourced::GLOBAL,
        &article,
        &LoomOptions::default().limits(distant),
    )
    .unwrap();
    assert_eq!(verdict.kind(), "holds", "{verdict:?}");
    assert_eq!(verdict.stats().iterations, Some(30));
}

/// A service of shuttle's alone that draws its team at random: shuttle seeds the draws, so they
/// vary from schedule to schedule and a schedule replays with the same draws.
#[derive(Clone, Copy)]
struct DrawsItsTeam;

struct Drawer(TeamsConnection<Shuttle>);

impl Server for Drawer {
    fn join(&mut self, user: UserId, _team: TeamId) -> Result<(), JoinError> {
        let team = TeamId((shuttle_rand::thread_rng().next_u64() % 2) as u8);
        self.0.push_member(team, user);
        Ok(())
    }

    fn leave(&mut self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        self.0.pull_member(team, user);
        Ok(())
    }
}

impl JoinService<Shuttle> for DrawsItsTeam {
    type Database = TeamsCollection<Shuttle>;
    type Server = Drawer;

    fn name(&self) -> String {
        "draws-its-team".to_string()
    }

    fn open_database(
        &self,
        initial: &[(TeamId, UserId)],
        recording: Recording,
    ) -> Arc<TeamsCollection<Shuttle>> {
        Arc::new(TeamsCollection::with_members(initial, recording))
    }

    fn start_server(&self, database: &Arc<TeamsCollection<Shuttle>>, id: ServerId) -> Drawer {
        Drawer(database.connect(id))
    }
}

#[test]
fn random_draws_under_shuttle_vary_by_schedule_and_replay() {
    let one_join = Scenario::new(
        1,
        2,
        vec![vec![Request::Join { user: SUE, team: A }]],
        vec![],
    );
    let scenario = one_join.unwrap();
    /// Each schedule's membership at the end, with the schedule.
    type Drawn = Vec<(Vec<(TeamId, UserId)>, shuttle::EncodedSchedule)>;
    let drawn: Arc<Mutex<Drawn>> = Arc::default();
    let seen = drawn.clone();
    let options = ShuttleOptions::default()
        .strategy(Strategy::Random)
        .iterations(40);
    let ran = shuttle::explore(DrawsItsTeam, &scenario, &options, move |run, schedule| {
        seen.lock().unwrap().push((run.membership, schedule));
        ControlFlow::Continue(())
    });
    assert_eq!(ran, Ok(40));
    let drawn = drawn.lock().unwrap();
    let on_b = drawn.iter().filter(|(m, _)| *m == [(B, SUE)]).count();
    assert_eq!((drawn.len() - on_b, on_b), (16, 24));
    for (membership, schedule) in drawn.iter().take(6) {
        let replayed = shuttle::replay(DrawsItsTeam, &scenario, schedule).unwrap();
        assert_eq!(&replayed.membership, membership);
    }
}

/// A schedule that does not decode, or does not fit the workload, is refused in words, without
/// a panic (shuttle's own decoder and replay scheduler panic on both).
#[test]
fn a_schedule_that_does_not_decode_is_refused_in_words() {
    let refused = |schedule: &str| {
        let bad = shuttle::EncodedSchedule(schedule.to_string());
        shuttle::replay(Naive, &Scenario::article(), &bad)
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        refused("not hex"),
        "not a shuttle schedule that replays: it is not shuttle's encoding of a whole schedule"
    );
    // A schedule of the article's race cut short where a step's task id is half there.
    assert_eq!(
        refused("9102139bdbd29794bbb9eb9201"),
        "not a shuttle schedule that replays: it is not shuttle's encoding of a whole schedule"
    );
    // Its fifth step edited from a task switch to a random value.
    assert_eq!(
        refused("9102139bdbd29794bbb9eb920180f48a9440020000"),
        "not a shuttle schedule that replays: step 5 of the schedule is a random value where \
         the run switches tasks"
    );
}

/// Event sourcing over one stream (correct, so nothing breaks), with a stop requested as soon
/// as a run opens its database: the stop comes while a schedule runs.
#[derive(Clone)]
struct StopsWhenRun(Arc<AtomicBool>);

impl<R: Runtime> JoinService<R> for StopsWhenRun {
    type Database = <EventSourced as JoinService<R>>::Database;
    type Server = <EventSourced as JoinService<R>>::Server;

    fn name(&self) -> String {
        "event-sourced".to_string()
    }

    fn open_database(
        &self,
        initial: &[(TeamId, UserId)],
        recording: Recording,
    ) -> Arc<Self::Database> {
        self.0.store(true, Ordering::Relaxed);
        JoinService::<R>::open_database(&EventSourced::GLOBAL, initial, recording)
    }

    fn start_server(&self, database: &Arc<Self::Database>, id: ServerId) -> Self::Server {
        JoinService::<R>::start_server(&EventSourced::GLOBAL, database, id)
    }
}

/// proptest's limits reach into the shuttle schedules of the workload running when they are
/// hit: a stop requested during the first workload stops its schedules there, not after all of
/// them.
#[test]
fn a_stop_request_during_a_workload_stops_its_schedules() {
    let stop = Arc::new(AtomicBool::new(false));
    let options = ProptestOptions::default().limits(Limits::default().stop(Arc::clone(&stop)));
    let verdict = proptest::check(StopsWhenRun(stop), &options);
    let Verdict::Inconclusive { reason, .. } = verdict else {
        panic!("expected inconclusive: {verdict:?}");
    };
    assert_eq!(
        reason,
        "shuttle was inconclusive on server-1: join sue → team-A; server-2: leave sue ← team-B, \
         join sue → team-B; server-3: leave john ← team-A, join john → team-B; server-4: join sue \
         → team-B, leave john ← team-A (initially john ∈ team-A, sue ∈ team-B): stopped by the \
         stop request after 1 of 50 schedules, nothing is proved"
    );
}
