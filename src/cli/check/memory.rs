//! `--max-memory`: a memory budget for the model checker, turned into the number of states it may
//! store, so that a big check ends inconclusive with its statistics instead of being killed by
//! the operating system with nothing saved.
//!
//! **Bytes per state.** The checker keeps every distinct state packed in an open-addressing set
//! of `u64` or `u128` keys, at most half full and doubled when it fills (for a moment the old and
//! the doubled table both exist), plus the current and the next level of the breadth-first
//! search. The peak resident memory (`VmHWM`) of event-sourced checks stopped by `--max-states`
//! at 2 to 24 million states was at most 122 bytes per stored state for 128-bit states (5
//! servers, 4 users, 4 teams, 3 requests; highest just after the set doubled) and 61 bytes for
//! 64-bit ones (4,4,4,3), on 1 and 2 threads. [`BYTES_PER_STATE`] covers the wider kind.
//!
//! **Round buffers.** Each thread expands up to 65,536 states per round, and holds their
//! successors (at most S·U·T + S each: a new request of every idle server, or one step of a
//! busy one) until they are inserted; [`reserve`] sets that much aside, with the process's own
//! memory, before dividing the rest by [`BYTES_PER_STATE`].

use joincheck_models::Sizes;
use std::fmt;
use std::str::FromStr;

/// The memory the checker needs per distinct state it stores, at its peak (see the module).
pub const BYTES_PER_STATE: u64 = 128;

/// States a checker thread expands per round (the models crate's chunk).
const STATES_PER_ROUND: u64 = 1 << 16;

/// The process's own memory: code, threads, the engines' other data.
const PROCESS: u64 = 32 << 20;

/// An amount of memory, in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bytes(pub u64);

impl FromStr for Bytes {
    type Err = String;

    /// `2G`, `512M`, `1.5G`, `64K`, `1T` (binary multiples; `B`, `iB` after the letter are
    /// accepted), or a number of bytes.
    fn from_str(text: &str) -> Result<Bytes, String> {
        let refuse = || {
            format!(
                "`{text}` is not an amount of memory: give a number with K, M, G or T, as in 2G"
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
        let units = [(40, "TiB"), (30, "GiB"), (20, "MiB"), (10, "KiB")];
        for (shift, unit) in units {
            if self.0 >= 1 << shift {
                return write!(f, "{:.1} {unit}", self.0 as f64 / (1u64 << shift) as f64);
            }
        }
        write!(f, "{} bytes", self.0)
    }
}

/// The budget a check runs with: the one given, or half the memory available now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// The memory allowed.
    pub bytes: Bytes,
    /// Whether `--max-memory` gave it.
    pub given: bool,
}

impl Budget {
    /// `--max-memory`, or half of `MemAvailable` where `/proc/meminfo` has it: the rest stays
    /// for the other programs running and for what the estimate leaves out.
    pub fn new(given: Option<Bytes>) -> Option<Budget> {
        if let Some(bytes) = given {
            return Some(Budget { bytes, given: true });
        }
        available_memory().map(|available| Budget {
            bytes: Bytes(available / 2),
            given: false,
        })
    }

    /// How many distinct states the checker may store within the budget at `sizes` on
    /// `threads` threads; at least one.
    pub fn states(&self, sizes: Sizes, threads: usize) -> u64 {
        let room = self.bytes.0.saturating_sub(reserve(sizes, threads));
        (room / BYTES_PER_STATE).max(1)
    }

    /// The budget in words, for a reason: `the memory budget of 2.0 GiB (--max-memory)`.
    pub fn describe(&self) -> String {
        let source = match self.given {
            true => "--max-memory",
            false => "half the memory available; set it with --max-memory",
        };
        format!("the memory budget of {} ({source})", self.bytes)
    }
}

/// Memory the checker needs besides the states it stores: the process, and each thread's
/// successors of one round.
fn reserve(sizes: Sizes, threads: usize) -> u64 {
    let [servers, users, teams, _] = sizes.as_array().map(u64::from);
    let successors = servers * users * teams + servers;
    let per_thread = STATES_PER_ROUND * successors * 16;
    PROCESS + per_thread * threads as u64
}

/// `MemAvailable` in `/proc/meminfo`, in bytes.
fn available_memory() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = meminfo
        .lines()
        .find(|line| line.starts_with("MemAvailable:"))?;
    let kilobytes: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kilobytes * 1024)
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
                "`lots` is not an amount of memory: give a number with K, M, G or T, as in 2G"
                    .to_string()
            )
        );
        assert_eq!(
            "0G".parse::<Bytes>(),
            Err("0G: the memory budget must be at least one byte".to_string())
        );
        assert_eq!(Bytes(2 << 30).to_string(), "2.0 GiB");
        assert_eq!(Bytes(640).to_string(), "640 bytes");
    }

    #[test]
    fn the_budget_pays_for_the_round_buffers_then_the_states() {
        let sizes = Sizes::new(5, 4, 4, 3).unwrap();
        let budget = Budget {
            bytes: Bytes(2 << 30),
            given: true,
        };
        // 65,536 states × 85 successors × 16 bytes = 85 MiB per thread, and 32 MiB.
        let reserve = (32 << 20) + 65_536 * 85 * 16;
        assert_eq!(budget.states(sizes, 1), ((2 << 30) - reserve) / 128);
        let tiny = Budget {
            bytes: Bytes(1 << 20),
            given: true,
        };
        assert_eq!(tiny.states(sizes, 1), 1);
    }
}
