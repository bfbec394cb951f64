//! `SHUTTLE_RANDOM_SEED` replaces the seed inside shuttle: the report must name the seed that
//! was used, and an unreadable value stops the check with a reason instead of a panic. One test in
//! a binary of its own, as it changes the process's environment.

use joincheck::check::shuttle::{self, seed_override, ShuttleOptions, Strategy};
use joincheck::check::Scenario;
use joincheck::service::Naive;
use joincheck_models::verdict::{Replay, Verdict};

const VARIABLE: &str = "SHUTTLE_RANDOM_SEED";

#[test]
fn the_seed_shuttle_really_used_is_the_one_reported() {
    let scenario = Scenario::contended(4, 2, 2).unwrap();
    let options = |seed| {
        ShuttleOptions::default()
            .strategy(Strategy::Random)
            .seed(seed)
            .iterations(5000)
    };
    std::env::remove_var(VARIABLE);
    assert_eq!(seed_override(), Ok(None));
    assert_eq!(options(1).effective().seed, 1);
    let by_seed_9 = shuttle::check(Naive, &scenario, &options(9));

    std::env::set_var(VARIABLE, "9");
    assert_eq!(seed_override(), Ok(Some(9)));
    assert_eq!(options(1).effective().to_string(), "random, seed 9");
    let overridden = shuttle::check(Naive, &scenario, &options(1));
    assert_eq!(overridden.counterexample(), by_seed_9.counterexample());
    let found = overridden.counterexample().expect("naive breaks");
    let Replay::ShuttleSchedule { found_by, .. } = &found.replay else {
        panic!("a shuttle counterexample replays from its schedule");
    };
    assert_eq!(found_by, "random, seed 9");
    assert_eq!(overridden.stats().iterations, by_seed_9.stats().iterations);

    std::env::set_var(VARIABLE, "nine");
    assert_eq!(
        seed_override(),
        Err("SHUTTLE_RANDOM_SEED=nine is not a whole number".to_string())
    );
    assert_eq!(options(1).effective().seed, 1);
    let refused = shuttle::check(Naive, &scenario, &options(1));
    let Verdict::Inconclusive { reason, .. } = &refused else {
        panic!("expected inconclusive, got {refused:?}");
    };
    assert_eq!(
        reason,
        "shuttle stopped: SHUTTLE_RANDOM_SEED=nine is not a whole number"
    );
    std::env::remove_var(VARIABLE);
}
