//! The naive protocol: check, then act.
//!
//! ```text
//! check: findOne  — is the user on a team?   yes → the request ends (already on a team)
//! act:   $push    — add the user to the team  → the request ends ok
//! ```
//!
//! Shared state: each team's member set. Two servers can both check before either acts, so a
//! user ends up on two teams: the counterexample of Pete Corey's post, 4 steps long.

use crate::action::Action;
use crate::model::Outcome;
use crate::sizes::Sizes;
use crate::state::{Phase, Server, State};

/// The state after `action` by the server at `index`, or `None` when it is not enabled.
pub(crate) fn apply(
    sizes: Sizes,
    state: &State,
    index: usize,
    action: Action,
) -> Option<(State, Outcome)> {
    let server = state.servers[index];
    let mut next = *state;
    match action {
        Action::Check { user, team, .. }
            if server.phase == Phase::Idle
                && server.done < sizes.requests
                && user.0 < sizes.users
                && team.0 < sizes.teams =>
        {
            let found = state.team_of(user);
            next.servers[index] = match found {
                Some(_) => Server::idle(server.done + 1),
                None => Server {
                    phase: Phase::Checked,
                    user,
                    team,
                    ..server
                },
            };
            Some((next, Outcome::Found(found)))
        }
        Action::Act { .. } if server.phase == Phase::Checked => {
            next.members[usize::from(server.team.0)] |= 1 << server.user.0;
            next.servers[index] = Server::idle(server.done + 1);
            Some((next, Outcome::Pushed))
        }
        _ => None,
    }
}
