//! A statement's answer in the terms of the model operation it performs: what conformance
//! compares with the model. The statement's rows are read by position, so a statement declared
//! as a model operation selects what that operation reads, in this order:
//!
//! - the check (`FindTeamOf`): the user's teams, one per row (the first in team order counts);
//! - a read of a stream (`Read`): `kind`, `user`, `team` of each event, in version order;
//! - a read of every team stream (`ReadAll`): `kind`, `user`, `team` of each event, stream by
//!   stream in team order, each in version order.

use super::error::SqlError;
use super::sqlite::Executed;
use super::value::Row;
use joincheck_models::domain::{DatabaseError, Event, TeamId, UserId};
use joincheck_models::operation::{OpResult, Operation, StreamKey};

/// A stream's name in an events table: `log` for the one global stream, else the user's or the
/// team's name.
pub fn stream_name(stream: StreamKey) -> String {
    match stream {
        StreamKey::Global => "log".to_string(),
        StreamKey::User(user) => user.to_string(),
        StreamKey::Team(team) => team.to_string(),
    }
}

/// An event's kind in an events table.
pub fn event_kind(event: &Event) -> &'static str {
    match event {
        Event::Joined { .. } => "joined",
        Event::Left { .. } => "left",
    }
}

/// The event a row `(kind, user, team)` holds, from column `at` on.
fn event(row: &Row, at: usize) -> Option<Event> {
    let (user, team) = (row.user(at + 1)?, row.team(at + 2)?);
    match row.text(at)? {
        "joined" => Some(Event::Joined { user, team }),
        "left" => Some(Event::Left { user, team }),
        _ => None,
    }
}

/// The answer in the model's terms, when the statement is `operation` and the database can say
/// it in them: `membership_after` is what was committed after the statement, and
/// `stream_version` reads a stream's committed version (for the version an append conflicted
/// with).
pub(crate) fn model_answer(
    operation: &Operation,
    answer: &Result<Executed, SqlError>,
    membership_after: &[(TeamId, UserId)],
    stream_version: &mut dyn FnMut(StreamKey) -> Option<u64>,
) -> Option<OpResult> {
    let executed = match answer {
        Ok(executed) => executed,
        Err(error) if error.kind == DatabaseError::DuplicateKey => {
            return match operation {
                Operation::InsertMembership { user, .. } => {
                    let team = membership_after
                        .iter()
                        .find(|(_, member)| member == user)
                        .map(|(team, _)| *team)?;
                    Some(OpResult::DuplicateKey { user: *user, team })
                }
                Operation::Append { stream, .. } => Some(OpResult::Conflict {
                    actual: stream_version(*stream)?,
                }),
                _ => None,
            };
        }
        Err(_) => return None,
    };
    Some(match operation {
        Operation::FindTeamOf { .. } => {
            OpResult::Found(executed.rows.iter().filter_map(|row| row.team(0)).min())
        }
        Operation::PushMember { .. } => OpResult::Pushed,
        Operation::PullMember { .. } => OpResult::Pulled(executed.affected > 0),
        Operation::InsertMembership { .. } => OpResult::Inserted,
        Operation::DeleteMembership { .. } | Operation::UpdateTeam { .. } => OpResult::Changed {
            rows: executed.affected,
        },
        Operation::Read { .. } => {
            let events = events(&executed.rows)?;
            OpResult::Read {
                version: events.len() as u64,
                events,
            }
        }
        Operation::ReadAll => {
            let events = events(&executed.rows)?;
            let mut versions: Vec<(TeamId, u64)> = Vec::new();
            for event in &events {
                match versions.last_mut() {
                    Some((team, version)) if *team == event.team() => *version += 1,
                    _ => versions.push((event.team(), 1)),
                }
            }
            OpResult::ReadAll { events, versions }
        }
        Operation::Append {
            expected, events, ..
        } => OpResult::Appended {
            version: expected + events.len() as u64,
        },
        _ => return None,
    })
}

/// The events of rows `(kind, user, team)`, if every row is one.
fn events(rows: &[Row]) -> Option<Vec<Event>> {
    rows.iter().map(|row| event(row, 0)).collect()
}
