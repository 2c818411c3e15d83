//! `warden bench case-page`: the console's case review page, rendered
//! through the router in process (no sockets) with a session cookie, over a
//! scratch database of 100,000 cases. Each view runs what a browser's does:
//! authentication, the case with its reports and signals, the subject's and
//! the account's history, the audited read, and the template.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{ensure, Result};
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use chrono::{Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use tower::ServiceExt;

use warden_domain::access::Role;
use warden_domain::decision::{ActionKind, ActionSpec, DecisionInput, Rationale};
use warden_domain::ids::{PlatformId, SubjectKind};
use warden_domain::intake::{MediaItem, NewReport, NewSubject, ReportSource};
use warden_domain::{CaseId, SubjectRef};
use warden_server::auth::{new_secret, secret_hash};
use warden_server::AppState;
use warden_store::prelude::*;
use warden_store::{Actor, CasePolicy, SqlStore};

use crate::config::Config;
use crate::progress;

/// Items per intake call: large batches, as a platform's backfill would send.
const BATCH: usize = 10_000;

/// Page views measured (after a warm-up).
const VIEWS: usize = 1_000;

/// Cases decided before measuring, so that histories hold decisions,
/// actions and strikes.
const DECIDED: usize = 1_000;

const CATEGORIES: &[&str] = &["spam", "scam", "harassment", "hate", "misinformation"];

fn id(text: &str) -> PlatformId {
    // cannot fail: the benchmark's ids are a fixed prefix and numbers.
    PlatformId::parse(text).expect("benchmark ids are valid")
}

/// Loads `cases` cases, then renders case pages and prints the latency.
pub async fn run(
    config: &Config,
    store: Arc<SqlStore>,
    policy: &CasePolicy,
    cases: Option<usize>,
) -> Result<()> {
    let total = cases.unwrap_or(100_000);
    let accounts = (total / 10).max(1);
    let now = Utc::now();
    let mut rng = StdRng::seed_from_u64(42);
    let loading = Instant::now();
    load(&store, policy, (total, accounts), now).await?;
    let counts = store.intake_counts().await?;
    ensure!(
        counts.cases as usize >= total,
        "expected {total} cases, found {}",
        counts.cases
    );
    // Some history: decisions with actions and strikes, by another analyst.
    let decided = decide_some(&store, policy, now).await?;
    let loaded_in = loading.elapsed();

    // The analyst whose session views the pages, holding one case.
    let (session, held) = analyst_session(&store, policy, now).await?;
    let state = AppState::new(store.clone(), policy.clone(), config.server_settings(false));
    let app = warden_server::router(state);
    let cases = counts.cases;
    for _ in 0..50 {
        view(&app, &session, CaseId(rng.gen_range(1..=cases))).await?;
    }
    let held_page = view(&app, &session, held).await?;
    ensure!(held_page.1 > 0);
    let mut latencies = Vec::with_capacity(VIEWS);
    let mut bytes = 0;
    let bar = progress::bar(VIEWS as u64, "page views");
    for n in 0..VIEWS {
        // One view in ten is the analyst's own case, with the decision form.
        let case = if n % 10 == 0 {
            held
        } else {
            CaseId(rng.gen_range(1..=cases))
        };
        let (elapsed, size) = view(&app, &session, case).await?;
        latencies.push(elapsed.as_secs_f64() * 1000.0);
        bytes += size;
        bar.inc(1);
    }
    bar.finish_and_clear();
    latencies.sort_by(f64::total_cmp);
    let at = |q: f64| {
        latencies[((latencies.len() as f64 * q).ceil() as usize).clamp(1, latencies.len()) - 1]
    };
    println!(
        "backend: {}, {} cases, {} accounts, {decided} decided; loaded in {:.0} s",
        store.backend().as_str(),
        counts.cases,
        accounts,
        loaded_in.as_secs_f64()
    );
    println!(
        "{VIEWS} case pages (one in ten with the decision form), {:.0} KiB on average, each with its audited read",
        bytes as f64 / VIEWS as f64 / 1024.0
    );
    println!(
        "p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        at(0.50),
        at(0.95),
        at(0.99),
        latencies.last().copied().unwrap_or_default()
    );
    println!("case-page: {:.1} ms", at(0.95));
    Ok(())
}

/// Ingests `accounts` accounts, then `total` posts, each with a report
/// that opens a case.
async fn load(
    store: &SqlStore,
    policy: &CasePolicy,
    (total, accounts): (usize, usize),
    now: chrono::DateTime<Utc>,
) -> Result<()> {
    let system = Actor::system();
    let bar = progress::bar((accounts + total * 2) as u64, "loading");
    let account_subjects: Vec<NewSubject> = (0..accounts)
        .map(|n| NewSubject {
            subject: SubjectRef::new(SubjectKind::Account, id(&format!("acct_{n}"))),
            created_at: Some(now - Duration::days((n % 900) as i64)),
            owner: None,
            text: Some(format!("Profile of account {n}")),
            media: Vec::new(),
            attributes: json!({"display_name": format!("User {n}"), "email": format!("user{n}@example.com"), "ips": [format!("203.0.113.{}", n % 250)], "country": "DE", "follower_count": n % 5000}),
        })
        .collect();
    for chunk in account_subjects.chunks(BATCH) {
        store.ingest_subjects(&system, chunk.to_vec(), now).await?;
        bar.inc(chunk.len() as u64);
    }
    for start in (0..total).step_by(BATCH) {
        let end = (start + BATCH).min(total);
        let posts: Vec<NewSubject> = (start..end)
            .map(|n| NewSubject {
                subject: SubjectRef::new(SubjectKind::Content, id(&format!("post_{n}"))),
                created_at: Some(now - Duration::minutes((n % 10_000) as i64)),
                owner: Some(SubjectRef::new(SubjectKind::Account, id(&format!("acct_{}", n % accounts)))),
                text: Some(format!("Post number {n}: GET 10K FOLLOWERS FAST at free-followers.example, limited offer, write to seller{n}@example.com")),
                media: if n % 5 == 0 {
                    vec![MediaItem { url: format!("https://cdn.example/img/{n}.jpg"), mime: Some("image/jpeg".into()), sha256: None }]
                } else {
                    Vec::new()
                },
                attributes: json!({"visibility": "public"}),
            })
            .collect();
        store.ingest_subjects(&system, posts, now).await?;
        bar.inc((end - start) as u64);
        let reports: Vec<NewReport> = (start..end)
            .map(|n| NewReport {
                id: id(&format!("rep_{n}")),
                subject: SubjectRef::new(SubjectKind::Content, id(&format!("post_{n}"))),
                reason: CATEGORIES[n % CATEGORIES.len()].into(),
                source: ReportSource::UserReport,
                reporter: Some(SubjectRef::new(
                    SubjectKind::Account,
                    id(&format!("acct_{}", (n * 7) % accounts)),
                )),
                text: Some("spam link, please look <script>alert(1)</script>".into()),
                language: Some("en".into()),
                created_at: Some(now - Duration::minutes((n % 3000) as i64)),
            })
            .collect();
        store.ingest_reports(&system, reports, policy, now).await?;
        bar.inc((end - start) as u64);
    }
    bar.finish_and_clear();
    Ok(())
}

/// Up to [`DECIDED`] decisions with actions and strikes, by another analyst;
/// how many were made.
async fn decide_some(
    store: &SqlStore,
    policy: &CasePolicy,
    now: chrono::DateTime<Utc>,
) -> Result<usize> {
    let system = Actor::system();
    let worker = store
        .create_user(&system, "bench_worker", Role::Analyst, "x", now)
        .await?;
    let worker = Actor::user(worker.id, &worker.name);
    let mut decided = 0;
    'queues: for queue in policy.router.queues() {
        while decided < DECIDED {
            let Some(case) = store
                .claim_next(&worker, &queue.name, Duration::minutes(10), now)
                .await?
            else {
                continue 'queues;
            };
            let input = DecisionInput {
                violation: true,
                category: case.category.clone(),
                policy: Some("bench-1".into()),
                actions: vec![
                    ActionSpec {
                        kind: ActionKind::RemoveContent,
                        duration: None,
                    },
                    ActionSpec {
                        kind: ActionKind::Warn,
                        duration: None,
                    },
                ],
                rationale: Rationale {
                    what_happened: "benchmark".into(),
                    evidence: "the post".into(),
                    policy: "bench policy".into(),
                    action: "removal and a warning".into(),
                    next_steps: String::new(),
                },
            };
            store
                .decide(
                    &worker,
                    case.id,
                    case.version,
                    input,
                    policy,
                    warden_store::DecisionMode::First,
                    now,
                )
                .await?;
            decided += 1;
        }
        break;
    }
    Ok(decided)
}

/// A session of a new analyst holding one spam case: the session secret
/// and the held case.
async fn analyst_session(
    store: &SqlStore,
    policy: &CasePolicy,
    now: chrono::DateTime<Utc>,
) -> Result<(String, CaseId)> {
    let system = Actor::system();
    let analyst = store
        .create_user(&system, "bench_analyst", Role::Analyst, "x", now)
        .await?;
    let session = new_secret("");
    store
        .create_session(
            analyst.id,
            &secret_hash(&session),
            &new_secret(""),
            now + Duration::hours(2),
            now,
        )
        .await?;
    let spam = policy
        .router
        .route(&warden_domain::routing::RoutingInput {
            category: "spam",
            source: ReportSource::UserReport,
            severity: warden_domain::case::Severity::Low,
            language: Some("en"),
        })
        .name
        .clone();
    let held = store
        .claim_next(
            &Actor::user(analyst.id, &analyst.name),
            &spam,
            Duration::hours(1),
            now,
        )
        .await?
        .map(|c| c.id)
        .unwrap_or(CaseId(1));
    Ok((session, held))
}

/// Renders one case page as the analyst's browser would; how long it took
/// and its size.
async fn view(
    app: &axum::Router,
    session: &str,
    case: CaseId,
) -> Result<(std::time::Duration, usize)> {
    let request = Request::builder()
        .uri(format!("/console/cases/{case}"))
        .header(header::COOKIE, format!("warden_session={session}"))
        .body(Body::empty())
        // cannot fail: a GET with a literal URI and no body always builds.
        .expect("a request");
    let started = Instant::now();
    // cannot fail: a router's service never fails (its error type is Infallible).
    let response = app.clone().oneshot(request).await.expect("an answer");
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX).await?;
    let elapsed = started.elapsed();
    ensure!(status == StatusCode::OK, "case {case}: {status}");
    ensure!(
        body.len() > 10_000,
        "case {case}: a page too small to be whole"
    );
    Ok((elapsed, body.len()))
}
