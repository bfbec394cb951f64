//! Your own store, in its own words.
//!
//! `ProfileStore` is a store a user might already have: one profile document per user, with the
//! teams the user is on and a revision that every write bumps. It offers a read, a
//! compare-and-set on the revision (an HTTP `PUT` with `If-Match`, a conditional update), and an
//! unconditional write. Built on [`Guarded`], each of its calls is one recorded operation,
//! described in the store's own words, so a counterexample reads the way its code does.
//!
//! Two services on it:
//! - `CompareAndSet` reads the profile and writes it back only if the revision is still the one
//!   it read, rereading on a conflict: loom proves it on the article's race.
//! - `BlindWrite` reads the profile and then adds the team without looking at the revision: loom
//!   refutes it, and the trace shows which read the other server's write made stale.
//!
//! Run with `cargo run --example own_store`; `cargo test` runs it too (tests/examples.rs).

use joincheck::check::dpor::{self, DporOptions};
use joincheck::check::loom::{self, LoomOptions};
use joincheck::check::Scenario;
use joincheck::runtime::Runtime;
use joincheck::service::{JoinService, Server};
use joincheck::store::{Database, Guarded, Membership, Recording};
use joincheck::trace;
use joincheck_models::domain::{JoinError, ServerId, TeamId, UserId};
use joincheck_models::operation::{CustomOperation, OpResult, Step};
use joincheck_models::verdict::Verdict;
use std::collections::BTreeMap;
use std::sync::Arc;

/// One user's profile: the teams the user is on, and how many writes it has seen.
#[derive(Clone, Debug, Default, PartialEq)]
struct Profile {
    teams: Vec<TeamId>,
    revision: u64,
}

impl Profile {
    /// `no teams, revision 0` or `team-A, revision 1`: what a read returns, in words.
    fn describe(&self) -> String {
        let teams: Vec<String> = self.teams.iter().map(ToString::to_string).collect();
        let teams = match teams.is_empty() {
            true => "no teams".to_string(),
            false => teams.join(", "),
        };
        format!("{teams}, revision {}", self.revision)
    }
}

/// Every user's profile; users without one have none yet.
#[derive(Default)]
struct Profiles(BTreeMap<UserId, Profile>);

impl Membership for Profiles {
    fn membership(&self) -> Vec<(TeamId, UserId)> {
        let mut pairs: Vec<(TeamId, UserId)> = self
            .0
            .iter()
            .flat_map(|(user, profile)| profile.teams.iter().map(move |team| (*team, *user)))
            .collect();
        pairs.sort();
        pairs
    }
}

/// The profile store. Each call is one atomic, recorded operation.
struct ProfileStore<R: Runtime> {
    profiles: Guarded<R, Profiles>,
}

impl<R: Runtime> ProfileStore<R> {
    /// A fresh database holding `initial`.
    pub fn open(initial: &[(TeamId, UserId)], recording: Recording) -> Self {
        let mut profiles = Profiles::default();
        for &(team, user) in initial {
            profiles.0.entry(user).or_default().teams.push(team);
        }
        ProfileStore {
            profiles: Guarded::new(profiles, recording),
        }
    }
}

impl<R: Runtime> Database for ProfileStore<R> {
    fn membership(&self) -> Vec<(TeamId, UserId)> {
        self.profiles.membership()
    }

    fn history(&self) -> Vec<Step> {
        self.profiles.history()
    }

    // Handing the enforced order to `Guarded` lets `joincheck replay --on-implementation`
    // style replays drive this store too.
    fn enforce_order(&self, order: Vec<ServerId>) -> bool {
        self.profiles.enforce_order(order)
    }

    fn server_finished(&self, server: ServerId) {
        self.profiles.server_finished(server)
    }

    fn order_diverged(&self) -> Option<String> {
        self.profiles.order_diverged()
    }
}

/// One server's connection: every call is attributed to that server.
struct Connection<R: Runtime> {
    store: Arc<ProfileStore<R>>,
    server: ServerId,
}

impl<R: Runtime> Connection<R> {
    /// GET the profile of `user`.
    fn read(&self, user: UserId) -> Profile {
        let operation = CustomOperation::new("read", format!("read {user}'s profile")).reads(user);
        self.store
            .profiles
            .operate(self.server, operation.into(), |profiles| {
                let profile = profiles.0.get(&user).cloned().unwrap_or_default();
                let said = OpResult::Custom(profile.describe());
                (profile, said)
            })
    }

    /// PUT `teams` as `user`'s teams if the profile is still at `revision`.
    fn compare_and_set(&self, user: UserId, revision: u64, teams: Vec<TeamId>) -> bool {
        let listed: Vec<String> = teams.iter().map(ToString::to_string).collect();
        let words = format!(
            "set {user}.teams = [{}] if revision is {revision}",
            listed.join(", ")
        );
        let operation = CustomOperation::new("cas", words).reads(user).writes(user);
        self.store
            .profiles
            .operate(self.server, operation.into(), |profiles| {
                let profile = profiles.0.entry(user).or_default();
                if profile.revision != revision {
                    let said = format!("precondition failed (revision {})", profile.revision);
                    return (false, OpResult::Custom(said));
                }
                profile.teams = teams;
                profile.revision += 1;
                let said = format!("ok (revision {})", profile.revision);
                (true, OpResult::Custom(said))
            })
    }

    /// PATCH `user`'s profile: add `team` to its teams, whatever the revision.
    fn add_team(&self, user: UserId, team: TeamId) {
        let words = format!("add {team} to {user}.teams");
        let operation = CustomOperation::new("write", words).writes(user);
        self.store
            .profiles
            .operate(self.server, operation.into(), |profiles| {
                let profile = profiles.0.entry(user).or_default();
                profile.teams.push(team);
                profile.revision += 1;
                ((), OpResult::teams_only())
            })
    }

    /// PATCH `user`'s profile: remove `team` from its teams, whatever the revision.
    fn remove_team(&self, user: UserId, team: TeamId) {
        let words = format!("remove {team} from {user}.teams");
        let operation = CustomOperation::new("write", words).writes(user);
        self.store
            .profiles
            .operate(self.server, operation.into(), |profiles| {
                let profile = profiles.0.entry(user).or_default();
                profile.teams.retain(|t| *t != team);
                profile.revision += 1;
                ((), OpResult::teams_only())
            })
    }
}

/// Join and leave with a compare-and-set on the profile's revision, rereading on a conflict.
#[derive(Clone, Copy)]
struct CompareAndSet;

/// Join by reading the profile and then adding the team without a precondition.
#[derive(Clone, Copy)]
struct BlindWrite;

/// A server of `service`, on its connection to the profile store.
struct ProfileServer<S, R: Runtime> {
    db: Connection<R>,
    _service: S,
}

impl<R: Runtime> Server for ProfileServer<CompareAndSet, R> {
    fn join(&mut self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        let db = &self.db;
        loop {
            let profile = db.read(user);
            if let Some(&current) = profile.teams.first() {
                return Err(JoinError::AlreadyOnTeam { team: current });
            }
            if db.compare_and_set(user, profile.revision, vec![team]) {
                return Ok(());
            }
        }
    }

    fn leave(&mut self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        let db = &self.db;
        loop {
            let profile = db.read(user);
            if !profile.teams.contains(&team) {
                return Err(JoinError::NotOnTeam);
            }
            let rest = profile.teams.iter().copied().filter(|t| *t != team);
            if db.compare_and_set(user, profile.revision, rest.collect()) {
                return Ok(());
            }
        }
    }
}

impl<R: Runtime> Server for ProfileServer<BlindWrite, R> {
    fn join(&mut self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        if let Some(&current) = self.db.read(user).teams.first() {
            return Err(JoinError::AlreadyOnTeam { team: current });
        }
        self.db.add_team(user, team);
        Ok(())
    }

    fn leave(&mut self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        if !self.db.read(user).teams.contains(&team) {
            return Err(JoinError::NotOnTeam);
        }
        self.db.remove_team(user, team);
        Ok(())
    }
}

/// Both services open a profile store and start a server on a connection to it.
macro_rules! on_profiles {
    ($service:ident, $name:literal) => {
        impl<R: Runtime> JoinService<R> for $service {
            type Database = ProfileStore<R>;
            type Server = ProfileServer<$service, R>;

            fn name(&self) -> String {
                $name.to_string()
            }

            fn open_database(
                &self,
                initial: &[(TeamId, UserId)],
                recording: Recording,
            ) -> Arc<ProfileStore<R>> {
                Arc::new(ProfileStore::open(initial, recording))
            }

            fn start_server(&self, store: &Arc<ProfileStore<R>>, server: ServerId) -> Self::Server {
                let store = Arc::clone(store);
                ProfileServer {
                    db: Connection { store, server },
                    _service: $service,
                }
            }
        }
    };
}

on_profiles!(CompareAndSet, "compare-and-set");
on_profiles!(BlindWrite, "blind-write");

/// loom's verdicts on the article's race (server-1: join sue → team-A; server-2: join sue →
/// team-B): the compare-and-set service's, then the blind write's.
pub fn verdicts() -> [Verdict; 2] {
    let race = Scenario::article();
    let options = LoomOptions::default();
    [
        loom::check(CompareAndSet, &race, &options).expect("two servers"),
        loom::check(BlindWrite, &race, &options).expect("two servers"),
    ]
}

/// The same with the DPOR engine. The store declares no footprints, so DPOR takes each of its
/// operations to write the whole database, and still needs fewer executions than loom (6
/// against 30): it switches servers at the store's operations only.
pub fn dpor_verdicts() -> [Verdict; 2] {
    let race = Scenario::article();
    let options = DporOptions::default();
    [
        dpor::check(CompareAndSet, &race, &options).expect("a valid scenario"),
        dpor::check(BlindWrite, &race, &options).expect("a valid scenario"),
    ]
}

/// Checks both services and prints the verdicts, with the blind write's trace.
pub fn main() {
    for verdict in verdicts().into_iter().chain(dpor_verdicts()) {
        println!("{} · {}", verdict.engine(), verdict.kind());
        match &verdict {
            Verdict::Violated { counterexample, .. } => {
                println!("{}", trace::text(counterexample, None))
            }
            Verdict::Holds { scope, stats, .. } => {
                let executions = stats.iterations.unwrap_or_default();
                println!("  {scope}: {executions} executions\n");
            }
            Verdict::Inconclusive { reason, .. } => println!("  {reason}\n"),
        }
    }
}
