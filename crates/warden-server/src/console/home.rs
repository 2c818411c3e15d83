//! Home: my queues with their counts, the cases closest to breaching their
//! SLA, and my work today.
//!
//! "My work today" counts the viewer's decisions and notes since midnight
//! UTC from the audit log, reading at most [`AUDIT_SCAN_MAX`] records of
//! today (the store has no query for a user's decisions yet; see
//! ARCHITECTURE.md). The page says so when it stopped early.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{TimeZone, Utc};

use warden_app::CommandResult;
use warden_domain::access::Permission;
use warden_domain::sla::{sla_state, SlaState};
use warden_domain::Timestamp;
use warden_store::{CaseFilter, CaseRecord, QueueStats};

use super::case::view::{sla_chips, status_label, SlaChip};
use super::case::OPEN_STATUSES;
use super::text;
use super::view::{render, ConsoleError, Layout, Viewer};
use crate::AppState;

pub use crate::limits::AUDIT_SCAN_MAX;

/// Open cases per queue looked at for the at-risk list.
const AT_RISK_SCAN: u32 = 100;

/// Cases in the at-risk list.
const AT_RISK_SHOWN: usize = 12;

/// One queue on the home page.
pub struct QueueRow {
    pub name: String,
    pub description: String,
    pub depth: i64,
    pub unassigned: i64,
    pub oldest: String,
    pub resolution_breaches: i64,
    pub first_touch_breaches: i64,
    pub claimable: bool,
    pub restricted_to: String,
}

/// A case in a list.
pub struct CaseRow {
    pub id: i64,
    pub queue: String,
    pub category: String,
    pub severity: &'static str,
    pub status: &'static str,
    pub subject: String,
    pub resolution: SlaChip,
    pub holder: String,
    pub lease_iso: String,
    pub lease_text: String,
    pub held: bool,
}

impl CaseRow {
    /// The row of `case` at `now`.
    pub fn new(case: &CaseRecord, now: Timestamp) -> Self {
        let (_, resolution) = sla_chips(case, now);
        let live = case.lease_is_live(now);
        Self {
            id: case.id.0,
            queue: case.queue.clone(),
            category: case.category.clone(),
            severity: case.severity.as_str(),
            status: status_label(case.status),
            subject: format!("{} {}", case.subject.kind, case.subject.id),
            resolution,
            holder: if live {
                case.assignee.clone().unwrap_or_default()
            } else {
                String::new()
            },
            lease_iso: case
                .lease_expires_at
                .filter(|_| live)
                .map(text::iso)
                .unwrap_or_default(),
            lease_text: case
                .lease_expires_at
                .filter(|_| live)
                .map(|t| text::until(now, t))
                .unwrap_or_default(),
            held: case.held && live,
        }
    }
}

/// A decision the viewer made today.
pub struct DoneRow {
    pub case_id: String,
    pub what: &'static str,
    pub ago: String,
}

/// The viewer's work today, from the audit log.
pub struct Today {
    pub decisions: Vec<DoneRow>,
    pub violations: usize,
    pub notes: usize,
    pub reads: usize,
    pub truncated: bool,
}

/// The home page.
#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage {
    layout: Layout,
    name: String,
    reads_cases: bool,
    works_cases: bool,
    queues: Vec<QueueRow>,
    at_risk: Vec<CaseRow>,
    held: Vec<CaseRow>,
    today: Today,
    links: Vec<(&'static str, &'static str, &'static str)>,
    /// QA feedback on the viewer's decisions waiting for their
    /// acknowledgement: (decision, case, feedback, sent back).
    feedback: Vec<(i64, i64, String, bool)>,
}

/// The queues whose cases the viewer may see, with numbers: claimable
/// ones first. Queues that do not admit the viewer are not shown.
pub fn queue_rows(state: &AppState, viewer: &Viewer, stats: &[QueueStats]) -> Vec<QueueRow> {
    let now = state.now();
    let principal = &viewer.caller.principal;
    let works = viewer.may(Permission::CaseWork);
    let policy = state.app.policy();
    let mut rows: Vec<QueueRow> = policy
        .router()
        .queues()
        .iter()
        .filter(|queue| queue.admits_principal(principal))
        .map(|queue| {
            let stat = stats.iter().find(|s| s.queue == queue.name);
            QueueRow {
                name: queue.name.clone(),
                description: queue.description.clone(),
                depth: stat.map_or(0, |s| s.depth),
                unassigned: stat.map_or(0, |s| s.unassigned),
                oldest: stat
                    .and_then(|s| s.oldest_opened_at)
                    .map(|t| text::span(now - t))
                    .unwrap_or_else(|| "—".into()),
                resolution_breaches: stat.map_or(0, |s| s.resolution_breaches),
                first_touch_breaches: stat.map_or(0, |s| s.first_touch_breaches),
                claimable: works && queue.admits_principal(principal),
                restricted_to: queue.restriction(),
            }
        })
        .collect();
    rows.sort_by_key(|r| !r.claimable);
    rows
}

/// Open cases closest to breaching (or past) their resolution deadline,
/// across `queues`.
async fn at_risk(
    state: &AppState,
    viewer: &Viewer,
    queues: &[String],
) -> CommandResult<Vec<CaseRecord>> {
    let now = state.now();
    let mut found = Vec::new();
    for queue in queues {
        let cases = state
            .app
            .case_metadata(
                &viewer.actor(),
                CaseFilter {
                    queue: Some(queue.clone()),
                    statuses: OPEN_STATUSES.to_vec(),
                    limit: AT_RISK_SCAN,
                    ..CaseFilter::default()
                },
            )
            .await?;
        found.extend(cases.into_iter().filter(|c| {
            matches!(
                sla_state(c.opened_at, c.resolve_due_at, None, now),
                SlaState::AtRisk | SlaState::Breached
            )
        }));
    }
    found.sort_by_key(|c| (std::cmp::Reverse(c.severity), c.resolve_due_at));
    found.truncate(AT_RISK_SHOWN);
    Ok(found)
}

/// Midnight UTC of `now`'s day.
pub fn start_of_day(now: Timestamp) -> Timestamp {
    Utc.from_utc_datetime(&now.date_naive().and_hms_opt(0, 0, 0).unwrap_or_default())
}

/// The sequence number after which today's audit records start: a galloping
/// then binary search over the chain, whose times only grow.
pub async fn audit_start_of(state: &AppState, since: Timestamp) -> CommandResult<i64> {
    let since_ms = since.timestamp_millis();
    // Whether record `seq` exists and is older than `since`.
    let before = |seq: i64| async move {
        let page = state.app.audit_records(seq - 1, 1).await?;
        CommandResult::Ok(
            page.first()
                .is_some_and(|r| r.entry.seq == seq && r.entry.at_ms < since_ms),
        )
    };
    if !before(1).await? {
        return Ok(0);
    }
    let mut low = 1i64;
    let mut high = 2i64;
    while before(high).await? {
        low = high;
        high = high.saturating_mul(2);
    }
    while high - low > 1 {
        let middle = low + (high - low) / 2;
        if before(middle).await? {
            low = middle;
        } else {
            high = middle;
        }
    }
    Ok(low)
}

/// The viewer's decisions, notes and case reads today.
pub async fn work_today(state: &AppState, name: &str) -> CommandResult<Today> {
    let now = state.now();
    let since = start_of_day(now);
    let mut after = audit_start_of(state, since).await?;
    let mut today = Today {
        decisions: Vec::new(),
        violations: 0,
        notes: 0,
        reads: 0,
        truncated: false,
    };
    let mut scanned = 0;
    loop {
        let page = state.app.audit_records(after, 1_000).await?;
        if page.is_empty() {
            break;
        }
        for record in &page {
            after = record.entry.seq;
            scanned += 1;
            if record.entry.actor != name || record.entry.at_ms < since.timestamp_millis() {
                continue;
            }
            match record.entry.action.as_str() {
                "case.decide" | "case.correct" => {
                    let violation = record.entry.after["decision"]["violation"]
                        .as_bool()
                        .unwrap_or(false);
                    if violation {
                        today.violations += 1;
                    }
                    today.decisions.push(DoneRow {
                        case_id: record.entry.target_id.clone(),
                        what: match (record.entry.action.as_str(), violation) {
                            ("case.correct", _) => "corrected",
                            (_, true) => "violation",
                            (_, false) => "no violation",
                        },
                        ago: chrono::DateTime::from_timestamp_millis(record.entry.at_ms)
                            .map(|t| text::ago(now, t))
                            .unwrap_or_default(),
                    });
                }
                "case.note" => today.notes += 1,
                "case.read" => today.reads += 1,
                _ => {}
            }
        }
        if scanned >= AUDIT_SCAN_MAX {
            today.truncated = !state.app.audit_records(after, 1).await?.is_empty();
            break;
        }
    }
    today.decisions.reverse();
    Ok(today)
}

/// `GET /console`.
pub async fn page(State(state): State<AppState>, viewer: Viewer) -> Result<Response, ConsoleError> {
    let reads_cases = viewer.may(Permission::CaseRead);
    let works_cases = viewer.may(Permission::CaseWork);
    let lists = if reads_cases {
        case_lists(&state, &viewer).await?
    } else {
        CaseLists::default()
    };
    let today = work_today(&state, &viewer.caller.principal.name).await?;
    let links = HOME_LINKS
        .iter()
        .filter(|(permission, ..)| viewer.may(*permission))
        .map(|&(_, href, title, blurb)| (href, title, blurb))
        .collect();
    let layout = Layout::new(&viewer, "Home", "home");
    let feedback = qa_feedback(&state, &viewer).await?;
    Ok(render(
        StatusCode::OK,
        &HomePage {
            feedback,
            layout,
            name: viewer.caller.principal.name.clone(),
            reads_cases,
            works_cases,
            queues: lists.queues,
            at_risk: lists.at_risk,
            held: lists.held,
            today,
            links,
        },
    ))
}

/// The home page's links to the lead's and the admins' pages, each shown to
/// whoever has its permission: (permission, href, title, what it is for).
const HOME_LINKS: [(Permission, &str, &str, &str); 4] = [
    (
        Permission::CaseAssign,
        "/console/lead",
        "Team overview",
        "Backlog, breaches and who holds what; reassign and release.",
    ),
    (
        Permission::UserAdmin,
        "/console/admin/users",
        "Users and roles",
        "Add people, disable accounts, see what each role may do.",
    ),
    (
        Permission::TokenAdmin,
        "/console/admin/tokens",
        "API tokens",
        "Tokens for platforms and scripts; the secret is shown once.",
    ),
    (
        Permission::MetricsRead,
        "/console/admin/queues",
        "Queues and SLA targets",
        "Routing and deadlines per queue and severity.",
    ),
];

/// The case lists on the home page of someone who may read cases.
#[derive(Default)]
struct CaseLists {
    queues: Vec<QueueRow>,
    at_risk: Vec<CaseRow>,
    held: Vec<CaseRow>,
}

/// The viewer's queues, the cases at risk in those they may work (or all
/// of them, for readers), and the cases they hold.
async fn case_lists(state: &AppState, viewer: &Viewer) -> Result<CaseLists, ConsoleError> {
    let now = state.now();
    let works_cases = viewer.may(Permission::CaseWork);
    let stats = state.app.queue_stats(&viewer.actor()).await?;
    let queues = queue_rows(state, viewer, &stats);
    let names: Vec<String> = queues
        .iter()
        .filter(|q| q.claimable || !works_cases)
        .filter(|q| q.depth > 0)
        .map(|q| q.name.clone())
        .collect();
    let risky = at_risk(state, viewer, &names).await?;
    let held = if works_cases {
        held_cases(state, viewer).await?
    } else {
        Vec::new()
    };
    Ok(CaseLists {
        queues,
        at_risk: risky.iter().map(|c| CaseRow::new(c, now)).collect(),
        held,
    })
}

/// The open cases the viewer holds a live lease on.
async fn held_cases(state: &AppState, viewer: &Viewer) -> Result<Vec<CaseRow>, ConsoleError> {
    let now = state.now();
    Ok(state
        .app
        .case_metadata(
            &viewer.actor(),
            CaseFilter {
                statuses: OPEN_STATUSES.to_vec(),
                assignee_id: Some(viewer.caller.principal.user_id),
                limit: 50,
                ..CaseFilter::default()
            },
        )
        .await?
        .into_iter()
        .filter(|c| c.is_held_by(viewer.caller.principal.user_id, now))
        .map(|c| CaseRow::new(&c, now))
        .collect())
}

/// QA feedback on the viewer's decisions waiting for their acknowledgement:
/// (decision, case, feedback, sent back).
async fn qa_feedback(
    state: &AppState,
    viewer: &Viewer,
) -> Result<Vec<(i64, i64, String, bool)>, ConsoleError> {
    Ok(state
        .app
        .my_qa_feedback(&viewer.actor())
        .await?
        .iter()
        .map(|stored| {
            let record = stored.assignment.record();
            let text = record
                .rubric
                .as_ref()
                .map(|(rubric, _)| rubric.feedback.clone())
                .unwrap_or_default();
            (
                record.decision_id,
                record.case_id.0,
                text,
                stored.rework.is_some(),
            )
        })
        .collect())
}
