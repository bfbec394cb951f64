use joincheck::check::shuttle::{check, ShuttleOptions, Strategy};
use joincheck::check::Scenario;
use joincheck::service::{EventSourced, Naive};
use joincheck_models::verdict::Verdict;

#[test]
fn naive_breaks_under_pct() {
    let verdict = check(Naive, &Scenario::article(), &ShuttleOptions::default());
    eprintln!("{verdict:?}");
    assert!(matches!(verdict, Verdict::Violated { .. }), "{verdict:?}");
}

#[test]
fn event_sourced_survives_random_schedules() {
    let options = ShuttleOptions {
        strategy: Strategy::Random,
        seed: 7,
        iterations: 200,
    };
    let verdict = check(
        EventSourced::GLOBAL,
        &Scenario::contended(4, 2, 2).unwrap(),
        &options,
    );
    eprintln!("{verdict:?}");
    assert!(matches!(verdict, Verdict::Holds { .. }), "{verdict:?}");
}
