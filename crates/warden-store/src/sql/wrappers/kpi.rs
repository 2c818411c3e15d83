//! Rows of the KPI fact queries (`sql/kpis.rs`): each names its columns
//! and decodes them; the fact loader turns them into
//! `warden_domain::kpi::facts` records. Every row has a `key`, the
//! (time, id) pair its query pages by.

use sqlx::any::AnyRow;
use sqlx::FromRow;

use warden_domain::appeal::AppealOutcome;
use warden_domain::case::Severity;
use warden_domain::Timestamp;

use super::{corrupt, flag, get, known_opt, severity, time, time_opt, Decoded};

/// A decision in the window with its case and later fates.
pub(crate) struct DbKpiDecision {
    pub(crate) id: i64,
    pub(crate) case_id: i64,
    pub(crate) queue: String,
    pub(crate) category: String,
    /// The decider's name; `None` for an automated decision.
    pub(crate) decider: Option<String>,
    pub(crate) violation: bool,
    /// Whether it is a case resolution (not a correction, on a report case).
    pub(crate) resolution: bool,
    pub(crate) severity: Severity,
    pub(crate) opened_at: Timestamp,
    pub(crate) first_touched_at: Option<Timestamp>,
    pub(crate) resolve_due_at: Timestamp,
    pub(crate) decided_at: Timestamp,
    pub(crate) superseded_at: Option<Timestamp>,
    pub(crate) qa_rework_at: Option<Timestamp>,
    pub(crate) reopened_at: Option<Timestamp>,
    pub(crate) reversed_at: Option<Timestamp>,
    pub(crate) violation_found_at: Option<Timestamp>,
}

/// The earliest of some optional times.
fn earliest(times: [Option<Timestamp>; 3]) -> Option<Timestamp> {
    times.into_iter().flatten().min()
}

impl<'r> FromRow<'r, AnyRow> for DbKpiDecision {
    fn from_row(row: &'r AnyRow) -> Decoded<Self> {
        let decider_id: Option<i64> = get(row, "decided_by_id")?;
        let decider: String = get(row, "decided_by")?;
        let supersedes: Option<i64> = get(row, "supersedes")?;
        let kind: String = get(row, "kind")?;
        Ok(DbKpiDecision {
            id: get(row, "id")?,
            case_id: get(row, "case_id")?,
            queue: get(row, "queue")?,
            category: get(row, "category")?,
            decider: decider_id.map(|_| decider),
            violation: flag(row, "violation")?,
            resolution: supersedes.is_none() && kind == "report",
            severity: severity(row, "cases", "severity")?,
            opened_at: time(row, "opened_at")?,
            first_touched_at: time_opt(row, "first_touched_at")?,
            resolve_due_at: time(row, "resolve_due_at")?,
            decided_at: time(row, "decided_at")?,
            superseded_at: time_opt(row, "superseded_at")?,
            qa_rework_at: time_opt(row, "qa_rework_at")?,
            reopened_at: time_opt(row, "reopened_at")?,
            reversed_at: earliest([
                time_opt(row, "reversed_at")?,
                time_opt(row, "action_reversed_at")?,
                time_opt(row, "appeal_reversed_at")?,
            ]),
            violation_found_at: time_opt(row, "violation_found_at")?,
        })
    }
}

/// A case first touched in the window.
pub(crate) struct DbKpiFirstTouch {
    pub(crate) id: i64,
    pub(crate) queue: String,
    pub(crate) category: String,
    pub(crate) toucher: Option<String>,
    pub(crate) opened_at: Timestamp,
    pub(crate) touched_at: Timestamp,
    pub(crate) first_touch_due_at: Timestamp,
}

impl<'r> FromRow<'r, AnyRow> for DbKpiFirstTouch {
    fn from_row(row: &'r AnyRow) -> Decoded<Self> {
        Ok(DbKpiFirstTouch {
            id: get(row, "id")?,
            queue: get(row, "queue")?,
            category: get(row, "category")?,
            toucher: get(row, "toucher")?,
            opened_at: time(row, "opened_at")?,
            touched_at: time(row, "first_touched_at")?,
            first_touch_due_at: time(row, "first_touch_due_at")?,
        })
    }
}

/// An appeal received or decided in the window, with the appealed
/// decision's queue, category and decider.
pub(crate) struct DbKpiAppeal {
    pub(crate) id: i64,
    pub(crate) queue: String,
    pub(crate) category: String,
    pub(crate) decider: Option<String>,
    pub(crate) received_at: Timestamp,
    pub(crate) decided: Option<(Timestamp, AppealOutcome)>,
}

impl<'r> FromRow<'r, AnyRow> for DbKpiAppeal {
    fn from_row(row: &'r AnyRow) -> Decoded<Self> {
        let decider_id: Option<i64> = get(row, "decided_by_id")?;
        let decider: String = get(row, "decided_by")?;
        let outcome: Option<AppealOutcome> = known_opt(row, "appeals", "outcome")?;
        let decided_at = time_opt(row, "appeal_decided_at")?;
        Ok(DbKpiAppeal {
            id: get(row, "id")?,
            queue: get(row, "queue")?,
            category: get(row, "category")?,
            decider: decider_id.map(|_| decider),
            received_at: time(row, "received_at")?,
            decided: decided_at.zip(outcome),
        })
    }
}

/// A QA review scored in the window: the decider and the rubric's two
/// answers KPIs use.
pub(crate) struct DbKpiQaReview {
    pub(crate) decision_id: i64,
    pub(crate) queue: String,
    pub(crate) category: String,
    pub(crate) decider: String,
    pub(crate) scored_at: Timestamp,
    pub(crate) decision_correct: bool,
    pub(crate) category_correct: bool,
    pub(crate) action_proportionate: bool,
    pub(crate) documentation: u8,
}

impl<'r> FromRow<'r, AnyRow> for DbKpiQaReview {
    fn from_row(row: &'r AnyRow) -> Decoded<Self> {
        let text: String = get(row, "rubric")?;
        let rubric: serde_json::Value =
            serde_json::from_str(&text).map_err(|_| corrupt("qa_assignments", "rubric", &text))?;
        let bad = || corrupt("qa_assignments", "rubric", &text);
        let answer = |field: &str| rubric[field].as_bool().ok_or_else(bad);
        let documentation = rubric["documentation"]
            .as_u64()
            .and_then(|score| u8::try_from(score).ok())
            .ok_or_else(bad)?;
        Ok(DbKpiQaReview {
            decision_id: get(row, "decision_id")?,
            queue: get(row, "queue")?,
            category: get(row, "category")?,
            decider: get(row, "decider")?,
            scored_at: time(row, "scored_at")?,
            decision_correct: answer("decision_correct")?,
            category_correct: answer("category_correct")?,
            action_proportionate: answer("action_proportionate")?,
            documentation,
        })
    }
}

/// An action applied in the window, with its decision's attribution.
pub(crate) struct DbKpiAction {
    pub(crate) id: i64,
    pub(crate) queue: String,
    pub(crate) category: String,
    pub(crate) decider: Option<String>,
    pub(crate) created_at: Timestamp,
}

impl<'r> FromRow<'r, AnyRow> for DbKpiAction {
    fn from_row(row: &'r AnyRow) -> Decoded<Self> {
        let decider_id: Option<i64> = get(row, "decided_by_id")?;
        let decider: String = get(row, "decided_by")?;
        Ok(DbKpiAction {
            id: get(row, "id")?,
            queue: get(row, "queue")?,
            category: get(row, "category")?,
            decider: decider_id.map(|_| decider),
            created_at: time(row, "created_at")?,
        })
    }
}

/// A media exposure interval revealed in the window.
pub(crate) struct DbKpiExposure {
    pub(crate) id: i64,
    pub(crate) reviewer: String,
    pub(crate) queue: String,
    pub(crate) category: String,
    pub(crate) revealed_at: Timestamp,
    pub(crate) visible_ms: i64,
}

impl<'r> FromRow<'r, AnyRow> for DbKpiExposure {
    fn from_row(row: &'r AnyRow) -> Decoded<Self> {
        Ok(DbKpiExposure {
            id: get(row, "id")?,
            reviewer: get(row, "reviewer")?,
            queue: get(row, "queue")?,
            category: get(row, "category")?,
            revealed_at: time(row, "revealed_at")?,
            visible_ms: get(row, "visible_ms")?,
        })
    }
}

/// A break suggested in the window.
pub(crate) struct DbKpiBreak {
    pub(crate) id: i64,
    pub(crate) reviewer: String,
    pub(crate) suggested_at: Timestamp,
    pub(crate) taken_at: Option<Timestamp>,
}

impl<'r> FromRow<'r, AnyRow> for DbKpiBreak {
    fn from_row(row: &'r AnyRow) -> Decoded<Self> {
        Ok(DbKpiBreak {
            id: get(row, "id")?,
            reviewer: get(row, "reviewer")?,
            suggested_at: time(row, "suggested_at")?,
            taken_at: time_opt(row, "taken_at")?,
        })
    }
}

/// A case open at an instant; `key_at` is the time its query pages by.
pub(crate) struct DbKpiOpenCase {
    pub(crate) id: i64,
    pub(crate) key_at: i64,
    pub(crate) queue: String,
    pub(crate) category: String,
    pub(crate) resolve_due_at: Timestamp,
}

impl<'r> FromRow<'r, AnyRow> for DbKpiOpenCase {
    fn from_row(row: &'r AnyRow) -> Decoded<Self> {
        Ok(DbKpiOpenCase {
            id: get(row, "id")?,
            key_at: get(row, "key_at")?,
            queue: get(row, "queue")?,
            category: get(row, "category")?,
            resolve_due_at: time(row, "resolve_due_at")?,
        })
    }
}
