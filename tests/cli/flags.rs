//! Flags and expectations as documented: what applies, what is refused, what the sizes mean.

use super::util::*;
use serde_json::Value;

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
