//! Bugs the article's race cannot show: services that survive two servers joining one user once,
//! and break only with several conflicts, a leave, or a second request. Each is a plausible
//! service a user might write, checked here through the public API only, next to correct
//! services of the same shapes. The default generated workloads must tell them apart.

#[path = "common/dpor_vs_loom.rs"]
mod dpor_vs_loom;

use dpor_vs_loom::agree;
use joincheck::check::loom::{self, LoomOptions};
use joincheck::check::proptest::{self, ProptestOptions};
use joincheck::check::shuttle::{self, EncodedSchedule};
use joincheck::check::Scenario;
use joincheck::runtime::{Mutex, Runtime, Shuttle};
use joincheck::service::{EventSourced, JoinService, Server};
use joincheck::store::{Database, EventStore, EventStoreConnection, Recording};
use joincheck::store::{TeamsCollection, TeamsConnection};
use joincheck_models::domain::{
    fold_membership, Event, JoinError, Request, ServerId, TeamId, UserId,
};
use joincheck_models::operation::{Step, StreamKey};
use joincheck_models::verdict::{Replay, Verdict};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// The team `user` is on after `events`, if any.
fn team_of(user: UserId, events: &[Event]) -> Option<TeamId> {
    let membership = fold_membership(events);
    membership
        .into_iter()
        .find(|(_, u)| *u == user)
        .map(|(team, _)| team)
}

// ---------------------------------------------------------------------------------------------
// Bug 1: an event-sourced join that gives up re-deciding after a few conflicts.

/// Event-sourced on one global stream, like the article's fix, but with a retry limit: after
/// three conflicting appends a request "writes anyway", appending the event it last decided on
/// at whatever version the stream has reached. The store has no unchecked append, so writing
/// anyway is appending at the version the conflict reported.
///
/// Why it looks right: a conflict almost always means another user's event landed, and the
/// limit keeps a busy stream from starving a request. Why it is wrong: the third conflict may be
/// another server's join of the same user, and the stale decision is written over it. Two
/// servers with one request each can cause one conflict at most, so the article's race passes.
#[derive(Clone, Copy)]
struct RetryThenWrite;

/// Conflicting appends a request re-decides after, before it writes anyway.
const ATTEMPTS: u32 = 3;

struct RetryThenWriteServer<R: Runtime> {
    events: EventStoreConnection<R>,
}

impl<R: Runtime> RetryThenWriteServer<R> {
    fn decide_and_append(
        &mut self,
        user: UserId,
        decide: impl Fn(Option<TeamId>) -> Result<Event, JoinError>,
    ) -> Result<(), JoinError> {
        let mut conflicts = 0;
        loop {
            let (version, events) = self.events.read(StreamKey::Global);
            let event = decide(team_of(user, &events))?;
            let Err(mut conflict) = self.events.append(StreamKey::Global, version, vec![event])
            else {
                return Ok(());
            };
            conflicts += 1;
            if conflicts == ATTEMPTS {
                while let Err(again) =
                    self.events
                        .append(StreamKey::Global, conflict.actual, vec![event])
                {
                    conflict = again;
                }
                return Ok(());
            }
        }
    }
}

impl<R: Runtime> Server for RetryThenWriteServer<R> {
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

impl<R: Runtime> JoinService<R> for RetryThenWrite {
    type Database = EventStore<R>;
    type Server = RetryThenWriteServer<R>;

    fn name(&self) -> String {
        "retry-then-write".to_string()
    }

    fn open_database(
        &self,
        initial: &[(TeamId, UserId)],
        recording: Recording,
    ) -> Arc<Self::Database> {
        Arc::new(EventStore::with_members(initial, recording))
    }

    fn start_server(&self, database: &Arc<EventStore<R>>, id: ServerId) -> Self::Server {
        RetryThenWriteServer {
            events: database.connect(id),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The teams collection with a lock service next to it, for the lock-based services.

/// What a lock guards: every join, or the joins of one user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Locking {
    /// One lock for every join.
    Global,
    /// One lock per user: joins of different users do not wait for each other.
    PerUser,
}

impl Locking {
    /// The name of the lock a join of `user` takes.
    fn lock_name(self, user: UserId) -> Option<UserId> {
        match self {
            Locking::Global => None,
            Locking::PerUser => Some(user),
        }
    }
}

/// A lock of the lock service, shared by the servers that take it.
type Lock<R> = Arc<Mutex<R, ()>>;

/// The teams collection and a lock service (think of a Redis lock), shared by every server.
/// Locks are created on first use under their name; `None` names the global lock.
struct TeamsWithLocks<R: Runtime> {
    teams: Arc<TeamsCollection<R>>,
    locks: Mutex<R, BTreeMap<Option<UserId>, Lock<R>>>,
}

impl<R: Runtime> TeamsWithLocks<R> {
    fn lock(&self, name: Option<UserId>) -> Lock<R> {
        let mut locks = self.locks.lock();
        Arc::clone(
            locks
                .entry(name)
                .or_insert_with(|| Arc::new(Mutex::new(()))),
        )
    }
}

impl<R: Runtime> TeamsWithLocks<R> {
    /// A fresh database holding `initial`.
    pub fn open(initial: &[(TeamId, UserId)], recording: Recording) -> Self {
        TeamsWithLocks {
            teams: Arc::new(TeamsCollection::with_members(initial, recording)),
            locks: Mutex::new(BTreeMap::new()),
        }
    }
}

impl<R: Runtime> Database for TeamsWithLocks<R> {
    fn membership(&self) -> Vec<(TeamId, UserId)> {
        self.teams.membership()
    }

    fn history(&self) -> Vec<Step> {
        self.teams.history()
    }
}

/// The article's check-then-push with the check and the push under one lock: correct, whether
/// the lock is global or per user. A leave only pulls, which can never put a user on a second
/// team, so it takes no lock.
#[derive(Clone, Copy)]
struct Locked(Locking);

struct LockedServer<R: Runtime> {
    database: Arc<TeamsWithLocks<R>>,
    teams: TeamsConnection<R>,
    locking: Locking,
}

impl<R: Runtime> LockedServer<R> {
    fn start(database: &Arc<TeamsWithLocks<R>>, id: ServerId, locking: Locking) -> Self {
        LockedServer {
            database: Arc::clone(database),
            teams: database.teams.connect(id),
            locking,
        }
    }

    /// Check, then push. Safe only while the caller holds the user's lock.
    fn check_then_push(&self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        if let Some(current) = self.teams.find_team_of(user) {
            return Err(JoinError::AlreadyOnTeam { team: current });
        }
        self.teams.push_member(team, user);
        Ok(())
    }

    fn pull(&self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        match self.teams.pull_member(team, user) {
            true => Ok(()),
            false => Err(JoinError::NotOnTeam),
        }
    }
}

impl<R: Runtime> Server for LockedServer<R> {
    fn join(&mut self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        let lock = self.database.lock(self.locking.lock_name(user));
        let _held = lock.lock();
        self.check_then_push(user, team)
    }

    fn leave(&mut self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        self.pull(user, team)
    }
}

impl<R: Runtime> JoinService<R> for Locked {
    type Database = TeamsWithLocks<R>;
    type Server = LockedServer<R>;

    fn name(&self) -> String {
        match self.0 {
            Locking::Global => "global-lock".to_string(),
            Locking::PerUser => "per-user-lock".to_string(),
        }
    }

    fn open_database(
        &self,
        initial: &[(TeamId, UserId)],
        recording: Recording,
    ) -> Arc<Self::Database> {
        Arc::new(TeamsWithLocks::open(initial, recording))
    }

    fn start_server(&self, database: &Arc<TeamsWithLocks<R>>, id: ServerId) -> Self::Server {
        LockedServer::start(database, id, self.0)
    }
}

// ---------------------------------------------------------------------------------------------
// Bug 2: a per-server cache of users known to be on no team.

/// The global-lock service with a per-server cache: a server remembers the users it saw on no
/// team (a leave that found the user on no team, or its own successful leave) and joins such a
/// user later without the lock and without the check.
///
/// Why it looks right: on one server the cache is exact, and a leave checks where the user is
/// before pulling, so the cache only ever holds what the database said. Why it is wrong: the
/// cache is this server's, and another server may join the user after it was cached. The
/// article's race has no leave, so it passes.
#[derive(Clone, Copy)]
struct RemembersFreeUsers;

struct RemembersFreeUsersServer<R: Runtime> {
    locked: LockedServer<R>,
    on_no_team: BTreeSet<UserId>,
}

impl<R: Runtime> Server for RemembersFreeUsersServer<R> {
    fn join(&mut self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        if self.on_no_team.remove(&user) {
            self.locked.teams.push_member(team, user);
            return Ok(());
        }
        self.locked.join(user, team)
    }

    fn leave(&mut self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        match self.locked.teams.find_team_of(user) {
            Some(current) if current == team => {
                let left = self.locked.pull(user, team);
                self.on_no_team.insert(user);
                left
            }
            Some(_) => Err(JoinError::NotOnTeam),
            None => {
                self.on_no_team.insert(user);
                Err(JoinError::NotOnTeam)
            }
        }
    }
}

impl<R: Runtime> JoinService<R> for RemembersFreeUsers {
    type Database = TeamsWithLocks<R>;
    type Server = RemembersFreeUsersServer<R>;

    fn name(&self) -> String {
        "remembers-free-users".to_string()
    }

    fn open_database(
        &self,
        initial: &[(TeamId, UserId)],
        recording: Recording,
    ) -> Arc<Self::Database> {
        Arc::new(TeamsWithLocks::open(initial, recording))
    }

    fn start_server(&self, database: &Arc<TeamsWithLocks<R>>, id: ServerId) -> Self::Server {
        RemembersFreeUsersServer {
            locked: LockedServer::start(database, id, Locking::Global),
            on_no_team: BTreeSet::new(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Bug 3: switching teams through a separate, unlocked check.

/// The per-user-lock service with a "switch team" path added later. The UI's *move to team*
/// sends a leave and then a join of the same user to the same server. The join that completes
/// such a switch (the server's previous request pulled this user) checks and pushes without the
/// lock: the leave needed no lock, and the developer reasoned that nobody else joins a user in
/// the middle of her own switch, and that the check is still there.
///
/// Why it is wrong: another server's locked join of the user can check between this check and
/// this push. A first join always takes the lock, so the article's race passes.
#[derive(Clone, Copy)]
struct SwitchWithoutLock;

struct SwitchWithoutLockServer<R: Runtime> {
    locked: LockedServer<R>,
    /// The user this server's previous request pulled from a team, if it did.
    switching: Option<UserId>,
}

impl<R: Runtime> Server for SwitchWithoutLockServer<R> {
    fn join(&mut self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        match self.switching.take() == Some(user) {
            true => self.locked.check_then_push(user, team),
            false => self.locked.join(user, team),
        }
    }

    fn leave(&mut self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        let left = self.locked.pull(user, team);
        self.switching = left.is_ok().then_some(user);
        left
    }
}

impl<R: Runtime> JoinService<R> for SwitchWithoutLock {
    type Database = TeamsWithLocks<R>;
    type Server = SwitchWithoutLockServer<R>;

    fn name(&self) -> String {
        "switch-without-lock".to_string()
    }

    fn open_database(
        &self,
        initial: &[(TeamId, UserId)],
        recording: Recording,
    ) -> Arc<Self::Database> {
        Arc::new(TeamsWithLocks::open(initial, recording))
    }

    fn start_server(&self, database: &Arc<TeamsWithLocks<R>>, id: ServerId) -> Self::Server {
        SwitchWithoutLockServer {
            locked: LockedServer::start(database, id, Locking::PerUser),
            switching: None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The checks.

const SUE: UserId = UserId(0);
const JOHN: UserId = UserId(1);
const A: TeamId = TeamId(0);
const B: TeamId = TeamId(1);

fn join(user: UserId, team: TeamId) -> Request {
    Request::Join { user, team }
}

fn leave(user: UserId, team: TeamId) -> Request {
    Request::Leave { user, team }
}

/// Over sue and john and teams A and B, from no memberships.
fn workload(servers: Vec<Vec<Request>>) -> Scenario {
    Scenario::new(2, 2, servers, Vec::new()).unwrap()
}

/// The default generated workloads refute `service`: the counterexample names it, puts a user on
/// two teams (`broken`), shrank to `shrunk`, and its schedule replays to the same violation.
fn refuted_by_default_workloads<S>(service: S, shrunk: Scenario, broken: &str)
where
    S: JoinService<Shuttle> + Clone,
{
    let name = service.name();
    let verdict = proptest::check(service.clone(), &ProptestOptions::default());
    let Verdict::Violated { counterexample, .. } = &verdict else {
        panic!("{name}: expected a violation, got {verdict:?}");
    };
    assert_eq!(counterexample.protocol, name);
    assert_eq!(counterexample.violation.to_string(), broken);
    assert_eq!(counterexample.parameters, shrunk.to_string());
    let Replay::ShuttleSchedule { schedule, .. } = &counterexample.replay else {
        panic!(
            "{name}: not a shuttle schedule: {:?}",
            counterexample.replay
        );
    };
    let replayed = shuttle::replay(service, &shrunk, &EncodedSchedule(schedule.clone())).unwrap();
    assert_eq!(replayed.violation(), Some(counterexample.violation.clone()));
}

/// Three conflicts in one join need three other appends: server-2's join of john to team-B
/// meets server-3's join of sue, then server-1's leave of sue and server-3's join of her again,
/// then server-1's join of john to team-A, and writes anyway.
#[test]
fn retry_then_write_is_refuted() {
    let shrunk = workload(vec![
        vec![leave(SUE, A), leave(JOHN, A), join(JOHN, A)],
        vec![join(JOHN, B)],
        vec![join(SUE, A), leave(SUE, A), join(SUE, A)],
    ]);
    refuted_by_default_workloads(RetryThenWrite, shrunk, "john ∈ {team-A, team-B}");
}

/// server-2's leave finds sue on no team; server-1 joins her to team-A; server-2's join
/// trusts what it remembers.
#[test]
fn remembers_free_users_is_refuted() {
    let shrunk = workload(vec![vec![join(SUE, A)], vec![leave(SUE, A), join(SUE, B)]]);
    refuted_by_default_workloads(RemembersFreeUsers, shrunk, "sue ∈ {team-A, team-B}");
}

/// server-3 puts sue on team-B; server-2 switches her (leave team-B, join team-B), and
/// server-1's locked join of sue to team-A checks between the switch's check and its push.
#[test]
fn switch_without_lock_is_refuted() {
    let shrunk = workload(vec![
        vec![join(SUE, A)],
        vec![leave(SUE, B), join(SUE, B)],
        vec![join(SUE, B)],
    ]);
    refuted_by_default_workloads(SwitchWithoutLock, shrunk, "sue ∈ {team-A, team-B}");
}

/// The default generated workloads find no violation in `service`.
fn holds_in_default_workloads<S>(service: S)
where
    S: JoinService<Shuttle> + Clone,
{
    let name = service.name();
    let verdict = proptest::check(service, &ProptestOptions::default());
    let Verdict::Holds { scope, stats, .. } = &verdict else {
        panic!("{name}: expected holds, got {verdict:?}");
    };
    assert_eq!(stats.iterations, Some(256), "{name}");
    assert!(
        scope.starts_with("no violation in 256 generated workloads"),
        "{scope}"
    );
    assert!(scope.ends_with("evidence, not proof"), "{scope}");
}

#[test]
fn the_event_sourced_services_hold() {
    holds_in_default_workloads(EventSourced::GLOBAL);
    holds_in_default_workloads(EventSourced::PER_USER);
}

#[test]
fn a_global_lock_holds() {
    holds_in_default_workloads(Locked(Locking::Global));
}

#[test]
fn a_per_user_lock_holds() {
    holds_in_default_workloads(Locked(Locking::PerUser));
}

/// Why these bugs hide: every interleaving of the article's race is fine for each of them.
#[test]
fn every_hidden_bug_survives_every_interleaving_of_the_articles_race() {
    let scenario = Scenario::article();
    let options = LoomOptions::default();
    let verdicts = [
        (loom::check(RetryThenWrite, &scenario, &options), 30),
        (loom::check(RemembersFreeUsers, &scenario, &options), 36),
        (loom::check(SwitchWithoutLock, &scenario, &options), 36),
    ];
    for (verdict, executions) in verdicts {
        let verdict = verdict.unwrap();
        assert_eq!(verdict.kind(), "holds", "{verdict:?}");
        assert_eq!(verdict.stats().iterations, Some(executions));
    }
}

/// The DPOR engine agrees with loom on each of these services, on the article's race and on the
/// workloads that break them (the same verdict, never more executions, the same final
/// memberships), in exactly these executions.
#[test]
fn dpor_agrees_with_loom_on_every_hidden_bug_and_both_locks() {
    let article = Scenario::article();
    let remembers = workload(vec![vec![join(SUE, A)], vec![leave(SUE, A), join(SUE, B)]]);
    let switch = workload(vec![
        vec![join(SUE, A)],
        vec![leave(SUE, B), join(SUE, B)],
        vec![join(SUE, B)],
    ]);
    let both_users = workload(vec![
        vec![join(SUE, A), join(JOHN, B)],
        vec![join(JOHN, A), join(SUE, B)],
    ]);
    let executions = [
        agree(RetryThenWrite, &article, "retry-then-write, the article"),
        agree(
            RemembersFreeUsers,
            &article,
            "remembers-free-users, the article",
        ),
        agree(
            RemembersFreeUsers,
            &remembers,
            "remembers-free-users, its race",
        ),
        agree(
            SwitchWithoutLock,
            &article,
            "switch-without-lock, the article",
        ),
        agree(SwitchWithoutLock, &switch, "switch-without-lock, its race"),
        agree(Locked(Locking::Global), &both_users, "global-lock"),
        agree(Locked(Locking::PerUser), &both_users, "per-user-lock"),
    ];
    assert_eq!(executions, [4, 4, 4, 4, 52, 26, 12]);
}
