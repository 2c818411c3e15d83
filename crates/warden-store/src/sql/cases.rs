//! Case work: claiming with leases, releasing, holding, reassigning, status
//! changes, decisions with their actions and strikes, notes, and reads.
//!
//! Every change loads the case (locking its row on PostgreSQL), checks the
//! version the caller expects, computes the new state, and writes it back
//! with `WHERE version = old`, recording the status transition and an audit
//! record with the state before and after, all in one transaction.

use chrono::Duration;
use serde_json::{json, Value};
use sqlx::any::AnyRow;
use sqlx::{Any, AnyConnection, Transaction};

use warden_domain::case::CaseStatus;
use warden_domain::decision::Rationale;
use warden_domain::enforcement::{plan_decision, DecideCommand};
use warden_domain::ids::SubjectKind;
use warden_domain::limits::{
    CASE_ITEMS_SHOWN_MAX, CLAIMS_PER_USER_MAX, HISTORY_ITEMS_MAX, PAGE_SIZE_MAX,
};
use warden_domain::routing::QueueScope;
use warden_domain::{CaseId, SubjectRef, Timestamp};

use super::rows::{
    self, get, ACTION_COLUMNS, CASE_COLUMNS, EVENT_COLUMNS, REPORT_COLUMNS, SIGNAL_COLUMNS,
    STRIKE_COLUMNS, SUBJECT_COLUMNS,
};
use super::{decisions, ms, AuditDraft, Backend, SqlStore};
use crate::{
    Actor, CaseDetail, CaseFilter, CasePolicy, CaseRecord, DecisionRecord, NoteRecord, QueueStats,
    ReportRecord, SignalRecord, StatusChange, StoreError, StoreResult, SubjectHistory,
    SubjectRecord, UserRecord,
};

/// Who changes a case, how and why: what the transition and audit records say.
struct Change<'a> {
    actor: &'a Actor,
    action: &'a str,
    reason: Option<&'a str>,
    now: Timestamp,
}

/// Statuses "claim next" hands out, as SQL.
const CLAIMABLE_STATUSES: &str = "('new', 'in_review', 'reopened', 'escalated')";

/// Loads one case, with `lock` (`""` or `" FOR UPDATE"`) appended.
pub(crate) async fn load_case(
    conn: &mut AnyConnection,
    id: CaseId,
    lock: &str,
) -> StoreResult<Option<CaseRecord>> {
    let row = sqlx::query(&format!(
        "SELECT {CASE_COLUMNS} FROM cases WHERE id = $1{lock}"
    ))
    .bind(id.0)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(rows::case).transpose()
}

/// The parts of a case an audit record shows before and after a change.
fn case_state(case: &CaseRecord) -> Value {
    json!({
        "status": case.status.as_str(),
        "queue": case.queue,
        "severity": case.severity.as_str(),
        "priority": case.priority,
        "assignee": case.assignee,
        "lease_expires_at": case.lease_expires_at.map(|t| t.to_rfc3339()),
        "held": case.held,
        "hold_reason": case.hold_reason,
        "version": case.version,
    })
}

fn not_found(id: CaseId) -> StoreError {
    StoreError::NotFound(format!("case {id}"))
}

fn check_version(case: &CaseRecord, expected: Option<i64>) -> StoreResult<()> {
    match expected {
        Some(version) if version != case.version => Err(StoreError::Conflict(format!(
            "case {} is at version {}, not {version}: someone changed it; reload it and try again",
            case.id, case.version
        ))),
        _ => Ok(()),
    }
}

fn require_holder(
    case: &CaseRecord,
    actor: &Actor,
    now: Timestamp,
    doing: &str,
) -> StoreResult<()> {
    let user_id = actor.user_id.unwrap_or(-1);
    if case.is_held_by(user_id, now) {
        return Ok(());
    }
    Err(StoreError::Conflict(
        match (&case.assignee, case.lease_is_live(now)) {
            (Some(holder), true) => format!(
                "case {} is held by {holder}; only they can {doing} it",
                case.id
            ),
            (Some(_), false) if case.assignee_id == Some(user_id) => {
                format!(
                    "your lease on case {} has expired; claim it again to {doing} it",
                    case.id
                )
            }
            _ => format!(
                "case {} is not claimed by you; claim it before you {doing} it",
                case.id
            ),
        },
    ))
}

fn clear_lease(case: &mut CaseRecord) {
    case.assignee = None;
    case.assignee_id = None;
    case.lease_expires_at = None;
    case.held = false;
    case.hold_reason = None;
}

impl SqlStore {
    async fn locked_case(
        &self,
        tx: &mut Transaction<'static, Any>,
        id: CaseId,
        expected_version: Option<i64>,
    ) -> StoreResult<CaseRecord> {
        let case = load_case(tx, id, self.backend.for_update())
            .await?
            .ok_or_else(|| not_found(id))?;
        check_version(&case, expected_version)?;
        Ok(case)
    }

    /// Writes `after` over `before`, bumping the version, recording the
    /// transition when the status changed, and returning the audit draft.
    async fn save_case(
        &self,
        tx: &mut Transaction<'static, Any>,
        change: &Change<'_>,
        before: &CaseRecord,
        mut after: CaseRecord,
    ) -> StoreResult<(CaseRecord, AuditDraft)> {
        let Change {
            actor,
            action,
            reason,
            now,
        } = *change;
        after.version = before.version + 1;
        after.updated_at = now;
        let written = sqlx::query(
            "UPDATE cases SET queue = $3, severity = $4, status = $5, priority = $6, version = $7, assignee = $8, assignee_id = $9, lease_expires_at = $10, held = $11, hold_reason = $12, updated_at = $13, first_touched_at = $14, resolved_at = $15, first_touch_due_at = $16, resolve_due_at = $17 WHERE id = $1 AND version = $2",
        )
        .bind(before.id.0)
        .bind(before.version)
        .bind(&after.queue)
        .bind(after.severity.rank())
        .bind(after.status.as_str())
        .bind(after.priority)
        .bind(after.version)
        .bind(after.assignee.clone())
        .bind(after.assignee_id)
        .bind(after.lease_expires_at.map(ms))
        .bind(i64::from(after.held))
        .bind(rows::stored_text_opt(after.hold_reason.as_deref()))
        .bind(ms(now))
        .bind(after.first_touched_at.map(ms))
        .bind(after.resolved_at.map(ms))
        .bind(ms(after.first_touch_due_at))
        .bind(ms(after.resolve_due_at))
        .execute(&mut **tx)
        .await?
        .rows_affected();
        if written != 1 {
            return Err(StoreError::Conflict(format!(
                "case {} changed while this change was made; reload it and try again",
                before.id
            )));
        }
        if after.status != before.status {
            sqlx::query(
                "INSERT INTO case_transitions (case_id, from_status, to_status, actor, at, reason) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(before.id.0)
            .bind(before.status.as_str())
            .bind(after.status.as_str())
            .bind(&actor.name)
            .bind(ms(now))
            .bind(rows::stored_text_opt(reason))
            .execute(&mut **tx)
            .await?;
        }
        let mut after_state = case_state(&after);
        if let Some(reason) = reason {
            after_state["reason"] = json!(reason);
        }
        let draft = AuditDraft::new(
            actor,
            action,
            "case",
            before.id,
            case_state(before),
            after_state,
        );
        Ok((after, draft))
    }

    /// Saves a change and commits it with its audit record.
    async fn commit_case_change(
        &self,
        mut tx: Transaction<'static, Any>,
        change: Change<'_>,
        before: &CaseRecord,
        after: CaseRecord,
    ) -> StoreResult<CaseRecord> {
        let (saved, draft) = self.save_case(&mut tx, &change, before, after).await?;
        self.append_audit(&mut tx, vec![draft], change.now).await?;
        tx.commit().await?;
        Ok(saved)
    }

    pub(crate) async fn claim_next_impl(
        &self,
        actor: &Actor,
        queue: &str,
        lease: Duration,
        now: Timestamp,
    ) -> StoreResult<Option<CaseRecord>> {
        let user_id = actor
            .user_id
            .ok_or_else(|| StoreError::invalid("actor", "only a user can claim cases"))?;
        let mut tx = self.writer.begin().await?;
        let held: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM cases WHERE assignee_id = $1 AND status <> 'resolved' AND (held = 1 OR lease_expires_at > $2)",
        )
        .bind(user_id)
        .bind(ms(now))
        .fetch_one(&mut *tx)
        .await?;
        if held >= i64::from(CLAIMS_PER_USER_MAX) {
            return Err(StoreError::Conflict(format!(
                "you hold {held} cases, the most one person may hold; decide or release some first"
            )));
        }
        let skip_locked = match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        };
        let row = sqlx::query(&format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE queue = $1 AND status IN {CLAIMABLE_STATUSES} AND (assignee_id IS NULL OR (held = 0 AND lease_expires_at <= $2)) ORDER BY severity DESC, resolve_due_at, priority DESC, opened_at, id LIMIT 1{skip_locked}"
        ))
        .bind(queue)
        .bind(ms(now))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            tx.rollback().await?;
            return Ok(None);
        };
        let before = rows::case(&row)?;
        let mut after = before.clone();
        after.assignee = Some(actor.name.clone());
        after.assignee_id = Some(user_id);
        after.lease_expires_at = Some(now + lease);
        after.held = false;
        after.hold_reason = None;
        after.status = CaseStatus::InReview;
        after.first_touched_at = before.first_touched_at.or(Some(now));
        let saved = self
            .commit_case_change(
                tx,
                Change {
                    actor,
                    action: "case.claim",
                    reason: Some("claimed"),
                    now,
                },
                &before,
                after,
            )
            .await?;
        Ok(Some(saved))
    }

    pub(crate) async fn renew_lease_impl(
        &self,
        actor: &Actor,
        id: CaseId,
        expected_version: Option<i64>,
        lease: Duration,
        now: Timestamp,
    ) -> StoreResult<CaseRecord> {
        let mut tx = self.writer.begin().await?;
        let before = self.locked_case(&mut tx, id, expected_version).await?;
        if before.assignee_id.is_none() || before.assignee_id != actor.user_id {
            return Err(StoreError::Conflict(format!(
                "case {id} is not claimed by you; claim it before you renew its lease"
            )));
        }
        // Once a lease has run out, another analyst could have claimed the
        // case; renewing it now would take it back from under them. A held
        // case has no running lease and keeps its holder.
        if !before.lease_is_live(now) {
            return Err(StoreError::Conflict(format!(
                "the lease on case {id} ran out; claim the case again"
            )));
        }
        let mut after = before.clone();
        after.lease_expires_at = Some(now + lease);
        self.commit_case_change(
            tx,
            Change {
                actor,
                action: "case.renew",
                reason: None,
                now,
            },
            &before,
            after,
        )
        .await
    }

    pub(crate) async fn release_impl(
        &self,
        actor: &Actor,
        id: CaseId,
        expected_version: Option<i64>,
        as_lead: bool,
        now: Timestamp,
    ) -> StoreResult<CaseRecord> {
        let mut tx = self.writer.begin().await?;
        let before = self.locked_case(&mut tx, id, expected_version).await?;
        if before.assignee_id.is_none() {
            return Err(StoreError::Conflict(format!(
                "case {id} is not claimed by anyone"
            )));
        }
        if !as_lead && before.assignee_id != actor.user_id {
            require_holder(&before, actor, now, "release")?;
        }
        let mut after = before.clone();
        clear_lease(&mut after);
        self.commit_case_change(
            tx,
            Change {
                actor,
                action: "case.release",
                reason: None,
                now,
            },
            &before,
            after,
        )
        .await
    }

    pub(crate) async fn hold_impl(
        &self,
        actor: &Actor,
        id: CaseId,
        expected_version: Option<i64>,
        reason: &str,
        now: Timestamp,
    ) -> StoreResult<CaseRecord> {
        let mut tx = self.writer.begin().await?;
        let before = self.locked_case(&mut tx, id, expected_version).await?;
        require_holder(&before, actor, now, "hold")?;
        let mut after = before.clone();
        after.held = true;
        after.hold_reason = Some(reason.to_string());
        self.commit_case_change(
            tx,
            Change {
                actor,
                action: "case.hold",
                reason: Some(reason),
                now,
            },
            &before,
            after,
        )
        .await
    }

    pub(crate) async fn assign_impl(
        &self,
        actor: &Actor,
        id: CaseId,
        expected_version: Option<i64>,
        assignee: &UserRecord,
        lease: Duration,
        now: Timestamp,
    ) -> StoreResult<CaseRecord> {
        let mut tx = self.writer.begin().await?;
        let before = self.locked_case(&mut tx, id, expected_version).await?;
        if !before.status.is_open() {
            return Err(StoreError::Conflict(format!(
                "case {id} is resolved; reopen it first"
            )));
        }
        let mut after = before.clone();
        after.assignee = Some(assignee.name.clone());
        after.assignee_id = Some(assignee.id);
        after.lease_expires_at = Some(now + lease);
        after.held = false;
        after.hold_reason = None;
        let reason = format!("assigned to {}", assignee.name);
        self.commit_case_change(
            tx,
            Change {
                actor,
                action: "case.assign",
                reason: Some(&reason),
                now,
            },
            &before,
            after,
        )
        .await
    }

    pub(crate) async fn change_status_impl(
        &self,
        actor: &Actor,
        id: CaseId,
        expected_version: Option<i64>,
        change: StatusChange,
        now: Timestamp,
    ) -> StoreResult<CaseRecord> {
        let mut tx = self.writer.begin().await?;
        let before = self.locked_case(&mut tx, id, expected_version).await?;
        self.apply_status_change(tx, actor, before, change, now)
            .await
    }

    /// Reopens a resolved case. Its new SLA deadlines are computed here,
    /// from the case as locked in this transaction (its queue and severity
    /// now), by the queue's SLA policy: a case that moved since the caller
    /// read it cannot get deadlines of another queue or severity.
    pub(crate) async fn reopen_impl(
        &self,
        actor: &Actor,
        id: CaseId,
        expected_version: Option<i64>,
        reason: &str,
        policy: &CasePolicy,
        now: Timestamp,
    ) -> StoreResult<CaseRecord> {
        let mut tx = self.writer.begin().await?;
        let before = self.locked_case(&mut tx, id, expected_version).await?;
        let deadlines = policy
            .router
            .queue(&before.queue)
            .map(|queue| queue.sla.deadlines(before.severity, now));
        let change = StatusChange {
            to: CaseStatus::Reopened,
            reason: reason.to_string(),
            queue: None,
            deadlines,
        };
        self.apply_status_change(tx, actor, before, change, now)
            .await
    }

    /// Applies a status change to `before`, locked in `tx`, and commits it.
    async fn apply_status_change(
        &self,
        mut tx: Transaction<'static, Any>,
        actor: &Actor,
        before: CaseRecord,
        change: StatusChange,
        now: Timestamp,
    ) -> StoreResult<CaseRecord> {
        before
            .status
            .check_transition(change.to)
            .map_err(StoreError::Conflict)?;
        let mut after = before.clone();
        after.status = change.to;
        match change.to {
            CaseStatus::Escalated | CaseStatus::WaitingForInformation => {
                require_holder(&before, actor, now, "escalate or park")?;
                clear_lease(&mut after);
            }
            CaseStatus::Reopened => {
                let open: Option<i64> = sqlx::query_scalar(
                    "SELECT id FROM cases WHERE subject_kind = $1 AND subject_id = $2 AND category = $3 AND status <> 'resolved'",
                )
                .bind(before.subject.kind.as_str())
                .bind(before.subject.id.as_str())
                .bind(&before.category)
                .fetch_optional(&mut *tx)
                .await?;
                if let Some(open) = open {
                    return Err(StoreError::Conflict(format!(
                        "case {open} is already open for this subject and category; work that one"
                    )));
                }
                clear_lease(&mut after);
            }
            CaseStatus::InReview => clear_lease(&mut after),
            CaseStatus::New | CaseStatus::Resolved => {
                return Err(StoreError::invalid(
                    "status",
                    "cases become new only when opened and resolved only by a decision",
                ))
            }
        }
        if let Some(queue) = change.queue {
            after.queue = queue;
        }
        if let Some(deadlines) = change.deadlines {
            after.first_touch_due_at = deadlines.first_touch_due_at;
            after.resolve_due_at = deadlines.resolve_due_at;
        }
        let action = format!("case.{}", change.to.as_str());
        self.commit_case_change(
            tx,
            Change {
                actor,
                action: &action,
                reason: Some(&change.reason),
                now,
            },
            &before,
            after,
        )
        .await
    }

    /// Decides a case: loads the facts, plans the decision (all policy is
    /// in `warden_domain::enforcement::plan_decision`), writes the plan and
    /// the case's transition, and commits them with the audit record.
    pub(crate) async fn decide_impl(
        &self,
        actor: &Actor,
        command: &DecideCommand,
        policy: &CasePolicy,
        now: Timestamp,
    ) -> StoreResult<DecisionRecord> {
        let mut tx = self.writer.begin().await?;
        let (facts, before, seeded) =
            decisions::load_decision_facts(&mut tx, self.backend, command, actor, policy, now)
                .await?;
        let plan = plan_decision(&facts, command, now).map_err(decisions::refused)?;
        let written =
            decisions::write_decision_plan(&mut tx, &plan, facts.superseded.as_ref(), actor, now)
                .await?;
        let mut after = before.clone();
        after.status = plan.case.status;
        after.resolved_at = Some(plan.case.resolved_at);
        clear_lease(&mut after);
        let change = Change {
            actor,
            action: plan.case.audit_action,
            reason: Some(plan.case.reason),
            now,
        };
        let (_, mut draft) = self.save_case(&mut tx, &change, &before, after).await?;
        let decision = &plan.decision;
        draft.merge_after(json!({
            "decision": {
                "id": written.id.0,
                "violation": decision.violation,
                "category": decision.category,
                "policy": decision.policy,
                "supersedes": decision.supersedes.map(|d| d.0),
                "actions": written.actions.iter().map(|a| json!({"id": a.id, "type": a.action_type, "target": a.target.to_string(), "duration_seconds": a.duration_seconds})).collect::<Vec<_>>(),
                "strike": written.strike,
                "taxonomy_version": written.enforcement.taxonomy_version,
                "departure": written.enforcement.departure.map(|d| d.as_str()),
                "override_reason": written.enforcement.override_reason,
                "awaiting_approval": written.enforcement.approvals.iter().map(|(id, _)| id).collect::<Vec<_>>(),
                "statement_id": written.enforcement.statement_id,
            }
        }));
        let mut drafts = vec![draft];
        drafts.extend(seeded);
        drafts.extend(written.drafts);
        self.append_audit(&mut tx, drafts, now).await?;
        tx.commit().await?;
        Ok(DecisionRecord {
            id: written.id.0,
            case_id: decision.case,
            subject: decision.subject.clone(),
            violation: decision.violation,
            category: decision.category.clone(),
            policy: decision.policy.clone(),
            rationale: decision.rationale.clone(),
            decided_by: actor.name.clone(),
            decided_at: now,
            supersedes: decision.supersedes.map(|d| d.0),
            superseded_by: None,
            actions: written.actions,
            enforcement: Some(written.enforcement),
        })
    }

    pub(crate) async fn add_note_impl(
        &self,
        actor: &Actor,
        id: CaseId,
        note: Rationale,
        now: Timestamp,
    ) -> StoreResult<NoteRecord> {
        let mut tx = self.writer.begin().await?;
        let case = load_case(&mut tx, id, self.backend.for_update())
            .await?
            .ok_or_else(|| not_found(id))?;
        let body = rows::rationale_to_json(&note);
        let note_id: i64 = sqlx::query_scalar(
            "INSERT INTO notes (case_id, author, body, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(case.id.0)
        .bind(&actor.name)
        .bind(body.to_string())
        .bind(ms(now))
        .fetch_one(&mut *tx)
        .await?;
        let draft = AuditDraft::new(
            actor,
            "case.note",
            "case",
            id,
            Value::Null,
            json!({"note_id": note_id, "note": body}),
        );
        self.append_audit(&mut tx, vec![draft], now).await?;
        tx.commit().await?;
        Ok(NoteRecord {
            id: note_id,
            case_id: id,
            author: actor.name.clone(),
            body: note,
            created_at: now,
        })
    }

    pub(crate) async fn case_detail_impl(&self, id: CaseId) -> StoreResult<Option<CaseDetail>> {
        let mut conn = self.reader.acquire().await?;
        // One read transaction, so that the parts agree with each other.
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        let Some(case) = load_case(&mut tx, id, "").await? else {
            return Ok(None);
        };
        let subject = load_subject(&mut tx, &case.subject).await?;
        let limit = i64::from(CASE_ITEMS_SHOWN_MAX);
        let reports = sqlx::query(&format!(
            "SELECT {REPORT_COLUMNS} FROM reports WHERE case_id = $1 ORDER BY seq LIMIT $2"
        ))
        .bind(id.0)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(rows::report)
        .collect::<StoreResult<Vec<_>>>()?;
        let signals = sqlx::query(&format!(
            "SELECT {SIGNAL_COLUMNS} FROM signals WHERE case_id = $1 ORDER BY seq LIMIT $2"
        ))
        .bind(id.0)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(rows::signal)
        .collect::<StoreResult<Vec<_>>>()?;
        let transitions = sqlx::query("SELECT from_status, to_status, actor, at, reason FROM case_transitions WHERE case_id = $1 ORDER BY id LIMIT $2")
            .bind(id.0)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(rows::transition)
            .collect::<StoreResult<Vec<_>>>()?;
        let decision_rows = sqlx::query(&format!(
            "SELECT {DECISION_COLUMNS} FROM decisions WHERE case_id = $1 ORDER BY id LIMIT $2"
        ))
        .bind(id.0)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        let decisions = decisions_with_actions(&mut tx, &decision_rows).await?;
        let notes = sqlx::query("SELECT id, case_id, author, body, created_at FROM notes WHERE case_id = $1 ORDER BY id LIMIT $2")
            .bind(id.0)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(rows::note)
            .collect::<StoreResult<Vec<_>>>()?;
        tx.commit().await?;
        Ok(Some(CaseDetail {
            case,
            subject,
            reports,
            signals,
            transitions,
            decisions,
            notes,
        }))
    }

    pub(crate) async fn case_items_impl(
        &self,
        ids: &[CaseId],
        per_case_max: u32,
    ) -> StoreResult<(Vec<ReportRecord>, Vec<SignalRecord>)> {
        if ids.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let ids = &ids[..ids.len().min(PAGE_SIZE_MAX as usize)];
        let list: Vec<String> = (1..=ids.len()).map(|n| format!("${n}")).collect();
        let list = list.join(", ");
        let per_case = i64::from(per_case_max.clamp(1, CASE_ITEMS_SHOWN_MAX));
        let limit = format!("${}", ids.len() + 1);
        // The first few items of each case, ranked per case, so that one
        // flooded case cannot make a list page unbounded.
        let ranked = |columns: &str, table: &str| {
            format!(
                "SELECT {columns} FROM (SELECT {columns}, seq, ROW_NUMBER() OVER (PARTITION BY case_id ORDER BY seq) AS rank_in_case FROM {table} WHERE case_id IN ({list})) ranked WHERE rank_in_case <= {limit} ORDER BY case_id, seq"
            )
        };
        let report_sql = ranked(REPORT_COLUMNS, "reports");
        let signal_sql = ranked(SIGNAL_COLUMNS, "signals");
        let mut reports_query = sqlx::query(&report_sql);
        let mut signals_query = sqlx::query(&signal_sql);
        for id in ids {
            reports_query = reports_query.bind(id.0);
            signals_query = signals_query.bind(id.0);
        }
        let reports = reports_query
            .bind(per_case)
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(rows::report)
            .collect::<StoreResult<Vec<_>>>()?;
        let signals = signals_query
            .bind(per_case)
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(rows::signal)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok((reports, signals))
    }

    pub(crate) async fn list_cases_impl(
        &self,
        filter: &CaseFilter,
    ) -> StoreResult<Vec<CaseRecord>> {
        let mut conditions = Vec::new();
        let mut next = 1;
        let mut placeholder = || {
            let p = format!("${next}");
            next += 1;
            p
        };
        if filter.queue.is_some() {
            conditions.push(format!("queue = {}", placeholder()));
        }
        let statuses: Vec<&str> = filter.statuses.iter().map(|s| s.as_str()).collect();
        if !statuses.is_empty() {
            let list: Vec<String> = statuses.iter().map(|_| placeholder()).collect();
            conditions.push(format!("status IN ({})", list.join(", ")));
        }
        if filter.assignee_id.is_some() {
            conditions.push(format!("assignee_id = {}", placeholder()));
        }
        if filter.subject.is_some() {
            conditions.push(format!(
                "subject_kind = {} AND subject_id = {}",
                placeholder(),
                placeholder()
            ));
        }
        if filter.category.is_some() {
            conditions.push(format!("category = {}", placeholder()));
        }
        if filter.severity.is_some() {
            conditions.push(format!("severity = {}", placeholder()));
        }
        if filter.language.is_some() {
            let (exact, subtag) = (placeholder(), placeholder());
            conditions.push(format!("(language = {exact} OR language LIKE {subtag})"));
        }
        let (scope_condition, scope_queues) = scope_sql(&filter.scope, &mut placeholder);
        conditions.extend(scope_condition);
        let limit_placeholder = placeholder();
        let offset_placeholder = placeholder();
        let where_clause = if conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conditions.join(" AND "))
        };
        let sql = format!(
            "SELECT {CASE_COLUMNS} FROM cases{where_clause} ORDER BY severity DESC, resolve_due_at, priority DESC, opened_at, id LIMIT {limit_placeholder} OFFSET {offset_placeholder}"
        );
        let mut query = sqlx::query(&sql);
        if let Some(queue) = &filter.queue {
            query = query.bind(queue.clone());
        }
        for status in statuses {
            query = query.bind(status);
        }
        if let Some(assignee) = filter.assignee_id {
            query = query.bind(assignee);
        }
        if let Some(subject) = &filter.subject {
            query = query
                .bind(subject.kind.as_str())
                .bind(subject.id.as_str().to_string());
        }
        if let Some(category) = &filter.category {
            query = query.bind(category.clone());
        }
        if let Some(severity) = filter.severity {
            query = query.bind(severity.rank());
        }
        if let Some(language) = &filter.language {
            // Language tags hold only letters, digits and '-', so no LIKE
            // wildcard can come in through them.
            let language: String = language
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            query = query.bind(language.clone()).bind(format!("{language}-%"));
        }
        for queue in scope_queues {
            query = query.bind(queue);
        }
        let limit = filter.limit.clamp(1, PAGE_SIZE_MAX);
        query = query.bind(i64::from(limit)).bind(i64::from(filter.offset));
        query
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(rows::case)
            .collect()
    }

    pub(crate) async fn subject_history_impl(
        &self,
        subject: &SubjectRef,
        limit: u32,
        now: Timestamp,
    ) -> StoreResult<SubjectHistory> {
        let limit = i64::from(limit.clamp(1, HISTORY_ITEMS_MAX));
        let mut conn = self.reader.acquire().await?;
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        let kind = subject.kind.as_str();
        let id = subject.id.as_str();
        let record = load_subject(&mut tx, subject).await?;
        let reports = sqlx::query(&format!("SELECT {REPORT_COLUMNS} FROM reports WHERE subject_kind = $1 AND subject_id = $2 ORDER BY seq DESC LIMIT $3"))
            .bind(kind)
            .bind(id)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(rows::report)
            .collect::<StoreResult<Vec<_>>>()?;
        let cases = sqlx::query(&format!("SELECT {CASE_COLUMNS} FROM cases WHERE subject_kind = $1 AND subject_id = $2 ORDER BY id DESC LIMIT $3"))
            .bind(kind)
            .bind(id)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(rows::case)
            .collect::<StoreResult<Vec<_>>>()?;
        let decision_rows = sqlx::query(&format!("SELECT {DECISION_COLUMNS} FROM decisions WHERE subject_kind = $1 AND subject_id = $2 ORDER BY id DESC LIMIT $3"))
            .bind(kind)
            .bind(id)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
        let decisions = decisions_with_actions(&mut tx, &decision_rows).await?;
        let actions = sqlx::query(&format!("SELECT {ACTION_COLUMNS} FROM actions WHERE target_kind = $1 AND target_id = $2 ORDER BY id DESC LIMIT $3"))
            .bind(kind)
            .bind(id)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(rows::action)
            .collect::<StoreResult<Vec<_>>>()?;
        let strikes = if subject.kind == SubjectKind::Account {
            sqlx::query(&format!("SELECT {STRIKE_COLUMNS} FROM strikes WHERE account_id = $1 ORDER BY id DESC LIMIT $2"))
                .bind(id)
                .bind(limit)
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(rows::strike)
                .collect::<StoreResult<Vec<_>>>()?
        } else {
            Vec::new()
        };
        let active_strike_weight = strikes
            .iter()
            .filter(|s| s.is_active(now))
            .map(|s| s.weight)
            .sum();
        let events = sqlx::query(&format!("SELECT {EVENT_COLUMNS} FROM events WHERE (actor_kind = $1 AND actor_id = $2) OR (subject_kind = $1 AND subject_id = $2) ORDER BY occurred_at DESC LIMIT $3"))
            .bind(kind)
            .bind(id)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(rows::event)
            .collect::<StoreResult<Vec<_>>>()?;
        tx.commit().await?;
        Ok(SubjectHistory {
            subject: record,
            reports,
            cases,
            decisions,
            actions,
            strikes,
            active_strike_weight,
            events,
        })
    }

    pub(crate) async fn queue_stats_impl(
        &self,
        scope: &QueueScope,
        now: Timestamp,
    ) -> StoreResult<Vec<QueueStats>> {
        let mut next = 2;
        let mut placeholder = || {
            let p = format!("${next}");
            next += 1;
            p
        };
        let (scope_condition, scope_queues) = scope_sql(scope, &mut placeholder);
        let scope_condition = scope_condition
            .map(|c| format!(" AND {c}"))
            .unwrap_or_default();
        let sql = format!(
            "SELECT queue, COUNT(*) AS depth, CAST(SUM(CASE WHEN assignee_id IS NULL THEN 1 ELSE 0 END) AS BIGINT) AS unassigned, MIN(opened_at) AS oldest, CAST(SUM(CASE WHEN resolve_due_at < $1 THEN 1 ELSE 0 END) AS BIGINT) AS resolution_breaches, CAST(SUM(CASE WHEN first_touched_at IS NULL AND first_touch_due_at < $1 THEN 1 ELSE 0 END) AS BIGINT) AS first_touch_breaches FROM cases WHERE status <> 'resolved'{scope_condition} GROUP BY queue ORDER BY queue"
        );
        let mut query = sqlx::query(&sql).bind(ms(now));
        for queue in scope_queues {
            query = query.bind(queue);
        }
        let rows = query.fetch_all(&self.reader).await?;
        rows.iter()
            .map(|row| {
                Ok(QueueStats {
                    queue: get(row, "queue")?,
                    depth: get(row, "depth")?,
                    unassigned: get(row, "unassigned")?,
                    oldest_opened_at: rows::time_opt(row, "oldest")?,
                    resolution_breaches: get(row, "resolution_breaches")?,
                    first_touch_breaches: get(row, "first_touch_breaches")?,
                })
            })
            .collect()
    }
}

impl SqlStore {
    pub(crate) async fn case_queues_impl(
        &self,
        ids: &[CaseId],
    ) -> StoreResult<Vec<(CaseId, String)>> {
        let ids = &ids[..ids.len().min(PAGE_SIZE_MAX as usize)];
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list: Vec<String> = (1..=ids.len()).map(|n| format!("${n}")).collect();
        let sql = format!(
            "SELECT id, queue FROM cases WHERE id IN ({})",
            list.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for id in ids {
            query = query.bind(id.0);
        }
        query
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(|row| Ok((CaseId(get(row, "id")?), get(row, "queue")?)))
            .collect()
    }

    pub(crate) async fn decision_cases_impl(
        &self,
        ids: &[i64],
    ) -> StoreResult<Vec<(i64, CaseId, String)>> {
        let ids = &ids[..ids.len().min(PAGE_SIZE_MAX as usize)];
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list: Vec<String> = (1..=ids.len()).map(|n| format!("${n}")).collect();
        let sql = format!(
            "SELECT d.id AS decision_id, c.id AS case_id, c.queue FROM decisions d JOIN cases c ON c.id = d.case_id WHERE d.id IN ({})",
            list.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for id in ids {
            query = query.bind(*id);
        }
        query
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(|row| {
                Ok((
                    get(row, "decision_id")?,
                    CaseId(get(row, "case_id")?),
                    get(row, "queue")?,
                ))
            })
            .collect()
    }
}

/// The condition (if any) that keeps a list to `scope`, with placeholders
/// from `placeholder`, and the queue names to bind to them in order. An
/// empty `Only` matches nothing; an empty `AllBut` everything.
fn scope_sql(
    scope: &QueueScope,
    placeholder: &mut impl FnMut() -> String,
) -> (Option<String>, Vec<String>) {
    let (queues, negate) = match scope {
        QueueScope::Every => return (None, Vec::new()),
        QueueScope::Only(queues) if queues.is_empty() => return (Some("1 = 0".into()), Vec::new()),
        QueueScope::AllBut(queues) if queues.is_empty() => return (None, Vec::new()),
        QueueScope::Only(queues) => (queues, ""),
        QueueScope::AllBut(queues) => (queues, "NOT "),
    };
    let list: Vec<String> = queues.iter().map(|_| placeholder()).collect();
    (
        Some(format!("queue {negate}IN ({})", list.join(", "))),
        queues.iter().cloned().collect(),
    )
}

/// Columns of `decisions`.
const DECISION_COLUMNS: &str = "id, case_id, subject_kind, subject_id, violation, category, policy, rationale, decided_by, decided_at, supersedes, superseded_by, enforcement, reversed_at, reversed_by, reversal_reason";

async fn load_subject(
    conn: &mut AnyConnection,
    subject: &SubjectRef,
) -> StoreResult<Option<SubjectRecord>> {
    let row = sqlx::query(&format!(
        "SELECT {SUBJECT_COLUMNS} FROM subjects WHERE kind = $1 AND platform_id = $2"
    ))
    .bind(subject.kind.as_str())
    .bind(subject.id.as_str())
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(rows::subject).transpose()
}

/// Builds decision records from rows, fetching each one's actions.
async fn decisions_with_actions(
    conn: &mut AnyConnection,
    decision_rows: &[AnyRow],
) -> StoreResult<Vec<DecisionRecord>> {
    let mut decisions = Vec::with_capacity(decision_rows.len());
    for row in decision_rows {
        let id: i64 = get(row, "id")?;
        let actions = sqlx::query(&format!(
            "SELECT {ACTION_COLUMNS} FROM actions WHERE decision_id = $1 ORDER BY id"
        ))
        .bind(id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(rows::action)
        .collect::<StoreResult<Vec<_>>>()?;
        decisions.push(DecisionRecord {
            id,
            case_id: CaseId(get(row, "case_id")?),
            subject: rows::reference(row, "subject_kind", "subject_id")?,
            violation: rows::flag(row, "violation")?,
            category: get(row, "category")?,
            policy: get(row, "policy")?,
            rationale: rows::rationale_from_json(&rows::json(row, "rationale")?),
            decided_by: get(row, "decided_by")?,
            decided_at: rows::time(row, "decided_at")?,
            supersedes: get(row, "supersedes")?,
            superseded_by: get(row, "superseded_by")?,
            actions,
            enforcement: super::enforcement::decision_enforcement(row, "")?,
        });
    }
    Ok(decisions)
}
