//! A database's history, behind a lock of its own that no engine schedules at.
//!
//! A store records each operation inside the operation's own critical section, so the history's
//! order is the order operations took effect. A service records steps of its own too (a lock
//! taken and given back, [`Mutex::lock_recorded`](crate::runtime::Mutex::lock_recorded)). Were
//! those to take the store's mutex, every recorded step would be one more point where loom and
//! shuttle switch servers: 190 times the loom executions for one recorded lock. This lock is
//! std's, which no engine sees; it is held for a push and nothing else, and engines switch
//! threads only at their own primitives, so nobody ever waits for it under them.

use super::Recording;
use joincheck_models::domain::{ServerId, TeamId, UserId};
use joincheck_models::operation::{OpResult, Operation, Step};
use std::sync::{Mutex, MutexGuard};

/// The steps recorded so far and the membership the last operation left.
struct Recorded {
    steps: Vec<Step>,
    membership: Vec<(TeamId, UserId)>,
}

/// A history: on or off for the database's whole life.
pub(crate) struct Recorder(Option<Mutex<Recorded>>);

impl Recorder {
    /// Recording when `recording` is on, from no membership ([`Recorder::set_membership`] sets
    /// the database's initial one); nothing otherwise.
    pub(crate) fn new(recording: Recording) -> Recorder {
        Recorder((recording == Recording::On).then(|| {
            Mutex::new(Recorded {
                steps: Vec::new(),
                membership: Vec::new(),
            })
        }))
    }

    fn recorded(&self) -> Option<MutexGuard<'_, Recorded>> {
        let recorded = self.0.as_ref()?;
        Some(recorded.lock().unwrap_or_else(|poison| poison.into_inner()))
    }

    /// Whether it records.
    pub(crate) fn is_on(&self) -> bool {
        self.0.is_some()
    }

    /// The database's own operation, with the membership it left.
    pub(crate) fn operation(&self, step: Step) {
        if let Some(mut recorded) = self.recorded() {
            recorded.membership.clone_from(&step.membership_after);
            recorded.steps.push(step);
        }
    }

    /// A step of a service's own: the membership is what the last operation left.
    pub(crate) fn record(&self, server: ServerId, operation: Operation, result: OpResult) {
        if let Some(mut recorded) = self.recorded() {
            let membership_after = recorded.membership.clone();
            recorded.steps.push(Step {
                server,
                operation,
                result,
                membership_after,
            });
        }
    }

    /// The membership changed without an operation (a run being set up).
    pub(crate) fn set_membership(&self, membership: impl FnOnce() -> Vec<(TeamId, UserId)>) {
        if let Some(mut recorded) = self.recorded() {
            recorded.membership = membership();
        }
    }

    /// Every step recorded, in order (empty when not recording).
    pub(crate) fn steps(&self) -> Vec<Step> {
        self.recorded()
            .map(|recorded| recorded.steps.clone())
            .unwrap_or_default()
    }
}
