//! The lead's approvals: actions that wait for a second pair of eyes,
//! approved or rejected with a reason. Calls what the API calls
//! (`warden_app::approvals`).

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use warden_app::approvals::RulingCommand;
use warden_app::Reason;
use warden_domain::limits::PAGE_SIZE_MAX;
use warden_domain::Timestamp;
use warden_store::ActionDetail;

use super::case::form::ACTIONS;
use super::text;
use super::view::{render, ConsoleError, ConsoleForm, Layout, Notice, Viewer};
use crate::error::AppError;
use crate::{paths, AppState};

/// An action in words: "Suspend the account for 7 days".
pub fn action_words(
    action_type: &str,
    feature: Option<&str>,
    label: Option<&str>,
    duration_seconds: Option<i64>,
) -> String {
    let mut words = ACTIONS
        .iter()
        .find(|(kind, _)| *kind == action_type)
        .map(|(_, words)| words.to_string())
        .unwrap_or_else(|| action_type.to_string());
    if let Some(feature) = feature.filter(|f| !f.is_empty()) {
        words.push_str(&format!(" ({feature})"));
    }
    if let Some(label) = label.filter(|l| !l.is_empty()) {
        words.push_str(&format!(" “{label}”"));
    }
    if let Some(seconds) = duration_seconds {
        words.push_str(&format!(" for {}", text::duration_words(seconds)));
    }
    words
}

/// One action waiting for approval, as the page shows it.
pub struct PendingItem {
    pub id: i64,
    pub case_id: i64,
    pub category: String,
    pub action: String,
    pub target: String,
    pub ordered_by: String,
    pub ordered_ago: String,
    pub ordered_stamp: String,
    pub reasons: Vec<String>,
    pub recommendation: Vec<String>,
    pub override_reason: String,
    /// The reason typed into this item's form, kept after a refusal.
    pub draft: String,
    /// A problem with this item's form.
    pub error: Option<String>,
}

impl PendingItem {
    fn new(detail: &ActionDetail, now: Timestamp) -> Self {
        let action = &detail.action;
        let enforcement = detail.enforcement.as_ref();
        Self {
            id: action.id,
            case_id: detail.case_id.0,
            category: detail.category.clone(),
            action: action_words(
                &action.action_type,
                action.feature.as_deref(),
                action.label.as_deref(),
                action.duration_seconds,
            ),
            target: action.target.to_string(),
            ordered_by: detail.decided_by.clone(),
            ordered_ago: text::ago(now, detail.decided_at),
            ordered_stamp: text::stamp(detail.decided_at),
            reasons: detail
                .approval_reasons
                .iter()
                .map(|r| r.to_string())
                .collect(),
            recommendation: enforcement
                .map(|e| {
                    e.recommendation
                        .iter()
                        .map(|spec| {
                            action_words(
                                spec.kind.type_name(),
                                None,
                                None,
                                spec.duration.map(|d| d.num_seconds()),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
            // Staff quote content in their reasons: masked like it.
            override_reason: super::text::shown(
                enforcement
                    .and_then(|e| e.override_reason.as_deref())
                    .unwrap_or_default(),
                false,
            )
            .0,
            draft: String::new(),
            error: None,
        }
    }
}

/// The approvals page.
#[derive(Template)]
#[template(path = "approvals.html")]
pub struct ApprovalsPage {
    layout: Layout,
    items: Vec<PendingItem>,
    me: String,
}

/// Query of the approvals page: what just happened.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ApprovalsQuery {
    approved: Option<i64>,
    rejected: Option<i64>,
}

/// The approve or reject form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RulingForm {
    /// Why.
    pub reason: String,
}

async fn approvals_page(
    state: &AppState,
    viewer: &Viewer,
    status: StatusCode,
    notice: Option<Notice>,
    draft: Option<(i64, String, Option<String>)>,
) -> Result<Response, ConsoleError> {
    let now = state.now();
    // Only actions on cases the lead may see (role and team).
    let pending = state
        .app
        .pending_approvals(&viewer.actor(), PAGE_SIZE_MAX)
        .await?;
    let mut items: Vec<PendingItem> = pending.iter().map(|d| PendingItem::new(d, now)).collect();
    if let Some((id, reason, error)) = draft {
        if let Some(item) = items.iter_mut().find(|i| i.id == id) {
            item.draft = reason;
            item.error = error;
        }
    }
    let layout = Layout::new(viewer, "Approvals", "approvals").with_notice(notice);
    Ok(render(
        status,
        &ApprovalsPage {
            layout,
            items,
            me: viewer.caller.principal.name.clone(),
        },
    ))
}

/// `GET /console/approvals`.
pub async fn approvals(
    State(state): State<AppState>,
    viewer: Viewer,
    query: Result<Query<ApprovalsQuery>, QueryRejection>,
) -> Result<Response, ConsoleError> {
    let query = query.map(|Query(q)| q).unwrap_or_default();
    let notice = match (query.approved, query.rejected) {
        (Some(id), _) => Some(Notice::ok(format!(
            "Action {id} is approved; it goes to the platform now."
        ))),
        (None, Some(id)) => Some(Notice::ok(format!(
            "Action {id} is rejected; it will not be delivered."
        ))),
        _ => None,
    };
    approvals_page(&state, &viewer, StatusCode::OK, notice, None).await
}

/// Approves or rejects an action that waits: the action must be on a case
/// the viewer may see, then the reason is checked.
async fn rule_action(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    reason: &str,
    approve: bool,
) -> Result<ActionDetail, AppError> {
    let actor = viewer.actor();
    let action = paths::action_id(id)?;
    state.app.action(&actor, action).await?;
    let reason = Reason::parse(reason).map_err(|e| AppError::invalid("reason", e))?;
    let command = RulingCommand { action, reason };
    let ruled = if approve {
        state.app.approve_action(&actor, command).await
    } else {
        state.app.reject_action(&actor, command).await
    };
    Ok(ruled?)
}

async fn rule(
    state: AppState,
    viewer: Viewer,
    id: String,
    form: RulingForm,
    approve: bool,
) -> Result<Response, ConsoleError> {
    match rule_action(&state, &viewer, &id, &form.reason, approve).await {
        Ok(detail) => Ok(super::redirect(&format!(
            "/console/approvals?{}={}",
            if approve { "approved" } else { "rejected" },
            detail.action.id
        ))),
        Err(error) => {
            let status = error.status();
            let id: i64 = id.parse().unwrap_or_default();
            let (notice, field) = match &error {
                AppError::Invalid(_) => (
                    Notice::error(format!(
                        "Action {id} is not {}: give a reason. Nothing was changed.",
                        if approve { "approved" } else { "rejected" }
                    )),
                    Some("Say why; the reason is kept with the action.".to_string()),
                ),
                other => {
                    let problem = other.problem();
                    let mut detail = problem.detail;
                    if let Some(first) = detail.get(..1) {
                        detail = first.to_uppercase() + &detail[1..];
                    }
                    (
                        Notice::error(format!("{detail}. Nothing was changed.")),
                        None,
                    )
                }
            };
            approvals_page(
                &state,
                &viewer,
                status,
                Some(notice),
                Some((id, form.reason, field)),
            )
            .await
        }
    }
}

/// `POST /console/approvals/{id}/approve`.
pub async fn approve(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    ConsoleForm(form): ConsoleForm<RulingForm>,
) -> Result<Response, ConsoleError> {
    rule(state, viewer, id, form, true).await
}

/// `POST /console/approvals/{id}/reject`.
pub async fn reject(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    ConsoleForm(form): ConsoleForm<RulingForm>,
) -> Result<Response, ConsoleError> {
    rule(state, viewer, id, form, false).await
}
