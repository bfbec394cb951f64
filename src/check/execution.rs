//! One run of a scenario, and how the invariant fared in it.
//!
//! The invariant is judged after **every recorded step**, as the model checker judges every
//! state: a user who is on two teams in the middle of a run and on one team at its end was on two
//! teams, and a service that lets that happen is broken. A run is only judged when its history
//! lets it be: a database that recorded nothing although the servers handled requests, or whose
//! history does not end in the membership the database holds, cannot pass as "holds".

use super::{Invariants, Scenario};
use crate::store::Database;
use joincheck_models::domain::{JoinError, TeamId, UserId};
use joincheck_models::operation::{OpResult, Step};
use joincheck_models::verdict::{Counterexample, Engine, Replay, Violation};
use std::fmt;

/// What one run of a scenario did.
#[derive(Clone, Debug, PartialEq)]
pub struct Execution {
    /// The operations in the order they took effect (empty when not recording).
    pub history: Vec<Step>,
    /// Membership at the end, as sorted `(team, user)` pairs ([`Execution::final_membership`]).
    pub membership: Vec<(TeamId, UserId)>,
    /// Each server's answers, request by request.
    pub answers: Vec<Vec<Result<(), JoinError>>>,
}

/// The invariant over one run, judged step by step.
#[derive(Clone, Debug, PartialEq)]
pub enum Judgement {
    /// The invariant held after every recorded step and at the end.
    Held,
    /// The invariant broke. `steps` ends at the first step after which it was broken (the whole
    /// history when only the end state shows it), and `violation` names the state there.
    Broke {
        /// The history up to and including the first breaking step.
        steps: Vec<Step>,
        /// The broken invariant right after the last of `steps`.
        violation: Violation,
    },
    /// The run cannot be judged step by step; nothing may be concluded from it.
    Unjudged(Unjudged),
}

/// Why a run could not be judged step by step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unjudged(pub String);

impl fmt::Display for Unjudged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the run cannot be judged step by step: {}", self.0)
    }
}

impl std::error::Error for Unjudged {}

/// The first step of `steps` after which a user is on more than one team, with its index.
/// [`Invariants::first_broken_step`] judges added invariants too.
pub fn first_broken_step(steps: &[Step]) -> Option<(usize, Violation)> {
    Invariants::default().first_broken_step(steps)
}

/// Membership as a sorted set, so that stores listing pairs in another order still compare.
fn as_set(membership: &[(TeamId, UserId)]) -> Vec<(TeamId, UserId)> {
    let mut pairs = membership.to_vec();
    pairs.sort();
    pairs.dedup();
    pairs
}

impl Execution {
    /// What `database` recorded, with the servers' answers.
    pub(crate) fn of(database: &impl Database, answers: Vec<Vec<Result<(), JoinError>>>) -> Self {
        Execution {
            history: database.history(),
            membership: database.membership(),
            answers,
        }
    }

    /// Why a statement of this run was not one atomic step, if one was not: a verdict that
    /// relies on interleaving whole statements is then evidence, not proof.
    pub fn not_atomic(&self) -> Option<&str> {
        self.history.iter().find_map(|step| match &step.result {
            OpResult::Sql(answer) => answer.not_atomic.as_deref(),
            _ => None,
        })
    }

    /// How many appends were refused with a conflict (and so retried).
    pub fn conflicts(&self) -> u64 {
        let refused = |step: &&Step| matches!(step.result, OpResult::Conflict { .. });
        self.history.iter().filter(refused).count() as u64
    }

    /// Judges "a user is on at most one team" after every recorded step and at the end of the
    /// run.
    pub fn judge(&self) -> Judgement {
        self.judge_against(&Invariants::default())
    }

    /// Judges `invariants` after every recorded step and at the end of the run.
    pub fn judge_against(&self, invariants: &Invariants) -> Judgement {
        if let Some((index, violation)) = invariants.first_broken_step(&self.history) {
            return Judgement::Broke {
                steps: self.history[..=index].to_vec(),
                violation,
            };
        }
        if let Some(violation) = invariants.broken(&self.membership) {
            return Judgement::Broke {
                steps: self.history.clone(),
                violation,
            };
        }
        let handled: usize = self.answers.iter().map(Vec::len).sum();
        match self.history.last() {
            None if handled > 0 => Judgement::Unjudged(Unjudged(format!(
                "the database recorded no operation although the servers handled {handled} \
                 request{} (open it with Recording::On, and record every operation)",
                if handled == 1 { "" } else { "s" }
            ))),
            Some(last) if as_set(&last.membership_after) != as_set(&self.membership) => {
                Judgement::Unjudged(Unjudged(
                    "the database's membership at the end differs from the membership after its \
                     last recorded step: its history misses operations"
                        .to_string(),
                ))
            }
            _ => Judgement::Held,
        }
    }

    /// The membership the database holds at the end of the run, as sorted `(team, user)` pairs:
    /// the end state, whatever happened on the way. (The same as the `membership` field.)
    pub fn final_membership(&self) -> &[(TeamId, UserId)] {
        &self.membership
    }

    /// The broken invariant in the end state ([`Execution::final_membership`]), if one is
    /// broken there. A run can end well after breaking the invariant on the way (a user on two
    /// teams, and then off one): [`Execution::violation`] tells that.
    pub fn violation_at_end(&self) -> Option<Violation> {
        Invariants::default().broken(&self.membership)
    }

    /// The broken invariant right after the **first step** that broke it (or at the end, when
    /// only the end state shows it), if it broke at any step: the verdict's violation. A run
    /// that cannot be judged has no violation to show; [`Execution::judge`] says why. For the
    /// end state alone, [`Execution::violation_at_end`].
    pub fn violation(&self) -> Option<Violation> {
        match self.judge() {
            Judgement::Broke { violation, .. } => Some(violation),
            _ => None,
        }
    }

    /// The history up to and including the first step after which the invariant is broken (the
    /// whole history when it never broke).
    pub fn steps_to_violation(&self) -> Vec<Step> {
        match self.judge() {
            Judgement::Broke { steps, .. } => steps,
            _ => self.history.clone(),
        }
    }

    /// This run as a counterexample when it broke one of `invariants`, `Ok(None)` when they
    /// held at every step, and an error when the run cannot be judged.
    pub fn counterexample(
        &self,
        protocol: String,
        scenario: &Scenario,
        invariants: &Invariants,
        engine: Engine,
        replay: Replay,
    ) -> Result<Option<Counterexample>, Unjudged> {
        match self.judge_against(invariants) {
            Judgement::Held => Ok(None),
            Judgement::Unjudged(why) => Err(why),
            Judgement::Broke { steps, violation } => Ok(Some(Counterexample {
                protocol,
                parameters: scenario.to_string(),
                engine,
                steps,
                violation,
                replay,
            })),
        }
    }
}
