//! A KPI report (`specs/kpis.md`): the same JSON as `warden report kpis`.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use warden_domain::kpi::KpiReport;

/// Every KPI of the spec over a window, with its arithmetic, and per group.
#[derive(Debug, Serialize, ToSchema)]
pub struct KpiReportView {
    /// Window start (inclusive).
    pub from: DateTime<Utc>,
    /// Window end (exclusive).
    pub to: DateTime<Utc>,
    /// Later fates count up to this instant.
    pub as_of: DateTime<Utc>,
    /// The filters applied: queue, category, reviewer, team (null when not).
    pub filters: Value,
    /// The grouping, if any: day, week, reviewer, queue, category, rule.
    pub by: Option<String>,
    /// KPI name → `{value, numerator, denominator, unit}`; `value` is null
    /// when the denominator is 0.
    pub kpis: Value,
    /// `[{key, kpis}]`, one per group.
    pub groups: Value,
}

impl From<&KpiReport> for KpiReportView {
    fn from(report: &KpiReport) -> Self {
        let mut json = warden_app::kpis::report_json(report);
        Self {
            from: report.window.from(),
            to: report.window.to(),
            as_of: report.as_of,
            filters: json["filters"].take(),
            by: report.group_by.map(|by| by.as_str().to_string()),
            kpis: json["kpis"].take(),
            groups: json["groups"].take(),
        }
    }
}
