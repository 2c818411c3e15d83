//! The SQL of [`StatementStore`]: statements of reasons and what the
//! Transparency Database made of them.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde_json::{json, Value};
use sqlx::{Any, Transaction};

use warden_domain::Timestamp;

use super::wrappers::{records, DbStatement, STATEMENT_COLUMNS};
use super::{ms, AuditDraft, SqlStore};
use crate::{
    Actor, DsaStatementRecord, DsaSubmission, StatementStore, StoreResult, SubmissionStatus,
};

use crate::limits::STATEMENTS_PAGE_MAX;

/// Records one outcome; returns the status it leaves the statement in.
async fn record_submission(
    tx: &mut Transaction<'static, Any>,
    puid: &str,
    outcome: &DsaSubmission,
    now: Timestamp,
) -> StoreResult<SubmissionStatus> {
    let status = match outcome {
        DsaSubmission::Attempted => {
            sqlx::query("UPDATE dsa_statements SET submission_status = 'attempted', submission_attempts = submission_attempts + 1, submitted_at = $1 WHERE puid = $2 AND submission_status IN ('unsubmitted', 'attempted')")
                .bind(ms(now))
                .bind(puid)
                .execute(&mut **tx)
                .await?;
            SubmissionStatus::Attempted
        }
        DsaSubmission::Accepted { uuid, permalink } => {
            sqlx::query("UPDATE dsa_statements SET submission_status = 'accepted', submitted_at = $1, submission_error = NULL, database_uuid = COALESCE($2, database_uuid), permalink = COALESCE($3, permalink) WHERE puid = $4")
                .bind(ms(now))
                .bind(uuid.clone())
                .bind(permalink.clone())
                .bind(puid)
                .execute(&mut **tx)
                .await?;
            SubmissionStatus::Accepted
        }
        DsaSubmission::Rejected { error } => {
            sqlx::query("UPDATE dsa_statements SET submission_status = 'rejected', submitted_at = $1, submission_error = $2 WHERE puid = $3")
                .bind(ms(now))
                .bind(error)
                .bind(puid)
                .execute(&mut **tx)
                .await?;
            SubmissionStatus::Rejected
        }
    };
    Ok(status)
}

#[async_trait]
impl StatementStore for SqlStore {
    async fn dsa_statements(
        &self,
        since: Timestamp,
        until: Timestamp,
        after_id: i64,
        limit: u32,
    ) -> StoreResult<Vec<DsaStatementRecord>> {
        let rows = sqlx::query_as::<_, DbStatement>(&format!(
            "SELECT {STATEMENT_COLUMNS} FROM dsa_statements WHERE created_at >= $1 AND created_at < $2 AND id > $3 ORDER BY id LIMIT $4"
        ))
        .bind(ms(since))
        .bind(ms(until))
        .bind(after_id)
        .bind(i64::from(limit.clamp(1, STATEMENTS_PAGE_MAX)))
        .fetch_all(&self.reader)
        .await?;
        Ok(records(rows))
    }

    async fn dsa_unsubmitted(&self, limit: u32) -> StoreResult<Vec<DsaStatementRecord>> {
        let rows = sqlx::query_as::<_, DbStatement>(&format!(
            "SELECT {STATEMENT_COLUMNS} FROM dsa_statements WHERE submission_status IN ('unsubmitted', 'attempted') ORDER BY id LIMIT $1"
        ))
        .bind(i64::from(limit.clamp(1, STATEMENTS_PAGE_MAX)))
        .fetch_all(&self.reader)
        .await?;
        Ok(records(rows))
    }

    async fn record_dsa_submissions(
        &self,
        actor: &Actor,
        outcomes: Vec<(String, DsaSubmission)>,
        now: Timestamp,
    ) -> StoreResult<()> {
        if outcomes.is_empty() {
            return Ok(());
        }
        let mut tx = self.writer.begin().await?;
        let mut summary: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (puid, outcome) in &outcomes {
            let status = record_submission(&mut tx, puid, outcome, now).await?;
            summary
                .entry(status.as_str())
                .or_default()
                .push(puid.clone());
        }
        let draft = AuditDraft::new(
            actor,
            "dsa.submit",
            "dsa_statements",
            format!("{} statements", outcomes.len()),
            Value::Null,
            json!(summary),
        );
        self.append_audit(&mut tx, vec![draft], now).await?;
        tx.commit().await?;
        Ok(())
    }
}
