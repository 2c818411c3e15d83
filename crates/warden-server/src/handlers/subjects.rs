//! A subject's history, as far as the caller may see it.

use axum::extract::{Path, Query, State};
use axum::{Extension, Json};
use serde_json::json;

use warden_domain::ids::{PlatformId, SubjectKind};
use warden_domain::limits::HISTORY_ITEMS_MAX;
use warden_domain::SubjectRef;

use super::cases::{reveal, RevealQuery};
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::wire::HistoryView;
use crate::AppState;

/// `GET /api/v1/subjects/{kind}/{id}/history`.
pub async fn history(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((kind, id)): Path<(String, String)>,
    query: Result<Query<RevealQuery>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Json<HistoryView>> {
    let Query(query) = query.map_err(super::query_rejection)?;
    let kind: SubjectKind = kind.parse().map_err(|e| AppError::invalid("kind", e))?;
    let id = PlatformId::parse(&id).map_err(|e| AppError::invalid("id", e))?;
    let reference = SubjectRef::new(kind, id);
    let reveal_reason = reveal(&caller, &query)?;
    let now = state.clock.now();
    let history = state
        .store
        .subject_history(&reference, HISTORY_ITEMS_MAX, now)
        .await?;
    // Cases (and their reports, decisions, actions, strikes) in queues the
    // caller may not see are left out.
    let history = crate::case_access::visible_history(&state, &caller.principal, history).await?;
    let action = if reveal_reason.is_some() {
        "pii.reveal"
    } else {
        "subject.read"
    };
    state
        .store
        .record_read(
            &caller.actor(),
            action,
            "subject",
            &reference.to_string(),
            json!({"reason": reveal_reason}),
            now,
        )
        .await?;
    Ok(Json(HistoryView::new(
        &reference,
        &history,
        reveal_reason.is_some(),
        now,
    )))
}
