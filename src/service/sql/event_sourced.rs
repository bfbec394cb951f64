//! The article's fix in SQL: membership is the fold of the events, and a server inserts its
//! event at the version it read + 1, under a unique index on `(stream, version)`: "the event
//! you're inserting immediately follows the last event you've seen". A duplicate key means
//! another server's event got there first: read again, decide again.
//!
//! With one stream per team the version read does not cover the user: two servers joining one
//! user to two teams insert into two streams, and neither meets a duplicate key.

use super::{connect, open};
use crate::runtime::Runtime;
use crate::service::{JoinService, LoggedEvent, Server};
use crate::store::sql::{event_kind, insert_rows, stream_name, Schema, SqlConnection};
use crate::store::sql::{SqlDatabase, SqlTarget, Statement, Value};
use crate::store::Recording;
use joincheck_models::domain::{fold_membership, DatabaseError, Event, JoinError};
use joincheck_models::domain::{ServerId, TeamId, UserId};
use joincheck_models::operation::Operation;
use std::collections::BTreeMap;
use std::sync::Arc;

pub use joincheck_models::protocols::Streams;

/// The event-sourced protocol in SQL, with its choice of streams.
#[derive(Clone, Debug)]
pub struct EventSourced {
    /// Where its databases are opened.
    pub target: SqlTarget,
    /// One global stream, one per user or one per team.
    pub streams: Streams,
}

/// A server appending events in SQL.
#[derive(Debug)]
pub struct EventSourcedServer<R: Runtime> {
    db: SqlConnection<R>,
    streams: Streams,
}

/// The events table: a stream's events are numbered from 1, and the primary key refuses a
/// second event at the same number.
const EVENTS: &str = "CREATE TABLE events (stream VARCHAR(64) NOT NULL, version BIGINT NOT NULL, \
     kind VARCHAR(16) NOT NULL, user_id VARCHAR(64) NOT NULL, team VARCHAR(64) NOT NULL, \
     PRIMARY KEY (stream, version))";

/// Who is on which team: the `Joined` events no later event of the same user and team undid.
const MEMBERSHIP: &str = "SELECT e.team, e.user_id FROM events e WHERE e.kind = 'joined' \
     AND NOT EXISTS (SELECT 1 FROM events l WHERE l.stream = e.stream \
     AND l.version > e.version AND l.user_id = e.user_id AND l.team = e.team)";

/// The initial memberships as `Joined` events, numbered stream by stream.
fn seed(streams: Streams, initial: &[(TeamId, UserId)]) -> Vec<String> {
    let mut versions: BTreeMap<String, u64> = BTreeMap::new();
    let rows = initial
        .iter()
        .map(|&(team, user)| {
            let stream = stream_name(streams.key(user, team));
            let version = versions.entry(stream.clone()).or_default();
            *version += 1;
            let values = [
                Value::from(stream),
                Value::from(*version),
                Value::from("joined"),
                Value::from(user),
                Value::from(team),
            ];
            let literals: Vec<String> = values.iter().map(Value::literal).collect();
            format!("({})", literals.join(", "))
        })
        .collect();
    insert_rows("events", "stream, version, kind, user_id, team", rows)
}

fn schema(streams: Streams) -> Schema {
    Schema {
        create: &[EVENTS],
        seed: match streams {
            Streams::Global => |initial| seed(Streams::Global, initial),
            Streams::PerUser => |initial| seed(Streams::PerUser, initial),
            Streams::PerTeam => |initial| seed(Streams::PerTeam, initial),
        },
        membership: MEMBERSHIP,
    }
}

impl<R: Runtime> EventSourcedServer<R> {
    /// Reads what a decision about `user` sees: the version of the stream its event about
    /// `team` goes to, and the events. Per team, that is every event and the team stream's
    /// version.
    fn read(&self, user: UserId, team: TeamId) -> Result<(u64, Vec<Event>), JoinError> {
        let stream = self.streams.key(user, team);
        let (statement, params) = match self.streams {
            Streams::Global | Streams::PerUser => (
                Statement::new(
                    "read",
                    "SELECT kind, user_id, team FROM events WHERE stream = $1 ORDER BY version",
                )
                .reads(user)
                .model(Operation::Read { stream }),
                vec![Value::from(stream_name(stream))],
            ),
            Streams::PerTeam => (
                Statement::new(
                    "read",
                    "SELECT kind, user_id, team FROM events ORDER BY stream, version",
                )
                .reads(user)
                .model(Operation::ReadAll),
                Vec::new(),
            ),
        };
        let rows = self.db.query(&statement, &params)?;
        let events: Vec<Event> = rows
            .iter()
            .filter_map(|row| {
                let (user, team) = (row.user(1)?, row.team(2)?);
                match row.text(0)? {
                    "joined" => Some(Event::Joined { user, team }),
                    _ => Some(Event::Left { user, team }),
                }
            })
            .collect();
        let version = match self.streams {
            Streams::PerTeam => events.iter().filter(|event| event.team() == team).count(),
            _ => events.len(),
        };
        Ok((version as u64, events))
    }

    /// Reads, decides, and inserts the event at the version read + 1; on a duplicate key, again.
    fn decide_and_append(
        &self,
        user: UserId,
        team: TeamId,
        decide: impl Fn(Option<TeamId>) -> Result<Event, JoinError>,
    ) -> Result<(), JoinError> {
        let stream = self.streams.key(user, team);
        loop {
            let (version, events) = self.read(user, team)?;
            let current = fold_membership(&events)
                .into_iter()
                .find(|(_, member)| *member == user)
                .map(|(team, _)| team);
            let event = decide(current)?;
            let append = Statement::new(
                "append",
                "INSERT INTO events (stream, version, kind, user_id, team) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .writes(user)
            .model(Operation::Append {
                stream,
                expected: version,
                events: vec![event],
            });
            let params = [
                Value::from(stream_name(stream)),
                Value::from(version + 1),
                Value::from(event_kind(&event)),
                Value::from(user),
                Value::from(team),
            ];
            match self.db.execute(&append, &params) {
                Ok(_) => return Ok(()),
                Err(error) if error.kind == DatabaseError::DuplicateKey => continue,
                Err(error) => return Err(error.into()),
            }
        }
    }
}

impl<R: Runtime> Server for EventSourcedServer<R> {
    fn join(&mut self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        self.decide_and_append(user, team, |current| match current {
            Some(current) => Err(JoinError::AlreadyOnTeam { team: current }),
            None => Ok(Event::Joined { user, team }),
        })
    }

    fn leave(&mut self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        self.decide_and_append(user, team, |current| match current {
            Some(current) if current == team => Ok(Event::Left { user, team }),
            _ => Err(JoinError::NotOnTeam),
        })
    }
}

impl<R: Runtime> JoinService<R> for EventSourced {
    type Database = SqlDatabase<R>;
    type Server = EventSourcedServer<R>;

    fn name(&self) -> String {
        self.streams.protocol_name().to_string()
    }

    fn open_database(
        &self,
        initial: &[(TeamId, UserId)],
        recording: Recording,
    ) -> Arc<SqlDatabase<R>> {
        open(&self.target, schema(self.streams), initial, recording)
    }

    fn event_log(&self, database: &SqlDatabase<R>) -> Option<Vec<LoggedEvent>> {
        let sql =
            "SELECT stream, version, kind, user_id, team FROM events ORDER BY stream, version";
        let rows = database.committed(sql).ok()?;
        let logged = rows
            .iter()
            .filter_map(|row| {
                let (user, team) = (row.user(3)?, row.team(4)?);
                let event = match row.text(2)? {
                    "joined" => Event::Joined { user, team },
                    _ => Event::Left { user, team },
                };
                Some(LoggedEvent {
                    stream: row.text(0)?.to_string(),
                    version: u64::try_from(row.int(1)?).ok()?,
                    event,
                })
            })
            .collect();
        Some(logged)
    }

    fn start_server(&self, database: &Arc<SqlDatabase<R>>, id: ServerId) -> EventSourcedServer<R> {
        EventSourcedServer {
            db: connect(database, id),
            streams: self.streams,
        }
    }
}
