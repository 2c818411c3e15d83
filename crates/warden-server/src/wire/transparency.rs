//! Transparency-report aggregates.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use warden_domain::transparency::TransparencyReport;

/// Transparency-report aggregates (formulas in `warden_domain::transparency`).
#[derive(Debug, Serialize, ToSchema)]
pub struct TransparencyView {
    /// Period start (inclusive).
    pub from: DateTime<Utc>,
    /// Period end (exclusive).
    pub to: DateTime<Utc>,
    /// Actions ordered.
    pub actions_total: u64,
    /// category → action type → count.
    pub actions_by_category: Value,
    /// Source of detection → count.
    pub actions_by_source: Value,
    /// Automation → count.
    pub actions_by_automation: Value,
    /// Median seconds from the first report to the action.
    pub median_seconds_notice_to_action: Option<i64>,
    /// Actions with a report behind them.
    pub actions_with_notice: u64,
    /// Reversals.
    pub reversals_total: u64,
    /// Reversals by category.
    pub reversals_by_category: Value,
    /// Appeals received.
    pub appeals_total: u64,
    /// Statements of reasons written.
    pub statements_total: u64,
}

impl TransparencyView {
    /// The view of a report.
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>, r: &TransparencyReport) -> Self {
        Self {
            from,
            to,
            actions_total: r.actions_total,
            actions_by_category: serde_json::to_value(&r.by_category).unwrap_or(Value::Null),
            actions_by_source: serde_json::to_value(&r.by_source).unwrap_or(Value::Null),
            actions_by_automation: serde_json::to_value(&r.by_automation).unwrap_or(Value::Null),
            median_seconds_notice_to_action: r.median_seconds_notice_to_action,
            actions_with_notice: r.actions_with_notice,
            reversals_total: r.reversals_total,
            reversals_by_category: serde_json::to_value(&r.reversals_by_category)
                .unwrap_or(Value::Null),
            appeals_total: r.appeals_total,
            statements_total: r.statements_total,
        }
    }
}
