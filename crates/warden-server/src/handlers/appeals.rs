//! Appeals: intake (`POST /api/v1/appeals`), the list, and the decision of
//! an appeal case (`POST /api/v1/cases/{id}/decision` with an outcome,
//! dispatched here by the case's kind).

use axum::extract::{Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use warden_app::appeals::{AppealDecisionDraft, AppealListQuery};
use warden_domain::appeal::{AppealInput, NewAppeal};
use warden_domain::limits::{PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX};
use warden_domain::CaseId;
use warden_store::AppealIntakeOutcome;

use super::params::parse_instant;
use super::{decode_json, has_content_type, read_body};
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::wire::appeals::{AppealAnswer, AppealBody, AppealDecisionRequest, AppealWire};
use crate::AppState;

/// `POST /api/v1/appeals`: `201` created (a new appeal case, or joining
/// the open appeal of the decision), `200` duplicate, `409` the same id
/// with other content, `422` naming the field at fault.
/// A batch (`application/x-ndjson`) answers `200` with a result per item.
pub async fn submit(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    request: Request,
) -> AppResult<Response> {
    let headers = request.headers().clone();
    if has_content_type(&headers, "application/x-ndjson") {
        let body = read_body(request, &state).await?;
        return super::intake::appeals_batch(&state, &caller.actor(), &body).await;
    }
    if !has_content_type(&headers, "application/json") {
        return Err(AppError::UnsupportedMediaType(
            "send one appeal as application/json or a batch as application/x-ndjson".into(),
        ));
    }
    let body = read_body(request, &state).await?;
    let body: AppealBody = decode_json(&body)?;
    let appeal = NewAppeal::parse(&AppealInput::from(body))?;
    let id = appeal.id.as_str().to_string();
    let (view, joined) = match state.app.submit_appeal(&caller.actor(), &appeal).await? {
        AppealIntakeOutcome::Opened(view) => (view, false),
        AppealIntakeOutcome::Joined(view) => (view, true),
        AppealIntakeOutcome::Duplicate => {
            let answer = AppealAnswer {
                id,
                status: "duplicate".into(),
                appeal_id: None,
                case_id: None,
                joined: None,
            };
            return Ok((StatusCode::OK, Json(answer)).into_response());
        }
        AppealIntakeOutcome::Conflict => {
            return Err(AppError::Conflict(format!(
                "appeal {id} was received before with other content; nothing changed"
            )))
        }
    };
    let answer = AppealAnswer {
        id,
        status: "created".into(),
        appeal_id: Some(view.id),
        case_id: Some(view.case_id.0),
        joined: Some(joined),
    };
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

/// Query of `GET /api/v1/appeals`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppealQuery {
    /// open or decided.
    status: Option<String>,
    /// Appeals opened at or after this instant (RFC 3339 or YYYY-MM-DD).
    since: Option<String>,
    /// Page size.
    limit: Option<u32>,
}

/// A page of appeals.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppealList {
    /// The appeals, newest first.
    pub appeals: Vec<AppealWire>,
    /// Page size used.
    pub limit: u32,
}

/// `GET /api/v1/appeals?status=&since=&limit=`.
pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    query: Result<Query<AppealQuery>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Json<AppealList>> {
    let Query(query) = query.map_err(super::query_rejection)?;
    let status = query
        .status
        .as_deref()
        .map(|s| {
            s.parse()
                .map_err(|e: String| AppError::invalid("status", e))
        })
        .transpose()?;
    let since = query
        .since
        .as_deref()
        .map(|s| parse_instant("since", s))
        .transpose()?;
    let limit = query.limit.unwrap_or(PAGE_SIZE_DEFAULT);
    if !(1..=PAGE_SIZE_MAX).contains(&limit) {
        return Err(AppError::invalid(
            "limit",
            format!("must be 1 to {PAGE_SIZE_MAX}"),
        ));
    }
    let appeals = state
        .app
        .list_appeals(
            &caller.actor(),
            &AppealListQuery {
                status,
                since,
                limit,
            },
        )
        .await?;
    Ok(Json(AppealList {
        appeals: appeals.iter().map(|a| AppealWire::new(a, false)).collect(),
        limit,
    }))
}

/// Decides the appeal of `case` from the decision route's body.
pub async fn decide(
    state: &AppState,
    caller: &Caller,
    case: CaseId,
    request: AppealDecisionRequest,
) -> AppResult<Response> {
    let command = AppealDecisionDraft::from(request).into_command(case)?;
    let appeal = state.app.decide_appeal(&caller.actor(), &command).await?;
    Ok((StatusCode::CREATED, Json(AppealWire::new(&appeal, false))).into_response())
}
