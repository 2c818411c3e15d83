//! Wellness: the case page's script reports how long media was visible
//! (revealed and the page in view, by the Page Visibility API), and the
//! reviewer takes the break the application suggests after
//! `[wellness] break_after_minutes` of it.
//!
//! `POST /console/cases/{id}/exposure` (form: `csrf_token`, `revealed_at`
//! in milliseconds since the epoch, `visible_ms`) answers `204`, or `200`
//! with the text `break` when a break is suggested; the script then shows
//! the break banner. `POST /console/wellness/break` records the break
//! taken and goes back to the dashboard.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{TimeZone, Utc};
use serde::Deserialize;

use warden_app::CommandError;

use super::case::gate_error;
use super::redirect;
use super::view::{ConsoleError, ConsoleForm, Viewer};
use crate::paths::case_id as parse_case_id;
use crate::AppState;

/// The exposure form.
#[derive(Debug, Deserialize)]
pub struct ExposureForm {
    /// When the media was revealed, in milliseconds since the epoch.
    revealed_at: i64,
    /// How long it was visible, in milliseconds.
    visible_ms: i64,
}

/// `POST /console/cases/{id}/exposure`.
pub async fn exposure(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    ConsoleForm(form): ConsoleForm<ExposureForm>,
) -> Result<Response, ConsoleError> {
    let id = parse_case_id(&id)?;
    let revealed_at = Utc
        .timestamp_millis_opt(form.revealed_at)
        .single()
        .ok_or_else(|| CommandError::invalid("revealed_at", "is not a time"))?;
    let suggest = state
        .app
        .record_exposure(&viewer.actor(), id, revealed_at, form.visible_ms)
        .await
        .map_err(|e| gate_error(id, e.into()))?;
    Ok(if suggest {
        (StatusCode::OK, "break").into_response()
    } else {
        StatusCode::NO_CONTENT.into_response()
    })
}

/// `POST /console/wellness/break`: the suggested break is taken.
pub async fn take_break(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, ConsoleError> {
    state.app.take_break(&viewer.actor()).await?;
    Ok(redirect("/console/dashboard/me"))
}
