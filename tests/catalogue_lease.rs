//! The lease-lock protocols on the real service: loom, shuttle and proptest refute the plain and
//! the write-fenced lock and pass the one whose check is fenced too; their histories are paths of
//! the models; the models' counterexamples replay on the real code; and the command agrees.
//!
//! The database's clock expires a lease once per run, at whatever moment the engine schedules
//! it (loom: every moment). That covers the refutations, which need one expiry. The proof of
//! `lease-lock-fenced-reads` under loom is therefore "every interleaving with at most one
//! expiry" of the workload; the model covers any number of expiries.

use joincheck::check::conform::{self, builtin_model, replay_on_implementation};
use joincheck::check::loom::{self, LoomOptions};
use joincheck::check::proptest::{self, ProptestOptions};
use joincheck::check::shuttle::{self, ShuttleOptions, Strategy};
use joincheck::check::stress::{self, StressOptions};
use joincheck::check::Scenario;
use joincheck::service::LeaseLock;
use joincheck::trace;
use joincheck_models::operation::{OpResult, Operation};
use joincheck_models::verdict::{Counterexample, Verdict};
use joincheck_models::{check, CheckOptions, Protocol, ProtocolModel, Replay, Sizes};
use std::process::Command;

const SERVICES: [(LeaseLock, Protocol); 3] = [
    (LeaseLock::PLAIN, Protocol::LeaseLock),
    (LeaseLock::FENCED, Protocol::LeaseLockFenced),
    (LeaseLock::FENCED_READS, Protocol::LeaseLockFencedReads),
];

fn violated(verdict: &Verdict) -> &Counterexample {
    match verdict {
        Verdict::Violated { counterexample, .. } => counterexample,
        other => panic!("expected a violation, got {other:?}"),
    }
}

fn holds(verdict: &Verdict) -> &str {
    match verdict {
        Verdict::Holds { scope, .. } => scope,
        other => panic!("expected holds, got {other:?}"),
    }
}

/// loom's first interleavings put server-2's push first; the shortest it sees is 7 steps.
#[test]
fn loom_refutes_the_plain_lease_lock_in_seven_steps() {
    let verdict = loom::check(
        LeaseLock::PLAIN,
        &Scenario::article(),
        &LoomOptions::default(),
    );
    let verdict = verdict.unwrap();
    assert_eq!(verdict.stats().iterations, Some(3_437));
    assert_eq!(
        trace::text(violated(&verdict), None),
        "\
lease-lock · loom, execution 2440 · server-1: join sue → team-A; server-2: join sue → team-B
VIOLATED  a user is on at most one team — counterexample, 7 steps
   1  server-1  acquire  acquire sue's lock    ok
   2  server-1  check    is sue on a team?     no
   3  server-1  lease    sue's lease expires   lock free, holder not told
   4  server-2  acquire  acquire sue's lock    ok
   5  server-2  check    is sue on a team?     no
   6  server-2  act      push sue → team-B     sue ∈ {team-B}
   7  server-1  act      push sue → team-A     sue ∈ {team-A, team-B}   ✗
broken: sue ∈ {team-A, team-B}
why: server-1 acted at step 7 on what it read at step 2; step 6 made that read stale. server-1 \
wrote at step 7 under a lease that had expired at step 3, unknown to it.
"
    );
}

/// With fenced pushes, the expired holder's push must come first (token 1 before 2 is
/// accepted); the other order is rejected. 7 steps, the model's own counterexample.
#[test]
fn loom_refutes_the_write_fenced_lease_lock_in_seven_steps() {
    let verdict = loom::check(
        LeaseLock::FENCED,
        &Scenario::article(),
        &LoomOptions::default(),
    );
    let verdict = verdict.unwrap();
    assert_eq!(verdict.stats().iterations, Some(3_446));
    assert_eq!(
        trace::text(violated(&verdict), None),
        "\
lease-lock-fenced · loom, execution 2449 · server-1: join sue → team-A; server-2: join sue → team-B
VIOLATED  a user is on at most one team — counterexample, 7 steps
   1  server-1  acquire  acquire sue's lock               ok, token 1
   2  server-1  check    is sue on a team?                no
   3  server-1  lease    sue's lease expires              lock free, holder not told
   4  server-2  acquire  acquire sue's lock               ok, token 2
   5  server-2  check    is sue on a team?                no
   6  server-1  act      push sue → team-A with token 1   sue ∈ {team-A}
   7  server-2  act      push sue → team-B with token 2   sue ∈ {team-A, team-B}   ✗
broken: sue ∈ {team-A, team-B}
why: server-2 acted at step 7 on what it read at step 5; step 6 made that read stale. server-1 \
wrote at step 6 under a lease that had expired at step 3, unknown to it.
"
    );
    let model = check(
        Protocol::LeaseLockFenced,
        Sizes::new(2, 1, 2, 1).unwrap(),
        &CheckOptions::default(),
    );
    assert_eq!(violated(&verdict).steps, violated(&model).steps);
}

/// Every interleaving of the article's workload with the clock at every moment: the exact
/// number of executions, so that an early stop cannot pass for a proof.
#[test]
fn loom_proves_the_fenced_reads_on_the_article() {
    let scenario = Scenario::article();
    let verdict = loom::check(LeaseLock::FENCED_READS, &scenario, &LoomOptions::default());
    let verdict = verdict.unwrap();
    assert_eq!(
        holds(&verdict),
        "all interleavings of server-1: join sue → team-A; server-2: join sue → team-B"
    );
    assert_eq!(verdict.stats().iterations, Some(49_148));
}

/// The clock is a thread too: with it, loom has room for three servers, and says so.
#[test]
fn loom_counts_the_clock_among_its_threads() {
    let four = Scenario::contended(4, 1, 2).unwrap();
    let error = loom::check(LeaseLock::PLAIN, &four, &LoomOptions::default()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "4 servers is more than loom can check (at most 3)"
    );
}

#[test]
fn shuttle_refutes_the_plain_and_write_fenced_locks_and_passes_the_fenced_reads() {
    let scenario = Scenario::article();
    let options = ShuttleOptions::default();
    for (service, protocol) in SERVICES {
        let verdict = shuttle::check(service, &scenario, &options);
        match protocol {
            Protocol::LeaseLockFencedReads => {
                assert!(holds(&verdict).ends_with("evidence, not proof"));
                assert_eq!(verdict.stats().iterations, Some(1000));
            }
            _ => {
                let found = violated(&verdict);
                assert!(found.steps.len() >= 7, "{protocol}");
                let expiry = |step: &&joincheck_models::operation::Step| {
                    matches!(step.operation, Operation::Expire { .. })
                };
                assert_eq!(found.steps.iter().filter(expiry).count(), 1);
            }
        }
    }
}

#[test]
fn proptest_refutes_the_plain_and_write_fenced_locks_and_passes_the_fenced_reads() {
    let options = ProptestOptions::default();
    for (service, protocol) in SERVICES {
        let (verdict, workload) = proptest::check_workloads(service, &options);
        match protocol {
            Protocol::LeaseLockFencedReads => {
                assert!(holds(&verdict).starts_with("no violation in 256 generated workloads"));
            }
            _ => {
                let found = violated(&verdict);
                assert_eq!(
                    found.parameters, "server-1: join sue → team-A; server-2: join sue → team-B",
                    "{protocol}"
                );
                assert_eq!(found.steps.len(), 7, "{protocol}");
                assert!(workload.is_some());
            }
        }
    }
}

/// Every shuttle history, expiries included, is a path of the protocol's model. Some of the
/// plain and write-fenced ones break (so some have an expiry at the worst moment), none of the
/// fenced reads do.
#[test]
fn every_shuttle_history_is_a_path_of_the_model() {
    let scenarios = [Scenario::article(), Scenario::contended(3, 2, 2).unwrap()];
    let mut broken = [0; 3];
    for scenario in &scenarios {
        for strategy in [Strategy::Random, Strategy::Pct { depth: 3 }] {
            let options = ShuttleOptions::default().strategy(strategy).iterations(200);
            for (index, (service, protocol)) in SERVICES.into_iter().enumerate() {
                let model = builtin_model(protocol, scenario).unwrap();
                let report = conform::shuttle(service, model, scenario, &options);
                assert_eq!(report.divergence, None, "{protocol}");
                assert_eq!(report.incomplete, None, "{protocol}");
                assert_eq!(report.histories, 200, "{protocol}");
                broken[index] += report.violations;
            }
        }
    }
    assert_eq!(broken, [97, 38, 0]);
}

/// The models' counterexample runs on the real service with the store admitting operations in
/// its order, the expiry at the clock's turn: the same history, step for step.
#[test]
fn the_models_counterexamples_replay_on_the_implementation() {
    let sizes = Sizes::new(2, 1, 2, 1).unwrap();
    for (service, protocol) in &SERVICES[..2] {
        let verdict = check(*protocol, sizes, &CheckOptions::default());
        let found = violated(&verdict);
        let Replay::ModelPath { actions, .. } = &found.replay else {
            panic!("a model path");
        };
        let model = ProtocolModel::new(*protocol, sizes);
        let execution = replay_on_implementation(service, &model, actions).unwrap();
        assert_eq!(execution.history[..7], found.steps[..], "{protocol}");
    }
    // The same path on the fenced reads: server-1's push is rejected, and it still releases.
    let model = ProtocolModel::new(Protocol::LeaseLockFencedReads, sizes);
    let path: Vec<String> = [
        "server-1 acquire sue → team-A",
        "server-1 check",
        "server-1 lease expires",
        "server-2 acquire sue → team-B",
        "server-2 check",
        "server-1 act",
        "server-1 release",
        "server-2 act",
    ]
    .map(String::from)
    .to_vec();
    let execution = replay_on_implementation(&LeaseLock::FENCED_READS, &model, &path).unwrap();
    assert_eq!(execution.history[5].result, OpResult::Stale { newest: 2 });
    assert_eq!(execution.history[6].result, OpResult::Released(false));
    assert_eq!(
        execution.answers[0][0].unwrap_err().to_string(),
        "rejected: token 1 is older than token 2"
    );
    assert_eq!(execution.answers[1], vec![Ok(())]);
}

/// On real threads the clock runs once per run too, and every run is judged step by step.
#[test]
fn real_threads_judge_every_run() {
    for (service, protocol) in SERVICES {
        let report = stress::run(
            &service,
            &Scenario::article(),
            &StressOptions::default().runs(50),
        );
        assert!(report.unjudged.is_none(), "{protocol}");
        if protocol == Protocol::LeaseLockFencedReads {
            assert_eq!(report.violations, 0);
        }
    }
}

/// `joincheck check --protocol X`: every engine's verdict as expected, exit 0.
#[test]
fn the_command_gives_the_expected_verdict_for_each() {
    for (_, protocol) in SERVICES {
        let output = Command::new(env!("CARGO_BIN_EXE_joincheck"))
            .args(["check", "--protocol", protocol.name(), "--color", "never"])
            .args(["--database", "memory"])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(output.status.code(), Some(0), "{protocol}: {stdout}");
        assert!(stdout.contains("all 5 verdicts as expected"), "{stdout}");
    }
}
