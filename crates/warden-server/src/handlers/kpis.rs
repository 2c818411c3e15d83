//! `GET /api/v1/kpis`: every KPI of `specs/kpis.md` (permission `metrics.read`).

use axum::extract::{Query, State};
use axum::{Extension, Json};
use serde::Deserialize;

use warden_app::kpis::KpiParams;

use super::params::query;
use crate::auth::Caller;
use crate::error::AppResult;
use crate::wire::kpis::KpiReportView;
use crate::AppState;

/// Query of `GET /api/v1/kpis`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KpisQuery {
    from: Option<String>,
    to: Option<String>,
    queue: Option<String>,
    category: Option<String>,
    reviewer: Option<String>,
    team: Option<String>,
    by: Option<String>,
}

/// `GET /api/v1/kpis?from=&to=&queue=&category=&reviewer=&team=&by=`.
pub async fn kpis(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    q: Result<Query<KpisQuery>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Json<KpiReportView>> {
    let q = query(q)?;
    let params = KpiParams {
        from: q.from,
        to: q.to,
        queue: q.queue,
        category: q.category,
        reviewer: q.reviewer,
        team: q.team,
        by: q.by,
    };
    let query = params
        .parse(state.app.now())
        .map_err(warden_app::CommandError::from)?;
    let report = state.app.kpis(&caller.actor(), &query).await?;
    Ok(Json(KpiReportView::from(&report)))
}
