//! Enforcement: deciding with the matrix, approvals, reversals, deliveries
//! and the platform's callbacks, taxonomy versions, notice templates and
//! notices, DSA statements and transparency aggregates.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use chrono::{NaiveDate, TimeZone, Utc};
use serde::Deserialize;
use serde_json::json;

use warden_domain::access::Permission;
use warden_domain::action::DeliveryStatus;
use warden_domain::dsa::{self, Endpoint};
use warden_domain::enforcement::EnforcementPolicy;
use warden_domain::limits::{
    CALLBACK_BODY_BYTES_MAX, PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX, POLICY_DOCUMENT_BYTES_MAX,
};
use warden_domain::notice;
use warden_domain::signature::{verify, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use warden_domain::taxonomy::Taxonomy;
use warden_domain::{CaseId, Timestamp};
use warden_store::{Actor, DeliveryFilter, NoticeTemplateInput};

use super::cases::{check_reason, parse_case_id};
use super::{decode_json, JsonBody};
use crate::auth::Caller;
use crate::case_access::{self, changeable_case, visible_action, visible_case};
use crate::enforcement_wire::{
    ActionDetailView, CallbackBody, DecisionRequest, DeliveryView, DsaStatementView,
    DsaValidateBody, DsaValidationView, NoticePreviewView, NoticeTemplateBody, NoticeTemplateView,
    NoticeView, RecommendationView, RulingBody, TaxonomyBody, TaxonomyVersionView,
    TransparencyView,
};
use crate::error::{AppError, AppResult};
use crate::wire::DecisionView;
use crate::AppState;

fn actor(caller: &Caller) -> Actor {
    caller.actor()
}

fn parse_id(id: &str, what: &str) -> AppResult<i64> {
    id.parse::<i64>().ok().filter(|id| *id > 0).ok_or_else(|| {
        AppError::NotFound(format!(
            "{what} {id:?} not found: ids are positive integers"
        ))
    })
}

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

/// The taxonomy decisions are checked against: the version in force, or
/// the configured one before any version is published.
async fn decision_taxonomy(state: &AppState) -> AppResult<Taxonomy> {
    Ok(match state.store.taxonomy_current().await? {
        Some(version) => version.policy.taxonomy(),
        None => state.policy.taxonomy.clone(),
    })
}

/// Decides a case through the enforcement path (the matrix, decision
/// rights, the outbox), as the API and the console both do. A resolved case
/// is corrected when the caller `may_correct`; otherwise deciding it again
/// is refused. (The case's version in the body guards the read: if the case
/// moved on since, the decision is a conflict.)
pub async fn decide_case(
    state: &AppState,
    actor: &Actor,
    may_correct: bool,
    id: CaseId,
    body: crate::wire::DecisionBody,
    extras: warden_store::DecisionExtras,
) -> AppResult<warden_store::DecisionRecord> {
    let taxonomy = decision_taxonomy(state).await?;
    let (version, input) = body.into_domain(&taxonomy)?;
    let resolved = state
        .store
        .case(id)
        .await?
        .is_some_and(|case| case.status == warden_domain::case::CaseStatus::Resolved);
    let mode = if resolved && may_correct {
        warden_store::DecisionMode::Correction
    } else {
        warden_store::DecisionMode::First
    };
    let command = warden_domain::enforcement::DecideCommand::with_extras(
        id,
        warden_domain::ids::Version(version),
        input,
        &extras,
        mode,
    )?;
    let decision = state
        .store
        .decide_with(actor, command, &state.policy, state.clock.now())
        .await?;
    state.metrics.count_decision(decision.violation);
    Ok(decision)
}

/// `POST /api/v1/cases/{id}/decision`, with the enforcement extras.
pub async fn decide(
    state: AppState,
    caller: Caller,
    id: String,
    request: DecisionRequest,
) -> AppResult<Response> {
    let id = parse_case_id(&id)?;
    changeable_case(&state, &caller.principal, id).await?;
    let (body, extras) = request.into_parts()?;
    let may_correct = caller.principal.may(Permission::CaseCorrect);
    let decision = decide_case(&state, &actor(&caller), may_correct, id, body, extras).await?;
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
    let id: CaseId = parse_case_id(&id)?;
    visible_case(&state, &caller.principal, id).await?;
    let record = state
        .store
        .recommendation(id, q.category.as_deref(), &state.policy, state.clock.now())
        .await?;
    Ok(Json((&record).into()))
}

/// Query of lists with a page size.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    limit: Option<u32>,
}

fn page_limit(limit: Option<u32>) -> AppResult<u32> {
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

/// Actions waiting for a lead that `caller` may see, oldest first, at most
/// `limit`. The store lists approvals without a queue filter, so a full
/// page is read and the invisible ones are left out.
pub async fn visible_approvals(
    state: &AppState,
    caller: &Caller,
    limit: u32,
) -> AppResult<Vec<warden_store::ActionDetail>> {
    let pending = state.store.pending_approvals(PAGE_SIZE_MAX).await?;
    case_access::keep_visible_actions(state, &caller.principal, pending, limit as usize).await
}

/// `GET /api/v1/approvals`: actions waiting for a lead, oldest first.
pub async fn approvals(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    q: Result<Query<PageQuery>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Json<Vec<ActionDetailView>>> {
    let limit = page_limit(query(q)?.limit)?;
    let pending = visible_approvals(&state, &caller, limit).await?;
    Ok(Json(pending.iter().map(Into::into).collect()))
}

/// `GET /api/v1/actions/{id}`.
pub async fn action(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> AppResult<Json<ActionDetailView>> {
    let id = parse_id(&id, "action")?;
    let detail = visible_action(&state, &caller.principal, id).await?;
    Ok(Json((&detail).into()))
}

/// Approves or rejects an action that waits, as the API and the console
/// both do: a reason is required, and whoever ordered the action may not
/// rule on it.
pub async fn rule_action(
    state: &AppState,
    caller: &Caller,
    id: &str,
    reason: &str,
    approve: bool,
) -> AppResult<warden_store::ActionDetail> {
    let id = parse_id(id, "action")?;
    let detail = visible_action(state, &caller.principal, id).await?;
    let reason = check_reason(reason)?;
    // Four eyes: whoever ordered an action cannot approve or reject it.
    if detail.decided_by_id == Some(caller.principal.user_id) {
        return Err(AppError::Forbidden(format!(
            "you ordered action {id}; another lead must {} it",
            if approve { "approve" } else { "reject" }
        )));
    }
    Ok(state
        .store
        .rule_on_action(
            &actor(caller),
            id,
            if approve {
                warden_store::Ruling::Approve
            } else {
                warden_store::Ruling::Reject
            },
            &reason,
            state.clock.now(),
        )
        .await?)
}

async fn rule(
    state: AppState,
    caller: Caller,
    id: String,
    body: RulingBody,
    approve: bool,
) -> AppResult<Json<ActionDetailView>> {
    let detail = rule_action(&state, &caller, &id, &body.reason, approve).await?;
    Ok(Json((&detail).into()))
}

/// `POST /api/v1/actions/{id}/approve`.
pub async fn approve(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<RulingBody>,
) -> AppResult<Json<ActionDetailView>> {
    rule(state, caller, id, body, true).await
}

/// `POST /api/v1/actions/{id}/reject`.
pub async fn reject(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<RulingBody>,
) -> AppResult<Json<ActionDetailView>> {
    rule(state, caller, id, body, false).await
}

/// `POST /api/v1/actions/{id}/reverse`.
pub async fn reverse_action(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<RulingBody>,
) -> AppResult<Json<ActionDetailView>> {
    let id = parse_id(&id, "action")?;
    visible_action(&state, &caller.principal, id).await?;
    let reason = check_reason(&body.reason)?;
    let detail = state
        .store
        .reverse_action(&actor(&caller), id, &reason, state.clock.now())
        .await?;
    Ok(Json((&detail).into()))
}

/// `POST /api/v1/decisions/{id}/reverse`.
pub async fn reverse_decision(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<RulingBody>,
) -> AppResult<Json<DecisionView>> {
    let id = parse_id(&id, "decision")?;
    case_access::visible_decision_case(&state, &caller.principal, id).await?;
    let reason = check_reason(&body.reason)?;
    let decision = state
        .store
        .reverse_decision(&actor(&caller), id, &reason, state.clock.now())
        .await?;
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
    let rows = state.store.list_deliveries(&filter).await?;
    Ok(Json(rows.iter().map(Into::into).collect()))
}

/// `POST /api/v1/deliveries/{id}/replay`.
pub async fn replay(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> AppResult<Json<DeliveryView>> {
    let id = parse_id(&id, "delivery")?;
    let row = state
        .store
        .replay_delivery(&actor(&caller), id, state.clock.now())
        .await?;
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
    let now = state.clock.now();
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
    let applied = match callback.status.as_str() {
        "applied" => true,
        "failed" => false,
        other => {
            return Err(AppError::invalid(
                "status",
                format!("{other:?}: expected applied or failed"),
            ))
        }
    };
    let row = state
        .store
        .confirm_delivery(
            &callback.idempotency_key,
            applied,
            callback.detail.as_deref(),
            now,
        )
        .await?;
    Ok(Json((&row).into()))
}

/// `GET /api/v1/taxonomy`: the version in force.
pub async fn taxonomy(State(state): State<AppState>) -> AppResult<Json<TaxonomyVersionView>> {
    let current = match state.store.taxonomy_current().await? {
        Some(version) => version,
        None => {
            state
                .store
                .ensure_taxonomy(&Actor::system(), &state.policy, state.clock.now())
                .await?
        }
    };
    Ok(Json((&current).into()))
}

/// `GET /api/v1/taxonomy/versions`, newest first.
pub async fn taxonomy_versions(
    State(state): State<AppState>,
    q: Result<Query<PageQuery>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Json<Vec<TaxonomyVersionView>>> {
    let limit = page_limit(query(q)?.limit)?;
    let versions = state.store.taxonomy_versions(limit).await?;
    Ok(Json(versions.iter().map(Into::into).collect()))
}

/// `GET /api/v1/taxonomy/versions/{id}`.
pub async fn taxonomy_version(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<Json<TaxonomyVersionView>> {
    let id = parse_id(&id, "taxonomy version")?;
    let version = state
        .store
        .taxonomy_version(id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("taxonomy version {id} not found")))?;
    Ok(Json((&version).into()))
}

/// `POST /api/v1/taxonomy/versions`: publishes a new version (policy).
pub async fn publish_taxonomy(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody<TaxonomyBody>,
) -> AppResult<Response> {
    let note = check_reason(&body.note)
        .map_err(|_| AppError::invalid("note", "is required: say what changed and why"))?;
    if body.document.to_string().len() > POLICY_DOCUMENT_BYTES_MAX {
        return Err(AppError::invalid(
            "document",
            format!("must be at most {POLICY_DOCUMENT_BYTES_MAX} bytes"),
        ));
    }
    let policy = EnforcementPolicy::from_json(&body.document).map_err(|errors| {
        AppError::Invalid(warden_domain::FieldErrors(
            errors.0.into_iter().map(|e| e.under("document")).collect(),
        ))
    })?;
    let record = state
        .store
        .publish_taxonomy(&actor(&caller), &policy, &note, state.clock.now())
        .await?;
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
    let templates = state.store.notice_templates().await?;
    Ok(Json(templates.iter().map(Into::into).collect()))
}

fn check_language(language: &str) -> Result<String, String> {
    warden_domain::ids::LanguageTag::parse(language).map(|tag| tag.as_str().to_string())
}

async fn checked_template(
    state: &AppState,
    body: NoticeTemplateBody,
) -> AppResult<NoticeTemplateInput> {
    let mut errors = warden_domain::FieldErrors::default();
    if !notice::is_template_action(&body.action_type) {
        errors.push(
            "action_type",
            "must be an action type (remove_content, warn, restrict, suspend, ban, hold_transaction, label) or reversal",
        );
    }
    let category = body.category.unwrap_or_else(|| "*".into());
    if category != "*" {
        let taxonomy = decision_taxonomy(state).await?;
        errors.take("category", taxonomy.parse_code(&category));
    }
    let language = body.language.unwrap_or_else(|| "en".into());
    errors.take("language", check_language(&language));
    if let Err(found) = notice::check_template(&body.subject, &body.body) {
        errors.0.extend(found.0);
    }
    errors
        .finish(|| NoticeTemplateInput {
            action_type: body.action_type,
            category,
            language,
            subject: body.subject,
            body: body.body,
        })
        .map_err(AppError::Invalid)
}

/// `POST /api/v1/notice-templates`: saves a template (replacing the one
/// with the same action type, category and language).
pub async fn save_notice_template(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody<NoticeTemplateBody>,
) -> AppResult<Response> {
    let template = checked_template(&state, body).await?;
    let saved = state
        .store
        .save_notice_template(&actor(&caller), template, state.clock.now())
        .await?;
    Ok((StatusCode::CREATED, Json(NoticeTemplateView::from(&saved))).into_response())
}

/// `DELETE /api/v1/notice-templates/{id}`.
pub async fn delete_notice_template(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    let id = parse_id(&id, "notice template")?;
    state
        .store
        .delete_notice_template(&actor(&caller), id, state.clock.now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/notice-templates/preview`: renders a template as an action
/// of its type would, showing what it may leave unfilled.
pub async fn preview_notice_template(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<NoticeTemplateBody>,
) -> AppResult<Json<NoticePreviewView>> {
    let template = checked_template(&state, body).await?;
    let kind = template.action_type.as_str();
    let temporary = matches!(kind, "restrict" | "suspend");
    let mut values: BTreeMap<String, String> = BTreeMap::new();
    for (name, _) in notice::VARIABLES {
        let value = match *name {
            "action" => Some(kind.to_string()),
            "action_name" => Some(notice::action_name(kind).to_string()),
            "category" => Some(if template.category == "*" {
                "spam".into()
            } else {
                template.category.clone()
            }),
            "category_name" => Some("Spam".into()),
            "duration" => temporary.then(|| "P7D".into()),
            "end_date" => temporary.then(|| "2030-01-08".into()),
            "feature" => (kind == "restrict").then(|| "posting".into()),
            "label" => (kind == "label").then(|| "misleading".into()),
            "subject_kind" => Some("content".into()),
            "subject_id" => Some("post_123".into()),
            "account_id" => Some("account_9".into()),
            "decision_id" => Some("42".into()),
            "date" => Some("2030-01-01".into()),
            // Only some decisions name these: a template using them may be refused.
            _ => None,
        };
        if let Some(value) = value {
            values.insert(name.to_string(), value);
        }
    }
    Ok(Json(
        match notice::render(&template.subject, &template.body, &values) {
            Ok(rendered) => NoticePreviewView {
                sendable: true,
                unfilled: Vec::new(),
                subject: Some(rendered.subject),
                body: Some(rendered.body),
            },
            Err(unfilled) => NoticePreviewView {
                sendable: false,
                unfilled,
                subject: None,
                body: None,
            },
        },
    ))
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
    if let Some(decision) = q.decision_id {
        case_access::visible_decision_case(&state, &caller.principal, decision).await?;
    }
    // The store does not filter notices by queue: read a full page and
    // leave out those of decisions the caller may not see.
    let rows = state.store.notices(q.decision_id, PAGE_SIZE_MAX).await?;
    let rows = case_access::keep_visible_decisions(
        &state,
        &caller.principal,
        rows,
        |n| n.decision_id,
        limit as usize,
    )
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
    let until = match &q.until {
        Some(text) => parse_instant("until", text)?,
        None => state.clock.now() + chrono::Duration::seconds(1),
    };
    let limit = page_limit(q.limit)?;
    let rows = state
        .store
        .dsa_statements(since, until, q.after.unwrap_or(0), limit)
        .await?;
    if !rows.is_empty() {
        state
            .store
            .record_read(
                &actor(&caller),
                "dsa.read",
                "dsa_statements",
                &format!("{} statements", rows.len()),
                json!({"ids": rows.iter().map(|r| r.id).collect::<Vec<_>>()}),
                state.clock.now(),
            )
            .await?;
    }
    Ok(Json(rows.iter().map(Into::into).collect()))
}

/// `POST /api/v1/dsa/validate`: what the Transparency Database would say.
pub async fn dsa_validate(
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
    let violations = dsa::validate(&body.statement, endpoint);
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
    q: Result<Query<TransparencyQuery>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Json<TransparencyView>> {
    let q = query(q)?;
    let (Some(from), Some(to)) = (&q.from, &q.to) else {
        return Err(AppError::invalid(
            "from",
            "from and to are required (RFC 3339 or YYYY-MM-DD)",
        ));
    };
    let from = parse_instant("from", from)?;
    let to = parse_instant("to", to)?;
    if to <= from {
        return Err(AppError::invalid("to", "must be after from"));
    }
    let facts = state.store.transparency_facts(from, to).await?;
    let report = warden_domain::transparency::aggregate(
        &facts.actions,
        &facts.reversals,
        facts.appeals,
        facts.statements,
    );
    Ok(Json(TransparencyView::new(from, to, &report)))
}
