//! A real thread's round trip to the database, and the slower one a load test's `slow` fault
//! asks for: a seeded delay before each operation, to widen the races between real threads.

use crate::draws::Draws;
use std::cell::RefCell;
use std::time::Duration;

/// A paced thread's delays: drawn from a seed, each below `most`.
struct Pace {
    draws: Draws,
    most: Duration,
}

thread_local! {
    static PACE: RefCell<Option<Pace>> = const { RefCell::new(None) };
}

/// From now on, the current thread waits a delay drawn from `seed` (below `most`) before each
/// operation of a store on [`Std`](super::Std), as a slow network or a loaded server would make
/// it; `None` stops that.
pub fn pace_this_thread(pace: Option<(u64, Duration)>) {
    PACE.with(|cell| {
        *cell.borrow_mut() = pace.map(|(seed, most)| Pace {
            draws: Draws::new(seed),
            most,
        });
    });
}

/// Before an operation on real threads: the paced delay, if any, then giving way to the other
/// threads, as a request waiting on a database round trip would.
pub(crate) fn round_trip() {
    let delay = PACE.with(|cell| {
        let mut cell = cell.borrow_mut();
        let pace = cell.as_mut()?;
        let nanos = u64::try_from(pace.most.as_nanos()).unwrap_or(u64::MAX);
        Some(Duration::from_nanos(pace.draws.below(nanos)))
    });
    match delay {
        Some(delay) => std::thread::sleep(delay),
        None => std::thread::yield_now(),
    }
}
