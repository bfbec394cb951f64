//! The naive protocol: check, then act.
//!
//! ```text
//! check: findOne  — is the user on a team?   yes → the request ends (already on a team)
//! act:   $push    — add the user to the team  → the request ends ok
//! pull:  $pull    — a leave, in one step      → the request ends (ok, or not a member)
//! ```
//!
//! Shared state: each team's member set. Two servers can both check before either acts, so a
//! user ends up on two teams: the counterexample of Pete Corey's post, 4 steps long.

use crate::action::Action;
use crate::domain::{Request, ServerId, TeamId, UserId};
use crate::operation::{OpResult, Operation};
use crate::protocol::{Database, JoinProtocol};
use crate::renaming::Renaming;
use crate::sizes::Sizes;
use crate::state::{Phase, Server, State};

/// Check-then-act over each team's member set.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Naive;

/// A naive action as the database saw it: the operation's arguments and its answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Answer {
    /// findOne found `user` on this team, or on none.
    Found { user: UserId, team: Option<TeamId> },
    /// $push of `user` into `team` done.
    Pushed { user: UserId, team: TeamId },
    /// $pull of `user` from `team` done; `pulled` when the user was a member.
    Pulled {
        user: UserId,
        team: TeamId,
        pulled: bool,
    },
}

impl Naive {
    /// The state after `action`, and what the database answered; `None` when it is not enabled.
    ///
    /// Always inlined: `next_state` then builds the successor in place, where a call would copy
    /// it out of the returned pair for every successor the checker generates (9% of the
    /// benchmark's CPU time).
    #[inline(always)]
    fn apply(sizes: Sizes, state: &State, action: Action) -> Option<(State, Answer)> {
        let index = usize::from(action.server().0);
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
                Some((next, Answer::Found { user, team: found }))
            }
            Action::Act { .. } if server.phase == Phase::Checked => {
                next.members[usize::from(server.team.0)] |= 1 << server.user.0;
                next.servers[index] = Server::idle(server.done + 1);
                let (user, team) = (server.user, server.team);
                Some((next, Answer::Pushed { user, team }))
            }
            Action::Pull { user, team, .. }
                if server.phase == Phase::Idle
                    && server.done < sizes.requests
                    && user.0 < sizes.users
                    && team.0 < sizes.teams =>
            {
                let members = &mut next.members[usize::from(team.0)];
                let pulled = *members & (1 << user.0) != 0;
                *members &= !(1 << user.0);
                next.servers[index] = Server::idle(server.done + 1);
                Some((next, Answer::Pulled { user, team, pulled }))
            }
            _ => None,
        }
    }
}

impl JoinProtocol for Naive {
    fn name(&self) -> &'static str {
        "naive"
    }

    fn first_action(&self, server: ServerId, request: Request) -> Action {
        match request {
            Request::Join { user, team } => Action::Check { server, user, team },
            Request::Leave { user, team } => Action::Pull { server, user, team },
        }
    }

    fn next_state(&self, sizes: Sizes, state: &State, action: Action) -> Option<State> {
        Naive::apply(sizes, state, action).map(|(next, _)| next)
    }

    fn step(
        &self,
        sizes: Sizes,
        state: &State,
        action: Action,
    ) -> Option<(State, Operation, OpResult)> {
        let (next, answer) = Naive::apply(sizes, state, action)?;
        let (operation, result) = match answer {
            Answer::Found { user, team } => (Operation::FindTeamOf { user }, OpResult::Found(team)),
            Answer::Pushed { user, team } => {
                (Operation::PushMember { team, user }, OpResult::Pushed)
            }
            Answer::Pulled { user, team, pulled } => (
                Operation::PullMember { team, user },
                OpResult::Pulled(pulled),
            ),
        };
        Some((next, operation, result))
    }

    fn database(&self, _: Sizes, _: bool) -> Database {
        Database::MemberSets
    }

    fn rename_database(&self, sizes: Sizes, state: &mut State, renaming: &Renaming) {
        state.rename_members(sizes, renaming);
    }

    fn orders_all_events(&self) -> bool {
        false
    }

    /// Two servers can both check before either pushes, and two teams are needed to be on both;
    /// one server alone checks and acts in turn, which is correct.
    fn breaks_at(&self, sizes: Sizes) -> bool {
        sizes.servers >= 2 && sizes.teams >= 2
    }
}

#[cfg(test)]
mod tests {
    use crate::checker::{check, CheckOptions};
    use crate::domain::{ServerId, TeamId, UserId};
    use crate::operation::{OpResult, Operation, Step};
    use crate::reference::reachable;
    use crate::reference::sizes;
    use crate::verdict::Replay;
    use crate::Protocol;

    /// The article's race, step by step.
    fn article_steps() -> Vec<Step> {
        let (s1, s2, sue, a, b) = (ServerId(0), ServerId(1), UserId(0), TeamId(0), TeamId(1));
        let check = |server| Step {
            server,
            operation: Operation::FindTeamOf { user: sue },
            result: OpResult::Found(None),
            membership_after: vec![],
        };
        vec![
            check(s1),
            check(s2),
            Step {
                server: s1,
                operation: Operation::PushMember { team: a, user: sue },
                result: OpResult::Pushed,
                membership_after: vec![(a, sue)],
            },
            Step {
                server: s2,
                operation: Operation::PushMember { team: b, user: sue },
                result: OpResult::Pushed,
                membership_after: vec![(a, sue), (b, sue)],
            },
        ]
    }

    const ARTICLE_PATH: [&str; 4] = [
        "server-1 check sue → team-A",
        "server-2 check sue → team-B",
        "server-1 act",
        "server-2 act",
    ];

    #[test]
    fn two_servers_put_sue_on_two_teams_in_four_steps() {
        for symmetry in [false, true] {
            for threads in [1, 2] {
                let options = CheckOptions {
                    symmetry,
                    threads,
                    ..CheckOptions::default()
                };
                let verdict = check(Protocol::Naive, sizes(2, 1, 2, 1), &options);
                let found = verdict.counterexample().expect("naive is broken");
                assert_eq!(found.steps, article_steps());
                assert_eq!(found.violation.to_string(), "sue ∈ {team-A, team-B}");
                assert_eq!(found.protocol, "naive");
                assert_eq!(
                    found.parameters,
                    "2 servers, 1 user, 2 teams, 1 request each"
                );
                assert_eq!(
                    found.replay,
                    Replay::ModelPath {
                        sizes: [2, 1, 2, 1],
                        actions: ARTICLE_PATH.map(String::from).to_vec(),
                    }
                );
                // Every state within 4 steps was explored: the count is exact, not a race.
                assert_eq!(
                    verdict.stats().unique_states,
                    Some(if symmetry { 9 } else { 24 })
                );
                assert_eq!(verdict.stats().max_depth, Some(4));
            }
        }
    }

    #[test]
    fn the_race_is_four_steps_in_larger_configurations_too() {
        for (s, u, t, n) in [(2, 2, 2, 2), (3, 2, 3, 1), (3, 3, 3, 2)] {
            for symmetry in [false, true] {
                let options = CheckOptions {
                    symmetry,
                    ..CheckOptions::default()
                };
                let verdict = check(Protocol::Naive, sizes(s, u, t, n), &options);
                let found = verdict.counterexample().expect("naive is broken");
                assert_eq!(found.steps, article_steps(), "{s},{u},{t},{n}");
            }
        }
    }

    #[test]
    fn one_server_alone_is_safe() {
        let verdict = check(Protocol::Naive, sizes(1, 2, 2, 2), &CheckOptions::default());
        assert_eq!(verdict.kind(), "holds");
        assert_eq!(verdict.stats().unique_states, Some(25));
        let verdict = check(Protocol::Naive, sizes(1, 3, 3, 3), &CheckOptions::default());
        assert_eq!(
            verdict.stats().unique_states,
            Some(reachable(Protocol::Naive, sizes(1, 3, 3, 3)).len() as u64)
        );
    }

    #[test]
    fn a_check_that_finds_the_user_ends_the_request() {
        let path: Vec<String> = [
            "server-1 check sue → team-B",
            "server-1 act",
            "server-2 check sue → team-A",
        ]
        .map(String::from)
        .to_vec();
        let steps = crate::checker::replay(Protocol::Naive, sizes(2, 1, 2, 1), &path).unwrap();
        assert_eq!(steps[2].result, OpResult::Found(Some(TeamId(1))));
        assert_eq!(
            steps[2].to_owned().membership_after,
            vec![(TeamId(1), UserId(0))]
        );
        let rest = crate::checker::replay(
            Protocol::Naive,
            sizes(2, 1, 2, 1),
            &[path, vec!["server-2 act".to_string()]].concat(),
        );
        assert!(rest.unwrap_err().to_string().contains("not enabled"));
    }
}
