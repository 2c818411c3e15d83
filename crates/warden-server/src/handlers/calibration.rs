//! Calibration sessions: create (picked or sampled cases), rate blind,
//! show (each caller sees what the session lets them), close with the
//! report, resolve with the note, list, and the notes of a category.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;

use warden_app::quality::calibration::{RateCommand, ResolveCommand};
use warden_domain::quality::calibration::{RatingOutcome, ResolutionInput};

use super::JsonBody;
use crate::auth::Caller;
use crate::error::AppResult;
use crate::paths;
use crate::quality_wire::{
    CalibrationSessionView, RatingBody, ResolutionBody, SessionBody, SessionSummaryView,
};
use crate::AppState;

fn view(
    caller: &Caller,
    stored: &warden_store::StoredCalibrationSession,
) -> CalibrationSessionView {
    CalibrationSessionView::new(stored, &caller.principal.name)
}

/// `POST /api/v1/calibration/sessions`: created open for ratings.
pub async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody<SessionBody>,
) -> AppResult<Response> {
    let command = body.into_command()?;
    let stored = state
        .app
        .create_calibration_session(&caller.actor(), command)
        .await?;
    Ok((StatusCode::CREATED, Json(view(&caller, &stored))).into_response())
}

/// `GET /api/v1/calibration/sessions`.
pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> AppResult<Json<Vec<SessionSummaryView>>> {
    let sessions = state.app.calibration_sessions(&caller.actor()).await?;
    Ok(Json(
        sessions
            .into_iter()
            .map(|s| SessionSummaryView {
                id: s.id,
                title: s.title,
                status: s.status.as_str().to_string(),
                created_by: s.created_by,
                created_at: s.created_at,
            })
            .collect(),
    ))
}

/// `GET /api/v1/calibration/sessions/{id}`.
pub async fn show(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> AppResult<Json<CalibrationSessionView>> {
    let id = paths::row_id(&id, "calibration session")?;
    let stored = state.app.calibration_session(&caller.actor(), id).await?;
    Ok(Json(view(&caller, &stored)))
}

/// `POST /api/v1/calibration/sessions/{id}/ratings`: 201 when recorded,
/// 200 when the same rating was there.
pub async fn rate(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<RatingBody>,
) -> AppResult<Response> {
    let command = RateCommand {
        session: paths::row_id(&id, "calibration session")?,
        case_id: body.case_id,
        rater: body.rater,
        label: body.label,
    };
    let (stored, outcome) = state
        .app
        .rate_calibration_case(&caller.actor(), command)
        .await?;
    let status = match outcome {
        RatingOutcome::Recorded => StatusCode::CREATED,
        RatingOutcome::Duplicate => StatusCode::OK,
    };
    Ok((status, Json(view(&caller, &stored))).into_response())
}

/// `POST /api/v1/calibration/sessions/{id}/close`: the report.
pub async fn close(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> AppResult<Json<CalibrationSessionView>> {
    let id = paths::row_id(&id, "calibration session")?;
    let stored = state
        .app
        .close_calibration_session(&caller.actor(), id)
        .await?;
    Ok(Json(view(&caller, &stored)))
}

/// `POST /api/v1/calibration/sessions/{id}/resolution`: the note.
pub async fn resolve(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ResolutionBody>,
) -> AppResult<Json<CalibrationSessionView>> {
    let command = ResolveCommand {
        session: paths::row_id(&id, "calibration session")?,
        resolution: ResolutionInput {
            note: body.note,
            categories: body.categories,
        },
    };
    let stored = state
        .app
        .resolve_calibration_session(&caller.actor(), command)
        .await?;
    Ok(Json(view(&caller, &stored)))
}

/// Query of `GET /api/v1/calibration/notes`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotesQuery {
    category: String,
}

/// A resolution note in a list.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct CalibrationNoteView {
    /// The session that settled it.
    pub session_id: i64,
    /// Its title.
    pub title: String,
    /// The guidance.
    pub note: String,
    /// Who wrote it.
    pub resolved_by: String,
    /// When.
    pub resolved_at: chrono::DateTime<chrono::Utc>,
}

/// `GET /api/v1/calibration/notes?category=`: the guidance calibration
/// settled for a category.
pub async fn notes(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    q: Result<Query<NotesQuery>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Json<Vec<CalibrationNoteView>>> {
    let Query(q) = q.map_err(super::query_rejection)?;
    let notes = state
        .app
        .calibration_notes(&caller.actor(), &q.category)
        .await?;
    Ok(Json(
        notes
            .into_iter()
            .map(|n| CalibrationNoteView {
                session_id: n.session_id,
                title: n.title,
                note: n.note,
                resolved_by: n.resolved_by,
                resolved_at: n.resolved_at,
            })
            .collect(),
    ))
}
