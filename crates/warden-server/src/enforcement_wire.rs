//! Wire types of enforcement: the decision request with its extras, the
//! matrix's recommendation, approvals, reversals, deliveries and the
//! platform's callbacks, taxonomy versions, notice templates and notices,
//! DSA statements and transparency aggregates.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use warden_app::decisions::DecisionDraft;
use warden_app::deliveries::{DeliveryConfirmation, PlatformOutcome};
use warden_app::notices::TemplateDraft;
use warden_app::taxonomy::PublishTaxonomyCommand;
use warden_app::Reason;
use warden_domain::decision::ActionSpec;
use warden_domain::duration::format_iso8601_duration;
use warden_domain::enforcement::ApprovalReason;
use warden_domain::ids::Version;
use warden_domain::transparency::TransparencyReport;
use warden_domain::{FieldError, FieldErrors};
use warden_store::{
    ActionDetail, DecisionEnforcement, DeliveryRecord, DsaStatementRecord, NoticeRecord,
    NoticeTemplateRecord, RecommendationRecord, ReversalRecord, TaxonomyVersionRecord,
};

use crate::wire::{ActionBody, ActionView, RationaleBody, SubjectRefView};

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

fn reasons(reasons: &[ApprovalReason]) -> Vec<ApprovalReasonView> {
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

/// An outbox row.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    /// Outbox id.
    pub id: i64,
    /// `action.apply`, `action.lift`, `action.reverse` or `notice`.
    pub event: String,
    /// The action.
    pub action_id: Option<i64>,
    /// The notice.
    pub notice_id: Option<i64>,
    /// Which endpoint.
    pub endpoint_key: String,
    /// The idempotency key.
    pub idempotency_key: String,
    /// pending, sending, delivered, confirmed, failed, dead or cancelled.
    pub status: String,
    /// Attempts.
    pub attempts: i64,
    /// Replays after a platform failure.
    pub replays: i64,
    /// Due (or lease end).
    pub next_attempt_at: DateTime<Utc>,
    /// Last error.
    pub last_error: Option<String>,
    /// Last HTTP status.
    pub last_status_code: Option<i64>,
    /// The platform's word in its callback.
    pub platform_detail: Option<String>,
    /// Written.
    pub created_at: DateTime<Utc>,
    /// Delivered (2xx).
    pub delivered_at: Option<DateTime<Utc>>,
    /// Confirmed by callback.
    pub confirmed_at: Option<DateTime<Utc>>,
    /// The body as sent.
    pub body: Value,
}

impl From<&DeliveryRecord> for DeliveryView {
    fn from(d: &DeliveryRecord) -> Self {
        Self {
            id: d.id,
            event: d.kind.as_str().into(),
            action_id: d.action_id,
            notice_id: d.notice_id,
            endpoint_key: d.endpoint_key.clone(),
            idempotency_key: d.idempotency_key.clone(),
            status: d.status.to_string(),
            attempts: d.attempts,
            replays: d.replays,
            next_attempt_at: d.next_attempt_at,
            last_error: d.last_error.clone(),
            last_status_code: d.last_status_code,
            platform_detail: d.platform_detail.clone(),
            created_at: d.created_at,
            delivered_at: d.delivered_at,
            confirmed_at: d.confirmed_at,
            body: d.body.clone(),
        }
    }
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

impl TryFrom<CallbackBody> for DeliveryConfirmation {
    type Error = FieldErrors;

    fn try_from(body: CallbackBody) -> Result<Self, FieldErrors> {
        let outcome =
            PlatformOutcome::parse(&body.status).map_err(|e| FieldError::new("status", e))?;
        Ok(DeliveryConfirmation {
            idempotency_key: body.idempotency_key,
            outcome,
            detail: body.detail,
        })
    }
}

/// The platform's callback on a delivery, signed like Warden's webhooks
/// (`x-warden-timestamp`, `x-warden-signature: v1=<hex HMAC-SHA256 of
/// "<timestamp>.<body>">` with the shared secret).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CallbackBody {
    /// The delivery's idempotency key.
    pub idempotency_key: String,
    /// `applied` or `failed`.
    pub status: String,
    /// What happened, for the console (at most 500 characters are kept).
    pub detail: Option<String>,
}

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

/// A notice template to save or preview.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoticeTemplateBody {
    /// An action type or `reversal`.
    pub action_type: String,
    /// A category code, or `*` for any (the default).
    pub category: Option<String>,
    /// A language tag such as `en` or `de-AT` (default `en`).
    pub language: Option<String>,
    /// Subject line, with `{{variables}}`.
    pub subject: String,
    /// Markdown body, with `{{variables}}`.
    pub body: String,
}

impl From<NoticeTemplateBody> for TemplateDraft {
    fn from(body: NoticeTemplateBody) -> Self {
        TemplateDraft {
            action_type: body.action_type,
            category: body.category,
            language: body.language,
            subject: body.subject,
            body: body.body,
        }
    }
}

/// A notice template.
#[derive(Debug, Serialize, ToSchema)]
pub struct NoticeTemplateView {
    /// Warden's id.
    pub id: i64,
    /// Action type or `reversal`.
    pub action_type: String,
    /// Category or `*`.
    pub category: String,
    /// Language.
    pub language: String,
    /// Subject template.
    pub subject: String,
    /// Body template.
    pub body: String,
    /// Who saved it.
    pub updated_by: String,
    /// When.
    pub updated_at: DateTime<Utc>,
}

impl From<&NoticeTemplateRecord> for NoticeTemplateView {
    fn from(t: &NoticeTemplateRecord) -> Self {
        Self {
            id: t.id,
            action_type: t.action_type.clone(),
            category: t.category.clone(),
            language: t.language.clone(),
            subject: t.subject.clone(),
            body: t.body.clone(),
            updated_by: t.updated_by.clone(),
            updated_at: t.updated_at,
        }
    }
}

/// A template rendered with sample values.
#[derive(Debug, Serialize, ToSchema)]
pub struct NoticePreviewView {
    /// Whether a notice from it would be sent (no variable unfilled).
    pub sendable: bool,
    /// Variables an action of this type may leave unfilled.
    pub unfilled: Vec<String>,
    /// The rendered subject, when sendable.
    pub subject: Option<String>,
    /// The rendered body, when sendable.
    pub body: Option<String>,
}

/// A notice.
#[derive(Debug, Serialize, ToSchema)]
pub struct NoticeView {
    /// Warden's id.
    pub id: i64,
    /// Its decision.
    pub decision_id: i64,
    /// Its action.
    pub action_id: Option<i64>,
    /// Who gets it.
    pub recipient: SubjectRefView,
    /// Language.
    pub language: String,
    /// `queued`, `refused` or `no_template`.
    pub status: String,
    /// Variables left unfilled, when refused.
    pub unfilled: Vec<String>,
    /// Subject.
    pub subject: Option<String>,
    /// Markdown body.
    pub body: Option<String>,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl From<&NoticeRecord> for NoticeView {
    fn from(n: &NoticeRecord) -> Self {
        Self {
            id: n.id,
            decision_id: n.decision_id,
            action_id: n.action_id,
            recipient: (&n.recipient).into(),
            language: n.language.clone(),
            status: n.status.clone(),
            unfilled: n.refusal.clone(),
            subject: n.subject.clone(),
            body: n.body.clone(),
            created_at: n.created_at,
        }
    }
}

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

/// Transparency-report aggregates (formulas in `warden_domain::transparency`).
#[derive(Debug, Serialize, ToSchema)]
pub struct TransparencyView {
    /// Period start (inclusive).
    pub from: DateTime<Utc>,
    /// Period end (exclusive).
    pub to: DateTime<Utc>,
    /// Actions ordered.
    pub actions_total: u64,
    /// category → action type → count.
    pub actions_by_category: Value,
    /// Source of detection → count.
    pub actions_by_source: Value,
    /// Automation → count.
    pub actions_by_automation: Value,
    /// Median seconds from the first report to the action.
    pub median_seconds_notice_to_action: Option<i64>,
    /// Actions with a report behind them.
    pub actions_with_notice: u64,
    /// Reversals.
    pub reversals_total: u64,
    /// Reversals by category.
    pub reversals_by_category: Value,
    /// Appeals received.
    pub appeals_total: u64,
    /// Statements of reasons written.
    pub statements_total: u64,
}

impl TransparencyView {
    /// The view of a report.
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>, r: &TransparencyReport) -> Self {
        Self {
            from,
            to,
            actions_total: r.actions_total,
            actions_by_category: serde_json::to_value(&r.by_category).unwrap_or(Value::Null),
            actions_by_source: serde_json::to_value(&r.by_source).unwrap_or(Value::Null),
            actions_by_automation: serde_json::to_value(&r.by_automation).unwrap_or(Value::Null),
            median_seconds_notice_to_action: r.median_seconds_notice_to_action,
            actions_with_notice: r.actions_with_notice,
            reversals_total: r.reversals_total,
            reversals_by_category: serde_json::to_value(&r.reversals_by_category)
                .unwrap_or(Value::Null),
            appeals_total: r.appeals_total,
            statements_total: r.statements_total,
        }
    }
}
