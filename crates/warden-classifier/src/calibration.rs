//! Platt scaling: fitting `P(positive | margin) = sigmoid(slope · margin +
//! intercept)` to held-aside margins, so that an SVM's margins become
//! probabilities a queue can weigh and an analyst can read.
//!
//! The fit is the Newton method with backtracking of Lin, Lin and Weng ("A
//! note on Platt's probabilistic outputs for support vector machines",
//! Machine Learning 68, 2007), with Platt's smoothed targets
//! `(N₊ + 1)/(N₊ + 2)` and `1/(N₋ + 2)` that keep a perfectly separated
//! slice from driving the slope to infinity.

use crate::model::Calibration;

use crate::limits::ITERATIONS_MAX;
use crate::limits::STEP_MIN;
/// Added to the Hessian's diagonal so that it stays invertible.
const RIDGE: f64 = 1e-12;

/// Fits a calibration to `margins` and their classes; the identity when
/// either class is absent.
pub(crate) fn platt(margins: &[f64], positives: &[bool]) -> Calibration {
    let prior_positive = positives.iter().filter(|&&p| p).count() as f64;
    let prior_negative = positives.len() as f64 - prior_positive;
    if prior_positive == 0.0 || prior_negative == 0.0 {
        return Calibration::IDENTITY;
    }
    let high = (prior_positive + 1.0) / (prior_positive + 2.0);
    let low = 1.0 / (prior_negative + 2.0);
    let targets: Vec<f64> = positives
        .iter()
        .map(|&p| if p { high } else { low })
        .collect();
    // Platt's parameterisation: P = 1 / (1 + exp(a·f + b)).
    let mut a = 0.0f64;
    let mut b = ((prior_negative + 1.0) / (prior_positive + 1.0)).ln();
    let objective = |a: f64, b: f64| objective(margins, &targets, a, b);
    let mut value = objective(a, b);
    for _ in 0..ITERATIONS_MAX {
        let [h11, h22, h21, g1, g2] = derivatives(margins, &targets, a, b);
        if g1.abs() < 1e-5 && g2.abs() < 1e-5 {
            break;
        }
        let det = h11 * h22 - h21 * h21;
        let da = -(h22 * g1 - h21 * g2) / det;
        let db = -(-h21 * g1 + h11 * g2) / det;
        let descent = g1 * da + g2 * db;
        let mut step = 1.0;
        while step >= STEP_MIN {
            let (na, nb) = (a + step * da, b + step * db);
            let candidate = objective(na, nb);
            if candidate < value + 1e-4 * step * descent {
                (a, b, value) = (na, nb, candidate);
                break;
            }
            step /= 2.0;
        }
        if step < STEP_MIN {
            break;
        }
    }
    if !(a.is_finite() && b.is_finite()) {
        // Degenerate margins (all equal, or huge): no better map than none.
        return Calibration::IDENTITY;
    }
    Calibration {
        slope: -a,
        intercept: -b,
    }
}

/// The negative log-likelihood of the targets under `P = 1 / (1 + exp(a·f + b))`.
fn objective(margins: &[f64], targets: &[f64], a: f64, b: f64) -> f64 {
    margins
        .iter()
        .zip(targets)
        .map(|(&f, &t)| {
            let z = a * f + b;
            if z >= 0.0 {
                t * z + (-z).exp().ln_1p()
            } else {
                (t - 1.0) * z + z.exp().ln_1p()
            }
        })
        .sum()
}

/// The Hessian (`h11`, `h22`, `h21`, ridged) and gradient (`g1`, `g2`) of
/// the objective at `(a, b)`.
fn derivatives(margins: &[f64], targets: &[f64], a: f64, b: f64) -> [f64; 5] {
    let (mut h11, mut h22, mut h21, mut g1, mut g2) = (RIDGE, RIDGE, 0.0, 0.0, 0.0);
    for (&f, &t) in margins.iter().zip(targets) {
        let z = a * f + b;
        let (p, q) = if z >= 0.0 {
            let e = (-z).exp();
            (e / (1.0 + e), 1.0 / (1.0 + e))
        } else {
            let e = z.exp();
            (1.0 / (1.0 + e), e / (1.0 + e))
        };
        let d2 = p * q;
        h11 += f * f * d2;
        h22 += d2;
        h21 += f * d2;
        let d1 = t - p;
        g1 += f * d1;
        g2 += d1;
    }
    [h11, h22, h21, g1, g2]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platt_recovers_a_known_sigmoid() {
        // Margins from -3 to 3; the share of positives at each follows
        // sigmoid(2·f − 1) exactly (in expectation over 1,000 copies).
        let mut margins = Vec::new();
        let mut positives = Vec::new();
        for step in 0..=60 {
            let f = -3.0 + step as f64 * 0.1;
            let share = crate::model::sigmoid(2.0 * f - 1.0);
            let count = 1_000;
            let positive_count = (share * count as f64).round() as usize;
            for k in 0..count {
                margins.push(f);
                positives.push(k < positive_count);
            }
        }
        let fitted = platt(&margins, &positives);
        assert!((fitted.slope - 2.0).abs() < 0.02, "{fitted:?}");
        assert!((fitted.intercept + 1.0).abs() < 0.02, "{fitted:?}");
    }

    #[test]
    fn a_separated_slice_gets_a_finite_slope() {
        let margins = [-2.0, -1.5, -1.0, 1.0, 1.5, 2.0];
        let positives = [false, false, false, true, true, true];
        let fitted = platt(&margins, &positives);
        assert!(fitted.slope.is_finite() && fitted.slope > 0.0, "{fitted:?}");
        assert!(fitted.probability(2.0) > 0.7 && fitted.probability(-2.0) < 0.3);
    }

    #[test]
    fn degenerate_margins_give_a_finite_map() {
        for margins in [[0.0; 4], [1e300, -1e300, 1e300, -1e300]] {
            let fitted = platt(&margins, &[true, false, true, false]);
            assert!(
                fitted.slope.is_finite() && fitted.intercept.is_finite(),
                "{fitted:?}"
            );
        }
    }

    #[test]
    fn one_class_gives_the_identity() {
        assert_eq!(platt(&[1.0, 2.0], &[true, true]), Calibration::IDENTITY);
        assert_eq!(platt(&[], &[]), Calibration::IDENTITY);
    }
}
