//! The SQL of [`TaxonomyStore`]: taxonomy versions (the enforcement
//! policy, numbered, never changed) and notice templates. The version in
//! force is also read by deciding (`decision_facts.rs`), which seeds
//! version 1 on first use.

use async_trait::async_trait;
use serde_json::{json, Value};
use sqlx::{Any, AnyConnection, Transaction};

use warden_domain::enforcement::EnforcementPolicy;
use warden_domain::limits::{NOTICE_TEMPLATES_MAX, PAGE_SIZE_MAX, POLICY_DOCUMENT_BYTES_MAX};
use warden_domain::Timestamp;

use super::free_text::stored_text;
use super::wrappers::{
    records, DbTaxonomyVersion, DbTemplate, Wrapped, TEMPLATE_COLUMNS, VERSION_COLUMNS,
};
use super::{ms, AuditDraft, Backend, SqlStore};
use crate::{
    Actor, CasePolicy, NoticeTemplateInput, NoticeTemplateRecord, StoreError, StoreResult,
    TaxonomyStore, TaxonomyVersionRecord,
};

/// Advisory lock key that makes publishers of taxonomy versions take turns
/// on PostgreSQL, so that numbers are handed out in order.
const PUBLISH_LOCK_KEY: i64 = 0x5741_5244_454e_00b1;

pub(crate) async fn current_version(
    conn: &mut AnyConnection,
) -> StoreResult<Option<TaxonomyVersionRecord>> {
    Ok(sqlx::query_as::<_, DbTaxonomyVersion>(&format!(
        "SELECT {VERSION_COLUMNS} FROM taxonomy_versions ORDER BY version DESC LIMIT 1"
    ))
    .fetch_optional(conn)
    .await?
    .map(Wrapped::into_record))
}

pub(crate) async fn version_by_number(
    conn: &mut AnyConnection,
    version: i64,
) -> StoreResult<Option<TaxonomyVersionRecord>> {
    Ok(sqlx::query_as::<_, DbTaxonomyVersion>(&format!(
        "SELECT {VERSION_COLUMNS} FROM taxonomy_versions WHERE version = $1"
    ))
    .bind(version)
    .fetch_optional(conn)
    .await?
    .map(Wrapped::into_record))
}

/// Inserts `policy` as the next version. Two publishers racing for the same
/// number: the second gets a conflict and changes nothing.
async fn insert_version(
    conn: &mut AnyConnection,
    policy: &EnforcementPolicy,
    note: &str,
    actor: &Actor,
    now: Timestamp,
) -> StoreResult<(TaxonomyVersionRecord, AuditDraft)> {
    let document = policy.to_json().to_string();
    if document.len() > POLICY_DOCUMENT_BYTES_MAX {
        return Err(StoreError::invalid(
            "document",
            format!("is larger than {POLICY_DOCUMENT_BYTES_MAX} bytes"),
        ));
    }
    let next: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(MAX(version), 0) + 1 AS BIGINT) FROM taxonomy_versions",
    )
    .fetch_one(&mut *conn)
    .await?;
    let inserted = sqlx::query(
        "INSERT INTO taxonomy_versions (version, document, note, created_by, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (version) DO NOTHING",
    )
    .bind(next)
    .bind(&document)
    .bind(stored_text(note).into_owned())
    .bind(&actor.name)
    .bind(ms(now))
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if inserted != 1 {
        return Err(StoreError::Conflict(
            "another taxonomy version was published at the same moment; reload and try again"
                .into(),
        ));
    }
    let draft = AuditDraft::new(
        actor,
        "taxonomy.publish",
        "taxonomy_version",
        next,
        Value::Null,
        json!({"version": next, "note": note, "categories": policy.categories().map(|c| c.code.clone()).collect::<Vec<_>>()}),
    );
    Ok((
        TaxonomyVersionRecord {
            version: next,
            policy: policy.clone(),
            note: note.to_string(),
            created_by: actor.name.clone(),
            created_at: now,
        },
        draft,
    ))
}

/// The version in force; when none exists yet, version 1 is published from
/// the built-in defaults over `policy`'s taxonomy (by `system`).
pub(crate) async fn version_in_force(
    conn: &mut AnyConnection,
    policy: &CasePolicy,
    now: Timestamp,
) -> StoreResult<(TaxonomyVersionRecord, Option<AuditDraft>)> {
    if let Some(current) = current_version(conn).await? {
        return Ok((current, None));
    }
    let defaults = EnforcementPolicy::default_for(&policy.taxonomy);
    match insert_version(
        conn,
        &defaults,
        "built-in taxonomy and enforcement matrix",
        &Actor::system(),
        now,
    )
    .await
    {
        Ok((record, draft)) => Ok((record, Some(draft))),
        // Another transaction seeded it first: use theirs.
        Err(StoreError::Conflict(_)) => current_version(conn)
            .await?
            .map(|v| (v, None))
            .ok_or_else(|| StoreError::Database("taxonomy version vanished".into())),
        Err(other) => Err(other),
    }
}

/// Inserts a new template, unless Warden keeps the most it may already.
async fn insert_template(
    tx: &mut Transaction<'static, Any>,
    template: &NoticeTemplateInput,
    actor: &Actor,
    now: Timestamp,
) -> StoreResult<i64> {
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notice_templates")
        .fetch_one(&mut **tx)
        .await?;
    if count >= NOTICE_TEMPLATES_MAX as i64 {
        return Err(StoreError::Conflict(format!(
            "there are already {NOTICE_TEMPLATES_MAX} templates, the most Warden keeps; delete some first"
        )));
    }
    Ok(sqlx::query_scalar("INSERT INTO notice_templates (action_type, category, language, subject, body, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
        .bind(&template.action_type)
        .bind(&template.category)
        .bind(&template.language)
        .bind(&template.subject)
        .bind(&template.body)
        .bind(&actor.name)
        .bind(ms(now))
        .fetch_one(&mut **tx)
        .await?)
}

impl SqlStore {
    /// Publishers take turns (PostgreSQL; SQLite's one writer does it).
    async fn lock_publishers(&self, tx: &mut Transaction<'static, Any>) -> StoreResult<()> {
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(PUBLISH_LOCK_KEY)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }
}

#[async_trait]
impl TaxonomyStore for SqlStore {
    async fn taxonomy_current(&self) -> StoreResult<Option<TaxonomyVersionRecord>> {
        let mut conn = self.reader.acquire().await?;
        current_version(&mut conn).await
    }

    async fn taxonomy_version(&self, version: i64) -> StoreResult<Option<TaxonomyVersionRecord>> {
        let mut conn = self.reader.acquire().await?;
        version_by_number(&mut conn, version).await
    }

    async fn taxonomy_versions(&self, limit: u32) -> StoreResult<Vec<TaxonomyVersionRecord>> {
        let rows = sqlx::query_as::<_, DbTaxonomyVersion>(&format!(
            "SELECT {VERSION_COLUMNS} FROM taxonomy_versions ORDER BY version DESC LIMIT $1"
        ))
        .bind(i64::from(limit.clamp(1, PAGE_SIZE_MAX)))
        .fetch_all(&self.reader)
        .await?;
        Ok(records(rows))
    }

    async fn publish_taxonomy(
        &self,
        actor: &Actor,
        policy: &EnforcementPolicy,
        note: &str,
        now: Timestamp,
    ) -> StoreResult<TaxonomyVersionRecord> {
        let mut tx = self.writer.begin().await?;
        self.lock_publishers(&mut tx).await?;
        let (record, draft) = insert_version(&mut tx, policy, note, actor, now).await?;
        self.append_audit(&mut tx, vec![draft], now).await?;
        tx.commit().await?;
        Ok(record)
    }

    async fn ensure_taxonomy(
        &self,
        actor: &Actor,
        policy: &CasePolicy,
        now: Timestamp,
    ) -> StoreResult<TaxonomyVersionRecord> {
        let mut tx = self.writer.begin().await?;
        self.lock_publishers(&mut tx).await?;
        let (current, seeded) = version_in_force(&mut tx, policy, now).await?;
        let mut drafts: Vec<AuditDraft> = seeded.into_iter().collect();
        let mut updated = current.policy.clone();
        let added = updated.add_missing(&policy.taxonomy);
        let record = if added.is_empty() {
            current
        } else {
            let (record, draft) = insert_version(
                &mut tx,
                &updated,
                &format!(
                    "categories added by the configuration: {}",
                    added.join(", ")
                ),
                actor,
                now,
            )
            .await?;
            drafts.push(draft);
            record
        };
        self.append_audit(&mut tx, drafts, now).await?;
        tx.commit().await?;
        Ok(record)
    }

    async fn notice_templates(&self) -> StoreResult<Vec<NoticeTemplateRecord>> {
        let rows = sqlx::query_as::<_, DbTemplate>(&format!(
            "SELECT {TEMPLATE_COLUMNS} FROM notice_templates ORDER BY action_type, category, language LIMIT {NOTICE_TEMPLATES_MAX}"
        ))
        .fetch_all(&self.reader)
        .await?;
        Ok(records(rows))
    }

    async fn save_notice_template(
        &self,
        actor: &Actor,
        template: NoticeTemplateInput,
        now: Timestamp,
    ) -> StoreResult<NoticeTemplateRecord> {
        let mut tx = self.writer.begin().await?;
        let existing = sqlx::query_as::<_, DbTemplate>(&format!(
            "SELECT {TEMPLATE_COLUMNS} FROM notice_templates WHERE action_type = $1 AND category = $2 AND language = $3"
        ))
        .bind(&template.action_type)
        .bind(&template.category)
        .bind(&template.language)
        .fetch_optional(&mut *tx)
        .await?
        .map(Wrapped::into_record);
        let id = match &existing {
            Some(old) => {
                sqlx::query("UPDATE notice_templates SET subject = $1, body = $2, updated_by = $3, updated_at = $4 WHERE id = $5")
                    .bind(&template.subject)
                    .bind(&template.body)
                    .bind(&actor.name)
                    .bind(ms(now))
                    .bind(old.id)
                    .execute(&mut *tx)
                    .await?;
                old.id
            }
            None => insert_template(&mut tx, &template, actor, now).await?,
        };
        let record = NoticeTemplateRecord {
            id,
            action_type: template.action_type,
            category: template.category,
            language: template.language,
            subject: template.subject,
            body: template.body,
            updated_by: actor.name.clone(),
            updated_at: now,
        };
        let draft = AuditDraft::new(
            actor,
            "notice_template.save",
            "notice_template",
            id,
            existing.map_or(
                Value::Null,
                |old| json!({"subject": old.subject, "body": old.body}),
            ),
            json!({"action_type": record.action_type, "category": record.category, "language": record.language, "subject": record.subject, "body": record.body}),
        );
        self.append_audit(&mut tx, vec![draft], now).await?;
        tx.commit().await?;
        Ok(record)
    }

    async fn delete_notice_template(
        &self,
        actor: &Actor,
        id: i64,
        now: Timestamp,
    ) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        let old = sqlx::query_as::<_, DbTemplate>(&format!(
            "SELECT {TEMPLATE_COLUMNS} FROM notice_templates WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .map(Wrapped::into_record)
        .ok_or_else(|| StoreError::NotFound(format!("notice template {id}")))?;
        sqlx::query("DELETE FROM notice_templates WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let draft = AuditDraft::new(
            actor,
            "notice_template.delete",
            "notice_template",
            id,
            json!({"action_type": old.action_type, "category": old.category, "language": old.language, "subject": old.subject, "body": old.body}),
            Value::Null,
        );
        self.append_audit(&mut tx, vec![draft], now).await?;
        tx.commit().await?;
        Ok(())
    }
}
