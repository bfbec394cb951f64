//! proptest workloads under shuttle: failures shrink to the article's scenario.

use joincheck::check::proptest::{check, ProptestOptions};
use joincheck::check::Limits;
use joincheck::service::{EventSourced, Naive};
use joincheck_models::domain::{ServerId, UserId};
use joincheck_models::verdict::Verdict;
use std::collections::BTreeSet;
use std::sync::atomic::AtomicBool;
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
