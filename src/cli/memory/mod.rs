//! The memory a command may use, and what that leaves room for, so that a big check ends
//! inconclusive with its statistics instead of being killed by the operating system (or aborted
//! by a failed allocation) with nothing saved.
//!
//! **The budget.** `--max-memory`, or half of the tightest limit that applies ([`limits`]: the
//! memory available, the room under `ulimit -v`, the room under a cgroup's limit), which leaves
//! the other half to the rest of the machine and to what the estimates leave out.
//!
//! **Bytes per state.** The model checker keeps every distinct state packed in an
//! open-addressing set of `u64` or `u128` keys, at most half full and doubled when it fills (for
//! a moment the old and the doubled table both exist), plus the current and the next level of
//! the breadth-first search. The peak resident memory (`VmHWM`) of event-sourced checks stopped
//! by `--max-states` at 2 to 24 million states was at most 122 bytes per stored state for
//! 128-bit states (5 servers, 4 users, 4 teams, 3 requests; highest just after the set doubled)
//! and 61 bytes for 64-bit ones (4,4,4,3), on 1 and 2 threads. [`BYTES_PER_STATE`] covers the
//! wider kind.
//!
//! **Round buffers.** Each thread expands up to 65,536 states per round and holds their
//! successors (at most S·U·T + S each: a new request of every idle server, or one step of a
//! busy one, 16 bytes each, kept twice: as found, then sorted by the part of the state set that
//! stores them) until they are inserted. A round expands no more states than are
//! stored, so many threads cost round buffers only once there are states to fill them:
//! [`Budget::model_states`] counts both.

mod limits;

use crate::cli::output::{count, thousands};
use joincheck_models::Sizes;
use limits::Limit;
use std::fmt;
use std::str::FromStr;

/// The memory the checker needs per distinct state it stores, at its peak (see the module).
pub const BYTES_PER_STATE: u64 = 128;

/// The memory a successor takes in the round buffers: a packed state of the wider kind, twice
/// (as found, and sorted by part).
const BYTES_PER_SUCCESSOR: u64 = 32;

/// States a checker thread expands per round (the models crate's chunk).
const STATES_PER_ROUND: u64 = 1 << 16;

/// The process's own memory: code, threads, the engines' other data.
pub const PROCESS: u64 = 32 << 20;

/// An amount of memory, in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bytes(pub u64);

impl FromStr for Bytes {
    type Err = String;

    /// `2G`, `512M`, `1.5G`, `64K`, `1T`, `1P` (binary multiples; `B`, `iB` after the letter are
    /// accepted), or a number of bytes.
    fn from_str(text: &str) -> Result<Bytes, String> {
        let refuse = || {
            format!(
                "`{text}` is not an amount of memory: give a number with K, M, G, T or P, as in 2G"
            )
        };
        let trimmed = text.trim();
        let lower = trimmed.to_ascii_lowercase();
        let number_end = lower
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(lower.len());
        let (number, unit) = lower.split_at(number_end);
        let shift = match unit.trim() {
            "" | "b" => 0,
            "k" | "kb" | "kib" => 10,
            "m" | "mb" | "mib" => 20,
            "g" | "gb" | "gib" => 30,
            "t" | "tb" | "tib" => 40,
            "p" | "pb" | "pib" => 50,
            _ => return Err(refuse()),
        };
        let value: f64 = number.parse().map_err(|_| refuse())?;
        let bytes = value * (1u64 << shift) as f64;
        if !bytes.is_finite() || bytes < 1.0 {
            return Err(format!(
                "{trimmed}: the memory budget must be at least one byte"
            ));
        }
        if bytes > (1u64 << 60) as f64 {
            return Err(format!(
                "{trimmed} is too large: the memory budget is at most 1024P"
            ));
        }
        Ok(Bytes(bytes as u64))
    }
}

impl fmt::Display for Bytes {
    /// `2.0 GiB`, `512.0 MiB`, `640 bytes`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let units = [
            (50, "PiB"),
            (40, "TiB"),
            (30, "GiB"),
            (20, "MiB"),
            (10, "KiB"),
        ];
        for (shift, unit) in units {
            if self.0 >= 1 << shift {
                return write!(f, "{:.1} {unit}", self.0 as f64 / (1u64 << shift) as f64);
            }
        }
        match self.0 {
            1 => write!(f, "1 byte"),
            bytes => write!(f, "{bytes} bytes"),
        }
    }
}

/// Where a budget comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// `--max-memory`.
    Given,
    /// Half the room the tightest limit of the machine leaves.
    Half(Limit),
}

/// The budget a command runs with: the one given, or half the room the machine leaves now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// The memory allowed.
    pub bytes: Bytes,
    /// Where it comes from.
    pub source: Source,
}

impl Budget {
    /// `--max-memory`, or half the room the tightest limit that applies leaves, where one is
    /// known: the rest stays for the other programs running and for what the estimates leave
    /// out.
    pub fn new(given: Option<Bytes>) -> Option<Budget> {
        if let Some(bytes) = given {
            return Some(Budget {
                bytes,
                source: Source::Given,
            });
        }
        limits::tightest().map(|(limit, room)| Budget {
            bytes: Bytes(room / 2),
            source: Source::Half(limit),
        })
    }

    /// The bytes left once the process's own memory is set aside.
    pub fn room(&self) -> u64 {
        self.bytes.0.saturating_sub(PROCESS)
    }

    /// How many distinct states the model checker may store within the budget at `sizes` on
    /// `threads` threads: each costs [`BYTES_PER_STATE`], and each state a round expands holds
    /// its successors, up to a round's worth of states per thread. 0 when there is no room.
    pub fn model_states(&self, sizes: Sizes, threads: usize) -> u64 {
        let successors = successors(sizes) * BYTES_PER_SUCCESSOR;
        let round = STATES_PER_ROUND.saturating_mul(threads as u64);
        let room = self.room();
        // While every stored state fits in one round, each also pays for its successors.
        match room >= state_cost(sizes).saturating_mul(round) {
            true => (room - successors.saturating_mul(round)) / BYTES_PER_STATE,
            false => room / state_cost(sizes),
        }
    }

    /// What the budget leaves room for at `sizes` on `threads` threads, in words.
    pub fn model_room(&self, sizes: Sizes, threads: usize) -> String {
        format!(
            "room for {} at these sizes ({BYTES_PER_STATE} bytes each, and {BYTES_PER_SUCCESSOR} \
             for each of the {} successors of a state being expanded, {} at a time on {}, once \
             the process's own {} is set aside)",
            count(self.model_states(sizes, threads), "state"),
            successors(sizes),
            thousands(STATES_PER_ROUND * threads as u64),
            count(threads as u64, "thread"),
            Bytes(PROCESS)
        )
    }

    /// The budget in words, for a reason: `the memory budget of 2.0 GiB (--max-memory)`.
    pub fn describe(&self) -> String {
        let source = match self.source {
            Source::Given => "--max-memory".to_string(),
            Source::Half(limit) => {
                format!(
                    "half the room {} leaves; set it with --max-memory",
                    limit.name()
                )
            }
        };
        format!("the memory budget of {} ({source})", self.bytes)
    }
}

/// What each of the first states stored costs at `sizes`: itself, and its successors while it is
/// expanded.
pub fn state_cost(sizes: Sizes) -> u64 {
    BYTES_PER_STATE + successors(sizes) * BYTES_PER_SUCCESSOR
}

/// The most successors a state has at `sizes`: a new request of every idle server (every user
/// and team), or one step of a busy one.
fn successors(sizes: Sizes) -> u64 {
    let [servers, users, teams, _] = sizes.as_array().map(u64::from);
    servers * users * teams + servers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_read_with_binary_units() {
        assert_eq!("2G".parse(), Ok(Bytes(2 << 30)));
        assert_eq!("1.5g".parse(), Ok(Bytes(3 << 29)));
        assert_eq!("512MiB".parse(), Ok(Bytes(512 << 20)));
        assert_eq!("64kb".parse(), Ok(Bytes(64 << 10)));
        assert_eq!("4096".parse(), Ok(Bytes(4096)));
        assert_eq!(
            "lots".parse::<Bytes>(),
            Err(
                "`lots` is not an amount of memory: give a number with K, M, G, T or P, as in 2G"
                    .to_string()
            )
        );
        assert_eq!(
            "0G".parse::<Bytes>(),
            Err("0G: the memory budget must be at least one byte".to_string())
        );
        assert_eq!(Bytes(2 << 30).to_string(), "2.0 GiB");
        assert_eq!(Bytes(640).to_string(), "640 bytes");
        assert_eq!(Bytes(1).to_string(), "1 byte");
        assert_eq!("1024P".parse(), Ok(Bytes(1 << 60)));
        assert_eq!(
            "1025P".parse::<Bytes>(),
            Err("1025P is too large: the memory budget is at most 1024P".to_string())
        );
    }

    fn given(bytes: u64) -> Budget {
        Budget {
            bytes: Bytes(bytes),
            source: Source::Given,
        }
    }

    #[test]
    fn the_budget_pays_for_the_process_the_round_buffers_and_the_states() {
        let sizes = Sizes::new(5, 4, 4, 3).unwrap();
        // 85 successors: 2,720 bytes each in a round, 65,536 states a round per thread.
        let room = (2 << 30) - PROCESS;
        assert_eq!(
            given(2 << 30).model_states(sizes, 1),
            (room - 65_536 * 2_720) / 128
        );
        // Until a round's worth of states is stored, a state pays for its successors too: so
        // many threads cost round buffers only as states fill them.
        let small = given(PROCESS + 2_848 * 1_000);
        assert_eq!(small.model_states(sizes, 1), 1_000);
        assert_eq!(small.model_states(sizes, 400), 1_000);
        assert_eq!(given(PROCESS).model_states(sizes, 1), 0);
        assert_eq!(given(1 << 10).model_states(sizes, 1), 0);
    }

    #[test]
    fn four_hundred_threads_leave_room_for_the_states_of_a_check_one_thread_finishes() {
        // event-sourced at 3,3,3,2: 1,799,380 states.
        let sizes = Sizes::new(3, 3, 3, 2).unwrap();
        let budget = given(2 << 30);
        assert!(budget.model_states(sizes, 400) > 1_799_380);
        assert_eq!(
            given(PROCESS + 1_000 * 1_088).model_room(sizes, 400),
            "room for 1,000 states at these sizes (128 bytes each, and 32 for each of the 30 \
             successors of a state being expanded, 26,214,400 at a time on 400 threads, once the \
             process's own 32.0 MiB is set aside)"
        );
    }
}
