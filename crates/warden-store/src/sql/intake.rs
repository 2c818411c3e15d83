//! The SQL of [`IntakeStore`]: subjects, events, reports and signals,
//! idempotent by platform id.
//!
//! Each call is one transaction with one audit record. An item the store
//! cannot take (or a database error on it) is refused alone: the batch is
//! then written again with a savepoint around each item, and the others are
//! committed (see `ingest_items`). An item whose id is already stored is a duplicate when its fingerprint is
//! the same and a conflict when it differs; neither changes anything.
//! Reports and case-opening signals join the open case about the same subject
//! and category, or open one in the queue routing picks: the plan is
//! `warden_domain::routing::plan_case`, the store loads the open case and
//! writes the plan.

use std::time::Duration as StdDuration;

use async_trait::async_trait;
use serde_json::{json, Value};
use sqlx::{Any, Connection, Transaction};

use warden_domain::case::{add_priority, priority_weight, signal_priority_weight, CaseStatus};
use warden_domain::intake::{
    IntakeOutcome, NewEvent, NewReport, NewSignal, NewSubject, ReportSource,
};
use warden_domain::limits::CASE_PRIORITY_MAX;
use warden_domain::routing::{plan_case, CaseItem, CaseItemKind, CasePlan, OpenCaseFacts};
use warden_domain::{CaseId, FieldError, SubjectRef, Timestamp};

use super::free_text::stored_text_opt;
use super::wrappers::DbOpenCase;
use super::{ms, AuditDraft, SqlStore};
use crate::{Actor, CasePolicy, CaseScore, IntakeStore, StoreError, StoreResult};

use crate::limits::AUDIT_IDS_MAX;

/// What a case-opening item brings to its case: the subject it is about
/// and the facts routing plans from.
pub(crate) struct CaseContribution<'a> {
    pub(crate) subject: &'a SubjectRef,
    pub(crate) item: CaseItem<'a>,
}

/// Tallies of one intake call, for its audit record.
#[derive(Default)]
struct IntakeTally {
    created: Vec<String>,
    duplicates: usize,
    conflicts: usize,
    refused: usize,
    updated: usize,
    cases_opened: Vec<i64>,
    cases_joined: Vec<i64>,
}

impl IntakeTally {
    fn count(&mut self, outcome: &IntakeOutcome, id: &str) {
        match outcome {
            IntakeOutcome::Created => self.created.push(id.to_string()),
            IntakeOutcome::Updated => self.updated += 1,
            IntakeOutcome::Duplicate => self.duplicates += 1,
            IntakeOutcome::Conflict => self.conflicts += 1,
            IntakeOutcome::Refused(_) | IntakeOutcome::Failed => self.refused += 1,
        }
    }

    fn note_case(&mut self, (case_id, opened): (CaseId, bool)) {
        if opened {
            self.cases_opened.push(case_id.0);
        } else {
            self.cases_joined.push(case_id.0);
        }
    }

    fn audit(self, actor: &Actor, action: &str) -> Option<AuditDraft> {
        if self.created.is_empty() && self.updated == 0 {
            return None;
        }
        let mut after = json!({
            "created": self.created.len(),
            "updated": self.updated,
            "duplicates": self.duplicates,
            "conflicts": self.conflicts,
            "refused": self.refused,
            "ids": self.created.iter().take(AUDIT_IDS_MAX).collect::<Vec<_>>(),
        });
        if !self.cases_opened.is_empty() || !self.cases_joined.is_empty() {
            after["cases_opened"] = json!(self
                .cases_opened
                .iter()
                .take(AUDIT_IDS_MAX)
                .collect::<Vec<_>>());
            after["cases_joined"] = json!(self
                .cases_joined
                .iter()
                .take(AUDIT_IDS_MAX)
                .collect::<Vec<_>>());
        }
        Some(AuditDraft::new(
            actor,
            action,
            "intake",
            action.trim_start_matches("intake."),
            Value::Null,
            after,
        ))
    }
}

fn ref_parts(reference: &Option<SubjectRef>) -> (Option<&'static str>, Option<String>) {
    match reference {
        Some(r) => (Some(r.kind.as_str()), Some(r.id.as_str().to_string())),
        None => (None, None),
    }
}

/// One intake item of any kind, as the batch writer handles it.
enum Item<'a> {
    Subject(NewSubject),
    Event(NewEvent),
    Report(NewReport, &'a CasePolicy),
    Signal(NewSignal, &'a CasePolicy),
}

impl Item<'_> {
    /// The id the audit record lists.
    fn audit_id(&self) -> String {
        match self {
            Item::Subject(item) => item.subject.to_string(),
            Item::Event(item) => item.id.as_str().to_string(),
            Item::Report(item, _) => item.id.as_str().to_string(),
            Item::Signal(item, _) => item.id.as_str().to_string(),
        }
    }
}

/// Attempts at a batch that a deadlock with a concurrent batch interrupted
/// (PostgreSQL, SQLSTATE 40P01: two batches filing into the same cases in
/// different orders). PostgreSQL aborts one of the two; it tries again
/// rather than refuse items that nothing was wrong with.
const DEADLOCK_ATTEMPTS: usize = 5;

/// Whether `error` is PostgreSQL's deadlock error (SQLSTATE 40P01, whose
/// message is "deadlock detected").
fn is_deadlock(error: &StoreError) -> bool {
    matches!(error, StoreError::Database(message) if message.contains("deadlock detected"))
}

/// How an item the store could not take is answered in its batch.
fn refusal(error: StoreError, item: &Item<'_>) -> IntakeOutcome {
    match error {
        StoreError::Invalid { field, reason } => {
            IntakeOutcome::Refused(FieldError::new(field, reason))
        }
        other => {
            tracing::error!(item = %item.audit_id(), error = %other, "an intake item could not be stored; the rest of its batch was");
            IntakeOutcome::Failed
        }
    }
}

/// What storing one item did: its outcome and the case it opened or joined.
type Stored = (IntakeOutcome, Option<(CaseId, bool)>);

#[async_trait]
impl IntakeStore for SqlStore {
    async fn ingest_subjects(
        &self,
        actor: &Actor,
        items: Vec<NewSubject>,
        now: Timestamp,
    ) -> StoreResult<Vec<IntakeOutcome>> {
        let items = items.into_iter().map(Item::Subject).collect();
        self.ingest_items(actor, "intake.subjects", items, now)
            .await
    }

    async fn ingest_events(
        &self,
        actor: &Actor,
        items: Vec<NewEvent>,
        now: Timestamp,
    ) -> StoreResult<Vec<IntakeOutcome>> {
        let items = items.into_iter().map(Item::Event).collect();
        self.ingest_items(actor, "intake.events", items, now).await
    }

    async fn ingest_reports(
        &self,
        actor: &Actor,
        items: Vec<NewReport>,
        policy: &CasePolicy,
        now: Timestamp,
    ) -> StoreResult<Vec<IntakeOutcome>> {
        let items = items
            .into_iter()
            .map(|item| Item::Report(item, policy))
            .collect();
        self.ingest_items(actor, "intake.reports", items, now).await
    }

    async fn ingest_signals(
        &self,
        actor: &Actor,
        items: Vec<NewSignal>,
        policy: &CasePolicy,
        now: Timestamp,
    ) -> StoreResult<Vec<IntakeOutcome>> {
        let items = items
            .into_iter()
            .map(|item| Item::Signal(item, policy))
            .collect();
        self.ingest_items(actor, "intake.signals", items, now).await
    }

    async fn weigh_case_score(
        &self,
        actor: &Actor,
        score: &CaseScore,
        now: Timestamp,
    ) -> StoreResult<Option<CaseId>> {
        let mut tx = self.writer.begin().await?;
        let open: Option<(i64, i64, i64)> = sqlx::query_as(&format!(
            "SELECT id, priority, classifier_priority FROM cases WHERE subject_kind = $1 AND subject_id = $2 AND category = $3 AND status <> 'resolved'{}",
            self.backend.for_update()
        ))
        .bind(score.subject.kind.as_str())
        .bind(score.subject.id.as_str())
        .bind(&score.category)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((id, priority, before)) = open else {
            return Ok(None);
        };
        let points = score.points.clamp(0, CASE_PRIORITY_MAX);
        let new_priority = add_priority(priority.saturating_sub(before), points);
        sqlx::query(
            "UPDATE cases SET priority = $2, classifier_priority = $3, version = version + 1, updated_at = $4 WHERE id = $1",
        )
        .bind(id)
        .bind(new_priority)
        .bind(points)
        .bind(ms(now))
        .execute(&mut *tx)
        .await?;
        let draft = AuditDraft::new(
            actor,
            "case.classifier_priority",
            "case",
            id.to_string(),
            json!({"priority": priority, "classifier_priority": before}),
            json!({
                "priority": new_priority,
                "classifier_priority": points,
                "model": score.model,
                "version": score.version,
                // Rounded: the audit hash must survive a JSON round trip.
                "score": (score.score * 1e6).round() / 1e6,
            }),
        );
        self.append_audit(&mut tx, vec![draft], now).await?;
        tx.commit().await?;
        Ok(Some(CaseId(id)))
    }
}

impl SqlStore {
    /// Writes a batch in one transaction with one audit record. When an item
    /// fails, that transaction is rolled back and the batch is written again
    /// with a savepoint around each item: the failing item is refused alone
    /// ([`IntakeOutcome::Refused`] for an item the store cannot take,
    /// [`IntakeOutcome::Failed`] for a database error on it) and the others
    /// commit. A batch of one answers the item's error itself. An error
    /// outside any one item (the connection, the commit) fails the batch.
    async fn ingest_items(
        &self,
        actor: &Actor,
        action: &str,
        items: Vec<Item<'_>>,
        now: Timestamp,
    ) -> StoreResult<Vec<IntakeOutcome>> {
        let mut attempt = 1;
        loop {
            match self.write_batch(actor, action, &items, now).await? {
                Ok(outcomes) => return Ok(outcomes),
                // Rolled back whole, the batch released every lock it held:
                // the other transaction goes on, and this one tries again.
                Err(error) if is_deadlock(&error) && attempt < DEADLOCK_ATTEMPTS => {
                    attempt += 1;
                    tokio::time::sleep(StdDuration::from_millis(10 * attempt as u64)).await;
                }
                Err(error) if items.len() == 1 => return Err(error),
                Err(_) => {
                    return self
                        .write_batch_item_by_item(actor, action, &items, now)
                        .await
                }
            }
        }
    }

    /// The fast path: every item in one transaction. An item's error rolls
    /// the transaction back and comes back as the inner `Err`.
    async fn write_batch(
        &self,
        actor: &Actor,
        action: &str,
        items: &[Item<'_>],
        now: Timestamp,
    ) -> StoreResult<Result<Vec<IntakeOutcome>, StoreError>> {
        let mut tx = self.writer.begin().await?;
        let mut outcomes = Vec::with_capacity(items.len());
        let mut tally = IntakeTally::default();
        for item in items {
            match self.store_item(&mut tx, actor, item, now).await {
                Ok((outcome, case)) => {
                    tally.count(&outcome, &item.audit_id());
                    if let Some(case) = case {
                        tally.note_case(case);
                    }
                    outcomes.push(outcome);
                }
                Err(error) => {
                    tx.rollback().await?;
                    return Ok(Err(error));
                }
            }
        }
        let drafts = tally.audit(actor, action).into_iter().collect();
        self.append_audit(&mut tx, drafts, now).await?;
        tx.commit().await?;
        Ok(Ok(outcomes))
    }

    /// The slow path after an item failed: a savepoint around each item,
    /// so that the failing ones are refused alone and the others commit.
    async fn write_batch_item_by_item(
        &self,
        actor: &Actor,
        action: &str,
        items: &[Item<'_>],
        now: Timestamp,
    ) -> StoreResult<Vec<IntakeOutcome>> {
        let mut tx = self.writer.begin().await?;
        let mut outcomes = Vec::with_capacity(items.len());
        let mut tally = IntakeTally::default();
        for item in items {
            let mut savepoint = tx.begin().await?;
            match self.store_item(&mut savepoint, actor, item, now).await {
                Ok((outcome, case)) => {
                    savepoint.commit().await?;
                    tally.count(&outcome, &item.audit_id());
                    if let Some(case) = case {
                        tally.note_case(case);
                    }
                    outcomes.push(outcome);
                }
                Err(error) => {
                    savepoint.rollback().await?;
                    outcomes.push(refusal(error, item));
                }
            }
        }
        let drafts = tally.audit(actor, action).into_iter().collect();
        self.append_audit(&mut tx, drafts, now).await?;
        tx.commit().await?;
        Ok(outcomes)
    }

    /// Stores one item in `tx` (a transaction or a savepoint).
    async fn store_item(
        &self,
        tx: &mut Transaction<'_, Any>,
        actor: &Actor,
        item: &Item<'_>,
        now: Timestamp,
    ) -> StoreResult<Stored> {
        match item {
            Item::Subject(item) => self.store_subject(tx, item, now).await,
            Item::Event(item) => self.store_event(tx, item, now).await,
            Item::Report(item, policy) => self.store_report(tx, actor, item, policy, now).await,
            Item::Signal(item, policy) => self.store_signal(tx, actor, item, policy, now).await,
        }
    }

    async fn store_subject(
        &self,
        tx: &mut Transaction<'_, Any>,
        item: &NewSubject,
        now: Timestamp,
    ) -> StoreResult<Stored> {
        let fingerprint = item.fingerprint().0;
        let (owner_kind, owner_id) = ref_parts(&item.owner);
        let media = Value::Array(
            item.media
                .iter()
                .map(|m| json!({"url": m.url, "mime": m.mime, "sha256": m.sha256}))
                .collect(),
        )
        .to_string();
        let attributes = item.attributes.to_string();
        let text = stored_text_opt(item.text.as_deref());
        let inserted = sqlx::query(
            "INSERT INTO subjects (kind, platform_id, owner_kind, owner_id, text, media, attributes, created_at, first_seen_at, updated_at, fingerprint) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10) ON CONFLICT (kind, platform_id) DO NOTHING",
        )
        .bind(item.subject.kind.as_str())
        .bind(item.subject.id.as_str())
        .bind(owner_kind)
        .bind(owner_id.clone())
        .bind(text.clone())
        .bind(media.clone())
        .bind(attributes.clone())
        .bind(item.created_at.map(ms))
        .bind(ms(now))
        .bind(&fingerprint)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        if inserted == 1 {
            return Ok((IntakeOutcome::Created, None));
        }
        let stored: String = sqlx::query_scalar(&format!(
            "SELECT fingerprint FROM subjects WHERE kind = $1 AND platform_id = $2{}",
            self.backend.for_update()
        ))
        .bind(item.subject.kind.as_str())
        .bind(item.subject.id.as_str())
        .fetch_one(&mut **tx)
        .await?;
        if stored == fingerprint {
            return Ok((IntakeOutcome::Duplicate, None));
        }
        sqlx::query(
            "UPDATE subjects SET owner_kind = $3, owner_id = $4, text = $5, media = $6, attributes = $7, created_at = COALESCE($8, created_at), updated_at = $9, fingerprint = $10 WHERE kind = $1 AND platform_id = $2",
        )
        .bind(item.subject.kind.as_str())
        .bind(item.subject.id.as_str())
        .bind(owner_kind)
        .bind(owner_id)
        .bind(text)
        .bind(media)
        .bind(attributes)
        .bind(item.created_at.map(ms))
        .bind(ms(now))
        .bind(&fingerprint)
        .execute(&mut **tx)
        .await?;
        Ok((IntakeOutcome::Updated, None))
    }

    async fn store_event(
        &self,
        tx: &mut Transaction<'_, Any>,
        item: &NewEvent,
        now: Timestamp,
    ) -> StoreResult<Stored> {
        let fingerprint = item.fingerprint().0;
        let (actor_kind, actor_id) = ref_parts(&item.actor);
        let (subject_kind, subject_id) = ref_parts(&item.subject);
        let inserted = sqlx::query(
            "INSERT INTO events (platform_id, event_type, occurred_at, actor_kind, actor_id, subject_kind, subject_id, ip, device_id, data, fingerprint, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (platform_id) DO NOTHING",
        )
        .bind(item.id.as_str())
        .bind(&item.event_type)
        .bind(ms(item.occurred_at))
        .bind(actor_kind)
        .bind(actor_id)
        .bind(subject_kind)
        .bind(subject_id)
        .bind(item.ip.clone())
        .bind(item.device_id.clone())
        .bind(item.data.to_string())
        .bind(&fingerprint)
        .bind(ms(now))
        .execute(&mut **tx)
        .await?
        .rows_affected();
        let outcome = if inserted == 1 {
            IntakeOutcome::Created
        } else {
            self.compare_fingerprint(tx, "events", item.id.as_str(), &fingerprint)
                .await?
        };
        Ok((outcome, None))
    }

    async fn store_report(
        &self,
        tx: &mut Transaction<'_, Any>,
        actor: &Actor,
        item: &NewReport,
        policy: &CasePolicy,
        now: Timestamp,
    ) -> StoreResult<Stored> {
        let fingerprint = item.fingerprint().0;
        let (reporter_kind, reporter_id) = ref_parts(&item.reporter);
        let inserted = sqlx::query(
            "INSERT INTO reports (platform_id, subject_kind, subject_id, reason, source, reporter_kind, reporter_id, text, language, created_at, received_at, fingerprint) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (platform_id) DO NOTHING",
        )
        .bind(item.id.as_str())
        .bind(item.subject.kind.as_str())
        .bind(item.subject.id.as_str())
        .bind(&item.reason)
        .bind(item.source.as_str())
        .bind(reporter_kind)
        .bind(reporter_id)
        .bind(stored_text_opt(item.text.as_deref()))
        .bind(item.language.clone())
        .bind(ms(item.created_at.unwrap_or(now)))
        .bind(ms(now))
        .bind(&fingerprint)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        if inserted != 1 {
            let outcome = self
                .compare_fingerprint(tx, "reports", item.id.as_str(), &fingerprint)
                .await?;
            return Ok((outcome, None));
        }
        let contribution = CaseContribution {
            subject: &item.subject,
            item: CaseItem {
                category: &item.reason,
                source: item.source,
                language: item.language.as_deref(),
                weight: priority_weight(item.source),
                kind: CaseItemKind::Report,
                queue: None,
                severity: None,
            },
        };
        let filed = self
            .file_in_case(
                tx,
                actor,
                "reports",
                item.id.as_str(),
                &contribution,
                policy,
                now,
            )
            .await?;
        Ok((IntakeOutcome::Created, Some(filed)))
    }

    async fn store_signal(
        &self,
        tx: &mut Transaction<'_, Any>,
        actor: &Actor,
        item: &NewSignal,
        policy: &CasePolicy,
        now: Timestamp,
    ) -> StoreResult<Stored> {
        let fingerprint = item.fingerprint().0;
        let inserted = sqlx::query(
            "INSERT INTO signals (platform_id, subject_kind, subject_id, category, source, name, score, opens_case, details, created_at, received_at, fingerprint) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (platform_id) DO NOTHING",
        )
        .bind(item.id.as_str())
        .bind(item.subject.kind.as_str())
        .bind(item.subject.id.as_str())
        .bind(&item.category)
        .bind(&item.source)
        .bind(&item.name)
        .bind(item.score)
        .bind(i64::from(item.opens_case))
        .bind(item.details.to_string())
        .bind(ms(item.created_at.unwrap_or(now)))
        .bind(ms(now))
        .bind(&fingerprint)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        if inserted != 1 {
            let outcome = self
                .compare_fingerprint(tx, "signals", item.id.as_str(), &fingerprint)
                .await?;
            return Ok((outcome, None));
        }
        if !item.opens_case {
            return Ok((IntakeOutcome::Created, None));
        }
        let contribution = CaseContribution {
            subject: &item.subject,
            item: CaseItem {
                category: &item.category,
                source: ReportSource::AutomatedFlag,
                language: None,
                weight: signal_priority_weight(item.score),
                kind: CaseItemKind::Signal,
                queue: None,
                severity: None,
            },
        };
        let filed = self
            .file_in_case(
                tx,
                actor,
                "signals",
                item.id.as_str(),
                &contribution,
                policy,
                now,
            )
            .await?;
        Ok((IntakeOutcome::Created, Some(filed)))
    }

    /// Opens or joins the case of a report or signal and records the case on
    /// the item's row in `table`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn file_in_case(
        &self,
        tx: &mut Transaction<'_, Any>,
        actor: &Actor,
        table: &'static str,
        platform_id: &str,
        contribution: &CaseContribution<'_>,
        policy: &CasePolicy,
        now: Timestamp,
    ) -> StoreResult<(CaseId, bool)> {
        let (case_id, opened) = self
            .open_or_join_case(tx, actor, contribution, policy, now)
            .await?;
        sqlx::query(&format!(
            "UPDATE {table} SET case_id = $1 WHERE platform_id = $2"
        ))
        .bind(case_id.0)
        .bind(platform_id)
        .execute(&mut **tx)
        .await?;
        Ok((case_id, opened))
    }

    /// Tells a repeat from a conflict for an item whose id is already stored.
    async fn compare_fingerprint(
        &self,
        tx: &mut Transaction<'_, Any>,
        table: &'static str,
        platform_id: &str,
        fingerprint: &str,
    ) -> StoreResult<IntakeOutcome> {
        let stored: String = sqlx::query_scalar(&format!(
            "SELECT fingerprint FROM {table} WHERE platform_id = $1"
        ))
        .bind(platform_id)
        .fetch_one(&mut **tx)
        .await?;
        Ok(if stored == fingerprint {
            IntakeOutcome::Duplicate
        } else {
            IntakeOutcome::Conflict
        })
    }

    /// Adds a report or signal to the open case about its subject and
    /// category, opening one when there is none, as routing plans
    /// ([`plan_case`]). Returns the case and whether it was opened now.
    pub(crate) async fn open_or_join_case(
        &self,
        tx: &mut Transaction<'_, Any>,
        actor: &Actor,
        contribution: &CaseContribution<'_>,
        policy: &CasePolicy,
        now: Timestamp,
    ) -> StoreResult<(CaseId, bool)> {
        let item = &contribution.item;
        let plan = plan_case(&policy.taxonomy, &policy.router, item, now)
            .map_err(|e| StoreError::invalid(e.field, e.reason))?;
        let (reports, signals) = plan.kind.counts();
        let opened: Option<i64> = sqlx::query_scalar(
            "INSERT INTO cases (subject_kind, subject_id, category, queue, severity, status, priority, version, language, opened_at, updated_at, first_touch_due_at, resolve_due_at, report_count, signal_count) VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $9, $9, $10, $11, $12, $13) ON CONFLICT (subject_kind, subject_id, category) WHERE status <> 'resolved' AND kind = 'report' DO NOTHING RETURNING id",
        )
        .bind(contribution.subject.kind.as_str())
        .bind(contribution.subject.id.as_str())
        .bind(item.category)
        .bind(&plan.queue.name)
        .bind(plan.severity.rank())
        .bind(CaseStatus::New.as_str())
        .bind(plan.priority)
        .bind(item.language)
        .bind(ms(now))
        .bind(ms(plan.deadlines.first_touch_due_at))
        .bind(ms(plan.deadlines.resolve_due_at))
        .bind(reports)
        .bind(signals)
        .fetch_optional(&mut **tx)
        .await?;
        if let Some(id) = opened {
            sqlx::query(
                "INSERT INTO case_transitions (case_id, from_status, to_status, actor, at, reason) VALUES ($1, NULL, $2, $3, $4, $5)",
            )
            .bind(id)
            .bind(CaseStatus::New.as_str())
            .bind(&actor.name)
            .bind(ms(now))
            .bind(plan.kind.opening_reason())
            .execute(&mut **tx)
            .await?;
            return Ok((CaseId(id), true));
        }
        self.join_open_case(tx, contribution, &plan, now)
            .await
            .map(|id| (id, false))
    }

    /// Adds an item to the open case about its subject and category: loads
    /// the case's facts, and writes what [`CasePlan::join`] makes of them.
    async fn join_open_case(
        &self,
        tx: &mut Transaction<'_, Any>,
        contribution: &CaseContribution<'_>,
        plan: &CasePlan<'_>,
        now: Timestamp,
    ) -> StoreResult<CaseId> {
        let open = sqlx::query_as::<_, DbOpenCase>(&format!(
            "SELECT id, priority, severity FROM cases WHERE subject_kind = $1 AND subject_id = $2 AND category = $3 AND status <> 'resolved' AND kind = 'report'{}",
            self.backend.for_update()
        ))
        .bind(contribution.subject.kind.as_str())
        .bind(contribution.subject.id.as_str())
        .bind(contribution.item.category)
        .fetch_one(&mut **tx)
        .await?;
        let joined = plan.join(OpenCaseFacts {
            priority: open.priority,
            severity: open.severity,
        });
        let (reports, signals) = plan.kind.counts();
        sqlx::query(
            "UPDATE cases SET priority = $2, severity = $3, report_count = report_count + $4, signal_count = signal_count + $5, version = version + 1, updated_at = $6 WHERE id = $1",
        )
        .bind(open.id.0)
        .bind(joined.priority)
        .bind(joined.severity.rank())
        .bind(reports)
        .bind(signals)
        .bind(ms(now))
        .execute(&mut **tx)
        .await?;
        Ok(open.id)
    }
}
