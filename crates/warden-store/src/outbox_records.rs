//! Records of the outbox: leased jobs, their outcomes, deliveries as
//! listed and counted ([`crate::OutboxStore`]).

use serde_json::Value;

use warden_domain::action::DeliveryStatus;
use warden_domain::webhook::DeliveryKind;
use warden_domain::Timestamp;

/// An outbox row leased to a worker.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryJob {
    /// Outbox id.
    pub id: i64,
    /// What it tells.
    pub kind: DeliveryKind,
    /// Which configured endpoint it goes to (an action type, or `notice`).
    pub endpoint_key: String,
    /// The idempotency key.
    pub idempotency_key: String,
    /// The JSON body, exactly as to send.
    pub body: String,
    /// Attempts made before this one.
    pub attempts: i64,
}

/// What happened to one attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum DeliveryResult {
    /// 2xx.
    Delivered {
        /// The status code.
        status_code: u16,
    },
    /// It failed; retry at `retry_at`, or never (`None`: a dead letter).
    Failed {
        /// What went wrong (never a secret).
        error: String,
        /// The status code, if an answer came.
        status_code: Option<u16>,
        /// When to try again; `None` when the attempts are used up.
        retry_at: Option<Timestamp>,
    },
}

/// The result of one leased row.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryOutcome {
    /// Outbox id.
    pub id: i64,
    /// What happened.
    pub result: DeliveryResult,
}

/// An outbox row.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryRecord {
    /// Outbox id.
    pub id: i64,
    /// What it tells.
    pub kind: DeliveryKind,
    /// The action it is about.
    pub action_id: Option<i64>,
    /// The notice it carries.
    pub notice_id: Option<i64>,
    /// Endpoint key.
    pub endpoint_key: String,
    /// Idempotency key.
    pub idempotency_key: String,
    /// The body.
    pub body: Value,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Attempts made.
    pub attempts: i64,
    /// Replays after a platform failure.
    pub replays: i64,
    /// When it is due (or its lease ends).
    pub next_attempt_at: Timestamp,
    /// The last error.
    pub last_error: Option<String>,
    /// The last HTTP status.
    pub last_status_code: Option<i64>,
    /// What the platform said in its callback.
    pub platform_detail: Option<String>,
    /// Written.
    pub created_at: Timestamp,
    /// Last changed.
    pub updated_at: Timestamp,
    /// Delivered (2xx).
    pub delivered_at: Option<Timestamp>,
    /// Confirmed by callback.
    pub confirmed_at: Option<Timestamp>,
}

/// Which outbox rows to list.
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    /// Only these statuses; empty means all.
    pub statuses: Vec<DeliveryStatus>,
    /// Only this action's.
    pub action_id: Option<i64>,
    /// Rows after this id (paging).
    pub after_id: i64,
    /// Page size, capped.
    pub limit: u32,
}

/// Outbox rows by status, for metrics.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeliveryCounts {
    /// status → rows.
    pub by_status: Vec<(String, i64)>,
    /// The oldest due row's due time.
    pub oldest_due_at: Option<Timestamp>,
}
