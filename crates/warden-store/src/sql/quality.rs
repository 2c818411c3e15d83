//! The SQL of [`QualityStore`]: sampling plans and the sampling cursor,
//! QA assignments with their plan tags and rework, calibration sessions
//! with their cases, raters, ratings and note categories.
//!
//! Assignments and sessions carry a version: a write names the version it
//! read (`WHERE version = $n`) and a miss is `Conflict`, so two reviewers
//! racing for one assignment, or a rating racing the close, cannot both
//! win. States are checked by the domain's `restore` on the way out.

use async_trait::async_trait;
use serde_json::{json, Value};
use sqlx::{Any, Transaction};

use warden_domain::limits::{PAGE_SIZE_MAX, QA_PLANS_MAX, QA_VOLUME_STRATA_MAX};
use warden_domain::quality::calibration::{
    CalibrationRating, CalibrationSession, CalibrationSessionRecord,
};
use warden_domain::quality::review::{QaAssignment, QaAssignmentRecord};
use warden_domain::quality::sampling::SamplingPlanInput;
use warden_domain::routing::QueueScope;
use warden_domain::{CaseId, Timestamp};

use super::cases::{bind_all, scope_sql, Params};
use super::free_text::stored_text;
use super::wrappers::{
    plan_json, rubric_json, verdict_json, DbDecisionToSample, DbQaPlan, DbQaRow, DbResolutionNote,
    DbSessionRow, DbStratumCount, QA_COLUMNS, SESSION_COLUMNS,
};
use super::{ms, AuditDraft, SqlStore};
use crate::{
    Actor, CalibrationSessionSummary, DecisionToSample, NewQaSample, QaChange, QaPlanRecord,
    QaReviewFilter, QualityStore, ResolutionNoteRecord, ReworkRecord, SamplePlanTag, StoreError,
    StoreResult, StoredCalibrationSession, StoredQaAssignment, StratumCount,
};

type Tx = Transaction<'static, Any>;

fn page(limit: u32) -> i64 {
    i64::from(limit.clamp(1, PAGE_SIZE_MAX))
}

fn ms_opt(time: Option<Timestamp>) -> Option<i64> {
    time.map(ms)
}

/// A stored state the domain refuses is corrupt data, not a user error.
fn inconsistent(reason: String) -> StoreError {
    StoreError::Database(format!("inconsistent QA or calibration state: {reason}"))
}

impl SqlStore {
    /// Assignments of `rows` with their plan tags, checked by the domain.
    async fn assemble_assignments(
        &self,
        rows: Vec<DbQaRow>,
    ) -> StoreResult<Vec<StoredQaAssignment>> {
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let tags: Vec<(String, String, i64)> = sqlx::query_as(
                "SELECT plan, reason, by_rate FROM qa_assignment_plans WHERE decision_id = $1 ORDER BY plan",
            )
            .bind(row.decision_id)
            .fetch_all(&self.reader)
            .await?;
            let plans: Vec<SamplePlanTag> = tags
                .into_iter()
                .map(|(plan, reason, by_rate)| SamplePlanTag {
                    plan,
                    reason,
                    by_rate: by_rate != 0,
                })
                .collect();
            let record = QaAssignmentRecord {
                decision_id: row.decision_id,
                case_id: row.case_id,
                decider: row.decider.clone(),
                plans: plans.iter().map(|tag| tag.plan.clone()).collect(),
                sampled_at: row.sampled_at,
                status: row.status,
                lease: row.lease,
                verdict: row.verdict,
                rubric: row.rubric,
                closed_at: row.closed_at,
            };
            let assignment = QaAssignment::restore(record).map_err(inconsistent)?;
            let rework =
                row.rework.map(
                    |(feedback, suggestion, reopen_case, sent_back_at)| ReworkRecord {
                        decision_id: row.decision_id,
                        case_id: row.case_id,
                        decider: row.decider.clone(),
                        feedback,
                        suggestion,
                        reopen_case,
                        sent_back_at,
                    },
                );
            out.push(StoredQaAssignment {
                assignment,
                version: row.version,
                queue: row.queue,
                category: row.category,
                decided_at: row.decided_at,
                plans,
                rework,
            });
        }
        Ok(out)
    }

    async fn qa_rows(&self, where_clause: &str, params: Params) -> StoreResult<Vec<DbQaRow>> {
        let sql = format!(
            "SELECT {QA_COLUMNS} FROM qa_assignments a LEFT JOIN qa_rework r ON r.decision_id = a.decision_id WHERE {where_clause}"
        );
        Ok(bind_all(sqlx::query_as::<_, DbQaRow>(&sql), params)
            .fetch_all(&self.reader)
            .await?)
    }

    /// A session's row and parts, checked by the domain.
    async fn load_session(&self, row: DbSessionRow) -> StoreResult<StoredCalibrationSession> {
        let id = row.summary.id;
        let case_ids: Vec<i64> = sqlx::query_scalar(
            "SELECT case_id FROM calibration_cases WHERE session_id = $1 ORDER BY position",
        )
        .bind(id)
        .fetch_all(&self.reader)
        .await?;
        let raters: Vec<String> = sqlx::query_scalar(
            "SELECT rater FROM calibration_raters WHERE session_id = $1 ORDER BY position",
        )
        .bind(id)
        .fetch_all(&self.reader)
        .await?;
        let ratings: Vec<(i64, String, String, i64)> = sqlx::query_as(
            "SELECT case_id, rater, label, rated_at FROM calibration_ratings WHERE session_id = $1 ORDER BY case_id, rater",
        )
        .bind(id)
        .fetch_all(&self.reader)
        .await?;
        let ratings = ratings
            .into_iter()
            .map(|(case_id, rater, label, rated_at)| {
                Ok(CalibrationRating {
                    case_id,
                    rater,
                    label,
                    rated_at: super::wrappers::time_from_ms(rated_at, "rated_at")?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let mut resolution = row.resolution;
        if let Some(resolution) = &mut resolution {
            resolution.categories = sqlx::query_scalar(
                "SELECT category FROM calibration_note_categories WHERE session_id = $1 ORDER BY position",
            )
            .bind(id)
            .fetch_all(&self.reader)
            .await?;
        }
        let record = CalibrationSessionRecord {
            title: row.summary.title,
            case_ids,
            raters,
            created_by: row.summary.created_by,
            created_at: row.summary.created_at,
            status: row.summary.status,
            ratings,
            opened_at: row.opened_at,
            closed_at: row.closed_at,
            resolution,
        };
        let session = CalibrationSession::restore(record).map_err(inconsistent)?;
        Ok(StoredCalibrationSession {
            id,
            version: row.version,
            session,
        })
    }
}

/// Inserts one sampled decision and its plan tags; answers whether it was
/// new.
async fn insert_sample(tx: &mut Tx, sample: &NewQaSample, now: Timestamp) -> StoreResult<bool> {
    let d = &sample.decision;
    let inserted = sqlx::query(
        "INSERT INTO qa_assignments (decision_id, case_id, queue, category, decider, decided_at, sampled_at, status, version) VALUES ($1, $2, $3, $4, $5, $6, $7, 'sampled', 1) ON CONFLICT (decision_id) DO NOTHING",
    )
    .bind(d.decision_id)
    .bind(d.case_id.0)
    .bind(&d.queue)
    .bind(&d.category)
    .bind(&d.decider)
    .bind(ms(d.decided_at))
    .bind(ms(now))
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Ok(false);
    }
    for tag in &sample.plans {
        sqlx::query(
            "INSERT INTO qa_assignment_plans (decision_id, plan, reason, by_rate, sampled_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (decision_id, plan) DO NOTHING",
        )
        .bind(d.decision_id)
        .bind(&tag.plan)
        .bind(&tag.reason)
        .bind(i64::from(tag.by_rate))
        .bind(ms(now))
        .execute(&mut **tx)
        .await?;
    }
    Ok(true)
}

/// Moves the sampling cursor from `from` to `to`; `Conflict` when another
/// pass moved it first.
async fn move_cursor(tx: &mut Tx, (from, to): (i64, i64), now: Timestamp) -> StoreResult<()> {
    let moved = if from == 0 {
        sqlx::query(
            "INSERT INTO qa_sampling_cursor (id, last_decision_id, updated_at) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING",
        )
        .bind(to)
        .bind(ms(now))
        .execute(&mut **tx)
        .await?
        .rows_affected()
    } else {
        sqlx::query(
            "UPDATE qa_sampling_cursor SET last_decision_id = $1, updated_at = $2 WHERE id = 1 AND last_decision_id = $3",
        )
        .bind(to)
        .bind(ms(now))
        .bind(from)
        .execute(&mut **tx)
        .await?
        .rows_affected()
    };
    if moved == 1 {
        Ok(())
    } else {
        Err(StoreError::Conflict(
            "another sampling pass read these decisions first".into(),
        ))
    }
}

/// Writes an assignment's state under its expected version.
async fn update_assignment(tx: &mut Tx, change: &QaChange<'_>) -> StoreResult<()> {
    let record = change.assignment.record();
    let (reviewer, verdict, verdict_at) = match &record.verdict {
        Some((reviewer, verdict, at)) => (
            Some(reviewer.clone()),
            Some(verdict_json(verdict).to_string()),
            Some(ms(*at)),
        ),
        None => (None, None, None),
    };
    let (rubric, scored_at) = match &record.rubric {
        Some((rubric, at)) => (Some(rubric_json(rubric).to_string()), Some(ms(*at))),
        None => (None, None),
    };
    let updated = sqlx::query(
        "UPDATE qa_assignments SET status = $1, version = version + 1, lease_assignee = $2, lease_expires_at = $3, reviewer = $4, verdict = $5, verdict_at = $6, rubric = $7, scored_at = $8, closed_at = $9 WHERE decision_id = $10 AND version = $11",
    )
    .bind(record.status.as_str())
    .bind(record.lease.as_ref().map(|lease| lease.assignee.clone()))
    .bind(record.lease.as_ref().map(|lease| ms(lease.expires_at)))
    .bind(reviewer)
    .bind(verdict)
    .bind(verdict_at)
    .bind(rubric)
    .bind(scored_at)
    .bind(ms_opt(record.closed_at))
    .bind(record.decision_id)
    .bind(change.expected_version)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if updated == 1 {
        return Ok(());
    }
    let exists: Option<i64> =
        sqlx::query_scalar("SELECT version FROM qa_assignments WHERE decision_id = $1")
            .bind(record.decision_id)
            .fetch_optional(&mut **tx)
            .await?;
    Err(match exists {
        None => StoreError::NotFound(format!("QA assignment of decision {}", record.decision_id)),
        Some(_) => StoreError::Conflict(format!(
            "the QA assignment of decision {} changed since it was read; read it again",
            record.decision_id
        )),
    })
}

async fn insert_rework(tx: &mut Tx, rework: &ReworkRecord) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO qa_rework (decision_id, case_id, decider, feedback, suggestion, reopen_case, sent_back_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(rework.decision_id)
    .bind(rework.case_id.0)
    .bind(&rework.decider)
    .bind(stored_text(&rework.feedback).into_owned())
    .bind(verdict_json(&rework.suggestion).to_string())
    .bind(i64::from(rework.reopen_case))
    .bind(ms(rework.sent_back_at))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// What an assignment's audit record says after a change.
fn assignment_audit(change: &QaChange<'_>) -> Value {
    let record = change.assignment.record();
    let mut after = json!({
        "status": record.status.as_str(),
        "case_id": record.case_id.0,
        "lease_assignee": record.lease.as_ref().map(|lease| lease.assignee.clone()),
    });
    if let Some((reviewer, verdict, _)) = &record.verdict {
        after["reviewer"] = json!(reviewer);
        after["verdict"] = verdict_json(verdict);
    }
    if let Some((rubric, _)) = &record.rubric {
        after["rubric"] = rubric_json(rubric);
    }
    if let Some(rework) = &change.rework {
        after["rework"] = json!({"reopen_case": rework.reopen_case});
    }
    after
}

/// Inserts a session's cases and raters.
async fn insert_session_parts(
    tx: &mut Tx,
    id: i64,
    session: &CalibrationSessionRecord,
) -> StoreResult<()> {
    for (position, case_id) in session.case_ids.iter().enumerate() {
        sqlx::query(
            "INSERT INTO calibration_cases (session_id, position, case_id) VALUES ($1, $2, $3)",
        )
        .bind(id)
        .bind(position as i64)
        .bind(*case_id)
        .execute(&mut **tx)
        .await?;
    }
    for (position, rater) in session.raters.iter().enumerate() {
        sqlx::query(
            "INSERT INTO calibration_raters (session_id, position, rater) VALUES ($1, $2, $3)",
        )
        .bind(id)
        .bind(position as i64)
        .bind(rater)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Writes a session's new ratings and resolution categories (those there
/// already are left alone: ratings are final).
async fn insert_session_additions(
    tx: &mut Tx,
    id: i64,
    session: &CalibrationSessionRecord,
) -> StoreResult<u64> {
    let mut added = 0;
    for rating in &session.ratings {
        added += sqlx::query(
            "INSERT INTO calibration_ratings (session_id, case_id, rater, label, rated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (session_id, case_id, rater) DO NOTHING",
        )
        .bind(id)
        .bind(rating.case_id)
        .bind(&rating.rater)
        .bind(&rating.label)
        .bind(ms(rating.rated_at))
        .execute(&mut **tx)
        .await?
        .rows_affected();
    }
    if let Some(resolution) = &session.resolution {
        for (position, category) in resolution.categories.iter().enumerate() {
            sqlx::query(
                "INSERT INTO calibration_note_categories (session_id, position, category) VALUES ($1, $2, $3) ON CONFLICT (session_id, category) DO NOTHING",
            )
            .bind(id)
            .bind(position as i64)
            .bind(category)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(added)
}

#[async_trait]
impl QualityStore for SqlStore {
    async fn save_qa_plan(
        &self,
        actor: &Actor,
        plan: &SamplingPlanInput,
        now: Timestamp,
    ) -> StoreResult<QaPlanRecord> {
        let definition = plan_json(plan);
        let mut tx = self.writer.begin().await?;
        let existing: Option<i64> =
            sqlx::query_scalar("SELECT created_at FROM qa_plans WHERE name = $1")
                .bind(&plan.name)
                .fetch_optional(&mut *tx)
                .await?;
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM qa_plans")
            .fetch_one(&mut *tx)
            .await?;
        if existing.is_none() && count >= QA_PLANS_MAX as i64 {
            return Err(StoreError::invalid(
                "name",
                format!("at most {QA_PLANS_MAX} plans; replace or remove one"),
            ));
        }
        sqlx::query(
            "INSERT INTO qa_plans (name, definition, created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) ON CONFLICT (name) DO UPDATE SET definition = excluded.definition, created_by = excluded.created_by, updated_at = excluded.updated_at",
        )
        .bind(&plan.name)
        .bind(definition.to_string())
        .bind(&actor.name)
        .bind(ms(now))
        .execute(&mut *tx)
        .await?;
        let draft = AuditDraft::new(
            actor,
            if existing.is_some() {
                "qa.plan.replace"
            } else {
                "qa.plan.create"
            },
            "qa_plan",
            &plan.name,
            Value::Null,
            definition,
        );
        self.append_audit(&mut tx, vec![draft], now).await?;
        tx.commit().await?;
        let created_at = match existing {
            Some(at) => super::wrappers::time_from_ms(at, "created_at")?,
            None => now,
        };
        Ok(QaPlanRecord {
            input: plan.clone(),
            created_by: actor.name.clone(),
            created_at,
            updated_at: now,
        })
    }

    async fn qa_plans(&self) -> StoreResult<Vec<QaPlanRecord>> {
        let rows = sqlx::query_as::<_, DbQaPlan>(
            "SELECT name, definition, created_by, created_at, updated_at FROM qa_plans ORDER BY name LIMIT $1",
        )
        .bind(QA_PLANS_MAX as i64)
        .fetch_all(&self.reader)
        .await?;
        Ok(rows.into_iter().map(|DbQaPlan(plan)| plan).collect())
    }

    async fn qa_sampling_cursor(&self) -> StoreResult<i64> {
        let cursor: Option<i64> =
            sqlx::query_scalar("SELECT last_decision_id FROM qa_sampling_cursor WHERE id = 1")
                .fetch_optional(&self.reader)
                .await?;
        Ok(cursor.unwrap_or(0))
    }

    async fn decisions_to_sample(
        &self,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<DecisionToSample>> {
        let rows = sqlx::query_as::<_, DbDecisionToSample>(
            "SELECT d.id AS decision_id, d.case_id AS case_id, c.queue AS queue, d.category AS category, c.severity AS severity, u.name AS decider, u.created_at AS decider_started_at, d.decided_at AS decided_at FROM decisions d JOIN cases c ON c.id = d.case_id JOIN users u ON u.id = d.decided_by_id WHERE d.id > $1 ORDER BY d.id LIMIT $2",
        )
        .bind(after)
        .bind(page(limit))
        .fetch_all(&self.reader)
        .await?;
        Ok(rows.into_iter().map(|DbDecisionToSample(d)| d).collect())
    }

    async fn decisions_made_between(
        &self,
        since: Timestamp,
        until: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<DecisionToSample>> {
        let rows = sqlx::query_as::<_, DbDecisionToSample>(
            "SELECT d.id AS decision_id, d.case_id AS case_id, c.queue AS queue, d.category AS category, c.severity AS severity, u.name AS decider, u.created_at AS decider_started_at, d.decided_at AS decided_at FROM decisions d JOIN cases c ON c.id = d.case_id JOIN users u ON u.id = d.decided_by_id WHERE d.decided_at >= $1 AND d.decided_at < $2 ORDER BY d.decided_at, d.id LIMIT $3",
        )
        .bind(ms(since))
        .bind(ms(until))
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?;
        Ok(rows.into_iter().map(|DbDecisionToSample(d)| d).collect())
    }

    async fn decision_volume(
        &self,
        since: Timestamp,
        until: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<StratumCount>> {
        let limit = i64::from(limit).clamp(1, QA_VOLUME_STRATA_MAX as i64);
        let rows = sqlx::query_as::<_, DbStratumCount>(
            "SELECT c.queue AS queue, d.category AS category, c.severity AS severity, u.name AS decider, u.created_at AS decider_started_at, COUNT(*) AS decisions FROM decisions d JOIN cases c ON c.id = d.case_id JOIN users u ON u.id = d.decided_by_id WHERE d.decided_at >= $1 AND d.decided_at < $2 GROUP BY c.queue, d.category, c.severity, u.name, u.created_at ORDER BY decisions DESC, queue, category, severity, decider LIMIT $3",
        )
        .bind(ms(since))
        .bind(ms(until))
        .bind(limit)
        .fetch_all(&self.reader)
        .await?;
        Ok(rows
            .into_iter()
            .map(|DbStratumCount(count)| count)
            .collect())
    }

    async fn add_qa_samples(
        &self,
        actor: &Actor,
        samples: Vec<NewQaSample>,
        now: Timestamp,
    ) -> StoreResult<u32> {
        if samples.iter().any(|sample| sample.plans.is_empty()) {
            return Err(StoreError::invalid(
                "plans",
                "a sample names the plans that chose it",
            ));
        }
        let mut tx = self.writer.begin().await?;
        let mut added = Vec::new();
        for sample in &samples {
            if insert_sample(&mut tx, sample, now).await? {
                added.push(sample.decision.decision_id);
            }
        }
        if !added.is_empty() {
            let draft = AuditDraft::new(
                actor,
                "qa.sample_window",
                "qa_sampling",
                "window",
                Value::Null,
                json!({"sampled": added}),
            );
            self.append_audit(&mut tx, vec![draft], now).await?;
        }
        tx.commit().await?;
        Ok(added.len() as u32)
    }

    async fn qa_rate_sampled_since(&self, plan: &str, since: Timestamp) -> StoreResult<u32> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM qa_assignment_plans WHERE plan = $1 AND by_rate = 1 AND sampled_at >= $2",
        )
        .bind(plan)
        .bind(ms(since))
        .fetch_one(&self.reader)
        .await?;
        Ok(u32::try_from(count).unwrap_or(u32::MAX))
    }

    async fn record_qa_samples(
        &self,
        actor: &Actor,
        samples: Vec<NewQaSample>,
        cursor: (i64, i64),
        now: Timestamp,
    ) -> StoreResult<u32> {
        if samples.iter().any(|sample| sample.plans.is_empty()) {
            return Err(StoreError::invalid(
                "plans",
                "a sample names the plans that chose it",
            ));
        }
        let mut tx = self.writer.begin().await?;
        move_cursor(&mut tx, cursor, now).await?;
        let mut added = Vec::new();
        for sample in &samples {
            if insert_sample(&mut tx, sample, now).await? {
                added.push(sample.decision.decision_id);
            }
        }
        let draft = AuditDraft::new(
            actor,
            "qa.sample",
            "qa_sampling",
            cursor.1,
            json!({"last_decision_id": cursor.0}),
            json!({"last_decision_id": cursor.1, "sampled": added}),
        );
        self.append_audit(&mut tx, vec![draft], now).await?;
        tx.commit().await?;
        Ok(added.len() as u32)
    }

    async fn qa_assignment(&self, decision_id: i64) -> StoreResult<Option<StoredQaAssignment>> {
        let mut params = Params::default();
        let id = params.int(decision_id);
        let rows = self
            .qa_rows(&format!("a.decision_id = {id}"), params)
            .await?;
        Ok(self.assemble_assignments(rows).await?.pop())
    }

    async fn next_qa_assignment(
        &self,
        scope: &QueueScope,
        reviewer: &str,
        now: Timestamp,
    ) -> StoreResult<Option<StoredQaAssignment>> {
        let mut params = Params::default();
        let now = params.int(ms(now));
        let reviewer = params.text(reviewer);
        let mut conditions = vec![
            format!(
                "(a.status = 'sampled' OR (a.status = 'claimed' AND a.lease_expires_at <= {now}))"
            ),
            format!("a.decider <> {reviewer}"),
        ];
        conditions.extend(scope_sql(scope, &mut params));
        let where_clause = format!(
            "{} ORDER BY a.sampled_at, a.decision_id LIMIT 1",
            conditions.join(" AND ")
        );
        let rows = self.qa_rows(&where_clause, params).await?;
        Ok(self.assemble_assignments(rows).await?.pop())
    }

    async fn save_qa_assignment(
        &self,
        actor: &Actor,
        change: QaChange<'_>,
        now: Timestamp,
    ) -> StoreResult<i64> {
        let record = change.assignment.record();
        if change.reopen.is_some() && change.rework.is_none() {
            return Err(StoreError::invalid(
                "reopen",
                "a case reopens for QA only with the rework that asks for it",
            ));
        }
        let mut tx = self.writer.begin().await?;
        update_assignment(&mut tx, &change).await?;
        if let Some(rework) = &change.rework {
            insert_rework(&mut tx, rework).await?;
        }
        let mut drafts = vec![AuditDraft::new(
            actor,
            &format!("qa.{}", change.event),
            "qa_assignment",
            record.decision_id,
            json!({"version": change.expected_version}),
            assignment_audit(&change),
        )];
        if let Some(reopen) = &change.reopen {
            // The case reopens in the same transaction: a case that cannot
            // reopen (it changed since it was read) leaves no rework either.
            let before = self.locked_case(&mut tx, record.case_id, None).await?;
            let (_, draft) = self
                .reopen_in(&mut tx, actor, before, &reopen.reason, reopen.policy, now)
                .await?;
            drafts.push(draft);
        }
        self.append_audit(&mut tx, drafts, now).await?;
        tx.commit().await?;
        Ok(change.expected_version + 1)
    }

    async fn qa_pending_for_case(&self, case: CaseId) -> StoreResult<Vec<StoredQaAssignment>> {
        let mut params = Params::default();
        let case = params.int(case.0);
        let where_clause = format!(
            "a.case_id = {case} AND a.status IN ('sampled', 'claimed') ORDER BY a.decision_id LIMIT {}",
            PAGE_SIZE_MAX
        );
        let rows = self.qa_rows(&where_clause, params).await?;
        self.assemble_assignments(rows).await
    }

    async fn qa_reviews(&self, filter: &QaReviewFilter) -> StoreResult<Vec<StoredQaAssignment>> {
        let mut params = Params::default();
        let mut conditions = vec!["a.verdict_at IS NOT NULL".to_string()];
        if let Some(reviewer) = &filter.reviewer {
            conditions.push(format!("a.reviewer = {}", params.text(reviewer.clone())));
        }
        if let Some(decider) = &filter.decider {
            conditions.push(format!("a.decider = {}", params.text(decider.clone())));
        }
        if let Some(since) = filter.since {
            conditions.push(format!("a.verdict_at >= {}", params.int(ms(since))));
        }
        if filter.awaiting_acknowledgement {
            conditions.push("a.status = 'scored'".into());
        }
        conditions.extend(scope_sql(&filter.scope, &mut params));
        let limit = params.int(page(filter.limit));
        let where_clause = format!(
            "{} ORDER BY a.verdict_at DESC, a.decision_id DESC LIMIT {limit}",
            conditions.join(" AND ")
        );
        let rows = self.qa_rows(&where_clause, params).await?;
        self.assemble_assignments(rows).await
    }

    async fn qa_queue_depth(&self, scope: &QueueScope, now: Timestamp) -> StoreResult<u64> {
        let mut params = Params::default();
        let now = params.int(ms(now));
        let mut conditions = vec![format!(
            "(status = 'sampled' OR (status = 'claimed' AND lease_expires_at <= {now}))"
        )];
        conditions.extend(scope_sql(scope, &mut params));
        let sql = format!(
            "SELECT COUNT(*) AS n FROM qa_assignments WHERE {}",
            conditions.join(" AND ")
        );
        let (count,): (i64,) = bind_all(sqlx::query_as(&sql), params)
            .fetch_one(&self.reader)
            .await?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    async fn create_calibration_session(
        &self,
        actor: &Actor,
        session: &CalibrationSessionRecord,
        now: Timestamp,
    ) -> StoreResult<i64> {
        let mut tx = self.writer.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO calibration_sessions (title, created_by, created_at, status, version, opened_at) VALUES ($1, $2, $3, $4, 1, $5) RETURNING id",
        )
        .bind(stored_text(&session.title).into_owned())
        .bind(&session.created_by)
        .bind(ms(session.created_at))
        .bind(session.status.as_str())
        .bind(ms_opt(session.opened_at))
        .fetch_one(&mut *tx)
        .await?;
        insert_session_parts(&mut tx, id, session).await?;
        let draft = AuditDraft::new(
            actor,
            "calibration.create",
            "calibration_session",
            id,
            Value::Null,
            json!({"title": session.title, "case_ids": session.case_ids,
                   "raters": session.raters, "status": session.status.as_str()}),
        );
        self.append_audit(&mut tx, vec![draft], now).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn calibration_session(&self, id: i64) -> StoreResult<Option<StoredCalibrationSession>> {
        let row = sqlx::query_as::<_, DbSessionRow>(&format!(
            "SELECT {SESSION_COLUMNS} FROM calibration_sessions WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.reader)
        .await?;
        match row {
            Some(row) => Ok(Some(self.load_session(row).await?)),
            None => Ok(None),
        }
    }

    async fn save_calibration_session(
        &self,
        actor: &Actor,
        (id, expected_version): (i64, i64),
        session: &CalibrationSessionRecord,
        event: &str,
        now: Timestamp,
    ) -> StoreResult<i64> {
        let mut tx = self.writer.begin().await?;
        let resolution = session.resolution.as_ref();
        let updated = sqlx::query(
            "UPDATE calibration_sessions SET status = $1, version = version + 1, opened_at = $2, closed_at = $3, resolution_note = $4, resolved_by = $5, resolved_at = $6 WHERE id = $7 AND version = $8",
        )
        .bind(session.status.as_str())
        .bind(ms_opt(session.opened_at))
        .bind(ms_opt(session.closed_at))
        .bind(resolution.map(|r| stored_text(&r.note).into_owned()))
        .bind(resolution.map(|r| r.resolved_by.clone()))
        .bind(resolution.map(|r| ms(r.resolved_at)))
        .bind(id)
        .bind(expected_version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated != 1 {
            let exists: Option<i64> =
                sqlx::query_scalar("SELECT id FROM calibration_sessions WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
            return Err(match exists {
                None => StoreError::NotFound(format!("calibration session {id}")),
                Some(_) => StoreError::Conflict(format!(
                    "calibration session {id} changed since it was read; read it again"
                )),
            });
        }
        let added = insert_session_additions(&mut tx, id, session).await?;
        let draft = AuditDraft::new(
            actor,
            &format!("calibration.{event}"),
            "calibration_session",
            id,
            json!({"version": expected_version}),
            json!({"status": session.status.as_str(), "ratings_added": added,
                   "resolution": resolution.map(|r| json!({"note": r.note, "categories": r.categories}))}),
        );
        self.append_audit(&mut tx, vec![draft], now).await?;
        tx.commit().await?;
        Ok(expected_version + 1)
    }

    async fn calibration_sessions(
        &self,
        limit: u32,
    ) -> StoreResult<Vec<CalibrationSessionSummary>> {
        let rows = sqlx::query_as::<_, DbSessionRow>(&format!(
            "SELECT {SESSION_COLUMNS} FROM calibration_sessions ORDER BY id DESC LIMIT $1"
        ))
        .bind(page(limit))
        .fetch_all(&self.reader)
        .await?;
        Ok(rows.into_iter().map(|row| row.summary).collect())
    }

    async fn resolution_notes(
        &self,
        category: &str,
        limit: u32,
    ) -> StoreResult<Vec<ResolutionNoteRecord>> {
        let rows = sqlx::query_as::<_, DbResolutionNote>(
            "SELECT s.id AS id, s.title AS title, s.resolution_note AS resolution_note, s.resolved_by AS resolved_by, s.resolved_at AS resolved_at FROM calibration_note_categories n JOIN calibration_sessions s ON s.id = n.session_id WHERE n.category = $1 AND s.resolution_note IS NOT NULL ORDER BY s.resolved_at DESC, s.id DESC LIMIT $2",
        )
        .bind(category)
        .bind(page(limit))
        .fetch_all(&self.reader)
        .await?;
        Ok(rows
            .into_iter()
            .map(|DbResolutionNote(note)| note)
            .collect())
    }
}
