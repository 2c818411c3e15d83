//! Rows into records, in one place: each `Db*` wrapper implements sqlx's
//! `FromRow` for the `Any` driver, so a port reads
//! `sqlx::query_as::<_, DbCase>(…).fetch_optional(…).await?.map(|DbCase(c)| c)`
//! and never picks a column by hand.
//!
//! Status and kind columns decode into their enums (case status,
//! severity, action and delivery status, delivery kind, subject kind,
//! report source, role, scope, model status, notice and submission
//! status, action type, approval reasons, departures). A value Warden does
//! not know is a [`CorruptValue`] — `StoreError::Corrupt` naming the
//! table, the column and the value — never a default. Migration 0008 adds
//! `CHECK` constraints (triggers on SQLite) so the database refuses such
//! values on the way in; this is the check on the way out.
//!
//! The JSON Warden stores in text columns (rationales, a decision's
//! enforcement record, approval reasons) is written and read here too, so
//! both directions stay together.

use std::fmt;
use std::str::FromStr;

use chrono::{TimeZone, Utc};
use serde_json::{json, Value};
use sqlx::any::AnyRow;
use sqlx::{FromRow, Row};

use warden_domain::access::{Role, Scope};
use warden_domain::action::{ActionStatus, DeliveryStatus};
use warden_domain::appeal::{AppealOutcome, CaseKind};
use warden_domain::audit::{AuditEntry, StoredAuditRecord};
use warden_domain::case::{CaseStatus, Severity};
use warden_domain::decision::{ActionKind, Rationale};
use warden_domain::enforcement::{
    action_from_json, action_json, ApprovalReason, DeliveryFacts, Departure, EnforcementPolicy,
};
use warden_domain::ids::{PlatformId, SubjectKind};
use warden_domain::intake::ReportSource;
use warden_domain::notice::{is_template_action, NoticeTemplate, REVERSAL};
use warden_domain::webhook::DeliveryKind;
use warden_domain::{CaseId, SubjectRef, Timestamp};

use super::free_text::unstored_text;
use crate::{
    ActionDetail, ActionRecord, AppealItemRecord, AppealView, ApprovalOutcome, CaseRecord,
    DecisionEnforcement, DecisionRecord, DeliveryJob, DeliveryRecord, DsaStatementRecord,
    EventPosition, EventRecord, IntakeCounts, ModelStatus, ModelVersionRecord, NoteRecord,
    NoticeRecord, NoticeStatus, NoticeTemplateRecord, QueueStats, ReportRecord, ReversalRecord,
    RuleMode, RuleStats, SessionRecord, SignalRecord, StoreError, StrikeRecord, SubjectRecord,
    SubjectVerdict, SubmissionStatus, TaxonomyVersionRecord, TokenRecord, TransitionRecord,
    UserRecord,
};

// ------------------------------------------------------------ columns

/// Columns of `cases`, as [`DbCase`] reads them.
pub(crate) const CASE_COLUMNS: &str = "id, subject_kind, subject_id, category, queue, severity, status, priority, version, assignee, assignee_id, lease_expires_at, held, hold_reason, language, opened_at, updated_at, first_touch_due_at, resolve_due_at, first_touched_at, resolved_at, report_count, signal_count, kind";

/// Columns of `reports`.
pub(crate) const REPORT_COLUMNS: &str = "platform_id, subject_kind, subject_id, reason, source, reporter_kind, reporter_id, text, language, created_at, received_at, case_id";

/// Columns of `signals`.
pub(crate) const SIGNAL_COLUMNS: &str = "platform_id, subject_kind, subject_id, category, source, name, score, opens_case, details, created_at, case_id";

/// Columns of `case_transitions`.
pub(crate) const TRANSITION_COLUMNS: &str = "from_status, to_status, actor, at, reason";

/// Columns of `decisions`.
pub(crate) const DECISION_COLUMNS: &str = "id, case_id, subject_kind, subject_id, violation, category, policy, rationale, decided_by, decided_at, supersedes, superseded_by, enforcement, reversed_at, reversed_by, reversal_reason";

/// Columns of `actions`.
pub(crate) const ACTION_COLUMNS: &str = "id, decision_id, target_kind, target_id, action_type, feature, label, duration_seconds, expires_at, status, created_at";

/// Columns of an action joined with its decision (`a`, `d`), as
/// [`DbActionDetail`] reads them.
pub(crate) const ACTION_DETAIL_COLUMNS: &str = "a.id AS id, a.decision_id AS decision_id, a.target_kind AS target_kind, a.target_id AS target_id, a.action_type AS action_type, a.feature AS feature, a.label AS label, a.duration_seconds AS duration_seconds, a.expires_at AS expires_at, a.status AS status, a.created_at AS created_at, a.approval_reasons AS approval_reasons, a.approval_by AS approval_by, a.approval_at AS approval_at, a.approval_note AS approval_note, a.reversed_at AS reversed_at, a.reversed_by AS reversed_by, a.reversal_reason AS reversal_reason, a.status_detail AS status_detail, d.case_id AS case_id, d.category AS category, d.decided_by AS decided_by, d.decided_by_id AS decided_by_id, d.decided_at AS decided_at, d.taxonomy_version AS taxonomy_version, d.enforcement AS enforcement, d.reversed_at AS decision_reversed_at, d.reversed_by AS decision_reversed_by, d.reversal_reason AS decision_reversal_reason";

/// Columns of `strikes`.
pub(crate) const STRIKE_COLUMNS: &str =
    "id, account_id, decision_id, category, weight, created_at, expires_at, voided_at";

/// Columns of `notes`.
pub(crate) const NOTE_COLUMNS: &str = "id, case_id, author, body, created_at";

/// Columns of `subjects`.
pub(crate) const SUBJECT_COLUMNS: &str = "kind, platform_id, owner_kind, owner_id, text, media, attributes, created_at, first_seen_at, updated_at";

/// Columns of `events`.
pub(crate) const EVENT_COLUMNS: &str = "platform_id, event_type, occurred_at, actor_kind, actor_id, subject_kind, subject_id, ip, device_id, data";

/// Columns of `users`.
pub(crate) const USER_COLUMNS: &str =
    "id, name, role, password_hash, disabled, created_at, failed_sign_ins, locked_until, teams";

/// Columns of `api_tokens`, as [`DbToken`] reads them.
pub(crate) const TOKEN_COLUMNS: &str =
    "id, user_id, name, scope, created_at, revoked_at, minted_by";

/// Columns of `outbox`, as [`DbDelivery`] reads them.
pub(crate) const DELIVERY_COLUMNS: &str = "id, kind, action_id, notice_id, endpoint_key, idempotency_key, body, status, attempts, replays, next_attempt_at, last_error, last_status_code, platform_detail, created_at, updated_at, delivered_at, confirmed_at";

/// Columns of `notice_templates`, as [`DbTemplate`] reads them.
pub(crate) const TEMPLATE_COLUMNS: &str =
    "id, action_type, category, language, subject, body, updated_by, updated_at";

/// Columns of `notices`.
pub(crate) const NOTICE_COLUMNS: &str = "id, decision_id, action_id, template_id, recipient_kind, recipient_id, language, subject, body, status, refusal, created_at";

/// Columns of `dsa_statements`.
pub(crate) const STATEMENT_COLUMNS: &str = "id, decision_id, puid, statement, created_at, submission_status, submission_attempts, submitted_at, submission_error, database_uuid, permalink";

/// Columns of `taxonomy_versions`.
pub(crate) const VERSION_COLUMNS: &str = "version, document, note, created_by, created_at";

/// Columns of `audit_log`.
pub(crate) const AUDIT_COLUMNS: &str = "seq, at, actor, action, target_kind, target_id, before_state, after_state, previous_hash, hash";

/// Columns of an `audit_log` record the sealer reads (PostgreSQL).
pub(crate) const UNSEALED_AUDIT_COLUMNS: &str =
    "id, at, actor, action, target_kind, target_id, before_state, after_state";

/// Columns of `classifier_models` without the bytes, as [`DbModelVersion`] reads them.
pub(crate) const MODEL_COLUMNS: &str = "name, version, status, kind, metrics, model_bytes, sha256, note, created_by, created_at, status_changed_at";

// ------------------------------------------------------------ the error

/// A stored status or kind Warden does not know. Travels through sqlx as
/// a decode error and becomes [`StoreError::Corrupt`].
#[derive(Debug)]
pub(crate) struct CorruptValue {
    table: &'static str,
    column: String,
    value: String,
}

impl CorruptValue {
    pub(crate) fn into_store_error(self) -> StoreError {
        StoreError::Corrupt {
            table: self.table.to_string(),
            column: self.column,
            value: self.value,
        }
    }
}

impl fmt::Display for CorruptValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "stored value {:?} in {}.{} is not one Warden knows",
            self.value, self.table, self.column
        )
    }
}

impl std::error::Error for CorruptValue {}

type Decoded<T> = Result<T, sqlx::Error>;

fn corrupt(table: &'static str, column: &str, value: impl fmt::Display) -> sqlx::Error {
    sqlx::Error::Decode(Box::new(CorruptValue {
        table,
        column: column.to_string(),
        value: value.to_string(),
    }))
}

/// A value that does not decode at all (not a number, not JSON).
fn unreadable(column: &str, reason: impl fmt::Display) -> sqlx::Error {
    sqlx::Error::Decode(format!("stored value of {column} is unreadable: {reason}").into())
}

// ------------------------------------------------------------ columns by type

fn get<'r, T>(row: &'r AnyRow, column: &str) -> Decoded<T>
where
    T: sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    row.try_get(column)
}

/// A status or kind column: one of `T`'s stored names, or corrupt.
fn known<T: FromStr>(row: &AnyRow, table: &'static str, column: &str) -> Decoded<T> {
    let text: String = get(row, column)?;
    text.parse().map_err(|_| corrupt(table, column, text))
}

/// A status or kind column that may be NULL.
fn known_opt<T: FromStr>(row: &AnyRow, table: &'static str, column: &str) -> Decoded<Option<T>> {
    let text: Option<String> = get(row, column)?;
    text.map(|t| t.parse().map_err(|_| corrupt(table, column, t)))
        .transpose()
}

/// A severity, stored as its rank.
fn severity(row: &AnyRow, table: &'static str, column: &str) -> Decoded<Severity> {
    let rank: i64 = get(row, column)?;
    Severity::from_rank(rank).ok_or_else(|| corrupt(table, column, rank))
}

fn time(row: &AnyRow, column: &str) -> Decoded<Timestamp> {
    from_ms(get::<i64>(row, column)?, column)
}

fn time_opt(row: &AnyRow, column: &str) -> Decoded<Option<Timestamp>> {
    get::<Option<i64>>(row, column)?
        .map(|v| from_ms(v, column))
        .transpose()
}

fn from_ms(value: i64, column: &str) -> Decoded<Timestamp> {
    Utc.timestamp_millis_opt(value)
        .single()
        .ok_or_else(|| unreadable(column, "time out of range"))
}

/// A time as stored (milliseconds since the epoch), read from a scalar.
pub(crate) fn time_from_ms(value: i64, column: &str) -> crate::StoreResult<Timestamp> {
    Ok(from_ms(value, column)?)
}

fn flag(row: &AnyRow, column: &str) -> Decoded<bool> {
    Ok(get::<i64>(row, column)? != 0)
}

/// A free-text column, unescaped.
fn text(row: &AnyRow, column: &str) -> Decoded<String> {
    get::<String>(row, column).map(unstored_text)
}

/// An optional free-text column, unescaped.
fn text_opt(row: &AnyRow, column: &str) -> Decoded<Option<String>> {
    Ok(get::<Option<String>>(row, column)?.map(unstored_text))
}

fn json(row: &AnyRow, column: &str) -> Decoded<Value> {
    let text: String = get(row, column)?;
    serde_json::from_str(&text).map_err(|e| unreadable(column, e))
}

fn json_opt(row: &AnyRow, column: &str) -> Decoded<Option<Value>> {
    let text: Option<String> = get(row, column)?;
    text.map(|t| serde_json::from_str(&t).map_err(|e| unreadable(column, e)))
        .transpose()
}

fn reference(
    row: &AnyRow,
    table: &'static str,
    kind_column: &str,
    id_column: &str,
) -> Decoded<SubjectRef> {
    let kind: SubjectKind = known(row, table, kind_column)?;
    let id: String = get(row, id_column)?;
    let id = PlatformId::from_stored(id).map_err(|e| unreadable(id_column, e))?;
    Ok(SubjectRef::new(kind, id))
}

fn reference_opt(
    row: &AnyRow,
    table: &'static str,
    kind_column: &str,
    id_column: &str,
) -> Decoded<Option<SubjectRef>> {
    let kind: Option<String> = get(row, kind_column)?;
    if kind.is_none() {
        return Ok(None);
    }
    reference(row, table, kind_column, id_column).map(Some)
}

/// An action's type with its feature and label, checked: a type Warden
/// does not know, or a restriction without its feature, is corrupt.
fn action_type(
    row: &AnyRow,
    table: &'static str,
) -> Decoded<(String, Option<String>, Option<String>)> {
    let type_name: String = get(row, "action_type")?;
    let feature: Option<String> = get(row, "feature")?;
    let label: Option<String> = get(row, "label")?;
    ActionKind::from_stored(&type_name, feature.as_deref(), label.as_deref())
        .map_err(|_| corrupt(table, "action_type", &type_name))?;
    Ok((type_name, feature, label))
}

// ------------------------------------------------------------ stored JSON

/// A rationale as stored: a JSON object of its five sections.
pub(crate) fn rationale_to_json(rationale: &Rationale) -> Value {
    json!({
        "what_happened": rationale.what_happened,
        "evidence": rationale.evidence,
        "policy": rationale.policy,
        "action": rationale.action,
        "next_steps": rationale.next_steps,
    })
}

fn rationale_from_json(table: &'static str, column: &str, value: &Value) -> Decoded<Rationale> {
    let section = |name: &str| match value.get(name) {
        Some(Value::String(text)) => Ok(text.clone()),
        // Sections left empty may be stored as null or left out.
        None | Some(Value::Null) => Ok(String::new()),
        Some(other) => Err(corrupt(table, column, other)),
    };
    if !value.is_object() {
        return Err(corrupt(table, column, value));
    }
    Ok(Rationale {
        what_happened: section("what_happened")?,
        evidence: section("evidence")?,
        policy: section("policy")?,
        action: section("action")?,
        next_steps: section("next_steps")?,
    })
}

/// Approval reasons as stored: a JSON array of their codes.
pub(crate) fn reasons_json(reasons: &[ApprovalReason]) -> Value {
    json!(reasons.iter().map(ApprovalReason::code).collect::<Vec<_>>())
}

fn reasons_from_json(
    table: &'static str,
    column: &str,
    value: &Value,
) -> Decoded<Vec<ApprovalReason>> {
    let codes = value
        .as_array()
        .ok_or_else(|| corrupt(table, column, value))?;
    codes
        .iter()
        .map(|code| {
            code.as_str()
                .and_then(ApprovalReason::parse)
                .ok_or_else(|| corrupt(table, column, code))
        })
        .collect()
}

fn reference_json(subject: &SubjectRef) -> Value {
    json!({"kind": subject.kind.as_str(), "id": subject.id.as_str()})
}

/// The enforcement column of `decisions`, written.
pub(crate) fn enforcement_json(e: &DecisionEnforcement) -> Value {
    json!({
        "taxonomy_version": e.taxonomy_version,
        "severity": e.severity.as_str(),
        "reason_code": e.reason_code,
        "prior_strike_weight": e.prior_strike_weight,
        "account": e.account.as_ref().map(reference_json),
        "recommendation": e.recommendation.iter().map(action_json).collect::<Vec<_>>(),
        "departure": e.departure.map(Departure::as_str),
        "override_reason": e.override_reason,
        "approvals": e.approvals.iter().map(|(id, reasons)| json!({"action_id": id, "reasons": reasons_json(reasons)})).collect::<Vec<_>>(),
        "statement_id": e.statement_id,
    })
}

/// Reads the enforcement record of a decision: every field Warden writes
/// must be there and known.
struct EnforcementReader<'a> {
    value: &'a Value,
}

const ENFORCEMENT: (&str, &str) = ("decisions", "enforcement");

impl EnforcementReader<'_> {
    fn fail(&self, what: impl fmt::Display) -> sqlx::Error {
        corrupt(ENFORCEMENT.0, ENFORCEMENT.1, what)
    }

    fn field(&self, name: &str) -> Decoded<&Value> {
        self.value
            .get(name)
            .ok_or_else(|| self.fail(format!("no {name}")))
    }

    fn int(&self, name: &str) -> Decoded<i64> {
        let value = self.field(name)?;
        value.as_i64().ok_or_else(|| self.fail(value))
    }

    fn text_opt(&self, name: &str) -> Decoded<Option<String>> {
        match self.value.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(other) => Err(self.fail(other)),
        }
    }

    fn account(&self) -> Decoded<Option<SubjectRef>> {
        let value = match self.value.get("account") {
            None | Some(Value::Null) => return Ok(None),
            Some(value) => value,
        };
        let kind = value
            .get("kind")
            .and_then(Value::as_str)
            .and_then(|k| k.parse::<SubjectKind>().ok());
        let id = value
            .get("id")
            .and_then(Value::as_str)
            .and_then(|i| PlatformId::parse(i).ok());
        match (kind, id) {
            (Some(kind), Some(id)) => Ok(Some(SubjectRef::new(kind, id))),
            _ => Err(self.fail(value)),
        }
    }

    fn approvals(&self) -> Decoded<Vec<(i64, Vec<ApprovalReason>)>> {
        let list = self.field("approvals")?;
        let items = list.as_array().ok_or_else(|| self.fail(list))?;
        items
            .iter()
            .map(|item| {
                let id = item.get("action_id").and_then(Value::as_i64);
                match (id, item.get("reasons")) {
                    (Some(id), Some(reasons)) => Ok((
                        id,
                        reasons_from_json(ENFORCEMENT.0, ENFORCEMENT.1, reasons)?,
                    )),
                    _ => Err(self.fail(item)),
                }
            })
            .collect()
    }

    fn read(&self, reversal: Option<ReversalRecord>) -> Decoded<DecisionEnforcement> {
        let severity = self.field("severity")?;
        let recommendation = self.field("recommendation")?;
        let departure = self.text_opt("departure")?;
        Ok(DecisionEnforcement {
            taxonomy_version: self.int("taxonomy_version")?,
            severity: severity
                .as_str()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| self.fail(severity))?,
            reason_code: self.text_opt("reason_code")?,
            prior_strike_weight: self.int("prior_strike_weight")?,
            account: self.account()?,
            recommendation: recommendation
                .as_array()
                .ok_or_else(|| self.fail(recommendation))?
                .iter()
                .map(|a| action_from_json(a).map_err(|_| self.fail(a)))
                .collect::<Decoded<_>>()?,
            departure: departure
                .map(|d| Departure::parse(&d).ok_or_else(|| self.fail(&d)))
                .transpose()?,
            override_reason: self.text_opt("override_reason")?,
            approvals: self.approvals()?,
            statement_id: self.text_opt("statement_id")?,
            reversal,
        })
    }
}

/// The enforcement record of a decision row with the columns
/// `enforcement` and `{prefix}reversed_at`, `{prefix}reversed_by`,
/// `{prefix}reversal_reason`; `None` for decisions made before
/// enforcement existed.
fn decision_enforcement(row: &AnyRow, prefix: &str) -> Decoded<Option<DecisionEnforcement>> {
    let Some(value) = json_opt(row, "enforcement")? else {
        return Ok(None);
    };
    let reversal = reversal(row, prefix)?;
    EnforcementReader { value: &value }.read(reversal).map(Some)
}

fn reversal(row: &AnyRow, prefix: &str) -> Decoded<Option<ReversalRecord>> {
    let Some(at) = time_opt(row, &format!("{prefix}reversed_at"))? else {
        return Ok(None);
    };
    Ok(Some(ReversalRecord {
        by: get::<Option<String>>(row, &format!("{prefix}reversed_by"))?.unwrap_or_default(),
        at,
        reason: text_opt(row, &format!("{prefix}reversal_reason"))?.unwrap_or_default(),
    }))
}

fn enforcement_value(text: &str) -> Decoded<Value> {
    serde_json::from_str(text).map_err(|_| corrupt(ENFORCEMENT.0, ENFORCEMENT.1, text))
}

fn reason_code_of(text: Option<&str>) -> Decoded<Option<String>> {
    let Some(text) = text else { return Ok(None) };
    EnforcementReader {
        value: &enforcement_value(text)?,
    }
    .text_opt("reason_code")
}

/// A decision's enforcement record (as stored) with `statement_id` set.
pub(crate) fn enforcement_with_statement(text: &str, puid: &str) -> crate::StoreResult<Value> {
    let mut value = enforcement_value(text)?;
    value["statement_id"] = json!(puid);
    Ok(value)
}

// ------------------------------------------------------------ cases and intake

/// A row wrapper around the record it decodes into.
pub(crate) trait Wrapped {
    /// The record.
    type Record;

    /// The record, unwrapped.
    fn into_record(self) -> Self::Record;
}

/// The records of decoded rows.
pub(crate) fn records<W: Wrapped>(rows: Vec<W>) -> Vec<W::Record> {
    rows.into_iter().map(Wrapped::into_record).collect()
}

macro_rules! wrapper {
    ($(#[$doc:meta])* $name:ident($record:ty), |$row:ident| $body:expr) => {
        $(#[$doc])*
        pub(crate) struct $name(pub(crate) $record);

        impl<'r> FromRow<'r, AnyRow> for $name {
            fn from_row($row: &'r AnyRow) -> Decoded<Self> {
                Ok($name($body))
            }
        }

        impl Wrapped for $name {
            type Record = $record;

            fn into_record(self) -> $record {
                self.0
            }
        }
    };
}

wrapper!(
    /// A row of `cases` ([`CASE_COLUMNS`]).
    DbCase(CaseRecord),
    |row| CaseRecord {
        id: CaseId(get(row, "id")?),
        subject: reference(row, "cases", "subject_kind", "subject_id")?,
        category: get(row, "category")?,
        queue: get(row, "queue")?,
        severity: severity(row, "cases", "severity")?,
        status: known::<CaseStatus>(row, "cases", "status")?,
        priority: get(row, "priority")?,
        version: get(row, "version")?,
        assignee: get(row, "assignee")?,
        assignee_id: get(row, "assignee_id")?,
        lease_expires_at: time_opt(row, "lease_expires_at")?,
        held: flag(row, "held")?,
        hold_reason: text_opt(row, "hold_reason")?,
        language: get(row, "language")?,
        opened_at: time(row, "opened_at")?,
        updated_at: time(row, "updated_at")?,
        first_touch_due_at: time(row, "first_touch_due_at")?,
        resolve_due_at: time(row, "resolve_due_at")?,
        first_touched_at: time_opt(row, "first_touched_at")?,
        resolved_at: time_opt(row, "resolved_at")?,
        report_count: get(row, "report_count")?,
        signal_count: get(row, "signal_count")?,
        kind: known::<CaseKind>(row, "cases", "kind")?,
    }
);

/// The parts of an open case intake joins: its id, priority and severity.
pub(crate) struct DbOpenCase {
    pub(crate) id: CaseId,
    pub(crate) priority: i64,
    pub(crate) severity: Severity,
}

impl<'r> FromRow<'r, AnyRow> for DbOpenCase {
    fn from_row(row: &'r AnyRow) -> Decoded<Self> {
        Ok(DbOpenCase {
            id: CaseId(get(row, "id")?),
            priority: get(row, "priority")?,
            severity: severity(row, "cases", "severity")?,
        })
    }
}

wrapper!(
    /// A row of `reports` ([`REPORT_COLUMNS`]).
    DbReport(ReportRecord),
    |row| ReportRecord {
        id: get(row, "platform_id")?,
        subject: reference(row, "reports", "subject_kind", "subject_id")?,
        reason: get(row, "reason")?,
        source: known::<ReportSource>(row, "reports", "source")?,
        reporter: reference_opt(row, "reports", "reporter_kind", "reporter_id")?,
        text: text_opt(row, "text")?,
        language: get(row, "language")?,
        created_at: time(row, "created_at")?,
        received_at: time(row, "received_at")?,
        case_id: get::<Option<i64>>(row, "case_id")?.map(CaseId),
    }
);

wrapper!(
    /// A report's source alone.
    DbReportSource(ReportSource),
    |row| known::<ReportSource>(row, "reports", "source")?
);

wrapper!(
    /// A row of `signals` ([`SIGNAL_COLUMNS`]).
    DbSignal(SignalRecord),
    |row| SignalRecord {
        id: get(row, "platform_id")?,
        subject: reference(row, "signals", "subject_kind", "subject_id")?,
        category: get(row, "category")?,
        source: get(row, "source")?,
        name: get(row, "name")?,
        score: get(row, "score")?,
        opens_case: flag(row, "opens_case")?,
        details: json(row, "details")?,
        created_at: time(row, "created_at")?,
        case_id: get::<Option<i64>>(row, "case_id")?.map(CaseId),
    }
);

wrapper!(
    /// A row of `case_transitions` ([`TRANSITION_COLUMNS`]).
    DbTransition(TransitionRecord),
    |row| TransitionRecord {
        from: known_opt::<CaseStatus>(row, "case_transitions", "from_status")?,
        to: known::<CaseStatus>(row, "case_transitions", "to_status")?,
        actor: get(row, "actor")?,
        at: time(row, "at")?,
        reason: text_opt(row, "reason")?,
    }
);

wrapper!(
    /// A row of `notes` ([`NOTE_COLUMNS`]).
    DbNote(NoteRecord),
    |row| NoteRecord {
        id: get(row, "id")?,
        case_id: CaseId(get(row, "case_id")?),
        author: get(row, "author")?,
        body: rationale_from_json("notes", "body", &json(row, "body")?)?,
        created_at: time(row, "created_at")?,
    }
);

wrapper!(
    /// A row of `subjects` ([`SUBJECT_COLUMNS`]).
    DbSubject(SubjectRecord),
    |row| SubjectRecord {
        subject: reference(row, "subjects", "kind", "platform_id")?,
        owner: reference_opt(row, "subjects", "owner_kind", "owner_id")?,
        text: text_opt(row, "text")?,
        media: json(row, "media")?,
        attributes: json(row, "attributes")?,
        created_at: time_opt(row, "created_at")?,
        first_seen_at: time(row, "first_seen_at")?,
        updated_at: time(row, "updated_at")?,
    }
);

wrapper!(
    /// A row of `events` ([`EVENT_COLUMNS`]).
    DbEvent(EventRecord),
    |row| EventRecord {
        id: get(row, "platform_id")?,
        event_type: get(row, "event_type")?,
        occurred_at: time(row, "occurred_at")?,
        actor: reference_opt(row, "events", "actor_kind", "actor_id")?,
        subject: reference_opt(row, "events", "subject_kind", "subject_id")?,
        ip: get(row, "ip")?,
        device_id: get(row, "device_id")?,
        data: json(row, "data")?,
    }
);

wrapper!(
    /// A row of `events` with its position (`seq`, `txid`, then [`EVENT_COLUMNS`]).
    DbSequencedEvent((EventPosition, EventRecord)),
    |row| (
        EventPosition {
            txid: get(row, "txid")?,
            seq: get(row, "seq")?,
        },
        DbEvent::from_row(row)?.0
    )
);

wrapper!(
    /// Stored intake items, by kind.
    DbIntakeCounts(IntakeCounts),
    |row| IntakeCounts {
        subjects: get(row, "subjects")?,
        events: get(row, "events")?,
        reports: get(row, "reports")?,
        signals: get(row, "signals")?,
        cases: get(row, "cases")?,
    }
);

wrapper!(
    /// One queue's numbers.
    DbQueueStats(QueueStats),
    |row| QueueStats {
        queue: get(row, "queue")?,
        depth: get(row, "depth")?,
        unassigned: get(row, "unassigned")?,
        oldest_opened_at: time_opt(row, "oldest")?,
        resolution_breaches: get(row, "resolution_breaches")?,
        first_touch_breaches: get(row, "first_touch_breaches")?,
    }
);

// ------------------------------------------------------------ decisions and actions

wrapper!(
    /// A row of `decisions` ([`DECISION_COLUMNS`]), without its actions
    /// (the reader adds them).
    DbDecision(DecisionRecord),
    |row| DecisionRecord {
        id: get(row, "id")?,
        case_id: CaseId(get(row, "case_id")?),
        subject: reference(row, "decisions", "subject_kind", "subject_id")?,
        violation: flag(row, "violation")?,
        category: get(row, "category")?,
        policy: get(row, "policy")?,
        rationale: rationale_from_json("decisions", "rationale", &json(row, "rationale")?)?,
        decided_by: get(row, "decided_by")?,
        decided_at: time(row, "decided_at")?,
        supersedes: get(row, "supersedes")?,
        superseded_by: get(row, "superseded_by")?,
        actions: Vec::new(),
        enforcement: decision_enforcement(row, "")?,
    }
);

/// A stored decision as the planners' context needs it.
pub(crate) struct DbDecisionContext {
    pub(crate) case_id: CaseId,
    pub(crate) category: String,
    pub(crate) policy_id: Option<String>,
    pub(crate) rationale: Rationale,
    pub(crate) author: Option<i64>,
    pub(crate) taxonomy_version: Option<i64>,
    pub(crate) reason_code: Option<String>,
    pub(crate) reversed: bool,
    pub(crate) superseded_by: Option<i64>,
}

/// Columns [`DbDecisionContext`] reads.
pub(crate) const DECISION_CONTEXT_COLUMNS: &str = "case_id, category, policy, rationale, decided_by_id, taxonomy_version, enforcement, reversed_at, superseded_by";

impl<'r> FromRow<'r, AnyRow> for DbDecisionContext {
    fn from_row(row: &'r AnyRow) -> Decoded<Self> {
        let enforcement: Option<String> = get(row, "enforcement")?;
        let reason_code = reason_code_of(enforcement.as_deref())?;
        Ok(DbDecisionContext {
            case_id: CaseId(get(row, "case_id")?),
            category: get(row, "category")?,
            policy_id: get(row, "policy")?,
            rationale: rationale_from_json("decisions", "rationale", &json(row, "rationale")?)?,
            author: get(row, "decided_by_id")?,
            taxonomy_version: get(row, "taxonomy_version")?,
            reason_code,
            reversed: time_opt(row, "reversed_at")?.is_some(),
            superseded_by: get(row, "superseded_by")?,
        })
    }
}

wrapper!(
    /// A row of `actions` ([`ACTION_COLUMNS`]).
    DbAction(ActionRecord),
    |row| {
        let (action_type, feature, label) = action_type(row, "actions")?;
        ActionRecord {
            id: get(row, "id")?,
            decision_id: get(row, "decision_id")?,
            target: reference(row, "actions", "target_kind", "target_id")?,
            action_type,
            feature,
            label,
            duration_seconds: get(row, "duration_seconds")?,
            expires_at: time_opt(row, "expires_at")?,
            status: known::<ActionStatus>(row, "actions", "status")?,
            created_at: time(row, "created_at")?,
        }
    }
);

wrapper!(
    /// An action joined with its decision ([`ACTION_DETAIL_COLUMNS`]),
    /// without its deliveries (the reader adds them).
    DbActionDetail(ActionDetail),
    |row| {
        let action = DbAction::from_row(row)?.0;
        let approval_reasons = match json_opt(row, "approval_reasons")? {
            Some(value) => reasons_from_json("actions", "approval_reasons", &value)?,
            None => Vec::new(),
        };
        let approval = match time_opt(row, "approval_at")? {
            Some(at) => Some(ApprovalOutcome {
                approved: action.status != ActionStatus::Rejected,
                by: get::<Option<String>>(row, "approval_by")?.unwrap_or_default(),
                at,
                note: text_opt(row, "approval_note")?.unwrap_or_default(),
            }),
            None => None,
        };
        ActionDetail {
            case_id: CaseId(get(row, "case_id")?),
            category: get(row, "category")?,
            decided_by: get(row, "decided_by")?,
            decided_by_id: get(row, "decided_by_id")?,
            decided_at: time(row, "decided_at")?,
            approval_reasons,
            approval,
            reversal: reversal(row, "")?,
            status_detail: text_opt(row, "status_detail")?,
            deliveries: Vec::new(),
            enforcement: decision_enforcement(row, "decision_")?,
            action,
        }
    }
);

wrapper!(
    /// A row of `strikes` ([`STRIKE_COLUMNS`]).
    DbStrike(StrikeRecord),
    |row| StrikeRecord {
        id: get(row, "id")?,
        account_id: get(row, "account_id")?,
        decision_id: get(row, "decision_id")?,
        category: get(row, "category")?,
        weight: get(row, "weight")?,
        created_at: time(row, "created_at")?,
        expires_at: time(row, "expires_at")?,
        voided_at: time_opt(row, "voided_at")?,
    }
);

/// What a decision's planners read of its case's subject: owner, media
/// types, the date its content was created (or first seen), attributes.
pub(crate) struct DbSubjectFacts {
    pub(crate) owner: Option<SubjectRef>,
    pub(crate) media_types: Vec<String>,
    pub(crate) content_date: Timestamp,
    pub(crate) attributes: Value,
}

/// Columns [`DbSubjectFacts`] reads.
pub(crate) const SUBJECT_FACTS_COLUMNS: &str =
    "media, created_at, first_seen_at, owner_kind, owner_id, attributes";

impl<'r> FromRow<'r, AnyRow> for DbSubjectFacts {
    fn from_row(row: &'r AnyRow) -> Decoded<Self> {
        let media = json(row, "media")?;
        let items = media
            .as_array()
            .ok_or_else(|| unreadable("media", "not a JSON array"))?;
        let media_types = items
            .iter()
            .filter_map(|m| m.get("mime").and_then(Value::as_str))
            .map(str::to_string)
            .collect();
        let content_date = match time_opt(row, "created_at")? {
            Some(created) => created,
            None => time(row, "first_seen_at")?,
        };
        Ok(DbSubjectFacts {
            owner: reference_opt(row, "subjects", "owner_kind", "owner_id")?,
            media_types,
            content_date,
            attributes: json(row, "attributes")?,
        })
    }
}

wrapper!(
    /// A subject's attributes alone.
    DbAttributes(Value),
    |row| json(row, "attributes")?
);

wrapper!(
    /// An outbox row as a planner reads it.
    DbDeliveryFacts(DeliveryFacts),
    |row| DeliveryFacts {
        id: get(row, "id")?,
        kind: known::<DeliveryKind>(row, "outbox", "kind")?,
        status: known::<DeliveryStatus>(row, "outbox", "status")?,
        attempts: get(row, "attempts")?,
    }
);

wrapper!(
    /// A row of `notice_templates` as the planners use it.
    DbNoticeTemplate(NoticeTemplate),
    |row| NoticeTemplate {
        id: get(row, "id")?,
        action_type: template_action(row)?,
        category: get(row, "category")?,
        language: get(row, "language")?,
        subject: get(row, "subject")?,
        body: get(row, "body")?,
    }
);

fn template_action(row: &AnyRow) -> Decoded<String> {
    let action_type: String = get(row, "action_type")?;
    if is_template_action(&action_type) {
        Ok(action_type)
    } else {
        Err(corrupt("notice_templates", "action_type", action_type))
    }
}

wrapper!(
    /// A row of `notice_templates` ([`TEMPLATE_COLUMNS`]).
    DbTemplate(NoticeTemplateRecord),
    |row| NoticeTemplateRecord {
        id: get(row, "id")?,
        action_type: template_action(row)?,
        category: get(row, "category")?,
        language: get(row, "language")?,
        subject: get(row, "subject")?,
        body: get(row, "body")?,
        updated_by: get(row, "updated_by")?,
        updated_at: time(row, "updated_at")?,
    }
);

wrapper!(
    /// A row of `notices` ([`NOTICE_COLUMNS`]).
    DbNotice(NoticeRecord),
    |row| NoticeRecord {
        id: get(row, "id")?,
        decision_id: get(row, "decision_id")?,
        action_id: get(row, "action_id")?,
        template_id: get(row, "template_id")?,
        recipient: reference(row, "notices", "recipient_kind", "recipient_id")?,
        language: get(row, "language")?,
        subject: get(row, "subject")?,
        body: get(row, "body")?,
        status: known::<NoticeStatus>(row, "notices", "status")?.as_str().to_string(),
        refusal: match json_opt(row, "refusal")? {
            None => Vec::new(),
            Some(value) => serde_json::from_value(value.clone())
                .map_err(|_| corrupt("notices", "refusal", value))?,
        },
        created_at: time(row, "created_at")?,
    }
);

wrapper!(
    /// A row of `dsa_statements` ([`STATEMENT_COLUMNS`]).
    DbStatement(DsaStatementRecord),
    |row| DsaStatementRecord {
        id: get(row, "id")?,
        decision_id: get(row, "decision_id")?,
        puid: get(row, "puid")?,
        statement: json(row, "statement")?,
        created_at: time(row, "created_at")?,
        submission_status: known::<SubmissionStatus>(row, "dsa_statements", "submission_status")?
            .as_str()
            .to_string(),
        submission_attempts: get(row, "submission_attempts")?,
        submitted_at: time_opt(row, "submitted_at")?,
        submission_error: get(row, "submission_error")?,
        database_uuid: get(row, "database_uuid")?,
        permalink: get(row, "permalink")?,
    }
);

wrapper!(
    /// A row of `taxonomy_versions` ([`VERSION_COLUMNS`]).
    DbTaxonomyVersion(TaxonomyVersionRecord),
    |row| TaxonomyVersionRecord {
        version: get(row, "version")?,
        policy: EnforcementPolicy::from_json(&json(row, "document")?)
            .map_err(|e| unreadable("document", e))?,
        note: text(row, "note")?,
        created_by: get(row, "created_by")?,
        created_at: time(row, "created_at")?,
    }
);

// ------------------------------------------------------------ the outbox

wrapper!(
    /// A row of `outbox` ([`DELIVERY_COLUMNS`]).
    DbDelivery(DeliveryRecord),
    |row| DeliveryRecord {
        id: get(row, "id")?,
        kind: known::<DeliveryKind>(row, "outbox", "kind")?,
        action_id: get(row, "action_id")?,
        notice_id: get(row, "notice_id")?,
        endpoint_key: get(row, "endpoint_key")?,
        idempotency_key: get(row, "idempotency_key")?,
        body: json(row, "body")?,
        status: known::<DeliveryStatus>(row, "outbox", "status")?,
        attempts: get(row, "attempts")?,
        replays: get(row, "replays")?,
        next_attempt_at: time(row, "next_attempt_at")?,
        last_error: get(row, "last_error")?,
        last_status_code: get(row, "last_status_code")?,
        platform_detail: text_opt(row, "platform_detail")?,
        created_at: time(row, "created_at")?,
        updated_at: time(row, "updated_at")?,
        delivered_at: time_opt(row, "delivered_at")?,
        confirmed_at: time_opt(row, "confirmed_at")?,
    }
);

wrapper!(
    /// An outbox row as a worker leases it.
    DbDeliveryJob(DeliveryJob),
    |row| DeliveryJob {
        id: get(row, "id")?,
        kind: known::<DeliveryKind>(row, "outbox", "kind")?,
        endpoint_key: get(row, "endpoint_key")?,
        idempotency_key: get(row, "idempotency_key")?,
        body: get(row, "body")?,
        attempts: get(row, "attempts")?,
    }
);

/// A leased outbox row as finishing it needs: what it tells, its action,
/// the attempts made.
pub(crate) struct DbLeasedDelivery {
    pub(crate) id: i64,
    pub(crate) kind: DeliveryKind,
    pub(crate) action_id: Option<i64>,
    pub(crate) attempts: i64,
}

impl<'r> FromRow<'r, AnyRow> for DbLeasedDelivery {
    fn from_row(row: &'r AnyRow) -> Decoded<Self> {
        Ok(DbLeasedDelivery {
            id: get(row, "id")?,
            kind: known::<DeliveryKind>(row, "outbox", "kind")?,
            action_id: get(row, "action_id")?,
            attempts: get(row, "attempts")?,
        })
    }
}

wrapper!(
    /// Outbox rows of one status.
    DbStatusCount((String, i64)),
    |row| (
        known::<DeliveryStatus>(row, "outbox", "status")?.as_str().to_string(),
        get(row, "n")?,
    )
);

// ------------------------------------------------------------ accounts

wrapper!(
    /// A row of `users` ([`USER_COLUMNS`]).
    DbUser(UserRecord),
    |row| UserRecord {
        id: get(row, "id")?,
        name: get(row, "name")?,
        role: known::<Role>(row, "users", "role")?,
        password_hash: get(row, "password_hash")?,
        disabled: flag(row, "disabled")?,
        created_at: time(row, "created_at")?,
        failed_sign_ins: get(row, "failed_sign_ins")?,
        locked_until: time_opt(row, "locked_until")?,
        teams: {
            let teams = json(row, "teams")?;
            serde_json::from_value(teams.clone()).map_err(|_| corrupt("users", "teams", teams))?
        },
    }
);

wrapper!(
    /// A row of `api_tokens` ([`TOKEN_COLUMNS`]).
    DbToken(TokenRecord),
    |row| TokenRecord {
        id: get(row, "id")?,
        user_id: get(row, "user_id")?,
        name: get(row, "name")?,
        scope: known::<Scope>(row, "api_tokens", "scope")?,
        created_at: time(row, "created_at")?,
        revoked_at: time_opt(row, "revoked_at")?,
        minted_by: get(row, "minted_by")?,
    }
);

/// Columns [`DbTokenUser`] reads: the token's (aliased) and its user's.
pub(crate) const TOKEN_USER_COLUMNS: &str = "t.id AS token_id, t.user_id, t.name AS token_name, t.scope, t.created_at AS token_created_at, t.revoked_at, t.minted_by, u.id, u.name, u.role, u.password_hash, u.disabled, u.created_at, u.failed_sign_ins, u.locked_until, u.teams";

wrapper!(
    /// A token joined with its user ([`TOKEN_USER_COLUMNS`]).
    DbTokenUser((TokenRecord, UserRecord)),
    |row| {
        let token = TokenRecord {
            id: get(row, "token_id")?,
            user_id: get(row, "user_id")?,
            name: get(row, "token_name")?,
            scope: known::<Scope>(row, "api_tokens", "scope")?,
            created_at: time(row, "token_created_at")?,
            revoked_at: time_opt(row, "revoked_at")?,
            minted_by: get(row, "minted_by")?,
        };
        (token, DbUser::from_row(row)?.0)
    }
);

/// Columns [`DbSessionUser`] reads: the session's (aliased) and its user's.
pub(crate) const SESSION_USER_COLUMNS: &str = "s.csrf_token, s.expires_at AS session_expires_at, u.id, u.name, u.role, u.password_hash, u.disabled, u.created_at, u.failed_sign_ins, u.locked_until, u.teams";

wrapper!(
    /// A session joined with its user ([`SESSION_USER_COLUMNS`]).
    DbSessionUser((SessionRecord, UserRecord)),
    |row| {
        let user = DbUser::from_row(row)?.0;
        let session = SessionRecord {
            user_id: user.id,
            csrf_token: get(row, "csrf_token")?,
            expires_at: time(row, "session_expires_at")?,
        };
        (session, user)
    }
);

// ------------------------------------------------------------ audit, detection, models

wrapper!(
    /// A row of `audit_log` ([`AUDIT_COLUMNS`]).
    DbAuditRecord(StoredAuditRecord),
    |row| StoredAuditRecord {
        entry: AuditEntry {
            seq: get(row, "seq")?,
            at_ms: get(row, "at")?,
            actor: get(row, "actor")?,
            action: get(row, "action")?,
            target_kind: get(row, "target_kind")?,
            target_id: get(row, "target_id")?,
            before: json(row, "before_state")?,
            after: json(row, "after_state")?,
        },
        previous_hash: get(row, "previous_hash")?,
        hash: get(row, "hash")?,
    }
);

wrapper!(
    /// The last record of the audit chain: its position and hash.
    DbChainEnd((i64, String)),
    |row| (get(row, "seq")?, get(row, "hash")?)
);

wrapper!(
    /// A PostgreSQL audit record not sealed yet: its id and its content,
    /// whose `seq` (0 here) the sealer assigns ([`UNSEALED_AUDIT_COLUMNS`]).
    DbUnsealedAudit((i64, AuditEntry)),
    |row| (
        get(row, "id")?,
        AuditEntry {
            seq: 0,
            at_ms: get(row, "at")?,
            actor: get(row, "actor")?,
            action: get(row, "action")?,
            target_kind: get(row, "target_kind")?,
            target_id: get(row, "target_id")?,
            before: json(row, "before_state")?,
            after: json(row, "after_state")?,
        }
    )
);

wrapper!(
    /// One rule's hits.
    DbRuleStats(RuleStats),
    |row| RuleStats {
        rule_id: get(row, "rule_id")?,
        version: get(row, "version")?,
        hits: get(row, "hits")?,
        acted: get(row, "acted")?,
        latest_mode: known::<RuleMode>(row, "rule_versions", "mode")?
            .as_str()
            .to_string(),
        latest_at: time(row, "created_at")?,
    }
);

wrapper!(
    /// The latest decision about a subject.
    DbSubjectVerdict(SubjectVerdict),
    |row| SubjectVerdict {
        subject: reference(row, "decisions", "subject_kind", "subject_id")?,
        violation: flag(row, "violation")?,
        category: get(row, "category")?,
    }
);

wrapper!(
    /// A row of `classifier_models` without its bytes ([`MODEL_COLUMNS`]).
    DbModelVersion(ModelVersionRecord),
    |row| ModelVersionRecord {
        name: get(row, "name")?,
        version: get(row, "version")?,
        status: known::<ModelStatus>(row, "classifier_models", "status")?,
        kind: get(row, "kind")?,
        metrics: json(row, "metrics")?,
        size_bytes: get(row, "model_bytes")?,
        sha256: get(row, "sha256")?,
        note: get(row, "note")?,
        created_by: get(row, "created_by")?,
        created_at: time(row, "created_at")?,
        status_changed_at: time(row, "status_changed_at")?,
    }
);

wrapper!(
    /// A decision with the texts it may have judged, for learning from
    /// decisions (`decision_judgements`): the subject's text and the newest
    /// earlier event's `data` (its `text` is taken when it is a string).
    DbJudgement(warden_classifier::Judgement),
    |row| warden_classifier::Judgement {
        decision_id: get(row, "id")?,
        subject: format!(
            "{}/{}",
            get::<String>(row, "subject_kind")?,
            get::<String>(row, "subject_id")?
        ),
        violation: flag(row, "violation")?,
        category: get(row, "category")?,
        superseded: get::<Option<i64>>(row, "superseded_by")?.is_some(),
        reversed: get::<Option<i64>>(row, "reversed_at")?.is_some(),
        subject_text: text_opt(row, "subject_text")?,
        event_text: json_opt(row, "event_data")?.and_then(|data| match data.get("text") {
            Some(Value::String(text)) => Some(text.clone()),
            _ => None,
        }),
    }
);

/// A row of `classifier_models` with its bytes ([`MODEL_COLUMNS`], `model`).
pub(crate) struct DbModel {
    pub(crate) record: ModelVersionRecord,
    pub(crate) bytes: Vec<u8>,
}

impl<'r> FromRow<'r, AnyRow> for DbModel {
    fn from_row(row: &'r AnyRow) -> Decoded<Self> {
        Ok(DbModel {
            record: DbModelVersion::from_row(row)?.0,
            bytes: get(row, "model")?,
        })
    }
}

// ------------------------------------------------------------ transparency

/// An action ordered in a period, with what a transparency report counts.
pub(crate) struct DbActionFact {
    pub(crate) id: i64,
    pub(crate) category: String,
    pub(crate) action_type: String,
    pub(crate) signal_count: i64,
    pub(crate) automated_reports: i64,
    pub(crate) first_source: Option<ReportSource>,
    pub(crate) decided_by_id: Option<i64>,
    pub(crate) first_report_at: Option<Timestamp>,
    pub(crate) ordered_at: Timestamp,
}

impl<'r> FromRow<'r, AnyRow> for DbActionFact {
    fn from_row(row: &'r AnyRow) -> Decoded<Self> {
        Ok(DbActionFact {
            id: get(row, "id")?,
            category: get(row, "category")?,
            action_type: action_type_name(row)?,
            signal_count: get(row, "signal_count")?,
            automated_reports: get(row, "automated_reports")?,
            first_source: known_opt::<ReportSource>(row, "reports", "first_source")?,
            decided_by_id: get(row, "decided_by_id")?,
            first_report_at: time_opt(row, "first_report_at")?,
            ordered_at: time(row, "created_at")?,
        })
    }
}

/// An action's type alone, checked (rows without feature and label columns).
fn action_type_name(row: &AnyRow) -> Decoded<String> {
    let type_name: String = get(row, "action_type")?;
    if is_template_action(&type_name) && type_name != REVERSAL {
        Ok(type_name)
    } else {
        Err(corrupt("actions", "action_type", type_name))
    }
}

/// An action reversed in a period.
pub(crate) struct DbReversalFact {
    pub(crate) id: i64,
    pub(crate) category: String,
    pub(crate) action_type: String,
}

impl<'r> FromRow<'r, AnyRow> for DbReversalFact {
    fn from_row(row: &'r AnyRow) -> Decoded<Self> {
        Ok(DbReversalFact {
            id: get(row, "id")?,
            category: get(row, "category")?,
            action_type: action_type_name(row)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_error(error: sqlx::Error) -> StoreError {
        StoreError::from(error)
    }

    #[test]
    fn an_unknown_value_is_a_corrupt_error_naming_table_column_and_value() {
        let error = store_error(corrupt("cases", "status", "archived"));
        match error {
            StoreError::Corrupt {
                table,
                column,
                value,
            } => {
                assert_eq!(
                    (table.as_str(), column.as_str(), value.as_str()),
                    ("cases", "status", "archived")
                );
            }
            other => panic!("expected Corrupt, got {other:?}"),
        }
        let other = store_error(unreadable("at", "time out of range"));
        assert!(matches!(other, StoreError::Database(_)), "{other:?}");
    }

    #[test]
    fn enforcement_records_with_unknown_values_are_refused() {
        let good = json!({
            "taxonomy_version": 3, "severity": "high", "reason_code": null,
            "prior_strike_weight": 2, "account": {"kind": "account", "id": "u1"},
            "recommendation": [{"type": "warn"}], "departure": null,
            "override_reason": null, "approvals": [{"action_id": 7, "reasons": []}],
            "statement_id": null,
        });
        let read = EnforcementReader { value: &good }.read(None).unwrap();
        assert_eq!(read.taxonomy_version, 3);
        assert_eq!(read.severity, Severity::High);
        assert_eq!(read.approvals, vec![(7, Vec::new())]);
        for (field, bad) in [
            ("severity", json!("dire")),
            ("departure", json!("sideways")),
            ("account", json!({"kind": "planet", "id": "x"})),
            ("recommendation", json!([{"type": "smite"}])),
            (
                "approvals",
                json!([{"action_id": 7, "reasons": ["because"]}]),
            ),
            ("taxonomy_version", json!("three")),
        ] {
            let mut value = good.clone();
            value[field] = bad;
            let error = EnforcementReader { value: &value }.read(None).unwrap_err();
            assert!(
                matches!(store_error(error), StoreError::Corrupt { ref column, .. } if column == "enforcement"),
                "{field}"
            );
        }
        let mut missing = good.clone();
        missing
            .as_object_mut()
            .unwrap()
            .remove("prior_strike_weight");
        assert!(EnforcementReader { value: &missing }.read(None).is_err());
    }

    #[test]
    fn rationales_and_reasons_round_trip_and_unknown_reasons_are_refused() {
        let rationale = Rationale {
            what_happened: "spam".into(),
            evidence: "links".into(),
            policy: "4.2".into(),
            action: "remove".into(),
            next_steps: String::new(),
        };
        let stored = rationale_to_json(&rationale);
        assert_eq!(
            rationale_from_json("notes", "body", &stored).unwrap(),
            rationale
        );
        assert!(rationale_from_json("notes", "body", &json!("text")).is_err());
        let reasons = vec![
            ApprovalReason::BeyondMatrix,
            ApprovalReason::ProtectedAccount("press".into()),
        ];
        let stored = reasons_json(&reasons);
        assert_eq!(
            reasons_from_json("actions", "approval_reasons", &stored).unwrap(),
            reasons
        );
        assert!(reasons_from_json("actions", "approval_reasons", &json!(["whim"])).is_err());
    }
}

// ------------------------------------------------------------ escalations

mod escalation;

pub(crate) use escalation::{DbEscalation, DbEvidence, ESCALATION_COLUMNS, EVIDENCE_COLUMNS};

// ------------------------------------------------------------ quality

mod kpi;
mod quality;

pub(crate) use kpi::{
    DbKpiAction, DbKpiAppeal, DbKpiBreak, DbKpiDecision, DbKpiExposure, DbKpiFirstTouch,
    DbKpiOpenCase, DbKpiQaReview,
};
pub(crate) use quality::{
    plan_json, rubric_json, verdict_json, DbDecisionToSample, DbQaPlan, DbQaRow, DbResolutionNote,
    DbSessionRow, DbStratumCount, QA_COLUMNS, SESSION_COLUMNS,
};

/// Columns of `appeals`, as [`DbAppeal`] reads them.
pub(crate) const APPEAL_COLUMNS: &str = "id, case_id, decision_id, original_case_id, decider_id, decider_role, outcome, reviewer, rationale, replacement_decision_id, opened_at, decided_at";

/// Columns of `appeal_items`, as [`DbAppealItem`] reads them.
pub(crate) const APPEAL_ITEM_COLUMNS: &str = "appeal_id, platform_id, action_id, appellant_kind, appellant_id, statement, language, appealed_at, received_at";

wrapper!(
    /// A row of `appeals` ([`APPEAL_COLUMNS`]), without its items.
    DbAppeal(AppealView),
    |row| AppealView {
        id: get(row, "id")?,
        case_id: CaseId(get(row, "case_id")?),
        decision_id: get(row, "decision_id")?,
        original_case_id: CaseId(get(row, "original_case_id")?),
        decider_id: get(row, "decider_id")?,
        decider_role: known_opt::<Role>(row, "appeals", "decider_role")?,
        outcome: known_opt::<AppealOutcome>(row, "appeals", "outcome")?,
        reviewer: get(row, "reviewer")?,
        rationale: match json_opt(row, "rationale")? {
            None => None,
            Some(value) => Some(rationale_from_json("appeals", "rationale", &value)?),
        },
        replacement_decision_id: get(row, "replacement_decision_id")?,
        opened_at: time(row, "opened_at")?,
        decided_at: time_opt(row, "decided_at")?,
        items: Vec::new(),
    }
);

wrapper!(
    /// A row of `appeal_items` ([`APPEAL_ITEM_COLUMNS`]) with its appeal's id.
    DbAppealItem((i64, AppealItemRecord)),
    |row| (
        get(row, "appeal_id")?,
        AppealItemRecord {
            platform_id: get(row, "platform_id")?,
            action_id: get(row, "action_id")?,
            appellant: reference(row, "appeal_items", "appellant_kind", "appellant_id")?,
            statement: text(row, "statement")?,
            language: get(row, "language")?,
            appealed_at: time(row, "appealed_at")?,
            received_at: time(row, "received_at")?,
        }
    )
);

/// Columns [`DbAppealedDecision`] reads: a decision with its case's
/// severity and its decider's role (`d`, `c`, `u`).
pub(crate) const APPEALED_DECISION_COLUMNS: &str = "d.id, d.case_id, d.category, d.decided_at, d.decided_by_id, d.subject_kind, d.subject_id, d.reversed_at, d.superseded_by, c.severity, u.role AS decider_role";

/// A decision an appeal names, without its actions.
pub(crate) struct DbAppealedDecision(pub(crate) warden_domain::appeal::AppealedDecision);

impl<'r> FromRow<'r, AnyRow> for DbAppealedDecision {
    fn from_row(row: &'r AnyRow) -> Decoded<Self> {
        use warden_domain::appeal::{AppealParty, AppealedDecision};
        use warden_domain::ids::{DecisionId, UserId};
        let decider: Option<i64> = get(row, "decided_by_id")?;
        // A decider whose user row is gone counts as a lead: only a lead
        // reviews their decision (the strictest reading).
        let role = known_opt::<Role>(row, "users", "decider_role")?.unwrap_or(Role::Lead);
        Ok(DbAppealedDecision(AppealedDecision {
            id: DecisionId(get(row, "id")?),
            case: CaseId(get(row, "case_id")?),
            category: get(row, "category")?,
            severity: severity(row, "cases", "severity")?,
            decided_at: time(row, "decided_at")?,
            actions: Vec::new(),
            decider: decider.map(|id| AppealParty {
                user: UserId(id),
                role,
            }),
            subject: reference(row, "decisions", "subject_kind", "subject_id")?,
            reversed: time_opt(row, "reversed_at")?.is_some(),
            superseded_by: get::<Option<i64>>(row, "superseded_by")?.map(DecisionId),
        }))
    }
}
