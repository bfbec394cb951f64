//! Operating-system threads kept from one DPOR execution to the next.
//!
//! The DPOR engine runs tens of thousands of executions, each with a thread per server: starting
//! those threads took a quarter of its time (perf: `clone3`). A thread that has run its body
//! waits here for the next one instead of ending.

use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Mutex;

/// A body for a kept thread.
type Job = Box<dyn FnOnce() + Send>;

/// The threads waiting for a body, each by the sender that hands it one.
static IDLE: Mutex<Vec<Sender<Job>>> = Mutex::new(Vec::new());

/// What [`start`] returns: the body's result, once it has run.
pub(crate) struct Running<T>(Receiver<T>);

impl<T> Running<T> {
    /// Waits for the body to end and returns what it returned. A body that unwound gives
    /// `None` (the DPOR runtime's bodies catch their panics, so none does).
    pub(crate) fn join(self) -> Option<T> {
        self.0.recv().ok()
    }
}

/// Runs `body` on a kept thread, or a new one when none is waiting.
pub(crate) fn start<T: Send + 'static>(body: impl FnOnce() -> T + Send + 'static) -> Running<T> {
    let (result, running) = mpsc::channel();
    let mut job: Job = Box::new(move || {
        let _ = result.send(body());
    });
    while let Some(thread) = idle().pop() {
        match thread.send(job) {
            Ok(()) => return Running(running),
            // That thread is gone (a body unwound through it): the job comes back.
            Err(returned) => job = returned.0,
        }
    }
    let (hand, jobs) = mpsc::channel();
    hand.send(job).expect("the new thread's receiver is here");
    std::thread::spawn(move || work(&hand, &jobs));
    Running(running)
}

fn idle() -> std::sync::MutexGuard<'static, Vec<Sender<Job>>> {
    IDLE.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A kept thread: runs each body handed to it, then waits for the next.
fn work(hand: &Sender<Job>, jobs: &Receiver<Job>) {
    while let Ok(job) = jobs.recv() {
        job();
        idle().push(hand.clone());
    }
}
