//! The counterexample is the first shortest path in action order: the same path a plain
//! depth-first search without any pruning finds first, on every broken model of the test grid,
//! with and without symmetry.

use super::{check, path, CheckOptions};
use crate::action::Action;
use crate::model::ProtocolModel;
use crate::reference::{every_model, model, sizes};
use crate::state::State;
use crate::symmetry;
use crate::Protocol;
use std::collections::hash_map::Entry;
use std::collections::HashMap;

/// The first path of exactly `steps` actions, in action order, from `state` to a state that
/// meets `target`: every path tried, none skipped.
fn first_path_plainly(
    model: &ProtocolModel,
    state: &State,
    steps: u64,
    target: &impl Fn(&State) -> bool,
) -> Option<Vec<Action>> {
    if steps == 0 {
        return target(state).then(Vec::new);
    }
    model
        .successors(state)
        .into_iter()
        .find_map(|(action, _, next)| {
            let mut rest = first_path_plainly(model, &next, steps - 1, target)?;
            rest.insert(0, action);
            Some(rest)
        })
}

/// Every reachable state of `model` with its depth: the fewest steps that reach it.
fn depths(model: &ProtocolModel) -> HashMap<State, u64> {
    let initial = model.initial_state();
    let mut depth = HashMap::from([(initial, 0)]);
    let mut level = vec![initial];
    for steps in 1.. {
        let mut next = Vec::new();
        for state in &level {
            for (_, _, successor) in model.successors(state) {
                if let Entry::Vacant(slot) = depth.entry(successor) {
                    slot.insert(steps);
                    next.push(successor);
                }
            }
        }
        if next.is_empty() {
            break;
        }
        level = next;
    }
    depth
}

#[test]
fn the_counterexample_is_the_first_shortest_path_in_action_order() {
    let mut compared = 0;
    for (protocol, sizes, leaves) in every_model() {
        let model = model(protocol, sizes, leaves);
        for symmetry in [false, true] {
            let options = CheckOptions::default().leaves(leaves).symmetry(symmetry);
            let verdict = check(protocol, sizes, &options);
            let Some(found) = verdict.counterexample() else {
                continue;
            };
            let depth = verdict.stats().max_depth.unwrap();
            let broken = State::breaks_invariant;
            let plain = first_path_plainly(&model, &model.initial_state(), depth, &broken);
            let plain = plain.unwrap();
            let plain: Vec<String> = plain.iter().map(ToString::to_string).collect();
            let crate::verdict::Replay::ModelPath { actions, .. } = &found.replay else {
                panic!("a model counterexample replays on the model")
            };
            assert_eq!(*actions, plain, "{protocol} {sizes} leaves: {leaves}");
            compared += 1;
        }
    }
    assert_eq!(compared, 96);
}

/// With leaves, a state can be reached in different numbers of steps (a pull is one step, a
/// check and a push two), so the search meets states it has given up on with more steps left.
/// For every reachable state as the target, at its depth, the path rebuilt is still the first
/// in action order, with and without symmetry (where the target is the state's whole orbit).
#[test]
fn the_path_to_any_state_is_the_first_in_action_order() {
    for (protocol, at) in [
        (Protocol::Naive, sizes(2, 1, 2, 2)),
        (Protocol::UniqueMembership, sizes(2, 2, 2, 2)),
        (Protocol::EventSourced, sizes(2, 1, 2, 2)),
    ] {
        let model = model(protocol, at, true);
        for (goal, depth) in depths(&model) {
            for symmetry in [false, true] {
                let orbit = symmetry::canonical(&model, &goal);
                let target = |state: &State| match symmetry {
                    true => symmetry::canonical(&model, state) == orbit,
                    false => *state == goal,
                };
                let plain = first_path_plainly(&model, &model.initial_state(), depth, &target);
                let rebuilt = path::first_path(&model, symmetry, depth, target);
                assert!(plain.is_some(), "{protocol} {goal:?}");
                assert_eq!(rebuilt, plain, "{protocol} {symmetry} {goal:?}");
            }
        }
    }
}
