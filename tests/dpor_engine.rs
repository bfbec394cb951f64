//! The DPOR engine against loom on every built-in protocol: the same verdict, never more
//! executions, and the same final memberships reached, at sizes loom finishes quickly.

#[path = "common/dpor_vs_loom.rs"]
mod dpor_vs_loom;

use dpor_vs_loom::{agree, outcome};
use joincheck::check::dpor::{self, DporOptions};
use joincheck::check::Scenario;
use joincheck::protocols::{with_builtin, Builtin, Service, WithBuiltin, ALL};
use joincheck_models::verdict::Verdict;
use joincheck_models::Protocol;

/// Both engines on `protocol` at `sizes`, which must agree: DPOR's executions.
fn compare(protocol: Protocol, [s, u, t, n]: [u8; 4]) -> u64 {
    struct Agree(Scenario, String);
    impl WithBuiltin for Agree {
        type Output = u64;
        fn run<S: Service>(self, builtin: Builtin<S>) -> u64 {
            agree(builtin.service, &self.0, &self.1)
        }
    }
    let scenario = Scenario::round_robin(s, u, t, n).unwrap();
    with_builtin(
        protocol,
        Agree(scenario, format!("{protocol} at {s},{u},{t},{n}")),
    )
}

#[test]
fn every_protocol_without_a_clock_on_the_article_scenario_at_three_servers_and_at_two_requests() {
    let without_clock = &ALL[..6];
    let executions: Vec<[u64; 3]> = without_clock
        .iter()
        .map(|protocol| {
            [[2, 1, 2, 1], [3, 1, 2, 1], [2, 2, 2, 2]].map(|sizes| compare(*protocol, sizes))
        })
        .collect();
    assert_eq!(
        executions,
        [
            [4, 21, 16],
            [4, 12, 22],
            [4, 12, 16],
            [4, 19, 28],
            [2, 3, 4],
            [2, 3, 4]
        ]
    );
}

#[test]
fn the_lease_locks_that_break_on_the_article_scenario() {
    let executions: Vec<u64> = ALL[6..8]
        .iter()
        .map(|protocol| compare(*protocol, [2, 1, 2, 1]))
        .collect();
    assert_eq!(executions, [52, 52]);
}

/// Every catalogue protocol with a model at 3 servers, 2 users, 2 teams and 2 requests each, where
/// loom does not finish: proven or refuted, in exactly these executions (a refuted protocol's
/// count includes the up to 1,000 explored after the first violation for a shorter one).
#[test]
fn every_catalogue_protocol_at_three_servers_two_users_two_teams_and_two_requests() {
    struct Dpor(Scenario);
    impl WithBuiltin for Dpor {
        type Output = Verdict;
        fn run<S: Service>(self, builtin: Builtin<S>) -> Verdict {
            dpor::check(builtin.service, &self.0, &DporOptions::default()).unwrap()
        }
    }
    let verdicts: Vec<(Protocol, &str, u64)> = ALL
        .iter()
        .map(|protocol| {
            let scenario = Scenario::round_robin(3, 2, 2, 2).unwrap();
            let verdict = with_builtin(*protocol, Dpor(scenario));
            let executions = verdict.stats().iterations.unwrap();
            (*protocol, outcome(&verdict), executions)
        })
        .collect();
    use Protocol::*;
    assert_eq!(
        verdicts,
        [
            (Naive, "violated", 109),
            (EventSourced, "holds", 231),
            (EventSourcedPerUser, "holds", 56),
            (EventSourcedPerTeam, "violated", 645),
            (UniqueMembership, "holds", 7),
            (UserDocument, "holds", 7),
            (LeaseLock, "violated", 1_463),
            (LeaseLockFenced, "violated", 1_463),
            (LeaseLockFencedReads, "holds", 31_180),
        ]
    );
}
