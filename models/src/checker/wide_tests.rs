//! States wider than 63 bits, which the checker stores as `u128`: a path no model of 63 bits or
//! fewer takes. Many servers, and leaves (which widen each server's record and the log), make
//! small models that wide.

use super::{check, CheckOptions};
use crate::reference::{holds_under, model, reachable_in, sizes};
use crate::verdict::Replay;
use crate::Protocol;

/// A proof over 65-bit states: unique membership with leaves at 7 servers, 3 users, 3 teams and
/// 1 request each covers all 7,184 states (as the plain exploration finds them), 42 up to
/// symmetry, on one thread or two.
#[test]
fn a_proof_over_states_wider_than_63_bits() {
    let (protocol, at) = (Protocol::UniqueMembership, sizes(7, 3, 3, 1));
    let model = model(protocol, at, true);
    assert_eq!(model.layout().bits(), 65);
    assert_eq!(reachable_in(&model).len(), 7_184);
    for threads in [1, 2] {
        let options = CheckOptions::default().leaves(true).threads(threads);
        assert_eq!(holds_under(protocol, at, &options), 7_184);
        assert_eq!(holds_under(protocol, at, &options.symmetry(true)), 42);
    }
}

/// A counterexample over 72-bit states: per-team event sourcing with leaves at 4 servers, 1
/// user, 3 teams and 2 requests each breaks in the usual four steps, found after exactly 3,179
/// states (79 up to symmetry), on one thread or two.
#[test]
fn a_counterexample_over_states_wider_than_63_bits() {
    let (protocol, at) = (Protocol::EventSourcedPerTeam, sizes(4, 1, 3, 2));
    assert_eq!(model(protocol, at, true).layout().bits(), 72);
    let race = [
        "server-1 read sue → team-A",
        "server-2 read sue → team-B",
        "server-1 append",
        "server-2 append",
    ];
    for symmetry in [false, true] {
        for threads in [1, 2] {
            let options = CheckOptions::default()
                .leaves(true)
                .symmetry(symmetry)
                .threads(threads);
            let verdict = check(protocol, at, &options);
            let found = verdict.counterexample().expect("per team is broken");
            assert_eq!(
                found.replay,
                Replay::ModelPath {
                    sizes: [4, 1, 3, 2],
                    actions: race.map(String::from).to_vec(),
                }
            );
            assert_eq!(found.violation.to_string(), "sue ∈ {team-A, team-B}");
            let stats = verdict.stats();
            let states = if symmetry { 79 } else { 3_179 };
            assert_eq!(
                (stats.unique_states, stats.max_depth),
                (Some(states), Some(4))
            );
        }
    }
}

/// With leaves, a log of eight events (one per request) is the most a state has room for, and
/// it is taken: event sourcing at 8 servers, 1 user, 1 team and 1 request each, 76 bits wide,
/// holds over 2,885 states up to symmetry.
#[test]
fn a_log_of_eight_events_fits() {
    let (protocol, at) = (Protocol::EventSourced, sizes(8, 1, 1, 1));
    assert_eq!(model(protocol, at, true).layout().bits(), 76);
    let options = CheckOptions::default().leaves(true).symmetry(true);
    assert_eq!(holds_under(protocol, at, &options), 2_885);
}

/// 64 bits, the narrowest state stored as `u128`: unique membership with leaves at 8 servers, 4
/// users, 2 teams and 1 request each, where a third of the states use the top bit (the last
/// user on the last team), holds over 17,840 states (as many as the plain exploration finds, which
/// takes seconds here), 58 up to symmetry.
#[test]
fn a_proof_over_states_of_exactly_64_bits() {
    let (protocol, at) = (Protocol::UniqueMembership, sizes(8, 4, 2, 1));
    assert_eq!(model(protocol, at, true).layout().bits(), 64);
    let options = CheckOptions::default().leaves(true);
    assert_eq!(holds_under(protocol, at, &options), 17_840);
    assert_eq!(holds_under(protocol, at, &options.symmetry(true)), 58);
}
