//! Warden's triage classifier: a text classifier trained in-process.
//!
//! Texts become feature vectors by **feature hashing** ([`text`],
//! [`features`]): words, pairs of words and character n-grams within
//! tokens, lowercased (Unicode-aware), plus e-mail header fields when a text
//! starts with a header block, hashed into 2^18–2^20 signed buckets,
//! weighed by sublinear term frequency and learnt IDF, scaled to unit
//! length. No vocabulary is kept, so a model is a fixed-size array of
//! weights and scoring needs no allocation.
//!
//! Two linear **models** ([`ModelKind`]) are trained by dual coordinate
//! descent ([`solver`], after LIBLINEAR): logistic regression and a linear
//! SVM, with a seed for determinism, class weighting, and early stopping on
//! a validation slice ([`train`]). Scores are probabilities: logistic
//! regression's own, or the SVM's margins through Platt scaling
//! ([`calibration`]). [`Model::explain`] lists the words and n-grams that
//! moved a score most, so a case can show why it was flagged.
//!
//! A model has a compact, versioned, checksummed byte form ([`format`])
//! that reads back to the same scores bit for bit. [`metrics`] computes
//! precision, recall, F1, exact ROC AUC and the confusion matrix; [`split`]
//! is the deterministic train/test split by id hash. [`feedback`] turns
//! analysts' decisions into labelled texts, for retraining.
//!
//! The crate does no I/O and reads no clock; every limit is in [`limits`].
#![deny(missing_docs)]

pub mod calibration;
pub mod features;
pub mod feedback;
pub mod format;
pub mod hashing;
pub mod limits;
pub mod metrics;
pub mod model;
pub mod solver;
pub mod split;
pub mod text;
pub mod train;

#[cfg(test)]
mod tests;

pub use features::{check_text, FeatureConfig};
pub use feedback::{examples_from_decisions, Judgement, LabelledText};
pub use metrics::{roc_auc, Confusion, Evaluation};
pub use model::{
    check_model_name, Calibration, Contribution, Explanation, Labels, Model, ModelKind,
    NamedFeature, Scorer, TrainingSummary,
};
pub use split::Holdout;
pub use text::FeatureKind;
pub use train::{train, ClassWeight, Example, Progress, TrainingOptions};

/// What can go wrong, with the field or document at fault.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ClassifierError {
    /// An option or input is out of bounds.
    #[error("{field}: {reason}")]
    Invalid {
        /// The field at fault.
        field: String,
        /// Why.
        reason: String,
    },
    /// A text is longer than [`limits::TEXT_BYTES_MAX`].
    #[error("text: is {bytes} bytes, more than the {max} allowed")]
    TextTooLong {
        /// Its length.
        bytes: usize,
        /// The limit.
        max: usize,
    },
    /// A training document is at fault.
    #[error("document {id:?}: {error}")]
    InDocument {
        /// The document's id.
        id: String,
        /// What is wrong with it.
        error: Box<ClassifierError>,
    },
    /// Bytes that are not a valid model.
    #[error("model: {0}")]
    ModelFormat(String),
}

impl ClassifierError {
    pub(crate) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        ClassifierError::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn in_document(id: &str, error: ClassifierError) -> Self {
        ClassifierError::InDocument {
            id: id.to_string(),
            error: Box::new(error),
        }
    }
}
