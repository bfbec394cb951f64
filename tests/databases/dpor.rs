//! The DPOR engine on SQL: against loom, every SQL protocol of the catalogue on each database
//! agrees (the same verdict, never more executions, the same final memberships), in exactly these
//! executions. A statement that runs on its own is ordered by the tables it names; one in a
//! transaction by the whole database.

#[path = "../common/dpor_vs_loom.rs"]
mod dpor_vs_loom;

use super::{postgres, sqlite};
use dpor_vs_loom::agree;
use joincheck::check::Scenario;
use joincheck::protocols::{with_service, Builtin, Service, Storage, WithBuiltin, CATALOGUE};
use joincheck::store::sql::SqlTarget;

/// DPOR's executions on each SQL protocol on `target` at `sizes`, by name, where both engines
/// agree.
fn executions(target: &SqlTarget, [s, u, t, n]: [u8; 4]) -> Vec<(String, u64)> {
    struct Agree(Scenario, String);
    impl WithBuiltin for Agree {
        type Output = u64;
        fn run<S: Service>(self, builtin: Builtin<S>) -> u64 {
            agree(builtin.service, &self.0, &self.1)
        }
    }
    let storage = Storage::Sql(target.clone());
    CATALOGUE
        .iter()
        .filter_map(|protocol| {
            let scenario = Scenario::round_robin(s, u, t, n).unwrap();
            let at = format!("{protocol} on {target:?} at {s},{u},{t},{n}");
            let runs = with_service(*protocol, &storage, Agree(scenario, at)).ok()?;
            Some((protocol.to_string(), runs))
        })
        .collect()
}

fn named(pins: &[(&str, u64)]) -> Vec<(String, u64)> {
    pins.iter()
        .map(|(name, runs)| (name.to_string(), *runs))
        .collect()
}

#[test]
fn dpor_agrees_with_loom_on_sqlite() {
    assert_eq!(
        executions(&sqlite(), [2, 1, 2, 1]),
        named(&[
            ("naive", 4),
            ("naive-transaction", 16),
            ("naive-repeatable-read", 16),
            ("naive-serializable", 16),
            ("naive-one-statement", 2),
            ("lock-user-row", 16),
            ("event-sourced", 4),
            ("event-sourced-per-user", 4),
            ("event-sourced-per-team", 4),
            ("unique-membership", 2),
            ("user-document", 2),
        ])
    );
}

#[test]
fn dpor_agrees_with_loom_on_postgres() {
    let Some(target) = postgres("dpor_agrees_with_loom_on_postgres") else {
        return;
    };
    assert_eq!(
        executions(&target, [2, 1, 2, 1]),
        named(&[
            ("naive", 4),
            ("naive-transaction", 70),
            ("naive-repeatable-read", 70),
            ("naive-serializable", 70),
            ("naive-one-statement", 2),
            ("lock-user-row", 62),
            ("event-sourced", 4),
            ("event-sourced-per-user", 4),
            ("event-sourced-per-team", 4),
            ("unique-membership", 2),
            ("user-document", 2),
        ])
    );
}
