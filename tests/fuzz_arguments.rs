//! Fuzzing the argument parser: arbitrary argument vectors, from the commands' own flags and
//! values, near misses and arbitrary text, given to the `joincheck` binary (its parser lives in
//! the binary, so each case spawns it; a short round runs in `cargo test`, and
//! `JOINCHECK_FUZZ_CASES` asks for a longer one). Bad input is one line in words on stderr and
//! exit 2, soon; never a panic. A vector that happens to be a valid command may run: it must
//! show that it does (a report, a banner or progress) and end as commands end, or be stopped.
#![cfg(unix)]

#[path = "fuzz/config.rs"]
mod config;

use config::config;
use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long a case may run before it is taken for a valid command at work and stopped.
const AT_WORK: Duration = Duration::from_secs(5);

const COMMANDS: [&str; 12] = [
    "check",
    "replay",
    "conform",
    "explore",
    "bench",
    "stress",
    "bench-one",
    "help",
    "chek",
    "--help",
    "--version",
    "--color",
];

const FLAGS: [&str; 32] = [
    "--protocol",
    "--database",
    "--engine",
    "--servers",
    "--users",
    "--teams",
    "--requests",
    "--workload",
    "--symmetry",
    "--leaves",
    "--threads",
    "--seed",
    "--iterations",
    "--cases",
    "--preemption-bound",
    "--max-states",
    "--max-memory",
    "--timeout",
    "--format",
    "--out",
    "--expect",
    "--color",
    "--runs",
    "--port",
    "--lazy",
    "--quick",
    "--on-implementation",
    "--help",
    "-h",
    "--",
    "-",
    "--nope",
];

const VALUES: [&str; 36] = [
    "0",
    "1",
    "2",
    "-1",
    "-3",
    "9",
    "15",
    "16",
    "300",
    "1025",
    "18446744073709551616",
    "1e9",
    "1e10",
    "NaN",
    "inf",
    "0.0001",
    "naive",
    ",naive",
    "naive,,all",
    "all",
    "model,loom",
    "tla",
    "json",
    "mermaid",
    "holds",
    "never",
    "1K",
    "1P",
    "1025P",
    "2G",
    "lots",
    "-",
    "/nonexistent/file.json",
    "",
    "é",
    "a\nb",
];

/// One argument: a flag, a value, `--flag=value`, or arbitrary text.
fn argument() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(&FLAGS[..]).prop_map(String::from),
        3 => prop::sample::select(&VALUES[..]).prop_map(String::from),
        1 => (prop::sample::select(&FLAGS[..]), prop::sample::select(&VALUES[..]))
            .prop_map(|(flag, value)| format!("{flag}={value}")),
        1 => "[\\x01-\\x7f]{0,8}",
        1 => "\\PC{0,6}",
    ]
}

/// An argument vector: a command or a near miss, then a few arguments.
fn arguments() -> impl Strategy<Value = Vec<String>> {
    (
        prop::sample::select(&COMMANDS[..]),
        prop::collection::vec(argument(), 0..6),
    )
        .prop_map(|(command, rest)| {
            let mut arguments = vec![command.to_string()];
            arguments.extend(rest);
            arguments
        })
}

/// A directory of its own for the cases' files (`--out x` writes there, not in the crate).
fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("joincheck-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `joincheck` with `arguments` and asserts it ended as a command ends, or is at work.
fn ends_well(arguments: &[String], dir: &PathBuf) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_joincheck"))
        .args(arguments)
        .current_dir(dir)
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("DATABASE_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own group: a benchmark's child processes are stopped with it.
        .process_group(0)
        .spawn()
        .unwrap();
    let started = Instant::now();
    let mut at_work = false;
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > AT_WORK {
            let group = format!("-{}", child.id());
            let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
            at_work = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let output = child.wait_with_output().unwrap();
    let (out, err) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert!(!err.contains("panicked"), "{arguments:?}: {err}");
    if at_work {
        // Only a valid command runs this long, and it shows that it is at work.
        assert!(
            !out.is_empty() || err.contains("/s, ") || err.contains("exploring"),
            "{arguments:?} ran {} s and said nothing: {err}",
            AT_WORK.as_secs()
        );
        return;
    }
    match output.status.code() {
        Some(0 | 1 | 3) => {}
        Some(2) => {
            let said: Vec<&str> = err.lines().filter(|line| !line.contains("/s, ")).collect();
            assert_eq!(said.len(), 1, "{arguments:?}: not one line: {err}");
            let line = said[0];
            assert!(line.starts_with("joincheck: "), "{arguments:?}: {err}");
            for internal in ["..=", "invalid digit", "too large to fit", "ParseIntError"] {
                assert!(!line.contains(internal), "{arguments:?}: {line}");
            }
            assert!(out.is_empty(), "{arguments:?}: {out}");
        }
        code => panic!("{arguments:?}: exit {code:?}: {err}"),
    }
}

#[test]
fn arbitrary_arguments_are_run_or_refused_in_one_line() {
    let dir = scratch();
    let mut runner = TestRunner::new(config(64));
    runner
        .run(&arguments(), |arguments| {
            ends_well(&arguments, &dir);
            Ok(())
        })
        .unwrap();
    let _ = std::fs::remove_dir_all(dir);
}
