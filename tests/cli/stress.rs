//! `joincheck stress`: real threads and real connections, each run's history checked three ways.
//! Real threads vary from run to run, so nothing here asserts that a racy protocol breaks in one
//! run: it asserts what must always hold (the correct protocols hold, are linearizable and lose
//! nothing, under every fault) and prints how often the racy ones broke.

use super::util::*;
use joincheck::history::join::JoinHistory;
use serde_json::Value;
use std::io::Write as _;

/// The JSON report of `stress` with `args`, which must exit 0.
fn report(args: &[&str]) -> Value {
    let output = joincheck()
        .args(["stress", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{args:?}: {}",
        stderr(&output)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Every result known to be correct held, was linearizable and lost nothing.
#[track_caller]
fn assert_correct_ones_held(report: &Value) {
    for result in report["results"].as_array().unwrap() {
        assert_eq!(result["status"], "as-expected", "{result}");
        if result["expected"] == "holds" {
            assert_eq!(result["invariant"]["verdict"], "holds", "{result}");
            assert_eq!(
                result["linearizability"]["verdict"], "linearizable",
                "{result}"
            );
            assert_eq!(result["lost"], serde_json::json!([]), "{result}");
        }
    }
}

/// The correct protocols on SQLite, under cut connections and slow statements: they hold and
/// lose nothing; the files of each run are written whole, and read back.
#[test]
fn the_correct_protocols_hold_on_sqlite_under_faults_and_the_files_read_back() {
    let dir = scratch("stress-out");
    let out = dir.to_str().unwrap();
    let protocols = "naive,naive-serializable,unique-membership,user-document,event-sourced";
    let report = report(&[
        "--protocol",
        protocols,
        "--database",
        "sqlite",
        "--requests",
        "100",
        "--faults",
        "kill-connections,slow",
        "--out",
        out,
    ]);
    assert_correct_ones_held(&report);
    assert!(report["faults"]
        .as_str()
        .unwrap()
        .contains("kill-connections"));
    let results = report["results"].as_array().unwrap();
    assert_eq!(results.len(), 5);
    for result in results {
        let requests = result["requests"].as_u64().unwrap();
        assert_eq!(requests, 400, "{result}");
        let name = format!("{}-sqlite", result["protocol"].as_str().unwrap());
        let files = dir.join(&name);
        let history = std::fs::read(files.join("history.jsonl")).unwrap();
        let history = JoinHistory::read_json_lines(&history[..]).unwrap();
        assert_eq!(history.len() as u64, requests);
        let saved: Value =
            serde_json::from_slice(&std::fs::read(files.join("report.json")).unwrap()).unwrap();
        assert_eq!(saved["requests"], result["requests"]);
        let svg = std::fs::read_to_string(files.join("timeline.svg")).unwrap();
        let picture = roxmltree::Document::parse(&svg).expect("the timeline is SVG");
        let bars = picture
            .descendants()
            .filter(|node| {
                node.attribute("class")
                    .is_some_and(|c| c.starts_with("call"))
            })
            .count();
        assert_eq!(bars as u64, requests, "{name}");
    }
    let unknown: u64 = results
        .iter()
        .map(|r| r["outcomes"]["unknown"].as_u64().unwrap())
        .sum();
    let cut: u64 = results
        .iter()
        .map(|r| r["connections_cut"].as_u64().unwrap())
        .sum();
    let naive = &results[0];
    writeln!(
        std::io::stderr(),
        "stress on SQLite: {cut} connections cut, {unknown} requests of unknown outcome; naive \
         broke the invariant: {}",
        naive["invariant"]["verdict"] == "violated"
    )
    .unwrap();
    let _ = std::fs::remove_dir_all(dir);
}

/// On PostgreSQL at read committed, two `INSERT … WHERE NOT EXISTS` at once can both insert:
/// stress may refute naive-one-statement there (how often is printed), and the correct
/// protocols hold under cut connections.
#[test]
fn on_postgres_the_one_statement_check_may_break_and_the_correct_ones_hold() {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        writeln!(
            std::io::stderr(),
            "stress on PostgreSQL skipped: DATABASE_URL is not set"
        )
        .unwrap();
        return;
    };
    let mut broke = 0;
    for seed in ["1", "2", "3"] {
        let report = joincheck()
            .args([
                "stress",
                "--format",
                "json",
                "--protocol",
                "naive-one-statement",
            ])
            .args(["--database", &url, "--faults", "slow", "--seed", seed])
            .args(["--workers", "8", "--users", "2", "--requests", "100"])
            .output()
            .unwrap();
        assert_eq!(report.status.code(), Some(0), "{}", stderr(&report));
        let report: Value = serde_json::from_slice(&report.stdout).unwrap();
        let result = &report["results"][0];
        assert_eq!(result["expected"], "may-break");
        broke += u32::from(result["invariant"]["verdict"] == "violated");
    }
    writeln!(
        std::io::stderr(),
        "naive-one-statement on PostgreSQL broke in {broke} of 3 runs (8 workers, slow)"
    )
    .unwrap();
    let correct = "naive-serializable,lock-user-row,unique-membership,user-document,event-sourced";
    let report = report(&[
        "--protocol",
        correct,
        "--database",
        &url,
        "--requests",
        "100",
        "--faults",
        "kill-connections",
    ]);
    assert_correct_ones_held(&report);
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    for (args, needle) in [
        (
            &["stress", "--requests", "0"][..],
            "expected a whole number from 1 to 10,000,000",
        ),
        (
            &["stress", "--workers", "256"][..],
            "expected a whole number from 1 to 255",
        ),
        (
            &["stress", "--faults", "fire"][..],
            "invalid value 'fire' for '--faults <NAMES>'",
        ),
        (
            &["stress", "--database", "mongo"][..],
            "--database: unknown database `mongo`",
        ),
        (
            &["stress", "--requests", "5", "--duration", "5"][..],
            "cannot be used with",
        ),
    ] {
        assert_bad_input(args, needle);
    }
}
