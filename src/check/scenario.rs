//! A scenario: which requests each server handles, from which initial membership.

use joincheck_models::domain::{user_on_several_teams, Request, TeamId, UserId};
use std::fmt;

/// The most servers a scenario may have: one thread each, numbered by a `u8`.
pub const MAX_SCENARIO_SERVERS: usize = 64;

/// Servers (one thread each) with their requests, over a declared set of users and teams.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scenario {
    users: u8,
    teams: u8,
    servers: Vec<Vec<Request>>,
    initial: Vec<(TeamId, UserId)>,
}

/// Why a scenario was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScenarioError {
    /// No servers, or no requests at all.
    Empty,
    /// A request or initial membership names a user outside the declared users.
    UnknownUser(UserId),
    /// A request or initial membership names a team outside the declared teams.
    UnknownTeam(TeamId),
    /// The initial membership already breaks the invariant.
    InitialStateBroken(String),
    /// More servers than the engine can run.
    TooManyServers {
        /// Servers in the scenario.
        servers: usize,
        /// The most the engine runs.
        limit: usize,
        /// The engine.
        engine: &'static str,
    },
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScenarioError::Empty => write!(f, "the scenario has no servers or no requests"),
            ScenarioError::UnknownUser(user) => write!(f, "unknown user {user}"),
            ScenarioError::UnknownTeam(team) => write!(f, "unknown team {team}"),
            ScenarioError::InitialStateBroken(why) => {
                write!(
                    f,
                    "the initial membership already breaks the invariant: {why}"
                )
            }
            ScenarioError::TooManyServers {
                servers,
                limit,
                engine,
            } => write!(
                f,
                "{servers} servers is more than {engine} can check (at most {limit})"
            ),
        }
    }
}

impl std::error::Error for ScenarioError {}

impl Scenario {
    /// A scenario over `users` users and `teams` teams; `servers[i]` are server i's requests.
    pub fn new(
        users: u8,
        teams: u8,
        servers: Vec<Vec<Request>>,
        initial: Vec<(TeamId, UserId)>,
    ) -> Result<Scenario, ScenarioError> {
        if servers.is_empty() || servers.iter().all(Vec::is_empty) {
            return Err(ScenarioError::Empty);
        }
        if servers.len() > MAX_SCENARIO_SERVERS {
            return Err(ScenarioError::TooManyServers {
                servers: servers.len(),
                limit: MAX_SCENARIO_SERVERS,
                engine: "joincheck",
            });
        }
        let requests = servers.iter().flatten().map(|r| (r.team(), r.user()));
        for (team, user) in requests.chain(initial.iter().copied()) {
            if user.0 >= users {
                return Err(ScenarioError::UnknownUser(user));
            }
            if team.0 >= teams {
                return Err(ScenarioError::UnknownTeam(team));
            }
        }
        let pairs = initial
            .iter()
            .map(|(team, user)| (*team, std::slice::from_ref(user)));
        if let Some(broken) = user_on_several_teams(pairs) {
            return Err(ScenarioError::InitialStateBroken(broken.to_string()));
        }
        Ok(Scenario {
            users,
            teams,
            servers,
            initial,
        })
    }

    /// The article's race: server 1 adds sue to team A while server 2 adds sue to team B.
    pub fn article() -> Scenario {
        let sue = UserId(0);
        let join = |team| vec![Request::Join { user: sue, team }];
        Scenario {
            users: 1,
            teams: 2,
            servers: vec![join(TeamId(0)), join(TeamId(1))],
            initial: Vec::new(),
        }
    }

    /// Each of `servers` servers joins every user to a team: [`Scenario::round_robin`] with one
    /// request per user. Many requests, many races.
    pub fn contended(servers: u8, users: u8, teams: u8) -> Result<Scenario, ScenarioError> {
        Scenario::round_robin(servers, users, teams, users)
    }

    /// The fixed workload of the real-code engines: request `k` of server `s` (both from 0) joins
    /// user `u` to team `(s + k) mod T`, where `u = (⌊s/2⌋ + k) mod U` for an even `s` and
    /// `u = (⌊s/2⌋ − k) mod U` for an odd one.
    ///
    /// Servers come in pairs that start at the same user and put that user on different teams,
    /// so every pair races from its first request on: the workload breaks check-then-act whenever
    /// the model can (two servers, two teams). The second server of a pair walks the users
    /// backwards and each pair starts one user later, so servers ask for the users in different
    /// orders (a server that is late for one user is early for another). At 2 servers, 1 user,
    /// 2 teams and 1 request each this is [`Scenario::article`].
    pub fn round_robin(
        servers: u8,
        users: u8,
        teams: u8,
        requests: u8,
    ) -> Result<Scenario, ScenarioError> {
        // Zero users or teams still name user and team 0, which `new` refuses as unknown.
        let (user_count, team_count) = (usize::from(users.max(1)), usize::from(teams.max(1)));
        let per_server = (0..usize::from(servers))
            .map(|server| {
                let start = server / 2;
                (0..usize::from(requests))
                    .map(|k| {
                        let user = match server % 2 {
                            0 => (start + k) % user_count,
                            _ => (start + user_count - k % user_count) % user_count,
                        };
                        Request::Join {
                            user: UserId(user as u8),
                            team: TeamId(((server + k) % team_count) as u8),
                        }
                    })
                    .collect()
            })
            .collect();
        Scenario::new(users, teams, per_server, Vec::new())
    }

    /// Refuses the scenario when it has more servers than `limit` (an engine's thread limit).
    pub fn at_most_servers(&self, limit: usize, engine: &'static str) -> Result<(), ScenarioError> {
        if self.servers.len() > limit {
            return Err(ScenarioError::TooManyServers {
                servers: self.servers.len(),
                limit,
                engine,
            });
        }
        Ok(())
    }

    /// Each server's requests.
    pub fn servers(&self) -> &[Vec<Request>] {
        &self.servers
    }

    /// The memberships the database starts with.
    pub fn initial(&self) -> &[(TeamId, UserId)] {
        &self.initial
    }

    /// The declared number of users.
    pub fn users(&self) -> u8 {
        self.users
    }

    /// The declared number of teams.
    pub fn teams(&self) -> u8 {
        self.teams
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let servers: Vec<String> = self
            .servers
            .iter()
            .enumerate()
            .map(|(index, requests)| {
                let requests: Vec<String> = requests.iter().map(ToString::to_string).collect();
                format!("server-{}: {}", index + 1, requests.join(", "))
            })
            .collect();
        write!(f, "{}", servers.join("; "))?;
        if !self.initial.is_empty() {
            let initial: Vec<String> = self
                .initial
                .iter()
                .map(|(team, user)| format!("{user} ∈ {team}"))
                .collect();
            write!(f, " (initially {})", initial.join(", "))?;
        }
        Ok(())
    }
}
