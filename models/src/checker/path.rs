//! Rebuilding a path once the search knows how deep it is: the first path of that length in
//! action order, so the same counterexample on every run and for any number of threads.

use super::state_set::key_of;
use crate::action::Action;
use crate::model::{requests_in_words, ProtocolModel};
use crate::protocol::JoinProtocol;
use crate::state::State;
use crate::verdict::{Counterexample, Engine, Replay};
use std::collections::HashMap;

/// True when requests are left in `state` but no action is enabled (one may be listed and
/// refused, as a push that waits for another server is): "every request completes" fails there.
pub(super) fn state_is_stuck<P: JoinProtocol + ?Sized>(
    model: &ProtocolModel<P>,
    state: &State,
) -> bool {
    let mut actions = Vec::new();
    model.actions(state, &mut actions);
    let enabled = |action: &Action| model.next_state(state, *action).is_some();
    !actions.iter().any(enabled) && !state.all_requests_done(model.sizes())
}

/// The counterexample of a path from the initial state, if its last state breaks the invariant.
pub(super) fn counterexample<P: JoinProtocol + ?Sized>(
    model: &ProtocolModel<P>,
    path: &[Action],
) -> Option<Counterexample> {
    let mut state = model.initial_state();
    let mut steps = Vec::with_capacity(path.len());
    for action in path {
        let (step, next) = model.step(&state, *action)?;
        steps.push(step);
        state = next;
    }
    let violation = state.violation()?.into();
    Some(Counterexample {
        protocol: model.protocol().name().to_string(),
        parameters: format!("{}{}", model.sizes(), requests_in_words(model.leaves())),
        engine: Engine::Model,
        steps,
        violation,
        replay: Replay::ModelPath {
            sizes: model.sizes().as_array(),
            actions: path.iter().map(ToString::to_string).collect(),
        },
    })
}

/// The first path of exactly `depth` actions, in action order, that ends in a state meeting
/// `target`, if there is one. With `depth` the smallest depth at which `target` is met,
/// this is the shortest such path, and the same on every run.
pub(super) fn first_path<P: JoinProtocol + ?Sized>(
    model: &ProtocolModel<P>,
    symmetry: bool,
    depth: u64,
    target: impl Fn(&State) -> bool,
) -> Option<Vec<Action>> {
    struct Dfs<'a, P: JoinProtocol + ?Sized, T> {
        model: &'a ProtocolModel<P>,
        symmetry: bool,
        target: T,
        /// States known not to reach `target` within this many steps (keyed by representative:
        /// reaching `target` is the same for a whole orbit).
        dead_ends: HashMap<u128, u64>,
        path: Vec<Action>,
    }
    impl<P: JoinProtocol + ?Sized, T: Fn(&State) -> bool> Dfs<'_, P, T> {
        fn search(&mut self, state: &State, remaining: u64) -> bool {
            if remaining == 0 {
                return (self.target)(state);
            }
            let mut actions = Vec::new();
            self.model.actions(state, &mut actions);
            for action in actions {
                let Some(next) = self.model.next_state(state, action) else {
                    continue;
                };
                let key = key_of(self.model, self.symmetry, &next);
                if self
                    .dead_ends
                    .get(&key)
                    .is_some_and(|r| *r >= remaining - 1)
                {
                    continue;
                }
                self.path.push(action);
                if self.search(&next, remaining - 1) {
                    return true;
                }
                self.path.pop();
                let entry = self.dead_ends.entry(key).or_insert(0);
                *entry = (*entry).max(remaining - 1);
            }
            false
        }
    }
    let mut dfs = Dfs {
        model,
        symmetry,
        target,
        dead_ends: HashMap::new(),
        path: Vec::new(),
    };
    let initial = model.initial_state();
    dfs.search(&initial, depth).then_some(dfs.path)
}
