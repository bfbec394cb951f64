//! proptest reads `PROPTEST_*` variables into its default configuration; the ones that would
//! change how a workload runs (how many, how far they shrink, forking, timeouts) must not change
//! a verdict. One test in a binary of its own, as it sets the process's environment before
//! proptest first reads it.

use joincheck::check::proptest::{self, workloads, ProptestOptions};
use joincheck::service::{EventSourced, Naive};
use joincheck_models::verdict::{Replay, Verdict};

#[test]
fn proptest_variables_change_no_verdict() {
    for (variable, value) in [
        ("PROPTEST_CASES", "1"),
        ("PROPTEST_MAX_SHRINK_ITERS", "1"),
        ("PROPTEST_MAX_SHRINK_TIME", "1"),
        ("PROPTEST_FORK", "true"),
        ("PROPTEST_TIMEOUT", "60000"),
    ] {
        std::env::set_var(variable, value);
    }
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
