//! Actions: one action with its approval, reversal and deliveries; reversing it.

use axum::extract::{Path, State};
use axum::{Extension, Json};

use warden_app::reversals::ReverseActionCommand;

use super::JsonBody;
use crate::auth::Caller;
use crate::error::AppResult;
use crate::paths;
use crate::wire::{ActionDetailView, RulingBody};
use crate::AppState;

/// `GET /api/v1/actions/{id}`.
pub async fn action(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> AppResult<Json<ActionDetailView>> {
    let id = paths::action_id(&id)?;
    let detail = state.app.action(&caller.actor(), id).await?;
    Ok(Json((&detail).into()))
}

/// `POST /api/v1/actions/{id}/reverse`.
pub async fn reverse_action(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<RulingBody>,
) -> AppResult<Json<ActionDetailView>> {
    let command = ReverseActionCommand {
        action: paths::action_id(&id)?,
        reason: body.reason()?,
    };
    let detail = state.app.reverse_action(&caller.actor(), command).await?;
    Ok(Json((&detail).into()))
}
