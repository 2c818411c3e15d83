//! Transparency-report aggregates, computed from stored facts.
//!
//! Formulas, over actions ordered in `[from, to)` that left Warden (not
//! rejected at approval):
//! - actions by category and type: a count per (category, action type);
//! - by source of detection: each action counted once under its case's
//!   first source (a report's source, or `signal` for a machine signal);
//! - by automation: automated detection yes/no × automated decision
//!   fully/not automated;
//! - median time from notice to action: over actions whose case had a
//!   report, the median of (action ordered − first report received), in
//!   seconds; the lower median for an even count;
//! - reversals: actions reversed in `[from, to)`, by category;
//! - appeals: counted once appeals are recorded (zero until then).

use std::collections::BTreeMap;

use crate::Timestamp;

/// One action, as the report counts it.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionFact {
    /// Taxonomy code of its decision.
    pub category: String,
    /// Action type.
    pub action_type: String,
    /// First source of detection of its case.
    pub source: String,
    /// Whether a machine detected it.
    pub automated_detection: bool,
    /// Whether Warden decided without a person.
    pub automated_decision: bool,
    /// When the first report of its case arrived.
    pub noticed_at: Option<Timestamp>,
    /// When it was ordered.
    pub ordered_at: Timestamp,
}

/// One reversal, as the report counts it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReversalFact {
    /// Taxonomy code of the reversed action's decision.
    pub category: String,
    /// Action type.
    pub action_type: String,
}

/// The aggregates of one period.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TransparencyReport {
    /// Actions counted.
    pub actions_total: u64,
    /// category → action type → count.
    pub by_category: BTreeMap<String, BTreeMap<String, u64>>,
    /// source → count.
    pub by_source: BTreeMap<String, u64>,
    /// "detection=yes|no,decision=automated|human" → count.
    pub by_automation: BTreeMap<String, u64>,
    /// Median seconds from the first report to the action.
    pub median_seconds_notice_to_action: Option<i64>,
    /// Actions with a report behind them (the median's population).
    pub actions_with_notice: u64,
    /// Reversals, by category.
    pub reversals_by_category: BTreeMap<String, u64>,
    /// Reversals in all.
    pub reversals_total: u64,
    /// Appeals received.
    pub appeals_total: u64,
    /// Statements of reasons written.
    pub statements_total: u64,
}

/// Aggregates facts into a report.
pub fn aggregate(
    actions: &[ActionFact],
    reversals: &[ReversalFact],
    appeals_total: u64,
    statements_total: u64,
) -> TransparencyReport {
    let mut report = TransparencyReport {
        actions_total: actions.len() as u64,
        appeals_total,
        statements_total,
        reversals_total: reversals.len() as u64,
        ..TransparencyReport::default()
    };
    let mut waits = Vec::new();
    for action in actions {
        *report
            .by_category
            .entry(action.category.clone())
            .or_default()
            .entry(action.action_type.clone())
            .or_default() += 1;
        *report.by_source.entry(action.source.clone()).or_default() += 1;
        let key = format!(
            "detection={},decision={}",
            if action.automated_detection {
                "automated"
            } else {
                "human"
            },
            if action.automated_decision {
                "automated"
            } else {
                "human"
            }
        );
        *report.by_automation.entry(key).or_default() += 1;
        if let Some(noticed) = action.noticed_at {
            waits.push((action.ordered_at - noticed).num_seconds().max(0));
        }
    }
    report.actions_with_notice = waits.len() as u64;
    waits.sort_unstable();
    if !waits.is_empty() {
        report.median_seconds_notice_to_action = Some(waits[(waits.len() - 1) / 2]);
    }
    for reversal in reversals {
        *report
            .reversals_by_category
            .entry(reversal.category.clone())
            .or_default() += 1;
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone, Utc};

    #[test]
    fn counts_and_the_median() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let fact = |category: &str, kind: &str, wait: Option<i64>| ActionFact {
            category: category.into(),
            action_type: kind.into(),
            source: if wait.is_some() {
                "user_report"
            } else {
                "signal"
            }
            .into(),
            automated_detection: wait.is_none(),
            automated_decision: false,
            noticed_at: wait.map(|_| t0),
            ordered_at: t0 + Duration::seconds(wait.unwrap_or(0)),
        };
        let report = aggregate(
            &[
                fact("spam", "remove_content", Some(60)),
                fact("spam", "warn", Some(600)),
                fact("scam", "suspend", Some(30)),
                fact("scam", "suspend", None),
            ],
            &[ReversalFact {
                category: "scam".into(),
                action_type: "suspend".into(),
            }],
            0,
            3,
        );
        assert_eq!(report.actions_total, 4);
        assert_eq!(report.by_category["scam"]["suspend"], 2);
        assert_eq!(report.by_source["signal"], 1);
        assert_eq!(
            report.by_automation["detection=automated,decision=human"],
            1
        );
        assert_eq!(report.median_seconds_notice_to_action, Some(60));
        assert_eq!(report.reversals_by_category["scam"], 1);
    }
}
