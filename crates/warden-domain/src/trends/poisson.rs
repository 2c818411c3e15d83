//! The Poisson upper tail `P(X ≥ k)` for `X ~ Poisson(λ)`, in log space.
//!
//! Spike scores are tail probabilities far below what `f64` can hold
//! near zero (a flood of a thousand reports against a baseline of ten is
//! `10^-1500`), so the tail is summed relative to its first term and
//! returned as a base-10 logarithm. `ln k!` uses exact products up to 20
//! and Stirling's series beyond, accurate to about 1e-15 relative.

use crate::limits::TREND_POISSON_TERMS_MAX as TERMS_MAX;

/// `ln(n!)`.
pub fn ln_factorial(n: u64) -> f64 {
    if n <= 20 {
        return (2..=n).map(|i| i as f64).product::<f64>().ln();
    }
    let n = n as f64;
    let inverse = 1.0 / n;
    let inverse_squared = inverse * inverse;
    n * n.ln() - n + 0.5 * (2.0 * std::f64::consts::PI * n).ln() + inverse / 12.0
        - inverse * inverse_squared / 360.0
        + inverse * inverse_squared * inverse_squared / 1260.0
}

/// `ln P(X = k)` for `X ~ Poisson(λ)`, λ > 0.
fn ln_pmf(k: u64, lambda: f64) -> f64 {
    k as f64 * lambda.ln() - lambda - ln_factorial(k)
}

/// `log10 P(X ≥ k)` for `X ~ Poisson(λ)`; λ must be finite and > 0
/// (anything else is treated as the smallest positive λ).
pub fn log10_upper_tail(k: u64, lambda: f64) -> f64 {
    if k == 0 {
        return 0.0;
    }
    let lambda = if lambda.is_finite() && lambda > 0.0 {
        lambda
    } else {
        f64::MIN_POSITIVE
    };
    if (k as f64) > lambda {
        // Past the mode: Σ_{j ≥ k} p(j) = p(k) · (1 + λ/(k+1) + λ²/((k+1)(k+2)) + ...).
        let mut term = 1.0f64;
        let mut sum = 1.0f64;
        let mut j = k;
        while j < k.saturating_add(TERMS_MAX) {
            j += 1;
            term *= lambda / j as f64;
            sum += term;
            if term < sum * 1e-17 {
                break;
            }
        }
        (ln_pmf(k, lambda) + sum.ln()) / std::f64::consts::LN_10
    } else {
        // At or below the mode the tail is large: 1 − P(X ≤ k − 1), the
        // lower sum taken downwards from k − 1 relative to its first term.
        let top = k - 1;
        let mut term = 1.0f64;
        let mut sum = 1.0f64;
        let mut j = top;
        while j > 0 && top - j < TERMS_MAX {
            term *= j as f64 / lambda;
            sum += term;
            j -= 1;
            if term < sum * 1e-17 {
                break;
            }
        }
        let lower = (ln_pmf(top, lambda) + sum.ln()).exp();
        (1.0 - lower).max(f64::MIN_POSITIVE).log10()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tail(k: u64, lambda: f64) -> f64 {
        10f64.powf(log10_upper_tail(k, lambda))
    }

    #[test]
    fn ln_factorial_is_exact_small_and_stirling_large() {
        assert_eq!(ln_factorial(0), 0.0);
        assert_eq!(ln_factorial(1), 0.0);
        assert!((ln_factorial(5) - 120f64.ln()).abs() < 1e-12);
        // ln(21!) = ln(51090942171709440000).
        assert!((ln_factorial(21) - 51_090_942_171_709_440_000f64.ln()).abs() < 1e-12);
        // ln(100!) = 363.73937555556347 (reference value).
        assert!((ln_factorial(100) - 363.739_375_555_563_47).abs() < 1e-9);
    }

    #[test]
    fn upper_tails_match_hand_computed_values() {
        // P(X ≥ 5 | λ = 2) = 1 − e^-2 (1 + 2 + 2 + 4/3 + 2/3) = 1 − 7 e^-2.
        let expected = 1.0 - 7.0 * (-2.0f64).exp();
        assert!((tail(5, 2.0) - expected).abs() < 1e-12);
        // P(X ≥ 1 | λ) = 1 − e^-λ.
        assert!((tail(1, 0.5) - (1.0 - (-0.5f64).exp())).abs() < 1e-12);
        assert_eq!(tail(0, 3.0), 1.0);
        // P(X ≥ 3 | λ = 10) = 1 − e^-10 (1 + 10 + 50).
        assert!((tail(3, 10.0) - (1.0 - 61.0 * (-10.0f64).exp())).abs() < 1e-12);
        // Reference values (scipy.stats.poisson.sf(k − 1, λ)).
        let reference = [
            (20, 5.0, 3.452_135_820_914_455e-7),
            (150, 100.0, 1.884_210_466_038_684_4e-6),
            (40, 10.0, 7.341_636_314_560_681e-13),
        ];
        for (k, lambda, p) in reference {
            let got = tail(k, lambda);
            assert!(
                (got - p).abs() < p * 1e-9,
                "P(X ≥ {k} | {lambda}) = {got}, not {p}"
            );
        }
        // Far tails stay finite in log space: P(X ≥ 1000 | λ = 10).
        let far = log10_upper_tail(1_000, 10.0);
        assert!(far < -1500.0 && far.is_finite(), "{far}");
    }
}
