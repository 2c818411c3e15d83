//! [`EvidenceStore`]: evidence items analysts attach to a case, their
//! content stored once per SHA-256 (`evidence_blobs`: a BLOB column on
//! SQLite, `bytea` on PostgreSQL) and hashed again on every read.
//!
//! **Commits together.** Attaching: the blob (when no blob holds the hash
//! yet), the item and its audit record — one transaction, planned by
//! `warden_domain::evidence::plan_evidence` over the case's items read in
//! that transaction.
//!
//! **Invalid and NotFound.** A case at its item limit, the same content
//! attached twice to a case, or content that does not hash to the draft's
//! SHA-256 is `StoreError::Invalid` naming `evidence` (or `file`); an
//! unknown case is `StoreError::NotFound`. Nothing changes on any error.
//! Reads never fail on changed or missing content: each item carries its
//! check (`verified`, `mismatch`, `missing`).

use async_trait::async_trait;

use warden_domain::evidence::{EvidenceDraft, EvidenceItem};
use warden_domain::{CaseId, Timestamp};

use crate::{Actor, EvidenceContentRead, StoreResult};

/// Evidence.
#[async_trait]
pub trait EvidenceStore: Send + Sync {
    /// Attaches `draft` with its `content` (the bytes its hash is over) to `case`.
    async fn attach_evidence(
        &self,
        actor: &Actor,
        case: CaseId,
        draft: EvidenceDraft,
        content: &[u8],
        now: Timestamp,
    ) -> StoreResult<EvidenceItem>;

    /// The evidence of `case`, oldest first, each checked against its hash.
    async fn case_evidence(&self, case: CaseId) -> StoreResult<Vec<EvidenceItem>>;

    /// One item of `case` with its bytes (when they still match).
    async fn evidence_content(
        &self,
        case: CaseId,
        item: i64,
    ) -> StoreResult<Option<EvidenceContentRead>>;
}
