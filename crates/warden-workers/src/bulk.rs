//! The bulk runner: applies approved bulk actions of incidents, one batch
//! of steps per supervised batch, through the app (one decision per case
//! through the enforcement path; the store writes each step with its
//! idempotency key). On start it finds every bulk action left `applying`
//! (approved, or cut off by a crash) and resumes it: cases with a step
//! written are passed over, so each case is decided once.

use std::time::Duration;

use tokio::sync::watch;

use warden_app::App;
use warden_domain::limits::BULK_STEPS_PER_BATCH;

use crate::limits::BULK_IDLE_PAUSE;
use crate::{Pace, Supervisor};

/// Applies approved bulk actions.
#[derive(Clone)]
pub struct BulkRunner {
    app: App,
    batch: usize,
    idle: Duration,
}

impl BulkRunner {
    /// A runner of `app`'s bulk actions, [`BULK_STEPS_PER_BATCH`] steps a batch.
    pub fn new(app: App) -> Self {
        Self {
            app,
            batch: BULK_STEPS_PER_BATCH,
            idle: BULK_IDLE_PAUSE,
        }
    }

    /// The same runner with `steps` per batch (1 to [`BULK_STEPS_PER_BATCH`]).
    pub fn with_batch(mut self, steps: usize) -> Self {
        self.batch = steps.clamp(1, BULK_STEPS_PER_BATCH);
        self
    }

    /// Applies the next batch of the oldest bulk action being applied;
    /// answers how many cases it decided or skipped, `None` when none was.
    pub async fn run_once(&self) -> Result<Option<usize>, String> {
        let applying = self
            .app
            .applying_bulk_actions()
            .await
            .map_err(|e| e.chain())?;
        let Some(bulk) = applying.first() else {
            return Ok(None);
        };
        let done = self
            .app
            .run_bulk_batch(bulk, self.batch)
            .await
            .map_err(|e| e.chain())?;
        if done.completed {
            tracing::info!(bulk = bulk.id.0, "bulk action completed");
        }
        Ok(Some(done.applied + done.skipped))
    }

    /// Runs batches until no bulk action is being applied; answers the
    /// cases dealt with (the CLI's bench and tests).
    pub async fn run_until_idle(&self) -> Result<usize, String> {
        let mut total = 0;
        while let Some(cases) = self.run_once().await? {
            total += cases;
        }
        Ok(total)
    }

    async fn batch(&self, idle: &mut watch::Receiver<bool>) -> Result<Pace, String> {
        if self.run_once().await?.is_some() {
            return Ok(Pace::Busy);
        }
        tokio::select! {
            () = tokio::time::sleep(self.idle) => {}
            _ = idle.changed() => {}
        }
        Ok(Pace::Idle)
    }

    /// Runs under `supervisor` until `shutdown` says stop.
    pub async fn run(self, supervisor: Supervisor, shutdown: watch::Receiver<bool>) {
        let idle = shutdown.clone();
        let runner = &self;
        supervisor
            .run(shutdown, move || {
                let mut idle = idle.clone();
                async move { runner.batch(&mut idle).await }
            })
            .await;
    }
}
