//! The SQL of [`EscalationStore`]: an escalation loads the case (locked)
//! and its evidence (hashed again), asks `plan_escalation`, and writes the
//! plan — the case's move, the escalation row, its pages as outbox rows
//! and the audit records; an acknowledgement asks `plan_acknowledgement`
//! and cancels the pages not yet sent. Nothing here decides anything.

use async_trait::async_trait;
use serde_json::{json, Value};
use sqlx::{Any, AnyConnection, Transaction};

use warden_domain::access::Principal;
use warden_domain::action::DeliveryStatus;
use warden_domain::escalation::{
    page_body, page_idempotency_key, page_schedule, plan_acknowledgement, plan_escalation,
    to_markdown, AcknowledgeRefusal, EscalationFacts, EscalationPlan, PackageFacts,
    SeverityDefinition,
};
use warden_domain::limits::{PACKAGE_ITEMS_PER_PART_MAX, PAGE_SIZE_MAX};
use warden_domain::webhook::DeliveryKind;
use warden_domain::{CaseId, Timestamp};

use super::cases::{clear_lease, load_case, Change};
use super::decision_facts::{case_facts, refused};
use super::free_text::stored_text;
use super::wrappers::{DbEscalation, DbEvidence, ESCALATION_COLUMNS, EVIDENCE_COLUMNS};
use super::{ms, AuditDraft, SqlStore};
use crate::{
    Actor, CaseRecord, EscalationRecord, EscalationRequest, EscalationStore, Paging, StoreError,
    StoreResult, PAGE_ENDPOINT_KEY,
};

/// The evidence of `case`, oldest first (one more than a package keeps,
/// so that it can say more were left out), each hashed again.
pub(super) async fn case_evidence_items(
    conn: &mut AnyConnection,
    case: CaseId,
    limit: usize,
) -> StoreResult<Vec<crate::EvidenceContentRead>> {
    let rows = sqlx::query_as::<_, DbEvidence>(&format!(
        "SELECT {EVIDENCE_COLUMNS} FROM evidence_items i LEFT JOIN evidence_blobs b ON b.hash = i.content_hash WHERE i.case_id = $1 ORDER BY i.id LIMIT {limit}"
    ))
    .bind(case.0)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|DbEvidence(read)| read).collect())
}

async fn escalation_where(
    conn: &mut AnyConnection,
    condition: &str,
    value: i64,
    tail: &str,
) -> StoreResult<Vec<EscalationRecord>> {
    let rows = sqlx::query_as::<_, DbEscalation>(&format!(
        "SELECT {ESCALATION_COLUMNS} FROM escalations e JOIN cases c ON c.id = e.case_id WHERE {condition}{tail}"
    ))
    .bind(value)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|DbEscalation(e)| e).collect())
}

async fn escalation_by_id(conn: &mut AnyConnection, id: i64) -> StoreResult<EscalationRecord> {
    escalation_where(conn, "e.id = $1", id, "")
        .await?
        .pop()
        .ok_or_else(|| StoreError::NotFound(format!("escalation {id}")))
}

async fn latest_id(conn: &mut AnyConnection, case: CaseId, lock: &str) -> StoreResult<Option<i64>> {
    Ok(sqlx::query_scalar(&format!(
        "SELECT id FROM escalations WHERE case_id = $1 ORDER BY id DESC LIMIT 1{lock}"
    ))
    .bind(case.0)
    .fetch_optional(conn)
    .await?)
}

/// Inserts the escalation row; returns its id.
async fn insert_escalation(
    tx: &mut Transaction<'static, Any>,
    plan: &EscalationPlan,
    escalator: &Principal,
) -> StoreResult<i64> {
    let e = &plan.escalation;
    Ok(sqlx::query_scalar(
        "INSERT INTO escalations (case_id, team, severity, reason, escalated_by_id, escalated_by, detected_at, escalated_at, acknowledge_by, package) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(e.case.0)
    .bind(&e.team)
    .bind(e.severity.as_str())
    .bind(stored_text(&e.reason).into_owned())
    .bind(e.escalated_by.0)
    .bind(&escalator.name)
    .bind(ms(e.times.detected_at))
    .bind(ms(e.times.escalated_at))
    .bind(ms(e.acknowledge_by))
    .bind(stored_text(&to_markdown(&plan.package)).into_owned())
    .fetch_one(&mut **tx)
    .await?)
}

/// Writes the pages of a new escalation as outbox rows; returns their due times.
async fn enqueue_pages(
    tx: &mut Transaction<'static, Any>,
    escalation: &EscalationRecord,
    definition: &SeverityDefinition,
    now: Timestamp,
) -> StoreResult<Vec<Value>> {
    let state = escalation.state();
    let mut due = Vec::new();
    for page in page_schedule(&state, definition) {
        let key = page_idempotency_key(state.id, page.attempt);
        let body = page_body(&state, definition, page.attempt);
        sqlx::query(
            "INSERT INTO outbox (kind, action_id, notice_id, endpoint_key, idempotency_key, body, status, attempts, replays, next_attempt_at, created_at, updated_at, escalation_id) VALUES ($1, NULL, NULL, $2, $3, $4, $5, 0, 0, $6, $7, $7, $8)",
        )
        .bind(DeliveryKind::Page.as_str())
        .bind(PAGE_ENDPOINT_KEY)
        .bind(&key)
        .bind(body.to_string())
        .bind(DeliveryStatus::Pending.as_str())
        .bind(ms(page.due))
        .bind(ms(now))
        .bind(state.id)
        .execute(&mut **tx)
        .await?;
        due.push(json!(page.due.to_rfc3339()));
    }
    Ok(due)
}

fn escalation_state_json(e: &EscalationRecord) -> Value {
    json!({
        "case_id": e.case_id.0,
        "team": e.team,
        "severity": e.severity.as_str(),
        "reason": e.reason,
        "acknowledge_by": e.acknowledge_by.to_rfc3339(),
        "acknowledged_by": e.acknowledged_by,
        "acknowledged_at": e.times.acknowledged_at.map(|t| t.to_rfc3339()),
    })
}

fn acknowledge_refused(refusal: AcknowledgeRefusal) -> StoreError {
    match refusal {
        AcknowledgeRefusal::NotATeamMember { .. } => StoreError::Forbidden(refusal.to_string()),
        AcknowledgeRefusal::AlreadyAcknowledged { .. } | AcknowledgeRefusal::Resolved => {
            StoreError::Conflict(refusal.to_string())
        }
    }
}

impl SqlStore {
    /// Loads the facts of an escalation in `tx`, the case locked.
    async fn escalation_facts(
        &self,
        tx: &mut Transaction<'static, Any>,
        case: CaseId,
        mut package: PackageFacts,
    ) -> StoreResult<(CaseRecord, EscalationFacts)> {
        let before = load_case(tx, case, self.backend.for_update())
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("case {case}")))?;
        package.evidence = case_evidence_items(tx, case, PACKAGE_ITEMS_PER_PART_MAX + 1)
            .await?
            .into_iter()
            .map(|read| read.item)
            .collect();
        let facts = EscalationFacts {
            case: case_facts(&before),
            package,
        };
        Ok((before, facts))
    }
}

#[async_trait]
impl EscalationStore for SqlStore {
    async fn escalate_to_team(
        &self,
        actor: &Actor,
        request: &EscalationRequest<'_>,
        package: PackageFacts,
        now: Timestamp,
    ) -> StoreResult<(CaseRecord, EscalationRecord)> {
        let command = request.command;
        let mut tx = self.writer.begin().await?;
        let (before, facts) = self
            .escalation_facts(&mut tx, command.case, package)
            .await?;
        let plan = match plan_escalation(&facts, command, request.escalator, request.policy, now) {
            Ok(plan) => plan,
            Err(error) => {
                tx.rollback().await?;
                return Err(refused(error));
            }
        };
        let mut after = before.clone();
        after.queue.clone_from(&plan.queue);
        after.status = plan.status;
        after.severity = plan.case_severity;
        clear_lease(&mut after);
        let change = Change {
            actor,
            action: "case.escalate",
            reason: Some(&command.reason),
            now,
        };
        let (case, case_draft) = self.save_case(&mut tx, &change, &before, after).await?;
        let id = insert_escalation(&mut tx, &plan, request.escalator).await?;
        let escalation = escalation_by_id(&mut tx, id).await?;
        let definition = request.policy.definition(command.severity);
        let pages = match request.paging {
            Paging::Webhook => enqueue_pages(&mut tx, &escalation, definition, now).await?,
            Paging::Off => Vec::new(),
        };
        let mut after_state = escalation_state_json(&escalation);
        after_state["pages_due"] = json!(pages);
        after_state["package_parts_omitted"] = json!(plan
            .package
            .omitted
            .iter()
            .map(|(part, n)| json!({"part": part.as_str(), "left_out": n}))
            .collect::<Vec<_>>());
        let draft = AuditDraft::new(
            actor,
            "escalation.create",
            "escalation",
            id,
            Value::Null,
            after_state,
        );
        self.append_audit(&mut tx, vec![case_draft, draft], now)
            .await?;
        let escalation = escalation_by_id(&mut tx, id).await?;
        tx.commit().await?;
        Ok((case, escalation))
    }

    async fn acknowledge_escalation(
        &self,
        actor: &Actor,
        member: &Principal,
        case: CaseId,
        now: Timestamp,
    ) -> StoreResult<EscalationRecord> {
        let mut tx = self.writer.begin().await?;
        let Some(id) = latest_id(&mut tx, case, self.backend.for_update()).await? else {
            tx.rollback().await?;
            return Err(StoreError::NotFound(format!(
                "an escalation of case {case}"
            )));
        };
        let before = escalation_by_id(&mut tx, id).await?;
        let at = match plan_acknowledgement(&before.state(), member, now) {
            Ok(at) => at,
            Err(refusal) => {
                tx.rollback().await?;
                return Err(acknowledge_refused(refusal));
            }
        };
        sqlx::query(
            "UPDATE escalations SET acknowledged_at = $2, acknowledged_by = $3 WHERE id = $1 AND acknowledged_at IS NULL",
        )
        .bind(id)
        .bind(ms(at))
        .bind(&member.name)
        .execute(&mut *tx)
        .await?;
        let cancelled = sqlx::query(
            "UPDATE outbox SET status = $2, updated_at = $3 WHERE escalation_id = $1 AND status = $4",
        )
        .bind(id)
        .bind(DeliveryStatus::Cancelled.as_str())
        .bind(ms(now))
        .bind(DeliveryStatus::Pending.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let after = escalation_by_id(&mut tx, id).await?;
        let mut after_state = escalation_state_json(&after);
        after_state["pages_cancelled"] = json!(cancelled);
        let draft = AuditDraft::new(
            actor,
            "escalation.acknowledge",
            "escalation",
            id,
            escalation_state_json(&before),
            after_state,
        );
        self.append_audit(&mut tx, vec![draft], now).await?;
        tx.commit().await?;
        Ok(after)
    }

    async fn latest_escalation(&self, case: CaseId) -> StoreResult<Option<EscalationRecord>> {
        let mut conn = self.reader.acquire().await?;
        Ok(escalation_where(
            &mut conn,
            "e.case_id = $1",
            case.0,
            " ORDER BY e.id DESC LIMIT 1",
        )
        .await?
        .pop())
    }

    async fn unacknowledged_escalations(&self, limit: u32) -> StoreResult<Vec<EscalationRecord>> {
        let mut conn = self.reader.acquire().await?;
        let limit = limit.min(PAGE_SIZE_MAX);
        escalation_where(
            &mut conn,
            "e.acknowledged_at IS NULL AND e.id > $1",
            0,
            &format!(" ORDER BY e.escalated_at, e.id LIMIT {limit}"),
        )
        .await
    }
}
