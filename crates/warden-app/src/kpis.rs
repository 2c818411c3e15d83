//! KPI reports and wellness exposure.
//!
//! A report's parameters are parsed once here ([`KpiParams::parse`]) for
//! the API, the console and the command line; [`App::kpis`] loads the
//! window's facts through the store's `KpiFactsStore` (indexed range reads)
//! and computes every KPI of `specs/kpis.md` with the domain's pure
//! `kpi::compute`. [`report_json`] and [`report_csv`] are the spec's two
//! shapes. Who may read: `metrics.read` (leads, admins) reads any report;
//! anyone else only their own (`reviewer` = themselves). Facts of queues
//! the reader may not see are left out.
//!
//! Wellness: the console reports each interval media was visible
//! ([`App::record_exposure`]); after `[wellness] break_after_minutes` of
//! visible media since the last suggestion, a break is suggested (and
//! recorded), and taking it is recorded too.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::{json, Map, Value};

use warden_domain::access::Permission;
use warden_domain::kpi::facts::Attribution;
use warden_domain::kpi::{
    compute, GroupBy, KpiFilters, KpiQuery, KpiReport, KpiSet, KpiSettings, KpiTargets, KpiWindow,
};
use warden_domain::trends::backlog::{forecast_backlogs, BacklogForecast, QueueFlow};
use warden_domain::{CaseId, FieldErrors, Timestamp};
use warden_store::{KpiFactsWindow, NewExposure};

use crate::limits::{EXPOSURE_VISIBLE_MS_MAX, KPI_FILTER_BYTES_MAX};
use crate::{Actor, App, CommandError, CommandResult};

/// KPI and wellness configuration (`[kpi]`, `[wellness]`).
#[derive(Debug, Clone)]
pub struct KpiConfig {
    /// Weighted throughput's points per severity.
    pub settings: KpiSettings,
    /// Target bands shown on dashboard tiles.
    pub targets: KpiTargets,
    /// Visible media after which a break is suggested.
    pub break_after: Duration,
}

impl Default for KpiConfig {
    fn default() -> Self {
        KpiConfig {
            settings: KpiSettings::default(),
            targets: KpiTargets::default(),
            break_after: Duration::minutes(45),
        }
    }
}

/// A report's parameters as given (query string, form, flags).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KpiParams {
    /// First day or instant (`2026-11-01` or RFC 3339); default 7 days before `to`.
    pub from: Option<String>,
    /// Day or instant after the window; default now.
    pub to: Option<String>,
    /// Queue filter.
    pub queue: Option<String>,
    /// Category filter.
    pub category: Option<String>,
    /// Reviewer (user name) filter.
    pub reviewer: Option<String>,
    /// Team filter.
    pub team: Option<String>,
    /// Grouping: day, week, reviewer, queue, category, rule.
    pub by: Option<String>,
}

/// A date (`YYYY-MM-DD`, midnight UTC) or an RFC 3339 instant.
fn parse_instant(value: &str) -> Result<Timestamp, String> {
    if let Ok(day) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        return day
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc())
            .ok_or_else(|| "is not a valid day".to_string());
    }
    DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| "must be a date (2026-11-01) or an RFC 3339 instant".to_string())
}

/// A filter value: trimmed, non-empty, bounded.
fn filter(errors: &mut FieldErrors, field: &str, value: Option<&String>) -> Option<String> {
    let value = value.map(|v| v.trim()).filter(|v| !v.is_empty())?;
    if value.len() > KPI_FILTER_BYTES_MAX || value.contains('\0') {
        errors.push(
            field,
            format!("must be at most {KPI_FILTER_BYTES_MAX} bytes of text"),
        );
        return None;
    }
    Some(value.to_string())
}

impl KpiParams {
    /// The checked query as of `now`, or every field's error.
    pub fn parse(&self, now: Timestamp) -> Result<KpiQuery, FieldErrors> {
        let mut errors = FieldErrors::default();
        let mut instant = |field: &str, value: &Option<String>| match value.as_deref() {
            None | Some("") => None,
            Some(v) => parse_instant(v).map_err(|e| errors.push(field, e)).ok(),
        };
        let to = instant("to", &self.to);
        let from = instant("from", &self.from);
        let group_by = match self.by.as_deref() {
            None | Some("") => None,
            Some(by) => GroupBy::parse(by).map_err(|e| errors.push("by", e)).ok(),
        };
        let filters = KpiFilters {
            queue: filter(&mut errors, "queue", self.queue.as_ref()),
            category: filter(&mut errors, "category", self.category.as_ref()),
            reviewer: filter(&mut errors, "reviewer", self.reviewer.as_ref()),
            team: filter(&mut errors, "team", self.team.as_ref()),
        };
        if !errors.0.is_empty() {
            return Err(errors);
        }
        let to = to.unwrap_or(now);
        let from = from.unwrap_or(to - Duration::days(7));
        let window = KpiWindow::new(from, to)?;
        Ok(KpiQuery {
            window,
            as_of: now.max(to),
            filters,
            group_by,
        })
    }
}

/// Whether a fact's queue may be shown to the reader.
fn keep(visible: &[bool], attribution: &Attribution) -> bool {
    attribution
        .queue
        .is_none_or(|queue| visible.get(queue.index()).copied().unwrap_or(false))
}

impl App {
    /// KPI and wellness configuration.
    pub fn kpi_config(&self) -> &KpiConfig {
        &self.settings().kpis
    }

    /// Every KPI of the spec over `query`'s window, filters and groups.
    /// Needs `metrics.read`, unless the report is the reader's own
    /// (`reviewer` = their name).
    pub async fn kpis(&self, actor: &Actor, query: &KpiQuery) -> CommandResult<KpiReport> {
        let mut reports = self.kpi_reports(actor, query, &[query.group_by]).await?;
        reports
            .pop()
            .ok_or_else(|| CommandError::internal("no report was computed"))
    }

    /// Reports of `query` under each of `groupings`, from one load of the
    /// window's facts (a dashboard's totals, days and reviewers).
    pub async fn kpi_reports(
        &self,
        actor: &Actor,
        query: &KpiQuery,
        groupings: &[Option<GroupBy>],
    ) -> CommandResult<Vec<KpiReport>> {
        if !actor.may(Permission::MetricsRead) {
            let own = actor.principal().map(|p| p.name.as_str());
            if own.is_none() || query.filters.reviewer.as_deref() != own {
                return Err(CommandError::Forbidden(
                    "metrics.read is needed for any report but your own".into(),
                ));
            }
        }
        let window = KpiFactsWindow {
            from: query.window.from(),
            to: query.window.to(),
            as_of: query.as_of,
        };
        let mut facts = self.store().kpi_facts(&window).await?;
        let visible: Vec<bool> = facts
            .dimensions
            .queues
            .iter()
            .map(|name| self.sees_queue(actor, name))
            .collect();
        if visible.iter().any(|seen| !seen) {
            facts.resolutions.retain(|f| keep(&visible, &f.attribution));
            facts
                .first_touches
                .retain(|f| keep(&visible, &f.attribution));
            facts.decisions.retain(|f| keep(&visible, &f.attribution));
            facts.appeals.retain(|f| keep(&visible, &f.attribution));
            facts.qa_reviews.retain(|f| keep(&visible, &f.attribution));
            facts
                .applied_actions
                .retain(|f| keep(&visible, &f.attribution));
            facts.exposures.retain(|f| keep(&visible, &f.attribution));
            facts
                .open_at_from
                .retain(|f| keep(&visible, &f.attribution));
            facts.open_at_to.retain(|f| keep(&visible, &f.attribution));
        }
        let settings = &self.kpi_config().settings;
        let mut reports = Vec::with_capacity(groupings.len());
        for group_by in groupings {
            let query = KpiQuery {
                group_by: *group_by,
                ..query.clone()
            };
            reports.push(compute(&facts, &query, settings)?);
        }
        Ok(reports)
    }

    /// Records that `actor` had case `case_id`'s media visible for
    /// `visible_ms` from `revealed_at`; answers whether a break is now
    /// suggested (recorded when it is).
    pub async fn record_exposure(
        &self,
        actor: &Actor,
        case_id: CaseId,
        revealed_at: Timestamp,
        visible_ms: i64,
    ) -> CommandResult<bool> {
        let Some(principal) = actor.principal() else {
            return Err(CommandError::Forbidden("only a person sees media".into()));
        };
        let mut errors = FieldErrors::default();
        if !(0..=EXPOSURE_VISIBLE_MS_MAX).contains(&visible_ms) {
            errors.push(
                "visible_ms",
                format!("must be between 0 and {EXPOSURE_VISIBLE_MS_MAX}"),
            );
        }
        let now = self.now();
        if revealed_at > now + Duration::minutes(5) {
            errors.push("revealed_at", "is in the future");
        }
        errors.finish(|| ())?;
        self.visible_case(actor, case_id).await?;
        let exposure = NewExposure {
            case_id,
            revealed_at,
            visible_ms,
        };
        self.store()
            .record_exposure(&actor.audit(), &exposure, now)
            .await?;
        let since = self.store().exposure_since_break(&principal.name).await?;
        let due = !since.break_pending
            && Duration::milliseconds(since.visible_ms) >= self.kpi_config().break_after;
        if due {
            self.store().suggest_break(&actor.audit(), now).await?;
        }
        Ok(due || since.break_pending)
    }

    /// Records that `actor` took their suggested break; `false` when none waited.
    pub async fn take_break(&self, actor: &Actor) -> CommandResult<bool> {
        if actor.principal().is_none() {
            return Err(CommandError::Forbidden("only a person takes breaks".into()));
        }
        Ok(self.store().take_break(&actor.audit(), self.now()).await?)
    }
}

/// One KPI set as the spec's JSON object: `{NAME: {value, numerator, denominator, unit}}`.
pub fn kpis_json(set: &KpiSet) -> Value {
    let mut object = Map::new();
    for (kpi, value) in set.iter() {
        object.insert(
            kpi.name().to_string(),
            json!({
                "value": value.value,
                "numerator": value.numerator,
                "denominator": value.denominator,
                "unit": value.unit.as_str(),
            }),
        );
    }
    Value::Object(object)
}

/// A report as the spec's JSON.
pub fn report_json(report: &KpiReport) -> Value {
    let groups: Vec<Value> = report
        .groups
        .iter()
        .map(|group| json!({"key": group.key.label(), "kpis": kpis_json(&group.kpis)}))
        .collect();
    json!({
        "from": report.window.from(),
        "to": report.window.to(),
        "as_of": report.as_of,
        "filters": {
            "queue": report.filters.queue,
            "category": report.filters.category,
            "reviewer": report.filters.reviewer,
            "team": report.filters.team,
        },
        "by": report.group_by.map(|by| by.as_str()),
        "kpis": kpis_json(&report.totals),
        "groups": groups,
    })
}

/// A CSV field, quoted when it needs to be.
fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

/// A report as the spec's CSV: `group,kpi,value,numerator,denominator,unit`,
/// the totals under group `total`, then every group.
pub fn report_csv(report: &KpiReport) -> String {
    let mut out = String::from("group,kpi,value,numerator,denominator,unit\n");
    let rows = std::iter::once(("total".to_string(), &report.totals)).chain(
        report
            .groups
            .iter()
            .map(|group| (group.key.label(), &group.kpis)),
    );
    for (group, set) in rows {
        for (kpi, value) in set.iter() {
            out.push_str(&format!(
                "{},{},{},{},{},{}\n",
                csv_field(&group),
                kpi.name(),
                value.value.map_or(String::new(), |v| v.to_string()),
                value.numerator,
                value.denominator,
                value.unit.as_str()
            ));
        }
    }
    out
}

/// Hours of recent flow a backlog forecast reads.
pub const FORECAST_WINDOW_HOURS: i64 = 24;

impl App {
    /// Each visible queue's backlog forecast (`queue` alone when given)
    /// from the last [`FORECAST_WINDOW_HOURS`] hours: open now and the
    /// oldest deadline from the open cases, resolutions counted, intake
    /// by conservation (open now − open then + resolved). Needs `metrics.read`.
    pub async fn backlog_forecast(
        &self,
        actor: &Actor,
        queue: Option<&str>,
    ) -> CommandResult<Vec<BacklogForecast>> {
        actor.require(Permission::MetricsRead)?;
        let now = self.now();
        let window = KpiFactsWindow {
            from: now - Duration::hours(FORECAST_WINDOW_HOURS),
            to: now,
            as_of: now,
        };
        let facts = self.store().kpi_facts(&window).await?;
        let mut flows: Vec<QueueFlow> = facts
            .dimensions
            .queues
            .iter()
            .map(|name| QueueFlow {
                queue: name.to_string(),
                open: 0,
                intake: 0,
                resolved: 0,
                oldest_due: None,
            })
            .collect();
        let mut open_before = vec![0_u64; flows.len()];
        for case in &facts.open_at_to {
            if let Some(flow) = case
                .attribution
                .queue
                .and_then(|q| flows.get_mut(q.index()))
            {
                flow.open += 1;
                flow.oldest_due = match (flow.oldest_due, case.resolution_due) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
        }
        for case in &facts.open_at_from {
            if let Some(count) = case
                .attribution
                .queue
                .and_then(|q| open_before.get_mut(q.index()))
            {
                *count += 1;
            }
        }
        for resolution in &facts.resolutions {
            if let Some(flow) = resolution
                .attribution
                .queue
                .and_then(|q| flows.get_mut(q.index()))
            {
                flow.resolved += 1;
            }
        }
        for (flow, before) in flows.iter_mut().zip(open_before) {
            flow.intake = (flow.open + flow.resolved).saturating_sub(before);
        }
        flows.retain(|flow| {
            self.sees_queue(actor, &flow.queue) && queue.is_none_or(|q| q == flow.queue)
        });
        flows.sort_by(|a, b| a.queue.cmp(&b.queue));
        Ok(forecast_backlogs(&flows, FORECAST_WINDOW_HOURS, now)?)
    }
}
