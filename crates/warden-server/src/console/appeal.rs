//! The appeal case page: the decision appealed and the appeal side by
//! side, what changed since the appeal came in, and the outcome form
//! (upheld, overturned, modified), all usable from the keyboard (native
//! radio buttons and fields in reading order; `Ctrl+Enter` submits).
//!
//! The page is shown for every case of kind `appeal`
//! (`GET /console/cases/{id}`); the form posts to
//! `POST /console/cases/{id}/appeal`, which calls the same
//! `App::decide_appeal` as the API, through the same
//! [`AppealDecisionDraft`].

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use warden_app::appeals::{AppealDecisionDraft, AppealDetail};
use warden_app::decisions::ActionDraft;
use warden_domain::appeal::{may_review_appeal, AppealParty, CaseKind};
use warden_domain::decision::Rationale;
use warden_domain::ids::UserId;
use warden_domain::CaseId;
use warden_store::{CaseDetail, DecisionRecord};

use super::case::form::form_errors;
use super::case::gate_error;
use super::view::{render, ConsoleError, ConsoleForm, Layout, Notice, Viewer};
use super::{redirect, text};
use crate::error::AppError;
use crate::paths::case_id as parse_case_id;
use crate::AppState;

/// The outcome form, as sent; every field is text, empty means not given.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AppealForm {
    /// The case version the page showed.
    pub version: String,
    /// upheld, overturned or modified.
    pub outcome: String,
    /// What happened.
    pub r_what_happened: String,
    /// What the review found.
    pub r_evidence: String,
    /// The policy that applies.
    pub r_policy: String,
    /// The replacement's action and why (modified).
    pub r_action: String,
    /// What follows.
    pub r_next_steps: String,
    /// The replacement's action type (modified only).
    pub action_type: String,
    /// Its duration, ISO 8601 (suspend, restrict, hold, label).
    pub action_duration: String,
    /// The CSRF token (checked by the console guard).
    pub csrf_token: String,
}

impl AppealForm {
    /// The draft the API's body also becomes.
    fn draft(&self) -> AppealDecisionDraft {
        let given = |text: &str| Some(text.trim().to_string()).filter(|t| !t.is_empty());
        let actions = given(&self.action_type)
            .filter(|_| self.outcome == "modified")
            .map(|action_type| ActionDraft {
                action_type,
                duration: given(&self.action_duration),
                ..ActionDraft::default()
            })
            .into_iter()
            .collect();
        AppealDecisionDraft {
            version: self.version.trim().parse().ok(),
            outcome: given(&self.outcome),
            actions,
            rationale: Rationale {
                what_happened: self.r_what_happened.clone(),
                evidence: self.r_evidence.clone(),
                policy: self.r_policy.clone(),
                action: self.r_action.clone(),
                next_steps: self.r_next_steps.clone(),
            },
            ..AppealDecisionDraft::default()
        }
    }
}

/// One side of the page: a decision, as the reviewer reads it.
pub struct DecisionPanel {
    pub id: i64,
    pub category: String,
    pub decided_by: String,
    pub stamp: String,
    pub actions: Vec<String>,
    pub sections: Vec<(&'static str, String)>,
}

/// One appellant's words.
pub struct AppellantItem {
    pub platform_id: String,
    pub appellant: String,
    pub statement: String,
    pub language: String,
    pub stamp: String,
    pub action: String,
}

/// The appeal case page.
#[derive(Template)]
#[template(path = "appeal.html")]
pub struct AppealPage {
    pub layout: Layout,
    pub case_id: i64,
    pub version: i64,
    pub queue: String,
    pub status: &'static str,
    pub holder: String,
    pub mine: bool,
    pub refusal: String,
    pub original: Option<DecisionPanel>,
    pub items: Vec<AppellantItem>,
    pub changed: Vec<String>,
    pub outcome: String,
    pub reviewer: String,
    pub form: AppealForm,
    pub errors: Vec<(String, String)>,
    pub action_types: Vec<&'static str>,
}

impl AppealPage {
    /// The error for form field `field`, if any.
    pub fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, reason)| reason.as_str())
    }
}

fn decision_panel(decision: &DecisionRecord, revealed: bool) -> DecisionPanel {
    let shown = |t: &str| text::shown(t, revealed).0;
    DecisionPanel {
        id: decision.id,
        category: decision.category.clone(),
        decided_by: decision.decided_by.clone(),
        stamp: text::stamp(decision.decided_at),
        actions: decision
            .actions
            .iter()
            .map(|a| format!("{} ({})", a.action_type, a.status.as_str()))
            .collect(),
        sections: [
            ("What happened", &decision.rationale.what_happened),
            ("Evidence", &decision.rationale.evidence),
            ("Policy", &decision.rationale.policy),
            ("Action", &decision.rationale.action),
        ]
        .into_iter()
        .filter(|(_, t)| !t.is_empty())
        .map(|(name, t)| (name, shown(t)))
        .collect(),
    }
}

/// What changed since the appeal came in: the original reversed or
/// replaced, more appellants.
fn changes(detail: &AppealDetail) -> Vec<String> {
    let mut changed = Vec::new();
    if let Some(original) = &detail.original {
        if let Some(later) = original.superseded_by {
            changed.push(format!(
                "Decision {} was replaced by decision {later}.",
                original.id
            ));
        }
        if let Some(reversal) = original
            .enforcement
            .as_ref()
            .and_then(|e| e.reversal.as_ref())
        {
            changed.push(format!(
                "Decision {} was reversed by {}.",
                original.id, reversal.by
            ));
        }
    }
    if detail.appeal.items.len() > 1 {
        changed.push(format!(
            "{} appellants joined this appeal.",
            detail.appeal.items.len()
        ));
    }
    changed
}

/// The action types the appeal form offers for a replacement decision.
const ACTION_TYPES: &[&str] = &[
    "warn",
    "remove_content",
    "label",
    "restrict",
    "suspend",
    "ban",
    "hold_transaction",
];

/// Renders the appeal page of `case`.
pub async fn appeal_page(
    state: &AppState,
    viewer: &Viewer,
    detail: &CaseDetail,
    form: AppealForm,
    errors: Vec<(String, String)>,
    layout: Layout,
) -> Result<AppealPage, ConsoleError> {
    let actor = viewer.actor();
    let case = &detail.case;
    let appeal = state
        .app
        .appeal_of_case(&actor, case.id)
        .await
        .map_err(|e| ConsoleError::from(AppError::from(e)))?
        .ok_or_else(|| {
            ConsoleError::from(AppError::NotFound(format!("appeal of case {}", case.id)))
        })?;
    let principal = &viewer.caller.principal;
    let now = state.now();
    let mut form = form;
    if form.version.is_empty() {
        form.version = case.version.to_string();
    }
    Ok(AppealPage {
        layout,
        case_id: case.id.0,
        version: case.version,
        queue: case.queue.clone(),
        status: case.status.as_str(),
        holder: case.assignee.clone().unwrap_or_default(),
        mine: case.is_held_by(principal.user_id, now),
        refusal: review_refusal(viewer, &appeal),
        original: appeal.original.as_ref().map(|d| decision_panel(d, false)),
        items: appellant_items(&appeal),
        changed: changes(&appeal),
        outcome: appeal
            .appeal
            .outcome
            .map(|o| o.as_str().to_string())
            .unwrap_or_default(),
        reviewer: appeal.appeal.reviewer.clone().unwrap_or_default(),
        form,
        errors,
        action_types: ACTION_TYPES.to_vec(),
    })
}

/// Why the viewer may not review this appeal (never the one who made the
/// decision appealed against), or nothing when they may.
fn review_refusal(viewer: &Viewer, appeal: &AppealDetail) -> String {
    let principal = &viewer.caller.principal;
    let me = AppealParty {
        user: UserId(principal.user_id),
        role: principal.role,
    };
    let decider = appeal.appeal.decider_id.map(|id| AppealParty {
        user: UserId(id),
        role: appeal
            .appeal
            .decider_role
            .unwrap_or(warden_domain::access::Role::Lead),
    });
    may_review_appeal(&me, decider.as_ref())
        .err()
        .map(|r| r.to_string())
        .unwrap_or_default()
}

/// The appellants joined in the appeal, as the page lists them.
fn appellant_items(appeal: &AppealDetail) -> Vec<AppellantItem> {
    appeal
        .appeal
        .items
        .iter()
        .map(|item| AppellantItem {
            platform_id: item.platform_id.clone(),
            appellant: item.appellant.to_string(),
            statement: text::shown(&item.statement, false).0,
            language: item.language.clone().unwrap_or_default(),
            stamp: text::stamp(item.appealed_at),
            action: item.action_id.map(|a| a.to_string()).unwrap_or_default(),
        })
        .collect()
}

/// Shows the appeal page of appeal case `id` (the read is audited, as the
/// case page's is).
pub async fn show(
    state: &AppState,
    viewer: &Viewer,
    id: CaseId,
    notice: Option<Notice>,
) -> Result<Response, ConsoleError> {
    let actor = viewer.actor();
    let detail = state
        .app
        .visible_case_detail(&actor, id)
        .await
        .map_err(|e| ConsoleError::from(AppError::from(e)))?;
    state
        .app
        .record_case_read(&actor, id, false, serde_json::json!({"via": "console"}))
        .await
        .map_err(|e| ConsoleError::from(AppError::from(e)))?;
    let layout = Layout::new(viewer, format!("Appeal, case {id}"), "case").with_notice(notice);
    let page = appeal_page(
        state,
        viewer,
        &detail,
        AppealForm::default(),
        Vec::new(),
        layout,
    )
    .await?;
    Ok(render(StatusCode::OK, &page))
}

/// `POST /console/cases/{id}/appeal`: decides the appeal; on success back
/// to the page, else the page with the form kept and the fields marked.
pub async fn decide(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    ConsoleForm(form): ConsoleForm<AppealForm>,
) -> Result<Response, ConsoleError> {
    let id: CaseId = parse_case_id(&id)?;
    let actor = viewer.actor();
    // The gate before the form's content: a case the viewer may not see is
    // the page of a case that does not exist; one held by someone else, 409.
    let case = state
        .app
        .changeable_case(&actor, id)
        .await
        .map_err(|e| gate_error(id, e.into()))?;
    if case.kind != CaseKind::Appeal {
        return Err(ConsoleError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            title: "Not an appeal case".into(),
            detail: format!("Case {id} is not an appeal; decide it on its case page."),
        });
    }
    let decided = match form.draft().into_command(id) {
        Ok(command) => state
            .app
            .decide_appeal(&actor, &command)
            .await
            .map_err(AppError::from),
        Err(errors) => Err(AppError::Invalid(errors)),
    };
    let error = match decided {
        Ok(_) => return Ok(redirect(&format!("/console/cases/{id}?decided={id}"))),
        Err(error) => error,
    };
    let status = error.status();
    let (errors, notice) = match &error {
        AppError::Invalid(errors) => (
            form_errors(errors, &[]),
            Notice::error("Some fields need attention; they are marked below. Nothing was saved."),
        ),
        other => {
            let problem = other.problem();
            (
                Vec::new(),
                Notice::error(format!(
                    "{}: {}. Nothing was saved.",
                    problem.title, problem.detail
                )),
            )
        }
    };
    let detail = state
        .app
        .visible_case_detail(&actor, id)
        .await
        .map_err(|e| ConsoleError::from(AppError::from(e)))?;
    let layout =
        Layout::new(&viewer, format!("Appeal, case {id}"), "case").with_notice(Some(notice));
    let page = appeal_page(&state, &viewer, &detail, form, errors, layout).await?;
    Ok(render(status, &page))
}
