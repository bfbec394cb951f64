//! What must hold after every step: "a user is on at most one team", always, and whatever
//! invariants over membership a user adds to a check.

use joincheck_models::domain::{user_on_several_teams, TeamId, UserId};
use joincheck_models::operation::Step;
use joincheck_models::verdict::{Violation, AT_MOST_ONE_TEAM};
use std::fmt;
use std::sync::Arc;

/// What an added invariant says of one membership snapshot: what is wrong, or `None`.
type Judge = dyn Fn(&[(TeamId, UserId)]) -> Option<String> + Send + Sync;

/// A named invariant over team membership, judged after every step, as the built-in one is.
///
/// ```
/// use joincheck::check::Invariant;
///
/// let small_teams = Invariant::at_most_members(2);
/// assert_eq!(small_teams.name(), "a team has at most 2 members");
/// ```
#[derive(Clone)]
pub struct Invariant {
    name: String,
    judge: Arc<Judge>,
}

impl fmt::Debug for Invariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Invariant").field(&self.name).finish()
    }
}

impl Invariant {
    /// The invariant `name`: `broken` takes team membership as sorted `(team, user)` pairs and
    /// says what is wrong with it, or `None` when the invariant holds there.
    pub fn new(
        name: impl Into<String>,
        broken: impl Fn(&[(TeamId, UserId)]) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        Invariant {
            name: name.into(),
            judge: Arc::new(broken),
        }
    }

    /// "A team has at most `limit` members": a capacity a service may promise.
    pub fn at_most_members(limit: usize) -> Self {
        let plural = if limit == 1 { "" } else { "s" };
        Invariant::new(
            format!("a team has at most {limit} member{plural}"),
            move |membership| {
                let mut teams: Vec<TeamId> = membership.iter().map(|(team, _)| *team).collect();
                teams.dedup();
                teams.into_iter().find_map(|team| {
                    let members = membership.iter().filter(|(t, _)| *t == team).count();
                    (members > limit).then(|| format!("{team} has {members} members"))
                })
            },
        )
    }

    /// The invariant's name, as verdicts and traces print it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What is wrong with `membership`, if this invariant is broken there.
    pub fn broken(&self, membership: &[(TeamId, UserId)]) -> Option<String> {
        (self.judge)(membership)
    }
}

/// The invariants one check judges: "a user is on at most one team" always and first, then the
/// added ones in the order they were added.
#[derive(Clone, Debug, Default)]
pub struct Invariants(Vec<Invariant>);

impl Invariants {
    /// These invariants and `invariant`.
    pub fn and(mut self, invariant: Invariant) -> Self {
        self.0.push(invariant);
        self
    }

    /// The invariants added to the built-in one.
    pub fn added(&self) -> &[Invariant] {
        &self.0
    }

    /// Every invariant's name, the built-in one first.
    pub fn names(&self) -> Vec<&str> {
        let added = self.0.iter().map(Invariant::name);
        std::iter::once(AT_MOST_ONE_TEAM).chain(added).collect()
    }

    /// How the first broken invariant is broken in `membership` (sorted or not), if one is.
    pub fn broken(&self, membership: &[(TeamId, UserId)]) -> Option<Violation> {
        let several = membership
            .iter()
            .map(|(team, user)| (*team, std::slice::from_ref(user)));
        if let Some(violation) = user_on_several_teams(several) {
            return Some(violation.into());
        }
        let mut sorted = membership.to_vec();
        sorted.sort();
        sorted.dedup();
        self.0.iter().find_map(|invariant| {
            Some(Violation::Invariant {
                name: invariant.name.clone(),
                detail: invariant.broken(&sorted)?,
            })
        })
    }

    /// The first of `steps` after which an invariant is broken, with its index.
    pub fn first_broken_step(&self, steps: &[Step]) -> Option<(usize, Violation)> {
        steps
            .iter()
            .enumerate()
            .find_map(|(index, step)| Some((index, self.broken(&step.membership_after)?)))
    }

    /// What a verdict's scope adds when invariants were added: ` (invariants: …)`.
    pub(crate) fn scope(&self) -> String {
        match self.0.is_empty() {
            true => String::new(),
            false => format!(" (invariants: {})", self.names().join("; ")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_invariant_comes_first_then_the_added_ones_in_order() {
        let (a, b) = (TeamId(0), TeamId(1));
        let (sue, bob, ann) = (UserId(0), UserId(1), UserId(2));
        let invariants = Invariants::default()
            .and(Invariant::at_most_members(1))
            .and(Invariant::new("nobody on team-B", move |m| {
                m.iter()
                    .any(|(t, _)| *t == b)
                    .then(|| "team-B has members".into())
            }));
        assert_eq!(
            invariants
                .broken(&[(a, sue), (b, bob)])
                .unwrap()
                .to_string(),
            "team-B has members"
        );
        let full = invariants.broken(&[(b, bob), (a, sue), (a, ann)]).unwrap();
        assert_eq!(full.invariant(), "a team has at most 1 member");
        assert_eq!(full.to_string(), "team-A has 2 members");
        let twice = invariants.broken(&[(a, sue), (b, sue)]).unwrap();
        assert_eq!(twice.invariant(), AT_MOST_ONE_TEAM);
        assert_eq!(invariants.broken(&[(a, sue)]), None);
        assert_eq!(
            invariants.scope(),
            " (invariants: a user is on at most one team; a team has at most 1 member; nobody on \
             team-B)"
        );
        assert_eq!(Invariants::default().scope(), "");
    }
}
