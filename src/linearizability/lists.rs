//! The pending requests of one key's search, as dancing links: taking a request's effect lifts
//! its entries out in constant time, and backtracking puts them back.

use super::search::Item;
use super::Specification;
use crate::history::Ticks;

/// The entries of pending requests as two doubly linked lists over indices (dancing links): the
/// answered requests, a call and a return entry each, sorted by time; then the optional
/// requests, one entry each, sorted by invocation.
pub(super) struct Lists {
    entries: Vec<Entry>,
    next: Vec<u32>,
    prev: Vec<u32>,
    /// Per request: its return entry, if it has one.
    returns: Vec<Option<u32>>,
    /// Entries `0..answered` are the first list's; the optional list's follow.
    answered: u32,
    /// The sentinels: before and after the first list, before and after the second.
    heads: [u32; 4],
}

/// One entry: its request, whether it is a return entry, its time, and for an optional request,
/// its deadline.
#[derive(Clone, Copy)]
pub(super) struct Entry {
    item: u32,
    is_return: bool,
    time: Ticks,
    deadline: Option<Ticks>,
}

impl Lists {
    pub(super) fn new<S: Specification>(items: &[Item<'_, S>]) -> Self {
        let mut answered: Vec<(Ticks, bool, u32)> = Vec::new();
        let mut optional: Vec<(Ticks, bool, u32)> = Vec::new();
        for (index, item) in items.iter().enumerate() {
            let call = (item.invoked, false, index as u32);
            match item.deadline {
                Some(deadline) if item.is_answered() => {
                    answered.extend([call, (deadline, true, index as u32)])
                }
                _ => optional.push(call),
            }
        }
        // At equal times calls come first: touching intervals overlap.
        answered.sort_unstable();
        optional.sort_unstable();
        let (count, first_optional) = (
            (answered.len() + optional.len()) as u32,
            answered.len() as u32,
        );
        let heads = [count, count + 1, count + 2, count + 3];
        let entries: Vec<Entry> = answered
            .into_iter()
            .chain(optional)
            .map(|(time, is_return, item)| Entry {
                item,
                is_return,
                time,
                deadline: items[item as usize].deadline,
            })
            .collect();
        let mut returns = vec![None; items.len()];
        for (index, entry) in entries.iter().enumerate() {
            if entry.is_return {
                returns[entry.item as usize] = Some(index as u32);
            }
        }
        let size = count as usize + 4;
        let (mut next, mut prev) = (vec![0; size], vec![0; size]);
        let lists = [
            (heads[0], 0..first_optional, heads[1]),
            (heads[2], first_optional..count, heads[3]),
        ];
        for (head, members, tail) in lists {
            let chain: Vec<u32> = std::iter::once(head).chain(members).chain([tail]).collect();
            for pair in chain.windows(2) {
                next[pair[0] as usize] = pair[1];
                prev[pair[1] as usize] = pair[0];
            }
        }
        Lists {
            entries,
            next,
            prev,
            returns,
            answered: first_optional,
            heads,
        }
    }

    /// Where the candidates at a point of the search begin.
    pub(super) fn first(&self) -> u32 {
        self.after(self.heads[0])
    }

    /// A position with no candidate at or after it.
    pub(super) fn end(&self) -> u32 {
        self.heads[3]
    }

    /// The position after `entry`: the next call entry of the first list, or, once that list
    /// reaches a return entry or its end, the optional list's entries in turn.
    pub(super) fn after(&self, entry: u32) -> u32 {
        let next = self.next[entry as usize];
        let in_answered = entry < self.answered || entry == self.heads[0];
        if in_answered && (next == self.heads[1] || self.entries[next as usize].is_return) {
            self.next[self.heads[2] as usize]
        } else {
            next
        }
    }

    pub(super) fn item(&self, entry: u32) -> usize {
        self.entries[entry as usize].item as usize
    }

    /// The first entry at or after `entry` whose request may take effect now, after the
    /// latest invocation taken effect, `now`.
    pub(super) fn candidate(&self, mut entry: u32, now: Ticks) -> Option<u32> {
        if entry < self.answered {
            return Some(entry);
        }
        let bound = self.first_completion();
        while let Some(at) = self.entries.get(entry as usize) {
            if at.time > bound {
                return None;
            }
            if at.deadline.is_none_or(|deadline| deadline >= now) {
                return Some(entry);
            }
            entry = self.next[entry as usize];
        }
        None
    }

    /// The first completion pending in the first list: nothing invoked later may take effect
    /// before that request.
    pub(super) fn first_completion(&self) -> Ticks {
        let mut at = self.next[self.heads[0] as usize];
        while at != self.heads[1] {
            if self.entries[at as usize].is_return {
                return self.entries[at as usize].time;
            }
            at = self.next[at as usize];
        }
        Ticks::MAX
    }

    /// The earliest deadline of an optional request that may take effect now, after `now`:
    /// moving the order past it would rule that request out.
    pub(super) fn optional_horizon(&self, now: Ticks) -> Ticks {
        let bound = self.first_completion();
        let mut horizon = Ticks::MAX;
        let mut at = self.next[self.heads[2] as usize];
        while let Some(entry) = self.entries.get(at as usize) {
            if entry.time > bound {
                break;
            }
            if let Some(deadline) = entry.deadline.filter(|deadline| *deadline >= now) {
                horizon = horizon.min(deadline);
            }
            at = self.next[at as usize];
        }
        horizon
    }

    /// The first call entry of the first list, before its first return entry, whose request
    /// `read_only` says may take effect now and change nothing.
    pub(super) fn answered_candidate(&self, read_only: impl Fn(usize) -> bool) -> Option<u32> {
        let mut at = self.next[self.heads[0] as usize];
        while at != self.heads[1] && !self.entries[at as usize].is_return {
            if read_only(self.item(at)) {
                return Some(at);
            }
            at = self.next[at as usize];
        }
        None
    }

    /// Whether an optional request before the one at `entry` (invoked no later), still pending
    /// and possible now, asks the same and must take effect no later: trying that one is
    /// enough. An order that uses this one next can use that one instead, and this one where it
    /// used that one, if it did: each then takes effect within its interval.
    pub(super) fn has_better_twin<S: Specification>(
        &self,
        items: &[Item<'_, S>],
        entry: u32,
        now: Ticks,
    ) -> bool {
        let deadline = |entry: &Entry| entry.deadline.unwrap_or(Ticks::MAX);
        let this = self.entries[entry as usize];
        let input = items[this.item as usize].input;
        let mut at = self.next[self.heads[2] as usize];
        while at != entry {
            let other = &self.entries[at as usize];
            if (now..=deadline(&this)).contains(&deadline(other))
                && items[other.item as usize].input == input
            {
                return true;
            }
            at = self.next[at as usize];
        }
        false
    }

    pub(super) fn unlink(&mut self, entry: u32) {
        let (prev, next) = (self.prev[entry as usize], self.next[entry as usize]);
        self.next[prev as usize] = next;
        self.prev[next as usize] = prev;
    }

    pub(super) fn relink(&mut self, entry: u32) {
        let (prev, next) = (self.prev[entry as usize], self.next[entry as usize]);
        self.next[prev as usize] = entry;
        self.prev[next as usize] = entry;
    }

    /// Takes the request at call entry `entry` out of the lists, with its return entry.
    pub(super) fn lift(&mut self, entry: u32) {
        self.unlink(entry);
        if let Some(ret) = self.returns[self.item(entry)] {
            self.unlink(ret);
        }
    }

    /// Undoes the last [`Lists::lift`], of `entry`.
    pub(super) fn unlift(&mut self, entry: u32) {
        if let Some(ret) = self.returns[self.item(entry)] {
            self.relink(ret);
        }
        self.relink(entry);
    }
}
