//! The background workers `serve` and `demo` run beside the API, each
//! started through `warden-workers` under a supervisor that reports to the
//! server's metrics: the outbox worker (deliveries and scheduled lifts),
//! the detection worker (which follows the policy snapshot in force), the
//! bulk runner (approved bulk actions of incidents, resumed on start), and
//! the periodic ones: the classifier retrain, the QA sampling pass and the
//! DSA statement submission.

use std::sync::Arc;

use anyhow::{Context, Result};

use warden_server::AppState;
use warden_store::SqlStore;
use warden_workers::detection::DetectionService;
use warden_workers::limits::STOP_GRACE;
use warden_workers::transparency::{StatementSubmitter, TransparencyClient};
use warden_workers::{
    FirstPass, Periodic, Secret, Supervisor, WorkerHealth, WorkerMetrics, WorkerTask,
};

use crate::config::Config;

/// The workers running in this process.
pub struct Workers {
    tasks: Vec<WorkerTask>,
}

impl Workers {
    /// Starts the configured workers; a detection worker is attached to
    /// `state` (intake wakes it, `/api/v1/rules` reads it).
    pub async fn start(
        config: &Config,
        store: Arc<SqlStore>,
        state: AppState,
        data_dir: &std::path::Path,
    ) -> Result<(Self, AppState)> {
        let health = Arc::new(WorkerHealth::default());
        let metrics: Arc<dyn WorkerMetrics> = state.metrics.clone();
        let supervisor = |name| Supervisor::new(name, health.clone()).with_metrics(metrics.clone());
        let mut tasks = Vec::new();
        if let Some(worker) = delivery_worker(config, store.clone())? {
            let supervisor = supervisor("outbox");
            tasks.push(WorkerTask::spawn(move |stop| worker.run(supervisor, stop)));
        }
        let bulk = warden_workers::bulk::BulkRunner::new(state.app.clone());
        let bulk_supervisor = supervisor("bulk");
        tasks.push(WorkerTask::spawn(move |stop| {
            bulk.run(bulk_supervisor, stop)
        }));
        if let Some(task) =
            super::quality::start_sampling(config, &state.app, supervisor("qa_sampling")).await?
        {
            tasks.push(task);
        }
        if let Some(task) =
            super::retrain::start_retrain(config, state.app.clone(), supervisor("retrain"))?
        {
            tasks.push(task);
        }
        if let Some((submitter, periodic)) = statement_submitter(config, store.clone())? {
            let supervisor = supervisor("dsa_submission");
            tasks.push(WorkerTask::spawn(move |stop| {
                submitter.run(periodic, supervisor, stop)
            }));
        }
        let mut state = state;
        if let Some(settings) = config.detection_settings(data_dir) {
            let service = DetectionService::start(
                store,
                state.app.policy_cell().clone(),
                state.app.clock().clone(),
                settings,
            )
            .await
            .context("cannot start detection")?;
            let supervisor = supervisor("detection");
            let running = service.clone();
            tasks.push(WorkerTask::spawn(move |stop| running.run(supervisor, stop)));
            state = state.with_detection(service);
        }
        Ok((Self { tasks }, state))
    }

    /// Stops every worker, letting each finish the batch in hand.
    pub async fn stop(self) {
        for task in self.tasks {
            task.stop(STOP_GRACE).await;
        }
    }
}

/// The outbox worker when `[delivery] enabled` and an endpoint is set.
fn delivery_worker(
    config: &Config,
    store: Arc<SqlStore>,
) -> Result<Option<warden_workers::Worker>> {
    if !config.delivery.enabled {
        tracing::info!("delivery is off ([delivery] enabled = false): actions stay in the outbox");
        return Ok(None);
    }
    let mut settings = config.delivery.settings();
    // Sev-1 pages are outbox rows of their own endpoint key.
    if !config.escalation.page_webhook.is_empty() {
        settings.endpoints.by_key.insert(
            warden_store::PAGE_ENDPOINT_KEY.into(),
            config.escalation.page_webhook.clone(),
        );
    }
    if settings.endpoints.is_empty() {
        // Without an endpoint every attempt would fail and end as a dead
        // letter; the rows wait in the outbox for one instead.
        tracing::info!("no delivery endpoint is configured ([delivery] endpoint): actions and notices wait in the outbox");
        return Ok(None);
    }
    let worker = warden_workers::Worker::new(store, settings).map_err(anyhow::Error::msg)?;
    Ok(Some(worker))
}

/// The DSA statement submitter when `[dsa] submit_every_seconds` is set,
/// with its period.
fn statement_submitter(
    config: &Config,
    store: Arc<SqlStore>,
) -> Result<Option<(StatementSubmitter, Periodic)>> {
    let dsa = &config.dsa;
    if dsa.submit_every_seconds == 0 {
        return Ok(None);
    }
    anyhow::ensure!(
        !dsa.token.is_empty(),
        "[dsa] submit_every_seconds needs the Transparency Database token: set WARDEN_DSA_TOKEN (or [dsa] token)"
    );
    let client = TransparencyClient::new(
        &dsa.endpoint,
        Secret::new(dsa.token.clone()),
        std::time::Duration::from_secs(dsa.timeout_seconds.max(1)),
    )
    .map_err(anyhow::Error::msg)?;
    tracing::info!(
        every_seconds = dsa.submit_every_seconds,
        "submitting DSA statements of reasons"
    );
    let periodic = Periodic::new(
        std::time::Duration::from_secs(dsa.submit_every_seconds),
        FirstPass::AtStart,
    );
    Ok(Some((
        StatementSubmitter::new(store, client, dsa.batch_size),
        periodic,
    )))
}
