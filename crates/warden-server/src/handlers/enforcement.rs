//! Enforcement: deciding with the matrix, approvals, reversals, deliveries
//! and the platform's callbacks, taxonomy versions, notice templates and
//! notices, DSA statements and transparency aggregates.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use chrono::{NaiveDate, TimeZone, Utc};
use serde::Deserialize;

use warden_app::approvals::RulingCommand;
use warden_app::decisions::DecisionDraft;
use warden_app::deliveries::DeliveryConfirmation;
use warden_app::reversals::{ReverseActionCommand, ReverseDecisionCommand};
use warden_app::taxonomy::PublishTaxonomyCommand;
use warden_app::transparency::{Period, StatementWindow};
use warden_domain::action::DeliveryStatus;
use warden_domain::dsa::Endpoint;
use warden_domain::ids::{DecisionId, TaxonomyCode};
use warden_domain::limits::{CALLBACK_BODY_BYTES_MAX, PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX};
use warden_domain::signature::{verify, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use warden_domain::Timestamp;
use warden_store::DeliveryFilter;

use super::{decode_json, JsonBody};
use crate::auth::Caller;
use crate::enforcement_wire::{
    ActionDetailView, CallbackBody, DecisionRequest, DeliveryView, DsaStatementView,
    DsaValidateBody, DsaValidationView, NoticePreviewView, NoticeTemplateBody, NoticeTemplateView,
    NoticeView, RecommendationView, RulingBody, TaxonomyBody, TaxonomyVersionView,
    TransparencyView,
};
use crate::error::{AppError, AppResult};
use crate::paths;
use crate::wire::DecisionView;
use crate::AppState;

fn query<T>(query: Result<Query<T>, axum::extract::rejection::QueryRejection>) -> AppResult<T> {
    query.map(|Query(q)| q).map_err(super::query_rejection)
}

/// Reads an instant: RFC 3339, or a `YYYY-MM-DD` day (its start, UTC).
pub fn parse_instant(field: &str, text: &str) -> AppResult<Timestamp> {
    if let Ok(time) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| Utc.from_utc_datetime(&t))
        .ok_or_else(|| {
            AppError::invalid(
                field,
                format!("{text:?} is neither an RFC 3339 time nor a YYYY-MM-DD day"),
            )
        })
}

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

/// Query of lists with a page size.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    limit: Option<u32>,
}

pub(crate) fn page_limit(limit: Option<u32>) -> AppResult<u32> {
    let limit = limit.unwrap_or(PAGE_SIZE_DEFAULT);
    if (1..=PAGE_SIZE_MAX).contains(&limit) {
        Ok(limit)
    } else {
        Err(AppError::invalid(
            "limit",
            format!("must be from 1 to {PAGE_SIZE_MAX}"),
        ))
    }
}

/// `GET /api/v1/approvals`: actions waiting for a lead, oldest first.
pub async fn approvals(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    q: Result<Query<PageQuery>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Json<Vec<ActionDetailView>>> {
    let limit = page_limit(query(q)?.limit)?;
    let pending = state.app.pending_approvals(&caller.actor(), limit).await?;
    Ok(Json(pending.iter().map(Into::into).collect()))
}

/// `GET /api/v1/actions/{id}`.
pub async fn action(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> AppResult<Json<ActionDetailView>> {
    let id = paths::action_id(&id)?;
    let detail = state.app.action(&caller.actor(), id).await?;
    Ok(Json((&detail).into()))
}

/// `POST /api/v1/actions/{id}/approve`.
pub async fn approve(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<RulingBody>,
) -> AppResult<Json<ActionDetailView>> {
    let command = RulingCommand {
        action: paths::action_id(&id)?,
        reason: body.reason()?,
    };
    let detail = state.app.approve_action(&caller.actor(), command).await?;
    Ok(Json((&detail).into()))
}

/// `POST /api/v1/actions/{id}/reject`.
pub async fn reject(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<RulingBody>,
) -> AppResult<Json<ActionDetailView>> {
    let command = RulingCommand {
        action: paths::action_id(&id)?,
        reason: body.reason()?,
    };
    let detail = state.app.reject_action(&caller.actor(), command).await?;
    Ok(Json((&detail).into()))
}

/// `POST /api/v1/actions/{id}/reverse`.
pub async fn reverse_action(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<RulingBody>,
) -> AppResult<Json<ActionDetailView>> {
    let command = ReverseActionCommand {
        action: paths::action_id(&id)?,
        reason: body.reason()?,
    };
    let detail = state.app.reverse_action(&caller.actor(), command).await?;
    Ok(Json((&detail).into()))
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

/// Query of `GET /api/v1/deliveries`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryQuery {
    /// Statuses, comma-separated (default: the dead letters, `dead,failed`).
    status: Option<String>,
    action_id: Option<i64>,
    after: Option<i64>,
    limit: Option<u32>,
}

/// `GET /api/v1/deliveries`: the outbox; by default its dead letters.
pub async fn deliveries(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    q: Result<Query<DeliveryQuery>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Json<Vec<DeliveryView>>> {
    let q = query(q)?;
    let statuses: Vec<DeliveryStatus> = match &q.status {
        None => vec![DeliveryStatus::Dead, DeliveryStatus::Failed],
        Some(text) if text == "all" => Vec::new(),
        Some(text) => {
            let mut statuses = Vec::new();
            for status in text.split(',').filter(|s| !s.is_empty()) {
                let Ok(status) = status.parse::<DeliveryStatus>() else {
                    return Err(AppError::invalid(
                        "status",
                        format!(
                            "unknown status {status:?}; expected all or some of {}",
                            DeliveryStatus::ALL.map(DeliveryStatus::as_str).join(", ")
                        ),
                    ));
                };
                statuses.push(status);
            }
            statuses
        }
    };
    let filter = DeliveryFilter {
        statuses,
        action_id: q.action_id,
        after_id: q.after.unwrap_or(0),
        limit: page_limit(q.limit)?,
    };
    let rows = state.app.deliveries(&caller.actor(), &filter).await?;
    Ok(Json(rows.iter().map(Into::into).collect()))
}

/// `POST /api/v1/deliveries/{id}/replay`.
pub async fn replay(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> AppResult<Json<DeliveryView>> {
    let id = paths::row_id(&id, "delivery")?;
    let row = state.app.replay_delivery(&caller.actor(), id).await?;
    Ok(Json((&row).into()))
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> AppResult<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            AppError::Malformed(format!(
                "a callback must carry {TIMESTAMP_HEADER} and {SIGNATURE_HEADER} headers, signed like Warden's webhooks; {name} is missing"
            ))
        })
}

/// `POST /api/v1/deliveries/callback`: the platform confirms a delivery
/// (`applied`) or reports that it could not apply it (`failed`). Public in
/// the route table; authenticated here by its HMAC signature.
pub async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Json<DeliveryView>> {
    if body.len() > CALLBACK_BODY_BYTES_MAX {
        return Err(AppError::TooLarge(format!(
            "a callback body is at most {CALLBACK_BODY_BYTES_MAX} bytes"
        )));
    }
    let timestamp = header(&headers, TIMESTAMP_HEADER)?;
    let signature = header(&headers, SIGNATURE_HEADER)?;
    let timestamp: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| AppError::Malformed(format!("{TIMESTAMP_HEADER} must be Unix seconds")))?;
    let Some(secret) = &state.enforcement.callback_secret else {
        return Err(AppError::Unavailable(
            "delivery callbacks are off: no delivery secret is configured".into(),
        ));
    };
    let now = state.now();
    verify(
        secret.expose(),
        timestamp,
        &body,
        signature,
        now.timestamp(),
    )
    .map_err(|reason| {
        AppError::Unauthenticated(format!("the callback is not authentic: {reason}"))
    })?;
    let callback: CallbackBody = decode_json(&body)?;
    let confirmation = DeliveryConfirmation::try_from(callback)?;
    let row = state.app.confirm_delivery(confirmation).await?;
    Ok(Json((&row).into()))
}

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

/// `GET /api/v1/notice-templates`.
pub async fn notice_templates(
    State(state): State<AppState>,
) -> AppResult<Json<Vec<NoticeTemplateView>>> {
    let templates = state.app.notice_templates().await?;
    Ok(Json(templates.iter().map(Into::into).collect()))
}

/// `POST /api/v1/notice-templates`: saves a template (replacing the one
/// with the same action type, category and language).
pub async fn save_notice_template(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody<NoticeTemplateBody>,
) -> AppResult<Response> {
    let template = state.app.check_template(body.into())?;
    let saved = state
        .app
        .save_notice_template(&caller.actor(), template)
        .await?;
    Ok((StatusCode::CREATED, Json(NoticeTemplateView::from(&saved))).into_response())
}

/// `DELETE /api/v1/notice-templates/{id}`.
pub async fn delete_notice_template(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    let id = paths::row_id(&id, "notice template")?;
    state
        .app
        .delete_notice_template(&caller.actor(), id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/notice-templates/preview`: renders a template as an action
/// of its type would, showing what it may leave unfilled.
pub async fn preview_notice_template(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<NoticeTemplateBody>,
) -> AppResult<Json<NoticePreviewView>> {
    let template = state.app.check_template(body.into())?;
    let preview = state.app.preview_notice_template(&template);
    Ok(Json(NoticePreviewView {
        sendable: preview.sendable,
        unfilled: preview.unfilled,
        subject: preview.subject,
        body: preview.body,
    }))
}

/// Query of `GET /api/v1/notices`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoticeQuery {
    decision_id: Option<i64>,
    limit: Option<u32>,
}

/// `GET /api/v1/notices`: notices of decisions on cases the caller may see
/// (a decision on a case they may not see is not found).
pub async fn notices(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    q: Result<Query<NoticeQuery>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Json<Vec<NoticeView>>> {
    let q = query(q)?;
    let limit = page_limit(q.limit)?;
    let rows = state
        .app
        .notices(&caller.actor(), q.decision_id.map(DecisionId), limit)
        .await?;
    Ok(Json(rows.iter().map(Into::into).collect()))
}

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
