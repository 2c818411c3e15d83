//! The lead's team overview: backlog per queue, the oldest case, SLA
//! breaches, who holds what, and reassigning or releasing held cases.

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use warden_domain::access::Permission;
use warden_store::{CaseFilter, UserRecord};

use super::case::OPEN_STATUSES;
use super::home::{queue_rows, start_of_day, CaseRow, QueueRow};
use super::queue::WINDOW;
use super::view::{problem_code, problem_notice, render, ConsoleError, Layout, Notice, Viewer};
use crate::error::AppError;
use crate::AppState;

/// One queue's line, with the deadlines that passed today.
pub struct QueueLine {
    pub queue: QueueRow,
    pub passed_today: usize,
    pub passed_today_more: bool,
}

/// One person who works cases, with what they hold.
pub struct Holder {
    pub name: String,
    pub role: String,
    pub cases: Vec<HeldCase>,
}

/// A held case with its version, for the reassign and release forms.
pub struct HeldCase {
    pub row: CaseRow,
    pub version: i64,
}

/// An escalation waiting for its team, on the lead view.
pub struct EscalationLine {
    pub case_id: i64,
    pub title: String,
    pub team: String,
    pub escalated_at: String,
    pub acknowledge_by: String,
    pub overdue: bool,
    pub pages_sent: u32,
}

/// The unacknowledged escalations that stay on the lead view, of cases the
/// lead may see.
async fn escalation_lines(
    state: &AppState,
    actor: &warden_app::Actor,
) -> Result<Vec<EscalationLine>, ConsoleError> {
    let now = state.now();
    let time = |t: warden_domain::Timestamp| t.format("%Y-%m-%d %H:%M UTC").to_string();
    Ok(state
        .app
        .lead_escalations(actor)
        .await?
        .into_iter()
        .map(|e| EscalationLine {
            case_id: e.escalation.case_id.0,
            title: e.title,
            team: e.escalation.team.clone(),
            escalated_at: time(e.escalation.times.escalated_at),
            acknowledge_by: time(e.escalation.acknowledge_by),
            overdue: now > e.escalation.acknowledge_by,
            pages_sent: e.escalation.pages_sent,
        })
        .collect())
}

/// The team overview page.
#[derive(Template)]
#[template(path = "lead.html")]
pub struct LeadPage {
    layout: Layout,
    queues: Vec<QueueLine>,
    escalations: Vec<EscalationLine>,
    holders: Vec<Holder>,
    free: Vec<String>,
    assignees: Vec<String>,
    total_open: i64,
    total_breaches: i64,
}

/// Query of the team page: what just happened.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LeadQuery {
    assigned: Option<i64>,
    to: Option<String>,
    released: Option<i64>,
    problem: Option<String>,
}

/// Back to the team page with a problem to show.
pub fn with_problem(error: AppError) -> Response {
    super::redirect(&format!("/console/lead?problem={}", problem_code(&error)))
}

/// `GET /console/lead`.
pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    query: Result<Query<LeadQuery>, QueryRejection>,
) -> Result<Response, ConsoleError> {
    let query = query.map(|Query(q)| q).unwrap_or_default();
    let actor = viewer.actor();
    let queues = queue_lines(&state, &viewer).await?;
    let users = state.app.users().await?;
    let workers: Vec<_> = users
        .iter()
        .filter(|u| !u.disabled && u.role.grants(Permission::CaseWork))
        .collect();
    let (holders, free) = holders_and_free(&state, &actor, &workers).await?;
    let notice = lead_notice(&query, &users);
    let total_open = queues.iter().map(|q| q.queue.depth).sum();
    let total_breaches = queues.iter().map(|q| q.queue.resolution_breaches).sum();
    let layout = Layout::new(&viewer, "Team", "lead").with_notice(notice);
    Ok(render(
        StatusCode::OK,
        &LeadPage {
            layout,
            queues,
            escalations: escalation_lines(&state, &actor).await?,
            holders,
            free,
            assignees: workers.iter().map(|u| u.name.clone()).collect(),
            total_open,
            total_breaches,
        },
    ))
}

/// The queues the lead may see (role and team), deepest first, each with
/// the deadlines that passed today.
async fn queue_lines(state: &AppState, viewer: &Viewer) -> Result<Vec<QueueLine>, ConsoleError> {
    let actor = viewer.actor();
    let stats = state.app.queue_stats(&actor).await?;
    let mut queues = Vec::new();
    for row in queue_rows(state, viewer, &stats) {
        let (passed_today, passed_today_more) = if row.depth > 0 {
            passed_today(state, &actor, &row.name).await?
        } else {
            (0, false)
        };
        queues.push(QueueLine {
            queue: row,
            passed_today,
            passed_today_more,
        });
    }
    queues.sort_by_key(|q| std::cmp::Reverse(q.queue.depth));
    Ok(queues)
}

/// How many open cases of a queue passed their deadline today, and whether
/// the window was full (so there may be more).
async fn passed_today(
    state: &AppState,
    actor: &warden_app::Actor,
    queue: &str,
) -> Result<(usize, bool), ConsoleError> {
    let now = state.now();
    let midnight = start_of_day(now);
    let cases = state
        .app
        .case_metadata(
            actor,
            CaseFilter {
                queue: Some(queue.to_string()),
                statuses: OPEN_STATUSES.to_vec(),
                limit: WINDOW,
                ..CaseFilter::default()
            },
        )
        .await?;
    let full = cases.len() == WINDOW as usize;
    let passed = cases
        .iter()
        .filter(|c| c.resolve_due_at >= midnight && c.resolve_due_at <= now)
        .count();
    Ok((passed, full))
}

/// The workers who hold live cases, with those cases, and the names of the
/// ones who hold none.
async fn holders_and_free(
    state: &AppState,
    actor: &warden_app::Actor,
    workers: &[&UserRecord],
) -> Result<(Vec<Holder>, Vec<String>), ConsoleError> {
    let now = state.now();
    let mut holders = Vec::new();
    let mut free = Vec::new();
    for user in workers {
        let cases: Vec<HeldCase> = state
            .app
            .case_metadata(
                actor,
                CaseFilter {
                    statuses: OPEN_STATUSES.to_vec(),
                    assignee_id: Some(user.id),
                    limit: 100,
                    ..CaseFilter::default()
                },
            )
            .await?
            .iter()
            .filter(|c| c.lease_is_live(now))
            .map(|c| HeldCase {
                row: CaseRow::new(c, now),
                version: c.version,
            })
            .collect();
        if cases.is_empty() {
            free.push(user.name.clone());
        } else {
            holders.push(Holder {
                name: user.name.clone(),
                role: user.role.as_str().to_string(),
                cases,
            });
        }
    }
    Ok((holders, free))
}

/// What just happened, from the query: a problem, a hand-over or a release.
fn lead_notice(query: &LeadQuery, users: &[UserRecord]) -> Option<Notice> {
    if let Some(problem) = &query.problem {
        problem_notice(problem)
    } else if let Some(id) = query.assigned {
        // Named only when the name is a user's: the query is not trusted.
        let to = query
            .to
            .as_deref()
            .filter(|to| users.iter().any(|u| u.name == *to))
            .unwrap_or("them");
        Some(Notice::ok(format!("Case {id} is handed to {to}.")))
    } else {
        query
            .released
            .map(|id| Notice::ok(format!("Case {id} is back in its queue.")))
    }
}
