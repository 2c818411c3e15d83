//! A queue: its cases with filters (category, severity, source, language,
//! age, SLA state, status), sorting and counts, and "Start reviewing".
//!
//! The store lists a queue in claim order filtered by status, category,
//! severity and language; the source, age and SLA filters and the counts
//! apply to the first [`WINDOW`] cases of that list, and the page says so
//! when there are more.

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Duration;
use serde::Deserialize;

use warden_domain::access::Permission;
use warden_domain::case::CaseStatus;
use warden_domain::limits::PAGE_SIZE_MAX;
use warden_domain::sla::sla_state;
use warden_domain::taxonomy::Taxonomy;
use warden_domain::{CaseId, Timestamp};
use warden_store::{CaseFilter, CaseRecord, ReportRecord, SignalRecord};

use super::case::view::{sla_chips, status_label, SlaChip};
use super::case::{go_to_next, OPEN_STATUSES};
use super::home::queue_rows;
use super::text;
use super::view::{problem_notice, render, ConsoleError, ConsoleForm, Layout, Notice, Viewer};
use crate::AppState;

/// Cases read from the head of the queue for filtering and counting.
pub const WINDOW: u32 = PAGE_SIZE_MAX;

/// Rows shown after filtering.
const ROWS_SHOWN: usize = 100;

/// Query of the queue page: every filter is optional; empty means any.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct QueueQuery {
    category: String,
    severity: String,
    source: String,
    language: String,
    age: String,
    sla: String,
    status: String,
    sort: String,
    empty: Option<String>,
    decided: Option<i64>,
    released: Option<i64>,
    escalated: Option<i64>,
    to: Option<String>,
    problem: Option<String>,
}

/// One value of a filter, with how many cases in the window have it.
pub struct Facet {
    pub value: String,
    pub label: String,
    pub count: usize,
    pub chosen: bool,
}

/// A filter: its field name, label and values.
pub struct Filter {
    pub name: &'static str,
    pub label: &'static str,
    pub any: &'static str,
    pub facets: Vec<Facet>,
}

/// One case in the list.
pub struct Row {
    pub id: i64,
    pub subject: String,
    pub category: String,
    pub severity: &'static str,
    pub status: &'static str,
    pub source: String,
    pub language: String,
    pub age: String,
    pub first_touch: SlaChip,
    pub resolution: SlaChip,
    pub reports: i64,
    pub signals: i64,
    pub holder: String,
    pub snippet: String,
}

/// The queue page.
#[derive(Template)]
#[template(path = "queue.html")]
pub struct QueuePage {
    layout: Layout,
    name: String,
    description: String,
    depth: i64,
    unassigned: i64,
    oldest: String,
    breaches: i64,
    claimable: bool,
    filters: Vec<Filter>,
    sorts: Vec<Facet>,
    rows: Vec<Row>,
    matching: usize,
    window: usize,
    window_full: bool,
    filtered: bool,
}

struct Entry {
    case: CaseRecord,
    source: String,
    snippet: String,
    sla: &'static str,
    age: &'static str,
}

/// Age buckets: value, label, the upper bound of the age.
const AGES: &[(&str, &str, i64)] = &[
    ("1h", "under 1 hour", 3600),
    ("24h", "1 to 24 hours", 86_400),
    ("3d", "1 to 3 days", 3 * 86_400),
    ("older", "over 3 days", i64::MAX),
];

fn age_bucket(age: Duration) -> &'static str {
    let seconds = age.num_seconds();
    AGES.iter()
        .find(|(_, _, bound)| seconds < *bound)
        .map_or("older", |(value, _, _)| value)
}

const SORTS: &[(&str, &str)] = &[
    ("", "Queue order (claim order)"),
    ("deadline", "Resolution deadline, soonest first"),
    ("oldest", "Oldest first"),
    ("newest", "Newest first"),
    ("priority", "Priority, highest first"),
    ("reports", "Most reports first"),
];

fn facets<'a>(
    values: impl Iterator<Item = &'a str>,
    chosen: &str,
    label: impl Fn(&str) -> String,
) -> Vec<Facet> {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for value in values {
        match counts.iter_mut().find(|(v, _)| v == value) {
            Some((_, count)) => *count += 1,
            None => counts.push((value.to_string(), 1)),
        }
    }
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    if !chosen.is_empty() && !counts.iter().any(|(v, _)| v == chosen) {
        counts.push((chosen.to_string(), 0));
    }
    counts
        .into_iter()
        .map(|(value, count)| Facet {
            label: label(&value),
            chosen: value == chosen,
            value,
            count,
        })
        .collect()
}

/// `GET /console/queues/{queue}`.
pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(queue): Path<String>,
    query: Result<Query<QueueQuery>, QueryRejection>,
) -> Result<Response, ConsoleError> {
    let query = query.map(|Query(q)| q).unwrap_or_default();
    let now = state.now();
    let actor = viewer.actor();
    let policy = state.app.policy();
    // A queue that does not admit the viewer reads like one that does not exist.
    let definition = policy
        .router()
        .queue(&queue)
        .filter(|q| q.admits_principal(&viewer.caller.principal))
        .ok_or_else(|| ConsoleError::not_found(format!("There is no queue named {queue:?}.")))?;
    let stats = state.app.queue_stats(&actor).await?;
    let row = queue_rows(&state, &viewer, &stats)
        .into_iter()
        .find(|r| r.name == queue)
        .ok_or_else(|| ConsoleError::not_found("No such queue."))?;
    let entries = window_entries(&state, &viewer, &queue, &query, now).await?;
    let window = entries.len();
    let filters = filters(&entries, &query, policy.taxonomy());
    let (rows, matching) = chosen_rows(&entries, &query, now);
    let queue_names: Vec<String> = policy
        .router()
        .queues()
        .iter()
        .map(|q| q.name.clone())
        .collect();
    let notice = notice_of(&query, &queue_names);
    let filtered = [
        &query.category,
        &query.severity,
        &query.source,
        &query.language,
        &query.age,
        &query.sla,
    ]
    .iter()
    .any(|v| !v.is_empty());
    let layout = Layout::new(&viewer, format!("Queue {queue}"), "queue").with_notice(notice);
    Ok(render(
        StatusCode::OK,
        &QueuePage {
            layout,
            name: queue.clone(),
            description: definition.description.clone(),
            depth: row.depth,
            unassigned: row.unassigned,
            oldest: row.oldest,
            breaches: row.resolution_breaches,
            claimable: row.claimable,
            filters,
            sorts: SORTS
                .iter()
                .map(|(value, label)| Facet {
                    value: value.to_string(),
                    label: label.to_string(),
                    count: 0,
                    chosen: *value == query.sort,
                })
                .collect(),
            rows,
            matching,
            window,
            window_full: window == WINDOW as usize,
            filtered,
        },
    ))
}

/// The window of the queue's cases the page filters: category, severity
/// and language are filtered by the store, so the window is taken from the
/// cases that match them, however long the queue.
async fn window_entries(
    state: &AppState,
    viewer: &Viewer,
    queue: &str,
    query: &QueueQuery,
    now: Timestamp,
) -> Result<Vec<Entry>, ConsoleError> {
    let statuses = match query.status.parse::<CaseStatus>() {
        Ok(status) => vec![status],
        Err(_) => OPEN_STATUSES.to_vec(),
    };
    let cases = state
        .app
        .case_metadata(
            &viewer.actor(),
            CaseFilter {
                queue: Some(queue.to_string()),
                statuses,
                category: Some(query.category.clone()).filter(|c| !c.is_empty()),
                severity: query.severity.parse().ok(),
                language: Some(query.language.clone()).filter(|l| !l.is_empty()),
                limit: WINDOW,
                ..CaseFilter::default()
            },
        )
        .await?;
    let ids: Vec<CaseId> = cases.iter().map(|c| c.id).collect();
    let (reports, signals) = state.app.items_of_cases(&ids, 1).await?;
    Ok(cases
        .into_iter()
        .map(|case| {
            let report = reports.iter().find(|r| r.case_id == Some(case.id));
            let signal = signals.iter().find(|s| s.case_id == Some(case.id));
            entry(case, report, signal, now)
        })
        .collect())
}

/// A case of the window with its first report or signal.
fn entry(
    case: CaseRecord,
    report: Option<&ReportRecord>,
    signal: Option<&SignalRecord>,
    now: Timestamp,
) -> Entry {
    let source = match (report, signal) {
        (Some(r), _) => r.source.as_str().to_string(),
        (None, Some(_)) => "signal".to_string(),
        (None, None) => "unknown".to_string(),
    };
    let snippet = report
        .and_then(|r| r.text.as_deref())
        .map(|t| text::snippet(&text::shown(t, false).0, 90))
        .or_else(|| signal.map(|s| format!("{} scored {:.2}", s.name, s.score)))
        .unwrap_or_default();
    let sla = sla_state(case.opened_at, case.resolve_due_at, None, now).as_str();
    let age = age_bucket(now - case.opened_at);
    Entry {
        case,
        source,
        snippet,
        sla,
        age,
    }
}

/// The filters over the window, each value with its count.
fn filters(entries: &[Entry], query: &QueueQuery, taxonomy: &Taxonomy) -> Vec<Filter> {
    let filter = |name, label, any, facets| Filter {
        name,
        label,
        any,
        facets,
    };
    vec![
        filter(
            "category",
            "Category",
            "Any category",
            facets(
                entries.iter().map(|e| e.case.category.as_str()),
                &query.category,
                |v| taxonomy.get(v).map_or(v.to_string(), |c| c.name.clone()),
            ),
        ),
        filter(
            "severity",
            "Severity",
            "Any severity",
            facets(
                entries.iter().map(|e| e.case.severity.as_str()),
                &query.severity,
                str::to_string,
            ),
        ),
        filter(
            "source",
            "Source",
            "Any source",
            facets(
                entries.iter().map(|e| e.source.as_str()),
                &query.source,
                |v| v.replace('_', " "),
            ),
        ),
        filter(
            "language",
            "Language",
            "Any language",
            facets(
                entries
                    .iter()
                    .map(|e| e.case.language.as_deref().unwrap_or("unknown")),
                &query.language,
                str::to_string,
            ),
        ),
        filter(
            "age",
            "Age",
            "Any age",
            facets(entries.iter().map(|e| e.age), &query.age, |v| {
                AGES.iter()
                    .find(|(value, _, _)| *value == v)
                    .map_or(v.to_string(), |(_, label, _)| label.to_string())
            }),
        ),
        filter(
            "sla",
            "Resolution SLA",
            "Any SLA state",
            facets(entries.iter().map(|e| e.sla), &query.sla, |v| {
                v.replace('_', " ")
            }),
        ),
    ]
}

/// The rows shown (at most [`ROWS_SHOWN`]) of the entries the filters
/// keep, in the chosen order, and how many they keep.
fn chosen_rows(entries: &[Entry], query: &QueueQuery, now: Timestamp) -> (Vec<Row>, usize) {
    let mut chosen: Vec<&Entry> = entries
        .iter()
        .filter(|e| query.category.is_empty() || e.case.category == query.category)
        .filter(|e| query.severity.is_empty() || e.case.severity.as_str() == query.severity)
        .filter(|e| query.source.is_empty() || e.source == query.source)
        .filter(|e| {
            query.language.is_empty()
                || e.case.language.as_deref().unwrap_or("unknown") == query.language
        })
        .filter(|e| query.age.is_empty() || e.age == query.age)
        .filter(|e| query.sla.is_empty() || e.sla == query.sla)
        .collect();
    match query.sort.as_str() {
        "deadline" => chosen.sort_by_key(|e| e.case.resolve_due_at),
        "oldest" => chosen.sort_by_key(|e| e.case.opened_at),
        "newest" => chosen.sort_by_key(|e| std::cmp::Reverse(e.case.opened_at)),
        "priority" => chosen.sort_by_key(|e| std::cmp::Reverse(e.case.priority)),
        "reports" => chosen.sort_by_key(|e| std::cmp::Reverse(e.case.report_count)),
        _ => {}
    }
    let matching = chosen.len();
    let rows = chosen
        .into_iter()
        .take(ROWS_SHOWN)
        .map(|e| row(e, now))
        .collect();
    (rows, matching)
}

fn row(e: &Entry, now: Timestamp) -> Row {
    let (first_touch, resolution) = sla_chips(&e.case, now);
    let live = e.case.lease_is_live(now);
    Row {
        id: e.case.id.0,
        subject: format!("{} {}", e.case.subject.kind, e.case.subject.id),
        category: e.case.category.clone(),
        severity: e.case.severity.as_str(),
        status: status_label(e.case.status),
        source: e.source.replace('_', " "),
        language: e.case.language.clone().unwrap_or_default(),
        age: text::span(now - e.case.opened_at),
        first_touch,
        resolution,
        reports: e.case.report_count,
        signals: e.case.signal_count,
        holder: if live {
            e.case.assignee.clone().unwrap_or_default()
        } else {
            String::new()
        },
        snippet: e.snippet.clone(),
    }
}

fn notice_of(query: &QueueQuery, queues: &[String]) -> Option<Notice> {
    if let Some(problem) = &query.problem {
        return problem_notice(problem);
    }
    let decided = query
        .decided
        .map(|id| format!("Case {id} is decided. "))
        .unwrap_or_default();
    if query.empty.is_some() {
        return Some(Notice::ok(format!(
            "{decided}Nothing left in this queue for you to claim."
        )));
    }
    if let Some(id) = query.released {
        return Some(Notice::ok(format!("Case {id} is back in the queue.")));
    }
    if let Some(id) = query.escalated {
        // Named only when the name is a queue's: the query is not trusted.
        let to = query
            .to
            .as_deref()
            .filter(|to| queues.iter().any(|q| q == to))
            .unwrap_or("the escalation queue");
        return Some(Notice::ok(format!("Case {id} is escalated to {to}.")));
    }
    (!decided.is_empty()).then(|| Notice::ok(decided.trim().to_string()))
}

/// The form of "Start reviewing" (only the CSRF token).
#[derive(Debug, Default, Deserialize)]
pub struct StartForm {}

/// `POST /console/queues/{queue}/start`: resumes the case the viewer holds
/// in this queue, or claims the next one, and opens it.
pub async fn start(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(queue): Path<String>,
    ConsoleForm(_form): ConsoleForm<StartForm>,
) -> Result<Response, ConsoleError> {
    if state.app.policy().router().queue(&queue).is_none() {
        return Err(ConsoleError::not_found(format!(
            "There is no queue named {queue:?}."
        )));
    }
    debug_assert!(viewer.may(Permission::CaseWork));
    Ok(go_to_next(&state, &viewer, &queue, None).await)
}
