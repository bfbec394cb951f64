//! Terminal details shared by the commands: colour, progress on stderr, number formatting.

use clap::ValueEnum;
use joincheck_models::Progress;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// When to colour the output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when stdout is a terminal and `NO_COLOR` is unset or empty.
    Auto,
    /// Always colour (even with `NO_COLOR`).
    Always,
    /// Never colour.
    Never,
}

/// How `conform`, `stress`, `bench` and `replay` print their report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Text for a terminal.
    Text,
    /// One JSON document at the end (schema version 1, see the README).
    Json,
}

/// The schema version of every command's JSON report. Bump it when a field changes meaning.
pub const REPORT_VERSION: u32 = 1;

/// ANSI styling, or none.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    color: bool,
}

impl Style {
    /// Styling for stdout under `choice`.
    pub fn for_stdout(choice: ColorChoice) -> Style {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty());
        let color = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => !no_color && std::io::stdout().is_terminal(),
        };
        Style { color }
    }

    fn paint(self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    /// Green: held, as expected.
    pub fn good(self, text: &str) -> String {
        self.paint("32", text)
    }

    /// Bold red: broken, or not what was expected.
    pub fn bad(self, text: &str) -> String {
        self.paint("1;31", text)
    }

    /// Yellow: inconclusive.
    pub fn warn(self, text: &str) -> String {
        self.paint("33", text)
    }

    /// Bold: headings.
    pub fn bold(self, text: &str) -> String {
        self.paint("1", text)
    }
}

/// The first report or file that could not be written, in words (`the report to standard
/// output: No space left on device (os error 28)`): a run that lost part of its report must not
/// end as if it had delivered it, so the command ends with one line saying so and exit 2.
static UNWRITTEN: Mutex<Option<String>> = Mutex::new(None);

/// Notes that `what` could not be written (the first such note is the one reported).
pub fn unwritten(what: String) {
    let mut first = UNWRITTEN.lock().unwrap_or_else(|e| e.into_inner());
    first.get_or_insert(what);
}

/// What could not be written, if anything: the one line the command ends with.
pub fn first_unwritten() -> Option<String> {
    UNWRITTEN.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Whether the report on standard output is already incomplete: nothing more is written there,
/// and work whose only purpose is that report can stop.
pub fn stdout_failed() -> bool {
    first_unwritten().is_some_and(|what| what.starts_with(STDOUT))
}

const STDOUT: &str = "the report to standard output";

/// Writes `text` to stdout. A closed pipe (`joincheck check | head`) ends the process quietly
/// (SIGPIPE, as for any Unix tool); any other failure (a full disk, `> /dev/full`) is noted for
/// [`first_unwritten`], and nothing more is written to stdout.
pub fn emit(text: &str) {
    if stdout_failed() {
        return;
    }
    let mut stdout = std::io::stdout().lock();
    if let Err(error) = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        unwritten(format!("{STDOUT}: {error}"));
    }
}

/// Writes `contents` to `path` whole or not at all: into a new file next to it, renamed over
/// `path` once every byte is written and flushed to disk, so that a full disk or a killed run
/// never leaves a truncated file where a complete one is expected.
pub fn write_whole(path: &Path, contents: &[u8]) -> Result<(), String> {
    let cannot = |error: std::io::Error| format!("{}: {error}", path.display());
    let name = path.file_name().map_or_else(
        || "joincheck".into(),
        |name| name.to_string_lossy().into_owned(),
    );
    let partial = path.with_file_name(format!(".{name}.{}.partial", std::process::id()));
    let written = std::fs::File::create(&partial).and_then(|mut file| {
        file.write_all(contents)?;
        file.sync_all()
    });
    match written.and_then(|()| std::fs::rename(&partial, path)) {
        Ok(()) => Ok(()),
        Err(error) => {
            let _ = std::fs::remove_file(&partial);
            Err(cannot(error))
        }
    }
}

pub use joincheck::figures::{count, thousands};

/// What a running check counts, for its progress: the model checker's states, or the real
/// code's executions (loom's interleavings, shuttle's schedules, runs on real threads).
pub enum Gauge {
    /// The model checker's figures.
    States(Arc<Progress>),
    /// Executions begun.
    Executions(Arc<AtomicU64>),
    /// Requests of a load test done, and violations seen so far.
    Requests(Arc<joincheck::load::Progress>),
}

/// Progress of a running check on stderr, shown once it has run for a second: rewritten in place
/// on a terminal, one line every few seconds otherwise. Never on stdout.
pub struct Ticker {
    started: Instant,
    last: Option<Instant>,
    terminal: bool,
    shown: bool,
}

impl Ticker {
    /// A ticker for a run starting now.
    pub fn start() -> Ticker {
        Ticker {
            started: Instant::now(),
            last: None,
            terminal: std::io::stderr().is_terminal(),
            shown: false,
        }
    }

    /// Seconds since the run started.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Shows progress of `what` if the run is over a second old and a line is due.
    pub fn tick(&mut self, what: &str, gauge: &Gauge) {
        let elapsed = self.started.elapsed();
        if elapsed < Duration::from_secs(1) {
            return;
        }
        let every = if self.terminal {
            Duration::from_millis(200)
        } else {
            Duration::from_secs(5)
        };
        if self.last.is_some_and(|last| last.elapsed() < every) {
            return;
        }
        self.last = Some(Instant::now());
        let seconds = elapsed.as_secs_f64();
        let rate = |count: u64| thousands((count as f64 / seconds) as u64);
        let line = match gauge {
            Gauge::States(progress) => {
                let unique = progress.unique_states();
                format!(
                    "{what}: {} states, {} states/s, depth {}, {seconds:.1} s",
                    thousands(unique),
                    rate(unique),
                    progress.depth()
                )
            }
            Gauge::Executions(executions) => {
                let executions = executions.load(Ordering::Relaxed);
                format!(
                    "{what}: {} executions, {} executions/s, {seconds:.1} s",
                    thousands(executions),
                    rate(executions)
                )
            }
            Gauge::Requests(progress) => {
                let requests = progress.requests.load(Ordering::Relaxed);
                format!(
                    "{what}: {} requests, {} requests/s, {} violations so far, {seconds:.1} s",
                    thousands(requests),
                    rate(requests),
                    thousands(progress.violations.load(Ordering::Relaxed))
                )
            }
        };
        let mut stderr = std::io::stderr().lock();
        if self.terminal {
            let _ = write!(stderr, "\r\x1b[2K{line}");
        } else {
            let _ = writeln!(stderr, "{line}");
        }
        let _ = stderr.flush();
        self.shown = true;
    }

    /// Clears the progress line from a terminal.
    pub fn finish(self) {
        if self.shown && self.terminal {
            let mut stderr = std::io::stderr().lock();
            let _ = write!(stderr, "\r\x1b[2K");
            let _ = stderr.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_get_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_799_380), "1,799,380");
    }

    #[test]
    fn plain_style_adds_no_escape_codes() {
        assert_eq!(
            Style::for_stdout(ColorChoice::Never).bad("VIOLATED"),
            "VIOLATED"
        );
        assert_eq!(
            Style::for_stdout(ColorChoice::Always).good("holds"),
            "\x1b[32mholds\x1b[0m"
        );
    }
}
