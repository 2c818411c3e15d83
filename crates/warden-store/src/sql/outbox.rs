//! The SQL of [`OutboxStore`]: leasing due rows to delivery workers, recording what
//! happened to them and what follows for their actions, the platform's
//! callbacks, dead letters and replays.
//!
//! A row is due when `next_attempt_at` has passed and it is `pending`, or
//! `sending` with a lease that ran out (its worker died mid-send; the row is
//! resent with the same idempotency key, so the platform applies it once).
//! Rows of one action go out in the order they were written: a row waits
//! while an earlier row of its action is pending or being sent. On
//! PostgreSQL, `FOR UPDATE SKIP LOCKED` lets several servers lease at once
//! without handing the same row to two of them.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::Duration;
use serde_json::{json, Value};
use sqlx::{Any, AnyConnection, Transaction};

use warden_domain::action::{ActionStatus, DeliveryStatus};
use warden_domain::limits::{DELIVERY_BATCH_MAX, DELIVERY_DETAIL_CHARS_MAX, PAGE_SIZE_MAX};
use warden_domain::webhook::{self, DeliveryKind};
use warden_domain::Timestamp;

use super::free_text::stored_text;
use super::wrappers::{
    records, time_from_ms, DbDelivery, DbDeliveryJob, DbLeasedDelivery, DbStatusCount,
    DELIVERY_COLUMNS,
};
use super::{ms, AuditDraft, SqlStore};
use crate::{
    Actor, DeliveryCounts, DeliveryFilter, DeliveryJob, DeliveryOutcome, DeliveryRecord,
    DeliveryResult, OutboxStore, StoreError, StoreResult,
};

use crate::limits::ACTION_DELIVERIES_SHOWN_MAX;

/// Outbox rows summarised per outcome in one audit record.
type Summary = BTreeMap<&'static str, Vec<i64>>;

/// A leased row by id: what it tells, its action, the attempts made.
type Leased = BTreeMap<i64, DbLeasedDelivery>;

/// The deliveries of one action (and of its notices), oldest first.
pub(crate) async fn deliveries_of(
    conn: &mut AnyConnection,
    action_id: i64,
) -> StoreResult<Vec<DeliveryRecord>> {
    let rows = sqlx::query_as::<_, DbDelivery>(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM outbox WHERE action_id = $1 OR notice_id IN (SELECT id FROM notices WHERE action_id = $1) ORDER BY id LIMIT $2"
    ))
    .bind(action_id)
    .bind(ACTION_DELIVERIES_SHOWN_MAX)
    .fetch_all(conn)
    .await?;
    Ok(records(rows))
}

fn clip(text: &str) -> String {
    text.chars().take(DELIVERY_DETAIL_CHARS_MAX).collect()
}

/// `n` placeholders from `$first`, comma-separated.
fn placeholders(n: usize, first: usize) -> String {
    (0..n)
        .map(|i| format!("${}", i + first))
        .collect::<Vec<_>>()
        .join(", ")
}

/// How a change names its outbox row.
enum DeliveryKey<'a> {
    Id(i64),
    IdempotencyKey(&'a str),
}

/// Locks and reads one outbox row.
async fn locked_delivery(
    tx: &mut Transaction<'static, Any>,
    lock: &str,
    key: DeliveryKey<'_>,
) -> StoreResult<Option<DeliveryRecord>> {
    let column = match key {
        DeliveryKey::Id(_) => "id",
        DeliveryKey::IdempotencyKey(_) => "idempotency_key",
    };
    let sql = format!("SELECT {DELIVERY_COLUMNS} FROM outbox WHERE {column} = $1{lock}");
    let query = sqlx::query_as::<_, DbDelivery>(&sql);
    let query = match key {
        DeliveryKey::Id(id) => query.bind(id),
        DeliveryKey::IdempotencyKey(key) => query.bind(key.to_string()),
    };
    Ok(query
        .fetch_optional(&mut **tx)
        .await?
        .map(|DbDelivery(d)| d))
}

/// One outbox row as it is now, in `tx`.
async fn delivery_in(tx: &mut Transaction<'static, Any>, id: i64) -> StoreResult<DeliveryRecord> {
    let DbDelivery(delivery) = sqlx::query_as(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM outbox WHERE id = $1"
    ))
    .bind(id)
    .fetch_one(&mut **tx)
    .await?;
    Ok(delivery)
}

/// The leased rows among `outcomes`' (rows no longer pending or sending
/// are left alone).
async fn leased_rows(
    tx: &mut Transaction<'static, Any>,
    outcomes: &[DeliveryOutcome],
) -> StoreResult<Leased> {
    let sql = format!(
        "SELECT id, kind, action_id, attempts FROM outbox WHERE id IN ({}) AND status IN ('pending', 'sending')",
        placeholders(outcomes.len(), 1)
    );
    let mut query = sqlx::query_as::<_, DbLeasedDelivery>(&sql);
    for outcome in outcomes {
        query = query.bind(outcome.id);
    }
    let rows = query.fetch_all(&mut **tx).await?;
    Ok(rows.into_iter().map(|row| (row.id, row)).collect())
}

/// Marks the delivered rows, one statement per status code (usually one),
/// and moves their actions on: applied ones are delivered, lifted ones
/// have expired.
async fn record_delivered(
    tx: &mut Transaction<'static, Any>,
    outcomes: &[DeliveryOutcome],
    leased: &Leased,
    summary: &mut Summary,
    now: Timestamp,
) -> StoreResult<()> {
    let mut by_code: BTreeMap<u16, Vec<i64>> = BTreeMap::new();
    for outcome in outcomes {
        if let (DeliveryResult::Delivered { status_code }, true) =
            (&outcome.result, leased.contains_key(&outcome.id))
        {
            by_code.entry(*status_code).or_default().push(outcome.id);
        }
    }
    for (code, ids) in &by_code {
        let sql = format!(
            "UPDATE outbox SET status = 'delivered', attempts = attempts + 1, delivered_at = $1, updated_at = $1, last_status_code = $2, last_error = NULL, lease_owner = NULL WHERE status IN ('pending', 'sending') AND id IN ({})",
            placeholders(ids.len(), 3)
        );
        let mut update = sqlx::query(&sql).bind(ms(now)).bind(i64::from(*code));
        for id in ids {
            update = update.bind(*id);
        }
        update.execute(&mut **tx).await?;
        summary.entry("delivered").or_default().extend(ids);
    }
    let delivered: Vec<&DbLeasedDelivery> = by_code
        .values()
        .flatten()
        .filter_map(|id| leased.get(id))
        .collect();
    for (kind, to, from) in [
        (DeliveryKind::Apply, ActionStatus::Delivered, "('pending')"),
        (
            DeliveryKind::Lift,
            ActionStatus::Expired,
            "('pending', 'delivered', 'applied', 'failed')",
        ),
    ] {
        let actions: Vec<i64> = delivered
            .iter()
            .filter(|row| row.kind == kind)
            .filter_map(|row| row.action_id)
            .collect();
        if actions.is_empty() {
            continue;
        }
        let sql = format!(
            "UPDATE actions SET status = $1, status_at = $2, status_detail = NULL WHERE status IN {from} AND id IN ({})",
            placeholders(actions.len(), 3)
        );
        let mut update = sqlx::query(&sql).bind(to.as_str()).bind(ms(now));
        for id in actions {
            update = update.bind(id);
        }
        update.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Records the failed rows, one by one (each has its own error and retry
/// time): due again, or dead with its apply's action failed.
async fn record_failed(
    tx: &mut Transaction<'static, Any>,
    outcomes: &[DeliveryOutcome],
    leased: &Leased,
    summary: &mut Summary,
    now: Timestamp,
) -> StoreResult<()> {
    for outcome in outcomes {
        let DeliveryResult::Failed {
            error,
            status_code,
            retry_at,
        } = &outcome.result
        else {
            continue;
        };
        let Some(row) = leased.get(&outcome.id) else {
            continue;
        };
        let attempts = row.attempts + 1;
        let status = if retry_at.is_some() {
            DeliveryStatus::Pending
        } else {
            DeliveryStatus::Dead
        };
        sqlx::query("UPDATE outbox SET status = $1, attempts = $2, next_attempt_at = $3, updated_at = $4, last_status_code = $5, last_error = $6, lease_owner = NULL WHERE id = $7 AND status IN ('pending', 'sending')")
            .bind(status.as_str())
            .bind(attempts)
            .bind(ms(retry_at.unwrap_or(now)))
            .bind(ms(now))
            .bind(status_code.map(i64::from))
            .bind(clip(error))
            .bind(outcome.id)
            .execute(&mut **tx)
            .await?;
        if retry_at.is_some() {
            summary.entry("retrying").or_default().push(outcome.id);
            continue;
        }
        summary.entry("dead").or_default().push(outcome.id);
        if let (Some(action_id), DeliveryKind::Apply) = (row.action_id, row.kind) {
            sqlx::query("UPDATE actions SET status = 'failed', status_at = $1, status_detail = $2 WHERE id = $3 AND status = 'pending'")
                .bind(ms(now))
                .bind(clip(&format!("delivery failed after {attempts} attempts: {error}")))
                .bind(action_id)
                .execute(&mut **tx)
                .await?;
        }
    }
    Ok(())
}

/// What the platform's callback does to the action an apply carried.
async fn follow_callback(
    tx: &mut Transaction<'static, Any>,
    action_id: i64,
    applied: bool,
    detail: Option<String>,
    now: Timestamp,
) -> StoreResult<()> {
    if applied {
        sqlx::query("UPDATE actions SET status = 'applied', status_at = $1, status_detail = $2 WHERE id = $3 AND status IN ('pending', 'delivered', 'failed')")
            .bind(ms(now))
            .bind(detail)
            .bind(action_id)
            .execute(&mut **tx)
            .await?;
    } else {
        sqlx::query("UPDATE actions SET status = 'failed', status_at = $1, status_detail = $2 WHERE id = $3 AND status IN ('pending', 'delivered', 'applied')")
            .bind(ms(now))
            .bind(detail.unwrap_or_else(|| "the platform could not apply it".into()))
            .bind(action_id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// The key and body of a replay: the platform said it could not apply
/// the effect under the old key, so a new attempt needs a new key; a dead
/// letter may have arrived after all, so it keeps its key.
fn replayed(before: &DeliveryRecord) -> (i64, String, Value) {
    if before.status != DeliveryStatus::Failed {
        return (
            before.replays,
            before.idempotency_key.clone(),
            before.body.clone(),
        );
    }
    let replays = before.replays + 1;
    let entity = before.action_id.or(before.notice_id).unwrap_or(before.id);
    let key = webhook::idempotency_key(before.kind, entity, replays);
    let mut body = before.body.clone();
    body["idempotency_key"] = json!(key);
    (replays, key, body)
}

#[async_trait]
impl OutboxStore for SqlStore {
    async fn claim_deliveries(
        &self,
        worker: &str,
        limit: u32,
        lease: Duration,
        now: Timestamp,
    ) -> StoreResult<Vec<DeliveryJob>> {
        let limit = i64::from(limit.clamp(1, DELIVERY_BATCH_MAX));
        let skip_locked = self.backend.skip_locked();
        let mut tx = self.writer.begin().await?;
        let rows = sqlx::query_as::<_, DbDeliveryJob>(&format!(
            "SELECT id, kind, endpoint_key, idempotency_key, body, attempts FROM outbox o WHERE o.status IN ('pending', 'sending') AND o.next_attempt_at <= $1 AND (o.action_id IS NULL OR NOT EXISTS (SELECT 1 FROM outbox p WHERE p.action_id = o.action_id AND p.id < o.id AND p.status IN ('pending', 'sending'))) ORDER BY o.next_attempt_at, o.id LIMIT $2{skip_locked}"
        ))
        .bind(ms(now))
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            tx.rollback().await?;
            return Ok(Vec::new());
        }
        let jobs = records(rows);
        let sql = format!(
            "UPDATE outbox SET status = 'sending', lease_owner = $1, next_attempt_at = $2, updated_at = $3 WHERE id IN ({})",
            placeholders(jobs.len(), 4)
        );
        let mut update = sqlx::query(&sql)
            .bind(worker)
            .bind(ms(now + lease))
            .bind(ms(now));
        for job in &jobs {
            update = update.bind(job.id);
        }
        update.execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(jobs)
    }

    async fn finish_deliveries(
        &self,
        outcomes: Vec<DeliveryOutcome>,
        now: Timestamp,
    ) -> StoreResult<()> {
        if outcomes.is_empty() {
            return Ok(());
        }
        let outcomes = &outcomes[..outcomes.len().min(DELIVERY_BATCH_MAX as usize)];
        let mut tx = self.writer.begin().await?;
        let leased = leased_rows(&mut tx, outcomes).await?;
        let mut summary = Summary::new();
        record_delivered(&mut tx, outcomes, &leased, &mut summary, now).await?;
        record_failed(&mut tx, outcomes, &leased, &mut summary, now).await?;
        if !summary.is_empty() {
            let draft = AuditDraft::new(
                &Actor::system(),
                "outbox.deliver",
                "outbox",
                format!("{} deliveries", outcomes.len()),
                Value::Null,
                json!(summary),
            );
            self.append_audit(&mut tx, vec![draft], now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn confirm_delivery(
        &self,
        idempotency_key: &str,
        applied: bool,
        detail: Option<&str>,
        now: Timestamp,
    ) -> StoreResult<DeliveryRecord> {
        if idempotency_key.contains('\0') {
            // No key holds NUL, and PostgreSQL could not even compare one.
            return Err(StoreError::NotFound(format!(
                "delivery {idempotency_key:?}"
            )));
        }
        let mut tx = self.writer.begin().await?;
        let lock = self.backend.for_update();
        let before = locked_delivery(&mut tx, lock, DeliveryKey::IdempotencyKey(idempotency_key))
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("delivery {idempotency_key:?}")))?;
        if before.status == DeliveryStatus::Cancelled {
            return Err(StoreError::Conflict(format!(
                "delivery {idempotency_key:?} was cancelled and never sent"
            )));
        }
        let target = if applied {
            DeliveryStatus::Confirmed
        } else {
            DeliveryStatus::Failed
        };
        let said = detail.map(clip);
        // The platform's words are free text: stored escaped, NUL and all.
        let detail = said.as_deref().map(|d| stored_text(d).into_owned());
        if before.status != target {
            sqlx::query("UPDATE outbox SET status = $1, confirmed_at = $2, updated_at = $2, platform_detail = $3, lease_owner = NULL, delivered_at = COALESCE(delivered_at, $2) WHERE id = $4")
                .bind(target.as_str())
                .bind(ms(now))
                .bind(detail.clone())
                .bind(before.id)
                .execute(&mut *tx)
                .await?;
            if let (Some(action_id), DeliveryKind::Apply) = (before.action_id, before.kind) {
                follow_callback(&mut tx, action_id, applied, detail, now).await?;
            }
            let platform = Actor {
                user_id: None,
                name: "platform".into(),
                token_id: None,
            };
            let draft = AuditDraft::new(
                &platform,
                if applied {
                    "delivery.confirmed"
                } else {
                    "delivery.failed"
                },
                "delivery",
                before.id,
                json!({"status": before.status.as_str()}),
                json!({"status": target.as_str(), "detail": said, "action_id": before.action_id}),
            );
            self.append_audit(&mut tx, vec![draft], now).await?;
        }
        let after = delivery_in(&mut tx, before.id).await?;
        tx.commit().await?;
        Ok(after)
    }

    async fn list_deliveries(&self, filter: &DeliveryFilter) -> StoreResult<Vec<DeliveryRecord>> {
        let mut conditions = vec!["id > $1".to_string()];
        let mut next = 2;
        if filter.action_id.is_some() {
            conditions.push(format!("action_id = ${next}"));
            next += 1;
        }
        if !filter.statuses.is_empty() {
            conditions.push(format!(
                "status IN ({})",
                placeholders(filter.statuses.len(), next)
            ));
            next += filter.statuses.len();
        }
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM outbox WHERE {} ORDER BY id LIMIT ${next}",
            conditions.join(" AND ")
        );
        let mut query = sqlx::query_as::<_, DbDelivery>(&sql).bind(filter.after_id);
        if let Some(action_id) = filter.action_id {
            query = query.bind(action_id);
        }
        for status in &filter.statuses {
            query = query.bind(status.as_str());
        }
        let rows = query
            .bind(i64::from(filter.limit.clamp(1, PAGE_SIZE_MAX)))
            .fetch_all(&self.reader)
            .await?;
        Ok(records(rows))
    }

    async fn replay_delivery(
        &self,
        actor: &Actor,
        id: i64,
        now: Timestamp,
    ) -> StoreResult<DeliveryRecord> {
        let mut tx = self.writer.begin().await?;
        let before = locked_delivery(&mut tx, self.backend.for_update(), DeliveryKey::Id(id))
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("delivery {id}")))?;
        if !before.status.can_replay() {
            return Err(StoreError::Conflict(format!(
                "delivery {id} is {}; only dead letters and deliveries the platform failed can be replayed",
                before.status
            )));
        }
        let (replays, key, body) = replayed(&before);
        sqlx::query("UPDATE outbox SET status = 'pending', attempts = 0, replays = $1, idempotency_key = $2, body = $3, next_attempt_at = $4, updated_at = $4, last_error = NULL, platform_detail = NULL, lease_owner = NULL WHERE id = $5")
            .bind(replays)
            .bind(&key)
            .bind(body.to_string())
            .bind(ms(now))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if let (Some(action_id), DeliveryKind::Apply) = (before.action_id, before.kind) {
            sqlx::query("UPDATE actions SET status = 'pending', status_at = $1, status_detail = NULL WHERE id = $2 AND status = 'failed'")
                .bind(ms(now))
                .bind(action_id)
                .execute(&mut *tx)
                .await?;
        }
        let draft = AuditDraft::new(
            actor,
            "delivery.replay",
            "delivery",
            id,
            json!({"status": before.status.as_str(), "idempotency_key": before.idempotency_key, "last_error": before.last_error}),
            json!({"status": DeliveryStatus::Pending.as_str(), "idempotency_key": key}),
        );
        self.append_audit(&mut tx, vec![draft], now).await?;
        let after = delivery_in(&mut tx, id).await?;
        tx.commit().await?;
        Ok(after)
    }

    async fn delivery_counts(&self) -> StoreResult<DeliveryCounts> {
        let rows = sqlx::query_as::<_, DbStatusCount>(
            "SELECT status, COUNT(*) AS n FROM outbox GROUP BY status ORDER BY status",
        )
        .fetch_all(&self.reader)
        .await?;
        let oldest: Option<i64> = sqlx::query_scalar(
            "SELECT MIN(next_attempt_at) FROM outbox WHERE status IN ('pending', 'sending')",
        )
        .fetch_one(&self.reader)
        .await?;
        Ok(DeliveryCounts {
            by_status: records(rows),
            oldest_due_at: oldest
                .map(|v| time_from_ms(v, "next_attempt_at"))
                .transpose()?,
        })
    }
}
