//! A report or file that cannot be written is never a success: one line on stderr, exit 2, and
//! no file left half written. `/dev/full` fails every write as a full disk does (ENOSPC); a file
//! size limit (`ulimit -f`, with SIGXFSZ ignored so the write fails with EFBIG instead of ending
//! the process) makes any file past its first block unwritable, as a disk that fills up mid-run.
#![cfg(target_os = "linux")]

use super::util::*;
use std::fs::File;
use std::path::Path;
use std::process::{Command, Output};

/// `args` with standard output on `/dev/full`.
fn to_full_disk(args: &[&str]) -> Output {
    joincheck()
        .args(args)
        .stdout(File::create("/dev/full").unwrap())
        .output()
        .expect("joincheck runs")
}

/// `args` where no file may grow past 512 bytes; standard output stays a pipe.
fn with_small_files(args: &[&str]) -> Output {
    let script = format!(
        "trap '' XFSZ; ulimit -f 1; exec {} \"$@\"",
        env!("CARGO_BIN_EXE_joincheck")
    );
    Command::new("sh")
        .args(["-c", &script, "sh"])
        .args(args)
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .expect("sh runs")
}

/// Exit 2 and exactly `line` on stderr, besides the progress of a run over a second long.
fn assert_one_line(args: &[&str], output: &Output, line: &str) {
    assert_eq!(
        output.status.code(),
        Some(2),
        "{args:?}: {}",
        stderr(output)
    );
    let err = stderr(output);
    let said: Vec<&str> = err.lines().filter(|line| !is_progress(line)).collect();
    assert_eq!(said, [line], "{args:?}");
}

#[test]
fn a_report_on_a_full_disk_is_one_line_and_exit_2_for_every_command() {
    let dir = scratch("full-disk");
    let saved = saved_file(&dir, "naive", "model");
    let file = write_file(&dir, "naive-model", &saved);
    let file = file.to_str().unwrap();
    let full = "No space left on device (os error 28)";
    let report = format!("joincheck: cannot write the report to standard output: {full}");
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port().to_string();
    drop(free);
    for args in [
        &["check", "--database", "memory", "--protocol", "naive"][..],
        &[
            "check",
            "--protocol",
            "naive",
            "--engine",
            "model",
            "--format",
            "json",
        ],
        &[
            "check",
            "--protocol",
            "naive",
            "--engine",
            "model",
            "--format",
            "mermaid",
        ],
        &["replay", file],
        &["replay", file, "--format", "json"],
        &["stress", "--database", "memory", "--requests", "2"],
        &[
            "stress",
            "--database",
            "memory",
            "--requests",
            "2",
            "--format",
            "json",
        ],
        &["bench", "--quick"],
        &["bench", "--quick", "--format", "json"],
        &["conform", "--protocol", "naive", "--iterations", "1"],
        &["explore", "--protocol", "naive", "--port", &port],
    ] {
        assert_one_line(args, &to_full_disk(args), &report);
    }
    for (args, what) in [
        (&["--help"][..], "help"),
        (&["check", "--database", "memory", "--help"], "help"),
        (&["--version"], "version"),
    ] {
        let line = format!("joincheck: cannot write the {what} to standard output: {full}");
        assert_one_line(args, &to_full_disk(args), &line);
    }
    // The verdicts had been reached: the line keeps the status they gave.
    let args = [
        "check",
        "--protocol",
        "naive",
        "--engine",
        "model",
        "--format",
        "json",
    ];
    let args = [&args[..], &["--expect", "holds"]].concat();
    let line = format!("{report} (the verdicts alone would have exited 1)");
    assert_one_line(&args, &to_full_disk(&args), &line);
    let _ = std::fs::remove_dir_all(dir);
}

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn counterexample_files_are_written_whole_or_not_at_all() {
    let dir = scratch("small-files");
    let out = dir.join("out");
    let args = [
        "check",
        "--database",
        "memory",
        "--protocol",
        "naive",
        "--engine",
        "model,loom",
    ];
    let args = [&args[..], &["--out", out.to_str().unwrap()]].concat();
    let output = with_small_files(&args);
    let line = format!(
        "joincheck: cannot write the counterexample file {}/naive-model.json: File too large \
         (os error 27)",
        out.display()
    );
    assert_one_line(&args, &output, &line);
    // Nothing half written, no temporary file left behind; the report still has the traces.
    assert_eq!(names(&out), Vec::<String>::new());
    let report = stdout(&output);
    assert!(report.contains(NAIVE_MODEL_TRACE), "{report}");
    assert!(
        report.ends_with(&format!(
            "both verdicts as expected (naive is the article's broken check-then-act: its \
             violation is expected); but the counterexample files could not all be written to \
             {}, so the run fails (exit 2)\n",
            out.display()
        )),
        "{report}"
    );
    // The same check with room writes both files of both counterexamples.
    let output = run(&args);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        names(&out),
        [
            "naive-loom.json",
            "naive-loom.txt",
            "naive-model.json",
            "naive-model.txt"
        ]
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_job_summary_that_cannot_be_written_fails_the_run() {
    let output = joincheck()
        .args(["check", "--protocol", "naive", "--engine", "model"])
        .env("GITHUB_STEP_SUMMARY", "/dev/full")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert_eq!(
        stderr(&output),
        "joincheck: cannot write the report to GITHUB_STEP_SUMMARY (/dev/full): No space left \
         on device (os error 28)\n"
    );
    // A summary that fills up midway is cut back to what it was.
    let dir = scratch("small-summary");
    let summary = dir.join("summary.md");
    std::fs::write(&summary, "# earlier step\n").unwrap();
    let script = format!(
        "trap '' XFSZ; ulimit -f 1; exec {} check --protocol naive --engine model",
        env!("CARGO_BIN_EXE_joincheck")
    );
    let output = Command::new("sh")
        .args(["-c", &script])
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert_eq!(
        std::fs::read_to_string(&summary).unwrap(),
        "# earlier step\n"
    );
    let _ = std::fs::remove_dir_all(dir);
}
