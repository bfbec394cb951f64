//! Tests of the models with leaves: what a leave does in each protocol, step by step, and the
//! exact figures, cross-checked against the plain reference exploration and stateright.
use crate::action::Action;
use crate::checker::{check, replay, CheckOptions};
use crate::domain::{Event, TeamId, UserId};
use crate::model::ProtocolModel;
use crate::operation::Step;
use crate::reference::{holds_under, model, reachable_in, sizes};
use crate::stateright_model::StaterightModel;
use crate::verdict::Verdict;
use crate::Protocol;
use stateright::{Checker, Model};

/// The steps of `actions` on `protocol` at 2 servers, 1 user, 2 teams and 2 requests each, in
/// the trace's words: `server-1 pull sue ← team-A → ok`.
fn steps_in_words(protocol: Protocol, actions: &[&str]) -> Vec<String> {
    let actions: Vec<String> = actions.iter().map(ToString::to_string).collect();
    let steps = replay(protocol, sizes(2, 1, 2, 2), &actions).unwrap();
    steps.iter().map(in_words).collect()
}

fn in_words(step: &Step) -> String {
    format!("{} {} → {}", step.server, step.operation, step.result)
}

/// The options of a check with leaves.
fn with_leaves(symmetry: bool) -> CheckOptions {
    CheckOptions {
        symmetry,
        leaves: true,
        ..CheckOptions::default()
    }
}

#[test]
fn a_naive_leave_is_one_pull() {
    let words = steps_in_words(
        Protocol::Naive,
        &[
            "server-1 check sue → team-A",
            "server-1 act",
            "server-2 pull sue ← team-B",
            "server-2 pull sue ← team-A",
        ],
    );
    assert_eq!(
        words[2..],
        [
            "server-2 pull sue ← team-B → not a member",
            "server-2 pull sue ← team-A → ok",
        ]
    );
}

/// A leave takes only its user off only its team: john leaves team-A, where sue stays, and his
/// leave from team-B, where he is not, changes nothing. (With sue alone, a leave that took the
/// wrong user, or every user but its own, would go unnoticed.)
#[test]
fn a_leave_takes_only_its_user_off_only_its_team() {
    let paths = [
        (
            Protocol::Naive,
            &["server-1 check sue → team-A", "server-1 act"][..],
            &["server-2 check john → team-A", "server-2 act"][..],
            &["server-3 pull john ← team-B"][..],
            &["server-4 pull john ← team-A"][..],
            [&["not a member"][..], &["ok"][..]],
        ),
        (
            Protocol::UniqueMembership,
            &["server-1 insert sue → team-A"],
            &["server-2 insert john → team-A"],
            &["server-3 delete john ← team-B"],
            &["server-4 delete john ← team-A"],
            [&["0 rows"], &["1 row"]],
        ),
        (
            Protocol::UserDocument,
            &["server-1 update sue → team-A"],
            &["server-2 update john → team-A"],
            &["server-3 update john ← team-B"],
            &["server-4 update john ← team-A"],
            [&["0 rows"], &["1 row"]],
        ),
        (
            Protocol::LeaseLock,
            &[
                "server-1 acquire sue → team-A",
                "server-1 check",
                "server-1 act",
                "server-1 release",
            ],
            &[
                "server-2 acquire john → team-A",
                "server-2 check",
                "server-2 act",
                "server-2 release",
            ],
            &[
                "server-3 acquire john ← team-B",
                "server-3 pull",
                "server-3 release",
            ],
            &[
                "server-4 acquire john ← team-A",
                "server-4 pull",
                "server-4 release",
            ],
            [&["ok", "not a member", "ok"], &["ok", "ok", "ok"]],
        ),
    ];
    let (sue_a, john_a) = ((TeamId(0), UserId(0)), (TeamId(0), UserId(1)));
    for (protocol, sue_joins, john_joins, not_his_team, his_team, results) in paths {
        let path = [sue_joins, john_joins, not_his_team, his_team].concat();
        let actions: Vec<String> = path.iter().map(ToString::to_string).collect();
        let steps = replay(protocol, sizes(4, 2, 2, 1), &actions).unwrap();
        let members = |actions: usize| steps[actions - 1].membership_after.clone();
        let joined = sue_joins.len() + john_joins.len();
        assert_eq!(members(joined), [sue_a, john_a], "{protocol}");
        let not_his = joined + not_his_team.len();
        assert_eq!(members(not_his), [sue_a, john_a], "{protocol}");
        assert_eq!(members(path.len()), [sue_a], "{protocol}");
        let results_of = |block: std::ops::Range<usize>| -> Vec<String> {
            steps[block]
                .iter()
                .map(|step| step.result.to_string())
                .collect()
        };
        assert_eq!(results_of(joined..not_his), results[0], "{protocol}");
        assert_eq!(results_of(not_his..path.len()), results[1], "{protocol}");
    }
}

/// The one-step fixes leave in one conditional write, which takes effect only for the team the
/// user is on.
#[test]
fn a_conditional_leave_is_one_write() {
    let leave = |protocol, join: &str, leave: &str| {
        let actions = [
            format!("server-1 {join} sue → team-A"),
            format!("server-2 {leave} sue ← team-B"),
            format!("server-2 {leave} sue ← team-A"),
        ];
        let actions: Vec<&str> = actions.iter().map(String::as_str).collect();
        steps_in_words(protocol, &actions)[1..].to_vec()
    };
    assert_eq!(
        leave(Protocol::UniqueMembership, "insert", "delete"),
        [
            "server-2 delete membership {sue, team-B} → 0 rows",
            "server-2 delete membership {sue, team-A} → 1 row",
        ]
    );
    assert_eq!(
        leave(Protocol::UserDocument, "update", "update"),
        [
            "server-2 update sue's document set team = none where team is team-B → 0 rows",
            "server-2 update sue's document set team = none where team is team-A → 1 row",
        ]
    );
}

/// An event-sourced leave reads, and appends `Left` at the version read when sue is on the team;
/// a leave that read a stale version conflicts, rereads, finds sue gone, and ends there.
#[test]
fn an_event_sourced_leave_appends_left_and_retries_on_conflict() {
    let path = [
        "server-1 read sue → team-A",
        "server-1 append",
        "server-1 read sue ← team-A",
        "server-2 read sue ← team-A",
        "server-1 append",
        "server-2 append",
        "server-2 reread",
    ];
    assert_eq!(
        steps_in_words(Protocol::EventSourced, &path)[2..],
        [
            "server-1 read the log → v1, 1 event",
            "server-2 read the log → v1, 1 event",
            "server-1 append Left(sue, team-A) expecting v1 → ok (now v2)",
            "server-2 append Left(sue, team-A) expecting v1 → Conflict (now v2)",
            "server-2 read the log → v2, 2 events",
        ]
    );
    let again: Vec<String> = path
        .iter()
        .chain(&["server-2 append"])
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        replay(Protocol::EventSourced, sizes(2, 1, 2, 2), &again)
            .unwrap_err()
            .to_string(),
        "step 8: `server-2 append` is not enabled here; enabled: server-2 read sue → team-A, \
         server-2 read sue → team-B, server-2 read sue ← team-A, server-2 read sue ← team-B"
    );
}

/// Per team, a leave reads the whole log and appends `Left` to its team's stream; a leave from
/// a team sue is not on ends at the read.
#[test]
fn a_per_team_leave_appends_to_its_teams_stream() {
    let words = steps_in_words(
        Protocol::EventSourcedPerTeam,
        &[
            "server-1 read sue → team-B",
            "server-1 append",
            "server-2 read sue ← team-A",
            "server-2 read sue ← team-B",
            "server-2 append",
        ],
    );
    assert_eq!(
        words,
        [
            "server-1 read every team's stream → 0 events",
            "server-1 append Joined(sue, team-B) to team-B's stream expecting v0 → ok (now v1)",
            "server-2 read every team's stream → 1 event; team-B at v1",
            "server-2 read every team's stream → 1 event; team-B at v1",
            "server-2 append Left(sue, team-B) to team-B's stream expecting v1 → ok (now v2)",
        ]
    );
}

/// A per-user or per-team stream keeps the order of its own events, whatever other streams the
/// log holds before or after it: sue's `Left` comes after her `Joined`, so the fold finds her on
/// no team, and john's join stays where his stream goes.
#[test]
fn a_stream_keeps_the_order_of_its_own_events() {
    let path = [
        "server-1 read john → team-B",
        "server-1 append",
        "server-1 read sue → team-A",
        "server-1 append",
        "server-1 read sue ← team-A",
        "server-1 append",
    ];
    let (john_b, sue_a) = ((TeamId(1), UserId(1)), (TeamId(0), UserId(0)));
    let joined = |(team, user)| Event::Joined { user, team };
    let left = |(team, user)| Event::Left { user, team };
    for protocol in [Protocol::EventSourcedPerUser, Protocol::EventSourcedPerTeam] {
        let model = model(protocol, sizes(1, 2, 2, 3), true);
        let mut state = model.initial_state();
        let mut memberships = Vec::new();
        for text in path {
            let (step, next) = model.step(&state, Action::parse(text).unwrap()).unwrap();
            memberships.push(step.membership_after);
            state = next;
        }
        assert_eq!(memberships[3], [sue_a, john_b], "{protocol}");
        assert_eq!(memberships[5], [john_b], "{protocol}");
        // Sue's stream goes first in user order and in team order alike.
        assert_eq!(
            state.events(),
            [joined(sue_a), left(sue_a), joined(john_b)],
            "{protocol}"
        );
    }
}

/// A per-team read returns the whole log, grouped by team, and the version of every team's
/// stream: team-B's stream holds sue's join and her leave.
#[test]
fn a_per_team_read_gives_every_teams_version() {
    let path = [
        "server-1 read sue → team-B",
        "server-1 append",
        "server-2 read john → team-A",
        "server-2 append",
        "server-1 read sue ← team-B",
        "server-1 append",
        "server-2 read john ← team-A",
    ];
    let actions: Vec<String> = path.iter().map(ToString::to_string).collect();
    let steps = replay(Protocol::EventSourcedPerTeam, sizes(2, 2, 2, 2), &actions).unwrap();
    assert_eq!(
        in_words(&steps[6]),
        "server-2 read every team's stream → 3 events; team-A at v1, team-B at v2"
    );
}

/// A lease-lock leave acquires, pulls and releases; fenced, the pull carries the token and is
/// rejected when a newer holder's fenced operation came first, and the request still releases.
#[test]
fn a_lease_lock_leave_pulls_under_the_lock_fenced_like_a_push() {
    let path = [
        "server-1 acquire sue → team-A",
        "server-1 check",
        "server-1 act",
        "server-1 release",
        "server-2 acquire sue ← team-A",
        "server-2 lease expires",
        "server-1 acquire sue ← team-A",
        "server-1 pull",
        "server-2 pull",
        "server-2 release",
        "server-1 release",
    ];
    assert_eq!(
        steps_in_words(Protocol::LeaseLock, &path)[4..],
        [
            "server-2 acquire sue's lock → ok",
            "server-2 sue's lease expires → lock free, holder not told",
            "server-1 acquire sue's lock → ok",
            "server-1 pull sue ← team-A → ok",
            "server-2 pull sue ← team-A → not a member",
            "server-2 release sue's lock → not held: the lease had expired",
            "server-1 release sue's lock → ok",
        ]
    );
    for protocol in [Protocol::LeaseLockFenced, Protocol::LeaseLockFencedReads] {
        assert_eq!(
            steps_in_words(protocol, &path)[6..10],
            [
                "server-1 acquire sue's lock → ok, token 3",
                "server-1 pull sue ← team-A with token 3 → ok",
                "server-2 pull sue ← team-A with token 2 → rejected: token 3 seen",
                "server-2 release sue's lock → not held: the lease had expired",
            ],
            "{protocol}"
        );
    }
}

/// A model without leaves takes no leave, and one with leaves refuses sizes at which its log
/// could outgrow a state (one event per request, eight at most).
#[test]
fn leaves_are_taken_only_where_switched_on_and_room_allows() {
    let at = sizes(2, 1, 2, 1);
    let pull = ["server-1 pull sue ← team-A".to_string()];
    let joins_only = ProtocolModel::new(Protocol::Naive, at);
    assert!(joins_only.replay(&pull).is_err());
    assert_eq!(replay(Protocol::Naive, at, &pull).unwrap().len(), 1);
    let too_long = ProtocolModel::new(Protocol::EventSourced, sizes(3, 3, 3, 3)).with_leaves();
    assert_eq!(
        too_long.unwrap_err().to_string(),
        "with leaves, the log of the event-sourced protocol can grow to 9 events at these sizes \
         (one per request), more than the 8 a state has room for; use fewer servers or requests"
    );
    let verdict = check(
        Protocol::EventSourced,
        sizes(3, 3, 3, 3),
        &with_leaves(false),
    );
    let Verdict::Inconclusive { reason, .. } = verdict else {
        panic!("nothing can be checked")
    };
    assert!(
        reason.starts_with("nothing was checked: with leaves, the log"),
        "{reason}"
    );
    assert!(ProtocolModel::new(Protocol::Naive, sizes(3, 3, 3, 3))
        .with_leaves()
        .is_ok());
}

/// The shortest counterexample is a race of joins: with leaves, the same steps, found in the
/// same order, and the scope says leaves were on.
#[test]
fn leaves_change_no_shortest_counterexample() {
    let broken = [
        Protocol::Naive,
        Protocol::EventSourcedPerTeam,
        Protocol::LeaseLock,
        Protocol::LeaseLockFenced,
    ];
    for protocol in broken {
        for at in [sizes(2, 1, 2, 1), sizes(2, 2, 2, 2), sizes(3, 2, 2, 1)] {
            let joins = check(protocol, at, &CheckOptions::default());
            let leaves = check(protocol, at, &with_leaves(false));
            let (joins, leaves) = (
                joins.counterexample().unwrap(),
                leaves.counterexample().unwrap(),
            );
            assert_eq!(joins.steps, leaves.steps, "{protocol} {at}");
            assert_eq!(joins.replay, leaves.replay, "{protocol} {at}");
            assert_eq!(
                leaves.parameters,
                format!("{} (joins and leaves)", joins.parameters)
            );
        }
    }
}

/// Exact distinct states with leaves, without and with symmetry, at sizes where the protocol
/// holds (where it breaks, the check ends at the counterexample's level). Every count without
/// symmetry is the plain reference exploration's and stateright's.
#[test]
fn exact_state_counts_with_leaves() {
    let expected: [(Protocol, [u8; 4], u64, u64); 27] = [
        (Protocol::Naive, [1, 2, 2, 2], 31, 11),
        (Protocol::Naive, [2, 2, 1, 2], 133, 43),
        (Protocol::Naive, [3, 2, 1, 1], 148, 26),
        (Protocol::EventSourced, [2, 1, 2, 1], 44, 15),
        (Protocol::EventSourced, [2, 2, 2, 2], 3_541, 477),
        (Protocol::EventSourced, [3, 2, 2, 1], 2_700, 169),
        (Protocol::EventSourcedPerUser, [2, 1, 2, 1], 44, 15),
        (Protocol::EventSourcedPerUser, [2, 2, 2, 2], 1_897, 265),
        (Protocol::EventSourcedPerUser, [3, 2, 2, 1], 1_372, 95),
        (Protocol::EventSourcedPerTeam, [1, 2, 2, 2], 41, 13),
        (Protocol::EventSourcedPerTeam, [2, 2, 1, 2], 737, 202),
        (Protocol::EventSourcedPerTeam, [3, 2, 1, 1], 534, 75),
        (Protocol::UniqueMembership, [2, 1, 2, 1], 10, 5),
        (Protocol::UniqueMembership, [2, 2, 2, 2], 65, 19),
        (Protocol::UniqueMembership, [3, 2, 2, 1], 52, 11),
        (Protocol::UserDocument, [2, 1, 2, 1], 10, 5),
        (Protocol::UserDocument, [2, 2, 2, 2], 65, 19),
        (Protocol::UserDocument, [3, 2, 2, 1], 52, 11),
        (Protocol::LeaseLock, [1, 2, 2, 2], 215, 57),
        (Protocol::LeaseLock, [2, 2, 1, 2], 3_269, 846),
        (Protocol::LeaseLock, [3, 2, 1, 1], 8_862, 835),
        (Protocol::LeaseLockFenced, [1, 2, 2, 2], 282, 74),
        (Protocol::LeaseLockFenced, [2, 2, 1, 2], 11_790, 2_978),
        (Protocol::LeaseLockFenced, [3, 2, 1, 1], 18_029, 1_597),
        (Protocol::LeaseLockFencedReads, [2, 1, 2, 1], 538, 137),
        (Protocol::LeaseLockFencedReads, [2, 2, 2, 2], 47_755, 6_015),
        (Protocol::LeaseLockFencedReads, [3, 2, 2, 1], 101_320, 4_334),
    ];
    for (protocol, [s, u, t, n], all, reduced) in expected {
        let at = sizes(s, u, t, n);
        assert_eq!(
            holds_under(protocol, at, &with_leaves(false)),
            all,
            "{protocol} {at}"
        );
        assert_eq!(
            holds_under(protocol, at, &with_leaves(true)),
            reduced,
            "{protocol} {at}"
        );
        let model = model(protocol, at, true);
        assert_eq!(reachable_in(&model).len() as u64, all, "{protocol} {at}");
        let theirs = StaterightModel::of(model).checker().spawn_bfs().join();
        assert_eq!(theirs.unique_state_count() as u64, all, "{protocol} {at}");
        theirs.assert_no_discovery("a user is on at most one team");
        theirs.assert_no_discovery("every request completes");
        theirs.assert_any_discovery("a user joined a team");
    }
}

/// Where a protocol breaks, stateright explores every state (its `eventually` keeps it going)
/// and finds as many as the plain reference exploration, the violation among them.
#[test]
fn stateright_explores_the_broken_models_with_leaves_to_the_end() {
    let expected = [
        (Protocol::Naive, 101),
        (Protocol::EventSourcedPerTeam, 343),
        (Protocol::LeaseLock, 2_501),
        (Protocol::LeaseLockFenced, 7_285),
    ];
    let at = sizes(2, 1, 2, 2);
    for (protocol, all) in expected {
        let model = model(protocol, at, true);
        assert_eq!(reachable_in(&model).len(), all, "{protocol}");
        let theirs = StaterightModel::of(model).checker().spawn_bfs().join();
        assert_eq!(theirs.unique_state_count(), all, "{protocol}");
        theirs.assert_any_discovery("a user is on at most one team");
        theirs.assert_no_discovery("every request completes");
    }
}

/// The README's figures with leaves at 3,3,3,2: distinct states without and with symmetry (for a
/// refuted protocol, up to its counterexample's level). Unreduced, the fenced reads' hundreds of
/// millions of states outgrow a test, so only their reduced count is pinned. Release: about 15 s.
#[test]
#[ignore = "tens of millions of states: run with --ignored, in release"]
fn figures_with_leaves_at_3_3_3_2() {
    let expected = [
        (Protocol::Naive, Some(12_560), 128),
        (Protocol::EventSourced, Some(19_444_041), 108_445),
        (Protocol::EventSourcedPerUser, Some(2_318_859), 14_196),
        (Protocol::EventSourcedPerTeam, Some(16_745), 167),
        (Protocol::UniqueMembership, Some(1_341), 53),
        (Protocol::UserDocument, Some(1_341), 53),
        (Protocol::LeaseLock, Some(578_512), 3_504),
        (Protocol::LeaseLockFenced, Some(886_483), 5_366),
        (Protocol::LeaseLockFencedReads, None, 1_891_995),
    ];
    let at = sizes(3, 3, 3, 2);
    for (protocol, all, reduced) in expected {
        let kind = if protocol.spec().breaks_at(at) {
            "violated"
        } else {
            "holds"
        };
        for (symmetry, count) in [(false, all), (true, Some(reduced))] {
            let Some(count) = count else { continue };
            let verdict = check(protocol, at, &with_leaves(symmetry));
            assert_eq!(verdict.kind(), kind, "{protocol}");
            assert_eq!(verdict.stats().unique_states, Some(count), "{protocol}");
        }
    }
}
