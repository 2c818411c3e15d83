//! [`AuditLog`]: reads recorded in the hash-chained audit log, and its
//! pages for verification and export.
//!
//! Every other port appends its own audit records as the last statements
//! of the transaction that makes the change, so a change and its record
//! commit together. This port adds only reads (of a case, a subject,
//! revealed personal data), each one transaction of one record. On
//! PostgreSQL a transaction-scoped advisory lock orders appends, so the
//! chain has no forks.

use async_trait::async_trait;
use serde_json::Value;

use warden_domain::audit::StoredAuditRecord;
use warden_domain::Timestamp;

use crate::{Actor, StoreResult};

/// The audit log.
#[async_trait]
pub trait AuditLog: Send + Sync {
    /// Records a read (of a case, a subject, PII) in the audit log.
    async fn record_read(
        &self,
        actor: &Actor,
        action: &str,
        target_kind: &str,
        target_id: &str,
        details: Value,
        now: Timestamp,
    ) -> StoreResult<()>;

    /// Audit records after `after_seq`, in order.
    async fn audit_page(&self, after_seq: i64, limit: u32) -> StoreResult<Vec<StoredAuditRecord>>;
}
