//! Flags and expectations as documented: what applies, what is refused, what the sizes mean.

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

#[test]
fn a_flag_beats_the_engines_environment_which_is_ignored_with_a_warning() {
    let shuttle = [
        "check",
        "--database",
        "memory",
        "--protocol",
        "event-sourced",
        "--engine",
        "shuttle",
    ];
    let output = joincheck()
        .args(shuttle)
        .args(["--iterations", "10", "--seed", "9"])
        .env("SHUTTLE_RANDOM_SEED", "7")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("no violation in 10 schedules (PCT depth 3, seed 9)"),
        "{}",
        stdout(&output)
    );
    assert_eq!(
        stderr(&output),
        "joincheck: ignoring SHUTTLE_RANDOM_SEED: joincheck's flags set every engine setting \
         (see `joincheck check --help`)\n"
    );
    // Values loom, shuttle and proptest could not parse stop nothing, and none changes a
    // check: they are not read.
    let output = joincheck()
        .args([
            "check",
            "--database",
            "memory",
            "--protocol",
            "event-sourced",
            "--engine",
            "loom,proptest",
        ])
        .env("SHUTTLE_RANDOM_SEED", "abc")
        .env("LOOM_MAX_PREEMPTIONS", "0")
        .env("PROPTEST_CASES", "abc")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    // A run over a second long (a loaded machine) shows its progress too.
    let warnings: String = stderr(&output)
        .lines()
        .filter(|line| !is_progress(line))
        .map(|line| format!("{line}\n"))
        .collect();
    assert_eq!(
        warnings,
        "joincheck: ignoring LOOM_MAX_PREEMPTIONS, PROPTEST_CASES, SHUTTLE_RANDOM_SEED: \
         joincheck's flags set every engine setting (see `joincheck check --help`)\n"
    );
    let out = stdout(&output);
    assert!(
        out.contains("event-sourced · loom: holds — all interleavings of server-1"),
        "{out}"
    );
    assert!(
        out.contains("event-sourced · proptest: holds — no violation in 256 generated workloads"),
        "{out}"
    );
    for command in [
        &["stress", "--database", "memory", "--requests", "10"][..],
        &["bench", "--quick"][..],
    ] {
        let output = joincheck()
            .args(command)
            .env("LOOM_MAX_BRANCHES", "many")
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{command:?}");
    }
}

#[test]
fn flags_no_running_engine_uses_are_named_in_one_line() {
    let output = check_in_memory(&[
        "--protocol",
        "event-sourced",
        "--engine",
        "shuttle",
        "--iterations",
        "10",
        "--symmetry",
        "--max-states",
        "5",
        "--threads",
        "1",
    ]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        stderr(&output),
        "joincheck: ignoring --symmetry (model only), --threads (model only), --max-states \
         (model only): no engine that uses them runs here\n"
    );
    let output = run(&[
        "check",
        "--engine",
        "model",
        "--iterations",
        "5",
        "--cases",
        "3",
        "--preemption-bound",
        "1",
    ]);
    assert_eq!(
        stderr(&output),
        "joincheck: ignoring --preemption-bound (loom only), --iterations (shuttle only), \
         --cases (proptest only): no engine that uses them runs here\n"
    );
    let quiet = run(&[
        "check",
        "--engine",
        "model",
        "--symmetry",
        "--timeout",
        "60",
    ]);
    assert_eq!(stderr(&quiet), "");
}

#[test]
fn a_timeout_too_large_says_so_and_names_the_limit() {
    assert_bad_input(
        &["check", "--database", "memory", "--timeout", "1e10"],
        "1e10 seconds is too large: the timeout is at most 1,000,000,000 seconds",
    );
    for command in ["conform", "stress"] {
        let mut args = vec![command, "--timeout", "0"];
        if command == "conform" {
            args.extend(["--protocol", "naive"]);
        }
        assert_bad_input(&args, "0 seconds: the timeout must be positive");
    }
}

#[test]
fn joincheck_alone_prints_the_usage_block() {
    let output = run(&[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stdout(&output).is_empty());
    let err = stderr(&output);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines[..3],
        [
            "Proves or refutes \"a user is on at most one team\" for join protocols run by \
             scaled-out servers",
            "",
            "Usage: joincheck <COMMAND>"
        ],
        "{err}"
    );
    assert!(lines.contains(&"Commands:"), "{err}");
    for command in ["check", "replay", "conform", "explore", "bench", "stress"] {
        assert!(
            lines
                .iter()
                .any(|line| line.starts_with(&format!("  {command} "))),
            "{command}: {err}"
        );
    }
}

#[test]
fn help_is_true_of_every_command() {
    let help = |command: &[&str]| stdout(&run(&[command, &["--help"]].concat()));
    let conform = help(&["conform"]);
    assert!(!conform.contains("loom"), "{conform}");
    assert!(conform.contains("Servers racing (2 to 8"), "{conform}");
    let explore = help(&["explore"]);
    assert!(!explore.contains("loom"), "{explore}");
    assert!(
        explore.contains("/.status gives max_depth in steps, as `check` does"),
        "{explore}"
    );
    for command in ["check", "replay", "conform", "explore", "bench", "stress"] {
        assert!(help(&[command]).contains("Exit status: "), "{command}");
    }
    let stress = help(&["stress"]);
    for range in ["(1 to 10,000,000)", "(1 to 255)", "(1 to 64)"] {
        assert!(stress.contains(range), "{range}: {stress}");
    }
    let check = help(&["check"]);
    for range in [
        "worker threads, 1 to 1,024",
        "how many PCT schedules to try, 1 to 1,000,000,000",
        "how many workloads to generate, 1 to 1,000,000",
        "at most B preemptions, 0 to 100",
        "at most 1024P",
    ] {
        assert!(check.contains(range), "{range}: {check}");
    }
    // What help says of where a protocol breaks is the registry's and the models' (a unit test
    // holds the models to it), in check's list and in stress's exit status alike.
    let broken: Vec<&str> = joincheck::protocols::ALL
        .into_iter()
        .filter(|p| {
            let known = joincheck::protocols::known((*p).into(), None);
            known.why_broken().is_some()
        })
        .map(|p| p.name())
        .collect();
    assert_eq!(
        broken,
        [
            "naive",
            "event-sourced-per-team",
            "lease-lock",
            "lease-lock-fenced"
        ]
    );
    for name in &broken {
        let listed = check
            .lines()
            .find(|line| line.trim_start().starts_with(&format!("- {name}:")))
            .unwrap();
        assert!(
            listed.ends_with(
                ": violated with 2 or more servers and 2 or more teams, holds otherwise"
            ),
            "{listed}"
        );
    }
    assert!(
        stress.contains(
            "those known to break may break (in memory and on\nSQLite: naive, \
             event-sourced-per-team, lease-lock and lease-lock-fenced; on PostgreSQL also \
             naive-transaction and naive-repeatable-read and naive-one-statement)"
        ),
        "{stress}"
    );
    assert!(
        check.contains(
            "[default: violated for the protocols known to break (naive, event-sourced-per-team, \
             lease-lock and lease-lock-fenced) with 2 or more servers and 2 or more teams"
        ),
        "{check}"
    );
    let top = help(&[]);
    assert!(
        top.contains(
            "a violation where holds was expected, or holds where\n  a violation was expected"
        ),
        "{top}"
    );
    // Every protocol the registry has, in every command that takes one.
    for command in ["check", "conform", "explore"] {
        let text = help(&[command]);
        for protocol in joincheck::protocols::ALL {
            assert!(
                text.contains(&format!("- {}:", protocol.name())),
                "{command} --help lacks {protocol}"
            );
        }
    }
    // The examples run as printed: two users in the workload, and the saved file replays.
    let output = check_in_memory(&[
        "--engine",
        "shuttle",
        "--servers",
        "4",
        "--users",
        "2",
        "--requests",
        "2",
        "--iterations",
        "10000",
        "--seed",
        "7",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("join john → team-B"),
        "{}",
        stdout(&output)
    );
    let check = help(&["check"]);
    assert!(
        check.contains("check --engine shuttle --servers 4 --users 2 --requests 2"),
        "{check}"
    );
}

#[test]
fn protocols_and_engines_take_lists() {
    let output = check_in_memory(&[
        "--protocol",
        "naive,event-sourced",
        "--engine",
        "loom,model",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let out = stdout(&output);
    let rows: Vec<(String, String)> = out
        .lines()
        .filter(|line| line.ends_with("✓ as expected"))
        .map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            (words[0].to_string(), words[2].to_string())
        })
        .collect();
    let expected = [
        ("naive", "model"),
        ("naive", "loom"),
        ("event-sourced", "model"),
        ("event-sourced", "loom"),
    ]
    .map(|(p, e)| (p.to_string(), e.to_string()));
    assert_eq!(rows, expected);
    assert!(out.contains("all 4 verdicts as expected"), "{out}");
}

/// The packing limit is the model engine's, per protocol: with `--engine all` the model is
/// skipped for the protocols too wide to pack (saying why), and the other engines still run.
#[test]
fn a_state_too_wide_to_pack_skips_the_model_engine_not_the_others() {
    let output = joincheck()
        .args([
            "check",
            "--database",
            "memory",
            "--protocol",
            "naive",
            "--engine",
            "shuttle",
        ])
        .args(["--servers", "8", "--users", "8", "--teams", "8"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let output = joincheck()
        .args([
            "check",
            "--database",
            "memory",
            "--servers",
            "8",
            "--users",
            "8",
            "--teams",
            "8",
            "--requests",
            "15",
        ])
        // One lease expiry per run among 8 servers: PCT needs more than the default 1,000
        // schedules to put it between a check and its push (lease-lock-fenced: schedule 1,678).
        .args(["--iterations", "3000"])
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let skipped: Vec<String> = report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|skip| format!("{}: {}", skip["engine"], skip["reason"]))
        .collect();
    // loom and dpor (--engine all runs it only where loom runs); then the model for each
    // protocol too wide, but for the SQL-only ones, which have no model and no service in memory
    // (one line each for all five).
    assert_eq!(skipped.len(), 4 + protocol_names().len(), "{skipped:?}");
    assert_eq!(
        skipped[1],
        "\"dpor\": \"--engine all runs it only where loom runs, at most 4 servers (these are \
         8); --engine dpor runs it at any size\""
    );
    assert!(
        skipped[2].contains("naive: one state of the naive protocol"),
        "{skipped:?}"
    );
}

/// `--engine all` runs dpor only where loom runs: at 4 servers a lease's clock leaves loom no
/// thread, so both are skipped for the lease locks, saying why, and dpor still runs naive.
#[test]
fn the_engines_of_all_run_dpor_only_where_loom_runs() {
    let output = joincheck()
        .args([
            "check",
            "--database",
            "memory",
            "--protocol",
            "naive,lease-lock",
        ])
        .args(["--servers", "4", "--iterations", "10", "--cases", "2"])
        .args(["--format", "json"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let skipped: Vec<String> = report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|skip| format!("{}: {}", skip["engine"], skip["reason"]))
        .collect();
    assert_eq!(
        skipped,
        [
            "\"loom\": \"lease-lock: 4 servers is more than loom can check (at most 3): its \
             service's environment (a lease's clock) takes a thread\"",
            "\"dpor\": \"lease-lock: --engine all runs it only where loom runs, and loom takes at \
             most 3 servers here (a lease's clock takes a thread); --engine dpor runs it at any \
             size\""
        ]
    );
    let dpor: Vec<&str> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|result| result["engine"] == "dpor")
        .map(|result| result["protocol"].as_str().unwrap())
        .collect();
    assert_eq!(dpor, ["naive"]);
}

/// With one team nobody can be on two teams: naive is expected to hold there, and does.
#[test]
fn naive_is_expected_to_hold_on_one_team() {
    let output = joincheck()
        .args([
            "check",
            "--database",
            "memory",
            "--protocol",
            "naive",
            "--teams",
            "1",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    for result in report["results"].as_array().unwrap() {
        assert_eq!(result["expected"], "holds", "{result}");
        assert_eq!(result["verdict"], "holds", "{result}");
    }
}

/// `--max-states M` stores at most M states: the check stops at the limit, not a level later.
#[test]
fn a_state_limit_stops_at_the_limit() {
    let output = joincheck()
        .args(["check", "--protocol", "event-sourced", "--engine", "model"])
        .args([
            "--servers",
            "3",
            "--users",
            "3",
            "--teams",
            "3",
            "--requests",
            "2",
        ])
        .args(["--threads", "1", "--max-states", "1000", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let result = &report["results"][0];
    assert_eq!(result["statistics"]["unique_states"], 1000);
    assert_eq!(
        result["reason"],
        "stopped by the state limit (1,000) after 1,000 distinct states (3,943 generated); every \
         state up to 2 steps deep was found, deeper ones were not"
    );
}

/// `--leaves` lets every request of the model be a join or a leave: the same verdicts, more
/// states (exact, without and with symmetry), and every report says leaves were on.
#[test]
fn leaves_let_every_request_of_the_model_be_a_join_or_a_leave() {
    let check = |symmetry: &[&str]| {
        let sizes = [
            "--servers",
            "2",
            "--users",
            "2",
            "--teams",
            "2",
            "--requests",
            "2",
        ];
        let args = [
            &["check", "--engine", "model", "--leaves"][..],
            &sizes,
            symmetry,
        ]
        .concat();
        let output = run(&[&args[..], &["--format", "json"]].concat());
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let report: Value = serde_json::from_slice(&output.stdout).unwrap();
        let results = report["results"].as_array().unwrap().clone();
        for result in &results {
            assert_eq!(result["status"], "as-expected", "{result}");
            assert_eq!(
                result["parameters"],
                "2 servers, 2 users, 2 teams, 2 requests each (joins and leaves)"
            );
            if result["verdict"] == "holds" {
                let scope = result["scope"].as_str().unwrap();
                assert!(
                    scope.contains("2 requests each (joins and leaves)"),
                    "{scope}"
                );
            }
        }
        results
            .iter()
            .map(|r| format!("{} {}", r["protocol"], r["statistics"]["unique_states"]))
            .collect::<Vec<_>>()
    };
    let expected = |counts: [u64; 9]| {
        protocol_names()
            .iter()
            .zip(counts)
            .map(|(name, count)| format!("\"{name}\" {count}"))
            .collect::<Vec<_>>()
    };
    let all = [339, 3_541, 1_897, 509, 65, 65, 4_958, 7_826, 47_755];
    assert_eq!(check(&[]), expected(all));
    let reduced = [55, 477, 265, 76, 19, 19, 637, 993, 6_015];
    assert_eq!(check(&["--symmetry"]), expected(reduced));
    let text = stdout(&run(&[
        "check", "--engine", "model", "--leaves", "--color", "never",
    ]));
    assert!(
        text.starts_with(
            "joincheck · 2 servers, 1 user, 2 teams, 1 request each\n\
             model: every choice of join or leave, user and team for every request\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("naive · exhaustive model check · 2 servers, 1 user, 2 teams, 1 request each (joins and leaves)\n"),
        "{text}"
    );
}

/// `--leaves` is the model's: named in one line when no model check runs, and refused where a
/// log with one event per request would outgrow a state.
#[test]
fn leaves_are_the_models_and_refused_where_the_log_cannot_hold_them() {
    let output = check_in_memory(&[
        "--protocol",
        "naive",
        "--engine",
        "shuttle",
        "--leaves",
        "--iterations",
        "10",
    ]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        stderr(&output),
        "joincheck: ignoring --leaves (model only): no engine that uses it runs here\n"
    );
    let too_many = [
        "--servers",
        "3",
        "--users",
        "3",
        "--teams",
        "3",
        "--requests",
        "3",
    ];
    let refused = [
        &[
            "check",
            "--protocol",
            "event-sourced",
            "--engine",
            "model",
            "--leaves",
        ][..],
        &too_many,
    ]
    .concat();
    assert_bad_input(
        &refused,
        "with leaves, the log of the event-sourced protocol can grow to 9 events at these sizes \
         (one per request), more than the 8 a state has room for; use fewer servers or requests",
    );
    // With every engine, the model is skipped for that protocol alone, saying why.
    let output = check_in_memory(&[
        "--protocol",
        "naive,event-sourced",
        "--leaves",
        "--servers",
        "5",
        "--teams",
        "1",
        "--requests",
        "2",
        "--iterations",
        "10",
        "--cases",
        "1",
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let skipped: Vec<String> = report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|skip| format!("{}: {}", skip["engine"], skip["reason"]))
        .collect();
    assert_eq!(
        skipped,
        [
            "\"loom\": \"5 servers is more than loom can check (at most 4)\"",
            "\"dpor\": \"--engine all runs it only where loom runs, at most 4 servers (these are \
             5); --engine dpor runs it at any size\"",
            "\"model\": \"event-sourced: with leaves, the log of the event-sourced protocol can \
             grow to 10 events at these sizes (one per request), more than the 8 a state has \
             room for; use fewer servers or requests\""
        ]
    );
    let models: Vec<&Value> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|result| result["engine"] == "model")
        .collect();
    assert_eq!(models.len(), 1);
    assert_eq!(models[0]["protocol"], "naive");
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
