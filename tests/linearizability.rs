//! The linearizability checker on small hand-written join-service histories: exact verdicts,
//! exact sets of requests that cannot be ordered, unknown and error outcomes, the final
//! membership, limits, and the history's JSON lines.

use joincheck::check::Limits;
use joincheck::history::join::{JoinHistory, JoinRequest, Refusal};
use joincheck::history::{Call, Outcome};
use joincheck::linearizability::join::JoinSpec;
use joincheck::linearizability::{check, timeline, Linearizability, Options};
use joincheck::models::domain::{JoinError, Request, TeamId, UserId};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

const SUE: UserId = UserId(0);
const JOHN: UserId = UserId(1);
const A: TeamId = TeamId(0);
const B: TeamId = TeamId(1);

fn join(user: UserId, team: TeamId) -> JoinRequest {
    JoinRequest(Request::Join { user, team })
}

fn leave(user: UserId, team: TeamId) -> JoinRequest {
    JoinRequest(Request::Leave { user, team })
}

type JoinOutcome = Outcome<(), Refusal>;

fn ok() -> JoinOutcome {
    Outcome::Ok(())
}

fn refused(error: JoinError) -> JoinOutcome {
    Outcome::from(Err(error))
}

/// A history of `(worker, request, invoked, completed, outcome)`; no completion for unknown.
fn history(calls: Vec<(u32, JoinRequest, u64, Option<u64>, JoinOutcome)>) -> JoinHistory {
    let mut history = JoinHistory::new();
    for (worker, request, invoked, completed, outcome) in calls {
        let call = match completed {
            Some(completed) => Call::new(worker, request, invoked, completed, outcome),
            None => Call::unknown(worker, request, invoked),
        };
        history.push(call).expect("well formed");
    }
    history
}

/// What cannot be ordered, `(user, calls, ending)`, or `None` when the history is linearizable;
/// every set found must be minimal.
fn unorderable(spec: &JoinSpec, history: &JoinHistory) -> Option<(UserId, Vec<usize>, bool)> {
    match check(spec, history, &Options::default()) {
        Linearizability::Linearizable { .. } => None,
        Linearizability::NotLinearizable { unorderable, .. } => {
            assert!(unorderable.minimal);
            Some((unorderable.key, unorderable.calls, unorderable.ending))
        }
        inconclusive => panic!("{inconclusive:?}"),
    }
}

#[test]
fn the_articles_race_cannot_be_ordered_and_prints_as_a_timeline() {
    let history = history(vec![
        (0, join(SUE, A), 0, Some(80), ok()),
        (1, join(SUE, B), 30, Some(120), ok()),
    ]);
    let spec = JoinSpec::new();
    let verdict = check(&spec, &history, &Options::default());
    assert_eq!(verdict.kind(), "not linearizable");
    let found = verdict.unorderable().expect("not linearizable");
    assert_eq!(found.calls, [0, 1]);
    assert!(!found.ending && found.minimal);
    assert_eq!(found.key_calls, 2);
    assert_eq!(
        timeline(&spec, &history, found),
        "\
sue: 2 requests of sue's 2 cannot be ordered, whatever the others did within their intervals
           0                                                        120
worker 0   [#0====================================]
worker 1                 [#1==========================================]
  #0    worker 0  0–80     join sue → team-A: ok
  #1    worker 1  30–120   join sue → team-B: ok
"
    );
}

#[test]
fn a_refusal_after_the_join_it_saw_is_linearizable_even_inside_the_joins_interval() {
    let already_on_a = || refused(JoinError::AlreadyOnTeam { team: A });
    let sequential = history(vec![
        (0, join(SUE, A), 0, Some(10), ok()),
        (1, join(SUE, B), 20, Some(30), already_on_a()),
    ]);
    assert_eq!(unorderable(&JoinSpec::new(), &sequential), None);
    let inside = history(vec![
        (0, join(SUE, A), 0, Some(100), ok()),
        (1, join(SUE, B), 10, Some(20), already_on_a()),
    ]);
    assert_eq!(unorderable(&JoinSpec::new(), &inside), None);
}

#[test]
fn a_refusal_before_any_join_is_the_one_request_that_cannot_be_ordered() {
    let history = history(vec![
        (
            0,
            join(SUE, B),
            0,
            Some(10),
            refused(JoinError::AlreadyOnTeam { team: A }),
        ),
        (1, join(SUE, A), 20, Some(30), ok()),
        (0, leave(SUE, A), 40, Some(50), ok()),
    ]);
    assert_eq!(
        unorderable(&JoinSpec::new(), &history),
        Some((SUE, vec![0], false))
    );
}

/// The refusal names the team the service found: naming another is a wrong answer.
#[test]
fn a_refusal_must_name_the_team_the_user_is_on() {
    let spec = JoinSpec::new().starting_with(&[(A, SUE)]).unwrap();
    let wrong = history(vec![(
        0,
        join(SUE, B),
        0,
        Some(10),
        refused(JoinError::AlreadyOnTeam { team: B }),
    )]);
    assert_eq!(unorderable(&spec, &wrong), Some((SUE, vec![0], false)));
    let some_team = history(vec![(
        0,
        join(SUE, B),
        0,
        Some(10),
        refused(JoinError::AlreadyOnSomeTeam),
    )]);
    assert_eq!(unorderable(&spec, &some_team), None);
    assert_eq!(
        unorderable(&JoinSpec::new(), &some_team),
        Some((SUE, vec![0], false))
    );
}

#[test]
fn leaves_succeed_only_from_the_team_the_user_is_on() {
    let spec = JoinSpec::new().starting_with(&[(A, SUE)]).unwrap();
    let fine = history(vec![
        (0, leave(SUE, B), 0, Some(10), refused(JoinError::NotOnTeam)),
        (0, leave(SUE, A), 20, Some(30), ok()),
        (
            1,
            leave(SUE, A),
            40,
            Some(50),
            refused(JoinError::NotOnTeam),
        ),
        (1, join(SUE, B), 60, Some(70), ok()),
    ]);
    assert_eq!(unorderable(&spec, &fine), None);
    let twice = history(vec![
        (0, leave(SUE, A), 0, Some(10), ok()),
        (1, leave(SUE, A), 5, Some(30), ok()),
    ]);
    assert_eq!(unorderable(&spec, &twice), Some((SUE, vec![0, 1], false)));
    let from_elsewhere = history(vec![(0, leave(SUE, B), 0, Some(10), ok())]);
    assert_eq!(
        unorderable(&spec, &from_elsewhere),
        Some((SUE, vec![0], false))
    );
    let not_on_team = history(vec![(
        0,
        leave(SUE, A),
        0,
        Some(10),
        refused(JoinError::NotOnTeam),
    )]);
    assert_eq!(
        unorderable(&spec, &not_on_team),
        Some((SUE, vec![0], false))
    );
}

/// An unknown leave may take effect at any time after its invocation: between two joins if it
/// was invoked before the second completed, never before it was invoked.
#[test]
fn an_unknown_outcome_may_take_effect_after_its_invocation_or_never() {
    let between = history(vec![
        (0, join(SUE, A), 0, Some(10), ok()),
        (1, leave(SUE, A), 20, None, Outcome::Unknown),
        (2, join(SUE, B), 30, Some(40), ok()),
    ]);
    assert_eq!(unorderable(&JoinSpec::new(), &between), None);
    let too_late = history(vec![
        (0, join(SUE, A), 0, Some(10), ok()),
        (1, leave(SUE, A), 50, None, Outcome::Unknown),
        (2, join(SUE, B), 30, Some(40), ok()),
    ]);
    assert_eq!(
        unorderable(&JoinSpec::new(), &too_late),
        Some((SUE, vec![0, 2], false))
    );
    // Long after it was invoked, an unknown join explains a refusal, and a leave after it.
    let much_later = history(vec![
        (0, join(SUE, A), 0, None, Outcome::Unknown),
        (
            1,
            join(SUE, B),
            100,
            Some(110),
            refused(JoinError::AlreadyOnTeam { team: A }),
        ),
        (1, leave(SUE, A), 120, Some(130), ok()),
    ]);
    assert_eq!(unorderable(&JoinSpec::new(), &much_later), None);
}

/// An error did not take effect: it explains nothing, and nothing has to explain it.
#[test]
fn an_error_did_not_take_effect() {
    let error = || Outcome::Error("connection reset".to_string());
    let history = history(vec![
        (0, join(SUE, A), 0, Some(10), error()),
        (1, join(SUE, B), 20, Some(30), ok()),
        (
            1,
            join(SUE, A),
            40,
            Some(50),
            refused(JoinError::AlreadyOnTeam { team: A }),
        ),
    ]);
    assert_eq!(
        unorderable(&JoinSpec::new(), &history),
        Some((SUE, vec![2], false))
    );
}

/// "Try again" refusals say nothing about membership, in any state.
#[test]
fn conflicts_and_stale_tokens_take_no_effect() {
    let history = history(vec![
        (
            0,
            join(SUE, A),
            0,
            Some(10),
            refused(JoinError::Conflict {
                expected: 0,
                actual: 1,
            }),
        ),
        (1, join(SUE, B), 20, Some(30), ok()),
        (
            0,
            leave(SUE, B),
            40,
            Some(50),
            refused(JoinError::StaleToken {
                token: 1,
                newest: 2,
            }),
        ),
        (0, leave(SUE, B), 60, Some(70), ok()),
    ]);
    assert_eq!(unorderable(&JoinSpec::new(), &history), None);
}

#[test]
fn the_final_membership_is_part_of_the_order() {
    let joined = history(vec![(0, join(SUE, A), 0, Some(10), ok())]);
    let on_a = JoinSpec::new().ending_with(&[(A, SUE)]);
    let on_b = JoinSpec::new().ending_with(&[(B, SUE)]);
    assert_eq!(unorderable(&on_a, &joined), None);
    // No request can put sue on team-B, whatever the join did: the ending alone is unreachable.
    assert_eq!(unorderable(&on_b, &joined), Some((SUE, vec![], true)));
    // Nobody on a team at the end: the join's answer is what the ending contradicts.
    let on_none = JoinSpec::new().ending_with(&[]);
    assert_eq!(unorderable(&on_none, &joined), Some((SUE, vec![0], true)));
    let spec = on_none.clone();
    let verdict = check(&spec, &joined, &Options::default());
    assert_eq!(
        timeline(&spec, &joined, verdict.unorderable().unwrap()),
        "\
sue: 1 request of sue's 1 cannot be ordered, whatever the others did within their intervals
           0                                                         10
worker 0   [#0========================================================]
  #0    worker 0  0–10     join sue → team-A: ok
  and sue ends on no team
"
    );
}

/// Unknown requests may or may not have taken effect, so they reach either final membership;
/// nothing reaches a user on two teams, and a user no request touched must end as they began.
#[test]
fn the_final_membership_of_unknown_and_untouched_users() {
    let unknown = history(vec![(0, join(SUE, A), 0, None, Outcome::Unknown)]);
    let on_a = JoinSpec::new().ending_with(&[(A, SUE)]);
    assert_eq!(unorderable(&on_a, &unknown), None);
    assert_eq!(
        unorderable(&JoinSpec::new().ending_with(&[]), &unknown),
        None
    );
    let on_b = JoinSpec::new().ending_with(&[(B, SUE)]);
    assert_eq!(unorderable(&on_b, &unknown), Some((SUE, vec![], true)));
    let on_both = JoinSpec::new().ending_with(&[(A, SUE), (B, SUE)]);
    assert_eq!(unorderable(&on_both, &unknown), Some((SUE, vec![], true)));
    let john_appears = JoinSpec::new().ending_with(&[(A, SUE), (B, JOHN)]);
    assert_eq!(
        unorderable(&john_appears, &unknown),
        Some((JOHN, vec![], true))
    );
    let john_stays = JoinSpec::new()
        .starting_with(&[(B, JOHN)])
        .unwrap()
        .ending_with(&[(A, SUE), (B, JOHN)]);
    assert_eq!(unorderable(&john_stays, &unknown), None);
}

#[test]
fn the_initial_membership_puts_no_user_on_two_teams() {
    let broken = JoinSpec::new()
        .starting_with(&[(A, SUE), (B, SUE)])
        .unwrap_err();
    assert_eq!(broken.to_string(), "sue ∈ {team-A, team-B}");
}

/// Users are independent: the first user (in user order) whose requests cannot be ordered is
/// reported, with only their requests.
#[test]
fn each_user_is_checked_alone_and_the_first_broken_one_is_reported() {
    let history = history(vec![
        (0, join(JOHN, A), 0, Some(10), ok()),
        (1, join(SUE, A), 0, Some(10), ok()),
        (2, join(JOHN, B), 5, Some(15), ok()),
        (
            0,
            join(SUE, B),
            20,
            Some(30),
            refused(JoinError::AlreadyOnTeam { team: A }),
        ),
        (1, join(SUE, B), 25, Some(35), ok()),
    ]);
    // Sue was on team-A when refused (whether or not the join of #1 is kept), then joined B.
    assert_eq!(
        unorderable(&JoinSpec::new(), &history),
        Some((SUE, vec![3, 4], false))
    );
    let verdict = check(&JoinSpec::new(), &history, &Options::default());
    assert_eq!(verdict.stats().keys, 1);
    assert_eq!(verdict.stats().calls, 3);
}

/// Without minimizing, every answered request of the key is named, with its final state.
#[test]
fn without_minimizing_the_whole_key_is_named() {
    let history = history(vec![
        (0, join(SUE, A), 0, Some(10), ok()),
        (
            1,
            join(SUE, A),
            20,
            Some(30),
            refused(JoinError::AlreadyOnTeam { team: A }),
        ),
        (2, leave(SUE, B), 40, None, Outcome::Unknown),
        (1, join(SUE, B), 50, Some(60), ok()),
    ]);
    let verdict = check(
        &JoinSpec::new(),
        &history,
        &Options::default().minimize(false),
    );
    let found = verdict.unorderable().unwrap();
    assert_eq!(
        (found.calls.clone(), found.ending, found.minimal),
        (vec![0, 1, 3], true, false)
    );
    let minimal = check(&JoinSpec::new(), &history, &Options::default());
    assert_eq!(minimal.unorderable().unwrap().calls, [1, 3]);
}

/// Twelve joins and twelve leaves of sue, all at once and all ok, and a refusal naming a team she
/// was never on: every interleaving of the joins and leaves must be tried before concluding.
fn hard() -> JoinHistory {
    let mut calls = Vec::new();
    for worker in 0..12 {
        calls.push((worker, join(SUE, A), 0, Some(100), ok()));
        calls.push((worker + 12, leave(SUE, A), 0, Some(100), ok()));
    }
    let never_on_b = refused(JoinError::AlreadyOnTeam { team: B });
    calls.push((24, join(SUE, A), 50, Some(60), never_on_b));
    history(calls)
}

/// A search stopped by a limit never says "linearizable" (nor, here, the opposite).
#[test]
fn a_history_too_hard_for_the_limits_is_inconclusive() {
    let stopped = Limits::default().stop(Arc::new(AtomicBool::new(true)));
    let verdict = check(
        &JoinSpec::new(),
        &hard(),
        &Options::default().limits(stopped),
    );
    let Linearizability::Inconclusive { reason, stats } = verdict else {
        panic!("{verdict:?}")
    };
    assert_eq!(
        reason,
        "stopped by the stop request after deciding 0 of 1 key"
    );
    assert_eq!((stats.keys, stats.steps), (0, 1024));
    let timed_out = Limits::default().timeout(Duration::ZERO);
    let verdict = check(
        &JoinSpec::new(),
        &hard(),
        &Options::default().limits(timed_out),
    );
    assert_eq!(verdict.kind(), "inconclusive");
    let small = Options::default().max_states(1000);
    let Linearizability::Inconclusive { reason, .. } = check(&JoinSpec::new(), &hard(), &small)
    else {
        panic!("the state limit stops it")
    };
    assert_eq!(
        reason,
        "stopped by the state limit after deciding 0 of 1 key"
    );
}

/// `stress --out DIR` saves a history as JSON lines, one call each, with the names traces print
/// and the refusals as the services name them; reading them back gives the same history.
#[test]
fn a_history_is_saved_and_read_as_json_lines() {
    let history = history(vec![
        (0, join(SUE, A), 0, Some(80), ok()),
        (
            1,
            join(SUE, B),
            30,
            Some(120),
            refused(JoinError::AlreadyOnTeam { team: A }),
        ),
        (2, leave(JOHN, B), 40, None, Outcome::Unknown),
        (
            0,
            leave(SUE, A),
            90,
            Some(95),
            Outcome::Error("connection reset".to_string()),
        ),
        (
            1,
            leave(SUE, B),
            130,
            Some(140),
            refused(JoinError::NotOnTeam),
        ),
        (
            2,
            join(SUE, B),
            150,
            Some(160),
            refused(JoinError::Conflict {
                expected: 1,
                actual: 2,
            }),
        ),
    ]);
    let mut out = Vec::new();
    history.write_json_lines(&mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(
        text,
        r#"{"worker":0,"input":{"request":"join","user":"sue","team":"team-A"},"invoked":0,"completed":80,"outcome":{"ok":null}}
{"worker":1,"input":{"request":"join","user":"sue","team":"team-B"},"invoked":30,"completed":120,"outcome":{"refused":{"AlreadyOnTeam":{"team":"team-A"}}}}
{"worker":2,"input":{"request":"leave","user":"john","team":"team-B"},"invoked":40,"outcome":"unknown"}
{"worker":0,"input":{"request":"leave","user":"sue","team":"team-A"},"invoked":90,"completed":95,"outcome":{"error":"connection reset"}}
{"worker":1,"input":{"request":"leave","user":"sue","team":"team-B"},"invoked":130,"completed":140,"outcome":{"refused":"NotOnTeam"}}
{"worker":2,"input":{"request":"join","user":"sue","team":"team-B"},"invoked":150,"completed":160,"outcome":{"refused":{"Conflict":{"expected":1,"actual":2}}}}
"#
    );
    assert_eq!(
        JoinHistory::read_json_lines(text.as_bytes()).unwrap(),
        history
    );
}

#[test]
fn a_malformed_history_says_where() {
    let bad_team = r#"{"worker":0,"input":{"request":"join","user":"sue","team":"team-?"},"invoked":0,"completed":1,"outcome":{"ok":null}}"#;
    let error = JoinHistory::read_json_lines(bad_team.as_bytes()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "line 1: `team-?` is not a team: the teams are team-A, team-B, team-C, … in order at \
         line 1 column 67"
    );
    let backwards = "\n".to_string()
        + r#"{"worker":0,"input":{"request":"join","user":"sue","team":"team-A"},"invoked":9,"completed":1,"outcome":{"ok":null}}"#;
    let error = JoinHistory::read_json_lines(backwards.as_bytes()).unwrap_err();
    assert_eq!(error.to_string(), "call 0 completes before it was invoked");
    let answered_unknown = r#"{"worker":0,"input":{"request":"join","user":"sue","team":"team-A"},"invoked":0,"completed":1,"outcome":"unknown"}"#;
    let error = JoinHistory::read_json_lines(answered_unknown.as_bytes()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "call 0 has an unknown outcome and a completion"
    );
    let mut history = JoinHistory::new();
    let no_completion = Call::unknown(0, join(SUE, A), 5);
    assert_eq!(history.push(no_completion), Ok(0));
}
