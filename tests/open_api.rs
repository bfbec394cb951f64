//! The open API as a third party met it (issue 21): a run's end state beside its first broken
//! step, the words of each read, a custom store's writes and empty answers in a trace, random
//! schedules alone, and one proptest default. (A connection's server, for a recorded lock, is in
//! `locks_and_invariants.rs`.)

use joincheck::check::proptest::{self, ProptestOptions};
use joincheck::check::shuttle::ShuttleOptions;
use joincheck::check::Execution;
use joincheck::service::{EventSourced, Naive};
use joincheck::trace;
use joincheck_models::domain::{OnSeveralTeams, ServerId, TeamId, UserId};
use joincheck_models::operation::{CustomOperation, OpResult, Operation, Step, StreamKey};
use joincheck_models::verdict::{Counterexample, Engine, Replay, Verdict, Violation};

const SUE: UserId = UserId(0);
const A: TeamId = TeamId(0);
const B: TeamId = TeamId(1);

/// A step of a third-party store: `server` did `operation`, which answered `result`.
fn step(
    server: u8,
    operation: CustomOperation,
    result: OpResult,
    after: &[(TeamId, UserId)],
) -> Step {
    Step {
        server: ServerId(server),
        operation: operation.into(),
        result,
        membership_after: after.to_vec(),
    }
}

/// sue is put on team-A, then on team-B, then taken off team-A: she was on two teams on the
/// way, and is on one at the end. `violation()` is about the way, `violation_at_end()` and
/// `final_membership()` about the end.
#[test]
fn the_first_broken_step_and_the_end_state_have_accessors_of_their_own() {
    let write = |words: &str| CustomOperation::new("write", words).writes(SUE);
    let history = vec![
        step(
            0,
            write("add sue to team-A"),
            OpResult::teams_only(),
            &[(A, SUE)],
        ),
        step(
            1,
            write("add sue to team-B"),
            OpResult::teams_only(),
            &[(A, SUE), (B, SUE)],
        ),
        step(
            0,
            write("take sue off team-A"),
            OpResult::teams_only(),
            &[(B, SUE)],
        ),
    ];
    let execution = Execution {
        history,
        membership: vec![(B, SUE)],
        answers: vec![vec![Ok(())], vec![Ok(())]],
    };
    assert_eq!(execution.final_membership(), [(B, SUE)]);
    assert_eq!(execution.violation_at_end(), None);
    assert_eq!(
        execution.violation(),
        Some(Violation::OnSeveralTeams(OnSeveralTeams {
            user: SUE,
            teams: vec![A, B]
        }))
    );
    assert_eq!(execution.steps_to_violation().len(), 2);
}

/// A read of every team's stream (the per-team protocol's) and a read of the one global
/// stream say different things.
#[test]
fn a_read_of_every_team_stream_is_not_a_read_of_the_log() {
    let global = Operation::Read {
        stream: StreamKey::Global,
    };
    assert_eq!(global.to_string(), "read the log");
    assert_eq!(Operation::ReadAll.to_string(), "read every team's stream");
    assert_eq!(Operation::ReadAll.verb(), "read");
}

/// In a trace, a custom write shows the teams of the user it writes when it changed them, and
/// its answer alone when it did not ("ok, sue ∈ {}" read as if the write had failed); an empty
/// answer, `OpResult::teams_only()`, shows the teams alone.
#[test]
fn a_custom_write_shows_the_users_teams_when_it_changed_them() {
    let ok = || OpResult::Custom("ok".to_string());
    let steps = vec![
        step(
            0,
            CustomOperation::new("read", "read sue's document").reads(SUE),
            OpResult::Custom("no team".to_string()),
            &[],
        ),
        step(
            0,
            CustomOperation::new("write", "note sue's request in her document").writes(SUE),
            ok(),
            &[],
        ),
        step(
            0,
            CustomOperation::new("write", "add sue to team-A").writes(SUE),
            OpResult::teams_only(),
            &[(A, SUE)],
        ),
        step(
            1,
            CustomOperation::new("write", "add sue to team-B").writes(SUE),
            ok(),
            &[(A, SUE), (B, SUE)],
        ),
    ];
    let counterexample = Counterexample {
        protocol: "documents".to_string(),
        parameters: "2 servers".to_string(),
        engine: Engine::Stress,
        steps,
        violation: Violation::OnSeveralTeams(OnSeveralTeams {
            user: SUE,
            teams: vec![A, B],
        }),
        replay: Replay::StressRun { run: 1 },
    };
    let text = trace::text(&counterexample, None);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[2..6],
        [
            "   1  server-1  read   read sue's document                  no team",
            "   2  server-1  write  note sue's request in her document   ok",
            "   3  server-1  write  add sue to team-A                    sue ∈ {team-A}",
            "   4  server-2  write  add sue to team-B                    ok, sue ∈ {team-A, team-B}   ✗",
        ],
        "{text}"
    );
}

/// "Random schedules only" is one call, and zero PCT schedules no longer leave every workload
/// unchecked: the random ones decide, and the scope names only them.
#[test]
fn random_schedules_alone_decide_each_workload() {
    let options = ProptestOptions::default()
        .cases(3)
        .random_schedules_only(20);
    let verdict = proptest::check(EventSourced::GLOBAL, &options);
    let Verdict::Holds { scope, .. } = &verdict else {
        panic!("{verdict:?}")
    };
    assert!(
        scope.ends_with("each under 20 shuttle schedules (random, seed 42): evidence, not proof"),
        "{scope}"
    );
    let zero_pct = ProptestOptions::default()
        .cases(3)
        .shuttle(ShuttleOptions::default().iterations(0));
    assert_eq!(
        proptest::check(EventSourced::GLOBAL, &zero_pct).kind(),
        "holds"
    );
    assert_eq!(proptest::check(Naive, &options).kind(), "violated");
    // No schedule of either kind checks nothing, and says so.
    let none = options.random_schedules(0);
    assert_eq!(proptest::check(Naive, &none).kind(), "inconclusive");
}

/// The library and `joincheck check` generate the same number of workloads by default.
#[test]
fn one_proptest_default_for_the_library_and_the_command() {
    assert_eq!(ProptestOptions::default().cases, 256);
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_joincheck"))
        .args(["check", "--help"])
        .output()
        .expect("joincheck runs");
    let help = String::from_utf8_lossy(&help.stdout);
    let cases = help
        .split("--cases <K>")
        .nth(1)
        .and_then(|rest| rest.split("\n      --").next())
        .expect("check --help documents --cases");
    // In memory the command takes the library's default; on a database, where every statement
    // is a round trip, fewer, and its help says so.
    assert!(
        cases.contains("[default: the library's 256 in memory"),
        "{cases}"
    );
}

/// The import cycles of issue 21 stay broken: the renaming has a module of its own, and the
/// shuttle engine uses the quiet panic hook, not the other way round.
#[test]
fn the_modules_that_formed_import_cycles_no_longer_import_each_other() {
    let source = |path: &str| {
        std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    };
    for file in ["models/src/protocol.rs", "models/src/state.rs"] {
        assert!(!source(file).contains("crate::symmetry"), "{file}");
    }
    assert!(!source("src/check/quiet.rs").contains("super::shuttle"));
}
