//! The examples run as tests, so that what they show keeps working.

use joincheck_models::verdict::Verdict;

#[path = "../examples/own_service.rs"]
mod own_service;

#[test]
fn own_service_example_runs() {
    own_service::main();
}

#[path = "../examples/own_store.rs"]
mod own_store;

/// A store of one's own: the compare-and-set service holds in every interleaving, and the blind
/// write's trace reads in the store's own operations, with the stale read named.
#[test]
fn own_store_example_proves_the_compare_and_set_and_refutes_the_blind_write() {
    own_store::main();
    let [compare_and_set, blind_write] = own_store::verdicts();
    assert_eq!(compare_and_set.kind(), "holds", "{compare_and_set:?}");
    assert_eq!(compare_and_set.stats().iterations, Some(30));
    let found = blind_write
        .counterexample()
        .expect("the blind write breaks");
    assert_eq!(
        joincheck::trace::text(found, None),
        "\
blind-write · loom, execution 4 · server-1: join sue → team-A; server-2: join sue → team-B
VIOLATED  a user is on at most one team — counterexample, 4 steps
   1  server-1  read   read sue's profile        no teams, revision 0
   2  server-2  read   read sue's profile        no teams, revision 0
   3  server-2  write  add team-B to sue.teams   sue ∈ {team-B}
   4  server-1  write  add team-A to sue.teams   sue ∈ {team-A, team-B}   ✗
broken: sue ∈ {team-A, team-B}
why: server-1 acted at step 4 on what it read at step 1; step 3 made that read stale.
"
    );
    let mermaid = joincheck::trace::mermaid(found);
    assert!(mermaid.contains("S2->>DB: 3. add team-B to sue.teams\n    DB-->>S2: sue ∈ {team-B}\n"));
    let file = joincheck::trace::CounterexampleFile::new(found, None, None);
    let read_back = joincheck::trace::CounterexampleFile::from_json(&file.to_json().to_string());
    assert_eq!(read_back.as_ref(), Ok(&file));
    let file = file.to_json();
    assert_eq!(
        file["steps"][2],
        serde_json::json!({
            "server": "server-2",
            "operation": "write",
            "detail": "add team-B to sue.teams",
            "arguments": {"writes": ["sue"]},
            "result": "",
            "conflict": false,
            "membership_after": [{"team": "team-B", "user": "sue"}],
        })
    );
}

/// The DPOR engine on the store of one's own reaches loom's verdicts, in fewer executions, with a
/// counterexample as short.
#[test]
fn dpor_reaches_loom_s_verdicts_on_the_store_of_one_s_own() {
    let loom = own_store::verdicts();
    let dpor = own_store::dpor_verdicts();
    let executions = |verdict: &Verdict| verdict.stats().iterations.unwrap();
    for (loom, dpor) in loom.iter().zip(&dpor) {
        assert_eq!(dpor.kind(), loom.kind(), "{dpor:?}");
        assert!(executions(dpor) <= executions(loom));
        let length = |verdict: &Verdict| verdict.counterexample().map(|c| c.steps.len());
        assert_eq!(length(dpor), length(loom));
    }
    assert_eq!(dpor.each_ref().map(executions), [6, 6]);
}
