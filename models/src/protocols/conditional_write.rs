//! The one-step fixes: the database checks "is the user on a team?" and writes in the same
//! operation, so no other server can act in between.
//!
//! ```text
//! unique-membership  insert {user, team}; the unique index on user   ok            → joined
//!                                                                    duplicate key → already on a team
//! user-document      update the user's document                      1 row         → joined
//!                    set team = t where team is none                 0 rows        → already on a team
//! ```
//!
//! A leave is one conditional write too: delete the membership `{user, team}`, or update the
//! user's document `set team = none where team is t`; 1 row when the user was on `t`, else 0.
//!
//! Shared state: each team's member set, as naive's. A user is in at most one set by
//! construction: the unique index holds one membership per user, the document one team. A
//! request is one step, so a server between two requests keeps nothing but how many it has done.
//! Both protocols are the same state machine; only what the store records differs.

use crate::action::Action;
use crate::domain::{Request, ServerId, TeamId, UserId};
use crate::operation::{OpResult, Operation};
use crate::protocol::{Database, JoinProtocol};
use crate::renaming::Renaming;
use crate::sizes::Sizes;
use crate::state::{Phase, Server, State};

/// A join that is one conditional write: an insert under a unique index, or a conditional
/// update.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ConditionalWrite {
    write: Write,
}

/// Which write the database makes conditional.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Write {
    /// Insert `{user, team}` into a memberships collection with a unique index on `user`.
    InsertMembership,
    /// Update the user's document: `set team = t where team is none`.
    UpdateDocument,
}

/// A conditional write as the database saw it: the request and whether it took effect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Answer {
    /// The join of `user` to `team`: refused when the user was already on `already`.
    Join {
        user: UserId,
        team: TeamId,
        already: Option<TeamId>,
    },
    /// The leave of `user` from `team`: `left` when the user was on it.
    Leave {
        user: UserId,
        team: TeamId,
        left: bool,
    },
}

impl ConditionalWrite {
    /// unique-membership: insert `{user, team}`; a duplicate key means "already on a team".
    pub(crate) const UNIQUE_MEMBERSHIP: ConditionalWrite = ConditionalWrite {
        write: Write::InsertMembership,
    };
    /// user-document: `set team = t where team is none`; 0 rows means "already on a team".
    pub(crate) const USER_DOCUMENT: ConditionalWrite = ConditionalWrite {
        write: Write::UpdateDocument,
    };

    /// The state after `action`, and what the database answered; `None` when the action is
    /// not enabled.
    ///
    /// Always inlined, as the other protocols' `apply`: `next_state` then builds the successor
    /// in place.
    #[inline(always)]
    fn apply(self, sizes: Sizes, state: &State, action: Action) -> Option<(State, Answer)> {
        let request = match (self.write, action) {
            (Write::InsertMembership, Action::Insert { user, team, .. })
            | (Write::UpdateDocument, Action::Update { user, team, .. }) => {
                Request::Join { user, team }
            }
            (Write::InsertMembership, Action::Delete { user, team, .. })
            | (Write::UpdateDocument, Action::UpdateLeave { user, team, .. }) => {
                Request::Leave { user, team }
            }
            _ => return None,
        };
        let (user, team) = (request.user(), request.team());
        let index = usize::from(action.server().0);
        let server = state.servers[index];
        if server.phase != Phase::Idle
            || server.done >= sizes.requests
            || user.0 >= sizes.users
            || team.0 >= sizes.teams
        {
            return None;
        }
        let mut next = *state;
        next.servers[index] = Server::idle(server.done + 1);
        let members = &mut next.members[usize::from(team.0)];
        let answer = match request {
            Request::Join { .. } => {
                let already = state.team_of(user);
                if already.is_none() {
                    *members |= 1 << user.0;
                }
                Answer::Join {
                    user,
                    team,
                    already,
                }
            }
            Request::Leave { .. } => {
                let left = *members & (1 << user.0) != 0;
                *members &= !(1 << user.0);
                Answer::Leave { user, team, left }
            }
        };
        Some((next, answer))
    }
}

impl JoinProtocol for ConditionalWrite {
    fn name(&self) -> &'static str {
        match self.write {
            Write::InsertMembership => "unique-membership",
            Write::UpdateDocument => "user-document",
        }
    }

    fn first_action(&self, server: ServerId, request: Request) -> Action {
        match (self.write, request) {
            (Write::InsertMembership, Request::Join { user, team }) => {
                Action::Insert { server, user, team }
            }
            (Write::InsertMembership, Request::Leave { user, team }) => {
                Action::Delete { server, user, team }
            }
            (Write::UpdateDocument, Request::Join { user, team }) => {
                Action::Update { server, user, team }
            }
            (Write::UpdateDocument, Request::Leave { user, team }) => {
                Action::UpdateLeave { server, user, team }
            }
        }
    }

    fn next_state(&self, sizes: Sizes, state: &State, action: Action) -> Option<State> {
        self.apply(sizes, state, action).map(|(next, _)| next)
    }

    fn step(
        &self,
        sizes: Sizes,
        state: &State,
        action: Action,
    ) -> Option<(State, Operation, OpResult)> {
        let (next, answer) = self.apply(sizes, state, action)?;
        let (operation, result) = match (self.write, answer) {
            (
                Write::InsertMembership,
                Answer::Join {
                    user,
                    team,
                    already,
                },
            ) => (
                Operation::InsertMembership { user, team },
                match already {
                    Some(team) => OpResult::DuplicateKey { user, team },
                    None => OpResult::Inserted,
                },
            ),
            (Write::InsertMembership, Answer::Leave { user, team, left }) => (
                Operation::DeleteMembership { user, team },
                OpResult::Changed {
                    rows: u64::from(left),
                },
            ),
            (
                Write::UpdateDocument,
                Answer::Join {
                    user,
                    team,
                    already,
                },
            ) => (
                Operation::UpdateTeam {
                    user,
                    team: Some(team),
                    where_team: None,
                },
                OpResult::Changed {
                    rows: u64::from(already.is_none()),
                },
            ),
            (Write::UpdateDocument, Answer::Leave { user, team, left }) => (
                Operation::UpdateTeam {
                    user,
                    team: None,
                    where_team: Some(team),
                },
                OpResult::Changed {
                    rows: u64::from(left),
                },
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

    /// The write takes effect only where the user is on no team, in the same operation that
    /// looks: no interleaving puts anyone on a second team.
    fn breaks_at(&self, _: Sizes) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use crate::checker::replay;
    use crate::checker::CheckOptions;
    use crate::domain::{ServerId, TeamId, UserId};
    use crate::operation::{OpResult, Operation, Step};
    use crate::reference::{holds_under, holds_with, sizes};
    use crate::reference::{reachable, small_grid};
    use crate::{Protocol, Sizes};

    const BOTH: [Protocol; 2] = [Protocol::UniqueMembership, Protocol::UserDocument];

    /// Both protocols are one state machine: per server the requests done, and which team, if
    /// any, each user is on.
    #[test]
    fn exact_state_counts() {
        let expected = [
            ((1, 2, 2, 2), 13, 5),
            ((2, 1, 2, 1), 7, 3),
            ((2, 2, 2, 2), 57, 14),
            ((3, 2, 2, 1), 45, 8),
            ((2, 3, 3, 2), 316, 20),
            ((3, 3, 3, 2), 1_315, 44),
            ((3, 3, 3, 3), 3_646, 104),
        ];
        for protocol in BOTH {
            for ((s, u, t, n), all, reduced) in expected {
                let sizes = sizes(s, u, t, n);
                assert_eq!(
                    holds_with(protocol, sizes, false),
                    all,
                    "{protocol} {sizes}"
                );
                assert_eq!(
                    holds_with(protocol, sizes, true),
                    reduced,
                    "{protocol} {sizes}"
                );
            }
        }
    }

    /// The count by counting, not exploring: every server's requests done, and `k` users each on
    /// one of `T` teams, which is reachable when `k` joins took effect among the requests done
    /// and a refused join found someone there (`k ≥ 1` unless nothing was done). With leaves
    /// any request may have been a leave, so nobody need be on a team (`k ≥ 0`).
    #[test]
    fn counts_are_those_of_the_semantics() {
        fn closed_form(sizes: Sizes, leaves: bool) -> u64 {
            let (s, u, t, n) = (
                u32::from(sizes.servers),
                u64::from(sizes.users),
                u64::from(sizes.teams),
                u32::from(sizes.requests),
            );
            let choose = |n: u64, k: u64| (0..k).fold(1, |c, i| c * (n - i) / (i + 1));
            let mut total = 0;
            for done in 0..(n + 1).pow(s) {
                let sum: u64 = (0..s)
                    .map(|i| u64::from(done / (n + 1).pow(i) % (n + 1)))
                    .sum();
                for k in 0..=u.min(sum) {
                    if leaves || k >= 1 || sum == 0 {
                        total += choose(u, k) * t.pow(k as u32);
                    }
                }
            }
            total
        }
        let grid = small_grid().into_iter().chain([
            sizes(3, 3, 3, 2),
            sizes(3, 3, 3, 3),
            sizes(4, 3, 2, 2),
        ]);
        for sizes in grid {
            for protocol in BOTH {
                assert_eq!(
                    holds_with(protocol, sizes, false),
                    closed_form(sizes, false),
                    "{protocol} {sizes}"
                );
                let leaves = CheckOptions {
                    leaves: true,
                    ..CheckOptions::default()
                };
                assert_eq!(
                    holds_under(protocol, sizes, &leaves),
                    closed_form(sizes, true),
                    "{protocol} {sizes} with leaves"
                );
            }
        }
        assert_eq!(closed_form(sizes(3, 3, 3, 2), true), 1_341);
    }

    #[test]
    fn counts_agree_with_the_plain_reference_exploration() {
        for protocol in BOTH {
            for sizes in small_grid() {
                let all = reachable(protocol, sizes).len() as u64;
                assert_eq!(
                    holds_with(protocol, sizes, false),
                    all,
                    "{protocol} {sizes}"
                );
            }
        }
    }

    /// The article's race: the first write wins, and the second is refused by the database
    /// itself, naming nothing the server read before.
    #[test]
    fn the_second_join_of_the_race_is_refused_in_one_step() {
        let (s1, s2) = (ServerId(0), ServerId(1));
        let (sue, a, b) = (UserId(0), TeamId(0), TeamId(1));
        let race = |verb: &str| {
            let path = [
                format!("server-1 {verb} sue → team-A"),
                format!("server-2 {verb} sue → team-B"),
            ];
            replay(
                BOTH[usize::from(verb == "update")],
                sizes(2, 1, 2, 1),
                &path,
            )
            .unwrap()
        };
        let step = |server, operation, result| Step {
            server,
            operation,
            result,
            membership_after: vec![(a, sue)],
        };
        assert_eq!(
            race("insert"),
            [
                step(
                    s1,
                    Operation::InsertMembership { user: sue, team: a },
                    OpResult::Inserted
                ),
                step(
                    s2,
                    Operation::InsertMembership { user: sue, team: b },
                    OpResult::DuplicateKey { user: sue, team: a }
                ),
            ]
        );
        let update = |team| Operation::UpdateTeam {
            user: sue,
            team: Some(team),
            where_team: None,
        };
        assert_eq!(
            race("update"),
            [
                step(s1, update(a), OpResult::Changed { rows: 1 }),
                step(s2, update(b), OpResult::Changed { rows: 0 }),
            ]
        );
        let words: Vec<String> = race("update")
            .iter()
            .chain(&race("insert"))
            .map(|step| {
                format!(
                    "{}: {} → {}",
                    step.operation.verb(),
                    step.operation,
                    step.result
                )
            })
            .collect();
        assert_eq!(
            words,
            [
                "update: update sue's document set team = team-A where team is none → 1 row",
                "update: update sue's document set team = team-B where team is none → 0 rows",
                "insert: insert membership {sue, team-A} → ok",
                "insert: insert membership {sue, team-B} → duplicate key (sue is on team-A)",
            ]
        );
    }

    /// Each protocol takes only its own action: an update is not an insert.
    #[test]
    fn each_protocol_takes_only_its_own_write() {
        let sizes = sizes(2, 1, 2, 1);
        let insert = ["server-1 insert sue → team-A".to_string()];
        let update = ["server-1 update sue → team-A".to_string()];
        assert!(replay(Protocol::UserDocument, sizes, &insert).is_err());
        assert!(replay(Protocol::UniqueMembership, sizes, &update).is_err());
        assert!(replay(Protocol::Naive, sizes, &insert).is_err());
        let done = [
            insert[0].clone(),
            "server-1 insert sue → team-B".to_string(),
        ];
        assert!(replay(Protocol::UniqueMembership, sizes, &done).is_err());
    }
}
