//! The monitor: a connection of the harness's own that samples the committed membership while
//! the workers run, and keeps each user's teams over time (what a timeline draws) and the first
//! sample that put a user on two teams.

use crate::history::Ticks;
use joincheck_models::domain::{TeamId, UserId};
use std::collections::BTreeMap;

/// A user on several teams, as a sample saw it first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FirstViolation {
    /// When the sample was taken.
    pub at: Ticks,
    /// The user.
    pub user: UserId,
    /// Every team listing the user then, in team order.
    pub teams: Vec<TeamId>,
}

/// What the monitor saw: each user's teams whenever they changed, and the first violation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Samples {
    /// How many samples were taken.
    pub taken: u64,
    /// Each user's teams, from the first sample on, at each change.
    pub changes: BTreeMap<UserId, Vec<(Ticks, Vec<TeamId>)>>,
    /// The first sample with a user on two or more teams, if one had.
    pub first_violation: Option<FirstViolation>,
}

impl Samples {
    /// Takes in a sample of the committed `membership` at `at`.
    pub fn record(&mut self, at: Ticks, membership: &[(TeamId, UserId)]) {
        self.taken += 1;
        let mut teams: BTreeMap<UserId, Vec<TeamId>> = BTreeMap::new();
        for &(team, user) in membership {
            teams.entry(user).or_default().push(team);
        }
        let users: Vec<UserId> = self.changes.keys().copied().collect();
        for user in users {
            teams.entry(user).or_default();
        }
        for (user, mut now) in teams {
            now.sort();
            now.dedup();
            if now.len() > 1 && self.first_violation.is_none() {
                self.first_violation = Some(FirstViolation {
                    at,
                    user,
                    teams: now.clone(),
                });
            }
            let changes = self.changes.entry(user).or_default();
            if changes.last().is_none_or(|(_, last)| *last != now) {
                changes.push((at, now));
            }
        }
    }

    /// `user`'s teams over time, as `(from, teams)` pairs.
    pub fn of(&self, user: UserId) -> &[(Ticks, Vec<TeamId>)] {
        self.changes.get(&user).map_or(&[], Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_keep_changes_only_and_the_first_user_on_two_teams() {
        let (sue, john, a, b) = (UserId(0), UserId(1), TeamId(0), TeamId(1));
        let mut samples = Samples::default();
        samples.record(10, &[(a, sue)]);
        samples.record(20, &[(a, sue)]);
        samples.record(30, &[(a, sue), (b, sue), (a, john)]);
        samples.record(40, &[(b, sue)]);
        assert_eq!(samples.taken, 4);
        assert_eq!(
            samples.of(sue),
            [(10, vec![a]), (30, vec![a, b]), (40, vec![b])]
        );
        assert_eq!(samples.of(john), [(30, vec![a]), (40, vec![])]);
        let first = samples.first_violation.unwrap();
        assert_eq!((first.at, first.user, first.teams), (30, sue, vec![a, b]));
    }
}
