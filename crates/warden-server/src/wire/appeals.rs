//! The wire types of appeals (`specs/appeals-qa-api.md`, Appeals): the
//! intake body and its answer, an appeal in answers (masked: the
//! appellant's statement is platform content), and the body of an appeal
//! case's decision.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use warden_app::appeals::{AppealDecisionDraft, AppealDetail};
use warden_domain::appeal::{AppealInput, AppellantInput};
use warden_store::{AppealItemRecord, AppealView};

use crate::wire::DecisionRequest;
use crate::wire::{shown_text, ActionBody, DecisionView, RationaleBody, SubjectRefView};

/// Who appeals: an account.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppellantBody {
    /// `account`.
    pub kind: Option<String>,
    /// The platform's id of the account.
    pub id: Option<String>,
}

/// `POST /api/v1/appeals`: a user contests a decision or one of its actions.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppealBody {
    /// The platform's id of the appeal (idempotency key).
    pub id: Option<String>,
    /// Warden's id of the decision contested.
    pub decision_id: Option<i64>,
    /// Warden's id of one action of it, narrowing the appeal.
    pub action_id: Option<i64>,
    /// Who contests.
    pub appellant: Option<AppellantBody>,
    /// Their words.
    pub statement: Option<String>,
    /// Their language, BCP 47.
    pub language: Option<String>,
    /// When they appealed (RFC 3339); when received if absent.
    pub created_at: Option<String>,
}

impl From<AppealBody> for AppealInput {
    fn from(body: AppealBody) -> Self {
        AppealInput {
            id: body.id,
            decision_id: body.decision_id,
            action_id: body.action_id,
            appellant: body.appellant.map(|a| AppellantInput {
                kind: a.kind,
                id: a.id,
            }),
            statement: body.statement,
            language: body.language,
            created_at: body.created_at,
        }
    }
}

/// The answer to an appeal: `created` (opening a case or joining the open
/// appeal of the decision) or `duplicate`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppealAnswer {
    /// The platform's id of the appeal.
    pub id: String,
    /// created or duplicate.
    pub status: String,
    /// Warden's id of the appeal (several appellants may share one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub appeal_id: Option<i64>,
    /// The appeal case.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_id: Option<i64>,
    /// Whether it joined an appeal that was open already.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub joined: Option<bool>,
}

/// One appellant's item of an appeal.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppealItemView {
    /// The platform's id of the item.
    pub id: String,
    /// The action it narrows the appeal to.
    pub action_id: Option<i64>,
    /// Who appealed.
    pub appellant: SubjectRefView,
    /// Their words (personal data masked).
    pub statement: String,
    /// Their language.
    pub language: Option<String>,
    /// When they appealed.
    pub appealed_at: DateTime<Utc>,
}

impl AppealItemView {
    fn new(item: &AppealItemRecord, reveal: bool) -> Self {
        Self {
            id: item.platform_id.clone(),
            action_id: item.action_id,
            appellant: (&item.appellant).into(),
            statement: shown_text(Some(&item.statement), reveal).unwrap_or_default(),
            language: item.language.clone(),
            appealed_at: item.appealed_at,
        }
    }
}

/// An appeal in answers: the first appellant's item's fields, every
/// item, the outcome and its times, and (on a case) the decision appealed.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppealWire {
    /// Warden's id of the appeal.
    pub id: i64,
    /// The platform's id of its first item.
    pub platform_id: String,
    /// The appeal case.
    pub case_id: i64,
    /// The decision contested.
    pub decision_id: i64,
    /// The action contested, when the first item names one.
    pub action_id: Option<i64>,
    /// The first appellant's words (personal data masked).
    pub statement: String,
    /// open or decided.
    pub status: String,
    /// upheld, overturned or modified, once decided.
    pub outcome: Option<String>,
    /// Who decided the appeal.
    pub reviewer: Option<String>,
    /// The decision that replaced the original (modified).
    pub replacement_decision_id: Option<i64>,
    /// When the appeal was opened.
    pub opened_at: DateTime<Utc>,
    /// When it was decided.
    pub decided_at: Option<DateTime<Utc>>,
    /// Every appellant's item, oldest first.
    pub appellants: Vec<AppealItemView>,
    /// The decision appealed, as it stands (case views only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original: Option<DecisionView>,
}

impl AppealWire {
    /// The view of an appeal, personal data masked unless `reveal`.
    pub fn new(appeal: &AppealView, reveal: bool) -> Self {
        let first = appeal.items.first();
        Self {
            id: appeal.id,
            platform_id: first.map(|i| i.platform_id.clone()).unwrap_or_default(),
            case_id: appeal.case_id.0,
            decision_id: appeal.decision_id,
            action_id: first.and_then(|i| i.action_id),
            statement: first
                .and_then(|i| shown_text(Some(&i.statement), reveal))
                .unwrap_or_default(),
            status: appeal.status().as_str().into(),
            outcome: appeal.outcome.map(|o| o.as_str().into()),
            reviewer: appeal.reviewer.clone(),
            replacement_decision_id: appeal.replacement_decision_id,
            opened_at: appeal.opened_at,
            decided_at: appeal.decided_at,
            appellants: appeal
                .items
                .iter()
                .map(|i| AppealItemView::new(i, reveal))
                .collect(),
            original: None,
        }
    }

    /// The view of a case's appeal with the decision it contests.
    pub fn detail(detail: &AppealDetail, reveal: bool) -> Self {
        let mut view = Self::new(&detail.appeal, reveal);
        view.original = detail
            .original
            .as_ref()
            .map(|d| DecisionView::new(d, reveal));
        view
    }
}

/// `POST /api/v1/cases/{id}/decision` on an appeal case.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppealDecisionRequest {
    /// The appeal case's version the reviewer saw.
    pub version: Option<i64>,
    /// upheld, overturned or modified.
    pub outcome: Option<String>,
    /// The replacement's actions (modified only).
    #[serde(default)]
    pub actions: Vec<ActionBody>,
    /// Why (what_happened and policy are required).
    #[serde(default)]
    pub rationale: Option<RationaleBody>,
    /// The replacement's category (modified only; the original's if absent).
    pub category: Option<String>,
    /// The replacement's policy id or section (modified only).
    pub policy: Option<String>,
    /// The replacement's reason code (modified only).
    pub reason_code: Option<String>,
    /// Why the replacement departs from the matrix (modified only).
    pub override_reason: Option<String>,
}

impl From<AppealDecisionRequest> for AppealDecisionDraft {
    fn from(request: AppealDecisionRequest) -> Self {
        AppealDecisionDraft {
            version: request.version,
            outcome: request.outcome,
            actions: request.actions.into_iter().map(Into::into).collect(),
            rationale: request
                .rationale
                .map(RationaleBody::into_domain)
                .unwrap_or_default(),
            category: request.category,
            policy: request.policy,
            reason_code: request.reason_code,
            override_reason: request.override_reason,
        }
    }
}

/// The body of `POST /api/v1/cases/{id}/decision`: a decision on a report
/// case, or an outcome on an appeal case (chosen by the case's kind).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum DecisionBody {
    /// A report case's decision.
    Decision(DecisionRequest),
    /// An appeal case's outcome.
    Appeal(AppealDecisionRequest),
}

/// The answer to a decision: the decision made, or the appeal decided.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum DecisionAnswer {
    /// A report case's decision.
    Decision(Box<DecisionView>),
    /// An appeal case's outcome.
    Appeal(Box<AppealWire>),
}
