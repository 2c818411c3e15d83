//! The deterministic train/test split, by a hash of each document's id.
//!
//! A document belongs to the held-out (test) slice when
//!
//! ```text
//! position(id) = (splitmix64_finalize(fnv1a_64(utf8(id))) >> 11) / 2^53  <  holdout
//! ```
//!
//! and to the training slice otherwise. The position depends on the id
//! alone — not on the file's order, the other documents, the seed or the
//! platform — so a document stays on its side when the data set grows, two
//! models trained on the same file are compared on the same held-out slice,
//! and any other tool can reproduce the split (`bench/sklearn_baseline.py`
//! does, in a few lines of Python).
//!
//! Training carves its validation slice (for early stopping and
//! calibration) out of the training slice the same way, with the seed mixed
//! into the hash, so different seeds validate on different documents.

use crate::hashing::{finalize, fnv1a_64, unit_interval};
use crate::ClassifierError;

/// The share of documents held out for testing when none is given.
pub const HOLDOUT_DEFAULT: f64 = 0.2;

pub use crate::limits::HOLDOUT_MAX;

/// A document's position in [0, 1) for the held-out split.
pub fn position(id: &str) -> f64 {
    unit_interval(fnv1a_64(id.as_bytes()))
}

/// A document's position in [0, 1) for the validation split of a training
/// run with `seed`; independent of [`position`].
pub fn validation_position(id: &str, seed: u64) -> f64 {
    unit_interval(fnv1a_64(id.as_bytes()) ^ finalize(seed ^ 0x5741_5244_454e_5631))
}

/// The share of documents held out for testing, checked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Holdout(f64);

impl Holdout {
    /// Checks that `share` is in [0, [`HOLDOUT_MAX`]].
    pub fn new(share: f64) -> Result<Self, ClassifierError> {
        if !share.is_finite() || !(0.0..=HOLDOUT_MAX).contains(&share) {
            return Err(ClassifierError::invalid(
                "holdout",
                format!("must be a number from 0 to {HOLDOUT_MAX}, not {share}"),
            ));
        }
        Ok(Self(share))
    }

    /// The share.
    pub fn share(self) -> f64 {
        self.0
    }

    /// Whether the document with `id` is held out.
    pub fn holds_out(self, id: &str) -> bool {
        position(id) < self.0
    }
}

impl Default for Holdout {
    fn default() -> Self {
        Self(HOLDOUT_DEFAULT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_pinned() {
        // The same numbers bench/sklearn_baseline.py computes for these ids.
        assert_eq!(position("sms/00002"), 0.9840289016811232);
        assert_eq!(
            position("easy-ham-1/00001.7c53336b37003a9286aba55d2945844c"),
            0.8863316909359061
        );
    }

    #[test]
    fn the_held_out_share_is_close_to_the_fraction_asked() {
        let holdout = Holdout::new(0.2).unwrap();
        let held = (0..20_000)
            .filter(|i| holdout.holds_out(&format!("doc-{i}")))
            .count();
        assert!((3_800..4_200).contains(&held), "{held}");
    }

    #[test]
    fn validation_positions_differ_from_test_positions_and_by_seed() {
        let ids: Vec<String> = (0..1_000).map(|i| format!("doc-{i}")).collect();
        let same_as_test = ids
            .iter()
            .filter(|id| (position(id) < 0.2) == (validation_position(id, 1) < 0.2))
            .count();
        // Independent slices agree on about 0.8² + 0.2² = 68% of ids.
        assert!((600..760).contains(&same_as_test), "{same_as_test}");
        let other_seed = ids
            .iter()
            .filter(|id| validation_position(id, 1) == validation_position(id, 2))
            .count();
        assert_eq!(other_seed, 0);
    }

    #[test]
    fn holdout_bounds() {
        assert!(Holdout::new(0.0).is_ok());
        assert!(Holdout::new(HOLDOUT_MAX).is_ok());
        for bad in [-0.1, HOLDOUT_MAX + 0.01, f64::NAN, f64::INFINITY] {
            let error = Holdout::new(bad).unwrap_err().to_string();
            assert!(error.starts_with("holdout:"), "{error}");
        }
    }
}
