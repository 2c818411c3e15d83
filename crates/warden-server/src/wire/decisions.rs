//! The decision request with its enforcement extras, what a decision
//! enforced, and the matrix's recommendation.

use crate::wire::{
    reasons, ActionBody, ActionSpecView, ApprovalReasonView, AwaitingApprovalView, RationaleBody,
    ReversalView, SubjectRefView,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use warden_app::decisions::DecisionDraft;
use warden_domain::ids::Version;
use warden_store::{DecisionEnforcement, RecommendationRecord};

/// `POST /api/v1/cases/{id}/decision`: the decision contract plus the
/// enforcement extras (both optional).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    /// The case version the analyst saw.
    pub version: i64,
    /// Whether a policy was broken.
    pub violation: bool,
    /// A taxonomy code.
    pub category: String,
    /// The policy id or section.
    pub policy: Option<String>,
    /// Actions, none when there is no violation.
    #[serde(default)]
    pub actions: Vec<ActionBody>,
    /// Why.
    pub rationale: RationaleBody,
    /// Why the actions depart from the enforcement matrix's recommendation.
    /// Without it, the rationale's `action` section is taken as the reason;
    /// a departure with neither is refused.
    pub override_reason: Option<String>,
    /// A reason code of the category (see `GET /api/v1/taxonomy`).
    pub reason_code: Option<String>,
}

impl From<DecisionRequest> for DecisionDraft {
    fn from(request: DecisionRequest) -> Self {
        DecisionDraft {
            expected: Version(request.version),
            violation: request.violation,
            category: request.category,
            policy: request.policy,
            actions: request.actions.into_iter().map(Into::into).collect(),
            rationale: request.rationale.into_domain(),
            override_reason: request.override_reason,
            reason_code: request.reason_code,
        }
    }
}

/// The enforcement facts of a decision.
#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionEnforcementView {
    /// The taxonomy version it was made under.
    pub taxonomy_version: i64,
    /// Its severity.
    pub severity: String,
    /// The reason code named.
    pub reason_code: Option<String>,
    /// The account's active strike weight before it.
    pub prior_strike_weight: i64,
    /// The account acted on.
    pub account: Option<SubjectRefView>,
    /// What the enforcement matrix recommended.
    pub recommendation: Vec<ActionSpecView>,
    /// `above` or `below` the recommendation, if it departs.
    pub departs_from_recommendation: Option<String>,
    /// Why it departs.
    pub override_reason: Option<String>,
    /// Actions that wait for a lead's approval (status `pending_approval`).
    pub awaiting_approval: Vec<AwaitingApprovalView>,
    /// The statement of reasons' puid, once written.
    pub statement_of_reasons: Option<String>,
    /// The decision's reversal.
    pub reversal: Option<ReversalView>,
}

impl From<&DecisionEnforcement> for DecisionEnforcementView {
    fn from(e: &DecisionEnforcement) -> Self {
        Self {
            taxonomy_version: e.taxonomy_version,
            severity: e.severity.as_str().into(),
            reason_code: e.reason_code.clone(),
            prior_strike_weight: e.prior_strike_weight,
            account: e.account.as_ref().map(Into::into),
            recommendation: e.recommendation.iter().map(Into::into).collect(),
            departs_from_recommendation: e.departure.map(|d| d.as_str().into()),
            override_reason: e.override_reason.clone(),
            awaiting_approval: e
                .approvals
                .iter()
                .map(|(id, why)| AwaitingApprovalView {
                    action_id: *id,
                    reasons: reasons(why),
                })
                .collect(),
            statement_of_reasons: e.statement_id.clone(),
            reversal: e.reversal.as_ref().map(Into::into),
        }
    }
}

/// `GET /api/v1/cases/{id}/recommendation`.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecommendationView {
    /// The case.
    pub case_id: i64,
    /// The category asked about.
    pub category: String,
    /// The severity for this case.
    pub severity: String,
    /// The taxonomy version in force (0: none published yet, built-in defaults).
    pub taxonomy_version: i64,
    /// The account that would be acted on.
    pub account: Option<SubjectRefView>,
    /// Its tags.
    pub account_tags: Vec<String>,
    /// Its active strike weight.
    pub prior_strike_weight: i64,
    /// What the matrix recommends.
    pub recommendation: Vec<ActionSpecView>,
    /// For each recommended action, why it would still need approval.
    pub needs_approval: Vec<Vec<ApprovalReasonView>>,
}

impl From<&RecommendationRecord> for RecommendationView {
    fn from(r: &RecommendationRecord) -> Self {
        Self {
            case_id: r.case_id.0,
            category: r.category.clone(),
            severity: r.severity.as_str().into(),
            taxonomy_version: r.taxonomy_version,
            account: r.account.as_ref().map(Into::into),
            account_tags: r.account_tags.clone(),
            prior_strike_weight: r.prior_strike_weight,
            recommendation: r.recommendation.iter().map(Into::into).collect(),
            needs_approval: r.approvals.iter().map(|a| reasons(a)).collect(),
        }
    }
}
