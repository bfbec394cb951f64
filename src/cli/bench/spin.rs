//! `bench --spin`: Spin, run in the same benchmark on the same work, so that the two are
//! compared side by side on one machine under one load rather than against a figure measured
//! elsewhere.
//!
//! `benches/spin/event_sourced.pml` is the event-sourced protocol in Promela, written so that one
//! Spin state is one joincheck state: Spin's "states, stored" must be our unreduced count, and a
//! row where they differ says so. Spin compiles a verifier (`pan`) with gcc; the model, the
//! verifier and its output live in a temporary directory removed afterwards.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

/// The model, built into the binary so that `bench --spin` needs no checkout.
const MODEL: &str = include_str!("../../../benches/spin/event_sourced.pml");

/// What Spin found and how long its search took.
pub struct SpinFigures {
    /// "states, stored".
    pub states: u64,
    /// The verifier's run, wall clock: the search, without generating and compiling it.
    pub seconds: f64,
    /// pan's "total actual memory usage", in MB.
    pub memory_mb: Option<f64>,
}

/// Whether Spin has a model of this configuration: the event-sourced protocol, without
/// symmetry reduction (which Spin does not do).
pub fn covers(protocol: joincheck_models::Protocol, symmetry: bool) -> bool {
    protocol == joincheck_models::Protocol::EventSourced && !symmetry
}

/// Refuses to start when `spin` or `gcc` cannot be run, in one line.
pub fn available() -> Result<(), String> {
    for (program, flag) in [("spin", "-V"), ("gcc", "--version")] {
        Command::new(program).arg(flag).output().map_err(|error| {
            format!(
                "--spin runs Spin and gcc, and `{program}` cannot be run ({error}); on Debian: \
                 apt-get install spin gcc"
            )
        })?;
    }
    Ok(())
}

/// A directory of its own, removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `command` in `dir`, or says in one line what failed.
fn run(dir: &Path, command: &mut Command, what: &str) -> Result<Output, String> {
    let output = command
        .current_dir(dir)
        .output()
        .map_err(|error| format!("Spin: cannot {what}: {error}"))?;
    if !output.status.success() {
        let said = String::from_utf8_lossy(&output.stderr);
        let said = said
            .lines()
            .chain(std::str::from_utf8(&output.stdout).unwrap_or("").lines());
        let first = said
            .map(str::trim)
            .find(|line| !line.is_empty())
            .unwrap_or("");
        return Err(format!("Spin: cannot {what}: {first}"));
    }
    Ok(output)
}

/// Verifies the model at `sizes` (servers, users, teams, requests).
pub fn measure(sizes: [u8; 4]) -> Result<SpinFigures, String> {
    let dir = std::env::temp_dir().join(format!("joincheck-spin-{}", std::process::id()));
    std::fs::create_dir_all(&dir)
        .map_err(|error| format!("cannot create {}: {error}", dir.display()))?;
    let scratch = Scratch(dir);
    let dir = &scratch.0;
    std::fs::write(dir.join("event_sourced.pml"), MODEL)
        .map_err(|error| format!("cannot write Spin's model into {}: {error}", dir.display()))?;
    let [s, u, t, n] = sizes;
    let defines =
        [("S", s), ("U", u), ("T", t), ("N", n)].map(|(name, value)| format!("-D{name}={value}"));
    run(
        dir,
        Command::new("spin")
            .arg("-a")
            .args(&defines)
            .arg("event_sourced.pml"),
        "generate the verifier",
    )?;
    // The flags the project's Spin figures were taken with: -O2, safety only, no partial-order
    // reduction (which cannot reduce here: every step touches the log).
    run(
        dir,
        Command::new("gcc").args(["-O2", "-DSAFETY", "-DNOREDUCE", "-o", "pan", "pan.c"]),
        "compile the verifier",
    )?;
    let started = Instant::now();
    let output = run(dir, &mut Command::new(dir.join("pan")), "run the verifier")?;
    let seconds = started.elapsed().as_secs_f64();
    let report = String::from_utf8_lossy(&output.stdout);
    let (states, memory_mb) = read_report(&report).ok_or_else(|| {
        "Spin: the verifier reported an error, or no \"states, stored\"".to_string()
    })?;
    Ok(SpinFigures {
        states,
        seconds,
        memory_mb,
    })
}

/// The states stored and the memory used (MB) in pan's report; `None` when it found an error
/// or says nothing of states.
fn read_report(report: &str) -> Option<(u64, Option<f64>)> {
    let number_before = |label: &str| -> Option<f64> {
        let line = report.lines().find(|line| line.contains(label))?;
        line.split(label)
            .next()?
            .split_whitespace()
            .last()?
            .parse()
            .ok()
    };
    if report
        .lines()
        .any(|line| line.contains("errors: ") && !line.contains("errors: 0"))
    {
        return None;
    }
    let states = number_before("states, stored")? as u64;
    Some((states, number_before("total actual memory usage")))
}

#[cfg(test)]
mod tests {
    use super::read_report;

    /// The lines of a real report (Spin 6.5.2, event-sourced at 3,3,3,2), others left out.
    const REPORT: &str = "\
State-vector 64 byte, depth reached 58, errors: 0
  1799380 states, stored
  6000273 states, matched
  7799653 transitions (= stored+matched)
  211.011	total actual memory usage

pan: elapsed time 1.6 seconds
pan: rate 1124612.5 states/second
";

    #[test]
    fn a_report_gives_states_and_memory() {
        assert_eq!(read_report(REPORT), Some((1_799_380, Some(211.011))));
        let without_memory = REPORT.replace("total actual memory usage", "");
        assert_eq!(read_report(&without_memory), Some((1_799_380, None)));
    }

    #[test]
    fn a_report_with_an_error_or_without_states_gives_none() {
        assert_eq!(read_report(&REPORT.replace("errors: 0", "errors: 1")), None);
        assert_eq!(read_report(&REPORT.replace("states, stored", "")), None);
    }
}
