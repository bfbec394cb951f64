//! The event-sourced protocols: read the stream, append expecting the version read, and on a
//! conflict read again.
//!
//! ```text
//! read:   version v, has the user joined?  yes → the request ends (already on a team)
//!                                          no  → append pending at v
//! append: Joined(user, team) expecting v   stream still at v → appended, the request ends ok
//!                                          moved on          → Conflict, the server is retrying
//! reread: the same read again, for the same request
//! ```
//!
//! With one global stream any concurrent append conflicts; with one stream per user only appends
//! about the same user do. Retries are unbounded, yet the state space is finite and acyclic: the
//! log only grows on success, and with the log fixed each server only moves forward (see
//! [`crate::checker`] for the measure).

use crate::action::Action;
use crate::domain::{TeamId, UserId};
use crate::model::Outcome;
use crate::sizes::Sizes;
use crate::state::{Phase, Server, State};

/// Which stream an append guards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Streams {
    /// One stream for all events: the version is the log's length.
    Global,
    /// One stream per user: the version is the number of events about that user.
    PerUser,
}

impl Streams {
    /// The version of the stream `user`'s events go to.
    fn version(self, state: &State, user: UserId) -> u8 {
        match self {
            Streams::Global => state.log_len,
            Streams::PerUser => state
                .log_entries()
                .iter()
                .filter(|(of, _)| *of == user)
                .count() as u8,
        }
    }

    /// Appends `Joined(user, team)`. The per-user streams are kept one after another in user
    /// order, so that only each stream's own order is part of the state.
    fn append(self, state: &mut State, user: UserId, team: TeamId) {
        let len = usize::from(state.log_len);
        let at = match self {
            Streams::Global => len,
            Streams::PerUser => state
                .log_entries()
                .iter()
                .take_while(|(of, _)| *of <= user)
                .count(),
        };
        state.log.copy_within(at..len, at + 1);
        state.log[at] = (user, team);
        state.log_len += 1;
    }
}

/// Reads the stream for the request `(user, team)` of the server at `index`.
fn read(
    streams: Streams,
    state: &State,
    index: usize,
    user: UserId,
    team: TeamId,
) -> (State, Outcome) {
    let server = state.servers[index];
    let version = streams.version(state, user);
    let mut next = *state;
    next.servers[index] = if state.log_entries().iter().any(|(of, _)| *of == user) {
        Server::idle(server.done + 1)
    } else {
        Server {
            phase: Phase::Pending,
            user,
            team,
            version,
            ..server
        }
    };
    (next, Outcome::Read { version })
}

/// The state after `action` by the server at `index`, or `None` when it is not enabled.
pub(crate) fn apply(
    streams: Streams,
    sizes: Sizes,
    state: &State,
    index: usize,
    action: Action,
) -> Option<(State, Outcome)> {
    let server = state.servers[index];
    match action {
        Action::Read { user, team, .. }
            if server.phase == Phase::Idle
                && server.done < sizes.requests
                && user.0 < sizes.users
                && team.0 < sizes.teams =>
        {
            Some(read(streams, state, index, user, team))
        }
        Action::Append { .. } if server.phase == Phase::Pending => {
            let actual = streams.version(state, server.user);
            let mut next = *state;
            if actual == server.version {
                streams.append(&mut next, server.user, server.team);
                next.servers[index] = Server::idle(server.done + 1);
                Some((
                    next,
                    Outcome::Appended {
                        version: actual + 1,
                    },
                ))
            } else {
                // A retrying server keeps its request, not the version it expected: the conflict
                // made that version useless, and the reread fetches the current one. (Keeping the
                // old version, or the `actual` one the conflict reports, describes the same
                // protocol with redundant state: 2,324,260 or 2,814,148 states at 3,3,3,2 instead
                // of the reference 1,799,380, which is what this choice gives.)
                next.servers[index] = Server {
                    phase: Phase::Retrying,
                    version: 0,
                    ..server
                };
                Some((next, Outcome::Conflict { actual }))
            }
        }
        Action::Reread { .. } if server.phase == Phase::Retrying => {
            Some(read(streams, state, index, server.user, server.team))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use crate::checker::{check, replay, CheckOptions};
    use crate::domain::{Event, TeamId, UserId};
    use crate::operation::{OpResult, Operation, StreamKey};
    use crate::reference::{reachable, small_grid};
    use crate::{Protocol, Sizes};

    fn sizes(s: u8, u: u8, t: u8, n: u8) -> Sizes {
        Sizes::new(s, u, t, n).unwrap()
    }

    fn path(actions: &[&str]) -> Vec<String> {
        actions.iter().map(|a| a.to_string()).collect()
    }

    fn holds_with(protocol: Protocol, sizes: Sizes, symmetry: bool) -> u64 {
        let options = CheckOptions {
            symmetry,
            ..CheckOptions::default()
        };
        let verdict = check(protocol, sizes, &options);
        assert_eq!(verdict.kind(), "holds", "{protocol} {sizes}: {verdict:?}");
        verdict.stats().unique_states.unwrap()
    }

    #[test]
    fn exact_state_counts_of_the_global_stream() {
        let expected = [
            ((1, 2, 2, 2), 29, 8),
            ((2, 1, 2, 1), 31, 10),
            ((2, 2, 2, 2), 777, 104),
            ((3, 2, 2, 1), 1_985, 113),
            ((2, 3, 3, 2), 20_476, 334),
        ];
        for ((s, u, t, n), all, reduced) in expected {
            let sizes = sizes(s, u, t, n);
            assert_eq!(
                holds_with(Protocol::EventSourced, sizes, false),
                all,
                "{sizes}"
            );
            assert_eq!(
                holds_with(Protocol::EventSourced, sizes, true),
                reduced,
                "{sizes}"
            );
        }
    }

    #[test]
    fn exact_state_counts_of_per_user_streams() {
        let expected = [
            ((1, 2, 2, 2), 25, 8),
            ((2, 1, 2, 1), 31, 10),
            ((2, 2, 2, 2), 529, 76),
            ((3, 2, 2, 1), 913, 59),
            ((2, 3, 3, 2), 8_380, 169),
        ];
        for ((s, u, t, n), all, reduced) in expected {
            let sizes = sizes(s, u, t, n);
            let protocol = Protocol::EventSourcedPerUser;
            assert_eq!(holds_with(protocol, sizes, false), all, "{sizes}");
            assert_eq!(holds_with(protocol, sizes, true), reduced, "{sizes}");
        }
    }

    #[test]
    fn counts_agree_with_the_plain_reference_exploration() {
        for protocol in [Protocol::EventSourced, Protocol::EventSourcedPerUser] {
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

    /// The reference count of DESIGN.md (Spin, no reduction). Release: a few seconds.
    #[test]
    #[ignore = "1.8 million states: run with --ignored, ideally in release"]
    fn reference_count_3_3_3_2() {
        assert_eq!(
            holds_with(Protocol::EventSourced, sizes(3, 3, 3, 2), false),
            1_799_380
        );
        assert_eq!(
            holds_with(Protocol::EventSourced, sizes(3, 3, 3, 2), true),
            9_190
        );
    }

    /// The reference count of DESIGN.md (Spin, no reduction). Release: about 5 s.
    #[test]
    #[ignore = "8.2 million states: run with --ignored, ideally in release"]
    fn reference_count_3_3_3_3() {
        assert_eq!(
            holds_with(Protocol::EventSourced, sizes(3, 3, 3, 3), false),
            8_168_959
        );
        assert_eq!(
            holds_with(Protocol::EventSourced, sizes(3, 3, 3, 3), true),
            40_360
        );
    }

    /// DESIGN.md's large configurations, reduced over servers, users and teams (exact orbits;
    /// Rumur reports 1,780,794 and 2,254,157 with its own reduction). Release: a few seconds.
    #[test]
    #[ignore = "millions of states: run with --ignored, ideally in release"]
    fn reduced_counts_of_the_large_configurations() {
        assert_eq!(
            holds_with(Protocol::EventSourced, sizes(4, 4, 4, 2), true),
            1_702_481
        );
        assert_eq!(
            holds_with(Protocol::EventSourced, sizes(5, 3, 3, 2), true),
            2_134_293
        );
        let per_user = Protocol::EventSourcedPerUser;
        assert_eq!(holds_with(per_user, sizes(3, 3, 3, 2), false), 448_624);
        assert_eq!(holds_with(per_user, sizes(3, 3, 3, 3), false), 1_994_896);
        assert_eq!(holds_with(per_user, sizes(4, 4, 4, 2), true), 108_308);
        assert_eq!(holds_with(per_user, sizes(5, 3, 3, 2), true), 256_802);
    }

    /// Two servers race for sue on the global log: the second append conflicts, the reread sees
    /// sue's event and the request ends without a second team.
    #[test]
    fn a_conflict_makes_the_loser_reread_and_give_up() {
        let steps = replay(
            Protocol::EventSourced,
            sizes(2, 1, 2, 1),
            &path(&[
                "server-1 read sue → team-A",
                "server-2 read sue → team-B",
                "server-1 append",
                "server-2 append",
                "server-2 reread",
            ]),
        )
        .unwrap();
        let (sue, a, b) = (UserId(0), TeamId(0), TeamId(1));
        let joined_a = Event::Joined { user: sue, team: a };
        assert_eq!(
            steps[3].operation,
            Operation::Append {
                stream: StreamKey::Global,
                expected: 0,
                events: vec![Event::Joined { user: sue, team: b }],
            }
        );
        assert_eq!(steps[3].result, OpResult::Conflict { actual: 1 });
        assert_eq!(
            steps[3].operation.to_string() + " → " + &steps[3].result.to_string(),
            "append Joined(sue, team-B) expecting v0 → Conflict (now v1)"
        );
        assert_eq!(
            steps[4].result,
            OpResult::Read {
                version: 1,
                events: vec![joined_a]
            }
        );
        assert_eq!(steps[4].membership_after, vec![(a, sue)]);
    }

    /// With the global stream, appends about different users conflict; per user they do not.
    #[test]
    fn per_user_streams_only_conflict_on_the_same_user() {
        let race = path(&[
            "server-1 read sue → team-A",
            "server-2 read john → team-B",
            "server-1 append",
            "server-2 append",
        ]);
        let sizes = sizes(2, 2, 2, 1);
        let global = replay(Protocol::EventSourced, sizes, &race).unwrap();
        assert_eq!(global[3].result, OpResult::Conflict { actual: 1 });
        let per_user = replay(Protocol::EventSourcedPerUser, sizes, &race).unwrap();
        assert_eq!(per_user[3].result, OpResult::Appended { version: 1 });
        assert_eq!(
            per_user[3].operation.to_string(),
            "append Joined(john, team-B) expecting v0"
        );
        assert_eq!(
            per_user[1].operation,
            Operation::Read {
                stream: StreamKey::User(UserId(1))
            }
        );
        let (sue, john, a, b) = (UserId(0), UserId(1), TeamId(0), TeamId(1));
        assert_eq!(per_user[3].membership_after, vec![(a, sue), (b, john)]);
        // The retry after a conflict happens on the user's own stream too.
        let same_user = path(&[
            "server-1 read sue → team-A",
            "server-2 read sue → team-B",
            "server-2 append",
            "server-1 append",
            "server-1 reread",
        ]);
        let steps = replay(Protocol::EventSourcedPerUser, sizes, &same_user).unwrap();
        assert_eq!(steps[3].result, OpResult::Conflict { actual: 1 });
        assert_eq!(steps[4].membership_after, vec![(b, sue)]);
        assert!(replay(
            Protocol::EventSourcedPerUser,
            sizes,
            &[same_user, path(&["server-1 append"])].concat()
        )
        .is_err());
    }
}
