//! The fix people reach for first: take the user's lock, check, push, release. The lock is a
//! lease, as lock services hand them out so that a crashed server cannot hold it forever.
//!
//! A lease may expire while its holder is stalled (a GC pause, a slow VM) and the holder does not
//! know: it goes on to push on the strength of a check another server has meanwhile repeated.
//! Fencing tokens are the textbook answer, and this file has the three ways to use them (one
//! service with a [`Fencing`] choice, as the code differs in which token goes where and nothing
//! else): none; on the push only, which is not enough, because the check made under the expired
//! lease is not fenced and the old holder's push can still come first; and on the check and the
//! push, which holds.
//!
//! The lease's expiry is the database's clock, an actor of its own ([`JoinService::environment`])
//! that the engines schedule like the servers: loom tries it at every moment.

use super::{JoinService, Server};
use crate::runtime::Runtime;
use crate::store::{Lease, LeasedTeams, LeasedTeamsConnection, LockTokens, Recording};
use joincheck_models::domain::{JoinError, ServerId, TeamId, UserId};
use std::fmt;
use std::sync::Arc;

/// Which operations carry the lease's fencing token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fencing {
    /// None: the lock service hands out no tokens.
    None,
    /// The push (and pull) carries the token; the check does not.
    Writes,
    /// The check carries the token too.
    ChecksAndWrites,
}

/// The lease-lock protocol, with its choice of fencing.
#[derive(Clone, Copy, Debug)]
pub struct LeaseLock {
    /// Which operations carry the token.
    pub fencing: Fencing,
}

impl LeaseLock {
    /// No fencing: broken as soon as a lease expires between a check and its push.
    pub const PLAIN: LeaseLock = LeaseLock {
        fencing: Fencing::None,
    };
    /// Fenced pushes: still broken, the check is not fenced.
    pub const FENCED: LeaseLock = LeaseLock {
        fencing: Fencing::Writes,
    };
    /// Fenced checks and pushes.
    pub const FENCED_READS: LeaseLock = LeaseLock {
        fencing: Fencing::ChecksAndWrites,
    };
}

/// A server running the lease-lock protocol.
pub struct LeaseLockServer<R: Runtime> {
    database: LeasedTeamsConnection<R>,
    fencing: Fencing,
}

impl<R: Runtime> fmt::Debug for LeaseLockServer<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LeaseLockServer").finish_non_exhaustive()
    }
}

impl<R: Runtime> LeaseLockServer<R> {
    /// `addUserToTeam` under the user's lock, released whatever happened (`finally release`).
    pub fn add_user_to_team(&self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        let lease = self.database.acquire(user);
        let joined = self.join_holding(&lease, team);
        self.database.release(lease);
        joined
    }

    /// If some team lists the user, refuse; otherwise push them: the naive check-then-act,
    /// with the tokens the fencing asks for.
    fn join_holding(&self, lease: &Lease, team: TeamId) -> Result<(), JoinError> {
        let user = lease.user;
        let check_token = lease
            .token
            .filter(|_| self.fencing == Fencing::ChecksAndWrites);
        if let Some(current) = self.database.find_team_of(user, check_token)? {
            return Err(JoinError::AlreadyOnTeam { team: current });
        }
        self.database.push_member(team, user, lease.token)?;
        Ok(())
    }

    /// `removeUserFromTeam` under the user's lock, the pull fenced like a push.
    pub fn remove_user_from_team(&self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        let lease = self.database.acquire(user);
        let pulled = self.database.pull_member(team, user, lease.token);
        self.database.release(lease);
        match pulled? {
            true => Ok(()),
            false => Err(JoinError::NotOnTeam),
        }
    }
}

impl<R: Runtime> Server for LeaseLockServer<R> {
    fn join(&mut self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        self.add_user_to_team(user, team)
    }

    fn leave(&mut self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        self.remove_user_from_team(user, team)
    }
}

impl<R: Runtime> JoinService<R> for LeaseLock {
    type Database = LeasedTeams<R>;
    type Server = LeaseLockServer<R>;

    fn name(&self) -> String {
        match self.fencing {
            Fencing::None => "lease-lock",
            Fencing::Writes => "lease-lock-fenced",
            Fencing::ChecksAndWrites => "lease-lock-fenced-reads",
        }
        .to_string()
    }

    /// Tokens are handed out only when something is fenced with them.
    fn open_database(
        &self,
        initial: &[(TeamId, UserId)],
        recording: Recording,
    ) -> Arc<LeasedTeams<R>> {
        let tokens = match self.fencing {
            Fencing::None => LockTokens::None,
            Fencing::Writes | Fencing::ChecksAndWrites => LockTokens::Fencing,
        };
        Arc::new(LeasedTeams::with_members(initial, recording, tokens))
    }

    fn start_server(&self, database: &Arc<LeasedTeams<R>>, id: ServerId) -> LeaseLockServer<R> {
        LeaseLockServer {
            database: database.connect(id),
            fencing: self.fencing,
        }
    }

    /// The database's clock: one tick per run, at whatever moment the scheduler runs it, which
    /// expires the lease held then, if any (under an enforced order, one tick per expiry).
    fn environment(&self, database: &Arc<LeasedTeams<R>>) -> Vec<Box<dyn FnOnce() + Send>> {
        let clock = Arc::clone(database);
        vec![Box::new(move || while clock.tick() {})]
    }
}
