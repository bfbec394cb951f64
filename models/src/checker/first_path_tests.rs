//! The counterexample is the first shortest path in action order: the same path a plain
//! depth-first search without any pruning finds first, on every broken model of the test grid,
//! with and without symmetry.

use super::{check, CheckOptions};
use crate::action::Action;
use crate::model::ProtocolModel;
use crate::reference::{every_model, model};
use crate::state::State;

/// The first path of exactly `steps` actions, in action order, from `state` to a state that
/// breaks the invariant: every path tried, none skipped.
fn first_path_plainly(model: &ProtocolModel, state: &State, steps: u64) -> Option<Vec<Action>> {
    if steps == 0 {
        return state.breaks_invariant().then(Vec::new);
    }
    model
        .successors(state)
        .into_iter()
        .find_map(|(action, _, next)| {
            let mut rest = first_path_plainly(model, &next, steps - 1)?;
            rest.insert(0, action);
            Some(rest)
        })
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
            let plain = first_path_plainly(&model, &model.initial_state(), depth).unwrap();
            let plain: Vec<String> = plain.iter().map(ToString::to_string).collect();
            let crate::verdict::Replay::ModelPath { actions, .. } = &found.replay else {
                panic!("a model counterexample replays on the model")
            };
            assert_eq!(*actions, plain, "{protocol} {sizes} leaves: {leaves}");
            compared += 1;
        }
    }
    println!("{compared}");
}
