//! The SQL of [`ModelStore`]: numbered versions of classifier models, at
//! most one live and one shadow per name, audited.
//!
//! On PostgreSQL a transaction-scoped advisory lock makes saves and
//! promotions take turns, so that version numbers are handed out in order
//! and the one-live/one-shadow indexes are never raced; on SQLite the
//! single writer connection does the same.

use async_trait::async_trait;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use warden_classifier::limits::{
    FEEDBACK_DECISIONS_MAX, MODEL_BYTES_MAX, MODEL_METRICS_BYTES_MAX, MODEL_NOTE_CHARS_MAX,
};
use warden_classifier::{check_model_name, Judgement};
use warden_domain::limits::PAGE_SIZE_MAX;
use warden_domain::{SubjectRef, Timestamp};

use super::free_text::unstored_text;
use super::wrappers::{records, DbJudgement, DbModel, DbModelVersion, MODEL_COLUMNS};
use super::{ms, AuditDraft, Backend, SqlStore};
use crate::{
    Actor, ModelStatus, ModelStore, ModelVersionRecord, NewModelVersion, StoreError, StoreResult,
    StoredModel,
};

/// Advisory lock key that orders model saves and promotions on PostgreSQL.
const MODEL_LOCK_KEY: i64 = 0x5741_5244_454e_00c1;

use crate::limits::KIND_BYTES_MAX;

/// A stored version with its bytes, checked against their SHA-256.
fn checked(DbModel { record, bytes }: DbModel) -> StoreResult<StoredModel> {
    if sha256_hex(&bytes) != record.sha256 {
        return Err(StoreError::Database(format!(
            "model {} version {} is corrupt: its bytes do not match their SHA-256",
            record.name, record.version
        )));
    }
    Ok(StoredModel { record, bytes })
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Checks a new version's fields, naming the first at fault.
fn check_new(model: &NewModelVersion) -> StoreResult<()> {
    check_model_name(&model.name).map_err(|error| match error {
        warden_classifier::ClassifierError::Invalid { field, reason } => {
            StoreError::invalid(field, reason)
        }
        other => StoreError::invalid("name", other.to_string()),
    })?;
    if model.status == ModelStatus::Retired {
        return Err(StoreError::invalid(
            "status",
            "a new version is saved as shadow or live",
        ));
    }
    if model.kind.is_empty()
        || model.kind.len() > KIND_BYTES_MAX
        || !model
            .kind
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(StoreError::invalid(
            "kind",
            format!("must be 1 to {KIND_BYTES_MAX} letters, digits or '-'"),
        ));
    }
    if model.bytes.is_empty() || model.bytes.len() > MODEL_BYTES_MAX {
        return Err(StoreError::invalid(
            "bytes",
            format!("a model must be 1 to {MODEL_BYTES_MAX} bytes"),
        ));
    }
    if !model.metrics.is_object() {
        return Err(StoreError::invalid("metrics", "must be a JSON object"));
    }
    if model.metrics.to_string().len() > MODEL_METRICS_BYTES_MAX {
        return Err(StoreError::invalid(
            "metrics",
            format!("must be at most {MODEL_METRICS_BYTES_MAX} bytes of JSON"),
        ));
    }
    if model.note.chars().count() > MODEL_NOTE_CHARS_MAX {
        return Err(StoreError::invalid(
            "note",
            format!("must be at most {MODEL_NOTE_CHARS_MAX} characters"),
        ));
    }
    Ok(())
}

/// Inserts `model` as version `next`; answers whether it was new (two
/// saves racing for one number: the second is not).
async fn insert_version(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    model: &NewModelVersion,
    next: i64,
    sha256: &str,
    actor: &Actor,
    now: Timestamp,
) -> StoreResult<bool> {
    let inserted = sqlx::query(
        "INSERT INTO classifier_models (name, version, status, kind, metrics, model, model_bytes, sha256, note, created_by, created_at, status_changed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (name, version) DO NOTHING",
    )
    .bind(&model.name)
    .bind(next)
    .bind(model.status.as_str())
    .bind(&model.kind)
    .bind(model.metrics.to_string())
    .bind(model.bytes.clone())
    .bind(model.bytes.len() as i64)
    .bind(sha256)
    .bind(&model.note)
    .bind(&actor.name)
    .bind(ms(now))
    .bind(ms(now))
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Retires the version of `name` holding `status` (at most one); returns
/// the versions retired.
async fn retire(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    name: &str,
    status: ModelStatus,
    now: Timestamp,
) -> StoreResult<Vec<i64>> {
    let retired: Vec<i64> = sqlx::query_scalar(
        "SELECT version FROM classifier_models WHERE name = $1 AND status = $2 ORDER BY version",
    )
    .bind(name)
    .bind(status.as_str())
    .fetch_all(&mut **tx)
    .await?;
    sqlx::query(
        "UPDATE classifier_models SET status = 'retired', status_changed_at = $1 WHERE name = $2 AND status = $3",
    )
    .bind(ms(now))
    .bind(name)
    .bind(status.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(retired)
}

impl SqlStore {
    /// The version of each model in `status` (one per name: the partial
    /// unique indexes), by name, without bytes.
    async fn versions_in_status(
        &self,
        status: ModelStatus,
        limit: u32,
    ) -> StoreResult<Vec<ModelVersionRecord>> {
        let rows = sqlx::query_as::<_, DbModelVersion>(&format!(
            "SELECT {MODEL_COLUMNS} FROM classifier_models WHERE status = $1 ORDER BY name LIMIT $2"
        ))
        .bind(status.as_str())
        .bind(i64::from(limit.clamp(1, PAGE_SIZE_MAX)))
        .fetch_all(&self.reader)
        .await?;
        Ok(records(rows))
    }

    async fn lock_models(&self, tx: &mut sqlx::Transaction<'static, sqlx::Any>) -> StoreResult<()> {
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(MODEL_LOCK_KEY)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// The version of `name` in `status` (at most one: the partial unique
    /// indexes), with its bytes.
    async fn stored_by_status(
        &self,
        name: &str,
        status: ModelStatus,
    ) -> StoreResult<Option<StoredModel>> {
        sqlx::query_as::<_, DbModel>(&format!(
            "SELECT {MODEL_COLUMNS}, model FROM classifier_models WHERE name = $1 AND status = $2"
        ))
        .bind(name)
        .bind(status.as_str())
        .fetch_optional(&self.reader)
        .await?
        .map(checked)
        .transpose()
    }
}

#[async_trait]
impl ModelStore for SqlStore {
    async fn save_model_version(
        &self,
        actor: &Actor,
        model: NewModelVersion,
        now: Timestamp,
    ) -> StoreResult<ModelVersionRecord> {
        check_new(&model)?;
        let sha256 = sha256_hex(&model.bytes);
        let status = model.status.as_str();
        let mut tx = self.writer.begin().await?;
        self.lock_models(&mut tx).await?;
        let next: i64 = sqlx::query_scalar(
            "SELECT CAST(COALESCE(MAX(version), 0) + 1 AS BIGINT) FROM classifier_models WHERE name = $1",
        )
        .bind(&model.name)
        .fetch_one(&mut *tx)
        .await?;
        let retired = retire(&mut tx, &model.name, model.status, now).await?;
        let inserted = insert_version(&mut tx, &model, next, &sha256, actor, now).await?;
        if !inserted {
            return Err(StoreError::Conflict(format!(
                "another version of model {} was saved at the same moment; try again",
                model.name
            )));
        }
        let draft = AuditDraft::new(
            actor,
            "classifier.save",
            "classifier_model",
            format!("{}:{next}", model.name),
            Value::Null,
            json!({
                "name": model.name,
                "version": next,
                "status": status,
                "kind": model.kind,
                "sha256": sha256,
                "size_bytes": model.bytes.len(),
                "metrics": model.metrics,
                "note": model.note,
                "retired": retired,
            }),
        );
        self.append_audit(&mut tx, vec![draft], now).await?;
        tx.commit().await?;
        Ok(ModelVersionRecord {
            name: model.name,
            version: next,
            status: model.status,
            kind: model.kind,
            metrics: model.metrics,
            size_bytes: model.bytes.len() as i64,
            sha256,
            note: model.note,
            created_by: actor.name.clone(),
            created_at: now,
            status_changed_at: now,
        })
    }

    async fn live_model(&self, name: &str) -> StoreResult<Option<StoredModel>> {
        self.stored_by_status(name, ModelStatus::Live).await
    }

    async fn shadow_model(&self, name: &str) -> StoreResult<Option<StoredModel>> {
        self.stored_by_status(name, ModelStatus::Shadow).await
    }

    async fn model_version(&self, name: &str, version: i64) -> StoreResult<Option<StoredModel>> {
        sqlx::query_as::<_, DbModel>(&format!(
            "SELECT {MODEL_COLUMNS}, model FROM classifier_models WHERE name = $1 AND version = $2"
        ))
        .bind(name)
        .bind(version)
        .fetch_optional(&self.reader)
        .await?
        .map(checked)
        .transpose()
    }

    async fn model_versions(
        &self,
        name: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<ModelVersionRecord>> {
        let limit = i64::from(limit.clamp(1, PAGE_SIZE_MAX));
        let rows = match name {
            Some(name) => {
                sqlx::query_as::<_, DbModelVersion>(&format!(
                    "SELECT {MODEL_COLUMNS} FROM classifier_models WHERE name = $1 ORDER BY version DESC LIMIT $2"
                ))
                .bind(name)
                .bind(limit)
                .fetch_all(&self.reader)
                .await?
            }
            None => {
                sqlx::query_as::<_, DbModelVersion>(&format!(
                    "SELECT {MODEL_COLUMNS} FROM classifier_models ORDER BY name, version DESC LIMIT $1"
                ))
                .bind(limit)
                .fetch_all(&self.reader)
                .await?
            }
        };
        Ok(records(rows))
    }

    async fn live_model_versions(&self, limit: u32) -> StoreResult<Vec<ModelVersionRecord>> {
        self.versions_in_status(ModelStatus::Live, limit).await
    }

    async fn judged_text(&self, subject: &SubjectRef) -> StoreResult<Option<String>> {
        let own: Option<Option<String>> =
            sqlx::query_scalar("SELECT text FROM subjects WHERE kind = $1 AND platform_id = $2")
                .bind(subject.kind.as_str())
                .bind(subject.id.as_str())
                .fetch_optional(&self.reader)
                .await?;
        if let Some(text) = own.flatten().map(unstored_text) {
            if !text.trim().is_empty() {
                return Ok(Some(text));
            }
        }
        let data: Option<String> = sqlx::query_scalar(
            "SELECT data FROM events WHERE subject_kind = $1 AND subject_id = $2 ORDER BY occurred_at DESC, seq DESC LIMIT 1",
        )
        .bind(subject.kind.as_str())
        .bind(subject.id.as_str())
        .fetch_optional(&self.reader)
        .await?;
        Ok(data
            .and_then(|d| serde_json::from_str::<Value>(&d).ok())
            .and_then(|d| d.get("text").and_then(Value::as_str).map(str::to_string))
            .filter(|t| !t.trim().is_empty()))
    }

    async fn shadow_model_versions(&self, limit: u32) -> StoreResult<Vec<ModelVersionRecord>> {
        self.versions_in_status(ModelStatus::Shadow, limit).await
    }

    async fn promote_model(
        &self,
        actor: &Actor,
        name: &str,
        version: i64,
        now: Timestamp,
    ) -> StoreResult<ModelVersionRecord> {
        let mut tx = self.writer.begin().await?;
        self.lock_models(&mut tx).await?;
        let row = sqlx::query_as::<_, DbModelVersion>(&format!(
            "SELECT {MODEL_COLUMNS} FROM classifier_models WHERE name = $1 AND version = $2{}",
            self.backend.for_update()
        ))
        .bind(name)
        .bind(version)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(DbModelVersion(mut promoted)) = row else {
            return Err(StoreError::NotFound(format!(
                "model {name} version {version}"
            )));
        };
        if promoted.status == ModelStatus::Live {
            return Ok(promoted);
        }
        let retired = retire(&mut tx, name, ModelStatus::Live, now).await?;
        sqlx::query(
            "UPDATE classifier_models SET status = 'live', status_changed_at = $1 WHERE name = $2 AND version = $3",
        )
        .bind(ms(now))
        .bind(name)
        .bind(version)
        .execute(&mut *tx)
        .await?;
        let draft = AuditDraft::new(
            actor,
            "classifier.promote",
            "classifier_model",
            format!("{name}:{version}"),
            json!({"status": promoted.status.as_str()}),
            json!({"status": "live", "retired": retired}),
        );
        self.append_audit(&mut tx, vec![draft], now).await?;
        tx.commit().await?;
        promoted.status = ModelStatus::Live;
        promoted.status_changed_at = now;
        Ok(promoted)
    }

    async fn decision_judgements(
        &self,
        category: &str,
        since: Option<Timestamp>,
        limit: u32,
    ) -> StoreResult<Vec<Judgement>> {
        let limit = (limit as usize).clamp(1, FEEDBACK_DECISIONS_MAX) as i64;
        let since = since.map_or(i64::MIN, ms);
        let rows = sqlx::query_as::<_, DbJudgement>(
            "SELECT d.id, d.subject_kind, d.subject_id, d.violation, d.category, d.superseded_by, d.reversed_at, s.text AS subject_text, \
             (SELECT e.data FROM events e WHERE e.subject_kind = d.subject_kind AND e.subject_id = d.subject_id AND e.occurred_at <= d.decided_at ORDER BY e.occurred_at DESC, e.seq DESC LIMIT 1) AS event_data \
             FROM decisions d JOIN cases c ON c.id = d.case_id \
             LEFT JOIN subjects s ON s.kind = d.subject_kind AND s.platform_id = d.subject_id \
             WHERE (d.category = $1 OR c.category = $1) AND d.decided_at >= $2 \
             ORDER BY d.id DESC LIMIT $3",
        )
        .bind(category)
        .bind(since)
        .bind(limit)
        .fetch_all(&self.reader)
        .await?;
        Ok(records(rows))
    }
}
