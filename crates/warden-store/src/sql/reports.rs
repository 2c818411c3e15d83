//! The SQL of [`ReportStore`]: read models over many tables. Reads that
//! take several statements run in one read transaction so their parts
//! agree; every list is bounded.

use async_trait::async_trait;
use sqlx::AnyConnection;

use warden_domain::ids::SubjectKind;
use warden_domain::limits::{HISTORY_ITEMS_MAX, PAGE_SIZE_MAX};
use warden_domain::routing::QueueScope;
use warden_domain::transparency::{ActionFact, ReversalFact};
use warden_domain::{SubjectRef, Timestamp};

use super::cases::{bind_all, load_decisions, load_subject, scope_sql, Param, Params};
use super::wrappers::{
    records, DbAction, DbActionFact, DbAppeal, DbCase, DbEvent, DbIntakeCounts, DbNotice,
    DbQueueStats, DbReport, DbReversalFact, DbRuleStats, DbStrike, DbSubjectVerdict, Wrapped,
    ACTION_COLUMNS, APPEAL_COLUMNS, CASE_COLUMNS, DECISION_COLUMNS, EVENT_COLUMNS, NOTICE_COLUMNS,
    REPORT_COLUMNS, STRIKE_COLUMNS,
};
use super::{ms, SqlStore};
use crate::{
    IntakeCounts, NoticeRecord, QueueStats, ReportStore, RuleStats, StoreResult, SubjectHistory,
    SubjectVerdict, TransparencyFacts,
};

/// Rows read per step when a transparency report walks a period.
const TRANSPARENCY_PAGE: i64 = 10_000;

use crate::limits::VERDICTS_MAX;

/// The placeholders of one subject's history: kind, id, limit.
fn subject_params(subject: &SubjectRef, limit: i64) -> Params {
    Params(vec![
        Param::Text(subject.kind.as_str().to_string()),
        Param::Text(subject.id.as_str().to_string()),
        Param::Int(limit),
    ])
}

/// The records `sql` selects about one subject (kind `$1`, id `$2`, limit `$3`).
async fn about_subject<W>(
    conn: &mut AnyConnection,
    sql: &str,
    subject: &SubjectRef,
    limit: i64,
) -> StoreResult<Vec<W::Record>>
where
    W: Wrapped + for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
{
    let rows = bind_all(sqlx::query_as::<_, W>(sql), subject_params(subject, limit))
        .fetch_all(conn)
        .await?;
    Ok(records(rows))
}

/// The actions ordered in `[from, to)`, as a transparency report counts them.
async fn action_facts(
    conn: &mut AnyConnection,
    from: Timestamp,
    to: Timestamp,
) -> StoreResult<Vec<ActionFact>> {
    let mut facts = Vec::new();
    let mut after = 0_i64;
    loop {
        let page = sqlx::query_as::<_, DbActionFact>(
            "SELECT a.id, a.action_type, a.created_at, d.category, d.decided_by_id, c.signal_count, (SELECT MIN(r.received_at) FROM reports r WHERE r.case_id = c.id) AS first_report_at, (SELECT r.source FROM reports r WHERE r.case_id = c.id ORDER BY r.seq LIMIT 1) AS first_source, (SELECT COUNT(*) FROM reports r WHERE r.case_id = c.id AND r.source = 'automated_flag') AS automated_reports FROM actions a JOIN decisions d ON d.id = a.decision_id JOIN cases c ON c.id = a.case_id WHERE a.created_at >= $1 AND a.created_at < $2 AND a.status NOT IN ('pending_approval', 'rejected') AND a.id > $3 ORDER BY a.id LIMIT $4",
        )
        .bind(ms(from))
        .bind(ms(to))
        .bind(after)
        .bind(TRANSPARENCY_PAGE)
        .fetch_all(&mut *conn)
        .await?;
        let full = page.len() as i64 == TRANSPARENCY_PAGE;
        for fact in page {
            after = fact.id;
            let signals = fact.signal_count;
            facts.push(ActionFact {
                category: fact.category,
                action_type: fact.action_type,
                source: match fact.first_source {
                    Some(source) => source.as_str().to_string(),
                    None if signals > 0 => "signal".to_string(),
                    None => "unknown".to_string(),
                },
                automated_detection: signals > 0 || fact.automated_reports > 0,
                automated_decision: fact.decided_by_id.is_none(),
                noticed_at: fact.first_report_at,
                ordered_at: fact.ordered_at,
            });
        }
        if !full {
            return Ok(facts);
        }
    }
}

/// The actions reversed in `[from, to)`.
async fn reversal_facts(
    conn: &mut AnyConnection,
    from: Timestamp,
    to: Timestamp,
) -> StoreResult<Vec<ReversalFact>> {
    let mut facts = Vec::new();
    let mut after = 0_i64;
    loop {
        let page = sqlx::query_as::<_, DbReversalFact>(
            "SELECT a.id, a.action_type, d.category FROM actions a JOIN decisions d ON d.id = a.decision_id WHERE a.reversed_at >= $1 AND a.reversed_at < $2 AND a.id > $3 ORDER BY a.id LIMIT $4",
        )
        .bind(ms(from))
        .bind(ms(to))
        .bind(after)
        .bind(TRANSPARENCY_PAGE)
        .fetch_all(&mut *conn)
        .await?;
        let full = page.len() as i64 == TRANSPARENCY_PAGE;
        for fact in page {
            after = fact.id;
            facts.push(ReversalFact {
                category: fact.category,
                action_type: fact.action_type,
            });
        }
        if !full {
            return Ok(facts);
        }
    }
}

#[async_trait]
impl ReportStore for SqlStore {
    async fn subject_history(
        &self,
        subject: &SubjectRef,
        limit: u32,
        now: Timestamp,
    ) -> StoreResult<SubjectHistory> {
        let limit = i64::from(limit.clamp(1, HISTORY_ITEMS_MAX));
        let mut conn = self.reader.acquire().await?;
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        let record = load_subject(&mut tx, subject).await?;
        let reports = about_subject::<DbReport>(&mut tx, &format!("SELECT {REPORT_COLUMNS} FROM reports WHERE subject_kind = $1 AND subject_id = $2 ORDER BY seq DESC LIMIT $3"), subject, limit).await?;
        let cases = about_subject::<DbCase>(&mut tx, &format!("SELECT {CASE_COLUMNS} FROM cases WHERE subject_kind = $1 AND subject_id = $2 ORDER BY id DESC LIMIT $3"), subject, limit).await?;
        let decisions = load_decisions(
            &mut tx,
            &format!("SELECT {DECISION_COLUMNS} FROM decisions WHERE subject_kind = $1 AND subject_id = $2 ORDER BY id DESC LIMIT $3"),
            subject_params(subject, limit),
        )
        .await?;
        let actions = about_subject::<DbAction>(&mut tx, &format!("SELECT {ACTION_COLUMNS} FROM actions WHERE target_kind = $1 AND target_id = $2 ORDER BY id DESC LIMIT $3"), subject, limit).await?;
        let strikes = if subject.kind == SubjectKind::Account {
            let rows = sqlx::query_as::<_, DbStrike>(&format!("SELECT {STRIKE_COLUMNS} FROM strikes WHERE account_id = $1 ORDER BY id DESC LIMIT $2"))
                .bind(subject.id.as_str())
                .bind(limit)
                .fetch_all(&mut *tx)
                .await?;
            records(rows)
        } else {
            Vec::new()
        };
        let active_strike_weight = strikes
            .iter()
            .filter(|s| s.is_active(now))
            .map(|s| s.weight)
            .sum();
        let events = about_subject::<DbEvent>(&mut tx, &format!("SELECT {EVENT_COLUMNS} FROM events WHERE (actor_kind = $1 AND actor_id = $2) OR (subject_kind = $1 AND subject_id = $2) ORDER BY occurred_at DESC LIMIT $3"), subject, limit).await?;
        // Appeals of decisions about the subject, and the subject's own appeals.
        let mut appeals = about_subject::<DbAppeal>(&mut tx, &format!("SELECT {APPEAL_COLUMNS} FROM appeals WHERE case_id IN (SELECT id FROM cases WHERE subject_kind = $1 AND subject_id = $2) OR id IN (SELECT appeal_id FROM appeal_items WHERE appellant_kind = $1 AND appellant_id = $2) ORDER BY id DESC LIMIT $3"), subject, limit).await?;
        for appeal in &mut appeals {
            appeal.items = super::appeals::appeal_items(&mut tx, appeal.id).await?;
        }
        tx.commit().await?;
        Ok(SubjectHistory {
            subject: record,
            reports,
            cases,
            decisions,
            actions,
            strikes,
            appeals,
            active_strike_weight,
            events,
        })
    }

    async fn queue_stats(
        &self,
        scope: &QueueScope,
        now: Timestamp,
    ) -> StoreResult<Vec<QueueStats>> {
        let mut params = Params::default();
        let now_placeholder = params.int(ms(now));
        let scope_condition = scope_sql(scope, &mut params)
            .map(|c| format!(" AND {c}"))
            .unwrap_or_default();
        let sql = format!(
            "SELECT queue, COUNT(*) AS depth, CAST(SUM(CASE WHEN assignee_id IS NULL THEN 1 ELSE 0 END) AS BIGINT) AS unassigned, MIN(opened_at) AS oldest, CAST(SUM(CASE WHEN resolve_due_at < {now_placeholder} THEN 1 ELSE 0 END) AS BIGINT) AS resolution_breaches, CAST(SUM(CASE WHEN first_touched_at IS NULL AND first_touch_due_at < {now_placeholder} THEN 1 ELSE 0 END) AS BIGINT) AS first_touch_breaches FROM cases WHERE status <> 'resolved'{scope_condition} GROUP BY queue ORDER BY queue"
        );
        let rows = bind_all(sqlx::query_as::<_, DbQueueStats>(&sql), params)
            .fetch_all(&self.reader)
            .await?;
        Ok(records(rows))
    }

    async fn intake_counts(&self) -> StoreResult<IntakeCounts> {
        let DbIntakeCounts(counts) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM subjects) AS subjects, (SELECT COUNT(*) FROM events) AS events, (SELECT COUNT(*) FROM reports) AS reports, (SELECT COUNT(*) FROM signals) AS signals, (SELECT COUNT(*) FROM cases) AS cases",
        )
        .fetch_one(&self.reader)
        .await?;
        Ok(counts)
    }

    async fn rule_stats(&self, since: Timestamp) -> StoreResult<Vec<RuleStats>> {
        let rows = sqlx::query_as::<_, DbRuleStats>(
            "SELECT v.rule_id, v.version, v.mode, v.created_at, (SELECT COUNT(*) FROM rule_hits h WHERE h.rule_id = v.rule_id AND h.occurred_at >= $1) AS hits, (SELECT COUNT(*) FROM rule_hits h WHERE h.rule_id = v.rule_id AND h.occurred_at >= $1 AND h.acted = 1) AS acted FROM rule_versions v WHERE v.version = (SELECT MAX(l.version) FROM rule_versions l WHERE l.rule_id = v.rule_id) ORDER BY v.rule_id",
        )
        .bind(ms(since))
        .fetch_all(&self.reader)
        .await?;
        Ok(records(rows))
    }

    async fn subject_verdicts(&self, since: Timestamp) -> StoreResult<Vec<SubjectVerdict>> {
        let rows = sqlx::query_as::<_, DbSubjectVerdict>(
            "SELECT subject_kind, subject_id, violation, category FROM decisions d WHERE superseded_by IS NULL AND decided_at >= $1 AND id = (SELECT MAX(id) FROM decisions l WHERE l.subject_kind = d.subject_kind AND l.subject_id = d.subject_id AND l.superseded_by IS NULL) LIMIT $2",
        )
        .bind(ms(since))
        .bind(VERDICTS_MAX)
        .fetch_all(&self.reader)
        .await?;
        Ok(records(rows))
    }

    async fn notices(
        &self,
        decision_id: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<NoticeRecord>> {
        let limit = i64::from(limit.clamp(1, PAGE_SIZE_MAX));
        let rows = match decision_id {
            Some(decision) => {
                sqlx::query_as::<_, DbNotice>(&format!(
                    "SELECT {NOTICE_COLUMNS} FROM notices WHERE decision_id = $1 ORDER BY id DESC LIMIT $2"
                ))
                .bind(decision)
                .bind(limit)
                .fetch_all(&self.reader)
                .await?
            }
            None => {
                sqlx::query_as::<_, DbNotice>(&format!(
                    "SELECT {NOTICE_COLUMNS} FROM notices ORDER BY id DESC LIMIT $1"
                ))
                .bind(limit)
                .fetch_all(&self.reader)
                .await?
            }
        };
        Ok(records(rows))
    }

    async fn transparency_facts(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> StoreResult<TransparencyFacts> {
        // Paged by action id so that a long period is read in bounded steps.
        let mut conn = self.reader.acquire().await?;
        let actions = action_facts(&mut conn, from, to).await?;
        let reversals = reversal_facts(&mut conn, from, to).await?;
        let statements: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM dsa_statements WHERE created_at >= $1 AND created_at < $2",
        )
        .bind(ms(from))
        .bind(ms(to))
        .fetch_one(&mut *conn)
        .await?;
        Ok(TransparencyFacts {
            actions,
            reversals,
            statements: statements.max(0) as u64,
            ..TransparencyFacts::default()
        })
    }
}
