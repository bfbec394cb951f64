//! The one seam between the real code and whoever schedules it.
//!
//! Services and stores take their mutexes, condition variables and threads from a [`Runtime`],
//! so the very same code runs on real threads ([`Std`]), under loom's exhaustive scheduler
//! ([`Loom`]) and under shuttle's randomized schedulers ([`Shuttle`]), in one plain `cargo test`.
//! This is tokio's single swap point for loom, chosen by a type parameter instead of `cfg(loom)`.
//!
//! loom and shuttle primitives exist only inside a checked run. The harness in [`crate::check`]
//! therefore takes a service *factory* and builds every database and server inside the run; user
//! code never hands a pre-built store to an engine.

mod backends;
pub(crate) mod dpor;
mod pace;
mod workers;

pub use backends::{Loom, Shuttle, Std};
pub use dpor::{Dpor, DporCondvar, DporGuard, DporHandle, DporMutex};
pub use pace::pace_this_thread;

use crate::store::StepLog;
use joincheck_models::domain::ServerId;
use joincheck_models::footprint::Footprint;
use joincheck_models::operation::{CustomOperation, OpResult};
use std::fmt;
use std::ops::{Deref, DerefMut};

/// The primitives a runtime provides: a mutex, a condition variable and threads.
pub trait Runtime: Sized + Send + Sync + 'static {
    /// The backend's mutex.
    type RawMutex<T: Send + 'static>: Send + Sync;
    /// The backend's guard for a locked [`Runtime::RawMutex`].
    type Guard<'a, T: Send + 'static>: DerefMut<Target = T>;
    /// The backend's condition variable.
    type RawCondvar: Send + Sync;
    /// The backend's join handle.
    type Handle<T: Send + 'static>;

    /// Creates a mutex.
    fn new_mutex<T: Send + 'static>(value: T) -> Self::RawMutex<T>;
    /// Creates a store's mutex, locked only within one operation (after
    /// [`Runtime::round_trip`]) or to record a step: a runtime that schedules at operations
    /// needs no point of its own there.
    fn new_store_mutex<T: Send + 'static>(value: T) -> Self::RawMutex<T> {
        Self::new_mutex(value)
    }
    /// Locks it. A poisoned lock is taken anyway: the panic that poisoned it is reported already.
    fn lock<T: Send + 'static>(mutex: &Self::RawMutex<T>) -> Self::Guard<'_, T>;
    /// Creates a condition variable.
    fn new_condvar() -> Self::RawCondvar;
    /// Waits on `condvar`, releasing the guard meanwhile.
    fn wait<'a, T: Send + 'static>(
        condvar: &Self::RawCondvar,
        guard: Self::Guard<'a, T>,
    ) -> Self::Guard<'a, T>;
    /// Wakes every waiter.
    fn notify_all(condvar: &Self::RawCondvar);
    /// Starts a thread.
    fn spawn<F, T>(body: F) -> Self::Handle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static;
    /// Waits for a thread; `Err` carries its panic.
    fn join<T: Send + 'static>(handle: Self::Handle<T>) -> std::thread::Result<T>;

    /// Called by the store before each operation, outside its critical section: the time a
    /// request spends on the network to the database. Real threads give way to the other
    /// servers here, as a real round trip would; loom and shuttle already schedule at every lock.
    fn round_trip() {}

    /// Whether the runtime orders operations by what they touch: only then do stores work
    /// out their operations' footprints for [`Runtime::touch`].
    const FOOTPRINTS: bool = false;

    /// Called by a store within an operation: the operation touches `footprint` (called again,
    /// it touches that too).
    fn touch(footprint: impl FnOnce() -> Footprint) {
        let _ = footprint;
    }
}

/// A mutex from runtime `R`.
pub struct Mutex<R: Runtime, T: Send + 'static>(R::RawMutex<T>);

impl<R: Runtime, T: Send + 'static> fmt::Debug for Mutex<R, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mutex").finish_non_exhaustive()
    }
}

/// A locked [`Mutex`].
pub struct MutexGuard<'a, R: Runtime, T: Send + 'static>(R::Guard<'a, T>);

impl<R: Runtime, T: Send + 'static> fmt::Debug for MutexGuard<'_, R, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MutexGuard").finish_non_exhaustive()
    }
}

impl<R: Runtime, T: Send + 'static> Mutex<R, T> {
    /// Creates a mutex holding `value`.
    pub fn new(value: T) -> Self {
        Mutex(R::new_mutex(value))
    }

    /// A store's mutex ([`Runtime::new_store_mutex`]).
    pub(crate) fn for_store(value: T) -> Self {
        Mutex(R::new_store_mutex(value))
    }

    /// Locks the mutex; everything done under the guard is one critical section.
    pub fn lock(&self) -> MutexGuard<'_, R, T> {
        MutexGuard(R::lock(&self.0))
    }

    /// Locks the mutex as `server` and records taking it and giving it back as steps of their
    /// own in `log` (`acquire sue's lock`, `release sue's lock`, with `what` naming the lock), so
    /// that the trace of a lock-based service shows who held what. The acquire is recorded once
    /// the lock is held and the release before it is given back, so the history orders them as
    /// they happened.
    pub fn lock_recorded<'a>(
        &'a self,
        server: ServerId,
        what: &str,
        log: &'a dyn StepLog,
    ) -> RecordedGuard<'a, R, T> {
        let guard = self.lock();
        let step = |verb: &str| CustomOperation::new(verb, format!("{verb} {what}"));
        log.record(
            server,
            step("acquire").into(),
            OpResult::Custom("held".into()),
        );
        RecordedGuard {
            guard,
            release: Some((server, step("release"), log)),
        }
    }
}

/// A [`Mutex`] locked by [`Mutex::lock_recorded`]: records the release when dropped.
pub struct RecordedGuard<'a, R: Runtime, T: Send + 'static> {
    guard: MutexGuard<'a, R, T>,
    release: Option<(ServerId, CustomOperation, &'a dyn StepLog)>,
}

impl<R: Runtime, T: Send + 'static> fmt::Debug for RecordedGuard<'_, R, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordedGuard").finish_non_exhaustive()
    }
}

impl<R: Runtime, T: Send + 'static> Deref for RecordedGuard<'_, R, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<R: Runtime, T: Send + 'static> DerefMut for RecordedGuard<'_, R, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard
    }
}

/// Records the release while the lock is still held: the guard itself is dropped after this.
impl<R: Runtime, T: Send + 'static> Drop for RecordedGuard<'_, R, T> {
    fn drop(&mut self) {
        if let Some((server, release, log)) = self.release.take() {
            log.record(server, release.into(), OpResult::Custom("free".into()));
        }
    }
}

impl<R: Runtime, T: Send + 'static> Deref for MutexGuard<'_, R, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<R: Runtime, T: Send + 'static> DerefMut for MutexGuard<'_, R, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

/// A condition variable from runtime `R`.
pub struct Condvar<R: Runtime>(R::RawCondvar);

impl<R: Runtime> fmt::Debug for Condvar<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condvar").finish_non_exhaustive()
    }
}

impl<R: Runtime> Condvar<R> {
    /// Creates a condition variable.
    pub fn new() -> Self {
        Condvar(R::new_condvar())
    }

    /// Waits until `ready` holds for the guarded value, releasing the lock meanwhile.
    pub fn wait_until<'a, T: Send + 'static>(
        &self,
        mut guard: MutexGuard<'a, R, T>,
        mut ready: impl FnMut(&mut T) -> bool,
    ) -> MutexGuard<'a, R, T> {
        while !ready(&mut guard) {
            guard = MutexGuard(R::wait(&self.0, guard.0));
        }
        guard
    }

    /// Wakes every waiter.
    pub fn notify_all(&self) {
        R::notify_all(&self.0);
    }
}

impl<R: Runtime> Default for Condvar<R> {
    fn default() -> Self {
        Self::new()
    }
}

/// Starts a thread on runtime `R`.
pub fn spawn<R: Runtime, T: Send + 'static>(
    body: impl FnOnce() -> T + Send + 'static,
) -> R::Handle<T> {
    R::spawn(body)
}
