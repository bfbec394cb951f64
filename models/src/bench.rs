//! The benchmark grid: the configurations `docs/ARCHITECTURE.md` compares with Spin and Rumur, so
//! that the `bench` example and a CLI `bench` command measure the same thing.

use crate::{Protocol, Sizes};

/// The configurations to benchmark, smallest first: naive's race, then event sourcing (global
/// stream and per user) at 3,3,3,2 / 3,3,3,3 / 4,4,4,2 / 5,3,3,2, the sizes of the table in
/// `docs/ARCHITECTURE.md`.
pub fn bench_grid() -> Vec<(Protocol, Sizes)> {
    let mut grid = Vec::new();
    for [s, u, t, n] in [[2, 1, 2, 1], [3, 3, 3, 2]] {
        grid.push((Protocol::Naive, sized(s, u, t, n)));
    }
    for protocol in [Protocol::EventSourced, Protocol::EventSourcedPerUser] {
        for [s, u, t, n] in [[3, 3, 3, 2], [3, 3, 3, 3], [4, 4, 4, 2], [5, 3, 3, 2]] {
            grid.push((protocol, sized(s, u, t, n)));
        }
    }
    grid
}

/// Why a configuration is not worth running without symmetry reduction, if it is not: Spin
/// needs over 120 s for these (`docs/ARCHITECTURE.md`). Unreduced counts are about 0.9·S!·U!·T!
/// times the reduced ones at 3,3,3,2 and 3,3,3,3, which puts 4,4,4,2 near 20 billion states and
/// 5,3,3,2 near 8 billion: beyond memory, let alone 60 s.
pub fn skip_without_symmetry(protocol: Protocol, sizes: Sizes) -> Option<&'static str> {
    let big =
        sizes.servers >= 4 && sizes.servers * sizes.requests >= 8 && sizes.users * sizes.teams >= 9;
    (protocol != Protocol::Naive && big)
        .then_some("skipped without symmetry: billions of states, beyond memory and 60 s")
}

/// Sizes known to be valid.
fn sized(servers: u8, users: u8, teams: u8, requests: u8) -> Sizes {
    Sizes {
        servers,
        users,
        teams,
        requests,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grid_is_valid_and_skips_only_the_huge_unreduced_runs() {
        let grid = bench_grid();
        for (_, sizes) in &grid {
            let [s, u, t, n] = sizes.as_array();
            assert_eq!(Sizes::new(s, u, t, n), Ok(*sizes));
        }
        let skipped: Vec<String> = grid
            .iter()
            .filter(|(p, s)| skip_without_symmetry(*p, *s).is_some())
            .map(|(p, s)| format!("{p} {:?}", s.as_array()))
            .collect();
        assert_eq!(
            skipped,
            [
                "event-sourced [4, 4, 4, 2]",
                "event-sourced [5, 3, 3, 2]",
                "event-sourced-per-user [4, 4, 4, 2]",
                "event-sourced-per-user [5, 3, 3, 2]"
            ]
        );
    }
}
