//! Taxonomy versions and publishing one.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use warden_app::taxonomy::PublishTaxonomyCommand;
use warden_domain::FieldErrors;
use warden_store::TaxonomyVersionRecord;

/// A taxonomy version.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaxonomyVersionView {
    /// Its number.
    pub version: i64,
    /// What changed.
    pub note: String,
    /// Who published it.
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// The document: categories (with reason codes and DSA mapping),
    /// strikes, matrix, protected_tags, dsa.
    pub document: Value,
}

impl From<&TaxonomyVersionRecord> for TaxonomyVersionView {
    fn from(v: &TaxonomyVersionRecord) -> Self {
        Self {
            version: v.version,
            note: v.note.clone(),
            created_by: v.created_by.clone(),
            created_at: v.created_at,
            document: v.policy.to_json(),
        }
    }
}

/// `POST /api/v1/taxonomy/versions`: a whole new version.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaxonomyBody {
    /// What changed and why.
    pub note: String,
    /// The document, in the shape `GET /api/v1/taxonomy` shows.
    pub document: Value,
}

impl TryFrom<TaxonomyBody> for PublishTaxonomyCommand {
    type Error = FieldErrors;

    fn try_from(body: TaxonomyBody) -> Result<Self, FieldErrors> {
        PublishTaxonomyCommand::parse(&body.document, &body.note)
    }
}
