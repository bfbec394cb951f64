//! A renaming of users and teams: what symmetry reduction applies to a state, and what a
//! protocol applies to its own database ([`JoinProtocol::rename_database`]). Its own module, so
//! that the protocol, the state and symmetry reduction all depend on it and not on each other.
//!
//! [`JoinProtocol::rename_database`]: crate::JoinProtocol::rename_database

use crate::domain::{TeamId, UserId};
use crate::sizes::MAX_DIMENSION;

/// Users or teams a renaming can map: the largest dimension.
const MAX: usize = MAX_DIMENSION as usize;

/// A renaming of users and teams, one of the permutations symmetry reduction tries.
#[derive(Clone, Copy, Debug)]
pub struct Renaming {
    /// `users[old] = new`.
    pub(crate) users: [u8; MAX],
    /// `teams[old] = new`.
    pub(crate) teams: [u8; MAX],
}

impl Renaming {
    /// The new name of `user`.
    pub fn user(&self, user: UserId) -> UserId {
        UserId(self.users[usize::from(user.0)])
    }

    /// The new name of `team`.
    pub fn team(&self, team: TeamId) -> TeamId {
        TeamId(self.teams[usize::from(team.0)])
    }
}
