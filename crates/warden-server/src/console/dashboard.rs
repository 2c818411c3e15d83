//! KPI dashboards: the team's (a lead's, `metrics.read`), each reviewer's
//! own (`/console/dashboard/me`, anyone signed in) and each queue's.
//!
//! A page is the window and filters of its URL (`?from=&to=&queue=
//! &category=&reviewer=&team=`, parsed by the application as for the
//! API), every KPI as a tile with its target band (`[kpi]` targets, the
//! seed's defaults), time series by day drawn as SVG on the server
//! (`charts.rs`) with a table of the same numbers beside each, a bar
//! chart per reviewer or queue, the distribution of daily resolutions,
//! and (for leads) each queue's backlog forecast with its arithmetic.
//! Every table has a CSV export (`/console/dashboard/export.csv?table=`
//! with the same parameters).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use warden_app::kpis::{report_csv, KpiParams};
use warden_app::CommandError;
use warden_domain::access::Permission;
use warden_domain::kpi::{Band, GroupBy, Kpi, KpiQuery, KpiReport, KpiUnit};

use super::charts::{BarChart, ChartTable, ChartText, Histogram, LineChart, Point, ValueFormat};
use super::view::{render, ConsoleError, Layout, Viewer};
use crate::AppState;

/// The URL's parameters (all optional; unknown ones are ignored).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DashboardQuery {
    from: Option<String>,
    to: Option<String>,
    queue: Option<String>,
    category: Option<String>,
    reviewer: Option<String>,
    team: Option<String>,
    /// Which table an export is of: `kpis` or a chart's id.
    table: Option<String>,
}

/// Which dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Team,
    Own,
    Queue,
}

/// One KPI tile.
pub struct Tile {
    name: &'static str,
    value: String,
    arithmetic: String,
    band: &'static str,
    target: String,
}

/// One chart with its fallback table and export link.
pub struct ChartView {
    svg: String,
    table: ChartTable,
    csv_href: String,
}

/// One queue's backlog forecast.
pub struct ForecastView {
    queue: String,
    open: u64,
    outlook: &'static str,
    arithmetic: String,
}

/// A dashboard page.
#[derive(Template)]
#[template(path = "dashboard.html")]
pub struct DashboardPage {
    layout: Layout,
    heading: String,
    action: String,
    from: String,
    to: String,
    queue: String,
    category: String,
    reviewer: String,
    team: String,
    filters_open: bool,
    tiles: Vec<Tile>,
    charts: Vec<ChartView>,
    forecasts: Vec<ForecastView>,
    kpis_csv_href: String,
    window: String,
}

/// How a KPI's values are written.
fn format_of(unit: KpiUnit) -> ValueFormat {
    match unit {
        KpiUnit::Ratio => ValueFormat::Ratio,
        KpiUnit::Count | KpiUnit::Points => ValueFormat::Count,
        KpiUnit::Seconds => ValueFormat::Seconds,
        KpiUnit::Score => ValueFormat::Number,
    }
}

/// The human name of a KPI: its report name in words.
fn title_of(kpi: Kpi) -> String {
    let name = kpi
        .name()
        .replace('_', " ")
        .replace("sla", "SLA")
        .replace("qa", "QA");
    let mut chars = name.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The query string of `q` (without `table`), for links and exports.
fn query_string(q: &DashboardQuery) -> String {
    let pairs = [
        ("from", &q.from),
        ("to", &q.to),
        ("queue", &q.queue),
        ("category", &q.category),
        ("reviewer", &q.reviewer),
        ("team", &q.team),
    ];
    let given: Vec<(&str, &str)> = pairs
        .into_iter()
        .filter_map(|(key, value)| value.as_deref().filter(|v| !v.is_empty()).map(|v| (key, v)))
        .collect();
    serde_urlencoded::to_string(given).unwrap_or_default()
}

/// The tiles of a report's totals, banded against the configured targets.
fn tiles(state: &AppState, report: &KpiReport) -> Vec<Tile> {
    let targets = &state.app.kpi_config().targets;
    report
        .totals
        .iter()
        .map(|(kpi, value)| {
            let target = targets.get(kpi);
            let band = target.map_or(Band::NoData, |t| t.band(value.value));
            Tile {
                name: kpi.name(),
                value: value.value.map_or_else(
                    || "no data".to_string(),
                    |v| format_of(value.unit).format(v),
                ),
                arithmetic: format!("{} / {}", value.numerator, value.denominator),
                band: band.as_str(),
                target: target.map_or(String::new(), |t| t.describe(value.unit)),
            }
        })
        .collect()
}

/// KPIs drawn as time series by day.
const SERIES: [Kpi; 8] = [
    Kpi::CasesResolved,
    Kpi::SlaFirstTouchAdherence,
    Kpi::SlaClosureAdherence,
    Kpi::QaPassRate,
    Kpi::ReworkRate,
    Kpi::AppealOverturnRate,
    Kpi::HandleTimeP50,
    Kpi::WellnessExposure,
];

/// A chart's view: its SVG, its table and the link to the table as CSV.
fn chart_view(id: &str, svg: String, table: ChartTable, query: &str) -> ChartView {
    ChartView {
        svg,
        table,
        csv_href: format!("/console/dashboard/export.csv?table={id}&{query}"),
    }
}

/// The time series of the by-day report, with target bands.
fn series(state: &AppState, by_day: &KpiReport, window: &str, query: &str) -> Vec<ChartView> {
    let targets = &state.app.kpi_config().targets;
    SERIES
        .into_iter()
        .filter_map(|kpi| {
            let points = by_day
                .groups
                .iter()
                .map(|group| Point {
                    label: group.key.label(),
                    value: group.kpis.get(kpi).value,
                })
                .collect();
            let id = format!("{}-by-day", kpi.name());
            let text = ChartText {
                id: id.clone(),
                title: format!("{} by day", title_of(kpi)),
                description: format!(
                    "{} per UTC day, {window}{}",
                    title_of(kpi),
                    targets.get(kpi).map_or(String::new(), |t| format!(
                        "; target {}",
                        t.describe(kpi.unit())
                    ))
                ),
                x_label: "Day".into(),
                y_label: kpi.unit().as_str().into(),
            };
            let chart = LineChart::new(
                text,
                format_of(kpi.unit()),
                points,
                targets.get(kpi).copied(),
            )
            .ok()?;
            Some(chart_view(&id, chart.svg(), chart.table(), query))
        })
        .collect()
}

/// Resolutions per group (reviewer or queue) as bars.
fn bars(grouped: &KpiReport, by: GroupBy, query: &str) -> Option<ChartView> {
    let points = grouped
        .groups
        .iter()
        .map(|group| Point {
            label: group.key.label(),
            value: group.kpis.get(Kpi::CasesResolved).value,
        })
        .collect();
    let id = format!("cases-resolved-by-{}", by.as_str());
    let text = ChartText {
        id: id.clone(),
        title: format!("Cases resolved by {}", by.as_str()),
        description: format!("Case resolutions in the window per {}", by.as_str()),
        x_label: by.as_str().into(),
        y_label: "count".into(),
    };
    let chart = BarChart::new(text, ValueFormat::Count, points).ok()?;
    Some(chart_view(&id, chart.svg(), chart.table(), query))
}

/// The distribution of resolutions per day.
fn distribution(by_day: &KpiReport, query: &str) -> Option<ChartView> {
    let values: Vec<f64> = by_day
        .groups
        .iter()
        .filter_map(|group| group.kpis.get(Kpi::CasesResolved).value)
        .collect();
    let id = "daily-resolutions-distribution";
    let text = ChartText {
        id: id.into(),
        title: "Distribution of daily resolutions".into(),
        description: "How many days saw how many case resolutions".into(),
        x_label: "Resolutions in a day".into(),
        y_label: "days".into(),
    };
    let bins = values.len().clamp(1, 10);
    let chart = Histogram::new(text, ValueFormat::Count, &values, bins).ok()?;
    let mut table = chart.table();
    if chart.left_out() > 0 || chart.bins().is_empty() {
        table.caption = format!("{} (no values)", table.caption);
    }
    Some(chart_view(id, chart.svg(), table, query))
}

/// A table as CSV (the caption is not part of it).
fn table_csv(table: &ChartTable) -> String {
    let field = |text: &str| {
        if text.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", text.replace('"', "\"\""))
        } else {
            text.to_string()
        }
    };
    let mut out = String::new();
    for row in std::iter::once(&table.headers).chain(table.rows.iter()) {
        let cells: Vec<String> = row.iter().map(|cell| field(cell)).collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

/// The application's query for this page: the URL's parameters, with the
/// reviewer (own page) or the queue (queue page) fixed by the page.
fn page_query(state: &AppState, q: &DashboardQuery) -> Result<KpiQuery, ConsoleError> {
    let params = KpiParams {
        from: q.from.clone(),
        to: q.to.clone(),
        queue: q.queue.clone(),
        category: q.category.clone(),
        reviewer: q.reviewer.clone(),
        team: q.team.clone(),
        by: None,
    };
    params
        .parse(state.app.now())
        .map_err(|errors| ConsoleError::from(CommandError::from(errors)))
}

/// The page's heading and the address its filter form goes to.
fn heading(scope: Scope, viewer: &Viewer, q: &DashboardQuery) -> (String, String) {
    match scope {
        Scope::Team => ("Team dashboard".into(), "/console/dashboard".into()),
        Scope::Own => (
            format!("My dashboard: {}", viewer.caller.principal.name),
            "/console/dashboard/me".into(),
        ),
        Scope::Queue => {
            let queue = q.queue.clone().unwrap_or_default();
            let segment =
                percent_encoding::utf8_percent_encode(&queue, percent_encoding::NON_ALPHANUMERIC);
            (
                format!("Queue dashboard: {queue}"),
                format!("/console/dashboard/queues/{segment}"),
            )
        }
    }
}

/// The page for `scope` over the query `q`.
async fn page(
    state: &AppState,
    viewer: &Viewer,
    scope: Scope,
    q: &DashboardQuery,
) -> Result<DashboardPage, ConsoleError> {
    let query = page_query(state, q)?;
    let actor = viewer.caller.actor();
    let by = if scope == Scope::Own {
        GroupBy::Queue
    } else {
        GroupBy::Reviewer
    };
    let mut reports = state
        .app
        .kpi_reports(&actor, &query, &[None, Some(GroupBy::Day), Some(by)])
        .await?;
    let (Some(grouped), Some(by_day), Some(totals)) = (reports.pop(), reports.pop(), reports.pop())
    else {
        return Err(CommandError::internal("a dashboard report is missing").into());
    };
    let qs = query_string(q);
    let window = format!(
        "{} to {} (UTC, end excluded)",
        query.window.from().format("%Y-%m-%d %H:%M"),
        query.window.to().format("%Y-%m-%d %H:%M")
    );
    let mut charts = series(state, &by_day, &window, &qs);
    charts.extend(bars(&grouped, by, &qs));
    charts.extend(distribution(&by_day, &qs));
    let forecasts = if viewer.may(Permission::MetricsRead) {
        forecasts(state, viewer, query.filters.queue.as_deref()).await?
    } else {
        Vec::new()
    };
    let (heading, action) = heading(scope, viewer, q);
    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    Ok(DashboardPage {
        layout: Layout::new(viewer, heading.clone(), "dashboard"),
        heading,
        action,
        from: query.window.from().format("%Y-%m-%d").to_string(),
        to: query.window.to().format("%Y-%m-%d").to_string(),
        queue: value(&q.queue),
        category: value(&q.category),
        reviewer: value(&q.reviewer),
        team: value(&q.team),
        filters_open: scope == Scope::Team,
        tiles: tiles(state, &totals),
        charts,
        forecasts,
        kpis_csv_href: format!("/console/dashboard/export.csv?table=kpis&{qs}"),
        window,
    })
}

/// Each visible queue's backlog forecast (one queue when filtered).
async fn forecasts(
    state: &AppState,
    viewer: &Viewer,
    queue: Option<&str>,
) -> Result<Vec<ForecastView>, ConsoleError> {
    let forecasts = state
        .app
        .backlog_forecast(&viewer.caller.actor(), queue)
        .await?;
    Ok(forecasts
        .into_iter()
        .map(|f| ForecastView {
            queue: f.queue,
            open: f.open,
            outlook: f.outlook.as_str(),
            arithmetic: f.arithmetic,
        })
        .collect())
}

/// `GET /console/dashboard`: the team's KPIs (`metrics.read`).
pub async fn team(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<DashboardQuery>,
) -> Result<Response, ConsoleError> {
    let page = page(&state, &viewer, Scope::Team, &q).await?;
    Ok(render(StatusCode::OK, &page))
}

/// `GET /console/dashboard/me`: the signed-in reviewer's own KPIs.
pub async fn own(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(mut q): Query<DashboardQuery>,
) -> Result<Response, ConsoleError> {
    q.reviewer = Some(viewer.caller.principal.name.clone());
    q.team = None;
    let page = page(&state, &viewer, Scope::Own, &q).await?;
    Ok(render(StatusCode::OK, &page))
}

/// `GET /console/dashboard/queues/{queue}`: one queue's KPIs and forecast.
pub async fn queue(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(queue): Path<String>,
    Query(mut q): Query<DashboardQuery>,
) -> Result<Response, ConsoleError> {
    q.queue = Some(queue);
    let page = page(&state, &viewer, Scope::Queue, &q).await?;
    Ok(render(StatusCode::OK, &page))
}

/// `GET /console/dashboard/export.csv?table=`: one table of a dashboard
/// as CSV — `kpis` (the report by day, the spec's CSV) or a chart's id.
/// A reader without `metrics.read` exports their own.
pub async fn export(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(mut q): Query<DashboardQuery>,
) -> Result<Response, ConsoleError> {
    let scope = if viewer.may(Permission::MetricsRead) {
        Scope::Team
    } else {
        q.reviewer = Some(viewer.caller.principal.name.clone());
        q.team = None;
        Scope::Own
    };
    let table = q.table.clone().unwrap_or_else(|| "kpis".into());
    let csv = if table == "kpis" {
        let query = KpiQuery {
            group_by: Some(GroupBy::Day),
            ..page_query(&state, &q)?
        };
        report_csv(&state.app.kpis(&viewer.caller.actor(), &query).await?)
    } else {
        let page = page(&state, &viewer, scope, &q).await?;
        let wanted = format!("table={table}&");
        let chart = page
            .charts
            .iter()
            .find(|chart| chart.csv_href.contains(&wanted))
            .ok_or_else(|| ConsoleError::from(CommandError::invalid("table", "no such table")))?;
        table_csv(&chart.table)
    };
    let disposition = format!(
        "attachment; filename=\"{}.csv\"",
        table.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "-")
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        csv,
    )
        .into_response())
}
