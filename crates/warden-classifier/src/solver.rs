//! The solvers: dual coordinate descent for the L2-regularised linear SVM
//! (hinge loss) and logistic regression, after LIBLINEAR.
//!
//! Both minimise `½‖w‖² + Σᵢ Cᵢ · loss(yᵢ (w · xᵢ + b))` through its dual,
//! one example's dual variable at a time in an order shuffled each pass by a
//! seeded generator, keeping `w` in step with the duals. The bias `b` is the
//! weight of an extra feature worth 1 in every example (regularised like the
//! others, as LIBLINEAR's `-B 1`).
//!
//! - SVM (Hsieh et al., "A Dual Coordinate Descent Method for Large-scale
//!   Linear SVM", ICML 2008): each step is a closed-form update clipped to
//!   `[0, Cᵢ]`; a pass ends with the spread of the projected gradients,
//!   which is zero at the optimum.
//! - Logistic regression (Yu, Huang and Lin, "Dual coordinate descent
//!   methods for logistic regression and maximum entropy models", Machine
//!   Learning 85, 2011): each step solves a one-variable subproblem by a
//!   few Newton iterations on the pair `(αᵢ, Cᵢ − αᵢ)`; a pass ends with the
//!   largest gradient seen.
//!
//! Each pass is `O(non-zeros)`; nothing allocates after the start. With the
//! same examples in the same order and the same seed, every pass does the
//! same arithmetic in the same order, so training is deterministic.

use crate::model::ModelKind;

/// Examples as compressed sparse rows of unit-length vectors.
#[derive(Debug, Default)]
pub(crate) struct Rows {
    pub offsets: Vec<usize>,
    pub indices: Vec<u32>,
    pub values: Vec<f32>,
}

impl Rows {
    pub(crate) fn new() -> Self {
        Self {
            offsets: vec![0],
            indices: Vec::new(),
            values: Vec::new(),
        }
    }

    pub(crate) fn row(&self, i: usize) -> (&[u32], &[f32]) {
        let (start, end) = (self.offsets[i], self.offsets[i + 1]);
        (&self.indices[start..end], &self.values[start..end])
    }

    pub(crate) fn len(&self) -> usize {
        self.offsets.len() - 1
    }
}

/// SplitMix64: a tiny, well-mixed generator whose stream depends on the seed
/// alone, for shuffling.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        crate::hashing::finalize(self.0)
    }

    /// A number in `0..bound` (Lemire's multiply-shift; the bias is below
    /// 2^-32 for the sizes used here and the same on every platform).
    pub(crate) fn below(&mut self, bound: usize) -> usize {
        ((u128::from(self.next_u64()) * bound as u128) >> 64) as usize
    }

    /// Fisher–Yates.
    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

/// The solver's state between passes.
#[derive(Debug)]
pub(crate) struct DualSolver<'r> {
    kind: ModelKind,
    rows: &'r Rows,
    /// The training rows, shuffled every pass.
    order: Vec<usize>,
    /// +1 or −1 per row of `rows`.
    y: Vec<f64>,
    /// Cᵢ per row.
    upper: Vec<f64>,
    /// ‖xᵢ‖² + 1 (the bias feature) per row.
    diagonal: Vec<f64>,
    /// SVM: one α per row; logistic regression: two (α, C − α).
    alpha: Vec<f64>,
    pub(crate) weights: Vec<f64>,
    pub(crate) bias: f64,
    /// Logistic regression's Newton tolerance, tightened as passes go.
    inner_tolerance: f64,
    rng: SplitMix64,
}

use crate::limits::NEWTON_STEPS_MAX;
/// The loosest starting tolerance of the Newton steps (LIBLINEAR's value).
const INNER_TOLERANCE_START: f64 = 1e-2;
/// Gradients below this are treated as zero.
const GRADIENT_ZERO: f64 = 1e-12;

impl<'r> DualSolver<'r> {
    /// A solver over `train` (indices into `rows`) with labels and costs
    /// per row of `rows`.
    pub(crate) fn new(
        kind: ModelKind,
        rows: &'r Rows,
        train: Vec<usize>,
        positives: &[bool],
        costs: (f64, f64),
        buckets: usize,
        seed: u64,
    ) -> Self {
        let y: Vec<f64> = positives
            .iter()
            .map(|&p| if p { 1.0 } else { -1.0 })
            .collect();
        let upper: Vec<f64> = positives
            .iter()
            .map(|&p| if p { costs.0 } else { costs.1 })
            .collect();
        let diagonal: Vec<f64> = (0..rows.len())
            .map(|i| {
                let (_, values) = rows.row(i);
                values
                    .iter()
                    .map(|&v| f64::from(v) * f64::from(v))
                    .sum::<f64>()
                    + 1.0
            })
            .collect();
        let mut solver = Self {
            kind,
            rows,
            order: train,
            y,
            upper,
            diagonal,
            alpha: Vec::new(),
            weights: vec![0.0; buckets],
            bias: 0.0,
            inner_tolerance: INNER_TOLERANCE_START,
            rng: SplitMix64::new(seed),
        };
        match kind {
            ModelKind::LinearSvm => solver.alpha = vec![0.0; rows.len()],
            ModelKind::LogisticRegression => {
                // Start strictly inside (0, C): the log terms need it.
                solver.alpha = vec![0.0; 2 * rows.len()];
                let order = solver.order.clone();
                for i in order {
                    let c = solver.upper[i];
                    let a = (1e-3 * c).min(1e-8);
                    solver.alpha[2 * i] = a;
                    solver.alpha[2 * i + 1] = c - a;
                    solver.add_row(i, solver.y[i] * a);
                }
            }
        }
        solver
    }

    #[inline]
    fn add_row(&mut self, i: usize, delta: f64) {
        let (indices, values) = self.rows.row(i);
        for (&index, &value) in indices.iter().zip(values) {
            self.weights[index as usize] += delta * f64::from(value);
        }
        self.bias += delta;
    }

    #[inline]
    fn margin(&self, i: usize) -> f64 {
        let (indices, values) = self.rows.row(i);
        let mut sum = self.bias;
        for (&index, &value) in indices.iter().zip(values) {
            sum += self.weights[index as usize] * f64::from(value);
        }
        sum
    }

    /// The margin of row `i` of `rows` under the current weights.
    pub(crate) fn margin_of_row(&self, i: usize) -> f64 {
        self.margin(i)
    }

    /// One pass over the training rows; returns the optimality measure
    /// (zero at the optimum).
    pub(crate) fn pass(&mut self) -> f64 {
        let mut order = std::mem::take(&mut self.order);
        self.rng.shuffle(&mut order);
        let measure = match self.kind {
            ModelKind::LinearSvm => self.svm_pass(&order),
            ModelKind::LogisticRegression => self.logistic_pass(&order),
        };
        self.order = order;
        measure
    }

    fn svm_pass(&mut self, order: &[usize]) -> f64 {
        let mut largest = f64::NEG_INFINITY;
        let mut smallest = f64::INFINITY;
        for &i in order {
            let gradient = self.y[i] * self.margin(i) - 1.0;
            let c = self.upper[i];
            let alpha = self.alpha[i];
            let projected = if alpha == 0.0 {
                gradient.min(0.0)
            } else if alpha == c {
                gradient.max(0.0)
            } else {
                gradient
            };
            largest = largest.max(projected);
            smallest = smallest.min(projected);
            if projected.abs() > GRADIENT_ZERO {
                let updated = (alpha - gradient / self.diagonal[i]).clamp(0.0, c);
                self.alpha[i] = updated;
                self.add_row(i, (updated - alpha) * self.y[i]);
            }
        }
        if order.is_empty() {
            0.0
        } else {
            largest - smallest
        }
    }

    fn logistic_pass(&mut self, order: &[usize]) -> f64 {
        let mut largest_gradient = 0.0f64;
        let mut newton_steps = 0usize;
        for &i in order {
            let y = self.y[i];
            let c = self.upper[i];
            let a = self.diagonal[i];
            let b = y * self.margin(i);
            let (mut first, mut second, mut sign) = (2 * i, 2 * i + 1, 1.0);
            if 0.5 * a * (self.alpha[second] - self.alpha[first]) + b < 0.0 {
                (first, second, sign) = (2 * i + 1, 2 * i, -1.0);
            }
            let old = self.alpha[first];
            let mut z = old;
            if c - z < 0.5 * c {
                z *= 0.1;
            }
            let gradient_at = |z: f64| a * (z - old) + sign * b + (z / (c - z)).ln();
            let mut gradient = gradient_at(z);
            largest_gradient = largest_gradient.max(gradient.abs());
            let mut steps = 0;
            while steps <= NEWTON_STEPS_MAX {
                if gradient.abs() < self.inner_tolerance {
                    break;
                }
                let curvature = a + c / (c - z) / z;
                let next = z - gradient / curvature;
                z = if next <= 0.0 { z * 0.1 } else { next };
                gradient = gradient_at(z);
                newton_steps += 1;
                steps += 1;
            }
            if steps > 0 {
                self.alpha[first] = z;
                self.alpha[second] = c - z;
                self.add_row(i, sign * (z - old) * y);
            }
        }
        if newton_steps <= order.len() / 10 {
            self.inner_tolerance = (0.1 * self.inner_tolerance).max(1e-8);
        }
        largest_gradient
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(points: &[&[(u32, f32)]]) -> Rows {
        let mut rows = Rows::new();
        for point in points {
            for &(i, v) in *point {
                rows.indices.push(i);
                rows.values.push(v);
            }
            rows.offsets.push(rows.indices.len());
        }
        rows
    }

    #[test]
    fn shuffles_depend_on_the_seed_alone() {
        let mut a: Vec<usize> = (0..50).collect();
        let mut b = a.clone();
        SplitMix64::new(7).shuffle(&mut a);
        SplitMix64::new(7).shuffle(&mut b);
        assert_eq!(a, b);
        let mut c: Vec<usize> = (0..50).collect();
        SplitMix64::new(8).shuffle(&mut c);
        assert_ne!(a, c);
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..50).collect::<Vec<_>>());
        // Pinned: the stream is part of what makes training reproducible.
        assert_eq!(SplitMix64::new(0).next_u64(), 0xe220_a839_7b1d_cdaf);
    }

    #[test]
    fn both_solvers_separate_separable_points() {
        // Feature 0 marks positives, feature 1 negatives.
        let data = rows(&[
            &[(0, 1.0)],
            &[(0, 0.8), (2, 0.6)],
            &[(1, 1.0)],
            &[(1, 0.6), (2, 0.8)],
        ]);
        let positives = [true, true, false, false];
        for kind in [ModelKind::LinearSvm, ModelKind::LogisticRegression] {
            let mut solver = DualSolver::new(
                kind,
                &data,
                vec![0, 1, 2, 3],
                &positives,
                (10.0, 10.0),
                4,
                1,
            );
            let mut measure = f64::INFINITY;
            for _ in 0..200 {
                measure = solver.pass();
                if measure < 1e-6 {
                    break;
                }
            }
            assert!(measure < 1e-3, "{kind:?} did not converge: {measure}");
            for (i, &positive) in positives.iter().enumerate() {
                assert_eq!(solver.margin_of_row(i) > 0.0, positive, "{kind:?} row {i}");
            }
            assert!(solver.weights[0] > 0.0 && solver.weights[1] < 0.0);
        }
    }
}
