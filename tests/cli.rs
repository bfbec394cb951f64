//! The `joincheck` binary, run as a user runs it: exit codes, renderings, files, replay, explorer,
//! benchmark and every kind of bad input. Sizes are small so the whole file runs in seconds.

use serde_json::Value;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn joincheck() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_joincheck"));
    command
        .env_remove("NO_COLOR")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("SHUTTLE_RANDOM_SEED");
    command
}

fn run(args: &[&str]) -> Output {
    joincheck().args(args).output().expect("joincheck runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A fresh, empty directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("joincheck-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Asserts exit status 2 with exactly one line on stderr mentioning `needle`.
fn assert_bad_input(args: &[&str], needle: &str) {
    let output = run(args);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{args:?}: {err}");
    assert_eq!(err.lines().count(), 1, "{args:?}: not one line: {err}");
    assert!(err.starts_with("joincheck: "), "{args:?}: {err}");
    assert!(err.contains(needle), "{args:?}: {err:?} lacks {needle:?}");
    assert!(stdout(&output).is_empty(), "{args:?}");
}

const NAIVE_MODEL_TRACE: &str = "\
naive · exhaustive model check · 2 servers, 1 user, 2 teams, 1 request each
VIOLATED  a user is on at most one team — shortest counterexample, 4 steps
   1  server-1  check  is sue on a team?   no
   2  server-2  check  is sue on a team?   no
   3  server-1  act    push sue → team-A   sue ∈ {team-A}
   4  server-2  act    push sue → team-B   sue ∈ {team-A, team-B}   ✗
broken: sue ∈ {team-A, team-B}
why: server-2 acted at step 4 on what it read at step 2; step 3 made that read stale.
";

#[test]
fn check_without_arguments_runs_everything_and_exits_0() {
    let output = run(&["check"]);
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{out}\n{}", stderr(&output));
    let protocols = [
        "naive",
        "event-sourced",
        "event-sourced-per-user",
        "lease-lock",
        "lease-lock-fenced",
        "lease-lock-fenced-reads",
    ];
    for protocol in protocols {
        for engine in ["model", "loom", "shuttle", "proptest"] {
            let row = out
                .lines()
                .find(|line| {
                    let words: Vec<&str> = line.split_whitespace().collect();
                    words.len() > 2 && words[0] == protocol && words[1] == engine
                })
                .unwrap_or_else(|| panic!("no row for {protocol} · {engine}:\n{out}"));
            let broken = ["naive", "lease-lock", "lease-lock-fenced"];
            let expected = if broken.contains(&protocol) {
                "violated"
            } else {
                "holds"
            };
            assert!(
                row.contains(&format!("{expected:12}  {expected:8}")),
                "{row}"
            );
            assert!(row.ends_with("✓ as expected"), "{row}");
        }
    }
    assert!(out.contains(NAIVE_MODEL_TRACE), "{out}");
    assert!(out.contains("all 24 verdicts as expected"), "{out}");
    assert!(
        !out.contains('\x1b'),
        "no colour when stdout is not a terminal"
    );
}

#[test]
fn text_trace_of_the_model_is_the_design_rendering() {
    let output = run(&["check", "--protocol", "naive", "--engine", "model"]);
    assert_eq!(output.status.code(), Some(0));
    let out = stdout(&output);
    let hint = "replay: add --out DIR to save it, then joincheck replay DIR/naive-model.json\n";
    assert!(out.contains(&format!("{NAIVE_MODEL_TRACE}{hint}")), "{out}");
    assert!(out.contains("naive · model: violated — shortest counterexample of 4 steps below"));
}

#[test]
fn expecting_a_violation_that_does_not_happen_exits_1() {
    let output = run(&[
        "check",
        "--protocol",
        "event-sourced",
        "--engine",
        "model",
        "--expect",
        "violated",
    ]);
    // The invariant holds, so expecting a violation fails the gate, with no trace printed.
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output)
        .contains("1 of 1 verdicts differ from what was expected: event-sourced · model (expected violated, got holds)"));
}

#[test]
fn expecting_holds_of_naive_fails_the_ci_gate() {
    let output = run(&[
        "check",
        "--protocol",
        "naive",
        "--engine",
        "model",
        "--expect",
        "holds",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let out = stdout(&output);
    assert!(out.contains("✗ UNEXPECTED"), "{out}");
    assert!(
        out.contains("naive · model (expected holds, got violated)"),
        "{out}"
    );
}

#[test]
fn json_is_one_versioned_document_with_the_statistics() {
    let output = run(&[
        "check",
        "--protocol",
        "naive",
        "--engine",
        "model",
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(0));
    assert!(stderr(&output).is_empty());
    let document: Value = serde_json::from_slice(&output.stdout).expect("stdout is JSON");
    assert_eq!(document["version"], 1);
    assert_eq!(document["sizes"]["servers"], 2);
    let result = &document["results"][0];
    assert_eq!(result["verdict"], "violated");
    assert_eq!(result["engine"], "model");
    assert_eq!(result["protocol"], "naive");
    assert_eq!(result["expected"], "violated");
    assert_eq!(result["status"], "as-expected");
    assert_eq!(result["statistics"]["unique_states"], 24);
    assert_eq!(result["statistics"]["max_depth"], 4);
    let steps = result["counterexample"]["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 4);
    assert_eq!(steps[0]["detail"], "is sue on a team?");
    assert_eq!(result["counterexample"]["replay"]["kind"], "model-path");
    assert_eq!(document["summary"]["exit_code"], 0);
    let push = |server: &str, team: &str, after: Value| {
        serde_json::json!({
            "server": server, "operation": "act", "detail": format!("push sue → {team}"),
            "arguments": { "team": team, "user": "sue" }, "result": "ok", "conflict": false,
            "membership_after": after,
        })
    };
    let check = |server: &str| {
        serde_json::json!({
            "server": server, "operation": "check", "detail": "is sue on a team?",
            "arguments": { "user": "sue" }, "result": "no", "conflict": false,
            "membership_after": [],
        })
    };
    let a = serde_json::json!({ "team": "team-A", "user": "sue" });
    let b = serde_json::json!({ "team": "team-B", "user": "sue" });
    let expected = serde_json::json!({
        "version": 2,
        "protocol": "naive",
        "engine": "model",
        "parameters": "2 servers, 1 user, 2 teams, 1 request each",
        "violation": { "user": "sue", "teams": ["team-A", "team-B"] },
        "steps": [
            check("server-1"),
            check("server-2"),
            push("server-1", "team-A", serde_json::json!([a.clone()])),
            push("server-2", "team-B", serde_json::json!([a, b])),
        ],
        "replay": {
            "kind": "model-path",
            "sizes": [2, 1, 2, 1],
            "actions": [
                "server-1 check sue → team-A",
                "server-2 check sue → team-B",
                "server-1 act",
                "server-2 act"
            ],
        },
    });
    assert_eq!(result["counterexample"], expected);
}

#[test]
fn the_model_check_gives_the_reference_state_count() {
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
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let document: Value = serde_json::from_slice(&output.stdout).unwrap();
    let result = &document["results"][0];
    assert_eq!(result["verdict"], "holds");
    // Spin's count for the same semantics.
    assert_eq!(result["statistics"]["unique_states"], 1_799_380);
    assert_eq!(
        result["scope"],
        "all interleavings of 3 servers × 3 users × 3 teams × 2 requests each"
    );
}

#[test]
fn mermaid_format_is_markdown_with_a_sequence_diagram() {
    let output = run(&[
        "check",
        "--protocol",
        "naive",
        "--engine",
        "model",
        "--format",
        "mermaid",
    ]);
    assert_eq!(output.status.code(), Some(0));
    let out = stdout(&output);
    assert!(out.starts_with("### joincheck · 2 servers, 1 user, 2 teams, 1 request each\n"));
    assert!(
        out.contains("| naive | model | violated | violated | 24 | 4 | - |"),
        "{out}"
    );
    assert!(out.contains(
        "```mermaid\nsequenceDiagram\n    participant S1 as server-1\n    participant S2 as server-2\n    participant DB as database\n    S1->>DB: 1. is sue on a team?\n    DB-->>S1: no\n"
    ), "{out}");
    assert!(
        out.contains("    DB-->>S2: sue ∈ {team-A, team-B} ✗\n"),
        "{out}"
    );
}

#[test]
fn the_github_job_summary_gets_the_mermaid_report() {
    let dir = scratch("summary");
    let summary = dir.join("summary.md");
    std::fs::write(&summary, "# earlier step\n").unwrap();
    let output = joincheck()
        .args([
            "check",
            "--protocol",
            "naive",
            "--engine",
            "model",
            "--format",
            "json",
        ])
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let written = std::fs::read_to_string(&summary).unwrap();
    assert!(
        written.starts_with("# earlier step\n### joincheck"),
        "{written}"
    );
    assert!(written.contains("```mermaid\nsequenceDiagram"), "{written}");
    serde_json::from_slice::<Value>(&output.stdout).expect("stdout stays pure JSON");
}

#[test]
fn colour_only_when_asked_or_on_a_terminal_and_never_with_no_color() {
    let args = ["check", "--protocol", "naive", "--engine", "model"];
    let always = joincheck()
        .args(args)
        .args(["--color", "always"])
        .output()
        .unwrap();
    assert!(stdout(&always).contains("\x1b[1;31mviolated"));
    let piped = run(&args);
    assert!(!stdout(&piped).contains('\x1b'));
    let no_color = joincheck()
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!stdout(&no_color).contains('\x1b'));
}

#[test]
fn out_dir_files_replay_to_the_identical_trace_for_every_engine() {
    let dir = scratch("replay");
    let out = dir.join("counterexamples");
    let out_arg = out.to_str().unwrap();
    let output = run(&["check", "--protocol", "naive", "--out", out_arg]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    for engine in ["model", "loom", "shuttle", "proptest"] {
        let json = out.join(format!("naive-{engine}.json"));
        let saved = std::fs::read_to_string(out.join(format!("naive-{engine}.txt"))).unwrap();
        assert!(
            saved.ends_with(&format!("replay: joincheck replay {}\n", json.display())),
            "{saved}"
        );
        assert!(
            stdout(&output).contains(&saved),
            "the printed trace is the saved one"
        );
        let document: Value =
            serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        assert_eq!(document["version"], 2);
        assert_eq!(document["engine"], engine);
        let replayed = run(&["replay", json.to_str().unwrap()]);
        assert_eq!(
            replayed.status.code(),
            Some(0),
            "{engine}: {}",
            stderr(&replayed)
        );
        assert_eq!(stdout(&replayed), saved, "{engine}");
    }
    let document: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("naive-shuttle.json")).unwrap())
            .unwrap();
    assert_eq!(document["replay"]["kind"], "shuttle-schedule");
    let join = |team: &str| serde_json::json!({ "request": "join", "user": "sue", "team": team });
    assert_eq!(
        document["scenario"],
        serde_json::json!({
            "users": 1, "teams": 2, "initial": [],
            "servers": [[join("team-A")], [join("team-B")]],
        })
    );
    // The same schedule on another workload does not replay: one line, exit 2.
    let mut edited = document.clone();
    edited["scenario"]["servers"] =
        serde_json::json!([[join("team-A")], [join("team-B")], [join("team-A")]]);
    let edited_file = dir.join("edited.json");
    std::fs::write(&edited_file, edited.to_string()).unwrap();
    assert_bad_input(
        &["replay", edited_file.to_str().unwrap()],
        "not a shuttle schedule that replays",
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// The replay file `check --out` writes for `protocol` under `engine`, as JSON.
fn saved_file(dir: &Path, protocol: &str, engine: &str) -> Value {
    let out = dir.join("saved");
    let args = ["check", "--protocol", protocol, "--engine", engine];
    let output = run(&[&args[..], &["--out", out.to_str().unwrap()]].concat());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let file = out.join(format!("{protocol}-{engine}.json"));
    serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap()
}

/// Writes `document` to `dir/name.json`; returns the path.
fn write_file(dir: &Path, name: &str, document: &Value) -> PathBuf {
    let file = dir.join(format!("{name}.json"));
    std::fs::write(&file, document.to_string()).unwrap();
    file
}

#[test]
fn a_replay_that_no_longer_breaks_exits_1() {
    let dir = scratch("fixed");
    let mut document = saved_file(&dir, "naive", "model");
    // A complete path of the event-sourced model: it ends with the invariant intact.
    document["protocol"] = "event-sourced".into();
    document["replay"]["actions"] =
        serde_json::json!(["server-1 read sue → team-A", "server-1 append"]);
    let file = write_file(&dir, "path", &document);
    let output = run(&["replay", file.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stdout(&output).contains("no longer reproduces"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_replay_reproduces_only_the_same_steps_and_violation() {
    let dir = scratch("compared");
    let model = saved_file(&dir, "naive", "model");
    let loom = saved_file(&dir, "naive", "loom");
    for (name, document) in [("model", &model), ("loom", &loom)] {
        let file = write_file(&dir, name, document);
        let output = run(&["replay", file.to_str().unwrap()]);
        assert_eq!(output.status.code(), Some(0), "{name}: {}", stderr(&output));
    }
    let edited = |document: &Value, edit: &dyn Fn(&mut Value)| {
        let mut document = document.clone();
        edit(&mut document);
        document
    };
    let executed = loom["replay"]["iteration"].as_u64().unwrap();
    let differ = "NOT REPRODUCED  the rerun differs from the file in";
    let cases: Vec<(&str, Value, String)> = vec![
        (
            "cut",
            edited(&model, &|d| d["steps"].as_array_mut().unwrap().truncate(2)),
            format!(
                "{differ} step 3: the file has no such step, the rerun has \
                 `server-1 act push sue → team-A → ok, after: team-A: sue`"
            ),
        ),
        (
            "membership",
            edited(&model, &|d| {
                d["steps"][2]["membership_after"][0]["team"] = "team-B".into()
            }),
            format!(
                "{differ} step 3: the file has `server-1 act push sue → team-A → ok, after: \
                 team-B: sue`, the rerun has `server-1 act push sue → team-A → ok, after: \
                 team-A: sue`"
            ),
        ),
        (
            "violation",
            edited(&model, &|d| d["violation"]["user"] = "john".into()),
            format!(
                "{differ} the violation: the file has john ∈ {{team-A, team-B}}, the rerun \
                 has sue ∈ {{team-A, team-B}}"
            ),
        ),
        (
            "sizes",
            edited(&model, &|d| {
                d["replay"]["sizes"] = serde_json::json!([2, 1, 3, 1])
            }),
            format!(
                "{differ} what was checked: the file says `2 servers, 1 user, 2 teams, 1 \
                 request each`, the rerun checked `2 servers, 1 user, 3 teams, 1 request each`"
            ),
        ),
        (
            "execution",
            edited(&loom, &|d| d["replay"]["iteration"] = (executed + 1).into()),
            format!(
                "{differ} the loom execution: the file has execution {}, the rerun broke the \
                 invariant at execution {executed}",
                executed + 1
            ),
        ),
    ];
    for (name, document, expected) in cases {
        let file = write_file(&dir, name, &document);
        let output = run(&["replay", file.to_str().unwrap()]);
        let out = stdout(&output);
        assert_eq!(output.status.code(), Some(1), "{name}: {out}");
        assert_eq!(out.lines().next(), Some(expected.as_str()), "{name}");
        assert!(out.contains("the rerun:\nnaive · "), "{name}: {out}");
        assert!(stderr(&output).is_empty(), "{name}");
    }
    let not_a_replay = write_file(&dir, "other", &serde_json::json!({ "hello": 1 }));
    assert_bad_input(
        &["replay", not_a_replay.to_str().unwrap()],
        "not a joincheck counterexample: version null",
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn corrupt_replay_files_are_refused_in_one_line() {
    let dir = scratch("corrupt");
    let model = saved_file(&dir, "naive", "model");
    let shuttle = saved_file(&dir, "naive", "shuttle");
    let edited = |document: &Value, edit: &dyn Fn(&mut Value)| {
        let mut document = document.clone();
        edit(&mut document);
        document
    };
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "version",
            edited(&model, &|d| d["version"] = 99.into()),
            "version 99 (this joincheck reads version 2)",
        ),
        (
            "version-1",
            edited(&model, &|d| d["version"] = 1.into()),
            "version 1, written by an earlier joincheck; this joincheck reads version 2",
        ),
        (
            "protocol",
            edited(&model, &|d| d["protocol"] = "nope".into()),
            "unknown protocol `nope`",
        ),
        (
            "engine",
            edited(&model, &|d| d["engine"] = "tla".into()),
            "unknown engine `tla`",
        ),
        (
            "steps",
            edited(&model, &|d| {
                d.as_object_mut().unwrap().remove("steps");
            }),
            "missing field `steps`",
        ),
        (
            "action",
            edited(&model, &|d| {
                d["replay"]["actions"] = serde_json::json!(["server-1 jump"])
            }),
            "`server-1 jump` is not an action",
        ),
        (
            "not-enabled",
            edited(&model, &|d| {
                d["replay"]["actions"] = serde_json::json!(["server-1 act"])
            }),
            "is not enabled here",
        ),
        (
            "schedule",
            edited(&shuttle, &|d| {
                d["replay"]["schedule"] = "zz-not-a-schedule".into()
            }),
            "not a shuttle schedule that replays: zz-not-a-schedule",
        ),
        (
            "scenario",
            edited(&shuttle, &|d| {
                d.as_object_mut().unwrap().remove("scenario");
            }),
            "no `scenario`",
        ),
        (
            "user",
            edited(&shuttle, &|d| {
                d["scenario"]["servers"][0][0]["user"] = "bob".into()
            }),
            "`bob` is not a user",
        ),
        (
            "stress",
            edited(&shuttle, &|d| {
                d["engine"] = "stress".into();
                d["replay"] = serde_json::json!({ "kind": "stress-run", "run": 3 });
            }),
            "cannot be replayed",
        ),
    ];
    for (name, document, needle) in cases {
        let file = write_file(&dir, name, &document);
        assert_bad_input(&["replay", file.to_str().unwrap()], needle);
    }
    let not_json = dir.join("not-json.json");
    std::fs::write(&not_json, "{ this is not json").unwrap();
    assert_bad_input(&["replay", not_json.to_str().unwrap()], "invalid JSON");
    assert_bad_input(
        &["replay", dir.join("missing.json").to_str().unwrap()],
        "cannot read",
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn every_bad_input_is_one_line_and_exit_2() {
    let blocker = scratch("blocker").join("a-file");
    std::fs::write(&blocker, "").unwrap();
    let unwritable = blocker.join("out");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["check", "--protocol", "mongo"],
            "unknown protocol `mongo`",
        ),
        (
            vec!["check", "--engine", "tla"],
            "invalid value 'tla' for '--engine",
        ),
        (
            vec!["check", "--servers", "0"],
            "servers must be at least 1",
        ),
        (vec!["check", "--teams", "0"], "teams must be at least 1"),
        (
            vec!["check", "--users", "9"],
            "users = 9 is above the limit of 8",
        ),
        (
            vec!["check", "--requests", "1000"],
            "requests = 1000 is above the limit of 15",
        ),
        (vec!["check", "--servers", "-3"], "'-3'"),
        (vec!["check", "--servers", "two"], "invalid value 'two'"),
        (
            vec!["check", "--engine", "loom", "--servers", "5"],
            "at most 4",
        ),
        (
            vec![
                "check",
                "--engine",
                "model",
                "--servers",
                "8",
                "--users",
                "8",
                "--teams",
                "8",
                "--requests",
                "15",
            ],
            "one state of the naive protocol at these sizes needs 160 bits",
        ),
        (
            vec!["check", "--engine", "proptest", "--servers", "1"],
            "proptest cannot check 1 server",
        ),
        (
            vec!["check", "--timeout", "0"],
            "the timeout must be positive",
        ),
        (
            vec!["check", "--timeout", "-1"],
            "the timeout must be positive",
        ),
        (vec!["check", "--format", "xml"], "invalid value 'xml'"),
        (vec!["check", "--expect", "maybe"], "invalid value 'maybe'"),
        (vec!["check", "--iterations", "0"], "'0'"),
        (
            vec!["check", "--out", unwritable.to_str().unwrap()],
            "cannot write to --out",
        ),
        (
            vec!["check", "--frobnicate"],
            "unexpected argument '--frobnicate'",
        ),
        (vec!["replay"], "FILE"),
        (vec!["explore"], "--protocol"),
        (
            vec!["explore", "--protocol", "nope"],
            "unknown protocol `nope`",
        ),
        (vec!["explore", "--protocol", "naive", "--port", "0"], "'0'"),
        (vec!["bench", "--threads", "0"], "'0'"),
        (vec!["launch"], "unrecognized subcommand 'launch'"),
    ];
    for (args, needle) in cases {
        assert_bad_input(&args, needle);
    }
}

#[test]
fn help_documents_every_flag_with_an_example() {
    let output = run(&["check", "--help"]);
    assert_eq!(output.status.code(), Some(0));
    let help = stdout(&output);
    for flag in [
        "--protocol",
        "--engine",
        "--servers",
        "--users",
        "--teams",
        "--requests",
        "--symmetry",
        "--threads",
        "--seed",
        "--iterations",
        "--cases",
        "--preemption-bound",
        "--max-states",
        "--timeout",
        "--format",
        "--out",
        "--expect",
        "--color",
    ] {
        assert!(help.contains(flag), "{flag} is not documented");
        assert!(
            help.contains(&format!("Example: {flag}")),
            "{flag} has no example"
        );
    }
    assert!(help.contains("Examples:"));
    assert!(help.contains("Exit status: 0"));
    for (command, flags) in [
        (
            "explore",
            &["--protocol", "--servers", "--port", "--lazy"][..],
        ),
        ("bench", &["--quick", "--threads"][..]),
        ("replay", &["FILE", "--on-implementation"][..]),
        (
            "conform",
            &["--protocol", "--iterations", "--seed", "--servers"][..],
        ),
        ("stress", &["--runs", "--servers", "--users", "--teams"][..]),
    ] {
        let help = stdout(&run(&[command, "--help"]));
        for flag in flags {
            assert!(help.contains(flag), "{command} {flag}");
            if flag.starts_with("--")
                && !["--lazy", "--quick", "--on-implementation"].contains(flag)
            {
                let example = format!("Example: {flag}");
                assert!(help.contains(&example), "{command} {flag} has no example");
            }
        }
        assert!(help.contains("Example: "), "{command}: {help}");
    }
    let top = stdout(&run(&["--help"]));
    for command in ["check", "replay", "conform", "explore", "bench", "stress"] {
        assert!(top.contains(command), "{command}");
    }
    assert!(
        !top.contains("bench-one"),
        "the internal command stays hidden"
    );
}

#[test]
fn a_state_limit_is_inconclusive_with_exit_3() {
    let output = run(&[
        "check",
        "--protocol",
        "event-sourced",
        "--engine",
        "model",
        "--servers",
        "3",
        "--max-states",
        "100",
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let document: Value = serde_json::from_slice(&output.stdout).unwrap();
    let result = &document["results"][0];
    assert_eq!(result["verdict"], "inconclusive");
    assert_eq!(result["status"], "inconclusive");
    assert!(result["reason"]
        .as_str()
        .unwrap()
        .contains("distinct states"));
    assert!(result["statistics"]["unique_states"].as_u64().unwrap() >= 100);
}

#[test]
fn a_bounded_loom_search_that_misses_the_expected_violation_is_inconclusive() {
    let bounded = ["check", "--protocol", "naive", "--engine", "loom"];
    let output = run(&[
        &bounded[..],
        &["--preemption-bound", "0", "--format", "json"],
    ]
    .concat());
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let document: Value = serde_json::from_slice(&output.stdout).unwrap();
    let result = &document["results"][0];
    assert_eq!(result["verdict"], "inconclusive");
    assert_eq!(result["status"], "inconclusive");
    assert_eq!(
        result["reason"],
        "a violation is expected and the loom search bounded to 0 preemptions found none; a \
         bounded search that finds nothing proves nothing"
    );
    assert_eq!(document["summary"]["unexpected"], 0);
    // One preemption is enough for the article's race: then the violation is found.
    let output = run(&[&bounded[..], &["--preemption-bound", "1"]].concat());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains("naive · loom: violated — counterexample of 4 steps"));
}

/// Big enough that no machine finishes it in the time the tests allow.
const LONG_CHECK: [&str; 13] = [
    "check",
    "--protocol",
    "event-sourced",
    "--engine",
    "model",
    "--servers",
    "5",
    "--users",
    "4",
    "--teams",
    "4",
    "--requests",
    "3",
];

#[test]
fn a_timeout_is_inconclusive_with_the_statistics_so_far_and_progress_on_stderr() {
    let output = joincheck()
        .args(LONG_CHECK)
        .args(["--timeout", "1.5", "--threads", "1", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let document: Value = serde_json::from_slice(&output.stdout).expect("stdout is only JSON");
    let result = &document["results"][0];
    assert_eq!(result["verdict"], "inconclusive");
    assert!(
        result["reason"].as_str().unwrap().contains("timeout"),
        "{result}"
    );
    assert!(result["statistics"]["unique_states"].as_u64().unwrap() > 1);
    let err = stderr(&output);
    assert!(
        err.contains("model · event-sourced: ") && err.contains("states/s"),
        "{err}"
    );
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_with_an_inconclusive_verdict_and_exit_3() {
    let child = joincheck()
        .args(LONG_CHECK)
        .args(["--threads", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let output = child.wait_with_output().unwrap();
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(3), "{out}\n{}", stderr(&output));
    assert!(
        out.contains("inconclusive — stopped by a stop request after"),
        "{out}"
    );
    assert!(out.contains("1 of 1 checks inconclusive"), "{out}");
}

#[test]
fn loom_is_skipped_not_faked_beyond_four_servers() {
    let output = run(&[
        "check",
        "--protocol",
        "event-sourced",
        "--servers",
        "5",
        "--iterations",
        "20",
        "--cases",
        "4",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let out = stdout(&output);
    assert!(out.contains("loom skipped: 5 servers is more than loom can check (at most 4)"));
    assert!(!out
        .lines()
        .any(|line| line.starts_with("event-sourced           loom")));
}

#[test]
fn on_one_server_check_then_act_is_correct() {
    let output = run(&["check", "--servers", "1", "--iterations", "20"]);
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{out}\n{}", stderr(&output));
    assert!(
        out.contains("naive · model: holds — all interleavings of 1 server"),
        "{out}"
    );
    assert!(
        out.contains("naive · shuttle: holds — no violation in 20 schedules (random"),
        "{out}"
    );
    assert!(out.contains("proptest skipped: it generates workloads of at least 2 servers"));
    assert!(
        out.contains(
            "all 18 verdicts as expected; proptest not run: it generates workloads of at least 2 \
             servers\n"
        ),
        "{out}"
    );
}

#[test]
fn bench_prints_the_table() {
    let output = run(&["bench", "--quick", "--threads", "1"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let out = stdout(&output);
    assert!(out.contains("unique") && out.contains("states/s") && out.contains("peak MB"));
    let rows: Vec<&str> = out
        .lines()
        .filter(|line| line.starts_with("naive") || line.starts_with("event-sourced"))
        .collect();
    assert_eq!(rows.len(), 3, "{out}");
    assert!(
        rows[0].contains("violated") && rows[0].contains("75"),
        "{}",
        rows[0]
    );
    assert!(
        rows[1].contains("holds") && rows[1].contains("125"),
        "{}",
        rows[1]
    );
}

/// Kills the explorer even when an assertion fails.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn http_get(port: u16, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    Some(response)
}

#[test]
fn explore_serves_stateright_explorer_with_the_naive_violation() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _explorer = Child(
        joincheck()
            .args([
                "explore",
                "--protocol",
                "naive",
                "--port",
                &port.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let started = Instant::now();
    let mut last = String::new();
    while started.elapsed() < Duration::from_secs(30) {
        if let Some(response) = http_get(port, "/.status") {
            if let Some((_, body)) = response.split_once("\r\n\r\n") {
                if let Ok(status) = serde_json::from_str::<Value>(body) {
                    let properties = status["properties"].as_array().cloned().unwrap_or_default();
                    let violated = properties.iter().any(|p| {
                        p[0] == "Always"
                            && p[1] == "a user is on at most one team"
                            && !p[2].is_null()
                    });
                    if violated && status["done"] == true {
                        assert_eq!(status["unique_state_count"], 24, "{status}");
                        let states = http_get(port, "/.states/0").unwrap_or_default();
                        assert!(states.contains("server-1 check sue → team-A"), "{states}");
                        return;
                    }
                }
                last = body.to_string();
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("no discovery of the violated property at /.status; last answer: {last}");
}

#[test]
fn explore_refuses_a_port_in_use() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    assert_bad_input(
        &["explore", "--protocol", "naive", "--port", &port],
        "cannot listen on 127.0.0.1:",
    );
}

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
    assert!(text.contains("validated 12950 histories"), "{text}");
    assert!(
        text.contains("CONFORMS  every history is a path of the model"),
        "{text}"
    );
    assert_bad_input(
        &["conform", "--protocol", "nope"],
        "unknown protocol `nope`",
    );
    assert_bad_input(
        &["conform", "--protocol", "naive", "--servers", "1"],
        "at least 2 servers",
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

/// The packing limit is the model engine's, per protocol: with `--engine all` the model is
/// skipped for the protocols too wide to pack (saying why), and the other engines still run.
#[test]
fn a_state_too_wide_to_pack_skips_the_model_engine_not_the_others() {
    let output = joincheck()
        .args(["check", "--protocol", "naive", "--engine", "shuttle"])
        .args(["--servers", "8", "--users", "8", "--teams", "8"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let output = joincheck()
        .args([
            "check",
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
    assert_eq!(skipped.len(), 7, "{skipped:?}");
    assert!(
        skipped[1].contains("naive: one state of the naive protocol"),
        "{skipped:?}"
    );
}

/// With one team nobody can be on two teams: naive is expected to hold there, and does.
#[test]
fn naive_is_expected_to_hold_on_one_team() {
    let output = joincheck()
        .args([
            "check",
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
