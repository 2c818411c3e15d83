//! Decisions: deciding a case (with the enforcement extras), the
//! matrix's recommendation, and reversing a decision.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;

use warden_app::decisions::DecisionDraft;
use warden_app::reversals::ReverseDecisionCommand;
use warden_domain::ids::TaxonomyCode;

use super::params::query;
use super::JsonBody;
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::paths;
use crate::wire::DecisionView;
use crate::wire::{DecisionRequest, RecommendationView, RulingBody};
use crate::AppState;

/// `POST /api/v1/cases/{id}/decision`, with the enforcement extras: a
/// first decision, or on a resolved case a lead's correction.
pub async fn decide(
    state: AppState,
    caller: Caller,
    id: String,
    request: DecisionRequest,
) -> AppResult<Response> {
    let case = paths::case_id(&id)?;
    let actor = caller.actor();
    let mode = state.app.decision_mode(&actor, case).await?;
    let command =
        DecisionDraft::from(request).into_command(case, mode, state.app.policy().taxonomy())?;
    let decision = state.app.decide(&actor, command).await?;
    state.metrics.count_decision(decision.violation);
    Ok((StatusCode::CREATED, Json(DecisionView::from(&decision))).into_response())
}

/// Query of `GET /api/v1/cases/{id}/recommendation`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecommendationQuery {
    /// Another category than the case's.
    category: Option<String>,
}

/// `GET /api/v1/cases/{id}/recommendation`.
pub async fn recommendation(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    q: Result<Query<RecommendationQuery>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Json<RecommendationView>> {
    let q = query(q)?;
    let case = paths::case_id(&id)?;
    let category = q
        .category
        .as_deref()
        .map(|code| {
            TaxonomyCode::parse(code).map_err(|_| {
                AppError::invalid("category", format!("unknown taxonomy code {code:?}"))
            })
        })
        .transpose()?;
    let record = state
        .app
        .recommendation(&caller.actor(), case, category.as_ref())
        .await?;
    Ok(Json((&record).into()))
}

/// `POST /api/v1/decisions/{id}/reverse`.
pub async fn reverse_decision(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<RulingBody>,
) -> AppResult<Json<DecisionView>> {
    let command = ReverseDecisionCommand {
        decision: paths::decision_id(&id)?,
        reason: body.reason()?,
    };
    let decision = state.app.reverse_decision(&caller.actor(), command).await?;
    Ok(Json(DecisionView::from(&decision)))
}
