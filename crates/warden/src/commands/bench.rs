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
use warden_store::{Actor, Store};

use super::open_store;
use crate::cli::StoreArgs;
use crate::config::Config;
use crate::progress;

mod agreement;
mod case_page;
pub mod classifier;
mod kpis;

/// Runs the benchmark `name`.
pub async fn run(
    config: &Config,
    name: &str,
    args: &StoreArgs,
    items: Option<usize>,
    features: bool,
) -> Result<ExitCode> {
    if name == "rules" {
        return rules(config, items, features);
    }
    if features {
        bail!("--features goes with `bench rules` only");
    }
    // Pure computation: no store.
    if name == "agreement" {
        agreement::run(items)?;
        return Ok(ExitCode::SUCCESS);
    }
    if name == "kpis" {
        return kpis::run(items);
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
            "no benchmark named {other:?}; known: rules, ingest, claim, case-page, deliveries, agreement, classifier, kpis"
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
/// reference pack over the fixed corpus; with `--features`, also the same pack
/// rewritten with features, timed in alternating passes, and the ratio of
/// events per second.
fn rules(config: &Config, items: Option<usize>, features: bool) -> Result<ExitCode> {
    use warden_detection::bench;

    let events = bench::corpus(items.unwrap_or(20_000));
    let mut packs = vec![PackRun::new(
        config,
        "reference pack",
        &bench::reference_pack(),
    )?];
    if features {
        packs.push(PackRun::new(
            config,
            "reference pack with features",
            &bench::reference_pack_with_features(),
        )?);
    }
    // One warm-up pass each fills caches and velocity counters.
    for pack in &mut packs {
        pack.hits = pack.pass(&events).1;
    }
    let bar = progress::bar(3 * packs.len() as u64, "passes");
    for _ in 0..3 {
        for pack in &mut packs {
            let started = Instant::now();
            let (evaluated, _) = pack.pass(&events);
            pack.elapsed += started.elapsed().as_secs_f64();
            pack.evaluations += evaluated;
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    let passes = 3 * events.len();
    for pack in &packs {
        println!(
            "{}: {} rules{} over {} events, 3 timed passes on one thread; {} hits per pass",
            pack.name,
            pack.rules,
            if pack.features > 0 {
                format!(" and {} features", pack.features)
            } else {
                String::new()
            },
            events.len(),
            pack.hits
        );
        println!(
            "{:.2} µs per event with the whole pack ({:.0} events/s)",
            pack.elapsed * 1e6 / passes as f64,
            passes as f64 / pack.elapsed
        );
    }
    let plain = &packs[0];
    println!(
        "rules: {:.0} evaluations/s",
        plain.evaluations as f64 / plain.elapsed
    );
    if let Some(featured) = packs.get(1) {
        if featured.hits != plain.hits {
            bail!(
                "the pack with features hit {} times per pass, the pack without {}",
                featured.hits,
                plain.hits
            );
        }
        let rate = |p: &PackRun| passes as f64 / p.elapsed;
        println!(
            "with features {:.0} events/s, without {:.0} events/s",
            rate(featured),
            rate(plain)
        );
        println!(
            "rules-features: {:.2} × the events/s without features",
            rate(featured) / rate(plain)
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// One pack being timed by `bench rules`.
struct PackRun {
    name: &'static str,
    detector: warden_detection::Detector,
    ctx: warden_rules::EvalContext,
    rules: usize,
    features: usize,
    hits: usize,
    elapsed: f64,
    evaluations: usize,
}

impl PackRun {
    fn new(config: &Config, name: &'static str, files: &[(String, String)]) -> Result<Self> {
        use std::sync::{Arc, Mutex};
        use warden_detection::{parse_files, Detector, VelocityCounters};

        let policy = config.case_policy()?;
        let parsed = parse_files(files, &policy.taxonomy);
        if !parsed.errors.is_empty() {
            bail!("the {name} does not parse: {}", parsed.errors[0]);
        }
        let built = Detector::build(
            parsed,
            &mut |_| 1,
            Arc::new(Mutex::new(VelocityCounters::default())),
            None,
        );
        if let Some(error) = built.errors.first() {
            bail!("the {name} does not compile: {error}");
        }
        // Under the configured time limits, as the detection worker runs it.
        let detector = built
            .detector
            .with_limits(config.detection.run_limits())
            .with_stopwatch(Arc::new(
                warden_server::detection::InstantStopwatch::default(),
            ));
        Ok(Self {
            name,
            rules: detector.rules().len(),
            features: detector.features().features().len(),
            detector,
            ctx: warden_rules::EvalContext::new(),
            hits: 0,
            elapsed: 0.0,
            evaluations: 0,
        })
    }

    /// Evaluates every event once; returns the rule evaluations and the hits.
    fn pass(&mut self, events: &[std::sync::Arc<warden_detection::EventFacts>]) -> (usize, usize) {
        let now = Utc::now();
        let (mut evaluated, mut hits) = (0, 0);
        for facts in events {
            let evaluation = self.detector.evaluate_variables(
                &warden_detection::EventVariables::new(facts.clone(), now),
                &mut self.ctx,
                None,
            );
            evaluated += evaluation.evaluated;
            hits += evaluation.hits.len();
        }
        (evaluated, hits)
    }
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
