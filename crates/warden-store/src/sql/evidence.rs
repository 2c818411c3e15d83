//! The SQL of [`EvidenceStore`]: attaching loads the case's items (the
//! case locked), asks `plan_evidence`, and writes the blob (once per
//! SHA-256), the item and the audit record; reads hash every blob again.

use async_trait::async_trait;
use serde_json::{json, Value};
use sqlx::{Any, Transaction};

use warden_domain::enforcement::PlanError;
use warden_domain::evidence::{
    plan_evidence, ContentHash, EvidenceContent, EvidenceDraft, EvidenceFacts, EvidenceItem,
    EvidencePlan, HashCheck,
};
use warden_domain::ids::UserId;
use warden_domain::limits::EVIDENCE_ITEMS_PER_CASE_MAX;
use warden_domain::{CaseId, Timestamp};

use super::cases::load_case;
use super::decision_facts::refused;
use super::escalations::case_evidence_items;
use super::free_text::stored_text;
use super::wrappers::{DbEvidence, EVIDENCE_COLUMNS};
use super::{ms, AuditDraft, SqlStore};
use crate::{Actor, EvidenceContentRead, EvidenceStore, StoreError, StoreResult};

fn file_fields(content: &EvidenceContent) -> (Option<String>, Option<String>) {
    match content {
        EvidenceContent::File { name, media_type } => (
            Some(name.as_str().to_string()),
            Some(media_type.as_str().to_string()),
        ),
        EvidenceContent::TextExcerpt { .. } | EvidenceContent::Url { .. } => (None, None),
    }
}

/// What `plan_evidence` needs, read in `tx` (the case locked).
async fn evidence_facts(
    tx: &mut Transaction<'static, Any>,
    case: CaseId,
    hash: &str,
) -> StoreResult<EvidenceFacts> {
    let items: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM evidence_items WHERE case_id = $1")
        .bind(case.0)
        .fetch_one(&mut **tx)
        .await?;
    let same: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM evidence_items WHERE case_id = $1 AND content_hash = $2",
    )
    .bind(case.0)
    .bind(hash)
    .fetch_optional(&mut **tx)
    .await?;
    let stored: Option<String> =
        sqlx::query_scalar("SELECT hash FROM evidence_blobs WHERE hash = $1")
            .bind(hash)
            .fetch_optional(&mut **tx)
            .await?;
    Ok(EvidenceFacts {
        case,
        items_on_case: usize::try_from(items).unwrap_or(EVIDENCE_ITEMS_PER_CASE_MAX),
        same_content_on_case: same,
        content_stored: stored.is_some(),
    })
}

/// Writes the blob (when the plan says so) and the item; returns its id.
async fn write_item(
    tx: &mut Transaction<'static, Any>,
    plan: &EvidencePlan,
    added_by: &str,
    hash: &str,
    content: &[u8],
) -> StoreResult<i64> {
    let now = plan.added_at;
    let size = i64::try_from(plan.draft.size_bytes).unwrap_or(i64::MAX);
    if plan.store_content {
        sqlx::query(
            "INSERT INTO evidence_blobs (hash, size_bytes, content, stored_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(hash)
        .bind(size)
        .bind(content.to_vec())
        .bind(ms(now))
        .execute(&mut **tx)
        .await?;
    }
    let (file_name, media_type) = file_fields(&plan.draft.content);
    Ok(sqlx::query_scalar(
        "INSERT INTO evidence_items (case_id, kind, content_hash, size_bytes, media_type, file_name, caption, added_by_id, added_by, added_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(plan.case.0)
    .bind(plan.draft.content.kind().as_str())
    .bind(hash)
    .bind(size)
    .bind(media_type)
    .bind(file_name)
    .bind(stored_text(&plan.draft.caption).into_owned())
    .bind(plan.added_by.0)
    .bind(added_by)
    .bind(ms(now))
    .fetch_one(&mut **tx)
    .await?)
}

#[async_trait]
impl EvidenceStore for SqlStore {
    async fn attach_evidence(
        &self,
        actor: &Actor,
        case: CaseId,
        draft: EvidenceDraft,
        content: &[u8],
        now: Timestamp,
    ) -> StoreResult<EvidenceItem> {
        if ContentHash::of(content) != draft.hash || content.len() as u64 != draft.size_bytes {
            return Err(StoreError::invalid(
                "file",
                "the content does not match its SHA-256 or size",
            ));
        }
        let mut tx = self.writer.begin().await?;
        if load_case(&mut tx, case, self.backend.for_update())
            .await?
            .is_none()
        {
            tx.rollback().await?;
            return Err(StoreError::NotFound(format!("case {case}")));
        }
        let hash = draft.hash.to_hex();
        let facts = evidence_facts(&mut tx, case, &hash).await?;
        let added_by = UserId(actor.user_id.unwrap_or(0));
        let plan = match plan_evidence(&facts, draft, added_by, now) {
            Ok(plan) => plan,
            Err(errors) => {
                tx.rollback().await?;
                return Err(refused(PlanError::Invalid(errors)));
            }
        };
        let (file_name, media_type) = file_fields(&plan.draft.content);
        let id = write_item(&mut tx, &plan, &actor.name, &hash, content).await?;
        let draft = AuditDraft::new(
            actor,
            "evidence.attach",
            "evidence",
            id,
            Value::Null,
            json!({
                "case_id": case.0,
                "kind": plan.draft.content.kind().as_str(),
                "sha256": hash,
                "size_bytes": plan.draft.size_bytes,
                "file_name": file_name,
                "media_type": media_type,
                "caption": plan.draft.caption,
                "content_stored": plan.store_content,
            }),
        );
        self.append_audit(&mut tx, vec![draft], now).await?;
        tx.commit().await?;
        Ok(EvidenceItem {
            id,
            content: plan.draft.content,
            caption: plan.draft.caption,
            hash: plan.draft.hash,
            size_bytes: plan.draft.size_bytes,
            added_by: actor.name.clone(),
            added_at: now,
            check: HashCheck::Verified,
        })
    }

    async fn case_evidence(&self, case: CaseId) -> StoreResult<Vec<EvidenceItem>> {
        let mut conn = self.reader.acquire().await?;
        Ok(
            case_evidence_items(&mut conn, case, EVIDENCE_ITEMS_PER_CASE_MAX)
                .await?
                .into_iter()
                .map(|read| read.item)
                .collect(),
        )
    }

    async fn evidence_content(
        &self,
        case: CaseId,
        item: i64,
    ) -> StoreResult<Option<EvidenceContentRead>> {
        let mut conn = self.reader.acquire().await?;
        Ok(sqlx::query_as::<_, DbEvidence>(&format!(
            "SELECT {EVIDENCE_COLUMNS} FROM evidence_items i LEFT JOIN evidence_blobs b ON b.hash = i.content_hash WHERE i.id = $1 AND i.case_id = $2"
        ))
        .bind(item)
        .bind(case.0)
        .fetch_optional(&mut *conn)
        .await?
        .map(|DbEvidence(read)| read))
    }
}
