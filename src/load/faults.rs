//! Faults a load test injects while its workers run: connections cut under them, and slow round
//! trips that widen the races.

use crate::draws::Draws;
use crate::store::Database;
use joincheck_models::domain::ServerId;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// The faults of a load test.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Faults {
    /// Cut a drawn worker's connection every so often (`every` on average): PostgreSQL ends its
    /// backend (`pg_terminate_backend`), SQLite's connection is closed before its next
    /// statement, mid-transaction or not. The worker connects again and goes on.
    pub kill_connections: Option<Duration>,
    /// Before each of a worker's statements, wait a drawn delay below this.
    pub slow: Option<Duration>,
}

impl Faults {
    /// No faults.
    pub const NONE: Faults = Faults {
        kill_connections: None,
        slow: None,
    };

    /// The faults in words: `none`, `kill-connections (every 25 ms on average)`, ….
    pub fn describe(&self) -> String {
        let mut faults = Vec::new();
        if let Some(every) = self.kill_connections {
            faults.push(format!(
                "kill-connections (every {} ms on average)",
                every.as_millis()
            ));
        }
        if let Some(most) = self.slow {
            faults.push(format!(
                "slow (up to {} µs before each statement)",
                most.as_micros()
            ));
        }
        match faults.is_empty() {
            true => "none".to_string(),
            false => faults.join(", "),
        }
    }
}

/// Cuts drawn workers' connections, at drawn intervals around `every`, until `done`; counts
/// the cuts the database made.
pub(super) fn cut_connections<D: Database + ?Sized>(
    database: &D,
    workers: u32,
    every: Duration,
    seed: u64,
    done: &AtomicBool,
    cuts: &AtomicU64,
) {
    let mut draws = Draws::new(seed ^ 0x6b69_6c6c);
    let most = u64::try_from(every.as_micros() * 2).unwrap_or(u64::MAX);
    while !done.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_micros(draws.below(most)));
        let worker = draws.below(u64::from(workers)) as u32;
        let server = ServerId(u8::try_from(worker).unwrap_or(u8::MAX));
        if !done.load(Ordering::Relaxed) && database.cut_connection(server) {
            cuts.fetch_add(1, Ordering::Relaxed);
        }
    }
}
