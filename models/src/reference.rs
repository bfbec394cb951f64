//! A deliberately plain reference exploration for tests: full states in a `HashSet`, no packing,
//! no symmetry, no early stop. The fast checker must agree with it.

use crate::checker::{check, CheckOptions};
use crate::model::ProtocolModel;
use crate::state::State;
use crate::{Protocol, Sizes};
use std::collections::{HashSet, VecDeque};

/// Every reachable state of `protocol` at `sizes`, in BFS order.
pub(crate) fn reachable(protocol: Protocol, sizes: Sizes) -> Vec<State> {
    reachable_in(&ProtocolModel::new(protocol, sizes))
}

/// The model of `protocol` at `sizes`, with leaves or joins only.
pub(crate) fn model(protocol: Protocol, sizes: Sizes, leaves: bool) -> ProtocolModel {
    let model = ProtocolModel::new(protocol, sizes);
    match leaves {
        true => model.with_leaves().unwrap(),
        false => model,
    }
}

/// Every reachable state of `model`, in BFS order.
pub(crate) fn reachable_in(model: &ProtocolModel) -> Vec<State> {
    let initial = model.initial_state();
    let mut seen: HashSet<State> = HashSet::from([initial]);
    let mut order = vec![initial];
    let mut queue = VecDeque::from([initial]);
    while let Some(state) = queue.pop_front() {
        for (_, _, next) in model.successors(&state) {
            if seen.insert(next) {
                order.push(next);
                queue.push_back(next);
            }
        }
    }
    order
}

/// Small sizes every test grid walks through.
pub(crate) fn small_grid() -> Vec<Sizes> {
    [
        [1, 1, 1, 1],
        [1, 2, 2, 2],
        [2, 1, 2, 1],
        [2, 2, 1, 2],
        [2, 2, 2, 1],
        [2, 2, 2, 2],
        [3, 2, 2, 1],
        [2, 3, 2, 1],
        [2, 2, 3, 1],
    ]
    .into_iter()
    .map(|[s, u, t, n]| Sizes::new(s, u, t, n).unwrap())
    .collect()
}

/// Every protocol at every size of [`small_grid`], joins only and with leaves.
pub(crate) fn every_model() -> impl Iterator<Item = (Protocol, Sizes, bool)> {
    Protocol::ALL.into_iter().flat_map(|protocol| {
        small_grid()
            .into_iter()
            .flat_map(move |sizes| [(protocol, sizes, false), (protocol, sizes, true)])
    })
}

/// Sizes in a test, where they are always valid.
pub(crate) fn sizes(s: u8, u: u8, t: u8, n: u8) -> Sizes {
    Sizes::new(s, u, t, n).unwrap()
}

/// The exact number of states of a proof: the check must hold, and covered this many.
pub(crate) fn holds_with(protocol: Protocol, sizes: Sizes, symmetry: bool) -> u64 {
    let options = CheckOptions {
        symmetry,
        ..CheckOptions::default()
    };
    holds_under(protocol, sizes, &options)
}

/// [`holds_with`] under any options: with leaves, say.
pub(crate) fn holds_under(protocol: Protocol, sizes: Sizes, options: &CheckOptions) -> u64 {
    let verdict = check(protocol, sizes, options);
    assert_eq!(verdict.kind(), "holds", "{protocol} {sizes}: {verdict:?}");
    verdict.stats().unique_states.unwrap()
}
