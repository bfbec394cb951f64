//! proptest workloads under shuttle: failures shrink to the article's scenario.

use joincheck::check::proptest::{check, join_workloads, workloads, ProptestOptions};
use joincheck::check::{Limits, Scenario};
use joincheck::runtime::Runtime;
use joincheck::service::JoinService;
use joincheck::service::{EventSourced, Naive};
use joincheck::store::Recording;
use joincheck_models::domain::{Request, ServerId, TeamId, UserId};
use joincheck_models::verdict::Violation;
use joincheck_models::verdict::{Replay, Verdict};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

#[test]
fn naive_shrinks_to_two_servers_joining_one_user_to_different_teams() {
    let verdict = check(Naive, &ProptestOptions::default());
    let Verdict::Violated { counterexample, .. } = &verdict else {
        panic!("expected a violation, got {verdict:?}");
    };
    let sue = UserId(0);
    assert_eq!(
        counterexample.parameters,
        "server-1: join sue → team-A; server-2: join sue → team-B"
    );
    let servers: BTreeSet<ServerId> = counterexample.steps.iter().map(|s| s.server).collect();
    assert_eq!(servers.len(), 2);
    assert_eq!(counterexample.steps.len(), 4);
    assert_eq!(
        counterexample.violation.to_string(),
        format!("{sue} ∈ {{team-A, team-B}}")
    );
}

#[test]
fn event_sourced_passes_every_generated_workload() {
    let options = ProptestOptions::default().cases(24);
    for service in [EventSourced::GLOBAL, EventSourced::PER_USER] {
        let verdict = check(service, &options);
        let Verdict::Holds { scope, .. } = &verdict else {
            panic!("expected holds, got {verdict:?}");
        };
        assert_eq!(
            scope,
            "no violation in 24 generated workloads (seed 42, 2 to 4 servers × 1 to 3 requests \
             each over 2 users and 2 teams: joins, leaves and switches, some users on a team at \
             the start), each under 50 shuttle schedules (random, seed 42) and 50 (PCT depth 3, \
             seed 42): evidence, not proof"
        );
    }
}

#[test]
fn a_stop_request_is_inconclusive_never_holds() {
    let options =
        ProptestOptions::default().limits(Limits::default().stop(Arc::new(AtomicBool::new(true))));
    let verdict = check(EventSourced::GLOBAL, &options);
    let Verdict::Inconclusive { reason, .. } = &verdict else {
        panic!("expected inconclusive, got {verdict:?}");
    };
    assert_eq!(
        reason,
        "stopped by the stop request after 0 workloads, nothing is proved"
    );
}

/// Naive, with a stop request once `after` databases have been opened: the limit then falls in
/// the middle of the shrinking.
#[derive(Clone)]
struct StopsAfter {
    after: usize,
    opened: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl<R: Runtime> JoinService<R> for StopsAfter {
    type Database = <Naive as JoinService<R>>::Database;
    type Server = <Naive as JoinService<R>>::Server;

    fn name(&self) -> String {
        "naive".to_string()
    }

    fn open_database(
        &self,
        initial: &[(TeamId, UserId)],
        recording: Recording,
    ) -> Arc<Self::Database> {
        if self.opened.fetch_add(1, Ordering::Relaxed) + 1 >= self.after {
            self.stop.store(true, Ordering::Relaxed);
        }
        JoinService::<R>::open_database(&Naive, initial, recording)
    }

    fn start_server(&self, database: &Arc<Self::Database>, id: ServerId) -> Self::Server {
        JoinService::<R>::start_server(&Naive, database, id)
    }
}

#[test]
fn a_race_found_before_a_stop_request_is_never_lost() {
    for after in [1, 150, 300, 600, 1000] {
        let stop = Arc::new(AtomicBool::new(false));
        let service = StopsAfter {
            after,
            opened: Arc::default(),
            stop: stop.clone(),
        };
        let options = ProptestOptions::default().limits(Limits::default().stop(stop));
        let verdict = check(service, &options);
        // Without a stop, the default search finds the race in its first database (the first
        // random schedule of the first workload) and shrinks it over 1,100 databases in all.
        let Verdict::Violated { counterexample, .. } = &verdict else {
            panic!("stopped after {after} databases: {verdict:?}");
        };
        // Shrinking may have been cut short, so any user may be the one on two teams.
        let Violation::OnSeveralTeams(violation) = &counterexample.violation else {
            panic!(
                "only the built-in invariant is judged: {:?}",
                counterexample.violation
            );
        };
        assert!(violation.teams.len() > 1);
        assert_eq!(counterexample.steps.last().unwrap().operation.verb(), "act");
    }
}

#[test]
fn zero_cases_check_nothing_and_say_so() {
    let options = ProptestOptions::default().cases(0);
    let verdict = check(EventSourced::GLOBAL, &options);
    assert_eq!(verdict.kind(), "inconclusive", "{verdict:?}");
}

/// Whether a server leaves a user and joins the same user with its next request.
fn switches(scenario: &Scenario) -> bool {
    scenario.servers().iter().any(|requests| {
        requests.windows(2).any(|pair| match pair {
            [Request::Leave { user, .. }, Request::Join { user: joined, .. }] => user == joined,
            _ => false,
        })
    })
}

/// Whether a server leaves the team it believes the user is on: the team it last asked the
/// user to join, or the user's initial team.
fn leaves_a_team_the_user_is_on(scenario: &Scenario) -> bool {
    scenario.servers().iter().any(|requests| {
        requests.iter().enumerate().any(|(index, request)| {
            let Request::Leave { user, team } = *request else {
                return false;
            };
            let earlier_join = requests[..index].iter().rev().find_map(|r| match r {
                Request::Join { user: u, team: t } if *u == user => Some(*t),
                _ => None,
            });
            let initial = scenario.initial().iter().find(|(_, u)| *u == user);
            earlier_join.or(initial.map(|(t, _)| *t)) == Some(team)
        })
    })
}

/// Whether two servers ask for two users in opposite orders.
fn orders_differ(scenario: &Scenario) -> bool {
    let order = |requests: &Vec<Request>| {
        let mut users: Vec<UserId> = Vec::new();
        for request in requests {
            if !users.contains(&request.user()) {
                users.push(request.user());
            }
        }
        users
    };
    let orders: Vec<Vec<UserId>> = scenario.servers().iter().map(order).collect();
    orders.iter().any(|one| {
        orders.iter().any(|other| {
            let common: Vec<&UserId> = one.iter().filter(|u| other.contains(u)).collect();
            let in_other: Vec<&UserId> = other.iter().filter(|u| one.contains(u)).collect();
            common != in_other
        })
    })
}

/// The default generator makes what bugs beyond the article's race need, counted over its 256
/// workloads: leaves and switches, leaves of the team the user is on, users on a team from the
/// start, several requests per server, and servers asking for the users in different orders.
#[test]
fn default_workloads_leave_switch_start_from_members_and_vary_the_order() {
    let generated = workloads(&ProptestOptions::default());
    assert_eq!(generated.len(), 256);
    for scenario in &generated {
        assert!((2..=4).contains(&scenario.servers().len()), "{scenario}");
        assert!(scenario
            .servers()
            .iter()
            .all(|r| (1..=3).contains(&r.len())));
        assert_eq!((scenario.users(), scenario.teams()), (2, 2));
    }
    let count = |has: fn(&Scenario) -> bool| generated.iter().filter(|s| has(s)).count();
    let leaves = |s: &Scenario| {
        let mut requests = s.servers().iter().flatten();
        requests.any(|r| matches!(r, Request::Leave { .. }))
    };
    assert_eq!(count(leaves), 233);
    assert_eq!(count(switches), 181);
    assert_eq!(count(leaves_a_team_the_user_is_on), 163);
    assert_eq!(count(|s| !s.initial().is_empty()), 109);
    assert_eq!(count(|s| s.servers().iter().any(|r| r.len() == 3)), 215);
    assert_eq!(count(orders_differ), 53);
}

/// Conformance runs get joins only, from no memberships: the models have nothing else.
#[test]
fn join_workloads_are_joins_from_no_memberships() {
    let generated = join_workloads(&ProptestOptions::default());
    assert_eq!(generated.len(), 256);
    for scenario in &generated {
        assert!(scenario.initial().is_empty(), "{scenario}");
        let mut requests = scenario.servers().iter().flatten();
        assert!(
            requests.all(|r| matches!(r, Request::Join { .. })),
            "{scenario}"
        );
    }
}

/// With no random schedules, only the PCT ones run: the race is still found, by PCT.
#[test]
fn zero_random_schedules_leave_the_pct_ones() {
    let options = ProptestOptions::default().random_schedules(0);
    let verdict = check(Naive, &options);
    let Verdict::Violated { counterexample, .. } = &verdict else {
        panic!("expected a violation, got {verdict:?}");
    };
    // Each workload keeps its fixed seeded schedules, so shrinking stops at a local minimum:
    // under PCT alone, one request more than the article's race.
    assert_eq!(
        counterexample.parameters,
        "server-1: leave sue ← team-A, join sue → team-A; server-2: join sue → team-B"
    );
    let Replay::ShuttleSchedule { found_by, .. } = &counterexample.replay else {
        panic!("not a shuttle schedule: {:?}", counterexample.replay);
    };
    assert_eq!(
        found_by,
        "case 4 of seed 42 (shrunk workload), shuttle PCT depth 3, seed 42"
    );
    let options = options.clone();
    let verdict = check(EventSourced::GLOBAL, &options);
    let Verdict::Holds { scope, .. } = &verdict else {
        panic!("expected holds, got {verdict:?}");
    };
    assert!(
        scope.contains("each under 50 shuttle schedules (PCT depth 3, seed 42): evidence"),
        "{scope}"
    );
}
