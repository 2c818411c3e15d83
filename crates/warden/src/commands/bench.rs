//! `warden bench NAME`: benchmarks of Warden's own paths, run against a
//! fresh store. The last line printed is `NAME: VALUE UNIT`.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Result};
use chrono::{Duration, Utc};
use serde_json::json;

use warden_domain::access::Role;
use warden_domain::decision::{DecisionInput, Rationale};
use warden_domain::ids::{PlatformId, SubjectKind};
use warden_domain::intake::{NewReport, ReportSource};
use warden_domain::SubjectRef;
use warden_store::prelude::*;
use warden_store::Actor;

use super::open_store;
use crate::cli::StoreArgs;
use crate::config::Config;
use crate::progress;

mod agreement;
mod case_page;
pub mod classifier;

/// Runs the benchmark `name`.
pub async fn run(
    config: &Config,
    name: &str,
    args: &StoreArgs,
    items: Option<usize>,
) -> Result<ExitCode> {
    if name == "rules" {
        return rules(config, items);
    }
    // Pure computation: no store.
    if name == "agreement" {
        agreement::run(items)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut args = args.clone();
    let _scratch = if args.data_dir.is_none() && args.database_url.is_none() {
        let dir =
            std::env::temp_dir().join(format!("warden-bench-{}-{}", name, std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        args.data_dir = Some(dir.clone());
        Some(ScratchDir(dir))
    } else {
        None
    };
    let store = open_store(config, &args).await?;
    let policy = config.case_policy()?;
    let system = Actor::system();
    match name {
        "ingest" => {
            let total = items.unwrap_or(20_000);
            let batch = config.server.batch_items_max.min(1_000);
            let now = Utc::now();
            let run_id = now.timestamp_millis();
            let bar = progress::bar(total as u64, "reports");
            let started = Instant::now();
            let mut sent = 0;
            while sent < total {
                let count = batch.min(total - sent);
                let reports: Vec<NewReport> = (sent..sent + count)
                    .map(|i| NewReport {
                        id: PlatformId::parse(&format!("bench_{run_id}_{i}")).expect("valid id"),
                        subject: SubjectRef::new(
                            SubjectKind::Content,
                            PlatformId::parse(&format!("bench_post_{}", i % (total / 3 + 1)))
                                .expect("valid id"),
                        ),
                        reason: ["spam", "scam", "harassment"][i % 3].into(),
                        source: ReportSource::UserReport,
                        reporter: None,
                        text: Some(json!({"n": i}).to_string()),
                        language: Some("en".into()),
                        created_at: None,
                    })
                    .collect();
                store.ingest_reports(&system, reports, &policy, now).await?;
                sent += count;
                bar.inc(count as u64);
            }
            bar.finish_and_clear();
            let rate = total as f64 / started.elapsed().as_secs_f64();
            println!(
                "backend: {}, {total} reports in batches of {batch}: {rate:.0} reports/s",
                store.backend().as_str()
            );
            let events_rate = ingest_events_with_rules(config, store.clone(), total, batch).await?;
            println!("ingest: {events_rate:.0} events/s");
        }
        "claim" => {
            let total = items.unwrap_or(2_000);
            let now = Utc::now();
            let run_id = now.timestamp_millis();
            let reports: Vec<NewReport> = (0..total)
                .map(|i| NewReport {
                    id: PlatformId::parse(&format!("claim_{run_id}_{i}")).expect("valid id"),
                    subject: SubjectRef::new(
                        SubjectKind::Content,
                        PlatformId::parse(&format!("claim_post_{run_id}_{i}")).expect("valid id"),
                    ),
                    reason: "spam".into(),
                    source: ReportSource::UserReport,
                    reporter: None,
                    text: None,
                    language: None,
                    created_at: None,
                })
                .collect();
            for chunk in reports.chunks(1_000) {
                store
                    .ingest_reports(&system, chunk.to_vec(), &policy, now)
                    .await?;
            }
            let queue = policy
                .router
                .route(&warden_domain::routing::RoutingInput {
                    category: "spam",
                    source: ReportSource::UserReport,
                    severity: warden_domain::case::Severity::Low,
                    language: None,
                })
                .name
                .clone();
            let user = store
                .create_user(&system, &format!("bench{run_id}"), Role::Analyst, "x", now)
                .await?;
            let actor = Actor::user(user.id, &user.name);
            let bar = progress::bar(total as u64, "claim+decide");
            let started = Instant::now();
            let mut worked = 0;
            while let Some(case) = store
                .claim_next(&actor, &queue, Duration::minutes(10), now)
                .await?
            {
                let input = DecisionInput {
                    violation: false,
                    category: "spam".into(),
                    policy: None,
                    actions: Vec::new(),
                    rationale: Rationale {
                        what_happened: "benchmark".into(),
                        policy: "none".into(),
                        ..Rationale::default()
                    },
                };
                store
                    .decide(
                        &actor,
                        case.id,
                        case.version,
                        input,
                        &policy,
                        warden_store::DecisionMode::First,
                        now,
                    )
                    .await?;
                worked += 1;
                bar.inc(1);
            }
            bar.finish_and_clear();
            let rate = worked as f64 / started.elapsed().as_secs_f64();
            println!(
                "backend: {}, {worked} cases claimed and decided by one analyst",
                store.backend().as_str()
            );
            println!("claim: {rate:.0} cases/s");
        }
        "case-page" => case_page::run(config, store.clone(), &policy, items).await?,
        // Deliveries per second through the outbox to a local receiver.
        "deliveries" => super::enforce::bench_deliveries(store.clone(), &policy, items).await?,
        other => bail!(
            "no benchmark named {other:?}; known: rules, ingest, claim, case-page, deliveries, agreement, classifier"
        ),
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// A scratch directory removed when the benchmark ends.
struct ScratchDir(std::path::PathBuf);

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `warden bench rules`: rule evaluations per second on one core, with the
/// reference pack over the fixed corpus.
fn rules(config: &Config, items: Option<usize>) -> Result<ExitCode> {
    use std::sync::{Arc, Mutex};
    use warden_detection::{bench, parse_files, Detector, EventVariables, VelocityCounters};
    use warden_rules::EvalContext;

    let policy = config.case_policy()?;
    let parsed = parse_files(&bench::reference_pack(), &policy.taxonomy);
    if !parsed.errors.is_empty() {
        bail!("the reference pack does not parse: {}", parsed.errors[0]);
    }
    let built = Detector::build(
        parsed,
        &mut |_| 1,
        Arc::new(Mutex::new(VelocityCounters::default())),
        None,
    );
    if let Some(error) = built.errors.first() {
        bail!("the reference pack does not compile: {error}");
    }
    let detector = built.detector;
    let events = bench::corpus(items.unwrap_or(20_000));
    let now = Utc::now();
    let mut ctx = EvalContext::new();
    let rules = detector.rules().len();
    // One warm-up pass fills caches and velocity counters.
    let mut hits = 0usize;
    for facts in &events {
        hits += detector
            .evaluate_variables(&EventVariables::new(facts.clone(), now), &mut ctx, None)
            .hits
            .len();
    }
    let bar = progress::bar(3, "passes");
    let started = Instant::now();
    let mut evaluations = 0usize;
    for _ in 0..3 {
        for facts in &events {
            let evaluation = detector.evaluate_variables(
                &EventVariables::new(facts.clone(), now),
                &mut ctx,
                None,
            );
            evaluations += evaluation.evaluated;
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "{rules} rules over {} events, 3 timed passes on one thread; {} hits per pass",
        events.len(),
        hits
    );
    println!(
        "{:.2} µs per event with the whole pack",
        elapsed * 1e6 / (3 * events.len()) as f64
    );
    println!("rules: {:.0} evaluations/s", evaluations as f64 / elapsed);
    Ok(ExitCode::SUCCESS)
}

/// Events through intake and the detection worker with the reference pack
/// (200 rules) enabled: from the first event stored to the last evaluated.
async fn ingest_events_with_rules(
    config: &Config,
    store: std::sync::Arc<warden_store::SqlStore>,
    total: usize,
    batch: usize,
) -> Result<f64> {
    use std::sync::Arc;
    use warden_domain::intake::{NewEvent, NewSubject};
    use warden_server::detection::{DetectionService, DetectionSettings};

    let rules_dir = std::env::temp_dir().join(format!("warden-bench-rules-{}", std::process::id()));
    std::fs::create_dir_all(&rules_dir)?;
    let _cleanup = ScratchDir(rules_dir.clone());
    for (name, text) in warden_detection::bench::reference_pack() {
        std::fs::write(rules_dir.join(name), text)?;
    }
    let corpus = warden_detection::bench::corpus(total);
    let system = Actor::system();
    let now = Utc::now();
    let run_id = now.timestamp_millis();
    let accounts: Vec<NewSubject> = (0..5_000)
        .map(|n| NewSubject {
            subject: SubjectRef::new(
                SubjectKind::Account,
                PlatformId::parse(&format!("acct_{n}")).expect("valid id"),
            ),
            created_at: Some(now - Duration::days(n % 900)),
            owner: None,
            text: None,
            media: Vec::new(),
            attributes: json!({"follower_count": n % 3000}),
        })
        .collect();
    for chunk in accounts.chunks(1_000) {
        store.ingest_subjects(&system, chunk.to_vec(), now).await?;
    }
    let policy = Arc::new(config.case_policy()?);
    let settings = DetectionSettings {
        rules_dir: Some(rules_dir.clone()),
        batch_events: 1_000,
        ..DetectionSettings::default()
    };
    let clock: Arc<dyn warden_server::Clock> = Arc::new(warden_server::SystemClock);
    let service = DetectionService::start(store.clone(), policy, clock, settings).await?;
    // Catch up with events stored before (none in a fresh scratch store).
    while service.run_once().await? > 0 {}
    let events: Vec<NewEvent> = corpus
        .iter()
        .map(|facts| NewEvent {
            id: PlatformId::parse(&format!("{run_id}_{}", facts.event_id)).expect("valid id"),
            event_type: facts.event_type.clone(),
            occurred_at: facts.occurred_at.unwrap_or(now),
            actor: facts.actor_id.as_ref().map(|id| {
                SubjectRef::new(
                    SubjectKind::Account,
                    PlatformId::parse(id).expect("valid id"),
                )
            }),
            subject: None,
            ip: facts.ip.clone(),
            device_id: facts.device_id.clone(),
            data: facts.data.clone(),
        })
        .collect();
    let bar = progress::bar(total as u64 * 2, "events");
    let started = Instant::now();
    for chunk in events.chunks(batch) {
        store.ingest_events(&system, chunk.to_vec(), now).await?;
        bar.inc(chunk.len() as u64);
    }
    loop {
        let done = service.run_once().await?;
        if done == 0 {
            break;
        }
        bar.inc(done as u64);
    }
    bar.finish_and_clear();
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "{total} events stored and run through {} rules (batches of {batch}) in {elapsed:.1} s",
        service.detector().rules().len()
    );
    Ok(total as f64 / elapsed)
}
