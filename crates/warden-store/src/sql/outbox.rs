//! The outbox: leasing due rows to delivery workers, recording what
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

use chrono::Duration;
use serde_json::{json, Value};
use sqlx::any::AnyRow;
use sqlx::AnyConnection;

use warden_domain::action::{ActionStatus, DeliveryStatus};
use warden_domain::limits::{DELIVERY_BATCH_MAX, DELIVERY_DETAIL_CHARS_MAX, PAGE_SIZE_MAX};
use warden_domain::webhook::{self, DeliveryKind};
use warden_domain::Timestamp;

use super::rows::{self, get};
use super::{ms, AuditDraft, Backend, SqlStore};
use crate::{
    Actor, DeliveryCounts, DeliveryFilter, DeliveryJob, DeliveryOutcome, DeliveryRecord,
    DeliveryResult, StoreError, StoreResult,
};

const DELIVERY_COLUMNS: &str = "id, kind, action_id, notice_id, endpoint_key, idempotency_key, body, status, attempts, replays, next_attempt_at, last_error, last_status_code, platform_detail, created_at, updated_at, delivered_at, confirmed_at";

fn delivery(row: &AnyRow) -> StoreResult<DeliveryRecord> {
    Ok(DeliveryRecord {
        id: get(row, "id")?,
        kind: rows::parsed(row, "kind")?,
        action_id: get(row, "action_id")?,
        notice_id: get(row, "notice_id")?,
        endpoint_key: get(row, "endpoint_key")?,
        idempotency_key: get(row, "idempotency_key")?,
        body: rows::json(row, "body")?,
        status: rows::parsed(row, "status")?,
        attempts: get(row, "attempts")?,
        replays: get(row, "replays")?,
        next_attempt_at: rows::time(row, "next_attempt_at")?,
        last_error: get(row, "last_error")?,
        last_status_code: get(row, "last_status_code")?,
        platform_detail: rows::text_opt(row, "platform_detail")?,
        created_at: rows::time(row, "created_at")?,
        updated_at: rows::time(row, "updated_at")?,
        delivered_at: rows::time_opt(row, "delivered_at")?,
        confirmed_at: rows::time_opt(row, "confirmed_at")?,
    })
}

/// The deliveries of one action (and of its notices), oldest first.
pub(crate) async fn deliveries_of(
    conn: &mut AnyConnection,
    action_id: i64,
) -> StoreResult<Vec<DeliveryRecord>> {
    sqlx::query(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM outbox WHERE action_id = $1 OR notice_id IN (SELECT id FROM notices WHERE action_id = $1) ORDER BY id LIMIT 100"
    ))
    .bind(action_id)
    .fetch_all(conn)
    .await?
    .iter()
    .map(delivery)
    .collect()
}

fn clip(text: &str) -> String {
    text.chars().take(DELIVERY_DETAIL_CHARS_MAX).collect()
}

impl SqlStore {
    pub(crate) async fn claim_deliveries_impl(
        &self,
        worker: &str,
        limit: u32,
        lease: Duration,
        now: Timestamp,
    ) -> StoreResult<Vec<DeliveryJob>> {
        let limit = i64::from(limit.clamp(1, DELIVERY_BATCH_MAX));
        let skip_locked = match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        };
        let mut tx = self.writer.begin().await?;
        let rows = sqlx::query(&format!(
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
        let mut jobs = Vec::with_capacity(rows.len());
        for row in &rows {
            jobs.push(DeliveryJob {
                id: get(row, "id")?,
                kind: rows::parsed(row, "kind")?,
                endpoint_key: get(row, "endpoint_key")?,
                idempotency_key: get(row, "idempotency_key")?,
                body: get(row, "body")?,
                attempts: get(row, "attempts")?,
            });
        }
        let placeholders: Vec<String> = (0..jobs.len()).map(|i| format!("${}", i + 4)).collect();
        let sql = format!(
            "UPDATE outbox SET status = 'sending', lease_owner = $1, next_attempt_at = $2, updated_at = $3 WHERE id IN ({})",
            placeholders.join(", ")
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

    pub(crate) async fn finish_deliveries_impl(
        &self,
        outcomes: Vec<DeliveryOutcome>,
        now: Timestamp,
    ) -> StoreResult<()> {
        if outcomes.is_empty() {
            return Ok(());
        }
        let outcomes = &outcomes[..outcomes.len().min(DELIVERY_BATCH_MAX as usize)];
        let mut tx = self.writer.begin().await?;
        let list = |n: usize, first: usize| -> String {
            (0..n)
                .map(|i| format!("${}", i + first))
                .collect::<Vec<_>>()
                .join(", ")
        };
        // What the rows are, in one read.
        let sql = format!(
            "SELECT id, kind, action_id, attempts FROM outbox WHERE id IN ({}) AND status IN ('pending', 'sending')",
            list(outcomes.len(), 1)
        );
        let mut query = sqlx::query(&sql);
        for outcome in outcomes {
            query = query.bind(outcome.id);
        }
        let mut rows: BTreeMap<i64, (DeliveryKind, Option<i64>, i64)> = BTreeMap::new();
        for row in query.fetch_all(&mut *tx).await? {
            rows.insert(
                get(&row, "id")?,
                (
                    rows::parsed(&row, "kind")?,
                    get(&row, "action_id")?,
                    get(&row, "attempts")?,
                ),
            );
        }
        let mut summary: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
        // Delivered rows, in one statement per status code (usually one).
        let mut by_code: BTreeMap<u16, Vec<i64>> = BTreeMap::new();
        for outcome in outcomes {
            if let (DeliveryResult::Delivered { status_code }, true) =
                (&outcome.result, rows.contains_key(&outcome.id))
            {
                by_code.entry(*status_code).or_default().push(outcome.id);
            }
        }
        for (code, ids) in &by_code {
            let sql = format!(
                "UPDATE outbox SET status = 'delivered', attempts = attempts + 1, delivered_at = $1, updated_at = $1, last_status_code = $2, last_error = NULL, lease_owner = NULL WHERE status IN ('pending', 'sending') AND id IN ({})",
                list(ids.len(), 3)
            );
            let mut update = sqlx::query(&sql).bind(ms(now)).bind(i64::from(*code));
            for id in ids {
                update = update.bind(*id);
            }
            update.execute(&mut *tx).await?;
            summary.entry("delivered").or_default().extend(ids);
        }
        // What follows for their actions: applied ones are delivered, lifted
        // ones have expired.
        for (kind, to, from) in [
            (
                DeliveryKind::Apply,
                ActionStatus::Delivered.as_str(),
                "('pending')",
            ),
            (
                DeliveryKind::Lift,
                ActionStatus::Expired.as_str(),
                "('pending', 'delivered', 'applied', 'failed')",
            ),
        ] {
            let actions: Vec<i64> = by_code
                .values()
                .flatten()
                .filter_map(|id| rows.get(id))
                .filter(|(k, _, _)| *k == kind)
                .filter_map(|(_, action, _)| *action)
                .collect();
            if actions.is_empty() {
                continue;
            }
            let sql = format!(
                "UPDATE actions SET status = $1, status_at = $2, status_detail = NULL WHERE status IN {from} AND id IN ({})",
                list(actions.len(), 3)
            );
            let mut update = sqlx::query(&sql).bind(to).bind(ms(now));
            for id in actions {
                update = update.bind(id);
            }
            update.execute(&mut *tx).await?;
        }
        // Failures, one by one: each has its own error and retry time.
        for outcome in outcomes {
            let DeliveryResult::Failed {
                error,
                status_code,
                retry_at,
            } = &outcome.result
            else {
                continue;
            };
            let Some((kind, action_id, attempts)) = rows.get(&outcome.id) else {
                continue;
            };
            let attempts = attempts + 1;
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
                .execute(&mut *tx)
                .await?;
            if retry_at.is_some() {
                summary.entry("retrying").or_default().push(outcome.id);
                continue;
            }
            summary.entry("dead").or_default().push(outcome.id);
            if let (Some(action_id), DeliveryKind::Apply) = (action_id, kind) {
                sqlx::query("UPDATE actions SET status = 'failed', status_at = $1, status_detail = $2 WHERE id = $3 AND status = 'pending'")
                    .bind(ms(now))
                    .bind(clip(&format!("delivery failed after {attempts} attempts: {error}")))
                    .bind(*action_id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
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

    pub(crate) async fn confirm_delivery_impl(
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
        let row = sqlx::query(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM outbox WHERE idempotency_key = $1{}",
            self.backend.for_update()
        ))
        .bind(idempotency_key)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("delivery {idempotency_key:?}")))?;
        let before = delivery(&row)?;
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
        let detail = said.as_deref().map(|d| rows::stored_text(d).into_owned());
        if before.status != target {
            sqlx::query("UPDATE outbox SET status = $1, confirmed_at = $2, updated_at = $2, platform_detail = $3, lease_owner = NULL, delivered_at = COALESCE(delivered_at, $2) WHERE id = $4")
                .bind(target.as_str())
                .bind(ms(now))
                .bind(detail.clone())
                .bind(before.id)
                .execute(&mut *tx)
                .await?;
            if let (Some(action_id), DeliveryKind::Apply) = (before.action_id, before.kind) {
                if applied {
                    sqlx::query("UPDATE actions SET status = 'applied', status_at = $1, status_detail = $2 WHERE id = $3 AND status IN ('pending', 'delivered', 'failed')")
                        .bind(ms(now))
                        .bind(detail.clone())
                        .bind(action_id)
                        .execute(&mut *tx)
                        .await?;
                } else {
                    sqlx::query("UPDATE actions SET status = 'failed', status_at = $1, status_detail = $2 WHERE id = $3 AND status IN ('pending', 'delivered', 'applied')")
                        .bind(ms(now))
                        .bind(detail.clone().unwrap_or_else(|| "the platform could not apply it".into()))
                        .bind(action_id)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            let draft = AuditDraft::new(
                &Actor {
                    user_id: None,
                    name: "platform".into(),
                    token_id: None,
                },
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
        let after = sqlx::query(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM outbox WHERE id = $1"
        ))
        .bind(before.id)
        .fetch_one(&mut *tx)
        .await?;
        let after = delivery(&after)?;
        tx.commit().await?;
        Ok(after)
    }

    pub(crate) async fn list_deliveries_impl(
        &self,
        filter: &DeliveryFilter,
    ) -> StoreResult<Vec<DeliveryRecord>> {
        let mut conditions = vec!["id > $1".to_string()];
        let mut next = 2;
        if filter.action_id.is_some() {
            conditions.push(format!("action_id = ${next}"));
            next += 1;
        }
        if !filter.statuses.is_empty() {
            let list: Vec<String> = (0..filter.statuses.len())
                .map(|i| format!("${}", next + i))
                .collect();
            next += filter.statuses.len();
            conditions.push(format!("status IN ({})", list.join(", ")));
        }
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM outbox WHERE {} ORDER BY id LIMIT ${next}",
            conditions.join(" AND ")
        );
        let mut query = sqlx::query(&sql).bind(filter.after_id);
        if let Some(action_id) = filter.action_id {
            query = query.bind(action_id);
        }
        for status in &filter.statuses {
            query = query.bind(status.as_str());
        }
        query
            .bind(i64::from(filter.limit.clamp(1, PAGE_SIZE_MAX)))
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(delivery)
            .collect()
    }

    pub(crate) async fn replay_delivery_impl(
        &self,
        actor: &Actor,
        id: i64,
        now: Timestamp,
    ) -> StoreResult<DeliveryRecord> {
        let mut tx = self.writer.begin().await?;
        let row = sqlx::query(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM outbox WHERE id = $1{}",
            self.backend.for_update()
        ))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("delivery {id}")))?;
        let before = delivery(&row)?;
        if !before.status.can_replay() {
            return Err(StoreError::Conflict(format!(
                "delivery {id} is {}; only dead letters and deliveries the platform failed can be replayed",
                before.status
            )));
        }
        // The platform said it could not apply the effect under this key: a
        // new attempt needs a new key. A dead letter may have arrived after
        // all, so it keeps its key.
        let (replays, key, body) = if before.status == DeliveryStatus::Failed {
            let replays = before.replays + 1;
            let entity = before.action_id.or(before.notice_id).unwrap_or(before.id);
            let key = webhook::idempotency_key(before.kind, entity, replays);
            let mut body = before.body.clone();
            body["idempotency_key"] = json!(key);
            (replays, key, body)
        } else {
            (
                before.replays,
                before.idempotency_key.clone(),
                before.body.clone(),
            )
        };
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
        let after = sqlx::query(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM outbox WHERE id = $1"
        ))
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        let after = delivery(&after)?;
        tx.commit().await?;
        Ok(after)
    }

    pub(crate) async fn delivery_counts_impl(&self) -> StoreResult<DeliveryCounts> {
        let rows =
            sqlx::query("SELECT status, COUNT(*) AS n FROM outbox GROUP BY status ORDER BY status")
                .fetch_all(&self.reader)
                .await?;
        let by_status = rows
            .iter()
            .map(|row| Ok((get(row, "status")?, get(row, "n")?)))
            .collect::<StoreResult<Vec<(String, i64)>>>()?;
        let oldest: Option<i64> = sqlx::query_scalar(
            "SELECT MIN(next_attempt_at) FROM outbox WHERE status IN ('pending', 'sending')",
        )
        .fetch_one(&self.reader)
        .await?;
        Ok(DeliveryCounts {
            by_status,
            oldest_due_at: oldest
                .map(|v| rows::from_ms(v, "next_attempt_at"))
                .transpose()?,
        })
    }
}
