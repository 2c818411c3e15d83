//! Notices and their templates.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;

use warden_domain::ids::DecisionId;

use super::params::{page_limit, query};
use super::JsonBody;
use crate::auth::Caller;
use crate::error::AppResult;
use crate::paths;
use crate::wire::{NoticePreviewView, NoticeTemplateBody, NoticeTemplateView, NoticeView};
use crate::AppState;

/// `GET /api/v1/notice-templates`.
pub async fn notice_templates(
    State(state): State<AppState>,
) -> AppResult<Json<Vec<NoticeTemplateView>>> {
    let templates = state.app.notice_templates().await?;
    Ok(Json(templates.iter().map(Into::into).collect()))
}

/// `POST /api/v1/notice-templates`: saves a template (replacing the one
/// with the same action type, category and language).
pub async fn save_notice_template(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody<NoticeTemplateBody>,
) -> AppResult<Response> {
    let template = state.app.check_template(body.into())?;
    let saved = state
        .app
        .save_notice_template(&caller.actor(), template)
        .await?;
    Ok((StatusCode::CREATED, Json(NoticeTemplateView::from(&saved))).into_response())
}

/// `DELETE /api/v1/notice-templates/{id}`.
pub async fn delete_notice_template(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    let id = paths::row_id(&id, "notice template")?;
    state
        .app
        .delete_notice_template(&caller.actor(), id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/notice-templates/preview`: renders a template as an action
/// of its type would, showing what it may leave unfilled.
pub async fn preview_notice_template(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<NoticeTemplateBody>,
) -> AppResult<Json<NoticePreviewView>> {
    let template = state.app.check_template(body.into())?;
    let preview = state.app.preview_notice_template(&template);
    Ok(Json(NoticePreviewView {
        sendable: preview.sendable,
        unfilled: preview.unfilled,
        subject: preview.subject,
        body: preview.body,
    }))
}

/// Query of `GET /api/v1/notices`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoticeQuery {
    decision_id: Option<i64>,
    limit: Option<u32>,
}

/// `GET /api/v1/notices`: notices of decisions on cases the caller may see
/// (a decision on a case they may not see is not found).
pub async fn notices(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    q: Result<Query<NoticeQuery>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Json<Vec<NoticeView>>> {
    let q = query(q)?;
    let limit = page_limit(q.limit)?;
    let rows = state
        .app
        .notices(&caller.actor(), q.decision_id.map(DecisionId), limit)
        .await?;
    Ok(Json(rows.iter().map(Into::into).collect()))
}
