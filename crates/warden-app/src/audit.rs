//! Reading the audit log.

use warden_domain::access::Permission;
use warden_domain::audit::StoredAuditRecord;
use warden_domain::limits::AUDIT_VERIFY_PAGE;

use crate::{Actor, App, CommandError, CommandResult};

impl App {
    /// Audit records after `after_seq`, in order, for those who may read
    /// the log (`audit.read`). `limit` is 1 to `AUDIT_VERIFY_PAGE`.
    pub async fn audit_log(
        &self,
        actor: &Actor,
        after_seq: i64,
        limit: u32,
    ) -> CommandResult<Vec<StoredAuditRecord>> {
        actor.require(Permission::AuditRead)?;
        if !(1..=AUDIT_VERIFY_PAGE).contains(&limit) {
            return Err(CommandError::invalid(
                "limit",
                format!("must be from 1 to {AUDIT_VERIFY_PAGE}"),
            ));
        }
        self.audit_records(after_seq, limit).await
    }

    /// Audit records after `after_seq`, in order, without a permission
    /// check: for a page that shows a person only their own records (the
    /// console's home counts the viewer's work today).
    pub async fn audit_records(
        &self,
        after_seq: i64,
        limit: u32,
    ) -> CommandResult<Vec<StoredAuditRecord>> {
        Ok(self
            .store()
            .audit_page(after_seq, limit.clamp(1, AUDIT_VERIFY_PAGE))
            .await?)
    }
}
