//! A trained model: its feature configuration, one weight per bucket, the
//! bias, the calibration that turns a margin into a probability, and what
//! its training was. Scoring and explaining a text.
//!
//! The **margin** of a text is `bias + w · x` where `x` is the text's
//! unit-length feature vector ([`crate::features`]); the **score** is
//! `1 / (1 + exp(-(slope · margin + intercept)))`, the probability that the
//! text belongs to the positive class. Logistic regression's margin already
//! is a log-odds (slope 1, intercept 0); a linear SVM's is mapped by Platt
//! scaling fitted on the validation slice. A score of 0.5 or more is a
//! positive prediction.
//!
//! Scoring is one pass over the text's bucket counts: weigh each, sum
//! `w · x` and `‖x‖²` in `f64` over the `f32` weights in the order the
//! features first appear, divide. A model read back from its bytes holds the
//! same `f32` values, so it scores every text bit for bit as the one that
//! wrote them.

use std::collections::HashMap;

use crate::features::{weigh, FeatureConfig, Featurizer, SparseVector};
use crate::limits::{
    EXPLAIN_FEATURES_MAX, EXPLAIN_NAMES_PER_FEATURE_MAX, LABEL_BYTES_MAX, MODEL_NAME_BYTES_MAX,
};
use crate::text::FeatureKind;
use crate::ClassifierError;

/// Checks a model's name: 1 to [`MODEL_NAME_BYTES_MAX`] bytes of lowercase
/// ASCII letters, digits, `_`, `.` and `-`, starting with a letter or digit
/// (names appear in rules, on the command line and in file names).
pub fn check_model_name(name: &str) -> Result<(), ClassifierError> {
    if name.is_empty() || name.len() > MODEL_NAME_BYTES_MAX {
        return Err(ClassifierError::invalid(
            "name",
            format!("must be 1 to {MODEL_NAME_BYTES_MAX} bytes"),
        ));
    }
    let allowed = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-".contains(&b);
    let first = name.as_bytes()[0];
    if !name.bytes().all(allowed) || !(first.is_ascii_lowercase() || first.is_ascii_digit()) {
        return Err(ClassifierError::invalid(
            "name",
            format!("{name:?} must be lowercase letters, digits, '_', '.' or '-', starting with a letter or digit"),
        ));
    }
    Ok(())
}

/// The learning algorithm behind a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelKind {
    /// Logistic regression (log loss), trained by dual coordinate descent.
    LogisticRegression,
    /// A linear support vector machine (hinge loss), trained by dual
    /// coordinate descent, calibrated by Platt scaling.
    LinearSvm,
}

impl ModelKind {
    /// `lr` or `svm`.
    pub fn as_str(self) -> &'static str {
        match self {
            ModelKind::LogisticRegression => "lr",
            ModelKind::LinearSvm => "svm",
        }
    }

    /// Reads `lr` or `svm`.
    pub fn parse(text: &str) -> Result<Self, ClassifierError> {
        match text {
            "lr" => Ok(ModelKind::LogisticRegression),
            "svm" => Ok(ModelKind::LinearSvm),
            other => Err(ClassifierError::invalid(
                "model",
                format!("must be lr or svm, not {other:?}"),
            )),
        }
    }
}

/// The two classes: the positive one is what a high score flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Labels {
    positive: String,
    negative: String,
}

impl Labels {
    /// Checks that both labels are non-empty, at most [`LABEL_BYTES_MAX`]
    /// bytes, and different.
    pub fn new(positive: &str, negative: &str) -> Result<Self, ClassifierError> {
        for (field, label) in [("positive", positive), ("negative", negative)] {
            if label.is_empty() || label.len() > LABEL_BYTES_MAX {
                return Err(ClassifierError::invalid(
                    field,
                    format!("a label must be 1 to {LABEL_BYTES_MAX} bytes"),
                ));
            }
        }
        if positive == negative {
            return Err(ClassifierError::invalid(
                "negative",
                "must differ from the positive label",
            ));
        }
        Ok(Self {
            positive: positive.to_string(),
            negative: negative.to_string(),
        })
    }

    /// The class a high score flags.
    pub fn positive(&self) -> &str {
        &self.positive
    }

    /// The other class.
    pub fn negative(&self) -> &str {
        &self.negative
    }
}

/// Maps a margin to a probability: `sigmoid(slope · margin + intercept)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Calibration {
    /// Multiplies the margin.
    pub slope: f64,
    /// Added after.
    pub intercept: f64,
}

impl Calibration {
    /// The identity on log-odds, for logistic regression.
    pub const IDENTITY: Calibration = Calibration {
        slope: 1.0,
        intercept: 0.0,
    };

    /// The probability of the positive class for a margin.
    pub fn probability(&self, margin: f64) -> f64 {
        sigmoid(self.slope * margin + self.intercept)
    }
}

/// The logistic function, computed without overflow.
pub(crate) fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// What a model's training was, kept with the model.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingSummary {
    /// Documents the weights were fitted on.
    pub documents: u64,
    /// Of which positive.
    pub positives: u64,
    /// Documents of the validation slice (early stopping, calibration).
    pub validation_documents: u64,
    /// Passes over the training documents.
    pub epochs: u32,
    /// The regularisation constant C.
    pub regularisation: f64,
    /// The seed of the run.
    pub seed: u64,
    /// The weight of a positive and of a negative example in the loss.
    pub class_weights: (f64, f64),
    /// Whether the solver met its tolerance (rather than stopping early or
    /// at the most epochs).
    pub converged: bool,
}

/// A trained classifier.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub(crate) kind: ModelKind,
    pub(crate) features: FeatureConfig,
    pub(crate) labels: Labels,
    /// Per bucket (2^hash_bits): its weight and its IDF (1 when the
    /// features use none), side by side so that scoring a feature reads one
    /// cache line.
    pub(crate) buckets: Vec<[f32; 2]>,
    pub(crate) bias: f32,
    pub(crate) calibration: Calibration,
    pub(crate) summary: TrainingSummary,
}

impl Model {
    /// Assembles a model; `weights` (and `idf` when the features use IDF)
    /// hold one value per bucket.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn from_parts(
        kind: ModelKind,
        features: FeatureConfig,
        labels: Labels,
        weights: &[f32],
        idf: Option<&[f32]>,
        bias: f32,
        calibration: Calibration,
        summary: TrainingSummary,
    ) -> Self {
        let buckets = match idf {
            Some(idf) => weights.iter().zip(idf).map(|(&w, &i)| [w, i]).collect(),
            None => weights.iter().map(|&w| [w, 1.0]).collect(),
        };
        Self {
            kind,
            features,
            labels,
            buckets,
            bias,
            calibration,
            summary,
        }
    }

    /// The weight of each bucket.
    pub(crate) fn weights(&self) -> impl Iterator<Item = f32> + '_ {
        self.buckets.iter().map(|b| b[0])
    }

    /// The IDF of each bucket, when the features use IDF.
    pub(crate) fn idf(&self) -> Option<impl Iterator<Item = f32> + '_> {
        self.features.idf.then(|| self.buckets.iter().map(|b| b[1]))
    }

    /// The learning algorithm.
    pub fn kind(&self) -> ModelKind {
        self.kind
    }

    /// The feature configuration.
    pub fn features(&self) -> &FeatureConfig {
        &self.features
    }

    /// The classes.
    pub fn labels(&self) -> &Labels {
        &self.labels
    }

    /// The margin-to-probability map.
    pub fn calibration(&self) -> Calibration {
        self.calibration
    }

    /// What the training was.
    pub fn summary(&self) -> &TrainingSummary {
        &self.summary
    }

    /// Buckets with a non-zero weight.
    pub fn non_zero_weights(&self) -> usize {
        self.weights().filter(|w| *w != 0.0).count()
    }

    /// A scorer that reuses its buffers from text to text; hold one per
    /// thread when scoring many texts.
    pub fn scorer(&self) -> Scorer<'_> {
        Scorer {
            model: self,
            featurizer: Featurizer::new(self.features),
        }
    }

    /// The probability that `text` is in the positive class.
    pub fn score(&self, text: &str) -> Result<f64, ClassifierError> {
        self.scorer().score(text)
    }

    /// The margin of a text from its bucket counts, in one pass: each
    /// count is weighed (sublinear TF times IDF), and `w · x / ‖x‖` is summed
    /// in `f64` in the order of `counts`.
    #[inline]
    pub(crate) fn margin_of_counts(&self, counts: &[(u32, f32)]) -> f64 {
        let (mut dot, mut norm) = (0.0f64, 0.0f64);
        for &(bucket, count) in counts {
            if count == 0.0 {
                continue;
            }
            let [weight, idf] = self.buckets[bucket as usize];
            let value = f64::from(self.features.term_weight(count) * idf);
            norm += value * value;
            dot += f64::from(weight) * value;
        }
        let bias = f64::from(self.bias);
        if norm > 0.0 {
            bias + dot / norm.sqrt()
        } else {
            bias
        }
    }

    /// The margin of a unit-length feature vector (training's rows).
    pub(crate) fn margin_of(&self, indices: &[u32], values: &[f32]) -> f64 {
        let mut sum = f64::from(self.bias);
        for (&index, &value) in indices.iter().zip(values) {
            sum += f64::from(self.buckets[index as usize][0]) * f64::from(value);
        }
        sum
    }

    /// The score of `text` with the `top` features that moved it most (at
    /// most [`EXPLAIN_FEATURES_MAX`]), strongest first, each with the words
    /// or n-grams behind its bucket.
    pub fn explain(&self, text: &str, top: usize) -> Result<Explanation, ClassifierError> {
        let mut featurizer = Featurizer::new(self.features);
        let mut names: HashMap<u32, Vec<NamedFeature>> = HashMap::new();
        featurizer.count_named(text, &mut |bucket, kind, name| {
            let entry = names.entry(bucket).or_default();
            if entry.len() < EXPLAIN_NAMES_PER_FEATURE_MAX
                && !entry.iter().any(|f| f.kind == kind && f.name == name)
            {
                entry.push(NamedFeature {
                    kind,
                    name: name.to_string(),
                });
            }
        })?;
        let counts = featurizer.counts();
        let margin = self.margin_of_counts(counts);
        let mut vector = SparseVector::default();
        let idf: Option<Vec<f32>> = self.idf().map(Iterator::collect);
        weigh(&self.features, counts, idf.as_deref(), &mut vector);
        let count_of: HashMap<u32, f32> = counts.iter().copied().collect();
        let mut contributions: Vec<Contribution> = vector
            .indices
            .iter()
            .zip(&vector.values)
            .map(|(&bucket, &value)| {
                let weight = self.buckets[bucket as usize][0];
                Contribution {
                    bucket,
                    features: names.remove(&bucket).unwrap_or_default(),
                    count: count_of.get(&bucket).copied().unwrap_or_default(),
                    value,
                    weight,
                    contribution: f64::from(weight) * f64::from(value),
                }
            })
            .filter(|c| c.contribution != 0.0)
            .collect();
        contributions.sort_by(|a, b| {
            b.contribution
                .abs()
                .total_cmp(&a.contribution.abs())
                .then(a.bucket.cmp(&b.bucket))
        });
        contributions.truncate(top.min(EXPLAIN_FEATURES_MAX));
        let listed: f64 = contributions.iter().map(|c| c.contribution).sum();
        Ok(Explanation {
            score: self.calibration.probability(margin),
            margin,
            bias: f64::from(self.bias),
            rest: margin - f64::from(self.bias) - listed,
            contributions,
        })
    }
}

/// Scores texts with one model, reusing buffers.
#[derive(Debug)]
pub struct Scorer<'m> {
    model: &'m Model,
    featurizer: Featurizer,
}

impl Scorer<'_> {
    /// The margin of `text`: `bias + w · x`.
    pub fn margin(&mut self, text: &str) -> Result<f64, ClassifierError> {
        self.featurizer.count(text)?;
        Ok(self.model.margin_of_counts(self.featurizer.counts()))
    }

    /// The probability that `text` is in the positive class.
    pub fn score(&mut self, text: &str) -> Result<f64, ClassifierError> {
        let margin = self.margin(text)?;
        Ok(self.model.calibration.probability(margin))
    }
}

/// A score and what drove it.
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    /// The probability of the positive class.
    pub score: f64,
    /// `bias + Σ contributions`.
    pub margin: f64,
    /// The model's bias (what an empty text scores).
    pub bias: f64,
    /// The sum of the contributions not listed.
    pub rest: f64,
    /// The strongest contributions, by absolute value.
    pub contributions: Vec<Contribution>,
}

/// One bucket's part in a margin.
#[derive(Debug, Clone, PartialEq)]
pub struct Contribution {
    /// The bucket.
    pub bucket: u32,
    /// The features of the text that fell into it (usually one).
    pub features: Vec<NamedFeature>,
    /// Their signed count in the text.
    pub count: f32,
    /// The bucket's value in the unit-length vector.
    pub value: f32,
    /// The model's weight for the bucket.
    pub weight: f32,
    /// `weight × value`: positive pushes towards the positive class.
    pub contribution: f64,
}

/// A feature as the text showed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedFeature {
    /// Word, pair of words, character n-gram, header field or header word.
    pub kind: FeatureKind,
    /// The lowercased text: `free`, `click here`, ` fre`, `subject:free`.
    pub name: String,
}
