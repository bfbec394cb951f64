//! Seeded numbers (SplitMix64) for what a load test draws: its workload and its delays. The same
//! seed gives the same numbers on every machine, which is what makes a seed worth reporting.

/// Numbers drawn from a seed.
#[derive(Clone, Debug)]
pub(crate) struct Draws(u64);

impl Draws {
    /// Numbers drawn from `seed`.
    pub(crate) fn new(seed: u64) -> Draws {
        Draws(seed)
    }

    /// The next number.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number below `bound` (0 for a bound of 0).
    pub(crate) fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound.max(1)
    }
}
