//! A seeded workload: each worker's requests, joins, leaves and switches over the users and
//! teams, drawn from the seed alone so that one seed gives one workload on every run.

use crate::draws::Draws;
use joincheck_models::domain::{Request, TeamId, UserId};

/// One worker's requests, drawn one at a time: half joins, a quarter leaves and a quarter
/// switches (a leave and then a join of the same user to another team, by the same worker), of
/// users and teams drawn uniformly.
#[derive(Clone, Debug)]
pub struct Requests {
    draws: Draws,
    users: u8,
    teams: u8,
    /// The join that completes a switch, due next.
    pending: Option<Request>,
}

impl Requests {
    /// The requests of worker `worker` of a workload seeded with `seed`.
    pub fn new(seed: u64, worker: u32, users: u8, teams: u8) -> Requests {
        let mut mix = Draws::new(seed ^ u64::from(worker).wrapping_mul(0x2545_f491_4f6c_dd1d));
        mix.next_u64();
        Requests {
            draws: mix,
            users: users.max(1),
            teams: teams.max(1),
            pending: None,
        }
    }

    fn user(&mut self) -> UserId {
        UserId(self.draws.below(u64::from(self.users)) as u8)
    }

    fn team(&mut self) -> TeamId {
        TeamId(self.draws.below(u64::from(self.teams)) as u8)
    }
}

impl Iterator for Requests {
    type Item = Request;

    fn next(&mut self) -> Option<Request> {
        if let Some(join) = self.pending.take() {
            return Some(join);
        }
        let (user, team) = (self.user(), self.team());
        Some(match self.draws.below(4) {
            0 | 1 => Request::Join { user, team },
            2 => Request::Leave { user, team },
            _ => {
                let teams = u64::from(self.teams);
                let step = 1 + self.draws.below(teams.saturating_sub(1));
                let other = TeamId(((u64::from(team.0) + step) % teams) as u8);
                self.pending = Some(Request::Join { user, team: other });
                Request::Leave { user, team }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_seed_gives_one_workload_and_workers_differ() {
        let take = |seed, worker| {
            Requests::new(seed, worker, 4, 3)
                .take(50)
                .collect::<Vec<_>>()
        };
        assert_eq!(take(7, 0), take(7, 0));
        assert_ne!(take(7, 0), take(7, 1));
        assert_ne!(take(7, 0), take(8, 0));
    }

    #[test]
    fn a_switch_leaves_and_then_joins_the_same_user_elsewhere() {
        let requests: Vec<Request> = Requests::new(3, 0, 2, 2).take(400).collect();
        let switches = requests.windows(2).filter(|pair| match (pair[0], pair[1]) {
            (
                Request::Leave { user, team },
                Request::Join {
                    user: joined,
                    team: to,
                },
            ) => user == joined && team != to,
            _ => false,
        });
        assert!(switches.count() > 50);
        let users = requests.iter().all(|r| r.user().0 < 2 && r.team().0 < 2);
        assert!(users);
    }
}
