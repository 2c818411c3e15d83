//! `warden bench bulk`: a bulk action over a 20,000-case incident (or
//! `--items N`), through the same path as the API: the incident, its cases
//! joined by query, the dry run, the submission, one lead's approval, then
//! the bulk runner deciding each case through the enforcement path in
//! batches. Measures the run: cases decided per second.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{ensure, Result};
use chrono::Utc;

use warden_app::incidents::BulkDraft;
use warden_app::{Actor as AppActor, App, AppSettings};
use warden_domain::access::{Principal, Role};
use warden_domain::decision::Rationale;
use warden_domain::ids::{PlatformId, SubjectKind};
use warden_domain::incident::{CaseQueryInput, IncidentInput, MembershipInput};
use warden_domain::intake::{NewReport, NewSubject, ReportSource};
use warden_domain::SubjectRef;
use warden_store::prelude::*;
use warden_store::{Actor, BulkActionRecord, CasePolicy, SqlStore};
use warden_workers::bulk::BulkRunner;

use crate::progress;

/// Items per intake call.
const BATCH: usize = 5_000;

fn id(text: &str) -> PlatformId {
    // cannot fail: the benchmark's ids are a fixed prefix and numbers.
    PlatformId::parse(text).expect("benchmark ids are valid")
}

/// `total` spam cases on posts of `total / 4` accounts.
async fn load(store: &SqlStore, policy: &CasePolicy, total: usize) -> Result<()> {
    let system = Actor::system();
    let now = Utc::now();
    let accounts = (total / 4).max(1);
    let bar = progress::bar(total as u64, "loading");
    for start in (0..total).step_by(BATCH) {
        let end = (start + BATCH).min(total);
        let posts: Vec<NewSubject> = (start..end)
            .map(|n| NewSubject {
                subject: SubjectRef::new(SubjectKind::Content, id(&format!("wave_{n}"))),
                created_at: Some(now),
                owner: Some(SubjectRef::new(
                    SubjectKind::Account,
                    id(&format!("farm_{}", n % accounts)),
                )),
                text: Some(format!(
                    "GET 10K FOLLOWERS FAST at free-followers.example #{n}"
                )),
                media: Vec::new(),
                attributes: serde_json::json!({"visibility": "public"}),
            })
            .collect();
        store.ingest_subjects(&system, posts, now).await?;
        let reports: Vec<NewReport> = (start..end)
            .map(|n| NewReport {
                id: id(&format!("wave_rep_{n}")),
                subject: SubjectRef::new(SubjectKind::Content, id(&format!("wave_{n}"))),
                reason: "spam".into(),
                source: ReportSource::UserReport,
                reporter: None,
                text: Some("follower spam".into()),
                language: Some("en".into()),
                created_at: Some(now),
            })
            .collect();
        store.ingest_reports(&system, reports, policy, now).await?;
        bar.inc((end - start) as u64);
    }
    bar.finish_and_clear();
    Ok(())
}

/// A lead (a new user) acting through the app.
pub async fn lead(store: &SqlStore, name: &str) -> Result<AppActor> {
    let user = match store.user_by_name(name).await? {
        Some(user) => user,
        None => {
            store
                .create_user(&Actor::system(), name, Role::Lead, "!", Utc::now())
                .await?
        }
    };
    Ok(AppActor::user(Principal {
        user_id: user.id,
        name: user.name,
        role: user.role,
        teams: user.teams,
        scope: None,
    }))
}

/// The bulk action of a containment: remove every open case's post.
pub fn removal(what_happened: &str) -> BulkDraft {
    BulkDraft {
        actions: vec![warden_app::decisions::ActionDraft {
            action_type: "remove_content".into(),
            ..Default::default()
        }],
        rationale: Rationale {
            what_happened: what_happened.into(),
            evidence: "the incident's cases: the same link, fresh accounts".into(),
            policy: "spam 2.1".into(),
            action: "remove the posts".into(),
            next_steps: "watch the link's domain".into(),
        },
        dry_run: Some(true),
        ..BulkDraft::default()
    }
}

/// Opens an incident over the open `category` cases and takes a bulk
/// action through its dry run, submission and approval (by `approver`);
/// answers the approved bulk action, ready for the runner.
pub async fn contain(
    app: &App,
    (author, approver): (&AppActor, &AppActor),
    (title, category): (&str, &str),
    draft: &BulkDraft,
) -> Result<BulkActionRecord> {
    let incident = app
        .create_incident(
            author,
            &IncidentInput {
                title: Some(title.into()),
                severity: Some("sev2".into()),
                description: Some(format!("a surge of {category} cases")),
            },
        )
        .await?;
    let query = CaseQueryInput {
        category: Some(category.into()),
        status: Some("new".into()),
        ..CaseQueryInput::default()
    };
    let membership = MembershipInput {
        case_ids: None,
        query: Some(query),
    };
    app.add_incident_cases(author, incident.id, &membership)
        .await?;
    let mut draft = draft.clone();
    draft.dry_run = Some(true);
    app.plan_bulk_action(author, incident.id, &draft).await?;
    draft.dry_run = Some(false);
    let submitted = app.plan_bulk_action(author, incident.id, &draft).await?;
    Ok(app
        .approve_bulk_action(approver, incident.id, submitted.record.id)
        .await?)
}

/// Loads the cases, contains them with one bulk action, runs it and
/// prints `bulk: N cases/s`.
pub async fn run(store: Arc<SqlStore>, policy: &CasePolicy, items: Option<usize>) -> Result<()> {
    let total = items
        .unwrap_or(20_000)
        .clamp(1, warden_domain::limits::BULK_CASES_MAX);
    load(&store, policy, total).await?;
    let app = App::new(store.clone(), policy.clone(), AppSettings::default());
    let author = lead(&store, "bench_lead").await?;
    let approver = lead(&store, "bench_approver").await?;
    let planning = Instant::now();
    let bulk = contain(
        &app,
        (&author, &approver),
        ("Benchmark wave", "spam"),
        &removal("a follower-spam wave"),
    )
    .await?;
    let planned_in = planning.elapsed();
    ensure!(
        bulk.planned as usize == total,
        "planned {} of {total} cases",
        bulk.planned
    );
    let bar = progress::bar(total as u64, "deciding");
    let runner = BulkRunner::new(app.clone());
    let started = Instant::now();
    let mut decided = 0;
    while let Some(cases) = runner.run_once().await.map_err(anyhow::Error::msg)? {
        decided += cases;
        bar.inc(cases as u64);
    }
    let elapsed = started.elapsed();
    bar.finish_and_clear();
    let record = store
        .bulk_action(bulk.id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("bulk action {} vanished", bulk.id))?;
    ensure!(
        record.applied as usize == total && decided == total,
        "applied {} of {total} cases",
        record.applied
    );
    println!(
        "planned (incident, membership, dry run, submission) in {:.1} s; {total} decisions in {:.1} s",
        planned_in.as_secs_f64(),
        elapsed.as_secs_f64()
    );
    println!(
        "bulk: {:.0} cases/s",
        total as f64 / elapsed.as_secs_f64().max(1e-9)
    );
    Ok(())
}
