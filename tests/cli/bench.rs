//! `joincheck bench`: the table, the guard against a slower checker, and Spin beside it.

use super::util::*;
use serde_json::Value;

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

/// `bench --against` is the guard against a slower checker: a row below its baseline's rate, or
/// one that finds other states, fails the command loudly; rates it meets pass; `--record`
/// writes the medians measured. (No timing is asserted: the baselines ask for the impossible
/// or the trivial.)
#[test]
fn bench_against_a_baseline_fails_loudly_on_a_slower_or_different_checker() {
    let dir = scratch("bench-against");
    let baseline = |unique: u64, rate: u64| {
        serde_json::json!({
            "version": 1,
            "machine": "a test",
            "tolerance_percent": 10.0,
            "rows": [{
                "protocol": "naive",
                "sizes": {"servers": 2, "users": 1, "teams": 2, "requests": 1},
                "symmetry": false,
                "threads": 1,
                "unique_states": unique,
                "states_per_cpu_second": rate,
            }],
        })
    };
    let against = |file: &std::path::Path, more: &[&str]| {
        let mut args = vec!["bench", "--against", file.to_str().unwrap(), "--runs", "1"];
        args.extend_from_slice(more);
        run(&args)
    };
    let slow = write_file(&dir, "impossible", &baseline(24, u64::MAX / 4));
    let output = against(&slow, &[]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    let err = stderr(&output);
    assert!(
        err.starts_with("THE MODEL CHECKER REGRESSED against "),
        "{err}"
    );
    assert!(
        err.contains("naive at 2,1,2,1 on 1 thread is SLOWER: "),
        "{err}"
    );
    let other = write_file(&dir, "other", &baseline(25, 1));
    let output = against(&other, &[]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    assert!(
        stderr(&output).contains(
            "naive at 2,1,2,1 on 1 thread found 24 distinct states where the baseline found 25"
        ),
        "{}",
        stderr(&output)
    );
    let easy = write_file(&dir, "easy", &baseline(24, 1));
    let output = against(&easy, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).ends_with("no row is slower than the baseline allows\n"));
    let output = against(&easy, &["--record"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let recorded: Value = serde_json::from_str(&std::fs::read_to_string(&easy).unwrap()).unwrap();
    assert!(recorded["rows"][0]["states_per_cpu_second"].as_u64() > Some(1));
    assert_bad_input(
        &[
            "bench",
            "--against",
            dir.join("missing.json").to_str().unwrap(),
        ],
        "missing.json",
    );
}

/// `bench --spin` runs Spin beside the event-sourced rows without symmetry: Spin's count must be
/// ours. Spin comes from Debian (`.ci/run` installs it); without it the flag is refused in one
/// line, which this test checks instead, saying so.
#[test]
fn bench_with_spin_runs_it_beside_ours_and_finds_our_states() {
    let output = run(&["bench", "--quick", "--threads", "1", "--spin"]);
    if std::process::Command::new("spin")
        .arg("-V")
        .output()
        .is_err()
    {
        eprintln!("bench --spin: Spin is not installed; checked that the flag is refused");
        assert_eq!(output.status.code(), Some(2));
        assert_eq!(
            stderr(&output),
            "joincheck: --spin runs Spin and gcc, and `spin` cannot be run (No such file or \
             directory (os error 2)); on Debian: apt-get install spin gcc\n"
        );
        return;
    }
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let out = stdout(&output);
    let spin_rows: Vec<&str> = out
        .lines()
        .filter(|line| line.contains("Spin now"))
        .collect();
    assert_eq!(spin_rows.len(), 1, "{out}");
    assert!(spin_rows[0].starts_with("event-sourced"), "{out}");
    assert!(spin_rows[0].contains("Spin now: 125 in "), "{out}");
    assert!(spin_rows[0].contains("× its time"), "{out}");
}
