//! Turning rows into records, and free text into what the database holds.
//! A row that does not decode is a corrupt database, reported as a database
//! error naming the column.
//!
//! **Free text in storage.** Free text keeps every character, NUL included
//! (see `warden_domain::text`), but PostgreSQL's `text` cannot hold U+0000.
//! So free-text columns (subject and report text, hold and transition
//! reasons, reversal reasons, approval notes, platform details, the notes
//! of taxonomy versions) are written
//! through [`stored_text`] and read through [`text`]/[`text_opt`]: NUL is
//! stored as U+0001 followed by `0`, and U+0001 itself as U+0001 U+0001.
//! The escape is the same on both backends, so both hold the same bytes and
//! give the same answers; text without either character is stored
//! unchanged. JSON columns need nothing: serialised JSON writes NUL as the
//! six characters `\u0000`. Ids and names never reach the store with NUL:
//! the edge rule refuses them.

use std::borrow::Cow;
use std::str::FromStr;

use chrono::{TimeZone, Utc};
use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::Row;

use warden_domain::case::{CaseStatus, Severity};
use warden_domain::decision::Rationale;
use warden_domain::ids::{PlatformId, SubjectKind};
use warden_domain::{CaseId, SubjectRef, Timestamp};

use crate::{
    ActionRecord, CaseRecord, EventRecord, NoteRecord, ReportRecord, SignalRecord, StoreError,
    StoreResult, StrikeRecord, SubjectRecord, TransitionRecord, UserRecord,
};

/// Columns of `cases`, in the order [`case`] reads them.
pub(crate) const CASE_COLUMNS: &str = "id, subject_kind, subject_id, category, queue, severity, status, priority, version, assignee, assignee_id, lease_expires_at, held, hold_reason, language, opened_at, updated_at, first_touch_due_at, resolve_due_at, first_touched_at, resolved_at, report_count, signal_count";

/// Columns of `reports`.
pub(crate) const REPORT_COLUMNS: &str = "platform_id, subject_kind, subject_id, reason, source, reporter_kind, reporter_id, text, language, created_at, received_at, case_id";

/// Columns of `signals`.
pub(crate) const SIGNAL_COLUMNS: &str = "platform_id, subject_kind, subject_id, category, source, name, score, opens_case, details, created_at, case_id";

/// Columns of `actions`.
pub(crate) const ACTION_COLUMNS: &str = "id, decision_id, target_kind, target_id, action_type, feature, label, duration_seconds, expires_at, status, created_at";

/// Columns of `strikes`.
pub(crate) const STRIKE_COLUMNS: &str =
    "id, account_id, decision_id, category, weight, created_at, expires_at, voided_at";

/// Columns of `subjects`.
pub(crate) const SUBJECT_COLUMNS: &str = "kind, platform_id, owner_kind, owner_id, text, media, attributes, created_at, first_seen_at, updated_at";

/// Columns of `events`.
pub(crate) const EVENT_COLUMNS: &str = "platform_id, event_type, occurred_at, actor_kind, actor_id, subject_kind, subject_id, ip, device_id, data";

/// Columns of `users`.
pub(crate) const USER_COLUMNS: &str =
    "id, name, role, password_hash, disabled, created_at, failed_sign_ins, locked_until, teams";

fn corrupt(column: &str, reason: impl std::fmt::Display) -> StoreError {
    StoreError::Database(format!("stored value of {column} is unreadable: {reason}"))
}

pub(crate) fn get<'r, T>(row: &'r AnyRow, column: &str) -> StoreResult<T>
where
    T: sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    row.try_get(column).map_err(|e| corrupt(column, e))
}

pub(crate) fn time(row: &AnyRow, column: &str) -> StoreResult<Timestamp> {
    from_ms(get::<i64>(row, column)?, column)
}

pub(crate) fn time_opt(row: &AnyRow, column: &str) -> StoreResult<Option<Timestamp>> {
    get::<Option<i64>>(row, column)?
        .map(|v| from_ms(v, column))
        .transpose()
}

pub(crate) fn from_ms(value: i64, column: &str) -> StoreResult<Timestamp> {
    Utc.timestamp_millis_opt(value)
        .single()
        .ok_or_else(|| corrupt(column, "time out of range"))
}

pub(crate) fn flag(row: &AnyRow, column: &str) -> StoreResult<bool> {
    Ok(get::<i64>(row, column)? != 0)
}

/// The character that starts an escape in stored free text.
const TEXT_ESCAPE: char = '\u{1}';

/// Free text as it is stored: NUL as U+0001 `0`, U+0001 as U+0001 U+0001
/// (see the module documentation). Text without either is not copied.
pub(crate) fn stored_text(text: &str) -> Cow<'_, str> {
    if !text.contains(['\0', TEXT_ESCAPE]) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\0' => {
                out.push(TEXT_ESCAPE);
                out.push('0');
            }
            TEXT_ESCAPE => {
                out.push(TEXT_ESCAPE);
                out.push(TEXT_ESCAPE);
            }
            other => out.push(other),
        }
    }
    Cow::Owned(out)
}

/// Optional free text as it is stored.
pub(crate) fn stored_text_opt(text: Option<&str>) -> Option<String> {
    text.map(|t| stored_text(t).into_owned())
}

/// Free text as it was given, from its stored form. An escape character not
/// followed by `0` or another escape (text stored before the escape existed)
/// is kept as it is.
pub(crate) fn unstored_text(stored: String) -> String {
    if !stored.contains(TEXT_ESCAPE) {
        return stored;
    }
    let mut out = String::with_capacity(stored.len());
    let mut chars = stored.chars().peekable();
    while let Some(c) = chars.next() {
        if c == TEXT_ESCAPE {
            match chars.peek() {
                Some('0') => {
                    chars.next();
                    out.push('\0');
                }
                Some(&TEXT_ESCAPE) => {
                    chars.next();
                    out.push(TEXT_ESCAPE);
                }
                _ => out.push(c),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A free-text column, unescaped.
pub(crate) fn text(row: &AnyRow, column: &str) -> StoreResult<String> {
    get::<String>(row, column).map(unstored_text)
}

/// An optional free-text column, unescaped.
pub(crate) fn text_opt(row: &AnyRow, column: &str) -> StoreResult<Option<String>> {
    Ok(get::<Option<String>>(row, column)?.map(unstored_text))
}

pub(crate) fn json(row: &AnyRow, column: &str) -> StoreResult<Value> {
    let text: String = get(row, column)?;
    serde_json::from_str(&text).map_err(|e| corrupt(column, e))
}

pub(crate) fn parsed<T: FromStr<Err = String>>(row: &AnyRow, column: &str) -> StoreResult<T> {
    let text: String = get(row, column)?;
    text.parse().map_err(|e: String| corrupt(column, e))
}

pub(crate) fn reference(
    row: &AnyRow,
    kind_column: &str,
    id_column: &str,
) -> StoreResult<SubjectRef> {
    let kind: SubjectKind = parsed(row, kind_column)?;
    let id: String = get(row, id_column)?;
    let id = PlatformId::from_stored(id).map_err(|e| corrupt(id_column, e))?;
    Ok(SubjectRef::new(kind, id))
}

pub(crate) fn reference_opt(
    row: &AnyRow,
    kind_column: &str,
    id_column: &str,
) -> StoreResult<Option<SubjectRef>> {
    let kind: Option<String> = get(row, kind_column)?;
    if kind.is_none() {
        return Ok(None);
    }
    reference(row, kind_column, id_column).map(Some)
}

pub(crate) fn case(row: &AnyRow) -> StoreResult<CaseRecord> {
    let severity_rank: i64 = get(row, "severity")?;
    Ok(CaseRecord {
        id: CaseId(get(row, "id")?),
        subject: reference(row, "subject_kind", "subject_id")?,
        category: get(row, "category")?,
        queue: get(row, "queue")?,
        severity: Severity::from_rank(severity_rank)
            .ok_or_else(|| corrupt("severity", severity_rank))?,
        status: parsed::<CaseStatus>(row, "status")?,
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
    })
}

pub(crate) fn report(row: &AnyRow) -> StoreResult<ReportRecord> {
    Ok(ReportRecord {
        id: get(row, "platform_id")?,
        subject: reference(row, "subject_kind", "subject_id")?,
        reason: get(row, "reason")?,
        source: parsed(row, "source")?,
        reporter: reference_opt(row, "reporter_kind", "reporter_id")?,
        text: text_opt(row, "text")?,
        language: get(row, "language")?,
        created_at: time(row, "created_at")?,
        received_at: time(row, "received_at")?,
        case_id: get::<Option<i64>>(row, "case_id")?.map(CaseId),
    })
}

pub(crate) fn signal(row: &AnyRow) -> StoreResult<SignalRecord> {
    Ok(SignalRecord {
        id: get(row, "platform_id")?,
        subject: reference(row, "subject_kind", "subject_id")?,
        category: get(row, "category")?,
        source: get(row, "source")?,
        name: get(row, "name")?,
        score: get(row, "score")?,
        opens_case: flag(row, "opens_case")?,
        details: json(row, "details")?,
        created_at: time(row, "created_at")?,
        case_id: get::<Option<i64>>(row, "case_id")?.map(CaseId),
    })
}

pub(crate) fn transition(row: &AnyRow) -> StoreResult<TransitionRecord> {
    let from: Option<String> = get(row, "from_status")?;
    Ok(TransitionRecord {
        from: from
            .map(|s| s.parse().map_err(|e: String| corrupt("from_status", e)))
            .transpose()?,
        to: parsed(row, "to_status")?,
        actor: get(row, "actor")?,
        at: time(row, "at")?,
        reason: text_opt(row, "reason")?,
    })
}

pub(crate) fn action(row: &AnyRow) -> StoreResult<ActionRecord> {
    Ok(ActionRecord {
        id: get(row, "id")?,
        decision_id: get(row, "decision_id")?,
        target: reference(row, "target_kind", "target_id")?,
        action_type: get(row, "action_type")?,
        feature: get(row, "feature")?,
        label: get(row, "label")?,
        duration_seconds: get(row, "duration_seconds")?,
        expires_at: time_opt(row, "expires_at")?,
        status: parsed(row, "status")?,
        created_at: time(row, "created_at")?,
    })
}

pub(crate) fn strike(row: &AnyRow) -> StoreResult<StrikeRecord> {
    Ok(StrikeRecord {
        id: get(row, "id")?,
        account_id: get(row, "account_id")?,
        decision_id: get(row, "decision_id")?,
        category: get(row, "category")?,
        weight: get(row, "weight")?,
        created_at: time(row, "created_at")?,
        expires_at: time(row, "expires_at")?,
        voided_at: time_opt(row, "voided_at")?,
    })
}

pub(crate) fn rationale_from_json(value: &Value) -> Rationale {
    let section = |name: &str| {
        value
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    Rationale {
        what_happened: section("what_happened"),
        evidence: section("evidence"),
        policy: section("policy"),
        action: section("action"),
        next_steps: section("next_steps"),
    }
}

pub(crate) fn rationale_to_json(rationale: &Rationale) -> Value {
    serde_json::json!({
        "what_happened": rationale.what_happened,
        "evidence": rationale.evidence,
        "policy": rationale.policy,
        "action": rationale.action,
        "next_steps": rationale.next_steps,
    })
}

pub(crate) fn note(row: &AnyRow) -> StoreResult<NoteRecord> {
    Ok(NoteRecord {
        id: get(row, "id")?,
        case_id: CaseId(get(row, "case_id")?),
        author: get(row, "author")?,
        body: rationale_from_json(&json(row, "body")?),
        created_at: time(row, "created_at")?,
    })
}

pub(crate) fn subject(row: &AnyRow) -> StoreResult<SubjectRecord> {
    Ok(SubjectRecord {
        subject: reference(row, "kind", "platform_id")?,
        owner: reference_opt(row, "owner_kind", "owner_id")?,
        text: text_opt(row, "text")?,
        media: json(row, "media")?,
        attributes: json(row, "attributes")?,
        created_at: time_opt(row, "created_at")?,
        first_seen_at: time(row, "first_seen_at")?,
        updated_at: time(row, "updated_at")?,
    })
}

pub(crate) fn event(row: &AnyRow) -> StoreResult<EventRecord> {
    Ok(EventRecord {
        id: get(row, "platform_id")?,
        event_type: get(row, "event_type")?,
        occurred_at: time(row, "occurred_at")?,
        actor: reference_opt(row, "actor_kind", "actor_id")?,
        subject: reference_opt(row, "subject_kind", "subject_id")?,
        ip: get(row, "ip")?,
        device_id: get(row, "device_id")?,
        data: json(row, "data")?,
    })
}

pub(crate) fn user(row: &AnyRow) -> StoreResult<UserRecord> {
    Ok(UserRecord {
        id: get(row, "id")?,
        name: get(row, "name")?,
        role: parsed(row, "role")?,
        password_hash: get(row, "password_hash")?,
        disabled: flag(row, "disabled")?,
        created_at: time(row, "created_at")?,
        failed_sign_ins: get(row, "failed_sign_ins")?,
        locked_until: time_opt(row, "locked_until")?,
        teams: serde_json::from_value(json(row, "teams")?).map_err(|e| corrupt("teams", e))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_text_round_trips_through_its_stored_form() {
        for text in [
            "",
            "plain text",
            "a\u{0}b",
            "\u{0}",
            "\u{0}\u{0}0",
            "\u{1}",
            "\u{1}0",
            "\u{1}\u{1}",
            "\u{1}\u{0}\u{1}",
            "tab\tline\nright-to-left \u{202E} zero\u{200B}width",
        ] {
            let stored = stored_text(text);
            assert!(!stored.contains('\0'), "{text:?}");
            assert_eq!(unstored_text(stored.into_owned()), text, "{text:?}");
        }
        assert!(matches!(stored_text("plain"), Cow::Borrowed(_)));
        assert_eq!(stored_text("a\u{0}b"), "a\u{1}0b");
    }

    #[test]
    fn a_lone_escape_from_older_rows_is_kept() {
        assert_eq!(unstored_text("a\u{1}b".into()), "a\u{1}b");
        assert_eq!(unstored_text("a\u{1}".into()), "a\u{1}");
    }
}
