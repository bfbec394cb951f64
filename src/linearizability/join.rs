//! The join service's sequential specification, one user at a time: a user's state is the team
//! they are on, if any. A join succeeds iff the user is on no team, and is refused iff they are
//! on one; a leave succeeds iff the user is on that team, and is refused otherwise.
//!
//! Requests on different users are independent, and so is the final membership: it is checked
//! user by user too, each user's requests having to end in the teams it lists for them.

use super::{Answer, CallOf, Specification};
use crate::history::join::{JoinRequest, Refusal};
use crate::history::Outcome;
use joincheck_models::domain::{
    user_on_several_teams, JoinError, OnSeveralTeams, Request, TeamId, UserId,
};
use std::collections::BTreeMap;

/// The join service's specification: who is on which team at the start, and, when it is known,
/// the membership every request must end in.
///
/// ```
/// use joincheck::linearizability::join::JoinSpec;
/// use joincheck::models::domain::{TeamId, UserId};
///
/// let (sue, john, a) = (UserId(0), UserId(1), TeamId(0));
/// let spec = JoinSpec::new()
///     .starting_with(&[(a, sue)])?
///     .ending_with(&[(a, sue), (a, john)]);
/// # Ok::<(), joincheck::models::domain::OnSeveralTeams>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct JoinSpec {
    initial: BTreeMap<UserId, TeamId>,
    ending: Option<BTreeMap<UserId, Vec<TeamId>>>,
}

impl JoinSpec {
    /// Everyone on no team at the start; any final membership.
    pub fn new() -> Self {
        JoinSpec::default()
    }

    /// Starts from `members`, `(team, user)` pairs, unless they put a user on several teams.
    pub fn starting_with(mut self, members: &[(TeamId, UserId)]) -> Result<Self, OnSeveralTeams> {
        let teams = members
            .iter()
            .map(|(team, user)| (*team, std::iter::once(user)));
        if let Some(broken) = user_on_several_teams(teams) {
            return Err(broken);
        }
        self.initial = members.iter().map(|&(team, user)| (user, team)).collect();
        Ok(self)
    }

    /// Requires every request to end in `members`, `(team, user)` pairs: the membership read
    /// from the database once the requests are over. A user it lists on several teams ends where
    /// no request can take them.
    pub fn ending_with(mut self, members: &[(TeamId, UserId)]) -> Self {
        let mut ending: BTreeMap<UserId, Vec<TeamId>> = BTreeMap::new();
        for &(team, user) in members {
            let teams = ending.entry(user).or_default();
            if !teams.contains(&team) {
                teams.push(team);
                teams.sort();
            }
        }
        self.ending = Some(ending);
        self
    }
}

impl Specification for JoinSpec {
    type Input = JoinRequest;
    type Ok = ();
    type Refusal = Refusal;
    type Key = UserId;
    type State = Option<TeamId>;

    fn key(&self, input: &JoinRequest) -> UserId {
        input.0.user()
    }

    fn initial(&self, user: &UserId) -> Option<TeamId> {
        self.initial.get(user).copied()
    }

    fn step(
        &self,
        state: &Option<TeamId>,
        input: &JoinRequest,
        answer: Answer<'_, (), Refusal>,
    ) -> Option<Option<TeamId>> {
        let on = *state;
        match (input.0, answer) {
            // A conflict or a stale token says "not done, try again": nothing about membership.
            (_, Answer::Refused(Refusal(JoinError::Conflict { .. })))
            | (_, Answer::Refused(Refusal(JoinError::StaleToken { .. })))
            | (_, Answer::Refused(Refusal(JoinError::Database(_)))) => Some(on),
            (Request::Join { team, .. }, Answer::Ok(())) => on.is_none().then_some(Some(team)),
            (Request::Join { .. }, Answer::Refused(Refusal(JoinError::AlreadyOnTeam { team }))) => {
                (on == Some(*team)).then_some(on)
            }
            (Request::Join { .. }, Answer::Refused(Refusal(JoinError::AlreadyOnSomeTeam))) => {
                on.is_some().then_some(on)
            }
            (Request::Join { team, .. }, Answer::Unknown) => Some(on.or(Some(team))),
            (Request::Leave { team, .. }, Answer::Ok(())) => (on == Some(team)).then_some(None),
            (Request::Leave { team, .. }, Answer::Refused(Refusal(JoinError::NotOnTeam))) => {
                (on != Some(team)).then_some(on)
            }
            (Request::Leave { team, .. }, Answer::Unknown) => {
                Some(if on == Some(team) { None } else { on })
            }
            // A join answered "not on that team", a leave "already on a team".
            (_, Answer::Refused(_)) => None,
        }
    }

    /// Every refusal: the user's team is what it was.
    fn is_read_only(&self, _: &JoinRequest, answer: Answer<'_, (), Refusal>) -> bool {
        matches!(answer, Answer::Refused(_))
    }

    fn may_end_in(&self, user: &UserId, state: &Option<TeamId>) -> bool {
        self.ending.as_ref().is_none_or(|ending| {
            let teams: &[TeamId] = ending.get(user).map_or(&[], Vec::as_slice);
            teams == state.as_slice()
        })
    }

    fn keys(&self) -> Vec<UserId> {
        let ending = self.ending.iter().flat_map(BTreeMap::keys);
        self.initial.keys().chain(ending).copied().collect()
    }

    fn describe_call(&self, call: &CallOf<Self>) -> String {
        let outcome = match &call.outcome {
            Outcome::Ok(()) => "ok".to_string(),
            Outcome::Refused(refusal) => format!("refused, {refusal}"),
            Outcome::Error(message) => format!("error, {message}"),
            Outcome::Unknown => "unknown".to_string(),
        };
        format!("{}: {outcome}", call.input)
    }

    fn describe_key(&self, user: &UserId) -> String {
        user.to_string()
    }

    fn describe_ending(&self, user: &UserId) -> String {
        let teams = self.ending.as_ref().and_then(|ending| ending.get(user));
        match teams.map(Vec::as_slice) {
            None | Some([]) => format!("{user} ends on no team"),
            Some(teams) => {
                let names: Vec<String> = teams.iter().map(ToString::to_string).collect();
                format!("{user} ends on {}", names.join(" and "))
            }
        }
    }
}
