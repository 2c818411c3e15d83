//! The SQL of [`CaseStore`]: claiming with leases, releasing, holding,
//! reassigning, status changes, notes, and case reads.
//!
//! Every change loads the case (locking its row on PostgreSQL), checks the
//! version the caller expects, computes the new state, and writes it back
//! with `WHERE version = old`, recording the status transition and an audit
//! record with the state before and after, all in one transaction.
//! Deciding uses the same steps from `decisions.rs`.

use crate::CasePolicy;
use async_trait::async_trait;
use chrono::Duration;
use serde_json::{json, Value};
use sqlx::{Any, AnyConnection, Transaction};

use warden_domain::case::CaseStatus;
use warden_domain::decision::Rationale;
use warden_domain::limits::{CASE_ITEMS_SHOWN_MAX, CLAIMS_PER_USER_MAX, PAGE_SIZE_MAX};
use warden_domain::routing::QueueScope;
use warden_domain::{CaseId, SubjectRef, Timestamp};

use super::free_text::stored_text_opt;
use super::wrappers::{
    rationale_to_json, records, DbAction, DbCase, DbDecision, DbNote, DbReport, DbSignal,
    DbSubject, DbTransition, Wrapped, ACTION_COLUMNS, CASE_COLUMNS, DECISION_COLUMNS, NOTE_COLUMNS,
    REPORT_COLUMNS, SIGNAL_COLUMNS, SUBJECT_COLUMNS, TRANSITION_COLUMNS,
};
use super::{holds_nul, ms, AuditDraft, SqlStore};
use crate::{
    Actor, AppealScope, CaseDetail, CaseFilter, CaseRecord, CaseStore, DecisionRecord, NoteRecord,
    ReportRecord, SignalRecord, StatusChange, StoreError, StoreResult, SubjectRecord, UserRecord,
};

/// Who changes a case, how and why: what the transition and audit records say.
pub(super) struct Change<'a> {
    pub(super) actor: &'a Actor,
    pub(super) action: &'a str,
    pub(super) reason: Option<&'a str>,
    pub(super) now: Timestamp,
}

/// Loads one case, with `lock` (`""` or `" FOR UPDATE"`) appended.
pub(crate) async fn load_case(
    conn: &mut AnyConnection,
    id: CaseId,
    lock: &str,
) -> StoreResult<Option<CaseRecord>> {
    Ok(sqlx::query_as::<_, DbCase>(&format!(
        "SELECT {CASE_COLUMNS} FROM cases WHERE id = $1{lock}"
    ))
    .bind(id.0)
    .fetch_optional(conn)
    .await?
    .map(Wrapped::into_record))
}

/// Records a case's move from its status to `to`.
async fn record_transition(
    tx: &mut Transaction<'static, Any>,
    before: &CaseRecord,
    to: CaseStatus,
    change: &Change<'_>,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO case_transitions (case_id, from_status, to_status, actor, at, reason) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(before.id.0)
    .bind(before.status.as_str())
    .bind(to.as_str())
    .bind(&change.actor.name)
    .bind(ms(change.now))
    .bind(stored_text_opt(change.reason))
    .execute(&mut **tx)
    .await?;
    Ok(())
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

/// Whether `actor` may renew the lease on `case` at `now`.
fn check_renewal(case: &CaseRecord, actor: &Actor, now: Timestamp) -> StoreResult<()> {
    let id = case.id;
    if case.assignee_id.is_none() || case.assignee_id != actor.user_id {
        return Err(StoreError::Conflict(format!(
            "case {id} is not claimed by you; claim it before you renew its lease"
        )));
    }
    // Once a lease has run out, another analyst could have claimed the
    // case; renewing it now would take it back from under them. A held
    // case has no running lease and keeps its holder.
    if !case.lease_is_live(now) {
        return Err(StoreError::Conflict(format!(
            "the lease on case {id} ran out; claim the case again"
        )));
    }
    Ok(())
}

/// Rolls `tx` back before answering `refused`. A transaction only dropped
/// is rolled back later, when its connection is next used, and until then
/// its row lock makes claims on PostgreSQL pass the case over.
async fn rolled_back<T>(tx: Transaction<'static, Any>, refused: StoreError) -> StoreResult<T> {
    tx.rollback().await?;
    Err(refused)
}

pub(super) fn clear_lease(case: &mut CaseRecord) {
    case.assignee = None;
    case.assignee_id = None;
    case.lease_expires_at = None;
    case.held = false;
    case.hold_reason = None;
}

impl SqlStore {
    pub(super) async fn locked_case(
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
    pub(super) async fn save_case(
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
        .bind(stored_text_opt(after.hold_reason.as_deref()))
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
            record_transition(tx, before, after.status, change).await?;
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
}

#[async_trait]
impl CaseStore for SqlStore {
    async fn case(&self, id: CaseId) -> StoreResult<Option<CaseRecord>> {
        let mut conn = self.reader.acquire().await?;
        load_case(&mut conn, id, "").await
    }

    async fn claim_next(
        &self,
        actor: &Actor,
        queue: &str,
        lease: Duration,
        now: Timestamp,
    ) -> StoreResult<Option<CaseRecord>> {
        self.claim_next_within(actor, queue, &AppealScope::Every, lease, now)
            .await
    }

    async fn claim_next_within(
        &self,
        actor: &Actor,
        queue: &str,
        appeals: &AppealScope,
        lease: Duration,
        now: Timestamp,
    ) -> StoreResult<Option<CaseRecord>> {
        let user_id = actor
            .user_id
            .ok_or_else(|| StoreError::invalid("actor", "only a user can claim cases"))?;
        let mut tx = self.writer.begin().await?;
        self.plan_from_indexes(&mut tx).await?;
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
        let row = self.next_claimable(&mut tx, queue, appeals, now).await?;
        let Some(before) = row else {
            tx.rollback().await?;
            return Ok(None);
        };
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

    async fn renew_lease(
        &self,
        actor: &Actor,
        id: CaseId,
        expected_version: Option<i64>,
        lease: Duration,
        now: Timestamp,
    ) -> StoreResult<CaseRecord> {
        let mut tx = self.writer.begin().await?;
        let before = self.locked_case(&mut tx, id, expected_version).await?;
        if let Err(refused) = check_renewal(&before, actor, now) {
            return rolled_back(tx, refused).await;
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

    async fn release(
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
            let refused = StoreError::Conflict(format!("case {id} is not claimed by anyone"));
            return rolled_back(tx, refused).await;
        }
        if !as_lead && before.assignee_id != actor.user_id {
            if let Err(refused) = require_holder(&before, actor, now, "release") {
                return rolled_back(tx, refused).await;
            }
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

    async fn hold(
        &self,
        actor: &Actor,
        id: CaseId,
        expected_version: Option<i64>,
        reason: &str,
        now: Timestamp,
    ) -> StoreResult<CaseRecord> {
        let mut tx = self.writer.begin().await?;
        let before = self.locked_case(&mut tx, id, expected_version).await?;
        if let Err(refused) = require_holder(&before, actor, now, "hold") {
            return rolled_back(tx, refused).await;
        }
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

    async fn assign(
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

    async fn change_status(
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
    async fn reopen(
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
        let (saved, draft) = self
            .reopen_in(&mut tx, actor, before, reason, policy, now)
            .await?;
        self.append_audit(&mut tx, vec![draft], now).await?;
        tx.commit().await?;
        Ok(saved)
    }

    /// Decides a case: loads the facts, plans the decision (all policy is
    /// in `warden_domain::enforcement::plan_decision`), writes the plan and
    /// the case's transition, and commits them with the audit record.
    async fn add_note(
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
        let body = rationale_to_json(&note);
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

    async fn case_detail(&self, id: CaseId) -> StoreResult<Option<CaseDetail>> {
        let mut conn = self.reader.acquire().await?;
        // One read transaction, so that the parts agree with each other.
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        let Some(case) = load_case(&mut tx, id, "").await? else {
            return Ok(None);
        };
        let subject = load_subject(&mut tx, &case.subject).await?;
        let limit = i64::from(CASE_ITEMS_SHOWN_MAX);
        let reports = sqlx::query_as::<_, DbReport>(&format!(
            "SELECT {REPORT_COLUMNS} FROM reports WHERE case_id = $1 ORDER BY seq LIMIT $2"
        ))
        .bind(id.0)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        let signals = sqlx::query_as::<_, DbSignal>(&format!(
            "SELECT {SIGNAL_COLUMNS} FROM signals WHERE case_id = $1 ORDER BY seq LIMIT $2"
        ))
        .bind(id.0)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        let transitions = sqlx::query_as::<_, DbTransition>(&format!(
            "SELECT {TRANSITION_COLUMNS} FROM case_transitions WHERE case_id = $1 ORDER BY id LIMIT $2"
        ))
        .bind(id.0)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        let decisions = load_decisions(
            &mut tx,
            &format!(
                "SELECT {DECISION_COLUMNS} FROM decisions WHERE case_id = $1 ORDER BY id LIMIT $2"
            ),
            Params(vec![Param::Int(id.0), Param::Int(limit)]),
        )
        .await?;
        let notes = sqlx::query_as::<_, DbNote>(&format!(
            "SELECT {NOTE_COLUMNS} FROM notes WHERE case_id = $1 ORDER BY id LIMIT $2"
        ))
        .bind(id.0)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(CaseDetail {
            case,
            subject,
            reports: records(reports),
            signals: records(signals),
            transitions: records(transitions),
            decisions,
            notes: records(notes),
        }))
    }

    async fn case_items(
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
        let mut reports_query = sqlx::query_as::<_, DbReport>(&report_sql);
        let mut signals_query = sqlx::query_as::<_, DbSignal>(&signal_sql);
        for id in ids {
            reports_query = reports_query.bind(id.0);
            signals_query = signals_query.bind(id.0);
        }
        let reports = reports_query.bind(per_case).fetch_all(&self.reader).await?;
        let signals = signals_query.bind(per_case).fetch_all(&self.reader).await?;
        Ok((records(reports), records(signals)))
    }

    async fn list_cases(&self, filter: &CaseFilter) -> StoreResult<Vec<CaseRecord>> {
        let named = [&filter.queue, &filter.category, &filter.language];
        if named.iter().any(|v| v.as_deref().is_some_and(holds_nul)) {
            // Nothing stored under such a name (the edge rule refuses NUL in
            // names), and PostgreSQL cannot compare with it.
            return Ok(Vec::new());
        }
        let (sql, params) = case_list_query(filter);
        let rows = bind_all(sqlx::query_as::<_, DbCase>(&sql), params)
            .fetch_all(&self.reader)
            .await?;
        Ok(records(rows))
    }

    async fn case_queues(&self, ids: &[CaseId]) -> StoreResult<Vec<(CaseId, String)>> {
        let ids = &ids[..ids.len().min(PAGE_SIZE_MAX as usize)];
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list: Vec<String> = (1..=ids.len()).map(|n| format!("${n}")).collect();
        let sql = format!(
            "SELECT id, queue FROM cases WHERE id IN ({})",
            list.join(", ")
        );
        let mut query = sqlx::query_as::<_, (i64, String)>(&sql);
        for id in ids {
            query = query.bind(id.0);
        }
        let rows = query.fetch_all(&self.reader).await?;
        Ok(rows
            .into_iter()
            .map(|(id, queue)| (CaseId(id), queue))
            .collect())
    }
}

/// A value bound to a placeholder of a query built from a filter.
pub(super) enum Param {
    Text(String),
    Int(i64),
}

/// The values of a query's placeholders, in order: pushing one names its
/// placeholder (`$1`, `$2`, ...).
#[derive(Default)]
pub(super) struct Params(pub(super) Vec<Param>);

impl Params {
    pub(super) fn push(&mut self, param: Param) -> String {
        self.0.push(param);
        format!("${}", self.0.len())
    }

    pub(super) fn text(&mut self, text: impl Into<String>) -> String {
        self.push(Param::Text(text.into()))
    }

    pub(super) fn int(&mut self, number: i64) -> String {
        self.push(Param::Int(number))
    }
}

/// The query of a case list: its SQL and the values of its placeholders.
fn case_list_query(filter: &CaseFilter) -> (String, Params) {
    let mut params = Params::default();
    let where_clause = case_list_where(filter, &mut params);
    let limit = params.int(i64::from(filter.limit.clamp(1, PAGE_SIZE_MAX)));
    let offset = params.int(i64::from(filter.offset));
    let sql = format!(
        "SELECT {CASE_COLUMNS} FROM cases{where_clause} ORDER BY severity DESC, resolve_due_at, priority DESC, opened_at, id LIMIT {limit} OFFSET {offset}"
    );
    (sql, params)
}

/// The `WHERE` clause (empty, or with a leading space) of a case list's
/// filters and scopes, its values pushed to `params`; the page is the
/// caller's.
pub(super) fn case_list_where(filter: &CaseFilter, params: &mut Params) -> String {
    let mut conditions = Vec::new();
    if let Some(queue) = &filter.queue {
        conditions.push(format!("queue = {}", params.text(queue.clone())));
    }
    if !filter.statuses.is_empty() {
        let list: Vec<String> = filter
            .statuses
            .iter()
            .map(|s| params.text(s.as_str()))
            .collect();
        conditions.push(format!("status IN ({})", list.join(", ")));
    }
    if let Some(assignee) = filter.assignee_id {
        conditions.push(format!("assignee_id = {}", params.int(assignee)));
    }
    if let Some(subject) = &filter.subject {
        let kind = params.text(subject.kind.as_str());
        let id = params.text(subject.id.as_str());
        conditions.push(format!("subject_kind = {kind} AND subject_id = {id}"));
    }
    if let Some(category) = &filter.category {
        conditions.push(format!("category = {}", params.text(category.clone())));
    }
    if let Some(severity) = filter.severity {
        conditions.push(format!("severity = {}", params.int(severity.rank())));
    }
    if let Some(language) = &filter.language {
        // Language tags hold only letters, digits and '-', so no LIKE
        // wildcard can come in through them.
        let language: String = language
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        let exact = params.text(language.clone());
        let subtag = params.text(format!("{language}-%"));
        conditions.push(format!("(language = {exact} OR language LIKE {subtag})"));
    }
    conditions.extend(scope_sql(&filter.scope, params));
    conditions.extend(appeal_scope_sql(&filter.appeals, params));
    if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    }
}

/// The condition (if any) that keeps a list to `scope`, its queue names
/// pushed to `params`. An empty `Only` matches nothing; an empty `AllBut`
/// everything.
pub(super) fn scope_sql(scope: &QueueScope, params: &mut Params) -> Option<String> {
    let (queues, negate) = match scope {
        QueueScope::Every => return None,
        QueueScope::Only(queues) if queues.is_empty() => return Some("1 = 0".into()),
        QueueScope::AllBut(queues) if queues.is_empty() => return None,
        QueueScope::Only(queues) => (queues, ""),
        QueueScope::AllBut(queues) => (queues, "NOT "),
    };
    let list: Vec<String> = queues.iter().map(|q| params.text(q.clone())).collect();
    Some(format!("queue {negate}IN ({})", list.join(", ")))
}

/// The condition (if any) that keeps appeal cases to those `scope`
/// admits by the independence rule, its values pushed to `params`.
pub(super) fn appeal_scope_sql(scope: &AppealScope, params: &mut Params) -> Option<String> {
    let filter = match scope {
        AppealScope::Every => return None,
        AppealScope::Hidden => return Some("kind = 'report'".into()),
        AppealScope::Reviewer(filter) => filter,
    };
    let reviewer = params.int(filter.not_decided_by.0);
    let roles: Vec<String> = filter
        .decider_roles
        .iter()
        .map(|r| params.text(r.as_str()))
        .collect();
    let roles = if roles.is_empty() {
        "1 = 0".to_string()
    } else {
        format!("decider_role IN ({})", roles.join(", "))
    };
    let automated = if filter.automated {
        "decider_id IS NULL OR "
    } else {
        ""
    };
    Some(format!(
        "(kind = 'report' OR id IN (SELECT case_id FROM appeals WHERE {automated}(decider_id <> {reviewer} AND {roles})))"
    ))
}

/// A subject as the platform last sent it.
pub(super) async fn load_subject(
    conn: &mut AnyConnection,
    subject: &SubjectRef,
) -> StoreResult<Option<SubjectRecord>> {
    Ok(sqlx::query_as::<_, DbSubject>(&format!(
        "SELECT {SUBJECT_COLUMNS} FROM subjects WHERE kind = $1 AND platform_id = $2"
    ))
    .bind(subject.kind.as_str())
    .bind(subject.id.as_str())
    .fetch_optional(conn)
    .await?
    .map(Wrapped::into_record))
}

/// Binds `params` to `query` in order.
pub(super) fn bind_all<'q, O>(
    mut query: sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>,
    params: Params,
) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>> {
    for param in params.0 {
        query = match param {
            Param::Text(text) => query.bind(text),
            Param::Int(number) => query.bind(number),
        };
    }
    query
}

/// The decisions `sql` selects (its placeholders bound to `params`), each
/// with its actions.
pub(super) async fn load_decisions(
    conn: &mut AnyConnection,
    sql: &str,
    params: Params,
) -> StoreResult<Vec<DecisionRecord>> {
    let rows = bind_all(sqlx::query_as::<_, DbDecision>(sql), params)
        .fetch_all(&mut *conn)
        .await?;
    let mut decisions = records(rows);
    for decision in &mut decisions {
        let actions = sqlx::query_as::<_, DbAction>(&format!(
            "SELECT {ACTION_COLUMNS} FROM actions WHERE decision_id = $1 ORDER BY id"
        ))
        .bind(decision.id)
        .fetch_all(&mut *conn)
        .await?;
        decision.actions = records(actions);
    }
    Ok(decisions)
}

impl SqlStore {
    /// Applies a status change to `before`, locked in `tx`, and commits it.
    async fn apply_status_change(
        &self,
        mut tx: Transaction<'static, Any>,
        actor: &Actor,
        before: CaseRecord,
        change: StatusChange,
        now: Timestamp,
    ) -> StoreResult<CaseRecord> {
        let (saved, draft) = self
            .status_change_in(&mut tx, actor, before, change, now)
            .await?;
        self.append_audit(&mut tx, vec![draft], now).await?;
        tx.commit().await?;
        Ok(saved)
    }

    /// Reopens `before`, locked in `tx`, with new SLA deadlines from the
    /// queue `policy` gives it at its severity now; answers the case after
    /// and its audit draft, leaving the commit to the caller (a QA rework
    /// reopens its case in the review's transaction).
    pub(super) async fn reopen_in(
        &self,
        tx: &mut Transaction<'static, Any>,
        actor: &Actor,
        before: CaseRecord,
        reason: &str,
        policy: &CasePolicy,
        now: Timestamp,
    ) -> StoreResult<(CaseRecord, AuditDraft)> {
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
        self.status_change_in(tx, actor, before, change, now).await
    }

    /// A status change of `before`, locked in `tx`, written but not
    /// committed: the case after and its audit draft.
    async fn status_change_in(
        &self,
        tx: &mut Transaction<'static, Any>,
        actor: &Actor,
        before: CaseRecord,
        change: StatusChange,
        now: Timestamp,
    ) -> StoreResult<(CaseRecord, AuditDraft)> {
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
                    "SELECT id FROM cases WHERE subject_kind = $1 AND subject_id = $2 AND category = $3 AND status <> 'resolved' AND kind = 'report'",
                )
                .bind(before.subject.kind.as_str())
                .bind(before.subject.id.as_str())
                .bind(&before.category)
                .fetch_optional(&mut **tx)
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
        self.save_case(
            tx,
            &Change {
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
}
