//! `warden bench deliveries`: deliveries per second through the outbox.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Result;
use chrono::{Duration, Utc};
use tokio::sync::watch;

use warden_domain::access::Role;
use warden_domain::decision::{ActionKind, ActionSpec, DecisionInput, Rationale};
use warden_domain::ids::{PlatformId, SubjectKind};
use warden_domain::intake::{NewReport, NewSubject, ReportSource};
use warden_domain::SubjectRef;
use warden_store::prelude::*;
use warden_store::{Actor, CasePolicy, SqlStore};
use warden_workers::{DeliverySettings, Endpoints, Secret, Supervisor, Worker, WorkerHealth};

/// `warden bench deliveries`: deliveries per second through the outbox to a
/// local receiver. Decisions (each a content removal, so one action and one
/// notice) are written first; then the clock runs while a worker drains the
/// outbox into a receiver on 127.0.0.1 that answers 200.
pub async fn run(store: Arc<SqlStore>, policy: &CasePolicy, items: Option<usize>) -> Result<()> {
    // Each decision makes four deliveries: two actions and their notices.
    let decisions = (items.unwrap_or(20_000) / 4).max(1);
    let run = Utc::now().timestamp_millis();
    seed_cases(&store, policy, decisions, run).await?;
    let decided = decide_all(&store, policy, decisions, run).await?;
    let due = store
        .delivery_counts()
        .await?
        .by_status
        .iter()
        .filter(|(s, _)| s == "pending" || s == "sending")
        .map(|(_, n)| *n)
        .sum::<i64>();
    let receiver = Receiver::start().await?;
    let elapsed = drain(store.clone(), &receiver, due).await?;
    receiver.server.abort();
    let rate = due as f64 / elapsed.as_secs_f64();
    println!(
        "backend: {}, {decided} decisions, {due} deliveries (actions and notices) to a local receiver that got {} requests",
        store.backend().as_str(),
        receiver.received.load(Ordering::Relaxed)
    );
    println!("deliveries: {rate:.0} deliveries/s");
    Ok(())
}

/// Content with an owner and a spam report each, so that each is one case.
async fn seed_cases(store: &SqlStore, policy: &CasePolicy, count: usize, run: i64) -> Result<()> {
    let system = Actor::system();
    let now = Utc::now();
    let subjects: Vec<NewSubject> = (0..count)
        .map(|i| NewSubject {
            subject: SubjectRef::new(
                SubjectKind::Content,
                // cannot fail: a fixed prefix and numbers, in the id alphabet and short.
                PlatformId::parse(&format!("dbench_{run}_{i}")).expect("id"),
            ),
            created_at: None,
            owner: Some(SubjectRef::new(
                SubjectKind::Account,
                // cannot fail: a fixed prefix and numbers, in the id alphabet and short.
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
            // cannot fail: a fixed prefix and numbers, in the id alphabet and short.
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
    Ok(())
}

/// The spam decision every case gets: a removal and a warning.
fn spam_decision() -> DecisionInput {
    let spec = |kind| ActionSpec {
        kind,
        duration: None,
    };
    DecisionInput {
        violation: true,
        category: "spam".into(),
        policy: None,
        actions: vec![spec(ActionKind::RemoveContent), spec(ActionKind::Warn)],
        rationale: Rationale {
            what_happened: "benchmark spam".into(),
            evidence: "benchmark".into(),
            policy: "spam policy".into(),
            action: "standard".into(),
            next_steps: String::new(),
        },
    }
}

/// Claims and decides every case of the spam queue; returns how many.
async fn decide_all(
    store: &SqlStore,
    policy: &CasePolicy,
    count: usize,
    run: i64,
) -> Result<usize> {
    let now = Utc::now();
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
        .create_user(
            &Actor::system(),
            &format!("dbench{run}"),
            Role::Analyst,
            "x",
            now,
        )
        .await?;
    let analyst = Actor::user(user.id, &user.name);
    let bar = crate::progress::bar(count as u64, "decisions");
    let mut decided = 0;
    while let Some(case) = store
        .claim_next(&analyst, &queue, Duration::minutes(10), now)
        .await?
    {
        let first = warden_store::DecisionMode::First;
        store
            .decide(
                &analyst,
                case.id,
                case.version,
                spam_decision(),
                policy,
                first,
                now,
            )
            .await?;
        decided += 1;
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(decided)
}

/// A local platform that counts requests and answers 200.
struct Receiver {
    received: Arc<AtomicU64>,
    address: std::net::SocketAddr,
    server: tokio::task::JoinHandle<()>,
}

impl Receiver {
    async fn start() -> Result<Self> {
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
        Ok(Self {
            received,
            address,
            server,
        })
    }
}

/// Runs an outbox worker into `receiver` until `due` rows are delivered;
/// returns how long it took.
async fn drain(store: Arc<SqlStore>, receiver: &Receiver, due: i64) -> Result<std::time::Duration> {
    let worker = Worker::new(
        store,
        DeliverySettings {
            endpoints: Endpoints {
                default: Some(format!("http://{}/hook", receiver.address)),
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
    let supervisor = Supervisor::new("outbox", Arc::new(WorkerHealth::default()));
    let task = tokio::spawn(worker.clone().run(supervisor, stopped));
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
    Ok(elapsed)
}
