//! The article's Team Joiner in SQL: check with a `SELECT`, then act with an `INSERT`, each
//! statement on its own (autocommit). Between one server's check and its insert, another
//! server can check the same user, and both insert.

use super::{connect, open, seed_memberships, MEMBERSHIPS, MEMBERSHIPS_QUERY};
use crate::runtime::Runtime;
use crate::service::{JoinService, Server};
use crate::store::sql::{Schema, SqlConnection, SqlDatabase, SqlTarget, Statement};
use crate::store::Recording;
use joincheck_models::domain::{JoinError, ServerId, TeamId, UserId};
use joincheck_models::operation::Operation;
use std::sync::Arc;

/// The naive check-then-act protocol in SQL.
#[derive(Clone, Debug)]
pub struct Naive {
    /// Where its databases are opened.
    pub target: SqlTarget,
}

/// A server running the naive protocol in SQL.
#[derive(Debug)]
pub struct NaiveServer<R: Runtime> {
    db: SqlConnection<R>,
}

const SCHEMA: Schema = Schema {
    create: &[MEMBERSHIPS],
    seed: seed_memberships,
    membership: MEMBERSHIPS_QUERY,
};

impl<R: Runtime> Server for NaiveServer<R> {
    fn join(&mut self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        let check = Statement::new("check", "SELECT team FROM memberships WHERE user_id = $1")
            .reads(user)
            .model(Operation::FindTeamOf { user });
        let found = self.db.query(&check, &[user.into()])?;
        if let Some(current) = found.first().and_then(|row| row.team(0)) {
            return Err(JoinError::AlreadyOnTeam { team: current });
        }
        let act = Statement::new(
            "act",
            "INSERT INTO memberships (team, user_id) VALUES ($1, $2)",
        )
        .writes(user)
        .model(Operation::PushMember { team, user });
        self.db.execute(&act, &[team.into(), user.into()])?;
        Ok(())
    }

    fn leave(&mut self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        let pull = Statement::new(
            "pull",
            "DELETE FROM memberships WHERE team = $1 AND user_id = $2",
        )
        .writes(user)
        .model(Operation::PullMember { team, user });
        match self.db.execute(&pull, &[team.into(), user.into()])? {
            0 => Err(JoinError::NotOnTeam),
            _ => Ok(()),
        }
    }
}

impl<R: Runtime> JoinService<R> for Naive {
    type Database = SqlDatabase<R>;
    type Server = NaiveServer<R>;

    fn name(&self) -> String {
        "naive".to_string()
    }

    fn open_database(
        &self,
        initial: &[(TeamId, UserId)],
        recording: Recording,
    ) -> Arc<SqlDatabase<R>> {
        open(&self.target, SCHEMA, initial, recording)
    }

    fn start_server(&self, database: &Arc<SqlDatabase<R>>, id: ServerId) -> NaiveServer<R> {
        NaiveServer {
            db: connect(database, id),
        }
    }
}
