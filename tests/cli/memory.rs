//! The memory the model checker may take: `--max-memory`, `--threads`, and the address-space
//! limit, each ending a check inconclusive with the report rather than aborting it.

use super::util::*;
use serde_json::Value;

/// A check on the model alone that the memory budget stops, saying what the budget has room for.
#[test]
fn a_memory_budget_ends_a_model_check_inconclusive_and_names_the_budget() {
    let output = run(&[
        "check",
        "--protocol",
        "event-sourced",
        "--engine",
        "model",
        "--servers",
        "3",
        "--users",
        "3",
        "--teams",
        "3",
        "--requests",
        "2",
        "--threads",
        "2",
        "--max-memory",
        "40M",
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let document: Value = serde_json::from_slice(&output.stdout).unwrap();
    let result = &document["results"][0];
    assert_eq!(result["verdict"], "inconclusive");
    // 8 MiB beyond the process's 32, at 128 + 30 × 32 = 1,088 bytes a state while the states fit
    // in the threads' rounds: 7,710.
    assert_eq!(
        result["reason"],
        "stopped by the memory budget of 40.0 MiB (--max-memory), which has room for 7,710 \
         states at these sizes (128 bytes each, and 32 for each of the 30 successors of a state \
         being expanded, 131,072 at a time on 2 threads, once the process's own 32.0 MiB is set \
         aside), after 7,710 distinct states (25,813 generated); every state up to 3 steps deep \
         was found, deeper ones were not"
    );
    assert_eq!(result["statistics"]["unique_states"], 7_710);
    // A budget with no room for a state is refused before anything runs.
    assert_bad_input(
        &["check", "--engine", "model", "--max-memory", "1K"],
        "--max-memory 1.0 KiB leaves the model checker no room for a state: it needs 32.0 MiB \
         for itself, then 320 bytes a state at these sizes on ",
    );
    assert_bad_input(
        &["check", "--database", "memory", "--max-memory", "2X"],
        "`2X` is not an amount of memory: give a number with K, M, G, T or P, as in 2G",
    );
}

/// Many threads cost round buffers only as there are states to fill them: 400 threads finish
/// the check one thread finishes, within the same default budget.
#[test]
fn many_threads_leave_room_for_the_states() {
    let output = run(&[
        "check",
        "--protocol",
        "event-sourced",
        "--engine",
        "model",
        "--servers",
        "3",
        "--users",
        "3",
        "--teams",
        "3",
        "--requests",
        "2",
        "--threads",
        "400",
        "--max-memory",
        "2G",
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let document: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(document["results"][0]["verdict"], "holds");
    assert_eq!(
        document["results"][0]["statistics"]["unique_states"],
        1_799_380
    );
}

/// `ulimit -v` is a limit of its own: the default budget is half the room it leaves, and a
/// budget given beyond it ends in an inconclusive verdict with the report when the system
/// refuses the memory, never in an abort.
#[test]
fn the_address_space_limit_bounds_the_model_check_and_a_refused_allocation_is_inconclusive() {
    let check = |extra: &str| {
        let script = format!(
            "ulimit -v 1000000; exec {} check --protocol event-sourced --engine model --servers \
             4 --users 4 --teams 4 --requests 2 --threads 1 --format json {extra}",
            env!("CARGO_BIN_EXE_joincheck")
        );
        let output = std::process::Command::new("sh")
            .args(["-c", &script])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
        let document: Value = serde_json::from_slice(&output.stdout).unwrap();
        document["results"][0]["reason"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let reason = check("");
    assert!(
        reason.starts_with("stopped by the memory budget of ")
            && reason.contains(
                " MiB (half the room the address-space limit (ulimit -v) leaves; set it with \
                 --max-memory), which has room for "
            ),
        "{reason}"
    );
    let reason = check("--max-memory 100G");
    assert!(
        reason.starts_with("stopped by the memory the system gives (it refused ")
            && reason.contains(" bytes more) after "),
        "{reason}"
    );
}
