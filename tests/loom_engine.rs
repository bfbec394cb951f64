//! loom on the real services: every interleaving of the article's scenario and larger ones.

use joincheck::check::loom::{check, LoomOptions};
use joincheck::check::Scenario;
use joincheck::service::{EventSourced, Naive};
use joincheck_models::domain::{ServerId, TeamId, UserId};
use joincheck_models::operation::{OpResult, Operation};
use joincheck_models::verdict::Verdict;

#[test]
fn naive_breaks_on_the_article_scenario() {
    let verdict = check(Naive, &Scenario::article(), &LoomOptions::default()).unwrap();
    let Verdict::Violated { counterexample, .. } = verdict else {
        panic!("expected a violation, got {verdict:?}");
    };
    let sue = UserId(0);
    let shape: Vec<(ServerId, Operation, OpResult)> = counterexample
        .steps
        .iter()
        .map(|step| (step.server, step.operation.clone(), step.result.clone()))
        .collect();
    eprintln!("{shape:?}");
    assert_eq!(counterexample.violation.user, sue);
    assert_eq!(counterexample.violation.teams, vec![TeamId(0), TeamId(1)]);
}

#[test]
fn event_sourced_holds_for_every_interleaving_of_the_article_scenario() {
    for service in [EventSourced::GLOBAL, EventSourced::PER_USER] {
        let verdict = check(service, &Scenario::article(), &LoomOptions::default()).unwrap();
        eprintln!("{verdict:?}");
        assert!(matches!(verdict, Verdict::Holds { .. }), "{verdict:?}");
    }
}
