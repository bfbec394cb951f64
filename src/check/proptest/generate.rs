//! The workloads proptest generates: a few servers, each with a few joins, leaves and switches,
//! from an initial membership, shrinking towards fewer servers, requests and members.

use super::{ProptestOptions, Scenario, ScenarioError};
use joincheck_models::domain::{Request, TeamId, UserId};
use proptest::prelude::*;
use std::collections::BTreeMap;

/// What a generated request asks for, before a leave knows its team.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Join the user to the team.
    Join,
    /// The user leaves the team the server believes they are on (the drawn team if it has no
    /// belief).
    Leave,
    /// Move the user to the team: a leave, as above, and then a join, one right after the other.
    Switch,
}

/// One generated request, or two for a switch.
#[derive(Clone, Copy, Debug)]
struct Intent {
    kind: Kind,
    user: UserId,
    team: TeamId,
}

/// One intent. Shrinking moves towards the first alternative, user 0 and team 0, so it prefers
/// joins of the first user to the first team. Three intents in five are joins (the invariant is
/// about joins), which makes a third of the requests leaves.
fn intent(options: &ProptestOptions) -> impl Strategy<Value = Intent> {
    let kind = match options.leaves {
        true => prop_oneof![3 => Just(Kind::Join), 1 => Just(Kind::Leave), 1 => Just(Kind::Switch)]
            .boxed(),
        false => Just(Kind::Join).boxed(),
    };
    (kind, 0..options.users.max(1), 0..options.teams.max(1)).prop_map(|(kind, user, team)| Intent {
        kind,
        user: UserId(user),
        team: TeamId(team),
    })
}

/// The team each user starts on, if any: each user is on a team with probability 1/4 (with two
/// users, close to half the workloads start with someone on a team), and shrinking (towards
/// `None`) removes them.
fn initial_teams(options: &ProptestOptions) -> BoxedStrategy<Vec<Option<TeamId>>> {
    let users = usize::from(options.users.max(1));
    if !options.initial_members {
        return Just(vec![None; users]).boxed();
    }
    let team = (0..options.teams.max(1)).prop_map(TeamId);
    prop::collection::vec(prop::option::weighted(0.25, team), users).boxed()
}

/// A generated workload, before it is checked as a [`Scenario`].
#[derive(Clone, Debug)]
pub(super) struct Workload {
    /// Who is on which team when the servers start.
    initial: Vec<(TeamId, UserId)>,
    /// Each server's requests.
    servers: Vec<Vec<Request>>,
}

impl Workload {
    /// The requests of each server's intents, at most `max_requests` per server. A leave goes to
    /// the team the server last asked the user to join, else to the user's initial team: users
    /// leave the team they are on, not a team drawn at random.
    fn new(initial: Vec<Option<TeamId>>, intents: Vec<Vec<Intent>>, max_requests: u8) -> Self {
        let initial: Vec<(TeamId, UserId)> = (0u8..)
            .zip(initial)
            .filter_map(|(user, team)| Some((team?, UserId(user))))
            .collect();
        let servers = intents
            .into_iter()
            .map(|intents| {
                let mut believed: BTreeMap<UserId, TeamId> =
                    initial.iter().map(|(team, user)| (*user, *team)).collect();
                let mut requests = Vec::new();
                for Intent { kind, user, team } in intents {
                    if kind != Kind::Join {
                        let current = believed.get(&user).copied().unwrap_or(team);
                        requests.push(Request::Leave {
                            user,
                            team: current,
                        });
                    }
                    if kind != Kind::Leave {
                        believed.insert(user, team);
                        requests.push(Request::Join { user, team });
                    }
                }
                requests.truncate(usize::from(max_requests.max(1)));
                requests
            })
            .collect();
        Workload { initial, servers }
    }

    /// Renames users and teams in order of first appearance, in the requests and then in the
    /// initial membership. Users and teams are interchangeable, so this changes no verdict, and
    /// a shrunk workload reads `sue → team-A` whichever ids it drew.
    fn by_first_appearance(self) -> Workload {
        let (mut users, mut teams): (Vec<UserId>, Vec<TeamId>) = (Vec::new(), Vec::new());
        fn index_of<T: PartialEq>(seen: &mut Vec<T>, id: T) -> u8 {
            let index = seen.iter().position(|s| *s == id).unwrap_or_else(|| {
                seen.push(id);
                seen.len() - 1
            });
            index as u8
        }
        let servers = self
            .servers
            .into_iter()
            .map(|requests| {
                let rename = |request: Request| {
                    let user = UserId(index_of(&mut users, request.user()));
                    let team = TeamId(index_of(&mut teams, request.team()));
                    match request {
                        Request::Join { .. } => Request::Join { user, team },
                        Request::Leave { .. } => Request::Leave { user, team },
                    }
                };
                requests.into_iter().map(rename).collect()
            })
            .collect();
        let mut initial: Vec<(TeamId, UserId)> = self
            .initial
            .into_iter()
            .map(|(team, user)| {
                (
                    TeamId(index_of(&mut teams, team)),
                    UserId(index_of(&mut users, user)),
                )
            })
            .collect();
        initial.sort();
        Workload { initial, servers }
    }

    pub(super) fn scenario(self, users: u8, teams: u8) -> Result<Scenario, ScenarioError> {
        let Workload { initial, servers } = self.by_first_appearance();
        Scenario::new(users, teams, servers, initial)
    }
}

/// Workloads: 2..=max_servers servers with 1..=max_requests intents each (cut to max_requests
/// requests), from initial memberships where each user is on at most one team. Each request
/// draws its user anew, so servers ask for the users in different orders. Shrinking removes
/// servers and requests, tries switches and leaves as joins, and drops initial members.
pub(super) fn workload(options: &ProptestOptions) -> impl Strategy<Value = Workload> {
    let max_requests = options.max_requests.max(1);
    let intents = 1..=usize::from(max_requests);
    let servers = 2..=usize::from(options.max_servers.max(2));
    let one_server = prop::collection::vec(intent(options), intents);
    let servers = prop::collection::vec(one_server, servers);
    (initial_teams(options), servers)
        .prop_map(move |(initial, intents)| Workload::new(initial, intents, max_requests))
}
