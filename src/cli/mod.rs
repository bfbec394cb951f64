//! Command-line interface: parses arguments, runs the checks, prints the results.
//!
//! Exit status, for every command: 0 when every verdict is what was expected, 1 when a verdict
//! differs (the CI gate), 2 for bad usage or input, or a report or file that could not be written
//! (one line on stderr), 3 when a check was
//! inconclusive (a limit, a timeout or a signal stopped it, or a bounded search found nothing).

mod bench;
mod check;
mod conform;
mod database_arg;
mod environment;
mod explore;
mod input;
mod interrupt;
mod memory;
mod output;
mod protocol_arg;
mod replay;
mod services;
mod sizes;
mod stress;
mod supervise;
mod timeout;
mod values;

use clap::error::ErrorKind;
use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand};

/// Exit status: every verdict as expected.
pub const EXIT_OK: i32 = 0;
/// Exit status: a verdict differs from what was expected.
pub const EXIT_UNEXPECTED: i32 = 1;
/// Exit status: bad usage or input.
pub const EXIT_USAGE: i32 = 2;
/// Exit status: a check stopped before covering its scope, or covered too little to decide.
pub const EXIT_INCONCLUSIVE: i32 = 3;

const AFTER_HELP: &str = "\
Exit status: 0 every verdict as expected;
1 a verdict differs from the expected one: a violation where holds was expected, or holds where
  a violation was expected (replay: the rerun does not reproduce the file; conform: a step the
  model cannot take; stress: a service known to be correct broke);
2 bad usage or input, or a report or file that could not be written (a full disk, say), with one
  line on stderr;
3 inconclusive: --max-states, --max-memory, --timeout or a signal stopped a check, or a bounded
  search found nothing.

Environment: the LOOM_*, SHUTTLE_* and PROPTEST_* variables that loom, shuttle and proptest read
are ignored, with a warning: the flags set every engine setting. NO_COLOR turns colour off.

Examples:
  joincheck check                                   every protocol, every engine, the article's race
  joincheck check --protocol event-sourced --engine model --servers 3 --users 3 --teams 3 --requests 2
  joincheck check --protocol naive --out out        save every counterexample in out/ (created)
  joincheck replay out/naive-model.json             rerun a saved counterexample
  joincheck replay out/naive-model.json --on-implementation
                                                    run a model counterexample on the real code
  joincheck conform --protocol event-sourced        does the code only do what the model allows?
  joincheck explore --protocol naive --port 3000    stateright's Explorer in the browser
  joincheck bench --quick                           the model-checking benchmark table";

/// Proves or refutes "a user is on at most one team" for the Team Joiner protocols.
#[derive(Parser, Debug)]
#[command(name = "joincheck", version, about, long_about = None, after_help = AFTER_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check protocols with the model checker and the real code under loom, shuttle and proptest;
    /// print a verdict table and every counterexample.
    ///
    /// Example: joincheck check --protocol naive --engine model --format json
    Check(check::CheckArgs),
    /// Rerun a counterexample saved by `check --out DIR`, compare the rerun with the file step
    /// by step, and print its trace again.
    ///
    /// Example: joincheck replay out/naive-shuttle.json
    Replay(replay::ReplayArgs),
    /// Match histories of the real implementation against the protocol's model, step by step,
    /// and print how many were validated or the first step the model cannot take.
    ///
    /// Example: joincheck conform --protocol event-sourced --iterations 1000 --seed 7
    Conform(conform::ConformArgs),
    /// Serve stateright's Explorer for one protocol model on 127.0.0.1.
    ///
    /// Example: joincheck explore --protocol naive --port 3000
    Explore(explore::ExploreArgs),
    /// Print the model-checking benchmark table: unique and generated states, seconds, states per
    /// second and peak memory, each configuration in a fresh process.
    ///
    /// Example: joincheck bench --quick
    Bench(bench::BenchArgs),
    /// One benchmark configuration, as a JSON line (what `bench` runs in a child process).
    #[command(hide = true)]
    BenchOne(bench::BenchOneArgs),
    /// Run every built-in service on real threads under a contended workload and count how often
    /// the invariant broke (evidence, not proof).
    ///
    /// Example: joincheck stress --runs 2000 --servers 4
    Stress(stress::StressArgs),
}

/// Runs the command line; returns the process exit status.
pub fn run() -> i32 {
    interrupt::quiet_broken_pipe();
    // Before any thread starts: the environment belongs to the whole process.
    let ignored = environment::remove_engine_variables();
    let matches = match Cli::command().try_get_matches() {
        Ok(matches) => matches,
        Err(error) => return usage_error(&error),
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(error) => return usage_error(&error),
    };
    if let Some(warning) = environment::ignored_warning(&ignored) {
        eprintln!("joincheck: {warning}");
    }
    let result = match cli.command {
        Command::Check(args) => check::run(&args, &given(matches.subcommand_matches("check"))),
        Command::Replay(args) => replay::run(&args),
        Command::Conform(args) => conform::run(&args),
        Command::Explore(args) => explore::run(&args),
        Command::Bench(args) => bench::run(&args),
        Command::BenchOne(args) => bench::run_one(&args),
        Command::Stress(args) => stress::run(&args),
    };
    let code = result.unwrap_or_else(|message| {
        eprintln!("joincheck: {}", joincheck::trace::one_line(&message));
        EXIT_USAGE
    });
    match output::first_unwritten() {
        Some(what) => cannot_write(&what, code),
        None => code,
    }
}

/// The end of a run whose report or files could not all be written: one line, and exit 2
/// whatever the verdicts were (the line keeps the status they gave).
fn cannot_write(what: &str, code: i32) -> i32 {
    let verdicts = match code {
        EXIT_OK | EXIT_USAGE => String::new(),
        code => format!(" (the verdicts alone would have exited {code})"),
    };
    eprintln!(
        "joincheck: cannot write {}{verdicts}",
        joincheck::trace::one_line(what)
    );
    EXIT_USAGE
}

/// The ids of the flags given on the command line (not those left at their default).
fn given(matches: Option<&ArgMatches>) -> Vec<String> {
    let Some(matches) = matches else {
        return Vec::new();
    };
    matches
        .ids()
        .filter(|id| matches.value_source(id.as_str()) == Some(ValueSource::CommandLine))
        .map(|id| id.as_str().to_string())
        .collect()
}

/// Prints a clap error as one line on stderr (help and version go to stdout in full). A bare
/// `joincheck` is not a mistake to report in one line: it gets the usage and the commands.
fn usage_error(error: &clap::Error) -> i32 {
    if !error.use_stderr() {
        // Help or version, asked for: not delivered is not done.
        let printed = error
            .print()
            .and_then(|()| std::io::Write::flush(&mut std::io::stdout()));
        return match printed {
            Ok(()) => EXIT_OK,
            Err(failed) => {
                let what = match error.kind() {
                    ErrorKind::DisplayVersion => "version",
                    _ => "help",
                };
                cannot_write(&format!("the {what} to standard output: {failed}"), EXIT_OK)
            }
        };
    }
    if error.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        let _ = error.print();
        return EXIT_USAGE;
    }
    eprintln!(
        "joincheck: {}",
        joincheck::trace::one_line(&one_line(&error.render().to_string()))
    );
    EXIT_USAGE
}

/// clap's multi-line error, without the usage and help hints, on one line.
fn one_line(rendered: &str) -> String {
    let parts: Vec<&str> = rendered
        .lines()
        .map(str::trim)
        .filter(|line| {
            !line.is_empty()
                && !line.starts_with("Usage:")
                && !line.starts_with("For more information")
        })
        .collect();
    let joined = parts.join(" ");
    joined
        .strip_prefix("error: ")
        .unwrap_or(&joined)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_errors_become_one_line() {
        let rendered = "error: invalid value 'x' for '--engine <ENGINE>'\n  [possible values: \
                        model, loom]\n\nFor more information, try '--help'.\n";
        assert_eq!(
            one_line(rendered),
            "invalid value 'x' for '--engine <ENGINE>' [possible values: model, loom]"
        );
    }

    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
