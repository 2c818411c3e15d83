//! The QA sampling worker inside `serve`: the configured plans are saved
//! at start, then a pass over new decisions runs every
//! `[qa] sample_every_seconds` (`App::sample_decisions`), and the window
//! pass over the last complete week once a week (`App::sample_last_week`). Several servers
//! on one database may run it: a pass that loses the race for the cursor
//! changes nothing and the next one goes on. The pass is a periodic worker
//! under the supervisor (`warden-workers`): a pass that fails or panics is
//! counted (`warden_worker_failures_total{worker="qa_sampling"}`, `..._panics_total`)
//! and retried after the supervisor's pause.

use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use anyhow::{Context, Result};
use chrono::{Datelike, IsoWeek};

use warden_app::{Actor, App, CommandError};
use warden_workers::{FirstPass, Periodic, Supervisor, WorkerTask};

use crate::config::Config;

/// Saves the configured plans and starts the worker under `supervisor`;
/// `None` when it is turned off.
pub(crate) async fn start_sampling(
    config: &Config,
    app: &App,
    supervisor: Supervisor,
) -> Result<Option<WorkerTask>> {
    let plans = config.qa.plan_inputs();
    if !plans.is_empty() {
        app.install_qa_plans(&plans)
            .await
            .map_err(|error| anyhow::anyhow!("[[qa.plans]]: {error}"))
            .context("cannot save the QA sampling plans")?;
    }
    let seconds = config.qa.sample_every_seconds;
    if seconds == 0 {
        return Ok(None);
    }
    let periodic = Periodic::new(StdDuration::from_secs(seconds), FirstPass::AtStart);
    let app = app.clone();
    let last_window = Arc::new(Mutex::new(None));
    Ok(Some(WorkerTask::spawn(move |stop| {
        periodic.run(supervisor, stop, move || {
            let (app, last_window) = (app.clone(), last_window.clone());
            async move { sampling_pass(&app, &last_window).await }
        })
    })))
}

/// One pass: the new decisions, and the window pass once a week (and at
/// start), which tops up the plans' minimums over the last complete week.
async fn sampling_pass(app: &App, last_window: &Mutex<Option<IsoWeek>>) -> Result<(), String> {
    match app.sample_decisions(&Actor::System).await {
        Ok(run) if run.sampled > 0 => {
            tracing::info!(read = run.read, sampled = run.sampled, "QA sampling pass");
        }
        // Another server's pass holds the cursor: this one changes nothing.
        Ok(_) | Err(CommandError::Conflict(_)) => {}
        Err(error) => return Err(format!("QA sampling pass failed: {error}")),
    }
    let week = app.now().date_naive().iso_week();
    let done = *last_window.lock().unwrap_or_else(|p| p.into_inner());
    if done != Some(week) {
        let added = app
            .sample_last_week(&Actor::System)
            .await
            .map_err(|error| format!("QA window pass failed: {error}"))?;
        *last_window.lock().unwrap_or_else(|p| p.into_inner()) = Some(week);
        tracing::info!(added, "QA window pass");
    }
    Ok(())
}
