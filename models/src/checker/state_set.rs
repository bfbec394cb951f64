//! The set of states seen: packed states in open-addressing hash sets, as `u64` when a state
//! fits in 63 bits and `u128` otherwise.

use crate::model::ProtocolModel;
use crate::protocol::JoinProtocol;
use crate::state::State;
use crate::symmetry;

/// The packed state the checker stores: the canonical representative under symmetry, or the
/// state itself.
pub(super) fn key_of<P: JoinProtocol + ?Sized>(
    model: &ProtocolModel<P>,
    symmetry: bool,
    state: &State,
) -> u128 {
    if symmetry {
        symmetry::canonical(model, state)
    } else {
        model.layout().pack(state)
    }
}

/// A packed state as the hash set stores it: `u64` when the layout fits 63 bits (half the
/// memory traffic, the cost that dominates), `u128` otherwise. The top bit marks an occupied
/// slot, so an empty slot is all zeros.
///
/// # Safety
///
/// All zero bits must be a valid value, and [`Key::EMPTY`]: a table is allocated zeroed.
pub(super) unsafe trait Key: Copy + Eq + Send + Sync + 'static {
    /// An empty slot: all zero bits.
    const EMPTY: Self;
    /// `packed` (which fits) with the occupied bit set.
    fn occupied(packed: u128) -> Self;
    /// The packed state of an occupied slot.
    fn packed(self) -> u128;
}

// SAFETY: zero is a `u64`, and `EMPTY`.
unsafe impl Key for u64 {
    const EMPTY: u64 = 0;
    fn occupied(packed: u128) -> u64 {
        packed as u64 | 1 << 63
    }
    fn packed(self) -> u128 {
        u128::from(self & !(1 << 63))
    }
}

// SAFETY: zero is a `u128`, and `EMPTY`.
unsafe impl Key for u128 {
    const EMPTY: u128 = 0;
    fn occupied(packed: u128) -> u128 {
        packed | 1 << 127
    }
    fn packed(self) -> u128 {
        self & !(1 << 127)
    }
}

/// Mixes a packed state into a 64-bit hash (a multiply-xorshift finaliser).
pub(super) fn hash(key: u128) -> u64 {
    let mut x = (key as u64) ^ ((key >> 64) as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 33;
    x = x.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    x ^= x >> 33;
    x = x.wrapping_mul(0xC4CE_B9FE_1A85_EC53);
    x ^ (x >> 33)
}

/// An open-addressing (linear probing) set of packed states, at most half full.
pub(super) struct StateSet<K> {
    slots: Vec<K>,
    len: usize,
}

impl<K: Key> StateSet<K> {
    /// An empty set of `slots` slots (a power of two), or [`Refused`].
    pub(super) fn with_slots(slots: usize) -> Result<StateSet<K>, Refused> {
        Ok(StateSet {
            slots: empty_slots(slots)?,
            len: 0,
        })
    }

    /// Makes room for `more` keys, so that inserting them never grows the table (and the slots
    /// prefetched stay the right ones). When the system refuses the memory (`ulimit -v`, say),
    /// the set is left as it was and the error says how many bytes were asked for: the search
    /// then ends inconclusive instead of the process aborting.
    pub(super) fn reserve(&mut self, more: usize) -> Result<(), Refused> {
        while (self.len + more) * 2 > self.slots.len() {
            self.grow()?;
        }
        Ok(())
    }

    /// Asks the CPU to fetch the slot `hash` starts probing at: inserting is a random memory
    /// access, the cost that dominates the search.
    pub(super) fn prefetch(&self, hash: u64) {
        let slot = &self.slots[hash as usize & (self.slots.len() - 1)];
        #[cfg(target_arch = "x86_64")]
        // SAFETY: a prefetch is a hint; it never faults, and the address is a valid slot.
        unsafe {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            _mm_prefetch::<_MM_HINT_T0>((slot as *const K).cast::<i8>());
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = slot;
    }

    /// Adds `key` (an occupied slot value); true when it was not there yet. Call
    /// [`StateSet::reserve`] first.
    pub(super) fn insert(&mut self, key: K, hash: u64) -> bool {
        let mask = self.slots.len() - 1;
        let mut i = hash as usize & mask;
        loop {
            let slot = self.slots[i];
            if slot == K::EMPTY {
                self.slots[i] = key;
                self.len += 1;
                return true;
            }
            if slot == key {
                return false;
            }
            i = (i + 1) & mask;
        }
    }

    /// Whether `key` is in the set.
    pub(super) fn contains(&self, key: K, hash: u64) -> bool {
        let mask = self.slots.len() - 1;
        let mut i = hash as usize & mask;
        loop {
            match self.slots[i] {
                slot if slot == key => return true,
                slot if slot == K::EMPTY => return false,
                _ => i = (i + 1) & mask,
            }
        }
    }

    fn grow(&mut self) -> Result<(), Refused> {
        let doubled = empty_slots(self.slots.len() * 2)?;
        let old = std::mem::replace(&mut self.slots, doubled);
        let mask = self.slots.len() - 1;
        for key in old.into_iter().filter(|slot| *slot != K::EMPTY) {
            let mut i = hash(key.packed()) as usize & mask;
            while self.slots[i] != K::EMPTY {
                i = (i + 1) & mask;
            }
            self.slots[i] = key;
        }
        Ok(())
    }
}

/// Memory the system refused: how many bytes were asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Refused(pub(super) usize);

/// What stopped the search, as its reason says after "stopped by".
impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the memory the system gives (it refused {} bytes more)",
            super::thousands(self.0 as u64)
        )
    }
}

/// Bytes of a page of memory: writing one slot of each is enough to give the page its own frame.
const PAGE: usize = 4096;

/// `len` empty slots, or [`Refused`] when the system does not give the memory. The memory comes
/// zeroed from the allocator, which gets fresh zero pages from the system as they are first
/// touched: filling the table instead would write all of it once more before the rehash does.
/// One slot of each page is written at once, though: a page first *read* (probing, in the
/// rehash) is mapped to the system's shared zero page, and the write that follows must replace
/// it, which costs a second fault and, with several threads, an interrupt to every other core
/// to flush the old mapping (14 % of the time of a two-thread search, measured with perf).
fn empty_slots<K: Key>(len: usize) -> Result<Vec<K>, Refused> {
    let refused = || Refused(len.saturating_mul(std::mem::size_of::<K>()));
    let layout = std::alloc::Layout::array::<K>(len).map_err(|_| refused())?;
    if layout.size() == 0 {
        return Ok(Vec::new());
    }
    // SAFETY: the layout has a non-zero size.
    let slots = unsafe { std::alloc::alloc_zeroed(layout) }.cast::<K>();
    if slots.is_null() {
        return Err(refused());
    }
    // SAFETY: allocated by the global allocator with the layout of `len` keys, each all zero
    // bits, which is a valid key (`Key`'s contract).
    let mut slots = unsafe { Vec::from_raw_parts(slots, len, len) };
    let per_page = (PAGE / std::mem::size_of::<K>()).max(1);
    for slot in slots.iter_mut().step_by(per_page) {
        // SAFETY: a valid, aligned slot; the volatile write cannot be left out as writing a
        // value the memory already holds.
        unsafe { std::ptr::write_volatile(slot, K::EMPTY) };
    }
    Ok(slots)
}

/// Makes room in `vec` for `more` items, or [`Refused`].
pub(super) fn room_for<T>(vec: &mut Vec<T>, more: usize) -> Result<(), Refused> {
    vec.try_reserve(more)
        .map_err(|_| Refused(more.saturating_mul(std::mem::size_of::<T>())))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Enough keys to grow the table several times, each inserted twice, in both widths. Key 0
    /// is among them: the initial state packs to 0 (every server idle at 0 done, an empty
    /// database), and must not look like an empty slot.
    fn holds_each_key_once<K: Key>() {
        let mut set = StateSet::<K>::with_slots(1 << 6).unwrap();
        let keys: Vec<u128> = (0..20_000u128).map(|n| n * 7_919).collect();
        for round in 0..2 {
            set.reserve(keys.len()).unwrap();
            let added = keys
                .iter()
                .filter(|&&key| set.insert(K::occupied(key), hash(key)))
                .count();
            assert_eq!(added, if round == 0 { keys.len() } else { 0 });
        }
        assert_eq!(set.len, keys.len());
        let mut stored: Vec<u128> = set
            .slots
            .iter()
            .filter(|slot| **slot != K::EMPTY)
            .map(|slot| slot.packed())
            .collect();
        stored.sort_unstable();
        assert_eq!(stored, keys);
    }

    /// Memory the system cannot give is refused as a value, never an abort.
    #[test]
    fn memory_refused_is_an_error_not_an_abort() {
        let asked = usize::MAX / 8;
        assert_eq!(empty_slots::<u128>(asked).err(), Some(Refused(usize::MAX)));
        assert!(empty_slots::<u64>(1 << 10)
            .unwrap()
            .iter()
            .all(|&slot| slot == 0));
        let mut level: Vec<u64> = Vec::new();
        assert_eq!(room_for(&mut level, asked), Err(Refused(asked * 8)));
        assert_eq!(
            Refused(1 << 30).to_string(),
            "the memory the system gives (it refused 1,073,741,824 bytes more)"
        );
    }

    #[test]
    fn a_state_set_holds_each_key_once() {
        holds_each_key_once::<u64>();
        holds_each_key_once::<u128>();
    }
}
