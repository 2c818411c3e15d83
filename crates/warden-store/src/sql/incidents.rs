//! The SQL of [`IncidentStore`]: incidents, their members and timelines
//! (here), bulk actions and their runs (`incident_bulk.rs`). Membership is
//! planned by `warden_domain::incident::plan_membership`; nothing here
//! decides anything.

use async_trait::async_trait;
use serde_json::{json, Value};
use sqlx::any::AnyRow;
use sqlx::{Any, AnyConnection, Row, Transaction};

use warden_domain::access::Principal;
use warden_domain::case::CaseStatus;
use warden_domain::enforcement::{account_of, PlanError};
use warden_domain::ids::{PlatformId, SubjectKind, UserId};
use warden_domain::incident::{
    plan_membership, timeline_entry, BulkCommand, BulkId, BulkStatus, IncidentCaseFacts,
    IncidentEvent, IncidentId, Membership, MembershipFacts, NewIncident,
};
use warden_domain::limits::{INCIDENT_CASES_MAX, PAGE_SIZE_MAX};
use warden_domain::routing::QueueScope;
use warden_domain::{CaseId, SubjectRef, Timestamp};

use super::cases::{bind_all, case_list_where, scope_sql, Params};
use super::decision_facts::refused;
use super::free_text::{stored_text, unstored_text};
use super::wrappers::{records, time_from_ms, DbCase, CASE_COLUMNS};
use super::{ms, AuditDraft, SqlStore};
use crate::{
    Actor, BulkActionRecord, BulkAuthor, BulkBatch, BulkPlanned, BulkRun, BulkSkipRecord,
    CaseFilter, CasePolicy, CaseRecord, IncidentRecord, IncidentStore, MembershipOutcome,
    StoreError, StoreResult, TimelineRecord,
};

/// Columns of `incidents`, as [`incident_of`] reads them.
const INCIDENT_COLUMNS: &str = "id, title, severity, description, owner_id, owner, status, timeline_entries, opened_at, updated_at";

/// Columns of `bulk_actions`, as [`bulk_of`] reads them.
pub(super) const BULK_COLUMNS: &str = "id, incident_id, author_id, author, status, command, fingerprint, planned, applied, skipped, approver_id, approver, approved_at, created_at, updated_at, completed_at";

/// Ids looked up per statement (well under either backend's bound on
/// placeholders).
pub(super) const IDS_PER_STATEMENT: usize = 500;

pub(super) fn corrupt(table: &str, column: &str, value: &str) -> StoreError {
    StoreError::Corrupt {
        table: table.into(),
        column: column.into(),
        value: value.into(),
    }
}

fn incident_of(row: &AnyRow) -> StoreResult<IncidentRecord> {
    let severity: String = row.try_get("severity")?;
    let status: String = row.try_get("status")?;
    let entries: i64 = row.try_get("timeline_entries")?;
    Ok(IncidentRecord {
        id: IncidentId(row.try_get("id")?),
        title: unstored_text(row.try_get("title")?),
        severity: severity
            .parse()
            .map_err(|_| corrupt("incidents", "severity", &severity))?,
        description: unstored_text(row.try_get("description")?),
        owner_id: row.try_get("owner_id")?,
        owner: row.try_get("owner")?,
        status: status
            .parse()
            .map_err(|_| corrupt("incidents", "status", &status))?,
        timeline_entries: usize::try_from(entries).unwrap_or(0),
        opened_at: time_from_ms(row.try_get("opened_at")?, "opened_at")?,
        updated_at: time_from_ms(row.try_get("updated_at")?, "updated_at")?,
    })
}

/// A bulk action's status as stored.
pub(super) fn bulk_status(text: &str) -> Option<BulkStatus> {
    [
        BulkStatus::DryRun,
        BulkStatus::AwaitingApproval,
        BulkStatus::Applying,
        BulkStatus::Completed,
        BulkStatus::Rejected,
    ]
    .into_iter()
    .find(|s| s.as_str() == text)
}

pub(super) fn bulk_of(row: &AnyRow) -> StoreResult<BulkActionRecord> {
    let status: String = row.try_get("status")?;
    let command: String = row.try_get("command")?;
    let optional_time = |column: &str| -> StoreResult<Option<Timestamp>> {
        row.try_get::<Option<i64>, _>(column)?
            .map(|v| time_from_ms(v, column))
            .transpose()
    };
    Ok(BulkActionRecord {
        id: BulkId(row.try_get("id")?),
        incident: IncidentId(row.try_get("incident_id")?),
        author_id: row.try_get("author_id")?,
        author: row.try_get("author")?,
        status: bulk_status(&status).ok_or_else(|| corrupt("bulk_actions", "status", &status))?,
        command: serde_json::from_str(&command)
            .map_err(|_| corrupt("bulk_actions", "command", &command))?,
        fingerprint: row.try_get("fingerprint")?,
        planned: row.try_get("planned")?,
        applied: row.try_get("applied")?,
        skipped: row.try_get("skipped")?,
        approver: row.try_get("approver")?,
        approver_id: row.try_get("approver_id")?,
        approved_at: optional_time("approved_at")?,
        created_at: time_from_ms(row.try_get("created_at")?, "created_at")?,
        updated_at: time_from_ms(row.try_get("updated_at")?, "updated_at")?,
        completed_at: optional_time("completed_at")?,
    })
}

/// The incident `id` (`lock`: the row-lock clause), or not found.
pub(super) async fn load_incident(
    conn: &mut AnyConnection,
    id: IncidentId,
    lock: &str,
) -> StoreResult<IncidentRecord> {
    let row = sqlx::query(&format!(
        "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = $1{lock}"
    ))
    .bind(id.0)
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("incident {id}")))?;
    incident_of(&row)
}

/// The bulk action `id` (`lock`: the row-lock clause), or not found.
pub(super) async fn load_bulk(
    conn: &mut AnyConnection,
    id: BulkId,
    lock: &str,
) -> StoreResult<BulkActionRecord> {
    let row = sqlx::query(&format!(
        "SELECT {BULK_COLUMNS} FROM bulk_actions WHERE id = $1{lock}"
    ))
    .bind(id.0)
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("bulk action {id}")))?;
    bulk_of(&row)
}

/// The stored code of a timeline event.
fn event_code(event: &IncidentEvent) -> &'static str {
    match event {
        IncidentEvent::Opened => "opened",
        IncidentEvent::CasesJoined { .. } => "cases_joined",
        IncidentEvent::StatusChanged { .. } => "status_changed",
        IncidentEvent::OwnerChanged { .. } => "owner_changed",
        IncidentEvent::BulkPlanned { .. } => "bulk_planned",
        IncidentEvent::BulkApproved { .. } => "bulk_approved",
        IncidentEvent::BulkCompleted { .. } => "bulk_completed",
    }
}

/// Writes the timeline entry `timeline_entry` plans for `event` (none
/// once the timeline is full).
pub(super) async fn write_timeline(
    tx: &mut Transaction<'static, Any>,
    incident: &IncidentRecord,
    event: IncidentEvent,
    actor: &Actor,
    now: Timestamp,
) -> StoreResult<()> {
    let code = event_code(&event);
    let by = actor.user_id.map(UserId);
    let Some(entry) = timeline_entry(&incident.domain(), event, by, now) else {
        return Ok(());
    };
    sqlx::query(
        "INSERT INTO incident_timeline (incident_id, at, actor, event, text) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(incident.id.0)
    .bind(ms(entry.at))
    .bind(&actor.name)
    .bind(code)
    .bind(stored_text(&entry.event.describe()).into_owned())
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "UPDATE incidents SET timeline_entries = timeline_entries + 1, updated_at = $2 WHERE id = $1",
    )
    .bind(incident.id.0)
    .bind(ms(now))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl SqlStore {
    /// The ids of cases among `ids` in `scope`.
    async fn cases_in_scope(
        &self,
        conn: &mut AnyConnection,
        ids: &[CaseId],
        scope: &QueueScope,
    ) -> StoreResult<Vec<CaseId>> {
        let mut found = Vec::new();
        for chunk in ids.chunks(IDS_PER_STATEMENT) {
            let mut params = Params::default();
            let list: Vec<String> = chunk.iter().map(|id| params.int(id.0)).collect();
            let mut conditions = vec![format!("id IN ({})", list.join(", "))];
            conditions.extend(scope_sql(scope, &mut params));
            let sql = format!("SELECT id FROM cases WHERE {}", conditions.join(" AND "));
            let rows = bind_all(sqlx::query_as::<_, (i64,)>(&sql), params)
                .fetch_all(&mut *conn)
                .await?;
            found.extend(rows.into_iter().map(|(id,)| CaseId(id)));
        }
        Ok(found)
    }

    /// The ids of cases `filter` matches, by id, at most one past the
    /// incident limit.
    async fn cases_matching(
        &self,
        conn: &mut AnyConnection,
        filter: &CaseFilter,
    ) -> StoreResult<Vec<CaseId>> {
        let mut params = Params::default();
        let where_clause = case_list_where(filter, &mut params);
        let limit = INCIDENT_CASES_MAX + 1;
        let sql = format!("SELECT id FROM cases{where_clause} ORDER BY id LIMIT {limit}");
        let rows = bind_all(sqlx::query_as::<_, (i64,)>(&sql), params)
            .fetch_all(conn)
            .await?;
        Ok(rows.into_iter().map(|(id,)| CaseId(id)).collect())
    }

    /// Inserts membership rows for `cases`.
    async fn insert_members(
        &self,
        tx: &mut Transaction<'static, Any>,
        id: IncidentId,
        cases: &[CaseId],
        now: Timestamp,
    ) -> StoreResult<()> {
        for chunk in cases.chunks(IDS_PER_STATEMENT) {
            let mut params = Params::default();
            let incident = params.int(id.0);
            let at = params.int(ms(now));
            let rows: Vec<String> = chunk
                .iter()
                .map(|case| format!("({incident}, {}, {at})", params.int(case.0)))
                .collect();
            let sql = format!(
                "INSERT INTO incident_cases (incident_id, case_id, added_at) VALUES {}",
                rows.join(", ")
            );
            bind_all(sqlx::query_as::<_, (i64,)>(&sql), params)
                .fetch_all(&mut **tx)
                .await?;
        }
        Ok(())
    }
}

fn case_facts_of(row: &AnyRow) -> StoreResult<IncidentCaseFacts> {
    let subject_kind: String = row.try_get("subject_kind")?;
    let subject_id: String = row.try_get("subject_id")?;
    let status: String = row.try_get("status")?;
    let kind: SubjectKind = subject_kind
        .parse()
        .map_err(|_| corrupt("cases", "subject_kind", &subject_kind))?;
    let subject = SubjectRef::new(
        kind,
        PlatformId::from_stored(subject_id.clone())
            .map_err(|_| corrupt("cases", "subject_id", &subject_id))?,
    );
    let owner_kind: Option<String> = row.try_get("owner_kind")?;
    let owner_id: Option<String> = row.try_get("owner_id")?;
    let owner = match (owner_kind, owner_id) {
        (Some(kind), Some(id)) => {
            match (kind.parse::<SubjectKind>(), PlatformId::from_stored(id)) {
                (Ok(kind), Ok(id)) => Some(SubjectRef::new(kind, id)),
                _ => None,
            }
        }
        _ => None,
    };
    Ok(IncidentCaseFacts {
        case: CaseId(row.try_get("id")?),
        account: account_of(&subject, owner.as_ref()),
        opened_at: time_from_ms(row.try_get("opened_at")?, "opened_at")?,
        status: status
            .parse::<CaseStatus>()
            .map_err(|_| corrupt("cases", "status", &status))?,
    })
}

#[async_trait]
impl IncidentStore for SqlStore {
    async fn create_incident(
        &self,
        actor: &Actor,
        incident: &NewIncident,
        now: Timestamp,
    ) -> StoreResult<IncidentRecord> {
        let mut tx = self.writer.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO incidents (title, severity, description, owner_id, owner, status, timeline_entries, opened_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'open', 0, $6, $6) RETURNING id",
        )
        .bind(stored_text(&incident.title).into_owned())
        .bind(incident.severity.as_str())
        .bind(stored_text(&incident.description).into_owned())
        .bind(actor.user_id.unwrap_or(0))
        .bind(&actor.name)
        .bind(ms(now))
        .fetch_one(&mut *tx)
        .await?;
        let record = load_incident(&mut tx, IncidentId(id), "").await?;
        write_timeline(&mut tx, &record, IncidentEvent::Opened, actor, now).await?;
        let draft = AuditDraft::new(
            actor,
            "incident.open",
            "incident",
            id,
            Value::Null,
            json!({"title": incident.title, "severity": incident.severity.as_str(), "status": "open"}),
        );
        self.append_audit(&mut tx, vec![draft], now).await?;
        tx.commit().await?;
        let mut conn = self.reader.acquire().await?;
        load_incident(&mut conn, IncidentId(id), "").await
    }

    async fn list_incidents(&self, limit: u32, offset: u32) -> StoreResult<Vec<IncidentRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {INCIDENT_COLUMNS} FROM incidents ORDER BY id DESC LIMIT $1 OFFSET $2"
        ))
        .bind(i64::from(limit.clamp(1, PAGE_SIZE_MAX)))
        .bind(i64::from(offset))
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(incident_of).collect()
    }

    async fn incident(&self, id: IncidentId) -> StoreResult<Option<IncidentRecord>> {
        let mut conn = self.reader.acquire().await?;
        match load_incident(&mut conn, id, "").await {
            Ok(record) => Ok(Some(record)),
            Err(StoreError::NotFound(_)) => Ok(None),
            Err(other) => Err(other),
        }
    }

    async fn incident_timeline(
        &self,
        id: IncidentId,
        limit: u32,
    ) -> StoreResult<Vec<TimelineRecord>> {
        let rows: Vec<(i64, String, String, String)> = sqlx::query_as(
            "SELECT at, actor, event, text FROM incident_timeline WHERE incident_id = $1 ORDER BY id LIMIT $2",
        )
        .bind(id.0)
        .bind(i64::from(limit.max(1)))
        .fetch_all(&self.reader)
        .await?;
        rows.into_iter()
            .map(|(at, actor, event, text)| {
                Ok(TimelineRecord {
                    at: time_from_ms(at, "at")?,
                    actor,
                    event,
                    text: unstored_text(text),
                })
            })
            .collect()
    }

    async fn incident_cases(
        &self,
        id: IncidentId,
        scope: &QueueScope,
        limit: u32,
        offset: u32,
    ) -> StoreResult<Vec<CaseRecord>> {
        let mut params = Params::default();
        let mut conditions = vec![format!(
            "id IN (SELECT case_id FROM incident_cases WHERE incident_id = {})",
            params.int(id.0)
        )];
        conditions.extend(scope_sql(scope, &mut params));
        let limit = params.int(i64::from(limit.clamp(1, PAGE_SIZE_MAX)));
        let offset = params.int(i64::from(offset));
        let sql = format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE {} ORDER BY id LIMIT {limit} OFFSET {offset}",
            conditions.join(" AND ")
        );
        let rows = bind_all(sqlx::query_as::<_, DbCase>(&sql), params)
            .fetch_all(&self.reader)
            .await?;
        Ok(records(rows))
    }

    async fn incident_case_facts(
        &self,
        id: IncidentId,
        scope: &QueueScope,
    ) -> StoreResult<Vec<IncidentCaseFacts>> {
        let mut params = Params::default();
        let mut conditions = vec![format!("ic.incident_id = {}", params.int(id.0))];
        // `queue` is a column of `cases` only, so the scope's condition reads unqualified.
        conditions.extend(scope_sql(scope, &mut params));
        let sql = format!(
            "SELECT c.id, c.subject_kind, c.subject_id, c.opened_at, c.status, s.owner_kind, s.owner_id FROM incident_cases ic JOIN cases c ON c.id = ic.case_id LEFT JOIN subjects s ON s.kind = c.subject_kind AND s.platform_id = c.subject_id WHERE {} ORDER BY c.id LIMIT {}",
            conditions.join(" AND "),
            INCIDENT_CASES_MAX
        );
        let mut query = sqlx::query(&sql);
        for param in params.0 {
            query = match param {
                super::cases::Param::Text(text) => query.bind(text),
                super::cases::Param::Int(number) => query.bind(number),
            };
        }
        let rows = query.fetch_all(&self.reader).await?;
        rows.iter().map(case_facts_of).collect()
    }

    async fn add_incident_cases(
        &self,
        actor: &Actor,
        id: IncidentId,
        membership: &Membership,
        filter: &CaseFilter,
        now: Timestamp,
    ) -> StoreResult<MembershipOutcome> {
        let mut tx = self.writer.begin().await?;
        let incident = load_incident(&mut tx, id, self.backend.for_update()).await?;
        let found = match membership {
            Membership::Ids(ids) => self.cases_in_scope(&mut tx, ids, &filter.scope).await?,
            Membership::Query(_) => self.cases_matching(&mut tx, filter).await?,
        };
        let members: Vec<(i64,)> =
            sqlx::query_as("SELECT case_id FROM incident_cases WHERE incident_id = $1")
                .bind(id.0)
                .fetch_all(&mut *tx)
                .await?;
        let current: std::collections::BTreeSet<i64> = members.iter().map(|(c,)| *c).collect();
        let facts = MembershipFacts {
            members: current.len(),
            already_members: found
                .iter()
                .copied()
                .filter(|c| current.contains(&c.0))
                .collect(),
            found,
        };
        let plan =
            plan_membership(membership, &facts).map_err(|e| refused(PlanError::Invalid(e)))?;
        self.insert_members(&mut tx, id, &plan.add, now).await?;
        let by_query = matches!(membership, Membership::Query(_));
        if !plan.add.is_empty() {
            let event = IncidentEvent::CasesJoined {
                added: plan.add.len(),
                by_query,
            };
            write_timeline(&mut tx, &incident, event, actor, now).await?;
        }
        let draft = AuditDraft::new(
            actor,
            "incident.cases_add",
            "incident",
            id.0,
            json!({"cases": current.len()}),
            json!({"cases": current.len() + plan.add.len(), "added": plan.add.len(), "already_members": plan.already_members, "by_query": by_query}),
        );
        self.append_audit(&mut tx, vec![draft], now).await?;
        tx.commit().await?;
        Ok(MembershipOutcome {
            members: current.len() + plan.add.len(),
            plan,
        })
    }

    async fn plan_bulk(
        &self,
        author: &BulkAuthor,
        command: &BulkCommand,
        stored: &Value,
        policy: &CasePolicy,
        now: Timestamp,
    ) -> StoreResult<BulkPlanned> {
        self.plan_bulk_action(author, command, stored, policy, now)
            .await
    }

    async fn approve_bulk(
        &self,
        actor: &Actor,
        approver: &Principal,
        bulk: BulkId,
        now: Timestamp,
    ) -> StoreResult<BulkActionRecord> {
        self.approve_bulk_action(actor, approver, bulk, now).await
    }

    async fn bulk_action(&self, bulk: BulkId) -> StoreResult<Option<BulkActionRecord>> {
        let mut conn = self.reader.acquire().await?;
        match load_bulk(&mut conn, bulk, "").await {
            Ok(record) => Ok(Some(record)),
            Err(StoreError::NotFound(_)) => Ok(None),
            Err(other) => Err(other),
        }
    }

    async fn incident_bulk_actions(&self, id: IncidentId) -> StoreResult<Vec<BulkActionRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {BULK_COLUMNS} FROM bulk_actions WHERE incident_id = $1 ORDER BY id DESC LIMIT {PAGE_SIZE_MAX}"
        ))
        .bind(id.0)
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(bulk_of).collect()
    }

    async fn bulk_skips(&self, bulk: BulkId, limit: u32) -> StoreResult<Vec<BulkSkipRecord>> {
        let rows: Vec<(i64, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT case_id, reason_code, reason FROM bulk_action_items WHERE bulk_id = $1 AND outcome = 'skipped' ORDER BY case_id LIMIT $2",
        )
        .bind(bulk.0)
        .bind(i64::from(limit.max(1)))
        .fetch_all(&self.reader)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(case, code, reason)| BulkSkipRecord {
                case_id: CaseId(case),
                code: code.unwrap_or_default(),
                reason: reason.map(unstored_text).unwrap_or_default(),
            })
            .collect())
    }

    async fn applying_bulk_actions(&self) -> StoreResult<Vec<BulkActionRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {BULK_COLUMNS} FROM bulk_actions WHERE status = 'applying' ORDER BY id LIMIT {PAGE_SIZE_MAX}"
        ))
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(bulk_of).collect()
    }

    async fn run_bulk_batch(
        &self,
        run: &BulkRun,
        policy: &CasePolicy,
        now: Timestamp,
    ) -> StoreResult<BulkBatch> {
        self.run_bulk_steps(run, policy, now).await
    }
}
