//! Rows of the QA and calibration tables, and the JSON they keep in text
//! columns (a plan's input, a verdict, a rubric).

use serde_json::{json, Value};
use sqlx::any::AnyRow;
use sqlx::FromRow;

use warden_domain::case::Lease;
use warden_domain::enforcement::{action_from_json, action_json};
use warden_domain::quality::calibration::{Resolution, SessionStatus};
use warden_domain::quality::review::{DocumentationScore, QaStatus, QaVerdict, Rubric};
use warden_domain::quality::sampling::{RateRuleInput, SamplingPlanInput};
use warden_domain::{CaseId, Timestamp};

use super::{
    corrupt, flag, get, json as json_column, known, severity, text, text_opt, time, time_opt,
    unreadable, Decoded,
};
use crate::{
    CalibrationSessionSummary, DecisionToSample, QaPlanRecord, ResolutionNoteRecord, StratumCount,
};

/// Columns of `qa_assignments` (`a`) with its rework (`r`, left joined),
/// as [`DbQaRow`] reads them.
pub(crate) const QA_COLUMNS: &str = "a.decision_id AS decision_id, a.case_id AS case_id, a.queue AS queue, a.category AS category, a.decider AS decider, a.decided_at AS decided_at, a.sampled_at AS sampled_at, a.status AS status, a.version AS version, a.lease_assignee AS lease_assignee, a.lease_expires_at AS lease_expires_at, a.reviewer AS reviewer, a.verdict AS verdict, a.verdict_at AS verdict_at, a.rubric AS rubric, a.scored_at AS scored_at, a.closed_at AS closed_at, r.feedback AS rework_feedback, r.suggestion AS rework_suggestion, r.reopen_case AS rework_reopen_case, r.sent_back_at AS rework_sent_back_at";

/// Columns of `calibration_sessions`.
pub(crate) const SESSION_COLUMNS: &str = "id, title, created_by, created_at, status, version, opened_at, closed_at, resolution_note, resolved_by, resolved_at";

// ------------------------------------------------------------ stored JSON

/// A plan's input as stored.
pub(crate) fn plan_json(plan: &SamplingPlanInput) -> Value {
    let rates: Vec<Value> = plan
        .rates
        .iter()
        .map(|rule| {
            json!({"queue": rule.queue, "category": rule.category, "severity": rule.severity,
                   "reviewer": rule.reviewer, "rate": rule.rate})
        })
        .collect();
    json!({
        "name": plan.name, "seed": plan.seed, "rate": plan.rate, "queues": plan.queues,
        "categories": plan.categories, "severities": plan.severities, "reviewers": plan.reviewers,
        "rates": rates, "all_severities": plan.all_severities,
        "new_reviewer_days": plan.new_reviewer_days,
        "minimum_per_reviewer": plan.minimum_per_reviewer,
        "minimum_per_category": plan.minimum_per_category, "weekly_cap": plan.weekly_cap,
    })
}

fn plan_from_json(value: &Value) -> Decoded<SamplingPlanInput> {
    let bad = || corrupt("qa_plans", "definition", value);
    let strings = |field: &str| -> Decoded<Vec<String>> {
        value[field]
            .as_array()
            .ok_or_else(bad)?
            .iter()
            .map(|item| item.as_str().map(str::to_string).ok_or_else(bad))
            .collect()
    };
    let optional = |rule: &Value, field: &str| rule[field].as_str().map(str::to_string);
    let count = |field: &str| -> Decoded<u32> {
        value[field]
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(bad)
    };
    let rates = value["rates"]
        .as_array()
        .ok_or_else(bad)?
        .iter()
        .map(|rule| {
            Ok(RateRuleInput {
                queue: optional(rule, "queue"),
                category: optional(rule, "category"),
                severity: optional(rule, "severity"),
                reviewer: optional(rule, "reviewer"),
                rate: rule["rate"].as_f64().ok_or_else(bad)?,
            })
        })
        .collect::<Decoded<Vec<_>>>()?;
    Ok(SamplingPlanInput {
        name: value["name"].as_str().ok_or_else(bad)?.to_string(),
        seed: value["seed"].as_u64().ok_or_else(bad)?,
        rate: value["rate"].as_f64().ok_or_else(bad)?,
        queues: strings("queues")?,
        categories: strings("categories")?,
        severities: strings("severities")?,
        reviewers: strings("reviewers")?,
        rates,
        all_severities: strings("all_severities")?,
        new_reviewer_days: value["new_reviewer_days"]
            .as_u64()
            .and_then(|n| u32::try_from(n).ok()),
        minimum_per_reviewer: count("minimum_per_reviewer")?,
        minimum_per_category: count("minimum_per_category")?,
        weekly_cap: value["weekly_cap"]
            .as_u64()
            .and_then(|n| u32::try_from(n).ok()),
    })
}

/// A verdict as stored.
pub(crate) fn verdict_json(verdict: &QaVerdict) -> Value {
    json!({
        "violation": verdict.violation,
        "category": verdict.category,
        "actions": verdict.actions.iter().map(action_json).collect::<Vec<_>>(),
    })
}

fn verdict_from_json(table: &'static str, column: &str, value: &Value) -> Decoded<QaVerdict> {
    let bad = || corrupt(table, column, value);
    let actions = value["actions"]
        .as_array()
        .ok_or_else(bad)?
        .iter()
        .map(|action| action_from_json(action).map_err(|_| bad()))
        .collect::<Decoded<Vec<_>>>()?;
    Ok(QaVerdict {
        violation: value["violation"].as_bool().ok_or_else(bad)?,
        category: value["category"].as_str().ok_or_else(bad)?.to_string(),
        actions,
    })
}

/// A rubric as stored.
pub(crate) fn rubric_json(rubric: &Rubric) -> Value {
    json!({
        "decision_correct": rubric.decision_correct,
        "category_correct": rubric.category_correct,
        "action_proportionate": rubric.action_proportionate,
        "documentation": rubric.documentation.value(),
        "feedback": rubric.feedback,
        "rework": rubric.rework,
    })
}

fn rubric_from_json(value: &Value) -> Decoded<Rubric> {
    let bad = || corrupt("qa_assignments", "rubric", value);
    let answer = |field: &str| value[field].as_bool().ok_or_else(bad);
    let documentation = value["documentation"]
        .as_i64()
        .and_then(|score| DocumentationScore::parse(score).ok())
        .ok_or_else(bad)?;
    Ok(Rubric {
        decision_correct: answer("decision_correct")?,
        category_correct: answer("category_correct")?,
        action_proportionate: answer("action_proportionate")?,
        documentation,
        feedback: value["feedback"].as_str().ok_or_else(bad)?.to_string(),
        rework: answer("rework")?,
    })
}

fn parsed_json(row: &AnyRow, column: &str) -> Decoded<Option<Value>> {
    let stored: Option<String> = get(row, column)?;
    stored
        .map(|t| serde_json::from_str(&t).map_err(|e| unreadable(column, e)))
        .transpose()
}

// ------------------------------------------------------------ rows

/// A row of `qa_plans`.
pub(crate) struct DbQaPlan(pub(crate) QaPlanRecord);

impl<'r> FromRow<'r, AnyRow> for DbQaPlan {
    fn from_row(row: &'r AnyRow) -> Decoded<Self> {
        Ok(DbQaPlan(QaPlanRecord {
            input: plan_from_json(&json_column(row, "definition")?)?,
            created_by: get(row, "created_by")?,
            created_at: time(row, "created_at")?,
            updated_at: time(row, "updated_at")?,
        }))
    }
}

/// A decision the sampling pass reads.
pub(crate) struct DbDecisionToSample(pub(crate) DecisionToSample);

impl<'r> FromRow<'r, AnyRow> for DbDecisionToSample {
    fn from_row(row: &'r AnyRow) -> Decoded<Self> {
        Ok(DbDecisionToSample(DecisionToSample {
            decision_id: get(row, "decision_id")?,
            case_id: CaseId(get(row, "case_id")?),
            queue: get(row, "queue")?,
            category: get(row, "category")?,
            severity: severity(row, "cases", "severity")?,
            decider: get(row, "decider")?,
            decider_started_at: time(row, "decider_started_at")?,
            decided_at: time(row, "decided_at")?,
        }))
    }
}

/// A row of the decision volume per stratum.
pub(crate) struct DbStratumCount(pub(crate) StratumCount);

impl<'r> FromRow<'r, AnyRow> for DbStratumCount {
    fn from_row(row: &'r AnyRow) -> Decoded<Self> {
        let decisions: i64 = get(row, "decisions")?;
        Ok(DbStratumCount(StratumCount {
            queue: get(row, "queue")?,
            category: get(row, "category")?,
            severity: severity(row, "cases", "severity")?,
            decider: get(row, "decider")?,
            decider_started_at: time(row, "decider_started_at")?,
            decisions: u64::try_from(decisions).unwrap_or(0),
        }))
    }
}

/// A row of `qa_assignments` with its rework, before its plans are read.
pub(crate) struct DbQaRow {
    pub(crate) decision_id: i64,
    pub(crate) case_id: CaseId,
    pub(crate) queue: String,
    pub(crate) category: String,
    pub(crate) decider: String,
    pub(crate) decided_at: Timestamp,
    pub(crate) sampled_at: Timestamp,
    pub(crate) status: QaStatus,
    pub(crate) version: i64,
    pub(crate) lease: Option<Lease>,
    pub(crate) verdict: Option<(String, QaVerdict, Timestamp)>,
    pub(crate) rubric: Option<(Rubric, Timestamp)>,
    pub(crate) closed_at: Option<Timestamp>,
    /// (feedback, suggestion, reopen case, sent back at).
    pub(crate) rework: Option<(String, QaVerdict, bool, Timestamp)>,
}

impl<'r> FromRow<'r, AnyRow> for DbQaRow {
    fn from_row(row: &'r AnyRow) -> Decoded<Self> {
        let lease = match get::<Option<String>>(row, "lease_assignee")? {
            Some(assignee) => Some(Lease {
                assignee,
                expires_at: time(row, "lease_expires_at")?,
                held: false,
            }),
            None => None,
        };
        let verdict = match parsed_json(row, "verdict")? {
            Some(value) => Some((
                get::<String>(row, "reviewer")?,
                verdict_from_json("qa_assignments", "verdict", &value)?,
                time(row, "verdict_at")?,
            )),
            None => None,
        };
        let rubric = match parsed_json(row, "rubric")? {
            Some(value) => Some((rubric_from_json(&value)?, time(row, "scored_at")?)),
            None => None,
        };
        let rework = match text_opt(row, "rework_feedback")? {
            Some(feedback) => {
                let suggestion = parsed_json(row, "rework_suggestion")?.unwrap_or(Value::Null);
                Some((
                    feedback,
                    verdict_from_json("qa_rework", "suggestion", &suggestion)?,
                    flag(row, "rework_reopen_case")?,
                    time(row, "rework_sent_back_at")?,
                ))
            }
            None => None,
        };
        Ok(DbQaRow {
            decision_id: get(row, "decision_id")?,
            case_id: CaseId(get(row, "case_id")?),
            queue: get(row, "queue")?,
            category: get(row, "category")?,
            decider: get(row, "decider")?,
            decided_at: time(row, "decided_at")?,
            sampled_at: time(row, "sampled_at")?,
            status: known(row, "qa_assignments", "status")?,
            version: get(row, "version")?,
            lease,
            verdict,
            rubric,
            closed_at: time_opt(row, "closed_at")?,
            rework,
        })
    }
}

/// A row of `calibration_sessions`, before its cases, raters, ratings and
/// note categories are read.
pub(crate) struct DbSessionRow {
    pub(crate) summary: CalibrationSessionSummary,
    pub(crate) version: i64,
    pub(crate) opened_at: Option<Timestamp>,
    pub(crate) closed_at: Option<Timestamp>,
    /// The resolution without its categories.
    pub(crate) resolution: Option<Resolution>,
}

impl<'r> FromRow<'r, AnyRow> for DbSessionRow {
    fn from_row(row: &'r AnyRow) -> Decoded<Self> {
        let resolution = match text_opt(row, "resolution_note")? {
            Some(note) => Some(Resolution {
                note,
                categories: Vec::new(),
                resolved_by: get(row, "resolved_by")?,
                resolved_at: time(row, "resolved_at")?,
            }),
            None => None,
        };
        Ok(DbSessionRow {
            summary: CalibrationSessionSummary {
                id: get(row, "id")?,
                title: text(row, "title")?,
                status: known::<SessionStatus>(row, "calibration_sessions", "status")?,
                created_by: get(row, "created_by")?,
                created_at: time(row, "created_at")?,
            },
            version: get(row, "version")?,
            opened_at: time_opt(row, "opened_at")?,
            closed_at: time_opt(row, "closed_at")?,
            resolution,
        })
    }
}

/// A resolution note with its session's title.
pub(crate) struct DbResolutionNote(pub(crate) ResolutionNoteRecord);

impl<'r> FromRow<'r, AnyRow> for DbResolutionNote {
    fn from_row(row: &'r AnyRow) -> Decoded<Self> {
        Ok(DbResolutionNote(ResolutionNoteRecord {
            session_id: get(row, "id")?,
            title: text(row, "title")?,
            note: text(row, "resolution_note")?,
            resolved_by: get(row, "resolved_by")?,
            resolved_at: time(row, "resolved_at")?,
        }))
    }
}
