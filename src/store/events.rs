//! The event store: streams of events, appended only at the version the writer last read.
//!
//! The article's unique index on (stream, version) is the expected-version check of
//! [`EventStoreConnection::append`]: an append succeeds only if no event landed in the stream
//! since the writer's read.

use super::{Database, Guarded, Membership, Recording, StepLog};
use crate::runtime::Runtime;
use joincheck_models::domain::{fold_membership, Event, JoinError, ServerId, TeamId, UserId};
use joincheck_models::operation::{OpResult, Operation, Step, StreamKey};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// An append was refused: the stream had moved on since the writer read it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conflict {
    /// The version the writer expected.
    pub expected: u64,
    /// The stream's version when the append arrived.
    pub actual: u64,
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "expected v{}, stream is at v{}",
            self.expected, self.actual
        )
    }
}

impl std::error::Error for Conflict {}

impl From<Conflict> for JoinError {
    fn from(conflict: Conflict) -> JoinError {
        JoinError::Conflict {
            expected: conflict.expected,
            actual: conflict.actual,
        }
    }
}

/// Every event in the order it was appended. A stream is the subsequence its key selects.
#[derive(Default)]
struct Log(Vec<Event>);

impl Log {
    fn stream(&self, key: StreamKey) -> impl Iterator<Item = &Event> {
        self.0.iter().filter(move |event| match key {
            StreamKey::Global => true,
            StreamKey::User(user) => event.user() == user,
            StreamKey::Team(team) => event.team() == team,
        })
    }

    /// A stream's version is the number of events in it.
    fn version(&self, key: StreamKey) -> u64 {
        self.stream(key).count() as u64
    }
}

impl Membership for Log {
    fn membership(&self) -> Vec<(TeamId, UserId)> {
        fold_membership(&self.0)
    }
}

/// An append-only event store with optimistic concurrency per stream.
pub struct EventStore<R: Runtime> {
    log: Guarded<R, Log>,
}

impl<R: Runtime> fmt::Debug for EventStore<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventStore").finish_non_exhaustive()
    }
}

impl<R: Runtime> EventStore<R> {
    /// A store whose log already holds `Joined` for the given memberships; seeding is not recorded.
    pub fn with_members(initial: &[(TeamId, UserId)], recording: Recording) -> Self {
        let events = initial
            .iter()
            .map(|(team, user)| Event::Joined {
                user: *user,
                team: *team,
            })
            .collect();
        EventStore {
            log: Guarded::new(Log(events), recording),
        }
    }

    /// A connection for `server`: the history attributes its operations to that server.
    pub fn connect(self: &Arc<Self>, server: ServerId) -> EventStoreConnection<R> {
        EventStoreConnection {
            store: Arc::clone(self),
            server,
        }
    }

    /// Every event, in append order.
    pub fn events(&self) -> Vec<Event> {
        self.log.inspect(|log| log.0.clone())
    }
}

impl<R: Runtime> Database for EventStore<R> {
    fn membership(&self) -> Vec<(TeamId, UserId)> {
        self.log.membership()
    }

    fn history(&self) -> Vec<Step> {
        self.log.history()
    }

    fn enforce_order(&self, order: Vec<ServerId>) -> bool {
        self.log.enforce_order(order)
    }

    fn server_finished(&self, server: ServerId) {
        self.log.server_finished(server)
    }

    fn order_diverged(&self) -> Option<String> {
        self.log.order_diverged()
    }
}

impl<R: Runtime> StepLog for EventStore<R> {
    fn record(&self, server: ServerId, operation: Operation, result: OpResult) {
        self.log.record(server, operation, result);
    }
}

/// One server's connection to the event store.
pub struct EventStoreConnection<R: Runtime> {
    store: Arc<EventStore<R>>,
    server: ServerId,
}

impl<R: Runtime> fmt::Debug for EventStoreConnection<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventStoreConnection")
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl<R: Runtime> EventStoreConnection<R> {
    /// The server this connection is, as its operations are recorded: what a service's own
    /// recorded lock names too ([`Mutex::lock_recorded`](crate::runtime::Mutex::lock_recorded)),
    /// so that a server needs to keep no id of its own.
    pub fn server(&self) -> ServerId {
        self.server
    }

    /// The database, as a history a service can write its own steps into (a recorded lock).
    pub fn log(&self) -> &dyn StepLog {
        self.store.as_ref()
    }

    /// Reads a stream: its version and its events, in order.
    pub fn read(&self, stream: StreamKey) -> (u64, Vec<Event>) {
        let operation = Operation::Read { stream };
        self.store.log.operate(self.server, operation, |log| {
            let events: Vec<Event> = log.stream(stream).copied().collect();
            let version = events.len() as u64;
            let result = OpResult::Read {
                version,
                events: events.clone(),
            };
            ((version, events), result)
        })
    }

    /// Reads every team's stream at once: all events, each stream after the other in team
    /// order, and the version of each stream (a team with no stream yet is at version 0). A store
    /// of per-team streams keeps no order across streams, so none is returned.
    pub fn read_all(&self) -> (Vec<Event>, Vec<(TeamId, u64)>) {
        self.store
            .log
            .operate(self.server, Operation::ReadAll, |log| {
                let mut streams: BTreeMap<TeamId, Vec<Event>> = BTreeMap::new();
                for event in &log.0 {
                    streams.entry(event.team()).or_default().push(*event);
                }
                let versions: Vec<(TeamId, u64)> = streams
                    .iter()
                    .map(|(team, events)| (*team, events.len() as u64))
                    .collect();
                let events: Vec<Event> = streams.into_values().flatten().collect();
                let result = OpResult::ReadAll {
                    events: events.clone(),
                    versions: versions.clone(),
                };
                ((events, versions), result)
            })
    }

    /// Appends `events` if `stream` is still at version `expected`; returns the new version.
    pub fn append(
        &self,
        stream: StreamKey,
        expected: u64,
        events: Vec<Event>,
    ) -> Result<u64, Conflict> {
        let operation = Operation::Append {
            stream,
            expected,
            events: events.clone(),
        };
        self.store.log.operate(self.server, operation, |log| {
            let actual = log.version(stream);
            if actual != expected {
                return (
                    Err(Conflict { expected, actual }),
                    OpResult::Conflict { actual },
                );
            }
            log.0.extend(events);
            let version = log.version(stream);
            (Ok(version), OpResult::Appended { version })
        })
    }
}
