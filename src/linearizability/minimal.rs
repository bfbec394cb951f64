//! Shrinking a key's requests that cannot be ordered to a minimal set.
//!
//! A request is taken out of the set by *giving up its answer*: it then may take effect or not,
//! at any moment of its interval. That only adds orders, so whatever still cannot be ordered
//! proves the original history cannot be either. (Deleting requests instead would not: without a
//! join, a later refusal "already on a team" could no longer be explained, and the set would
//! accuse requests that were right.)
//!
//! 1. The final state: if the requests can be ordered without the required final state, it is
//!    part of the contradiction; otherwise it is left out.
//! 2. Without it, the shortest prefix: answered requests by completion, binary searched. A
//!    prefix keeps the answers of the first k requests to complete, gives up the answers of the
//!    requests still pending at the k-th completion, and drops the requests invoked after it
//!    (which take effect after every kept answer, so they can explain none).
//! 3. Delta debugging: give up the answers of a run of requests (in invocation order) at a time,
//!    keeping them given up if the rest still cannot be ordered; first all of them, then halves,
//!    quarters, … down to one request at a time.
//!
//! The result is 1-minimal: giving up any one more answer lets the rest be ordered (one pass of
//! single requests suffices: an answer needed once is needed with fewer answers too). It is not
//! necessarily the smallest such set (finding that is a search over subsets).

use super::search::{self, Budget, Decision, Item};
use super::{Answer, Specification};

/// The requests that cannot be ordered, as found.
pub(super) struct Shrunk {
    /// Their ids, in id order.
    pub calls: Vec<usize>,
    /// Whether the required final state is part of it.
    pub ending: bool,
    /// False when a limit stopped the shrinking.
    pub minimal: bool,
}

impl Shrunk {
    /// Every answered request of `items`, with the final state, unshrunk.
    pub fn everything<S: Specification>(items: &[Item<'_, S>]) -> Shrunk {
        Shrunk {
            calls: answered(items),
            ending: true,
            minimal: false,
        }
    }
}

/// Shrinks `items`, the requests of `key` that cannot be ordered.
pub(super) fn shrink<S: Specification>(
    spec: &S,
    key: &S::Key,
    items: &[Item<'_, S>],
    budget: &mut Budget<'_>,
) -> Shrunk {
    let stopped = |items: &[Item<'_, S>], ending| Shrunk {
        ending,
        ..Shrunk::everything(items)
    };
    let ending = match search::decide(spec, key, items, false, u64::MAX, budget) {
        Decision::Linearizable => true,
        Decision::NotLinearizable => false,
        Decision::Stopped(_) | Decision::OverCap => return stopped(items, true),
    };
    let mut kept = if ending {
        items.to_vec()
    } else {
        match shortest_prefix(spec, key, items, budget) {
            Ok(prefix) => prefix,
            Err(()) => return stopped(items, ending),
        }
    };
    let mut candidates: Vec<usize> = (0..kept.len()).filter(|&i| kept[i].is_answered()).collect();
    candidates.sort_by_key(|&i| (kept[i].invoked, kept[i].id));
    let mut run = candidates.len();
    while run > 0 {
        let mut start = 0;
        while start < candidates.len() {
            let chunk: Vec<usize> = candidates[start..(start + run).min(candidates.len())].to_vec();
            let answers: Vec<_> = chunk
                .iter()
                .map(|&i| std::mem::replace(&mut kept[i].answer, Answer::Unknown))
                .collect();
            match search::decide(spec, key, &kept, ending, u64::MAX, budget) {
                Decision::NotLinearizable => {
                    candidates.drain(start..start + chunk.len());
                }
                decision => {
                    for (&i, answer) in chunk.iter().zip(answers) {
                        kept[i].answer = answer;
                    }
                    if decision != Decision::Linearizable {
                        return stopped(&kept, ending);
                    }
                    start += chunk.len();
                }
            }
        }
        run = if run == 1 { 0 } else { run.div_ceil(2) };
    }
    Shrunk {
        calls: answered(&kept),
        ending,
        minimal: true,
    }
}

/// The shortest prefix of `items` by completion that cannot be ordered (without the final
/// state), or `Err` when a limit stopped the search.
fn shortest_prefix<'h, S: Specification>(
    spec: &S,
    key: &S::Key,
    items: &[Item<'h, S>],
    budget: &mut Budget<'_>,
) -> Result<Vec<Item<'h, S>>, ()> {
    let mut by_completion: Vec<usize> = (0..items.len())
        .filter(|&i| items[i].is_answered())
        .collect();
    by_completion.sort_by_key(|&i| (items[i].deadline, items[i].id));
    let prefix = |k: usize| -> Vec<Item<'h, S>> {
        let cutoff = items[by_completion[k - 1]].deadline;
        let mut kept = vec![false; items.len()];
        for &i in &by_completion[..k] {
            kept[i] = true;
        }
        items
            .iter()
            .zip(kept)
            .filter(|(item, _)| Some(item.invoked) <= cutoff)
            .map(|(item, kept)| {
                let mut item = item.clone();
                if !kept {
                    item.answer = Answer::Unknown;
                }
                item
            })
            .collect()
    };
    // Every answered request kept cannot be ordered (step 1 found so); none kept can.
    let (mut can, mut cannot) = (0, by_completion.len());
    while cannot - can > 1 {
        let middle = (can + cannot) / 2;
        match search::decide(spec, key, &prefix(middle), false, u64::MAX, budget) {
            Decision::NotLinearizable => cannot = middle,
            Decision::Linearizable => can = middle,
            Decision::Stopped(_) | Decision::OverCap => return Err(()),
        }
    }
    Ok(prefix(cannot))
}

/// The ids of the requests whose answers are kept, in id order.
fn answered<S: Specification>(items: &[Item<'_, S>]) -> Vec<usize> {
    let mut ids: Vec<usize> = items
        .iter()
        .filter(|item| item.is_answered())
        .map(|item| item.id)
        .collect();
    ids.sort_unstable();
    ids
}
