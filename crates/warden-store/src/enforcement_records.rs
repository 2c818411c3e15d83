//! Records of enforcement: taxonomy versions, the enforcement facts of
//! decisions, recommendations, actions with their approvals, reversals
//! and deliveries, outbox rows, notices, statements of reasons and
//! transparency facts. The ports that read and write them are
//! [`crate::DecisionStore`], [`crate::OutboxStore`],
//! [`crate::TaxonomyStore`], [`crate::StatementStore`] and
//! [`crate::ReportStore`].

use std::str::FromStr;

use serde_json::Value;

use warden_domain::action::DeliveryStatus;
use warden_domain::case::Severity;
use warden_domain::decision::ActionSpec;
use warden_domain::enforcement::{ApprovalReason, Departure, EnforcementPolicy};
use warden_domain::transparency::{ActionFact, ReversalFact};
use warden_domain::webhook::DeliveryKind;
use warden_domain::{CaseId, SubjectRef, Timestamp};

use crate::ActionRecord;

/// One stored version of the enforcement policy.
#[derive(Debug, Clone, PartialEq)]
pub struct TaxonomyVersionRecord {
    /// The version number, from 1.
    pub version: i64,
    /// The policy.
    pub policy: EnforcementPolicy,
    /// What changed, as its author wrote.
    pub note: String,
    /// Who published it.
    pub created_by: String,
    /// When.
    pub created_at: Timestamp,
}

/// A decision's extras as the wire gives them (parsed into a
/// [`warden_domain::enforcement::DecideCommand`] at the edge).
pub use warden_domain::enforcement::DecisionExtras;

/// A reversal, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReversalRecord {
    /// Who reversed.
    pub by: String,
    /// When.
    pub at: Timestamp,
    /// Why.
    pub reason: String,
}

/// The enforcement facts of a decision: the policy version, the matrix's
/// recommendation, any departure and its reason, approvals, the statement.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionEnforcement {
    /// The taxonomy version the decision was made under.
    pub taxonomy_version: i64,
    /// The decision's severity.
    pub severity: Severity,
    /// The reason code named.
    pub reason_code: Option<String>,
    /// Active strike weight of the account before the decision.
    pub prior_strike_weight: i64,
    /// The account acted on, if any.
    pub account: Option<SubjectRef>,
    /// What the matrix recommended.
    pub recommendation: Vec<ActionSpec>,
    /// How the chosen actions departed from it.
    pub departure: Option<Departure>,
    /// Why (from `override_reason`, else the rationale's action section).
    pub override_reason: Option<String>,
    /// Actions that waited for approval, with why.
    pub approvals: Vec<(i64, Vec<ApprovalReason>)>,
    /// The statement of reasons' puid, once written.
    pub statement_id: Option<String>,
    /// The reversal of the whole decision, if reversed.
    pub reversal: Option<ReversalRecord>,
}

/// The matrix's recommendation for a case, now.
#[derive(Debug, Clone, PartialEq)]
pub struct RecommendationRecord {
    /// The case.
    pub case_id: CaseId,
    /// The category asked about.
    pub category: String,
    /// Its severity for this case.
    pub severity: Severity,
    /// The taxonomy version in force.
    pub taxonomy_version: i64,
    /// The account that would be acted on.
    pub account: Option<SubjectRef>,
    /// Its tags.
    pub account_tags: Vec<String>,
    /// Its active strike weight.
    pub prior_strike_weight: i64,
    /// What the matrix recommends.
    pub recommendation: Vec<ActionSpec>,
    /// Which recommended actions would still need approval, and why.
    pub approvals: Vec<Vec<ApprovalReason>>,
}

/// How a lead ruled on an action that waited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalOutcome {
    /// Approved (true) or rejected.
    pub approved: bool,
    /// By whom.
    pub by: String,
    /// When.
    pub at: Timestamp,
    /// Why.
    pub note: String,
}

/// An action with its approval, reversal and deliveries.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionDetail {
    /// The action.
    pub action: ActionRecord,
    /// The case its decision decided.
    pub case_id: CaseId,
    /// The decision's category.
    pub category: String,
    /// Who made the decision.
    pub decided_by: String,
    /// Their user id.
    pub decided_by_id: Option<i64>,
    /// When.
    pub decided_at: Timestamp,
    /// Why it waited for approval (empty when standard).
    pub approval_reasons: Vec<ApprovalReason>,
    /// The ruling on it.
    pub approval: Option<ApprovalOutcome>,
    /// Its reversal.
    pub reversal: Option<ReversalRecord>,
    /// Why its status is what it is (a delivery error, the platform's word).
    pub status_detail: Option<String>,
    /// Its deliveries, oldest first.
    pub deliveries: Vec<DeliveryRecord>,
    /// The decision's override reason and recommendation, for the approver.
    pub enforcement: Option<DecisionEnforcement>,
}

/// An outbox row leased to a worker.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryJob {
    /// Outbox id.
    pub id: i64,
    /// What it tells.
    pub kind: DeliveryKind,
    /// Which configured endpoint it goes to (an action type, or `notice`).
    pub endpoint_key: String,
    /// The idempotency key.
    pub idempotency_key: String,
    /// The JSON body, exactly as to send.
    pub body: String,
    /// Attempts made before this one.
    pub attempts: i64,
}

/// What happened to one attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum DeliveryResult {
    /// 2xx.
    Delivered {
        /// The status code.
        status_code: u16,
    },
    /// It failed; retry at `retry_at`, or never (`None`: a dead letter).
    Failed {
        /// What went wrong (never a secret).
        error: String,
        /// The status code, if an answer came.
        status_code: Option<u16>,
        /// When to try again; `None` when the attempts are used up.
        retry_at: Option<Timestamp>,
    },
}

/// The result of one leased row.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryOutcome {
    /// Outbox id.
    pub id: i64,
    /// What happened.
    pub result: DeliveryResult,
}

/// An outbox row.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryRecord {
    /// Outbox id.
    pub id: i64,
    /// What it tells.
    pub kind: DeliveryKind,
    /// The action it is about.
    pub action_id: Option<i64>,
    /// The notice it carries.
    pub notice_id: Option<i64>,
    /// Endpoint key.
    pub endpoint_key: String,
    /// Idempotency key.
    pub idempotency_key: String,
    /// The body.
    pub body: Value,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Attempts made.
    pub attempts: i64,
    /// Replays after a platform failure.
    pub replays: i64,
    /// When it is due (or its lease ends).
    pub next_attempt_at: Timestamp,
    /// The last error.
    pub last_error: Option<String>,
    /// The last HTTP status.
    pub last_status_code: Option<i64>,
    /// What the platform said in its callback.
    pub platform_detail: Option<String>,
    /// Written.
    pub created_at: Timestamp,
    /// Last changed.
    pub updated_at: Timestamp,
    /// Delivered (2xx).
    pub delivered_at: Option<Timestamp>,
    /// Confirmed by callback.
    pub confirmed_at: Option<Timestamp>,
}

/// Which outbox rows to list.
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    /// Only these statuses; empty means all.
    pub statuses: Vec<DeliveryStatus>,
    /// Only this action's.
    pub action_id: Option<i64>,
    /// Rows after this id (paging).
    pub after_id: i64,
    /// Page size, capped.
    pub limit: u32,
}

/// Outbox rows by status, for metrics.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeliveryCounts {
    /// status → rows.
    pub by_status: Vec<(String, i64)>,
    /// The oldest due row's due time.
    pub oldest_due_at: Option<Timestamp>,
}

/// A notice template as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeTemplateRecord {
    /// Warden's id.
    pub id: i64,
    /// Action type, or `reversal`.
    pub action_type: String,
    /// Category code, or `*` for any.
    pub category: String,
    /// Language tag.
    pub language: String,
    /// Subject line template.
    pub subject: String,
    /// Markdown body template.
    pub body: String,
    /// Who saved it.
    pub updated_by: String,
    /// When.
    pub updated_at: Timestamp,
}

/// A template to save (replacing the one with the same type, category and language).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeTemplateInput {
    /// Action type, or `reversal`.
    pub action_type: String,
    /// Category code, or `*`.
    pub category: String,
    /// Language tag.
    pub language: String,
    /// Subject line template.
    pub subject: String,
    /// Markdown body template.
    pub body: String,
}

/// Where a stored notice stands (the `status` of [`NoticeRecord`], as
/// `warden_domain::notice::NoticeOutcome` names it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeStatus {
    /// Rendered and queued in the outbox.
    Queued,
    /// Not sent: a variable had no value.
    Refused,
    /// Not sent: no template fits.
    NoTemplate,
}

impl NoticeStatus {
    /// Every status.
    pub const ALL: [NoticeStatus; 3] = [
        NoticeStatus::Queued,
        NoticeStatus::Refused,
        NoticeStatus::NoTemplate,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeStatus::Queued => "queued",
            NoticeStatus::Refused => "refused",
            NoticeStatus::NoTemplate => "no_template",
        }
    }
}

impl FromStr for NoticeStatus {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        NoticeStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| format!("unknown notice status {text:?}"))
    }
}

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

/// A notice as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeRecord {
    /// Warden's id.
    pub id: i64,
    /// The decision it tells of.
    pub decision_id: i64,
    /// The action it tells of.
    pub action_id: Option<i64>,
    /// The template used.
    pub template_id: Option<i64>,
    /// Who gets it.
    pub recipient: SubjectRef,
    /// Its language.
    pub language: String,
    /// Rendered subject (none when refused).
    pub subject: Option<String>,
    /// Rendered body (none when refused).
    pub body: Option<String>,
    /// `queued` (in the outbox), `refused` (a variable was unfilled) or `no_template`.
    pub status: String,
    /// The variables left unfilled, when refused.
    pub refusal: Vec<String>,
    /// When.
    pub created_at: Timestamp,
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
