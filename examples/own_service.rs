//! Check your own join service with every engine, in a few lines.
//!
//! `Claim` is a service a user might write: each user has a stream in the event store, and a
//! join claims the user by appending `Joined` at the version it read. No retry: if someone else
//! appended first, the join is refused. Run with `cargo run --example own_service`; `cargo test`
//! runs it too (tests/examples.rs).

use joincheck::check::dpor::{self, DporOptions};
use joincheck::check::loom::{self, LoomOptions};
use joincheck::check::proptest::{self, ProptestOptions};
use joincheck::check::shuttle::{self, ShuttleOptions};
use joincheck::check::Scenario;
use joincheck::runtime::Runtime;
use joincheck::service::{JoinService, Server};
use joincheck::store::Recording;
use joincheck::store::{EventStore, EventStoreConnection};
use joincheck::trace;
use joincheck_models::domain::{fold_membership, Event, JoinError, ServerId, TeamId, UserId};
use joincheck_models::operation::StreamKey;
use std::sync::Arc;

/// The user's protocol: how to open its database and start a server.
#[derive(Clone, Copy)]
struct Claim;

/// One server of it.
struct ClaimServer<R: Runtime> {
    events: EventStoreConnection<R>,
}

impl<R: Runtime> Server for ClaimServer<R> {
    fn join(&mut self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        let stream = StreamKey::User(user);
        let (version, events) = self.events.read(stream);
        if let Some((current, _)) = fold_membership(&events).into_iter().next() {
            return Err(JoinError::AlreadyOnTeam { team: current });
        }
        self.events
            .append(stream, version, vec![Event::Joined { user, team }])
            .map(|_| ())
            .map_err(JoinError::from)
    }

    fn leave(&mut self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        let stream = StreamKey::User(user);
        let (version, events) = self.events.read(stream);
        if !fold_membership(&events).contains(&(team, user)) {
            return Err(JoinError::NotOnTeam);
        }
        self.events
            .append(stream, version, vec![Event::Left { user, team }])
            .map(|_| ())
            .map_err(JoinError::from)
    }
}

impl<R: Runtime> JoinService<R> for Claim {
    type Database = EventStore<R>;
    type Server = ClaimServer<R>;

    fn name(&self) -> String {
        "claim".to_string()
    }

    fn open_database(
        &self,
        initial: &[(TeamId, UserId)],
        recording: Recording,
    ) -> Arc<Self::Database> {
        Arc::new(EventStore::with_members(initial, recording))
    }

    fn start_server(&self, database: &Arc<EventStore<R>>, id: ServerId) -> ClaimServer<R> {
        ClaimServer {
            events: database.connect(id),
        }
    }
}

/// Checks `Claim` with loom, dpor, shuttle and proptest and prints the verdicts.
pub fn main() {
    // Every interleaving of three servers racing for sue (loom, and dpor, which explores one
    // per class of interleavings that differ only in the order of operations that commute),
    // many schedules of eight servers (shuttle), and generated workloads (proptest).
    let three = Scenario::contended(3, 1, 2).expect("a valid scenario");
    let eight = Scenario::contended(8, 3, 3).expect("a valid scenario");
    let verdicts = [
        loom::check(Claim, &three, &LoomOptions::default()).expect("at most 4 servers"),
        dpor::check(Claim, &three, &DporOptions::default()).expect("a valid scenario"),
        shuttle::check(Claim, &eight, &ShuttleOptions::default()),
        proptest::check(Claim, &ProptestOptions::default()),
    ];
    for verdict in &verdicts {
        println!("{:<9} {}", verdict.engine(), verdict.kind());
        if let Some(counterexample) = verdict.counterexample() {
            println!("{}", trace::text(counterexample, None));
        }
        assert_eq!(
            verdict.kind(),
            "holds",
            "a claim that never retries still holds"
        );
    }
}
