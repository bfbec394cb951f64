//! `joincheck conform` and replaying a model path on the implementation.

use super::util::*;

#[test]
fn conform_validates_histories_against_the_model() {
    let output = run(&[
        "conform",
        "--protocol",
        "event-sourced",
        "--iterations",
        "50",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    // 50 random + 50 PCT schedules, 50 runs on real threads, 256 workloads × 50 PCT schedules.
    // How many steps the runs on real threads took (retries) is up to the scheduler.
    assert!(text.contains("validated 12,950 histories, "), "{text}");
    assert!(
        text.contains(" steps, against the event-sourced model (0 of them broke the invariant)"),
        "{text}"
    );
    assert!(
        text.contains("CONFORMS  every history is a path of the model"),
        "{text}"
    );
    assert_bad_input(
        &["conform", "--protocol", "nope"],
        &format!(
            "invalid value 'nope' for '--protocol <NAME>' [possible values: {}]",
            protocol_names().join(", ")
        ),
    );
    assert_bad_input(
        &["conform", "--protocol", "naive", "--servers", "1"],
        "at least 2 servers",
    );
}

/// `--leaves`: every second request of a server leaves the team its request before joined, and
/// the histories are matched against the model with leaves.
#[test]
fn conform_with_leaves_races_leaves_with_joins() {
    let args = [
        "conform",
        "--protocol",
        "event-sourced",
        "--requests",
        "2",
        "--leaves",
        "--iterations",
        "50",
    ];
    let output = run(&args);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.starts_with(
            "event-sourced · conformance · server-1: join sue → team-A, leave sue ← team-A; \
             server-2: join sue → team-B, leave sue ← team-B\nvalidated 12,950 histories, "
        ),
        "{text}"
    );
    assert!(
        text.contains(" steps, against the event-sourced model with leaves (0 of them broke"),
        "{text}"
    );
    assert!(text.ends_with("CONFORMS  every history is a path of the model\n"));
    assert_bad_input(
        &["conform", "--protocol", "naive", "--leaves"],
        "--leaves needs at least 2 requests per server (--requests 2)",
    );
}

#[test]
fn a_model_counterexample_replays_on_the_implementation_with_the_identical_trace() {
    let dir = scratch("on-implementation");
    let out = dir.to_str().unwrap();
    let args = [
        "check",
        "--protocol",
        "naive",
        "--engine",
        "model",
        "--out",
        out,
    ];
    assert_eq!(run(&args).status.code(), Some(0));
    let file = dir.join("naive-model.json");
    let file = file.to_str().unwrap();
    let on_model = stdout(&run(&["replay", file]));
    let output = run(&["replay", file, "--on-implementation"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let on_code = stdout(&output);
    let (first, trace) = on_code.split_once('\n').unwrap();
    assert!(
        first.starts_with("on the implementation: the real naive service"),
        "{first}"
    );
    assert_eq!(trace, on_model);
    assert!(trace.contains("VIOLATED"));
}
