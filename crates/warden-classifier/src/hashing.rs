//! The hash behind feature hashing, the train/test split and the model
//! checksum: 64-bit FNV-1a followed by the SplitMix64 finaliser.
//!
//! FNV-1a is a few instructions a step and needs no table, which matters
//! because every character of every text goes through it several times (one
//! step per character of each n-gram). Its low and high bits mix poorly on
//! short inputs, so each value is finalised with SplitMix64's mixer before
//! its bits pick a bucket and a sign. Both are defined on integers alone —
//! no pointer width, endianness or randomised seed — so a feature lands in the
//! same bucket on every platform and every run, which a saved model relies on.

/// FNV-1a's 64-bit offset basis.
pub const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
/// FNV-1a's 64-bit prime.
pub const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// FNV-1a over `bytes`.
pub const fn fnv1a_64(bytes: &[u8]) -> u64 {
    fnv1a_64_from(FNV_OFFSET, bytes)
}

/// FNV-1a over `bytes`, continuing from `hash`.
pub const fn fnv1a_64_from(hash: u64, bytes: &[u8]) -> u64 {
    let mut hash = hash;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(FNV_PRIME);
        i += 1;
    }
    hash
}

/// One FNV-1a step over a whole Unicode scalar value rather than a byte: the
/// tokeniser hashes characters, so an n-gram's hash does not depend on how
/// many bytes its characters take in UTF-8.
#[inline(always)]
pub const fn step(hash: u64, unit: u32) -> u64 {
    (hash ^ unit as u64).wrapping_mul(FNV_PRIME)
}

/// SplitMix64's finaliser: every input bit affects every output bit.
#[inline(always)]
pub const fn finalize(mut z: u64) -> u64 {
    z ^= z >> 30;
    z = z.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z ^= z >> 27;
    z = z.wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A finalised hash as a number in [0, 1) with 53 bits of precision.
pub fn unit_interval(hash: u64) -> f64 {
    (finalize(hash) >> 11) as f64 / (1u64 << 53) as f64
}

/// The bucket (the top `bits` bits) and the sign (the lowest bit) of a
/// feature's hash, as signed feature hashing uses them: colliding features
/// cancel on average instead of piling up.
#[inline(always)]
pub fn bucket_and_sign(hash: u64, bits: u8) -> (u32, f32) {
    let mixed = finalize(hash);
    let bucket = (mixed >> (64 - u32::from(bits))) as u32;
    let sign = if mixed & 1 == 0 { 1.0 } else { -1.0 };
    (bucket, sign)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_the_published_test_vectors() {
        // From the FNV reference (Fowler, Noll, Vo), 64-bit FNV-1a.
        assert_eq!(fnv1a_64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a_64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a_64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn finalize_matches_splitmix64() {
        // SplitMix64 seeded with 0 yields finalize(0x9e3779b97f4a7c15) first.
        assert_eq!(finalize(0x9e37_79b9_7f4a_7c15), 0xe220_a839_7b1d_cdaf);
        assert_eq!(finalize(0), 0);
    }

    #[test]
    fn buckets_are_stable_across_runs_and_platforms() {
        // Pinned values, computed independently (bench/sklearn_baseline.py
        // implements the same functions): a change here moves every feature of every saved
        // model to another bucket, so it needs a new model format version.
        let word = fnv1a_64(b"free");
        assert_eq!(word, 0x7f62_5478_d788_e11b);
        assert_eq!(bucket_and_sign(word, 20), (316866, -1.0));
        assert_eq!(bucket_and_sign(word, 18), (79216, -1.0));
        let chars = "été".chars().fold(FNV_OFFSET, |h, c| step(h, c as u32));
        assert_eq!(chars, 0x8072_001b_9fe5_a1fb);
    }

    #[test]
    fn unit_interval_stays_in_range() {
        for i in 0..10_000u64 {
            let u = unit_interval(i);
            assert!((0.0..1.0).contains(&u));
        }
        assert!(unit_interval(u64::MAX) < 1.0);
    }
}
