//! Records of decisions' enforcement: what a decision enforced, the
//! matrix's recommendation, actions with their approvals and reversals.
//! The port that reads and writes them is [`crate::DecisionStore`].

use warden_domain::case::Severity;
use warden_domain::decision::ActionSpec;
use warden_domain::enforcement::{ApprovalReason, Departure};
use warden_domain::{CaseId, SubjectRef, Timestamp};

use crate::{ActionRecord, DeliveryRecord};

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
