//! SplitMix64 (Steele, Lea & Flood 2014; the generator behind Java's
//! `SplittableRandom`), the one generator the crate draws its own random
//! numbers from: the loader's shuffle and the dropout mask.

/// The `index`-th output of the SplitMix64 stream whose state starts at
/// `seed`: counter-based, so any element can be computed on its own (the
/// dropout mask fills chunks on several threads) and the sequence is that
/// of the sequential generator. It passes BigCrush as a counter-based
/// generator.
#[inline(always)]
pub(crate) fn splitmix64(seed: u64, index: u64) -> u64 {
    let mut z = seed.wrapping_add(index.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_is_the_sequential_generator() {
        // The reference implementation: state += gamma; mix(state).
        let mut state: u64 = 1234;
        for i in 0..5 {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            assert_eq!(splitmix64(1234, i), z ^ (z >> 31));
        }
    }
}
