//! Terminal details shared by the commands: colour, progress on stderr, number formatting.

use clap::ValueEnum;
use joincheck_models::Progress;
use std::io::{IsTerminal, Write};
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

/// Writes `text` to stdout; a closed pipe (`joincheck check | head`) is not an error.
pub fn emit(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
}

pub use joincheck::figures::{count, thousands};

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
    pub fn tick(&mut self, what: &str, progress: Option<&Progress>) {
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
        let line = match progress {
            Some(progress) => {
                let unique = progress.unique_states();
                format!(
                    "{what}: {} states, {} states/s, depth {}, {seconds:.1} s",
                    thousands(unique),
                    thousands((unique as f64 / seconds) as u64),
                    progress.depth()
                )
            }
            None => format!("{what}: running, {seconds:.1} s"),
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
