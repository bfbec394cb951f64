//! proptest reads `PROPTEST_*` variables into its default configuration; the ones that would
//! change how a workload runs (how many, how far they shrink, forking, timeouts, chatter, saved
//! failures) must change neither a verdict nor what the program prints.
//!
//! The test runs itself again as a child process with the variables set, so that proptest reads
//! them when it first builds its configuration, and so that the child's stderr can be read.

use joincheck::check::proptest::{self, workloads, ProptestOptions};
use joincheck::service::{EventSourced, Naive};
use joincheck_models::verdict::{Replay, Verdict};
use std::process::Command;

const CHILD: &str = "JOINCHECK_PROPTEST_VARIABLES_CHILD";

/// What the child checks, with the variables set.
fn verdicts_are_unchanged() {
    assert_eq!(workloads(&ProptestOptions::default().cases(5)).len(), 5);

    let holds = proptest::check(EventSourced::GLOBAL, &ProptestOptions::default().cases(3));
    let Verdict::Holds { stats, .. } = &holds else {
        panic!("expected holds, got {holds:?}");
    };
    assert_eq!(stats.iterations, Some(3));
    assert!(stats.seconds > 0.0, "{stats:?}");

    // Shrinking goes all the way down to the article's race, however long it takes.
    let verdict = proptest::check(Naive, &ProptestOptions::default());
    let found = verdict.counterexample().expect("naive breaks");
    assert_eq!(
        found.parameters,
        "server-1: join sue → team-A; server-2: join sue → team-B"
    );
    assert_eq!(found.steps.len(), 4);
    let Replay::ShuttleSchedule { found_by, .. } = &found.replay else {
        panic!("not a shuttle schedule: {:?}", found.replay);
    };
    assert_eq!(
        found_by,
        "case 1 of seed 42 (shrunk workload), shuttle random, seed 42"
    );
}

#[test]
fn proptest_variables_change_no_verdict_and_print_nothing() {
    if std::env::var_os(CHILD).is_some() {
        return verdicts_are_unchanged();
    }
    let this_test = "proptest_variables_change_no_verdict_and_print_nothing";
    let child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", this_test, "--nocapture", "--test-threads", "1"])
        .env(CHILD, "1")
        .env("PROPTEST_CASES", "1")
        .env("PROPTEST_MAX_SHRINK_ITERS", "1")
        .env("PROPTEST_MAX_SHRINK_TIME", "1")
        .env("PROPTEST_FORK", "true")
        .env("PROPTEST_TIMEOUT", "60000")
        .env("PROPTEST_VERBOSE", "2")
        .env_remove("PROPTEST_DISABLE_FAILURE_PERSISTENCE")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&child.stderr);
    assert!(child.status.success(), "{stderr}");
    assert_eq!(stderr.trim(), "", "proptest printed on stderr");
}
