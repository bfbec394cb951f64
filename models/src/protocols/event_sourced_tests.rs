//! Tests of the event-sourced protocols.
use crate::checker::{check, replay, CheckOptions};
use crate::domain::{Event, ServerId, TeamId, UserId};
use crate::operation::{OpResult, Operation, Step, StreamKey};
use crate::reference::{holds_with, reachable, sizes, small_grid};
use crate::verdict::{Replay, Verdict};
use crate::{Protocol, ProtocolModel, Sizes};

fn path(actions: &[&str]) -> Vec<String> {
    actions.iter().map(|a| a.to_string()).collect()
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

/// The reference count of `docs/ARCHITECTURE.md` (Spin, no reduction). Release: a few
/// seconds.
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

/// The reference count of `docs/ARCHITECTURE.md` (Spin, no reduction). Release: about 5 s.
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

/// The large configurations of `docs/ARCHITECTURE.md`, reduced over servers, users and teams
/// (exact orbits; Rumur reports 1,780,794 and 2,254,157 with its own reduction). Release: a
/// few seconds.
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

/// A read returns the events of the stream it reads: the whole global log, or only the user's
/// own events from a per-user stream.
#[test]
fn a_read_returns_the_events_of_its_stream() {
    let joins = path(&[
        "server-1 read sue → team-A",
        "server-1 append",
        "server-2 read john → team-B",
    ]);
    let read = |protocol| {
        replay(protocol, sizes(2, 2, 2, 1), &joins).unwrap()[2]
            .result
            .clone()
    };
    let sue_joined = Event::Joined {
        user: UserId(0),
        team: TeamId(0),
    };
    assert_eq!(
        read(Protocol::EventSourced),
        OpResult::Read {
            version: 1,
            events: vec![sue_joined],
        }
    );
    assert_eq!(
        read(Protocol::EventSourcedPerUser),
        OpResult::Read {
            version: 0,
            events: vec![],
        }
    );
}

/// Every state at most `depth` steps from the start, by the plain reference exploration.
fn within(protocol: Protocol, sizes: Sizes, depth: usize) -> u64 {
    let model = crate::ProtocolModel::new(protocol, sizes);
    let mut seen = std::collections::HashSet::from([model.initial_state()]);
    let mut level = vec![model.initial_state()];
    for _ in 0..depth {
        level = level
            .iter()
            .flat_map(|state| model.successors(state))
            .filter_map(|(_, _, next)| seen.insert(next).then_some(next))
            .collect();
    }
    seen.len() as u64
}

/// The article's race with per-team streams: both servers read sue on no team, and each
/// appends to its own team's stream at v0, which nobody else moved.
fn per_team_race() -> Vec<Step> {
    let (s1, s2, sue, a, b) = (ServerId(0), ServerId(1), UserId(0), TeamId(0), TeamId(1));
    let read = |server| Step {
        server,
        operation: Operation::ReadAll,
        result: OpResult::ReadAll {
            events: vec![],
            versions: vec![],
        },
        membership_after: vec![],
    };
    let append = |team| Operation::Append {
        stream: StreamKey::Team(team),
        expected: 0,
        events: vec![Event::Joined { user: sue, team }],
    };
    vec![
        read(s1),
        read(s2),
        Step {
            server: s1,
            operation: append(a),
            result: OpResult::Appended { version: 1 },
            membership_after: vec![(a, sue)],
        },
        Step {
            server: s2,
            operation: append(b),
            result: OpResult::Appended { version: 1 },
            membership_after: vec![(a, sue), (b, sue)],
        },
    ]
}

const PER_TEAM_RACE: [&str; 4] = [
    "server-1 read sue → team-A",
    "server-2 read sue → team-B",
    "server-1 append",
    "server-2 append",
];

/// The shortest counterexample, the states within its 4 steps (exact: the search ends with
/// the level that breaks the invariant), with and without symmetry, on 1 and 2 threads.
#[test]
fn per_team_streams_put_sue_on_two_teams_in_four_steps() {
    let expected = [((2, 1, 2, 1), 28, 10), ((3, 3, 3, 2), 10_351, 91)];
    for ((s, u, t, n), all, reduced) in expected {
        let sizes = sizes(s, u, t, n);
        for (symmetry, count) in [(false, all), (true, reduced)] {
            for threads in [1, 2] {
                let options = CheckOptions {
                    symmetry,
                    threads,
                    ..CheckOptions::default()
                };
                let verdict = check(Protocol::EventSourcedPerTeam, sizes, &options);
                let found = verdict.counterexample().expect("per-team streams break");
                assert_eq!(found.steps, per_team_race(), "{sizes}");
                assert_eq!(found.violation.to_string(), "sue ∈ {team-A, team-B}");
                assert_eq!(found.protocol, "event-sourced-per-team");
                assert_eq!(
                    found.replay,
                    Replay::ModelPath {
                        sizes: [s, u, t, n],
                        actions: path(&PER_TEAM_RACE),
                    }
                );
                assert_eq!(verdict.stats().unique_states, Some(count), "{sizes}");
                assert_eq!(verdict.stats().max_depth, Some(4), "{sizes}");
            }
        }
        let plain = within(Protocol::EventSourcedPerTeam, sizes, 4);
        assert_eq!(plain, all, "{sizes}: the reference exploration disagrees");
    }
    let steps: Vec<String> = per_team_race()
        .iter()
        .map(|step| format!("{} → {}", step.operation, step.result))
        .collect();
    assert_eq!(
        steps,
        [
            "read every team's stream → 0 events",
            "read every team's stream → 0 events",
            "append Joined(sue, team-A) to team-A's stream expecting v0 → ok (now v1)",
            "append Joined(sue, team-B) to team-B's stream expecting v0 → ok (now v1)",
        ]
    );
}

/// Where it holds (one server, or one team), the count is every reachable state. With one
/// team, that team's stream is the whole log: exactly the global stream's states.
#[test]
fn exact_state_counts_of_per_team_streams_where_they_hold() {
    let expected = [
        ((1, 2, 2, 2), 27, 8),
        ((2, 2, 1, 2), 147, 41),
        ((3, 3, 1, 2), 17_368, 582),
    ];
    for ((s, u, t, n), all, reduced) in expected {
        let sizes = sizes(s, u, t, n);
        let protocol = Protocol::EventSourcedPerTeam;
        assert_eq!(holds_with(protocol, sizes, false), all, "{sizes}");
        assert_eq!(holds_with(protocol, sizes, true), reduced, "{sizes}");
        assert_eq!(reachable(protocol, sizes).len() as u64, all, "{sizes}");
        if t == 1 {
            let global = Protocol::EventSourced;
            assert_eq!(holds_with(global, sizes, false), all, "{sizes}");
            assert_eq!(holds_with(global, sizes, true), reduced, "{sizes}");
        }
    }
}

/// Per-team streams let a user join several teams, so the log can hold one event per request
/// up to one per user-team pair: at 3 × 3 requests and 3 × 3 pairs, 9 events, more than a
/// state has room for. The model refuses those sizes rather than overflow on the ninth append.
#[test]
fn per_team_streams_refuse_sizes_whose_log_outgrows_a_state() {
    let refused = ProtocolModel::try_new(Protocol::EventSourcedPerTeam, sizes(3, 3, 3, 3));
    assert_eq!(
        refused.unwrap_err().to_string(),
        "the log of the event-sourced-per-team protocol can grow to 9 events at these sizes, \
         more than the 8 a state has room for; use fewer servers or requests"
    );
    let verdict = check(
        Protocol::EventSourcedPerTeam,
        sizes(3, 3, 3, 3),
        &CheckOptions::default(),
    );
    assert!(
        matches!(&verdict, Verdict::Inconclusive { reason, .. }
            if reason.starts_with("nothing was checked: the log of the event-sourced-per-team")),
        "{verdict:?}"
    );
    // Either dimension small enough keeps the log within a state: 8 pairs, or 8 requests.
    for fits in [sizes(3, 4, 2, 3), sizes(4, 3, 3, 2)] {
        assert!(ProtocolModel::try_new(Protocol::EventSourcedPerTeam, fits).is_ok());
    }
    // The global and per-user streams hold at most one event per user: never too long.
    for protocol in [Protocol::EventSourced, Protocol::EventSourcedPerUser] {
        assert!(ProtocolModel::try_new(protocol, sizes(8, 8, 8, 15)).is_ok());
    }
}

/// The read shows the whole log and each team stream's version; the version an append
/// expects is its team's, so appends to one team conflict whoever they are about.
#[test]
fn per_team_reads_see_every_team_and_appends_conflict_only_on_their_team() {
    let (sue, john, a) = (UserId(0), UserId(1), TeamId(0));
    let sizes = sizes(2, 2, 2, 1);
    let race = path(&[
        "server-1 read sue → team-A",
        "server-2 read john → team-A",
        "server-1 append",
        "server-2 append",
        "server-2 reread",
        "server-2 append",
    ]);
    let steps = replay(Protocol::EventSourcedPerTeam, sizes, &race).unwrap();
    assert_eq!(
        steps[3].operation.to_string() + " → " + &steps[3].result.to_string(),
        "append Joined(john, team-A) to team-A's stream expecting v0 → Conflict (now v1)"
    );
    assert_eq!(
        steps[4].result,
        OpResult::ReadAll {
            events: vec![Event::Joined { user: sue, team: a }],
            versions: vec![(a, 1)],
        }
    );
    assert_eq!(steps[4].result.to_string(), "1 event; team-A at v1");
    assert_eq!(steps[5].result, OpResult::Appended { version: 2 });
    assert_eq!(steps[5].membership_after, vec![(a, sue), (a, john)]);
    // A read after a join to another team finds the user: the decision sees every team.
    let later = path(&[
        "server-1 read sue → team-B",
        "server-1 append",
        "server-2 read john → team-A",
        "server-2 append",
        "server-1 read sue → team-A",
    ]);
    let steps = replay(Protocol::EventSourcedPerTeam, sizes, &later);
    assert!(steps.is_err(), "server-1 has one request");
    let steps = replay(Protocol::EventSourcedPerTeam, sizes, &later[..4]).unwrap();
    assert_eq!(steps[2].result.to_string(), "1 event; team-B at v1");
    assert_eq!(
        steps[3].operation.to_string() + " → " + &steps[3].result.to_string(),
        "append Joined(john, team-A) to team-A's stream expecting v0 → ok (now v1)"
    );
}
