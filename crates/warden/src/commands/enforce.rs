//! Enforcement at start and in the background: the taxonomy version in
//! force, the outbox worker, and the `deliveries` benchmark.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use chrono::{Duration, Utc};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use warden_app::App;
use warden_delivery::{DeliverySettings, Endpoints, Secret, Worker};
use warden_domain::access::Role;
use warden_domain::decision::{ActionKind, ActionSpec, DecisionInput, Rationale};
use warden_domain::ids::{PlatformId, SubjectKind};
use warden_domain::intake::{NewReport, NewSubject, ReportSource};
use warden_domain::SubjectRef;
use warden_server::ServerSettings;
use warden_store::prelude::*;
use warden_store::{Actor, CasePolicy, SqlStore};

use crate::config::Config;

/// The application `serve` runs: the configured queues, and the newest
/// taxonomy version in force, made sure to hold every category the
/// configuration names (publishing a version when it adds some).
pub async fn application(
    config: &Config,
    store: Arc<SqlStore>,
    settings: &ServerSettings,
) -> Result<App> {
    let app = App::new(store, config.case_policy()?, settings.app_settings())
        .with_classifier_priority(config.classifier.priority());
    let version = app
        .publish_configured_categories()
        .await
        .map_err(|e| anyhow::anyhow!(e.chain()))
        .context("cannot prepare the taxonomy version")?;
    tracing::info!(version = version.version, "taxonomy version in force");
    Ok(app)
}

/// A running outbox worker and the switch that stops it.
pub struct DeliveryTask {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl DeliveryTask {
    /// Asks the worker to stop and waits (a while) for the batch in hand.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = tokio::time::timeout(std::time::Duration::from_secs(15), self.task).await;
    }
}

/// Starts the outbox worker when `[delivery] enabled`.
pub fn start_delivery(config: &Config, store: Arc<SqlStore>) -> Result<Option<DeliveryTask>> {
    if !config.delivery.enabled {
        tracing::info!("delivery is off ([delivery] enabled = false): actions stay in the outbox");
        return Ok(None);
    }
    let settings = config.delivery.settings();
    if settings.endpoints.is_empty() {
        // Without an endpoint every attempt would fail and end as a dead
        // letter; the rows wait in the outbox for one instead.
        tracing::info!("no delivery endpoint is configured ([delivery] endpoint): actions and notices wait in the outbox");
        return Ok(None);
    }
    let worker = Worker::new(store, settings).map_err(anyhow::Error::msg)?;
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(worker.run(stopped));
    Ok(Some(DeliveryTask { stop, task }))
}

/// `warden bench deliveries`: deliveries per second through the outbox to a
/// local receiver. Decisions (each a content removal, so one action and one
/// notice) are written first; then the clock runs while a worker drains the
/// outbox into a receiver on 127.0.0.1 that answers 200.
pub async fn bench_deliveries(
    store: Arc<SqlStore>,
    policy: &CasePolicy,
    items: Option<usize>,
) -> Result<()> {
    // Each decision makes four deliveries: two actions and their notices.
    let decisions = (items.unwrap_or(20_000) / 4).max(1);
    let system = Actor::system();
    let now = Utc::now();
    let run = now.timestamp_millis();
    let subjects: Vec<NewSubject> = (0..decisions)
        .map(|i| NewSubject {
            subject: SubjectRef::new(
                SubjectKind::Content,
                PlatformId::parse(&format!("dbench_{run}_{i}")).expect("id"),
            ),
            created_at: None,
            owner: Some(SubjectRef::new(
                SubjectKind::Account,
                PlatformId::parse(&format!("dbench_owner_{run}_{i}")).expect("id"),
            )),
            text: Some("benchmark post".into()),
            media: Vec::new(),
            attributes: serde_json::json!({}),
        })
        .collect();
    for chunk in subjects.chunks(1_000) {
        store.ingest_subjects(&system, chunk.to_vec(), now).await?;
    }
    let reports: Vec<NewReport> = subjects
        .iter()
        .enumerate()
        .map(|(i, s)| NewReport {
            id: PlatformId::parse(&format!("dbench_report_{run}_{i}")).expect("id"),
            subject: s.subject.clone(),
            reason: "spam".into(),
            source: ReportSource::UserReport,
            reporter: None,
            text: None,
            language: Some("en".into()),
            created_at: None,
        })
        .collect();
    for chunk in reports.chunks(1_000) {
        store
            .ingest_reports(&system, chunk.to_vec(), policy, now)
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
        .create_user(&system, &format!("dbench{run}"), Role::Analyst, "x", now)
        .await?;
    let analyst = Actor::user(user.id, &user.name);
    let bar = crate::progress::bar(decisions as u64, "decisions");
    let mut decided = 0;
    while let Some(case) = store
        .claim_next(&analyst, &queue, Duration::minutes(10), now)
        .await?
    {
        let input = DecisionInput {
            violation: true,
            category: "spam".into(),
            policy: None,
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
                what_happened: "benchmark spam".into(),
                evidence: "benchmark".into(),
                policy: "spam policy".into(),
                action: "standard".into(),
                next_steps: String::new(),
            },
        };
        store
            .decide(
                &analyst,
                case.id,
                case.version,
                input,
                policy,
                warden_store::DecisionMode::First,
                now,
            )
            .await?;
        decided += 1;
        bar.inc(1);
    }
    bar.finish_and_clear();
    let due = store
        .delivery_counts()
        .await?
        .by_status
        .iter()
        .filter(|(s, _)| s == "pending" || s == "sending")
        .map(|(_, n)| *n)
        .sum::<i64>();

    // The receiver: counts requests and answers 200.
    let received = Arc::new(AtomicU64::new(0));
    let counter = received.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move || {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::Relaxed);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let worker = Worker::new(
        store.clone(),
        DeliverySettings {
            endpoints: Endpoints {
                default: Some(format!("http://{address}/hook")),
                ..Endpoints::default()
            },
            secret: Secret::new("benchmark secret"),
            concurrency: 128,
            batch_size: 500,
            lanes: 3,
            poll_interval: std::time::Duration::from_millis(20),
            ..DeliverySettings::default()
        },
    )
    .map_err(anyhow::Error::msg)?;
    let (stop, stopped) = watch::channel(false);
    let started = Instant::now();
    let task = tokio::spawn(worker.clone().run(stopped));
    let bar = crate::progress::bar(due as u64, "deliveries");
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let delivered = worker.stats().delivered.load(Ordering::Relaxed);
        bar.set_position(delivered);
        if delivered as i64 >= due {
            break;
        }
        if started.elapsed() > std::time::Duration::from_secs(600) {
            anyhow::bail!(
                "the benchmark did not finish in ten minutes: {delivered} of {due} delivered"
            );
        }
    }
    let elapsed = started.elapsed();
    bar.finish_and_clear();
    let _ = stop.send(true);
    let _ = task.await;
    server.abort();
    let rate = due as f64 / elapsed.as_secs_f64();
    println!(
        "backend: {}, {decided} decisions, {due} deliveries (actions and notices) to a local receiver that got {} requests",
        store.backend().as_str(),
        received.load(Ordering::Relaxed)
    );
    println!("deliveries: {rate:.0} deliveries/s");
    Ok(())
}
