//! Transparency-report aggregates.

use axum::extract::{Query, State};
use axum::{Extension, Json};
use serde::Deserialize;

use warden_app::transparency::Period;

use super::params::{parse_instant, query};
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::wire::TransparencyView;
use crate::AppState;

/// Query of `GET /api/v1/transparency`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransparencyQuery {
    from: Option<String>,
    to: Option<String>,
}

/// `GET /api/v1/transparency`: transparency-report aggregates of `[from, to)`.
pub async fn transparency(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    q: Result<Query<TransparencyQuery>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Json<TransparencyView>> {
    let q = query(q)?;
    let (Some(from), Some(to)) = (&q.from, &q.to) else {
        return Err(AppError::invalid(
            "from",
            "from and to are required (RFC 3339 or YYYY-MM-DD)",
        ));
    };
    let period = Period::new(parse_instant("from", from)?, parse_instant("to", to)?)?;
    let report = state
        .app
        .transparency_report(&caller.actor(), period)
        .await?;
    Ok(Json(TransparencyView::new(
        period.from(),
        period.to(),
        &report,
    )))
}
