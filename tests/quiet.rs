//! A program that runs loom, shuttle and proptest, in any order, prints nothing it did not print
//! itself: the engines' control-flow panics, an implementation's panic under loom (its message is
//! the verdict's reason) and shuttle's "task failed" blocks stay off stderr,
//! while a panic of the program's own still reaches it.
//!
//! The test runs itself again as a child process, so that it sees the child's stderr.

use joincheck::check::loom::{self, LoomOptions};
use joincheck::check::proptest::{self, ProptestOptions};
use joincheck::check::shuttle::{self, ShuttleOptions, Strategy};
use joincheck::check::Scenario;
use joincheck::runtime::Runtime;
use joincheck::service::{EventSourced, JoinService, Naive, Server};
use joincheck::store::Recording;
use joincheck::store::TeamsCollection;
use joincheck_models::domain::{JoinError, ServerId, TeamId, UserId};
use joincheck_models::verdict::Verdict;
use std::process::Command;
use std::sync::Arc;

const CHILD: &str = "JOINCHECK_QUIET_CHILD";

/// shuttle first (its panic hook then wraps the process's), loom, proptest, and shuttle again,
/// the last time with random schedules that the shortening budget stops early (shuttle's random
/// scheduler, dropped before its last schedule, would print a "failing seed" note).
fn every_engine_in_turn() {
    let article = Scenario::article();
    let stopped_early = ShuttleOptions::default()
        .strategy(Strategy::Random)
        .iterations(5000);
    let kinds = [
        shuttle::check(Naive, &article, &ShuttleOptions::default()).kind(),
        loom::check(Naive, &article, &LoomOptions::default())
            .unwrap()
            .kind(),
        proptest::check(Naive, &ProptestOptions::default()).kind(),
        loom::check(EventSourced::GLOBAL, &article, &LoomOptions::default())
            .unwrap()
            .kind(),
        shuttle::check(EventSourced::GLOBAL, &article, &ShuttleOptions::default()).kind(),
        shuttle::check(Naive, &article, &stopped_early).kind(),
    ];
    assert_eq!(
        kinds,
        ["violated", "violated", "violated", "holds", "holds", "violated"]
    );
    // An implementation that panics under loom: inconclusive, the panic told there, not on
    // stderr. (Under shuttle, and so under proptest, which runs on shuttle, shuttle itself
    // prints one line per panic, "test panicked in task …", which no panic hook can keep off.)
    match loom::check(Panics, &article, &LoomOptions::default()).unwrap() {
        Verdict::Inconclusive { reason, .. } => {
            assert!(reason.contains("out of database connections"), "{reason}")
        }
        other => panic!("expected inconclusive: {other:?}"),
    }
    let _ = std::panic::catch_unwind(|| panic!("the program's own panic"));
}

/// A service whose servers panic on every request.
#[derive(Clone, Copy)]
struct Panics;

impl<R: Runtime> JoinService<R> for Panics {
    type Database = TeamsCollection<R>;
    type Server = Panicking;

    fn name(&self) -> String {
        "panics".to_string()
    }

    fn open_database(
        &self,
        initial: &[(TeamId, UserId)],
        recording: Recording,
    ) -> Arc<Self::Database> {
        Arc::new(TeamsCollection::with_members(initial, recording))
    }

    fn start_server(&self, _: &Arc<TeamsCollection<R>>, _: ServerId) -> Panicking {
        Panicking
    }
}

struct Panicking;

impl Server for Panicking {
    fn join(&mut self, _: UserId, _: TeamId) -> Result<(), JoinError> {
        panic!("out of database connections")
    }

    fn leave(&mut self, _: UserId, _: TeamId) -> Result<(), JoinError> {
        panic!("out of database connections")
    }
}

#[test]
fn engines_run_in_one_program_print_nothing_extra() {
    if std::env::var_os(CHILD).is_some() {
        return every_engine_in_turn();
    }
    let this_test = "engines_run_in_one_program_print_nothing_extra";
    let child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", this_test, "--nocapture", "--test-threads", "1"])
        .env(CHILD, "1")
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&child.stderr);
    assert!(child.status.success(), "{stderr}");
    // The default report of the program's own panic, and nothing else.
    let lines: Vec<&str> = stderr.lines().filter(|line| !line.is_empty()).collect();
    assert_eq!(lines.len(), 3, "{stderr}");
    assert!(
        lines[0].starts_with(&format!("thread '{this_test}'")),
        "{stderr}"
    );
    assert!(lines[0].contains("panicked at tests/quiet.rs"), "{stderr}");
    assert_eq!(lines[1], "the program's own panic");
    assert!(
        lines[2].starts_with("note: run with `RUST_BACKTRACE=1`"),
        "{stderr}"
    );
}
