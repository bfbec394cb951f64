//! The lease-lock protocols: take the user's lock, check, push, release; the lock is a lease
//! that may expire under its holder.
//!
//! ```text
//! acquire: u's lock        enabled only while no server holds an unexpired lease on it
//! check:   is u on a team?  yes → release next (the request ends refused)
//!                           no  → push next
//! act:     push u → t       → release next
//! release: u's lock         frees it only if this server still holds the lease
//! expire:  (environment)    the holder's lease expires: the lock is free, the holder not told
//! ```
//!
//! A leave (in a model with leaves) acquires the same lock, pulls the user from the team (the
//! pull fenced like a push), and releases: `acquire, pull, release`.
//!
//! A refused check still releases, as `finally release` does; so does a request whose fenced
//! operation was rejected (it ends with an error, no retry). An expiry is the environment's step,
//! enabled whenever a lease is held; the trace shows it as its holder's.
//!
//! Fencing: acquiring returns a token, a per-user counter that only grows. The store rejects a
//! fenced operation whose token is older than the newest it has seen for that user's lock:
//!
//! - **`lease-lock`**: no tokens. A server whose lease expired after its check pushes anyway,
//!   while the next holder checks and pushes too: 7 steps.
//! - **`lease-lock-fenced`**: only the push carries the token. Fencing the write does not help a
//!   check made under an expired lease: the old holder pushes first, with the older token, which
//!   the store accepts because no newer one has reached it yet; the new holder's push follows,
//!   newer still. The same 7 steps.
//! - **`lease-lock-fenced-reads`**: the check carries the token too, so a newer holder's check
//!   fences off every older holder's push, and a push followed by a newer check is seen by it.
//!   Holds.
//!
//! The state space is finite and acyclic: every request acquires at most once, so a token is at
//! most `servers × requests`, and an expiry only clears a lease, which only an acquire (a
//! server's progress) sets.

use super::naive::Naive;
use crate::action::Action;
use crate::domain::{Request, ServerId, TeamId, UserId};
use crate::operation::{OpResult, Operation};
use crate::protocol::{Database, JoinProtocol};
use crate::renaming::Renaming;
use crate::sizes::Sizes;
use crate::state::{Phase, Server, State, Tokens, MAX};

/// Acquire, check, push, release, under a lease that may expire, fenced or not.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LeaseLock {
    fencing: Fencing,
}

/// Which operations carry the lease's fencing token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fencing {
    /// The lock service hands out no tokens.
    None,
    /// The push carries the token.
    Writes,
    /// The check and the push carry the token.
    ChecksAndWrites,
}

/// A lease-lock action as the database saw it: the operation's arguments and its answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Answer {
    /// `user`'s lock acquired, with `token` when tokens are handed out.
    Acquired { user: UserId, token: Option<u8> },
    /// The check found `user` on `team`, or on none.
    Found {
        user: UserId,
        team: Option<TeamId>,
        token: Option<u8>,
    },
    /// `user` pushed into `team`.
    Pushed {
        user: UserId,
        team: TeamId,
        token: Option<u8>,
    },
    /// `user` pulled from `team`; `pulled` when the user was a member.
    Pulled {
        user: UserId,
        team: TeamId,
        pulled: bool,
        token: Option<u8>,
    },
    /// The operation `on` `user` and `team` was rejected: the store had seen `newest`.
    Stale {
        user: UserId,
        team: TeamId,
        on: FencedOperation,
        token: u8,
        newest: u8,
    },
    /// `user`'s lock released; `freed` when the server still held the lease.
    Released { user: UserId, freed: bool },
    /// `user`'s lease expired.
    Expired { user: UserId },
}

/// Which operation a fencing token was rejected on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FencedOperation {
    /// The check.
    Check,
    /// The push.
    Push,
    /// The pull of a leave.
    Pull,
}

impl LeaseLock {
    /// No fencing tokens.
    pub(crate) const PLAIN: LeaseLock = LeaseLock {
        fencing: Fencing::None,
    };

    /// The push carries the fencing token.
    pub(crate) const FENCED: LeaseLock = LeaseLock {
        fencing: Fencing::Writes,
    };

    /// The check and the push carry the fencing token.
    pub(crate) const FENCED_READS: LeaseLock = LeaseLock {
        fencing: Fencing::ChecksAndWrites,
    };

    /// True when some server holds an unexpired lease on `user`'s lock.
    fn held(sizes: Sizes, state: &State, user: UserId) -> bool {
        state
            .servers(sizes)
            .iter()
            .any(|server| server.lease && server.user == user)
    }

    /// Lets the fenced operation of the server at `index` through, or rejects it: `Err(newest)`
    /// when the store has seen a newer token than the server's.
    fn fence(next: &mut State, index: usize) -> Result<(), u8> {
        let server = next.servers[index];
        let tokens = &mut next.tokens[usize::from(server.user.0)];
        if server.version < tokens.seen {
            return Err(tokens.seen);
        }
        tokens.seen = server.version;
        Ok(())
    }

    /// The state after `action`, and what the database answered; `None` when it is not enabled.
    #[inline(always)]
    fn apply(self, sizes: Sizes, state: &State, action: Action) -> Option<(State, Answer)> {
        let index = usize::from(action.server().0);
        let server = state.servers[index];
        let mut next = *state;
        let token = (self.fencing != Fencing::None).then_some(server.version);
        let (user, team) = (server.user, server.team);
        let after = |phase| Server { phase, ..server };
        let answer = match action {
            Action::Acquire { user, team, .. } | Action::AcquireLeave { user, team, .. }
                if server.phase == Phase::Idle
                    && server.done < sizes.requests
                    && user.0 < sizes.users
                    && team.0 < sizes.teams
                    && !LeaseLock::held(sizes, state, user) =>
            {
                let mut version = 0;
                if self.fencing != Fencing::None {
                    let tokens = &mut next.tokens[usize::from(user.0)];
                    tokens.issued += 1;
                    version = tokens.issued;
                }
                next.servers[index] = Server {
                    phase: Phase::Acquired,
                    user,
                    team,
                    version,
                    lease: true,
                    leaving: action.starts_leave(),
                    ..server
                };
                let token = (self.fencing != Fencing::None).then_some(version);
                Answer::Acquired { user, token }
            }
            Action::CheckLocked { .. } if server.phase == Phase::Acquired && !server.leaving => {
                let fenced = self.fencing == Fencing::ChecksAndWrites;
                match fenced.then(|| LeaseLock::fence(&mut next, index)) {
                    Some(Err(newest)) => {
                        next.servers[index] = after(Phase::Releasing);
                        Answer::Stale {
                            user,
                            team,
                            on: FencedOperation::Check,
                            token: server.version,
                            newest,
                        }
                    }
                    _ => {
                        let found = state.team_of(user);
                        let phase = match found {
                            Some(_) => Phase::Releasing,
                            None => Phase::Checked,
                        };
                        next.servers[index] = after(phase);
                        let token = token.filter(|_| fenced);
                        Answer::Found {
                            user,
                            team: found,
                            token,
                        }
                    }
                }
            }
            Action::Act { .. } if server.phase == Phase::Checked => {
                next.servers[index] = after(Phase::Releasing);
                let fenced = self.fencing != Fencing::None;
                match fenced.then(|| LeaseLock::fence(&mut next, index)) {
                    Some(Err(newest)) => Answer::Stale {
                        user,
                        team,
                        on: FencedOperation::Push,
                        token: server.version,
                        newest,
                    },
                    _ => {
                        next.members[usize::from(team.0)] |= 1 << user.0;
                        Answer::Pushed { user, team, token }
                    }
                }
            }
            // What is left of a leave after its pull is what is left of a join: the release.
            Action::PullLocked { .. } if server.phase == Phase::Acquired && server.leaving => {
                next.servers[index] = Server {
                    phase: Phase::Releasing,
                    leaving: false,
                    ..server
                };
                let fenced = self.fencing != Fencing::None;
                match fenced.then(|| LeaseLock::fence(&mut next, index)) {
                    Some(Err(newest)) => Answer::Stale {
                        user,
                        team,
                        on: FencedOperation::Pull,
                        token: server.version,
                        newest,
                    },
                    _ => {
                        let members = &mut next.members[usize::from(team.0)];
                        let pulled = *members & (1 << user.0) != 0;
                        *members &= !(1 << user.0);
                        Answer::Pulled {
                            user,
                            team,
                            pulled,
                            token,
                        }
                    }
                }
            }
            Action::Release { .. } if server.phase == Phase::Releasing => {
                next.servers[index] = Server::idle(server.done + 1);
                Answer::Released {
                    user,
                    freed: server.lease,
                }
            }
            Action::Expire { .. } if server.lease => {
                next.servers[index].lease = false;
                Answer::Expired { user }
            }
            _ => return None,
        };
        Some((next, answer))
    }
}

impl JoinProtocol for LeaseLock {
    fn name(&self) -> &'static str {
        match self.fencing {
            Fencing::None => "lease-lock",
            Fencing::Writes => "lease-lock-fenced",
            Fencing::ChecksAndWrites => "lease-lock-fenced-reads",
        }
    }

    fn first_action(&self, server: ServerId, request: Request) -> Action {
        match request {
            Request::Join { user, team } => Action::Acquire { server, user, team },
            Request::Leave { user, team } => Action::AcquireLeave { server, user, team },
        }
    }

    fn next_state(&self, sizes: Sizes, state: &State, action: Action) -> Option<State> {
        self.apply(sizes, state, action).map(|(next, _)| next)
    }

    fn step(
        &self,
        sizes: Sizes,
        state: &State,
        action: Action,
    ) -> Option<(State, Operation, OpResult)> {
        let (next, answer) = self.apply(sizes, state, action)?;
        let fenced = |token: Option<u8>, operation| match token {
            Some(token) => Operation::Fenced {
                token: u64::from(token),
                operation: Box::new(operation),
            },
            None => operation,
        };
        let (operation, result) = match answer {
            Answer::Acquired { user, token } => (
                Operation::Acquire { user },
                OpResult::Acquired {
                    token: token.map(u64::from),
                },
            ),
            Answer::Found { user, team, token } => (
                fenced(token, Operation::FindTeamOf { user }),
                OpResult::Found(team),
            ),
            Answer::Pushed { user, team, token } => (
                fenced(token, Operation::PushMember { team, user }),
                OpResult::Pushed,
            ),
            Answer::Pulled {
                user,
                team,
                pulled,
                token,
            } => (
                fenced(token, Operation::PullMember { team, user }),
                OpResult::Pulled(pulled),
            ),
            Answer::Stale {
                user,
                team,
                on,
                token,
                newest,
            } => {
                let operation = match on {
                    FencedOperation::Check => Operation::FindTeamOf { user },
                    FencedOperation::Push => Operation::PushMember { team, user },
                    FencedOperation::Pull => Operation::PullMember { team, user },
                };
                let newest = u64::from(newest);
                (fenced(Some(token), operation), OpResult::Stale { newest })
            }
            Answer::Released { user, freed } => {
                (Operation::Release { user }, OpResult::Released(freed))
            }
            Answer::Expired { user } => (Operation::Expire { user }, OpResult::Expired),
        };
        Some((next, operation, result))
    }

    /// Each request, join or leave, acquires at most once, so no lock hands out more than
    /// `servers × requests` tokens.
    fn database(&self, sizes: Sizes, _: bool) -> Database {
        let max_token = match self.fencing {
            Fencing::None => 0,
            Fencing::Writes | Fencing::ChecksAndWrites => sizes.servers * sizes.requests,
        };
        Database::LeasedMemberSets { max_token }
    }

    /// The member sets as naive renames them, and each user's tokens go with the user. Leases
    /// and the tokens servers hold are in the servers' records, which move as a whole.
    fn rename_database(&self, sizes: Sizes, state: &mut State, renaming: &Renaming) {
        Naive.rename_database(sizes, state, renaming);
        let tokens = state.tokens;
        state.tokens = [Tokens::default(); MAX];
        for (user, tokens) in tokens[..usize::from(sizes.users)].iter().enumerate() {
            state.tokens[usize::from(renaming.user(UserId(user as u8)).0)] = *tokens;
        }
    }

    fn orders_all_events(&self) -> bool {
        false
    }

    /// An expired lease lets a second server acquire, check and push while the first, checked
    /// under its lease, pushes too: two servers and two teams, as for naive. One server alone
    /// handles its requests in turn, which is correct. Fencing the check closes the gap.
    fn breaks_at(&self, sizes: Sizes) -> bool {
        self.fencing != Fencing::ChecksAndWrites && sizes.servers >= 2 && sizes.teams >= 2
    }
}

#[cfg(test)]
#[path = "lease_lock_tests.rs"]
mod tests;
