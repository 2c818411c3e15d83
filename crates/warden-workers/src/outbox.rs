//! The outbox worker: leases due rows of the transactional outbox, sends
//! each as a signed webhook and records the outcomes. Scheduled lifts of
//! temporary actions are outbox rows due at the action's end, so this
//! worker is also the expiry worker: a lift is sent when it falls due.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{Duration, Utc};
use rand::Rng;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

use warden_domain::signature::{sign, IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use warden_domain::webhook::backoff;
use warden_domain::Timestamp;
use warden_store::{DeliveryJob, DeliveryOutcome, DeliveryResult, OutboxStore, StoreResult};

use crate::supervisor::{Pace, Supervisor};

/// A secret that never prints.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret's bytes, for signing.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether it is empty (not configured).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() {
            "Secret(unset)"
        } else {
            "Secret(redacted)"
        })
    }
}

/// Where deliveries go: a default endpoint and overrides per action type
/// (or `notice`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Endpoints {
    /// For anything without its own endpoint.
    pub default: Option<String>,
    /// By endpoint key: `suspend`, `remove_content`, ..., `notice`.
    pub by_key: BTreeMap<String, String>,
}

impl Endpoints {
    /// The URL for `key`.
    pub fn resolve(&self, key: &str) -> Option<&str> {
        self.by_key
            .get(key)
            .or(self.default.as_ref())
            .map(String::as_str)
            .filter(|url| !url.is_empty())
    }

    /// Whether any endpoint is configured.
    pub fn is_empty(&self) -> bool {
        self.default.as_deref().is_none_or(str::is_empty) && self.by_key.is_empty()
    }
}

/// How the worker delivers.
#[derive(Debug, Clone)]
pub struct DeliverySettings {
    /// Endpoints.
    pub endpoints: Endpoints,
    /// The shared secret that signs bodies.
    pub secret: Secret,
    /// Attempts before a dead letter.
    pub attempts_max: u32,
    /// First retry wait.
    pub backoff_initial: Duration,
    /// Longest retry wait.
    pub backoff_max: Duration,
    /// One request's time limit.
    pub timeout: StdDuration,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Rows leased per claim.
    pub batch_size: u32,
    /// How long a lease lasts; longer than a batch can take to send.
    pub lease: Duration,
    /// How often to look for due rows when there were none.
    pub poll_interval: StdDuration,
    /// Claim loops running at once (pipelining leasing with sending).
    pub lanes: usize,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        Self {
            endpoints: Endpoints::default(),
            secret: Secret::default(),
            attempts_max: 10,
            backoff_initial: Duration::seconds(5),
            backoff_max: Duration::hours(1),
            timeout: StdDuration::from_secs(10),
            concurrency: 64,
            batch_size: 200,
            lease: Duration::seconds(120),
            poll_interval: StdDuration::from_millis(250),
            lanes: 2,
        }
    }
}

/// Counts since start, for logs and benchmarks.
#[derive(Debug, Default)]
pub struct WorkerStats {
    /// 2xx answers.
    pub delivered: AtomicU64,
    /// Failed attempts that will be retried.
    pub retried: AtomicU64,
    /// Dead letters.
    pub dead: AtomicU64,
}

/// The outbox worker.
#[derive(Clone)]
pub struct Worker {
    store: Arc<dyn OutboxStore>,
    settings: Arc<DeliverySettings>,
    client: reqwest::Client,
    id: String,
    permits: Arc<Semaphore>,
    stats: Arc<WorkerStats>,
}

impl Worker {
    /// A worker over `store`; `id` names it in leases (host and process).
    pub fn new(store: Arc<dyn OutboxStore>, settings: DeliverySettings) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .pool_max_idle_per_host(settings.concurrency.max(1))
            .user_agent(concat!("warden/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        let id = format!(
            "worker-{}-{:08x}",
            std::process::id(),
            rand::thread_rng().gen::<u32>()
        );
        Ok(Self {
            store,
            permits: Arc::new(Semaphore::new(settings.concurrency.max(1))),
            settings: Arc::new(settings),
            client,
            id,
            stats: Arc::new(WorkerStats::default()),
        })
    }

    /// Its counters.
    pub fn stats(&self) -> Arc<WorkerStats> {
        self.stats.clone()
    }

    /// Leases one batch, sends it and records the outcomes; returns how
    /// many rows it handled.
    pub async fn run_once(&self, now: Timestamp) -> StoreResult<usize> {
        let jobs = self
            .store
            .claim_deliveries(&self.id, self.settings.batch_size, self.settings.lease, now)
            .await?;
        if jobs.is_empty() {
            return Ok(0);
        }
        let count = jobs.len();
        let mut tasks = JoinSet::new();
        for job in jobs {
            let worker = self.clone();
            tasks.spawn(async move {
                let permit = worker.permits.clone().acquire_owned().await;
                let result = worker.send(&job).await;
                drop(permit);
                DeliveryOutcome {
                    id: job.id,
                    result: worker.settle(&job, result),
                }
            });
        }
        let mut outcomes = Vec::with_capacity(count);
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(outcome) => outcomes.push(outcome),
                // A panicked send leaves its row leased; it becomes due
                // again when the lease ends.
                Err(error) => tracing::error!(%error, "a delivery task failed"),
            }
        }
        self.store.finish_deliveries(outcomes, Utc::now()).await?;
        Ok(count)
    }

    /// Runs until `shutdown` says true, then finishes the batch in hand;
    /// each lane's batches run under `supervisor`, so a failed or panicked
    /// batch is counted and retried, never the end of the worker.
    pub async fn run(self, supervisor: Supervisor, shutdown: watch::Receiver<bool>) {
        if self.settings.endpoints.is_empty() {
            tracing::warn!("no delivery endpoint is configured ([delivery] endpoint); every delivery will fail");
        }
        if self.settings.secret.is_empty() {
            tracing::warn!("no delivery secret is configured (WARDEN_DELIVERY_SECRET); webhooks are signed with an empty key");
        }
        let lanes = self.settings.lanes.max(1);
        let mut handles = Vec::with_capacity(lanes);
        for lane in 0..lanes {
            let worker = self.clone();
            let supervisor = supervisor.clone();
            let shutdown = shutdown.clone();
            handles.push(tokio::spawn(async move {
                // Stagger lanes so that they do not claim in lockstep.
                tokio::time::sleep(worker.settings.poll_interval * lane as u32 / lanes as u32)
                    .await;
                let idle = shutdown.clone();
                supervisor
                    .run(shutdown, move || {
                        let worker = worker.clone();
                        let mut idle = idle.clone();
                        async move { worker.batch(&mut idle).await }
                    })
                    .await;
            }));
        }
        for handle in handles {
            let _ = handle.await;
        }
    }

    /// One supervised round: a batch, and the poll pause when nothing was due.
    async fn batch(&self, stop: &mut watch::Receiver<bool>) -> StoreResult<Pace> {
        if self.run_once(Utc::now()).await? > 0 {
            return Ok(Pace::Busy);
        }
        tokio::select! {
            _ = tokio::time::sleep(self.settings.poll_interval) => {}
            _ = stop.changed() => {}
        }
        Ok(Pace::Idle)
    }

    /// One HTTP attempt.
    async fn send(&self, job: &DeliveryJob) -> Result<u16, (String, Option<u16>)> {
        let Some(url) = self.settings.endpoints.resolve(&job.endpoint_key) else {
            return Err((
                format!(
                    "no endpoint is configured for {:?} (set [delivery] endpoint or endpoints.{})",
                    job.endpoint_key, job.endpoint_key
                ),
                None,
            ));
        };
        let timestamp = Utc::now().timestamp();
        let signature = sign(
            self.settings.secret.expose().as_bytes(),
            timestamp,
            job.body.as_bytes(),
        );
        let answer = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .header(SIGNATURE_HEADER, signature)
            .header(IDEMPOTENCY_HEADER, &job.idempotency_key)
            .header("x-warden-event", job.kind.as_str())
            .header("x-warden-delivery", job.id.to_string())
            .body(job.body.clone())
            .send()
            .await;
        match answer {
            Ok(response) if response.status().is_success() => Ok(response.status().as_u16()),
            Ok(response) => {
                let status = response.status().as_u16();
                Err((format!("the endpoint answered HTTP {status}"), Some(status)))
            }
            // Without the URL: it may carry a token.
            Err(error) => Err((error.without_url().to_string(), None)),
        }
    }

    /// Turns an attempt's result into an outcome with its retry time.
    fn settle(
        &self,
        job: &DeliveryJob,
        result: Result<u16, (String, Option<u16>)>,
    ) -> DeliveryResult {
        match result {
            Ok(status_code) => {
                self.stats.delivered.fetch_add(1, Ordering::Relaxed);
                DeliveryResult::Delivered { status_code }
            }
            Err((error, status_code)) => {
                let attempt = u32::try_from(job.attempts + 1).unwrap_or(u32::MAX);
                let retry_at = if attempt >= self.settings.attempts_max {
                    self.stats.dead.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(delivery = job.id, key = %job.idempotency_key, %error, "delivery failed for good: a dead letter");
                    None
                } else {
                    self.stats.retried.fetch_add(1, Ordering::Relaxed);
                    let wait = backoff(
                        attempt,
                        self.settings.backoff_initial,
                        self.settings.backoff_max,
                        rand::thread_rng().gen::<f64>(),
                    );
                    tracing::debug!(delivery = job.id, %error, attempt, "delivery failed; will retry");
                    Some(Utc::now() + wait)
                };
                DeliveryResult::Failed {
                    error,
                    status_code,
                    retry_at,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_resolve_by_key_then_default() {
        let mut endpoints = Endpoints::default();
        assert!(endpoints.is_empty());
        assert_eq!(endpoints.resolve("suspend"), None);
        endpoints.default = Some("http://127.0.0.1:9/all".into());
        endpoints
            .by_key
            .insert("notice".into(), "http://127.0.0.1:9/notices".into());
        assert_eq!(endpoints.resolve("suspend"), Some("http://127.0.0.1:9/all"));
        assert_eq!(
            endpoints.resolve("notice"),
            Some("http://127.0.0.1:9/notices")
        );
        assert!(!endpoints.is_empty());
    }

    /// An outbox whose first lease panics (a bug in a batch) and whose
    /// later leases find nothing due.
    #[derive(Default)]
    struct PanickyOutbox {
        claims: AtomicU64,
    }

    #[async_trait::async_trait]
    impl OutboxStore for PanickyOutbox {
        async fn claim_deliveries(
            &self,
            _worker: &str,
            _limit: u32,
            _lease: Duration,
            _now: Timestamp,
        ) -> StoreResult<Vec<DeliveryJob>> {
            if self.claims.fetch_add(1, Ordering::SeqCst) == 0 {
                panic!("a bug in the batch");
            }
            Ok(Vec::new())
        }
        async fn finish_deliveries(
            &self,
            _: Vec<DeliveryOutcome>,
            _: Timestamp,
        ) -> StoreResult<()> {
            Ok(())
        }
        async fn confirm_delivery(
            &self,
            _: &str,
            _: bool,
            _: Option<&str>,
            _: Timestamp,
        ) -> StoreResult<warden_store::DeliveryRecord> {
            unreachable!("the worker never confirms")
        }
        async fn list_deliveries(
            &self,
            _: &warden_store::DeliveryFilter,
        ) -> StoreResult<Vec<warden_store::DeliveryRecord>> {
            unreachable!("the worker never lists")
        }
        async fn replay_delivery(
            &self,
            _: &warden_store::Actor,
            _: i64,
            _: Timestamp,
        ) -> StoreResult<warden_store::DeliveryRecord> {
            unreachable!("the worker never replays")
        }
        async fn delivery_counts(&self) -> StoreResult<warden_store::DeliveryCounts> {
            unreachable!("the worker never counts")
        }
    }

    #[tokio::test]
    async fn the_outbox_worker_survives_a_panicking_batch_and_counts_it() {
        let store = Arc::new(PanickyOutbox::default());
        let worker = Worker::new(
            store.clone(),
            DeliverySettings {
                endpoints: Endpoints {
                    default: Some("http://127.0.0.1:9/hook".into()),
                    ..Endpoints::default()
                },
                lanes: 1,
                poll_interval: StdDuration::from_millis(1),
                ..DeliverySettings::default()
            },
        )
        .unwrap();
        let health = Arc::new(crate::WorkerHealth::default());
        let supervisor = Supervisor::new("outbox", health.clone())
            .with_pauses(StdDuration::from_millis(1), StdDuration::from_millis(2));
        let (stop, stopped) = watch::channel(false);
        let running = tokio::spawn(worker.run(supervisor, stopped));
        let started = std::time::Instant::now();
        while store.claims.load(Ordering::SeqCst) < 5 {
            assert!(
                started.elapsed() < StdDuration::from_secs(10),
                "the worker stopped working"
            );
            tokio::time::sleep(StdDuration::from_millis(2)).await;
        }
        stop.send(true).unwrap();
        tokio::time::timeout(StdDuration::from_secs(10), running)
            .await
            .expect("the worker stops when asked")
            .expect("the worker's task did not panic");
        let counts = health.counts("outbox");
        assert_eq!(counts.panics, 1);
        assert!(counts.batches >= 4, "{counts:?}");
    }

    #[test]
    fn secrets_do_not_print() {
        let secret = Secret::new("hunter2");
        assert_eq!(format!("{secret:?}"), "Secret(redacted)");
        let settings = DeliverySettings {
            secret,
            ..DeliverySettings::default()
        };
        assert!(!format!("{settings:?}").contains("hunter2"));
    }
}
