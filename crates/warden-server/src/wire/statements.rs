//! DSA statements of reasons and their validation.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use warden_store::DsaStatementRecord;

/// A DSA statement of reasons.
#[derive(Debug, Serialize, ToSchema)]
pub struct DsaStatementView {
    /// Warden's id.
    pub id: i64,
    /// The decision.
    pub decision_id: i64,
    /// The puid.
    pub puid: String,
    /// When written.
    pub created_at: DateTime<Utc>,
    /// unsubmitted, attempted, accepted or rejected.
    pub submission_status: String,
    /// The database's uuid, once accepted.
    pub database_uuid: Option<String>,
    /// Its public page.
    pub permalink: Option<String>,
    /// Why the database refused it.
    pub submission_error: Option<String>,
    /// The statement, in the Transparency Database's format.
    pub statement: Value,
}

impl From<&DsaStatementRecord> for DsaStatementView {
    fn from(s: &DsaStatementRecord) -> Self {
        Self {
            id: s.id,
            decision_id: s.decision_id,
            puid: s.puid.clone(),
            created_at: s.created_at,
            submission_status: s.submission_status.clone(),
            database_uuid: s.database_uuid.clone(),
            permalink: s.permalink.clone(),
            submission_error: s.submission_error.clone(),
            statement: s.statement.clone(),
        }
    }
}

/// `POST /api/v1/dsa/validate`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DsaValidateBody {
    /// A statement in the Transparency Database's format.
    pub statement: Value,
    /// `single` or `batch` (default): which endpoint's rules.
    pub endpoint: Option<String>,
}

/// What the Transparency Database would answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct DsaValidationView {
    /// Whether it would store the statement.
    pub valid: bool,
    /// Its top-level message on a refusal.
    pub message: Option<String>,
    /// Its messages by field.
    pub errors: Value,
}
