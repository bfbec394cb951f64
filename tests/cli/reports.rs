//! What the command prints and writes: headers, job summaries, numbers, JSON, files, the
//! README's sample.

use super::util::*;
use serde_json::Value;
use std::io::Write;
use std::net::TcpListener;
use std::process::Stdio;
use std::time::{Duration, Instant};

#[test]
fn a_proptest_counterexample_names_proptest_and_its_seed() {
    let output = check_in_memory(&["--protocol", "naive", "--engine", "proptest", "--seed", "5"]);
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
            "--database",
            "memory",
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
            "\n**1 of 2 checks is inconclusive: it stopped before covering the scope or searched \
             too little to decide, so nothing is proved there**\n"
        ),
        "{written}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn counts_read_with_separators_and_plurals() {
    let output = check_in_memory(&["--protocol", "event-sourced", "--engine", "shuttle"]);
    assert!(
        stdout(&output).contains("holds — no violation in 1,000 schedules (PCT depth 3, seed 42)"),
        "{}",
        stdout(&output)
    );
    let output = check_in_memory(&[
        "--protocol",
        "event-sourced",
        "--engine",
        "proptest",
        "--cases",
        "1",
    ]);
    assert!(
        stdout(&output).contains("holds — no violation in 1 generated workload (seed 42, "),
        "{}",
        stdout(&output)
    );
    let output = run(&[
        "stress",
        "--database",
        "memory",
        "--workers",
        "1",
        "--requests",
        "1",
    ]);
    let out = stdout(&output);
    assert!(
        out.starts_with("stress · 1 workers × 1 requests per protocol"),
        "{out}"
    );
    assert!(out.contains("\nall 9 runs as expected; "), "{out}");
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
    // Version 2 files held the sizes as an array: they are still read, and named in words.
    let mut version_2 = model.clone();
    version_2["version"] = 2.into();
    version_2["replay"]["sizes"] = serde_json::json!([2, 1, 2, 1]);
    let file = write_file(&dir, "version-2", &version_2);
    let output = run(&["replay", file.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let mut out_of_range = version_2.clone();
    out_of_range["replay"]["sizes"] = serde_json::json!([2, 1, 2, 300]);
    let file = write_file(&dir, "out-of-range", &out_of_range);
    assert_bad_input(
        &["replay", file.to_str().unwrap()],
        "not a joincheck counterexample: `replay.sizes[3]`: invalid value: integer `300`, \
         expected a whole number from 0 to 255",
    );
    let mut too_big = model.clone();
    too_big["replay"]["sizes"]["servers"] = 9.into();
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
        "`scenario.users`: 0, and a workload declares at least 1 (sue is the first)",
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
    let output = check_in_memory(&["--workload", file, "--protocol", "event-sourced"]);
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{out}\n{}", stderr(&output));
    assert!(
        out.starts_with(&format!(
            "joincheck · the workload in {file}\nloom, dpor, shuttle: the workload server-1: join sue \
             → team-A; server-2: leave john ← team-A, join john → team-B (initially john ∈ \
             team-A)\n"
        )),
        "{out}"
    );
    assert!(
        out.contains(
            "model skipped: the workload starts with members, and the models start from an \
             empty database"
        ),
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
    assert_eq!(rows.len(), 3, "{out}");
    for (row, engine) in rows.iter().zip(["loom", "dpor", "shuttle"]) {
        let start = format!("event-sourced  memory    {engine:8}  holds ");
        assert!(row.starts_with(&start), "{out}");
    }
    // The article's race as a file: the model checks its sizes, loom and shuttle the file, and
    // a workload that breaks a protocol is reported (exit 1).
    let race = write_file(
        &dir,
        "race",
        &serde_json::json!({
            "users": 1, "teams": 2, "servers": [[join("sue", "team-A")], [join("sue", "team-B")]],
        }),
    );
    let output = check_in_memory(&["--workload", race.to_str().unwrap(), "--protocol", "naive"]);
    assert_eq!(output.status.code(), Some(1));
    let out = stdout(&output);
    assert!(
        out.contains("naive     -         model     violated      violated "),
        "{out}"
    );
    assert!(
        out.contains("naive     memory    loom      violated      holds "),
        "{out}"
    );
    let cases: Vec<(Vec<&str>, String)> = vec![
        (
            vec!["check", "--workload", file, "--engine", "model"],
            "the model cannot check this workload: the workload starts with members".to_string(),
        ),
        (
            vec![
                "check",
                "--database",
                "memory",
                "--workload",
                file,
                "--engine",
                "proptest",
            ],
            "proptest cannot check a --workload".to_string(),
        ),
        (
            vec![
                "check",
                "--database",
                "memory",
                "--workload",
                file,
                "--servers",
                "3",
            ],
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
        &["check", "--database", "memory", "--workload", bad],
        &format!("--workload {bad}: not a workload: missing field `teams`"),
    );
    let unknown = write_file(
        &dir,
        "unknown",
        &serde_json::json!({ "users": 1, "teams": 2, "servers": [[join("bob", "team-A")]] }),
    );
    assert_bad_input(
        &[
            "check",
            "--database",
            "memory",
            "--workload",
            unknown.to_str().unwrap(),
        ],
        "not a workload: `servers[0][0]`: `bob` is not a user: the users are sue, john, mary, \
         omar, lena, raj, ines, kofi, user-9, … in order",
    );
    let cases = [
        (
            r#"{"users": 2, "teams": 2, "servers": [[{"request": "join", "user": "sue", "team":
                "team-A"}]], "intial": [{"team": "team-A", "user": "john"}]}"#,
            "`intial`: unknown field `intial`, expected one of `users`, `teams`, `servers`, \
             `initial`",
        ),
        (
            r#"{"users": 0, "teams": 2, "servers": [[{"request": "join", "user": "sue", "team":
                "team-A"}]]}"#,
            "`users`: 0, and a workload declares at least 1 (sue is the first)",
        ),
        (
            r#"{"users": 2, "teams": 2, "servers": [[{"request": "join", "user": "mary", "team":
                "team-A"}]]}"#,
            "`servers[0][0].user`: mary is user 3 in order, and the workload declares 2 users \
             (sue, john)",
        ),
        (
            r#"{"users": 1, "teams": 2, "servers": [[{"request": "joins", "user": "sue", "team":
                "team-A"}]]}"#,
            "`servers[0][0].request`: unknown variant `joins`, expected `join` or `leave`",
        ),
    ];
    for (workload, needle) in cases {
        let file = dir.join("case.json");
        std::fs::write(&file, workload).unwrap();
        assert_bad_input(
            &[
                "check",
                "--database",
                "memory",
                "--workload",
                file.to_str().unwrap(),
            ],
            needle,
        );
    }
    // Standard input, as for replay.
    let mut piped = joincheck()
        .args([
            "check",
            "--database",
            "memory",
            "--workload",
            "-",
            "--protocol",
            "event-sourced",
        ])
        .args(["--engine", "shuttle", "--iterations", "10"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let race = std::fs::read(&race).unwrap();
    piped.stdin.take().unwrap().write_all(&race).unwrap();
    let output = piped.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stdout(&output).starts_with("joincheck · the workload in standard input\n"),
        "{}",
        stdout(&output)
    );
    assert_bad_input(
        &[
            "check",
            "--database",
            "memory",
            "--workload",
            dir.join("missing.json").to_str().unwrap(),
        ],
        "cannot read --workload",
    );
    let _ = std::fs::remove_dir_all(dir);
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

    let output = run(&[
        "stress",
        "--database",
        "memory",
        "--requests",
        "5",
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let stress: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(stress["command"], "stress");
    assert_eq!(stress["workers"], 4);
    let results = stress["results"].as_array().unwrap();
    let protocols: Vec<&str> = results
        .iter()
        .map(|r| r["protocol"].as_str().unwrap())
        .collect();
    assert_eq!(protocols, protocol_names());
    for (result, name) in results.iter().zip(protocol_names()) {
        assert_eq!(result["database"], "memory");
        assert_eq!(result["requests"], 20);
        let outcomes = &result["outcomes"];
        let answered: u64 = ["ok", "refused", "error", "unknown"]
            .iter()
            .map(|kind| outcomes[kind].as_u64().unwrap())
            .sum();
        assert_eq!(answered, 20, "{result}");
        assert_eq!(result["status"], "as-expected", "{result}");
        match breaks_at_the_articles_sizes(name) {
            true => assert_eq!(result["expected"], "may-break"),
            false => {
                assert_eq!(result["expected"], "holds");
                assert_eq!(result["invariant"]["verdict"], "holds");
                assert_eq!(result["linearizability"]["verdict"], "linearizable");
                assert_eq!(result["lost"], serde_json::json!([]));
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
    let sizes = serde_json::json!({ "servers": 2, "users": 2, "teams": 2, "requests": 1 });
    assert_eq!(rows[0]["sizes"], sizes);
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
    // Sizes are an object in every report, the replay file's model path included.
    let sizes = serde_json::json!({ "servers": 2, "users": 1, "teams": 2, "requests": 1 });
    assert_eq!(replay["rerun"]["replay"]["sizes"], sizes);
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
                [&words[..9], &words[10..]].concat()
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
