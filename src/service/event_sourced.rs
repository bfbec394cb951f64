//! The article's fix: membership is the fold of an event stream, and a server appends its
//! `Joined` event only at the version it read. If another append got there first the store
//! answers `Conflict`, and the server reads again and decides again.
//!
//! With [`Streams::PerTeam`] a server reads the whole log to decide but appends to its team's
//! stream at that stream's version: a plausible mistake, since two servers joining one user to
//! two teams append to two streams and neither conflicts.
//!
//! Retries need no cap: a conflict means another append succeeded, and with finitely many
//! requests there are finitely many successful appends.

use super::{JoinService, LoggedEvent, Server};
use crate::runtime::Runtime;
use crate::store::sql::stream_name;
use crate::store::{EventStore, EventStoreConnection, Recording};
use joincheck_models::domain::{fold_membership, Event, JoinError, ServerId, TeamId, UserId};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

pub use joincheck_models::protocols::Streams;

/// The event-sourced protocol, with its choice of streams.
#[derive(Clone, Copy, Debug)]
pub struct EventSourced {
    /// One global stream, one per user or one per team.
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
    /// One stream per team: joins of one user to two teams never conflict.
    pub const PER_TEAM: EventSourced = EventSourced {
        streams: Streams::PerTeam,
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

    /// Reads what a decision about `user` sees: the version of the stream its event about `team`
    /// goes to, and the events. Per team, that is the whole log and the team stream's version.
    fn read(&self, user: UserId, team: TeamId) -> (u64, Vec<Event>) {
        match self.streams {
            Streams::Global | Streams::PerUser => self.events.read(self.streams.key(user, team)),
            Streams::PerTeam => {
                let (events, versions) = self.events.read_all();
                let version = versions
                    .into_iter()
                    .find(|(stream, _)| *stream == team)
                    .map_or(0, |(_, version)| version);
                (version, events)
            }
        }
    }

    /// Reads, decides, and appends at the version read; on conflict, again.
    fn decide_and_append(
        &mut self,
        user: UserId,
        team: TeamId,
        decide: impl Fn(Option<TeamId>) -> Result<Event, JoinError>,
    ) -> Result<(), JoinError> {
        let stream = self.streams.key(user, team);
        loop {
            let (version, events) = self.read(user, team);
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
    type Database = EventStore<R>;
    type Server = EventSourcedServer<R>;

    fn name(&self) -> String {
        self.streams.protocol_name().to_string()
    }

    fn open_database(
        &self,
        initial: &[(TeamId, UserId)],
        recording: Recording,
    ) -> Arc<EventStore<R>> {
        Arc::new(EventStore::with_members(initial, recording))
    }

    fn event_log(&self, database: &EventStore<R>) -> Option<Vec<LoggedEvent>> {
        let mut versions: BTreeMap<String, u64> = BTreeMap::new();
        let logged = database
            .events()
            .into_iter()
            .map(|event| {
                let stream = stream_name(self.streams.key(event.user(), event.team()));
                let version = versions.entry(stream.clone()).or_default();
                *version += 1;
                LoggedEvent {
                    stream,
                    version: *version,
                    event,
                }
            })
            .collect();
        Some(logged)
    }

    fn start_server(&self, database: &Arc<EventStore<R>>, id: ServerId) -> EventSourcedServer<R> {
        EventSourcedServer {
            events: database.connect(id),
            streams: self.streams,
            conflicts: 0,
        }
    }
}
