//! proptest workloads under shuttle: failures shrink to the article's scenario.

use joincheck::check::proptest::{check, ProptestOptions};
use joincheck::check::Limits;
use joincheck::runtime::Runtime;
use joincheck::service::JoinService;
use joincheck::service::{EventSourced, Naive};
use joincheck::store::Recording;
use joincheck_models::domain::{ServerId, TeamId, UserId};
use joincheck_models::verdict::Verdict;
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
    assert_eq!(counterexample.violation.user, sue);
}

#[test]
fn event_sourced_passes_every_generated_workload() {
    let options = ProptestOptions {
        cases: 24,
        ..ProptestOptions::default()
    };
    for service in [EventSourced::GLOBAL, EventSourced::PER_USER] {
        let verdict = check(service, &options);
        let Verdict::Holds { scope, .. } = &verdict else {
            panic!("expected holds, got {verdict:?}");
        };
        assert!(
            scope.starts_with(
                "no violation in 24 generated workloads (seed 42, 2 to 4 servers × 1 to 2 \
                 requests each over 2 users and 2 teams), 50 shuttle schedules each (PCT depth 3, seed 42)"
            ),
            "{scope}"
        );
        assert!(scope.ends_with("evidence, not proof"));
    }
}

#[test]
fn a_stop_request_is_inconclusive_never_holds() {
    let options = ProptestOptions {
        limits: Limits {
            stop: Some(Arc::new(AtomicBool::new(true))),
            timeout: None,
        },
        ..ProptestOptions::default()
    };
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
/// the middle of the search or of the shrinking.
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
    for after in [150, 200, 300, 400, 600] {
        let stop = Arc::new(AtomicBool::new(false));
        let service = StopsAfter {
            after,
            opened: Arc::default(),
            stop: stop.clone(),
        };
        let options = ProptestOptions {
            limits: Limits {
                stop: Some(stop),
                timeout: None,
            },
            ..ProptestOptions::default()
        };
        let verdict = check(service, &options);
        // Without a stop, the default search has found the race by its 150th database.
        let Verdict::Violated { counterexample, .. } = &verdict else {
            panic!("stopped after {after} databases: {verdict:?}");
        };
        // Shrinking may have been cut short, so any user may be the one on two teams.
        assert!(counterexample.violation.teams.len() > 1);
        assert_eq!(counterexample.steps.last().unwrap().operation.verb(), "act");
    }
}

#[test]
fn zero_cases_check_nothing_and_say_so() {
    let options = ProptestOptions {
        cases: 0,
        ..ProptestOptions::default()
    };
    let verdict = check(EventSourced::GLOBAL, &options);
    assert_eq!(verdict.kind(), "inconclusive", "{verdict:?}");
}
