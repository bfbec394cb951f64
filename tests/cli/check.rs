//! `joincheck check`: verdicts, renderings, expectations, limits and bad input.

use super::util::*;
use serde_json::Value;

/// Without arguments: every protocol, the model once, the real code in memory and on SQLite
/// (PostgreSQL only with DATABASE_URL, which the tests here unset), each where it exists.
#[test]
fn check_without_arguments_runs_everything_and_exits_0() {
    use joincheck::protocols::CATALOGUE;
    use joincheck::store::sql::Dialect;
    let output = run(&["check"]);
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{out}\n{}", stderr(&output));
    assert!(
        out.contains("postgres not used: DATABASE_URL is not set"),
        "{out}"
    );
    let article = joincheck_models::Sizes::new(2, 1, 2, 1).unwrap();
    let mut verdicts = 0;
    for protocol in CATALOGUE {
        let lease = protocol.name().starts_with("lease-lock");
        let mut places = Vec::new();
        if protocol.model().is_some() {
            places.push(("-", None, vec!["model"]));
            places.push(("memory", None, vec!["loom", "dpor", "shuttle", "proptest"]));
        }
        if !lease {
            places.push((
                "sqlite",
                Some(Dialect::Sqlite),
                vec!["loom", "dpor", "shuttle", "proptest"],
            ));
        }
        for (database, dialect, engines) in places {
            for engine in engines {
                let name = protocol.name();
                let row = out
                    .lines()
                    .find(|line| {
                        let words: Vec<&str> = line.split_whitespace().collect();
                        words.len() > 3
                            && (words[0], words[1], words[2]) == (name, database, engine)
                    })
                    .unwrap_or_else(|| panic!("no row for {name} · {database} · {engine}:\n{out}"));
                let expected = match protocol.breaks_at(dialect, article) {
                    true => "violated",
                    false => "holds",
                };
                assert!(
                    row.contains(&format!("{expected:12}  {expected:8}")),
                    "{row}"
                );
                assert!(row.ends_with("✓ as expected"), "{row}");
                verdicts += 1;
            }
        }
    }
    assert_eq!(verdicts, 89);
    assert!(out.contains(NAIVE_MODEL_TRACE), "{out}");
    assert!(
        out.contains(&format!("all {verdicts} verdicts as expected")),
        "{out}"
    );
    assert!(
        out.contains(
            "sqlite skipped for lease-lock, lease-lock-fenced, lease-lock-fenced-reads: exists in \
             memory only: a lease needs a clock, which the SQL services do not have"
        ),
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
    // An unexpected counterexample has its header, as an expected one has.
    assert!(
        out.contains(
            "\n── naive · model: a violation where holds was expected ──\nnaive · exhaustive model \
             check · "
        ),
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
        "version": 3,
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
            "sizes": { "servers": 2, "users": 1, "teams": 2, "requests": 1 },
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
        out.contains("| naive | - | model | violated | violated | 24 | 4 | - |"),
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
    let bounded = [
        "check",
        "--database",
        "memory",
        "--protocol",
        "naive",
        "--engine",
        "loom",
    ];
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
    let output = check_in_memory(&[
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
    let output = check_in_memory(&["--servers", "1", "--iterations", "20"]);
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
            "all {} verdicts as expected; proptest skipped: it generates workloads of at \
                 least 2 servers; ",
            protocol_names().len() * 4
        )),
        "{out}"
    );
}

#[test]
fn why_names_the_step_that_changed_what_was_read() {
    // Three servers, two users: john's push (step 3) changes nothing server-1 read about sue;
    // sue's push (step 5) does.
    let output = check_in_memory(&[
        "--protocol",
        "naive",
        "--engine",
        "shuttle",
        "--servers",
        "3",
        "--users",
        "2",
        "--teams",
        "2",
        "--requests",
        "2",
        "--seed",
        "11",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let out = stdout(&output);
    let trace = "\
VIOLATED  a user is on at most one team — counterexample, 6 steps
   1  server-1  check  is sue on a team?    no
   2  server-3  check  is john on a team?   no
   3  server-3  act    push john → team-A   john ∈ {team-A}
   4  server-3  check  is sue on a team?    no
   5  server-3  act    push sue → team-B    sue ∈ {team-B}
   6  server-1  act    push sue → team-A    sue ∈ {team-A, team-B}   ✗
broken: sue ∈ {team-A, team-B}
why: server-1 acted at step 6 on what it read at step 1; step 5 made that read stale.
";
    assert!(out.contains(trace), "{out}");
}

#[test]
fn a_check_that_cannot_run_is_skipped_for_its_protocol_alone_not_inconclusive() {
    // loom runs 4 threads besides its own; the lease locks' clock takes one of them.
    let output = check_in_memory(&[
        "--protocol",
        "naive,lease-lock",
        "--engine",
        "loom",
        "--servers",
        "4",
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["results"].as_array().unwrap().len(), 1);
    assert_eq!(report["results"][0]["protocol"], "naive");
    assert_eq!(
        report["skipped"],
        serde_json::json!([{
            "engine": "loom",
            "database": null,
            "protocols": [],
            "reason": "lease-lock: 4 servers is more than loom can check (at most 3): its \
                       service's environment (a lease's clock) takes a thread"
        }])
    );
    assert_eq!(report["summary"]["inconclusive"], 0);
    assert_eq!(report["summary"]["skipped"], 1);
    // One protocol whose log cannot fit a state does not refuse the others.
    let output = run(&[
        "check",
        "--protocol",
        "naive,event-sourced-per-team",
        "--engine",
        "model",
        "--symmetry",
        "--servers",
        "3",
        "--users",
        "3",
        "--teams",
        "3",
        "--requests",
        "3",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let out = stdout(&output);
    assert!(
        out.contains(
            "\nmodel skipped: event-sourced-per-team: the log of the event-sourced-per-team \
             protocol can grow to 9 events at these sizes, more than the 8 a state has room for; \
             use fewer servers or requests\n"
        ),
        "{out}"
    );
    assert!(
        out.contains("\nnaive                   -         model     violated"),
        "{out}"
    );
    // A plan with no check left is refused.
    assert_bad_input(
        &[
            "check",
            "--database",
            "memory",
            "--protocol",
            "lease-lock",
            "--engine",
            "loom",
            "--servers",
            "4",
        ],
        "no check can run: lease-lock: 4 servers is more than loom can check (at most 3)",
    );
}

#[test]
fn a_lease_expiry_is_drawn_as_the_databases_clock_not_a_message_of_its_holder() {
    let output = run(&[
        "check",
        "--protocol",
        "lease-lock",
        "--engine",
        "model",
        "--format",
        "mermaid",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let out = stdout(&output);
    let expected = "    S1->>DB: 2. is sue on a team?
    DB-->>S1: no
    Note over DB: 3. sue's lease (held by server-1) expires: lock free, holder not told
    S2->>DB: 4. acquire sue's lock
";
    assert!(out.contains(expected), "{out}");
}
