//! The three backends of the runtime seam. They differ only in which crate's `sync` and `thread`
//! modules they use (and in std's database round trip), so one macro writes all three and they
//! cannot drift apart.

use super::Runtime;

macro_rules! backend {
    ($(#[$doc:meta])* $name:ident, $crate_name:ident $(, round_trip: $round_trip:expr)?) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default)]
        pub struct $name;

        impl Runtime for $name {
            type RawMutex<T: Send + 'static> = $crate_name::sync::Mutex<T>;
            type Guard<'a, T: Send + 'static> = $crate_name::sync::MutexGuard<'a, T>;
            type RawCondvar = $crate_name::sync::Condvar;
            type Handle<T: Send + 'static> = $crate_name::thread::JoinHandle<T>;

            fn new_mutex<T: Send + 'static>(value: T) -> Self::RawMutex<T> {
                $crate_name::sync::Mutex::new(value)
            }

            fn lock<T: Send + 'static>(mutex: &Self::RawMutex<T>) -> Self::Guard<'_, T> {
                mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
            }

            fn new_condvar() -> Self::RawCondvar {
                $crate_name::sync::Condvar::new()
            }

            fn wait<'a, T: Send + 'static>(
                condvar: &Self::RawCondvar,
                guard: Self::Guard<'a, T>,
            ) -> Self::Guard<'a, T> {
                condvar
                    .wait(guard)
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
            }

            fn notify_all(condvar: &Self::RawCondvar) {
                condvar.notify_all();
            }

            fn spawn<F, T>(body: F) -> Self::Handle<T>
            where
                F: FnOnce() -> T + Send + 'static,
                T: Send + 'static,
            {
                $crate_name::thread::spawn(body)
            }

            fn join<T: Send + 'static>(handle: Self::Handle<T>) -> std::thread::Result<T> {
                handle.join()
            }

            $(fn round_trip() {
                $round_trip
            })?
        }
    };
}

backend!(
    /// Real operating-system threads and `std::sync`.
    Std, std, round_trip: super::pace::round_trip()
);
backend!(
    /// loom's primitives: `loom::model` explores every interleaving. Valid only inside a loom run.
    Loom, loom
);
backend!(
    /// shuttle's primitives: its schedulers pick the interleavings. Valid only inside a shuttle run.
    Shuttle, shuttle
);
