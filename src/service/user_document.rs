//! The schema fix: the user's document holds the user's one team, and joining is the conditional
//! update `set team = t where team is none`, so the database checks and writes at once.
//!
//! There is no check to go stale: the condition is the check. Two servers racing for sue both
//! update; the first changes one row, the second finds a team there and changes none.

use super::{JoinService, Server};
use crate::runtime::Runtime;
use crate::store::{Recording, UserDocuments, UserDocumentsConnection};
use joincheck_models::domain::{JoinError, ServerId, TeamId, UserId};
use std::fmt;
use std::sync::Arc;

/// Join by a conditional update of the user's document.
#[derive(Clone, Copy, Debug, Default)]
pub struct UserDocument;

/// A server joining users by updating their documents.
pub struct UserDocumentServer<R: Runtime> {
    documents: UserDocumentsConnection<R>,
}

impl<R: Runtime> fmt::Debug for UserDocumentServer<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserDocumentServer").finish_non_exhaustive()
    }
}

impl<R: Runtime> Server for UserDocumentServer<R> {
    /// `set team = team where team is none`: no row changed means the user is on a team.
    fn join(&mut self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        match self.documents.update_team(user, Some(team), None) {
            0 => Err(JoinError::AlreadyOnSomeTeam),
            _ => Ok(()),
        }
    }

    /// `set team = none where team is team`: no row changed means the user was not on it.
    fn leave(&mut self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        match self.documents.update_team(user, None, Some(team)) {
            0 => Err(JoinError::NotOnTeam),
            _ => Ok(()),
        }
    }
}

impl<R: Runtime> JoinService<R> for UserDocument {
    type Database = UserDocuments<R>;
    type Server = UserDocumentServer<R>;

    fn name(&self) -> String {
        "user-document".to_string()
    }

    fn open_database(
        &self,
        initial: &[(TeamId, UserId)],
        recording: Recording,
    ) -> Arc<UserDocuments<R>> {
        Arc::new(UserDocuments::with_members(initial, recording))
    }

    fn start_server(
        &self,
        database: &Arc<UserDocuments<R>>,
        id: ServerId,
    ) -> UserDocumentServer<R> {
        UserDocumentServer {
            documents: database.connect(id),
        }
    }
}
