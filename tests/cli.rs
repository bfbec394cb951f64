//! The `joincheck` binary, run as a user runs it: exit codes, renderings, files, replay, explorer,
//! benchmark and every kind of bad input. Sizes are small so the whole file runs in seconds.

use serde_json::Value;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The names of every built-in protocol, in the registry's order.
fn protocol_names() -> Vec<&'static str> {
    joincheck::protocols::ALL.iter().map(|p| p.name()).collect()
}

/// Whether the model of the protocol named `name` breaks at the article's sizes.
fn breaks_at_the_articles_sizes(name: &str) -> bool {
    let protocol = joincheck_models::Protocol::parse(name).unwrap();
    let article = joincheck_models::Sizes::new(2, 1, 2, 1).unwrap();
    protocol.spec().breaks_at(article)
}

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
    for protocol in protocol_names() {
        for engine in ["model", "loom", "shuttle", "proptest"] {
            let row = out
                .lines()
                .find(|line| {
                    let words: Vec<&str> = line.split_whitespace().collect();
                    words.len() > 2 && words[0] == protocol && words[1] == engine
                })
                .unwrap_or_else(|| panic!("no row for {protocol} · {engine}:\n{out}"));
            let expected = if breaks_at_the_articles_sizes(protocol) {
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
    let verdicts = protocol_names().len() * 4;
    assert!(
        out.contains(&format!("all {verdicts} verdicts as expected")),
        "{out}"
    );
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
    assert!(stdout(&output).contains(
        "\nthe verdict differs from what was expected: event-sourced · model (expected violated, \
         got holds)\n"
    ));
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
        "not a joincheck counterexample: a JSON object without `version`",
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
    // Every protocol of the registry is offered, whatever it holds.
    let all_protocols_refusal = format!(
        "invalid value 'mongo' for '--protocol <NAMES>' [possible values: {}, all]",
        protocol_names().join(", ")
    );
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["check", "--protocol", "mongo"], &all_protocols_refusal),
        (
            vec!["check", "--protocol", "naive,mongo"],
            "invalid value 'mongo' for '--protocol <NAMES>'",
        ),
        (
            vec!["check", "--engine", "model,tla"],
            "invalid value 'tla' for '--engine <NAMES>'",
        ),
        (
            vec!["check", "--engine", "model,loom", "--servers", "5"],
            "5 servers is more than loom can check (at most 4)",
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
            "invalid value 'nope' for '--protocol <NAME>'",
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
        "--max-memory",
        "--workload",
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
        ("bench", &["--quick", "--threads", "--format"][..]),
        ("replay", &["FILE", "--on-implementation", "--format"][..]),
        (
            "conform",
            &[
                "--protocol",
                "--iterations",
                "--seed",
                "--servers",
                "--timeout",
                "--format",
            ][..],
        ),
        (
            "stress",
            &[
                "--runs",
                "--servers",
                "--users",
                "--teams",
                "--timeout",
                "--format",
            ][..],
        ),
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
    // The replay examples name a file the example before them writes.
    assert!(top.contains("joincheck check --protocol naive --out out "));
    assert!(top.contains("joincheck replay out/naive-model.json "));
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
        out.contains(&format!(
            "all {} verdicts as expected; proptest not run: it generates workloads of at \
                 least 2 servers\n",
            protocol_names().len() * 3
        )),
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

// ── Item by item: what a new user tried, and what the command now does ──

/// A check on the model alone that the memory budget stops at once.
#[test]
fn a_memory_budget_ends_a_model_check_inconclusive_and_names_the_budget() {
    let output = run(&[
        "check",
        "--protocol",
        "event-sourced",
        "--engine",
        "model",
        "--max-memory",
        "1M",
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let document: Value = serde_json::from_slice(&output.stdout).unwrap();
    let result = &document["results"][0];
    assert_eq!(result["verdict"], "inconclusive");
    assert_eq!(
        result["reason"],
        "stopped by the memory budget of 1.0 MiB (--max-memory), which leaves room for 1 state \
         (128 bytes each, after the checker's buffers), after 1 distinct state (5 generated); \
         every state up to 0 steps deep was found, deeper ones were not"
    );
    assert_eq!(result["statistics"]["unique_states"], 1);
    assert_bad_input(
        &["check", "--max-memory", "2X"],
        "`2X` is not an amount of memory: give a number with K, M, G or T, as in 2G",
    );
}

#[test]
fn a_flag_beats_the_engines_environment_which_is_ignored_with_a_warning() {
    let shuttle = [
        "check",
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
    assert_eq!(
        stderr(&output),
        "joincheck: ignoring LOOM_MAX_PREEMPTIONS, PROPTEST_CASES, SHUTTLE_RANDOM_SEED: \
         joincheck's flags set every engine setting (see `joincheck check --help`)\n"
    );
    let out = stdout(&output);
    assert!(
        out.contains("event-sourced · loom: holds — all interleavings of server-1"),
        "{out}"
    );
    assert!(
        out.contains("event-sourced · proptest: holds — no violation in 64 generated workloads"),
        "{out}"
    );
    for command in [&["stress", "--runs", "1"][..], &["bench", "--quick"][..]] {
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
    let output = run(&[
        "check",
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
        &["check", "--timeout", "1e10"],
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
fn a_proptest_counterexample_names_proptest_and_its_seed() {
    let output = run(&[
        "check",
        "--protocol",
        "naive",
        "--engine",
        "proptest",
        "--seed",
        "5",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let out = stdout(&output);
    let header = out
        .lines()
        .find(|line| line.starts_with("naive · proptest, "))
        .unwrap_or_else(|| panic!("{out}"));
    assert_eq!(
        header,
        "naive · proptest, case 4 of seed 5 (shrunk workload), shuttle random, seed 5 · server-1: \
         join sue → team-A; server-2: join sue → team-B"
    );
}

#[test]
fn the_job_summary_starts_on_its_own_line_with_scopes_reasons_and_the_summary() {
    let dir = scratch("summary-line");
    let summary = dir.join("summary.md");
    std::fs::write(&summary, "# earlier step without a final newline").unwrap();
    let output = joincheck()
        .args([
            "check",
            "--protocol",
            "event-sourced",
            "--engine",
            "model,loom",
        ])
        .args(["--servers", "3", "--max-states", "10"])
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let written = std::fs::read_to_string(&summary).unwrap();
    assert!(
        written.starts_with(
            "# earlier step without a final newline\n### joincheck · 3 servers, 1 user, 2 teams, \
             1 request each\n"
        ),
        "{written}"
    );
    assert!(
        written.contains(
            "\n- event-sourced · model: inconclusive — stopped by the state limit (10) after "
        ),
        "{written}"
    );
    assert!(
        written.contains(
            "\n- event-sourced · loom: holds — all interleavings of server-1: join sue → team-A; \
             server-2: join sue → team-B; server-3: join sue → team-A\n"
        ),
        "{written}"
    );
    assert!(
        written.contains(
            "\n**1 of 2 checks inconclusive: they stopped before covering the scope or searched \
             too little to decide, so nothing is proved there**\n"
        ),
        "{written}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn counts_read_with_separators_and_plurals() {
    let output = run(&[
        "check",
        "--protocol",
        "event-sourced",
        "--engine",
        "shuttle",
    ]);
    assert!(
        stdout(&output).contains("holds — no violation in 1,000 schedules (PCT depth 3, seed 42)"),
        "{}",
        stdout(&output)
    );
    let output = run(&["stress", "--runs", "1"]);
    let out = stdout(&output);
    assert!(out.contains("runs per service: 1\n"), "{out}");
    assert!(
        out.contains("\nevent-sourced: the invariant held in its 1 run (evidence, not proof)\n"),
        "{out}"
    );
    let output = run(&["stress", "--runs", "2000", "--servers", "2", "--users", "1"]);
    assert!(stdout(&output).contains("runs per service: 2,000\n"));
    assert!(stdout(&output)
        .contains("\nevent-sourced: the invariant held in all 2,000 runs (evidence, not proof)\n"));
    let output = run(&[
        "conform",
        "--protocol",
        "event-sourced",
        "--iterations",
        "1",
    ]);
    assert!(
        stdout(&output).contains("validated 12,803 histories, "),
        "{}",
        stdout(&output)
    );
}

#[test]
fn replay_reads_any_json_in_one_line_a_byte_order_mark_and_standard_input() {
    let dir = scratch("replay-input");
    let cases: Vec<(&str, &str, &str)> = vec![
        ("object", r#"{"a":1}"#, "a JSON object without `version`"),
        (
            "array",
            "[1,2,3]",
            "a counterexample is a JSON object, this is an array",
        ),
        (
            "null",
            "null",
            "a counterexample is a JSON object, this is null",
        ),
    ];
    for (name, contents, needle) in cases {
        let file = dir.join(format!("{name}.json"));
        std::fs::write(&file, contents).unwrap();
        assert_bad_input(&["replay", file.to_str().unwrap()], needle);
    }
    let model = saved_file(&dir, "naive", "model");
    let mut out_of_range = model.clone();
    out_of_range["replay"]["sizes"] = serde_json::json!([2, 1, 2, 300]);
    let file = write_file(&dir, "out-of-range", &out_of_range);
    assert_bad_input(
        &["replay", file.to_str().unwrap()],
        "not a joincheck counterexample: `replay`: invalid value: integer `300`, expected u8",
    );
    let mut too_big = model.clone();
    too_big["replay"]["sizes"] = serde_json::json!([9, 1, 2, 1]);
    let file = write_file(&dir, "too-big", &too_big);
    assert_bad_input(
        &["replay", file.to_str().unwrap()],
        "`replay.sizes`: servers = 9 is above the limit of 8",
    );
    let shuttle = saved_file(&dir, "naive", "shuttle");
    let mut no_users = shuttle.clone();
    no_users["scenario"]["users"] = 0.into();
    let file = write_file(&dir, "no-users", &no_users);
    assert_bad_input(
        &["replay", file.to_str().unwrap()],
        "`scenario`: unknown user sue (it declares 0 users and 2 teams)",
    );
    let text = std::fs::read_to_string(dir.join("saved/naive-model.json")).unwrap();
    let marked = dir.join("marked.json");
    std::fs::write(&marked, format!("\u{feff}{text}")).unwrap();
    let output = run(&["replay", marked.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).starts_with(NAIVE_MODEL_TRACE));
    let mut piped = joincheck()
        .args(["replay", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    piped
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = piped.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), NAIVE_MODEL_TRACE);
    let _ = std::fs::remove_dir_all(dir);
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
        explore.contains("shows one more than the steps `check` reports as depth"),
        "{explore}"
    );
    for command in ["check", "replay", "conform", "explore", "bench", "stress"] {
        assert!(help(&[command]).contains("Exit status: "), "{command}");
    }
    let stress = help(&["stress"]);
    for range in ["(1 to 10,000,000)", "(2 to 64)", "(1 to 64)"] {
        assert!(stress.contains(range), "{range}: {stress}");
    }
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
    let output = run(&[
        "check",
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
fn the_explorer_names_the_model_and_says_what_it_serves() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _explorer = Child(
        joincheck()
            .args(["explore", "--protocol", "event-sourced", "--lazy"])
            .args(["--port", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let started = Instant::now();
    let status = loop {
        if let Some(response) = http_get(port, "/.status") {
            break response;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "no answer");
        std::thread::sleep(Duration::from_millis(50));
    };
    let (head, body) = status.split_once("\r\n\r\n").unwrap();
    assert!(
        head.contains("\r\nContent-Type: application/json\r\n"),
        "{head}"
    );
    let status: Value = serde_json::from_str(body).unwrap();
    assert_eq!(
        status["model"],
        "event-sourced · 2 servers, 1 user, 2 teams, 1 request each"
    );
    let page = http_get(port, "/").unwrap();
    assert!(page.contains("\r\nContent-Type: text/html; charset=utf-8\r\n"));
    let states = http_get(port, "/.states/0").unwrap();
    assert!(states.contains("\r\nContent-Type: application/json\r\n"));
}

#[test]
fn a_workload_file_is_checked_by_loom_and_shuttle() {
    let dir = scratch("workload");
    let join = |user: &str, team: &str| serde_json::json!({ "request": "join", "user": user, "team": team });
    let leave = |user: &str, team: &str| serde_json::json!({ "request": "leave", "user": user, "team": team });
    let switching = write_file(
        &dir,
        "switching",
        &serde_json::json!({
            "users": 2, "teams": 2,
            "servers": [[join("sue", "team-A")], [leave("john", "team-A"), join("john", "team-B")]],
            "initial": [{ "team": "team-A", "user": "john" }],
        }),
    );
    let file = switching.to_str().unwrap();
    let output = run(&["check", "--workload", file, "--protocol", "event-sourced"]);
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{out}\n{}", stderr(&output));
    assert!(
        out.starts_with(&format!(
            "joincheck · the workload in {file}\nloom, shuttle: the workload server-1: join sue \
             → team-A; server-2: leave john ← team-A, join john → team-B (initially john ∈ \
             team-A)\n"
        )),
        "{out}"
    );
    assert!(
        out.contains("model skipped: the workload has leave requests"),
        "{out}"
    );
    assert!(
        out.contains("proptest skipped: it generates its own workloads"),
        "{out}"
    );
    let rows: Vec<&str> = out
        .lines()
        .filter(|line| line.ends_with("✓ as expected"))
        .collect();
    assert_eq!(rows.len(), 2, "{out}");
    assert!(rows[0].starts_with("event-sourced  loom "), "{out}");
    assert!(rows[1].starts_with("event-sourced  shuttle "), "{out}");
    // The article's race as a file: the model checks its sizes, loom and shuttle the file, and
    // a workload that breaks a protocol is reported (exit 1).
    let race = write_file(
        &dir,
        "race",
        &serde_json::json!({
            "users": 1, "teams": 2, "servers": [[join("sue", "team-A")], [join("sue", "team-B")]],
        }),
    );
    let output = run(&[
        "check",
        "--workload",
        race.to_str().unwrap(),
        "--protocol",
        "naive",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let out = stdout(&output);
    assert!(
        out.contains("naive     model     violated      violated "),
        "{out}"
    );
    assert!(
        out.contains("naive     loom      violated      holds "),
        "{out}"
    );
    let cases: Vec<(Vec<&str>, String)> = vec![
        (
            vec!["check", "--workload", file, "--engine", "model"],
            "the model cannot check this workload: the workload has leave requests".to_string(),
        ),
        (
            vec!["check", "--workload", file, "--engine", "proptest"],
            "proptest cannot check a --workload".to_string(),
        ),
        (
            vec!["check", "--workload", file, "--servers", "3"],
            "'--workload <FILE>' cannot be used with '--servers <S>'".to_string(),
        ),
    ];
    for (args, needle) in &cases {
        assert_bad_input(args, needle);
    }
    let bad = dir.join("bad.json");
    std::fs::write(&bad, r#"{"users": 1}"#).unwrap();
    let bad = bad.to_str().unwrap();
    assert_bad_input(
        &["check", "--workload", bad],
        &format!("--workload {bad}: not a workload: missing field `teams`"),
    );
    let unknown = write_file(
        &dir,
        "unknown",
        &serde_json::json!({ "users": 1, "teams": 2, "servers": [[join("bob", "team-A")]] }),
    );
    assert_bad_input(
        &["check", "--workload", unknown.to_str().unwrap()],
        "not a workload: `bob` is not a user",
    );
    assert_bad_input(
        &[
            "check",
            "--workload",
            dir.join("missing.json").to_str().unwrap(),
        ],
        "cannot read --workload",
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn protocols_and_engines_take_lists() {
    let output = run(&[
        "check",
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
            (words[0].to_string(), words[1].to_string())
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

#[test]
fn conform_stress_bench_and_replay_speak_json() {
    let output = run(&[
        "conform",
        "--protocol",
        "naive",
        "--iterations",
        "20",
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let conform: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(conform["version"], 1);
    assert_eq!(conform["command"], "conform");
    assert_eq!(conform["protocol"], "naive");
    assert_eq!(conform["status"], "conforms");
    // 20 random + 20 PCT schedules, 20 runs on real threads, 64 workloads × 50 schedules.
    assert_eq!(conform["histories"], 12860);
    assert_eq!(conform["sizes"]["servers"], 2);
    assert_eq!(conform["exit_code"], 0);

    let output = run(&["stress", "--runs", "5", "--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let stress: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(stress["command"], "stress");
    assert_eq!(stress["runs"], 5);
    let results = stress["results"].as_array().unwrap();
    let protocols: Vec<&str> = results
        .iter()
        .map(|r| r["protocol"].as_str().unwrap())
        .collect();
    assert_eq!(protocols, protocol_names());
    for (result, name) in results.iter().zip(protocol_names()) {
        assert_eq!(result["runs"], 5);
        assert_eq!(result["status"], "as-expected", "{result}");
        match breaks_at_the_articles_sizes(name) {
            true => assert_eq!(result["expected"], "may-break"),
            false => {
                assert_eq!(result["verdict"], "holds");
                assert_eq!(result["broken"], 0);
            }
        }
    }
    assert_eq!(stress["summary"]["exit_code"], 0);

    let output = run(&["bench", "--quick", "--threads", "1", "--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let bench: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(bench["command"], "bench");
    assert_eq!(bench["threads"], 1);
    let rows = bench["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["protocol"], "naive");
    assert_eq!(rows[0]["sizes"], serde_json::json!([2, 2, 2, 1]));
    assert_eq!(rows[0]["verdict"], "violated");
    assert_eq!(rows[0]["unique_states"], 75);

    let dir = scratch("replay-json");
    saved_file(&dir, "naive", "model");
    let file = dir.join("saved/naive-model.json");
    let output = run(&["replay", file.to_str().unwrap(), "--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let replay: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(replay["command"], "replay");
    assert_eq!(replay["status"], "reproduced");
    assert_eq!(replay["difference"], Value::Null);
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(replay["rerun"], saved);
    assert_eq!(replay["exit_code"], 0);
    let _ = std::fs::remove_dir_all(dir);
}

/// The README's sample is the command's real output: every row's protocol, engine, verdict,
/// expectation and figures but the seconds.
#[test]
fn the_readme_sample_is_what_check_prints() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let sample = readme
        .split("Here is real output from `cargo run --release -- check`")
        .nth(1)
        .and_then(|rest| rest.split("```text\n").nth(1))
        .and_then(|rest| rest.split("```").next())
        .expect("the README has the sample");
    let figures = |text: &str| -> Vec<Vec<String>> {
        text.lines()
            .filter(|line| line.ends_with("✓ as expected"))
            .map(|line| {
                let words: Vec<String> = line.split_whitespace().map(String::from).collect();
                // Everything but the seconds, which vary.
                [&words[..8], &words[9..]].concat()
            })
            .collect()
    };
    let output = run(&["check"]);
    let out = stdout(&output);
    assert_eq!(figures(sample), figures(&out));
    for line in sample.lines() {
        let shortened =
            line.starts_with('…') || line.contains("seconds") || line.ends_with("✓ as expected");
        if !shortened {
            assert!(out.contains(line), "not in the real output: {line}");
        }
    }
}

#[test]
fn out_creates_its_directory() {
    let dir = scratch("nested-out");
    let out = dir.join("a/b/out");
    let output = run(&[
        "check",
        "--protocol",
        "naive",
        "--engine",
        "model",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let replayed = run(&["replay", out.join("naive-model.json").to_str().unwrap()]);
    assert_eq!(replayed.status.code(), Some(0));
    let _ = std::fs::remove_dir_all(dir);
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
    assert_eq!(skipped.len(), 1 + protocol_names().len(), "{skipped:?}");
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
