//! DSA statements of reasons and their validation.

use axum::extract::{Query, State};
use axum::{Extension, Json};
use chrono::{TimeZone, Utc};
use serde::Deserialize;

use warden_app::transparency::StatementWindow;
use warden_domain::dsa::Endpoint;

use super::params::{page_limit, parse_instant, query};
use super::JsonBody;
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::wire::{DsaStatementView, DsaValidateBody, DsaValidationView};
use crate::AppState;

/// Query of `GET /api/v1/dsa/statements`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatementQuery {
    since: Option<String>,
    until: Option<String>,
    after: Option<i64>,
    limit: Option<u32>,
}

/// `GET /api/v1/dsa/statements`.
pub async fn dsa_statements(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    q: Result<Query<StatementQuery>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Json<Vec<DsaStatementView>>> {
    let q = query(q)?;
    let since = match &q.since {
        Some(text) => parse_instant("since", text)?,
        None => Utc.timestamp_millis_opt(0).single().unwrap_or_default(),
    };
    let until = q
        .until
        .as_deref()
        .map(|text| parse_instant("until", text))
        .transpose()?;
    let limit = page_limit(q.limit)?;
    let rows = state
        .app
        .dsa_statements(
            &caller.actor(),
            StatementWindow {
                since,
                until,
                after: q.after.unwrap_or(0),
                limit,
            },
        )
        .await?;
    Ok(Json(rows.iter().map(Into::into).collect()))
}

/// `POST /api/v1/dsa/validate`: what the Transparency Database would say.
pub async fn dsa_validate(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<DsaValidateBody>,
) -> AppResult<Json<DsaValidationView>> {
    let endpoint = match body.endpoint.as_deref() {
        None | Some("batch") => Endpoint::Batch,
        Some("single") => Endpoint::Single,
        Some(other) => {
            return Err(AppError::invalid(
                "endpoint",
                format!("{other:?}: expected single or batch"),
            ))
        }
    };
    let violations = state.app.validate_statement(&body.statement, endpoint);
    Ok(Json(DsaValidationView {
        valid: violations.is_empty(),
        message: (!violations.is_empty()).then(|| violations.message()),
        errors: violations.to_json(),
    }))
}
