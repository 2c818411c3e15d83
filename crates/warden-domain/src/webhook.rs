//! What Warden sends to the platform: the bodies of action and notice
//! webhooks, and their idempotency keys. These bodies are a contract with
//! the platform; they are built here, without I/O, because the store writes
//! them into the outbox in the same transaction as the decision.
//!
//! Bodies have `event` and `idempotency_key`, then `action` or `notice`.
//! The time of sending is not in the body but in the signed
//! `x-warden-timestamp` header, so that a resend is the same body byte for
//! byte.

use std::fmt;
use std::str::FromStr;

use serde_json::{json, Value};

use crate::duration::format_iso8601_duration;
use crate::{SubjectRef, Timestamp};

/// What a delivery tells the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryKind {
    /// Apply an action.
    Apply,
    /// A temporary action has ended: lift it.
    Lift,
    /// An action was reversed: undo it.
    Reverse,
    /// Send a notice to a user.
    Notice,
    /// Page the on-call about an escalation (`[escalation] page_webhook`).
    Page,
}

impl DeliveryKind {
    /// Every kind.
    pub const ALL: [DeliveryKind; 5] = [
        DeliveryKind::Apply,
        DeliveryKind::Lift,
        DeliveryKind::Reverse,
        DeliveryKind::Notice,
        DeliveryKind::Page,
    ];

    /// The `event` name.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryKind::Apply => "action.apply",
            DeliveryKind::Lift => "action.lift",
            DeliveryKind::Reverse => "action.reverse",
            DeliveryKind::Notice => "notice",
            DeliveryKind::Page => "escalation.page",
        }
    }
}

impl FromStr for DeliveryKind {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        DeliveryKind::ALL
            .into_iter()
            .find(|k| k.as_str() == value)
            .ok_or_else(|| format!("unknown delivery kind {value:?}"))
    }
}

impl fmt::Display for DeliveryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The idempotency key of a delivery: stable across retries and restarts,
/// unique per effect. `replay` counts replays after the platform reported
/// a failure (a new attempt at the effect needs a new key).
pub fn idempotency_key(kind: DeliveryKind, id: i64, replay: i64) -> String {
    let base = match kind {
        DeliveryKind::Apply => format!("warden-action-{id}-apply"),
        DeliveryKind::Lift => format!("warden-action-{id}-lift"),
        DeliveryKind::Reverse => format!("warden-action-{id}-reverse"),
        DeliveryKind::Notice => format!("warden-notice-{id}"),
        // Pages name their attempt too: `escalation::page_idempotency_key`.
        DeliveryKind::Page => format!("warden-page-{id}"),
    };
    if replay > 0 {
        format!("{base}-r{replay}")
    } else {
        base
    }
}

/// The facts of an action a webhook carries.
#[derive(Debug, Clone)]
pub struct ActionFacts<'a> {
    /// Warden's action id.
    pub id: i64,
    /// The decision that ordered it.
    pub decision_id: i64,
    /// The case decided.
    pub case_id: i64,
    /// Action type.
    pub action_type: &'a str,
    /// What it acts on.
    pub target: &'a SubjectRef,
    /// For restrictions.
    pub feature: Option<&'a str>,
    /// For labels.
    pub label: Option<&'a str>,
    /// How long, in seconds.
    pub duration_seconds: Option<i64>,
    /// When it ends by itself.
    pub expires_at: Option<Timestamp>,
    /// Taxonomy code.
    pub category: &'a str,
    /// Reason code, if named.
    pub reason_code: Option<&'a str>,
    /// The statement of reasons' puid, if there is one.
    pub statement_id: Option<&'a str>,
}

/// The body of an action webhook.
pub fn action_body(kind: DeliveryKind, key: &str, facts: &ActionFacts<'_>) -> Value {
    json!({
        "event": kind.as_str(),
        "idempotency_key": key,
        "action": {
            "id": facts.id,
            "decision_id": facts.decision_id,
            "case_id": facts.case_id,
            "type": facts.action_type,
            "target": {"kind": facts.target.kind.as_str(), "id": facts.target.id.as_str()},
            "feature": facts.feature,
            "label": facts.label,
            "duration": facts.duration_seconds.map(|s| format_iso8601_duration(chrono::Duration::seconds(s))),
            "expires_at": facts.expires_at.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
            "category": facts.category,
            "reason_code": facts.reason_code,
            "statement_of_reasons": facts.statement_id,
        }
    })
}

/// The facts of a notice a webhook carries.
#[derive(Debug, Clone)]
pub struct NoticeFacts<'a> {
    /// Warden's notice id.
    pub id: i64,
    /// The decision it tells of.
    pub decision_id: i64,
    /// The action it tells of.
    pub action_id: Option<i64>,
    /// Who gets it.
    pub recipient: &'a SubjectRef,
    /// Language tag.
    pub language: &'a str,
    /// Subject line.
    pub subject: &'a str,
    /// Markdown body.
    pub body: &'a str,
}

/// The body of a notice webhook.
pub fn notice_body(key: &str, facts: &NoticeFacts<'_>) -> Value {
    json!({
        "event": DeliveryKind::Notice.as_str(),
        "idempotency_key": key,
        "notice": {
            "id": facts.id,
            "decision_id": facts.decision_id,
            "action_id": facts.action_id,
            "recipient": {"kind": facts.recipient.kind.as_str(), "id": facts.recipient.id.as_str()},
            "language": facts.language,
            "subject": facts.subject,
            "body": facts.body,
            "format": "markdown",
        }
    })
}

/// The wait before retry number `attempt` (1 after the first failure):
/// exponential from `initial`, capped at `max`, with "equal jitter" — half
/// the wait fixed, half drawn from `jitter` in `0.0..1.0` — so that many
/// failed deliveries do not retry in lockstep.
pub fn backoff(
    attempt: u32,
    initial: chrono::Duration,
    max: chrono::Duration,
    jitter: f64,
) -> chrono::Duration {
    let exponent = attempt.saturating_sub(1).min(30);
    let base_ms = initial
        .num_milliseconds()
        .max(1)
        .saturating_mul(1_i64 << exponent)
        .min(max.num_milliseconds().max(1));
    let half = base_ms / 2;
    let jittered = half + ((base_ms - half) as f64 * jitter.clamp(0.0, 1.0)) as i64;
    chrono::Duration::milliseconds(jittered.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn keys_are_stable_and_distinct() {
        assert_eq!(
            idempotency_key(DeliveryKind::Apply, 7, 0),
            "warden-action-7-apply"
        );
        assert_ne!(
            idempotency_key(DeliveryKind::Apply, 7, 0),
            idempotency_key(DeliveryKind::Lift, 7, 0)
        );
        assert_eq!(
            idempotency_key(DeliveryKind::Notice, 7, 2),
            "warden-notice-7-r2"
        );
        for kind in DeliveryKind::ALL {
            assert_eq!(kind.as_str().parse::<DeliveryKind>(), Ok(kind));
        }
    }

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let (initial, max) = (Duration::seconds(1), Duration::seconds(60));
        assert_eq!(backoff(1, initial, max, 0.0), Duration::milliseconds(500));
        assert_eq!(backoff(1, initial, max, 1.0), Duration::seconds(1));
        assert_eq!(backoff(3, initial, max, 1.0), Duration::seconds(4));
        assert_eq!(backoff(20, initial, max, 1.0), Duration::seconds(60));
        assert!(backoff(20, initial, max, 0.5) >= Duration::seconds(30));
    }
}
