//! How well scores separate the classes: the confusion matrix at a
//! threshold, precision, recall, F1, and the exact ROC AUC.
//!
//! Conventions (those of scikit-learn, so that numbers compare): the
//! positive class is the one the model flags; a score at or above the
//! threshold is a positive prediction; precision with no positive
//! prediction, recall with no positive example and F1 when both are zero
//! are 0. The AUC is the probability that a random positive scores above a
//! random negative, ties counting one half (the Mann–Whitney U statistic
//! over average ranks); it is undefined when a class is absent.

/// Counts of predictions against truth.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Confusion {
    /// Positives predicted positive.
    pub true_positives: u64,
    /// Negatives predicted positive.
    pub false_positives: u64,
    /// Negatives predicted negative.
    pub true_negatives: u64,
    /// Positives predicted negative.
    pub false_negatives: u64,
}

impl Confusion {
    /// Counts `scores` against `positives` at `threshold`.
    pub fn at_threshold(scores: &[f64], positives: &[bool], threshold: f64) -> Self {
        let mut confusion = Self::default();
        for (&score, &positive) in scores.iter().zip(positives) {
            match (score >= threshold, positive) {
                (true, true) => confusion.true_positives += 1,
                (true, false) => confusion.false_positives += 1,
                (false, false) => confusion.true_negatives += 1,
                (false, true) => confusion.false_negatives += 1,
            }
        }
        confusion
    }

    /// All counted.
    pub fn total(&self) -> u64 {
        self.true_positives + self.false_positives + self.true_negatives + self.false_negatives
    }

    /// Of those predicted positive, the share that are.
    pub fn precision(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_positives,
        )
    }

    /// Of the positives, the share predicted positive.
    pub fn recall(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_negatives,
        )
    }

    /// The harmonic mean of precision and recall.
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }

    /// The share predicted right.
    pub fn accuracy(&self) -> f64 {
        ratio(self.true_positives + self.true_negatives, self.total())
    }
}

fn ratio(numerator: u64, denominator: u64) -> f64 {
    if denominator == 0 {
        0.0
    } else {
        numerator as f64 / denominator as f64
    }
}

/// The exact area under the ROC curve, or `None` when either class is
/// absent. Ties between a positive and a negative count one half.
/// `O(n log n)`; NaN scores sort as the lowest.
pub fn roc_auc(scores: &[f64], positives: &[bool]) -> Option<f64> {
    let n = scores.len().min(positives.len());
    let positive_count = positives[..n].iter().filter(|&&p| p).count();
    let negative_count = n - positive_count;
    if positive_count == 0 || negative_count == 0 {
        return None;
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (scores[a], scores[b]);
        x.partial_cmp(&y)
            .unwrap_or_else(|| x.is_nan().cmp(&y.is_nan()).reverse())
    });
    // Sum of the positives' ranks (1-based), ties given their average rank.
    let mut rank_sum = 0.0f64;
    let mut start = 0;
    while start < n {
        let mut end = start + 1;
        while end < n && same_score(scores[order[end]], scores[order[start]]) {
            end += 1;
        }
        let average_rank = (start + 1 + end) as f64 / 2.0;
        let tied_positives = order[start..end].iter().filter(|&&i| positives[i]).count();
        rank_sum += average_rank * tied_positives as f64;
        start = end;
    }
    let p = positive_count as f64;
    let u = rank_sum - p * (p + 1.0) / 2.0;
    Some(u / (p * negative_count as f64))
}

fn same_score(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}

/// Everything `warden classifier eval` reports about scores.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evaluation {
    /// Documents scored.
    pub n: u64,
    /// The threshold used.
    pub threshold: f64,
    /// Counts at the threshold.
    pub confusion: Confusion,
    /// See [`Confusion::precision`].
    pub precision: f64,
    /// See [`Confusion::recall`].
    pub recall: f64,
    /// See [`Confusion::f1`].
    pub f1: f64,
    /// See [`roc_auc`].
    pub auc: Option<f64>,
}

impl Evaluation {
    /// Evaluates `scores` against `positives` at `threshold`.
    pub fn new(scores: &[f64], positives: &[bool], threshold: f64) -> Self {
        let confusion = Confusion::at_threshold(scores, positives, threshold);
        Self {
            n: confusion.total(),
            threshold,
            confusion,
            precision: confusion.precision(),
            recall: confusion.recall(),
            f1: confusion.f1(),
            auc: roc_auc(scores, positives),
        }
    }

    /// Whether this evaluation is better than `other` for choosing which
    /// model goes live: higher F1, then higher AUC.
    pub fn beats(&self, other: &Evaluation) -> bool {
        const EPSILON: f64 = 1e-12;
        if (self.f1 - other.f1).abs() > EPSILON {
            return self.f1 > other.f1;
        }
        self.auc.unwrap_or(0.0) > other.auc.unwrap_or(0.0) + EPSILON
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confusion_and_its_ratios_by_hand() {
        // Truth:      P    P    P    N    N    N    N
        // Score:     0.9  0.6  0.2  0.7  0.4  0.1  0.5
        // At 0.5:    TP   TP   FN   FP   TN   TN   FP
        let scores = [0.9, 0.6, 0.2, 0.7, 0.4, 0.1, 0.5];
        let truth = [true, true, true, false, false, false, false];
        let e = Evaluation::new(&scores, &truth, 0.5);
        assert_eq!(
            e.confusion,
            Confusion {
                true_positives: 2,
                false_positives: 2,
                true_negatives: 2,
                false_negatives: 1
            }
        );
        assert_eq!(e.n, 7);
        assert_eq!(e.precision, 0.5);
        assert_eq!(e.recall, 2.0 / 3.0);
        assert!((e.f1 - 4.0 / 7.0).abs() < 1e-15);
        assert!((e.confusion.accuracy() - 4.0 / 7.0).abs() < 1e-15);
        // AUC: pairs (P, N) with P above N: 0.9 beats all 4; 0.6 beats 0.4,
        // 0.1, 0.5 (3); 0.2 beats 0.1 (1): 8 of 12.
        assert!((e.auc.unwrap() - 8.0 / 12.0).abs() < 1e-15);
    }

    #[test]
    fn auc_counts_ties_as_one_half() {
        // Every positive ties with every negative: 0.5.
        assert_eq!(roc_auc(&[0.3, 0.3, 0.3], &[true, false, true]), Some(0.5));
        // P: 0.8, 0.5; N: 0.5, 0.2. Pairs: (0.8,0.5)=1, (0.8,0.2)=1,
        // (0.5,0.5)=0.5, (0.5,0.2)=1 -> 3.5 / 4.
        assert_eq!(
            roc_auc(&[0.8, 0.5, 0.5, 0.2], &[true, true, false, false]),
            Some(0.875)
        );
        // Perfect and inverted.
        assert_eq!(roc_auc(&[0.9, 0.1], &[true, false]), Some(1.0));
        assert_eq!(roc_auc(&[0.1, 0.9], &[true, false]), Some(0.0));
        // Order of input does not matter.
        assert_eq!(
            roc_auc(&[0.2, 0.5, 0.8, 0.5], &[false, false, true, true]),
            Some(0.875)
        );
    }

    #[test]
    fn auc_is_undefined_without_both_classes() {
        assert_eq!(roc_auc(&[0.1, 0.2], &[true, true]), None);
        assert_eq!(roc_auc(&[0.1, 0.2], &[false, false]), None);
        assert_eq!(roc_auc(&[], &[]), None);
    }

    #[test]
    fn empty_cases_are_zero_not_nan() {
        let e = Evaluation::new(&[0.1, 0.2], &[false, false], 0.5);
        assert_eq!((e.precision, e.recall, e.f1), (0.0, 0.0, 0.0));
        let e = Evaluation::new(&[0.9], &[false], 0.5);
        assert_eq!((e.precision, e.recall, e.f1), (0.0, 0.0, 0.0));
    }

    #[test]
    fn a_better_f1_wins_then_a_better_auc() {
        let better = Evaluation::new(&[0.9, 0.8, 0.1], &[true, true, false], 0.5);
        let worse = Evaluation::new(&[0.9, 0.3, 0.1], &[true, true, false], 0.5);
        assert!(better.beats(&worse));
        assert!(!worse.beats(&better));
        assert!(!better.beats(&better));
        let lower_auc = Evaluation::new(&[0.9, 0.3, 0.1, 0.4], &[true, true, false, false], 0.5);
        let higher_auc = Evaluation::new(&[0.9, 0.3, 0.1, 0.2], &[true, true, false, false], 0.5);
        assert_eq!(lower_auc.f1, higher_auc.f1);
        assert_eq!((lower_auc.auc, higher_auc.auc), (Some(0.75), Some(1.0)));
        assert!(higher_auc.beats(&lower_auc));
        assert!(!lower_auc.beats(&higher_auc));
    }
}
