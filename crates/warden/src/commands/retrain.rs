//! The scheduled retrain inside `serve`: every `[classifier]
//! retrain_every`, each model of `[[classifier.models]]` is retrained from
//! its category's decisions (a new version goes into shadow only if it
//! beats the current ones), and a shadow version whose `shadow_period` is
//! over is promoted when it does no worse than the live version on the
//! decisions of that period. Both are the application's commands, run as
//! Warden itself; a model whose retrain fails is logged and the next round
//! tries again. The pass is a periodic worker under the supervisor
//! (`warden-workers`): a panic is caught, counted in
//! `warden_worker_panics_total{worker="retrain"}` and the pass retried.

use anyhow::Result;

use warden_app::classifiers::{ModelName, RetrainCommand};
use warden_app::{Actor, App};
use warden_classifier::{Holdout, ModelKind, TrainingOptions};
use warden_domain::ids::TaxonomyCode;
use warden_workers::{FirstPass, Periodic, Supervisor, WorkerTask};

use crate::config::Config;

/// Starts the worker under `supervisor` when `[classifier] retrain_every`
/// is set and models are named: a pass every period (the first one period
/// after start), each model in turn.
pub fn start_retrain(
    config: &Config,
    app: App,
    supervisor: Supervisor,
) -> Result<Option<WorkerTask>> {
    let Some(schedule) = config.classifier.schedule()? else {
        return Ok(None);
    };
    tracing::info!(
        every_seconds = schedule.every.num_seconds(),
        models = schedule.models.len(),
        "retraining classifiers from decisions"
    );
    let every = schedule
        .every
        .to_std()
        .unwrap_or(std::time::Duration::from_secs(3600));
    let periodic = Periodic::new(every, FirstPass::AfterOnePeriod);
    let schedule = std::sync::Arc::new(schedule);
    Ok(Some(WorkerTask::spawn(move |stop| {
        periodic.run(supervisor, stop, move || {
            let (app, schedule) = (app.clone(), schedule.clone());
            async move {
                for (name, category) in &schedule.models {
                    retrain_one(&app, name, category, schedule.shadow_period).await;
                }
                Ok::<(), std::convert::Infallible>(())
            }
        })
    })))
}

/// One model's round: retrain, then review its shadow version.
pub(crate) async fn retrain_one(
    app: &App,
    name: &str,
    category: &str,
    shadow_period: Option<chrono::Duration>,
) {
    let (Ok(model), Ok(code)) = (ModelName::parse(name), TaxonomyCode::parse(category)) else {
        // The configuration check refuses both; nothing to do.
        return;
    };
    let command = RetrainCommand {
        name: model.clone(),
        category: code,
        since: None,
        options: TrainingOptions::for_kind(ModelKind::LinearSvm),
        holdout: Holdout::default(),
        note: "scheduled retrain from decisions".into(),
    };
    match app.retrain_from_decisions(&Actor::System, command).await {
        Ok(outcome) => tracing::info!(
            model = name,
            saved = ?outcome.saved.map(|r| r.version),
            f1 = outcome.evaluation.f1,
            violations = outcome.examples.0,
            others = outcome.examples.1,
            "classifier retrained from decisions"
        ),
        Err(error) => {
            tracing::warn!(model = name, error = %error.chain(), "classifier retrain skipped")
        }
    }
    let Some(period) = shadow_period else {
        return;
    };
    match app
        .promote_shadow_if_due(&Actor::System, &model, period)
        .await
    {
        Ok(Some(review)) => tracing::info!(
            model = name,
            version = review.shadow,
            promoted = review.promoted,
            reason = %review.reason,
            "classifier shadow version reviewed"
        ),
        Ok(None) => {}
        Err(error) => {
            tracing::warn!(model = name, error = %error.chain(), "classifier shadow review failed")
        }
    }
}
