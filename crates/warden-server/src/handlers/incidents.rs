//! Incidents and bulk actions: open, list, show, add cases, plan a bulk
//! action (dry run, then submission), approve it, follow its progress.
//! Each handler translates; the rules are the app's and the domain's.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;

use warden_domain::incident::{BulkId, IncidentId};

use super::params::page_limit;
use super::JsonBody;
use crate::auth::Caller;
use crate::error::AppResult;
use crate::paths;
use crate::wire::incidents::{
    BulkActionBody, BulkActionView, IncidentBody, IncidentCasesBody, IncidentSummaryView,
    IncidentView, MembershipView,
};
use crate::AppState;

/// `?limit=&offset=` of the incident list.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentListQuery {
    limit: Option<u32>,
    offset: Option<u32>,
}

fn incident_id(id: &str) -> AppResult<IncidentId> {
    paths::row_id(id, "incident").map(IncidentId)
}

fn bulk_id(id: &str) -> AppResult<BulkId> {
    paths::row_id(id, "bulk action").map(BulkId)
}

/// `POST /api/v1/incidents`: 201 with the incident.
pub async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody<IncidentBody>,
) -> AppResult<Response> {
    let actor = caller.actor();
    let created = state.app.create_incident(&actor, &body.into()).await?;
    let view = state.app.incident(&actor, created.id).await?;
    Ok((StatusCode::CREATED, Json(IncidentView::from(&view))).into_response())
}

/// `GET /api/v1/incidents`: newest first.
pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    query: Result<Query<IncidentListQuery>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Json<Vec<IncidentSummaryView>>> {
    let query = super::params::query(query)?;
    let limit = page_limit(query.limit)?;
    let incidents = state
        .app
        .list_incidents(&caller.actor(), limit, query.offset.unwrap_or(0))
        .await?;
    Ok(Json(
        incidents.iter().map(IncidentSummaryView::from).collect(),
    ))
}

/// `GET /api/v1/incidents/{id}`.
pub async fn show(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> AppResult<Json<IncidentView>> {
    let view = state
        .app
        .incident(&caller.actor(), incident_id(&id)?)
        .await?;
    Ok(Json(IncidentView::from(&view)))
}

/// `POST /api/v1/incidents/{id}/cases`: by `case_ids` or `query`.
pub async fn add_cases(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<IncidentCasesBody>,
) -> AppResult<Json<MembershipView>> {
    let id = incident_id(&id)?;
    let outcome = state
        .app
        .add_incident_cases(&caller.actor(), id, &body.into())
        .await?;
    Ok(Json(MembershipView::from(&outcome)))
}

/// `POST /api/v1/incidents/{id}/bulk-actions`: a dry run (201, a new bulk
/// action) or the submission of one (200, awaiting approval).
pub async fn plan_bulk(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<BulkActionBody>,
) -> AppResult<Response> {
    let id = incident_id(&id)?;
    let planned = state
        .app
        .plan_bulk_action(&caller.actor(), id, &body.into())
        .await?;
    let status = if BulkActionView::is_dry_run(&planned.record) {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(BulkActionView::new(&planned.record, &planned.skipped)),
    )
        .into_response())
}

/// `GET /api/v1/incidents/{id}/bulk-actions/{bulk}`: its progress.
pub async fn progress(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, bulk)): Path<(String, String)>,
) -> AppResult<Json<BulkActionView>> {
    let progress = state
        .app
        .bulk_progress(&caller.actor(), incident_id(&id)?, bulk_id(&bulk)?)
        .await?;
    Ok(Json(BulkActionView::from(&progress)))
}

/// `POST /api/v1/incidents/{id}/bulk-actions/{bulk}/approve`: the one
/// lead approval (not the author's); the bulk runner applies it.
pub async fn approve(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, bulk)): Path<(String, String)>,
) -> AppResult<Json<BulkActionView>> {
    let record = state
        .app
        .approve_bulk_action(&caller.actor(), incident_id(&id)?, bulk_id(&bulk)?)
        .await?;
    Ok(Json(BulkActionView::new(&record, &[])))
}
