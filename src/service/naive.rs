//! The article's Team Joiner: check whether the user is on a team, then push them.
//!
//! Correct on one server, broken on two: between one server's check and its push, another
//! server can check the same user, and both push.

use super::{JoinService, Server};
use crate::runtime::Runtime;
use crate::store::{Recording, TeamsCollection, TeamsConnection};
use joincheck_models::domain::{JoinError, ServerId, TeamId, UserId};
use std::fmt;
use std::sync::Arc;

/// The naive check-then-act protocol.
#[derive(Clone, Copy, Debug, Default)]
pub struct Naive;

/// A server running the naive protocol against the teams collection.
pub struct NaiveServer<R: Runtime> {
    teams: TeamsConnection<R>,
}

impl<R: Runtime> fmt::Debug for NaiveServer<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NaiveServer")
            .field("teams", &self.teams)
            .finish_non_exhaustive()
    }
}

impl<R: Runtime> NaiveServer<R> {
    /// `addUserToTeam`: if some team lists the user, refuse; otherwise push the user.
    pub fn add_user_to_team(&self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        if let Some(current) = self.teams.find_team_of(user) {
            return Err(JoinError::AlreadyOnTeam { team: current });
        }
        self.teams.push_member(team, user);
        Ok(())
    }

    /// `removeUserFromTeam`: pull the user from the team.
    pub fn remove_user_from_team(&self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        if self.teams.pull_member(team, user) {
            Ok(())
        } else {
            Err(JoinError::NotOnTeam)
        }
    }
}

impl<R: Runtime> Server for NaiveServer<R> {
    fn join(&mut self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        self.add_user_to_team(user, team)
    }

    fn leave(&mut self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        self.remove_user_from_team(user, team)
    }
}

impl<R: Runtime> JoinService<R> for Naive {
    type Database = TeamsCollection<R>;
    type Server = NaiveServer<R>;

    fn name(&self) -> String {
        "naive".to_string()
    }

    fn open_database(
        &self,
        initial: &[(TeamId, UserId)],
        recording: Recording,
    ) -> Arc<TeamsCollection<R>> {
        Arc::new(TeamsCollection::with_members(initial, recording))
    }

    fn start_server(&self, database: &Arc<TeamsCollection<R>>, id: ServerId) -> NaiveServer<R> {
        NaiveServer {
            teams: database.connect(id),
        }
    }
}
