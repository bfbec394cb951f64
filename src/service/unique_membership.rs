//! The unique-index fix: a membership is a document `{user, team}` in a collection with a unique
//! index on `user`, so joining is inserting, and the database refuses a second membership.
//!
//! There is no check to go stale: the insert is the check. Two servers racing for sue both
//! insert; the index lets the first in and answers the second with a duplicate key.

use super::{JoinService, Server};
use crate::runtime::Runtime;
use crate::store::{MembershipsCollection, MembershipsConnection, Recording};
use joincheck_models::domain::{JoinError, ServerId, TeamId, UserId};
use std::fmt;
use std::sync::Arc;

/// Join by inserting into memberships with a unique index on the user.
#[derive(Clone, Copy, Debug, Default)]
pub struct UniqueMembership;

/// A server joining users by inserting their membership.
pub struct UniqueMembershipServer<R: Runtime> {
    memberships: MembershipsConnection<R>,
}

impl<R: Runtime> fmt::Debug for UniqueMembershipServer<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UniqueMembershipServer")
            .finish_non_exhaustive()
    }
}

impl<R: Runtime> Server for UniqueMembershipServer<R> {
    /// Inserts `{user, team}`; a duplicate key names the team the user is on.
    fn join(&mut self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        self.memberships.insert(user, team)?;
        Ok(())
    }

    /// Deletes the user's membership if it is for `team`.
    fn leave(&mut self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        match self.memberships.delete(user, team) {
            0 => Err(JoinError::NotOnTeam),
            _ => Ok(()),
        }
    }
}

impl<R: Runtime> JoinService<R> for UniqueMembership {
    type Database = MembershipsCollection<R>;
    type Server = UniqueMembershipServer<R>;

    fn name(&self) -> String {
        "unique-membership".to_string()
    }

    fn open_database(
        &self,
        initial: &[(TeamId, UserId)],
        recording: Recording,
    ) -> Arc<MembershipsCollection<R>> {
        Arc::new(MembershipsCollection::with_members(initial, recording))
    }

    fn start_server(
        &self,
        database: &Arc<MembershipsCollection<R>>,
        id: ServerId,
    ) -> UniqueMembershipServer<R> {
        UniqueMembershipServer {
            memberships: database.connect(id),
        }
    }
}
