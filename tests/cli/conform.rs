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

/// The report says which histories came from which workloads: the one the sizes give, and the
/// generated ones, of the same sizes as `check`'s proptest generates.
#[test]
fn conform_says_which_workloads_its_histories_came_from() {
    let output = run(&[
        "conform",
        "--protocol",
        "event-sourced",
        "--servers",
        "3",
        "--iterations",
        "20",
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["histories"], 12_860);
    assert_eq!(report["workload_histories"], 60);
    assert_eq!(report["generated_histories"], 12_800);
    assert_eq!(
        report["generated"],
        "256 generated join workloads of up to 3 servers × 1 request each over 1 user and 2 teams"
    );
    let output = run(&["conform", "--protocol", "naive", "--iterations", "10"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    // How many runs on real threads broke naive is up to the scheduler.
    let (_, rest) = text.split_once(" of them broke the invariant):\n").unwrap();
    assert!(
        rest.starts_with(
            "  30 histories of this workload (10 random and 10 PCT shuttle schedules, 10 runs on \
             real threads)\n  12,800 histories of 256 generated join workloads of up to 2 servers \
             × 1 request each over 1 user and 2 teams (50 PCT schedules each)\nCONFORMS"
        ),
        "{text}"
    );
}

/// Sizes `check` refuses are refused; at sizes it takes, matching a history is bounded by the
/// timeout and by the memory budget, each ending the run incomplete with its report.
#[test]
fn conform_is_bounded_at_every_size() {
    assert_bad_input(
        &[
            "conform",
            "--protocol",
            "event-sourced",
            "--servers",
            "8",
            "--users",
            "8",
            "--teams",
            "8",
            "--requests",
            "1",
            "--iterations",
            "1",
            "--timeout",
            "5",
        ],
        "one state of the event-sourced protocol at these sizes needs 156 bits, more than the \
         127 a packed state holds",
    );
    let big = [
        "conform",
        "--protocol",
        "event-sourced",
        "--servers",
        "4",
        "--users",
        "4",
        "--teams",
        "4",
        "--requests",
        "3",
        "--iterations",
        "1",
    ];
    let started = std::time::Instant::now();
    let output = run(&[&big[..], &["--timeout", "1"]].concat());
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    let text = stdout(&output);
    assert!(
        text.contains("\nINCOMPLETE  stopped by the timeout "),
        "{text}"
    );
    // The schedules are seeded: the first random one already has more candidates than room.
    let output = run(&[&big[..], &["--max-memory", "32.1M", "--timeout", "60"]].concat());
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.contains(
            "\nINCOMPLETE  stopped by the memory limit (104,857 bytes: room for 463 candidate \
             model states at once) while matching a history of shuttle, random, seed 42, schedule "
        ) && text.ends_with(
            "; the limit is the memory budget of 32.1 MiB (--max-memory), less the process's \
             own 32.0 MiB\n"
        ),
        "{text}"
    );
}

/// On SQLite the statements are matched in the model's terms: a history that is not a path of
/// the model is never what a built-in SQL service shows (the run may stop at its timeout first,
/// which says incomplete). A protocol without an SQL service is refused in one line.
#[test]
fn the_sql_services_conform_to_their_models_on_sqlite() {
    let output = run(&[
        "conform",
        "--protocol",
        "naive",
        "--database",
        "sqlite",
        "--iterations",
        "5",
        "--timeout",
        "3",
        "--format",
        "json",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["database"], "sqlite");
    assert_ne!(report["status"], "not-conforming", "{report}");
    assert!(report["histories"].as_u64().unwrap() >= 15, "{report}");
    assert!([Some(0), Some(3)].contains(&output.status.code()));
    assert_bad_input(
        &[
            "conform",
            "--protocol",
            "lease-lock",
            "--database",
            "sqlite",
        ],
        "lease-lock on sqlite: exists in memory only: a lease needs a clock",
    );
}
