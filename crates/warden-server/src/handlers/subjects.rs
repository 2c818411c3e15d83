//! A subject's history, as far as the caller may see it.

use axum::extract::{Path, Query, State};
use axum::{Extension, Json};

use warden_app::subjects::SubjectHistoryQuery;
use warden_domain::ids::{PlatformId, SubjectKind};
use warden_domain::SubjectRef;

use super::cases::RevealQuery;
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
    let subject = SubjectRef::new(kind, id);
    // Cases (and their reports, decisions, actions, strikes) in queues the
    // caller may not see are left out.
    let (history, revealed) = state
        .app
        .subject_history(
            &caller.actor(),
            SubjectHistoryQuery {
                subject: subject.clone(),
                reveal_reason: query.reveal_reason,
            },
        )
        .await?;
    Ok(Json(HistoryView::new(
        &subject,
        &history,
        revealed.is_some(),
        state.now(),
    )))
}
