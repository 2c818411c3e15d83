//! Actions: their specs, approvals and reversals, and a lead's ruling.

use crate::wire::{ActionView, DecisionEnforcementView, DeliveryView};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use warden_app::Reason;
use warden_domain::decision::ActionSpec;
use warden_domain::duration::format_iso8601_duration;
use warden_domain::enforcement::ApprovalReason;
use warden_domain::{FieldError, FieldErrors};
use warden_store::{ActionDetail, ReversalRecord};

/// An action as the matrix recommends it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActionSpecView {
    /// Action type.
    #[serde(rename = "type")]
    pub action_type: String,
    /// ISO 8601 duration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    /// For restrictions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feature: Option<String>,
    /// For labels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

impl From<&ActionSpec> for ActionSpecView {
    fn from(spec: &ActionSpec) -> Self {
        let value = warden_domain::enforcement::action_json(spec);
        Self {
            action_type: spec.kind.type_name().into(),
            duration: spec.duration.map(format_iso8601_duration),
            feature: value
                .get("feature")
                .and_then(Value::as_str)
                .map(str::to_string),
            label: value
                .get("label")
                .and_then(Value::as_str)
                .map(str::to_string),
        }
    }
}

/// Why an action needs a lead's approval.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApprovalReasonView {
    /// `beyond_matrix`, `ban_on_first_offence` or `protected_account:<tag>`.
    pub code: String,
    /// In words.
    pub description: String,
}

pub(crate) fn reasons(reasons: &[ApprovalReason]) -> Vec<ApprovalReasonView> {
    reasons
        .iter()
        .map(|r| ApprovalReasonView {
            code: r.code(),
            description: r.to_string(),
        })
        .collect()
}

/// An action that waits, and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct AwaitingApprovalView {
    /// The action.
    pub action_id: i64,
    /// Why.
    pub reasons: Vec<ApprovalReasonView>,
}

/// A reversal.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReversalView {
    /// Who.
    pub by: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Why.
    pub reason: String,
}

impl From<&ReversalRecord> for ReversalView {
    fn from(r: &ReversalRecord) -> Self {
        Self {
            by: r.by.clone(),
            at: r.at,
            reason: r.reason.clone(),
        }
    }
}

/// A lead's ruling on an action.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApprovalOutcomeView {
    /// Approved or rejected.
    pub approved: bool,
    /// By whom.
    pub by: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Why.
    pub note: String,
}

/// An action with its approval, reversal and deliveries.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActionDetailView {
    /// The action.
    pub action: ActionView,
    /// Its case.
    pub case_id: i64,
    /// Its decision's category.
    pub category: String,
    /// Who decided.
    pub decided_by: String,
    /// When.
    pub decided_at: DateTime<Utc>,
    /// Why it needed approval (empty when standard).
    pub approval_reasons: Vec<ApprovalReasonView>,
    /// The ruling.
    pub approval: Option<ApprovalOutcomeView>,
    /// Its reversal.
    pub reversal: Option<ReversalView>,
    /// Why its status is what it is.
    pub status_detail: Option<String>,
    /// The decision's recommendation and override reason.
    pub decision: Option<DecisionEnforcementView>,
    /// Its deliveries and notices, oldest first.
    pub deliveries: Vec<DeliveryView>,
}

impl From<&ActionDetail> for ActionDetailView {
    fn from(a: &ActionDetail) -> Self {
        Self {
            action: (&a.action).into(),
            case_id: a.case_id.0,
            category: a.category.clone(),
            decided_by: a.decided_by.clone(),
            decided_at: a.decided_at,
            approval_reasons: reasons(&a.approval_reasons),
            approval: a.approval.as_ref().map(|o| ApprovalOutcomeView {
                approved: o.approved,
                by: o.by.clone(),
                at: o.at,
                note: o.note.clone(),
            }),
            reversal: a.reversal.as_ref().map(Into::into),
            status_detail: a.status_detail.clone(),
            decision: a.enforcement.as_ref().map(Into::into),
            deliveries: a.deliveries.iter().map(Into::into).collect(),
        }
    }
}

/// Approve, reject or reverse: why, in a sentence.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RulingBody {
    /// Why.
    pub reason: String,
}

impl RulingBody {
    /// The reason, checked.
    pub fn reason(&self) -> Result<Reason, FieldErrors> {
        Reason::parse(&self.reason).map_err(|e| FieldError::new("reason", e).into())
    }
}
