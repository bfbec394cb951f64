//! Storing a round's successors in a part of the state set: each key's slot prefetched ahead of
//! its insertion, since inserting is a random memory access, the cost that dominates the search.

use super::bfs::Expansion;
use super::state_set::{hash, room_for, Key, Refused, StateSet};

/// How many keys ahead [`insert_all`] prefetches the hash slot: enough to hide a memory access.
const PREFETCH_AHEAD: usize = 16;

/// Why successors were left unstored: the search is then incomplete.
#[derive(Clone, Copy)]
pub(super) enum Unstored {
    /// The state limit was reached.
    Full,
    /// The system refused memory for the set or the next level.
    Refused(Refused),
}

/// Inserts the successors `part` owns into its set, collecting the new ones in `next`, and
/// stops once `room` new states have been added, or when the system refuses the memory to
/// store more. Returns how many were added, and why successors were left unstored, if they were.
pub(super) fn insert_all<K: Key>(
    set: &mut StateSet<K>,
    next: &mut Vec<K>,
    expansions: &[Expansion<K>],
    part: usize,
    room: Option<u64>,
) -> (u64, Option<Unstored>) {
    let mut added = 0;
    for expansion in expansions {
        let keys = &expansion.by_part[expansion.starts[part]..expansion.starts[part + 1]];
        let reserved = set
            .reserve(keys.len())
            .and_then(|()| room_for(next, keys.len()));
        if let Err(refused) = reserved {
            return (added, Some(Unstored::Refused(refused)));
        }
        let Some(room) = room else {
            added += insert_new(set, next, keys);
            continue;
        };
        for (i, key) in keys.iter().enumerate() {
            if let Some(ahead) = keys.get(i + PREFETCH_AHEAD) {
                set.prefetch(hash(ahead.packed()));
            }
            if added == room {
                // Full: a state already stored costs no room, a new one ends the search.
                match set.contains(*key, hash(key.packed())) {
                    true => continue,
                    false => return (added, Some(Unstored::Full)),
                }
            }
            if set.insert(*key, hash(key.packed())) {
                next.push(*key);
                added += 1;
            }
        }
    }
    (added, None)
}

/// Inserts `keys` into `set` (room reserved), collecting the new ones in `next`; returns how
/// many were new. Each key's hash is computed once, when its slot is prefetched, and kept in a
/// ring until the key is inserted.
fn insert_new<K: Key>(set: &mut StateSet<K>, next: &mut Vec<K>, keys: &[K]) -> u64 {
    let mut hashes = [0u64; PREFETCH_AHEAD];
    for (ring, key) in hashes.iter_mut().zip(keys) {
        *ring = hash(key.packed());
        set.prefetch(*ring);
    }
    let mut added = 0;
    for (i, key) in keys.iter().enumerate() {
        let ring = &mut hashes[i % PREFETCH_AHEAD];
        let hash_of_key = *ring;
        if let Some(ahead) = keys.get(i + PREFETCH_AHEAD) {
            *ring = hash(ahead.packed());
            set.prefetch(*ring);
        }
        if set.insert(*key, hash_of_key) {
            next.push(*key);
            added += 1;
        }
    }
    added
}
