//! Percentiles by the nearest-rank method.
//!
//! The p-th percentile of n observations is the smallest observation such
//! that at least p % of the observations are at or below it: sort them and
//! take the one at 1-based rank `ceil(p × n / 100)`. The answer is always
//! one of the observations (a real handle time, not an interpolation), the
//! median of an even count is the lower of the two middle values, and the
//! rank is computed in integers so that `0.9 × 10` is exactly 9.

/// A percentile between 1 and 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Percent(u8);

impl Percent {
    /// The median.
    pub const P50: Percent = Percent(50);
    /// The 90th percentile.
    pub const P90: Percent = Percent(90);

    /// `percent` if it is between 1 and 100.
    pub fn new(percent: u8) -> Option<Percent> {
        (1..=100).contains(&percent).then_some(Percent(percent))
    }

    /// The 1-based rank of this percentile among `count` observations
    /// (`count` ≥ 1): `ceil(percent × count / 100)`.
    pub fn rank(self, count: usize) -> usize {
        let rank = (u128::from(self.0) * count as u128).div_ceil(100);
        // At most `count` because percent ≤ 100.
        (rank as usize).clamp(1, count.max(1))
    }
}

/// A percentile with the arithmetic behind it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RankedValue {
    /// The observation at `rank`.
    pub value: i64,
    /// Its 1-based rank among the observations, sorted ascending.
    pub rank: usize,
    /// How many observations there were.
    pub count: usize,
}

/// The nearest-rank `percent` of `values`, `None` when there are none.
/// Reorders `values` (a partial sort, linear time on average).
pub fn nearest_rank(values: &mut [i64], percent: Percent) -> Option<RankedValue> {
    if values.is_empty() {
        return None;
    }
    let rank = percent.rank(values.len());
    let (_, value, _) = values.select_nth_unstable(rank - 1);
    Some(RankedValue {
        value: *value,
        rank,
        count: values.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(values: &[i64], percent: u8) -> Option<i64> {
        let mut values = values.to_vec();
        nearest_rank(&mut values, Percent::new(percent).unwrap()).map(|ranked| ranked.value)
    }

    #[test]
    fn nearest_rank_matches_the_textbook_examples() {
        // The worked example of the nearest-rank method: 15, 20, 35, 40, 50.
        let values = [15, 20, 35, 40, 50];
        assert_eq!(at(&values, 5), Some(15));
        assert_eq!(at(&values, 30), Some(20));
        assert_eq!(at(&values, 40), Some(20));
        assert_eq!(at(&values, 50), Some(35));
        assert_eq!(at(&values, 100), Some(50));
        // Ten values: p90 is rank 9 exactly (no floating-point 9.000000001).
        let values = [3, 6, 7, 8, 8, 10, 13, 15, 16, 20];
        assert_eq!(at(&values, 25), Some(7));
        assert_eq!(at(&values, 50), Some(8));
        assert_eq!(at(&values, 75), Some(15));
        assert_eq!(at(&values, 90), Some(16));
        assert_eq!(at(&values, 100), Some(20));
    }

    #[test]
    fn the_median_of_an_even_count_is_the_lower_middle_and_order_does_not_matter() {
        assert_eq!(at(&[40, 10, 30, 20], 50), Some(20));
        assert_eq!(at(&[7], 50), Some(7));
        assert_eq!(at(&[7], 90), Some(7));
        assert_eq!(at(&[], 50), None);
        let mut values = vec![9, 1, 5];
        let ranked = nearest_rank(&mut values, Percent::P50).unwrap();
        assert_eq!((ranked.value, ranked.rank, ranked.count), (5, 2, 3));
    }

    #[test]
    fn percent_is_between_1_and_100() {
        assert!(Percent::new(0).is_none());
        assert!(Percent::new(101).is_none());
        assert_eq!(Percent::new(100).unwrap().rank(3), 3);
        assert_eq!(Percent::new(1).unwrap().rank(1000), 10);
    }

    proptest::proptest! {
        /// The nearest rank is an observation, does not depend on order, and
        /// at least `percent` of the observations are at or below it while
        /// fewer are strictly below.
        #[test]
        fn nearest_rank_is_an_order_free_observation(
            values in proptest::collection::vec(-1_000i64..1_000, 1..200),
            percent in 1u8..=100,
        ) {
            let percent = Percent::new(percent).unwrap();
            let mut shuffled = values.clone();
            shuffled.reverse();
            let ranked = nearest_rank(&mut values.clone(), percent).unwrap();
            proptest::prop_assert_eq!(nearest_rank(&mut shuffled, percent).unwrap(), ranked);
            proptest::prop_assert!(values.contains(&ranked.value));
            let n = values.len() as u128;
            let at_or_below = values.iter().filter(|v| **v <= ranked.value).count() as u128;
            let below = values.iter().filter(|v| **v < ranked.value).count() as u128;
            let p = u128::from(percent.0);
            proptest::prop_assert!(at_or_below * 100 >= p * n);
            proptest::prop_assert!(below * 100 < p * n);
        }
    }
}
