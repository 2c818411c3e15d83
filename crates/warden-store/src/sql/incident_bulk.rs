//! The SQL of bulk actions (part of [`crate::IncidentStore`]): planning
//! (dry run, submission), the one approval, and running the steps in
//! batches. `plan_bulk_action`, `plan_bulk_approval` and `plan_bulk_step`
//! decide; each step's decision is written as any decision is
//! (`SqlStore::write_planned_decision`), with its `bulk_action_items` row
//! (the idempotency key) in the same transaction.

use serde_json::{json, Value};
use sqlx::{Any, AnyConnection, Transaction};

use warden_domain::access::Principal;
use warden_domain::enforcement::{plan_approval, ApprovalCommand, DecisionPlan, Ruling};
use warden_domain::ids::{ActionId, DecisionId, UserId};
use warden_domain::incident::{
    plan_bulk_action, plan_bulk_approval, plan_bulk_step, BulkCaseFacts, BulkCommand, BulkContext,
    BulkId, BulkRefusal, BulkStatus, BulkStepKey, BulkStepPlan, IncidentEvent,
};
use warden_domain::limits::BULK_CASES_MAX;
use warden_domain::{CaseId, Timestamp};

use super::decision_facts::{self, bulk_case_facts, bulk_context, refused};
use super::decision_writes;
use super::incidents::{load_bulk, load_incident, write_timeline};
use super::{ms, AuditDraft, SqlStore};
use crate::{
    Actor, BulkActionRecord, BulkAuthor, BulkBatch, BulkPlanned, BulkRun, BulkSkipRecord,
    CasePolicy, CaseRecord, StoreError, StoreResult,
};

/// One step to write: its key, its decision, the actions the bulk's
/// approval covers, and the case as it was read.
struct Step<'a> {
    key: BulkStepKey,
    decision: &'a DecisionPlan,
    approved: &'a [usize],
    before: &'a CaseRecord,
}

fn bulk_refused(refusal: BulkRefusal) -> StoreError {
    match refusal {
        BulkRefusal::NotAwaiting(_) => StoreError::Conflict(refusal.to_string()),
        BulkRefusal::OwnBulk | BulkRefusal::NotALead => StoreError::Forbidden(refusal.to_string()),
    }
}

async fn insert_item(
    tx: &mut Transaction<'static, Any>,
    key: BulkStepKey,
    decision: Option<DecisionId>,
    skipped: Option<&BulkSkipRecord>,
    now: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO bulk_action_items (bulk_id, case_id, outcome, decision_id, reason_code, reason, at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(key.bulk.0)
    .bind(key.case.0)
    .bind(if decision.is_some() { "applied" } else { "skipped" })
    .bind(decision.map(|d| d.0))
    .bind(skipped.map(|s| s.code.clone()))
    .bind(skipped.map(|s| super::free_text::stored_text(&s.reason).into_owned()))
    .bind(ms(now))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl SqlStore {
    /// The facts of cases `ids`, in order (`lock`: the row-lock clause).
    async fn bulk_facts(
        &self,
        conn: &mut AnyConnection,
        ids: &[i64],
        lock: &str,
        author: &BulkAuthor,
        now: Timestamp,
    ) -> StoreResult<Vec<(BulkCaseFacts, CaseRecord)>> {
        let mut found = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(facts) =
                bulk_case_facts(conn, CaseId(*id), lock, &author.scope, now).await?
            {
                found.push(facts);
            }
        }
        Ok(found)
    }

    /// What the steps over `facts` share.
    async fn bulk_context_for(
        &self,
        conn: &mut AnyConnection,
        policy: &CasePolicy,
        command: &BulkCommand,
        facts: &[(BulkCaseFacts, CaseRecord)],
        now: Timestamp,
    ) -> StoreResult<(BulkContext, Option<AuditDraft>)> {
        let mut kinds: Vec<&str> = command.actions.iter().map(|a| a.kind.type_name()).collect();
        kinds.sort_unstable();
        kinds.dedup();
        let mut categories: Vec<&str> = match &command.category {
            Some(category) => vec![category.as_str()],
            None => facts
                .iter()
                .map(|(f, _)| f.case.category.as_str())
                .collect(),
        };
        categories.sort_unstable();
        categories.dedup();
        bulk_context(conn, policy, &kinds, &categories, now).await
    }

    /// Plans a bulk action over its incident's cases and stores it: a dry
    /// run as a new `dry_run`, a submission over its dry run.
    pub(super) async fn plan_bulk_action(
        &self,
        author: &BulkAuthor,
        command: &BulkCommand,
        stored: &Value,
        policy: &CasePolicy,
        now: Timestamp,
    ) -> StoreResult<BulkPlanned> {
        let mut tx = self.writer.begin().await?;
        let incident = load_incident(&mut tx, command.incident, self.backend.for_update()).await?;
        let ids: Vec<i64> = sqlx::query_scalar(&format!(
            "SELECT case_id FROM incident_cases WHERE incident_id = $1 ORDER BY case_id LIMIT {}",
            BULK_CASES_MAX + 1
        ))
        .bind(incident.id.0)
        .fetch_all(&mut *tx)
        .await?;
        let facts = self.bulk_facts(&mut tx, &ids, "", author, now).await?;
        let (context, seeded) = self
            .bulk_context_for(&mut tx, policy, command, &facts, now)
            .await?;
        let only: Vec<BulkCaseFacts> = facts.into_iter().map(|(f, _)| f).collect();
        let plan = plan_bulk_action(&only, &context, command, now).map_err(refused)?;
        let skipped: Vec<BulkSkipRecord> = plan
            .skipped
            .iter()
            .map(|s| BulkSkipRecord::of(s.case, &s.reason))
            .collect();
        let counts = (plan.planned(), skipped.len());
        let id = if command.dry_run {
            self.insert_dry_run(&mut tx, author, command, stored, counts, now)
                .await?
        } else {
            self.submit_dry_run(&mut tx, author, command, counts, now)
                .await?
        };
        if command.dry_run {
            let event = IncidentEvent::BulkPlanned {
                bulk: id,
                planned: counts.0,
                skipped: counts.1,
            };
            write_timeline(&mut tx, &incident, event, &author.actor, now).await?;
        }
        let draft = AuditDraft::new(
            &author.actor,
            if command.dry_run {
                "bulk.dry_run"
            } else {
                "bulk.submit"
            },
            "bulk_action",
            id.0,
            Value::Null,
            json!({"incident": incident.id.0, "planned": counts.0, "skipped": counts.1, "fingerprint": command.fingerprint().0}),
        );
        let mut drafts: Vec<AuditDraft> = seeded.into_iter().collect();
        drafts.push(draft);
        self.append_audit(&mut tx, drafts, now).await?;
        tx.commit().await?;
        let mut conn = self.reader.acquire().await?;
        let record = load_bulk(&mut conn, id, "").await?;
        Ok(BulkPlanned { record, skipped })
    }

    async fn insert_dry_run(
        &self,
        tx: &mut Transaction<'static, Any>,
        author: &BulkAuthor,
        command: &BulkCommand,
        stored: &Value,
        (planned, skipped): (usize, usize),
        now: Timestamp,
    ) -> StoreResult<BulkId> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO bulk_actions (incident_id, author_id, author, status, command, fingerprint, planned, applied, skipped, created_at, updated_at, cases_as_of) VALUES ($1, $2, $3, 'dry_run', $4, $5, $6, 0, $7, $8, $8, $8) RETURNING id",
        )
        .bind(command.incident.0)
        .bind(author.actor.user_id.unwrap_or(0))
        .bind(&author.actor.name)
        .bind(stored.to_string())
        .bind(command.fingerprint().0)
        .bind(i64::try_from(planned).unwrap_or(i64::MAX))
        .bind(i64::try_from(skipped).unwrap_or(i64::MAX))
        .bind(ms(now))
        .fetch_one(&mut **tx)
        .await?;
        Ok(BulkId(id))
    }

    /// Turns the latest dry run with the command's fingerprint into a
    /// submission awaiting approval.
    async fn submit_dry_run(
        &self,
        tx: &mut Transaction<'static, Any>,
        author: &BulkAuthor,
        command: &BulkCommand,
        (planned, skipped): (usize, usize),
        now: Timestamp,
    ) -> StoreResult<BulkId> {
        let found: Option<i64> = sqlx::query_scalar(&format!(
            "SELECT id FROM bulk_actions WHERE incident_id = $1 AND status = 'dry_run' AND fingerprint = $2 ORDER BY id DESC LIMIT 1{}",
            self.backend.for_update()
        ))
        .bind(command.incident.0)
        .bind(command.fingerprint().0)
        .fetch_optional(&mut **tx)
        .await?;
        let Some(id) = found else {
            return Err(StoreError::Conflict(format!(
                "incident {} has no dry run of this bulk action: send the same body with \"dry_run\": true first, read what it plans, then submit it",
                command.incident
            )));
        };
        debug_assert!(BulkStatus::DryRun.can_become(BulkStatus::AwaitingApproval));
        sqlx::query(
            "UPDATE bulk_actions SET status = 'awaiting_approval', author_id = $2, author = $3, planned = $4, skipped = $5, updated_at = $6, cases_as_of = $6 WHERE id = $1",
        )
        .bind(id)
        .bind(author.actor.user_id.unwrap_or(0))
        .bind(&author.actor.name)
        .bind(i64::try_from(planned).unwrap_or(i64::MAX))
        .bind(i64::try_from(skipped).unwrap_or(i64::MAX))
        .bind(ms(now))
        .execute(&mut **tx)
        .await?;
        Ok(BulkId(id))
    }

    /// The one approval of a bulk action, as `plan_bulk_approval` plans it.
    pub(super) async fn approve_bulk_action(
        &self,
        actor: &Actor,
        approver: &Principal,
        bulk: BulkId,
        now: Timestamp,
    ) -> StoreResult<BulkActionRecord> {
        let mut tx = self.writer.begin().await?;
        let record = load_bulk(&mut tx, bulk, self.backend.for_update()).await?;
        let approval = plan_bulk_approval(UserId(record.author_id), record.status, approver, now)
            .map_err(bulk_refused)?;
        sqlx::query(
            "UPDATE bulk_actions SET status = $2, approver_id = $3, approver = $4, approved_at = $5, updated_at = $5, skipped = 0 WHERE id = $1",
        )
        .bind(bulk.0)
        .bind(approval.status.as_str())
        .bind(approval.approver.0)
        .bind(&approver.name)
        .bind(ms(approval.at))
        .execute(&mut *tx)
        .await?;
        let incident = load_incident(&mut tx, record.incident, "").await?;
        write_timeline(
            &mut tx,
            &incident,
            IncidentEvent::BulkApproved { bulk },
            actor,
            now,
        )
        .await?;
        let draft = AuditDraft::new(
            actor,
            "bulk.approve",
            "bulk_action",
            bulk.0,
            json!({"status": record.status.as_str()}),
            json!({"status": approval.status.as_str(), "approver": approver.name, "planned": record.planned}),
        );
        self.append_audit(&mut tx, vec![draft], now).await?;
        tx.commit().await?;
        let mut conn = self.reader.acquire().await?;
        load_bulk(&mut conn, bulk, "").await
    }

    /// Writes one step's decision, and approves (as the bulk's approver)
    /// the actions its approval covers; returns the decision's id and the
    /// audit drafts.
    async fn write_bulk_step(
        &self,
        tx: &mut Transaction<'static, Any>,
        run: &BulkRun,
        step: Step<'_>,
        now: Timestamp,
    ) -> StoreResult<(DecisionId, Vec<AuditDraft>)> {
        let (written, mut drafts) = self
            .write_planned_decision(tx, step.decision, step.before, None, &run.author.actor, now)
            .await?;
        if let Some(first) = drafts.first_mut() {
            first.merge_after(json!({"bulk_step": step.key.to_string()}));
        }
        let note = format!("covered by the approval of bulk action {}", step.key.bulk);
        for index in step.approved {
            let Some(action) = written.actions.get(*index) else {
                continue;
            };
            let action = ActionId(action.id);
            let facts =
                decision_facts::load_approval_facts(tx, self.backend, action, &run.approver)
                    .await?;
            let command = ApprovalCommand {
                action,
                ruling: Ruling::Approve,
                note: note.clone(),
            };
            let plan = plan_approval(&facts, &command, now).map_err(refused)?;
            drafts.extend(
                decision_writes::write_approval_plan(tx, &plan, &facts, &run.approver, &note, now)
                    .await?,
            );
        }
        Ok((written.id, drafts))
    }

    /// Runs the next batch of a bulk action's steps in one transaction;
    /// the last batch completes it.
    pub(super) async fn run_bulk_steps(
        &self,
        run: &BulkRun,
        policy: &CasePolicy,
        now: Timestamp,
    ) -> StoreResult<BulkBatch> {
        let bulk = run.command.bulk;
        let mut tx = self.writer.begin().await?;
        let record = load_bulk(&mut tx, bulk, self.backend.for_update()).await?;
        if record.status != BulkStatus::Applying {
            tx.rollback().await?;
            return Ok(BulkBatch {
                completed: record.status == BulkStatus::Completed,
                ..BulkBatch::default()
            });
        }
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT ic.case_id FROM incident_cases ic WHERE ic.incident_id = $1 AND ic.added_at <= (SELECT cases_as_of FROM bulk_actions WHERE id = $2) AND NOT EXISTS (SELECT 1 FROM bulk_action_items b WHERE b.bulk_id = $2 AND b.case_id = ic.case_id) ORDER BY ic.case_id LIMIT $3",
        )
        .bind(record.incident.0)
        .bind(bulk.0)
        .bind(i64::try_from(run.batch.max(1)).unwrap_or(1))
        .fetch_all(&mut *tx)
        .await?;
        let facts = self
            .bulk_facts(&mut tx, &ids, self.backend.for_update(), &run.author, now)
            .await?;
        let (context, seeded) = self
            .bulk_context_for(&mut tx, policy, &run.command, &facts, now)
            .await?;
        let mut drafts: Vec<AuditDraft> = seeded.into_iter().collect();
        let mut batch = BulkBatch::default();
        for (facts, before) in &facts {
            let key = BulkStepKey {
                bulk,
                case: facts.case.id,
            };
            match plan_bulk_step(facts, &context, &run.command, now) {
                // Cases with an item are not read again; nothing to write.
                BulkStepPlan::Applied(_) => {}
                BulkStepPlan::Decide {
                    key,
                    decision,
                    approved_actions,
                } => {
                    let step = Step {
                        key,
                        decision: &decision,
                        approved: &approved_actions,
                        before,
                    };
                    let (id, step_drafts) = self.write_bulk_step(&mut tx, run, step, now).await?;
                    insert_item(&mut tx, key, Some(id), None, now).await?;
                    drafts.extend(step_drafts);
                    batch.applied += 1;
                }
                BulkStepPlan::Skip(reason) => {
                    let skip = BulkSkipRecord::of(key.case, &reason);
                    insert_item(&mut tx, key, None, Some(&skip), now).await?;
                    batch.skipped += 1;
                }
            }
        }
        self.count_batch(
            &mut tx,
            &record,
            &mut batch,
            ids.len() < run.batch.max(1),
            now,
        )
        .await
        .map(|draft| drafts.extend(draft))?;
        self.append_audit(&mut tx, drafts, now).await?;
        tx.commit().await?;
        Ok(batch)
    }

    /// Adds a batch's counts to its bulk action and, when `last`,
    /// completes it; returns the completion's audit draft.
    async fn count_batch(
        &self,
        tx: &mut Transaction<'static, Any>,
        record: &BulkActionRecord,
        batch: &mut BulkBatch,
        last: bool,
        now: Timestamp,
    ) -> StoreResult<Option<AuditDraft>> {
        let applied = record.applied + i64::try_from(batch.applied).unwrap_or(0);
        let skipped = record.skipped + i64::try_from(batch.skipped).unwrap_or(0);
        let status = if last {
            BulkStatus::Completed
        } else {
            BulkStatus::Applying
        };
        sqlx::query(
            "UPDATE bulk_actions SET applied = $2, skipped = $3, status = $4, updated_at = $5, completed_at = $6 WHERE id = $1",
        )
        .bind(record.id.0)
        .bind(applied)
        .bind(skipped)
        .bind(status.as_str())
        .bind(ms(now))
        .bind(last.then_some(ms(now)))
        .execute(&mut **tx)
        .await?;
        if !last {
            return Ok(None);
        }
        batch.completed = true;
        let system = Actor::system();
        let incident = load_incident(tx, record.incident, "").await?;
        let event = IncidentEvent::BulkCompleted {
            bulk: record.id,
            applied: usize::try_from(applied).unwrap_or(0),
            skipped: usize::try_from(skipped).unwrap_or(0),
        };
        write_timeline(tx, &incident, event, &system, now).await?;
        Ok(Some(AuditDraft::new(
            &system,
            "bulk.complete",
            "bulk_action",
            record.id.0,
            json!({"status": record.status.as_str()}),
            json!({"status": status.as_str(), "applied": applied, "skipped": skipped}),
        )))
    }
}
