//! The SQL of [`AuditLog`]: appending to and reading the hash-chained
//! audit log.
//!
//! Appends happen as the last statements of the transaction that makes the
//! change, so a change and its audit record commit together. On SQLite, whose
//! writes go one at a time, an append takes the next place in the chain and
//! its hash at once. On PostgreSQL writers do not wait for each other: an
//! append only inserts the record, numbered by a sequence and stamped with
//! its transaction's id, and the sealer (`audit_sealing.rs`) later gives
//! records their place in the chain and their hashes, in order, below the
//! oldest transaction still running. Reads see sealed records only, and seal
//! what was committed before them first.
//!
//! Signed checkpoints of the chain's head (`audit_checkpoints`) are stored
//! here too. Storing one is not audited: it changes nothing the log
//! describes, and a record per checkpoint would move the head it signed.

use async_trait::async_trait;
use serde_json::Value;
use sqlx::{Any, Transaction};

use warden_domain::audit::checkpoint::{SignedCheckpoint, StoredCheckpoint};
use warden_domain::audit::{AuditEntry, StoredAuditRecord, GENESIS_HASH};
use warden_domain::limits::{AUDIT_CHECKPOINTS_MAX, AUDIT_VERIFY_PAGE};
use warden_domain::Timestamp;

use super::wrappers::{DbAuditRecord, DbChainEnd, AUDIT_COLUMNS};
use super::{ms, Backend, SqlStore};
use crate::{Actor, AuditLog, StoreResult};

/// An audit record before it has its place in the chain.
#[derive(Debug, Clone)]
pub(crate) struct AuditDraft {
    actor: String,
    action: String,
    target_kind: String,
    target_id: String,
    before: Value,
    after: Value,
}

impl AuditDraft {
    pub(crate) fn new(
        actor: &Actor,
        action: &str,
        target_kind: &str,
        target_id: impl ToString,
        before: Value,
        mut after: Value,
    ) -> Self {
        // A change made through an API token names the token.
        if let Some(token_id) = actor.token_id {
            match &mut after {
                Value::Object(fields) => {
                    fields.insert("via_token".into(), token_id.into());
                }
                Value::Null => after = serde_json::json!({ "via_token": token_id }),
                other => {
                    after = serde_json::json!({ "value": other.take(), "via_token": token_id });
                }
            }
        }
        Self {
            actor: actor.name.clone(),
            action: action.to_string(),
            target_kind: target_kind.to_string(),
            target_id: target_id.to_string(),
            before,
            after,
        }
    }
}

impl AuditDraft {
    /// Adds the fields of `extra` (an object) to the record's after-state.
    pub(crate) fn merge_after(&mut self, extra: Value) {
        if let (Value::Object(after), Value::Object(extra)) = (&mut self.after, extra) {
            after.extend(extra);
        }
    }
}

impl AuditDraft {
    /// The record's content at place `seq`, written at `at_ms`.
    pub(crate) fn into_entry(self, seq: i64, at_ms: i64) -> AuditEntry {
        AuditEntry {
            seq,
            at_ms,
            actor: self.actor,
            action: self.action,
            target_kind: self.target_kind,
            target_id: self.target_id,
            before: self.before,
            after: self.after,
        }
    }
}

impl SqlStore {
    /// Appends `drafts` to the log inside `tx`. Call it last in a transaction.
    pub(crate) async fn append_audit(
        &self,
        tx: &mut Transaction<'static, Any>,
        drafts: Vec<AuditDraft>,
        now: Timestamp,
    ) -> StoreResult<()> {
        if drafts.is_empty() {
            return Ok(());
        }
        match self.backend {
            Backend::Sqlite => append_chained(tx, drafts, now).await,
            Backend::Postgres => self.append_unsealed(tx, drafts, now).await,
        }
    }
}

/// SQLite: appends `drafts` at the end of the chain, hashed. Writes go one
/// at a time there, so nobody else appends between the read and the write.
async fn append_chained(
    tx: &mut Transaction<'static, Any>,
    drafts: Vec<AuditDraft>,
    now: Timestamp,
) -> StoreResult<()> {
    let last = sqlx::query_as::<_, DbChainEnd>(
        "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
    )
    .fetch_optional(&mut **tx)
    .await?;
    let (mut seq, mut previous_hash) = match last {
        Some(DbChainEnd(end)) => end,
        None => (0, GENESIS_HASH.to_string()),
    };
    for draft in drafts {
        seq += 1;
        let entry = draft.into_entry(seq, ms(now));
        let hash = entry.chain_hash(&previous_hash);
        sqlx::query(
            "INSERT INTO audit_log (seq, at, actor, action, target_kind, target_id, before_state, after_state, previous_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(entry.seq)
        .bind(entry.at_ms)
        .bind(&entry.actor)
        .bind(&entry.action)
        .bind(&entry.target_kind)
        .bind(&entry.target_id)
        .bind(entry.before.to_string())
        .bind(entry.after.to_string())
        .bind(&previous_hash)
        .bind(&hash)
        .execute(&mut **tx)
        .await?;
        previous_hash = hash;
    }
    Ok(())
}

#[async_trait]
impl AuditLog for SqlStore {
    async fn record_read(
        &self,
        actor: &Actor,
        action: &str,
        target_kind: &str,
        target_id: &str,
        details: Value,
        now: Timestamp,
    ) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        let draft = AuditDraft::new(actor, action, target_kind, target_id, Value::Null, details);
        self.append_audit(&mut tx, vec![draft], now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn audit_page(&self, after_seq: i64, limit: u32) -> StoreResult<Vec<StoredAuditRecord>> {
        self.seal_committed_audit().await?;
        let records = sqlx::query_as::<_, DbAuditRecord>(&format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2"
        ))
        .bind(after_seq)
        .bind(i64::from(limit.min(AUDIT_VERIFY_PAGE)))
        .fetch_all(&self.reader)
        .await?;
        Ok(records.into_iter().map(|DbAuditRecord(r)| r).collect())
    }
}

/// Checkpoints: not a port of their own yet (the command line and the
/// checkpoint writer in `serve` use them on a concrete store).
impl SqlStore {
    /// The newest audit record, if the log has any.
    /// Records committed before the call are sealed first (PostgreSQL).
    pub async fn audit_head(&self) -> StoreResult<Option<StoredAuditRecord>> {
        self.seal_committed_audit().await?;
        let record = sqlx::query_as::<_, DbAuditRecord>(&format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1"
        ))
        .fetch_optional(&self.reader)
        .await?;
        Ok(record.map(|DbAuditRecord(r)| r))
    }

    /// Stores a signed checkpoint of the chain; answers its id.
    pub async fn save_audit_checkpoint(&self, signed: &SignedCheckpoint) -> StoreResult<i64> {
        let checkpoint = &signed.checkpoint;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO audit_checkpoints (seq, hash, key_id, signed_at, note) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(checkpoint.seq)
        .bind(&checkpoint.hash)
        .bind(&checkpoint.key_id)
        .bind(ms(checkpoint.signed_at))
        .bind(signed.to_text())
        .fetch_one(&self.writer)
        .await?;
        Ok(id)
    }

    /// Stored checkpoints, newest first, at most `limit` (and at most
    /// [`AUDIT_CHECKPOINTS_MAX`]). Their text is not read here: a row
    /// someone changed may not parse, and saying so is the verifier's job.
    pub async fn audit_checkpoints(&self, limit: u32) -> StoreResult<Vec<StoredCheckpoint>> {
        let rows: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, note FROM audit_checkpoints ORDER BY id DESC LIMIT $1")
                .bind(i64::from(limit.min(AUDIT_CHECKPOINTS_MAX)))
                .fetch_all(&self.reader)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(id, text)| StoredCheckpoint { id, text })
            .collect())
    }
}
