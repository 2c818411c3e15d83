//! Taxonomy versions: the one in force, the history, publishing.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};

use warden_app::taxonomy::PublishTaxonomyCommand;

use super::params::{page_limit, query, PageQuery};
use super::JsonBody;
use crate::auth::Caller;
use crate::error::AppResult;
use crate::paths;
use crate::wire::{TaxonomyBody, TaxonomyVersionView};
use crate::AppState;

/// `GET /api/v1/taxonomy`: the version in force.
pub async fn taxonomy(State(state): State<AppState>) -> AppResult<Json<TaxonomyVersionView>> {
    let current = state.app.taxonomy_in_force().await?;
    Ok(Json((&current).into()))
}

/// `GET /api/v1/taxonomy/versions`, newest first.
pub async fn taxonomy_versions(
    State(state): State<AppState>,
    q: Result<Query<PageQuery>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Json<Vec<TaxonomyVersionView>>> {
    let limit = page_limit(query(q)?.limit)?;
    let versions = state.app.taxonomy_versions(limit).await?;
    Ok(Json(versions.iter().map(Into::into).collect()))
}

/// `GET /api/v1/taxonomy/versions/{id}`.
pub async fn taxonomy_version(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<Json<TaxonomyVersionView>> {
    let id = paths::row_id(&id, "taxonomy version")?;
    let version = state.app.taxonomy_version(id).await?;
    Ok(Json((&version).into()))
}

/// `POST /api/v1/taxonomy/versions`: publishes a new version (policy),
/// in force at once.
pub async fn publish_taxonomy(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody<TaxonomyBody>,
) -> AppResult<Response> {
    let command = PublishTaxonomyCommand::try_from(body)?;
    let record = state.app.publish_taxonomy(&caller.actor(), command).await?;
    Ok((
        StatusCode::CREATED,
        Json(TaxonomyVersionView::from(&record)),
    )
        .into_response())
}
