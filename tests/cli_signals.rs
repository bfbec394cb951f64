//! The `joincheck` binary stopped from outside: signals, `--timeout`, progress and a report that
//! is printed as it grows. No test here sleeps and hopes: each waits for the line that shows the
//! process has reached the point it needs (the table's heading, a progress line, a served port)
//! and only asserts what no scheduling can change.
#![cfg(unix)]

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, ChildStderr, ChildStdout, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn joincheck() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_joincheck"));
    command
        .env_remove("NO_COLOR")
        .env_remove("GITHUB_STEP_SUMMARY");
    command
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Model checks no machine finishes in the time a test takes: 5 servers, 4 users, 4 teams and
/// 3 requests each have far more states than a check stopped within minutes stores.
const LONG: [&str; 10] = [
    "--servers",
    "5",
    "--users",
    "4",
    "--teams",
    "4",
    "--requests",
    "3",
    "--threads",
    "1",
];

/// The long event-sourced model check.
fn long_check() -> Command {
    let mut command = joincheck();
    command
        .args(["check", "--protocol", "event-sourced", "--engine", "model"])
        .args(LONG);
    command
}

/// A running joincheck, killed when the test ends however it ends; and killed by a watchdog if
/// it is still running after five minutes, so a line that never comes fails the test instead of
/// hanging it.
struct Running {
    child: Child,
    done: Arc<AtomicBool>,
}

impl Running {
    fn start(command: &mut Command) -> Running {
        let child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("joincheck starts");
        let done = Arc::new(AtomicBool::new(false));
        let (pid, watching) = (child.id(), done.clone());
        std::thread::spawn(move || {
            let started = Instant::now();
            while !watching.load(Ordering::Relaxed) {
                if started.elapsed() > Duration::from_secs(300) {
                    signal("KILL", &pid.to_string());
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        Running { child, done }
    }

    fn pid(&self) -> String {
        self.child.id().to_string()
    }

    /// Standard output, to read line by line.
    fn stdout(&mut self) -> BufReader<ChildStdout> {
        BufReader::new(self.child.stdout.take().expect("stdout is piped"))
    }

    /// Standard error, to read line by line.
    fn stderr(&mut self) -> BufReader<ChildStderr> {
        BufReader::new(self.child.stderr.take().expect("stderr is piped"))
    }

    /// Waits for the process to end; what is left of stdout and stderr.
    fn finish(mut self) -> Output {
        let mut out = Vec::new();
        let mut err = Vec::new();
        if let Some(mut stdout) = self.child.stdout.take() {
            stdout.read_to_end(&mut out).unwrap();
        }
        if let Some(mut stderr) = self.child.stderr.take() {
            stderr.read_to_end(&mut err).unwrap();
        }
        let status = self.child.wait().unwrap();
        Output {
            status,
            stdout: out,
            stderr: err,
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends `signal` to each of `targets` (a pid, or `-pgid` for a process group), in one `kill`.
fn signal(signal: &str, targets: &str) {
    let mut command = Command::new("kill");
    command.args(["-s", signal, "--"]).args(targets.split(' '));
    assert!(command.status().unwrap().success(), "kill {targets}");
}

/// Reads lines until one satisfies `wanted`; returns every line read, that one last.
fn read_until(reader: &mut impl BufRead, wanted: impl Fn(&str) -> bool) -> Vec<String> {
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        let read = reader.read_line(&mut line).unwrap();
        assert!(
            read > 0,
            "the output ended before the line awaited: {lines:?}"
        );
        let found = wanted(&line);
        lines.push(line);
        if found {
            return lines;
        }
    }
}

/// Starts the long check and waits until it shows progress: by then the model checker is
/// running (a signal before it starts leaves it "not run"), and every stopping signal is handled
/// (the handlers are installed before anything is printed).
fn long_check_under_way(command: &mut Command) -> (Running, BufReader<ChildStdout>) {
    let mut running = Running::start(command);
    let mut stderr = running.stderr();
    read_until(&mut stderr, |line| line.contains("states/s"));
    // Closing the pipe would end the process at its next progress line (SIGPIPE).
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    let stdout = running.stdout();
    (running, stdout)
}

/// What the long check printed after its heading, and its exit status.
fn rest(running: Running, mut stdout: BufReader<ChildStdout>) -> (String, Option<i32>) {
    let mut out = String::new();
    stdout.read_to_string(&mut out).unwrap();
    let output = running.finish();
    (out, output.status.code())
}

#[test]
fn sigint_sigterm_and_sighup_each_keep_the_report_and_exit_3() {
    for (name, said) in [
        ("INT", "Ctrl-C (SIGINT)"),
        ("TERM", "SIGTERM"),
        ("HUP", "SIGHUP"),
    ] {
        let (running, mut stdout) = long_check_under_way(&mut long_check());
        read_until(&mut stdout, |line| line.starts_with("protocol "));
        signal(name, &running.pid());
        let (out, code) = rest(running, stdout);
        assert_eq!(code, Some(3), "SIG{name}: {out}");
        let row = out.lines().next().unwrap_or_default();
        assert!(
            row.starts_with("event-sourced  -         model     inconclusive  holds"),
            "SIG{name}: {row}"
        );
        assert!(
            out.contains(&format!(
                "event-sourced · model: inconclusive — {said} asked to stop: stopped by the stop \
                 request after "
            )),
            "SIG{name}: {out}"
        );
        assert!(
            out.ends_with(
                "\nthe check is inconclusive: it stopped before covering the scope or searched \
                 too little to decide, so nothing is proved there\n"
            ),
            "SIG{name}: {out}"
        );
    }
}

#[test]
fn a_signal_delivered_twice_at_once_is_one_request_to_stop() {
    // `timeout -s INT` sends the signal to the process and to its process group: two SIGINTs
    // within microseconds, which must not count as an impatient second Ctrl-C.
    let mut command = long_check();
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let (running, stdout) = long_check_under_way(&mut command);
    let pid = running.pid();
    signal("INT", &format!("{pid} -{pid}"));
    let (out, code) = rest(running, stdout);
    assert_eq!(code, Some(3), "{out}");
    assert!(
        out.contains(
            "\nevent-sourced · model: inconclusive — Ctrl-C (SIGINT) asked to stop: \
                      stopped by the stop request after "
        ),
        "{out}"
    );
}

#[test]
fn each_row_is_printed_as_its_check_completes() {
    // naive's violation is found in a fraction of a second; the event-sourced check after it
    // does not end until it is stopped. Reading naive's row before stopping it shows the row was
    // printed while the next check ran.
    let mut running = Running::start(
        joincheck()
            .args([
                "check",
                "--protocol",
                "naive,event-sourced",
                "--engine",
                "model",
            ])
            .args(LONG),
    );
    let mut stdout = running.stdout();
    let lines = read_until(&mut stdout, |line| line.starts_with("naive "));
    let row = lines.last().unwrap();
    assert!(
        row.starts_with(
            "naive          -         model     violated      violated     581,841   1,987,681      4"
        ),
        "{row}"
    );
    assert!(row.ends_with("✓ as expected\n"), "{row}");
    signal("TERM", &running.pid());
    let (out, code) = rest(running, stdout);
    assert_eq!(code, Some(3), "{out}");
    assert!(
        out.starts_with("event-sourced  -         model     inconclusive  holds"),
        "{out}"
    );
}

#[test]
fn progress_appears_on_stderr_never_on_stdout() {
    let mut running = Running::start(&mut long_check());
    let mut stderr = running.stderr();
    let lines = read_until(&mut stderr, |line| line.contains("states/s"));
    let progress = lines.last().unwrap();
    assert!(
        progress.starts_with("model · event-sourced: ") && progress.contains(" states, "),
        "{progress}"
    );
    signal("TERM", &running.pid());
    let output = running.finish();
    assert_eq!(output.status.code(), Some(3));
    assert!(!text(&output.stdout).contains("states/s"));
}

/// loom, shuttle and proptest show how many executions they have run, and how fast.
#[test]
fn the_real_code_engines_show_executions_and_executions_per_second() {
    for engine in ["loom", "shuttle", "proptest"] {
        let mut running = Running::start(joincheck().args([
            "check",
            "--database",
            "memory",
            "--protocol",
            "lease-lock-fenced-reads",
            "--engine",
            engine,
            "--servers",
            "3",
            "--iterations",
            "1000000000",
            "--cases",
            "1000000",
        ]));
        let mut stderr = running.stderr();
        let lines = read_until(&mut stderr, |line| line.contains("executions/s"));
        let progress = lines.last().unwrap();
        let prefix = format!("{engine} · lease-lock-fenced-reads: ");
        assert!(
            progress.starts_with(&prefix) && progress.contains(" executions, "),
            "{engine}: {progress}"
        );
        signal("TERM", &running.pid());
        std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
        let output = running.finish();
        assert_eq!(output.status.code(), Some(3), "{engine}");
    }
}

#[test]
fn a_timeout_is_inconclusive_with_the_statistics_so_far() {
    let output = long_check()
        .args(["--timeout", "0.5", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3), "{}", text(&output.stderr));
    let document: Value = serde_json::from_slice(&output.stdout).expect("stdout is only JSON");
    let result = &document["results"][0];
    assert_eq!(result["verdict"], "inconclusive");
    let reason = result["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("stopped by the timeout (0.5 s) after "),
        "{reason}"
    );
    // The first state is stored before any limit is looked at.
    assert!(result["statistics"]["unique_states"].as_u64().unwrap() >= 1);
    assert_eq!(document["summary"]["exit_code"], 3);
}

#[test]
fn conform_keeps_its_report_on_a_timeout_and_on_a_signal() {
    let many = [
        "conform",
        "--protocol",
        "event-sourced",
        "--iterations",
        "10000000",
    ];
    let output = joincheck()
        .args(many)
        .args(["--timeout", "0.5", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3), "{}", text(&output.stderr));
    let document: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(document["status"], "incomplete");
    let why = document["incomplete"].as_str().unwrap();
    assert!(
        why.starts_with("stopped by the timeout after ")
            && why.ends_with(" of 10,000,000 shuttle schedules (random, seed 42)"),
        "{why}"
    );
    assert_eq!(document["divergence"], Value::Null);
    assert_eq!(document["exit_code"], 3);

    let mut running = Running::start(joincheck().args(many));
    let mut stderr = running.stderr();
    let lines = read_until(&mut stderr, |line| line.contains("executions/s"));
    let progress = lines.last().unwrap();
    assert!(
        progress.starts_with("conform · event-sourced: ") && progress.contains(" executions, "),
        "{lines:?}"
    );
    signal("TERM", &running.pid());
    let output = running.finish();
    let out = text(&output.stdout);
    assert_eq!(output.status.code(), Some(3), "{out}");
    assert!(out.contains("\nvalidated "), "{out}");
    assert!(
        out.contains("\nINCOMPLETE  SIGTERM asked to stop: stopped by the stop request after "),
        "{out}"
    );
}

/// At sizes where matching one history against the model takes long, the first Ctrl-C still
/// stops conform at once, with its report.
#[test]
fn conform_stops_within_a_long_matching_on_the_first_signal() {
    let mut running = Running::start(joincheck().args([
        "conform",
        "--protocol",
        "event-sourced",
        "--servers",
        "4",
        "--users",
        "4",
        "--teams",
        "4",
        "--requests",
        "3",
        "--iterations",
        "1",
    ]));
    let mut stderr = running.stderr();
    read_until(&mut stderr, |line| line.contains("executions/s"));
    let signalled = Instant::now();
    signal("INT", &running.pid());
    let output = running.finish();
    assert!(signalled.elapsed() < Duration::from_secs(10));
    let out = text(&output.stdout);
    assert_eq!(output.status.code(), Some(3), "{out}");
    assert!(
        out.contains("\nINCOMPLETE  Ctrl-C (SIGINT) asked to stop: stopped by the stop request"),
        "{out}"
    );
}

#[test]
fn stress_keeps_its_report_on_a_timeout_and_on_a_signal() {
    let many = ["stress", "--database", "memory", "--requests", "10000000"];
    let output = joincheck()
        .args(many)
        .args(["--timeout", "0.3", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3), "{}", text(&output.stderr));
    let document: Value = serde_json::from_slice(&output.stdout).unwrap();
    let results = document["results"].as_array().unwrap();
    assert_eq!(results.len(), joincheck::protocols::ALL.len());
    // Stopped early, every run is inconclusive, whatever its history showed so far.
    for result in results {
        assert_eq!(result["status"], "inconclusive", "{result}");
        let stopped = result["stopped"].as_str().unwrap();
        assert!(stopped.starts_with("stopped by the timeout"), "{stopped}");
    }
    assert_eq!(document["summary"]["exit_code"], 3);

    let mut running = Running::start(joincheck().args(many));
    let mut stderr = running.stderr();
    read_until(&mut stderr, |line| {
        line.starts_with("stress · naive · memory: ") && line.contains(" requests/s, ")
    });
    signal("HUP", &running.pid());
    let output = running.finish();
    let out = text(&output.stdout);
    assert_eq!(output.status.code(), Some(3), "{out}");
    assert!(
        out.starts_with("stress · 4 workers × 10,000,000 requests"),
        "{out}"
    );
    // A protocol not run has no figures to show, not zeros.
    assert!(
        out.contains("\nevent-sourced            memory   not run\n"),
        "{out}"
    );
    assert!(
        out.contains(
            "\nevent-sourced · memory: inconclusive: not run: SIGHUP stopped the run before it\n"
        ),
        "{out}"
    );
}

#[test]
fn explore_stops_on_sigint_even_when_started_where_sigint_is_ignored() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // A script's background job starts with SIGINT ignored; `trap ''` does the same here.
    let script = format!(
        "trap '' INT; exec {} explore --protocol naive --lazy --port {port}",
        env!("CARGO_BIN_EXE_joincheck")
    );
    let mut running = Running::start(Command::new("sh").args(["-c", &script]));
    let mut stdout = running.stdout();
    read_until(&mut stdout, |line| line.starts_with("Explorer for naive"));
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .write_all(b"GET /.status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    signal("INT", &running.pid());
    let output = running.finish();
    assert_eq!(output.status.code(), Some(130));
}
