//! "Every request completes" on a model that can get stuck, which no built-in protocol can:
//! check-then-act where a checked server pushes only once no other server is checked. Two servers
//! that both check wait for each other forever: the check must say so, with the first shortest
//! path there, whatever the symmetry and the threads.

use super::{report, verdict_of, CheckOptions, Report};
use crate::action::Action;
use crate::domain::{Request, ServerId};
use crate::model::ProtocolModel;
use crate::operation::{OpResult, Operation};
use crate::protocol::{Database, JoinProtocol};
use crate::protocols::Naive;
use crate::reference::{reachable_in, sizes};
use crate::renaming::Renaming;
use crate::sizes::Sizes;
use crate::state::{Phase, State};
use crate::verdict::Verdict;
use std::time::Instant;

/// Check-then-act over member sets, where a checked server waits for every other checked
/// server to push first: a wait with no end once two servers have checked. Otherwise naive.
#[derive(Debug)]
struct WaitsForTheOthers;

impl JoinProtocol for WaitsForTheOthers {
    fn name(&self) -> &'static str {
        "waits-for-the-others"
    }

    fn first_action(&self, server: ServerId, request: Request) -> Action {
        Naive.first_action(server, request)
    }

    fn next_state(&self, sizes: Sizes, state: &State, action: Action) -> Option<State> {
        self.step(sizes, state, action).map(|(next, _, _)| next)
    }

    fn step(
        &self,
        sizes: Sizes,
        state: &State,
        action: Action,
    ) -> Option<(State, Operation, OpResult)> {
        let index = usize::from(action.server().0);
        let others_checked = state
            .servers(sizes)
            .iter()
            .enumerate()
            .any(|(other, s)| other != index && s.phase == Phase::Checked);
        if matches!(action, Action::Act { .. }) && others_checked {
            return None;
        }
        Naive.step(sizes, state, action)
    }

    fn database(&self, sizes: Sizes, leaves: bool) -> Database {
        Naive.database(sizes, leaves)
    }

    fn rename_database(&self, sizes: Sizes, state: &mut State, renaming: &Renaming) {
        Naive.rename_database(sizes, state, renaming);
    }

    fn orders_all_events(&self) -> bool {
        false
    }

    fn breaks_at(&self, _: Sizes) -> bool {
        false
    }
}

/// [`WaitsForTheOthers`] at `sizes`.
fn waiting(sizes: Sizes) -> ProtocolModel {
    ProtocolModel::<dyn JoinProtocol>::of(&WaitsForTheOthers, sizes).unwrap()
}

/// The report and verdict of checking [`WaitsForTheOthers`] at `sizes`.
fn check_waiting(sizes: Sizes, options: &CheckOptions) -> (Report, Verdict) {
    let report = report(&waiting(sizes), options, Instant::now());
    (report.clone(), verdict_of(report))
}

/// The plain exploration finds the same 15 states, and the stuck ones are exactly those where
/// both servers have checked: listed pushes, none enabled.
#[test]
fn the_stuck_states_are_those_where_both_servers_wait() {
    let model = waiting(sizes(2, 1, 2, 1));
    let states = reachable_in(&model);
    assert_eq!(states.len(), 15);
    let sizes = model.sizes();
    let stuck: Vec<State> = states
        .into_iter()
        .filter(|state| model.successors(state).is_empty() && !state.all_requests_done(sizes))
        .collect();
    assert_eq!(stuck.len(), 4);
    for state in stuck {
        let both_checked = state
            .servers(sizes)
            .iter()
            .all(|s| s.phase == Phase::Checked);
        assert!(both_checked, "{state:?}");
    }
}

#[test]
fn a_server_that_waits_forever_is_reported_with_the_first_shortest_path() {
    let stuck_after = ["server-1 check sue → team-A", "server-2 check sue → team-A"];
    for symmetry in [false, true] {
        for threads in [1, 2] {
            let options = CheckOptions::default().symmetry(symmetry).threads(threads);
            let (report, verdict) = check_waiting(sizes(2, 1, 2, 1), &options);
            assert_eq!(report.stuck, Some(stuck_after.map(String::from).to_vec()));
            assert!(report.someone_joined);
            assert_eq!(report.verdict.kind(), "holds");
            let Verdict::Inconclusive { reason, stats, .. } = verdict else {
                panic!("a stuck model proves nothing: {verdict:?}")
            };
            assert_eq!(
                reason,
                "the invariant held in every state, but \"every request completes\" fails: after \
                 server-1 check sue → team-A, server-2 check sue → team-A no action is enabled \
                 and requests are left"
            );
            // The check went on to the end: all 15 states (6 orbits), 3 steps deep.
            assert_eq!(
                (stats.unique_states, stats.max_depth),
                (Some(if symmetry { 6 } else { 15 }), Some(3))
            );
        }
    }
}
