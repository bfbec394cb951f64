//! loom on the real services: every interleaving, with exact iteration counts so that an early
//! stop cannot pass for a proof.

use joincheck::check::loom::{check, LoomOptions};
use joincheck::check::{Scenario, ScenarioError};
use joincheck::service::{EventSourced, Naive};
use joincheck_models::domain::{OnSeveralTeams, TeamId, UserId};
use joincheck_models::operation::Operation;
use joincheck_models::verdict::Verdict;

const SUE: UserId = UserId(0);

#[test]
fn naive_breaks_on_the_article_scenario_with_check_check_act_act() {
    let verdict = check(Naive, &Scenario::article(), &LoomOptions::default()).unwrap();
    let Verdict::Violated { counterexample, .. } = verdict else {
        panic!("expected a violation, got {verdict:?}");
    };
    let steps = &counterexample.steps;
    assert_eq!(steps.len(), 4);
    assert_eq!(steps[0].operation, Operation::FindTeamOf { user: SUE });
    assert_eq!(steps[1].operation, Operation::FindTeamOf { user: SUE });
    assert_ne!(steps[0].server, steps[1].server);
    assert_eq!(steps[2].operation.verb(), "act");
    assert_eq!(steps[3].operation.verb(), "act");
    assert_ne!(steps[2].server, steps[3].server);
    let broken = OnSeveralTeams {
        user: SUE,
        teams: vec![TeamId(0), TeamId(1)],
    };
    assert_eq!(counterexample.violation, broken.into());
}

/// Holds, with the exact number of loom executions: fewer would mean part of the scope was skipped.
fn assert_holds(verdict: Verdict, executions: u64, scope_starts: &str) {
    let Verdict::Holds { scope, stats, .. } = &verdict else {
        panic!("expected holds, got {verdict:?}");
    };
    assert!(scope.starts_with(scope_starts), "{scope}");
    assert_eq!(stats.iterations, Some(executions));
}

#[test]
fn event_sourced_holds_for_every_interleaving_of_two_servers() {
    for service in [EventSourced::GLOBAL, EventSourced::PER_USER] {
        let verdict = check(service, &Scenario::article(), &LoomOptions::default()).unwrap();
        assert_holds(
            verdict,
            30,
            "all interleavings of server-1: join sue → team-A;",
        );
    }
}

#[test]
fn event_sourced_holds_for_every_interleaving_of_three_servers() {
    let scenario = Scenario::contended(3, 1, 2).unwrap();
    let verdict = check(EventSourced::GLOBAL, &scenario, &LoomOptions::default()).unwrap();
    assert_holds(verdict, 11_739, "all interleavings of server-1");
}

#[test]
fn event_sourced_holds_within_a_preemption_bound_where_exhaustive_is_too_slow() {
    let options = LoomOptions::default().preemption_bound(2);
    let bounded = "all interleavings within preemption bound 2 of server-1";
    let four_servers = Scenario::contended(4, 1, 2).unwrap();
    let verdict = check(EventSourced::GLOBAL, &four_servers, &options).unwrap();
    assert_holds(verdict.clone(), 561, bounded);
    let Verdict::Holds { scope, .. } = verdict else {
        unreachable!()
    };
    assert!(
        scope.ends_with(
            "evidence, not proof (interleavings with more preemptions were not explored)"
        ),
        "{scope}"
    );
    // Three servers with two requests each: 8 million executions unbounded.
    let two_requests = Scenario::contended(3, 2, 2).unwrap();
    let verdict = check(EventSourced::GLOBAL, &two_requests, &options).unwrap();
    assert_holds(verdict, 204, bounded);
    assert!(check(Naive, &two_requests, &options)
        .unwrap()
        .counterexample()
        .is_some());
}

#[test]
fn an_iteration_limit_is_inconclusive_never_holds() {
    let scenario = Scenario::contended(3, 1, 2).unwrap();
    let options = LoomOptions::default().max_iterations(10);
    let verdict = check(EventSourced::GLOBAL, &scenario, &options).unwrap();
    let Verdict::Inconclusive { reason, stats, .. } = &verdict else {
        panic!("expected inconclusive, got {verdict:?}");
    };
    assert!(
        reason.contains("iteration limit after 10 executions"),
        "{reason}"
    );
    assert_eq!(stats.iterations, Some(10));
}

#[test]
fn a_stop_request_is_inconclusive_never_holds() {
    use joincheck::check::Limits;
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;
    let options =
        LoomOptions::default().limits(Limits::default().stop(Arc::new(AtomicBool::new(true))));
    let verdict = check(EventSourced::GLOBAL, &Scenario::article(), &options).unwrap();
    let Verdict::Inconclusive { reason, stats, .. } = &verdict else {
        panic!("expected inconclusive, got {verdict:?}");
    };
    assert!(
        reason.starts_with("stopped by the stop request after 0 executions"),
        "{reason}"
    );
    assert_eq!(stats.iterations, Some(0));
}

#[test]
fn more_servers_than_loom_can_run_is_a_clear_error() {
    let scenario = Scenario::contended(5, 1, 2).unwrap();
    let error = check(Naive, &scenario, &LoomOptions::default()).unwrap_err();
    assert_eq!(
        error,
        ScenarioError::TooManyServers {
            servers: 5,
            limit: 4,
            engine: "loom"
        }
    );
    assert_eq!(
        error.to_string(),
        "5 servers is more than loom can check (at most 4)"
    );
}

/// Joins and leaves over two users and two teams.
fn small_requests() -> Vec<joincheck_models::domain::Request> {
    use joincheck_models::domain::Request;
    let mut requests = Vec::new();
    for user in [UserId(0), UserId(1)] {
        for team in [TeamId(0), TeamId(1)] {
            requests.push(Request::Join { user, team });
            requests.push(Request::Leave { user, team });
        }
    }
    requests
}

/// Every scenario of two servers with one request each (joins and leaves over two users and two
/// teams, from an empty database or with sue on team-A): loom explores all interleavings of each.
#[test]
fn event_sourced_holds_for_every_two_server_scenario() {
    let requests = small_requests();
    let mut scenarios = 0;
    for first in &requests {
        for second in &requests {
            for initial in [vec![], vec![(TeamId(0), UserId(0))]] {
                let servers = vec![vec![*first], vec![*second]];
                let scenario = Scenario::new(2, 2, servers, initial).unwrap();
                for service in [EventSourced::GLOBAL, EventSourced::PER_USER] {
                    let verdict = check(service, &scenario, &LoomOptions::default()).unwrap();
                    assert_eq!(verdict.kind(), "holds", "{scenario}: {verdict:?}");
                }
                scenarios += 1;
            }
        }
    }
    assert_eq!(scenarios, 128);
}

/// Every scenario of three servers joining once each, up to renaming users and teams (named by
/// first appearance): 25 scenarios, about 11,700 loom executions each; a minute even in release:
/// `cargo test --release --test loom_engine -- --ignored`.
#[test]
#[ignore]
fn event_sourced_holds_for_every_three_server_join_scenario() {
    use joincheck_models::domain::Request;
    let patterns = [[0, 0, 0], [0, 0, 1], [0, 1, 0], [0, 1, 1], [0, 1, 2]];
    for users in patterns {
        for teams in patterns {
            let servers = (0..3)
                .map(|i| {
                    let (user, team) = (UserId(users[i]), TeamId(teams[i]));
                    vec![Request::Join { user, team }]
                })
                .collect();
            let scenario = Scenario::new(3, 3, servers, vec![]).unwrap();
            for service in [EventSourced::GLOBAL, EventSourced::PER_USER] {
                let verdict = check(service, &scenario, &LoomOptions::default()).unwrap();
                assert_eq!(verdict.kind(), "holds", "{scenario}: {verdict:?}");
            }
        }
    }
}
