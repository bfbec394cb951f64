//! The teams collection: one document per team with its members, as in the article's Mongo code.

use super::{Database, Guarded, Membership, Recording, StepLog};
use crate::runtime::Runtime;
use joincheck_models::domain::{ServerId, TeamId, UserId};
use joincheck_models::operation::{OpResult, Operation, Step};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// Teams and their member lists. Each method is one database call.
pub struct TeamsCollection<R: Runtime> {
    teams: Guarded<R, Teams>,
}

impl<R: Runtime> fmt::Debug for TeamsCollection<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TeamsCollection").finish_non_exhaustive()
    }
}

/// Member lists by team. `$push` appends, so a list may hold a user twice.
#[derive(Default)]
pub(super) struct Teams(BTreeMap<TeamId, Vec<UserId>>);

impl Teams {
    /// Teams holding the given `(team, user)` memberships.
    pub(super) fn with_members(initial: &[(TeamId, UserId)]) -> Teams {
        let mut teams = Teams::default();
        for (team, user) in initial {
            teams.0.entry(*team).or_default().push(*user);
        }
        teams
    }

    /// findOne by member: the first team (in team order) that lists `user`.
    pub(super) fn team_of(&self, user: UserId) -> Option<TeamId> {
        self.0
            .iter()
            .find(|(_, members)| members.contains(&user))
            .map(|(team, _)| *team)
    }

    /// `$push`: appends `user` to `team`'s members, whatever is there already.
    pub(super) fn push(&mut self, team: TeamId, user: UserId) {
        self.0.entry(team).or_default().push(user);
    }

    /// `$pull`: removes every occurrence of `user` from `team`; `false` when there was none.
    pub(super) fn pull(&mut self, team: TeamId, user: UserId) -> bool {
        let members = self.0.entry(team).or_default();
        let before = members.len();
        members.retain(|member| *member != user);
        members.len() < before
    }
}

impl Membership for Teams {
    fn membership(&self) -> Vec<(TeamId, UserId)> {
        let mut pairs: Vec<(TeamId, UserId)> = self
            .0
            .iter()
            .flat_map(|(team, members)| members.iter().map(move |user| (*team, *user)))
            .collect();
        pairs.sort();
        pairs.dedup();
        pairs
    }
}

impl<R: Runtime> TeamsCollection<R> {
    /// A collection holding the given `(team, user)` memberships; seeding is not recorded.
    pub fn with_members(initial: &[(TeamId, UserId)], recording: Recording) -> Self {
        TeamsCollection {
            teams: Guarded::new(Teams::with_members(initial), recording),
        }
    }

    /// A connection for `server`: the history attributes its operations to that server.
    pub fn connect(self: &Arc<Self>, server: ServerId) -> TeamsConnection<R> {
        TeamsConnection {
            collection: Arc::clone(self),
            server,
        }
    }

    /// Every team's members, in team order.
    pub fn snapshot(&self) -> Vec<(TeamId, Vec<UserId>)> {
        self.teams
            .inspect(|teams| teams.0.iter().map(|(t, m)| (*t, m.clone())).collect())
    }
}

impl<R: Runtime> Database for TeamsCollection<R> {
    fn membership(&self) -> Vec<(TeamId, UserId)> {
        self.teams.membership()
    }

    fn history(&self) -> Vec<Step> {
        self.teams.history()
    }

    fn enforce_order(&self, order: Vec<ServerId>) -> bool {
        self.teams.enforce_order(order)
    }

    fn server_finished(&self, server: ServerId) {
        self.teams.server_finished(server)
    }

    fn order_diverged(&self) -> Option<String> {
        self.teams.order_diverged()
    }
}

impl<R: Runtime> StepLog for TeamsCollection<R> {
    fn record(&self, server: ServerId, operation: Operation, result: OpResult) {
        self.teams.record(server, operation, result);
    }
}

/// One server's connection to the teams collection.
pub struct TeamsConnection<R: Runtime> {
    collection: Arc<TeamsCollection<R>>,
    server: ServerId,
}

impl<R: Runtime> fmt::Debug for TeamsConnection<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TeamsConnection")
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl<R: Runtime> TeamsConnection<R> {
    /// The server this connection is, as its operations are recorded: what a service's own
    /// recorded lock names too ([`Mutex::lock_recorded`](crate::runtime::Mutex::lock_recorded)),
    /// so that a server needs to keep no id of its own.
    pub fn server(&self) -> ServerId {
        self.server
    }

    /// The database, as a history a service can write its own steps into (a recorded lock).
    pub fn log(&self) -> &dyn StepLog {
        self.collection.as_ref()
    }

    /// findOne by member: the first team (in team order) that lists `user`.
    pub fn find_team_of(&self, user: UserId) -> Option<TeamId> {
        let operation = Operation::FindTeamOf { user };
        self.collection
            .teams
            .operate(self.server, operation, |teams| {
                let team = teams.team_of(user);
                (team, OpResult::Found(team))
            })
    }

    /// `$push`: appends `user` to `team`'s members, whatever is there already.
    pub fn push_member(&self, team: TeamId, user: UserId) {
        let operation = Operation::PushMember { team, user };
        self.collection
            .teams
            .operate(self.server, operation, |teams| {
                teams.push(team, user);
                ((), OpResult::Pushed)
            })
    }

    /// `$pull`: removes every occurrence of `user` from `team`; `false` when there was none.
    pub fn pull_member(&self, team: TeamId, user: UserId) -> bool {
        let operation = Operation::PullMember { team, user };
        self.collection
            .teams
            .operate(self.server, operation, |teams| {
                let pulled = teams.pull(team, user);
                (pulled, OpResult::Pulled(pulled))
            })
    }
}
