//! The article's fix: membership is the fold of an event stream, and a server appends its
//! `Joined` event only at the version it read. If another append got there first the store
//! answers `Conflict`, and the server reads again and decides again.
//!
//! Retries need no cap: a conflict means another append succeeded, and with finitely many
//! requests there are finitely many successful appends.

use super::{JoinService, Server};
use crate::runtime::Runtime;
use crate::store::{EventStore, EventStoreConnection};
use joincheck_models::domain::{fold_membership, Event, JoinError, ServerId, TeamId, UserId};
use joincheck_models::operation::StreamKey;
use std::fmt;
use std::sync::Arc;

/// Which stream an append is checked against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Streams {
    /// One stream for all events: every concurrent append conflicts.
    Global,
    /// One stream per user: only appends about the same user conflict.
    PerUser,
}

/// The event-sourced protocol, with its choice of streams.
#[derive(Clone, Copy, Debug)]
pub struct EventSourced {
    /// One global stream or one per user.
    pub streams: Streams,
}

impl EventSourced {
    /// Every event in one global stream, as in the article.
    pub const GLOBAL: EventSourced = EventSourced {
        streams: Streams::Global,
    };
    /// One stream per user: joins of different users never conflict.
    pub const PER_USER: EventSourced = EventSourced {
        streams: Streams::PerUser,
    };
}

/// A server running the event-sourced protocol.
pub struct EventSourcedServer<R: Runtime> {
    events: EventStoreConnection<R>,
    streams: Streams,
    conflicts: u64,
}

impl<R: Runtime> fmt::Debug for EventSourcedServer<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventSourcedServer")
            .field("events", &self.events)
            .finish_non_exhaustive()
    }
}

impl<R: Runtime> EventSourcedServer<R> {
    /// How many appends of this server met a conflict and were retried.
    pub fn conflicts(&self) -> u64 {
        self.conflicts
    }

    fn stream_of(&self, user: UserId) -> StreamKey {
        match self.streams {
            Streams::Global => StreamKey::Global,
            Streams::PerUser => StreamKey::User(user),
        }
    }

    /// Reads the user's stream, decides, and appends at the version read; on conflict, again.
    fn decide_and_append(
        &mut self,
        user: UserId,
        decide: impl Fn(Option<TeamId>) -> Result<Event, JoinError>,
    ) -> Result<(), JoinError> {
        let stream = self.stream_of(user);
        loop {
            let (version, events) = self.events.read(stream);
            let current = fold_membership(&events)
                .into_iter()
                .find(|(_, member)| *member == user)
                .map(|(team, _)| team);
            let event = decide(current)?;
            match self.events.append(stream, version, vec![event]) {
                Ok(_) => return Ok(()),
                Err(_conflict) => self.conflicts += 1,
            }
        }
    }
}

impl<R: Runtime> Server for EventSourcedServer<R> {
    fn join(&mut self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        self.decide_and_append(user, |current| match current {
            Some(current) => Err(JoinError::AlreadyOnTeam { team: current }),
            None => Ok(Event::Joined { user, team }),
        })
    }

    fn leave(&mut self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        self.decide_and_append(user, |current| match current {
            Some(current) if current == team => Ok(Event::Left { user, team }),
            _ => Err(JoinError::NotOnTeam),
        })
    }
}

impl<R: Runtime> JoinService<R> for EventSourced {
    type Database = EventStore<R>;
    type Server = EventSourcedServer<R>;

    fn name(&self) -> String {
        match self.streams {
            Streams::Global => "event-sourced".to_string(),
            Streams::PerUser => "event-sourced-per-user".to_string(),
        }
    }

    fn start_server(&self, database: &Arc<EventStore<R>>, id: ServerId) -> EventSourcedServer<R> {
        EventSourcedServer {
            events: database.connect(id),
            streams: self.streams,
            conflicts: 0,
        }
    }
}
