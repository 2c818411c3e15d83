//! The QA sampling worker inside `serve`: the configured plans are saved
//! at start, then a pass over new decisions runs every
//! `[qa] sample_every_seconds` (`App::sample_decisions`), and the window
//! pass over the last complete week once a week (`App::sample_last_week`). Several servers
//! on one database may run it: a pass that loses the race for the cursor
//! changes nothing and the next one goes on.

use std::time::Duration as StdDuration;

use anyhow::{Context, Result};
use chrono::Datelike;
use tokio::task::JoinHandle;

use warden_app::{Actor, App, CommandError};

use crate::config::Config;

/// Saves the configured plans and starts the worker; `None` when it is
/// turned off.
pub(crate) async fn start_sampling(config: &Config, app: &App) -> Result<Option<JoinHandle<()>>> {
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
    let app = app.clone();
    Ok(Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval(StdDuration::from_secs(seconds));
        let mut last_window = None;
        loop {
            tick.tick().await;
            match app.sample_decisions(&Actor::System).await {
                Ok(run) if run.sampled > 0 => {
                    tracing::info!(read = run.read, sampled = run.sampled, "QA sampling pass");
                }
                Ok(_) | Err(CommandError::Conflict(_)) => {}
                Err(error) => tracing::warn!(%error, "QA sampling pass failed"),
            }
            // The window pass once a week (and at start): it tops up the
            // plans' minimums over the last complete week.
            let week = app.now().date_naive().iso_week();
            if last_window != Some(week) {
                match app.sample_last_week(&Actor::System).await {
                    Ok(added) => {
                        last_window = Some(week);
                        tracing::info!(added, "QA window pass");
                    }
                    Err(error) => tracing::warn!(%error, "QA window pass failed"),
                }
            }
        }
    })))
}
