//! Health, readiness, metrics and the API document.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::AppError;
use crate::metrics::Exposition;
use crate::AppState;

/// The answer of `GET /healthz`.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthView {
    /// Always `ok`: the process answers.
    pub status: String,
}

/// The answer of `GET /readyz` when the database answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadinessView {
    /// Always `ready`.
    pub status: String,
    /// The store's backend: `sqlite` or `postgres`.
    pub backend: String,
}

/// `GET /healthz`: the process is up.
pub async fn healthz() -> Json<HealthView> {
    Json(HealthView {
        status: "ok".into(),
    })
}

/// `GET /readyz`: the database answers (`503` when it does not).
pub async fn readyz(State(state): State<AppState>) -> Response {
    match state.app.readiness().await {
        Ok(backend) => Json(ReadinessView {
            status: "ready".into(),
            backend: backend.as_str().into(),
        })
        .into_response(),
        Err(error) => AppError::from(error).into_response(),
    }
}

/// `GET /metrics`: the Prometheus text format, or OpenMetrics for a
/// scraper whose `Accept` asks for it.
pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let format = Exposition::negotiate(
        headers
            .get(header::ACCEPT)
            .and_then(|value| value.to_str().ok()),
    );
    let now = state.now();
    match state.app.all_queue_stats().await {
        Ok(stats) => state.metrics.set_queue_stats(&stats, now),
        Err(error) => return AppError::from(error).into_response(),
    }
    match state.app.delivery_counts().await {
        Ok(counts) => state.metrics.set_outbox(&counts, now),
        Err(error) => return AppError::from(error).into_response(),
    }
    match state.metrics.encode_as(format) {
        Ok(text) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, format.content_type()),
                (header::VARY, "accept"),
            ],
            text,
        )
            .into_response(),
        Err(error) => AppError::Internal(error).into_response(),
    }
}

/// `GET /api/openapi.json`.
pub async fn openapi() -> Response {
    Json(crate::openapi::document()).into_response()
}
