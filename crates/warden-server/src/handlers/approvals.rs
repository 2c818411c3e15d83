//! Approvals: the actions waiting for a lead, and the lead's ruling on one.

use axum::extract::{Path, Query, State};
use axum::{Extension, Json};

use warden_app::approvals::RulingCommand;

use super::params::{page_limit, query, PageQuery};
use super::JsonBody;
use crate::auth::Caller;
use crate::error::AppResult;
use crate::paths;
use crate::wire::{ActionDetailView, RulingBody};
use crate::AppState;

/// `GET /api/v1/approvals`: actions waiting for a lead, oldest first.
pub async fn approvals(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    q: Result<Query<PageQuery>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Json<Vec<ActionDetailView>>> {
    let limit = page_limit(query(q)?.limit)?;
    let pending = state.app.pending_approvals(&caller.actor(), limit).await?;
    Ok(Json(pending.iter().map(Into::into).collect()))
}

/// `POST /api/v1/actions/{id}/approve`.
pub async fn approve(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<RulingBody>,
) -> AppResult<Json<ActionDetailView>> {
    let command = RulingCommand {
        action: paths::action_id(&id)?,
        reason: body.reason()?,
    };
    let detail = state.app.approve_action(&caller.actor(), command).await?;
    Ok(Json((&detail).into()))
}

/// `POST /api/v1/actions/{id}/reject`.
pub async fn reject(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<RulingBody>,
) -> AppResult<Json<ActionDetailView>> {
    let command = RulingCommand {
        action: paths::action_id(&id)?,
        reason: body.reason()?,
    };
    let detail = state.app.reject_action(&caller.actor(), command).await?;
    Ok(Json((&detail).into()))
}
