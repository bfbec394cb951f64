//! Running the binary as a user does, and reading what it printed.

use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

/// The names of every built-in protocol, in the registry's order.
pub fn protocol_names() -> Vec<&'static str> {
    joincheck::protocols::ALL.iter().map(|p| p.name()).collect()
}

/// The names of every protocol `check` takes, the SQL-only ones too, in the registry's order.
pub fn catalogue_names() -> Vec<&'static str> {
    joincheck::protocols::CATALOGUE
        .iter()
        .map(|p| p.name())
        .collect()
}

/// Whether the model of the protocol named `name` breaks at the article's sizes.
pub fn breaks_at_the_articles_sizes(name: &str) -> bool {
    let protocol = joincheck_models::Protocol::parse(name).unwrap();
    let article = joincheck_models::Sizes::new(2, 1, 2, 1).unwrap();
    protocol.spec().breaks_at(article)
}

pub fn joincheck() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_joincheck"));
    command
        .env_remove("NO_COLOR")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("DATABASE_URL")
        .env_remove("SHUTTLE_RANDOM_SEED");
    command
}

pub fn run(args: &[&str]) -> Output {
    joincheck().args(args).output().expect("joincheck runs")
}

/// `joincheck check --database memory` with `args`: the in-memory stores only, the quickest.
pub fn check_in_memory(args: &[&str]) -> Output {
    run(&[&["check", "--database", "memory"], args].concat())
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A fresh, empty directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("joincheck-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Whether `line` is progress a run over a second long shows on stderr.
pub fn is_progress(line: &str) -> bool {
    [": running, ", " states/s, ", " executions/s, "]
        .iter()
        .any(|shown| line.contains(shown))
}

/// Asserts exit status 2 with exactly one line on stderr mentioning `needle`.
pub fn assert_bad_input(args: &[&str], needle: &str) {
    let output = run(args);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{args:?}: {err}");
    assert_eq!(err.lines().count(), 1, "{args:?}: not one line: {err}");
    assert!(err.starts_with("joincheck: "), "{args:?}: {err}");
    assert!(err.contains(needle), "{args:?}: {err:?} lacks {needle:?}");
    assert!(stdout(&output).is_empty(), "{args:?}");
}

pub const NAIVE_MODEL_TRACE: &str = "\
naive · exhaustive model check · 2 servers, 1 user, 2 teams, 1 request each
VIOLATED  a user is on at most one team — shortest counterexample, 4 steps
   1  server-1  check  is sue on a team?   no
   2  server-2  check  is sue on a team?   no
   3  server-1  act    push sue → team-A   sue ∈ {team-A}
   4  server-2  act    push sue → team-B   sue ∈ {team-A, team-B}   ✗
broken: sue ∈ {team-A, team-B}
why: server-2 acted at step 4 on what it read at step 2; step 3 made that read stale.
";

/// The replay file `check --out` writes for `protocol` under `engine`, as JSON.
pub fn saved_file(dir: &Path, protocol: &str, engine: &str) -> Value {
    let out = dir.join("saved");
    let args = [
        "check",
        "--database",
        "memory",
        "--protocol",
        protocol,
        "--engine",
        engine,
    ];
    let output = run(&[&args[..], &["--out", out.to_str().unwrap()]].concat());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let file = out.join(format!("{protocol}-{engine}.json"));
    serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap()
}

/// Writes `document` to `dir/name.json`; returns the path.
pub fn write_file(dir: &Path, name: &str, document: &Value) -> PathBuf {
    let file = dir.join(format!("{name}.json"));
    std::fs::write(&file, document.to_string()).unwrap();
    file
}

/// Kills the explorer even when an assertion fails.
pub struct Child(pub std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn http_get(port: u16, path: &str) -> Option<String> {
    http_request(port, "GET", path)
}

pub fn http_request(port: u16, method: &str, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let request =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    Some(response)
}
