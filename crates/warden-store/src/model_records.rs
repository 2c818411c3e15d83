//! Records of classifier models, versioned in the store (the port is
//! [`crate::ModelStore`]).
//!
//! A model has a name (`spam`, `toxicity`, as `classifier_score("name")`
//! reads it) and numbered versions, each with its bytes (the classifier's
//! own checksummed format; the store treats them as opaque), the metrics it
//! was measured with, its author and a note. A version's status is
//! `shadow` (scored and recorded, acting on nothing), `live` (what rules
//! read) or `retired`.
//!
//! Invariants, on top of the store's:
//! - versions of a name are numbered 1, 2, 3, ... in the order they were
//!   saved; two saves racing for one number: the second gets a conflict and
//!   changes nothing;
//! - at most one version of a name is live and at most one is in shadow
//!   (partial unique indexes): saving a version as live or shadow retires
//!   the one that held that status, promoting retires the live one, in the
//!   same transaction, with its audit record;
//! - versions are never deleted or changed except in status; their bytes
//!   are checked against their SHA-256 whenever they are read.

use std::str::FromStr;

use serde_json::Value;

use warden_domain::Timestamp;

/// Where a model version stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelStatus {
    /// Scored and recorded alongside the live version, acting on nothing.
    Shadow,
    /// What rules and queues read.
    Live,
    /// Kept for the record.
    Retired,
}

impl ModelStatus {
    /// Every status.
    pub const ALL: [ModelStatus; 3] =
        [ModelStatus::Shadow, ModelStatus::Live, ModelStatus::Retired];

    /// `shadow`, `live` or `retired`, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            ModelStatus::Shadow => "shadow",
            ModelStatus::Live => "live",
            ModelStatus::Retired => "retired",
        }
    }

    /// Reads a stored status.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "shadow" => Some(ModelStatus::Shadow),
            "live" => Some(ModelStatus::Live),
            "retired" => Some(ModelStatus::Retired),
            _ => None,
        }
    }
}

impl FromStr for ModelStatus {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        ModelStatus::parse(text).ok_or_else(|| format!("unknown model status {text:?}"))
    }
}

/// A model version to save; the store numbers it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewModelVersion {
    /// The model's name (see `warden_classifier::check_model_name`).
    pub name: String,
    /// The learning algorithm, for listings: `lr`, `svm`.
    pub kind: String,
    /// `Shadow` or `Live`; a version is never saved retired.
    pub status: ModelStatus,
    /// What it was measured with (a JSON object): precision, recall, F1,
    /// AUC, the data.
    pub metrics: Value,
    /// The serialized model.
    pub bytes: Vec<u8>,
    /// Why this version exists.
    pub note: String,
}

/// A stored model version, without its bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelVersionRecord {
    /// The model's name.
    pub name: String,
    /// From 1.
    pub version: i64,
    /// Where it stands.
    pub status: ModelStatus,
    /// The learning algorithm.
    pub kind: String,
    /// What it was measured with.
    pub metrics: Value,
    /// The size of its bytes.
    pub size_bytes: i64,
    /// The SHA-256 of its bytes, hex.
    pub sha256: String,
    /// Why it exists.
    pub note: String,
    /// Who saved it.
    pub created_by: String,
    /// When.
    pub created_at: Timestamp,
    /// When its status last changed (its creation, a promotion, a retirement).
    pub status_changed_at: Timestamp,
}

/// A stored model version with its bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredModel {
    /// The version.
    pub record: ModelVersionRecord,
    /// The serialized model, checked against the record's SHA-256.
    pub bytes: Vec<u8>,
}

/// A live classifier's score of an open case's text, and the priority
/// points it is worth (`[classifier] priority_weight` × score).
#[derive(Debug, Clone, PartialEq)]
pub struct CaseScore {
    /// The case's subject.
    pub subject: warden_domain::SubjectRef,
    /// The case's category.
    pub category: String,
    /// The model that scored it.
    pub model: String,
    /// Its live version.
    pub version: i64,
    /// The score, 0 to 1.
    pub score: f64,
    /// The priority points it adds (replacing what an earlier score added).
    pub points: i64,
}
