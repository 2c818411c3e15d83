//! QA: sampling plans, the blind claim, reviews and their list, the
//! decider's acknowledgement, QA results (JSON or CSV). Each handler
//! parses the path, query and body into a command of
//! [`warden_app::quality`] and answers with a wire view of
//! `quality_wire.rs`.

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;

use warden_app::quality::results::{QaResultsQuery, ResultsGrouping};
use warden_app::quality::review::{QaReviewsQuery, ReviewCommand};

use super::params::{page_limit, parse_instant};
use super::JsonBody;
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::paths;
use crate::quality_wire::{
    QaPlanBody, QaPlanView, QaResultsView, QaReviewBody, QaReviewList, QaReviewView, QaWorkView,
};
use crate::AppState;

fn query<T>(query: Result<Query<T>, axum::extract::rejection::QueryRejection>) -> AppResult<T> {
    query.map(|Query(q)| q).map_err(super::query_rejection)
}

/// `POST /api/v1/qa/plans`.
pub async fn save_plan(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody<QaPlanBody>,
) -> AppResult<Json<QaPlanView>> {
    let view = state.app.save_qa_plan(&caller.actor(), body.into()).await?;
    Ok(Json(QaPlanView::from(&view)))
}

/// `GET /api/v1/qa/plans`.
pub async fn plans(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> AppResult<Json<Vec<QaPlanView>>> {
    let plans = state.app.qa_plans(&caller.actor()).await?;
    Ok(Json(plans.iter().map(QaPlanView::from).collect()))
}

/// `POST /api/v1/qa/claim`: the next sampled decision, blind; 204 when
/// the QA queue is empty.
pub async fn claim(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> AppResult<Response> {
    match state.app.claim_qa(&caller.actor()).await? {
        Some(work) => Ok(Json(QaWorkView::new(&work)).into_response()),
        None => Ok(StatusCode::NO_CONTENT.into_response()),
    }
}

/// `GET /api/v1/qa/reviews/{id}`: one sampled decision, blind until its
/// verdict is in.
pub async fn show(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> AppResult<Json<QaWorkView>> {
    let decision = paths::decision_id(&id)?;
    let work = state.app.show_qa(&caller.actor(), decision).await?;
    Ok(Json(QaWorkView::new(&work)))
}

/// `POST /api/v1/qa/reviews/{id}`: verdict, rubric and feedback; the
/// answer reveals the original and the agreement.
pub async fn review(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<QaReviewBody>,
) -> AppResult<Json<QaWorkView>> {
    let decision = paths::decision_id(&id)?;
    let (verdict, rubric) = body.into_parts();
    let command = ReviewCommand {
        decision,
        verdict,
        rubric,
    };
    let work = state.app.review_decision(&caller.actor(), command).await?;
    Ok(Json(QaWorkView::new(&work)))
}

/// `POST /api/v1/qa/reviews/{id}/release`: give the claim back.
pub async fn release(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> AppResult<Json<QaWorkView>> {
    let decision = paths::decision_id(&id)?;
    let work = state.app.release_qa(&caller.actor(), decision).await?;
    Ok(Json(QaWorkView::new(&work)))
}

/// `POST /api/v1/qa/reviews/{id}/acknowledge`: the decider has read the
/// feedback.
pub async fn acknowledge(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> AppResult<Json<QaWorkView>> {
    let decision = paths::decision_id(&id)?;
    let work = state
        .app
        .acknowledge_qa_feedback(&caller.actor(), decision)
        .await?;
    Ok(Json(QaWorkView::new(&work)))
}

/// Query of `GET /api/v1/qa/reviews`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewsQuery {
    reviewer: Option<String>,
    since: Option<String>,
    limit: Option<u32>,
}

/// `GET /api/v1/qa/reviews?reviewer=&since=`.
pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    q: Result<Query<ReviewsQuery>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Json<QaReviewList>> {
    let q = query(q)?;
    let query = QaReviewsQuery {
        reviewer: q
            .reviewer
            .as_deref()
            .map(|name| {
                warden_domain::ids::UserName::parse(name)
                    .map_err(|reason| AppError::invalid("reviewer", reason))
            })
            .transpose()?,
        since: q
            .since
            .as_deref()
            .map(|text| parse_instant("since", text))
            .transpose()?,
        limit: page_limit(q.limit)?,
    };
    let reviews = state.app.qa_reviews(&caller.actor(), query).await?;
    Ok(Json(QaReviewList {
        reviews: reviews.iter().map(QaReviewView::from).collect(),
    }))
}

/// `GET /api/v1/qa/feedback`: feedback on the caller's own decisions
/// waiting for their acknowledgement.
pub async fn feedback(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> AppResult<Json<QaReviewList>> {
    let reviews = state.app.my_qa_feedback(&caller.actor()).await?;
    Ok(Json(QaReviewList {
        reviews: reviews.iter().map(QaReviewView::from).collect(),
    }))
}

/// Query of `GET /api/v1/qa/results` and `/api/v1/qa/results.csv`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResultsQuery {
    by: Option<String>,
    weeks: Option<u32>,
}

impl ResultsQuery {
    fn command(self) -> AppResult<QaResultsQuery> {
        let by = match self.by.as_deref() {
            Some(text) => {
                ResultsGrouping::parse(text).map_err(|reason| AppError::invalid("by", reason))?
            }
            None => ResultsGrouping::Reviewer,
        };
        Ok(QaResultsQuery {
            by,
            weeks: self.weeks.unwrap_or(12),
        })
    }
}

/// `GET /api/v1/qa/results?by=reviewer|queue|category&weeks=N`.
pub async fn results(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    q: Result<Query<ResultsQuery>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Json<QaResultsView>> {
    let query = query(q)?.command()?;
    let results = state.app.qa_results(&caller.actor(), query).await?;
    Ok(Json(QaResultsView::from(&results)))
}

/// `GET /api/v1/qa/results.csv`: the same rows as CSV, for spreadsheets.
pub async fn results_csv(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    q: Result<Query<ResultsQuery>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Response> {
    let query = query(q)?.command()?;
    let results = state.app.qa_results(&caller.actor(), query).await?;
    Ok((
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
        results.to_csv(),
    )
        .into_response())
}

/// What a sampling pass did.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct SamplingRunView {
    /// Decisions read.
    pub read: u32,
    /// Decisions put in the QA queue.
    pub sampled: u32,
    /// Decisions the window pass over the last complete week added to meet
    /// the plans' minimums per reviewer and category.
    pub topped_up: u32,
}

/// `POST /api/v1/qa/sample`: one sampling pass over decisions not yet
/// read, then the window pass over the last complete week (the worker
/// inside `serve` runs both on its own).
pub async fn sample(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> AppResult<Json<SamplingRunView>> {
    let run = state.app.run_qa_sampling(&caller.actor()).await?;
    Ok(Json(SamplingRunView {
        read: run.read,
        sampled: run.sampled,
        topped_up: run.topped_up,
    }))
}
