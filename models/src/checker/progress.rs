//! Live figures of a running check, readable from any thread while the search writes them.

use std::sync::atomic::{AtomicU64, Ordering};

/// Live figures of a running check, for a CLI to show states per second, depth and so on.
///
/// The checker updates them after every round (up to 65,536 states per thread, in slices of
/// 8,192) and every level;
/// read them from any thread.
#[derive(Debug, Default)]
pub struct Progress {
    unique_states: AtomicU64,
    generated_states: AtomicU64,
    depth: AtomicU64,
}

impl Progress {
    /// Fresh counters, all zero.
    pub fn new() -> Progress {
        Progress::default()
    }

    /// Distinct states found so far.
    pub fn unique_states(&self) -> u64 {
        self.unique_states.load(Ordering::Relaxed)
    }

    /// States generated so far, duplicates included.
    pub fn generated_states(&self) -> u64 {
        self.generated_states.load(Ordering::Relaxed)
    }

    /// The level being explored: every state up to this many steps deep has been found.
    pub fn depth(&self) -> u64 {
        self.depth.load(Ordering::Relaxed)
    }

    /// Publishes the search's figures so far.
    pub(super) fn publish(&self, unique: u64, generated: u64, depth: u64) {
        self.unique_states.store(unique, Ordering::Relaxed);
        self.generated_states.store(generated, Ordering::Relaxed);
        self.depth.store(depth, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checker::{check, CheckOptions};
    use crate::{Protocol, Sizes};
    use std::sync::Arc;

    #[test]
    fn progress_counters_follow_the_search() {
        let progress = Arc::new(Progress::new());
        let options = CheckOptions {
            progress: Some(progress.clone()),
            ..CheckOptions::default()
        };
        let sizes = Sizes::new(2, 2, 2, 2).unwrap();
        let verdict = check(Protocol::EventSourced, sizes, &options);
        assert_eq!(
            Some(progress.unique_states()),
            verdict.stats().unique_states
        );
        assert_eq!(
            Some(progress.generated_states()),
            verdict.stats().generated_states
        );
        assert_eq!(Some(progress.depth()), verdict.stats().max_depth);
    }
}
