//! Records of DSA statements of reasons, their submission, and the
//! facts of transparency reports ([`crate::StatementStore`], [`crate::ReportStore`]).

use serde_json::Value;
use std::str::FromStr;

use warden_domain::transparency::{ActionFact, ReversalFact};
use warden_domain::Timestamp;

/// Where a statement of reasons stands at the Transparency Database (the
/// `submission_status` of [`DsaStatementRecord`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubmissionStatus {
    /// Not sent yet.
    Unsubmitted,
    /// Sent; no verdict yet.
    Attempted,
    /// Stored by the database.
    Accepted,
    /// Refused by the database.
    Rejected,
}

impl SubmissionStatus {
    /// Every status.
    pub const ALL: [SubmissionStatus; 4] = [
        SubmissionStatus::Unsubmitted,
        SubmissionStatus::Attempted,
        SubmissionStatus::Accepted,
        SubmissionStatus::Rejected,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            SubmissionStatus::Unsubmitted => "unsubmitted",
            SubmissionStatus::Attempted => "attempted",
            SubmissionStatus::Accepted => "accepted",
            SubmissionStatus::Rejected => "rejected",
        }
    }
}

impl FromStr for SubmissionStatus {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        SubmissionStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| format!("unknown submission status {text:?}"))
    }
}

/// A statement of reasons as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct DsaStatementRecord {
    /// Warden's id.
    pub id: i64,
    /// The decision.
    pub decision_id: i64,
    /// The platform-unique id.
    pub puid: String,
    /// The statement, as validated.
    pub statement: Value,
    /// When written.
    pub created_at: Timestamp,
    /// `unsubmitted`, `attempted` (outcome unknown), `accepted` or `rejected`.
    pub submission_status: String,
    /// Submission attempts.
    pub submission_attempts: i64,
    /// When last submitted.
    pub submitted_at: Option<Timestamp>,
    /// Why the database refused it.
    pub submission_error: Option<String>,
    /// The database's uuid, once accepted.
    pub database_uuid: Option<String>,
    /// Its public page.
    pub permalink: Option<String>,
}

/// What happened to one statement at the Transparency Database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DsaSubmission {
    /// Sent; no verdict yet (a timeout): ask `existing-puid` before resending.
    Attempted,
    /// Stored by the database.
    Accepted {
        /// Its uuid, when the answer gave one.
        uuid: Option<String>,
        /// Its page, when the answer gave one.
        permalink: Option<String>,
    },
    /// Refused: it will not be sent again until changed.
    Rejected {
        /// The database's messages.
        error: String,
    },
}

/// Facts for a transparency report.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TransparencyFacts {
    /// Actions ordered in the period (not rejected).
    pub actions: Vec<ActionFact>,
    /// Reversals in the period.
    pub reversals: Vec<ReversalFact>,
    /// Statements of reasons written in the period.
    pub statements: u64,
    /// Appeals received in the period.
    pub appeals: u64,
}
