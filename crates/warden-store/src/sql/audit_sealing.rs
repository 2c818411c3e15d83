//! The PostgreSQL audit sealer: records are appended unhashed, in the
//! writer's own transaction and without waiting for other writers; the
//! sealer gives them their place in the chain (`seq`) and their hashes
//! later, in batches.
//!
//! The chain's order is (transaction id, record id). Every transaction that
//! appends has its id (`txid_current()`, the column default) before its
//! records, and the sealer only seals records whose transaction id is below
//! the oldest transaction still running (`txid_snapshot_xmin`): every
//! transaction below it has finished, so all its records are visible, and
//! every transaction that commits later has a larger id and sorts after
//! everything sealed. No record can therefore appear later below the sealed
//! point, and a record's place never changes once sealed. Sealers take turns
//! under an advisory lock; writers never take it.

use std::time::{Duration as StdDuration, Instant};

use sqlx::{Any, Transaction};

use warden_domain::audit::GENESIS_HASH;
use warden_domain::limits::{
    AUDIT_SEAL_BATCH, AUDIT_SEAL_BATCHES_MAX, AUDIT_SEAL_ROWS_PER_STATEMENT, AUDIT_SEAL_WAIT_MS,
};
use warden_domain::Timestamp;

use super::audit::AuditDraft;
use super::wrappers::{DbChainEnd, DbUnsealedAudit, UNSEALED_AUDIT_COLUMNS};
use super::{ms, Backend, SqlStore};
use crate::StoreResult;

/// Advisory lock key that makes sealers take turns.
const AUDIT_SEAL_LOCK_KEY: i64 = 0x5741_5244_454e_00a2;

/// Records one appending `INSERT` writes (7 parameters each).
const APPEND_ROWS_PER_STATEMENT: usize = 500;

/// How long a reader waits between sealing attempts while older
/// transactions finish.
const SEAL_RETRY: StdDuration = StdDuration::from_millis(2);

/// A record's place and hashes, as the sealer writes them.
struct Sealed {
    id: i64,
    seq: i64,
    previous_hash: String,
    hash: String,
}

impl SqlStore {
    /// PostgreSQL: inserts `drafts` unsealed, in order, in `tx`.
    pub(super) async fn append_unsealed(
        &self,
        tx: &mut Transaction<'static, Any>,
        drafts: Vec<AuditDraft>,
        now: Timestamp,
    ) -> StoreResult<()> {
        let mut drafts = drafts.into_iter().peekable();
        while drafts.peek().is_some() {
            let chunk: Vec<_> = drafts.by_ref().take(APPEND_ROWS_PER_STATEMENT).collect();
            let rows: Vec<String> = (0..chunk.len())
                .map(|i| {
                    let p = i * 7;
                    format!(
                        "(${}, ${}, ${}, ${}, ${}, ${}, ${})",
                        p + 1,
                        p + 2,
                        p + 3,
                        p + 4,
                        p + 5,
                        p + 6,
                        p + 7
                    )
                })
                .collect();
            let sql = format!(
                "INSERT INTO audit_log (at, actor, action, target_kind, target_id, before_state, after_state) VALUES {}",
                rows.join(", ")
            );
            let mut query = sqlx::query(&sql);
            for draft in chunk {
                let entry = draft.into_entry(0, ms(now));
                query = query
                    .bind(entry.at_ms)
                    .bind(entry.actor)
                    .bind(entry.action)
                    .bind(entry.target_kind)
                    .bind(entry.target_id)
                    .bind(entry.before.to_string())
                    .bind(entry.after.to_string());
            }
            query.execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// Seals every record that can be sealed now, in batches; answers how
    /// many it sealed. SQLite chains records as they are written: nothing
    /// to do there.
    pub async fn seal_audit(&self) -> StoreResult<u64> {
        if self.backend != Backend::Postgres {
            return Ok(0);
        }
        let mut sealed = 0;
        for _ in 0..AUDIT_SEAL_BATCHES_MAX {
            let batch = self.seal_batch().await?;
            sealed += batch;
            if batch < u64::from(AUDIT_SEAL_BATCH) {
                break;
            }
        }
        Ok(sealed)
    }

    /// Seals every record committed before the call, waiting up to
    /// [`AUDIT_SEAL_WAIT_MS`] for older transactions still running to end
    /// (their records come first in the chain). Readers of the log call it
    /// so that what was done before they read is in what they read.
    pub(crate) async fn seal_committed_audit(&self) -> StoreResult<()> {
        if self.backend != Backend::Postgres {
            return Ok(());
        }
        let horizon: i64 = sqlx::query_scalar("SELECT txid_snapshot_xmax(txid_current_snapshot())")
            .fetch_one(&self.writer)
            .await?;
        let deadline = Instant::now() + StdDuration::from_millis(AUDIT_SEAL_WAIT_MS);
        loop {
            let waiting: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM audit_log WHERE seq IS NULL AND txid < $1)",
            )
            .bind(horizon)
            .fetch_one(&self.writer)
            .await?;
            if !waiting {
                return Ok(());
            }
            if self.seal_audit().await? == 0 {
                if Instant::now() >= deadline {
                    tracing::warn!(
                        wait_ms = AUDIT_SEAL_WAIT_MS,
                        "audit records wait for an older transaction still running; reading the sealed log without them"
                    );
                    return Ok(());
                }
                tokio::time::sleep(SEAL_RETRY).await;
            }
        }
    }

    /// Seals up to [`AUDIT_SEAL_BATCH`] records below the oldest running
    /// transaction, in one transaction; answers how many.
    async fn seal_batch(&self) -> StoreResult<u64> {
        let mut tx = self.writer.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(AUDIT_SEAL_LOCK_KEY)
            .execute(&mut *tx)
            .await?;
        let oldest_running: i64 =
            sqlx::query_scalar("SELECT txid_snapshot_xmin(txid_current_snapshot())")
                .fetch_one(&mut *tx)
                .await?;
        let records = sqlx::query_as::<_, DbUnsealedAudit>(&format!(
            "SELECT {UNSEALED_AUDIT_COLUMNS} FROM audit_log WHERE seq IS NULL AND txid < $1 ORDER BY txid, id LIMIT $2"
        ))
        .bind(oldest_running)
        .bind(i64::from(AUDIT_SEAL_BATCH))
        .fetch_all(&mut *tx)
        .await?;
        if records.is_empty() {
            tx.rollback().await?;
            return Ok(0);
        }
        let end = sqlx::query_as::<_, DbChainEnd>(
            "SELECT seq, hash FROM audit_log WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1",
        )
        .fetch_optional(&mut *tx)
        .await?;
        let (mut seq, mut previous_hash) = match end {
            Some(DbChainEnd(end)) => end,
            None => (0, GENESIS_HASH.to_string()),
        };
        let mut sealed = Vec::with_capacity(records.len());
        for DbUnsealedAudit((id, mut entry)) in records {
            seq += 1;
            entry.seq = seq;
            let hash = entry.chain_hash(&previous_hash);
            sealed.push(Sealed {
                id,
                seq,
                previous_hash: std::mem::replace(&mut previous_hash, hash.clone()),
                hash,
            });
        }
        for chunk in sealed.chunks(AUDIT_SEAL_ROWS_PER_STATEMENT) {
            write_seals(&mut tx, chunk).await?;
        }
        tx.commit().await?;
        Ok(sealed.len() as u64)
    }
}

/// Writes the places and hashes of `sealed` in one statement.
async fn write_seals(tx: &mut Transaction<'static, Any>, sealed: &[Sealed]) -> StoreResult<()> {
    let rows: Vec<String> = (0..sealed.len())
        .map(|i| {
            let p = i * 4;
            format!(
                "(CAST(${} AS BIGINT), CAST(${} AS BIGINT), CAST(${} AS TEXT), CAST(${} AS TEXT))",
                p + 1,
                p + 2,
                p + 3,
                p + 4
            )
        })
        .collect();
    let sql = format!(
        "UPDATE audit_log SET seq = v.seq, previous_hash = v.previous_hash, hash = v.hash FROM (VALUES {}) AS v (id, seq, previous_hash, hash) WHERE audit_log.id = v.id AND audit_log.seq IS NULL",
        rows.join(", ")
    );
    let mut query = sqlx::query(&sql);
    for record in sealed {
        query = query
            .bind(record.id)
            .bind(record.seq)
            .bind(&record.previous_hash)
            .bind(&record.hash);
    }
    let written = query.execute(&mut **tx).await?.rows_affected();
    if written != sealed.len() as u64 {
        return Err(crate::StoreError::Conflict(format!(
            "sealing audit records: {written} of {} records were written; another sealer ran without the lock",
            sealed.len()
        )));
    }
    Ok(())
}
