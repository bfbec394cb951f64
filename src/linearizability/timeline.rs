//! Requests that cannot be ordered, as a text timeline: one lane per worker, each request a bar
//! from its invocation to its completion, then each request in words.

use super::{HistoryOf, Specification, Unorderable};
use crate::figures::{count, thousands};
use std::collections::BTreeMap;

/// Columns the time axis spans.
const WIDTH: usize = 60;

/// `unorderable` as a text timeline, its requests read from `history` and described by `spec`:
///
/// ```text
/// sue: 2 requests of sue's 2 cannot be ordered, whatever the others did within their intervals
///            0                                                        120
/// worker 0   [#0====================================]
/// worker 1                 [#1==========================================]
///   #0    worker 0  0–80     join sue → team-A: ok
///   #1    worker 1  30–120   join sue → team-B: ok
/// ```
pub fn timeline<S: Specification>(
    spec: &S,
    history: &HistoryOf<S>,
    unorderable: &Unorderable<S::Key>,
) -> String {
    let key = spec.describe_key(&unorderable.key);
    let calls: Vec<_> = unorderable
        .calls
        .iter()
        .map(|&id| (id, &history.calls()[id]))
        .collect();
    let mut out = format!(
        "{key}: {} of {key}'s {} cannot be ordered, whatever the others did within their intervals\n",
        count(calls.len() as u64, "request"),
        thousands(unorderable.key_calls as u64),
    );
    let start = calls
        .iter()
        .map(|(_, call)| call.invoked)
        .min()
        .unwrap_or(0);
    let end = calls
        .iter()
        .map(|(_, call)| call.completed.unwrap_or(call.invoked))
        .max()
        .unwrap_or(start);
    let column = |tick: u64| {
        ((tick - start) as u128 * (WIDTH as u128 - 1) / (end - start).max(1) as u128) as usize
    };
    if !calls.is_empty() {
        let (first, last) = (thousands(start), thousands(end));
        let gap = WIDTH.saturating_sub(first.len() + last.len()).max(1);
        out += &format!("{:11}{first}{}{last}\n", "", " ".repeat(gap));
    }
    let mut lanes: BTreeMap<u32, Vec<char>> = BTreeMap::new();
    for (id, call) in &calls {
        let lane = lanes
            .entry(call.worker)
            .or_insert_with(|| vec![' '; WIDTH + 1]);
        let from = column(call.invoked);
        let to = column(call.completed.unwrap_or(end)).max(from + 1);
        lane[from] = '[';
        lane[to] = ']';
        let label: Vec<char> = format!("#{id}").chars().collect();
        for (offset, cell) in lane[from + 1..to].iter_mut().enumerate() {
            *cell = label.get(offset).copied().unwrap_or('=');
        }
    }
    for (worker, lane) in &lanes {
        let lane: String = lane.iter().collect();
        out += &format!("{:11}{}\n", format!("worker {worker}"), lane.trim_end());
    }
    for (id, call) in &calls {
        let interval = format!(
            "{}–{}",
            thousands(call.invoked),
            call.completed.map_or("…".to_string(), thousands)
        );
        out += &format!(
            "  {:5} {:9} {interval:8} {}\n",
            format!("#{id}"),
            format!("worker {}", call.worker),
            spec.describe_call(call)
        );
    }
    if unorderable.ending {
        out += &format!("  and {}\n", spec.describe_ending(&unorderable.key));
    }
    if !unorderable.minimal {
        out += "  (not shrunk to a minimal set: minimizing was off or a limit stopped it)\n";
    }
    out
}
