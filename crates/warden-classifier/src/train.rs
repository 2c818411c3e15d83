//! Training: labelled texts in, a [`Model`] out.
//!
//! 1. The examples are split by id hash ([`crate::split::validation_position`]
//!    with the seed) into the training rows and a validation slice
//!    (`validation_share`, 10% by default).
//! 2. Every text is counted into buckets once; IDF (when the features use
//!    it) is learnt from the training rows as scikit-learn's smoothed
//!    `ln((1 + n) / (1 + df)) + 1`; each row is weighed and scaled to unit
//!    length.
//! 3. The solver ([`crate::solver`]) passes over the training rows in an
//!    order shuffled by the seed. After each pass the validation slice's
//!    mean loss (log loss or hinge) is measured; the weights of the best
//!    pass are kept, and training stops when the solver converges, when
//!    `patience` passes bring no improvement (early stopping), or at
//!    `epochs_max`.
//! 4. The SVM's margins are calibrated by Platt scaling on the validation
//!    slice; logistic regression's need none.
//!
//! When the validation slice lacks a class (tiny data sets), every example
//! trains, there is no early stopping, and Platt scaling fits the training
//! margins instead.
//!
//! The same examples in the same order with the same options give the same
//! model, bit for bit.

use crate::calibration::platt;
use crate::features::{weigh, FeatureConfig, Featurizer, SparseVector};
use crate::limits::{
    EPOCHS_MAX, REGULARISATION_MAX, REGULARISATION_MIN, TRAINING_DOCUMENTS_MAX,
    TRAINING_FEATURE_VALUES_MAX,
};
use crate::model::{sigmoid, Calibration, Labels, Model, ModelKind, TrainingSummary};
use crate::solver::{DualSolver, Rows};
use crate::split::validation_position;
use crate::ClassifierError;

/// One labelled text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Example<'a> {
    /// A stable id: it decides the split.
    pub id: &'a str,
    /// The text.
    pub text: &'a str,
    /// Whether it is in the positive class.
    pub positive: bool,
}

/// How much each class counts in the loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClassWeight {
    /// Every example counts once.
    Equal,
    /// Each class counts as much as the other in total: an example of a
    /// class with `n_c` of `n` examples counts `n / (2 n_c)`.
    Balanced,
}

impl ClassWeight {
    /// `equal` or `balanced`.
    pub fn parse(text: &str) -> Result<Self, ClassifierError> {
        match text {
            "equal" | "none" => Ok(ClassWeight::Equal),
            "balanced" => Ok(ClassWeight::Balanced),
            other => Err(ClassifierError::invalid(
                "class_weight",
                format!("must be equal or balanced, not {other:?}"),
            )),
        }
    }
}

/// Everything a training run can be told.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingOptions {
    /// Logistic regression or linear SVM.
    pub kind: ModelKind,
    /// Which features, how weighed.
    pub features: FeatureConfig,
    /// C: larger fits the training data more closely.
    pub regularisation: f64,
    /// How much each class counts.
    pub class_weight: ClassWeight,
    /// Seeds the validation split and the order of passes.
    pub seed: u64,
    /// Passes at most.
    pub epochs_max: u32,
    /// Passes without a better validation loss before stopping.
    pub patience: u32,
    /// The share of examples set aside for validation, 0 to 0.5.
    pub validation_share: f64,
    /// The solver stops when its optimality measure falls below this.
    pub tolerance: f64,
}

impl Default for TrainingOptions {
    /// The defaults chosen on the SpamAssassin and SMS corpora (see
    /// BENCHMARKS.md).
    fn default() -> Self {
        Self {
            kind: ModelKind::LinearSvm,
            features: FeatureConfig::default(),
            regularisation: 1.0,
            class_weight: ClassWeight::Equal,
            seed: 0,
            epochs_max: 200,
            patience: 10,
            validation_share: 0.1,
            tolerance: 0.01,
        }
    }
}

impl TrainingOptions {
    /// The defaults for a kind of model: the regularisation differs (see
    /// BENCHMARKS.md for how each was chosen).
    pub fn for_kind(kind: ModelKind) -> Self {
        let regularisation = match kind {
            ModelKind::LinearSvm => 1.0,
            ModelKind::LogisticRegression => 100.0,
        };
        Self {
            kind,
            regularisation,
            ..Self::default()
        }
    }

    /// Checks every option, naming the first at fault.
    pub fn validate(&self) -> Result<(), ClassifierError> {
        self.features.validate()?;
        if !self.regularisation.is_finite()
            || !(REGULARISATION_MIN..=REGULARISATION_MAX).contains(&self.regularisation)
        {
            return Err(ClassifierError::invalid(
                "regularisation",
                format!(
                    "must be from {REGULARISATION_MIN} to {REGULARISATION_MAX}, not {}",
                    self.regularisation
                ),
            ));
        }
        if !(1..=EPOCHS_MAX).contains(&self.epochs_max) {
            return Err(ClassifierError::invalid(
                "epochs_max",
                format!("must be from 1 to {EPOCHS_MAX}, not {}", self.epochs_max),
            ));
        }
        if !(1..=EPOCHS_MAX).contains(&self.patience) {
            return Err(ClassifierError::invalid(
                "patience",
                format!("must be from 1 to {EPOCHS_MAX}, not {}", self.patience),
            ));
        }
        if !self.validation_share.is_finite() || !(0.0..=0.5).contains(&self.validation_share) {
            return Err(ClassifierError::invalid(
                "validation_share",
                format!("must be from 0 to 0.5, not {}", self.validation_share),
            ));
        }
        if !self.tolerance.is_finite() || self.tolerance <= 0.0 || self.tolerance > 1.0 {
            return Err(ClassifierError::invalid(
                "tolerance",
                format!("must be above 0 and at most 1, not {}", self.tolerance),
            ));
        }
        Ok(())
    }
}

/// What training reports as it goes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Progress {
    /// Texts counted so far, of all.
    Counted {
        /// Done.
        done: usize,
        /// All.
        total: usize,
    },
    /// A pass of the solver ended.
    Epoch {
        /// 1-based.
        epoch: u32,
        /// The solver's optimality measure (zero at the optimum).
        optimality: f64,
        /// The validation slice's mean loss, if there is a slice.
        validation_loss: Option<f64>,
    },
}

/// How often (in texts) counting reports progress.
const PROGRESS_EVERY: usize = 256;

/// Trains a model on `examples`.
pub fn train(
    examples: &[Example<'_>],
    labels: Labels,
    options: &TrainingOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<Model, ClassifierError> {
    options.validate()?;
    let positives = check_examples(examples, &labels)?;

    // 1. The validation slice; all examples train if it lacks a class.
    let (validation, training) = split_rows(examples, &positives, options);

    // 2. Count, learn IDF, weigh.
    let features = options.features;
    let (counts, offsets) = count_features(examples, features, progress)?;
    let idf = features
        .idf
        .then(|| learn_idf(&counts, &offsets, &training, features.buckets()));
    let rows = weighted_rows(&features, &counts, &offsets, idf.as_deref());
    drop(counts);

    // 3. Solve, with early stopping on the validation slice.
    let training_positives = training.iter().filter(|&&i| positives[i]).count() as f64;
    let class_weights = class_weights(options.class_weight, training_positives, training.len());
    let costs = (
        options.regularisation * class_weights.0,
        options.regularisation * class_weights.1,
    );
    let solver = DualSolver::new(
        options.kind,
        &rows,
        training.clone(),
        &positives,
        costs,
        features.buckets(),
        options.seed,
    );
    let Solved {
        weights,
        bias,
        epochs,
        converged,
    } = solve(solver, &validation, &positives, options, progress);
    let weights: Vec<f32> = weights.iter().map(|&w| w as f32).collect();

    // 4. Calibrate.
    let mut model = Model::from_parts(
        options.kind,
        features,
        labels,
        &weights,
        idf.as_deref(),
        bias as f32,
        Calibration::IDENTITY,
        TrainingSummary {
            documents: training.len() as u64,
            positives: training_positives as u64,
            validation_documents: validation.len() as u64,
            epochs,
            regularisation: options.regularisation,
            seed: options.seed,
            class_weights,
            converged,
        },
    );
    if options.kind == ModelKind::LinearSvm {
        let calibration_rows = if validation.is_empty() {
            &training
        } else {
            &validation
        };
        model.calibration = calibrate(&model, &rows, calibration_rows, &positives);
    }
    Ok(model)
}

/// Refuses too many examples or a missing class; the class of each example.
fn check_examples(examples: &[Example<'_>], labels: &Labels) -> Result<Vec<bool>, ClassifierError> {
    if examples.len() > TRAINING_DOCUMENTS_MAX {
        return Err(ClassifierError::invalid(
            "examples",
            format!(
                "{} documents are more than the {TRAINING_DOCUMENTS_MAX} a training set may hold",
                examples.len()
            ),
        ));
    }
    let positives: Vec<bool> = examples.iter().map(|e| e.positive).collect();
    let positive_count = positives.iter().filter(|&&p| p).count();
    if positive_count == 0 || positive_count == examples.len() {
        return Err(ClassifierError::invalid(
            "examples",
            format!(
                "need at least one {} and one {} example; got {} and {}",
                labels.positive(),
                labels.negative(),
                positive_count,
                examples.len() - positive_count
            ),
        ));
    }
    Ok(positives)
}

/// The validation rows and the training rows; all examples train if either
/// slice lacks a class.
fn split_rows(
    examples: &[Example<'_>],
    positives: &[bool],
    options: &TrainingOptions,
) -> (Vec<usize>, Vec<usize>) {
    let mut validation: Vec<usize> = Vec::new();
    let mut training: Vec<usize> = Vec::new();
    for (i, example) in examples.iter().enumerate() {
        if validation_position(example.id, options.seed) < options.validation_share {
            validation.push(i);
        } else {
            training.push(i);
        }
    }
    let has_both =
        |rows: &[usize]| rows.iter().any(|&i| positives[i]) && rows.iter().any(|&i| !positives[i]);
    if !has_both(&validation) || !has_both(&training) {
        training = (0..examples.len()).collect();
        validation.clear();
    }
    (validation, training)
}

/// Non-zero `(bucket, count)` pairs of every example back to back, and the
/// offset where each example's pairs start (one more than examples).
type Counted = (Vec<(u32, f32)>, Vec<usize>);

/// The non-zero feature counts of every example, back to back, and where
/// each example's start (one more offset than examples).
fn count_features(
    examples: &[Example<'_>],
    features: FeatureConfig,
    progress: &mut dyn FnMut(Progress),
) -> Result<Counted, ClassifierError> {
    let mut featurizer = Featurizer::new(features);
    let mut counts: Vec<(u32, f32)> = Vec::new();
    let mut offsets: Vec<usize> = vec![0];
    for (done, example) in examples.iter().enumerate() {
        featurizer
            .count(example.text)
            .map_err(|error| ClassifierError::in_document(example.id, error))?;
        counts.extend(featurizer.counts().iter().filter(|c| c.1 != 0.0));
        if counts.len() > TRAINING_FEATURE_VALUES_MAX {
            return Err(ClassifierError::invalid(
                "examples",
                format!(
                    "the texts hold more than {TRAINING_FEATURE_VALUES_MAX} feature values; train on fewer or shorter texts"
                ),
            ));
        }
        offsets.push(counts.len());
        if (done + 1) % PROGRESS_EVERY == 0 || done + 1 == examples.len() {
            progress(Progress::Counted {
                done: done + 1,
                total: examples.len(),
            });
        }
    }
    Ok((counts, offsets))
}

/// The weighted rows, each in bucket order.
fn weighted_rows(
    features: &FeatureConfig,
    counts: &[(u32, f32)],
    offsets: &[usize],
    idf: Option<&[f32]>,
) -> Rows {
    let mut rows = Rows::new();
    let mut scratch = SparseVector::default();
    let mut pairs: Vec<(u32, f32)> = Vec::new();
    for i in 0..offsets.len() - 1 {
        scratch.indices.clear();
        scratch.values.clear();
        weigh(
            features,
            &counts[offsets[i]..offsets[i + 1]],
            idf,
            &mut scratch,
        );
        // In bucket order, so that the solver sweeps the weights forwards
        // (the hardware prefetches; a pass is several times faster).
        pairs.clear();
        pairs.extend(
            scratch
                .indices
                .iter()
                .copied()
                .zip(scratch.values.iter().copied()),
        );
        pairs.sort_unstable_by_key(|&(index, _)| index);
        rows.indices.extend(pairs.iter().map(|&(index, _)| index));
        rows.values.extend(pairs.iter().map(|&(_, value)| value));
        rows.offsets.push(rows.indices.len());
    }
    rows
}

/// The weights of the positive and the negative class.
fn class_weights(weight: ClassWeight, training_positives: f64, training: usize) -> (f64, f64) {
    let training_negatives = training as f64 - training_positives;
    match weight {
        ClassWeight::Equal => (1.0, 1.0),
        ClassWeight::Balanced => {
            let n = training as f64;
            (
                n / (2.0 * training_positives),
                n / (2.0 * training_negatives),
            )
        }
    }
}

/// The solver's result: the pass with the best validation loss, else the last.
struct Solved {
    weights: Vec<f64>,
    bias: f64,
    epochs: u32,
    converged: bool,
}

/// Runs solver passes until converged, out of patience on the validation
/// slice or out of epochs.
fn solve(
    mut solver: DualSolver<'_>,
    validation: &[usize],
    positives: &[bool],
    options: &TrainingOptions,
    progress: &mut dyn FnMut(Progress),
) -> Solved {
    let mut best: Option<(f64, Vec<f64>, f64)> = None;
    let mut best_epoch = 0u32;
    let mut epochs = 0u32;
    let mut converged = false;
    for epoch in 1..=options.epochs_max {
        let optimality = solver.pass();
        epochs = epoch;
        let validation_loss = (!validation.is_empty()).then(|| {
            let total: f64 = validation
                .iter()
                .map(|&i| loss(options.kind, solver.margin_of_row(i), positives[i]))
                .sum();
            total / validation.len() as f64
        });
        progress(Progress::Epoch {
            epoch,
            optimality,
            validation_loss,
        });
        if let Some(loss) = validation_loss {
            if best.as_ref().is_none_or(|(b, _, _)| loss < *b - 1e-9) {
                best = Some((loss, solver.weights.clone(), solver.bias));
                best_epoch = epoch;
            }
        }
        if optimality <= options.tolerance {
            converged = true;
            break;
        }
        if validation_loss.is_some() && epoch - best_epoch >= options.patience {
            break;
        }
    }
    // The pass with the best validation loss, else the last.
    let (weights, bias) = match best {
        Some((_, weights, bias)) => (weights, bias),
        None => (solver.weights, solver.bias),
    };
    Solved {
        weights,
        bias,
        epochs,
        converged,
    }
}

/// The Platt calibration of `model` on `calibration_rows`.
fn calibrate(
    model: &Model,
    rows: &Rows,
    calibration_rows: &[usize],
    positives: &[bool],
) -> Calibration {
    let margins: Vec<f64> = calibration_rows
        .iter()
        .map(|&i| {
            let (indices, values) = rows.row(i);
            model.margin_of(indices, values)
        })
        .collect();
    let classes: Vec<bool> = calibration_rows.iter().map(|&i| positives[i]).collect();
    platt(&margins, &classes)
}

/// Smoothed IDF over the training rows: `ln((1 + n) / (1 + df)) + 1`.
fn learn_idf(
    counts: &[(u32, f32)],
    offsets: &[usize],
    training: &[usize],
    buckets: usize,
) -> Vec<f32> {
    let mut document_frequency = vec![0u32; buckets];
    for &i in training {
        for &(bucket, _) in &counts[offsets[i]..offsets[i + 1]] {
            document_frequency[bucket as usize] += 1;
        }
    }
    let n = training.len() as f64;
    document_frequency
        .iter()
        .map(|&df| (((1.0 + n) / (1.0 + f64::from(df))).ln() + 1.0) as f32)
        .collect()
}

/// The loss of one example with `margin`: log loss for logistic
/// regression, hinge for the SVM.
fn loss(kind: ModelKind, margin: f64, positive: bool) -> f64 {
    let y = if positive { 1.0 } else { -1.0 };
    match kind {
        ModelKind::LogisticRegression => -sigmoid(y * margin).max(1e-300).ln(),
        ModelKind::LinearSvm => (1.0 - y * margin).max(0.0),
    }
}
