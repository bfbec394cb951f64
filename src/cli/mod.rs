//! Command-line interface: parses arguments, runs the checks, prints the results.

mod stress;

use clap::{Parser, Subcommand};

/// Proves or refutes "a user is on at most one team" for the Team Joiner protocols.
#[derive(Parser, Debug)]
#[command(name = "joincheck", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run every built-in service on real threads under a contended workload and count how often
    /// the invariant broke (evidence, not proof).
    ///
    /// Example: joincheck stress --runs 2000 --servers 4
    Stress(stress::StressArgs),
}

/// Runs the command line; returns the process exit status.
pub fn run() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let code = if error.use_stderr() { 2 } else { 0 };
            let _ = error.print();
            return code;
        }
    };
    match cli.command {
        Command::Stress(args) => stress::run(&args),
    }
}
