//! The user's row says the team: `UPDATE users SET team = $2 WHERE id = $1 AND team IS NULL`.
//! The update rereads the row it locks before it writes, so the condition cannot go stale; no
//! row changed means the user is on a team already.

use super::{connect, open};
use crate::runtime::Runtime;
use crate::service::{JoinService, Server};
use crate::store::sql::{every_user, insert_rows, Schema, SqlConnection, SqlDatabase};
use crate::store::sql::{SqlTarget, Statement, Value};
use crate::store::Recording;
use joincheck_models::domain::{JoinError, ServerId, TeamId, UserId};
use joincheck_models::operation::Operation;
use std::sync::Arc;

/// A conditional update of the user's row.
#[derive(Clone, Debug)]
pub struct UserDocument {
    /// Where its databases are opened.
    pub target: SqlTarget,
}

/// A server updating users' rows conditionally.
#[derive(Debug)]
pub struct UserDocumentServer<R: Runtime> {
    db: SqlConnection<R>,
}

const SCHEMA: Schema = Schema {
    create: &["CREATE TABLE users (id VARCHAR(64) PRIMARY KEY, team VARCHAR(64))"],
    seed,
    membership: "SELECT team, id FROM users WHERE team IS NOT NULL",
};

/// A row for every user, with the team of the initial membership, if any.
fn seed(initial: &[(TeamId, UserId)]) -> Vec<String> {
    let rows = every_user()
        .map(|user| {
            let team = initial.iter().find(|(_, member)| *member == user);
            format!(
                "({}, {})",
                Value::from(user).literal(),
                Value::from(team.map(|(team, _)| *team)).literal()
            )
        })
        .collect();
    insert_rows("users", "id, team", rows)
}

impl<R: Runtime> Server for UserDocumentServer<R> {
    fn join(&mut self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        let update = Statement::new(
            "update",
            "UPDATE users SET team = $2 WHERE id = $1 AND team IS NULL",
        )
        .reads(user)
        .writes(user)
        .model(Operation::UpdateTeam {
            user,
            team: Some(team),
            where_team: None,
        });
        match self.db.execute(&update, &[user.into(), team.into()])? {
            0 => Err(JoinError::AlreadyOnSomeTeam),
            _ => Ok(()),
        }
    }

    fn leave(&mut self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        let update = Statement::new(
            "update",
            "UPDATE users SET team = NULL WHERE id = $1 AND team = $2",
        )
        .writes(user)
        .model(Operation::UpdateTeam {
            user,
            team: None,
            where_team: Some(team),
        });
        match self.db.execute(&update, &[user.into(), team.into()])? {
            0 => Err(JoinError::NotOnTeam),
            _ => Ok(()),
        }
    }
}

impl<R: Runtime> JoinService<R> for UserDocument {
    type Database = SqlDatabase<R>;
    type Server = UserDocumentServer<R>;

    fn name(&self) -> String {
        "user-document".to_string()
    }

    fn open_database(
        &self,
        initial: &[(TeamId, UserId)],
        recording: Recording,
    ) -> Arc<SqlDatabase<R>> {
        open(&self.target, SCHEMA, initial, recording)
    }

    fn start_server(&self, database: &Arc<SqlDatabase<R>>, id: ServerId) -> UserDocumentServer<R> {
        UserDocumentServer {
            db: connect(database, id),
        }
    }
}
