//! The DPOR engine's runtime: real threads that run one at a time, handed the turn at the only
//! points where the order between servers can matter.
//!
//! A thread runs alone until it reaches a *scheduling point*: the start of a store operation
//! ([`Runtime::round_trip`]), taking a service's own lock, or waiting on a condition. The
//! stretch from one point to the next is one *event*: one store operation (one critical
//! section) and the server's own code after it. What the event read and wrote is its
//! footprint: the store declares its operation's ([`Runtime::touch`]); taking a service's lock
//! writes that lock. A store's own mutex (locked only inside an operation) and
//! recording history are no points at all, so a recorded lock costs no more than the lock.
//!
//! Which thread runs at each point is asked of a [`Chooser`], which sees each event's
//! footprint once it ran. A thread waiting on a condition is woken when an event writes
//! something it read before waiting: every store wakes its waiters only after such a write,
//! and a spurious wake only re-checks.

use super::workers::{self, Running};
use super::Runtime;
use joincheck_models::footprint::{Access, Datum, Footprint};
use std::cell::RefCell;
use std::ops::{Deref, DerefMut};
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// The threads of one run are numbered from 0, the thread that started it, in the order they
/// were spawned.
pub(crate) type ThreadNumber = usize;

/// Who decides, at each scheduling point, which thread runs the next event.
pub(crate) trait Chooser: Send {
    /// Which of `enabled` (never empty, in thread order) runs next, or `None` to abandon the
    /// run here.
    fn choose(&mut self, enabled: &[ThreadNumber]) -> Option<ThreadNumber>;
    /// `thread`'s event ran and touched `footprint`.
    fn executed(&mut self, thread: ThreadNumber, footprint: &Footprint);
}

/// The payload threads unwind with when a run is abandoned.
pub(crate) struct Abandoned;

/// Why a run ended before its threads did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Cut {
    /// The chooser abandoned it.
    Abandoned,
    /// No thread could go on, though some had not finished.
    Deadlock,
}

/// Where a thread stands.
#[derive(Clone, Debug)]
enum Status {
    /// Runs without asking: new, or back from a join; touches nothing until its next point.
    Runnable,
    /// Holds the turn.
    Running,
    /// Stopped at a point, to run an event when chosen.
    At(Point),
    /// Waiting on a condition, until an event writes something in `reads`; `lock` is the
    /// service's lock it gave back to wait, taken again when it wakes.
    Waiting { reads: Footprint, lock: Option<u64> },
    /// Waiting for a thread to finish.
    Joining(ThreadNumber),
    /// Done.
    Finished,
}

/// What the event a thread stopped for begins with.
#[derive(Clone, Copy, Debug)]
enum Point {
    /// A store operation.
    Operation,
    /// Taking a service's lock (enabled while it is free).
    Lock(u64),
    /// Checking again the condition it waited on, within a store operation.
    Woken,
}

/// The event running now.
struct Event {
    thread: ThreadNumber,
    footprint: Footprint,
    /// It began a store operation (or went on with one after waiting).
    operation: bool,
    /// The store declared what the operation touched.
    declared: bool,
}

/// One run's threads, the turn, and the chooser.
struct State {
    threads: Vec<Status>,
    turn: ThreadNumber,
    event: Option<Event>,
    /// Each service lock's holder, by number.
    locks: Vec<Option<ThreadNumber>>,
    chooser: Box<dyn Chooser>,
    cut: Option<Cut>,
    /// Operating-system threads of this run still alive.
    alive: usize,
    /// What each thread of the run holds while it lives (the engine's quiet panics).
    keep: Keep,
    /// Each thread's own condition variable: handing the turn on wakes the thread that gets it,
    /// not every thread of the run (which then all take the lock to go back to sleep).
    wake: Vec<Arc<Condvar>>,
}

/// Made by each thread of a run when it starts, dropped when it ends.
pub(crate) type Keep = Arc<dyn Fn() -> Box<dyn std::any::Any> + Send + Sync>;

/// One run of the DPOR runtime.
pub(crate) struct Run {
    state: Mutex<State>,
    /// Signalled when a thread of the run ends: the run waits for all of them.
    ended: Condvar,
}

thread_local! {
    static CURRENT: RefCell<Option<(Arc<Run>, ThreadNumber)>> = const { RefCell::new(None) };
}

fn current() -> (Arc<Run>, ThreadNumber) {
    CURRENT.with(|current| current.borrow().clone()).expect(
        "a DPOR primitive was used outside a DPOR run: the engine builds everything inside one",
    )
}

fn in_run() -> bool {
    CURRENT.with(|current| current.borrow().is_some())
}

impl Run {
    /// Runs `body` on this thread as thread 0 of a run whose points `chooser` decides; returns
    /// what `body` returned (or its panic), why the run was cut short if it was, and the chooser.
    pub(crate) fn run<T>(
        chooser: Box<dyn Chooser>,
        keep: Keep,
        body: impl FnOnce() -> T,
    ) -> (std::thread::Result<T>, Option<Cut>, Box<dyn Chooser>) {
        let run = Arc::new(Run {
            state: Mutex::new(State {
                threads: vec![Status::Running],
                turn: 0,
                event: None,
                locks: Vec::new(),
                chooser,
                cut: None,
                alive: 0,
                keep,
                wake: vec![Arc::new(Condvar::new())],
            }),
            ended: Condvar::new(),
        });
        CURRENT.with(|current| *current.borrow_mut() = Some((Arc::clone(&run), 0)));
        let outcome = panic::catch_unwind(AssertUnwindSafe(body));
        CURRENT.with(|current| *current.borrow_mut() = None);
        let mut state = run.lock();
        if outcome.is_err() && state.cut.is_none() {
            // A panic reached the top while threads were stopped at points: let them unwind.
            state.cut = Some(Cut::Abandoned);
        }
        state.wake_up();
        while state.alive > 0 {
            state = run
                .ended
                .wait(state)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        let cut = state.cut.clone();
        let chooser = std::mem::replace(&mut state.chooser, Box::new(Nobody));
        drop(state);
        (outcome, cut, chooser)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Waits until thread `me` has the turn or the run is cut short.
    fn wait_for_turn<'a>(
        &self,
        mut state: MutexGuard<'a, State>,
        me: ThreadNumber,
    ) -> MutexGuard<'a, State> {
        while state.cut.is_none() && state.turn != me {
            let wake = Arc::clone(&state.wake[me]);
            state = wake
                .wait(state)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        state
    }

    /// Thread `me` gives up the turn, as `status`, and waits until it has it again (its event,
    /// if it stopped at a point, then begun). Unwinds when the run is cut short.
    fn stop(&self, me: ThreadNumber, status: Status) {
        let mut state = self.lock();
        state.close_event();
        state.threads[me] = status;
        state.pass_turn();
        state.wake_up();
        let state = self.wait_for_turn(state, me);
        if state.cut.is_some() {
            drop(state);
            panic::resume_unwind(Box::new(Abandoned));
        }
    }
}

impl State {
    /// Wakes the thread whose turn it is, or every thread when the run is cut short.
    fn wake_up(&self) {
        match self.cut {
            Some(_) => self.wake.iter().for_each(|wake| wake.notify_one()),
            None => self.wake[self.turn].notify_one(),
        }
    }

    /// Ends the running event, if one runs: the chooser learns its footprint, and threads
    /// waiting on something it wrote wake.
    fn close_event(&mut self) {
        let Some(mut event) = self.event.take() else {
            return;
        };
        if event.operation && !event.declared {
            event.footprint.add(Access::Write, Datum::Database);
        }
        for status in &mut self.threads {
            if let Status::Waiting { reads, lock } = status {
                if event.footprint.writes_into(reads) {
                    *status = Status::At(match lock {
                        Some(lock) => Point::Lock(*lock),
                        None => Point::Woken,
                    });
                }
            }
        }
        self.chooser.executed(event.thread, &event.footprint);
    }

    /// Hands the turn on: to a thread that runs without asking if there is one, else to the
    /// one the chooser picks among those enabled, its event begun. Cuts the run short when the
    /// chooser abandons it or nobody can go on.
    fn pass_turn(&mut self) {
        if self.cut.is_some() {
            return;
        }
        for thread in 0..self.threads.len() {
            if let Status::Joining(joined) = self.threads[thread] {
                if matches!(self.threads[joined], Status::Finished) {
                    self.threads[thread] = Status::Runnable;
                }
            }
        }
        if let Some(thread) = self
            .threads
            .iter()
            .position(|status| matches!(status, Status::Runnable))
        {
            self.threads[thread] = Status::Running;
            self.turn = thread;
            return;
        }
        let enabled: Vec<ThreadNumber> = (0..self.threads.len())
            .filter(|thread| match self.threads[*thread] {
                Status::At(Point::Lock(lock)) => self.locks[lock as usize].is_none(),
                Status::At(_) => true,
                _ => false,
            })
            .collect();
        if enabled.is_empty() {
            if self
                .threads
                .iter()
                .any(|status| !matches!(status, Status::Finished))
            {
                self.cut = Some(Cut::Deadlock);
            }
            return;
        }
        let Some(chosen) = self.chooser.choose(&enabled) else {
            self.cut = Some(Cut::Abandoned);
            return;
        };
        assert!(
            enabled.contains(&chosen),
            "the chooser chose a thread that cannot run"
        );
        let Status::At(point) = self.threads[chosen] else {
            unreachable!("an enabled thread stands at a point")
        };
        let mut event = Event {
            thread: chosen,
            footprint: Footprint::default(),
            operation: !matches!(point, Point::Lock(_)),
            declared: false,
        };
        if let Point::Lock(lock) = point {
            self.locks[lock as usize] = Some(chosen);
            event.footprint.add(Access::Write, Datum::Lock(lock));
        }
        self.event = Some(event);
        self.threads[chosen] = Status::Running;
        self.turn = chosen;
    }
}

/// A chooser for after a run: never asked.
struct Nobody;

impl Chooser for Nobody {
    fn choose(&mut self, _: &[ThreadNumber]) -> Option<ThreadNumber> {
        None
    }
    fn executed(&mut self, _: ThreadNumber, _: &Footprint) {}
}

/// The DPOR engine's runtime ([`crate::check::dpor`]). Valid only inside a DPOR run.
#[derive(Clone, Copy, Debug, Default)]
pub struct Dpor;

/// A mutex of the DPOR runtime: a store's (no point), or a service's, numbered in its run.
pub struct DporMutex<T> {
    lock: Option<u64>,
    value: Mutex<T>,
}

/// A locked [`DporMutex`].
pub struct DporGuard<'a, T> {
    mutex: &'a DporMutex<T>,
    guard: Option<MutexGuard<'a, T>>,
}

impl<T> Deref for DporGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.guard.as_ref().expect("a guard is held until dropped")
    }
}

impl<T> DerefMut for DporGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.guard.as_mut().expect("a guard is held until dropped")
    }
}

/// Giving back a service's lock touches nothing: taking it is what writes it, so that two
/// takings race with each other directly (a release between them would hide that race, and
/// a taking cannot be moved before the release that let it happen). The release enables the
/// next taking, which is ordered after the previous taking already.
impl<T> Drop for DporGuard<'_, T> {
    fn drop(&mut self) {
        self.guard = None;
        if let (Some(lock), true) = (self.mutex.lock, in_run()) {
            let (run, _) = current();
            run.lock().locks[lock as usize] = None;
        }
    }
}

/// A condition variable of the DPOR runtime: waiters wake on writes, not on notifications.
pub struct DporCondvar;

/// A thread of a DPOR run.
pub struct DporHandle<T> {
    thread: ThreadNumber,
    os: Running<std::thread::Result<T>>,
}

fn lock_value<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Runtime for Dpor {
    type RawMutex<T: Send + 'static> = DporMutex<T>;
    type Guard<'a, T: Send + 'static> = DporGuard<'a, T>;
    type RawCondvar = DporCondvar;
    type Handle<T: Send + 'static> = DporHandle<T>;

    const FOOTPRINTS: bool = true;

    fn new_mutex<T: Send + 'static>(value: T) -> DporMutex<T> {
        let (run, _) = current();
        let mut state = run.lock();
        state.locks.push(None);
        DporMutex {
            lock: Some(state.locks.len() as u64 - 1),
            value: Mutex::new(value),
        }
    }

    fn new_store_mutex<T: Send + 'static>(value: T) -> DporMutex<T> {
        DporMutex {
            lock: None,
            value: Mutex::new(value),
        }
    }

    fn lock<T: Send + 'static>(mutex: &DporMutex<T>) -> DporGuard<'_, T> {
        if let Some(lock) = mutex.lock {
            let (run, me) = current();
            if me != 0 {
                run.stop(me, Status::At(Point::Lock(lock)));
            } else {
                run.lock().locks[lock as usize] = Some(0);
            }
        }
        DporGuard {
            mutex,
            guard: Some(lock_value(&mutex.value)),
        }
    }

    fn new_condvar() -> DporCondvar {
        DporCondvar
    }

    fn wait<'a, T: Send + 'static>(
        _: &Self::RawCondvar,
        mut guard: Self::Guard<'a, T>,
    ) -> Self::Guard<'a, T> {
        let (run, me) = current();
        guard.guard = None;
        let mutex = guard.mutex;
        std::mem::forget(guard);
        let mut reads = {
            let mut state = run.lock();
            if let Some(lock) = mutex.lock {
                state.locks[lock as usize] = None;
            }
            let event = state
                .event
                .as_ref()
                .expect("a thread waits within an event");
            let mut reads = event.footprint.clone();
            if let Some(lock) = mutex.lock {
                // Whoever changes what it waits for takes the lock first.
                reads.add(Access::Read, Datum::Lock(lock));
            }
            reads
        };
        if reads.is_empty() {
            reads.add(Access::Read, Datum::Database);
        }
        run.stop(
            me,
            Status::Waiting {
                reads,
                lock: mutex.lock,
            },
        );
        DporGuard {
            mutex,
            guard: Some(lock_value(&mutex.value)),
        }
    }

    fn notify_all(_: &DporCondvar) {}

    fn spawn<F, T>(body: F) -> DporHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let (run, _) = current();
        let (thread, keep) = {
            let mut state = run.lock();
            state.threads.push(Status::Runnable);
            state.wake.push(Arc::new(Condvar::new()));
            state.alive += 1;
            (state.threads.len() - 1, Arc::clone(&state.keep))
        };
        let os = workers::start(move || {
            let _kept = keep();
            CURRENT.with(|current| *current.borrow_mut() = Some((Arc::clone(&run), thread)));
            let outcome = {
                let state = run.wait_for_turn(run.lock(), thread);
                match state.cut {
                    Some(_) => Err(Box::new(Abandoned) as Box<dyn std::any::Any + Send>),
                    None => {
                        drop(state);
                        panic::catch_unwind(AssertUnwindSafe(body))
                    }
                }
            };
            CURRENT.with(|current| *current.borrow_mut() = None);
            let mut state = run.lock();
            state.close_event();
            state.threads[thread] = Status::Finished;
            if state.turn == thread {
                state.pass_turn();
            }
            state.alive -= 1;
            state.wake_up();
            run.ended.notify_all();
            outcome
        });
        DporHandle { thread, os }
    }

    fn join<T: Send + 'static>(handle: DporHandle<T>) -> std::thread::Result<T> {
        let (run, me) = current();
        let finished = matches!(run.lock().threads[handle.thread], Status::Finished);
        if !finished {
            run.stop(me, Status::Joining(handle.thread));
        }
        let gone = || Err(Box::new("a DPOR thread ended without a result") as Box<_>);
        handle.os.join().unwrap_or_else(gone)
    }

    fn round_trip() {
        let (run, me) = current();
        if me != 0 {
            run.stop(me, Status::At(Point::Operation));
        }
    }

    fn touch(footprint: impl FnOnce() -> Footprint) {
        let (run, _) = current();
        let mut state = run.lock();
        if let Some(event) = &mut state.event {
            event.footprint.extend(&footprint());
            event.declared = true;
        }
    }
}

impl<T> std::fmt::Debug for DporMutex<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DporMutex")
            .field("lock", &self.lock)
            .finish_non_exhaustive()
    }
}

impl<T> std::fmt::Debug for DporGuard<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DporGuard").finish_non_exhaustive()
    }
}

impl std::fmt::Debug for DporCondvar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DporCondvar")
    }
}

impl<T> std::fmt::Debug for DporHandle<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DporHandle")
            .field("thread", &self.thread)
            .finish_non_exhaustive()
    }
}
