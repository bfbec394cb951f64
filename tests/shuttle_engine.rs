//! shuttle on the real services: many servers, seeded schedules, replayable failures.

use joincheck::check::shuttle::{check, replay, EncodedSchedule, ShuttleOptions, Strategy};
use joincheck::check::{Limits, Scenario};
use joincheck::service::{EventSourced, Naive};
use joincheck_models::verdict::{Replay, Verdict};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

#[test]
fn naive_breaks_under_pct_and_the_schedule_replays_to_the_identical_history() {
    let scenario = Scenario::contended(4, 2, 2).unwrap();
    let verdict = check(Naive, &scenario, &ShuttleOptions::default());
    let Verdict::Violated { counterexample, .. } = verdict else {
        panic!("expected a violation, got {verdict:?}");
    };
    let Replay::ShuttleSchedule { schedule, found_by } = &counterexample.replay else {
        panic!("no schedule: {:?}", counterexample.replay);
    };
    assert_eq!(found_by, "PCT depth 3, seed 42");
    let replayed = replay(Naive, &scenario, &EncodedSchedule(schedule.clone())).unwrap();
    assert_eq!(replayed.steps_to_violation(), counterexample.steps);
    assert_eq!(
        replayed.violation().as_ref(),
        Some(&counterexample.violation)
    );
}

#[test]
fn the_same_seed_finds_the_same_counterexample() {
    let scenario = Scenario::contended(3, 2, 2).unwrap();
    let options = ShuttleOptions::default()
        .strategy(Strategy::Random)
        .seed(9)
        .iterations(500);
    let first = check(Naive, &scenario, &options);
    let second = check(Naive, &scenario, &options);
    assert_eq!(first.counterexample(), second.counterexample());
    assert!(first.counterexample().is_some());
}

#[test]
fn event_sourced_survives_eight_servers_and_says_it_is_evidence() {
    let options = ShuttleOptions::default()
        .strategy(Strategy::Pct { depth: 3 })
        .seed(7)
        .iterations(300);
    let scenario = Scenario::contended(8, 3, 3).unwrap();
    for service in [EventSourced::GLOBAL, EventSourced::PER_USER] {
        let verdict = check(service, &scenario, &options);
        let Verdict::Holds { scope, stats, .. } = &verdict else {
            panic!("expected holds, got {verdict:?}");
        };
        assert!(scope.starts_with("no violation in 300 schedules (PCT depth 3, seed 7)"));
        assert!(scope.ends_with("evidence, not proof"), "{scope}");
        assert_eq!(stats.iterations, Some(300));
    }
}

#[test]
fn a_corrupt_schedule_is_an_error_not_a_panic() {
    let bad = EncodedSchedule("not hex".to_string());
    assert!(replay(Naive, &Scenario::article(), &bad).is_err());
}

#[test]
fn a_stop_request_or_time_limit_is_inconclusive_with_the_schedules_so_far() {
    let scenario = Scenario::contended(4, 2, 2).unwrap();
    let stopped = ShuttleOptions::default()
        .iterations(100)
        .limits(Limits::default().stop(Arc::new(AtomicBool::new(true))));
    let verdict = check(EventSourced::GLOBAL, &scenario, &stopped);
    let Verdict::Inconclusive { reason, stats, .. } = &verdict else {
        panic!("expected inconclusive, got {verdict:?}");
    };
    assert_eq!(
        reason,
        "stopped by the stop request after 0 of 100 schedules, nothing is proved"
    );
    assert_eq!(stats.iterations, Some(0));
    let timed = ShuttleOptions::default()
        .iterations(u64::MAX)
        .limits(Limits::default().timeout(Duration::from_millis(50)));
    let verdict = check(EventSourced::GLOBAL, &scenario, &timed);
    let Verdict::Inconclusive { reason, stats, .. } = &verdict else {
        panic!("expected inconclusive, got {verdict:?}");
    };
    assert!(
        reason.starts_with("stopped by the timeout after"),
        "{reason}"
    );
    // How many schedules fit in 50 ms depends on the machine's load, even none.
    assert!(stats.iterations.is_some());
}

#[test]
fn zero_schedules_check_nothing_and_say_so() {
    let options = ShuttleOptions::default().iterations(0);
    let verdict = check(EventSourced::GLOBAL, &Scenario::article(), &options);
    let Verdict::Inconclusive { reason, .. } = &verdict else {
        panic!("expected inconclusive, got {verdict:?}");
    };
    assert_eq!(reason, "no schedule was run: nothing was checked");
}

#[test]
fn the_reported_violation_is_the_shortest_of_the_shortening_search() {
    use joincheck::check::shuttle::{explore, SHORTENING_SCHEDULES};
    use std::ops::ControlFlow;
    use std::sync::Mutex;
    let scenario = Scenario::contended(4, 2, 2).unwrap();
    let options = ShuttleOptions::default().iterations(5000);
    let verdict = check(Naive, &scenario, &options);
    let reported = verdict.counterexample().expect("naive breaks").steps.len();
    // Walk the same schedules by hand: every violation from the first one to
    // SHORTENING_SCHEDULES schedules later, and the fewest steps among them.
    let lengths: Arc<Mutex<Vec<(u64, usize)>>> = Arc::default();
    let seen = lengths.clone();
    let mut schedule = 0;
    explore(Naive, &scenario, &options, move |execution, _| {
        schedule += 1;
        if execution.violation().is_some() {
            let steps = execution.steps_to_violation().len();
            seen.lock().unwrap().push((schedule, steps));
        }
        ControlFlow::Continue(())
    })
    .unwrap();
    let lengths = lengths.lock().unwrap();
    let first = lengths[0].0;
    let shortest = lengths
        .iter()
        .filter(|(at, _)| *at <= first + SHORTENING_SCHEDULES)
        .map(|(_, steps)| *steps)
        .min()
        .unwrap();
    assert_eq!(reported, shortest);
    assert!(
        reported >= 4,
        "the naive race needs two checks and two pushes"
    );
}
