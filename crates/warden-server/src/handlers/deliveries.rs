//! Deliveries: the outbox, replays, and the platform's signed callbacks.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::{Extension, Json};
use serde::Deserialize;

use warden_app::deliveries::DeliveryConfirmation;
use warden_domain::action::DeliveryStatus;
use warden_domain::limits::CALLBACK_BODY_BYTES_MAX;
use warden_domain::signature::{verify, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use warden_store::DeliveryFilter;

use super::decode_json;
use super::params::{page_limit, query};
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::paths;
use crate::wire::{CallbackBody, DeliveryView};
use crate::AppState;

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
