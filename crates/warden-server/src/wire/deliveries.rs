//! Deliveries of the outbox and the platform's callbacks.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use warden_app::deliveries::{DeliveryConfirmation, PlatformOutcome};
use warden_domain::{FieldError, FieldErrors};
use warden_store::DeliveryRecord;

/// An outbox row.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    /// Outbox id.
    pub id: i64,
    /// `action.apply`, `action.lift`, `action.reverse` or `notice`.
    pub event: String,
    /// The action.
    pub action_id: Option<i64>,
    /// The notice.
    pub notice_id: Option<i64>,
    /// Which endpoint.
    pub endpoint_key: String,
    /// The idempotency key.
    pub idempotency_key: String,
    /// pending, sending, delivered, confirmed, failed, dead or cancelled.
    pub status: String,
    /// Attempts.
    pub attempts: i64,
    /// Replays after a platform failure.
    pub replays: i64,
    /// Due (or lease end).
    pub next_attempt_at: DateTime<Utc>,
    /// Last error.
    pub last_error: Option<String>,
    /// Last HTTP status.
    pub last_status_code: Option<i64>,
    /// The platform's word in its callback.
    pub platform_detail: Option<String>,
    /// Written.
    pub created_at: DateTime<Utc>,
    /// Delivered (2xx).
    pub delivered_at: Option<DateTime<Utc>>,
    /// Confirmed by callback.
    pub confirmed_at: Option<DateTime<Utc>>,
    /// The body as sent.
    pub body: Value,
}

impl From<&DeliveryRecord> for DeliveryView {
    fn from(d: &DeliveryRecord) -> Self {
        Self {
            id: d.id,
            event: d.kind.as_str().into(),
            action_id: d.action_id,
            notice_id: d.notice_id,
            endpoint_key: d.endpoint_key.clone(),
            idempotency_key: d.idempotency_key.clone(),
            status: d.status.to_string(),
            attempts: d.attempts,
            replays: d.replays,
            next_attempt_at: d.next_attempt_at,
            last_error: d.last_error.clone(),
            last_status_code: d.last_status_code,
            platform_detail: d.platform_detail.clone(),
            created_at: d.created_at,
            delivered_at: d.delivered_at,
            confirmed_at: d.confirmed_at,
            body: d.body.clone(),
        }
    }
}

impl TryFrom<CallbackBody> for DeliveryConfirmation {
    type Error = FieldErrors;

    fn try_from(body: CallbackBody) -> Result<Self, FieldErrors> {
        let outcome =
            PlatformOutcome::parse(&body.status).map_err(|e| FieldError::new("status", e))?;
        Ok(DeliveryConfirmation {
            idempotency_key: body.idempotency_key,
            outcome,
            detail: body.detail,
        })
    }
}

/// The platform's callback on a delivery, signed like Warden's webhooks
/// (`x-warden-timestamp`, `x-warden-signature: v1=<hex HMAC-SHA256 of
/// "<timestamp>.<body>">` with the shared secret).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CallbackBody {
    /// The delivery's idempotency key.
    pub idempotency_key: String,
    /// `applied` or `failed`.
    pub status: String,
    /// What happened, for the console (at most 500 characters are kept).
    pub detail: Option<String>,
}
