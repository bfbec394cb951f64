//! The checker on simulated histories of a linearizable join service (the benchmark's, from
//! `examples/linearizability_figures/simulation.rs`): linearizable by construction, ending in the
//! membership the simulation ended in; then with check-then-act races inserted where they
//! provably cannot be ordered, and with a final membership that no order reaches.

#[path = "../examples/linearizability_figures/simulation.rs"]
mod simulation;

use joincheck::linearizability::join::JoinSpec;
use joincheck::linearizability::{check, Linearizability, Options};
use joincheck::models::domain::TeamId;
use simulation::{insert_races, simulate, Workload};

/// Many users with a few requests at once each; a few users, contended; one user under 16
/// workers, with one answer in twenty lost.
const WORKLOADS: [(u32, u8, u64); 3] = [(8, 40, 10), (16, 4, 10), (16, 1, 50)];

fn workload((workers, users, unknown_per_mille): (u32, u8, u64), seed: u64) -> Workload {
    Workload {
        workers,
        users,
        teams: 3,
        requests: 2000,
        errors_per_mille: 10,
        unknown_per_mille,
        seed,
    }
}

#[test]
fn a_linearizable_service_is_linearizable_and_ends_in_its_final_membership() {
    for shape in WORKLOADS {
        for seed in 0..5 {
            let simulated = simulate(&workload(shape, seed));
            let spec = JoinSpec::new().ending_with(&simulated.ending);
            let verdict = check(&spec, &simulated.history, &Options::default());
            let Linearizability::Linearizable { stats } = verdict else {
                panic!("{shape:?}, seed {seed}: {verdict:?}");
            };
            assert_eq!(stats.calls, 2000);
            assert_eq!(stats.keys, usize::from(shape.1));
        }
    }
}

#[test]
fn each_inserted_race_is_exactly_what_cannot_be_ordered() {
    let mut races_found = 0;
    for shape in WORKLOADS {
        for seed in 0..5 {
            let mut simulated = simulate(&workload(shape, seed));
            let races = insert_races(&mut simulated, 2, seed);
            let verdict = check(&JoinSpec::new(), &simulated.history, &Options::default());
            match races.first() {
                None => assert_eq!(verdict.kind(), "linearizable"),
                Some((user, ids)) => {
                    let found = verdict.unorderable().expect("the race");
                    assert_eq!((found.key, found.calls.as_slice()), (*user, &ids[..]));
                    assert!(found.minimal && !found.ending);
                    races_found += 1;
                }
            }
        }
    }
    // One user under 16 workers is rarely quiet: a race fits there in 4 of 5 histories.
    assert_eq!(races_found, 14);
}

/// No order puts a user on two teams: the final membership alone is what cannot be reached.
/// (Not on the one contended user: refuting an ending there means refuting every order of 2,000
/// requests 16 at a time, which takes minutes: the checker's worst case, see the benchmark.)
#[test]
fn a_final_membership_with_a_user_on_two_teams_is_unreachable() {
    for shape in &WORKLOADS[..2] {
        let shape = *shape;
        let simulated = simulate(&workload(shape, 1));
        let last = simulated.timeline.keys().next_back().copied().unwrap();
        let mut ending = simulated.ending.clone();
        ending.extend([(TeamId(0), last), (TeamId(1), last)]);
        let spec = JoinSpec::new().ending_with(&ending);
        let verdict = check(&spec, &simulated.history, &Options::default());
        let found = verdict.unorderable().expect("the ending is unreachable");
        assert_eq!((found.key, found.calls.len()), (last, 0));
        assert!(found.ending && found.minimal);
    }
}
